//! The queues, as declared in `queues.toml` (`[defaults]` and one `[queue.NAME]` table each; the
//! format is documented in `ivr-scripts/acd/queues.toml`) and checked by [`check`]: raw values with
//! their spans first (`raw`), then the validated [`Queues`] (`validate`), every problem reported at
//! once as `file:line:col: error: message` with a hint.

use std::collections::HashMap;

use crate::agent::Helpline;

mod problem;
mod raw;
mod validate;

pub use problem::Problem;
pub use validate::{MAX_QUEUES, MAX_QUEUES_BYTES, check};

/// How a queue picks among the available agents who can take a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The agent available the longest.
    LongestIdle,
    /// The next agent (by login name) after the one this queue rang last, wrapping round.
    RoundRobin,
    /// The agent who has answered the fewest calls; the longest idle among equals.
    FewestCalls,
    /// Any of them, from the ACD's own seeded generator.
    Random,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::FewestCalls,
        Strategy::Random,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest_idle",
            Strategy::RoundRobin => "round_robin",
            Strategy::FewestCalls => "fewest_calls",
            Strategy::Random => "random",
        }
    }
}

/// Where a caller goes who cannot wait any longer (or cannot join).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Back to the IVR to record a complaint, as the helpline does today without agents.
    RecordComplaint,
    /// Into another queue (the chain of queues has no cycle: checked).
    Queue(String),
    /// Offer a call-back; a caller who does not take it within `CALLBACK_DECISION_SECS` records a
    /// complaint. Only in a queue with `[queue.NAME.callback]`.
    CallbackOffer,
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Overflow::RecordComplaint => f.write_str("record_complaint"),
            Overflow::Queue(q) => write!(f, "queue:{q}"),
            Overflow::CallbackOffer => f.write_str("callback_offer"),
        }
    }
}

/// The service-level target: `percent` of calls answered within `within_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ServiceLevel {
    pub percent: u32,
    pub within_secs: u32,
    /// Callers who hang up within this many seconds are left out of the service level altogether
    /// (a wrong number, a change of mind: not the call centre's doing).
    pub short_abandon_secs: u32,
}

/// The call-back offer ("press 1 and we will call you back, you keep your place").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallbackConfig {
    /// Offered once after the caller has waited this long.
    pub offer_after_secs: Option<u32>,
    /// A key the caller may press at any time while waiting to take a call-back.
    pub key: Option<char>,
    /// How many times the citizen is called before the call-back is given up.
    pub attempts: u32,
    /// Between those calls.
    pub retry_secs: u32,
}

/// What happens with no agent to take a caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmptyRules {
    /// Let a caller join although no agent with the skills is there (they wait for one, up to the
    /// queue's most wait); otherwise `on_empty` at once.
    pub join_when_empty: bool,
    /// A waiting caller leaves (`on_empty`) when the last agent with the skills goes.
    pub leave_when_empty: bool,
    /// Paused agents count as gone.
    pub paused_is_empty: bool,
    pub on_empty: Overflow,
}

/// One checked queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueConfig {
    pub name: String,
    /// The helpline an agent must take; `None`: the call's own helpline.
    pub helpline: Option<Helpline>,
    /// The call's department must be one of the agent's.
    pub match_department: bool,
    pub strategy: Strategy,
    pub ring_timeout_secs: u32,
    /// A caller is not offered again to an agent who just let it ring out for this long.
    pub retry_secs: u32,
    pub wrap_up_secs: u32,
    /// Ring failures in a row after which an agent is paused with reason `no_answer` (0: never).
    pub auto_pause_after: u32,
    pub service_level: ServiceLevel,
    /// Higher first: an agent shared with other queues takes this queue's callers first.
    pub priority: i32,
    /// Added to `priority` for a caller with an open complaint.
    pub open_complaint_boost: i32,
    pub max_wait_secs: u32,
    pub on_max_wait: Overflow,
    /// The most callers waiting (call-back slots included); past it a caller goes `on_full`.
    pub max_callers: u32,
    pub on_full: Overflow,
    pub callback: Option<CallbackConfig>,
    /// Position and expected wait, at join and then every this many seconds.
    pub announce_every_secs: Option<u32>,
    pub empty: EmptyRules,
}

/// Index of a queue in [`Queues`].
pub(crate) type QueueIx = usize;

/// Every queue, checked: names unique, every `queue:` overflow names a queue, no overflow cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    queues: Vec<QueueConfig>,
    by_name: HashMap<String, QueueIx>,
}

impl Queues {
    /// Only from checked queues (see [`check`]).
    pub(crate) fn from_checked(queues: Vec<QueueConfig>) -> Queues {
        let by_name = queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.name.clone(), i))
            .collect();
        Queues { queues, by_name }
    }

    pub fn get(&self, name: &str) -> Option<&QueueConfig> {
        self.index(name).map(|i| &self.queues[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &QueueConfig> {
        self.queues.iter()
    }

    pub fn len(&self) -> usize {
        self.queues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    pub(crate) fn index(&self, name: &str) -> Option<QueueIx> {
        self.by_name.get(name).copied()
    }

    /// The queue at an index from [`Queues::index`] (or below [`Queues::len`]).
    pub(crate) fn at(&self, ix: QueueIx) -> &QueueConfig {
        &self.queues[ix]
    }
}

/// Queues from a text known to be valid (tests): every problem in the panic message.
#[cfg(test)]
pub(crate) fn checked(text: &str) -> Queues {
    check(text, "test.toml").unwrap_or_else(|problems| {
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("{}", shown.join("\n"))
    })
}
