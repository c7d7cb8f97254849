//! Queue and agent reports on both backends: two seeded days of the queue log (three queues with
//! their own targets or none, four agents with shifts and pauses — one across midnight —, calls that
//! are answered after rings, abandoned short or not, overflowed, refused, moved, called back) are
//! stored, and every queue and agent figure of the store's report is computed again here from the
//! generated calls and shifts — not from the events — for each day, both days, a queue and an agent.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use records::report::{AgentFigures, PauseTime, QueueFigures, QueueTarget};
use records::{QueueEvent, QueueLogEntry, RecordStore, ReportSpec};

mod support;
use support::{Rng, databases};

/// The queues, with their own targets (service level, short abandon) or none.
const QUEUES: [(&str, Option<(u32, u32)>); 3] = [
    ("grievance-en", Some((30, 3))),
    ("grievance-hi", Some((20, 5))),
    ("health", None),
];
/// The report's own target, for the queue without one (the short-abandon threshold: the default).
const REPORT_TARGET_SECS: u32 = 25;
const AGENTS: [&str; 4] = ["asha", "john", "meena", "ravi"];
const REASONS: [&str; 3] = ["break", "lunch", "training"];
const DAYS: usize = 2;

fn target(queue: usize) -> (i64, i64) {
    let (sl, short) = QUEUES[queue].1.unwrap_or((REPORT_TARGET_SECS, 5));
    (i64::from(sl) * 1000, i64::from(short) * 1000)
}

/// Midnight (IST) starting local day `day` (0: 2 December 2026).
fn midnight(day: usize) -> DateTime<Utc> {
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("IST");
    let first = ist
        .with_ymd_and_hms(2026, 12, 2, 0, 0, 0)
        .single()
        .expect("valid");
    (first + Duration::days(day as i64)).with_timezone(&Utc)
}

#[derive(Debug, Clone, Copy)]
enum End {
    Agent,
    Caller,
    Transfer,
}

/// An agent took the call: after `hold` (from the first join), for `talk`, then `wrapup`.
#[derive(Debug, Clone, Copy)]
struct Answer {
    agent: &'static str,
    hold: i64,
    talk: i64,
    wrapup: i64,
    end: End,
}

#[derive(Debug, Clone, Copy)]
enum Fate {
    Answered(Answer),
    Abandoned {
        wait: i64,
    },
    Overflowed {
        wait: i64,
        empty: bool,
    },
    Refused {
        full: bool,
    },
    /// Moved by a supervisor after `after` into queue `to`, and answered there.
    Moved {
        after: i64,
        to: usize,
        answer: Answer,
    },
}

