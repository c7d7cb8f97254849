//! The ACD's internal consistency, checked from the inside by the property tests after every input:
//! agents, callers, attempts, queue order and timers agree, and no available agent is left apart
//! from a waiting caller they could take.

use super::callers::{CallerState, CallerTimer, Timer};
use super::dispatch::Leg;
use super::{Acd, CallerIx};
use crate::Time;
use crate::agent::AgentState;

const KINDS: [CallerTimer; 5] = [
    CallerTimer::Announce,
    CallerTimer::MaxWait,
    CallerTimer::Offer,
    CallerTimer::Decision,
    CallerTimer::Retry,
];

impl Acd {
    pub(crate) fn audit(&self, now: Time) -> Result<(), String> {
        self.audit_agents()?;
        self.audit_callers()?;
        self.audit_attempts()?;
        self.audit_work_conserving(now)
    }

    fn audit_agents(&self) -> Result<(), String> {
        for (a, seat) in self.seats.iter().enumerate() {
            let id = &seat.agent.id;
            if self.seat_ix.get(id.as_str()) != Some(&a) {
                return Err(format!("agent {id} is not indexed"));
            }
            let problem = match seat.agent.state() {
                AgentState::Available { since } if !self.idle.contains(&(*since, a)) => {
                    Some("is available but not idle")
                }
                AgentState::Ringing { attempt, .. }
                    if self
                        .attempts
                        .get(attempt)
                        .is_none_or(|at| at.agent != a || at.leg != Leg::Agent) =>
                {
                    Some("rings with no attempt")
                }
                AgentState::WrapUp { until, .. }
                    if !self.timers.contains(&(*until, Timer::WrapUp(a))) =>
                {
                    Some("is in wrap-up with no timer")
                }
                AgentState::LoggedOut if !seat.queues.is_empty() || !seat.pinned.is_empty() => {
                    Some("is logged out but still serves queues")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(format!("agent {id} {problem}"));
            }
            let members = seat.queues.iter().all(|&q| self.qs[q].members.contains(&a));
            if !members {
                return Err(format!("agent {id} is missing from a queue's members"));
            }
        }
        if self
            .idle
            .iter()
            .any(|&(_, a)| !self.seats[a].agent.is_available())
        {
            return Err("an idle agent is not available".into());
        }
        Ok(())
    }

    fn audit_callers(&self) -> Result<(), String> {
        let mut busy_agents = std::collections::HashSet::new();
        for (c, slot) in self.callers.iter().enumerate() {
            let Some(x) = slot else { continue };
            if self.caller_ix.get(x.id.as_str()) != Some(&c) {
                return Err(format!("caller {} is not indexed", x.id));
            }
            let queued = self.qs[x.queue].order.get(&x.key) == Some(&c);
            let connected = matches!(x.state, CallerState::Connected { .. });
            if queued == connected {
                return Err(format!(
                    "caller {} queued: {queued}, connected: {connected}",
                    x.id
                ));
            }
            let agent = match x.state {
                CallerState::Ringing { agent, attempt }
                | CallerState::CallbackRinging { agent, attempt } => {
                    let ok = matches!(self.seats[agent].agent.state(),
                        AgentState::Ringing { attempt: a, .. } if *a == attempt);
                    if !ok {
                        return Err(format!("caller {} rings an agent not ringing for it", x.id));
                    }
                    Some(agent)
                }
                CallerState::Connected { agent, .. }
                | CallerState::CallbackDialing { agent, .. } => {
                    let ok = matches!(self.seats[agent].agent.state(),
                        AgentState::OnCall { call, .. } if *call == x.id);
                    if !ok {
                        return Err(format!("caller {} talks to an agent not on its call", x.id));
                    }
                    Some(agent)
                }
                _ => None,
            };
            if let Some(a) = agent
                && !busy_agents.insert(a)
            {
                return Err(format!("agent {} has two calls", self.seats[a].agent.id));
            }
            for kind in KINDS {
                if let Some(at) = x.timers.get(kind)
                    && !self.timers.contains(&(at, Timer::Caller(c, x.seq, kind)))
                {
                    return Err(format!("caller {}'s {kind:?} timer is not scheduled", x.id));
                }
            }
        }
        for (q, state) in self.qs.iter().enumerate() {
            for (key, &c) in &state.order {
                if !self
                    .caller(c)
                    .is_some_and(|x| x.queue == q && x.key == *key)
                {
                    return Err(format!("queue {q} holds a stale place"));
                }
            }
        }
        Ok(())
    }

    fn audit_attempts(&self) -> Result<(), String> {
        for (id, at) in &self.attempts {
            let Some(x) = self.caller(at.caller).filter(|x| x.seq == at.seq) else {
                return Err(format!("attempt {id} is for a caller gone"));
            };
            let mine = match (at.leg, &x.state) {
                (Leg::Agent, CallerState::Ringing { attempt, .. })
                | (Leg::Agent, CallerState::CallbackRinging { attempt, .. })
                | (
                    Leg::Citizen,
                    CallerState::CallbackDialing {
                        citizen_leg: attempt,
                        ..
                    },
                ) => attempt == id,
                _ => false,
            };
            if !mine {
                return Err(format!("attempt {id} is not its caller's"));
            }
            if !self.timers.contains(&(at.deadline, Timer::Ring(*id))) {
                return Err(format!("attempt {id} has no deadline"));
            }
        }
        Ok(())
    }

    fn audit_work_conserving(&self, now: Time) -> Result<(), String> {
        for &(_, a) in &self.idle {
            let seat = &self.seats[a];
            let candidates = seat
                .queues
                .iter()
                .flat_map(|&q| self.qs[q].order.values().copied())
                .chain(seat.pinned.iter().map(|&(c, _)| c));
            for c in candidates {
                if self.could_take(a, c, now) {
                    let id = self.caller(c).map(|x| x.id.to_string()).unwrap_or_default();
                    return Err(format!(
                        "agent {} is available and caller {id} waits for them",
                        seat.agent.id
                    ));
                }
            }
        }
        Ok(())
    }

    fn could_take(&self, a: super::AgentIx, c: CallerIx, now: Time) -> bool {
        let Some(x) = self.caller(c) else {
            return false;
        };
        if !x.ready() {
            return false;
        }
        match x.pinned {
            Some(p) => p == a,
            None => {
                !x.avoids(a, now)
                    && self.seats[a].queues.contains(&x.queue)
                    && self.seats[a].agent.skills.covers(&self.need(x))
            }
        }
    }
}
