//! The vocabulary between the ACD and its driver: what happened ([`Input`]), what to do ([`Action`]),
//! and what the ACD refuses ([`AcdError`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::agent::{AgentError, AgentState, Helpline, Language, PauseReason, Pending, Skills};
use crate::config::Overflow;
use crate::log::QueueLog;
use crate::{AgentId, AttemptId, CallId, Time};

/// What the IVR knows of a caller when it puts them in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallInfo {
    /// The citizen's number, as the engine normalised it (`+91…`): where a call-back goes.
    pub number: String,
    /// `hi` or `en`.
    #[schema(value_type = String, example = "hi")]
    pub language: Language,
    /// The department chosen in the IVR, if any (its code: `PWR`…).
    pub department: Option<String>,
    /// The helpline the citizen dialled (`1100`, `181` …).
    #[schema(value_type = String, example = "1100")]
    pub helpline: Helpline,
    /// The caller has a complaint open (raises their priority by the queue's boost).
    pub open_complaint: bool,
    /// The complaint numbers heard or filed in this call, as the ticket system writes them.
    pub complaints: Vec<String>,
}

/// A caller joins a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub call: CallId,
    pub queue: String,
    pub info: CallInfo,
    /// When they first joined, for a caller re-joined after an engine restart (their place is kept);
    /// `None`: now.
    pub joined_at: Option<Time>,
}

/// Why a ring ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RingFailure {
    /// Rang out (the ring timeout, or the phone's own).
    NoAnswer,
    /// The phone was busy (cause 17).
    Busy,
    /// The phone is not registered, or the endpoint is gone.
    Unreachable,
    /// Anything else (a network failure): not held against the agent.
    Other,
}

impl RingFailure {
    /// Counts towards the agent's automatic pause.
    pub fn counts(self) -> bool {
        !matches!(self, RingFailure::Other)
    }
}

/// Who hung up a connected call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Agent,
    Caller,
}

/// Where a supervisor moves a waiting call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveTarget {
    /// Into another queue, keeping its join time (its place in time).
    Queue(String),
    /// To one agent, whatever the skills: offered to them alone, as soon as they are available. If they
    /// let it ring out (or log out), the call goes back to its queue, keeping its place.
    Agent(AgentId),
}

/// How the citizen's leg of a call-back ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    Answered,
    Failed(RingFailure),
}

/// Whom an agent's click to call ([`Input::CallNow`]) calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallNowTarget {
    /// The call-back slot `call` (a citizen who hung up keeping their place): called back by this
    /// agent now, ahead of its turn. Not reached, the slot keeps its place as any call-back's.
    Slot,
    /// A citizen the call centre holds no slot for (an after-hours complaint, a satisfaction call
    /// that reached nobody): `call` is a new id the driver picked. Counted in no queue's figures
    /// and logged in no queue log; not reached (or the agent not answering), it is over — the
    /// entry stays on the agent's list, where it came from.
    Citizen(CallInfo),
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Join(Join),
    /// The caller hung up while waiting (or ringing an agent). For a call that is connected this is
    /// [`Input::CallEnded`] by the caller; for a call-back slot it is ignored (the citizen hung up on
    /// purpose, and keeps their place).
    Left {
        call: CallId,
    },
    /// A key the caller pressed while waiting (the call-back key, if the queue has one).
    Key {
        call: CallId,
        key: char,
    },
    /// The caller took the call-back offer: they hang up and keep their place.
    CallbackAccepted {
        call: CallId,
    },
    /// The citizen's leg of a call-back ([`Action::PlaceCallback`]) answered or failed.
    CallbackResult {
        attempt: AttemptId,
        outcome: CallbackOutcome,
    },
    LogIn {
        agent: AgentId,
        phone: String,
        skills: Skills,
    },
    LogOut {
        agent: AgentId,
    },
    Pause {
        agent: AgentId,
        reason: PauseReason,
    },
    Resume {
        agent: AgentId,
    },
    /// The agent filed the call's disposition: the wrap-up ends now (given during the call: no wrap-up).
    Disposition {
        agent: AgentId,
    },
    /// The agent's phone answered [`Action::RingAgent`]'s attempt.
    RingAnswered {
        attempt: AttemptId,
    },
    RingFailed {
        attempt: AttemptId,
        cause: RingFailure,
    },
    /// A connected call ended.
    CallEnded {
        call: CallId,
        side: Side,
    },
    /// The agent transferred the connected call away (to a helpline, an officer, another queue — the
    /// driver joins that queue itself).
    Transferred {
        call: CallId,
        destination: String,
    },
    /// Time passed: runs the timers due (ring deadlines, wrap-ups, announcements, the most wait,
    /// call-back offers and retries).
    Tick,
    /// A supervisor moves a waiting call.
    Move {
        call: CallId,
        to: MoveTarget,
        supervisor: String,
    },
    ForcePause {
        agent: AgentId,
        reason: PauseReason,
        supervisor: String,
    },
    ForceLogOut {
        agent: AgentId,
        supervisor: String,
    },
    /// The agent clicked to call from their call-back list: a call-back for them alone, now — their
    /// phone rung first ([`Action::RingAgent`] with `callback`), then the citizen's
    /// ([`Action::PlaceCallback`]), then bridged. The agent must be available, or in wrap-up (which
    /// it ends, like a disposition).
    CallNow {
        agent: AgentId,
        call: CallId,
        target: CallNowTarget,
    },
}

