//! The ticket store: one type over SQLite (embedded default) and PostgreSQL (several engine nodes),
//! its migrations and every query. Queries are written once in SQL both databases accept and run
//! through `on_pool!`, which expands each body once per backend; instants are stored as Unix epoch
//! milliseconds (`BIGINT`) so comparisons behave the same on both.
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction has been
//! fsync'd; PostgreSQL commits are durable with its default `synchronous_commit=on`. Every change to a
//! ticket is written together with its audit entry in one transaction, guarded by a row version so two
//! concurrent changes cannot silently overwrite each other.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::clock::{from_millis, to_millis};
use crate::error::StoreError;
use crate::model::{
    AuditEntry, CallbackOutcome, ConfirmationState, Department, DepartmentFigures, FeedbackReason,
    HeadlineFigures, MAX_LEVEL, Note, Page, RecordingInfo, Ticket, TicketFilter, TicketSource,
    TicketStats, TicketStatus,
};
use crate::number::ComplaintNumber;
use crate::outbox::{Change, EventKind, EventPayload, TicketSummary, new_event_id};

const DAY_MS: i64 = 86_400_000;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
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

/// Runs `$body` (which may use `?` and `return Err(…)` with [`StoreError`]s) in a transaction on
/// a connection of `$pool` taken for it, begun with `$begin` (`None` = plain `BEGIN`), and
/// commits; evaluates to `Result<body's value, StoreError>`.
///
/// Architecture invariant: a connection that saw an error in a transaction — its `COMMIT`
/// included — is closed, never handed out again. After e.g. `SQLITE_FULL` SQLite may have rolled
/// the transaction back itself; sqlx's `ROLLBACK` then fails and sqlx-sqlite still counts the
/// connection as inside a transaction, so its next `BEGIN` would be a `SAVEPOINT` in a
/// transaction that never ends (issue 9). The pools' `after_release` check is the second guard.
macro_rules! transaction {
    ($pool:expr, $begin:expr, |$tx:ident| $body:block) => {{
        let mut conn = $pool.acquire().await?;
        let begin: Option<&'static str> = $begin;
        let result: Result<_, StoreError> = async {
            let mut $tx = match begin {
                Some(statement) => sqlx::Connection::begin_with(&mut *conn, statement).await?,
                None => sqlx::Connection::begin(&mut *conn).await?,
            };
            let value = $body;
            $tx.commit().await?;
            Ok(value)
        }
        .await;
        if result.is_err() {
            conn.close_on_drop();
        }
        result
    }};
}

/// Binds a list of [`BindValue`]s in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for value in $binds {
            query = match value {
                BindValue::Text(v) => query.bind(v),
                BindValue::Int(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Inserts one audit entry on an open transaction.
macro_rules! insert_audit {
    ($tx:expr, $ticket_id:expr, $entry:expr) => {{
        let entry: &AuditRecord = $entry;
        sqlx::query(
            "INSERT INTO audit_log (ticket_id, at, actor, action, from_value, to_value, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($ticket_id)
        .bind(entry.at_ms)
        .bind(entry.actor.clone())
        .bind(entry.action)
        .bind(entry.from_value.clone())
        .bind(entry.to_value.clone())
        .bind(entry.reason.clone())
        .execute(&mut *$tx)
        .await
    }};
}

/// Inserts one outbox event (an [`EventDraft`]) on an open transaction: the event goes with the
/// change that caused it or not at all.
macro_rules! insert_event {
    ($tx:expr, $ticket_id:expr, $draft:expr) => {{
        let draft: &EventDraft = $draft;
        sqlx::query(
            "INSERT INTO outbox_events (id, kind, ticket_id, ticket_number, caller_number, language, \
             payload, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(draft.payload.id.clone())
        .bind(draft.payload.kind.as_str())
        .bind($ticket_id)
        .bind(draft.payload.ticket.number.clone())
        .bind(draft.caller_number.clone())
        .bind(draft.payload.ticket.language.clone())
        .bind(draft.json.clone())
        .bind(to_millis(draft.payload.occurred_at))
        .execute(&mut *$tx)
        .await
    }};
}

// Users, sessions, tokens and the account audit: their queries, in their own file (after the
// macros above, which it uses).
mod accounts;
mod agents;
// Confirmation calls: the outbound dialer's rows, written with the ticket changes they follow.
mod confirmations;
pub use confirmations::{Confirmation, GiveUp};
// The schema: `sqlx::migrate!` folders, run under the write lock, an earlier build's runner adopted.
mod migrate;
// Officers (migration 7) and their reminders: calls for the dialer, SMS through the outbox.
mod officers;
// The outbox's deliveries: planning, leases, outcomes, dead letters (issue 15).
mod outbox;
pub use accounts::SessionRecord;
pub use migrate::{SCHEMA_VERSION, VERSIONS};
pub use officers::{OfficerError, Reminder, Scheduled};

/// A dynamically bound SQL value.
#[derive(Debug, Clone)]
enum BindValue {
    Text(Option<String>),
    Int(Option<i64>),
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// How long to wait for a pooled connection before calling the database unavailable.
    pub acquire_timeout: Duration,
    /// SQLite: how long a statement waits for another connection's lock before giving up (the
    /// pool's `busy_timeout`, applied to every connection, migrations' included).
    pub sqlite_busy_timeout: Duration,
    /// SQLite: how long opening and migrating wait in all for the write lock (nodes starting
    /// together, a backup), trying again with a growing pause, before [`StoreError::Locked`].
    pub sqlite_lock_wait: Duration,
    /// PostgreSQL: schema to use (`search_path`), e.g. one per test. `None` = the server default.
    pub postgres_schema: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
            sqlite_busy_timeout: Duration::from_secs(2),
            sqlite_lock_wait: Duration::from_secs(10),
            postgres_schema: None,
        }
    }
}

/// A new ticket as written to the database (or the journal while the database is away).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    pub number: ComplaintNumber,
    pub call_id: Option<String>,
    pub source: TicketSource,
    pub caller_number: String,
    /// The caller id as delivered, when normalising changed it (for the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_raw: Option<String>,
    pub language: String,
    pub department_code: String,
    pub category: Option<String>,
    pub district: Option<String>,
    pub description: Option<String>,
    pub recording: Option<RecordingInfo>,
    pub after_hours: bool,
    pub created_at: DateTime<Utc>,
    /// Who filed it: `system:ivr`, or the API caller as the audit trail names them.
    pub created_by: String,
    /// The API client that filed it (`user:ID`, `integration:NAME`, `token:ID`), for the
    /// integrations that may read only their own tickets; `None` for the engine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_by: Option<String>,
    /// Why the call's recording could not be kept with the ticket, if it could not: the complaint
    /// is filed anyway and this goes into its audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_problem: Option<String>,
}

/// What happened to one record of an insert batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new ticket with the record's number.
    Created(ComplaintNumber),
    /// The call already had a ticket; this is its number (the record's number was not used).
    Existing(ComplaintNumber),
    /// The record names a department that does not exist (on replay also: its number belongs to
    /// another call's ticket); nothing was written.
    UnknownDepartment,
}

/// An audit entry about to be written.
#[derive(Debug, Clone)]
struct AuditRecord {
    at_ms: i64,
    actor: String,
    action: &'static str,
    from_value: Option<String>,
    to_value: Option<String>,
    reason: Option<String>,
}

/// A change to one ticket: columns to set, what to put in the audit trail and the outbox.
#[derive(Debug, Default)]
struct Mutation {
    set: Vec<(&'static str, BindValue)>,
    audit: Vec<AuditRecord>,
    events: Vec<EventDraft>,
    /// What the change does to the ticket's confirmation calls, in the same transaction.
    confirmation: Option<ConfirmationWrite>,
}

/// An outbox event about to be written: its body, serialised once, and the caller's number (for
/// the SMS; never in the body).
#[derive(Debug)]
struct EventDraft {
    payload: EventPayload,
    json: String,
    caller_number: String,
}

impl EventDraft {
    fn new(
        kind: EventKind,
        ticket: TicketSummary,
        caller_number: &str,
        change: Change,
        at_ms: i64,
    ) -> Result<EventDraft, StoreError> {
        let payload = EventPayload {
            id: new_event_id(),
            kind,
            occurred_at: from_millis(at_ms),
            ticket,
            change,
        };
        let json = serde_json::to_string(&payload)
            .map_err(|e| corrupt(format!("event of ticket {}: {e}", payload.ticket.number)))?;
        Ok(EventDraft {
            payload,
            json,
            caller_number: caller_number.to_owned(),
        })
    }

