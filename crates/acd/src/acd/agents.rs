//! Agent inputs (log in, log out, pause, resume, disposition, a supervisor's force) and what every
//! change of an agent's state brings with it: the state-change action, the queue log, the set of
//! available agents, queue membership, the wrap-up timer, the empty rules, and an offer once
//! available.

use super::callers::{CallerState, Timer};
use super::{Acd, AcdError, Action, AgentIx, ChangeCause, Seat};
use crate::agent::{
    Agent, AgentError, AgentEvent, AgentState, Need, Outcome, PauseReason, Skills, millis,
};
use crate::config::QueueIx;
use crate::log::QueueLog;
use crate::{AgentId, Time};

impl Acd {
    pub(super) fn log_in(
        &mut self,
        id: AgentId,
        phone: String,
        skills: Skills,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let refuse = |error| {
            Err(AcdError::Agent {
                agent: id.clone(),
                error,
            })
        };
        if skills.languages.is_empty() || skills.helplines.is_empty() {
            return refuse(AgentError::NoSkills);
        }
        let a = match self.seat_ix.get(id.as_str()) {
            Some(&a) if self.seats[a].agent.state().is_logged_in() => {
                return refuse(AgentError::AlreadyLoggedIn);
            }
            Some(&a) => {
                let agent = &mut self.seats[a].agent;
                agent.phone = phone;
                agent.skills = skills;
                a
            }
            None => {
                self.seats.push(Seat {
                    agent: Agent::new(id.clone(), phone, skills, now),
                    queues: Vec::new(),
                    pinned: Vec::new(),
                    last_queue: None,
                });
                self.seat_ix.insert(id.clone(), self.seats.len() - 1);
                self.seats.len() - 1
            }
        };
        self.apply_agent(a, AgentEvent::LogIn, ChangeCause::Agent, now, out)
            .map(drop)
            .map_err(|error| AcdError::Agent { agent: id, error })
    }

    /// The agent's own log-out, or (`supervisor`) a forced one.
    pub(super) fn log_out(
        &mut self,
        id: &str,
        supervisor: Option<String>,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let forced = supervisor.is_some();
        self.agent_request(id, AgentEvent::LogOut { forced }, supervisor, now, out)
    }

    pub(super) fn pause(
        &mut self,
        id: &str,
        reason: PauseReason,
        supervisor: Option<String>,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let forced = supervisor.is_some();
        self.agent_request(
            id,
            AgentEvent::Pause { reason, forced },
            supervisor,
            now,
            out,
        )
    }

    pub(super) fn resume(
        &mut self,
        id: &str,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        self.agent_request(id, AgentEvent::Resume, None, now, out)
    }

    pub(super) fn disposition(
        &mut self,
        id: &str,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        self.agent_request(id, AgentEvent::Disposition, None, now, out)
    }

    /// An agent's or a supervisor's request. A ring it interrupts (a forced pause or log-out) is
    /// cancelled and the caller offered to another agent.
    fn agent_request(
        &mut self,
        id: &str,
        event: AgentEvent,
        supervisor: Option<String>,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let a = self.agent_index(id)?;
        let cause = supervisor.map_or(ChangeCause::Agent, ChangeCause::Supervisor);
        let old = self
            .apply_agent(a, event, cause, now, out)
            .map_err(|error| AcdError::Agent {
                agent: self.seats[a].agent.id.clone(),
                error,
            })?;
        if let Some(AgentState::Ringing { attempt, .. }) = old {
            self.withdraw_ring(attempt, now, out);
        }
        Ok(())
    }

    /// The wrap-up timer of agent `a` ran out.
    pub(super) fn wrap_up_ended(&mut self, a: AgentIx, now: Time, out: &mut Vec<Action>) {
        if matches!(self.seats[a].agent.state(), AgentState::WrapUp { until, .. } if *until <= now)
        {
            // The agent is in wrap-up: the event is accepted.
            let _ = self.apply_agent(a, AgentEvent::WrapUpEnded, ChangeCause::Timer, now, out);
        }
    }

