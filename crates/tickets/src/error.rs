//! The crate's error types: [`StoreError`] for the database layer, [`TicketError`] for the service the
//! engine and the API call. Each says what went wrong in words an operator can act on; the API maps
//! them to HTTP statuses in one place (`api::ApiError`).

use std::path::PathBuf;

use crate::model::TicketStatus;
use crate::number::ComplaintNumber;

/// What the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is not answering (connection refused, pool timeout, locked
    /// by another process for too long, disk I/O). Creating a ticket falls back to the journal.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// SQLite stayed locked by another connection (another process, a backup, a node starting at
    /// the same time) through every attempt to open and migrate it (`StoreOptions::sqlite_lock_wait`).
    #[error(
        "the SQLite database stayed locked by another connection through {attempts} attempts over {waited:?}; is another helpline process or a backup holding it? last error: {source}"
    )]
    Locked {
        attempts: u32,
        waited: std::time::Duration,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH?mode=rwc or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: String,
        #[source]
        source: sqlx::Error,
    },
    /// The applied migrations do not fit this build's (a changed file's checksum, a migration left
    /// half-applied).
    #[error("migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("the database has migration {0}, newer than this build knows; upgrade helpline")]
    SchemaTooNew(i64),
    #[error("department data file line {line}: {message}")]
    DepartmentData { line: usize, message: String },
    #[error("no ticket {0}")]
    TicketNotFound(ComplaintNumber),
    #[error("no notification delivery {0}")]
    DeliveryNotFound(i64),
    #[error("no department with code {0:?}")]
    UnknownDepartment(String),
    #[error("a ticket that is {from} cannot become {to}; allowed next: {allowed}")]
    InvalidTransition {
        from: TicketStatus,
        to: TicketStatus,
        allowed: String,
    },
    #[error("{0}")]
    NotAllowedNow(String),
    #[error("the ticket was changed by someone else at the same time; reload and try again")]
    ConcurrentUpdate,
    #[error("stored row is corrupt: {0}")]
    CorruptRow(String),
    #[error("number space exhausted: no complaint number blocks left")]
    NumberSpaceExhausted,
}

impl StoreError {
    /// Sorts a driver error into "cannot reach the database" (worth journaling and retrying later)
    /// versus everything else (a bug or bad data; retrying will not help).
    pub(crate) fn from_sqlx(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable(err)
        } else {
            StoreError::Database(err)
        }
    }

    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Locked { .. })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from_sqlx(err)
    }
}

fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if let Ok(sqlite_code) = code.parse::<i64>() {
                // SQLite primary result codes (low byte of the extended code): BUSY, LOCKED,
                // READONLY, IOERR, FULL, CANTOPEN — the file is there but cannot be written now.
                matches!(sqlite_code & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
            } else {
                // PostgreSQL: class 08 connection exception, 53 insufficient resources,
                // 57P01..57P03 shutdown / cannot connect now.
                code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
            }
        }
        _ => false,
    }
}

/// What creating, reading or changing a ticket through [`crate::TicketService`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("journal {path}: {source}")]
    Journal {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("journal {path} line {line} is corrupt: {message}")]
    JournalCorrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("recording {path}: {source}")]
    Recording {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("recording SHA-256 mismatch: engine said {expected}, file has {actual}")]
    RecordingChecksum { expected: String, actual: String },
    #[error(
        "no complaint numbers left in this node's reserved blocks and the database is unreachable"
    )]
    NumbersExhausted,
    #[error("the ticket writer has shut down")]
    WriterGone,
    /// File work sent to the blocking pool (a journal append, a number block taken) did not come
    /// back: it panicked, or the runtime is shutting down. Nothing was acknowledged.
    #[error("journal file work did not finish: {0}")]
    FileTask(String),
    /// A journal replay wrote its tickets, but reading them back on a connection of its own did
    /// not find them all committed; the journal is kept for the next replay.
    #[error(
        "journal replay not committed: {missing} of {replayed} tickets (first {first}) are not in the database; the journal is kept"
    )]
    ReplayNotCommitted {
        missing: usize,
        replayed: usize,
        first: ComplaintNumber,
    },
}

impl TicketError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        TicketError::Invalid {
            field,
            message: message.into(),
        }
    }
}
