//! Random input sequences: the ACD never panics, stays consistent after every input (no agent rings
//! or talks for two calls, no caller with two agents, no available agent left apart from a caller
//! they could take), changes nothing when it refuses an input, lets every caller go one way or
//! another once agents are free, and serves callers of a priority first come first served.

use std::collections::BTreeSet;

use std::sync::Arc;

use proptest::prelude::*;

use super::tests::{Sim, info};
use super::*;
use crate::agent::{Helpline, Language, PauseReason, Skills};
use crate::log::QueueLog;
use crate::snapshot::Durable;

const QUEUES: &str = r#"
[queue.g]
helpline = "1100"
match_department = true
open_complaint_boost = 5
retry_secs = 5
wrap_up_secs = 10
auto_pause_after = 2
max_wait_secs = 300
on_max_wait = "callback_offer"
callback = { offer_after_secs = 60, key = "1", attempts = 2, retry_secs = 30 }
announce_every_secs = 20
on_empty = "queue:r"

[queue.d]
helpline = "1077"
priority = 100
join_when_empty = true
max_wait_secs = 120
on_max_wait = "queue:r"
strategy = "round_robin"

[queue.r]
strategy = "random"
max_callers = 3
wrap_up_secs = 0
retry_secs = 0
paused_is_empty = false
"#;

const CALLS: u8 = 8;
const AGENTS: u8 = 4;
const QUEUE_NAMES: [&str; 3] = ["g", "d", "r"];
const DEPARTMENTS: [&str; 2] = ["PWR", "JSV"];

#[derive(Debug, Clone)]
enum Op {
    Join {
        call: u8,
        queue: u8,
        hindi: bool,
        department: Option<u8>,
        open: bool,
        disaster: bool,
    },
    Left(u8),
    Key(u8),
    Accept(u8),
    LogIn {
        agent: u8,
        hindi: bool,
        english: bool,
        helplines: u8,
        departments: u8,
    },
    LogOut(u8),
    Pause(u8, u8),
    Resume(u8),
    Dispose(u8),
    Answer(u8),
    Fail(u8, u8),
    CallbackAnswer(u8),
    CallbackFail(u8),
    End(u8, bool),
    Transfer(u8),
    MoveQueue(u8, u8),
    MoveAgent(u8, u8),
    ForcePause(u8),
    ForceLogOut(u8),
    Wait(u16),
    Bogus(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..CALLS, 0..3u8, any::<bool>(), proptest::option::of(0..2u8), any::<bool>(), any::<bool>())
            .prop_map(|(call, queue, hindi, department, open, disaster)| Op::Join {
                call, queue, hindi, department, open, disaster
            }),
        1 => (0..CALLS).prop_map(Op::Left),
        1 => (0..CALLS).prop_map(Op::Key),
        1 => (0..CALLS).prop_map(Op::Accept),
        2 => (0..AGENTS, any::<bool>(), any::<bool>(), 0..8u8, 0..4u8).prop_map(
            |(agent, hindi, english, helplines, departments)| Op::LogIn {
                agent, hindi, english, helplines, departments
            }
        ),
        1 => (0..AGENTS).prop_map(Op::LogOut),
        1 => (0..AGENTS, 0..7u8).prop_map(|(a, r)| Op::Pause(a, r)),
        1 => (0..AGENTS).prop_map(Op::Resume),
        1 => (0..AGENTS).prop_map(Op::Dispose),
        3 => (0..8u8).prop_map(Op::Answer),
        2 => (0..8u8, 0..4u8).prop_map(|(i, c)| Op::Fail(i, c)),
        1 => (0..4u8).prop_map(Op::CallbackAnswer),
        1 => (0..4u8).prop_map(Op::CallbackFail),
        2 => (0..CALLS, any::<bool>()).prop_map(|(c, a)| Op::End(c, a)),
        1 => (0..CALLS).prop_map(Op::Transfer),
        1 => (0..CALLS, 0..3u8).prop_map(|(c, q)| Op::MoveQueue(c, q)),
        1 => (0..CALLS, 0..AGENTS).prop_map(|(c, a)| Op::MoveAgent(c, a)),
        1 => (0..AGENTS).prop_map(Op::ForcePause),
        1 => (0..AGENTS).prop_map(Op::ForceLogOut),
        3 => (0..90u16).prop_map(Op::Wait),
        1 => any::<u64>().prop_map(Op::Bogus),
    ]
}

