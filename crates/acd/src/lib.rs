//! The call centre's decisions, without I/O: which agent rings for which caller, when a caller hears
//! their position, is offered a call-back or overflows, and what every agent's state is.
//!
//! - [`config`]: the queues file (`ivr-scripts/acd/queues.toml`), raw → checked [`Queues`], every
//!   problem at once with file:line:col.
//! - [`agent`]: an agent's skills and state, and the transitions between states.
//! - [`acd`](mod@acd): the state machine [`Acd`]: [`Input`] in, [`Action`]s out, `now` passed in.
//! - [`log`]: the queue log events, in the vocabulary of `records::queue::QueueEvent`.
//! - [`snapshot`]: the wallboard's [`Snapshot`] (service level, average speed of answer, agents'
//!   states), and the [`Durable`] state an engine restart keeps, with [`Acd::restore`].
//! - [`bench`](mod@bench): 300 agents and 2,000 callers waiting, the decision time and memory per caller
//!   (`cargo bench -p acd`, `helpline bench acd`).
//!
//! Driving it (what the async driver over ARI does, minus the I/O):
//!
//! ```
//! use std::sync::Arc;
//! use acd::{Acd, Action, AgentId, CallId, CallInfo, Helpline, Input, Join, Language, Skills};
//!
//! let queues = acd::check("[queue.grievance]\nhelpline = \"1100\"\n", "queues.toml").expect("valid");
//! let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+05:30").unwrap().to_utc();
//! let mut acd = Acd::new(Arc::new(queues), now);
//! acd.handle(Input::LogIn {
//!     agent: AgentId::new("asha"),
//!     phone: "PJSIP/agent-101".into(),
//!     skills: Skills::new([Language::Hi], [], [Helpline::Grievance]),
//! }, now).unwrap();
//! let actions = acd.handle(Input::Join(Join {
//!     call: CallId::new("1795921121.47"),
//!     queue: "grievance".into(),
//!     info: CallInfo {
//!         number: "+919800000001".into(),
//!         language: Language::Hi,
//!         department: None,
//!         helpline: Helpline::Grievance,
//!         open_complaint: false,
//!         complaints: vec![],
//!     },
//!     joined_at: None,
//! }), now).unwrap();
//! // The driver originates the agent's phone with the attempt's id as the channel id…
//! let Some(Action::RingAgent { attempt, phone, .. }) =
//!     actions.iter().find(|a| matches!(a, Action::RingAgent { .. })) else { panic!() };
//! assert_eq!(phone, "PJSIP/agent-101");
//! // …and reports the answer: the caller and the agent are bridged.
//! let actions = acd.handle(Input::RingAnswered { attempt: *attempt }, now).unwrap();
//! assert!(actions.iter().any(|a| matches!(a, Action::Connect { .. })));
//! ```

pub mod acd;
pub mod agent;
pub mod bench;
pub mod config;
mod ids;
pub mod log;
pub mod snapshot;

pub use agent::{
    Agent, AgentError, AgentState, Helpline, Language, Need, PauseReason, Pending, Skills,
};
pub use config::{Overflow, Problem, QueueConfig, Queues, Strategy, check};
pub use ids::{AgentId, AttemptId, CallId};
pub use log::QueueLog;
pub use snapshot::{AgentSnapshot, Durable, DurableAgent, DurableCall, QueueSnapshot, Snapshot};

pub use crate::acd::{
    Acd, AcdError, Action, CallInfo, CallNowTarget, CallbackOutcome, CallbackSlot, ChangeCause,
    Counters, Input, Join, MoveTarget, OverflowReason, RingFailure, Side,
};

/// The time the driver passes in: wall-clock UTC, so that it means the same after a restart (a caller's
/// join time, an agent's state since). The ACD never reads a clock; a clock that steps back makes
/// durations 0, never negative or a panic.
pub type Time = chrono::DateTime<chrono::Utc>;
