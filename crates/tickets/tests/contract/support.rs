//! Test fixtures: a fresh database per test (a temp SQLite file, or a fresh PostgreSQL schema from
//! `HELPLINE_TEST_POSTGRES_URL`), a manual clock, a TCP proxy that can cut PostgreSQL off, and
//! [`eventually`], the one way these tests wait for what a background task does.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tempfile::TempDir;
pub use testkit::eventually;
use tickets::{ManualClock, ServiceConfig, Store, StoreOptions, TicketService};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::AbortHandle;

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T04:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One test's world. Dropping it removes its files and its PostgreSQL schema.
pub struct Env {
    pub kind: Kind,
    pub url: String,
    pub options: StoreOptions,
    /// The test's own directory (journals, recordings, more database files): `temp`'s path.
    pub dir: PathBuf,
    pub store: Store,
    pub service: TicketService,
    pub clock: ManualClock,
    pg_schema: Option<(String, String)>,
    /// Removes `dir` when the Env goes (declared last: after the store is dropped).
    _temp: TempDir,
}

/// Short waits so a test about a database away or locked is quick; the product's total wait for a
/// locked SQLite file (`sqlite_lock_wait`) all the same, so nodes starting together wait as they do
/// in production.
pub fn test_options() -> StoreOptions {
    StoreOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_millis(1500),
        sqlite_busy_timeout: Duration::from_millis(300),
        ..StoreOptions::default()
    }
}

fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("tickets-contract-{tag}-"))
        .tempdir()
        .unwrap()
}

fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

/// The PostgreSQL URL for the contract suite, or `None` (with the agreed message) when not set.
/// In CI the variable is required.
pub fn postgres_url() -> Option<String> {
    match std::env::var("HELPLINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but HELPLINE_TEST_POSTGRES_URL is not set: the PostgreSQL contract tests must run in CI"
                );
            }
            println!("skipped: HELPLINE_TEST_POSTGRES_URL not set");
            None
        }
    }
}

pub fn service_config(dir: &std::path::Path, node: &str) -> ServiceConfig {
    let mut config =
        ServiceConfig::new(dir.join(format!("journal-{node}")), dir.join("recordings"));
    config.write_timeout = Duration::from_secs(5);
    config.retry_database_after = Duration::from_millis(200);
    config.spare_blocks = 2;
    config
}

impl Env {
    pub async fn sqlite() -> Env {
        let dir = temp_dir("sqlite");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("tickets.db").display()
        );
        Self::build(Kind::Sqlite, url, test_options(), dir, None).await
    }

    pub async fn postgres() -> Option<Env> {
        let url = postgres_url()?;
        let schema = create_schema(&url).await;
        let mut options = test_options();
        options.postgres_schema = Some(schema.clone());
        let dir = temp_dir("pg");
        Some(
            Self::build(
                Kind::Postgres,
                url.clone(),
                options,
                dir,
                Some((url, schema)),
            )
            .await,
        )
    }

    async fn build(
        kind: Kind,
        url: String,
        options: StoreOptions,
        temp: TempDir,
        pg_schema: Option<(String, String)>,
    ) -> Env {
        let dir = temp.path().to_path_buf();
        let store = Store::connect_with(&url, options.clone()).await.unwrap();
        let clock = ManualClock::new(start_time());
        let service = TicketService::with_clock(
            store.clone(),
            service_config(&dir, "a"),
            Arc::new(clock.clone()),
        )
        .await
        .unwrap();
        Env {
            kind,
            url,
            options,
            dir,
            store,
            service,
            clock,
            pg_schema,
            _temp: temp,
        }
    }

    /// Another engine node on the same database, with its own journal directory.
    pub async fn another_node(&self, node: &str) -> TicketService {
        let store = Store::connect_with(&self.url, self.options.clone())
            .await
            .unwrap();
        TicketService::with_clock(
            store,
            service_config(&self.dir, node),
            Arc::new(self.clock.clone()),
        )
        .await
        .unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.pg_schema.take() {
            drop_schema(url, schema);
        }
    }
}

/// Generates a test per backend for an `async fn(Env)` contract.
#[macro_export]
macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Env::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(env) = $crate::support::Env::postgres().await {
                    super::$name(env).await;
                }
            }
        }
    };
}

/// A TCP forwarder in front of PostgreSQL that can be cut (every connection reset, new ones refused
/// at once) and restored — a database outage as the engine would see it.
pub struct CutProxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl CutProxy {
    pub async fn start(upstream: String) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, conns2) = (up.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                conns2.lock().await.push(task.abort_handle());
            }
        })
        .abort_handle();
        CutProxy {
            port,
            up,
            connections,
            accept,
        }
    }

    pub async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.connections.lock().await.drain(..) {
            c.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Splits `postgres://user@host:port/db?x` into the `host:port` part and a URL with it replaced.
pub fn reroute_postgres_url(url: &str, port: u16) -> (String, String) {
    let scheme_end = url.find("://").unwrap() + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    let upstream = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    };
    let rerouted = format!(
        "{}{}127.0.0.1:{port}{}",
        &url[..scheme_end],
        userinfo,
        &rest[authority_end..]
    );
    (upstream, rerouted)
}

/// Drops a PostgreSQL schema created by [`fresh_database`] when the test ends.
pub struct SchemaGuard(Option<(String, String)>);

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.0.take() {
            drop_schema(url, schema);
        }
    }
}

fn drop_schema(url: String, schema: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(admin) = sqlx::PgPool::connect(&url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        });
    })
    .join();
}

/// A second, empty database of the same kind as `env`'s (a new file, or a new schema).
pub async fn fresh_database(env: &Env) -> (String, StoreOptions, SchemaGuard) {
    match env.kind {
        Kind::Sqlite => {
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let file = env.dir.join(format!("fresh-{n}.db"));
            let url = format!("sqlite://{}?mode=rwc", file.display());
            (url, test_options(), SchemaGuard(None))
        }
        Kind::Postgres => {
            let url = postgres_url().unwrap();
            let schema = create_schema(&url).await;
            let mut options = test_options();
            options.postgres_schema = Some(schema.clone());
            (url.clone(), options, SchemaGuard(Some((url, schema))))
        }
    }
}

/// A new, uniquely named, empty PostgreSQL schema.
async fn create_schema(url: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let schema = format!("t_{}_{n}_{:08x}", std::process::id(), rand_suffix());
    let admin = sqlx::PgPool::connect(url)
        .await
        .expect("connect to HELPLINE_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    schema
}
