//! A call's way through the ACD: joining (or being refused), waiting (announcements, the call-back
//! offer, the most wait), ringing, connecting, ending or being transferred; call-backs; overflow;
//! a supervisor's move.
//!
//! A flow that hands an agent back (`apply_agent`) may offer that agent to other callers and move
//! or remove callers (the empty rules): after it, a caller is looked at again only through its
//! serial (`live`).

use std::sync::Arc;

use super::callers::{CallerState, CallerTimer, need_of};
use super::dispatch::{Attempt, Leg};
use super::{
    Acd, AcdError, Action, AgentIx, CALLBACK_DECISION_SECS, CALLBACK_RING_SECS, CallInfo,
    CallbackOutcome, CallerIx, ChangeCause, Join, MoveTarget, OverflowReason, RING_GRACE_SECS,
    RingFailure, Side,
};
use crate::agent::{AgentError, AgentEvent, after, millis};
use crate::config::{Overflow, QueueIx};
use crate::log::QueueLog;
use crate::{AttemptId, CallId, Time};

/// How long an offer due while the caller's agent rings is put off.
const OFFER_RETRY_SECS: u32 = 5;

impl Acd {
    pub(super) fn join(
        &mut self,
        join: Join,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let q = self
            .queues
            .index(&join.queue)
            .ok_or_else(|| AcdError::UnknownQueue(join.queue.clone()))?;
        if self.caller_ix.contains_key(join.call.as_str()) {
            return Err(AcdError::DuplicateCall(join.call));
        }
        let joined_at = join.joined_at.unwrap_or(now).min(now);
        self.admit(join.call, q, Arc::new(join.info), joined_at, now, out, 0);
        Ok(())
    }

    /// Lets a caller into `q`, or sends them on by the queue's full and empty rules (`depth`: queues
    /// passed through already, a guard on top of the checked acyclic overflow).
    #[allow(clippy::too_many_arguments)]
    fn admit(
        &mut self,
        id: CallId,
        q: QueueIx,
        info: Arc<CallInfo>,
        joined_at: Time,
        now: Time,
        out: &mut Vec<Action>,
        depth: usize,
    ) {
        let queues = Arc::clone(&self.queues);
        let config = queues.at(q);
        let name = || config.name.clone();
        if self.qs[q].order.len() >= usize::try_from(config.max_callers).unwrap_or(usize::MAX) {
            out.push(Action::Log(QueueLog::Full {
                call_id: id.clone(),
                queue: name(),
            }));
            self.qs[q].counters.refused += 1;
            let to = config.on_full.clone();
            return self.send_on(id, q, info, to, OverflowReason::Full, now, out, depth);
        }
        let empty = !config.empty.join_when_empty && !self.anyone_for(q, &need_of(config, &info));
        if empty && config.empty.on_empty != Overflow::CallbackOffer {
            out.push(Action::Log(QueueLog::JoinEmpty {
                call_id: id.clone(),
                queue: name(),
            }));
            self.qs[q].counters.refused += 1;
            let to = config.empty.on_empty.clone();
            return self.send_on(id, q, info, to, OverflowReason::Empty, now, out, depth);
        }
        let c = self.insert_caller(id.clone(), q, info, joined_at, CallerState::Waiting);
        out.push(Action::Log(QueueLog::EnterQueue {
            call_id: id,
            queue: name(),
            position: i64::from(self.position(c)),
        }));
        self.start_on_line_timers(c, now);
        if empty {
            // Nobody to take them: the call-back is offered at once.
            return self.final_offer(c, now, out);
        }
        self.offer_caller(c, now, out);
        if config.announce_every_secs.is_some() {
            self.caller_timer(c, CallerTimer::Announce, now, out);
        }
    }

