//! The shipped script `ivr-scripts/1100.toml` against the shipped prompts in `audio/` and the
//! deployment kit's dialplan: it must check clean (no errors, no warnings), load, reach only
//! dialplan destinations that exist, and keep its version across reloads.

use std::path::PathBuf;
use std::sync::Arc;

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
    assert_eq!(
        report.files_checked, 4,
        "1100.toml, confirm.toml, remind.toml and benchmark.toml"
    );
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

/// Every `transfer`/`agent` destination of 1100.toml exists in the deployment kit's dialplan.
#[test]
fn transfer_destinations_exist_in_the_dialplan() {
    let dialplan = std::fs::read_to_string(repo().join("deploy/asterisk/extensions.conf")).unwrap();
    let mut context = String::new();
    let mut defined = std::collections::BTreeSet::new();
    for line in dialplan.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            context = name.to_owned();
        } else if let Some(rest) = line.strip_prefix("exten =>") {
            let extension = rest.split(',').next().unwrap_or_default().trim();
            defined.insert((context.clone(), extension.to_owned()));
        }
    }
    let validators = Validators::new().with("complaint_number", ten_digits);
    let text = std::fs::read_to_string(repo().join("ivr-scripts/1100.toml")).unwrap();
    let script = ivr::Script::from_toml("1100.toml", &text, &validators).unwrap();
    let mut transfers = 0;
    for step in &script.steps {
        if let ivr::script::StepKind::Transfer {
            context, extension, ..
        } = &step.kind
        {
            transfers += 1;
            assert!(
                defined.contains(&(context.clone(), extension.clone())),
                "step `{}` transfers to {context},{extension}, which extensions.conf does not define",
                step.name
            );
        }
    }
    // An agent is helpline's own queue now (`agent` steps), not the dialplan's.
    assert_eq!(transfers, 5, "181, 1077, hrtc, gst and nasha");
}

/// A call keeps the script version it started with when the set is loaded again (SIGHUP).
#[test]
fn a_call_finishes_on_the_version_it_started_with() {
    let dir = std::env::temp_dir().join(format!("ivr-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let version = |prompt: &str| {
        format!(
            "[script]\nlanguages = [\"hi\", \"en\"]\nstart = \"bye\"\n\
             [steps.bye]\ntype = \"hangup\"\nprompts = [\"{prompt}\"]\n"
        )
    };
    let audio = repo().join("audio");
    let validators = Validators::new();
    std::fs::write(dir.join("1100.toml"), version("goodbye")).unwrap();
    let first = ScriptSet::load(&dir, &audio, &validators).unwrap();
    let ctx = ivr::CallContext {
        call_id: "c1".into(),
        caller: String::new(),
        caller_raw: None,
        started_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+05:30").unwrap(),
    };
    let (call, _) = ivr::Call::start(first.get("1100").unwrap(), ctx, std::time::Instant::now());

    std::fs::write(dir.join("1100.toml"), version("welcome")).unwrap();
    let second = ScriptSet::load(&dir, &audio, &validators).unwrap();
    drop(first);
    let running = call.script();
    let ivr::script::StepKind::Hangup { media, .. } = &running.steps[running.start].kind else {
        panic!("the step is a hangup");
    };
    assert_eq!(media, &[ivr::script::MediaItem::Prompt("goodbye".into())]);
    assert!(!Arc::ptr_eq(running, &second.get("1100").unwrap()));

    // A broken new version is refused; whoever holds the old set keeps it.
    std::fs::write(dir.join("1100.toml"), "[script]\n").unwrap();
    let err = ScriptSet::load(&dir, &audio, &validators).unwrap_err();
    assert!(err.has_errors(), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A playback longer than `max_prompt` would be cut by the guard: check says so, per language.
#[test]
fn a_prompt_guard_shorter_than_the_prompts_is_refused() {
    let dir = std::env::temp_dir().join(format!("ivr-guard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("short.toml"),
        "[script]\nlanguages = [\"hi\", \"en\"]\nstart = \"menu\"\n\
         [defaults]\nmax_prompt = \"15s\"\n\
         [steps.menu]\ntype = \"hangup\"\nprompts = [\"welcome\", \"main_menu\"]\n",
    )
    .unwrap();
    let report = check_dir(&dir, &repo().join("audio"), &Validators::new());
    std::fs::remove_dir_all(&dir).unwrap();
    let text = report.to_string();
    assert_eq!(report.error_count(), 1, "{text}");
    assert!(text.contains("step `menu` plays for"), "{text}");
    assert!(
        text.contains("in hi, longer than max_prompt (15.0s)"),
        "{text}"
    );
}

/// Every prompt the deployment kit's dialplan plays itself (`Playback(helpline/<id>)` in the fallback
/// that answers while the engine is away) is in the manifest, with a file in every language.
#[test]
fn dialplan_fallback_prompts_exist() {
    let dialplan = std::fs::read_to_string(repo().join("deploy/asterisk/extensions.conf")).unwrap();
    let audio = repo().join("audio");
    let manifest = ivr::prompts::Manifest::load(&audio).unwrap();
    let mut played = 0;
    for line in dialplan.lines() {
        let Some(rest) = line.split("Playback(helpline/").nth(1) else {
            continue;
        };
        let id = rest.split(')').next().unwrap_or_default();
        played += 1;
        for lang in &manifest.languages {
            ivr::prompts::find_prompt(&audio, &manifest, id, lang)
                .unwrap_or_else(|e| panic!("dialplan plays helpline/{id}: {e}"));
        }
    }
    assert_eq!(played, 2, "the fallback apologises and thanks the caller");
}
