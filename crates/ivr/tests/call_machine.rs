//! Behaviours of `ivr::Call` that every script relies on, each on a small inline script:
//! barge-in and type-ahead, stale and early inputs, timers, digit entry, recording edge cases,
//! hangups, templates, numbers and dates, office hours, and the size of a call.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ivr::{Action, Input, Script};

const SCRIPT: &str = r##"
[script]
languages = ["hi", "en"]
start = "intro"

[defaults]
invalid_prompts = ["invalid"]
no_input_prompts = ["no_input"]
max_prompt = "30s"

[steps.intro]
type = "play"
prompts = ["intro"]
barge_in = false
next = "menu"

[steps.menu]
type = "menu"
prompts = ["menu"]
choices = { "1" = "number", "2" = "colours", "3" = "complaint", "4" = "transfer", "9" = "english" }
on_exhausted = "bye"

[steps.english]
type = "set"
language = "en"
next = "menu"

[steps.number]
type = "input"
prompts = ["enter"]
var = "n"
min_digits = 3
max_digits = 6
end_key = "#"
on_exhausted = "bye"
next = "say_number"

[steps.say_number]
type = "say"
prompts = ["you_said", "digits:n", "number:n"]
next = "menu"

[steps.colours]
type = "set"
set = { colour = "Sky Blue", due = "2026-03-05" }
next = "say_colour"

[steps.say_colour]
type = "say"
prompts = ["colour_{colour}", "date:due", "status_{status}"]
next = "bye"

[steps.complaint]
type = "record"
prompts = ["speak"]
max_duration = "1m"
max_silence = "5s"
stop_key = "#"
next = "file"
on_exhausted = "bye"
hangup_ticket = "file"

[steps.file]
type = "ticket"
department = "GAD"
next = "bye"
on_failure = "bye"

[steps.transfer]
type = "transfer"
prompts = ["connecting"]
context = "integrated-helplines"
extension = "181"

[steps.bye]
type = "hangup"
prompts = ["bye"]

[departments]
GAD = "General administration"
"##;

fn caller() -> Caller {
    Caller::start(script(SCRIPT), OPEN)
}

#[test]
fn keys_during_a_prompt_without_barge_in_wait_for_the_next_input() {
    let mut c = caller();
    c.press("1");
    // No barge-in: the intro keeps playing; the key waits in the type-ahead buffer.
    assert_eq!(c.take_log(), ["answer", "play[hi] intro"]);
    c.listen();
    // The menu takes the buffered key without playing its prompt.
    assert_eq!(c.take_log(), ["play[hi] enter"]);
}

#[test]
fn barge_in_stops_the_prompt_and_keeps_every_key() {
    let mut c = caller();
    c.listen();
    c.take_log();
    c.press("1");
    assert_eq!(c.take_log(), ["stop", "play[hi] enter"]);
    // "enter" is interrupted by the first digit; the rest are collected with it.
    c.press("123#");
    assert_eq!(
        c.take_log(),
        [
            "stop",
            "play[hi] you_said digits:123 num_1 num_hundred num_23"
        ]
    );
    assert_eq!(c.call.var("n"), Some("123"));
}

