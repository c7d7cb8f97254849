//! The queue log events the ACD writes, in the vocabulary of `records::queue::QueueEvent` (Asterisk's
//! `queue_log`): the same variants, field names and event names, so the driver maps one to the other
//! field by field and `serde_json` reads one as the other. This crate does not depend on `records`,
//! which brings sqlx and tokio with it.
//!
//! Besides Asterisk's core events, what happened to a caller who left a queue without an agent or a
//! hang-up — `EXITWITHTIMEOUT`, `EXITEMPTY`, `JOINEMPTY` and `FULL` — and helpline's own `MOVED` (a
//! supervisor moved a waiting call) and `CALLBACK_FAILED` (a call-back given up): without them a
//! report could not tell an overflowed caller from one still waiting, nor count a call-back never
//! answered against the service level as the wallboard does.

use serde::{Deserialize, Serialize};

use crate::{AgentId, CallId};

/// One queue or agent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueueLog {
    /// A call joined a queue at `position` (1 = first).
    EnterQueue {
        call_id: CallId,
        queue: String,
        position: i64,
    },
    /// An agent was rung and did not answer within `ring_ms` (no answer, busy, unreachable).
    RingNoAnswer {
        call_id: CallId,
        queue: String,
        agent: AgentId,
        ring_ms: i64,
    },
    /// An agent answered after the caller waited `hold_ms`.
    Connect {
        call_id: CallId,
        queue: String,
        agent: AgentId,
        hold_ms: i64,
    },
    /// The agent ended the call.
    CompleteAgent {
        call_id: CallId,
        queue: String,
        agent: AgentId,
        hold_ms: i64,
        talk_ms: i64,
    },
    /// The caller ended the call.
    CompleteCaller {
        call_id: CallId,
        queue: String,
        agent: AgentId,
        hold_ms: i64,
        talk_ms: i64,
    },
    /// The caller gave up waiting at `position` after `wait_ms`.
    Abandon {
        call_id: CallId,
        queue: String,
        position: i64,
        wait_ms: i64,
    },
    /// The agent transferred the call to `destination`.
    Transfer {
        call_id: CallId,
        queue: String,
        agent: AgentId,
        destination: String,
        hold_ms: i64,
        talk_ms: i64,
    },
    /// The caller was offered a call-back instead of waiting.
    CallbackOffered { call_id: CallId, queue: String },
    /// The caller accepted a call-back.
    CallbackAccepted { call_id: CallId, queue: String },
    /// An agent logged in.
    AgentLogin { agent: AgentId },
    /// An agent logged off.
    AgentLogoff { agent: AgentId },
    /// An agent paused, saying why.
    Pause { agent: AgentId, reason: String },
    /// An agent came back from a pause.
    Unpause { agent: AgentId },
    /// An agent finished the wrap-up of a call after `wrapup_ms`.
    Wrapup {
        call_id: CallId,
        queue: String,
        agent: AgentId,
        wrapup_ms: i64,
    },
    /// The caller waited the queue's most (`max_wait_secs`, or the call-back
    /// offer's decision time) and left for the overflow.
    ExitWithTimeout {
        call_id: CallId,
        queue: String,
        position: i64,
        wait_ms: i64,
    },
    /// The last agent who could take the caller went (`leave_when_empty`).
    ExitEmpty {
        call_id: CallId,
        queue: String,
        position: i64,
        wait_ms: i64,
    },
    /// The caller was not let in: no agent who could take them
    /// (`join_when_empty = false`).
    JoinEmpty { call_id: CallId, queue: String },
    /// The caller was not let in: `max_callers` were waiting.
    Full { call_id: CallId, queue: String },
    /// A supervisor moved the waiting call to `destination` (`queue:<name>` or
    /// `agent:<login>`).
    Moved {
        call_id: CallId,
        queue: String,
        destination: String,
    },
    /// A call-back was given up after `attempts` tries to reach the citizen, `wait_ms` after
    /// they joined the queue: a call the queue offered and never answered, so it counts against
    /// the service level as an abandon does.
    CallbackFailed {
        call_id: CallId,
        queue: String,
        attempts: i64,
        wait_ms: i64,
    },
}

impl QueueLog {
    /// The event's name, as `queue_log` spells it (and `records::QueueEvent::name`).
    pub fn name(&self) -> &'static str {
        match self {
            QueueLog::EnterQueue { .. } => "ENTERQUEUE",
            QueueLog::RingNoAnswer { .. } => "RINGNOANSWER",
            QueueLog::Connect { .. } => "CONNECT",
            QueueLog::CompleteAgent { .. } => "COMPLETEAGENT",
            QueueLog::CompleteCaller { .. } => "COMPLETECALLER",
            QueueLog::Abandon { .. } => "ABANDON",
            QueueLog::Transfer { .. } => "TRANSFER",
            QueueLog::CallbackOffered { .. } => "CALLBACK_OFFERED",
            QueueLog::CallbackAccepted { .. } => "CALLBACK_ACCEPTED",
            QueueLog::AgentLogin { .. } => "AGENTLOGIN",
            QueueLog::AgentLogoff { .. } => "AGENTLOGOFF",
            QueueLog::Pause { .. } => "PAUSE",
            QueueLog::Unpause { .. } => "UNPAUSE",
            QueueLog::Wrapup { .. } => "WRAPUP",
            QueueLog::ExitWithTimeout { .. } => "EXITWITHTIMEOUT",
            QueueLog::ExitEmpty { .. } => "EXITEMPTY",
            QueueLog::JoinEmpty { .. } => "JOINEMPTY",
            QueueLog::Full { .. } => "FULL",
            QueueLog::CallbackFailed { .. } => "CALLBACK_FAILED",
            QueueLog::Moved { .. } => "MOVED",
        }
    }

    /// Whether `records::QueueEvent` has this event: every one does (records' tests map each
    /// variant across); an event added here before records has it is marked here, and the driver
    /// drops it rather than failing.
    pub fn in_records(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_as_records_writes_them() {
        let e = QueueLog::RingNoAnswer {
            call_id: CallId::new("c1"),
            queue: "grievance".into(),
            agent: AgentId::new("asha"),
            ring_ms: 20_000,
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "event": "RING_NO_ANSWER", "call_id": "c1", "queue": "grievance",
                "agent": "asha", "ring_ms": 20000
            })
        );
        assert_eq!(e.name(), "RINGNOANSWER");
        assert!(e.in_records());
        let p = QueueLog::Pause {
            agent: AgentId::new("asha"),
            reason: "lunch".into(),
        };
        assert_eq!(p.name(), "PAUSE");
        assert!(
            QueueLog::Full {
                call_id: CallId::new("c"),
                queue: "q".into()
            }
            .in_records()
        );
    }
}
