//! The ACD's rules, one test each, driven without a runtime.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::*;
use crate::agent::{AgentError, AgentState, Helpline, Language, PauseReason, Pending, Skills};
use crate::config::Overflow;
use crate::log::QueueLog;

pub(crate) fn t(secs: i64) -> Time {
    Utc.timestamp_opt(1_780_000_000 + secs, 0)
        .single()
        .unwrap_or_default()
}

/// An ACD over the queues of `toml`, with a clock.
pub(crate) struct Sim {
    pub(crate) acd: Acd,
    pub(crate) now: Time,
}

impl Sim {
    pub(crate) fn new(toml: &str) -> Sim {
        let queues = crate::config::checked(toml);
        let mut acd = Acd::new(Arc::new(queues), t(0));
        acd.seed(7);
        Sim { acd, now: t(0) }
    }

    pub(crate) fn at(&mut self, secs: i64) -> &mut Sim {
        self.now = t(secs);
        self
    }

    pub(crate) fn try_input(&mut self, input: Input) -> Result<Vec<Action>, AcdError> {
        self.acd.handle(input, self.now)
    }

    pub(crate) fn input(&mut self, input: Input) -> Vec<Action> {
        self.try_input(input)
            .unwrap_or_else(|e| panic!("refused: {e}"))
    }

    pub(crate) fn tick(&mut self, secs: i64) -> Vec<Action> {
        self.at(secs).input(Input::Tick)
    }

    pub(crate) fn login(
        &mut self,
        id: &str,
        languages: &[Language],
        departments: &[&str],
    ) -> Vec<Action> {
        self.login_to(
            id,
            languages,
            departments,
            &[Helpline::Grievance, Helpline::Disaster],
        )
    }

    pub(crate) fn login_to(
        &mut self,
        id: &str,
        languages: &[Language],
        departments: &[&str],
        helplines: &[Helpline],
    ) -> Vec<Action> {
        self.input(Input::LogIn {
            agent: AgentId::new(id),
            phone: format!("PJSIP/{id}"),
            skills: Skills::new(
                languages.iter().copied(),
                departments.iter().map(|d| (*d).to_owned()),
                helplines.iter().copied(),
            ),
        })
    }

    pub(crate) fn join(&mut self, call: &str, queue: &str, language: Language) -> Vec<Action> {
        self.join_with(call, queue, info(language, None, false))
    }

    pub(crate) fn join_with(&mut self, call: &str, queue: &str, info: CallInfo) -> Vec<Action> {
        self.input(Input::Join(Join {
            call: CallId::new(call),
            queue: queue.to_owned(),
            info,
            joined_at: None,
        }))
    }

    pub(crate) fn answer(&mut self, attempt: AttemptId) -> Vec<Action> {
        self.input(Input::RingAnswered { attempt })
    }

    pub(crate) fn fail(&mut self, attempt: AttemptId) -> Vec<Action> {
        self.input(Input::RingFailed {
            attempt,
            cause: RingFailure::NoAnswer,
        })
    }

    pub(crate) fn end(&mut self, call: &str) -> Vec<Action> {
        self.input(Input::CallEnded {
            call: CallId::new(call),
            side: Side::Caller,
        })
    }

    pub(crate) fn state(&self, agent: &str) -> AgentState {
        self.acd
            .agent(agent)
            .map_or(AgentState::LoggedOut, |a| a.state().clone())
    }
}

pub(crate) fn info(language: Language, department: Option<&str>, open_complaint: bool) -> CallInfo {
    CallInfo {
        number: "+919800000001".into(),
        language,
        department: department.map(str::to_owned),
        helpline: Helpline::Grievance,
        open_complaint,
        complaints: vec!["1100000017".into()],
    }
}

/// The rings among `actions`: (attempt, agent, call).
pub(crate) fn rings(actions: &[Action]) -> Vec<(AttemptId, String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RingAgent {
                attempt,
                agent,
                call,
                ..
            } => Some((*attempt, agent.to_string(), call.to_string())),
            _ => None,
        })
        .collect()
}

/// The only ring among `actions`.
fn ring(actions: &[Action]) -> (AttemptId, String, String) {
    let r = rings(actions);
    assert_eq!(r.len(), 1, "one ring expected: {actions:#?}");
    r[0].clone()
}

