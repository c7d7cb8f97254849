//! The queue and agent event log, in the spirit of Asterisk's `queue_log`: one row per event, typed here,
//! stored with a few generic columns (`wait_ms`, `duration_ms`, `position`, `info`). Every queue and
//! agent report is recomputed from it, so the ACD writes here and nowhere else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One queue or agent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueueEvent {
    /// A call joined a queue at `position` (1 = first).
    EnterQueue {
        call_id: String,
        queue: String,
        position: i64,
    },
    /// An agent was rung and did not answer within `ring_ms`.
    RingNoAnswer {
        call_id: String,
        queue: String,
        agent: String,
        ring_ms: i64,
    },
    /// An agent answered after the caller waited `hold_ms`.
    Connect {
        call_id: String,
        queue: String,
        agent: String,
        hold_ms: i64,
    },
    /// The agent ended the call.
    CompleteAgent {
        call_id: String,
        queue: String,
        agent: String,
        hold_ms: i64,
        talk_ms: i64,
    },
    /// The caller ended the call.
    CompleteCaller {
        call_id: String,
        queue: String,
        agent: String,
        hold_ms: i64,
        talk_ms: i64,
    },
    /// The caller gave up waiting at `position` after `wait_ms`.
    Abandon {
        call_id: String,
        queue: String,
        position: i64,
        wait_ms: i64,
    },
    /// The agent transferred the call to `destination`.
    Transfer {
        call_id: String,
        queue: String,
        agent: String,
        destination: String,
        hold_ms: i64,
        talk_ms: i64,
    },
    /// The caller was offered a call-back instead of waiting.
    CallbackOffered { call_id: String, queue: String },
    /// The caller accepted a call-back.
    CallbackAccepted { call_id: String, queue: String },
    /// An agent logged in.
    AgentLogin { agent: String },
    /// An agent logged off.
    AgentLogoff { agent: String },
    /// An agent paused, saying why.
    Pause { agent: String, reason: String },
    /// An agent came back from a pause.
    Unpause { agent: String },
    /// An agent finished the wrap-up of a call after `wrapup_ms`.
    Wrapup {
        call_id: String,
        queue: String,
        agent: String,
        wrapup_ms: i64,
    },
    /// The caller waited the queue's most (`max_wait_secs`, or the call-back offer's decision time)
    /// and left it for its overflow after `wait_ms`, at `position`.
    ExitWithTimeout {
        call_id: String,
        queue: String,
        position: i64,
        wait_ms: i64,
    },
    /// The last agent who could take the caller went (`leave_when_empty`): they left it for its
    /// overflow after `wait_ms`, at `position`.
    ExitEmpty {
        call_id: String,
        queue: String,
        position: i64,
        wait_ms: i64,
    },
    /// The caller was not let in: no agent who could take them (`join_when_empty = false`).
    JoinEmpty { call_id: String, queue: String },
    /// The caller was not let in: the queue's `max_callers` were waiting.
    Full { call_id: String, queue: String },
    /// A supervisor moved the waiting call to `destination` (`queue:<name>`, which logs its
    /// ENTERQUEUE there, or `agent:<login>`).
    Moved {
        call_id: String,
        queue: String,
        destination: String,
    },
    /// A call-back was given up: the citizen was not reached in `attempts` tries, `wait_ms` after
    /// they joined the queue. Offered, never answered: it counts against the service level.
    CallbackFailed {
        call_id: String,
        queue: String,
        attempts: i64,
        wait_ms: i64,
    },
}

/// An event with its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLogEntry {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: QueueEvent,
}

/// The stored columns of an event (what the table holds besides `id` and `at`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EventColumns {
    pub event: &'static str,
    pub call_id: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub wait_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub position: Option<i64>,
    pub info: Option<String>,
}

/// A stored row that is not a valid event (an unknown name, a missing column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue log row {id} is not a valid {event} event")]
pub struct BadEventRow {
    pub id: i64,
    pub event: String,
}

