//! What the ACD shows and what it keeps: a wallboard's [`Snapshot`] computed from the state, and the
//! [`Durable`] state an engine restart must not lose, with [`Acd::restore`].
//!
//! **Service level.** `answered within the target / (answered + abandoned + overflowed + call-backs
//! given up)`, where callers who hung up within the queue's `short_abandon_secs` are left out
//! altogether (Asterisk's `servicelevel` with short abandons excluded, and Amazon Connect's "contacts
//! removed from the queue within X" counting abandons after the threshold). Callers refused at the
//! door (no agents, full) never waited and are not counted. A call-back counts when its citizen is
//! connected, with its wait from the moment they first joined.
//!
//! **Average speed of answer**: the mean wait of the answered.
//!
//! **What survives a restart** ([`Durable`]): every agent (state, what they asked for while busy,
//! counts), the calls agents are on, the call-back slots (their citizens hung up: nobody else
//! remembers them), the counters and the attempt numbering. Callers waiting on the line are not in
//! it: Asterisk still holds them, and the driver joins them again with their first join time
//! ([`Join::joined_at`](crate::Join::joined_at)), so they keep their place. A ring in progress cannot be answered into the new
//! engine: its agent comes back available and the ring is cancelled.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::acd::callers::{Caller, CallerState, Timer};
use crate::acd::{AgentIx, CallerIx, Seat};
use crate::agent::{Agent, AgentState, Pending, Skills, millis};
use crate::config::Queues;
use crate::{Acd, Action, AgentId, AttemptId, CallId, CallInfo, ChangeCause, Counters, Time};

/// One queue on the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueSnapshot {
    pub name: String,
    /// On the line with nobody ringing for them.
    pub waiting: u32,
    /// On the line, an agent's phone ringing.
    pub ringing: u32,
    /// Call-back slots (citizens who hung up and keep their place).
    pub callbacks: u32,
    /// The longest wait among all of those, in seconds.
    pub oldest_wait_secs: Option<u64>,
    pub agents_logged_in: u32,
    pub agents_available: u32,
    /// Since [`Snapshot::since`].
    pub counters: Counters,
    /// See the module's documentation; `None` before anything counts.
    pub service_level_percent: Option<f64>,
    /// The target, for display ("80 % in 20 s").
    pub service_level_target_percent: u32,
    pub service_level_within_secs: u32,
    pub average_speed_of_answer_secs: Option<f64>,
    /// Average handle time: (talk + the wrap-ups that followed) / conversations ended; a wrap-up
    /// still going counts once it ends. `None` before a conversation ended.
    pub average_handle_time_secs: Option<f64>,
    /// What a caller joining now would hear.
    pub expected_wait_secs: Option<u32>,
}

/// One agent on the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub state: AgentState,
    pub secs_in_state: u64,
    pub pending: Option<Pending>,
    pub calls_taken: u32,
    /// The queues they serve (none when logged out).
    pub queues: Vec<String>,
}

/// The whole call centre at `at`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub at: Time,
    /// When the counters began (the day).
    pub since: Time,
    pub queues: Vec<QueueSnapshot>,
    pub agents: Vec<AgentSnapshot>,
}

/// An agent as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableAgent {
    pub id: AgentId,
    pub phone: String,
    pub skills: Skills,
    pub state: AgentState,
    /// When the state began.
    pub entered: Time,
    pub pending: Option<Pending>,
    pub no_answers: u32,
    pub calls_taken: u32,
    /// The queue of their last call (the wrap-up's log event names it).
    pub last_queue: Option<String>,
}

/// A call the ACD must remember across a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DurableCall {
    /// An agent is talking to this caller.
    Connected {
        call: CallId,
        queue: String,
        agent: AgentId,
        info: CallInfo,
        joined_at: Time,
        since: Time,
        agent_leg: AttemptId,
        /// An agent's click to call, in no queue's figures.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        direct: bool,
    },
    /// A call-back slot. `legs`: the channels of a call-back being placed when the state was saved,
    /// cancelled at the restore (the slot is tried again).
    Callback {
        call: CallId,
        queue: String,
        info: CallInfo,
        joined_at: Time,
        attempts: u32,
        legs: Vec<AttemptId>,
        /// When the citizen took the call-back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        booked_at: Option<Time>,
    },
}