fn logs(actions: &[Action]) -> Vec<&QueueLog> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log(l) => Some(l),
            _ => None,
        })
        .collect()
}

fn log_names(actions: &[Action]) -> Vec<&'static str> {
    logs(actions).iter().map(|l| l.name()).collect()
}

const ONE: &str = "[queue.grievance]\nhelpline = \"1100\"\nwrap_up_secs = 30\nretry_secs = 5\n";

use Language::{En, Hi};

#[test]
fn an_agent_answers_talks_wraps_up_and_is_available_again() {
    let mut s = Sim::new(ONE);
    let out = s.login("asha", &[Hi], &[]);
    assert_eq!(log_names(&out), ["AGENTLOGIN"]);
    let out = s.at(1).join("c1", "grievance", Hi);
    assert_eq!(log_names(&out), ["ENTERQUEUE"]);
    let (attempt, agent, call) = ring(&out);
    assert_eq!((agent.as_str(), call.as_str()), ("asha", "c1"));
    assert!(matches!(s.state("asha"), AgentState::Ringing { .. }));

    let out = s.at(4).answer(attempt);
    assert!(out.contains(&Action::Connect {
        call: CallId::new("c1"),
        agent: AgentId::new("asha"),
        agent_leg: attempt,
        callback_leg: None,
    }));
    assert!(logs(&out).contains(&&QueueLog::Connect {
        call_id: CallId::new("c1"),
        queue: "grievance".into(),
        agent: AgentId::new("asha"),
        hold_ms: 3000,
    }));

    let out = s.at(64).end("c1");
    assert!(logs(&out).contains(&&QueueLog::CompleteCaller {
        call_id: CallId::new("c1"),
        queue: "grievance".into(),
        agent: AgentId::new("asha"),
        hold_ms: 3000,
        talk_ms: 60_000,
    }));
    assert_eq!(
        s.state("asha"),
        AgentState::WrapUp {
            call: CallId::new("c1"),
            until: t(94)
        }
    );
    assert_eq!(s.acd.next_deadline(), Some(t(94)));
    assert!(s.tick(93).is_empty());
    let out = s.tick(94);
    assert_eq!(log_names(&out), ["WRAPUP"]);
    assert_eq!(s.state("asha"), AgentState::Available { since: t(94) });
    assert_eq!(s.acd.calls(), 0);
}

#[test]
fn no_answer_rings_the_next_agent_at_once_and_pauses_the_agent_at_the_limit() {
    let mut s = Sim::new(&format!("{ONE}auto_pause_after = 2\n"));
    s.login("asha", &[Hi], &[]);
    s.at(1).login("bina", &[Hi], &[]);
    let (first, agent, _) = ring(&s.at(2).join("c1", "grievance", Hi));
    assert_eq!(agent, "asha", "the longest idle first");
    let out = s.at(22).fail(first);
    assert_eq!(log_names(&out), ["RINGNOANSWER"]);
    let (second, agent, call) = ring(&out);
    assert_eq!((agent.as_str(), call.as_str()), ("bina", "c1"));
    assert_eq!(s.state("asha"), AgentState::Available { since: t(22) });
    assert_eq!(s.acd.agent("asha").map(|a| a.no_answers()), Some(1));

    // Bina too lets it ring out; asha is not offered it again within retry_secs, then is.
    let out = s.at(24).fail(second);
    assert!(rings(&out).is_empty(), "{out:#?}");
    let (third, agent, _) = ring(&s.tick(27));
    assert_eq!(agent, "asha");
    let out = s.at(30).fail(third);
    assert!(out.iter().any(|a| matches!(
        a,
        Action::AgentStateChanged {
            new: AgentState::Paused {
                reason: PauseReason::NoAnswer,
                ..
            },
            cause: ChangeCause::NoAnswer,
            ..
        }
    )));
    assert!(log_names(&out).contains(&"PAUSE"));
}