    /// `t` moves to `to`.
    fn status(
        t: &Ticket,
        to: TicketStatus,
        reason: Option<&str>,
        at_ms: i64,
    ) -> Result<EventDraft, StoreError> {
        let mut summary = TicketSummary::of(t);
        summary.status = to;
        let change = Change {
            from: Some(t.status.to_string()),
            to: to.to_string(),
            reason: reason.map(str::to_owned),
        };
        EventDraft::new(
            EventKind::of_status_change(to),
            summary,
            &t.caller_number,
            change,
            at_ms,
        )
    }

    /// `t` goes up one level, due again at `due_ms`.
    fn escalated(
        t: &Ticket,
        due_ms: i64,
        reason: &str,
        at_ms: i64,
    ) -> Result<EventDraft, StoreError> {
        let mut summary = TicketSummary::of(t);
        summary.level = t.level + 1;
        summary.due_at = from_millis(due_ms);
        let change = Change {
            from: Some(format!("L{}", t.level)),
            to: format!("L{}", t.level + 1),
            reason: Some(reason.to_owned()),
        };
        EventDraft::new(
            EventKind::Escalated,
            summary,
            &t.caller_number,
            change,
            at_ms,
        )
    }
}

/// A ticket change's effect on its confirmation calls (`confirmation_calls`, migration 6).
#[derive(Debug, Clone, PartialEq, Eq)]
enum ConfirmationWrite {
    /// The ticket became `resolved`: a confirmation call for this resolution, due at once.
    Schedule { round: i64 },
    /// The ticket left `resolved` some other way: its open confirmation calls are cancelled.
    CancelOpen,
    /// The confirmation call `id` ended in `state` (it must still be open).
    Finish {
        id: i64,
        state: ConfirmationState,
        attempts: i64,
        cause: Option<String>,
    },
}

/// Carries out a [`ConfirmationWrite`] for ticket `$ticket_id` on an open transaction.
macro_rules! write_confirmation {
    ($tx:expr, $ticket_id:expr, $write:expr, $at_ms:expr) => {{
        let write: &ConfirmationWrite = $write;
        let at_ms: i64 = $at_ms;
        match write {
            ConfirmationWrite::Schedule { round } => {
                sqlx::query(
                    "INSERT INTO confirmation_calls (ticket_id, round, state, attempts, \
                     next_attempt_at, resolved_at, updated_at) VALUES ($1, $2, 'pending', 0, $3, $3, $3) \
                     ON CONFLICT (ticket_id, round) DO NOTHING",
                )
                .bind($ticket_id)
                .bind(*round)
                .bind(at_ms)
                .execute(&mut *$tx)
                .await?;
            }
            ConfirmationWrite::CancelOpen => {
                sqlx::query(
                    "UPDATE confirmation_calls SET state = 'cancelled', updated_at = $1 \
                     WHERE ticket_id = $2 AND state IN ('pending', 'call_back')",
                )
                .bind(at_ms)
                .bind($ticket_id)
                .execute(&mut *$tx)
                .await?;
            }
            ConfirmationWrite::Finish {
                id,
                state,
                attempts,
                cause,
            } => {
                let done = sqlx::query(
                    "UPDATE confirmation_calls SET state = $1, attempts = $2, \
                     last_cause = COALESCE($3, last_cause), updated_at = $4 \
                     WHERE id = $5 AND ticket_id = $6 AND state IN ('pending', 'call_back')",
                )
                .bind(state.as_str())
                .bind(*attempts)
                .bind(cause.clone())
                .bind(at_ms)
                .bind(*id)
                .bind($ticket_id)
                .execute(&mut *$tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotAllowedNow(format!(
                        "confirmation call {id} is no longer open"
                    )));
                }
            }
        }
    }};
}

impl Mutation {
    /// Sets the ticket's recording columns to `recording` (`None`: no recording).
    fn set_recording(&mut self, recording: Option<&RecordingInfo>) {
        let text = |f: fn(&RecordingInfo) -> String| BindValue::Text(recording.map(f));
        let int = |f: fn(&RecordingInfo) -> u64| {
            BindValue::Int(recording.and_then(|r| i64::try_from(f(r)).ok()))
        };
        self.set
            .push(("recording_file", text(|r| r.file_name.clone())));
        self.set
            .push(("recording_sha256", text(|r| r.sha256.clone())));
        self.set
            .push(("recording_duration_ms", int(|r| r.duration_ms)));
        self.set.push(("recording_bytes", int(|r| r.bytes)));
    }
}

#[derive(Debug, sqlx::FromRow)]
struct TicketRow {
    id: i64,
    version: i64,
    number: String,
    call_id: Option<String>,
    source: String,
    caller_number: String,
    caller_raw: Option<String>,
    language: String,
    department_code: String,
    department_name: String,
    category: Option<String>,
    district: Option<String>,
    description: Option<String>,
    recording_file: Option<String>,
    recording_duration_ms: Option<i64>,
    recording_sha256: Option<String>,
    recording_bytes: Option<i64>,
    after_hours: i64,
    status: String,
    level: i64,
    assigned_to: Option<String>,
    officer_id: Option<i64>,
    due_at: i64,
    created_at: i64,
    updated_at: i64,
    feedback_satisfied: Option<i64>,
    feedback_reason: Option<String>,
    reopen_count: i64,
    filed_by: Option<String>,
}

const TICKET_SELECT: &str = "SELECT t.id, t.version, t.number, t.call_id, t.source, t.caller_number, t.caller_raw, \
    t.language, t.department_code, d.name AS department_name, t.category, t.district, t.description, \
    t.recording_file, t.recording_duration_ms, t.recording_sha256, t.recording_bytes, t.after_hours, \
    t.status, t.level, t.assigned_to, t.officer_id, t.due_at, t.created_at, t.updated_at, t.feedback_satisfied, \
    t.feedback_reason, t.reopen_count, t.filed_by \
    FROM tickets t JOIN departments d ON d.code = t.department_code";

/// Matches a ticket by its number or by a number it was merged under (journal replay).
const BY_NUMBER: &str =
    " WHERE t.number = $1 OR t.id = (SELECT a.ticket_id FROM number_aliases a WHERE a.number = $1)";

/// The audit action of an after-hours complaint's call-back marked done.
pub const CALLED_BACK: &str = "called_back";

const OPEN_STATUSES_SQL: &str = "('registered', 'assigned', 'in_progress', 'reopened')";

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::CorruptRow(what.into())
}

impl TicketRow {
    fn into_ticket(self) -> Result<(i64, i64, Ticket), StoreError> {
        let number = ComplaintNumber::parse(&self.number)
            .map_err(|e| corrupt(format!("ticket {} number {:?}: {e}", self.id, self.number)))?;
        let recording = match (self.recording_file, self.recording_sha256) {
            (Some(file_name), Some(sha256)) => Some(RecordingInfo {
                file_name,
                sha256,
                duration_ms: u64::try_from(self.recording_duration_ms.unwrap_or(0)).unwrap_or(0),
                bytes: u64::try_from(self.recording_bytes.unwrap_or(0)).unwrap_or(0),
            }),
            _ => None,
        };
        let ticket = Ticket {
            number,
            call_id: self.call_id,
            source: self
                .source
                .parse()
                .map_err(|e| corrupt(format!("ticket {number}: {e}")))?,
            caller_number: self.caller_number,
            caller_raw: self.caller_raw,
            language: self.language,
            department_code: self.department_code,
            department_name: self.department_name,
            category: self.category,
            district: self.district,
            description: self.description,
            recording,
            after_hours: self.after_hours != 0,
            status: self
                .status
                .parse()
                .map_err(|e| corrupt(format!("ticket {number}: {e}")))?,
            level: u8::try_from(self.level)
                .map_err(|_| corrupt(format!("ticket {number}: level {}", self.level)))?,
            assigned_to: self.assigned_to,
            officer_id: self.officer_id,
            due_at: from_millis(self.due_at),
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            feedback_satisfied: self.feedback_satisfied.map(|v| v != 0),
            feedback_reason: self
                .feedback_reason
                .map(|r| r.parse::<FeedbackReason>())
                .transpose()
                .map_err(|e| corrupt(format!("ticket {number}: {e}")))?,
            reopen_count: u32::try_from(self.reopen_count).unwrap_or(0),
            filed_by: self.filed_by,
        };
        Ok((self.id, self.version, ticket))
    }
}