    /// A caller who is not (or no longer) in `q` goes `to`: another queue, or out of the ACD.
    #[allow(clippy::too_many_arguments)]
    fn send_on(
        &mut self,
        id: CallId,
        q: QueueIx,
        info: Arc<CallInfo>,
        to: Overflow,
        reason: OverflowReason,
        now: Time,
        out: &mut Vec<Action>,
        depth: usize,
    ) {
        let next = match &to {
            Overflow::Queue(name) if depth < self.queues.len() => self.queues.index(name),
            _ => None,
        };
        let to = match (to, next) {
            (Overflow::Queue(name), Some(_)) => Overflow::Queue(name),
            // A call-back needs a place in the queue (a full queue has none), and a chain of queues
            // ends: checked, and kept here too.
            _ => Overflow::RecordComplaint,
        };
        out.push(Action::Overflow {
            call: id.clone(),
            queue: self.queues.at(q).name.clone(),
            to,
            reason,
        });
        if let Some(next) = next {
            self.admit(id, next, info, now, now, out, depth + 1);
        }
    }

    /// A caller on the line in their queue leaves it for `to` (`CallbackOffer`: they stay and hear a
    /// final offer).
    pub(crate) fn overflow_waiting(
        &mut self,
        c: CallerIx,
        to: Overflow,
        reason: OverflowReason,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        if to == Overflow::CallbackOffer
            && self
                .caller(c)
                .is_some_and(|x| x.timers.get(CallerTimer::Decision).is_none())
        {
            return self.final_offer(c, now, out);
        }
        let to = match to {
            Overflow::CallbackOffer => Overflow::RecordComplaint,
            other => other,
        };
        let position = i64::from(self.position(c));
        let Some(x) = self.remove_caller(c) else {
            return;
        };
        let q = x.queue;
        let (call_id, queue, wait_ms) = (
            x.id.clone(),
            self.queues.at(q).name.clone(),
            millis(x.joined_at, now),
        );
        out.push(Action::Log(match reason {
            OverflowReason::Empty => QueueLog::ExitEmpty {
                call_id,
                queue,
                position,
                wait_ms,
            },
            _ => QueueLog::ExitWithTimeout {
                call_id,
                queue,
                position,
                wait_ms,
            },
        }));
        self.qs[q].counters.overflowed += 1;
        self.send_on(x.id, q, x.info, to, reason, now, out, 0);
    }

    /// "Press 1 and we will call you back": the caller has waited the most (or nobody can take them).
    fn final_offer(&mut self, c: CallerIx, now: Time, out: &mut Vec<Action>) {
        self.offer(c, true, out);
        self.cancel_caller_timer(c, CallerTimer::MaxWait);
        self.set_caller_timer(c, CallerTimer::Decision, after(now, CALLBACK_DECISION_SECS));
    }

    fn offer(&mut self, c: CallerIx, final_offer: bool, out: &mut Vec<Action>) {
        let Some(x) = self.caller(c) else {
            return;
        };
        let config = self.queues.at(x.queue);
        out.push(Action::OfferCallback {
            call: x.id.clone(),
            language: x.info.language,
            key: config.callback.as_ref().and_then(|cb| cb.key),
            final_offer,
        });
        out.push(Action::Log(QueueLog::CallbackOffered {
            call_id: x.id.clone(),
            queue: config.name.clone(),
        }));
    }

    /// A caller's timer fell due.
    pub(crate) fn caller_timer(
        &mut self,
        c: CallerIx,
        kind: CallerTimer,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let Some(x) = self.caller(c) else {
            return;
        };
        let config = self.queues.at(x.queue);
        let waiting = x.state == CallerState::Waiting;
        let ringing = matches!(x.state, CallerState::Ringing { .. });
        match kind {
            CallerTimer::Announce => {
                let Some(every) = config.announce_every_secs else {
                    return;
                };
                if waiting {
                    let position = self.position(c);
                    out.push(Action::Announce {
                        call: x.id.clone(),
                        language: x.info.language,
                        position,
                        expected_wait_secs: self.expected_wait(x.queue, position, now),
                    });
                }
                if waiting || ringing {
                    self.set_caller_timer(c, CallerTimer::Announce, after(now, every));
                }
            }
            CallerTimer::MaxWait | CallerTimer::Decision => {
                let to = match kind {
                    CallerTimer::MaxWait => config.on_max_wait.clone(),
                    _ => Overflow::RecordComplaint,
                };
                if waiting {
                    self.overflow_waiting(c, to, OverflowReason::MaxWait, now, out);
                } else if ringing && let Some(x) = self.caller_mut(c) {
                    x.overdue = Some(to);
                }
            }
            CallerTimer::Offer => {
                if waiting {
                    self.offer(c, false, out);
                } else if ringing {
                    self.set_caller_timer(c, CallerTimer::Offer, after(now, OFFER_RETRY_SECS));
                }
            }
            CallerTimer::Retry => {
                let mut next = None;
                if let Some(x) = self.caller_mut(c) {
                    if x.state == (CallerState::Callback { ready: false }) {
                        x.state = CallerState::Callback { ready: true };
                    }
                    // Agents still avoided come back when their time is up.
                    x.avoid.retain(|&(_, until)| until > now);
                    next = x.avoid.iter().map(|&(_, until)| until).min();
                }
                if let Some(at) = next {
                    self.set_caller_timer(c, CallerTimer::Retry, at);
                }
                self.offer_caller(c, now, out);
            }
        }
    }

