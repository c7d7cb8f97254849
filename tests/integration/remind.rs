//! Officers' reminders (issue 15) against the simulator: a complaint past its due time → the
//! reminders job writes a call for its officer → the dialer (the confirmation calls' own, its
//! pacing and window) rings the officer's phone through the trunk → the reminder script says the
//! complaint, its department and the days overdue → the officer presses 1 → acknowledged on the
//! ticket's audit trail; an officer who does not answer is tried again, then given up and logged.
//! The dialer's counters on `/metrics`. SQLite and PostgreSQL.

use std::time::Duration;

use ari_sim::EndpointBehaviour;
use tickets::{ComplaintNumber, OfficerInput, ReminderChannel};

use crate::confirm::{TestClock, citizen, file, outbound};
use crate::support::*;

/// `[reminders]` on (after `[outbound]`): tries an hour apart, two of them.
const REMINDERS: &str = "\n[reminders]\nenabled = true\nbefore_hours = 24\ntries = 2\n";

/// A node whose dialer (the confirmation calls' `[outbound]` of these tests) reminds officers too.
async fn node(
    tag: &str,
    clock: &std::sync::Arc<TestClock>,
    database_url: Option<&str>,
) -> TestNode {
    let config = outbound("") + REMINDERS;
    TestNode::start_with(tag, clock.wall(), database_url, &config, SPEED).await
}

/// An officer of Jal Shakti at L1 on `phone` (`98160…`), reminded by call, and a complaint
/// assigned to them; returns its number.
async fn assigned_complaint(t: &TestNode, phone: &str, call_id: &str) -> ComplaintNumber {
    let service = t.node.tickets();
    let store = service.store();
    let now = chrono::Utc::now();
    let officer = store
        .create_officer(
            &OfficerInput {
                name: Some(format!("EE {phone}")),
                department_code: Some("JSV".into()),
                level: Some(1),
                phone: Some(phone.to_owned()),
                nodal: Some(false),
                reminder_channel: Some(ReminderChannel::Call),
                active: None,
            },
            "admin:test",
            now,
        )
        .await
        .unwrap();
    let number = file(service, call_id, "9816000070", "en", "JSV").await;
    store
        .assign_officer(number, officer.id, "supervisor:test", None, now)
        .await
        .unwrap();
    number
}

/// Moves the test clock two days past the complaint's due time (the calling window's hour kept)
/// and runs the reminders job at that moment, as the node's background job does.
async fn two_days_overdue(t: &TestNode, clock: &TestClock, number: ComplaintNumber) {
    let due = t
        .node
        .tickets()
        .ticket(number)
        .await
        .unwrap()
        .unwrap()
        .due_at;
    let days = (due - clock.utc()).num_days() + 2;
    clock.advance(chrono::Duration::days(days.max(2)));
    let scheduled = t
        .node
        .tickets()
        .schedule_reminders(clock.utc())
        .await
        .unwrap();
    assert_eq!((scheduled.calls, scheduled.sms), (1, 0));
}

