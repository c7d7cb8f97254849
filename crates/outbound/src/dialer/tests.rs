use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Asia::Kolkata;
use proptest::prelude::*;

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid instant")
        .to_utc()
}

fn window() -> CallingWindow {
    CallingWindow::new(
        Kolkata,
        NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
        NaiveTime::from_hms_opt(20, 0, 0).expect("time"),
    )
    .expect("window")
}

fn retry(after: AfterLastTry) -> RetryPolicy {
    RetryPolicy::new(
        3,
        vec![Duration::from_secs(3600), Duration::from_secs(20 * 3600)],
        after,
    )
    .expect("policy")
}

fn dialer(pacing: Pacing, asterisks: &[&str]) -> Dialer {
    let config = DialerConfig::new(window(), pacing, retry(AfterLastTry::CloseUnverified));
    Dialer::new(config, asterisks.iter().map(|a| AsteriskId::new(*a)))
}

fn job(n: usize, not_before: DateTime<Utc>) -> Job {
    Job::new(
        JobId::new(format!("job-{n}")),
        JobKind::new("confirmation"),
        format!("+9198000{n:05}"),
        not_before,
    )
}

fn dials(actions: &[Action]) -> Vec<(String, u32, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Dial {
                job,
                attempt,
                asterisk,
            } => Some((job.id.to_string(), *attempt, asterisk.to_string())),
            _ => None,
        })
        .collect()
}

const MORNING: &str = "2026-12-04T10:00:00+05:30";

#[test]
fn a_due_job_is_dialled_at_once_and_done_when_reached() {
    let now = at(MORNING);
    let mut d = dialer(Pacing::default(), &["pbx"]);
    let actions = d.handle(Input::Submit(job(1, now)), now);
    assert_eq!(dials(&actions), [("job-1".into(), 1, "pbx".into())]);
    assert_eq!(d.in_flight(), 1);
    let actions = d.handle(
        Input::Finished {
            id: JobId::new("job-1"),
            result: AttemptResult::Reached,
        },
        now,
    );
    assert_eq!(
        actions,
        [Action::Done {
            id: JobId::new("job-1"),
            kind: JobKind::new("confirmation"),
            attempts: 1
        }]
    );
    assert_eq!((d.in_flight(), d.pending()), (0, 0));
    assert_eq!(d.next_deadline(now), None);
}

#[test]
fn outside_the_window_nothing_is_dialled_until_it_opens() {
    let night = at("2026-12-04T22:00:00+05:30");
    let mut d = dialer(Pacing::default(), &["pbx"]);
    assert!(d.handle(Input::Submit(job(1, night)), night).is_empty());
    let opens = at("2026-12-05T09:00:00+05:30");
    assert_eq!(d.next_deadline(night), Some(opens));
    let just_before = opens - chrono::Duration::seconds(1);
    assert!(d.handle(Input::Tick, just_before).is_empty());
    assert_eq!(dials(&d.handle(Input::Tick, opens)).len(), 1);
}

#[test]
fn three_unanswered_tries_then_the_policy() {
    let mut now = at(MORNING);
    let mut d = dialer(Pacing::default(), &["pbx"]);
    d.handle(Input::Submit(job(1, now)), now);
    let id = JobId::new("job-1");
    let mut retries = Vec::new();
    for attempt in 1..=2 {
        let actions = d.handle(
            Input::Finished {
                id: id.clone(),
                result: AttemptResult::NotReached(Cause::NoAnswer),
            },
            now,
        );
        let [
            Action::Retry {
                attempt: a,
                next_at,
                ..
            },
        ] = &actions[..]
        else {
            panic!("expected a retry, got {actions:?}");
        };
        assert_eq!(*a, attempt);
        retries.push(*next_at);
        // Nothing before its time.
        assert!(dials(&d.handle(Input::Tick, *next_at - chrono::Duration::seconds(1))).is_empty());
        now = d.next_deadline(now).expect("a deadline");
        assert_eq!(now, *next_at);
        assert_eq!(
            dials(&d.handle(Input::Tick, now)),
            [("job-1".into(), attempt + 1, "pbx".into())]
        );
    }
    // An hour after 10:00, then 20 h after 11:00 = 07:00 the next day, moved to 09:00.
    assert_eq!(
        retries,
        [
            at("2026-12-04T11:00:00+05:30"),
            at("2026-12-05T09:00:00+05:30")
        ]
    );
    let actions = d.handle(
        Input::Finished {
            id: id.clone(),
            result: AttemptResult::NotReached(Cause::Busy),
        },
        now,
    );
    assert_eq!(
        actions,
        [Action::GiveUp {
            id,
            kind: JobKind::new("confirmation"),
            attempts: 3,
            cause: Cause::Busy,
            then: AfterLastTry::CloseUnverified
        }]
    );
    assert_eq!((d.pending(), d.in_flight()), (0, 0));
}