impl QueueEvent {
    /// The event's name, as `queue_log` spells it.
    pub fn name(&self) -> &'static str {
        self.columns().event
    }

    /// The call it concerns, if any.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            QueueEvent::EnterQueue { call_id, .. }
            | QueueEvent::RingNoAnswer { call_id, .. }
            | QueueEvent::Connect { call_id, .. }
            | QueueEvent::CompleteAgent { call_id, .. }
            | QueueEvent::CompleteCaller { call_id, .. }
            | QueueEvent::Abandon { call_id, .. }
            | QueueEvent::Transfer { call_id, .. }
            | QueueEvent::CallbackOffered { call_id, .. }
            | QueueEvent::CallbackAccepted { call_id, .. }
            | QueueEvent::Wrapup { call_id, .. }
            | QueueEvent::ExitWithTimeout { call_id, .. }
            | QueueEvent::ExitEmpty { call_id, .. }
            | QueueEvent::JoinEmpty { call_id, .. }
            | QueueEvent::Full { call_id, .. }
            | QueueEvent::Moved { call_id, .. }
            | QueueEvent::CallbackFailed { call_id, .. } => Some(call_id),
            QueueEvent::AgentLogin { .. }
            | QueueEvent::AgentLogoff { .. }
            | QueueEvent::Pause { .. }
            | QueueEvent::Unpause { .. } => None,
        }
    }

    /// The queue it concerns, if any.
    pub fn queue(&self) -> Option<&str> {
        match self {
            QueueEvent::EnterQueue { queue, .. }
            | QueueEvent::RingNoAnswer { queue, .. }
            | QueueEvent::Connect { queue, .. }
            | QueueEvent::CompleteAgent { queue, .. }
            | QueueEvent::CompleteCaller { queue, .. }
            | QueueEvent::Abandon { queue, .. }
            | QueueEvent::Transfer { queue, .. }
            | QueueEvent::CallbackOffered { queue, .. }
            | QueueEvent::CallbackAccepted { queue, .. }
            | QueueEvent::Wrapup { queue, .. }
            | QueueEvent::ExitWithTimeout { queue, .. }
            | QueueEvent::ExitEmpty { queue, .. }
            | QueueEvent::JoinEmpty { queue, .. }
            | QueueEvent::Full { queue, .. }
            | QueueEvent::Moved { queue, .. }
            | QueueEvent::CallbackFailed { queue, .. } => Some(queue),
            QueueEvent::AgentLogin { .. }
            | QueueEvent::AgentLogoff { .. }
            | QueueEvent::Pause { .. }
            | QueueEvent::Unpause { .. } => None,
        }
    }

    /// The agent it concerns, if any.
    pub fn agent(&self) -> Option<&str> {
        match self {
            QueueEvent::RingNoAnswer { agent, .. }
            | QueueEvent::Connect { agent, .. }
            | QueueEvent::CompleteAgent { agent, .. }
            | QueueEvent::CompleteCaller { agent, .. }
            | QueueEvent::Transfer { agent, .. }
            | QueueEvent::AgentLogin { agent }
            | QueueEvent::AgentLogoff { agent }
            | QueueEvent::Pause { agent, .. }
            | QueueEvent::Unpause { agent }
            | QueueEvent::Wrapup { agent, .. } => Some(agent),
            QueueEvent::EnterQueue { .. }
            | QueueEvent::Abandon { .. }
            | QueueEvent::CallbackOffered { .. }
            | QueueEvent::CallbackAccepted { .. }
            | QueueEvent::ExitWithTimeout { .. }
            | QueueEvent::ExitEmpty { .. }
            | QueueEvent::JoinEmpty { .. }
            | QueueEvent::Full { .. }
            | QueueEvent::Moved { .. }
            | QueueEvent::CallbackFailed { .. } => None,
        }
    }

    pub(crate) fn columns(&self) -> EventColumns {
        let s = |v: &String| Some(v.clone());
        match self {
            QueueEvent::EnterQueue {
                call_id,
                queue,
                position,
            } => EventColumns {
                event: "ENTERQUEUE",
                call_id: s(call_id),
                queue: s(queue),
                position: Some(*position),
                ..EventColumns::default()
            },
            QueueEvent::RingNoAnswer {
                call_id,
                queue,
                agent,
                ring_ms,
            } => EventColumns {
                event: "RINGNOANSWER",
                call_id: s(call_id),
                queue: s(queue),
                agent: s(agent),
                duration_ms: Some(*ring_ms),
                ..EventColumns::default()
            },
            QueueEvent::Connect {
                call_id,
                queue,
                agent,
                hold_ms,
            } => EventColumns {
                event: "CONNECT",
                call_id: s(call_id),
                queue: s(queue),
                agent: s(agent),
                wait_ms: Some(*hold_ms),
                ..EventColumns::default()
            },
            QueueEvent::CompleteAgent {
                call_id,
                queue,
                agent,
                hold_ms,
                talk_ms,
            } => EventColumns {
                event: "COMPLETEAGENT",
                call_id: s(call_id),
                queue: s(queue),
                agent: s(agent),
                wait_ms: Some(*hold_ms),
                duration_ms: Some(*talk_ms),
                ..EventColumns::default()
            },
            QueueEvent::CompleteCaller {
                call_id,
                queue,
                agent,
                hold_ms,
                talk_ms,
            } => EventColumns {
                event: "COMPLETECALLER",
                call_id: s(call_id),
                queue: s(queue),
                agent: s(agent),
                wait_ms: Some(*hold_ms),
                duration_ms: Some(*talk_ms),
                ..EventColumns::default()
            },
            QueueEvent::Abandon {
                call_id,
                queue,
                position,
                wait_ms,
            } => EventColumns {
                event: "ABANDON",
                call_id: s(call_id),
                queue: s(queue),
                position: Some(*position),
                wait_ms: Some(*wait_ms),
                ..EventColumns::default()
            },
            QueueEvent::Transfer {
                call_id,
                queue,
                agent,
                destination,
                hold_ms,
                talk_ms,
            } => EventColumns {
                event: "TRANSFER",
                call_id: s(call_id),
                queue: s(queue),
                agent: s(agent),
                wait_ms: Some(*hold_ms),
                duration_ms: Some(*talk_ms),
                info: s(destination),
                ..EventColumns::default()
            },
            QueueEvent::CallbackOffered { call_id, queue } => EventColumns {
                event: "CALLBACK_OFFERED",
                call_id: s(call_id),
                queue: s(queue),
                ..EventColumns::default()
            },
            QueueEvent::CallbackAccepted { call_id, queue } => EventColumns {
                event: "CALLBACK_ACCEPTED",
                call_id: s(call_id),
                queue: s(queue),
                ..EventColumns::default()
            },
            QueueEvent::AgentLogin { agent } => EventColumns {
                event: "AGENTLOGIN",
                agent: s(agent),
                ..EventColumns::default()
            },
            QueueEvent::AgentLogoff { agent } => EventColumns {
                event: "AGENTLOGOFF",
                agent: s(agent),
                ..EventColumns::default()
            },
            QueueEvent::Pause { agent, reason } => EventColumns {
                event: "PAUSE",
                agent: s(agent),
                info: s(reason),
                ..EventColumns::default()
            },
            QueueEvent::Unpause { agent } => EventColumns {
                event: "UNPAUSE",
                agent: s(agent),
                ..EventColumns::default()
            },
            QueueEvent::Wrapup {
                call_id,
                queue,
                agent,
                wrapup_ms,
            } => EventColumns {
                event: "WRAPUP",
                call_id: s(call_id),
                queue: s(queue),
                agent: s(agent),
                duration_ms: Some(*wrapup_ms),
                ..EventColumns::default()
            },
            QueueEvent::ExitWithTimeout {
                call_id,
                queue,
                position,
                wait_ms,
            } => EventColumns {
                event: "EXITWITHTIMEOUT",
                call_id: s(call_id),
                queue: s(queue),
                position: Some(*position),
                wait_ms: Some(*wait_ms),
                ..EventColumns::default()
            },
            QueueEvent::ExitEmpty {
                call_id,
                queue,
                position,
                wait_ms,
            } => EventColumns {
                event: "EXITEMPTY",
                call_id: s(call_id),
                queue: s(queue),
                position: Some(*position),
                wait_ms: Some(*wait_ms),
                ..EventColumns::default()
            },
            QueueEvent::JoinEmpty { call_id, queue } => EventColumns {
                event: "JOINEMPTY",
                call_id: s(call_id),
                queue: s(queue),
                ..EventColumns::default()
            },
            QueueEvent::Full { call_id, queue } => EventColumns {
                event: "FULL",
                call_id: s(call_id),
                queue: s(queue),
                ..EventColumns::default()
            },
            QueueEvent::Moved {
                call_id,
                queue,
                destination,
            } => EventColumns {
                event: "MOVED",
                call_id: s(call_id),
                queue: s(queue),
                info: s(destination),
                ..EventColumns::default()
            },
            // queue_log's free data field holds the attempts, as Asterisk's own events use theirs.
            QueueEvent::CallbackFailed {
                call_id,
                queue,
                attempts,
                wait_ms,
            } => EventColumns {
                event: "CALLBACK_FAILED",
                call_id: s(call_id),
                queue: s(queue),
                wait_ms: Some(*wait_ms),
                info: Some(attempts.to_string()),
                ..EventColumns::default()
            },
        }
    }

    /// Reads a stored row back.
    pub(crate) fn from_columns(id: i64, c: EventColumns) -> Result<QueueEvent, BadEventRow> {
        let bad = || BadEventRow {
            id,
            event: c.event.to_owned(),
        };
        let call_id = || c.call_id.clone().ok_or_else(bad);
        let queue = || c.queue.clone().ok_or_else(bad);
        let agent = || c.agent.clone().ok_or_else(bad);
        let wait = || c.wait_ms.ok_or_else(bad);
        let duration = || c.duration_ms.ok_or_else(bad);
        Ok(match c.event {
            "ENTERQUEUE" => QueueEvent::EnterQueue {
                call_id: call_id()?,
                queue: queue()?,
                position: c.position.ok_or_else(bad)?,
            },
            "RINGNOANSWER" => QueueEvent::RingNoAnswer {
                call_id: call_id()?,
                queue: queue()?,
                agent: agent()?,
                ring_ms: duration()?,
            },
            "CONNECT" => QueueEvent::Connect {
                call_id: call_id()?,
                queue: queue()?,
                agent: agent()?,
                hold_ms: wait()?,
            },
            "COMPLETEAGENT" => QueueEvent::CompleteAgent {
                call_id: call_id()?,
                queue: queue()?,
                agent: agent()?,
                hold_ms: wait()?,
                talk_ms: duration()?,
            },
            "COMPLETECALLER" => QueueEvent::CompleteCaller {
                call_id: call_id()?,
                queue: queue()?,
                agent: agent()?,
                hold_ms: wait()?,
                talk_ms: duration()?,
            },
            "ABANDON" => QueueEvent::Abandon {
                call_id: call_id()?,
                queue: queue()?,
                position: c.position.ok_or_else(bad)?,
                wait_ms: wait()?,
            },
            "TRANSFER" => QueueEvent::Transfer {
                call_id: call_id()?,
                queue: queue()?,
                agent: agent()?,
                destination: c.info.clone().ok_or_else(bad)?,
                hold_ms: wait()?,
                talk_ms: duration()?,
            },
            "CALLBACK_OFFERED" => QueueEvent::CallbackOffered {
                call_id: call_id()?,
                queue: queue()?,
            },
            "CALLBACK_ACCEPTED" => QueueEvent::CallbackAccepted {
                call_id: call_id()?,
                queue: queue()?,
            },
            "AGENTLOGIN" => QueueEvent::AgentLogin { agent: agent()? },
            "AGENTLOGOFF" => QueueEvent::AgentLogoff { agent: agent()? },
            "PAUSE" => QueueEvent::Pause {
                agent: agent()?,
                reason: c.info.clone().unwrap_or_default(),
            },
            "UNPAUSE" => QueueEvent::Unpause { agent: agent()? },
            "WRAPUP" => QueueEvent::Wrapup {
                call_id: call_id()?,
                queue: queue()?,
                agent: agent()?,
                wrapup_ms: duration()?,
            },
            "EXITWITHTIMEOUT" => QueueEvent::ExitWithTimeout {
                call_id: call_id()?,
                queue: queue()?,
                position: c.position.ok_or_else(bad)?,
                wait_ms: wait()?,
            },
            "EXITEMPTY" => QueueEvent::ExitEmpty {
                call_id: call_id()?,
                queue: queue()?,
                position: c.position.ok_or_else(bad)?,
                wait_ms: wait()?,
            },
            "JOINEMPTY" => QueueEvent::JoinEmpty {
                call_id: call_id()?,
                queue: queue()?,
            },
            "FULL" => QueueEvent::Full {
                call_id: call_id()?,
                queue: queue()?,
            },
            "MOVED" => QueueEvent::Moved {
                call_id: call_id()?,
                queue: queue()?,
                destination: c.info.clone().ok_or_else(bad)?,
            },
            "CALLBACK_FAILED" => QueueEvent::CallbackFailed {
                call_id: call_id()?,
                queue: queue()?,
                attempts: c
                    .info
                    .as_deref()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(bad)?,
                wait_ms: wait()?,
            },
            _ => return Err(bad()),
        })
    }
}

