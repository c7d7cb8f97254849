//! The ticket database of a `bench faults` run, which the call records share. SQLite in the run's folder
//! (`db/tickets.db`: a folder of its own, so `sqlite-full` can put it on a small disk while the journal
//! stays on the run's); or, for `pg-stopped`, a fresh PostgreSQL database (`helpline_faults_<pid>`) on
//! the server `--postgres-url` names, which the engine reaches through a [`PgProxy`] (the fault stops the
//! proxy, never the shared server) and the harness directly. The PostgreSQL database is dropped at the end.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::BenchError;
use super::pgproxy::PgProxy;
use crate::config::DatabaseUrl;

/// Where a run's tickets and call records are.
#[derive(Debug)]
pub(super) enum TicketDb {
    Sqlite { url: String },
    Postgres(PgRun),
}

/// A run's own PostgreSQL database.
#[derive(Debug)]
pub(super) struct PgRun {
    /// The URL given (`--postgres-url`): the server to create and drop the run's database on.
    server_url: String,
    /// The run's database.
    name: String,
    /// The run's database, reached directly.
    direct_url: String,
    /// The run's database, reached through the proxy.
    engine_url: String,
    proxy: PgProxy,
}

/// How long the harness waits for PostgreSQL to answer before it says it is not reachable.
const PG_CONNECT: Duration = Duration::from_secs(10);

impl TicketDb {
    /// SQLite at `<work>/db/tickets.db`.
    pub(super) fn sqlite(work: &Path) -> TicketDb {
        TicketDb::Sqlite {
            url: sqlite_url(work),
        }
    }

    /// A fresh database `helpline_faults_<pid>` on the server of `server_url` (one left by an earlier
    /// run of the same pid is dropped first), and a proxy in front of it.
    pub(super) async fn postgres(server_url: &str) -> Result<TicketDb, BenchError> {
        use sqlx::Connection as _;
        let shown = DatabaseUrl::new(server_url).redacted();
        let name = format!("helpline_faults_{}", std::process::id());
        let upstream = upstream_addr(server_url).await?;
        let unreachable = |e: String| {
            BenchError::Setup(format!(
                "PostgreSQL at {shown} is not reachable ({e}); --fault pg-stopped needs a PostgreSQL \
                 server (--postgres-url) whose user may create databases"
            ))
        };
        let mut admin = tokio::time::timeout(PG_CONNECT, sqlx::PgConnection::connect(server_url))
            .await
            .map_err(|_| unreachable(format!("no answer within {PG_CONNECT:?}")))?
            .map_err(|e| unreachable(e.to_string()))?;
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(&sql)
                .execute(&mut admin)
                .await
                .map_err(|e| BenchError::Setup(format!("{sql} on {shown}: {e}")))?;
        }
        let _ = admin.close().await;
        let proxy = PgProxy::start(upstream)
            .await
            .map_err(|e| BenchError::Setup(format!("cannot start the PostgreSQL proxy: {e}")))?;
        let direct_url = with_database(server_url, &name, None)?;
        let engine_url = with_database(server_url, &name, Some(proxy.addr()))?;
        Ok(TicketDb::Postgres(PgRun {
            server_url: server_url.to_owned(),
            name,
            direct_url,
            engine_url,
            proxy,
        }))
    }

    /// The URL the engine's config names.
    pub(super) fn engine_url(&self) -> &str {
        match self {
            TicketDb::Sqlite { url } => url,
            TicketDb::Postgres(pg) => &pg.engine_url,
        }
    }

    /// The URL the harness reads the database with.
    pub(super) fn url(&self) -> &str {
        match self {
            TicketDb::Sqlite { url } => url,
            TicketDb::Postgres(pg) => &pg.direct_url,
        }
    }

    /// The proxy between the engine and PostgreSQL.
    pub(super) fn proxy(&self) -> Option<&PgProxy> {
        match self {
            TicketDb::Sqlite { .. } => None,
            TicketDb::Postgres(pg) => Some(&pg.proxy),
        }
    }

    /// Every ticket (read after the engine has stopped).
    pub(super) async fn read_tickets(&self) -> Result<Vec<tickets::Ticket>, BenchError> {
        let err = |e: tickets::StoreError| BenchError::Tickets(e.to_string());
        let store = tickets::Store::connect(self.url()).await.map_err(err)?;
        let mut all = Vec::new();
        loop {
            let page = tickets::Page {
                limit: 500,
                offset: all.len() as u64,
            };
            let (batch, total) = store
                .list_tickets(&tickets::TicketFilter::default(), page)
                .await
                .map_err(err)?;
            let empty = batch.is_empty();
            all.extend(batch);
            if empty || all.len() as u64 >= total {
                break;
            }
        }
        store.close().await;
        Ok(all)
    }

    /// Every call record (read after the engine has stopped).
    pub(super) async fn read_call_records(&self) -> Result<Vec<records::CallRecord>, BenchError> {
        let err = |e: records::RecordsError| BenchError::Tickets(format!("call records: {e}"));
        let store = records::RecordStore::connect(self.url(), &records::StoreOptions::default())
            .await
            .map_err(err)?;
        let calls = store.calls(&records::CallQuery::default()).await;
        store.close().await;
        calls.map_err(err)
    }

    /// Drops the run's PostgreSQL database (a failure is told, not fatal: the figures are read already).
    pub(super) async fn remove(self) {
        use sqlx::Connection as _;
        let TicketDb::Postgres(pg) = self else {
            return;
        };
        drop(pg.proxy);
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name);
        let dropped = async {
            let mut admin = sqlx::PgConnection::connect(&pg.server_url).await?;
            sqlx::query(&sql).execute(&mut admin).await?;
            admin.close().await
        };
        match tokio::time::timeout(PG_CONNECT, dropped).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("bench faults: {sql}: {e}"),
            Err(_) => eprintln!("bench faults: {sql}: no answer within {PG_CONNECT:?}"),
        }
    }
}

