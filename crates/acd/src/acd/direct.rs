//! An agent's own call-backs: the call-back slots their list shows ([`Acd::callback_slots`]) and
//! their click to call ([`Input::CallNow`](super::Input::CallNow)).
//!
//! A click to call is a call-back pinned to one agent and rung at once: the agent's phone first,
//! then the citizen's, then the bridge — the same actions and the same driver task as a
//! virtual-hold call-back reaching the head of its queue. For a slot, it is that slot called
//! ahead of its turn (not reached, it keeps its place). For a citizen without a slot, a caller
//! is made that sits in no queue's order (`direct`): no other agent is offered it, no queue counts
//! it or logs it, and it is over as soon as a leg fails.

use std::sync::Arc;

use serde::Serialize;

use super::callers::CallerState;
use super::{Acd, AcdError, Action, AgentIx, CallInfo, CallNowTarget, CallerIx, ChangeCause};
use crate::agent::{AgentEvent, AgentState};
use crate::{AgentId, CallId, Time};

/// A call-back slot, as an agent's call-back list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CallbackSlot {
    #[schema(value_type = String)]
    pub call: CallId,
    pub queue: String,
    /// Its place in the queue (1 = next).
    pub position: u32,
    pub info: CallInfo,
    /// When the citizen first joined the queue (the place they keep counts from then).
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Time,
    /// When they took the call-back (`None`: booked before a restart, which does not keep it).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub booked_at: Option<Time>,
    /// The citizen's legs tried so far.
    pub attempts: u32,
    /// The agent it is assigned to: moved to them by a supervisor, or the one calling it now.
    #[schema(value_type = Option<String>)]
    pub agent: Option<AgentId>,
    /// Being called now (an agent's phone or the citizen's ringing).
    pub calling: bool,
}

impl Acd {
    /// The call-back slots, queue by queue in queue order. `agent`: only those on that agent's
    /// list — assigned to them, or assigned to nobody in a queue they serve with a need their
    /// skills cover (a logged-out agent serves no queue: their own only).
    pub fn callback_slots(&self, agent: Option<&str>) -> Result<Vec<CallbackSlot>, AcdError> {
        let me = agent.map(|id| self.agent_index(id)).transpose()?;
        let mut slots = Vec::new();
        for (q, state) in self.qs.iter().enumerate() {
            for (position, x) in state
                .order
                .values()
                .filter_map(|&c| self.caller(c))
                .enumerate()
            {
                let (busy, calling) = match x.state {
                    CallerState::Callback { .. } => (None, false),
                    CallerState::CallbackRinging { agent, .. }
                    | CallerState::CallbackDialing { agent, .. } => (Some(agent), true),
                    _ => continue,
                };
                let assigned = busy.or(x.pinned);
                let mine = match me {
                    None => true,
                    Some(a) => match assigned {
                        Some(b) => a == b,
                        None => {
                            self.seats[a].queues.contains(&q)
                                && self.seats[a].agent.skills.covers(&self.need(x))
                        }
                    },
                };
                if !mine {
                    continue;
                }
                slots.push(CallbackSlot {
                    call: x.id.clone(),
                    queue: self.queues.at(q).name.clone(),
                    position: u32::try_from(position + 1).unwrap_or(u32::MAX),
                    info: (*x.info).clone(),
                    joined_at: x.joined_at,
                    booked_at: x.booked_at,
                    attempts: x.callback_attempts,
                    agent: assigned.map(|a| self.seats[a].agent.id.clone()),
                    calling,
                });
            }
        }
        Ok(slots)
    }

