//! Confirmation calls (issue 15) against the simulator: a resolved complaint's citizen is called
//! back through the trunk in the calling window and answers — 1 closes it satisfied, 2 and a reason
//! reopen and escalate it —, does not answer three times (the policy applied), is busy (tried
//! again), is not called outside the window until it opens; and the dialer's pacing holds under 500
//! resolutions at once while inbound calls still get through. SQLite, and PostgreSQL where the
//! database matters (`HELPLINE_TEST_POSTGRES_URL`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use ari_sim::{EndpointBehaviour, Step};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use helpline::engine::WallClock;
use tickets::{ComplaintNumber, ConfirmationState, NewCallTicket, TicketStatus};

use crate::support::*;

/// `$name::sqlite` and `$name::postgres` running `$body(database_url)` (PostgreSQL skipped,
/// loudly, without `HELPLINE_TEST_POSTGRES_URL`).
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$body(None).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(url) = $crate::support::postgres_url() else {
                    return;
                };
                let schema = $crate::support::Schema::create(&url).await;
                super::$body(Some(&schema.database_url())).await;
                schema.drop_now().await;
            }
        }
    };
}

/// The helpline's wall clock in these tests: it runs at the simulator's speed from a chosen
/// moment in India (never before the real now: tickets are stamped with the real time), and can
/// be moved ahead (hours between tries, a night).
pub(crate) struct TestClock {
    base: DateTime<FixedOffset>,
    started: Instant,
    jumped_ms: AtomicI64,
}

impl TestClock {
    /// The next `hour`:00 IST after the real now.
    pub(crate) fn at_next(hour: u32) -> Arc<TestClock> {
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let now = Utc::now().with_timezone(&ist);
        let mut day = now.date_naive();
        let base = loop {
            let t = ist
                .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
                .unwrap();
            if t > now {
                break t;
            }
            day = day.succ_opt().unwrap();
        };
        Arc::new(TestClock {
            base,
            started: Instant::now(),
            jumped_ms: AtomicI64::new(0),
        })
    }