    pub(super) fn left(
        &mut self,
        call: &str,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let (c, x) = self.call_by_id(call)?;
        match x.state {
            CallerState::Connected { .. } => return self.call_ended(call, Side::Caller, now, out),
            // The citizen hung up after booking the call-back: their place is kept.
            CallerState::Callback { .. }
            | CallerState::CallbackRinging { .. }
            | CallerState::CallbackDialing { .. } => return Ok(()),
            CallerState::Waiting | CallerState::Ringing { .. } => {}
        }
        let position = i64::from(self.position(c));
        let freed = self.drop_ring(c, out);
        if let Some(x) = self.remove_caller(c) {
            let q = x.queue;
            let wait_ms = millis(x.joined_at, now);
            out.push(Action::Log(QueueLog::Abandon {
                call_id: x.id,
                queue: self.queues.at(q).name.clone(),
                position,
                wait_ms,
            }));
            let short_ms = i64::from(self.queues.at(q).service_level.short_abandon_secs) * 1000;
            let counters = &mut self.qs[q].counters;
            if wait_ms < short_ms {
                counters.abandoned_short += 1;
            } else {
                counters.abandoned += 1;
            }
        }
        self.ring_cancelled(freed, now, out);
        Ok(())
    }

    pub(super) fn key(
        &mut self,
        call: &str,
        key: char,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let c = self.call_index(call)?;
        let takes_callback = self.caller(c).is_some_and(|x| {
            x.on_line()
                && self
                    .queues
                    .at(x.queue)
                    .callback
                    .as_ref()
                    .is_some_and(|cb| cb.key == Some(key))
        });
        if takes_callback {
            self.accept_callback(call, now, out)
        } else {
            Ok(())
        }
    }

    pub(super) fn accept_callback(
        &mut self,
        call: &str,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let (c, x) = self.call_by_id(call)?;
        let config = self.queues.at(x.queue);
        if config.callback.is_none() {
            return Err(AcdError::NoCallback(config.name.clone()));
        }
        if !x.on_line() {
            return Err(AcdError::NotWaiting(x.id.clone()));
        }
        out.push(Action::Log(QueueLog::CallbackAccepted {
            call_id: x.id.clone(),
            queue: config.name.clone(),
        }));
        out.push(Action::CallbackBooked {
            call: x.id.clone(),
            language: x.info.language,
        });
        let seq = x.seq;
        let freed = self.drop_ring(c, out);
        self.clear_on_line_timers(c);
        if let Some(x) = self.caller_mut(c) {
            x.state = CallerState::Callback { ready: true };
            x.overdue = None;
            x.booked_at = Some(now);
        }
        self.ring_cancelled(freed, now, out);
        if self.live(c, seq) {
            self.offer_caller(c, now, out);
        }
        Ok(())
    }

    /// Ends `c`'s ring if it has one (not the agent's fault): the caller is ready again; returns the
    /// agent, still ringing, for [`Acd::ring_cancelled`] once the caller is settled.
    fn drop_ring(&mut self, c: CallerIx, out: &mut Vec<Action>) -> Option<AgentIx> {
        let x = self.caller(c)?;
        let attempt = match x.state {
            CallerState::Ringing { attempt, .. } | CallerState::CallbackRinging { attempt, .. } => {
                attempt
            }
            _ => return None,
        };
        let at = self.take_attempt(attempt)?;
        out.push(Action::CancelRing { attempt });
        self.unring(c);
        Some(at.agent)
    }