    pub(super) fn call_now(
        &mut self,
        agent: &str,
        call: CallId,
        target: CallNowTarget,
        now: Time,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let a = self.agent_index(agent)?;
        let seat = &self.seats[a];
        let wrap_up = match seat.agent.state() {
            AgentState::Available { .. } => false,
            // What the agent asked for meanwhile (a pause, a log-out) would come first.
            AgentState::WrapUp { .. } if seat.agent.pending().is_none() => true,
            other => {
                return Err(AcdError::Busy {
                    agent: seat.agent.id.clone(),
                    state: other.name(),
                });
            }
        };
        let c = match target {
            CallNowTarget::Slot => {
                let (c, x) = self.call_by_id(call.as_str())?;
                if x.direct || !matches!(x.state, CallerState::Callback { .. }) {
                    return Err(AcdError::NotWaiting(call));
                }
                c
            }
            CallNowTarget::Citizen(info) => {
                if self.caller_ix.contains_key(call.as_str()) {
                    return Err(AcdError::DuplicateCall(call));
                }
                let q = *seat
                    .queues
                    .first()
                    .ok_or_else(|| AcdError::NoQueue(seat.agent.id.clone()))?;
                let slot = CallerState::Callback { ready: true };
                let c = self.insert_caller(call, q, Arc::new(info), now, slot);
                self.unqueue(c);
                if let Some(x) = self.caller_mut(c) {
                    x.direct = true;
                    x.booked_at = Some(now);
                }
                c
            }
        };
        self.pin_first(c, a);
        if wrap_up {
            // The wrap-up ends; available, the agent takes what is pinned to them first: this.
            // (In wrap-up with nothing pending, a disposition is accepted.)
            let _ = self.apply_agent(a, AgentEvent::Disposition, ChangeCause::Agent, now, out);
        } else {
            self.ring(c, a, now, out);
        }
        Ok(())
    }

    /// Pins `c` to agent `a`, ahead of what else was moved to them, ready now.
    fn pin_first(&mut self, c: CallerIx, a: AgentIx) {
        let Some(x) = self.caller_mut(c) else {
            return;
        };
        let (was, seq) = (x.pinned.replace(a), x.seq);
        x.state = CallerState::Callback { ready: true };
        if let Some(p) = was {
            self.seats[p].pinned.retain(|&(y, _)| y != c);
        }
        let pinned = &mut self.seats[a].pinned;
        pinned.retain(|&(y, _)| y != c);
        pinned.insert(0, (c, seq));
    }