/// The SQLite ticket database of a run in `work`.
pub(super) fn sqlite_url(work: &Path) -> String {
    format!("sqlite://{}?mode=rwc", work.join("db/tickets.db").display())
}

/// The server's address in a PostgreSQL URL (port 5432 when it names none).
async fn upstream_addr(server_url: &str) -> Result<SocketAddr, BenchError> {
    let shown = DatabaseUrl::new(server_url).redacted();
    let parsed = parse(server_url)?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| BenchError::Options(format!("--postgres-url {shown} names no host")))?;
    let target = format!("{host}:{}", parsed.port().unwrap_or(5432));
    let mut found = tokio::net::lookup_host(&target).await.map_err(|e| {
        BenchError::Setup(format!(
            "PostgreSQL at {shown}: cannot resolve {target}: {e}"
        ))
    })?;
    found.next().ok_or_else(|| {
        BenchError::Setup(format!(
            "PostgreSQL at {shown}: {target} resolves to no address"
        ))
    })
}

fn parse(server_url: &str) -> Result<url::Url, BenchError> {
    let shown = DatabaseUrl::new(server_url).redacted();
    match url::Url::parse(server_url) {
        Ok(parsed) if matches!(parsed.scheme(), "postgres" | "postgresql") => Ok(parsed),
        _ => Err(BenchError::Options(format!(
            "--postgres-url {shown} is not a postgres:// URL"
        ))),
    }
}

/// `server_url` naming the database `name`, and, with `via`, that host and port instead of its own.
fn with_database(
    server_url: &str,
    name: &str,
    via: Option<SocketAddr>,
) -> Result<String, BenchError> {
    let mut url = parse(server_url)?;
    url.set_path(&format!("/{name}"));
    if let Some(via) = via {
        let shown = DatabaseUrl::new(server_url).redacted();
        let refused =
            |()| BenchError::Options(format!("--postgres-url {shown}: cannot set its host"));
        url.set_ip_host(via.ip()).map_err(refused)?;
        url.set_port(Some(via.port())).map_err(refused)?;
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_s_database_is_named_and_the_proxy_put_in_place_of_the_server() {
        let server = "postgres://postgres:secret@db.example:6543/test?sslmode=disable";
        assert_eq!(
            with_database(server, "helpline_faults_7", None).unwrap(),
            "postgres://postgres:secret@db.example:6543/helpline_faults_7?sslmode=disable"
        );
        let via = SocketAddr::from(([127, 0, 0, 1], 40001));
        assert_eq!(
            with_database(server, "helpline_faults_7", Some(via)).unwrap(),
            "postgres://postgres:secret@127.0.0.1:40001/helpline_faults_7?sslmode=disable"
        );
        // No port given: PostgreSQL's, replaced by the proxy's all the same.
        assert_eq!(
            with_database("postgresql://u@localhost/x", "d", Some(via)).unwrap(),
            "postgresql://u@127.0.0.1:40001/d"
        );
        let err = with_database("mysql://u:pw@h/x", "d", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a postgres:// URL") && !err.contains("pw"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_named_in_the_error() {
        // A port nothing listens on.
        let vacant = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let url = format!(
            "postgres://postgres:hidden@127.0.0.1:{}/test",
            vacant.port()
        );
        let err = TicketDb::postgres(&url).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "PostgreSQL at postgres://postgres:***@127.0.0.1:{}/test",
                vacant.port()
            )) && err.contains("not reachable")
                && !err.contains("hidden"),
            "{err}"
        );
    }
}