    /// A ringing caller back to ready.
    fn unring(&mut self, c: CallerIx) {
        if let Some(x) = self.caller_mut(c) {
            x.state = match x.state {
                CallerState::CallbackRinging { .. } => CallerState::Callback { ready: true },
                _ => CallerState::Waiting,
            };
        }
    }

    fn ring_cancelled(&mut self, agent: Option<AgentIx>, now: Time, out: &mut Vec<Action>) {
        if let Some(a) = agent {
            // The agent is still ringing for the withdrawn call: the event is accepted.
            let _ = self.apply_agent(a, AgentEvent::RingCancelled, ChangeCause::Call, now, out);
        }
    }

    /// A ring ended by the agent's side already changing (a forced pause or log-out): the caller is
    /// offered to someone else.
    pub(crate) fn withdraw_ring(&mut self, attempt: AttemptId, now: Time, out: &mut Vec<Action>) {
        let Some(at) = self.take_attempt(attempt) else {
            return;
        };
        out.push(Action::CancelRing { attempt });
        if !self.live(at.caller, at.seq) {
            return;
        }
        self.unring(at.caller);
        self.after_ring(at.caller, now, out);
    }

    /// A caller whose ring ended, ready again: an overflow that fell due meanwhile, the empty rules,
    /// or the next agent.
    fn after_ring(&mut self, c: CallerIx, now: Time, out: &mut Vec<Action>) {
        let Some(x) = self.caller_mut(c) else {
            return;
        };
        if x.direct {
            // A click to call goes to its agent only.
            return self.direct_over(c, out);
        }
        let overdue = x.overdue.take();
        let (q, seq) = (x.queue, x.seq);
        if let Some(to) = overdue.filter(|_| x.on_line()) {
            // A final call-back offer keeps the caller here, still to be offered.
            self.overflow_waiting(c, to, OverflowReason::MaxWait, now, out);
            if !self.live(c, seq) {
                return;
            }
        }
        self.offer_caller(c, now, out);
        let rules = &self.queues.at(q).empty;
        let stranded = self.caller(c).is_some_and(|x| {
            x.state == CallerState::Waiting
                && x.pinned.is_none()
                && rules.leave_when_empty
                && !self.anyone_for(q, &self.need(x))
        });
        if stranded {
            let to = rules.on_empty.clone();
            self.overflow_waiting(c, to, OverflowReason::Empty, now, out);
        }
    }

    /// An attempt ended (answered or failed), on whichever leg.
    pub(super) fn attempt_ended(
        &mut self,
        attempt: AttemptId,
        outcome: CallbackOutcome,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let at = self
            .take_attempt(attempt)
            .ok_or(AcdError::UnknownAttempt(attempt))?;
        match (at.leg, outcome) {
            (Leg::Agent, CallbackOutcome::Answered) => self.agent_answered(attempt, at, now, out),
            (Leg::Agent, CallbackOutcome::Failed(cause)) => self.agent_missed(at, cause, now, out),
            (Leg::Citizen, outcome) => self.citizen_result(attempt, at, outcome, now, out),
        }
    }

    fn agent_answered(
        &mut self,
        attempt: AttemptId,
        at: Attempt,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let (c, a) = (at.caller, at.agent);
        self.apply_agent(a, AgentEvent::Answered, ChangeCause::Call, now, out)
            .map_err(|error| self.agent_error(a, error))?;
        let Some(x) = self.caller(c).filter(|x| x.seq == at.seq) else {
            return Ok(());
        };
        if matches!(x.state, CallerState::CallbackRinging { .. }) {
            let (call, info, seq) = (x.id.clone(), Arc::clone(&x.info), x.seq);
            let citizen_leg = self.fresh_attempt();
            if let Some(x) = self.caller_mut(c) {
                x.state = CallerState::CallbackDialing {
                    agent: a,
                    agent_leg: attempt,
                    citizen_leg,
                };
            }
            self.start_attempt(
                citizen_leg,
                Attempt {
                    caller: c,
                    seq,
                    agent: a,
                    leg: Leg::Citizen,
                    started: now,
                    deadline: after(now, CALLBACK_RING_SECS + RING_GRACE_SECS),
                },
            );
            out.push(Action::PlaceCallback {
                attempt: citizen_leg,
                call,
                agent: self.seats[a].agent.id.clone(),
                info,
            });
        } else {
            self.connect(c, a, attempt, None, now, out);
        }
        Ok(())
    }