    fn now(&self) -> DateTime<FixedOffset> {
        let ran = self.started.elapsed().mul_f64(SPEED);
        self.base
            + chrono::Duration::from_std(ran).unwrap()
            + chrono::Duration::milliseconds(self.jumped_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn utc(&self) -> DateTime<Utc> {
        self.now().to_utc()
    }

    pub(crate) fn advance(&self, by: chrono::Duration) {
        self.jumped_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    pub(crate) fn wall(self: &Arc<Self>) -> WallClock {
        let clock = Arc::clone(self);
        Arc::new(move || clock.now())
    }
}

/// The `[outbound]` section of these tests: on, short rings, polled every second, tries an hour
/// apart, closed unverified after the third.
pub(crate) fn outbound(extra: &str) -> String {
    let mut section = String::from("\n[outbound]\n");
    for (key, value) in [
        ("enabled", "true"),
        ("ring_seconds", "5"),
        ("poll_seconds", "1"),
        ("retry_after_minutes", "\"60, 60\""),
        ("after_last_try", "\"close_unverified\""),
    ] {
        if !extra.contains(key) {
            section.push_str(&format!("{key} = {value}\n"));
        }
    }
    section + extra
}

async fn node(
    tag: &str,
    clock: &Arc<TestClock>,
    database_url: Option<&str>,
    extra: &str,
) -> TestNode {
    TestNode::start_with(tag, clock.wall(), database_url, &outbound(extra), SPEED).await
}

/// A complaint from `caller` (`98160…`), in `language`, resolved now by the test clock.
async fn resolved(
    t: &TestNode,
    clock: &TestClock,
    caller: &str,
    language: &str,
) -> ComplaintNumber {
    let service = t.node.tickets();
    let number = file(
        service,
        &format!("it-confirm-{caller}"),
        caller,
        language,
        "JSV",
    )
    .await;
    let store = service.store();
    let now = clock.utc();
    store
        .assign(number, "officer-1", "supervisor:test", None, now)
        .await
        .unwrap();
    for status in [TicketStatus::InProgress, TicketStatus::Resolved] {
        store
            .change_status(number, status, "officer:test", None, now)
            .await
            .unwrap();
    }
    number
}

/// A complaint from `+91<caller>`, filed as a call's.
pub(crate) async fn file(
    service: &tickets::TicketService,
    call_id: &str,
    caller: &str,
    language: &str,
    department: &str,
) -> ComplaintNumber {
    service
        .create_from_call(NewCallTicket {
            call_id: call_id.to_owned(),
            caller_number: format!("+91{caller}"),
            caller_raw: None,
            language: language.to_owned(),
            department_code: department.to_owned(),
            category: None,
            district: None,
            recording: None,
            after_hours: false,
        })
        .await
        .unwrap()
}

/// The citizen on the trunk: waits for the helpline's call, answered as `answers` say, then `then`.
pub(crate) fn citizen(
    caller: &str,
    answers: Vec<EndpointBehaviour>,
    then: Vec<Step>,
) -> ari_sim::Scenario {
    let mut steps = vec![Step::AwaitCallback {
        timeout_seconds: 2400.0,
        answers,
    }];
    steps.extend(then);
    scenario(caller, steps)
}

async fn status_becomes(
    t: &TestNode,
    number: ComplaintNumber,
    want: TicketStatus,
) -> tickets::Ticket {
    eventually(
        Duration::from_secs(20),
        &format!("{number} {want}"),
        || async {
            let ticket = t.node.tickets().ticket(number).await.unwrap().unwrap();
            if ticket.status == want {
                Ok(ticket)
            } else {
                Err(ticket.status)
            }
        },
    )
    .await
}

/// Waits until `want` tries have ended without reaching the citizen and been tried again (each
/// on the audit trail).
async fn tries_ended(t: &TestNode, number: ComplaintNumber, want: usize) {
    eventually(
        Duration::from_secs(20),
        &format!("{number}: {want} tries ended"),
        || async {
            let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
            let ended = audit
                .iter()
                .filter(|a| a.action == "confirmation_call")
                .count();
            if ended == want { Ok(()) } else { Err(ended) }
        },
    )
    .await;
}

async fn one_closes_it_satisfied(database_url: Option<&str>) {
    let clock = TestClock::at_next(10);
    let t = node("confirm-1", &clock, database_url, "").await;
    let call = t
        .sim
        .place_call(citizen(
            "9816000081",
            vec![EndpointBehaviour::answer(1.0)],
            vec![prompt("confirm_menu"), press("1"), wait_hangup()],
        ))
        .await
        .unwrap();
    let number = resolved(&t, &clock, "9816000081", "en").await;
    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:?}"
    );
    assert_eq!(result.callbacks.len(), 1, "{:?}", result.callbacks);
    assert_eq!(
        result.callbacks[0].dialstring,
        "+919816000081@telecom-trunk"
    );
    let heard = heard(&result);
    for prompt in [
        "confirm_intro",
        "dept_jsv",
        "confirm_resolved_on",
        "confirm_menu",
        "confirm_thanks",
    ] {
        assert!(
            heard.iter().any(|h| h == prompt),
            "{prompt} not heard: {heard:?}"
        );
    }
    assert!(heard.contains(&format!("digits:{number}")), "{heard:?}");

    let ticket = status_becomes(&t, number, TicketStatus::ClosedSatisfied).await;
    assert_eq!(ticket.feedback_satisfied, Some(true));
    let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.as_str(),
            last.to_value.as_deref()
        ),
        ("feedback", "system:confirmation", Some("closed_satisfied"))
    );
    let rows = t
        .node
        .tickets()
        .store()
        .confirmations_of(number)
        .await
        .unwrap();
    assert_eq!(
        (rows[0].state, rows[0].attempts),
        (ConfirmationState::Satisfied, 1)
    );
    let record = record_of(&t, &result.callbacks[0].channel_id).await;
    assert_eq!(
        record.outcome,
        records::Outcome::Outbound("satisfied".into())
    );
    assert_eq!(record.dialled.as_deref(), Some("+919816000081"));
    assert_eq!(record.language.as_deref(), Some("en"));
    t.stop().await;
}

on_both!(
    confirmation_answered_1_closes_satisfied,
    one_closes_it_satisfied
);

async fn two_and_a_reason_reopen_and_escalate(database_url: Option<&str>) {
    let clock = TestClock::at_next(10);
    let t = node("confirm-2", &clock, database_url, "").await;
    let call = t
        .sim
        .place_call(citizen(
            "9816000082",
            vec![EndpointBehaviour::answer(2.0)],
            vec![
                prompt("confirm_menu"),
                press("2"),
                prompt("feedback_reason_menu"),
                press("2"),
                wait_hangup(),
            ],
        ))
        .await
        .unwrap();
    let number = resolved(&t, &clock, "9816000082", "hi").await;
    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:?}"
    );
    assert!(
        heard(&result).iter().any(|h| h == "confirm_reopened"),
        "{result:?}"
    );
    let ticket = status_becomes(&t, number, TicketStatus::Reopened).await;
    assert_eq!(ticket.level, 2, "escalated one level");
    assert_eq!(
        ticket.feedback_reason,
        Some(tickets::FeedbackReason::PartiallyResolved)
    );
    let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
    let escalated = audit
        .iter()
        .find(|a| a.action == "escalated")
        .expect("escalated");
    assert!(
        escalated
            .reason
            .as_deref()
            .unwrap()
            .contains("partially_resolved"),
        "{escalated:?}"
    );
    let record = record_of(&t, &result.callbacks[0].channel_id).await;
    assert_eq!(
        record.outcome,
        records::Outcome::Outbound("reopened".into())
    );
    t.stop().await;
}

