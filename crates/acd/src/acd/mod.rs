//! The ACD state machine: [`Input`]s in, [`Action`]s out, `now` passed in, no I/O.
//!
//! The driver owns one [`Acd`], feeds it what happened (callers joining and leaving, agents logging in
//! and pausing, rings answered and failed, calls ended) and carries out the actions it returns. Timers
//! are not started here: after every input the driver sleeps until [`Acd::next_deadline`] and then
//! feeds [`Input::Tick`] (due timers also run at the start of every input).
//!
//! The rules it keeps:
//! - An agent rings for at most one call; a caller rings at most one agent at a time.
//! - A caller is offered only to available agents whose skills cover the call: its language, its
//!   helpline (the queue's, or the call's own), its department when the queue matches departments.
//!   Among those the queue's strategy picks.
//! - Queue order is priority (the queue's, plus the open-complaint boost), then join time, then
//!   arrival: first come first served within a priority. An agent who becomes free takes the best
//!   such caller across all the queues they serve; a call moved to them by a supervisor first.
//! - After every input no available agent and waiting caller who could be matched are left apart
//!   (but for a caller not offered again to an agent who just let it ring out, for `retry_secs`).
//! - A ring that fails goes to the next agent at once; the agent's failures in a row are counted and
//!   pause them at the queue's `auto_pause_after`. A ring the driver never reports on is ended by
//!   the ACD `RING_GRACE_SECS` after its timeout.
//! - After a call, wrap-up, then available (or what the agent asked for meanwhile).
//! - A call-back slot keeps its place; at the head of the queue an agent is rung first and only
//!   once they answer is the citizen called.
//! - Nobody waits for ever: at `max_wait_secs` a caller overflows; with no agent who could take
//!   them, the queue's empty rules apply at join and when the last such agent goes.
//!
//! Inside: `callers` (waiting callers, queue order, positions, timers), `dispatch` (matching agents
//! and callers, the strategies), `agents` (agent inputs and the consequences of a state change),
//! `calls` (joining, ringing, connecting, ending, call-backs, overflow, moves), `direct` (an agent's
//! click to call, and the call-back slots an agent's list shows).

mod agents;
pub(crate) mod callers;
mod calls;
mod direct;
mod dispatch;
mod io;

pub use direct::CallbackSlot;
pub use io::*;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::agent::Agent;
use crate::config::{QueueIx, Queues};
use crate::{AgentId, AttemptId, CallId, Time};

pub use callers::Counters;
use callers::{Caller, QueueState, Timer};
use dispatch::Attempt;

/// Seconds the ACD waits past a ring's timeout for the driver's report before ending it itself.
pub const RING_GRACE_SECS: u32 = 5;
/// How long the citizen's phone rings for a call-back.
pub const CALLBACK_RING_SECS: u32 = 40;
/// How long a caller has to take a final call-back offer before recording a complaint.
pub const CALLBACK_DECISION_SECS: u32 = 15;
/// Answers remembered per queue for the expected wait.
pub const EXPECTED_WAIT_WINDOW: usize = 10;
/// Answers needed before a queue says how long the wait is.
pub const EXPECTED_WAIT_MIN_SAMPLES: usize = 3;

pub(crate) type AgentIx = usize;
pub(crate) type CallerIx = usize;

/// An agent and what the ACD keeps beside their state.
#[derive(Debug)]
pub(crate) struct Seat {
    pub(crate) agent: Agent,
    /// The queues they serve while logged in.
    pub(crate) queues: Vec<QueueIx>,
    /// Calls a supervisor moved to them, oldest first: (caller, its serial).
    pub(crate) pinned: Vec<(CallerIx, u64)>,
    /// The queue of their last call (for the wrap-up's log event).
    pub(crate) last_queue: Option<QueueIx>,
}

