//! Matching agents and callers: the best caller for an agent who becomes free (across every queue
//! they serve), the agent a queue's strategy picks for a caller who becomes ready, and the ring.
//!
//! Cost: an agent's turn looks at the head of each of their queues and stops at the first caller
//! they can take (callers already ringing, or of another language, are stepped over), and never past
//! a caller better than one found already; a caller's turn looks at the available agents only.

use std::sync::Arc;

use super::callers::{CallerState, Timer};
use super::{Acd, Action, AgentIx, CallerIx, ChangeCause, RING_GRACE_SECS};
use crate::Time;
use crate::agent::{AgentEvent, after};
use crate::config::Strategy;

/// Which phone an attempt rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leg {
    /// The agent's phone, for a caller or a call-back.
    Agent,
    /// The citizen's phone, for a call-back.
    Citizen,
}

/// A ring in progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    pub(crate) caller: CallerIx,
    pub(crate) seq: u64,
    pub(crate) agent: AgentIx,
    pub(crate) leg: Leg,
    pub(crate) started: Time,
    /// When the ACD ends it itself.
    pub(crate) deadline: Time,
}

impl Acd {
    /// Rings agent `a` for the best caller they can take, if they are available.
    pub(crate) fn offer_agent(&mut self, a: AgentIx, now: Time, out: &mut Vec<Action>) {
        if !self.seats[a].agent.is_available() {
            return;
        }
        if let Some(c) = self.best_caller_for(a, now) {
            self.ring(c, a, now, out);
        }
    }

    /// Rings the agent the queue's strategy picks for caller `c`, if it is ready and one is free.
    pub(crate) fn offer_caller(&mut self, c: CallerIx, now: Time, out: &mut Vec<Action>) {
        let Some(x) = self.caller(c) else {
            return;
        };
        if !x.ready() {
            return;
        }
        let agent = match x.pinned {
            Some(a) => self.seats[a].agent.is_available().then_some(a),
            None => self.pick_agent(c, now),
        };
        if let Some(a) = agent {
            self.ring(c, a, now, out);
        }
    }

    fn best_caller_for(&self, a: AgentIx, now: Time) -> Option<CallerIx> {
        let seat = &self.seats[a];
        for &(c, seq) in &seat.pinned {
            if self.caller(c).is_some_and(|x| x.seq == seq && x.ready()) {
                return Some(c);
            }
        }
        let mut best = None;
        for &q in &seat.queues {
            for (key, &c) in &self.qs[q].order {
                if best.is_some_and(|(b, _)| *key >= b) {
                    break;
                }
                let Some(x) = self.caller(c) else {
                    continue;
                };
                if x.ready()
                    && x.pinned.is_none()
                    && !x.avoids(a, now)
                    && seat.agent.skills.covers(&self.need(x))
                {
                    best = Some((*key, c));
                    break;
                }
            }
        }
        best.map(|(_, c)| c)
    }

    fn pick_agent(&mut self, c: CallerIx, now: Time) -> Option<AgentIx> {
        let x = self.caller(c)?;
        let q = x.queue;
        let need = self.need(x);
        let fits = |a: AgentIx| {
            let seat = &self.seats[a];
            seat.queues.contains(&q) && seat.agent.skills.covers(&need) && !x.avoids(a, now)
        };
        let available = || self.idle.iter().map(|&(_, a)| a);
        match self.queues.at(q).strategy {
            Strategy::LongestIdle => available().find(|&a| fits(a)),
            // `min_by_key` keeps the first of equals: the longest idle.
            Strategy::FewestCalls => available()
                .filter(|&a| fits(a))
                .min_by_key(|&a| self.seats[a].agent.calls_taken()),
            Strategy::RoundRobin => {
                let members = &self.qs[q].members;
                let start = self.qs[q].rr_last.map_or(0, |last| {
                    let last_id = &self.seats[last].agent.id;
                    members.partition_point(|&m| self.seats[m].agent.id <= *last_id)
                });
                let (before, after_last) = members.split_at(start.min(members.len()));
                after_last
                    .iter()
                    .chain(before)
                    .copied()
                    .find(|&a| self.seats[a].agent.is_available() && fits(a))
            }
            Strategy::Random => {
                let mut pool = std::mem::take(&mut self.scratch);
                pool.clear();
                pool.extend(self.idle.iter().map(|&(_, a)| a).filter(|&a| {
                    let seat = &self.seats[a];
                    self.caller(c).is_some_and(|x| {
                        seat.queues.contains(&q)
                            && seat.agent.skills.covers(&self.need(x))
                            && !x.avoids(a, now)
                    })
                }));
                let pick = (!pool.is_empty()).then(|| pool[self.random(pool.len())]);
                self.scratch = pool;
                pick
            }
        }
    }

    /// Rings agent `a` (available) for caller `c` (ready).
    pub(crate) fn ring(&mut self, c: CallerIx, a: AgentIx, now: Time, out: &mut Vec<Action>) {
        let Some(x) = self.caller(c) else {
            return;
        };
        let (q, id, info, seq) = (x.queue, x.id.clone(), Arc::clone(&x.info), x.seq);
        let callback = matches!(x.state, CallerState::Callback { .. });
        let timeout_secs = self.queues.at(q).ring_timeout_secs;
        let attempt = self.fresh_attempt();
        let event = AgentEvent::Ring {
            call: id.clone(),
            attempt,
        };
        // Without an available agent nothing is rung (the callers of `ring` checked).
        if !matches!(
            self.apply_agent(a, event, ChangeCause::Call, now, out),
            Ok(Some(_))
        ) {
            return;
        }
        out.push(Action::RingAgent {
            attempt,
            agent: self.seats[a].agent.id.clone(),
            phone: self.seats[a].agent.phone.clone(),
            call: id,
            queue: self.queues.at(q).name.clone(),
            timeout_secs,
            callback,
            info,
        });
        if let Some(x) = self.caller_mut(c) {
            x.state = if callback {
                CallerState::CallbackRinging { attempt, agent: a }
            } else {
                CallerState::Ringing { attempt, agent: a }
            };
        }
        let deadline = after(now, timeout_secs.saturating_add(RING_GRACE_SECS));
        self.start_attempt(
            attempt,
            Attempt {
                caller: c,
                seq,
                agent: a,
                leg: Leg::Agent,
                started: now,
                deadline,
            },
        );
        self.qs[q].rr_last = Some(a);
        self.seats[a].last_queue = Some(q);
    }

    pub(crate) fn start_attempt(&mut self, id: super::AttemptId, attempt: Attempt) {
        self.timers.insert((attempt.deadline, Timer::Ring(id)));
        self.attempts.insert(id, attempt);
    }

    /// Forgets an attempt and its timer.
    pub(crate) fn take_attempt(&mut self, id: super::AttemptId) -> Option<Attempt> {
        let attempt = self.attempts.remove(&id)?;
        self.timers.remove(&(attempt.deadline, Timer::Ring(id)));
        Some(attempt)
    }
}
