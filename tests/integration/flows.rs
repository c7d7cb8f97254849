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
                prompt_end(),
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
    assert_eq!(ticket.caller_number, "9816000001");
    let recording = ticket.recording.expect("kept with its recording");
    assert!(recording.duration_ms >= 3000, "{recording:?}");
    assert!(t.config.recordings_dir.join(&recording.file_name).is_file());
    t.stop().await;
}
