//! `helpline bench load` end to end: a tiny load (20 callers on the 1100 complaint path) through the real
//! harness — the simulator in its own process (this package's binary), the engine in this one — must finish
//! every call as scripted with no error of any kind. Nothing here looks at timings.

use std::path::PathBuf;

use helpline::bench::{LoadOptions, run_load};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_all_finish_as_scripted_with_no_errors() {
    let work = tempfile::tempdir().unwrap();
    let options = LoadOptions {
        calls: 20,
        rate: 20.0,
        ramp: 0.0,
        speed: 16.0,
        speech: 3.0,
        barge_in: false,
        json: None,
        high_load_mark: 10,
        rss_low_mark: 5,
        rss_high_mark: 15,
        max_calls: 100,
        finish_timeout: 60.0,
        scripts: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ivr-scripts")),
        audio: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/audio")),
        work_dir: Some(work.path().join("bench")),
        sim_exe: Some(PathBuf::from(env!("CARGO_BIN_EXE_helpline"))),
    };
    let report = run_load(&options).await.unwrap();

    assert_eq!(report.calls.placed, 20, "{}", report.table());
    assert_eq!(report.calls.as_scripted, 20, "{}", report.table());
    assert_eq!(report.calls.unfinished, 0, "{}", report.table());
    assert_eq!(report.errors.total(), 0, "{:?}", report.errors);
    assert_eq!(report.engine_calls_completed, 20);
    assert_eq!(report.engine_calls_other_outcome, 0);
    assert_eq!(report.tickets_created, 20);
    assert!(report.clean());
    // Every call's events were measured: the probe saw the answers to DTMF, playbacks and recordings.
    assert!(
        report.event_to_command.samples >= 20 * 5,
        "{:?}",
        report.event_to_command
    );
    assert_eq!(report.event_to_command_via_ticket_store.samples, 20);
    // The JSON report carries the same figures.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["calls"]["as_scripted"], 20);
    assert_eq!(json["errors"]["timeouts"], 0);
}