#[test]
fn stale_and_early_inputs_are_ignored() {
    let mut c = caller();
    let actions = c.call.handle(Input::PlaybackFinished { tag: 0 }, c.now);
    let menu_tag = actions
        .iter()
        .find_map(|a| match a {
            Action::Play { tag, .. } => Some(*tag),
            _ => None,
        })
        .expect("the menu prompt plays");
    let actions = c.call.handle(Input::Dtmf('1'), c.now);
    assert!(
        actions.contains(&Action::StopPlayback { tag: menu_tag }),
        "{actions:?}"
    );
    // The stopped menu prompt reports its end later: nothing happens.
    assert_eq!(
        c.call
            .handle(Input::PlaybackFinished { tag: menu_tag }, c.now),
        []
    );
    assert_eq!(c.call.handle(Input::PlaybackFailed { tag: 99 }, c.now), []);
    // A timer that fires early (the engine's clock is ahead of ours) changes nothing.
    let deadline = c.call.deadline().expect("the prompt has a guard timer");
    assert_eq!(c.call.handle(Input::Timeout, c.now), []);
    assert_eq!(c.call.deadline(), Some(deadline));
    // Replies nobody asked for are ignored too.
    assert_eq!(
        c.call
            .handle(Input::TicketCreated { number: "1".into() }, c.now),
        []
    );
    assert_eq!(c.call.handle(Input::LookupResult(None), c.now), []);
    assert_eq!(c.call.handle(Input::FeedbackStored, c.now), []);
    assert_eq!(
        c.call.handle(
            Input::RecordingFinished {
                name: "x".into(),
                duration_ms: 1,
                has_speech: true
            },
            c.now
        ),
        []
    );
}

#[test]
fn a_playback_that_never_ends_is_stopped_by_its_guard() {
    let mut c = caller();
    // Asterisk never reports the end of the intro (e.g. an unknown media scheme).
    let deadline = c.call.deadline().expect("guard timer");
    assert_eq!(deadline - c.now, Duration::from_secs(30));
    c.wait();
    assert_eq!(
        c.take_log(),
        ["answer", "play[hi] intro", "stop", "play[hi] menu"]
    );
}

#[test]
fn digit_entry_ends_on_the_inter_digit_timeout_and_is_checked() {
    let mut c = caller();
    c.listen();
    c.press("1");
    c.listen();
    c.take_log();
    c.press("12");
    let deadline = c.call.deadline().expect("inter-digit timer");
    assert_eq!(deadline - c.now, Duration::from_secs(3));
    c.wait();
    // Two digits are fewer than min_digits = 3.
    assert_eq!(c.take_log(), ["play[hi] invalid enter"]);
    c.listen();
    c.wait();
    assert_eq!(c.take_log(), ["play[hi] no_input enter"]);
    c.listen();
    c.wait();
    // Retries used up: on to `bye`.
    assert_eq!(c.take_log(), ["play[hi] bye"]);
}

#[test]
fn a_full_entry_swallows_the_end_key_pressed_after_it() {
    let mut c = caller();
    c.listen();
    c.press("1");
    c.listen();
    c.press("123456");
    assert_eq!(c.call.var("n"), Some("123456"));
    c.take_log();
    // The caller adds the habitual `#` after the sixth digit: it must not reach the menu.
    c.press("#");
    assert_eq!(c.take_log(), Vec::<String>::new());
    c.listen();
    assert_eq!(c.take_log(), ["play[hi] menu"]);
    c.listen();
    c.wait();
    assert_eq!(c.take_log(), ["play[hi] no_input menu"]);
}

#[test]
fn the_end_key_is_swallowed_only_until_the_next_prompt_has_played() {
    let mut c = caller();
    c.listen();
    c.press("1");
    c.listen();
    c.press("123456");
    c.listen(); // the read-back ends without a `#`
    c.take_log();
    c.press("#");
    // Now `#` is a key for the menu (not a choice there: invalid).
    assert_eq!(c.take_log(), ["stop", "play[hi] invalid menu"]);
}

#[test]
fn language_switch_changes_every_later_prompt() {
    let mut c = caller();
    c.listen();
    c.press("9");
    assert_eq!(c.call.language(), "en");
    c.press("1");
    assert_eq!(
        c.take_log()[3..],
        ["stop", "play[en] menu", "stop", "play[en] enter"]
    );
}

#[test]
fn templates_skip_unset_variables_and_dates_are_spoken() {
    let mut c = caller();
    c.listen();
    c.press("2");
    assert_eq!(
        c.take_log()[3..],
        [
            "stop",
            "play[hi] colour_sky_blue num_5 month_3 num_2 num_thousand num_26"
        ]
    );
}

