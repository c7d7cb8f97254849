//! `helpline bench load` end to end: a tiny load (20 callers on the 1100 complaint path) through the real
//! harness — the simulator in its own process (this package's binary), the engine in this one — must finish
//! every call as scripted with no error of any kind. Nothing here looks at timings.

use std::path::PathBuf;

use helpline::bench::{Flow, LoadOptions, run_load};

fn tiny_load(work: &std::path::Path, flow: Flow) -> LoadOptions {
    LoadOptions {
        flow,
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
        work_dir: Some(work.join("bench")),
        sim_exe: Some(PathBuf::from(env!("CARGO_BIN_EXE_helpline"))),
        no_call_records: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_all_finish_as_scripted_with_no_errors() {
    let work = tempfile::tempdir().unwrap();
    let options = tiny_load(work.path(), Flow::Helpline);
    let report = run_load(&options).await.unwrap();

    assert_eq!(report.calls.placed, 20, "{}", report.table());
    assert_eq!(report.calls.as_scripted, 20, "{}", report.table());
    assert_eq!(report.calls.unfinished, 0, "{}", report.table());
    assert_eq!(report.errors.total(), 0, "{:?}", report.errors);
    assert_eq!(report.engine_calls_completed, 20);
    assert_eq!(report.engine_calls_other_outcome, 0);
    assert_eq!(report.tickets_created, 20);
    // One call record per call, each written, none lost.
    let records = report.call_records.as_ref().expect("run with call records");
    assert_eq!((records.handed, records.stored, records.lost), (20, 20, 0));
    assert!(report.clean());
    // Every call's events were measured: the probe saw the answers to DTMF, playbacks and recordings.
    assert!(
        report.event_to_command.samples >= 20 * 5,
        "{:?}",
        report.event_to_command
    );
    assert_eq!(report.event_to_command_via_ticket_store.samples, 20);
    // Each caller's "1" (keep the recording) was followed by their number: measured per call.
    assert_eq!(report.key_to_readback.samples, 20, "{}", report.table());
    // The JSON report carries the same figures.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["calls"]["as_scripted"], 20);
    assert_eq!(json["errors"]["timeouts"], 0);
}

/// The cross-engine benchmark's flow (`benchmark.toml`): a prompt, one key, record until `#`, the number
/// read back. Every call as scripted, a ticket each, the `#` → read-back measured on every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmark_flow_runs_every_call_to_its_number_with_no_errors() {
    let work = tempfile::tempdir().unwrap();
    let options = tiny_load(work.path(), Flow::Benchmark);
    let report = run_load(&options).await.unwrap();
    assert!(report.clean(), "{}", report.table());
    assert_eq!(report.calls.as_scripted, 20, "{}", report.table());
    assert_eq!(report.tickets_created, 20);
    assert_eq!(report.key_to_readback.samples, 20, "{}", report.table());
    assert!(report.key_to_readback.p50.is_some_and(|ms| ms > 0.0));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["flow"], "benchmark");
    assert!(
        report.command.contains("--flow benchmark"),
        "{}",
        report.command
    );
}

/// `helpline bench records`: every record made is stored, none lost, and the CPU figure is a real
/// measurement (not a timing target: the machine is shared).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_records_benchmark_stores_every_record_it_makes() {
    let work = tempfile::tempdir().unwrap();
    let options = helpline::bench::records::RecordsOptions {
        records: 300,
        rate: 3000.0,
        postgres_url: None,
        engine_cpu_ms_per_call: 1.0,
        work_dir: Some(work.path().join("records")),
    };
    let report = helpline::bench::records::run_records(&options)
        .await
        .unwrap();
    assert_eq!((report.stored, report.lost), (300, 0), "{}", report.table());
    assert!(report.cpu_us_per_record > 0.0, "{}", report.table());
    // What was stored is the complaint call's record, path and ticket included.
    let store = records::RecordStore::open(
        &format!(
            "sqlite://{}",
            work.path().join("records/records.db").display()
        ),
        &tickets::StoreOptions::default(),
    )
    .unwrap();
    let record = store
        .call("1733300000.7")
        .await
        .unwrap()
        .expect("record 7 stored");
    assert_eq!(record.outcome, records::Outcome::ComplaintFiled);
    assert_eq!(record.path.len(), 10);
    assert_eq!(record.tickets.len(), 1);
}
