//! The records tables on SQLite or PostgreSQL: `call_records` (one row per call, keyed by call id, so a
//! record written twice — a journal replayed after a crash — is stored once) and `queue_events` (the
//! queue and agent log). Runtime queries written once in SQL both databases accept; instants are Unix
//! epoch milliseconds. The migrations are this crate's own (`migrations/<backend>`, versions 120000 and
//! up) and share sqlx's migrations table with the ticket store's: each migrator ignores the other's rows.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::RecordsError;
use crate::model::{AgentLeg, CallRecord, FALLBACK_CALL_PREFIX, HungUpBy, Outcome};
use crate::queue::{EVENT_NAMES, EventColumns, QueueEvent, QueueLogEntry};
use crate::report::{Report, ReportBuilder, ReportSpec};
use futures_util::TryStreamExt;

pub use tickets::StoreOptions;

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `body` in a transaction on a connection of `pool` taken for it, and commits.
///
/// As in the ticket store (issue 9): a connection that saw an error in a transaction — its `COMMIT`
/// included — is closed, never handed out again. After `SQLITE_FULL` SQLite may have rolled the
/// transaction back itself; sqlx's `ROLLBACK` then fails and sqlx-sqlite still counts the connection
/// as inside a transaction, so its next `BEGIN` is a `SAVEPOINT` that a later failure can leave open
/// for good: every write after it is lost at exit, and SQLite's write lock stays taken. The pools'
/// `after_release` check ([`reusable`]) is the second guard.
async fn in_transaction<DB, T>(
    pool: &sqlx::Pool<DB>,
    body: impl AsyncFnOnce(&mut sqlx::Transaction<'_, DB>) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error>
where
    DB: sqlx::Database,
{
    let mut conn = pool.acquire().await?;
    let result = match sqlx::Connection::begin(&mut *conn).await {
        Ok(mut tx) => match body(&mut tx).await {
            Ok(value) => tx.commit().await.map(|()| value),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    if result.is_err() {
        conn.close_on_drop();
    }
    result
}

/// Runs `$body` with `$pool` bound to the concrete pool; the body is compiled once per backend.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            Backend::Sqlite($pool) => $body,
            Backend::Postgres($pool) => $body,
        }
    };
}

/// Which calls to read: arrival in `[from, to)` and the optional filters (`None` = any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<String>,
    /// An outcome kind ([`Outcome::KINDS`]): `transferred` matches every destination.
    pub outcome: Option<String>,
    /// At most this many (lists); `None`: all.
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: u64,
}

/// The records database.
#[derive(Debug, Clone)]
pub struct RecordStore {
    backend: Backend,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    call_id: String,
    asterisk_id: Option<String>,
    channel_id: String,
    node: String,
    caller: String,
    caller_raw: String,
    dialled: Option<String>,
    language: Option<String>,
    arrived_at: i64,
    answered_at: Option<i64>,
    ended_at: i64,
    outcome: String,
    path: String,
    tickets: String,
    recordings: String,
    hangup_cause: Option<String>,
    hung_up_by: String,
    queue: Option<String>,
    wait_ms: Option<i64>,
    agent: Option<String>,
    talk_ms: Option<i64>,
    wrapup_ms: Option<i64>,
    disposition: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    at: i64,
    event: String,
    call_id: Option<String>,
    queue: Option<String>,
    agent: Option<String>,
    wait_ms: Option<i64>,
    duration_ms: Option<i64>,
    position: Option<i64>,
    info: Option<String>,
}

const CALL_COLUMNS: &str = "call_id, asterisk_id, channel_id, node, caller, caller_raw, dialled, language, \
     arrived_at, answered_at, ended_at, outcome, path, tickets, recordings, hangup_cause, hung_up_by, \
     queue, wait_ms, agent, talk_ms, wrapup_ms, disposition";