#[test]
fn each_kind_has_its_own_retry_policy() {
    let now = at(MORNING);
    let config = DialerConfig::new(
        window(),
        Pacing::default(),
        retry(AfterLastTry::CloseUnverified),
    )
    .with_retry_for(
        JobKind::new("officer_reminder"),
        RetryPolicy::new(1, vec![], AfterLastTry::CallBack).expect("policy"),
    );
    let mut d = Dialer::new(config, [AsteriskId::new("pbx")]);
    let mut reminder = job(7, now);
    reminder.kind = JobKind::new("officer_reminder");
    d.handle(Input::Submit(reminder), now);
    let actions = d.handle(
        Input::Finished {
            id: JobId::new("job-7"),
            result: AttemptResult::NotReached(Cause::NoKey),
        },
        now,
    );
    assert!(matches!(
        &actions[..],
        [Action::GiveUp {
            then: AfterLastTry::CallBack,
            attempts: 1,
            ..
        }]
    ));
}

#[test]
fn a_job_whose_last_try_was_cut_short_is_given_up_not_dialled_again() {
    let now = at(MORNING);
    let mut d = dialer(Pacing::default(), &["pbx"]);
    let mut tried = job(1, now);
    tried.attempts = 3;
    let actions = d.handle(Input::Submit(tried), now);
    assert!(matches!(
        &actions[..],
        [Action::GiveUp {
            cause: Cause::Interrupted,
            attempts: 3,
            ..
        }]
    ));
}

#[test]
fn a_job_submitted_twice_is_dialled_once() {
    let now = at(MORNING);
    let mut d = dialer(Pacing::default(), &["pbx"]);
    let later = now + chrono::Duration::hours(1);
    d.handle(Input::Submit(job(1, later)), now);
    d.handle(Input::Submit(job(1, later)), now);
    assert_eq!(d.pending(), 1);
    assert_eq!(dials(&d.handle(Input::Tick, later)).len(), 1);
    assert!(d.handle(Input::Submit(job(1, later)), later).is_empty());
    assert_eq!(d.in_flight(), 1);
}

#[test]
fn a_cancelled_job_is_not_dialled() {
    let now = at(MORNING);
    let later = now + chrono::Duration::hours(1);
    let mut d = dialer(Pacing::default(), &["pbx"]);
    d.handle(Input::Submit(job(1, later)), now);
    d.handle(Input::Cancel(JobId::new("job-1")), now);
    assert!(d.handle(Input::Tick, later).is_empty());
    assert_eq!(d.next_deadline(later), None);
}

#[test]
fn a_cancelled_call_frees_its_slot_and_its_result_is_ignored() {
    let now = at(MORNING);
    let pacing = Pacing::new(1, 1, 1000, 50).expect("pacing");
    let mut d = dialer(pacing, &["pbx"]);
    assert_eq!(dials(&d.handle(Input::Submit(job(1, now)), now)).len(), 1);
    assert!(dials(&d.handle(Input::Submit(job(2, now)), now)).is_empty());
    let later = now + chrono::Duration::seconds(1);
    assert_eq!(
        dials(&d.handle(Input::Cancel(JobId::new("job-1")), later)),
        [("job-2".into(), 1, "pbx".into())]
    );
    let late = d.handle(
        Input::Finished {
            id: JobId::new("job-1"),
            result: AttemptResult::Reached,
        },
        later,
    );
    assert!(late.is_empty(), "{late:?}");
    assert_eq!(d.in_flight(), 1);
}

#[test]
fn inbound_load_holds_outbound_back_until_it_drops() {
    let now = at(MORNING);
    let pacing = Pacing::new(10, 10, 100, 5).expect("pacing");
    let mut d = dialer(pacing, &["pbx"]);
    d.handle(
        Input::Inbound {
            asterisk: AsteriskId::new("pbx"),
            active: 5,
        },
        now,
    );
    assert!(d.handle(Input::Submit(job(1, now)), now).is_empty());
    // Blocked by load, not by time: no deadline to spin on.
    assert_eq!(d.next_deadline(now), None);
    let actions = d.handle(
        Input::Inbound {
            asterisk: AsteriskId::new("pbx"),
            active: 4,
        },
        now,
    );
    assert_eq!(dials(&actions).len(), 1);
}

