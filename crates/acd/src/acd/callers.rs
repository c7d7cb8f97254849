//! Callers: where each is (waiting, ringing, connected, holding a call-back slot), the queues' order,
//! positions, the expected wait, and the timers that belong to a caller.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::{Acd, AgentIx, CallerIx, EXPECTED_WAIT_MIN_SAMPLES, EXPECTED_WAIT_WINDOW};
use crate::agent::{Need, after};
use crate::config::{QueueConfig, QueueIx};
use crate::{AttemptId, CallId, CallInfo, Overflow, Time};

/// A caller's place: higher priority first, then earlier join, then earlier arrival.
pub(crate) type Key = (Reverse<i32>, Time, u64);

/// The most agents a caller remembers not to be offered to again (for `retry_secs`).
const AVOID_CAP: usize = 4;

/// A timer; a caller's carries the caller's serial, so a reused slot never fires another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The ACD ends a ring the driver has not reported on.
    Ring(AttemptId),
    WrapUp(AgentIx),
    Caller(CallerIx, u64, CallerTimer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CallerTimer {
    Announce,
    MaxWait,
    /// The call-back offer after `offer_after_secs`.
    Offer,
    /// The end of a final offer's decision time.
    Decision,
    /// An agent to avoid can be offered the call again, or a call-back may be tried again.
    Retry,
}

const TIMER_KINDS: [CallerTimer; 5] = [
    CallerTimer::Announce,
    CallerTimer::MaxWait,
    CallerTimer::Offer,
    CallerTimer::Decision,
    CallerTimer::Retry,
];

/// When each of a caller's timers is due (at most one of each kind).
#[derive(Debug, Default, Clone)]
pub(crate) struct CallerTimers([Option<Time>; 5]);

impl CallerTimers {
    fn slot(kind: CallerTimer) -> usize {
        kind as usize
    }

    pub(crate) fn get(&self, kind: CallerTimer) -> Option<Time> {
        self.0[Self::slot(kind)]
    }

    pub(crate) fn clear(&mut self, kind: CallerTimer) {
        self.0[Self::slot(kind)] = None;
    }
}

/// Where a caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallerState {
    /// On the line, waiting for an agent.
    Waiting,
    /// On the line, an agent's phone ringing.
    Ringing { attempt: AttemptId, agent: AgentIx },
    /// Talking to an agent (out of the queue).
    Connected {
        agent: AgentIx,
        since: Time,
        agent_leg: AttemptId,
    },
    /// Hung up with a call-back booked; `ready`: may be offered now (not waiting for a retry).
    Callback { ready: bool },
    /// The call-back reached the head: an agent is being rung.
    CallbackRinging { attempt: AttemptId, agent: AgentIx },
    /// The agent answered; the citizen is being called.
    CallbackDialing {
        agent: AgentIx,
        agent_leg: AttemptId,
        citizen_leg: AttemptId,
    },
}

/// One caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) id: CallId,
    /// Never reused.
    pub(crate) seq: u64,
    pub(crate) queue: QueueIx,
    pub(crate) info: Arc<CallInfo>,
    /// When they joined this queue (a restart keeps it; an overflow to another queue starts again).
    pub(crate) joined_at: Time,
    pub(crate) key: Key,
    pub(crate) state: CallerState,
    /// A supervisor moved the call to this agent.
    pub(crate) pinned: Option<AgentIx>,
    /// Agents who let this call ring out, not offered it again until then.
    pub(crate) avoid: Vec<(AgentIx, Time)>,
    pub(crate) timers: CallerTimers,
    /// An overflow that fell due while an agent was ringing: done if the ring fails.
    pub(crate) overdue: Option<Overflow>,
    /// The citizen's legs of the call-back tried so far.
    pub(crate) callback_attempts: u32,
    /// An agent's click to call to a citizen without a slot ([`CallNowTarget::Citizen`]): in no
    /// queue's order, counted in no queue's figures, over once it fails.
    ///
    /// [`CallNowTarget::Citizen`]: super::CallNowTarget::Citizen
    pub(crate) direct: bool,
    /// When the citizen took the call-back.
    pub(crate) booked_at: Option<Time>,
}

impl Caller {
    /// On the line (not a call-back slot, not connected).
    pub(crate) fn on_line(&self) -> bool {
        matches!(
            self.state,
            CallerState::Waiting | CallerState::Ringing { .. }
        )
    }

    /// May be offered to an agent now.
    pub(crate) fn ready(&self) -> bool {
        matches!(
            self.state,
            CallerState::Waiting | CallerState::Callback { ready: true }
        )
    }

    pub(crate) fn avoids(&self, a: AgentIx, now: Time) -> bool {
        self.avoid.iter().any(|&(x, until)| x == a && until > now)
    }
}