    fn agent_error(&self, a: AgentIx, error: AgentError) -> AcdError {
        AcdError::Agent {
            agent: self.seats[a].agent.id.clone(),
            error,
        }
    }

    fn connect(
        &mut self,
        c: CallerIx,
        a: AgentIx,
        agent_leg: AttemptId,
        callback_leg: Option<AttemptId>,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        self.unqueue(c);
        self.clear_caller_timers(c);
        let Some(x) = self.caller_mut(c) else {
            return;
        };
        x.state = CallerState::Connected {
            agent: a,
            since: now,
            agent_leg,
        };
        let pinned = x.pinned.take();
        let (q, id, hold_ms, direct) = (x.queue, x.id.clone(), millis(x.joined_at, now), x.direct);
        if let Some(p) = pinned {
            self.seats[p].pinned.retain(|&(y, _)| y != c);
        }
        let agent = self.seats[a].agent.id.clone();
        out.push(Action::Connect {
            call: id.clone(),
            agent: agent.clone(),
            agent_leg,
            callback_leg,
        });
        if direct {
            // An agent's own call, in no queue's figures.
            return;
        }
        out.push(Action::Log(QueueLog::Connect {
            call_id: id,
            queue: self.queues.at(q).name.clone(),
            agent,
            hold_ms,
        }));
        let target_ms = i64::from(self.queues.at(q).service_level.within_secs) * 1000;
        let counters = &mut self.qs[q].counters;
        counters.answered += 1;
        counters.answered_wait_ms = counters
            .answered_wait_ms
            .saturating_add(u64::try_from(hold_ms).unwrap_or(0));
        if hold_ms <= target_ms {
            counters.answered_within_target += 1;
        }
        self.record_answer(q, now);
    }

    fn agent_missed(
        &mut self,
        at: Attempt,
        cause: RingFailure,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let (c, a) = (at.caller, at.agent);
        let live = self.live(c, at.seq);
        let q = self
            .caller(c)
            .filter(|_| live)
            .map_or(self.seats[a].last_queue.unwrap_or(0), |x| x.queue);
        if let Some(x) = self.caller(c).filter(|_| live) {
            out.push(Action::Log(QueueLog::RingNoAnswer {
                call_id: x.id.clone(),
                queue: self.queues.at(q).name.clone(),
                agent: self.seats[a].agent.id.clone(),
                ring_ms: millis(at.started, now),
            }));
        }
        if live {
            // The caller first, to the next agent (this one is still ringing, so not picked)…
            if let Some(x) = self.caller_mut(c)
                && x.pinned == Some(a)
            {
                x.pinned = None;
            }
            self.seats[a].pinned.retain(|&(y, _)| y != c);
            self.unring(c);
            self.avoid(c, a, now);
            self.after_ring(c, now, out);
        }
        // …then the agent, counted, maybe paused.
        let event = AgentEvent::RingFailed {
            counts: cause.counts(),
            auto_pause_after: self.queues.at(q).auto_pause_after,
        };
        self.apply_agent(a, event, ChangeCause::Call, now, out)
            .map_err(|error| self.agent_error(a, error))?;
        Ok(())
    }

    /// The ACD's own end of a ring the driver never reported on.
    pub(crate) fn ring_timed_out(&mut self, attempt: AttemptId, now: Time, out: &mut Vec<Action>) {
        if self.attempts.contains_key(&attempt) {
            out.push(Action::CancelRing { attempt });
            // The attempt is known: this is accepted.
            let failed = CallbackOutcome::Failed(RingFailure::NoAnswer);
            let _ = self.attempt_ended(attempt, failed, now, out);
        }
    }