#[derive(Debug)]
struct Call {
    id: String,
    day: usize,
    queue: usize,
    joined: DateTime<Utc>,
    /// Agents rung who did not answer, and for how long.
    rings: Vec<(&'static str, i64)>,
    callback_offered: bool,
    callback_accepted: bool,
    fate: Fate,
}

/// An agent's time logged in, with its pauses; `logoff` `None`: still logged in.
#[derive(Debug)]
struct Shift {
    agent: &'static str,
    login: DateTime<Utc>,
    logoff: Option<DateTime<Utc>>,
    pauses: Vec<(DateTime<Utc>, DateTime<Utc>, &'static str)>,
}

fn answer(rng: &mut Rng, hold: i64) -> Answer {
    Answer {
        agent: rng.pick(&AGENTS),
        hold,
        talk: rng.ms(20_000, 900_000),
        wrapup: rng.ms(0, 90_000),
        end: rng.pick(&[End::Agent, End::Caller, End::Caller, End::Transfer]),
    }
}

fn generate_calls(rng: &mut Rng, per_day: usize) -> Vec<Call> {
    let mut calls = Vec::new();
    for day in 0..DAYS {
        // Calls join between 08:00 and 20:00; every one is over before 22:00.
        let open = midnight(day) + Duration::hours(8);
        for i in 0..per_day {
            let joined = open + Duration::milliseconds(rng.ms(0, 12 * 3_600_000));
            let queue = rng.below(QUEUES.len() as u64) as usize;
            let callback_accepted = rng.below(10) == 0;
            let fate = if callback_accepted {
                // Called back: answered long after the first join.
                let hold = rng.ms(300_000, 1_800_000);
                Fate::Answered(answer(rng, hold))
            } else {
                match rng.below(20) {
                    0..=9 => {
                        let hold = rng.ms(0, 60_000);
                        Fate::Answered(answer(rng, hold))
                    }
                    10..=13 => Fate::Abandoned {
                        wait: rng.ms(0, 90_000),
                    },
                    14 | 15 => Fate::Overflowed {
                        wait: rng.ms(5_000, 600_000),
                        empty: rng.below(2) == 0,
                    },
                    16 | 17 => Fate::Refused {
                        full: rng.below(2) == 0,
                    },
                    _ => {
                        let hold = rng.ms(10_000, 120_000);
                        Fate::Moved {
                            after: rng.ms(1_000, hold),
                            to: (queue + 1 + rng.below(2) as usize) % QUEUES.len(),
                            answer: answer(rng, hold),
                        }
                    }
                }
            };
            let rings = match fate {
                Fate::Answered(_) | Fate::Abandoned { .. } => (0..rng.below(3))
                    .map(|_| (rng.pick(&AGENTS), rng.ms(1_000, 20_000)))
                    .collect(),
                _ => Vec::new(),
            };
            calls.push(Call {
                id: format!("ast/d{day}c{i}"),
                day,
                queue,
                joined,
                rings,
                callback_offered: callback_accepted || rng.below(5) == 0,
                callback_accepted,
                fate,
            });
        }
    }
    calls
}

fn generate_shifts(rng: &mut Rng) -> Vec<Shift> {
    let mut shifts = Vec::new();
    for day in 0..DAYS {
        for agent in AGENTS {
            let at = |h: i64, spread_min: i64, rng: &mut Rng| {
                midnight(day)
                    + Duration::hours(h)
                    + Duration::milliseconds(rng.ms(0, spread_min * 60_000))
            };
            let login = at(7, 60, rng);
            let first = at(10, 60, rng);
            let second = at(13, 60, rng);
            let pauses = vec![
                (
                    first,
                    first + Duration::minutes(5 + rng.below(25) as i64),
                    rng.pick(&REASONS),
                ),
                (
                    second,
                    second + Duration::minutes(10 + rng.below(50) as i64),
                    rng.pick(&REASONS),
                ),
            ];
            // John is still logged in when the second day ends.
            let logoff = (agent != "john" || day + 1 < DAYS).then(|| at(20, 90, rng));
            shifts.push(Shift {
                agent,
                login,
                logoff,
                pauses,
            });
        }
    }
    // Ravi's night shift, across midnight, with a break on the second day.
    let night = midnight(1);
    shifts.push(Shift {
        agent: "ravi",
        login: night - Duration::hours(2),
        logoff: Some(night + Duration::hours(2)),
        pauses: vec![(
            night + Duration::minutes(30),
            night + Duration::minutes(45),
            "break",
        )],
    });
    shifts
}

/// The queue log the ACD would have written for these calls and shifts.
fn events(calls: &[Call], shifts: &[Shift]) -> Vec<(String, QueueLogEntry)> {
    let mut out: Vec<QueueLogEntry> = Vec::new();
    let mut push = |at: DateTime<Utc>, event: QueueEvent| out.push(QueueLogEntry { at, event });
    for s in shifts {
        let agent = || s.agent.to_owned();
        push(s.login, QueueEvent::AgentLogin { agent: agent() });
        for (from, to, reason) in &s.pauses {
            push(
                *from,
                QueueEvent::Pause {
                    agent: agent(),
                    reason: (*reason).to_owned(),
                },
            );
            push(*to, QueueEvent::Unpause { agent: agent() });
        }
        if let Some(off) = s.logoff {
            push(off, QueueEvent::AgentLogoff { agent: agent() });
        }
    }
    for c in calls {
        let (call_id, queue) = (|| c.id.clone(), |q: usize| QUEUES[q].0.to_owned());
        let ms = |ms: i64| c.joined + Duration::milliseconds(ms);
        let answered = |a: &Answer, q: usize, push: &mut dyn FnMut(DateTime<Utc>, QueueEvent)| {
            let (agent, queue) = (|| a.agent.to_owned(), || queue(q));
            push(
                ms(a.hold),
                QueueEvent::Connect {
                    call_id: call_id(),
                    queue: queue(),
                    agent: agent(),
                    hold_ms: a.hold,
                },
            );
            let (hold_ms, talk_ms) = (a.hold, a.talk);
            push(
                ms(a.hold + a.talk),
                match a.end {
                    End::Agent => QueueEvent::CompleteAgent {
                        call_id: call_id(),
                        queue: queue(),
                        agent: agent(),
                        hold_ms,
                        talk_ms,
                    },
                    End::Caller => QueueEvent::CompleteCaller {
                        call_id: call_id(),
                        queue: queue(),
                        agent: agent(),
                        hold_ms,
                        talk_ms,
                    },
                    End::Transfer => QueueEvent::Transfer {
                        call_id: call_id(),
                        queue: queue(),
                        agent: agent(),
                        destination: "181".into(),
                        hold_ms,
                        talk_ms,
                    },
                },
            );
            push(
                ms(a.hold + a.talk + a.wrapup),
                QueueEvent::Wrapup {
                    call_id: call_id(),
                    queue: queue(),
                    agent: agent(),
                    wrapup_ms: a.wrapup,
                },
            );
        };
        if let Fate::Refused { full } = c.fate {
            let (call_id, queue) = (call_id(), queue(c.queue));
            push(
                c.joined,
                if full {
                    QueueEvent::Full { call_id, queue }
                } else {
                    QueueEvent::JoinEmpty { call_id, queue }
                },
            );
            continue;
        }
        push(
            c.joined,
            QueueEvent::EnterQueue {
                call_id: call_id(),
                queue: queue(c.queue),
                position: 1,
            },
        );
        for (agent, ring_ms) in &c.rings {
            push(
                c.joined,
                QueueEvent::RingNoAnswer {
                    call_id: call_id(),
                    queue: queue(c.queue),
                    agent: (*agent).to_owned(),
                    ring_ms: *ring_ms,
                },
            );
        }
        if c.callback_offered {
            push(
                c.joined,
                QueueEvent::CallbackOffered {
                    call_id: call_id(),
                    queue: queue(c.queue),
                },
            );
        }
        if c.callback_accepted {
            push(
                c.joined,
                QueueEvent::CallbackAccepted {
                    call_id: call_id(),
                    queue: queue(c.queue),
                },
            );
        }
        match &c.fate {
            Fate::Answered(a) => answered(a, c.queue, &mut push),
            Fate::Abandoned { wait } => push(
                ms(*wait),
                QueueEvent::Abandon {
                    call_id: call_id(),
                    queue: queue(c.queue),
                    position: 1,
                    wait_ms: *wait,
                },
            ),
            Fate::Overflowed { wait, empty } => {
                let (call_id, queue, position, wait_ms) = (call_id(), queue(c.queue), 1, *wait);
                push(
                    ms(*wait),
                    if *empty {
                        QueueEvent::ExitEmpty {
                            call_id,
                            queue,
                            position,
                            wait_ms,
                        }
                    } else {
                        QueueEvent::ExitWithTimeout {
                            call_id,
                            queue,
                            position,
                            wait_ms,
                        }
                    },
                );
            }
            Fate::Moved { after, to, answer } => {
                push(
                    ms(*after),
                    QueueEvent::Moved {
                        call_id: call_id(),
                        queue: queue(c.queue),
                        destination: format!("queue:{}", queue(*to)),
                    },
                );
                push(
                    ms(*after),
                    QueueEvent::EnterQueue {
                        call_id: call_id(),
                        queue: queue(*to),
                        position: 1,
                    },
                );
                answered(answer, *to, &mut push);
            }
            Fate::Refused { .. } => {}
        }
    }
    // The order the ACD wrote them in: by time.
    out.sort_by_key(|e| e.at);
    out.into_iter()
        .enumerate()
        .map(|(i, e)| (format!("seed-{i}"), e))
        .collect()
}

/// What a report must hold, computed from the calls and shifts.
#[derive(Debug, Default)]
struct Want {
    queues: BTreeMap<&'static str, QueueFigures>,
    /// Waits of the answered, calls handled, their talk + wrap-up: for the means.
    sums: BTreeMap<&'static str, (i64, i64, i64)>,
    /// Per agent, from their calls (in the queue asked for, if one is).
    calls: BTreeMap<&'static str, AgentFigures>,
    agents: BTreeMap<&'static str, AgentFigures>,
}

impl Want {
    fn queue(&mut self, q: usize) -> &mut QueueFigures {
        let (sl, short) = QUEUES[q].1.unwrap_or((REPORT_TARGET_SECS, 5));
        self.queues
            .entry(QUEUES[q].0)
            .or_insert_with(|| QueueFigures {
                queue: QUEUES[q].0.to_owned(),
                service_level_seconds: sl,
                short_abandon_seconds: short,
                ..QueueFigures::default()
            })
    }