#[test]
fn calls_per_second_spaces_the_dials() {
    let now = at(MORNING);
    let pacing = Pacing::new(100, 100, 4, 50).expect("pacing");
    let mut d = dialer(pacing, &["pbx"]);
    let mut dialled = dials(&d.handle(Input::Submit(job(0, now)), now)).len();
    for n in 1..10 {
        dialled += dials(&d.handle(Input::Submit(job(n, now)), now)).len();
    }
    assert_eq!(dialled, 1, "one call at once, the rest spaced");
    assert_eq!(
        d.next_deadline(now),
        Some(now + chrono::Duration::milliseconds(250))
    );
    let mut t = now;
    for _ in 0..9 {
        t = d.next_deadline(t).expect("deadline");
        assert_eq!(dials(&d.handle(Input::Tick, t)).len(), 1);
    }
    assert_eq!(t, now + chrono::Duration::milliseconds(9 * 250));
}

#[test]
fn calls_spread_over_asterisks_within_their_caps() {
    let now = at(MORNING);
    let pacing = Pacing::new(5, 2, 1000, 50).expect("pacing");
    let mut d = dialer(pacing, &["a", "b"]);
    let mut t = now;
    let mut placed = Vec::new();
    for n in 0..8 {
        placed.extend(dials(&d.handle(Input::Submit(job(n, now)), t)));
    }
    while let Some(next) = d.next_deadline(t) {
        t = next;
        placed.extend(dials(&d.handle(Input::Tick, t)));
    }
    // Two per Asterisk: four calls, though five are allowed in all.
    assert_eq!(placed.len(), 4);
    assert_eq!(d.in_flight_on(&AsteriskId::new("a")), 2);
    assert_eq!(d.in_flight_on(&AsteriskId::new("b")), 2);
    let actions = d.handle(
        Input::Finished {
            id: JobId::new(placed[0].0.clone()),
            result: AttemptResult::Reached,
        },
        t,
    );
    assert!(matches!(&actions[0], Action::Done { .. }));
    // The freed slot is only taken once the spacing allows; then exactly one call.
    let t = d.next_deadline(t).expect("deadline");
    assert_eq!(dials(&d.handle(Input::Tick, t)).len(), 1);
}

#[test]
fn a_full_dialer_refuses_and_says_so() {
    let now = at(MORNING);
    let later = now + chrono::Duration::hours(1);
    let mut config = DialerConfig::new(window(), Pacing::default(), retry(AfterLastTry::CallBack));
    config.max_pending = 2;
    let mut d = Dialer::new(config, [AsteriskId::new("pbx")]);
    d.handle(Input::Submit(job(1, later)), now);
    d.handle(Input::Submit(job(2, later)), now);
    assert_eq!(d.room(), 0);
    assert_eq!(
        d.handle(Input::Submit(job(3, later)), now),
        [Action::Refused {
            id: JobId::new("job-3")
        }]
    );
}

/// One step of a random run.
#[derive(Debug, Clone)]
enum Step {
    Submit {
        n: usize,
        delay_min: u16,
    },
    Finish {
        pick: usize,
        reached: bool,
        cause: u8,
    },
    Inbound {
        asterisk: usize,
        active: u32,
    },
    Wait {
        secs: u32,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0usize..40, 0u16..600).prop_map(|(n, delay_min)| Step::Submit { n, delay_min }),
        (0usize..20, any::<bool>(), 0u8..4).prop_map(|(pick, reached, cause)| Step::Finish {
            pick,
            reached,
            cause
        }),
        (0usize..2, 0u32..8).prop_map(|(asterisk, active)| Step::Inbound { asterisk, active }),
        (0u32..20_000).prop_map(|secs| Step::Wait { secs }),
    ]
}

fn stamp(now: DateTime<Utc>, actions: Vec<Action>) -> Vec<(DateTime<Utc>, Action)> {
    actions.into_iter().map(|a| (now, a)).collect()
}