/// What must survive an engine restart (see the module's documentation). Save it whenever an
/// [`Action::AgentStateChanged`], a call-back booked or a connect comes out (or every few seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durable {
    pub saved_at: Time,
    pub next_attempt: u64,
    pub counting_since: Time,
    pub agents: Vec<DurableAgent>,
    pub calls: Vec<DurableCall>,
    /// Per queue, by name.
    pub counters: Vec<(String, Counters)>,
}

impl Acd {
    /// The wallboard's view at `now`.
    pub fn snapshot(&self, now: Time) -> Snapshot {
        let queues = self
            .queues
            .iter()
            .enumerate()
            .map(|(q, config)| {
                let state = &self.qs[q];
                let (mut waiting, mut ringing, mut callbacks) = (0u32, 0u32, 0u32);
                let mut oldest: Option<Time> = None;
                for x in state.order.values().filter_map(|&c| self.caller(c)) {
                    match x.state {
                        CallerState::Waiting => waiting += 1,
                        CallerState::Ringing { .. } => ringing += 1,
                        _ => callbacks += 1,
                    }
                    oldest = Some(oldest.map_or(x.joined_at, |o| o.min(x.joined_at)));
                }
                let logged_in = state.members.len();
                let available = state
                    .members
                    .iter()
                    .filter(|&&a| self.seats[a].agent.is_available())
                    .count();
                let c = state.counters;
                let counted = c.answered + c.abandoned + c.overflowed + c.callbacks_failed;
                QueueSnapshot {
                    name: config.name.clone(),
                    waiting,
                    ringing,
                    callbacks,
                    oldest_wait_secs: oldest
                        .map(|o| u64::try_from(millis(o, now) / 1000).unwrap_or(0)),
                    agents_logged_in: u32::try_from(logged_in).unwrap_or(u32::MAX),
                    agents_available: u32::try_from(available).unwrap_or(u32::MAX),
                    counters: c,
                    service_level_percent: (counted > 0)
                        .then(|| 100.0 * c.answered_within_target as f64 / counted as f64),
                    service_level_target_percent: config.service_level.percent,
                    service_level_within_secs: config.service_level.within_secs,
                    average_speed_of_answer_secs: (c.answered > 0)
                        .then(|| c.answered_wait_ms as f64 / c.answered as f64 / 1000.0),
                    average_handle_time_secs: (c.completed > 0).then(|| {
                        c.talk_ms.saturating_add(c.wrapup_ms) as f64 / c.completed as f64 / 1000.0
                    }),
                    expected_wait_secs: self.expected_wait(
                        q,
                        u32::try_from(state.order.len())
                            .unwrap_or(u32::MAX)
                            .saturating_add(1),
                        now,
                    ),
                }
            })
            .collect();
        let agents = self
            .seats
            .iter()
            .map(|seat| AgentSnapshot {
                id: seat.agent.id.clone(),
                state: seat.agent.state().clone(),
                secs_in_state: u64::try_from(millis(seat.agent.entered(), now) / 1000).unwrap_or(0),
                pending: seat.agent.pending(),
                calls_taken: seat.agent.calls_taken(),
                queues: seat
                    .queues
                    .iter()
                    .map(|&q| self.queues.at(q).name.clone())
                    .collect(),
            })
            .collect();
        Snapshot {
            at: now,
            since: self.counting_since,
            queues,
            agents,
        }
    }