    /// Applies `event` to agent `a` and everything the change brings; `Some(old state)` if the state
    /// changed.
    pub(crate) fn apply_agent(
        &mut self,
        a: AgentIx,
        event: AgentEvent,
        cause: ChangeCause,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<Option<AgentState>, AgentError> {
        let entered = self.seats[a].agent.entered();
        let auto_pause = matches!(event, AgentEvent::RingFailed { .. });
        match self.seats[a].agent.apply(event, now)? {
            Outcome::Changed { old, new } => {
                let cause = match &new {
                    AgentState::Paused {
                        reason: PauseReason::NoAnswer,
                        ..
                    } if auto_pause => ChangeCause::NoAnswer,
                    _ => cause,
                };
                self.agent_changed(a, old.clone(), new, entered, cause, now, out);
                Ok(Some(old))
            }
            Outcome::Pending(pending) => {
                out.push(Action::AgentPending {
                    agent: self.seats[a].agent.id.clone(),
                    pending,
                });
                Ok(None)
            }
            Outcome::Unchanged => Ok(None),
        }
    }

    /// What a change of agent `a`'s state brings with it (`entered`: when the old state began).
    #[allow(clippy::too_many_arguments)]
    fn agent_changed(
        &mut self,
        a: AgentIx,
        old: AgentState,
        new: AgentState,
        entered: Time,
        cause: ChangeCause,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let id = self.seats[a].agent.id.clone();
        match &old {
            AgentState::Available { since } => {
                self.idle.remove(&(*since, a));
            }
            AgentState::WrapUp { call, until } => {
                self.timers.remove(&(*until, Timer::WrapUp(a)));
                if let Some(q) = self.seats[a].last_queue {
                    let counters = &mut self.qs[q].counters;
                    counters.wrapup_ms = counters
                        .wrapup_ms
                        .saturating_add(u64::try_from(millis(entered, now)).unwrap_or(0));
                    out.push(Action::Log(QueueLog::Wrapup {
                        call_id: call.clone(),
                        queue: self.queues.at(q).name.clone(),
                        agent: id.clone(),
                        wrapup_ms: millis(entered, now),
                    }));
                }
            }
            AgentState::LoggedOut => {
                out.push(Action::Log(QueueLog::AgentLogin { agent: id.clone() }));
                self.join_queues(a);
            }
            _ => {}
        }
        match (&old, &new) {
            (AgentState::Paused { reason: was, .. }, AgentState::Paused { reason, .. })
                if was == reason => {}
            (_, AgentState::Paused { reason, .. }) => {
                out.push(Action::Log(QueueLog::Pause {
                    agent: id.clone(),
                    reason: reason.as_str().to_owned(),
                }));
            }
            (AgentState::Paused { .. }, AgentState::LoggedOut) => {}
            (AgentState::Paused { .. }, _) => {
                out.push(Action::Log(QueueLog::Unpause { agent: id.clone() }));
            }
            _ => {}
        }
        let newly_paused =
            matches!(new, AgentState::Paused { .. }) && !matches!(old, AgentState::Paused { .. });
        out.push(Action::AgentStateChanged {
            agent: id.clone(),
            old,
            new: new.clone(),
            cause,
        });
        match new {
            AgentState::LoggedOut => {
                out.push(Action::Log(QueueLog::AgentLogoff { agent: id }));
                let queues = self.leave_queues(a, now, out);
                self.apply_empty_rules(&queues, false, now, out);
            }
            AgentState::Available { since } => {
                self.idle.insert((since, a));
                self.offer_agent(a, now, out);
            }
            AgentState::WrapUp { until, .. } => {
                self.timers.insert((until, Timer::WrapUp(a)));
            }
            AgentState::Paused { .. } if newly_paused => {
                let queues = self.seats[a].queues.clone();
                self.apply_empty_rules(&queues, true, now, out);
            }
            _ => {}
        }
    }

    /// Makes agent `a` a member of the queues whose helpline they take.
    pub(crate) fn join_queues(&mut self, a: AgentIx) {
        let mut mine = Vec::new();
        for (q, config) in self.queues.iter().enumerate() {
            let serves = config
                .helpline
                .is_none_or(|h| self.seats[a].agent.skills.helplines.contains(&h));
            if serves {
                mine.push(q);
                let members = &self.qs[q].members;
                let id = &self.seats[a].agent.id;
                let at = members.partition_point(|&m| self.seats[m].agent.id < *id);
                self.qs[q].members.insert(at, a);
            }
        }
        self.seats[a].queues = mine;
    }

    /// Takes agent `a` out of their queues; calls moved to them go back to their queue. Returns the
    /// queues they served.
    fn leave_queues(&mut self, a: AgentIx, now: Time, out: &mut Vec<Action>) -> Vec<QueueIx> {
        let queues = std::mem::take(&mut self.seats[a].queues);
        for &q in &queues {
            self.qs[q].members.retain(|&m| m != a);
        }
        let pinned = std::mem::take(&mut self.seats[a].pinned);
        for (c, seq) in pinned {
            if let Some(x) = self.caller_mut(c).filter(|x| x.seq == seq) {
                x.pinned = None;
                self.offer_caller(c, now, out);
            }
        }
        queues
    }

    /// The empty rules of `queues` after an agent went (`paused`: went on a pause): callers on the
    /// line whom no agent left could take leave (`leave_when_empty`). Callers ringing an agent, call-back
    /// slots and calls moved to an agent stay.
    fn apply_empty_rules(
        &mut self,
        queues: &[QueueIx],
        paused: bool,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        for &q in queues {
            let rules = &self.queues.at(q).empty;
            if !rules.leave_when_empty || (paused && !rules.paused_is_empty) {
                continue;
            }
            let leaving: Vec<_> = self.qs[q]
                .order
                .values()
                .copied()
                .filter(|&c| {
                    self.caller(c).is_some_and(|x| {
                        x.state == CallerState::Waiting
                            && x.pinned.is_none()
                            && !self.anyone_for(q, &self.need(x))
                    })
                })
                .collect();
            let to = self.queues.at(q).empty.on_empty.clone();
            for c in leaving {
                self.overflow_waiting(c, to.clone(), super::OverflowReason::Empty, now, out);
            }
        }
    }

    /// Whether an agent of `q` who counts as present (logged in; not paused, if paused agents count
    /// as gone) could take a call needing `need`.
    pub(crate) fn anyone_for(&self, q: QueueIx, need: &Need<'_>) -> bool {
        let paused_is_empty = self.queues.at(q).empty.paused_is_empty;
        self.qs[q].members.iter().any(|&m| {
            let agent = &self.seats[m].agent;
            let present = match agent.state() {
                AgentState::LoggedOut => false,
                AgentState::Paused { .. } => !paused_is_empty,
                _ => true,
            };
            present && agent.skills.covers(need)
        })
    }
}
