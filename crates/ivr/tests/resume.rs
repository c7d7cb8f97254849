//! Picking a call up from its snapshot in another engine (issue 9: calls survive the engine): the step's
//! prompt again, the recording in progress awaited, the complaint filed once under the same key.

mod common;

use common::*;
use ivr::{Action, Call, CallContext, Input, Snapshot, SnapshotPhase};

/// The context `Caller` starts its calls with.
fn context() -> CallContext {
    CallContext {
        call_id: "c1".into(),
        caller: "9800000001".into(),
        caller_raw: None,
        started_at: chrono::DateTime::parse_from_rfc3339(OPEN).expect("RFC 3339"),
    }
}

/// English, register, category 6 (REV): the recording has started.
fn recording_in_english() -> Caller {
    let mut c = Caller::start(script_1100(), OPEN);
    c.act("press:216");
    c.listen();
    assert!(c.recording_in_progress());
    c.take_log();
    c
}

#[test]
fn a_call_at_a_menu_hears_that_menu_again_in_its_language() {
    let mut c = Caller::start(script_1100(), OPEN);
    c.act("press:2");
    c.take_log();
    let mut r = c.resumed();
    assert_eq!(r.take_log(), ["play[en] main_menu"]);
    r.press("1");
    assert_eq!(r.take_log(), ["stop", "play[en] category_menu"]);
}

#[test]
fn a_recording_in_progress_is_awaited_and_its_complaint_filed_under_its_own_name() {
    let c = recording_in_english();
    let mut r = c.resumed();
    assert!(
        r.take_log().is_empty(),
        "nothing is played over the caller's complaint"
    );
    assert!(r.recording_in_progress());
    r.speak();
    r.press("1");
    let log = r.take_log();
    assert_eq!(
        log[..3],
        [
            "play[en] record_confirm",
            "stop",
            "ticket dept=REV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
        ]
    );
}

#[test]
fn a_caller_who_hung_up_while_the_engine_was_away_still_has_the_spoken_complaint_filed() {
    let c = recording_in_english();
    let mut r = c.resumed();
    r.hangup_now();
    assert!(r.take_log().is_empty());
    // The engine found the recording stored on Asterisk: speech.
    r.speak();
    assert_eq!(
        r.take_log(),
        ["ticket dept=REV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=true"]
    );
}

#[test]
fn the_confirmation_question_is_asked_again_and_the_kept_recording_is_not_lost() {
    let mut c = recording_in_english();
    c.speak();
    c.take_log();
    let mut r = c.resumed();
    assert_eq!(r.take_log(), ["play[en] record_confirm"]);
    r.press("1");
    assert_eq!(
        r.take_log(),
        [
            "stop",
            "ticket dept=REV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
        ]
    );
}

#[test]
fn a_filing_cut_short_is_filed_again_under_the_same_key_and_new_recordings_get_new_names() {
    let mut c = recording_in_english();
    c.speak();
    c.press("1");
    let first_key = key_of_last_ticket(&mut c);
    let mut r = c.resumed();
    let again = key_of_last_ticket(&mut r);
    assert_eq!(
        again, first_key,
        "the same complaint, the same key: one ticket"
    );
    // Filed; a second complaint in the same call gets the next recording name.
    r.act("ticket:4567890123");
    for token in "listen press:1 press:1 press:3 listen".split(' ') {
        r.act(token);
    }
    assert!(
        r.take_log()
            .contains(&"record ivr-c1-record_complaint-2 beep=true stop=Some('#')".to_owned())
    );
}

fn key_of_last_ticket(c: &mut Caller) -> String {
    let snapshot = c.call.snapshot().expect("in progress");
    assert_eq!(snapshot.phase, SnapshotPhase::AwaitTicket);
    let ctx = context();
    let (_, actions) = Call::resume(
        std::sync::Arc::clone(c.call.script()),
        ctx,
        &snapshot,
        c.now,
    )
    .expect("resumable");
    actions
        .into_iter()
        .find_map(|a| match a {
            Action::CreateTicket(d) => Some(d.idempotency_key),
            _ => None,
        })
        .expect("the ticket is requested again")
}

#[test]
fn a_step_the_new_script_no_longer_has_is_refused_not_guessed() {
    let c = recording_in_english();
    let mut snapshot: Snapshot = c.call.snapshot().expect("in progress");
    snapshot.step = "renamed_since".into();
    let ctx = context();
    let err = Call::resume(script_1100(), ctx, &snapshot, c.now).expect_err("refused");
    assert!(err.to_string().contains("renamed_since"), "{err}");
}

#[test]
fn a_finished_call_has_nothing_to_resume() {
    let mut c = Caller::start(script_1100(), OPEN);
    c.send(Input::Hangup);
    assert!(c.call.is_finished());
    assert_eq!(c.call.snapshot(), None);
}

#[test]
fn a_call_in_the_call_centre_is_picked_up_there_without_a_prompt() {
    let mut c = Caller::start(script_1100(), OPEN);
    c.act("press:20");
    c.listen(); // connecting_agent
    assert!(c.call.is_queued());
    let snapshot = c.call.snapshot().expect("a live call");
    assert_eq!(snapshot.phase, SnapshotPhase::Queued);
    c.take_log();
    let mut r = c.resumed();
    assert!(r.take_log().is_empty(), "the call centre has the caller");
    assert!(r.call.is_queued());
    // Given back by the new engine's call centre: the IVR goes on as it would have.
    r.act("overflow");
    assert_eq!(r.take_log(), ["play[en] agents_busy"]);
}