    fn agent(&mut self, agent: &'static str) -> &mut AgentFigures {
        self.calls.entry(agent).or_insert_with(|| AgentFigures {
            agent: agent.to_owned(),
            ..AgentFigures::default()
        })
    }

    fn answered(&mut self, q: usize, a: &Answer) {
        let f = self.queue(q);
        f.answered += 1;
        f.answered_within_target += u64::from(a.hold <= target(q).0);
        f.longest_wait_ms = f.longest_wait_ms.max(a.hold);
        f.transferred += u64::from(matches!(a.end, End::Transfer));
        let s = self.sums.entry(QUEUES[q].0).or_default();
        s.0 += a.hold;
        s.1 += 1;
        s.2 += a.talk + a.wrapup;
        let g = self.agent(a.agent);
        g.calls_answered += 1;
        g.talk_ms += a.talk;
        g.wrapup_ms += a.wrapup;
    }

    /// A call that waited `wait` and left without an agent: abandoned (short or not), or overflowed.
    fn left(&mut self, q: usize, wait: i64, abandoned: bool) {
        let f = self.queue(q);
        match (abandoned, wait < target(q).1) {
            (true, true) => f.abandoned_short += 1,
            (true, false) => f.abandoned += 1,
            (false, _) => f.overflowed += 1,
        }
        f.longest_wait_ms = f.longest_wait_ms.max(wait);
    }
}

/// `[from, to)`'s share of `[a, b)` in milliseconds.
fn overlap(a: DateTime<Utc>, b: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (b.min(to) - a.max(from)).num_milliseconds().max(0)
}

fn want(
    calls: &[Call],
    shifts: &[Shift],
    days: std::ops::Range<usize>,
    queue_filter: Option<usize>,
    agent_filter: Option<&str>,
) -> Want {
    let (from, to) = (midnight(days.start), midnight(days.end));
    let in_queue = |q: usize| queue_filter.is_none_or(|f| f == q);
    let mut w = Want::default();
    for c in calls.iter().filter(|c| days.contains(&c.day)) {
        let q = c.queue;
        if in_queue(q) {
            if let Fate::Refused { .. } = c.fate {
                w.queue(q).refused += 1;
                continue;
            }
            let f = w.queue(q);
            f.offered += 1;
            f.ring_no_answer += c.rings.len() as u64;
            f.callbacks_offered += u64::from(c.callback_offered);
            f.callbacks_accepted += u64::from(c.callback_accepted);
            for (a, _) in &c.rings {
                w.agent(a).ring_no_answer += 1;
            }
        }
        match &c.fate {
            Fate::Refused { .. } => {}
            Fate::Answered(a) if in_queue(q) => w.answered(q, a),
            Fate::Abandoned { wait } if in_queue(q) => w.left(q, *wait, true),
            Fate::Overflowed { wait, .. } if in_queue(q) => w.left(q, *wait, false),
            Fate::Moved { to, answer, .. } => {
                if in_queue(q) {
                    w.queue(q).moved_out += 1;
                }
                if in_queue(*to) {
                    w.queue(*to).offered += 1;
                    w.answered(*to, answer);
                }
            }
            Fate::Answered(_) | Fate::Abandoned { .. } | Fate::Overflowed { .. } => {}
        }
    }
    let sums = std::mem::take(&mut w.sums);
    for (name, f) in &mut w.queues {
        let (hold, handled, handle) = sums.get(name).copied().unwrap_or_default();
        let counted = f.answered + f.abandoned + f.overflowed;
        f.service_level = (counted > 0).then(|| f.answered_within_target as f64 / counted as f64);
        f.average_speed_of_answer_ms = (f.answered > 0).then(|| hold / f.answered as i64);
        f.average_handle_time_ms = (handled > 0).then(|| handle / handled);
    }
    // Logged in and paused: every shift's part in the period (the report's "now" is after it).
    for s in shifts {
        let logged = overlap(s.login, s.logoff.unwrap_or(to), from, to);
        if logged == 0 {
            continue;
        }
        let g = w.agents.entry(s.agent).or_insert_with(|| AgentFigures {
            agent: s.agent.to_owned(),
            ..AgentFigures::default()
        });
        g.logged_in_ms += logged;
        for (a, b, reason) in &s.pauses {
            let ms = overlap(*a, *b, from, to);
            if ms == 0 {
                continue;
            }
            g.paused_ms += ms;
            match g.paused_by_reason.iter_mut().find(|p| p.reason == *reason) {
                Some(p) => p.ms += ms,
                None => g.paused_by_reason.push(PauseTime {
                    reason: (*reason).to_owned(),
                    ms,
                }),
            }
        }
        g.paused_by_reason.sort_by(|a, b| a.reason.cmp(&b.reason));
    }
    let from_calls = std::mem::take(&mut w.calls);
    w.agents.retain(|name, g| {
        match from_calls.get(name) {
            Some(t) => {
                g.calls_answered = t.calls_answered;
                g.ring_no_answer = t.ring_no_answer;
                g.talk_ms = t.talk_ms;
                g.wrapup_ms = t.wrapup_ms;
                g.average_handle_time_ms = (t.calls_answered > 0)
                    .then(|| (t.talk_ms + t.wrapup_ms) / t.calls_answered as i64);
            }
            // A queue's report lists the agents who had a call in it.
            None if queue_filter.is_some() => return false,
            None => {}
        }
        agent_filter.is_none_or(|f| f == *name)
    });
    if agent_filter.is_some() {
        w.queues.clear();
    }
    w
}

fn spec(days: std::ops::Range<usize>) -> ReportSpec {
    let (from, to) = (midnight(days.start), midnight(days.end));
    let mut spec = ReportSpec::new(
        from,
        to,
        chrono_tz::Asia::Kolkata,
        midnight(DAYS) + Duration::days(1),
    );
    spec.service_level_seconds = REPORT_TARGET_SECS;
    for (name, own) in QUEUES {
        if let Some((sl, short)) = own {
            spec.queues.insert(
                name.to_owned(),
                QueueTarget {
                    service_level_seconds: sl,
                    short_abandon_seconds: short,
                },
            );
        }
    }
    spec
}

#[tokio::test]
async fn seeded_days_of_the_queue_log_report_what_is_counted_independently() {
    let mut rng = Rng(1212);
    let calls = generate_calls(&mut rng, 400);
    let shifts = generate_shifts(&mut rng);
    let log = events(&calls, &shifts);
    // (what, days, queue, agent)
    let cases = [
        ("first day", 0..1, None, None),
        ("second day", 1..2, None, None),
        ("both days", 0..2, None, None),
        ("grievance-hi on the first day", 0..1, Some(1), None),
        ("meena on the second day", 1..2, None, Some("meena")),
        ("ravi in health over both days", 0..2, Some(2), Some("ravi")),
    ];
    for (url, options) in databases("queue_report").await {
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        store.append_events(&log).await.expect("events");
        for (what, days, queue, agent) in &cases {
            let mut s = spec(days.clone());
            s.queue = queue.map(|q| QUEUES[q].0.to_owned());
            s.agent = agent.map(str::to_owned);
            let report = store.report(s).await.expect("report");
            let w = want(&calls, &shifts, days.clone(), *queue, *agent);
            let queues: Vec<&QueueFigures> = w.queues.values().collect();
            let got: Vec<&QueueFigures> = report.queues.iter().collect();
            assert_eq!(got, queues, "{url}: {what}: queues");
            let agents: Vec<&AgentFigures> = w.agents.values().collect();
            let got: Vec<&AgentFigures> = report.agents.iter().collect();
            assert_eq!(got, agents, "{url}: {what}: agents");
        }
        // The seed is rich enough for the figures to mean something.
        let day = store.report(spec(0..1)).await.expect("report");
        for q in &day.queues {
            assert!(
                q.answered > 20 && q.abandoned > 3 && q.abandoned_short > 0 && q.overflowed > 3,
                "{q:?}"
            );
            assert!(
                q.refused > 0 && q.moved_out > 0 && q.callbacks_accepted > 0,
                "{q:?}"
            );
        }
        assert_eq!(day.agents.len(), AGENTS.len());
        store.close().await;
    }
}