    /// The state to save (see [`Durable`]).
    pub fn durable(&self, now: Time) -> Durable {
        let queue_name = |q: usize| self.queues.at(q).name.clone();
        let agents = self
            .seats
            .iter()
            .map(|seat| DurableAgent {
                id: seat.agent.id.clone(),
                phone: seat.agent.phone.clone(),
                skills: seat.agent.skills.clone(),
                state: seat.agent.state().clone(),
                entered: seat.agent.entered(),
                pending: seat.agent.pending(),
                no_answers: seat.agent.no_answers(),
                calls_taken: seat.agent.calls_taken(),
                last_queue: seat.last_queue.map(queue_name),
            })
            .collect();
        let calls = self
            .callers
            .iter()
            .flatten()
            .filter_map(|x| self.durable_call(x))
            .collect();
        Durable {
            saved_at: now,
            next_attempt: self.next_attempt,
            counting_since: self.counting_since,
            agents,
            calls,
            counters: self
                .qs
                .iter()
                .enumerate()
                .map(|(q, s)| (queue_name(q), s.counters))
                .collect(),
        }
    }

    /// An ACD as it was saved, at `now`, with the actions that brings (rings of the old engine
    /// cancelled, their agents available again). The driver then joins the callers Asterisk still
    /// holds in a queue, each with its first join time.
    pub fn restore(queues: Arc<Queues>, durable: Durable, now: Time) -> (Acd, Vec<Action>) {
        let mut acd = Acd::new(queues, now);
        acd.next_attempt = acd.next_attempt.max(durable.next_attempt);
        acd.counting_since = durable.counting_since;
        for (name, counters) in durable.counters {
            if let Some(q) = acd.queues.index(&name) {
                acd.qs[q].counters = counters;
            }
        }
        let mut out = Vec::new();
        let talking: HashSet<(AgentId, CallId)> = durable
            .calls
            .iter()
            .filter_map(|call| match call {
                DurableCall::Connected {
                    call, agent, queue, ..
                } if acd.queues.index(queue).is_some() => Some((agent.clone(), call.clone())),
                _ => None,
            })
            .collect();
        for saved in durable.agents {
            if acd.seat_ix.contains_key(saved.id.as_str()) {
                continue;
            }
            acd.restore_agent(saved, &talking, now, &mut out);
        }
        for call in durable.calls {
            acd.restore_call(call, now, &mut out);
        }
        let available: Vec<AgentIx> = acd.idle.iter().map(|&(_, a)| a).collect();
        for a in available {
            acd.offer_agent(a, now, &mut out);
        }
        (acd, out)
    }

    fn durable_call(&self, x: &Caller) -> Option<DurableCall> {
        let (call, queue) = (x.id.clone(), self.queues.at(x.queue).name.clone());
        let (info, joined_at) = ((*x.info).clone(), x.joined_at);
        let slot = |legs| DurableCall::Callback {
            call: call.clone(),
            queue: queue.clone(),
            info: info.clone(),
            joined_at,
            attempts: x.callback_attempts,
            legs,
            booked_at: x.booked_at,
        };
        match x.state {
            CallerState::Connected {
                agent,
                since,
                agent_leg,
            } => Some(DurableCall::Connected {
                agent: self.seats[agent].agent.id.clone(),
                call,
                queue,
                info,
                joined_at,
                since,
                agent_leg,
                direct: x.direct,
            }),
            // A click to call being placed is not kept: it is still on its agent's list.
            _ if x.direct => None,
            // The agent's ring is cancelled with the agent's state.
            CallerState::Callback { .. } | CallerState::CallbackRinging { .. } => {
                Some(slot(vec![]))
            }
            CallerState::CallbackDialing {
                agent_leg,
                citizen_leg,
                ..
            } => Some(slot(vec![agent_leg, citizen_leg])),
            CallerState::Waiting | CallerState::Ringing { .. } => None,
        }
    }