pub(crate) fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl CallRow {
    fn into_record(self) -> Result<CallRecord, RecordsError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| RecordsError::BadRow {
            id: self.call_id.clone(),
            message: format!("{what}: {e}"),
        };
        let outcome: Outcome = self.outcome.parse().map_err(|e| bad("outcome", &e))?;
        let path = serde_json::from_str(&self.path).map_err(|e| bad("path", &e))?;
        let tickets = serde_json::from_str(&self.tickets).map_err(|e| bad("tickets", &e))?;
        let recordings =
            serde_json::from_str(&self.recordings).map_err(|e| bad("recordings", &e))?;
        Ok(CallRecord {
            asterisk_id: self.asterisk_id,
            channel_id: self.channel_id,
            node: self.node,
            caller: self.caller,
            caller_raw: self.caller_raw,
            dialled: self.dialled,
            language: self.language,
            arrived_at: from_millis(self.arrived_at),
            answered_at: self.answered_at.map(from_millis),
            ended_at: from_millis(self.ended_at),
            outcome,
            path,
            tickets,
            recordings,
            hangup_cause: self.hangup_cause,
            hung_up_by: HungUpBy::parse(&self.hung_up_by),
            agent: AgentLeg {
                queue: self.queue,
                wait_ms: self.wait_ms,
                agent: self.agent,
                talk_ms: self.talk_ms,
                wrapup_ms: self.wrapup_ms,
                disposition: self.disposition,
            },
            call_id: self.call_id,
        })
    }
}

impl EventRow {
    fn into_entry(self) -> Result<QueueLogEntry, RecordsError> {
        let name = EVENT_NAMES
            .iter()
            .find(|n| **n == self.event)
            .copied()
            .ok_or_else(|| RecordsError::BadRow {
                id: self.id.to_string(),
                message: format!("unknown queue event {:?}", self.event),
            })?;
        let columns = EventColumns {
            event: name,
            call_id: self.call_id,
            queue: self.queue,
            agent: self.agent,
            wait_ms: self.wait_ms,
            duration_ms: self.duration_ms,
            position: self.position,
            info: self.info,
        };
        let event =
            QueueEvent::from_columns(self.id, columns).map_err(|e| RecordsError::BadRow {
                id: self.id.to_string(),
                message: e.to_string(),
            })?;
        Ok(QueueLogEntry {
            at: from_millis(self.at),
            event,
        })
    }
}

/// Pushes the bound values of one call record, in [`CALL_COLUMNS`] order, onto a query builder.
macro_rules! push_call {
    ($b:expr, $r:expr) => {{
        let r: &CallRecord = $r;
        $b.push_bind(r.call_id.clone())
            .push_bind(r.asterisk_id.clone())
            .push_bind(r.channel_id.clone())
            .push_bind(r.node.clone())
            .push_bind(r.caller.clone())
            .push_bind(r.caller_raw.clone())
            .push_bind(r.dialled.clone())
            .push_bind(r.language.clone())
            .push_bind(to_millis(r.arrived_at))
            .push_bind(r.answered_at.map(to_millis))
            .push_bind(to_millis(r.ended_at))
            .push_bind(r.outcome.to_string())
            .push_bind(json(&r.path))
            .push_bind(json(&r.tickets))
            .push_bind(json(&r.recordings))
            .push_bind(r.hangup_cause.clone())
            .push_bind(r.hung_up_by.as_str())
            .push_bind(r.agent.queue.clone())
            .push_bind(r.agent.wait_ms)
            .push_bind(r.agent.agent.clone())
            .push_bind(r.agent.talk_ms)
            .push_bind(r.agent.wrapup_ms)
            .push_bind(r.agent.disposition.clone());
    }};
}

/// The `SELECT` of the calls a [`CallQuery`] asks for, by arrival (a macro: one builder per backend).
macro_rules! select_calls {
    ($query:expr) => {{
        let query: &CallQuery = $query;
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {CALL_COLUMNS} FROM call_records WHERE 1 = 1"
        ));
        if let Some(from) = query.from {
            b.push(" AND arrived_at >= ").push_bind(to_millis(from));
        }
        if let Some(to) = query.to {
            b.push(" AND arrived_at < ").push_bind(to_millis(to));
        }
        if let Some(language) = &query.language {
            b.push(" AND language = ").push_bind(language.clone());
        }
        if let Some(queue) = &query.queue {
            b.push(" AND queue = ").push_bind(queue.clone());
        }
        if let Some(agent) = &query.agent {
            b.push(" AND agent = ").push_bind(agent.clone());
        }
        match query.outcome.as_deref() {
            None => {}
            Some("transferred") => {
                b.push(" AND outcome LIKE 'transferred:%'");
            }
            Some("outbound") => {
                b.push(" AND outcome LIKE 'outbound:%'");
            }
            Some(kind) => {
                b.push(" AND outcome = ").push_bind(kind.to_owned());
            }
        }
        b.push(" ORDER BY arrived_at, call_id");
        if let Some(limit) = query.limit {
            b.push(" LIMIT ").push_bind(i64::from(limit));
            b.push(" OFFSET ")
                .push_bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
        }
        b
    }};
}

