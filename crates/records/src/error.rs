//! Errors of the record store, journal and writer.

use std::path::PathBuf;

/// What went wrong storing or reading records.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The URL names no supported database.
    #[error("unsupported database URL (want sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// The database refused or could not be reached.
    #[error("records database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the records migrations failed.
    #[error("records migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row cannot be read back (it was written by something else, or damaged).
    #[error("stored record {id}: {message}")]
    BadRow { id: String, message: String },
    /// The journal file could not be read or written.
    #[error("records journal {path}: {source}")]
    Journal {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A complete line of the journal is not a record (the file is kept for an operator).
    #[error("records journal {path} line {line}: {message}")]
    JournalCorrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The writer task has stopped.
    #[error("the records writer has stopped")]
    Stopped,
}