    fn restore_agent(
        &mut self,
        saved: DurableAgent,
        talking: &HashSet<(AgentId, CallId)>,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let last_queue = saved
            .last_queue
            .as_deref()
            .and_then(|q| self.queues.index(q));
        // A ring, or a call that is not there any more, cannot go on: the agent is free again (or
        // goes where they asked to go).
        let (state, entered, cancel) = match &saved.state {
            AgentState::Ringing { attempt, .. } => (None, now, Some(*attempt)),
            AgentState::OnCall { call, .. }
                if !talking.contains(&(saved.id.clone(), call.clone())) =>
            {
                (None, now, None)
            }
            other => (Some(other.clone()), saved.entered, None),
        };
        let state = state.unwrap_or(match saved.pending {
            Some(Pending::LogOut) => AgentState::LoggedOut,
            Some(Pending::Pause(reason)) => AgentState::Paused { reason, since: now },
            None => AgentState::Available { since: now },
        });
        let freed = state != saved.state;
        let pending = if freed { None } else { saved.pending };
        let agent = Agent::restored(
            saved.id.clone(),
            saved.phone,
            saved.skills,
            state.clone(),
            entered,
            pending,
            (saved.no_answers, saved.calls_taken),
        );
        self.seats.push(Seat {
            agent,
            queues: Vec::new(),
            pinned: Vec::new(),
            last_queue,
        });
        let a = self.seats.len() - 1;
        self.seat_ix.insert(saved.id.clone(), a);
        if let Some(attempt) = cancel {
            out.push(Action::CancelRing { attempt });
        }
        if freed {
            out.push(Action::AgentStateChanged {
                agent: saved.id,
                old: saved.state,
                new: state.clone(),
                cause: ChangeCause::Restart,
            });
        }
        if state.is_logged_in() {
            self.join_queues(a);
        }
        match state {
            AgentState::Available { since } => {
                self.idle.insert((since, a));
            }
            AgentState::WrapUp { until, .. } => {
                self.timers.insert((until, Timer::WrapUp(a)));
            }
            _ => {}
        }
    }