/// The `SELECT` of queue events in `[from, to)` of `queue` and `agent` (`None` = any), in the order they
/// were written; with `agents_own`, a queue filter keeps the events that have no queue (logins, pauses).
macro_rules! select_events {
    ($from:expr, $to:expr, $queue:expr, $agent:expr, $agents_own:expr) => {{
        let (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = ($from, $to);
        let (queue, agent): (Option<&str>, Option<&str>) = ($queue, $agent);
        let mut b = sqlx::QueryBuilder::new(
            "SELECT id, at, event, call_id, queue, agent, wait_ms, duration_ms, position, info \
             FROM queue_events WHERE 1 = 1",
        );
        if let Some(from) = from {
            b.push(" AND at >= ").push_bind(to_millis(from));
        }
        if let Some(to) = to {
            b.push(" AND at < ").push_bind(to_millis(to));
        }
        if let Some(queue) = queue {
            b.push(" AND (queue = ").push_bind(queue.to_owned());
            b.push(if $agents_own {
                " OR queue IS NULL)"
            } else {
                ")"
            });
        }
        if let Some(agent) = agent {
            b.push(" AND agent = ").push_bind(agent.to_owned());
        }
        b.push(" ORDER BY at, id");
        b
    }};
}

/// The record of a call handed back to the dialplan, with its fallback's record folded in.
fn fold_fallback(mut earlier: CallRecord, fallback: &CallRecord) -> CallRecord {
    earlier.outcome = Outcome::Fallback;
    for ticket in &fallback.tickets {
        if !earlier.tickets.contains(ticket) {
            earlier.tickets.push(ticket.clone());
        }
    }
    for recording in &fallback.recordings {
        if !earlier.recordings.contains(recording) {
            earlier.recordings.push(recording.clone());
        }
    }
    earlier.ended_at = earlier.ended_at.max(fallback.ended_at);
    earlier
}

/// Serialises a record's list field (plain strings and instants: it cannot fail).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// Whether a connection coming back to its pool may be handed out again: not if sqlx still counts it
/// as inside a transaction (see [`in_transaction`]). Closing it ends whatever the database holds open for it.
fn reusable<C: sqlx::Connection>(conn: &C) -> bool {
    let idle = !conn.is_in_transaction();
    if !idle {
        tracing::warn!("closing a call records connection left inside a transaction");
    }
    idle
}

/// Rows per INSERT statement (SQLite allows 32,766 bound values; a record binds 23).
const ROWS_PER_INSERT: usize = 500;

impl RecordStore {
    /// Opens the pool for `url` (`sqlite://…` or `postgres://…`) without connecting; call
    /// [`RecordStore::migrate`] before the first write.
    pub fn open(url: &str, options: &StoreOptions) -> Result<RecordStore, RecordsError> {
        let backend = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|_| RecordsError::UnsupportedUrl)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(options.sqlite_busy_timeout);
            Backend::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(options.acquire_timeout)
                    .after_release(|conn, _| Box::pin(async move { Ok(reusable(conn)) }))
                    .connect_lazy_with(connect),
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut connect =
                PgConnectOptions::from_str(url).map_err(|_| RecordsError::UnsupportedUrl)?;
            if let Some(schema) = &options.postgres_schema {
                connect = connect.options([("search_path", schema.as_str())]);
            }
            Backend::Postgres(
                PgPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(options.acquire_timeout)
                    .after_release(|conn, _| Box::pin(async move { Ok(reusable(conn)) }))
                    .connect_lazy_with(connect),
            )
        } else {
            return Err(RecordsError::UnsupportedUrl);
        };
        Ok(RecordStore { backend })
    }

    /// Opens and migrates.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<RecordStore, RecordsError> {
        let store = RecordStore::open(url, options)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies this crate's migrations. The ticket store's migrations live in the same table: they are
    /// not this migrator's, so it ignores them (and the ticket store's migrator ignores ours).
    pub async fn migrate(&self) -> Result<(), RecordsError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut migrator = sqlx::migrate!("./migrations/sqlite");
                migrator.set_ignore_missing(true);
                migrator.run(pool).await?;
            }
            Backend::Postgres(pool) => {
                let mut migrator = sqlx::migrate!("./migrations/postgres");
                migrator.set_ignore_missing(true);
                migrator.run(pool).await?;
            }
        }
        Ok(())
    }

    /// Runs one statement as it is (administration and tests: e.g. `CREATE SCHEMA`).
    pub async fn execute_raw(&self, sql: &str) -> Result<(), RecordsError> {
        on_pool!(self, |pool| sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    /// Stores records; one already stored (same call id) is left as it is. Returns how many were new.
    /// All or nothing: one transaction.
    ///
    /// A fallback call's record ([`FALLBACK_CALL_PREFIX`]) for a channel that already has a record — a
    /// call the engine handed back to the dialplan, whose fallback then recorded the complaint — is folded
    /// into that record: one call, one record, its outcome `fallback`, the fallback's ticket and recording
    /// added (once, however often it is stored).
    pub async fn insert_calls(&self, records: &[CallRecord]) -> Result<u64, RecordsError> {
        if records.is_empty() {
            return Ok(0);
        }
        let inserted = on_pool!(self, |pool| {
            in_transaction(pool, async |tx| {
                let mut inserted = 0;
                let mut plain = Vec::with_capacity(records.len());
                for r in records {
                    if !r.call_id.starts_with(FALLBACK_CALL_PREFIX) {
                        plain.push(r);
                        continue;
                    }
                    let sql = format!(
                        "SELECT {CALL_COLUMNS} FROM call_records WHERE channel_id = $1 AND call_id <> $2"
                    );
                    let earlier: Option<CallRow> = sqlx::query_as(&sql)
                        .bind(&r.channel_id)
                        .bind(&r.call_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    let Some(row) = earlier else {
                        plain.push(r);
                        continue;
                    };
                    let earlier = row
                        .into_record()
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                    let merged = fold_fallback(earlier, r);
                    sqlx::query(
                        "UPDATE call_records SET outcome = $1, tickets = $2, recordings = $3, \
                         ended_at = $4 WHERE call_id = $5",
                    )
                    .bind(merged.outcome.to_string())
                    .bind(json(&merged.tickets))
                    .bind(json(&merged.recordings))
                    .bind(to_millis(merged.ended_at))
                    .bind(&merged.call_id)
                    .execute(&mut **tx)
                    .await?;
                }
                for chunk in plain.chunks(ROWS_PER_INSERT) {
                    let mut b = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO call_records ({CALL_COLUMNS}) "
                    ));
                    b.push_values(chunk, |mut row, r| push_call!(row, r));
                    b.push(" ON CONFLICT (call_id) DO NOTHING");
                    inserted += b.build().execute(&mut **tx).await?.rows_affected();
                }
                Ok(inserted)
            })
            .await?
        });
        Ok(inserted)
    }

    /// One call's record.
    pub async fn call(&self, call_id: &str) -> Result<Option<CallRecord>, RecordsError> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM call_records WHERE call_id = $1");
        let row: Option<CallRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(call_id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(CallRow::into_record).transpose()
    }

    /// The records matching `query`, by arrival.
    pub async fn calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, RecordsError> {
        let rows: Vec<CallRow> = on_pool!(self, |pool| select_calls!(query)
            .build_query_as()
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(CallRow::into_record).collect()
    }

    /// The report for `spec`: the calls of its period, language, queue and agent, and the queue
    /// events of the same period, queue (with the agents' own events: logins, pauses) and agent. The
    /// queries only narrow what is read — the [`ReportBuilder`] applies the spec's filters itself —
    /// and rows are streamed into it: a month of calls is never held in memory at once.
    pub async fn report(&self, spec: ReportSpec) -> Result<Report, RecordsError> {
        let query = CallQuery {
            from: Some(spec.from),
            to: Some(spec.to),
            language: spec.language.clone(),
            queue: spec.queue.clone(),
            agent: spec.agent.clone(),
            ..CallQuery::default()
        };
        let mut builder = ReportBuilder::new(spec.clone());
        on_pool!(self, |pool| {
            let mut b = select_calls!(&query);
            let mut rows = b.build_query_as::<CallRow>().fetch(pool);
            while let Some(row) = rows.try_next().await? {
                builder.call(&row.into_record()?);
            }
            Ok::<(), RecordsError>(())
        })?;
        on_pool!(self, |pool| {
            let mut b = select_events!(
                Some(spec.from),
                Some(spec.to),
                query.queue.as_deref(),
                query.agent.as_deref(),
                true
            );
            let mut rows = b.build_query_as::<EventRow>().fetch(pool);
            while let Some(row) = rows.try_next().await? {
                builder.event(&row.into_entry()?);
            }
            Ok::<(), RecordsError>(())
        })?;
        Ok(builder.finish())
    }

    /// How many call records are stored.
    pub async fn count_calls(&self) -> Result<i64, RecordsError> {
        let (n,): (i64,) = on_pool!(self, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM call_records")
                .fetch_one(pool)
                .await
        })?;
        Ok(n)
    }

    /// Appends queue and agent events, in order, in one transaction; each has a unique key (an event
    /// already stored under its key is left as it is, so a replayed journal stores it once).
    pub async fn append_events(
        &self,
        entries: &[(String, QueueLogEntry)],
    ) -> Result<(), RecordsError> {
        if entries.is_empty() {
            return Ok(());
        }
        on_pool!(self, |pool| {
            in_transaction(pool, async |tx| {
                for chunk in entries.chunks(ROWS_PER_INSERT) {
                    let mut b = sqlx::QueryBuilder::new(
                        "INSERT INTO queue_events \
                     (event_key, at, event, call_id, queue, agent, wait_ms, duration_ms, position, info) ",
                    );
                    b.push_values(chunk, |mut row, (key, entry)| {
                        let c = entry.event.columns();
                        row.push_bind(key.clone())
                            .push_bind(to_millis(entry.at))
                            .push_bind(c.event)
                            .push_bind(c.call_id)
                            .push_bind(c.queue)
                            .push_bind(c.agent)
                            .push_bind(c.wait_ms)
                            .push_bind(c.duration_ms)
                            .push_bind(c.position)
                            .push_bind(c.info);
                    });
                    b.push(" ON CONFLICT (event_key) DO NOTHING");
                    b.build().execute(&mut **tx).await?;
                }
                Ok(())
            })
            .await?
        });
        Ok(())
    }

    /// The events in `[from, to)` (`None` = unbounded), in the order they were written; `queue` and
    /// `agent` narrow them (an agent's own events — login, pause — have no queue and are kept by a queue
    /// filter only when no queue is asked for).
    pub async fn events(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        queue: Option<&str>,
        agent: Option<&str>,
    ) -> Result<Vec<QueueLogEntry>, RecordsError> {
        let rows: Vec<EventRow> =
            on_pool!(self, |pool| select_events!(from, to, queue, agent, false)
                .build_query_as()
                .fetch_all(pool)
                .await)?;
        rows.into_iter().map(EventRow::into_entry).collect()
    }

    /// Deletes call records that ended, and events that happened, before `cutoff` (retention). Returns
    /// (records, events) deleted.
    pub async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<(u64, u64), RecordsError> {
        let at = to_millis(cutoff);
        let deleted = on_pool!(self, |pool| {
            let calls = sqlx::query("DELETE FROM call_records WHERE ended_at < $1")
                .bind(at)
                .execute(pool)
                .await?
                .rows_affected();
            let events = sqlx::query("DELETE FROM queue_events WHERE at < $1")
                .bind(at)
                .execute(pool)
                .await?
                .rows_affected();
            (calls, events)
        });
        Ok(deleted)
    }
}