    fn citizen_result(
        &mut self,
        attempt: AttemptId,
        at: Attempt,
        outcome: CallbackOutcome,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let (c, a) = (at.caller, at.agent);
        let agent_leg = match self.caller(c).filter(|x| x.seq == at.seq).map(|x| &x.state) {
            Some(CallerState::CallbackDialing { agent_leg, .. }) => *agent_leg,
            _ => return Ok(()),
        };
        match outcome {
            CallbackOutcome::Answered => self.connect(c, a, agent_leg, Some(attempt), now, out),
            CallbackOutcome::Failed(_) => {
                self.callback_missed(c, true, now, out);
                self.apply_agent(a, AgentEvent::Released, ChangeCause::Call, now, out)
                    .map_err(|error| self.agent_error(a, error))?;
            }
        }
        Ok(())
    }

    /// The citizen was not reached (`counts`: an attempt used up): try again later, or give up.
    fn callback_missed(&mut self, c: CallerIx, counts: bool, now: Time, out: &mut Vec<Action>) {
        let Some(x) = self.caller_mut(c) else {
            return;
        };
        if x.direct {
            return self.direct_over(c, out);
        }
        if counts {
            x.callback_attempts += 1;
        }
        let (q, tried) = (x.queue, x.callback_attempts);
        // (A queue without call-backs gives up at once; a slot is never moved into one.)
        let (attempts, retry_secs) = self
            .queues
            .at(q)
            .callback
            .as_ref()
            .map_or((0, 0), |cb| (cb.attempts, cb.retry_secs));
        if tried >= attempts {
            if let Some(x) = self.remove_caller(c) {
                self.qs[q].counters.callbacks_failed += 1;
                out.push(Action::Log(QueueLog::CallbackFailed {
                    call_id: x.id.clone(),
                    queue: self.queues.at(q).name.clone(),
                    attempts: i64::from(tried),
                    wait_ms: millis(x.joined_at, now),
                }));
                out.push(Action::CallbackFailed {
                    call: x.id,
                    queue: self.queues.at(q).name.clone(),
                    info: x.info,
                    attempts: tried,
                });
            }
            return;
        }
        if let Some(x) = self.caller_mut(c) {
            x.state = CallerState::Callback { ready: !counts };
        }
        if counts {
            self.set_caller_timer(c, CallerTimer::Retry, after(now, retry_secs));
        }
    }

    pub(super) fn call_ended(
        &mut self,
        call: &str,
        side: Side,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let c = self.call_index(call)?;
        let state = self.caller(c).map(|x| x.state.clone());
        match state {
            Some(CallerState::Connected { .. }) => {
                self.complete(c, None, side, now, out);
                Ok(())
            }
            Some(CallerState::CallbackDialing {
                agent, citizen_leg, ..
            }) => {
                // The agent gave up before the citizen answered: tried again, by another agent first.
                self.take_attempt(citizen_leg);
                out.push(Action::CancelRing {
                    attempt: citizen_leg,
                });
                self.callback_missed(c, false, now, out);
                self.avoid(c, agent, now);
                self.apply_agent(agent, AgentEvent::Released, ChangeCause::Call, now, out)
                    .map_err(|error| self.agent_error(agent, error))?;
                if let Some(seq) = self.caller(c).map(|x| x.seq)
                    && self.live(c, seq)
                {
                    self.offer_caller(c, now, out);
                }
                Ok(())
            }
            _ => Err(AcdError::NotConnected(CallId::new(call))),
        }
    }

    pub(super) fn transferred(
        &mut self,
        call: &str,
        destination: String,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let c = self.call_index(call)?;
        if !matches!(
            self.caller(c).map(|x| &x.state),
            Some(CallerState::Connected { .. })
        ) {
            return Err(AcdError::NotConnected(CallId::new(call)));
        }
        self.complete(c, Some(destination), Side::Agent, now, out);
        Ok(())
    }