#[test]
fn a_ring_nobody_reports_on_is_ended_by_the_acd() {
    let mut s = Sim::new(ONE);
    s.login("asha", &[Hi], &[]);
    s.at(1).login("bina", &[Hi], &[]);
    let (attempt, _, _) = ring(&s.at(2).join("c1", "grievance", Hi));
    // 20 s ring timeout + 5 s grace.
    assert!(s.tick(26).is_empty());
    let out = s.tick(27);
    assert_eq!(out[0], Action::CancelRing { attempt });
    assert_eq!(ring(&out).1, "bina");
    assert_eq!(
        s.try_input(Input::RingAnswered { attempt }),
        Err(AcdError::UnknownAttempt(attempt)),
        "a late answer is refused: the driver hangs that channel up"
    );
}

#[test]
fn a_disposition_ends_wrap_up_early_and_the_next_caller_rings() {
    let mut s = Sim::new(ONE);
    s.login("asha", &[Hi], &[]);
    let (a1, _, _) = ring(&s.at(1).join("c1", "grievance", Hi));
    s.answer(a1);
    assert!(rings(&s.at(2).join("c2", "grievance", Hi)).is_empty());
    s.at(30).end("c1");
    let out = s.at(35).input(Input::Disposition {
        agent: AgentId::new("asha"),
    });
    assert!(logs(&out).contains(&&QueueLog::Wrapup {
        call_id: CallId::new("c1"),
        queue: "grievance".into(),
        agent: AgentId::new("asha"),
        wrapup_ms: 5000,
    }));
    assert_eq!(ring(&out).2, "c2");
    assert_eq!(
        s.try_input(Input::Disposition {
            agent: AgentId::new("asha")
        }),
        Err(AcdError::Agent {
            agent: AgentId::new("asha"),
            error: AgentError::NotInWrapUp
        })
    );
}

#[test]
fn a_hindi_caller_reaches_a_hindi_agent() {
    let mut s = Sim::new(ONE);
    s.login("emma", &[En], &[]);
    s.at(1).login("hari", &[Hi], &[]);
    assert_eq!(ring(&s.at(2).join("c1", "grievance", Hi)).1, "hari");
    assert_eq!(ring(&s.at(3).join("c2", "grievance", En)).1, "emma");
}

#[test]
fn a_queue_that_matches_departments_rings_an_agent_of_the_department() {
    let mut s = Sim::new("[queue.g]\nhelpline = \"1100\"\nmatch_department = true\n");
    s.login("pwd", &[Hi], &["PWD"]);
    s.at(1).login("pwr", &[Hi], &["PWR"]);
    let out = s.at(2).join_with("c1", "g", info(Hi, Some("PWR"), false));
    assert_eq!(ring(&out).1, "pwr");
    // A call with no department goes to anyone.
    assert_eq!(
        ring(&s.at(3).join_with("c2", "g", info(Hi, None, false))).1,
        "pwd"
    );
}

const TWO: &str = "[queue.grievance]\nhelpline = \"1100\"\nopen_complaint_boost = 5\nwrap_up_secs = 0\n\
                   [queue.disaster]\nhelpline = \"1077\"\npriority = 100\njoin_when_empty = true\n";

#[test]
fn an_agent_shared_by_queues_takes_the_disaster_caller_first() {
    let mut s = Sim::new(TWO);
    s.login("asha", &[Hi], &[]);
    let (a1, _, _) = ring(&s.at(1).join("c1", "grievance", Hi));
    s.answer(a1);
    s.at(2).join("g2", "grievance", Hi);
    s.at(3).join_with(
        "d1",
        "disaster",
        CallInfo {
            helpline: Helpline::Disaster,
            ..info(Hi, None, false)
        },
    );
    let out = s.at(10).end("c1");
    assert_eq!(ring(&out).2, "d1", "the 1077 caller jumps ahead");
}

#[test]
fn an_open_complaint_raises_a_caller_and_equals_are_served_in_order() {
    let mut s = Sim::new(TWO);
    s.login("asha", &[Hi], &[]);
    let (a1, _, _) = ring(&s.at(1).join("c1", "grievance", Hi));
    s.answer(a1);
    s.at(2).join("g2", "grievance", Hi);
    s.at(3).join("g3", "grievance", Hi);
    s.at(4).join_with("g4", "grievance", info(Hi, None, true));
    assert_eq!(
        s.acd.waiting("grievance"),
        [CallId::new("g4"), CallId::new("g2"), CallId::new("g3")]
    );
    let mut order = Vec::new();
    let mut current = "c1".to_owned();
    for i in 0..3 {
        let (a, _, call) = ring(&s.at(10 + i).end(&current));
        s.answer(a);
        order.push(call.clone());
        current = call;
    }
    assert_eq!(order, ["g4", "g2", "g3"]);
}

