//! Golden tests of `check`: each directory under `tests/fixtures/check/` is a scripts directory
//! checked against the prompts in `tests/fixtures/audio/`; its `expected.txt` holds the exact
//! report. Run with `UPDATE_GOLDEN=1` to rewrite the expected files after a deliberate change
//! (then review the diff).

mod common;

use std::path::Path;

use common::validators;
use ivr::{ScriptSet, check_dir};

const CASES: &str = "tests/fixtures/check";
const AUDIO: &str = "tests/fixtures/audio";

fn check_case(name: &str) {
    let dir = Path::new(CASES).join(name);
    let report = check_dir(&dir, Path::new(AUDIO), &validators());
    let got = report.to_string();
    let expected_path = dir.join("expected.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &got).expect("expected.txt is writable");
        return;
    }
    let want = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1)",
            expected_path.display()
        )
    });
    assert_eq!(
        got, want,
        "check output for `{name}` changed (UPDATE_GOLDEN=1 rewrites it)"
    );
}

#[test]
fn every_case_directory_has_a_test() {
    let mut dirs: Vec<String> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        [
            "agent_steps",
            "duplicate_key",
            "empty_dir",
            "header",
            "loops",
            "ok",
            "prompts",
            "references",
            "syntax_error",
            "timeouts",
            "unknown_field",
            "unknown_language",
            "variables",
            "warnings_only"
        ]
    );
}

#[test]
fn ok() {
    check_case("ok");
}

#[test]
fn syntax_error() {
    check_case("syntax_error");
}

#[test]
fn duplicate_key() {
    check_case("duplicate_key");
}

#[test]
fn references() {
    check_case("references");
}

#[test]
fn loops() {
    check_case("loops");
}

#[test]
fn timeouts() {
    check_case("timeouts");
}

#[test]
fn prompts() {
    check_case("prompts");
}

#[test]
fn header() {
    check_case("header");
}

#[test]
fn agent_steps() {
    check_case("agent_steps");
}

#[test]
fn unknown_field() {
    check_case("unknown_field");
}

#[test]
fn variables() {
    check_case("variables");
}

#[test]
fn warnings_only() {
    check_case("warnings_only");
}

/// Warnings do not stop a script from loading; they travel with the set for the engine to log.
#[test]
fn a_set_with_only_warnings_loads_and_keeps_them() {
    let dir = Path::new(CASES).join("warnings_only");
    let set = ScriptSet::load(&dir, Path::new(AUDIO), &validators()).unwrap();
    assert!(set.get("spare").is_some());
    assert_eq!(set.warnings.warning_count(), 1, "{}", set.warnings);
    assert!(!set.warnings.has_errors());
    let refused = ScriptSet::load(
        &Path::new(CASES).join("loops"),
        Path::new(AUDIO),
        &validators(),
    );
    assert_eq!(refused.unwrap_err().error_count(), 2);
}

#[test]
fn unknown_language() {
    check_case("unknown_language");
}

#[test]
fn empty_dir() {
    check_case("empty_dir");
}

#[test]
fn a_missing_directory_is_an_error() {
    let report = check_dir(
        Path::new("tests/fixtures/no-such-dir"),
        Path::new(AUDIO),
        &validators(),
    );
    assert!(report.has_errors());
    assert!(
        report
            .to_string()
            .contains("cannot read the scripts directory"),
        "{report}"
    );
}

/// A script of `n` steps, each leading to the next and the last back to the first: no exit.
fn loop_script(n: usize) -> String {
    let mut s = String::from("[script]\nlanguages = [\"hi\"]\nstart = \"s0\"\n[steps]\n");
    for i in 0..n {
        s.push_str(&format!(
            "s{i} = {{ type = \"play\", prompts = [\"welcome\"], next = \"s{}\" }}\n",
            (i + 1) % n
        ));
    }
    s
}

/// Issue 10: the longest loop allowed is checked (the old checker kept a set of reachable steps
/// per step: quadratic memory) and reported once, its names abridged; one step more is refused
/// before any check runs; a 20,000-step script too.
#[test]
fn a_long_loop_with_no_exit_is_reported_once_and_too_many_steps_are_refused() {
    let err = ivr::Script::from_toml("long.toml", &loop_script(2_000), &validators()).unwrap_err();
    assert_eq!(err.error_count(), 1, "{err}");
    let text = err.to_string();
    assert!(text.contains("loop with no way out"), "{text}");
    assert!(text.contains("… (1,990 more)"), "{text}");

    let refused = |n| {
        let err = ivr::Script::from_toml("huge.toml", &loop_script(n), &validators()).unwrap_err();
        assert_eq!(err.error_count(), 1, "{err}");
        err.to_string()
    };
    let text = refused(2_001);
    assert!(
        text.contains("2,001 steps, more than the 2,000 allowed"),
        "{text}"
    );
    // 20,000 steps are 1.3 MB of text: refused by size before TOML parses it.
    let text = refused(20_000);
    assert!(
        text.contains("bytes, more than the 1,048,576 allowed"),
        "{text}"
    );
}

/// Issue 10: a script file past the size cap is refused unread; a FIFO named *.toml is refused
/// at once (opening it would block for ever), not skipped.
#[test]
fn a_huge_script_file_and_a_fifo_are_refused_at_once() {
    let dir = std::env::temp_dir().join(format!("ivr-check-bounds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let huge = std::fs::File::create(dir.join("huge.toml")).unwrap();
    huge.set_len(64 * 1024 * 1024).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.toml"))
        .status()
        .unwrap();
    assert!(status.success());
    let report = check_dir(&dir, Path::new(AUDIO), &validators());
    let text = report.to_string();
    assert_eq!(report.error_count(), 2, "{text}");
    assert!(text.contains("more than the 1,048,576 allowed"), "{text}");
    assert!(
        text.contains("a FIFO (named pipe), not a regular file"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