    /// A connected call ends (hung up, or transferred to `destination`): logged, the agent to wrap-up.
    fn complete(
        &mut self,
        c: CallerIx,
        destination: Option<String>,
        side: Side,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let Some(x) = self.remove_caller(c) else {
            return;
        };
        let CallerState::Connected {
            agent: a, since, ..
        } = x.state
        else {
            return;
        };
        let wrap_up_secs = self.queues.at(x.queue).wrap_up_secs;
        if x.direct {
            // An agent's own call, in no queue's figures or log (nor its wrap-up).
            self.seats[a].last_queue = None;
            let _ = self.apply_agent(
                a,
                AgentEvent::CallEnded { wrap_up_secs },
                ChangeCause::Call,
                now,
                out,
            );
            return;
        }
        let config = self.queues.at(x.queue);
        let (call_id, queue, agent) = (x.id, config.name.clone(), self.seats[a].agent.id.clone());
        let (hold_ms, talk_ms) = (millis(x.joined_at, since), millis(since, now));
        let counters = &mut self.qs[x.queue].counters;
        counters.completed += 1;
        counters.talk_ms = counters
            .talk_ms
            .saturating_add(u64::try_from(talk_ms).unwrap_or(0));
        out.push(Action::Log(match (destination, side) {
            (Some(destination), _) => QueueLog::Transfer {
                call_id,
                queue,
                agent,
                destination,
                hold_ms,
                talk_ms,
            },
            (None, Side::Agent) => QueueLog::CompleteAgent {
                call_id,
                queue,
                agent,
                hold_ms,
                talk_ms,
            },
            (None, Side::Caller) => QueueLog::CompleteCaller {
                call_id,
                queue,
                agent,
                hold_ms,
                talk_ms,
            },
        }));
        self.seats[a].last_queue = Some(x.queue);
        // The agent is on this call: the event is accepted.
        let _ = self.apply_agent(
            a,
            AgentEvent::CallEnded { wrap_up_secs },
            ChangeCause::Call,
            now,
            out,
        );
    }

    pub(super) fn move_call(
        &mut self,
        call: &str,
        to: MoveTarget,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let (c, x) = self.call_by_id(call)?;
        if x.direct
            || !matches!(
                x.state,
                CallerState::Waiting
                    | CallerState::Ringing { .. }
                    | CallerState::Callback { .. }
                    | CallerState::CallbackRinging { .. }
            )
        {
            return Err(AcdError::NotWaiting(x.id.clone()));
        }
        let (from, seq, id) = (x.queue, x.seq, x.id.clone());
        let destination = match &to {
            MoveTarget::Queue(name) => {
                let q = self
                    .queues
                    .index(name)
                    .ok_or_else(|| AcdError::UnknownQueue(name.clone()))?;
                if !x.on_line() && self.queues.at(q).callback.is_none() {
                    // A call-back slot needs a queue that calls back.
                    return Err(AcdError::NoCallback(name.clone()));
                }
                (format!("queue:{name}"), Some(q), None)
            }
            MoveTarget::Agent(agent) => {
                let a = self.agent_index(agent.as_str())?;
                if !self.seats[a].agent.state().is_logged_in() {
                    return Err(self.agent_error(a, AgentError::NotLoggedIn));
                }
                (format!("agent:{agent}"), None, Some(a))
            }
        };
        out.push(Action::Log(QueueLog::Moved {
            call_id: id.clone(),
            queue: self.queues.at(from).name.clone(),
            destination: destination.0,
        }));
        let freed = self.drop_ring(c, out);
        if let Some(p) = self.caller_mut(c).and_then(|x| x.pinned.take()) {
            self.seats[p].pinned.retain(|&(y, _)| y != c);
        }
        if let Some(q) = destination.1 {
            self.unqueue(c);
            let key = self
                .caller(c)
                .map(|x| self.key_for(q, &x.info, x.joined_at, x.seq));
            if let (Some(x), Some(key)) = (self.caller_mut(c), key) {
                x.queue = q;
                x.key = key;
                x.overdue = None;
                self.qs[q].order.insert(key, c);
            }
            if self.caller(c).is_some_and(|x| x.on_line()) {
                self.clear_on_line_timers(c);
                self.start_on_line_timers(c, now);
            }
            out.push(Action::Log(QueueLog::EnterQueue {
                call_id: id,
                queue: self.queues.at(q).name.clone(),
                position: i64::from(self.position(c)),
            }));
        }
        if let Some(a) = destination.2 {
            if let Some(x) = self.caller_mut(c) {
                x.pinned = Some(a);
            }
            self.seats[a].pinned.push((c, seq));
        }
        self.ring_cancelled(freed, now, out);
        if self.live(c, seq) {
            self.offer_caller(c, now, out);
        }
        Ok(())
    }
}
