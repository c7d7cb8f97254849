use super::*;

/// The problems of `text`, as `line:col: message` (the file name left out).
fn problems(text: &str) -> Vec<String> {
    match check(text, "q.toml") {
        Ok(_) => Vec::new(),
        Err(ps) => ps
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.col, p.message))
            .collect(),
    }
}

fn hints(text: &str) -> Vec<String> {
    check(text, "q.toml")
        .err()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.hint)
        .collect()
}

#[test]
fn the_shipped_example_is_valid() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ivr-scripts/acd/queues.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let queues = crate::config::checked(&text);
    assert_eq!(queues.len(), 6);
    let g = queues.get("grievance").unwrap();
    assert_eq!(g.helpline, Some(Helpline::Grievance));
    assert!(g.match_department);
    assert_eq!(g.on_max_wait, Overflow::CallbackOffer);
    assert_eq!(g.callback.as_ref().unwrap().key, Some('1'));
    assert_eq!(g.announce_every_secs, Some(45), "from [defaults]");
    let d = queues.get("disaster").unwrap();
    assert_eq!(d.priority, 100);
    assert_eq!(d.on_max_wait, Overflow::Queue("grievance".into()));
    assert_eq!(d.ring_timeout_secs, 15);
    assert!(d.empty.join_when_empty);
    assert_eq!(queues.get("women").unwrap().strategy, Strategy::RoundRobin);
}

#[test]
fn a_minimal_queue_takes_the_defaults() {
    let q = check("[queue.a]\n", "q.toml").unwrap();
    let a = q.get("a").unwrap();
    assert_eq!(a.strategy, Strategy::LongestIdle);
    assert_eq!(a.helpline, None);
    assert_eq!(
        (a.ring_timeout_secs, a.wrap_up_secs, a.max_wait_secs),
        (20, 30, 600)
    );
    assert_eq!(
        a.service_level,
        ServiceLevel {
            percent: 80,
            within_secs: 20,
            short_abandon_secs: 5
        }
    );
    assert_eq!(a.on_max_wait, Overflow::RecordComplaint);
    assert_eq!(a.callback, None);
    assert!(!a.empty.join_when_empty && a.empty.leave_when_empty && a.empty.paused_is_empty);
}

#[test]
fn unknown_keys_are_all_reported_with_a_suggestion() {
    let text = "[queue.a]\nring_timout_secs = 5\ncolour = \"red\"\n\
                [queue.b]\nservice_level = { percent = 80, within = 20 }\n";
    assert_eq!(
        problems(text),
        [
            "2:1: unknown key `ring_timout_secs`",
            "3:1: unknown key `colour`",
            "5:33: unknown key `within`",
        ]
    );
    let h = hints(text);
    assert_eq!(h[0], "did you mean `ring_timeout_secs`?");
    assert!(
        h[1].starts_with("the keys here are: description, helpline"),
        "{}",
        h[1]
    );
    assert_eq!(h[2], "did you mean `within_secs`?");
}

#[test]
fn unknown_tables_and_arrays_of_queues_are_refused() {
    assert_eq!(
        problems("[queues.a]\n"),
        ["1:1: no queues declared", "1:2: unknown table `queues`"]
    );
    assert_eq!(
        problems("[[queue]]\nname = \"a\"\n"),
        ["1:3: queues are tables named after the queue, not an array"]
    );
    assert_eq!(problems("[defaults]\n"), ["1:1: no queues declared"]);
}

#[test]
fn a_bad_strategy_is_reported_with_the_choices() {
    assert_eq!(
        problems("[queue.a]\nstrategy = \"ringall\"\n"),
        ["2:12: unknown strategy `ringall`"]
    );
    assert_eq!(
        hints("[queue.a]\nstrategy = \"ringall\"\n"),
        ["one of: longest_idle, round_robin, fewest_calls, random"]
    );
    assert_eq!(
        hints("[queue.a]\nstrategy = \"round-robin\"\n"),
        ["did you mean `round_robin`?"]
    );
}

#[test]
fn values_of_the_wrong_type_are_reported() {
    assert_eq!(
        problems("[queue.a]\nring_timeout_secs = \"20s\"\nmatch_department = 1\n"),
        [
            "2:21: `ring_timeout_secs` must be a whole number, not string",
            "3:20: `match_department` must be true or false, not integer",
        ]
    );
}