/// The stored event names (`EventColumns::event` is `'static`; a row's text is matched against these).
pub(crate) const EVENT_NAMES: [&str; 20] = [
    "ENTERQUEUE",
    "RINGNOANSWER",
    "CONNECT",
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "ABANDON",
    "TRANSFER",
    "CALLBACK_OFFERED",
    "CALLBACK_ACCEPTED",
    "AGENTLOGIN",
    "AGENTLOGOFF",
    "PAUSE",
    "UNPAUSE",
    "WRAPUP",
    "EXITWITHTIMEOUT",
    "EXITEMPTY",
    "JOINEMPTY",
    "FULL",
    "MOVED",
    "CALLBACK_FAILED",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn every_event() -> Vec<QueueEvent> {
        let c = || "c1".to_owned();
        let q = || "general".to_owned();
        let a = || "agent7".to_owned();
        vec![
            QueueEvent::EnterQueue {
                call_id: c(),
                queue: q(),
                position: 3,
            },
            QueueEvent::RingNoAnswer {
                call_id: c(),
                queue: q(),
                agent: a(),
                ring_ms: 15_000,
            },
            QueueEvent::Connect {
                call_id: c(),
                queue: q(),
                agent: a(),
                hold_ms: 12_000,
            },
            QueueEvent::CompleteAgent {
                call_id: c(),
                queue: q(),
                agent: a(),
                hold_ms: 1,
                talk_ms: 2,
            },
            QueueEvent::CompleteCaller {
                call_id: c(),
                queue: q(),
                agent: a(),
                hold_ms: 3,
                talk_ms: 4,
            },
            QueueEvent::Abandon {
                call_id: c(),
                queue: q(),
                position: 2,
                wait_ms: 40_000,
            },
            QueueEvent::Transfer {
                call_id: c(),
                queue: q(),
                agent: a(),
                destination: "181".into(),
                hold_ms: 5,
                talk_ms: 6,
            },
            QueueEvent::CallbackOffered {
                call_id: c(),
                queue: q(),
            },
            QueueEvent::CallbackAccepted {
                call_id: c(),
                queue: q(),
            },
            QueueEvent::AgentLogin { agent: a() },
            QueueEvent::AgentLogoff { agent: a() },
            QueueEvent::Pause {
                agent: a(),
                reason: "lunch".into(),
            },
            QueueEvent::Unpause { agent: a() },
            QueueEvent::Wrapup {
                call_id: c(),
                queue: q(),
                agent: a(),
                wrapup_ms: 30_000,
            },
            QueueEvent::ExitWithTimeout {
                call_id: c(),
                queue: q(),
                position: 4,
                wait_ms: 300_000,
            },
            QueueEvent::ExitEmpty {
                call_id: c(),
                queue: q(),
                position: 1,
                wait_ms: 7_000,
            },
            QueueEvent::JoinEmpty {
                call_id: c(),
                queue: q(),
            },
            QueueEvent::Full {
                call_id: c(),
                queue: q(),
            },
            QueueEvent::Moved {
                call_id: c(),
                queue: q(),
                destination: "queue:health".into(),
            },
            QueueEvent::CallbackFailed {
                call_id: c(),
                queue: q(),
                attempts: 3,
                wait_ms: 5_400_000,
            },
        ]
    }

    #[test]
    fn every_event_reads_back_from_its_columns() {
        let events = every_event();
        assert_eq!(events.len(), EVENT_NAMES.len());
        for (i, event) in events.into_iter().enumerate() {
            let columns = event.columns();
            assert_eq!(columns.event, EVENT_NAMES[i]);
            assert_eq!(QueueEvent::from_columns(1, columns), Ok(event));
        }
    }

    #[test]
    fn a_row_missing_a_column_is_an_error() {
        let mut columns = every_event()[2].columns();
        columns.agent = None;
        assert!(QueueEvent::from_columns(9, columns).is_err());
    }
}