/// What the driver would know: the attempts in progress, from the actions.
#[derive(Default)]
struct Driver {
    /// Agent rings, oldest first.
    rings: Vec<AttemptId>,
    /// Citizens' legs of call-backs.
    citizens: Vec<AttemptId>,
    /// Calls connected to an agent.
    connected: Vec<CallId>,
}

impl Driver {
    fn see(&mut self, actions: &[Action]) {
        for a in actions {
            match a {
                Action::RingAgent { attempt, .. } => self.rings.push(*attempt),
                Action::PlaceCallback { attempt, .. } => self.citizens.push(*attempt),
                Action::CancelRing { attempt } => self.forget(*attempt),
                Action::Connect { call, .. } => self.connected.push(call.clone()),
                Action::Log(
                    QueueLog::CompleteAgent { call_id, .. }
                    | QueueLog::CompleteCaller { call_id, .. }
                    | QueueLog::Transfer { call_id, .. },
                ) => self.connected.retain(|c| c != call_id),
                _ => {}
            }
        }
    }

    fn forget(&mut self, attempt: AttemptId) {
        self.rings.retain(|a| *a != attempt);
        self.citizens.retain(|a| *a != attempt);
    }

    fn pick(list: &[AttemptId], i: u8) -> Option<AttemptId> {
        (!list.is_empty()).then(|| list[usize::from(i) % list.len()])
    }
}

fn call_id(i: u8) -> CallId {
    CallId::new(&format!("c{i}"))
}

fn agent_id(i: u8) -> AgentId {
    AgentId::new(&format!("a{i}"))
}