    fn restore_call(&mut self, call: DurableCall, now: Time, out: &mut Vec<Action>) {
        let (id, queue) = match &call {
            DurableCall::Connected { call, queue, .. }
            | DurableCall::Callback { call, queue, .. } => (call.clone(), queue.clone()),
        };
        if self.caller_ix.contains_key(id.as_str()) {
            return;
        }
        let Some(q) = self.queues.index(&queue) else {
            // The queue is gone from the configuration: a call-back can no longer be placed.
            if let DurableCall::Callback {
                info,
                attempts,
                legs,
                joined_at,
                ..
            } = call
            {
                out.extend(
                    legs.into_iter()
                        .map(|attempt| Action::CancelRing { attempt }),
                );
                out.push(Action::Log(crate::QueueLog::CallbackFailed {
                    call_id: id.clone(),
                    queue: queue.clone(),
                    attempts: i64::from(attempts),
                    wait_ms: millis(joined_at, now),
                }));
                out.push(Action::CallbackFailed {
                    call: id,
                    queue,
                    info: Arc::new(info),
                    attempts,
                });
            }
            return;
        };
        match call {
            DurableCall::Connected {
                agent,
                info,
                joined_at,
                since,
                agent_leg,
                direct,
                ..
            } => {
                let Some(&a) = self.seat_ix.get(agent.as_str()) else {
                    return;
                };
                let c = self.insert_caller(
                    id,
                    q,
                    Arc::new(info),
                    joined_at,
                    CallerState::Connected {
                        agent: a,
                        since,
                        agent_leg,
                    },
                );
                if let Some(x) = self.caller_mut(c) {
                    x.direct = direct;
                }
            }
            DurableCall::Callback {
                info,
                joined_at,
                attempts,
                legs,
                booked_at,
                ..
            } => {
                out.extend(
                    legs.into_iter()
                        .map(|attempt| Action::CancelRing { attempt }),
                );
                let slot = CallerState::Callback { ready: true };
                let c: CallerIx = self.insert_caller(id, q, Arc::new(info), joined_at, slot);
                if let Some(x) = self.caller_mut(c) {
                    x.callback_attempts = attempts;
                    x.booked_at = booked_at;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acd::tests::{Sim, info, rings, t};
    use crate::agent::{Language::Hi, PauseReason};
    use crate::log::QueueLog;
    use crate::{Input, Join, Side};

    const Q: &str = "[queue.g]\nhelpline = \"1100\"\nwrap_up_secs = 30\njoin_when_empty = true\n\
                     service_level = { percent = 80, within_secs = 20, short_abandon_secs = 5 }\n\
                     callback = { key = \"1\" }\n";

    fn log_names(out: &[Action]) -> Vec<&'static str> {
        out.iter()
            .filter_map(|a| match a {
                Action::Log(l) => Some(l.name()),
                _ => None,
            })
            .collect()
    }

    fn answer_first(s: &mut Sim, out: &[Action]) -> AttemptId {
        let (attempt, _, _) = rings(out)[0].clone();
        s.answer(attempt);
        attempt
    }

    #[test]
    fn the_wallboard_counts_the_queue_and_the_service_level() {
        let mut s = Sim::new(Q);
        s.login("asha", &[Hi], &[]);
        let out = s.at(0).join("fast", "g", Hi);
        answer_first(&mut s, &out); // waited 0 s: within the target
        s.at(2).join("quitter", "g", Hi); // hangs up after 3 s: a short abandon, left out
        s.at(5).input(Input::Left {
            call: CallId::new("quitter"),
        });
        s.at(10).join("gave_up", "g", Hi); // hangs up after 30 s: abandoned
        s.at(40).input(Input::Left {
            call: CallId::new("gave_up"),
        });
        s.at(50).join("slow", "g", Hi);
        s.at(51).join("slot", "g", Hi);
        s.input(Input::CallbackAccepted {
            call: CallId::new("slot"),
        });
        s.at(60).end("fast");
        let out = s.tick(90); // wrap-up over: asha takes "slow" after 40 s
        answer_first(&mut s, &out);

        let snap = s.acd.snapshot(t(100));
        let g = &snap.queues[0];
        assert_eq!((g.waiting, g.ringing, g.callbacks), (0, 0, 1));
        assert_eq!(g.oldest_wait_secs, Some(49));
        assert_eq!(g.counters.answered, 2);
        assert_eq!(g.counters.answered_within_target, 1);
        assert_eq!((g.counters.abandoned, g.counters.abandoned_short), (1, 1));
        // 1 within target / (2 answered + 1 abandoned); the short abandon left out.
        let sl = g.service_level_percent.unwrap_or_default();
        assert!((sl - 100.0 / 3.0).abs() < 1e-9, "{sl}");
        assert_eq!(g.average_speed_of_answer_secs, Some(20.0));
        // One conversation ended ("fast": 60 s of talk, then its 30 s wrap-up).
        assert_eq!(g.counters.completed, 1);
        assert_eq!(g.average_handle_time_secs, Some(90.0));
        assert_eq!((g.agents_logged_in, g.agents_available), (1, 0));
        let asha = &snap.agents[0];
        assert_eq!(asha.calls_taken, 2);
        assert!(matches!(asha.state, AgentState::OnCall { .. }));
        assert_eq!(asha.secs_in_state, 10);
        assert_eq!(asha.queues, ["g"]);

        s.acd.reset_counters(t(200));
        let snap = s.acd.snapshot(t(200));
        assert_eq!(snap.since, t(200));
        assert_eq!(snap.queues[0].counters, Counters::default());
        assert_eq!(snap.queues[0].service_level_percent, None);
        assert_eq!(snap.agents[0].calls_taken, 0);
    }

    #[test]
    fn a_restart_keeps_agents_calls_and_call_back_slots() {
        let mut s = Sim::new(Q);
        s.login("oncall", &[Hi], &[]);
        let out = s.at(1).join("talking", "g", Hi);
        let agent_leg = answer_first(&mut s, &out);
        s.at(2).login("ringing", &[Hi], &[]);
        s.at(3).login("wrapping", &[Hi], &[]);
        s.at(4).login("paused", &[Hi], &[]);
        s.input(Input::Pause {
            agent: AgentId::new("paused"),
            reason: PauseReason::Training,
        });
        let out = s.at(5).join("short", "g", Hi);
        let (short_leg, _, _) = rings(&out)[0].clone();
        assert_eq!(rings(&out)[0].1, "ringing");
        let out = s.at(6).join("rung", "g", Hi);
        answer_first(&mut s, &out);
        s.at(7).end("rung"); // "wrapping" wraps up until 37
        s.at(8).join("slot", "g", Hi);
        s.input(Input::CallbackAccepted {
            call: CallId::new("slot"),
        });
        s.at(9).join("on_line", "g", Hi);

        let saved = s.acd.durable(t(10));
        let json = serde_json::to_string(&saved).unwrap_or_default();
        let back: Durable = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, saved);

        let (acd, out) = Acd::restore(Arc::clone(s.acd.queues()), back, t(20));
        // The old engine's ring cannot be answered here: cancelled, its agent available again…
        assert!(out.contains(&Action::CancelRing { attempt: short_leg }));
        assert!(out.iter().any(|a| matches!(a,
            Action::AgentStateChanged { agent, cause: ChangeCause::Restart, .. } if agent.as_str() == "ringing")));
        // …and offered the call-back slot at once (the callers on the line are not back yet).
        let (slot_ring, agent, call) = rings(&out)[0].clone();
        assert_eq!((agent.as_str(), call.as_str()), ("ringing", "slot"));
        assert!(slot_ring.0 > short_leg.0, "attempt ids never repeat");

        let mut s = Sim { acd, now: t(20) };
        assert!(matches!(
            s.state("paused"),
            AgentState::Paused {
                reason: PauseReason::Training,
                ..
            }
        ));
        assert!(matches!(s.state("wrapping"), AgentState::WrapUp { .. }));
        // The driver re-joins the callers Asterisk still holds, with their first join time.
        s.join("new", "g", Hi);
        s.input(Input::Join(Join {
            call: CallId::new("on_line"),
            queue: "g".into(),
            info: info(Hi, None, false),
            joined_at: Some(t(9)),
        }));
        assert_eq!(
            s.acd.waiting("g"),
            [
                CallId::new("slot"),
                CallId::new("on_line"),
                CallId::new("new")
            ]
        );
        // The wrap-up saved runs out on time; its agent takes the first caller on the line.
        let out = s.tick(37);
        assert!(log_names(&out).contains(&"WRAPUP"));
        let (_, agent, call) = rings(&out)[0].clone();
        assert_eq!((agent.as_str(), call.as_str()), ("wrapping", "on_line"));
        // The call in progress ends as if nothing had happened.
        let out = s.at(70).input(Input::CallEnded {
            call: CallId::new("talking"),
            side: Side::Agent,
        });
        assert!(out.contains(&Action::Log(QueueLog::CompleteAgent {
            call_id: CallId::new("talking"),
            queue: "g".into(),
            agent: AgentId::new("oncall"),
            hold_ms: 0,
            talk_ms: 69_000,
        })));
        assert_eq!(
            agent_leg,
            short_leg.min(agent_leg),
            "the first attempt of all"
        );
    }

    #[test]
    fn a_restart_with_a_queue_gone_gives_its_call_backs_up() {
        let mut s = Sim::new(Q);
        s.join("slot", "g", Hi);
        s.input(Input::CallbackAccepted {
            call: CallId::new("slot"),
        });
        let saved = s.acd.durable(t(1));
        let other = Arc::new(crate::config::checked("[queue.h]\n"));
        let (acd, out) = Acd::restore(other, saved, t(2));
        assert!(
            out.iter().any(|a| matches!(a,
            Action::CallbackFailed { call, queue, .. } if call.as_str() == "slot" && queue == "g"))
        );
        assert!(
            out.contains(&Action::Log(crate::QueueLog::CallbackFailed {
                call_id: CallId::new("slot"),
                queue: "g".into(),
                attempts: 0,
                wait_ms: 2_000,
            })),
            "{out:#?}"
        );
        assert_eq!(acd.calls(), 0);
    }
}