/// What the ACD counts per queue (since [`Acd::reset_counters`]).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub struct Counters {
    /// Callers connected to an agent (call-backs included).
    pub answered: u64,
    /// Of those, connected within the service-level target.
    pub answered_within_target: u64,
    /// Callers who hung up waiting, after the short-abandon threshold.
    pub abandoned: u64,
    /// Callers who hung up within the short-abandon threshold.
    pub abandoned_short: u64,
    /// Callers who waited and left for an overflow (most wait, left when empty).
    pub overflowed: u64,
    /// Callers not let in (no agents, or full).
    pub refused: u64,
    /// Call-backs given up after their attempts.
    pub callbacks_failed: u64,
    /// Total wait of the answered, for the average speed of answer.
    pub answered_wait_ms: u64,
    /// Conversations that ended (hung up by either side, or transferred), for the average
    /// handle time.
    #[serde(default)]
    pub completed: u64,
    /// Their talk time, connect to end (on hold with the agent included).
    #[serde(default)]
    pub talk_ms: u64,
    /// The agents' wrap-ups after them, as each ended.
    #[serde(default)]
    pub wrapup_ms: u64,
}

/// One queue's live state.
#[derive(Debug, Default)]
pub(crate) struct QueueState {
    /// Every caller in the queue (waiting, ringing, call-back slots), in queue order.
    pub(crate) order: BTreeMap<Key, CallerIx>,
    /// Logged-in agents who serve the queue, by login name.
    pub(crate) members: Vec<AgentIx>,
    /// The agent this queue rang last (round robin).
    pub(crate) rr_last: Option<AgentIx>,
    /// When the last answers happened, oldest first.
    pub(crate) answers: VecDeque<Time>,
    pub(crate) counters: Counters,
}

impl Acd {
    /// A new caller in `q` with a slot and a place, nothing else (no timers, no log).
    pub(crate) fn insert_caller(
        &mut self,
        id: CallId,
        q: QueueIx,
        info: Arc<CallInfo>,
        joined_at: Time,
        state: CallerState,
    ) -> CallerIx {
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = self.key_for(q, &info, joined_at, seq);
        let caller = Caller {
            id: id.clone(),
            seq,
            queue: q,
            info,
            joined_at,
            key,
            state,
            pinned: None,
            avoid: Vec::new(),
            timers: CallerTimers::default(),
            overdue: None,
            callback_attempts: 0,
            direct: false,
            booked_at: None,
        };
        let c = match self.free_slots.pop() {
            Some(c) => {
                self.callers[c] = Some(caller);
                c
            }
            None => {
                self.callers.push(Some(caller));
                self.callers.len() - 1
            }
        };
        self.caller_ix.insert(id, c);
        if !matches!(
            self.callers[c].as_ref().map(|x| &x.state),
            Some(CallerState::Connected { .. })
        ) {
            self.qs[q].order.insert(key, c);
        }
        c
    }

    pub(crate) fn key_for(&self, q: QueueIx, info: &CallInfo, joined_at: Time, seq: u64) -> Key {
        let config = self.queues.at(q);
        let boost = if info.open_complaint {
            config.open_complaint_boost
        } else {
            0
        };
        (
            Reverse(config.priority.saturating_add(boost)),
            joined_at,
            seq,
        )
    }

    /// Takes the caller out of its queue's order (it stays in the ACD).
    pub(crate) fn unqueue(&mut self, c: CallerIx) {
        if let Some(x) = self.caller(c) {
            let (q, key) = (x.queue, x.key);
            self.qs[q].order.remove(&key);
        }
    }

    /// Forgets the caller: its place, its timers, its pin, its slot.
    pub(crate) fn remove_caller(&mut self, c: CallerIx) -> Option<Caller> {
        self.unqueue(c);
        self.clear_caller_timers(c);
        let caller = self.callers.get_mut(c)?.take()?;
        self.caller_ix.remove(caller.id.as_str());
        if let Some(a) = caller.pinned {
            self.seats[a].pinned.retain(|&(x, _)| x != c);
        }
        self.free_slots.push(c);
        Some(caller)
    }

    /// Schedules (or moves) the caller's timer of this kind.
    pub(crate) fn set_caller_timer(&mut self, c: CallerIx, kind: CallerTimer, at: Time) {
        let Some(x) = self.callers.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        let seq = x.seq;
        let slot = &mut x.timers.0[CallerTimers::slot(kind)];
        if let Some(old) = slot.replace(at) {
            self.timers.remove(&(old, Timer::Caller(c, seq, kind)));
        }
        self.timers.insert((at, Timer::Caller(c, seq, kind)));
    }

    pub(crate) fn cancel_caller_timer(&mut self, c: CallerIx, kind: CallerTimer) {
        let Some(x) = self.callers.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        let seq = x.seq;
        if let Some(old) = x.timers.0[CallerTimers::slot(kind)].take() {
            self.timers.remove(&(old, Timer::Caller(c, seq, kind)));
        }
    }

