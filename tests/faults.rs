//! Issue 9, "nothing lost when the engine dies", as bounded tests: `helpline bench faults` (the simulator
//! and the engine each in a process of their own) with seeded faults among complaint calls — the engine
//! SIGKILLed 10 times among 200 calls (started again within 2 s each time), and PostgreSQL "stopped"
//! for 3 s 5 times among 100 (a proxy resets the engine's connections and refuses new ones). Every
//! complaint a caller spoke must end up a ticket, none twice, each with its recording, and no caller may
//! sit in dead air for more than 5 s once the engine is back. The measured figures are printed either way.
//! The runs take the machine's two cores: they run one at a time.

use std::path::PathBuf;

use helpline::bench::faults::DEFAULT_POSTGRES_URL;
use helpline::bench::{FaultKind, FaultOptions, FaultReport, run_faults};

/// One fault run at a time: each is an engine, a simulator and hundreds of callers timed in real time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn options(fault: FaultKind, calls: u64, faults: u32, seed: u64, tag: &str) -> FaultOptions {
    let work = std::env::temp_dir().join(format!("helpline-faults-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    FaultOptions {
        fault,
        calls,
        rate: 4.0,
        speed: 20.0,
        speech: 8.0,
        faults,
        restart_within: 2.0,
        fault_seconds: 3.0,
        slow_ms: 3000,
        postgres_url: DEFAULT_POSTGRES_URL.to_owned(),
        seed,
        grace: 10,
        finish_timeout: 60.0,
        json: None,
        scripts: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ivr-scripts")),
        audio: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/audio")),
        work_dir: Some(work),
        exe: Some(PathBuf::from(env!("CARGO_BIN_EXE_helpline"))),
    }
}

/// Runs, prints the figures, keeps the run's folder when the bar is not met.
async fn run(options: &FaultOptions) -> FaultReport {
    let _turn = ONE_AT_A_TIME.lock().await;
    let report = run_faults(options).await.expect("the fault run");
    println!("{}", report.table());
    println!("worst silences after back: {:?}", report.worst_silences);
    let work = options.work_dir.clone().unwrap_or_default();
    if report.clean() && report.longest_silence_after_back_ms <= 5_000 {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        println!("kept for inspection: {}", work.join("engine.log").display());
    }
    report
}

/// The run did what it says (every fault injected, every call placed and ended, at least
/// `min_spoken` complaints spoken), and issue 9's bar.
fn assert_the_bar(report: &FaultReport, options: &FaultOptions, min_spoken: u64) {
    let table = report.table();
    assert_eq!(report.faults_injected, options.faults, "{table}");
    assert_eq!(report.calls, options.calls, "{table}");
    assert_eq!(report.calls_ended, options.calls, "{table}");
    assert!(report.spoken >= min_spoken, "{table}");
    assert_eq!(report.doubled, 0, "{table}");
    assert_eq!(report.tickets_without_recording, 0, "{table}");
    assert_eq!(
        report.lost, 0,
        "lost: {:?}\n{table}",
        report.lost_recordings
    );
    assert!(
        report.longest_silence_after_back_ms <= 5_000,
        "{:?}\n{table}",
        report.worst_silences
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_engine_loses_no_complaint_and_leaves_no_caller_in_silence() {
    let options = options(FaultKind::Kill9, 200, 10, 9, "kill9");
    let report = run(&options).await;
    // Calls placed while the engine was down hear the dialplan's apology instead.
    assert_the_bar(&report, &options, 100);
    // A call that ended just before a kill keeps its record for the next engine.
    assert_eq!(report.calls_without_record, 0, "{}", report.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_stopped_loses_no_complaint_nor_call_record() {
    let Some(url) = std::env::var("HELPLINE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but HELPLINE_TEST_POSTGRES_URL is not set: the pg-stopped fault run must run in CI"
        );
        println!("skipped: HELPLINE_TEST_POSTGRES_URL not set");
        return;
    };
    let mut options = options(FaultKind::PgStopped, 100, 5, 3, "pg");
    options.postgres_url = url;
    let report = run(&options).await;
    // The engine stays up: every caller is answered and speaks, tickets journaled meanwhile.
    assert_the_bar(&report, &options, 100);
    assert_eq!(report.turned_away, 0, "{}", report.table());
    assert_eq!(report.calls_answered, 100, "{}", report.table());
    assert_eq!(report.calls_without_record, 0, "{}", report.table());
}
