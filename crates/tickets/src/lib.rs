//! The 1100 ticket system: complaint numbers with a check digit, the ticket store (SQLite or
//! PostgreSQL) with lifecycle, escalation and audit trail, the fsync'd journal that keeps complaints
//! through a database outage, and the `/api/v1` HTTP API with its accounts, sessions and tokens.
//!
//! The engine uses [`TicketService`]; the server mounts [`api::router`]; the command line calls
//! [`cli`] and [`bench`](mod@bench). Nothing here knows ARI or the IVR.

pub mod accounts;
pub mod allocator;
pub mod api;
pub mod bench;
mod blocking;
pub mod caller;
pub mod cli;
pub mod clock;
pub mod complainant;
pub mod departments;
pub mod error;
mod journal;
pub mod model;
pub mod number;
pub mod officers;
pub mod outbox;
pub mod service;
pub mod store;
pub mod tokens;
pub mod validate;

pub use caller::CallerId;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{StoreError, TicketError};
pub use model::{
    AuditEntry, CallbackOutcome, ConfirmationState, Department, DepartmentFigures, FeedbackReason,
    HeadlineFigures, Note, Page, RecordingInfo, Role, Ticket, TicketFilter, TicketSource,
    TicketStats, TicketStatus,
};
pub use number::{ComplaintNumber, ComplaintNumberError, is_valid_complaint_number};
pub use officers::{Milestone, Officer, OfficerInput, ReminderChannel, ReminderPolicy};
pub use service::{
    ApiClient, Filed, NewCallTicket, NewTicket, PhoneFeedback, Recording, RecordingAudio,
    RecordingRetention, ReplayReport, ServiceConfig, TicketService, TicketStatusView,
};
pub use store::{
    BackendKind, Confirmation, PoolConnections, Reminder, Store, StoreOptions, TicketRecord,
};