/// The call centre's state.
#[derive(Debug)]
pub struct Acd {
    pub(crate) queues: Arc<Queues>,
    pub(crate) qs: Vec<QueueState>,
    pub(crate) seats: Vec<Seat>,
    pub(crate) seat_ix: HashMap<AgentId, AgentIx>,
    /// Callers by slot; a free slot is reused (its serial tells stale references apart).
    pub(crate) callers: Vec<Option<Caller>>,
    pub(crate) free_slots: Vec<CallerIx>,
    pub(crate) caller_ix: HashMap<CallId, CallerIx>,
    pub(crate) attempts: HashMap<AttemptId, Attempt>,
    /// Available agents, longest available first.
    pub(crate) idle: BTreeSet<(Time, AgentIx)>,
    pub(crate) timers: BTreeSet<(Time, Timer)>,
    /// Serials of callers (never reused: FIFO among equals, stale timer references).
    pub(crate) next_seq: u64,
    pub(crate) next_attempt: u64,
    pub(crate) rng: u64,
    /// When the counters began.
    pub(crate) counting_since: Time,
    /// A buffer reused by the random strategy and the empty rules.
    pub(crate) scratch: Vec<AgentIx>,
}

impl Acd {
    /// An ACD with no agent and no caller. Attempt ids start from the clock, so they do not repeat
    /// those of an earlier ACD even without its [`Durable`](crate::Durable) state.
    pub fn new(queues: Arc<Queues>, now: Time) -> Acd {
        let qs = (0..queues.len()).map(|_| QueueState::default()).collect();
        let clock = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        Acd {
            queues,
            qs,
            seats: Vec::new(),
            seat_ix: HashMap::new(),
            callers: Vec::new(),
            free_slots: Vec::new(),
            caller_ix: HashMap::new(),
            attempts: HashMap::new(),
            idle: BTreeSet::new(),
            timers: BTreeSet::new(),
            next_seq: 0,
            next_attempt: clock.saturating_mul(1_000),
            rng: clock | 1,
            counting_since: now,
            scratch: Vec::new(),
        }
    }

    /// Seeds the generator of the `random` strategy (tests and benchmarks want a fixed one).
    pub fn seed(&mut self, seed: u64) {
        self.rng = seed | 1;
    }

