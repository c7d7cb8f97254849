//! Calls ending at every step, many calls at once, the ARI connection dropping, graceful shutdown.

use std::time::Duration;

use ari_sim::{CallOutcome, Fault, HungUpBy};

use crate::support::*;

/// The registration flow, up to the point where the caller hangs up.
fn registration_until(hangup_after: usize) -> Vec<ari_sim::Step> {
    let steps = vec![
        prompt("welcome"),
        press("2"),
        prompt("main_menu"),
        press("1"),
        prompt("category_menu"),
        press("5"),
        prompt("record_instructions"),
        beep(),
        speak(3.0),
        press("#"),
        prompt("record_confirm"),
        press("1"),
        prompt("complaint_registered"),
    ];
    let mut steps: Vec<_> = steps.into_iter().take(hangup_after).collect();
    steps.push(hangup());
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_at_every_step_ends_the_call_cleanly_and_speech_still_becomes_a_ticket() {
    let t = TestNode::start("hangup-every-step", office_hours()).await;
    let mut expected_tickets = 0;
    for hangup_after in 1..=13 {
        let before = t.node.stats().snapshot();
        let result = t
            .call(scenario(
                &format!("98170000{hangup_after:02}"),
                registration_until(hangup_after),
            ))
            .await;
        assert_eq!(
            result.hung_up_by,
            HungUpBy::Caller,
            "step {hangup_after}: {result:#?}"
        );
        t.wait_until_idle().await;
        let after = t.node.stats().snapshot();
        assert_eq!(
            after.calls_caller_hung_up,
            before.calls_caller_hung_up + 1,
            "hanging up after step {hangup_after}: {after:?}\n{result:#?}"
        );
        // From "speak" on (step 9), the recording holds speech: a ticket is owed.
        if hangup_after >= 9 {
            expected_tickets += 1;
        }
        let stats = t.node.stats().snapshot();
        assert_eq!(
            stats.tickets_created, expected_tickets,
            "after hanging up at step {hangup_after}"
        );
    }
    let stats = t.node.stats().snapshot();
    assert_eq!(stats.calls_caller_hung_up, 13, "{stats:?}");
    assert_eq!(stats.ari_errors, 0, "hangups are not errors: {stats:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_calls_each_file_their_own_complaint() {
    // A slower simulation: 200 calls share two cores, and the engine's latency counts in simulated time.
    let t = TestNode::start_with("concurrent", office_hours(), None, "", 10.0).await;
    let calls = 200;
    let mut ids = Vec::new();
    for n in 0..calls {
        let department = (n % 9 + 1).to_string();
        let steps = vec![
            prompt("welcome"),
            press("2"),
            prompt("main_menu"),
            press("1"),
            prompt("category_menu"),
            press(&department),
            prompt("record_instructions"),
            beep(),
            speak(2.0 + f64::from(n % 3)),
            press("#"),
            prompt("record_confirm"),
            press("1"),
            prompt("anything_else"),
            press("2"),
            wait_hangup(),
        ];
        let caller = format!("97{:08}", n);
        ids.push((
            caller.clone(),
            department,
            t.sim.place_call(scenario(&caller, steps)).await.unwrap(),
        ));
    }
    let departments = [
        "JSV", "PWR", "PWD", "HLT", "EDU", "REV", "POL", "FCS", "GAD",
    ];
    let mut numbers = std::collections::HashSet::new();
    for (caller, department, id) in ids {
        let result = t
            .sim
            .call_result(id, Duration::from_secs(120))
            .await
            .unwrap();
        assert_eq!(
            result.outcome,
            CallOutcome::Completed,
            "{caller}: {result:#?}"
        );
        let number = number_read_back(&result).unwrap();
        assert!(
            numbers.insert(number.clone()),
            "number {number} read to two callers"
        );
        let ticket = t
            .node
            .tickets()
            .ticket(number.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        // No crosstalk: the number this caller heard is the ticket of this caller's complaint.
        assert_eq!(ticket.caller_number, format!("+91{caller}"));
        let key: usize = department.parse().unwrap();
        assert_eq!(ticket.department_code, departments[key - 1]);
    }
    let stats = t.node.stats().snapshot();
    assert_eq!(stats.tickets_created, calls as u64);
    assert_eq!(stats.ari_errors, 0, "{stats:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_progress_survive_the_event_connection_dropping() {
    let t = TestNode::start("reconnect", office_hours()).await;
    let id = t
        .sim
        .place_call(scenario(
            "9816000020",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                // The 20 s menu plays out while the connection is down; the key comes after it.
                wait(21.0),
                press("1"),
                prompt("category_menu"),
                press("1"),
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
        .await
        .unwrap();
    // Drop the WebSocket while the caller listens to the main menu; the node reconnects, reconciles and
    // catches up with the menu's end that it missed.
    eventually(
        Duration::from_secs(5),
        "the first prompt to play",
        || async {
            let stats = t.sim.stats().await.unwrap();
            if stats.playbacks >= 1 {
                Ok(())
            } else {
                Err(stats)
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    t.sim.inject(Fault::DropWebsockets).await.unwrap();
    let result = t.sim.call_result(id, CALL_TIMEOUT).await.unwrap();
    t.wait_until_idle().await;
    let stats = t.node.stats().snapshot();
    assert!(stats.reconnections >= 1, "{stats:?}");
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    assert_eq!(stats.tickets_created, 1);
    assert_eq!(stats.calls_lost, 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_refuses_new_calls_to_the_fallback_and_lets_calls_in_progress_finish() {
    let t = TestNode::start("shutdown", office_hours()).await;
    let in_progress = t
        .sim
        .place_call(scenario(
            "9816000030",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("1"),
                prompt("category_menu"),
                press("2"),
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
        .await
        .unwrap();
    t.wait_for_calls_in_progress(1).await;
    let stop = t.node.shutdown_token();
    stop.cancel();
    // A citizen calling now is sent back to the dialplan, whose fallback apologises.
    let late = t
        .call(scenario(
            "9816000031",
            vec![prompt("service_unavailable"), wait_hangup()],
        ))
        .await;
    assert_eq!(late.outcome, CallOutcome::Completed, "{late:#?}");
    let result = t.sim.call_result(in_progress, CALL_TIMEOUT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    assert!(number_read_back(&result).is_some());
    let stats = t.node.stats().snapshot();
    assert_eq!(stats.calls_refused_shutdown, 1, "{stats:?}");
    assert_eq!(stats.tickets_created, 1);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_the_cap_goes_back_unanswered_to_the_dialplan_fallback() {
    let t = TestNode::start_with(
        "capacity",
        office_hours(),
        None,
        "max_concurrent_calls = 1",
        SPEED,
    )
    .await;
    // The first caller stays in the main menu; the second finds the engine full.
    let first = t
        .sim
        .place_call(scenario(
            "9816000050",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                wait(5.0),
                hangup(),
            ],
        ))
        .await
        .unwrap();
    t.wait_for_calls_in_progress(1).await;
    let second = t
        .call(scenario(
            "9816000051",
            vec![prompt("service_unavailable"), wait_hangup()],
        ))
        .await;
    assert_eq!(second.outcome, CallOutcome::Completed, "{second:#?}");
    assert!(
        second
            .heard
            .iter()
            .all(|m| !m.playback_id.starts_with("pb-")),
        "not served by the IVR"
    );
    let result = t.sim.call_result(first, CALL_TIMEOUT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    let stats = t.node.stats().snapshot();
    assert_eq!(stats.calls_over_capacity, 1, "{stats:?}");
    t.stop().await;
}