#[test]
fn a_caller_re_joined_after_a_restart_keeps_their_place() {
    let mut s = Sim::new(&format!("{ONE}join_when_empty = true\n"));
    s.at(100).join("new", "grievance", Hi);
    s.input(Input::Join(Join {
        call: CallId::new("old"),
        queue: "grievance".into(),
        info: info(Hi, None, false),
        joined_at: Some(t(20)),
    }));
    assert_eq!(
        s.acd.waiting("grievance"),
        [CallId::new("old"), CallId::new("new")]
    );
}

#[test]
fn callers_hear_their_position_and_the_expected_wait() {
    let mut s = Sim::new(
        "[queue.grievance]\nhelpline = \"1100\"\nannounce_every_secs = 30\nwrap_up_secs = 0\n",
    );
    s.login("asha", &[Hi], &[]);
    let announce = |out: &[Action]| {
        out.iter()
            .filter_map(|a| match a {
                Action::Announce {
                    call,
                    position,
                    expected_wait_secs,
                    ..
                } => Some((call.to_string(), *position, *expected_wait_secs)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // Three answers, 10 s apart, make the rate known.
    let mut talking: Option<String> = None;
    for i in 0..3 {
        let call = format!("x{i}");
        let out = match &talking {
            None => s.at(i * 10).join(&call, "grievance", Hi),
            Some(c) => {
                s.at(i * 10).join(&call, "grievance", Hi);
                s.end(c)
            }
        };
        let (a, _, rung) = ring(&out);
        s.answer(a);
        talking = Some(rung);
    }
    let out = s.at(30).join("c1", "grievance", Hi);
    // Answers at 0, 10, 20; at 30: 30 s over 3 answers = 10 s an answer.
    assert_eq!(announce(&out), [("c1".to_owned(), 1, Some(10))]);
    let out = s.at(31).join("c2", "grievance", Hi);
    assert_eq!(announce(&out), [("c2".to_owned(), 2, Some(21))]);
    let out = s.tick(60);
    assert_eq!(announce(&out), [("c1".to_owned(), 1, Some(20))]);

    // Without answers yet, the wait is not known.
    let mut waiting = Sim::new(&format!(
        "{ONE}announce_every_secs = 30\njoin_when_empty = true\n"
    ));
    let out = waiting.join("c1", "grievance", Hi);
    assert_eq!(announce(&out), [("c1".to_owned(), 1, None)]);
}

#[test]
fn at_the_most_wait_a_caller_records_a_complaint_or_goes_to_the_next_queue() {
    let q = "[queue.a]\nhelpline = \"1100\"\nmax_wait_secs = 60\non_max_wait = \"queue:b\"\njoin_when_empty = true\n\
             [queue.b]\nhelpline = \"1100\"\nmax_wait_secs = 30\njoin_when_empty = true\n";
    let mut s = Sim::new(q);
    s.join("c1", "a", Hi);
    let out = s.tick(60);
    assert_eq!(log_names(&out), ["EXITWITHTIMEOUT", "ENTERQUEUE"]);
    assert!(out.contains(&Action::Overflow {
        call: CallId::new("c1"),
        queue: "a".into(),
        to: Overflow::Queue("b".into()),
        reason: OverflowReason::MaxWait,
    }));
    assert_eq!(s.acd.waiting("b"), [CallId::new("c1")]);
    let out = s.tick(90);
    assert!(out.contains(&Action::Overflow {
        call: CallId::new("c1"),
        queue: "b".into(),
        to: Overflow::RecordComplaint,
        reason: OverflowReason::MaxWait,
    }));
    assert_eq!(s.acd.calls(), 0);
}

#[test]
fn nobody_to_take_a_caller_follows_the_empty_rules() {
    let mut s = Sim::new(ONE);
    // Nobody logged in: refused at once.
    let out = s.join("c1", "grievance", Hi);
    assert_eq!(log_names(&out), ["JOINEMPTY"]);
    assert!(out.contains(&Action::Overflow {
        call: CallId::new("c1"),
        queue: "grievance".into(),
        to: Overflow::RecordComplaint,
        reason: OverflowReason::Empty,
    }));
    // Only an English agent: a Hindi caller is refused too.
    s.login("emma", &[En], &[]);
    assert_eq!(
        log_names(&s.at(1).join("c2", "grievance", Hi)),
        ["JOINEMPTY"]
    );
    // A Hindi agent on a call: the caller waits; when the agent logs out, they leave.
    s.login("hari", &[Hi], &[]);
    let (a, _, _) = ring(&s.at(2).join("c3", "grievance", Hi));
    s.answer(a);
    s.at(3).join("c4", "grievance", Hi);
    s.input(Input::LogOut {
        agent: AgentId::new("hari"),
    });
    assert_eq!(
        s.acd.agent("hari").and_then(|a| a.pending()),
        Some(Pending::LogOut)
    );
    s.at(10).end("c3");
    // Logged out after the wrap-up.
    let out = s.tick(40);
    assert!(log_names(&out).contains(&"EXITEMPTY"), "{out:#?}");
    assert!(out.contains(&Action::Overflow {
        call: CallId::new("c4"),
        queue: "grievance".into(),
        to: Overflow::RecordComplaint,
        reason: OverflowReason::Empty,
    }));
}

#[test]
fn the_last_agent_pausing_empties_the_queue_unless_paused_agents_count() {
    let mut s = Sim::new(ONE);
    s.login("hari", &[Hi], &[]);
    let (a, _, _) = ring(&s.join("c1", "grievance", Hi));
    s.answer(a);
    s.join("c2", "grievance", Hi);
    s.at(5).end("c1");
    let out = s.input(Input::ForcePause {
        agent: AgentId::new("hari"),
        reason: PauseReason::Meeting,
        supervisor: "sup".into(),
    });
    assert!(log_names(&out).contains(&"EXITEMPTY"));

    let mut s = Sim::new(&format!("{ONE}paused_is_empty = false\n"));
    s.login("hari", &[Hi], &[]);
    s.input(Input::Pause {
        agent: AgentId::new("hari"),
        reason: PauseReason::Lunch,
    });
    assert_eq!(log_names(&s.join("c1", "grievance", Hi)), ["ENTERQUEUE"]);
}

const CALLBACK: &str = "[queue.grievance]\nhelpline = \"1100\"\nwrap_up_secs = 0\n\
                        callback = { offer_after_secs = 60, key = \"1\", attempts = 2, retry_secs = 300 }\n";

#[test]
fn a_call_back_keeps_its_place_and_rings_an_agent_before_the_citizen() {
    let mut s = Sim::new(CALLBACK);
    s.login("asha", &[Hi], &[]);
    let (a, _, _) = ring(&s.join("busy", "grievance", Hi));
    s.answer(a);
    s.at(1).join("c1", "grievance", Hi);
    s.at(2).join("c2", "grievance", Hi);
    let out = s.at(3).input(Input::Key {
        call: CallId::new("c1"),
        key: '1',
    });
    assert_eq!(log_names(&out), ["CALLBACK_ACCEPTED"]);
    assert!(out.contains(&Action::CallbackBooked {
        call: CallId::new("c1"),
        language: Hi
    }));
    // The citizen hangs up; the slot stays, ahead of c2.
    assert!(
        s.input(Input::Left {
            call: CallId::new("c1")
        })
        .is_empty()
    );
    assert_eq!(
        s.acd.waiting("grievance"),
        [CallId::new("c1"), CallId::new("c2")]
    );

    let out = s.at(50).end("busy");
    let agent_ring = out.iter().find_map(|a| match a {
        Action::RingAgent {
            attempt,
            call,
            callback: true,
            info,
            ..
        } => Some((*attempt, call.clone(), info.number.clone())),
        _ => None,
    });
    let (agent_leg, call, number) = agent_ring.unwrap_or_else(|| panic!("{out:#?}"));
    assert_eq!((call.as_str(), number.as_str()), ("c1", "+919800000001"));
    let out = s.at(52).answer(agent_leg);
    let Some(Action::PlaceCallback {
        attempt: citizen,
        agent,
        ..
    }) = out
        .iter()
        .find(|a| matches!(a, Action::PlaceCallback { .. }))
    else {
        panic!("{out:#?}")
    };
    assert_eq!(agent.as_str(), "asha");
    let citizen = *citizen;
    let out = s.at(60).input(Input::CallbackResult {
        attempt: citizen,
        outcome: CallbackOutcome::Answered,
    });
    assert!(out.contains(&Action::Connect {
        call: CallId::new("c1"),
        agent: AgentId::new("asha"),
        agent_leg,
        callback_leg: Some(citizen),
    }));
    assert_eq!(s.acd.waiting("grievance"), [CallId::new("c2")]);
}

#[test]
fn a_call_back_not_answered_is_tried_again_then_given_up() {
    let mut s = Sim::new(CALLBACK);
    s.login("asha", &[Hi], &[]);
    let (a, _, _) = ring(&s.join("busy", "grievance", Hi));
    s.answer(a);
    s.at(1).join("c1", "grievance", Hi);
    s.input(Input::CallbackAccepted {
        call: CallId::new("c1"),
    });
    let fail_citizen = |s: &mut Sim, out: Vec<Action>| {
        let (agent_leg, _, _) = ring(&out);
        let out = s.answer(agent_leg);
        let citizen = out
            .iter()
            .find_map(|a| match a {
                Action::PlaceCallback { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{out:#?}"));
        s.input(Input::CallbackResult {
            attempt: citizen,
            outcome: CallbackOutcome::Failed(RingFailure::NoAnswer),
        })
    };
    let out = s.at(10).end("busy");
    let out = fail_citizen(&mut s, out);
    assert_eq!(s.state("asha"), AgentState::Available { since: t(10) });
    assert!(rings(&out).is_empty(), "not again before retry_secs");
    let out = s.tick(310);
    let out = fail_citizen(&mut s, out);
    assert!(out.iter().any(|a| matches!(
        a,
        Action::CallbackFailed { call, attempts: 2, .. } if call.as_str() == "c1"
    )));
    // In the queue log too (for the report's service level): joined at 1 s, given up at 310 s.
    let failed: Vec<_> = logs(&out)
        .into_iter()
        .filter(|l| l.name() == "CALLBACK_FAILED")
        .collect();
    assert_eq!(
        failed,
        [&QueueLog::CallbackFailed {
            call_id: CallId::new("c1"),
            queue: "grievance".into(),
            attempts: 2,
            wait_ms: 309_000,
        }]
    );
    assert_eq!(s.acd.calls(), 0);
}

#[test]
fn the_call_back_is_offered_after_a_while_and_finally_at_the_most_wait() {
    let q = "[queue.g]\nhelpline = \"1100\"\njoin_when_empty = true\nmax_wait_secs = 120\n\
             on_max_wait = \"callback_offer\"\ncallback = { offer_after_secs = 60 }\n";
    let mut s = Sim::new(q);
    s.join("c1", "g", Hi);
    let offers = |out: &[Action]| {
        out.iter()
            .filter_map(|a| match a {
                Action::OfferCallback { final_offer, .. } => Some(*final_offer),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(offers(&s.tick(60)), [false]);
    assert_eq!(offers(&s.tick(120)), [true]);
    let out = s.tick(120 + i64::from(CALLBACK_DECISION_SECS));
    assert!(out.contains(&Action::Overflow {
        call: CallId::new("c1"),
        queue: "g".into(),
        to: Overflow::RecordComplaint,
        reason: OverflowReason::MaxWait,
    }));
}

#[test]
fn a_supervisor_moves_a_waiting_call_to_another_queue_or_to_an_agent() {
    let q = "[queue.a]\nhelpline = \"1100\"\njoin_when_empty = true\n\
             [queue.b]\nhelpline = \"1077\"\njoin_when_empty = true\n";
    let mut s = Sim::new(q);
    s.join("c1", "a", Hi);
    let out = s.at(5).input(Input::Move {
        call: CallId::new("c1"),
        to: MoveTarget::Queue("b".into()),
        supervisor: "sup".into(),
    });
    assert_eq!(log_names(&out), ["MOVED", "ENTERQUEUE"]);
    assert_eq!(s.acd.waiting("b"), [CallId::new("c1")]);
    // An agent of 1077 only gets it.
    assert_eq!(
        ring(&s.login_to("dev", &[Hi], &[], &[Helpline::Disaster])).2,
        "c1"
    );

    // Moved to a named agent, whatever the skills: only that agent gets it.
    let mut s = Sim::new(q);
    s.login_to("emma", &[En], &[], &[Helpline::Gst]);
    s.login_to("hari", &[Hi], &[], &[Helpline::Grievance]);
    let (a, _, _) = ring(&s.join("busy", "a", Hi));
    s.answer(a);
    s.join("c2", "a", Hi);
    s.input(Input::Pause {
        agent: AgentId::new("emma"),
        reason: PauseReason::Break,
    });
    s.input(Input::Move {
        call: CallId::new("c2"),
        to: MoveTarget::Agent(AgentId::new("emma")),
        supervisor: "sup".into(),
    });
    assert!(
        rings(&s.at(10).end("busy")).is_empty(),
        "hari may not take it"
    );
    let out = s.input(Input::Resume {
        agent: AgentId::new("emma"),
    });
    let (_, agent, call) = ring(&out);
    assert_eq!((agent.as_str(), call.as_str()), ("emma", "c2"));
}

#[test]
fn a_forced_pause_while_ringing_offers_the_caller_to_the_next_agent() {
    let mut s = Sim::new(ONE);
    s.login("asha", &[Hi], &[]);
    s.at(1).login("bina", &[Hi], &[]);
    let (attempt, _, _) = ring(&s.at(2).join("c1", "grievance", Hi));
    let out = s.at(3).input(Input::ForcePause {
        agent: AgentId::new("asha"),
        reason: PauseReason::System,
        supervisor: "sup".into(),
    });
    assert!(out.contains(&Action::CancelRing { attempt }));
    assert!(out.contains(&Action::AgentStateChanged {
        agent: AgentId::new("asha"),
        old: AgentState::Ringing {
            call: CallId::new("c1"),
            attempt,
            since: t(2)
        },
        new: AgentState::Paused {
            reason: PauseReason::System,
            since: t(3)
        },
        cause: ChangeCause::Supervisor("sup".into()),
    }));
    assert_eq!(ring(&out).1, "bina");
    // A forced log-out waits for a call in progress.
    let (a, _, _) = ring(&out);
    s.answer(a);
    let out = s.input(Input::ForceLogOut {
        agent: AgentId::new("bina"),
        supervisor: "sup".into(),
    });
    assert_eq!(
        out,
        [Action::AgentPending {
            agent: AgentId::new("bina"),
            pending: Some(Pending::LogOut)
        }]
    );
    assert!(matches!(s.state("bina"), AgentState::OnCall { .. }));
}

#[test]
fn a_pause_asked_on_a_call_begins_after_the_wrap_up() {
    let mut s = Sim::new(ONE);
    s.login("asha", &[Hi], &[]);
    let (a, _, _) = ring(&s.join("c1", "grievance", Hi));
    s.answer(a);
    s.input(Input::Pause {
        agent: AgentId::new("asha"),
        reason: PauseReason::Lunch,
    });
    s.join("c2", "grievance", Hi);
    s.at(10).end("c1");
    let out = s.tick(40);
    // The only agent paused: c2 has nobody left (paused agents count as gone).
    assert_eq!(log_names(&out), ["WRAPUP", "PAUSE", "EXITEMPTY"]);
    assert!(rings(&out).is_empty());
    assert_eq!(
        s.state("asha"),
        AgentState::Paused {
            reason: PauseReason::Lunch,
            since: t(40)
        }
    );
}

#[test]
fn a_caller_who_hangs_up_while_ringing_frees_the_agent_without_a_mark() {
    let mut s = Sim::new(ONE);
    s.login("asha", &[Hi], &[]);
    let (attempt, _, _) = ring(&s.join("c1", "grievance", Hi));
    s.join("c2", "grievance", Hi);
    let out = s.at(9).input(Input::Left {
        call: CallId::new("c1"),
    });
    assert_eq!(out[0], Action::CancelRing { attempt });
    assert!(logs(&out).contains(&&QueueLog::Abandon {
        call_id: CallId::new("c1"),
        queue: "grievance".into(),
        position: 1,
        wait_ms: 9000,
    }));
    assert_eq!(ring(&out).2, "c2", "asha goes straight to the next caller");
    assert_eq!(s.acd.agent("asha").map(|a| a.no_answers()), Some(0));
}

#[test]
fn the_strategies_pick_as_documented() {
    let q = |strategy: &str| {
        format!("[queue.g]\nhelpline = \"1100\"\nwrap_up_secs = 0\nstrategy = \"{strategy}\"\n")
    };
    // Round robin: after the last one rung, by login name, whoever has been idle longest.
    let mut s = Sim::new(&q("round_robin"));
    for (i, id) in ["cara", "asha", "bina"].iter().enumerate() {
        s.at(i as i64).login(id, &[Hi], &[]);
    }
    let mut order = Vec::new();
    for i in 0..4 {
        let (a, agent, call) = ring(&s.at(10 + i).join(&format!("c{i}"), "g", Hi));
        s.answer(a);
        s.end(&call);
        order.push(agent);
    }
    assert_eq!(order, ["asha", "bina", "cara", "asha"]);

    // Fewest calls: bina has taken none.
    let mut s = Sim::new(&q("fewest_calls"));
    s.login("asha", &[Hi], &[]);
    let (a, _, _) = ring(&s.at(1).join("c0", "g", Hi));
    s.answer(a);
    s.end("c0");
    s.at(2).login("bina", &[Hi], &[]);
    assert_eq!(ring(&s.at(3).join("c1", "g", Hi)).1, "bina");

    // Random: every agent gets some of 60 calls.
    let mut s = Sim::new(&q("random"));
    for id in ["asha", "bina", "cara"] {
        s.login(id, &[Hi], &[]);
    }
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..60 {
        let (a, agent, call) = ring(&s.at(i).join(&format!("c{i}"), "g", Hi));
        s.answer(a);
        s.end(&call);
        seen.insert(agent);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn refused_inputs_change_nothing() {
    let mut s = Sim::new(ONE);
    s.login("asha", &[Hi], &[]);
    let (attempt, _, _) = ring(&s.join("c1", "grievance", Hi));
    let before = format!("{:?}", s.acd);
    let refusals = [
        (
            Input::Join(Join {
                call: CallId::new("c1"),
                queue: "grievance".into(),
                info: info(Hi, None, false),
                joined_at: None,
            }),
            AcdError::DuplicateCall(CallId::new("c1")),
        ),
        (
            Input::Join(Join {
                call: CallId::new("c9"),
                queue: "nope".into(),
                info: info(Hi, None, false),
                joined_at: None,
            }),
            AcdError::UnknownQueue("nope".into()),
        ),
        (
            Input::Left {
                call: CallId::new("zz"),
            },
            AcdError::UnknownCall(CallId::new("zz")),
        ),
        (
            Input::RingAnswered {
                attempt: AttemptId(1),
            },
            AcdError::UnknownAttempt(AttemptId(1)),
        ),
        (
            Input::Resume {
                agent: AgentId::new("nobody"),
            },
            AcdError::UnknownAgent(AgentId::new("nobody")),
        ),
        (
            Input::CallbackAccepted {
                call: CallId::new("c1"),
            },
            AcdError::NoCallback("grievance".into()),
        ),
        (
            Input::CallEnded {
                call: CallId::new("c1"),
                side: Side::Agent,
            },
            AcdError::NotConnected(CallId::new("c1")),
        ),
        (
            Input::LogIn {
                agent: AgentId::new("asha"),
                phone: "PJSIP/x".into(),
                skills: Skills::new([Hi], [], [Helpline::Grievance]),
            },
            AcdError::Agent {
                agent: AgentId::new("asha"),
                error: AgentError::AlreadyLoggedIn,
            },
        ),
        (
            Input::LogIn {
                agent: AgentId::new("new"),
                phone: "PJSIP/x".into(),
                skills: Skills::default(),
            },
            AcdError::Agent {
                agent: AgentId::new("new"),
                error: AgentError::NoSkills,
            },
        ),
    ];
    for (input, error) in refusals {
        assert_eq!(s.try_input(input), Err(error));
    }
    assert_eq!(format!("{:?}", s.acd), before);
    assert!(!s.answer(attempt).is_empty());
}
