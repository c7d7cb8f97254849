//! Every path of 1100.toml, as simulated citizens: keys pressed and when → prompts heard in order, the
//! ticket filed, the recording kept.

use ari_sim::{CallOutcome, HungUpBy};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_a_complaint_in_english() {
    let t = TestNode::start("register-en", office_hours()).await;
    let result = t
        .call(scenario(
            "9816000001",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("1"),
                prompt("category_menu"),
                press("1"),
                prompt("record_instructions"),
                beep(),
                speak(4.0),
                press("#"),
                prompt("record_confirm"),
                press("1"),
                prompt("complaint_registered"),
                prompt("anything_else"),
                press("2"),
                prompt("goodbye"),
                wait_hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    assert_eq!(result.hung_up_by, HungUpBy::Network);
    let number = number_read_back(&result).expect("the number was read back");
    let ticket = t
        .node
        .tickets()
        .ticket(number.parse().unwrap())
        .await
        .unwrap()
        .expect("the ticket is in the database");
    assert_eq!(ticket.department_code, "JSV");
    assert_eq!(ticket.language, "en");
    assert_eq!(ticket.caller_number, "+919816000001");
    let recording = ticket.recording.expect("kept with its recording");
    assert!(recording.duration_ms >= 3000, "{recording:?}");
    assert!(t.config.recordings_dir.join(&recording.file_name).is_file());
    t.stop().await;
}

/// The prompts heard, without the digits read back, for order assertions.
fn prompts_heard(result: &ari_sim::CallResult) -> Vec<String> {
    heard(result)
        .into_iter()
        .filter(|m| !m.contains(':'))
        .collect()
}

/// Registers a complaint (language key, department key) and returns the call and the number read back.
async fn register(
    t: &TestNode,
    caller: &str,
    language: &str,
    department: &str,
) -> (ari_sim::CallResult, String) {
    let result = t
        .call(scenario(
            caller,
            vec![
                prompt("welcome"),
                press(language),
                prompt("main_menu"),
                press("1"),
                prompt("category_menu"),
                press(department),
                prompt("record_instructions"),
                beep(),
                speak(3.0),
                press("#"),
                prompt("record_confirm"),
                press("1"),
                prompt("anything_else"),
                press("2"),
                wait_hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    let number = number_read_back(&result).expect("number read back");
    (result, number)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_in_hindi_hears_every_prompt_in_order_and_the_number_twice() {
    let t = TestNode::start("register-hi", office_hours()).await;
    let (result, number) = register(&t, "9816000002", "1", "8").await;
    assert_eq!(
        prompts_heard(&result),
        // "1" pressed during the welcome (barge-in) answers the language menu before it is played.
        [
            "welcome",
            "main_menu",
            "category_menu",
            "record_instructions",
            "record_confirm",
            "complaint_registered",
            "your_number_is",
            "number_again",
            "note_number",
            "anything_else",
            "goodbye",
        ]
    );
    let digits = format!("digits:{number}");
    assert_eq!(
        heard(&result).iter().filter(|m| **m == digits).count(),
        2,
        "read back twice"
    );
    assert!(
        result
            .heard
            .iter()
            .all(|m| m.language == "hi" || m.media_uri.starts_with("digits:"))
    );
    let ticket = t
        .node
        .tickets()
        .ticket(number.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ticket.department_code.as_str(), ticket.language.as_str()),
        ("FCS", "hi")
    );
    assert!(!ticket.after_hours);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_a_real_complaint_then_of_unknown_and_invalid_numbers() {
    let t = TestNode::start("status", office_hours()).await;
    let (_, number) = register(&t, "9816000003", "2", "2").await;
    let status = t
        .call(scenario(
            "9816000003",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("2"),
                prompt("enter_complaint_number"),
                press(&number),
                prompt("status_intro"),
                prompt("anything_else"),
                press("2"),
                wait_hangup(),
            ],
        ))
        .await;
    assert_eq!(status.outcome, CallOutcome::Completed, "{status:#?}");
    let heard_status = heard(&status);
    let at = heard_status
        .iter()
        .position(|m| m == "status_intro")
        .unwrap();
    assert_eq!(
        heard_status[at..at + 5],
        [
            "status_intro".to_owned(),
            format!("digits:{number}"),
            "status_registered".into(),
            "department_is".into(),
            "dept_pwr".into()
        ]
    );
    assert!(heard_status.contains(&"due_date_is".to_owned()));

    // A well-formed number nobody has, then one with a wrong check digit.
    let unknown = (0..10)
        .map(|d| format!("555555555{d}"))
        .find(|n| tickets::is_valid_complaint_number(n))
        .unwrap();
    let invalid = (0..10)
        .map(|d| format!("555555555{d}"))
        .find(|n| !tickets::is_valid_complaint_number(n))
        .unwrap();
    let result = t
        .call(scenario(
            "9816000004",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("2"),
                prompt("enter_complaint_number"),
                press(&invalid),
                prompt("invalid_number"),
                press(&unknown),
                prompt("not_found"),
                prompt("anything_else"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_on_a_complaint_not_yet_resolved_is_explained() {
    let t = TestNode::start("feedback", office_hours()).await;
    let (_, number) = register(&t, "9816000005", "2", "4").await;
    let result = t
        .call(scenario(
            "9816000005",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("3"),
                prompt("enter_complaint_number"),
                press(&number),
                prompt("feedback_only_resolved"),
                prompt("anything_else"),
                press("2"),
                wait_hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrated_helplines_are_reached_by_transfer() {
    let t = TestNode::start("transfer", office_hours()).await;
    for (keys, last_prompt) in [
        (vec!["4", "1"], "connecting"),
        (vec!["4", "2"], "connecting"),
    ] {
        let mut steps = vec![prompt("welcome"), press("2"), prompt("main_menu")];
        for key in keys {
            steps.push(press(key));
        }
        steps.extend([prompt(last_prompt), wait_hangup()]);
        let result = t.call(scenario("9816000006", steps)).await;
        assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    }
    t.wait_until_idle().await;
    let stats = t.node.stats().snapshot();
    assert_eq!(stats.calls_transferred, 2);
    assert_eq!(stats.ari_errors, 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn star_repeats_wrong_keys_and_silence_end_with_an_agent_never_dead_air() {
    let t = TestNode::start("retries", office_hours()).await;
    let repeat = t
        .call(scenario(
            "9816000007",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("*"),
                prompt("main_menu"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(repeat.outcome, CallOutcome::Completed, "{repeat:#?}");

    let wrong = t
        .call(scenario(
            "9816000008",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("7"),
                prompt("invalid_choice"),
                press("8"),
                prompt("invalid_choice"),
                press("9"),
                prompt("connecting_agent"),
                // No agent is logged in: the call centre gives the caller back at once.
                prompt("agents_busy"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(wrong.outcome, CallOutcome::Completed, "{wrong:#?}");

    // Nothing pressed at all: "no input" twice, then an agent.
    let silent = t
        .call(scenario(
            "9816000009",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                prompt("no_input"),
                prompt("no_input"),
                prompt("connecting_agent"),
                prompt("agents_busy"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(silent.outcome, CallOutcome::Completed, "{silent:#?}");
    let heard_silent = heard(&silent);
    assert_eq!(heard_silent.iter().filter(|m| *m == "main_menu").count(), 3);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barge_in_a_key_stops_the_prompt_and_is_kept() {
    let t = TestNode::start("barge-in", office_hours()).await;
    // The main menu lasts about 20 s; "1" pressed as soon as it starts goes straight on.
    let result = t
        .call(scenario(
            "9816000010",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("1"),
                prompt("category_menu"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    let menu = result
        .heard
        .iter()
        .find(|m| m.media_uri == "sound:helpline/main_menu")
        .unwrap();
    let played_ms = menu.finished_ms.unwrap() - menu.started_ms;
    assert!(
        played_ms < 5_000,
        "the 20 s menu was cut short: played {played_ms} ms"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_hours_the_complaint_is_recorded_with_a_call_back_promise() {
    let t = TestNode::start("night", night()).await;
    let result = t
        .call(scenario(
            "9816000011",
            vec![
                prompt("welcome"),
                press("1"),
                prompt("after_hours"),
                prompt("record_instructions"),
                beep(),
                speak(3.0),
                press("#"),
                prompt("record_confirm"),
                press("1"),
                prompt("callback_promise"),
                prompt("goodbye"),
                wait_hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    assert!(!heard(&result).contains(&"main_menu".to_owned()));
    let number = number_read_back(&result).unwrap();
    let ticket = t
        .node
        .tickets()
        .ticket(number.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(ticket.after_hours);
    assert_eq!(ticket.department_code, "GAD");
    assert!(ticket.recording.is_some());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_at_the_beep_is_asked_again_and_a_re_record_replaces_the_first() {
    let t = TestNode::start("re-record", office_hours()).await;
    let result = t
        .call(scenario(
            "9816000012",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("1"),
                prompt("category_menu"),
                press("3"),
                prompt("record_instructions"),
                beep(),
                silence(8.0),
                prompt("no_speech"),
                beep(),
                speak(2.0),
                press("#"),
                prompt("record_confirm"),
                press("2"),
                prompt("record_instructions"),
                beep(),
                speak(6.0),
                press("#"),
                prompt("record_confirm"),
                press("1"),
                prompt("anything_else"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    assert_eq!(
        result.recordings.len(),
        3,
        "silent, first, second: {:?}",
        result.recordings
    );
    let number = number_read_back(&result).unwrap();
    let ticket = t
        .node
        .tickets()
        .ticket(number.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let recording = ticket.recording.unwrap();
    assert!(
        recording.duration_ms >= 5_000,
        "the second, longer recording is kept: {recording:?}"
    );
    t.stop().await;
}

/// Issue 9: a second complaint in the same call used to reuse the first recording's name (Asterisk
/// refuses it with 409) and would have come back with the first complaint's number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_complaints_in_one_call_are_two_tickets_each_with_its_own_recording() {
    let t = TestNode::start("two-complaints", office_hours()).await;
    let complaint = |department: &'static str, seconds: f64| {
        vec![
            prompt("main_menu"),
            press("1"),
            prompt("category_menu"),
            press(department),
            prompt("record_instructions"),
            beep(),
            speak(seconds),
            press("#"),
            prompt("record_confirm"),
            press("1"),
            prompt("complaint_registered"),
            prompt("anything_else"),
        ]
    };
    let mut steps = vec![prompt("welcome"), press("2")];
    steps.extend(complaint("2", 3.0));
    steps.push(press("1"));
    steps.extend(complaint("4", 6.0));
    steps.extend([press("2"), prompt("goodbye"), wait_hangup()]);
    let result = t.call(scenario("9816000021", steps)).await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");

    // Each number is read back twice; the two complaints' numbers differ.
    let numbers: Vec<String> = heard(&result)
        .into_iter()
        .filter_map(|m| m.strip_prefix("digits:").map(str::to_owned))
        .filter(|d| d.len() == 10)
        .collect();
    assert_eq!(numbers.len(), 4, "{numbers:?}");
    assert_eq!(numbers[0], numbers[1]);
    assert_eq!(numbers[2], numbers[3]);
    assert_ne!(
        numbers[0], numbers[2],
        "the second complaint has its own number"
    );

    let mut files = Vec::new();
    for (number, department, at_least_ms) in
        [(&numbers[0], "PWR", 2_000), (&numbers[2], "HLT", 5_000)]
    {
        let ticket = t
            .node
            .tickets()
            .ticket(number.parse().unwrap())
            .await
            .unwrap()
            .expect("each complaint is in the database");
        assert_eq!(ticket.department_code, department);
        let recording = ticket.recording.expect("each ticket has its recording");
        assert!(recording.duration_ms >= at_least_ms, "{recording:?}");
        assert!(t.config.recordings_dir.join(&recording.file_name).is_file());
        files.push(recording.file_name);
    }
    assert_ne!(files[0], files[1], "two recordings, not one kept twice");
    let names = &result.recordings;
    assert_eq!(names.len(), 2, "{names:?}");
    assert_ne!(
        names[0], names[1],
        "Asterisk was never asked for a name twice"
    );
    t.stop().await;
}

/// Issue 9.5: "satisfied" from another phone closed someone else's complaint. Now it takes the registered
/// number or that number's last four digits, and every refusal is in the audit trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_from_another_number_is_refused_and_audited_unless_it_knows_the_registered_digits()
{
    use tickets::TicketStatus;
    let t = TestNode::start("feedback-forged", office_hours()).await;
    let (_, number) = register(&t, "9816012345", "2", "4").await;
    let parsed: tickets::ComplaintNumber = number.parse().unwrap();
    let store = t.node.tickets().store().clone();
    for to in [
        TicketStatus::Assigned,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
    ] {
        store
            .change_status(parsed, to, "officer:test", None, chrono::Utc::now())
            .await
            .unwrap();
    }
    let give_feedback = |digits: &str| {
        vec![
            prompt("welcome"),
            press("2"),
            prompt("main_menu"),
            press("3"),
            prompt("enter_complaint_number"),
            press(&number),
            prompt("feedback_menu"),
            press("1"),
            prompt("feedback_verify"),
            press(digits),
            prompt(if digits == "2345" {
                "feedback_thanks"
            } else {
                "feedback_refused"
            }),
            prompt("anything_else"),
            press("2"),
            wait_hangup(),
        ]
    };

    // Someone else, guessing the digits: refused twice, the complaint stays resolved.
    let forged = t.call(scenario("9800000099", give_feedback("1111"))).await;
    assert_eq!(forged.outcome, CallOutcome::Completed, "{forged:#?}");
    let ticket = t.node.tickets().ticket(parsed).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Resolved);
    let refusals: Vec<_> = store
        .audit_trail(parsed)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "feedback_refused")
        .collect();
    assert_eq!(refusals.len(), 2, "both attempts are audited: {refusals:?}");
    let reason = refusals[1].reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("9800000099"),
        "the calling number is named: {reason}"
    );
    assert!(
        !reason.contains("1111"),
        "the keyed digits are not stored: {reason}"
    );

    // The citizen on a neighbour's phone, keying the last four digits of their own number.
    let verified = t.call(scenario("9800000099", give_feedback("2345"))).await;
    assert_eq!(verified.outcome, CallOutcome::Completed, "{verified:#?}");
    let ticket = t.node.tickets().ticket(parsed).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::ClosedSatisfied);
    t.stop().await;
}