proptest! {
    /// Whatever happens: never more calls than the caps, never a call outside the window or while
    /// inbound is at its threshold, never two starts closer than the spacing, never more tries than
    /// the policy, and every job ends exactly once — done or given up, never both.
    #[test]
    fn the_limits_hold_and_every_job_ends_once(
        steps in proptest::collection::vec(step(), 1..200),
        start_min in 0i64..(24 * 60),
    ) {
        let pacing = Pacing::new(4, 3, 2, 5).expect("pacing");
        let names = ["a", "b"];
        let mut d = dialer(pacing.clone(), &names);
        let mut now = at("2026-12-04T00:00:00+05:30") + chrono::Duration::minutes(start_min);
        let mut inbound = [0u32; 2];
        let mut in_flight: Vec<(String, usize)> = Vec::new();
        let mut tries: HashMap<String, u32> = HashMap::new();
        let mut ended: HashMap<String, u32> = HashMap::new();
        let mut submitted: HashMap<String, DateTime<Utc>> = HashMap::new();
        let mut last_start: Option<DateTime<Utc>> = None;
        for step in steps {
            let actions = match step {
                Step::Submit { n, delay_min } => {
                    let id = format!("job-{n}");
                    if ended.contains_key(&id) {
                        continue;
                    }
                    let nb = now + chrono::Duration::minutes(i64::from(delay_min));
                    submitted.entry(id).or_insert(nb);
                    stamp(now, d.handle(Input::Submit(job(n, nb)), now))
                }
                Step::Finish { pick, reached, cause } => {
                    if in_flight.is_empty() {
                        continue;
                    }
                    let (id, _) = in_flight.remove(pick % in_flight.len());
                    let result = if reached {
                        AttemptResult::Reached
                    } else {
                        AttemptResult::NotReached(match cause {
                            0 => Cause::NoAnswer,
                            1 => Cause::Busy,
                            2 => Cause::NoKey,
                            _ => Cause::Unreachable,
                        })
                    };
                    stamp(now, d.handle(Input::Finished { id: JobId::new(id), result }, now))
                }
                Step::Inbound { asterisk, active } => {
                    inbound[asterisk] = active;
                    stamp(now, d.handle(Input::Inbound { asterisk: AsteriskId::new(names[asterisk]), active }, now))
                }
                Step::Wait { secs } => {
                    let target = now + chrono::Duration::seconds(i64::from(secs));
                    let mut actions = Vec::new();
                    // Woken at every deadline on the way, as the runtime does.
                    while let Some(deadline) = d.next_deadline(now) {
                        prop_assert!(deadline >= now);
                        if deadline > target {
                            break;
                        }
                        now = deadline;
                        let more = d.handle(Input::Tick, now);
                        let progressed = !more.is_empty();
                        actions.extend(stamp(now, more));
                        if !progressed {
                            break;
                        }
                    }
                    now = target;
                    actions.extend(stamp(now, d.handle(Input::Tick, now)));
                    actions
                }
            };
            for (when, action) in actions {
                match action {
                    Action::Dial { job, attempt, asterisk } => {
                        let idx = names.iter().position(|n| *n == asterisk.as_str()).expect("known");
                        prop_assert!(window().contains(when), "dialled outside the window at {when}");
                        prop_assert!(inbound[idx] < pacing.inbound_threshold(), "dialled over inbound load");
                        prop_assert!(when >= submitted[job.id.as_str()], "dialled before its time");
                        if let Some(last) = last_start {
                            prop_assert!(when - last >= chrono::Duration::milliseconds(500), "dials too close");
                        }
                        last_start = Some(when);
                        let t = tries.entry(job.id.to_string()).or_default();
                        *t += 1;
                        prop_assert_eq!(*t, attempt);
                        prop_assert!(attempt <= 3);
                        in_flight.push((job.id.to_string(), idx));
                    }
                    Action::Retry { id, attempt, next_at, .. } => {
                        prop_assert!(attempt < 3);
                        prop_assert!(window().contains(next_at));
                        submitted.insert(id.to_string(), next_at);
                    }
                    Action::Done { id, attempts, .. } | Action::GiveUp { id, attempts, .. } => {
                        prop_assert_eq!(tries.get(id.as_str()).copied(), Some(attempts));
                        prop_assert!(ended.insert(id.to_string(), attempts).is_none(), "{} ended twice", id);
                    }
                    Action::Refused { .. } => prop_assert!(false, "refused below max_pending"),
                }
            }
            prop_assert!(in_flight.len() <= pacing.max_concurrent());
            for (idx, name) in names.iter().enumerate() {
                let on = in_flight.iter().filter(|(_, a)| *a == idx).count();
                prop_assert!(on <= pacing.per_asterisk());
                prop_assert_eq!(on, d.in_flight_on(&AsteriskId::new(*name)));
            }
            prop_assert_eq!(in_flight.len(), d.in_flight());
        }
    }
}