    pub(crate) fn clear_caller_timers(&mut self, c: CallerIx) {
        for kind in TIMER_KINDS {
            self.cancel_caller_timer(c, kind);
        }
    }

    /// The on-line timers: announcements, most wait, the offer (a call-back slot has none of these).
    pub(crate) fn clear_on_line_timers(&mut self, c: CallerIx) {
        for kind in [
            CallerTimer::Announce,
            CallerTimer::MaxWait,
            CallerTimer::Offer,
            CallerTimer::Decision,
        ] {
            self.cancel_caller_timer(c, kind);
        }
    }

    /// The on-line timers of a caller who just joined `q` (their wait counted from `joined_at`).
    pub(crate) fn start_on_line_timers(&mut self, c: CallerIx, now: Time) {
        let Some(x) = self.caller(c) else {
            return;
        };
        let config = self.queues.at(x.queue);
        let joined_at = x.joined_at;
        let max_wait = after(joined_at, config.max_wait_secs);
        let offer = config
            .callback
            .as_ref()
            .and_then(|cb| cb.offer_after_secs)
            .map(|secs| after(joined_at, secs))
            .filter(|at| *at > now);
        let announce = config.announce_every_secs;
        self.set_caller_timer(c, CallerTimer::MaxWait, max_wait.max(now));
        if let Some(at) = offer {
            self.set_caller_timer(c, CallerTimer::Offer, at);
        }
        if announce.is_some() {
            self.set_caller_timer(c, CallerTimer::Announce, now);
        }
    }

    /// Don't offer `c` to `a` again for the queue's `retry_secs`.
    pub(crate) fn avoid(&mut self, c: CallerIx, a: AgentIx, now: Time) {
        let Some(x) = self.caller(c) else {
            return;
        };
        let secs = self.queues.at(x.queue).retry_secs;
        if secs == 0 {
            return;
        }
        let until = after(now, secs);
        if let Some(x) = self.caller_mut(c) {
            x.avoid.retain(|&(y, t)| y != a && t > now);
            if x.avoid.len() >= AVOID_CAP {
                x.avoid.remove(0);
            }
            x.avoid.push((a, until));
        }
        if self
            .caller(c)
            .and_then(|x| x.timers.get(CallerTimer::Retry))
            .is_none_or(|t| t > until)
        {
            self.set_caller_timer(c, CallerTimer::Retry, until);
        }
    }

    /// 1 for the head of the queue.
    pub(crate) fn position(&self, c: CallerIx) -> u32 {
        let Some(x) = self.caller(c) else {
            return 0;
        };
        let ahead = self.qs[x.queue].order.range(..x.key).count();
        u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1)
    }

    /// The expected wait of position `position` in `q`: the answers of the queue come at a rate
    /// measured over the last [`EXPECTED_WAIT_WINDOW`] answers up to `now` (so a queue whose agents
    /// stopped answering expects longer and longer), and `position` answers are needed. `None` with
    /// fewer than [`EXPECTED_WAIT_MIN_SAMPLES`] answers.
    pub(crate) fn expected_wait(&self, q: QueueIx, position: u32, now: Time) -> Option<u32> {
        let answers = &self.qs[q].answers;
        if answers.len() < EXPECTED_WAIT_MIN_SAMPLES {
            return None;
        }
        let first = *answers.front()?;
        let span_ms = crate::agent::millis(first, now);
        let per_answer_ms = span_ms / i64::try_from(answers.len()).unwrap_or(1).max(1);
        let total_ms = per_answer_ms.saturating_mul(i64::from(position));
        u32::try_from((total_ms + 999) / 1000).ok()
    }

    pub(crate) fn record_answer(&mut self, q: QueueIx, now: Time) {
        let answers = &mut self.qs[q].answers;
        if answers.len() >= EXPECTED_WAIT_WINDOW {
            answers.pop_front();
        }
        answers.push_back(now);
    }

    /// What `x` needs of an agent, in its queue.
    pub(crate) fn need<'c>(&self, x: &'c Caller) -> Need<'c> {
        need_of(self.queues.at(x.queue), &x.info)
    }

    /// Whether `c` still holds the caller with serial `seq` (a slot is reused once freed).
    pub(crate) fn live(&self, c: CallerIx, seq: u64) -> bool {
        self.caller(c).is_some_and(|x| x.seq == seq)
    }
}

/// What a call with `info` needs of an agent in the queue `config`.
pub(crate) fn need_of<'c>(config: &QueueConfig, info: &'c CallInfo) -> Need<'c> {
    Need {
        language: info.language,
        helpline: config.helpline.unwrap_or(info.helpline),
        department: if config.match_department {
            info.department.as_deref()
        } else {
            None
        },
    }
}
