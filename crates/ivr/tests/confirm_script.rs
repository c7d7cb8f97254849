//! The shipped confirmation call `ivr-scripts/confirm.toml`, started by the outbound dialer with the
//! complaint's variables on an answered call: what the citizen hears and what the answer leaves in
//! `satisfied` and `reason` for the dialer to read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ivr::{Action, Call, CallContext, Input, Media, Script};

mod common;

fn confirm_script() -> Arc<Script> {
    let path = common::repo().join("ivr-scripts/confirm.toml");
    let text = std::fs::read_to_string(&path).expect("ivr-scripts/confirm.toml is readable");
    Arc::new(
        Script::from_toml(path, &text, &common::validators()).unwrap_or_else(|r| panic!("{r}")),
    )
}

fn ctx() -> CallContext {
    CallContext {
        call_id: "ob-confirm-1-1".into(),
        caller: "+919816012345".into(),
        caller_raw: None,
        started_at: chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00+05:30").expect("t"),
    }
}

fn vars() -> Vec<(String, String)> {
    [
        ("complaint", "2612040017"),
        ("department", "JSV"),
        ("resolved_on", "2026-12-03"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn played(actions: &[Action]) -> Option<(u32, Vec<Media>, String)> {
    actions.iter().find_map(|a| match a {
        Action::Play {
            tag,
            media,
            language,
        } => Some((*tag, media.clone(), language.clone())),
        _ => None,
    })
}

fn prompt(id: &str) -> Media {
    Media::Prompt(id.to_owned())
}

/// Plays out the intro and answers the menus with `keys` (each while its prompt plays, cutting it),
/// returning the last actions.
fn answer(call: &mut Call, first: &[Action], keys: &[char], now: &mut Instant) -> Vec<Action> {
    let (mut tag, _, _) = played(first).expect("the intro plays");
    let mut actions = call.handle(Input::PlaybackFinished { tag }, *now);
    for key in keys {
        if let Some((t, _, _)) = played(&actions) {
            tag = t;
        }
        *now += Duration::from_millis(500);
        actions = call.handle(Input::Dtmf(*key), *now);
        if played(&actions).is_none() {
            // The key waits for the prompt it was pressed in (stopped, or played to its end).
            actions = call.handle(Input::PlaybackFinished { tag }, *now);
        }
    }
    actions
}

#[test]
fn the_intro_names_the_complaint_its_department_and_date_in_the_complaint_language() {
    let now = Instant::now();
    let (call, actions) =
        Call::start_with(confirm_script(), ctx(), "en", vars(), now).expect("all given");
    assert!(
        !actions.contains(&Action::Answer),
        "the citizen answered already"
    );
    let (_, media, language) = played(&actions).expect("plays");
    assert_eq!(language, "en");
    assert_eq!(call.language(), "en");
    assert_eq!(media.first(), Some(&prompt("confirm_intro")));
    assert!(media.contains(&prompt("dept_jsv")), "{media:?}");
    assert!(media.contains(&prompt("confirm_marked")), "{media:?}");
    assert!(
        media
            .iter()
            .any(|m| matches!(m, Media::Digits(d) if d == "2612040017")),
        "{media:?}"
    );
    assert!(
        media.contains(&prompt("month_12")),
        "the date is spoken: {media:?}"
    );
}

#[test]
fn a_start_without_the_given_variables_is_refused_by_name() {
    let missing = Call::start_with(confirm_script(), ctx(), "hi", Vec::new(), Instant::now())
        .map(|_| ())
        .unwrap_err();
    assert_eq!(missing, ["complaint", "resolved_on"]);
}

#[test]
fn one_is_satisfied_two_asks_why_silence_is_no_answer() {
    let mut now = Instant::now();
    let (mut call, first) =
        Call::start_with(confirm_script(), ctx(), "hi", vars(), now).expect("ok");
    let last = answer(&mut call, &first, &['1'], &mut now);
    assert_eq!(call.var("satisfied"), Some("1"));
    assert_eq!(
        played(&last).map(|p| p.1),
        Some(vec![prompt("confirm_thanks")])
    );

    let (mut call, first) =
        Call::start_with(confirm_script(), ctx(), "hi", vars(), now).expect("ok");
    answer(&mut call, &first, &['2', '3'], &mut now);
    assert_eq!(
        (call.var("satisfied"), call.var("reason")),
        (Some("2"), Some("too_slow"))
    );

    // Nothing pressed: the menu's tries run out.
    let (mut call, first) =
        Call::start_with(confirm_script(), ctx(), "hi", vars(), now).expect("ok");
    let (tag, _, _) = played(&first).expect("intro");
    let mut actions = call.handle(Input::PlaybackFinished { tag }, now);
    let mut heard = Vec::new();
    for _ in 0..20 {
        if let Some((tag, media, _)) = played(&actions) {
            heard.extend(media);
            actions = call.handle(Input::PlaybackFinished { tag }, now);
        } else if actions.iter().any(|a| matches!(a, Action::Hangup { .. })) {
            break;
        } else {
            now = call.deadline().expect("a timeout runs");
            actions = call.handle(Input::Timeout, now);
        }
    }
    assert_eq!(call.var("satisfied"), None);
    assert!(heard.contains(&prompt("confirm_no_answer")), "{heard:?}");
}