/// Why an agent's state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", content = "name", rename_all = "snake_case")]
pub enum ChangeCause {
    /// The agent asked (log in, pause, resume, disposition — or earlier, while busy).
    Agent,
    /// A supervisor, named.
    Supervisor(String),
    /// The call: offered, answered, ended, rang out, withdrawn.
    Call,
    /// The wrap-up time ran out.
    Timer,
    /// Too many rings went unanswered.
    NoAnswer,
    /// An engine restart: a ring the old engine started cannot be answered.
    Restart,
}

/// Why a caller overflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowReason {
    /// Waited the most the queue allows (or did not take the final call-back offer).
    MaxWait,
    /// No agent who could take them (at join, or the last one went).
    Empty,
    /// The queue held `max_callers`.
    Full,
}

/// Something the driver must do (or record). Actions of one input come in the order to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Originate `phone` with channel id `attempt.channel_id()`, ringing at most `timeout_secs`; report
    /// [`Input::RingAnswered`] or [`Input::RingFailed`]. `callback`: this ring is for a call-back — once
    /// the agent answers, the citizen at that number is called ([`Action::PlaceCallback`]); tell the
    /// agent whom they are calling and why (`info`).
    RingAgent {
        attempt: AttemptId,
        agent: AgentId,
        phone: String,
        call: CallId,
        queue: String,
        timeout_secs: u32,
        callback: bool,
        info: Arc<CallInfo>,
    },
    /// Hang up that attempt's channel (an agent's ring, or a call-back's citizen leg).
    CancelRing { attempt: AttemptId },
    /// Bridge the caller with the agent; the caller's music stops now. `agent_leg` is the agent's
    /// channel (the ring's attempt); `callback_leg` the citizen's for a call-back, else the call's own
    /// channel (`call`).
    Connect {
        call: CallId,
        agent: AgentId,
        agent_leg: AttemptId,
        callback_leg: Option<AttemptId>,
    },
    /// Tell the caller their position (1 = next) and the expected wait (`None`: not known yet).
    Announce {
        call: CallId,
        language: Language,
        position: u32,
        expected_wait_secs: Option<u32>,
    },
    /// "Press `key` and we will call you back, you keep your place". `final_offer`: the caller has
    /// waited the most; not taken within `CALLBACK_DECISION_SECS`, they record a complaint.
    OfferCallback {
        call: CallId,
        language: Language,
        key: Option<char>,
        final_offer: bool,
    },
    /// The call-back is booked: tell the caller and let them go; their place keeps moving.
    CallbackBooked { call: CallId, language: Language },
    /// The agent (already on the line, reserved) waits while the citizen is called: originate
    /// `info.number` with channel id `attempt.channel_id()`; report [`Input::CallbackResult`].
    PlaceCallback {
        attempt: AttemptId,
        call: CallId,
        agent: AgentId,
        info: Arc<CallInfo>,
    },
    /// The citizen could not be reached in the queue's attempts: the call-back is given up (note it on
    /// their complaint).
    CallbackFailed {
        call: CallId,
        queue: String,
        info: Arc<CallInfo>,
        attempts: u32,
    },
    /// The caller leaves `queue` for `to` (for another queue, the ACD has already put them there).
    Overflow {
        call: CallId,
        queue: String,
        to: Overflow,
        reason: OverflowReason,
    },
    /// Persist and stream it.
    AgentStateChanged {
        agent: AgentId,
        old: AgentState,
        new: AgentState,
        cause: ChangeCause,
    },
    /// What the agent asked for while busy (applied when the call is done); `None`: withdrawn.
    AgentPending {
        agent: AgentId,
        pending: Option<Pending>,
    },
    /// Write it to the queue log.
    Log(QueueLog),
}

/// An input the ACD refuses; it changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("no queue named `{0}`")]
    UnknownQueue(String),
    #[error("no call `{0}` in the ACD")]
    UnknownCall(CallId),
    #[error("call `{0}` is already in the ACD")]
    DuplicateCall(CallId),
    #[error("no agent `{0}`")]
    UnknownAgent(AgentId),
    /// A late or duplicate ring result (the ring was cancelled or timed out meanwhile): hang the channel
    /// up if it is still there.
    #[error("no attempt {0} in progress")]
    UnknownAttempt(AttemptId),
    #[error("agent `{agent}`: {error}")]
    Agent { agent: AgentId, error: AgentError },
    #[error("call `{0}` is not waiting")]
    NotWaiting(CallId),
    #[error("call `{0}` is not connected to an agent")]
    NotConnected(CallId),
    #[error("queue `{0}` has no call-back")]
    NoCallback(String),
    /// Click to call asked of an agent who is neither available nor in wrap-up.
    #[error("agent `{agent}` is {state}: a call can be placed only when available or in wrap-up")]
    Busy { agent: AgentId, state: &'static str },
    /// Click to call asked of an agent who serves no queue.
    #[error("agent `{0}` serves no queue to call from")]
    NoQueue(AgentId),
}