/// SHA-256 (hex) of an API token: what the database keeps instead of the token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A pool's connections at one moment ([`Store::pool_connections`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConnections {
    /// Open (idle or lent out).
    pub open: u32,
    /// Open and waiting to be lent.
    pub idle: u32,
    /// The most the pool opens: a pool with all of them lent makes the next caller wait.
    pub max: u32,
}

/// The ticket store. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Set once migrations have been applied through this store (so a node started during an
    /// outage migrates before its first write when the database returns).
    migrated: Arc<AtomicBool>,
    /// [`StoreOptions::sqlite_lock_wait`].
    sqlite_lock_wait: Duration,
    /// Fault injection (SQLite): the `max_page_count` every connection applies when it is handed
    /// out; 0 = never set. See [`Store::limit_sqlite_pages`].
    page_limit: Arc<AtomicU64>,
}

impl Store {
    /// Connects to `sqlite://PATH?mode=rwc` or `postgres://…`, applies migrations and seeds departments.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`Store::connect`] with explicit pool and timeout settings.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let store = Self::open(url, &options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Like [`Store::connect_with`], but a database that cannot be reached right now is not an
    /// error: the store is returned unmigrated (it migrates before its first write once the database
    /// is back), so an engine node can start during an outage and file tickets in its journal.
    pub async fn connect_or_defer(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let store = Self::open(url, &options).await?;
        match store.migrate().await {
            Ok(_) => Ok(store),
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "ticket database unreachable at start; migrating later");
                Ok(store)
            }
            Err(e) => Err(e),
        }
    }

    /// Applies migrations if this store has not done so yet.
    pub async fn ensure_migrated(&self) -> Result<(), StoreError> {
        if !self.migrated.load(Ordering::Acquire) {
            self.migrate().await?;
        }
        Ok(())
    }

    /// Opens the pool without connecting or migrating: connections are made on first use
    /// (`helpline db migrate` then calls [`Store::migrate`]).
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        let page_limit = Arc::new(AtomicU64::new(0));
        let backend = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(options.sqlite_busy_timeout)
                .foreign_keys(true);
            let (on_connect, on_acquire) = (Arc::clone(&page_limit), Arc::clone(&page_limit));
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .after_connect(move |conn, _| {
                    let pages = on_connect.load(Ordering::Acquire);
                    Box::pin(apply_page_limit(conn, pages))
                })
                .before_acquire(move |conn, _| {
                    let pages = on_acquire.load(Ordering::Acquire);
                    Box::pin(async move { apply_page_limit(conn, pages).await.map(|()| true) })
                })
                .after_release(|conn, _| Box::pin(async move { Ok(reusable(conn)) }))
                .connect_lazy_with(connect);
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut connect = PgConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?;
            if let Some(schema) = &options.postgres_schema {
                connect = connect.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .after_release(|conn, _| Box::pin(async move { Ok(reusable(conn)) }))
                .connect_lazy_with(connect);
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Store {
            backend,
            migrated: Arc::new(AtomicBool::new(false)),
            sqlite_lock_wait: options.sqlite_lock_wait,
            page_limit,
        })
    }

    /// Fault injection for tests and disk-full drills; SQLite only (no effect on PostgreSQL).
    /// From each pooled connection's next acquire on, the database file may grow to at most
    /// `pages` pages (`PRAGMA max_page_count`; a value below the current size means "no growth"),
    /// so a write that needs a new page fails with `SQLITE_FULL`, as on a full disk. `None` lifts
    /// the cap. A connection checked out at the time keeps its old cap until it is handed out again.
    pub fn limit_sqlite_pages(&self, pages: Option<u32>) {
        let pages = pages.map_or(UNLIMITED_PAGES, u64::from).max(1);
        self.page_limit.store(pages, Ordering::Release);
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The pool's connections now: open, idle, and the most it opens.
    pub fn pool_connections(&self) -> PoolConnections {
        on_pool!(self, |pool| PoolConnections {
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        })
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    // ----- departments -------------------------------------------------------------------------

    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT code, name, name_hi, sla_days FROM departments ORDER BY code")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(department_from_row).collect())
    }

    pub async fn department(&self, code: &str) -> Result<Option<Department>, StoreError> {
        let row: Option<(String, String, String, i64)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT code, name, name_hi, sla_days FROM departments WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(department_from_row))
    }

    /// Changes a department's SLA; applies to due dates set from now on.
    pub async fn set_department_sla(
        &self,
        code: &str,
        sla_days: u32,
    ) -> Result<Department, StoreError> {
        if !(1..=365).contains(&sla_days) {
            return Err(StoreError::NotAllowedNow(format!(
                "sla_days {sla_days} is outside 1..=365"
            )));
        }
        let result = on_pool!(self, |pool| {
            sqlx::query("UPDATE departments SET sla_days = $1 WHERE code = $2")
                .bind(i64::from(sla_days))
                .bind(code)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        if result == 0 {
            return Err(StoreError::UnknownDepartment(code.to_owned()));
        }
        self.department(code)
            .await?
            .ok_or_else(|| StoreError::UnknownDepartment(code.to_owned()))
    }

    // ----- numbers ------------------------------------------------------------------------------

    /// Reserves `count` consecutive number blocks for this node; returns the first block index.
    /// Atomic on both backends (a single-row counter updated in one statement).
    pub async fn reserve_number_blocks(
        &self,
        count: u64,
        max_blocks: u64,
    ) -> Result<u64, StoreError> {
        // A node that started while the database was away has not migrated it yet.
        self.ensure_migrated().await?;
        let count_i = i64::try_from(count).map_err(|_| StoreError::NumberSpaceExhausted)?;
        let (next,): (i64,) = on_pool!(self, |pool| {
            sqlx::query_as(
                "UPDATE number_blocks SET next_block = next_block + $1 WHERE id = 1 RETURNING next_block",
            )
            .bind(count_i)
            .fetch_one(pool)
            .await
        })?;
        let end = u64::try_from(next).map_err(|_| corrupt("number_blocks.next_block negative"))?;
        if end > max_blocks {
            return Err(StoreError::NumberSpaceExhausted);
        }
        Ok(end - count)
    }

    // ----- creating -----------------------------------------------------------------------------

    /// Inserts a batch of new tickets in ONE transaction (group commit: one fsync for all), keyed by
    /// call: a record whose `call_id` already has a ticket yields that ticket's number instead.
    /// With `alias_on_conflict` (journal replay: the caller already heard the record's number) the
    /// record's number is kept as an alias of the existing ticket so it still finds the complaint,
    /// and a record without a call that an earlier replay already wrote is found by its number, so
    /// a replay can always be run again.
    pub async fn insert_tickets(
        &self,
        records: &[TicketRecord],
        alias_on_conflict: bool,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        // A node that started while the database was away (a fresh one included) migrates it before
        // its first write: the journal's tickets must not meet a database without tables.
        self.ensure_migrated().await?;
        let mut outcomes = Vec::with_capacity(records.len());
        // Outside a replay a taken number is an error (the allocator went wrong); on replay it is
        // what an earlier replay of the same record left.
        let on_conflict = if alias_on_conflict {
            "ON CONFLICT DO NOTHING"
        } else {
            "ON CONFLICT (call_id) DO NOTHING"
        };
        let insert_sql = format!(
            "INSERT INTO tickets (number, call_id, source, caller_number, language, \
             department_code, category, district, description, recording_file, \
             recording_duration_ms, recording_sha256, recording_bytes, after_hours, status, \
             level, due_at, created_at, updated_at, caller_raw, filed_by) \
             SELECT $1, $2, $3, $4, $5, d.code, $6, $7, $8, $9, $10, $11, $12, $13, \
             'registered', 1, $14 + d.sla_days * 86400000, $14, $14, $16, $17 \
             FROM departments d WHERE d.code = $15 {on_conflict} RETURNING id"
        );
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            // "created" audit entries are written together at the end: one round trip, not one
            // per ticket (the difference matters on PostgreSQL).
            let mut created_audits: Vec<(i64, AuditRecord)> = Vec::with_capacity(records.len());
            let mut created: Vec<(i64, &TicketRecord)> = Vec::with_capacity(records.len());
            for record in records {
                let created_ms = to_millis(record.created_at);
                let recording = record.recording.as_ref();
                let inserted: Option<(i64,)> = sqlx::query_as(&insert_sql)
                    .bind(record.number.to_string())
                    .bind(record.call_id.clone())
                    .bind(record.source.as_str())
                    .bind(record.caller_number.clone())
                    .bind(record.language.clone())
                    .bind(record.category.clone())
                    .bind(record.district.clone())
                    .bind(record.description.clone())
                    .bind(recording.map(|r| r.file_name.clone()))
                    .bind(recording.map(|r| i64::try_from(r.duration_ms).unwrap_or(i64::MAX)))
                    .bind(recording.map(|r| r.sha256.clone()))
                    .bind(recording.map(|r| i64::try_from(r.bytes).unwrap_or(i64::MAX)))
                    .bind(i64::from(record.after_hours))
                    .bind(created_ms)
                    .bind(record.department_code.clone())
                    .bind(record.caller_raw.clone())
                    .bind(record.filed_by.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some((id,)) = inserted {
                    created_audits.push((
                        id,
                        AuditRecord {
                            at_ms: created_ms,
                            actor: record.created_by.clone(),
                            action: "created",
                            from_value: None,
                            to_value: Some(TicketStatus::Registered.to_string()),
                            reason: created_reason(record),
                        },
                    ));
                    created.push((id, record));
                    outcomes.push(InsertOutcome::Created(record.number));
                    continue;
                }
                let existing: Option<(i64, String)> = match &record.call_id {
                    Some(call_id) => {
                        sqlx::query_as("SELECT id, number FROM tickets WHERE call_id = $1")
                            .bind(call_id.clone())
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                    None if alias_on_conflict => {
                        sqlx::query_as(
                            "SELECT id, number FROM tickets \
                             WHERE number = $1 AND call_id IS NULL AND created_at = $2",
                        )
                        .bind(record.number.to_string())
                        .bind(created_ms)
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                    None => None,
                };
                let Some((id, number)) = existing else {
                    outcomes.push(InsertOutcome::UnknownDepartment);
                    continue;
                };
                let number = ComplaintNumber::parse(&number)
                    .map_err(|e| corrupt(format!("ticket {id} number {number:?}: {e}")))?;
                if alias_on_conflict && number != record.number {
                    let aliased = sqlx::query(
                        "INSERT INTO number_aliases (number, ticket_id, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (number) DO NOTHING",
                    )
                    .bind(record.number.to_string())
                    .bind(id)
                    .bind(created_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    let audit = AuditRecord {
                        at_ms: created_ms,
                        actor: record.created_by.clone(),
                        action: "merged_number",
                        from_value: Some(record.number.to_string()),
                        to_value: Some(number.to_string()),
                        reason: Some("the same call was journaled during a database outage".into()),
                    };
                    // A second replay of the same record finds the alias already there.
                    if aliased == 1 {
                        insert_audit!(tx, id, &audit)?;
                    }
                }
                outcomes.push(InsertOutcome::Existing(number));
            }
            if !created_audits.is_empty() {
                let (sql, binds) = multi_row_audit_insert(&created_audits);
                bind_all!(sqlx::query(&sql), binds)
                    .execute(&mut *tx)
                    .await?;
            }
            if !created.is_empty() {
                // Each new ticket's "registered" event, in the same transaction (one round trip).
                let departments: Vec<(String, String, i64)> =
                    sqlx::query_as("SELECT code, name, sla_days FROM departments")
                        .fetch_all(&mut *tx)
                        .await?;
                let mut events = Vec::with_capacity(created.len());
                for (id, record) in &created {
                    events.push((*id, registered_event(record, &departments)?));
                }
                for chunk in events.chunks(EVENTS_PER_INSERT) {
                    let (sql, binds) = multi_row_event_insert(chunk);
                    bind_all!(sqlx::query(&sql), binds)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }))?;
        Ok(outcomes)
    }

    // ----- reading ------------------------------------------------------------------------------

    /// Which of `numbers` are not in the database — neither a ticket's number nor a merged one —
    /// as seen by a connection opened for this question (not one of the pool's), so only what was
    /// committed counts, whatever state the pool's connections are in. The journal replay asks
    /// this before it empties the journal (issue 9).
    pub async fn numbers_not_committed(
        &self,
        numbers: &[ComplaintNumber],
    ) -> Result<Vec<ComplaintNumber>, StoreError> {
        let mut found = std::collections::HashSet::new();
        on_pool!(self, |pool| {
            let mut conn = pool.connect_options().connect().await?;
            let read = async {
                // Well under SQLite's and PostgreSQL's limits on bound parameters.
                for chunk in numbers.chunks(500) {
                    let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let list = list.join(", ");
                    let sql = format!(
                        "SELECT number FROM tickets WHERE number IN ({list}) \
                         UNION SELECT number FROM number_aliases WHERE number IN ({list})"
                    );
                    let mut query = sqlx::query_as::<_, (String,)>(&sql);
                    for number in chunk {
                        query = query.bind(number.to_string());
                    }
                    found.extend(query.fetch_all(&mut conn).await?.into_iter().map(|(n,)| n));
                }
                Ok::<(), sqlx::Error>(())
            }
            .await;
            if let Err(e) = sqlx::Connection::close(conn).await {
                tracing::debug!(error = %e, "closing the read-back connection");
            }
            read
        })?;
        Ok(numbers
            .iter()
            .filter(|n| !found.contains(&n.to_string()))
            .copied()
            .collect())
    }

    pub async fn ticket(&self, number: ComplaintNumber) -> Result<Option<Ticket>, StoreError> {
        Ok(self.ticket_row(number).await?.map(|(_, _, t)| t))
    }

    async fn ticket_row(
        &self,
        number: ComplaintNumber,
    ) -> Result<Option<(i64, i64, Ticket)>, StoreError> {
        let sql = format!("{TICKET_SELECT}{BY_NUMBER}");
        let row: Option<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(number.to_string())
                .fetch_optional(pool)
                .await
        })?;
        row.map(TicketRow::into_ticket).transpose()
    }

    pub async fn ticket_by_call(&self, call_id: &str) -> Result<Option<Ticket>, StoreError> {
        let sql = format!("{TICKET_SELECT} WHERE t.call_id = $1");
        let row: Option<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(call_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row
            .map(TicketRow::into_ticket)
            .transpose()?
            .map(|(_, _, t)| t))
    }

    /// Lists tickets matching `filter`, newest first; returns the page and the total match count.
    pub async fn list_tickets(
        &self,
        filter: &TicketFilter,
        page: Page,
    ) -> Result<(Vec<Ticket>, u64), StoreError> {
        let (where_sql, binds) = filter_sql(filter);
        let n = binds.len();
        let list_sql = format!(
            "{TICKET_SELECT}{where_sql} ORDER BY t.created_at DESC, t.id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let count_sql = format!("SELECT COUNT(*) FROM tickets t{where_sql}");
        let mut list_binds = binds.clone();
        list_binds.push(BindValue::Int(Some(i64::from(page.limit))));
        list_binds.push(BindValue::Int(Some(
            i64::try_from(page.offset).unwrap_or(i64::MAX),
        )));
        let (rows, total): (Vec<TicketRow>, (i64,)) = on_pool!(self, |pool| {
            let rows = bind_all!(sqlx::query_as(&list_sql), list_binds)
                .fetch_all(pool)
                .await?;
            let total = bind_all!(sqlx::query_as(&count_sql), binds)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        let tickets = rows
            .into_iter()
            .map(|r| r.into_ticket().map(|(_, _, t)| t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((tickets, u64::try_from(total.0).unwrap_or(0)))
    }

    /// A ticket's whole audit trail, oldest first.
    pub async fn audit_trail(
        &self,
        number: ComplaintNumber,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.audit_page(number, EVERYTHING).await?.0)
    }

    /// One page of a ticket's audit trail, oldest first, and how many entries it has in all.
    /// The trail only grows at its end, so an offset stays on the same entry between pages.
    pub async fn audit_page(
        &self,
        number: ComplaintNumber,
        page: Page,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        let (id, _, _) = self
            .ticket_row(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let (limit, offset) = page_binds(page);
        let (rows, total): (Vec<Row>, (i64,)) = on_pool!(self, |pool| {
            let rows = sqlx::query_as(
                "SELECT at, actor, action, from_value, to_value, reason FROM audit_log \
                 WHERE ticket_id = $1 ORDER BY id LIMIT $2 OFFSET $3",
            )
            .bind(id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE ticket_id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        let entries = rows
            .into_iter()
            .map(
                |(at, actor, action, from_value, to_value, reason)| AuditEntry {
                    at: from_millis(at),
                    actor,
                    action,
                    from_value,
                    to_value,
                    reason,
                },
            )
            .collect();
        Ok((entries, u64::try_from(total.0).unwrap_or(0)))
    }

    /// A ticket's notes, oldest first.
    pub async fn notes(&self, number: ComplaintNumber) -> Result<Vec<Note>, StoreError> {
        Ok(self.notes_page(number, EVERYTHING).await?.0)
    }

    /// One page of a ticket's notes, oldest first, and how many it has in all (notes are only
    /// ever added, at the end: an offset stays on the same note between pages).
    pub async fn notes_page(
        &self,
        number: ComplaintNumber,
        page: Page,
    ) -> Result<(Vec<Note>, u64), StoreError> {
        let (id, _, _) = self
            .ticket_row(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        let (limit, offset) = page_binds(page);
        let (rows, total): (Vec<(i64, String, String)>, (i64,)) = on_pool!(self, |pool| {
            let rows = sqlx::query_as(
                "SELECT at, author, text FROM notes WHERE ticket_id = $1 \
                 ORDER BY id LIMIT $2 OFFSET $3",
            )
            .bind(id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_as("SELECT COUNT(*) FROM notes WHERE ticket_id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        let notes = rows
            .into_iter()
            .map(|(at, author, text)| Note {
                at: from_millis(at),
                author,
                text,
            })
            .collect();
        Ok((notes, u64::try_from(total.0).unwrap_or(0)))
    }

    /// Counts for the headline figures, optionally for one department.
    pub async fn stats(
        &self,
        department_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TicketStats, StoreError> {
        let (dept_sql, binds) = match department_code {
            Some(code) => (
                " WHERE department_code = $1",
                vec![BindValue::Text(Some(code.to_owned()))],
            ),
            None => ("", vec![]),
        };
        let by_status_sql =
            format!("SELECT status, COUNT(*) FROM tickets{dept_sql} GROUP BY status");
        let by_level_sql =
            format!("SELECT level, COUNT(*) FROM tickets{dept_sql} GROUP BY level ORDER BY level");
        let n = binds.len();
        let overdue_sql = format!(
            "SELECT COUNT(*) FROM tickets{} status IN {OPEN_STATUSES_SQL} AND due_at < ${}",
            if dept_sql.is_empty() {
                " WHERE"
            } else {
                " WHERE department_code = $1 AND"
            },
            n + 1
        );
        let mut overdue_binds = binds.clone();
        overdue_binds.push(BindValue::Int(Some(to_millis(now))));
        type Counts = (Vec<(String, i64)>, Vec<(i64, i64)>, (i64,));
        let (by_status, by_level, overdue): Counts = on_pool!(self, |pool| {
            let a = bind_all!(sqlx::query_as(&by_status_sql), binds.clone())
                .fetch_all(pool)
                .await?;
            let b = bind_all!(sqlx::query_as(&by_level_sql), binds)
                .fetch_all(pool)
                .await?;
            let c = bind_all!(sqlx::query_as(&overdue_sql), overdue_binds)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((a, b, c))
        })?;
        let by_status = status_counts(by_status)?;
        let headline = HeadlineFigures::from_status_counts(&by_status);
        Ok(TicketStats {
            total: headline.total,
            by_status,
            by_level: by_level
                .into_iter()
                .filter_map(|(l, c)| Some((u8::try_from(l).ok()?, count_from_sql(c))))
                .collect(),
            overdue: count_from_sql(overdue.0),
            disposed_share: headline.disposed_share,
            satisfied_share: headline.satisfied_share,
            disposed_satisfied_share: headline.disposed_satisfied_share,
        })
    }

    /// Escalations made since `since` (the escalation job's audit entries), per department and
    /// the level each raised its complaint to: `(department code, level, escalations)`, by
    /// department then level. A wallboard's "escalations today".
    pub async fn escalations_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, u8, u64)>, StoreError> {
        let rows: Vec<(String, Option<String>, i64)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT t.department_code, a.to_value, COUNT(*) FROM audit_log a \
                 JOIN tickets t ON t.id = a.ticket_id \
                 WHERE a.action = 'escalated' AND a.at >= $1 \
                 GROUP BY t.department_code, a.to_value ORDER BY t.department_code, a.to_value",
            )
            .bind(to_millis(since))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(department, to, count)| {
                let level = to?.strip_prefix('L')?.parse::<u8>().ok()?;
                Some((department, level, count_from_sql(count)))
            })
            .collect())
    }

    /// The headline figures per department ("disposal and satisfaction rates per department"),
    /// ordered by department code; departments without tickets are left out. One grouped query:
    /// counts per (department, status) with the overdue ones (open, due before `now`) alongside.
    pub async fn department_report(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<DepartmentFigures>, StoreError> {
        let sql = format!(
            "SELECT d.code, d.name, t.status, COUNT(*), \
             SUM(CASE WHEN t.status IN {OPEN_STATUSES_SQL} AND t.due_at < $1 THEN 1 ELSE 0 END) \
             FROM tickets t JOIN departments d ON d.code = t.department_code \
             GROUP BY d.code, d.name, t.status ORDER BY d.code, t.status"
        );
        let rows: Vec<(String, String, String, i64, i64)> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(to_millis(now))
                .fetch_all(pool)
                .await
        })?;
        let mut report: Vec<DepartmentFigures> = Vec::new();
        // Rows arrive grouped by department; gather each department's rows, then build its figures.
        let mut current: Option<DepartmentRows> = None;
        for (code, name, status, count, overdue) in rows {
            match &mut current {
                Some(rows) if rows.code == code => {
                    rows.statuses.push((status, count));
                    rows.overdue += count_from_sql(overdue);
                }
                _ => {
                    if let Some(done) = current.take() {
                        report.push(done.into_figures()?);
                    }
                    current = Some(DepartmentRows {
                        code,
                        name,
                        statuses: vec![(status, count)],
                        overdue: count_from_sql(overdue),
                    });
                }
            }
        }
        if let Some(done) = current {
            report.push(done.into_figures()?);
        }
        Ok(report)
    }

    // ----- changing -----------------------------------------------------------------------------

    /// Moves a ticket to `to` if the lifecycle allows it.
    pub async fn change_status(
        &self,
        number: ComplaintNumber,
        to: TicketStatus,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        self.mutate(
            number,
            |t| {
                if !t.status.can_become(to) {
                    return Err(invalid_transition(t.status, to));
                }
                let mut m = Mutation::default();
                m.set
                    .push(("status", BindValue::Text(Some(to.to_string()))));
                if to == TicketStatus::Resolved {
                    // The citizen is asked whether it is: a confirmation call for this resolution.
                    m.confirmation = Some(ConfirmationWrite::Schedule {
                        round: i64::from(t.reopen_count) + 1,
                    });
                } else if t.status == TicketStatus::Resolved {
                    m.confirmation = Some(ConfirmationWrite::CancelOpen);
                }
                if to == TicketStatus::Reopened {
                    m.set.push((
                        "reopen_count",
                        BindValue::Int(Some(i64::from(t.reopen_count) + 1)),
                    ));
                    m.set.push(("feedback_satisfied", BindValue::Int(None)));
                    m.set.push(("feedback_reason", BindValue::Text(None)));
                }
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: "status",
                    from_value: Some(t.status.to_string()),
                    to_value: Some(to.to_string()),
                    reason: reason.map(str::to_owned),
                });
                m.events.push(EventDraft::status(t, to, reason, at_ms)?);
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Assigns the ticket to an officer named by free text, no officer id (an earlier build's
    /// way, kept for imports and tests; the API assigns by id: [`Store::assign_officer`]).
    /// registered/reopened → assigned; re-assigning keeps the status.
    pub async fn assign(
        &self,
        number: ComplaintNumber,
        officer: &str,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        self.assign_to(number, None, officer, actor, reason, now)
            .await
    }

    /// Assigns the ticket to `officer` (shown by that name), officer `officer_id` if known.
    async fn assign_to(
        &self,
        number: ComplaintNumber,
        officer_id: Option<i64>,
        officer: &str,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        self.mutate(
            number,
            |t| {
                let Some(next) = t.status.after_assign() else {
                    return Err(StoreError::NotAllowedNow(format!(
                        "a {} ticket cannot be assigned; reopen it first",
                        t.status
                    )));
                };
                let mut m = Mutation::default();
                m.set
                    .push(("assigned_to", BindValue::Text(Some(officer.to_owned()))));
                m.set.push(("officer_id", BindValue::Int(officer_id)));
                m.set
                    .push(("status", BindValue::Text(Some(next.to_string()))));
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: "assigned",
                    from_value: t.assigned_to.clone(),
                    to_value: Some(officer.to_owned()),
                    reason: reason.map(str::to_owned),
                });
                if next != t.status {
                    let why = format!("assigned to {officer}");
                    m.events
                        .push(EventDraft::status(t, next, Some(&why), at_ms)?);
                    m.audit.push(AuditRecord {
                        at_ms,
                        actor: actor.to_owned(),
                        action: "status",
                        from_value: Some(t.status.to_string()),
                        to_value: Some(next.to_string()),
                        reason: Some(why),
                    });
                }
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Raises an open ticket one level by hand (a supervisor's decision) and restarts its SLA clock.
    pub async fn escalate(
        &self,
        number: ComplaintNumber,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        let current = self
            .ticket(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        let sla_days = self
            .department(&current.department_code)
            .await?
            .map(|d| d.sla_days)
            .ok_or_else(|| StoreError::UnknownDepartment(current.department_code.clone()))?;
        let officers = self.active_officers_of(&current.department_code).await?;
        self.mutate(
            number,
            |t| {
                if !t.status.is_open() {
                    return Err(StoreError::NotAllowedNow(format!(
                        "a {} ticket is not open and cannot be escalated",
                        t.status
                    )));
                }
                if t.level >= MAX_LEVEL {
                    return Err(StoreError::NotAllowedNow(format!(
                        "the ticket is already at the top level L{MAX_LEVEL}"
                    )));
                }
                let due_ms = at_ms + i64::from(sla_days) * DAY_MS;
                let mut m = Mutation::default();
                m.set
                    .push(("level", BindValue::Int(Some(i64::from(t.level) + 1))));
                m.set.push(("due_at", BindValue::Int(Some(due_ms))));
                m.events
                    .push(EventDraft::escalated(t, due_ms, reason, at_ms)?);
                officers::escalation_assignment(&officers, t, t.level + 1, &mut m);
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: "escalated",
                    from_value: Some(format!("L{}", t.level)),
                    to_value: Some(format!("L{}", t.level + 1)),
                    reason: Some(reason.to_owned()),
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Records the citizen's feedback on a resolved ticket, closing it satisfied or not satisfied.
    pub async fn feedback(
        &self,
        number: ComplaintNumber,
        satisfied: bool,
        reason: Option<FeedbackReason>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        self.mutate(
            number,
            |t| {
                if t.status != TicketStatus::Resolved {
                    return Err(StoreError::NotAllowedNow(format!(
                        "feedback is taken only on resolved tickets; this one is {}",
                        t.status
                    )));
                }
                let to = if satisfied {
                    TicketStatus::ClosedSatisfied
                } else {
                    TicketStatus::ClosedUnsatisfied
                };
                // The citizen has spoken: no confirmation call is needed any more.
                let mut m = Mutation {
                    confirmation: Some(ConfirmationWrite::CancelOpen),
                    ..Mutation::default()
                };
                m.set
                    .push(("status", BindValue::Text(Some(to.to_string()))));
                m.set.push((
                    "feedback_satisfied",
                    BindValue::Int(Some(i64::from(satisfied))),
                ));
                m.set.push((
                    "feedback_reason",
                    BindValue::Text(reason.map(|r| r.to_string())),
                ));
                let why = reason.map(|r| r.to_string());
                m.events
                    .push(EventDraft::status(t, to, why.as_deref(), at_ms)?);
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: "feedback",
                    from_value: Some(t.status.to_string()),
                    to_value: Some(to.to_string()),
                    reason: reason.map(|r| r.to_string()),
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Marks an after-hours complaint's call-back done, with its outcome (and the agent's words):
    /// an audit entry `called_back`, after which the ticket leaves the call-back list
    /// ([`TicketFilter::callback_due`]). Refused for a ticket not filed for a call-back, and for
    /// one already marked.
    pub async fn called_back(
        &self,
        number: ComplaintNumber,
        outcome: CallbackOutcome,
        note: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        let done = self.audit_trail(number).await?;
        if let Some(earlier) = done.iter().find(|e| e.action == CALLED_BACK) {
            return Err(StoreError::NotAllowedNow(format!(
                "ticket {number} was marked called back already (by {})",
                earlier.actor
            )));
        }
        self.mutate(
            number,
            |t| {
                if !t.after_hours {
                    return Err(StoreError::NotAllowedNow(format!(
                        "ticket {number} was not filed for a call-back"
                    )));
                }
                let mut m = Mutation::default();
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: CALLED_BACK,
                    from_value: None,
                    to_value: Some(outcome.as_str().to_owned()),
                    reason: note.map(str::to_owned),
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Adds a note (and an audit entry saying so).
    pub async fn add_note(
        &self,
        number: ComplaintNumber,
        author: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Note, StoreError> {
        let at_ms = to_millis(now);
        let (id, _, _) = self
            .ticket_row(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        let audit = AuditRecord {
            at_ms,
            actor: author.to_owned(),
            action: "note",
            from_value: None,
            to_value: None,
            reason: Some(text.chars().take(200).collect()),
        };
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            sqlx::query("INSERT INTO notes (ticket_id, at, author, text) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(at_ms)
                .bind(author)
                .bind(text)
                .execute(&mut *tx)
                .await?;
            insert_audit!(tx, id, &audit)?;
        }))?;
        Ok(Note {
            at: from_millis(at_ms),
            author: author.to_owned(),
            text: text.to_owned(),
        })
    }

    /// Attaches a recording to a ticket filed without one (its audio could not be fetched or kept when
    /// the complaint was filed, and was found on Asterisk later). A ticket that has one keeps it.
    pub async fn attach_recording(
        &self,
        number: ComplaintNumber,
        recording: &RecordingInfo,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        self.mutate(
            number,
            |t| {
                if t.recording.is_some() {
                    return Err(StoreError::NotAllowedNow(
                        "the ticket has its recording already".to_owned(),
                    ));
                }
                let mut m = Mutation::default();
                m.set_recording(Some(recording));
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: "recording_attached",
                    from_value: None,
                    to_value: Some(recording.file_name.clone()),
                    reason: Some("found on Asterisk after the complaint was filed".to_owned()),
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Tickets in `status` unchanged since before `cutoff` that still hold a recording (at most `limit`):
    /// what the recordings retention deletes next.
    pub async fn recordings_past(
        &self,
        status: TicketStatus,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ComplaintNumber, String)>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT number, recording_file FROM tickets WHERE status = $1 AND updated_at < $2 \
                 AND recording_file IS NOT NULL ORDER BY updated_at LIMIT $3",
            )
            .bind(status.to_string())
            .bind(to_millis(cutoff))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(number, file)| {
                ComplaintNumber::parse(&number)
                    .map(|n| (n, file))
                    .map_err(|e| StoreError::CorruptRow(format!("ticket number {number}: {e}")))
            })
            .collect()
    }

    /// Forgets a ticket's recording (its file is deleted by the caller): the retention period is over.
    /// The audit trail says when and why; the rest of the ticket stays.
    pub async fn forget_recording(
        &self,
        number: ComplaintNumber,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let at_ms = to_millis(now);
        self.mutate(
            number,
            |t| {
                let Some(recording) = &t.recording else {
                    return Err(StoreError::NotAllowedNow(
                        "the ticket holds no recording".to_owned(),
                    ));
                };
                let mut m = Mutation::default();
                m.set_recording(None);
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: actor.to_owned(),
                    action: "recording_deleted",
                    from_value: Some(recording.file_name.clone()),
                    to_value: None,
                    reason: Some(reason.chars().take(200).collect()),
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// Writes an audit entry that changes nothing else, e.g. a refused attempt at feedback: who tried,
    /// what was refused and why.
    pub async fn record_refusal(
        &self,
        number: ComplaintNumber,
        actor: &str,
        action: &'static str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (id, _, _) = self
            .ticket_row(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        let audit = AuditRecord {
            at_ms: to_millis(now),
            actor: actor.to_owned(),
            action,
            from_value: None,
            to_value: None,
            reason: Some(reason.chars().take(200).collect()),
        };
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            insert_audit!(tx, id, &audit)?;
        }))?;
        Ok(())
    }

    /// The escalation job: every open ticket past its due date goes up one level (to at most L4), gets
    /// a fresh due date from its department's SLA, and an audit entry saying why. Safe to run on
    /// several nodes at once: each raise is conditional on the row version it read.
    /// Returns the tickets raised, with their new level.
    pub async fn escalate_overdue(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ComplaintNumber, u8)>, StoreError> {
        let now_ms = to_millis(now);
        let mut raised = Vec::new();
        loop {
            let rows: Vec<TicketRow> = on_pool!(self, |pool| {
                sqlx::query_as(&format!(
                    "{TICKET_SELECT} WHERE t.status IN {OPEN_STATUSES_SQL} AND t.due_at < $1 \
                     AND t.level < $2 ORDER BY t.due_at LIMIT 500"
                ))
                .bind(now_ms)
                .bind(i64::from(MAX_LEVEL))
                .fetch_all(pool)
                .await
            })?;
            if rows.is_empty() {
                break;
            }
            let sla: std::collections::HashMap<String, i64> = self
                .departments()
                .await?
                .into_iter()
                .map(|d| (d.code, i64::from(d.sla_days)))
                .collect();
            let mut candidates = Vec::with_capacity(rows.len());
            for row in rows {
                let (id, version, ticket) = row.into_ticket()?;
                let sla_days = sla
                    .get(&ticket.department_code)
                    .copied()
                    .ok_or_else(|| StoreError::UnknownDepartment(ticket.department_code.clone()))?;
                candidates.push((id, version, ticket, sla_days));
            }
            let mut progressed = false;
            on_pool!(self, |pool| transaction!(pool, None, |tx| {
                for (id, version, ticket, sla_days) in &candidates {
                    let due_ms = now_ms + sla_days * DAY_MS;
                    let done = sqlx::query(&format!(
                        "UPDATE tickets SET level = level + 1, due_at = $1, updated_at = $2, \
                         version = version + 1, {} WHERE id = $3 AND version = $4",
                        officers::escalation_officer_sql("tickets.level + 1")
                    ))
                    .bind(due_ms)
                    .bind(now_ms)
                    .bind(*id)
                    .bind(*version)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        continue;
                    }
                    progressed = true;
                    let level = ticket.level;
                    let reason = format!(
                        "overdue: due {} passed with no resolution (SLA {sla_days} days)",
                        ticket.due_at.to_rfc3339()
                    );
                    let event = EventDraft::escalated(ticket, due_ms, &reason, now_ms)?;
                    let audit = AuditRecord {
                        at_ms: now_ms,
                        actor: "system:escalation".to_owned(),
                        action: "escalated",
                        from_value: Some(format!("L{level}")),
                        to_value: Some(format!("L{}", level + 1)),
                        reason: Some(reason),
                    };
                    insert_audit!(tx, *id, &audit)?;
                    insert_event!(tx, *id, &event)?;
                    raised.push((ticket.number, level + 1));
                }
            }))?;
            if !progressed {
                // Another node raised every candidate we saw between our read and our write; the
                // next pass re-reads them.
                continue;
            }
        }
        Ok(raised)
    }

    /// Reads a ticket, lets `change` decide what to set, writes it with its audit entries — all
    /// conditional on the row version read, so a concurrent change is reported, never lost.
    async fn mutate<F>(
        &self,
        number: ComplaintNumber,
        change: F,
        at_ms: i64,
    ) -> Result<Ticket, StoreError>
    where
        F: FnOnce(&Ticket) -> Result<Mutation, StoreError>,
    {
        let (id, version, ticket) = self
            .ticket_row(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        let mutation = change(&ticket)?;
        let mut sql = String::from("UPDATE tickets SET ");
        let mut binds: Vec<BindValue> = Vec::new();
        for (column, value) in mutation.set {
            binds.push(value);
            sql.push_str(&format!("{column} = ${}, ", binds.len()));
        }
        binds.push(BindValue::Int(Some(at_ms)));
        sql.push_str(&format!(
            "updated_at = ${}, version = version + 1",
            binds.len()
        ));
        binds.push(BindValue::Int(Some(id)));
        sql.push_str(&format!(" WHERE id = ${}", binds.len()));
        binds.push(BindValue::Int(Some(version)));
        sql.push_str(&format!(" AND version = ${}", binds.len()));
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let done = bind_all!(sqlx::query(&sql), binds)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::ConcurrentUpdate);
            }
            for entry in &mutation.audit {
                insert_audit!(tx, id, entry)?;
            }
            for event in &mutation.events {
                insert_event!(tx, id, event)?;
            }
            if let Some(write) = &mutation.confirmation {
                write_confirmation!(tx, id, write, at_ms);
            }
        }))?;
        self.ticket(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))
    }
}

/// Whether a connection coming back to its pool may be handed out again: not if sqlx still counts
/// it as inside a transaction (a failed `ROLLBACK` leaves it so; see `transaction!`). Closing it
/// ends whatever SQLite or PostgreSQL still holds open for it.
fn reusable<C: sqlx::Connection>(conn: &C) -> bool {
    let idle = !conn.is_in_transaction();
    if !idle {
        tracing::warn!("closing a database connection left inside a transaction");
    }
    idle
}

/// The driver error if `err` is SQLite's BUSY or LOCKED (primary result codes 5 and 6: another
/// connection holds the lock), else `err` back.
fn sqlite_lock_error(err: StoreError) -> Result<sqlx::Error, StoreError> {
    let locked = |source: &sqlx::Error| match source {
        sqlx::Error::Database(db)
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() =>
        {
            db.code()
                .and_then(|code| code.parse::<i64>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        _ => false,
    };
    match err {
        StoreError::Unavailable(source) | StoreError::Database(source) if locked(&source) => {
            Ok(source)
        }
        StoreError::Migration { source, .. } if locked(&source) => Ok(source),
        other => Err(other),
    }
}

/// `PRAGMA max_page_count` value meaning "no cap" (SQLite lowers it to its compile-time maximum).
const UNLIMITED_PAGES: u64 = 4_294_967_294;

/// Applies [`Store::limit_sqlite_pages`]'s cap to a connection; `0` (never set) does nothing.
async fn apply_page_limit(
    conn: &mut sqlx::SqliteConnection,
    pages: u64,
) -> Result<(), sqlx::Error> {
    if pages != 0 {
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The "created" audit entry's reason: the call, and any trouble keeping its recording.
fn created_reason(record: &TicketRecord) -> Option<String> {
    let call = record.call_id.as_ref().map(|c| format!("call {c}"));
    match (call, &record.evidence_problem) {
        (Some(call), Some(problem)) => Some(format!("{call}; recording not kept: {problem}")),
        (None, Some(problem)) => Some(format!("recording not kept: {problem}")),
        (call, None) => call,
    }
}

fn department_from_row(
    (code, name, name_hi, sla_days): (String, String, String, i64),
) -> Department {
    Department {
        code,
        name,
        name_hi,
        sla_days: u32::try_from(sla_days).unwrap_or(0),
    }
}

/// Events in one multi-row insert: 8 parameters each, well under SQLite's 32766 and PostgreSQL's
/// 65535 bound parameters.
const EVENTS_PER_INSERT: usize = 1000;

/// A new ticket's `ticket.registered` event.
fn registered_event(
    record: &TicketRecord,
    departments: &[(String, String, i64)],
) -> Result<EventDraft, StoreError> {
    let created_ms = to_millis(record.created_at);
    let (name, sla_days) = departments
        .iter()
        .find(|(code, _, _)| *code == record.department_code)
        .map(|(_, name, sla)| (name.clone(), *sla))
        .ok_or_else(|| StoreError::UnknownDepartment(record.department_code.clone()))?;
    let summary = TicketSummary {
        number: record.number.to_string(),
        status: TicketStatus::Registered,
        level: 1,
        language: record.language.clone(),
        department_code: record.department_code.clone(),
        department_name: name,
        due_at: from_millis(created_ms + sla_days * DAY_MS),
    };
    let change = Change {
        from: None,
        to: TicketStatus::Registered.to_string(),
        reason: None,
    };
    EventDraft::new(
        EventKind::Registered,
        summary,
        &record.caller_number,
        change,
        created_ms,
    )
}

/// One `INSERT INTO outbox_events … VALUES (…), (…)` for many events.
fn multi_row_event_insert(events: &[(i64, EventDraft)]) -> (String, Vec<BindValue>) {
    let mut sql = String::from(
        "INSERT INTO outbox_events (id, kind, ticket_id, ticket_number, caller_number, language, \
         payload, occurred_at) VALUES ",
    );
    let mut binds = Vec::with_capacity(events.len() * 8);
    for (i, (ticket_id, draft)) in events.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let params: Vec<String> = (1..=8).map(|k| format!("${}", i * 8 + k)).collect();
        sql.push_str(&format!("({})", params.join(", ")));
        binds.push(BindValue::Text(Some(draft.payload.id.clone())));
        binds.push(BindValue::Text(Some(
            draft.payload.kind.as_str().to_owned(),
        )));
        binds.push(BindValue::Int(Some(*ticket_id)));
        binds.push(BindValue::Text(Some(draft.payload.ticket.number.clone())));
        binds.push(BindValue::Text(Some(draft.caller_number.clone())));
        binds.push(BindValue::Text(Some(draft.payload.ticket.language.clone())));
        binds.push(BindValue::Text(Some(draft.json.clone())));
        binds.push(BindValue::Int(Some(to_millis(draft.payload.occurred_at))));
    }
    (sql, binds)
}

/// One `INSERT INTO audit_log … VALUES (…), (…)` for many entries.
fn multi_row_audit_insert(entries: &[(i64, AuditRecord)]) -> (String, Vec<BindValue>) {
    let mut sql = String::from(
        "INSERT INTO audit_log (ticket_id, at, actor, action, from_value, to_value, reason) VALUES ",
    );
    let mut binds = Vec::with_capacity(entries.len() * 7);
    for (i, (ticket_id, entry)) in entries.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let base = i * 7;
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            base + 1,
            base + 2,
            base + 3,
            base + 4,
            base + 5,
            base + 6,
            base + 7
        ));
        binds.push(BindValue::Int(Some(*ticket_id)));
        binds.push(BindValue::Int(Some(entry.at_ms)));
        binds.push(BindValue::Text(Some(entry.actor.clone())));
        binds.push(BindValue::Text(Some(entry.action.to_owned())));
        binds.push(BindValue::Text(entry.from_value.clone()));
        binds.push(BindValue::Text(entry.to_value.clone()));
        binds.push(BindValue::Text(entry.reason.clone()));
    }
    (sql, binds)
}

fn invalid_transition(from: TicketStatus, to: TicketStatus) -> StoreError {
    let allowed: Vec<String> = from.next_statuses().iter().map(|s| s.to_string()).collect();
    StoreError::InvalidTransition {
        from,
        to,
        allowed: if allowed.is_empty() {
            "none (final)".into()
        } else {
            allowed.join(", ")
        },
    }
}

/// A `COUNT`/`SUM` from SQL as an unsigned count (they are never negative).
fn count_from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `(status, count)` rows of a `GROUP BY status` as typed counts, every status listed (zero when
/// absent) in lifecycle order. A status this build does not know is a corrupt row.
fn status_counts(rows: Vec<(String, i64)>) -> Result<Vec<(TicketStatus, u64)>, StoreError> {
    let mut counts: Vec<(TicketStatus, u64)> = TicketStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for (name, count) in rows {
        let status = TicketStatus::from_str(&name)
            .map_err(|e| corrupt(format!("ticket status in the figures: {e}")))?;
        if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
            slot.1 += count_from_sql(count);
        }
    }
    Ok(counts)
}

/// One department's rows of the grouped report query, gathered before its figures are built.
struct DepartmentRows {
    code: String,
    name: String,
    statuses: Vec<(String, i64)>,
    overdue: u64,
}

impl DepartmentRows {
    fn into_figures(self) -> Result<DepartmentFigures, StoreError> {
        let counts = status_counts(self.statuses)?;
        Ok(DepartmentFigures::new(
            self.code,
            self.name,
            &counts,
            self.overdue,
        ))
    }
}

fn filter_sql(filter: &TicketFilter) -> (String, Vec<BindValue>) {
    let text = |v: String| BindValue::Text(Some(v));
    let int = |v: i64| BindValue::Int(Some(v));
    let overdue_clause = format!("t.status IN {OPEN_STATUSES_SQL} AND t.due_at < ?");
    // (clause with `?` for its one parameter, the parameter if the filter asks for it)
    let conditions: [(&str, Option<BindValue>); 7] = [
        ("t.status = ?", filter.status.map(|s| text(s.to_string()))),
        (
            "t.department_code = ?",
            filter.department_code.clone().map(text),
        ),
        ("t.level = ?", filter.level.map(|l| int(i64::from(l)))),
        (
            "t.caller_number = ?",
            filter.caller_number.clone().map(text),
        ),
        (
            "t.created_at >= ?",
            filter.created_from.map(|at| int(to_millis(at))),
        ),
        (
            "t.created_at < ?",
            filter.created_to.map(|at| int(to_millis(at))),
        ),
        (
            overdue_clause.as_str(),
            filter.overdue_at.map(|at| int(to_millis(at))),
        ),
    ];
    let mut clauses: Vec<String> = Vec::new();
    let mut binds: Vec<BindValue> = Vec::new();
    for (clause, value) in conditions {
        if let Some(value) = value {
            binds.push(value);
            clauses.push(clause.replace('?', &format!("${}", binds.len())));
        }
    }
    if let Some(flag) = filter.after_hours {
        binds.push(int(i64::from(flag)));
        clauses.push(format!("t.after_hours = ${}", binds.len()));
    }
    if filter.callback_due {
        clauses.push(format!(
            "t.after_hours = 1 AND t.status IN {OPEN_STATUSES_SQL} AND NOT EXISTS \
             (SELECT 1 FROM audit_log a WHERE a.ticket_id = t.id AND a.action = '{CALLED_BACK}')"
        ));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, binds)
}

/// A page as large as any list: what the whole-list readers (the CLI, the service) ask for.
const EVERYTHING: Page = Page {
    limit: u32::MAX,
    offset: 0,
};

/// A page's `LIMIT` and `OFFSET` binds.
fn page_binds(page: Page) -> (i64, i64) {
    (
        i64::from(page.limit),
        i64::try_from(page.offset).unwrap_or(i64::MAX),
    )
}