#[test]
fn templates_skip_prompts_that_do_not_exist() {
    let mut script = Script::from_toml("t.toml", SCRIPT, &validators()).unwrap();
    script.available_prompts = Some(BTreeSet::from(["colour_red".to_owned()]));
    let mut c = Caller::start(Arc::new(script), OPEN);
    c.listen();
    c.press("2");
    assert_eq!(
        c.take_log()[3..],
        ["stop", "play[hi] num_5 month_3 num_2 num_thousand num_26"]
    );
}

#[test]
fn keys_during_a_recording_are_not_kept() {
    let mut c = caller();
    c.listen();
    c.press("3");
    c.listen();
    // The stop key arrives as a DTMF just before RecordingFinished.
    c.press("#");
    c.speak();
    assert_eq!(
        c.take_log()[3..],
        [
            "stop",
            "play[hi] speak",
            "record ivr-c1-complaint-1 beep=true stop=Some('#')",
            "ticket dept=GAD lang=hi callback=false recording=ivr-c1-complaint-1 hung_up=false",
        ]
    );
}

#[test]
fn a_recording_asterisk_never_ends_is_stopped_then_given_up() {
    let mut c = caller();
    c.listen();
    c.press("3");
    c.listen();
    c.take_log();
    let deadline = c.call.deadline().expect("recording guard");
    assert_eq!(deadline - c.now, Duration::from_secs(70));
    c.wait();
    assert_eq!(c.take_log(), ["stop-recording ivr-c1-complaint-1"]);
    c.wait();
    // No news after the stop either: the recording failed, so the caller is not told they were not
    // heard, nor asked to speak into a recorder that does not work: the step's `on_exhausted` follows.
    assert_eq!(c.take_log(), ["play[hi] bye"]);
}

#[test]
fn the_ticket_key_is_per_recording() {
    let mut c = caller();
    c.listen();
    c.press("3");
    c.listen();
    c.speak();
    let draft = c.call.handle(Input::Hangup, c.now);
    assert_eq!(draft, [], "the ticket is already being filed");
    let mut c2 = caller();
    c2.listen();
    c2.press("3");
    c2.listen();
    let name = "ivr-c1-complaint-1".to_owned();
    let actions = c2.call.handle(
        Input::RecordingFinished {
            name,
            duration_ms: 9000,
            has_speech: true,
        },
        c2.now,
    );
    let draft = actions
        .iter()
        .find_map(|a| match a {
            Action::CreateTicket(d) => Some(d),
            _ => None,
        })
        .expect("a CreateTicket action");
    assert_eq!(draft.idempotency_key, "ivr-c1-complaint-1");
    assert_eq!(draft.recording.as_ref().map(|r| r.duration_ms), Some(9000));
    assert_eq!(draft.caller, "9800000001");
}

#[test]
fn hangup_during_a_transfer_prompt_transfers_nothing() {
    let mut c = caller();
    c.listen();
    c.press("4");
    c.hangup_now();
    assert!(c.call.is_finished());
    let log = c.take_log();
    assert_eq!(
        log.last().map(String::as_str),
        Some("play[hi] connecting"),
        "{log:?}"
    );
    // A finished call ignores everything.
    assert_eq!(c.call.handle(Input::Dtmf('1'), c.now), []);
    assert_eq!(
        c.call
            .handle(Input::Timeout, c.now + Duration::from_secs(999)),
        []
    );
    assert_eq!(c.call.deadline(), None);
}

#[test]
fn hangup_before_anything_owed_ends_at_once() {
    let mut c = caller();
    c.hangup_now();
    assert!(c.call.is_finished());
    assert_eq!(c.take_log(), ["answer", "play[hi] intro"]);
}