on_both!(
    confirmation_answered_2_reopens_and_escalates,
    two_and_a_reason_reopen_and_escalate
);

async fn three_unanswered_tries_then_the_policy(database_url: Option<&str>) {
    let clock = TestClock::at_next(10);
    let t = node("confirm-3", &clock, database_url, "").await;
    let call = t
        .sim
        .place_call(citizen(
            "9816000083",
            vec![EndpointBehaviour::RingOut],
            vec![],
        ))
        .await
        .unwrap();
    let number = resolved(&t, &clock, "9816000083", "hi").await;
    tries_ended(&t, number, 1).await;
    // Nothing more within the hour.
    assert_eq!(
        t.node
            .tickets()
            .ticket(number)
            .await
            .unwrap()
            .unwrap()
            .status,
        TicketStatus::Resolved
    );
    clock.advance(chrono::Duration::minutes(61));
    tries_ended(&t, number, 2).await;
    clock.advance(chrono::Duration::minutes(61));
    let ticket = status_becomes(&t, number, TicketStatus::ClosedUnverified).await;
    assert_eq!(
        ticket.feedback_satisfied, None,
        "never satisfied without the citizen's word"
    );
    let rows = t
        .node
        .tickets()
        .store()
        .confirmations_of(number)
        .await
        .unwrap();
    assert_eq!(
        (
            rows[0].state,
            rows[0].attempts,
            rows[0].last_cause.as_deref()
        ),
        (ConfirmationState::Unverified, 3, Some("no_answer"))
    );
    let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
    let tries: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "confirmation_call")
        .map(|a| a.to_value.as_deref())
        .collect();
    assert_eq!(tries, [Some("no_answer"), Some("no_answer")], "{audit:?}");
    let invites: Vec<_> = t
        .sim
        .invites()
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.dialstring.contains("9816000083"))
        .collect();
    assert_eq!(invites.len(), 3, "{invites:?}");
    for invite in &invites {
        let record = record_of(&t, &invite.channel_id).await;
        assert_eq!(
            record.outcome,
            records::Outcome::Outbound("no_answer".into())
        );
    }
    let _ = call;
    t.stop().await;
}