    /// A click to call without a slot failed on a leg: it is over (the agent's list still holds
    /// what it came from).
    pub(crate) fn direct_over(&mut self, c: CallerIx, out: &mut Vec<Action>) {
        if let Some(x) = self.remove_caller(c) {
            out.push(Action::CallbackFailed {
                queue: self.queues.at(x.queue).name.clone(),
                call: x.id,
                info: x.info,
                attempts: x.callback_attempts,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acd::tests::{Sim, info, rings};
    use crate::agent::{Language::En, Language::Hi, PauseReason};
    use crate::{AttemptId, CallbackOutcome, Input, RingFailure};

    const Q: &str = "[queue.grievance]\nhelpline = \"1100\"\nwrap_up_secs = 30\n\
                     join_when_empty = true\n\
                     callback = { key = \"1\", attempts = 2, retry_secs = 300 }\n";

    fn call_now(s: &mut Sim, agent: &str, call: &str, target: CallNowTarget) -> Vec<Action> {
        s.input(Input::CallNow {
            agent: AgentId::new(agent),
            call: CallId::new(call),
            target,
        })
    }

    fn citizen() -> CallNowTarget {
        CallNowTarget::Citizen(info(Hi, Some("PWR"), false))
    }

    fn place(out: &[Action]) -> AttemptId {
        out.iter()
            .find_map(|a| match a {
                Action::PlaceCallback { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no call placed: {out:#?}"))
    }

    fn no_log(out: &[Action]) {
        assert!(
            !out.iter().any(|a| matches!(a, Action::Log(_))),
            "logged: {out:#?}"
        );
    }

    #[test]
    fn a_click_to_call_rings_the_agent_then_the_citizen_and_counts_in_no_queue() {
        let mut s = Sim::new(Q);
        s.login("asha", &[Hi], &[]);
        let out = call_now(&mut s, "asha", "dial-1", citizen());
        let ring = out.iter().find_map(|a| match a {
            Action::RingAgent {
                attempt,
                agent,
                callback: true,
                info,
                ..
            } => Some((*attempt, agent.clone(), info.number.clone())),
            _ => None,
        });
        let (agent_leg, agent, number) = ring.unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!((agent.as_str(), number.as_str()), ("asha", "+919800000001"));
        assert_eq!(s.state("asha").name(), "ringing");
        // In no queue: nobody waits, the wallboard counts nothing.
        assert!(s.acd.waiting("grievance").is_empty());
        let out = s.at(2).answer(agent_leg);
        no_log(&out);
        let citizen_leg = place(&out);
        let out = s.at(9).input(Input::CallbackResult {
            attempt: citizen_leg,
            outcome: CallbackOutcome::Answered,
        });
        no_log(&out);
        assert!(out.contains(&Action::Connect {
            call: CallId::new("dial-1"),
            agent: AgentId::new("asha"),
            agent_leg,
            callback_leg: Some(citizen_leg),
        }));
        assert_eq!(s.state("asha").name(), "on_call");
        let out = s.at(100).end("dial-1");
        assert_eq!(s.state("asha").name(), "wrap_up");
        assert!(
            !out.iter()
                .any(|a| matches!(a, Action::Log(l) if l.name() != "WRAPUPTIME")),
            "{out:#?}"
        );
        assert_eq!(s.acd.calls(), 0);
        let counters = s.acd.snapshot(s.now).queues[0].counters;
        assert_eq!((counters.answered, counters.completed), (0, 0));
    }

    #[test]
    fn click_to_call_is_refused_unless_the_agent_is_free_and_changes_nothing() {
        let mut s = Sim::new(Q);
        let refused = |s: &mut Sim, agent: &str, call: &str, target: CallNowTarget| {
            s.try_input(Input::CallNow {
                agent: AgentId::new(agent),
                call: CallId::new(call),
                target,
            })
            .err()
        };
        assert_eq!(
            refused(&mut s, "ghost", "d", citizen()),
            Some(AcdError::UnknownAgent(AgentId::new("ghost")))
        );
        s.login("asha", &[Hi], &[]);
        s.input(Input::Pause {
            agent: AgentId::new("asha"),
            reason: PauseReason::Lunch,
        });
        assert_eq!(
            refused(&mut s, "asha", "d", citizen()),
            Some(AcdError::Busy {
                agent: AgentId::new("asha"),
                state: "paused"
            })
        );
        s.input(Input::Resume {
            agent: AgentId::new("asha"),
        });
        // A caller on the line is not a slot; an unknown slot is not found.
        let (attempt, _, _) = rings(&s.join("c1", "grievance", Hi))[0].clone();
        s.fail(attempt);
        assert_eq!(
            refused(&mut s, "asha", "c1", CallNowTarget::Slot),
            Some(AcdError::NotWaiting(CallId::new("c1")))
        );
        assert_eq!(
            refused(&mut s, "asha", "nobody", CallNowTarget::Slot),
            Some(AcdError::UnknownCall(CallId::new("nobody")))
        );
        // Ringing for a call: busy; the id of a call already here: refused.
        s.input(Input::Left {
            call: CallId::new("c1"),
        });
        call_now(&mut s, "asha", "d1", citizen());
        assert_eq!(
            refused(&mut s, "asha", "d2", citizen()),
            Some(AcdError::Busy {
                agent: AgentId::new("asha"),
                state: "ringing"
            })
        );
        s.login("bala", &[Hi], &[]);
        assert_eq!(
            refused(&mut s, "bala", "d1", citizen()),
            Some(AcdError::DuplicateCall(CallId::new("d1")))
        );
        assert_eq!(s.state("bala").name(), "available");
    }

    #[test]
    fn in_wrap_up_a_click_to_call_ends_it_and_rings_this_call_before_the_queue() {
        let mut s = Sim::new(Q);
        s.login("asha", &[Hi], &[]);
        let (a, _, _) = rings(&s.join("c1", "grievance", Hi))[0].clone();
        s.answer(a);
        s.at(10).end("c1");
        assert_eq!(s.state("asha").name(), "wrap_up");
        s.at(11).join("c2", "grievance", Hi);
        let out = s.at(12).input(Input::CallNow {
            agent: AgentId::new("asha"),
            call: CallId::new("dial-1"),
            target: citizen(),
        });
        let rung: Vec<String> = rings(&out).into_iter().map(|(_, _, call)| call).collect();
        assert_eq!(rung, ["dial-1"]);
        assert_eq!(s.acd.waiting("grievance"), [CallId::new("c2")]);
    }

    #[test]
    fn a_click_to_call_not_answered_is_over_and_goes_to_nobody_else() {
        let mut s = Sim::new(Q);
        s.login("asha", &[Hi], &[]);
        s.login("bala", &[Hi], &[]);
        let (attempt, agent, _) = rings(&call_now(&mut s, "asha", "dial-1", citizen()))[0].clone();
        assert_eq!(agent, "asha");
        let out = s.at(20).input(Input::RingFailed {
            attempt,
            cause: RingFailure::NoAnswer,
        });
        assert!(rings(&out).is_empty(), "{out:#?}");
        assert!(out.iter().any(
            |a| matches!(a, Action::CallbackFailed { call, .. } if call.as_str() == "dial-1")
        ));
        assert_eq!(s.acd.calls(), 0);
        // The citizen not answering is over too; the agent is free again without wrap-up.
        let (attempt, _, _) = rings(&call_now(&mut s, "bala", "dial-2", citizen()))[0].clone();
        let citizen_leg = place(&s.at(22).answer(attempt));
        let out = s.at(60).input(Input::CallbackResult {
            attempt: citizen_leg,
            outcome: CallbackOutcome::Failed(RingFailure::NoAnswer),
        });
        assert!(
            out.iter()
                .any(|a| matches!(a, Action::CallbackFailed { .. }))
        );
        assert_eq!(s.state("bala").name(), "available");
        assert_eq!(s.acd.calls(), 0);
    }

    #[test]
    fn an_agent_lists_the_slots_they_can_take_and_calls_one_ahead_of_its_turn() {
        let mut s = Sim::new(Q);
        s.login("asha", &[Hi], &[]);
        s.login("eric", &[En], &[]);
        s.input(Input::Pause {
            agent: AgentId::new("asha"),
            reason: PauseReason::Lunch,
        });
        for (call, at) in [("c1", 1), ("c2", 2)] {
            s.at(at).join(call, "grievance", Hi);
            s.input(Input::CallbackAccepted {
                call: CallId::new(call),
            });
            s.input(Input::Left {
                call: CallId::new(call),
            });
        }
        let slots = s.acd.callback_slots(Some("asha")).unwrap_or_default();
        let listed: Vec<(&str, u32)> = slots
            .iter()
            .map(|x| (x.call.as_str(), x.position))
            .collect();
        assert_eq!(listed, [("c1", 1), ("c2", 2)]);
        assert_eq!(slots[1].booked_at, Some(crate::acd::tests::t(2)));
        assert_eq!(slots[1].info.number, "+919800000001");
        // Hindi callers are not on an English-only agent's list; a supervisor sees them all.
        assert!(
            s.acd
                .callback_slots(Some("eric"))
                .unwrap_or_default()
                .is_empty()
        );
        assert_eq!(s.acd.callback_slots(None).map(|x| x.len()), Ok(2));

        s.input(Input::Resume {
            agent: AgentId::new("asha"),
        });
        // Resumed, asha is rung for c1 (the head)…
        assert_eq!(s.state("asha").name(), "ringing");
        let ringing = s.acd.callback_slots(None).unwrap_or_default();
        assert!(ringing[0].calling && ringing[0].agent == Some(AgentId::new("asha")));
        // …c1's citizen is busy: it waits for its retry; asha is rung for c2.
        let attempt = ringing_attempt(&s, "asha");
        let citizen_leg = place(&s.at(5).answer(attempt));
        let out = s.at(30).input(Input::CallbackResult {
            attempt: citizen_leg,
            outcome: CallbackOutcome::Failed(RingFailure::Busy),
        });
        assert_eq!(rings(&out)[0].2, "c2");
        // A second agent is not offered c1 before its retry, but calls it now.
        s.login("bala", &[Hi], &[]);
        assert_eq!(s.state("bala").name(), "available");
        let out = call_now(&mut s, "bala", "c1", CallNowTarget::Slot);
        let (attempt, agent, call) = rings(&out)[0].clone();
        assert_eq!((agent.as_str(), call.as_str()), ("bala", "c1"));
        let citizen_leg = place(&s.at(35).answer(attempt));
        let out = s.at(40).input(Input::CallbackResult {
            attempt: citizen_leg,
            outcome: CallbackOutcome::Answered,
        });
        assert!(out.iter().any(
            |a| matches!(a, Action::Connect { call, agent, .. } if call.as_str() == "c1" && agent.as_str() == "bala")
        ));
        assert_eq!(s.acd.waiting("grievance"), [CallId::new("c2")]);
    }

    /// The attempt agent `id` is ringing on.
    fn ringing_attempt(s: &Sim, id: &str) -> AttemptId {
        match s.acd.agent(id).map(|a| a.state().clone()) {
            Some(AgentState::Ringing { attempt, .. }) => attempt,
            other => panic!("{id} is not ringing: {other:?}"),
        }
    }
}