fn to_input(op: &Op, driver: &Driver) -> Input {
    let causes = [
        RingFailure::NoAnswer,
        RingFailure::Busy,
        RingFailure::Unreachable,
        RingFailure::Other,
    ];
    match *op {
        Op::Join {
            call,
            queue,
            hindi,
            department,
            open,
            disaster,
        } => Input::Join(Join {
            call: call_id(call),
            queue: QUEUE_NAMES[usize::from(queue)].to_owned(),
            info: CallInfo {
                helpline: if disaster {
                    Helpline::Disaster
                } else {
                    Helpline::Grievance
                },
                ..info(
                    if hindi { Language::Hi } else { Language::En },
                    department.map(|d| DEPARTMENTS[usize::from(d)]),
                    open,
                )
            },
            joined_at: None,
        }),
        Op::Left(c) => Input::Left { call: call_id(c) },
        Op::Key(c) => Input::Key {
            call: call_id(c),
            key: '1',
        },
        Op::Accept(c) => Input::CallbackAccepted { call: call_id(c) },
        Op::LogIn {
            agent,
            hindi,
            english,
            helplines,
            departments,
        } => {
            let languages = [(hindi, Language::Hi), (english, Language::En)];
            let lines = [Helpline::Grievance, Helpline::Disaster, Helpline::Gst];
            Input::LogIn {
                agent: agent_id(agent),
                phone: format!("PJSIP/a{agent}"),
                skills: Skills::new(
                    languages.iter().filter(|(on, _)| *on).map(|(_, l)| *l),
                    DEPARTMENTS
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| departments & (1 << i) != 0)
                        .map(|(_, d)| (*d).to_owned()),
                    lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| helplines & (1 << i) != 0)
                        .map(|(_, h)| *h),
                ),
            }
        }
        Op::LogOut(a) => Input::LogOut { agent: agent_id(a) },
        Op::Pause(a, r) => Input::Pause {
            agent: agent_id(a),
            reason: PauseReason::ALL[usize::from(r) % PauseReason::ALL.len()],
        },
        Op::Resume(a) => Input::Resume { agent: agent_id(a) },
        Op::Dispose(a) => Input::Disposition { agent: agent_id(a) },
        Op::Answer(i) => Input::RingAnswered {
            attempt: Driver::pick(&driver.rings, i).unwrap_or(AttemptId(0)),
        },
        Op::Fail(i, c) => Input::RingFailed {
            attempt: Driver::pick(&driver.rings, i).unwrap_or(AttemptId(0)),
            cause: causes[usize::from(c) % causes.len()],
        },
        Op::CallbackAnswer(i) => Input::CallbackResult {
            attempt: Driver::pick(&driver.citizens, i).unwrap_or(AttemptId(0)),
            outcome: CallbackOutcome::Answered,
        },
        Op::CallbackFail(i) => Input::CallbackResult {
            attempt: Driver::pick(&driver.citizens, i).unwrap_or(AttemptId(0)),
            outcome: CallbackOutcome::Failed(RingFailure::NoAnswer),
        },
        Op::End(c, agent_side) => Input::CallEnded {
            call: call_id(c),
            side: if agent_side {
                Side::Agent
            } else {
                Side::Caller
            },
        },
        Op::Transfer(c) => Input::Transferred {
            call: call_id(c),
            destination: "181".into(),
        },
        Op::MoveQueue(c, q) => Input::Move {
            call: call_id(c),
            to: MoveTarget::Queue(QUEUE_NAMES[usize::from(q)].to_owned()),
            supervisor: "sup".into(),
        },
        Op::MoveAgent(c, a) => Input::Move {
            call: call_id(c),
            to: MoveTarget::Agent(agent_id(a)),
            supervisor: "sup".into(),
        },
        Op::ForcePause(a) => Input::ForcePause {
            agent: agent_id(a),
            reason: PauseReason::System,
            supervisor: "sup".into(),
        },
        Op::ForceLogOut(a) => Input::ForceLogOut {
            agent: agent_id(a),
            supervisor: "sup".into(),
        },
        Op::Wait(_) => Input::Tick,
        Op::Bogus(n) => Input::RingAnswered {
            attempt: AttemptId(n),
        },
    }
}

/// Feeds one input as the driver would; checks the ACD after it.
fn step(s: &mut Sim, driver: &mut Driver, input: Input) -> Result<(), TestCaseError> {
    let answered = match &input {
        Input::RingAnswered { attempt }
        | Input::RingFailed { attempt, .. }
        | Input::CallbackResult { attempt, .. } => Some(*attempt),
        _ => None,
    };
    let before = format!("{:?}", s.acd);
    match s.acd.handle(input, s.now) {
        Ok(actions) => {
            if let Some(a) = answered {
                driver.forget(a);
            }
            driver.see(&actions);
        }
        Err(_) => {
            prop_assert_eq!(before, format!("{:?}", s.acd), "a refusal changed the ACD");
        }
    }
    if let Err(problem) = s.acd.audit(s.now) {
        return Err(TestCaseError::fail(problem));
    }
    Ok(())
}

/// An engine restart: the durable state through JSON into a new ACD, then the callers on the line
/// joined again with their first join time, as the driver does.
fn restart(s: &mut Sim, driver: &mut Driver) -> Result<(), TestCaseError> {
    let saved = s.acd.durable(s.now);
    let json = serde_json::to_string(&saved).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: Durable =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, &saved);
    let on_line: Vec<Join> = s
        .acd
        .callers
        .iter()
        .flatten()
        .filter(|x| x.on_line())
        .map(|x| Join {
            call: x.id.clone(),
            queue: s.acd.queues.at(x.queue).name.clone(),
            info: (*x.info).clone(),
            joined_at: Some(x.joined_at),
        })
        .collect();
    let (acd, out) = Acd::restore(Arc::clone(s.acd.queues()), back, s.now);
    s.acd = acd;
    // The old engine's rings are gone (cancelled by `out`); the calls in progress go on.
    driver.rings.clear();
    driver.citizens.clear();
    driver.see(&out);
    if let Err(problem) = s.acd.audit(s.now) {
        return Err(TestCaseError::fail(problem));
    }
    for join in on_line {
        step(s, driver, Input::Join(join))?;
    }
    Ok(())
}