async fn reminded_officer_presses_1(database_url: Option<&str>) {
    let clock = TestClock::at_next(10);
    let t = node("remind-1", &clock, database_url).await;
    let phone = "9816000091";
    let call = t
        .sim
        .place_call(citizen(
            phone,
            vec![EndpointBehaviour::answer(1.0)],
            vec![prompt("remind_menu"), press("1"), wait_hangup()],
        ))
        .await
        .unwrap();
    let number = assigned_complaint(&t, phone, "it-remind-1").await;
    two_days_overdue(&t, &clock, number).await;

    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:?}"
    );
    assert_eq!(result.callbacks.len(), 1, "{:?}", result.callbacks);
    assert_eq!(
        result.callbacks[0].dialstring,
        format!("+91{phone}@telecom-trunk")
    );
    let heard = heard(&result);
    for prompt in [
        "remind_intro",
        "dept_jsv",
        "remind_overdue_by",
        "remind_days",
        "remind_menu",
        "remind_thanks",
    ] {
        assert!(
            heard.iter().any(|h| h == prompt),
            "{prompt} not heard: {heard:?}"
        );
    }
    assert!(heard.contains(&format!("digits:{number}")), "{heard:?}");

    let audit = eventually(
        Duration::from_secs(20),
        "the acknowledgement on the audit trail",
        || async {
            let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
            if audit.iter().any(|a| a.action == "reminder_acknowledged") {
                Ok(audit)
            } else {
                Err(audit.into_iter().map(|a| a.action).collect::<Vec<_>>())
            }
        },
    )
    .await;
    let ack = audit
        .iter()
        .find(|a| a.action == "reminder_acknowledged")
        .unwrap();
    assert!(ack.actor.starts_with("officer:"), "{ack:?}");
    assert_eq!(ack.to_value.as_deref(), Some("overdue"));
    let reminders = t.node.tickets().store().reminders_of(number).await.unwrap();
    assert_eq!(
        (reminders[0].state.as_str(), reminders[0].attempts),
        ("acknowledged", 1)
    );
    let record = record_of(&t, &result.callbacks[0].channel_id).await;
    assert_eq!(
        record.outcome,
        records::Outcome::Outbound("acknowledged".into())
    );
    // The dialer's counters on /metrics, read as Prometheus reads them (once the try's end is
    // counted: the acknowledgement is stored first).
    let url = format!("http://{}/metrics", t.node.http_addr());
    let samples = eventually(Duration::from_secs(10), "the dialer's counters", || async {
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        let samples = testkit::prometheus::parse(&text).unwrap();
        let got: Vec<f64> = [
            "helpline_outbound_dialled_total",
            "helpline_outbound_reached_total",
            "helpline_outbound_not_reached_total",
            "helpline_outbound_given_up_total",
            "helpline_outbound_in_flight",
            "helpline_outbound_most_in_flight",
        ]
        .iter()
        .map(|name| samples.get(*name).copied().unwrap_or(-1.0))
        .collect();
        if got == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0] {
            Ok(samples)
        } else {
            Err(got)
        }
    })
    .await;
    assert!(
        samples["helpline_outbound_polls_total"] >= 1.0,
        "{samples:?}"
    );
    // The job again (a restart, another node): the milestone is written once, never called twice.
    let again = t
        .node
        .tickets()
        .schedule_reminders(clock.utc())
        .await
        .unwrap();
    assert_eq!((again.calls, again.sms), (0, 0));
    t.stop().await;
}

crate::on_both!(
    reminder_call_acknowledged_with_1,
    reminded_officer_presses_1
);

async fn unanswered_reminder_is_given_up(database_url: Option<&str>) {
    let clock = TestClock::at_next(10);
    let t = node("remind-2", &clock, database_url).await;
    let phone = "9816000092";
    // The officer's phone rings out, every time.
    let call = t
        .sim
        .place_call(citizen(phone, vec![EndpointBehaviour::RingOut], vec![]))
        .await
        .unwrap();
    let number = assigned_complaint(&t, phone, "it-remind-2").await;
    two_days_overdue(&t, &clock, number).await;
    let ended = |want: &'static str| {
        let t = &t;
        async move {
            eventually(Duration::from_secs(30), want, || async {
                let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
                let tries: Vec<String> = audit
                    .iter()
                    .filter(|a| a.action == "reminder_call")
                    .filter_map(|a| a.to_value.clone())
                    .collect();
                if tries.iter().any(|v| v == want) {
                    Ok(tries)
                } else {
                    Err(tries)
                }
            })
            .await
        }
    };
    // The first try rings out, and is tried again an hour later.
    ended("no_answer").await;
    clock.advance(chrono::Duration::minutes(61));
    let tries = ended("given_up").await;
    assert_eq!(tries, ["no_answer", "given_up"]);
    let reminders = t.node.tickets().store().reminders_of(number).await.unwrap();
    assert_eq!(
        (reminders[0].state.as_str(), reminders[0].attempts),
        ("given_up", 2)
    );
    let _ = call;
    t.stop().await;
}

crate::on_both!(
    unanswered_reminder_tried_again_then_given_up,
    unanswered_reminder_is_given_up
);