#[test]
fn office_hours_are_judged_when_the_branch_runs_not_when_the_call_started() {
    let script = script(
        r#"
[script]
languages = ["hi"]
start = "hello"
[office_hours]
days = ["tue"]
open = "09:00"
close = "18:00"
[steps.hello]
type = "play"
prompts = ["hello"]
next = "when"
[steps.when]
type = "branch"
cases = [{ office_hours = true, next = "open" }]
otherwise = "closed"
[steps.open]
type = "hangup"
prompts = ["open"]
[steps.closed]
type = "hangup"
prompts = ["closed"]
"#,
    );
    // 17:59:58 IST on a Tuesday; the hello prompt takes 3 s, so the branch runs at 18:00:01.
    let mut c = Caller::start(script.clone(), "2026-12-01T17:59:58+05:30");
    c.listen();
    assert_eq!(
        c.take_log().last().map(String::as_str),
        Some("play[hi] closed")
    );
    // The same moment given in UTC is judged in the script's offset (+05:30).
    let mut c = Caller::start(script, "2026-12-01T12:29:50Z");
    c.listen();
    assert_eq!(
        c.take_log().last().map(String::as_str),
        Some("play[hi] open")
    );
}

#[test]
fn a_call_is_small() {
    // The engine holds 10,000 calls at ≤ 16 KiB each; the state machine is a small part of it.
    let size = std::mem::size_of::<ivr::Call>();
    assert!(size <= 512, "Call is {size} bytes");
}

#[test]
fn a_hangup_while_recording_waits_briefly_for_asterisk_then_gives_up_quietly() {
    let mut c = caller();
    c.listen();
    c.press("3");
    c.listen();
    c.take_log();
    c.hangup_now();
    let deadline = c
        .call
        .deadline()
        .expect("a short wait for RecordingFinished");
    assert_eq!(deadline - c.now, Duration::from_secs(10));
    c.wait();
    // No StopRecording on a channel that is gone, no ticket without a recording.
    assert_eq!(c.take_log(), Vec::<String>::new());
    assert!(c.call.is_finished());
}

#[test]
fn a_step_with_nothing_to_say_is_passed_over() {
    let script = script(
        r#"
[script]
languages = ["hi"]
start = "maybe"
[steps.maybe]
type = "say"
prompts = ["status_{status}"]  # no lookup yet: unset
next = "bye"
[steps.bye]
type = "hangup"
prompts = ["bye"]
"#,
    );
    let mut c = Caller::start(script, OPEN);
    assert_eq!(c.take_log(), ["answer", "play[hi] bye"]);
}

#[test]
fn recording_names_stay_short_and_safe_whatever_the_ids() {
    let long_call = format!("02:fc:00:00:00:07/{}", "9".repeat(200));
    let long_step = "a step name much longer than anyone should write ".repeat(5);
    let name = ivr::call::recording_name(&long_call, &long_step, 4_000_000_000);
    assert!(
        name.len() <= 4 + 48 + 1 + 48 + 1 + 10,
        "{} chars",
        name.len()
    );
    assert!(name.starts_with("ivr-02_fc_00_00_00_07_999"), "{name}");
    assert!(name.ends_with("-4000000000"), "{name}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{name}"
    );
}

#[test]
fn a_reprompt_asks_a_waiting_caller_again_but_never_talks_over_a_prompt() {
    let mut c = caller();
    c.listen();
    c.press("3");
    c.listen();
    // Recording: nothing is asked.
    assert_eq!(c.call.handle(Input::Reprompt, c.now), []);
    let mut c = caller();
    c.take_log();
    // The intro is playing: nothing either.
    assert_eq!(c.call.handle(Input::Reprompt, c.now), []);
    c.listen();
    let log = c.take_log();
    assert_eq!(log, ["play[hi] menu"]);
    c.listen();
    // Waiting at the question with nothing playing: asked again at once, not as a failed try.
    c.send(Input::Reprompt);
    assert_eq!(c.take_log(), ["play[hi] menu"]);
}