    /// Feeds one input; returns what to do.
    pub fn handle(&mut self, input: Input, now: Time) -> Result<Vec<Action>, AcdError> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out)?;
        Ok(out)
    }

    /// Like [`Acd::handle`], pushing into a caller-provided buffer (no allocation per input). On an
    /// error nothing changed and nothing was pushed.
    pub fn handle_into(
        &mut self,
        input: Input,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        match input {
            Input::Tick => {
                self.run_timers(now, out);
                Ok(())
            }
            Input::Join(join) => self.join(join, now, out),
            Input::Left { call } => self.left(call.as_str(), now, out),
            Input::Key { call, key } => self.key(call.as_str(), key, now, out),
            Input::CallbackAccepted { call } => self.accept_callback(call.as_str(), now, out),
            Input::CallbackResult { attempt, outcome } => {
                self.attempt_ended(attempt, outcome, now, out)
            }
            Input::LogIn {
                agent,
                phone,
                skills,
            } => self.log_in(agent, phone, skills, now, out),
            Input::LogOut { agent } => self.log_out(agent.as_str(), None, now, out),
            Input::Pause { agent, reason } => self.pause(agent.as_str(), reason, None, now, out),
            Input::Resume { agent } => self.resume(agent.as_str(), now, out),
            Input::Disposition { agent } => self.disposition(agent.as_str(), now, out),
            Input::RingAnswered { attempt } => {
                self.attempt_ended(attempt, CallbackOutcome::Answered, now, out)
            }
            Input::RingFailed { attempt, cause } => {
                self.attempt_ended(attempt, CallbackOutcome::Failed(cause), now, out)
            }
            Input::CallEnded { call, side } => self.call_ended(call.as_str(), side, now, out),
            Input::Transferred { call, destination } => {
                self.transferred(call.as_str(), destination, now, out)
            }
            // The supervisor is the driver's to audit; the log says where the call went.
            Input::Move { call, to, .. } => self.move_call(call.as_str(), to, now, out),
            Input::ForcePause {
                agent,
                reason,
                supervisor,
            } => self.pause(agent.as_str(), reason, Some(supervisor), now, out),
            Input::ForceLogOut { agent, supervisor } => {
                self.log_out(agent.as_str(), Some(supervisor), now, out)
            }
            Input::CallNow {
                agent,
                call,
                target,
            } => self.call_now(agent.as_str(), call, target, now, out),
        }
    }

    /// Starts the counters again (at the start of the day): each queue's answered, abandoned… and each
    /// agent's calls taken.
    pub fn reset_counters(&mut self, now: Time) {
        for q in &mut self.qs {
            q.counters = Counters::default();
        }
        for seat in &mut self.seats {
            seat.agent.reset_calls_taken();
        }
        self.counting_since = now;
    }

    /// When the counters began (the ACD's start, or the last [`Acd::reset_counters`]).
    pub fn counting_since(&self) -> Time {
        self.counting_since
    }

    /// When the driver must feed [`Input::Tick`], if anything is timed.
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// The queues this ACD runs.
    pub fn queues(&self) -> &Arc<Queues> {
        &self.queues
    }

    /// An agent, by login name.
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.seat_ix.get(id).map(|&a| &self.seats[a].agent)
    }

    /// Every agent the ACD has seen (logged out ones included).
    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.seats.iter().map(|s| &s.agent)
    }

    /// Callers in `queue` (waiting, ringing an agent, or holding a call-back slot), in queue order.
    pub fn waiting(&self, queue: &str) -> Vec<CallId> {
        self.queues
            .index(queue)
            .map(|q| {
                self.qs[q]
                    .order
                    .values()
                    .filter_map(|&c| self.caller(c).map(|c| c.id.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many calls the ACD holds (waiting, ringing, call-back slots, connected).
    pub fn calls(&self) -> usize {
        self.caller_ix.len()
    }

    pub(crate) fn caller(&self, c: CallerIx) -> Option<&Caller> {
        self.callers.get(c).and_then(Option::as_ref)
    }

    pub(crate) fn caller_mut(&mut self, c: CallerIx) -> Option<&mut Caller> {
        self.callers.get_mut(c).and_then(Option::as_mut)
    }

    fn agent_index(&self, id: &str) -> Result<AgentIx, AcdError> {
        self.seat_ix
            .get(id)
            .copied()
            .ok_or_else(|| AcdError::UnknownAgent(AgentId::new(id)))
    }

    fn call_index(&self, id: &str) -> Result<CallerIx, AcdError> {
        self.call_by_id(id).map(|(c, _)| c)
    }

    fn call_by_id(&self, id: &str) -> Result<(CallerIx, &Caller), AcdError> {
        self.caller_ix
            .get(id)
            .and_then(|&c| Some((c, self.caller(c)?)))
            .ok_or_else(|| AcdError::UnknownCall(CallId::new(id)))
    }

    fn fresh_attempt(&mut self) -> AttemptId {
        self.next_attempt = self.next_attempt.wrapping_add(1);
        AttemptId(self.next_attempt)
    }

    /// xorshift64*: deterministic, enough to spread calls.
    fn random(&mut self, below: usize) -> usize {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(r % u64::try_from(below.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// Runs every timer due at `now`, in time order. Every handler schedules only into the future,
    /// so this ends.
    fn run_timers(&mut self, now: Time, out: &mut Vec<Action>) {
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, timer));
            self.fire(timer, now, out);
        }
    }

    fn fire(&mut self, timer: Timer, now: Time, out: &mut Vec<Action>) {
        match timer {
            Timer::Ring(attempt) => self.ring_timed_out(attempt, now, out),
            Timer::WrapUp(a) => self.wrap_up_ended(a, now, out),
            Timer::Caller(c, seq, kind) => {
                if self.caller(c).is_some_and(|x| x.seq == seq) {
                    if let Some(x) = self.caller_mut(c) {
                        x.timers.clear(kind);
                    }
                    self.caller_timer(c, kind, now, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod audit;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;