/// Agents free and answering: every caller ends connected (then hung up), gone or overflowed.
fn drain(s: &mut Sim, driver: &mut Driver) -> Result<(), TestCaseError> {
    let all = Skills::new(
        Language::ALL,
        DEPARTMENTS.iter().map(|d| (*d).to_owned()),
        Helpline::ALL,
    );
    for round in 0..60 {
        s.now += chrono::TimeDelta::seconds(30);
        step(s, driver, Input::Tick)?;
        step(
            s,
            driver,
            Input::LogIn {
                agent: AgentId::new("drain"),
                phone: "PJSIP/drain".into(),
                skills: all.clone(),
            },
        )?;
        for a in 0..AGENTS {
            step(s, driver, Input::Resume { agent: agent_id(a) })?;
        }
        for attempt in driver.rings.clone() {
            step(s, driver, Input::RingAnswered { attempt })?;
        }
        for attempt in driver.citizens.clone() {
            let outcome = CallbackOutcome::Answered;
            step(s, driver, Input::CallbackResult { attempt, outcome })?;
        }
        for call in driver.connected.clone() {
            let side = Side::Agent;
            step(s, driver, Input::CallEnded { call, side })?;
        }
        if s.acd.calls() == 0 && round > 0 {
            return Ok(());
        }
    }
    Err(TestCaseError::fail(format!(
        "callers left after draining: {:?}",
        QUEUE_NAMES.map(|q| s.acd.waiting(q))
    )))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_keep_the_acd_consistent_and_every_caller_goes(
        ops in proptest::collection::vec(op(), 1..80),
        restart_at in proptest::option::of(0..80usize),
    ) {
        let mut s = Sim::new(QUEUES);
        let mut driver = Driver::default();
        for (i, op) in ops.iter().enumerate() {
            if restart_at == Some(i) {
                restart(&mut s, &mut driver)?;
            }
            if let Op::Wait(secs) = op {
                s.now += chrono::TimeDelta::seconds(i64::from(*secs));
            }
            let input = to_input(op, &driver);
            step(&mut s, &mut driver, input)?;
        }
        drain(&mut s, &mut driver)?;
    }

    #[test]
    fn callers_of_a_priority_are_rung_first_come_first_served(ops in proptest::collection::vec(fifo_op(), 1..80)) {
        fifo(&ops)?;
    }
}

#[derive(Debug, Clone)]
enum FifoOp {
    Join(bool),
    Left(u8),
    Agent(u8),
    Pause(u8),
    Resume(u8),
    Answer(u8),
    Fail(u8),
    End(u8),
    Wait(u8),
}

fn fifo_op() -> impl Strategy<Value = FifoOp> {
    prop_oneof![
        4 => any::<bool>().prop_map(FifoOp::Join),
        1 => any::<u8>().prop_map(FifoOp::Left),
        1 => (0..3u8).prop_map(FifoOp::Agent),
        1 => (0..3u8).prop_map(FifoOp::Pause),
        1 => (0..3u8).prop_map(FifoOp::Resume),
        3 => any::<u8>().prop_map(FifoOp::Answer),
        2 => any::<u8>().prop_map(FifoOp::Fail),
        2 => any::<u8>().prop_map(FifoOp::End),
        2 => any::<u8>().prop_map(FifoOp::Wait),
    ]
}