#[test]
fn zero_and_negative_durations_are_refused() {
    assert_eq!(
        problems("[queue.a]\nring_timeout_secs = 0\nwrap_up_secs = -5\nmax_wait_secs = 0\n"),
        [
            "2:21: `ring_timeout_secs` is zero: it must be at least 1",
            "3:16: `wrap_up_secs` is negative (-5): a duration cannot be",
            "4:17: `max_wait_secs` is zero: it must be at least 1",
        ]
    );
    // Zero wrap-up and zero retry are meaningful (straight back to available).
    assert_eq!(
        problems("[queue.a]\nwrap_up_secs = 0\nretry_secs = 0\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        problems("[queue.a]\nannounce_every_secs = 3\n"),
        ["2:23: `announce_every_secs` is 3: it must be between 10 and 3600"]
    );
}

#[test]
fn percentages_and_counts_out_of_range_are_refused() {
    assert_eq!(
        problems(
            "[queue.a]\nservice_level = { percent = 120, within_secs = 20 }\n\
             auto_pause_after = -1\npriority = 5000\n"
        ),
        [
            "2:29: `percent` is 120: it must be between 1 and 100",
            "3:20: `auto_pause_after` is negative (-1)",
            "4:12: `priority` is 5000: it must be between -1000 and 1000",
        ]
    );
    assert_eq!(
        problems(
            "[queue.a]\nservice_level = { percent = 80, within_secs = 20, short_abandon_secs = 30 }\n"
        ),
        ["2:72: `short_abandon_secs` (30) must be shorter than `within_secs` (20)"]
    );
}

#[test]
fn an_overflow_to_an_unknown_queue_is_reported_with_a_suggestion() {
    let text = "[queue.grievance]\n[queue.b]\non_max_wait = \"queue:grievence\"\n";
    assert_eq!(
        problems(text),
        ["3:15: `on_max_wait` names no queue `grievence`"]
    );
    assert_eq!(hints(text), ["did you mean `grievance`?"]);
    assert_eq!(
        problems("[queue.a]\non_empty = \"hangup\"\n"),
        ["2:12: `on_empty` cannot be `hangup`"]
    );
}

#[test]
fn overflow_cycles_are_reported_once_each() {
    let text = "[queue.a]\non_max_wait = \"queue:b\"\n\
                [queue.b]\non_empty = \"queue:c\"\n\
                [queue.c]\non_full = \"queue:a\"\n\
                [queue.d]\non_max_wait = \"queue:d\"\n";
    assert_eq!(
        problems(text),
        [
            "6:11: overflow goes round in a circle: a → b → c → a",
            "8:15: overflow goes round in a circle: d → d",
        ]
    );
    // A chain that ends is fine.
    assert_eq!(
        problems(
            "[queue.a]\non_max_wait = \"queue:b\"\n[queue.b]\non_max_wait = \"queue:c\"\n[queue.c]\n"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn call_back_rules_are_checked() {
    assert_eq!(
        problems("[queue.a]\non_max_wait = \"callback_offer\"\n"),
        ["2:15: `on_max_wait` offers a call-back, but this queue has none"]
    );
    assert_eq!(
        problems("[queue.a]\ncallback = { key = \"1\" }\non_full = \"callback_offer\"\n"),
        ["3:11: `on_full` cannot be `callback_offer`"]
    );
    assert_eq!(
        problems(
            "[queue.a]\nmax_wait_secs = 60\ncallback = { offer_after_secs = 90, key = \"12\" }\n"
        ),
        [
            "3:33: the call-back is offered after 90 s, but callers wait at most 60 s (`max_wait_secs`): it would never be offered",
            "3:43: `12` is not a phone key",
        ]
    );
    assert_eq!(
        problems("[queue.a]\ncallback = { attempts = 0 }\n"),
        [
            "2:12: the call-back is never offered: it has neither `offer_after_secs` nor `key`",
            "2:25: `attempts` is 0: it must be between 1 and 10",
        ]
    );
}

#[test]
fn bad_names_and_helplines_are_reported() {
    assert_eq!(
        problems("[queue.Grievance]\n[queue.b]\nhelpline = \"112\"\n"),
        [
            "1:8: queue name `Grievance` may only use a-z, 0-9, `_` and `-`",
            "3:12: `112` is not a helpline (expected one of: 1100, 181, 1077, hrtc, gst, de-addiction)",
        ]
    );
}

#[test]
fn a_problem_in_defaults_is_reported_at_defaults_once() {
    assert_eq!(
        problems("[defaults]\nstrategy = \"fastest\"\n[queue.a]\n[queue.b]\n"),
        ["2:12: unknown strategy `fastest`"]
    );
}

#[test]
fn toml_syntax_errors_are_located() {
    let ps = check("[queue.a]\nring_timeout_secs = = 3\n", "q.toml").unwrap_err();
    assert_eq!(ps[0].line, 2, "{ps:?}");
    let ps = check("[queue.a]\n[queue.a]\n", "q.toml").unwrap_err();
    assert_eq!(ps[0].line, 2, "{ps:?}");
}

#[test]
fn every_problem_of_a_file_comes_at_once() {
    let text = "[defaults]\nretry_secs = -1\n\
                [queue.a]\nstrategy = \"x\"\nbogus = 1\non_max_wait = \"queue:zz\"\n\
                [queue.b]\nring_timeout_secs = 0\n";
    assert_eq!(problems(text).len(), 5, "{:?}", problems(text));
    let shown = check(text, "ivr-scripts/acd/queues.toml").unwrap_err()[0].to_string();
    assert_eq!(
        shown,
        "ivr-scripts/acd/queues.toml:2:14: error: `retry_secs` is negative (-1): a duration cannot be"
    );
}

#[test]
fn a_huge_file_is_refused_unread() {
    let text = format!("[queue.a]\n#{}\n", "x".repeat(MAX_QUEUES_BYTES));
    assert_eq!(problems(&text).len(), 1);
}
