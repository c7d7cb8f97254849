//! The shipped script `ivr-scripts/1100.toml` against the shipped prompts in `audio/`: it must
//! check clean (no errors, no warnings) and load.

use std::path::PathBuf;

use ivr::{ScriptSet, Validators, check_dir};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Stand-in for `tickets::is_valid_complaint_number` (the ivr crate does not depend on tickets):
/// only the name matters to `check`.
fn ten_digits(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn shipped_script_checks_clean() {
    let validators = Validators::new().with("complaint_number", ten_digits);
    let report = check_dir(
        &repo().join("ivr-scripts"),
        &repo().join("audio"),
        &validators,
    );
    assert!(report.diagnostics.is_empty(), "{report}");
    assert_eq!(report.files_checked, 1);
}

#[test]
fn shipped_script_loads() {
    let validators = Validators::new().with("complaint_number", ten_digits);
    let set = ScriptSet::load(
        &repo().join("ivr-scripts"),
        &repo().join("audio"),
        &validators,
    )
    .unwrap_or_else(|r| panic!("{r}"));
    let script = set.get("1100").expect("1100.toml loads as `1100`");
    assert_eq!(script.languages, ["hi", "en"]);
    assert!(script.has_prompt("status_in_progress"));
    assert!(script.has_prompt("dept_jsv"));
}

#[test]
fn shipped_script_refuses_an_unknown_validator_set() {
    let report = check_dir(
        &repo().join("ivr-scripts"),
        &repo().join("audio"),
        &Validators::new(),
    );
    assert!(report.has_errors());
    assert!(
        report
            .to_string()
            .contains("unknown validator `complaint_number`"),
        "{report}"
    );
}

#[test]
fn every_manifest_prompt_has_a_good_file_in_every_language() {
    let audio = repo().join("audio");
    let manifest = ivr::prompts::Manifest::load(&audio).unwrap();
    let coverage = ivr::prompts::Coverage::of(&audio, &manifest);
    for lang in &manifest.languages {
        let (done, total) = coverage.complete_in(lang);
        assert_eq!(done, total, "{lang}: run audio/generate.sh\n{coverage}");
    }
    // Every language of the script is generated.
    assert_eq!(manifest.languages, ["hi", "en"]);
}