/// One queue, every agent able to take every caller, no retry delay: whenever an agent is rung, the
/// caller is the first of the best priority among those ready.
fn fifo(ops: &[FifoOp]) -> Result<(), TestCaseError> {
    let mut s = Sim::new(
        "[queue.q]\nhelpline = \"1100\"\nretry_secs = 0\nwrap_up_secs = 0\nopen_complaint_boost = 1\n\
         join_when_empty = true\nleave_when_empty = false\nmax_wait_secs = 86400\n",
    );
    let mut driver = Driver::default();
    // Ready callers: (priority rank, arrival, id).
    let mut ready: BTreeSet<(u8, usize, String)> = BTreeSet::new();
    let mut joined: Vec<(u8, String)> = Vec::new();
    let mut connected: Vec<String> = Vec::new();
    for op in ops {
        let input = match op {
            FifoOp::Join(open) => {
                let id = format!("c{}", joined.len());
                joined.push((u8::from(!open), id.clone()));
                Input::Join(Join {
                    call: CallId::new(&id),
                    queue: "q".into(),
                    info: info(Language::Hi, None, *open),
                    joined_at: None,
                })
            }
            FifoOp::Left(i) if !joined.is_empty() => Input::Left {
                call: CallId::new(&joined[usize::from(*i) % joined.len()].1),
            },
            FifoOp::Agent(a) => Input::LogIn {
                agent: agent_id(*a),
                phone: "PJSIP/x".into(),
                skills: Skills::new([Language::Hi], [], [Helpline::Grievance]),
            },
            FifoOp::Pause(a) => Input::Pause {
                agent: agent_id(*a),
                reason: PauseReason::Break,
            },
            FifoOp::Resume(a) => Input::Resume {
                agent: agent_id(*a),
            },
            FifoOp::Answer(i) => Input::RingAnswered {
                attempt: Driver::pick(&driver.rings, *i).unwrap_or(AttemptId(0)),
            },
            FifoOp::Fail(i) => Input::RingFailed {
                attempt: Driver::pick(&driver.rings, *i).unwrap_or(AttemptId(0)),
                cause: RingFailure::NoAnswer,
            },
            FifoOp::End(i) if !connected.is_empty() => Input::CallEnded {
                call: CallId::new(&connected[usize::from(*i) % connected.len()]),
                side: Side::Caller,
            },
            FifoOp::Wait(secs) => {
                s.now += chrono::TimeDelta::seconds(i64::from(*secs));
                Input::Tick
            }
            _ => Input::Tick,
        };
        let newly = match &input {
            Input::Join(j) => joined.iter().position(|(_, id)| id == j.call.as_str()),
            _ => None,
        };
        let left = match &input {
            Input::Left { call } | Input::CallEnded { call, .. } => Some(call.to_string()),
            _ => None,
        };
        let answered = match &input {
            Input::RingAnswered { attempt } | Input::RingFailed { attempt, .. } => Some(*attempt),
            _ => None,
        };
        let Ok(actions) = s.acd.handle(input, s.now) else {
            continue;
        };
        if let Some(a) = answered {
            driver.forget(a);
        }
        if let Some(i) = newly {
            ready.insert((joined[i].0, i, joined[i].1.clone()));
        }
        if let Some(id) = left {
            ready.retain(|(_, _, x)| *x != id);
            connected.retain(|x| *x != id);
        }
        for action in &actions {
            match action {
                Action::RingAgent { call, .. } => {
                    let first = ready.iter().next().map(|(_, _, id)| id.clone());
                    prop_assert_eq!(first.as_deref(), Some(call.as_str()), "rang out of order");
                    ready.retain(|(_, _, x)| x != call.as_str());
                }
                Action::Connect { call, .. } => connected.push(call.to_string()),
                Action::CancelRing { .. } => {}
                _ => {}
            }
            // A ring that failed or was cancelled makes its caller ready again (at its place).
            if let Action::Log(QueueLog::RingNoAnswer { call_id, .. }) = action
                && let Some(i) = joined.iter().position(|(_, id)| id == call_id.as_str())
            {
                ready.insert((joined[i].0, i, joined[i].1.clone()));
            }
        }
        driver.see(&actions);
        if let Err(problem) = s.acd.audit(s.now) {
            return Err(TestCaseError::fail(problem));
        }
    }
    Ok(())
}
