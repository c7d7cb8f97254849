//! Every call on record: the call records (one per call that reached helpline or that its fallback
//! importer filed), the queue and agent event log (`queue_log` style), and the reports computed from them.
//!
//! The engine builds a [`CallRecord`] as plain data while the call runs and hands it to a [`Recorder`]
//! once, with `try_send`: the [`writer`] task appends batches to an fsync'd [`journal`], writes them to
//! the database ([`RecordStore`], SQLite or PostgreSQL, its own migrations) and trims the journal. Nothing
//! here knows ARI or the IVR's internals. The report's ticket sections ([`escalation`], disposal)
//! come through the ticket store's own queries, not its tables.

pub mod api;
pub mod error;
pub mod escalation;
pub mod journal;
pub mod model;
pub mod queue;
pub mod render;
pub mod report;
pub mod retention;
pub mod store;
pub mod writer;

pub use error::RecordsError;
pub use model::{
    AgentLeg, CallRecord, FALLBACK_CALL_PREFIX, FiledTicket, HungUpBy, MASKED_KEY, Outcome,
    PathStep, mask_number,
};
pub use queue::{QueueEvent, QueueLogEntry};
pub use report::{Granularity, Report, ReportBuilder, ReportSpec};
pub use store::{CallQuery, RecordStore, StoreOptions};
pub use writer::{OnSafe, Recorder, WriterConfig, WriterStats};
