//! Issue 12: every call that reaches helpline leaves one call record with the right outcome, the IVR
//! path (a complaint number's digits masked), its tickets and recordings — driven through the simulator,
//! written by the records writer into the node's database.

use ari_sim::CallOutcome;
use records::{CallRecord, HungUpBy, Outcome};

use crate::support::*;

/// Waits (generously) until the node's records store holds the call on `channel`.
async fn record_of(t: &TestNode, channel: &str) -> CallRecord {
    for _ in 0..400 {
        let found = t
            .node
            .call_records()
            .calls(&Default::default())
            .await
            .unwrap();
        if let Some(record) = found.into_iter().find(|r| r.channel_id == channel) {
            return record;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no call record for {channel}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_call_leaves_one_record_with_its_outcome() {
    let t = TestNode::start("call-records", office_hours()).await;

    let complaint = t
        .call(scenario("+91 98160 12345", registration("2", "6", 2.0)))
        .await;
    assert_eq!(complaint.outcome, CallOutcome::Completed, "{complaint:#?}");
    let number = number_read_back(&complaint).unwrap();
    let status = t
        .call(scenario(
            "9816000031",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("2"),
                prompt("enter_complaint_number"),
                press(&number),
                prompt("anything_else"),
                press("2"),
                wait_hangup(),
            ],
        ))
        .await;
    let women = t
        .call(scenario(
            "9816000032",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("4"),
                press("1"),
                prompt("connecting"),
                wait_hangup(),
            ],
        ))
        .await;
    let agent = t
        .call(scenario(
            "9816000033",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("0"),
                prompt("connecting_agent"),
                wait_hangup(),
            ],
        ))
        .await;
    let gave_up = t
        .call(scenario(
            "9816000034",
            vec![prompt("welcome"), press("2"), prompt("main_menu"), hangup()],
        ))
        .await;

    let r = record_of(&t, &complaint.channel_id).await;
    assert_eq!(r.outcome, Outcome::ComplaintFiled, "{r:#?}");
    assert_eq!(
        (r.caller.as_str(), r.caller_raw.as_str()),
        ("+919816012345", "+91 98160 12345")
    );
    assert_eq!(r.tickets.len(), 1);
    assert_eq!(r.tickets[0].number, number);
    assert_eq!(r.tickets[0].department, "REV");
    assert_eq!(r.recordings.len(), 1);
    assert_eq!(r.language.as_deref(), Some("en"));
    assert!(r.answered_at.is_some());
    let steps: Vec<&str> = r.path.iter().map(|s| s.step.as_str()).collect();
    assert!(
        steps.contains(&"record_complaint") && steps.contains(&"file_complaint"),
        "{steps:?}"
    );

    let s = record_of(&t, &status.channel_id).await;
    assert_eq!(s.outcome, Outcome::StatusHeard, "{s:#?}");
    let entry = s.path.iter().find(|p| p.step == "status_number").unwrap();
    assert!(
        !entry.keys.is_empty() && entry.keys.chars().all(|k| k == records::MASKED_KEY),
        "a complaint number's digits are never kept: {entry:?}"
    );

    assert_eq!(
        record_of(&t, &women.channel_id).await.outcome,
        Outcome::Transferred("181".into())
    );
    assert_eq!(
        record_of(&t, &agent.channel_id).await.outcome,
        Outcome::ToAgent
    );
    let g = record_of(&t, &gave_up.channel_id).await;
    assert_eq!(
        (g.outcome.clone(), g.hung_up_by),
        (Outcome::AbandonedInIvr, HungUpBy::Caller),
        "{g:#?}"
    );

    // One record per call, no more.
    let all = t
        .node
        .call_records()
        .calls(&Default::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 5, "{all:#?}");
    t.stop().await;
}
