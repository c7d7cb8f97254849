//! The call centre's decisions, without I/O: which agent rings for which caller, when a caller hears
//! their position, is offered a call-back or overflows, and what every agent's state is.
//!
//! - [`config`]: the queues file (`ivr-scripts/acd/queues.toml`), raw → checked [`Queues`], every
//!   problem at once with file:line:col.
//! - [`agent`]: an agent's skills and state, and the transitions between states.

pub mod agent;
pub mod config;
mod ids;

pub use agent::{
    Agent, AgentError, AgentState, Helpline, Language, Need, PauseReason, Pending, Skills,
};
pub use config::{Overflow, Problem, QueueConfig, Queues, Strategy, check};
pub use ids::{AgentId, AttemptId, CallId};

/// The time the driver passes in: wall-clock UTC, so that it means the same after a restart (a caller's
/// join time, an agent's state since). The ACD never reads a clock; a clock that steps back makes
/// durations 0, never negative or a panic.
pub type Time = chrono::DateTime<chrono::Utc>;