on_both!(
    confirmation_unanswered_three_times_is_closed_unverified,
    three_unanswered_tries_then_the_policy
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmation_busy_is_tried_again_and_flagged_for_a_call_back_at_the_end() {
    let clock = TestClock::at_next(10);
    let t = node(
        "confirm-busy",
        &clock,
        None,
        "tries = 2\nafter_last_try = \"call_back\"\n",
    )
    .await;
    let call = t
        .sim
        .place_call(citizen("9816000084", vec![EndpointBehaviour::Busy], vec![]))
        .await
        .unwrap();
    let number = resolved(&t, &clock, "9816000084", "hi").await;
    tries_ended(&t, number, 1).await;
    let rows = t
        .node
        .tickets()
        .store()
        .confirmations_of(number)
        .await
        .unwrap();
    assert_eq!(rows[0].last_cause.as_deref(), Some("busy"));
    clock.advance(chrono::Duration::minutes(61));
    eventually(Duration::from_secs(20), "on the call-back list", || async {
        let list = t
            .node
            .tickets()
            .store()
            .confirmations_in_state(ConfirmationState::CallBack, tickets::Page::default())
            .await
            .unwrap();
        if list.iter().any(|c| c.number == number && c.attempts == 2) {
            Ok(())
        } else {
            Err(list)
        }
    })
    .await;
    assert_eq!(
        t.node
            .tickets()
            .ticket(number)
            .await
            .unwrap()
            .unwrap()
            .status,
        TicketStatus::Resolved,
        "left for an agent to ask"
    );
    let _ = call;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmation_outside_the_window_waits_until_it_opens() {
    // 07:00 IST: the window opens at 09:00.
    let clock = TestClock::at_next(7);
    let t = node("confirm-window", &clock, None, "").await;
    let call = t
        .sim
        .place_call(citizen(
            "9816000085",
            vec![EndpointBehaviour::answer(1.0)],
            vec![prompt("confirm_menu"), press("1"), wait_hangup()],
        ))
        .await
        .unwrap();
    let number = resolved(&t, &clock, "9816000085", "hi").await;
    // Several polls of the dialer pass (it reads the store every second): nothing is dialled.
    let stats = t.node.outbound_stats().unwrap();
    let polled = stats.polls.load(Ordering::Relaxed);
    eventually(Duration::from_secs(10), "three more polls", || async {
        let now = stats.polls.load(Ordering::Relaxed);
        if now >= polled + 3 { Ok(()) } else { Err(now) }
    })
    .await;
    assert_eq!(stats.dialled.load(Ordering::Relaxed), 0);
    assert!(
        t.sim
            .invites()
            .await
            .unwrap()
            .iter()
            .all(|i| !i.dialstring.contains("9816000085"))
    );
    // The clock reaches 09:00.
    let to_nine = clock.base.with_timezone(&Utc) + chrono::Duration::hours(2) - clock.utc();
    clock.advance(to_nine + chrono::Duration::minutes(1));
    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:?}"
    );
    status_becomes(&t, number, TicketStatus::ClosedSatisfied).await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmation_pacing_holds_for_500_resolutions_and_inbound_calls_get_through() {
    let clock = TestClock::at_next(10);
    let t = node(
        "confirm-pacing",
        &clock,
        None,
        "max_concurrent = 4\nper_asterisk = 4\ncalls_per_second = 5\ninbound_threshold = 20\n",
    )
    .await;
    // Nobody answers the trunk: each try rings out (5 s) and holds its slot meanwhile.
    t.sim
        .set_endpoint(ari_sim::EndpointConfig::pjsip(
            "telecom-trunk",
            "from-citizens",
            EndpointBehaviour::RingOut,
        ))
        .await
        .unwrap();
    let service = t.node.tickets();
    let now = clock.utc();
    let mut numbers = Vec::new();
    for n in 0..500 {
        let number = file(
            service,
            &format!("it-pacing-{n}"),
            &format!("98170{n:05}"),
            "hi",
            "PWR",
        )
        .await;
        numbers.push(number);
    }
    let store = service.store();
    for number in &numbers {
        store
            .assign(*number, "officer-1", "supervisor:test", None, now)
            .await
            .unwrap();
        store
            .change_status(*number, TicketStatus::InProgress, "officer:test", None, now)
            .await
            .unwrap();
        store
            .change_status(*number, TicketStatus::Resolved, "officer:test", None, now)
            .await
            .unwrap();
    }
    // Citizens call in meanwhile: each hears the welcome and the language menu and hangs up.
    let mut inbound = Vec::new();
    for n in 0..6 {
        let steps = vec![
            prompt("welcome"),
            prompt("choose_language"),
            press("2"),
            prompt("main_menu"),
            hangup(),
        ];
        inbound.push(
            t.sim
                .place_call(scenario(&format!("98169000{n:02}"), steps))
                .await
                .unwrap(),
        );
    }
    for call in inbound {
        let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
        assert_eq!(
            result.outcome,
            ari_sim::CallOutcome::Completed,
            "an inbound call did not get through: {result:?}"
        );
    }
    let stats = t.node.outbound_stats().unwrap();
    eventually(
        Duration::from_secs(60),
        "100 confirmation calls placed",
        || async {
            let dialled = stats.dialled.load(Ordering::Relaxed);
            if dialled >= 100 { Ok(()) } else { Err(dialled) }
        },
    )
    .await;
    assert!(
        stats.most_in_flight.load(Ordering::Relaxed) <= 4,
        "more than 4 at once"
    );
    // Calls per second, in the simulator's clock: no two INVITEs to the trunk closer than 200 ms.
    let mut at: Vec<u64> = t
        .sim
        .invites()
        .await
        .unwrap()
        .iter()
        .filter(|i| i.dialstring.ends_with("@telecom-trunk"))
        .map(|i| i.at_ms)
        .collect();
    at.sort_unstable();
    assert!(at.len() >= 100, "{}", at.len());
    // At most 5 a second on average, in the simulator's clock (single gaps jitter with the
    // engine's own latency, multiplied by the speed factor): 100 calls span at least ~20 s.
    let span = at[99] - at[0];
    assert!(span >= 19_000, "100 calls in {span} ms (simulated)");
    t.stop().await;
}
