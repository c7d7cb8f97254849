//! `helpline bench records`: what writing call records costs, on its own. N complaint calls' records
//! are made as a call task makes them ([`CallTrace`]: arrived, answered, the 1100 complaint path with
//! its keys, a recording, a ticket, finished) and handed to the records writer at the rate calls
//! end, which batches them into the run's SQLite database (or a PostgreSQL one) as a node's does.
//! The figure is the process's CPU (user + system, every thread: the hand-over and the writer's
//! work) per record, from `/proc/self/stat` — a CPU time, not a wall time, so it holds on a busy
//! machine far better than `bench load`'s whole-engine figure, whose 5 % it is measured against.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::BenchError;
use super::load::{WorkDir, io_err};
use super::procstat;
use crate::engine::CallOutcome;
use crate::engine::trace::CallTrace;

/// `helpline bench records`.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordsOptions {
    /// Call records to write.
    #[arg(long, default_value_t = 20_000)]
    pub records: u64,
    /// Calls ending per second (the writer batches what arrives together).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Write to this PostgreSQL database instead of a fresh SQLite file.
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// The engine CPU per call the records' cost is set against, ms (`bench load`'s figure on the
    /// 1100 flow; issue 16's target is 1.0).
    #[arg(long, default_value_t = 1.0)]
    pub engine_cpu_ms_per_call: f64,
    /// Working directory for the database and the writer's journal (default: a fresh temporary
    /// directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsReport {
    pub records: u64,
    pub rate: f64,
    pub database: &'static str,
    /// Records written to the database by the end (must be all).
    pub stored: u64,
    pub lost: u64,
    /// Records that found the writer's queue full and went to its journal first.
    pub journalled_directly: u64,
    /// Process CPU per record, microseconds: making it, handing it over, writing it.
    pub cpu_us_per_record: f64,
    /// `cpu_us_per_record` against `engine_cpu_ms_per_call`.
    pub share_of_engine_cpu: f64,
    pub engine_cpu_ms_per_call: f64,
    /// From the last record handed over to the last one stored.
    pub drain_ms: f64,
}

impl RecordsReport {
    /// Every record stored, none lost, under 5 % of the engine's CPU per call.
    pub fn clean(&self) -> bool {
        self.stored == self.records && self.lost == 0 && self.share_of_engine_cpu < 0.05
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        format!(
            "helpline bench records — {} records at {}/s into {}\n\
             \x20 records stored / lost / journalled first      {} / {} / {}\n\
             \x20 CPU per record (all of it)                    {:.1} µs\n\
             \x20 share of {:.2} ms engine CPU per call           {:.2} %   target < 5 %\n\
             \x20 last handed over → last stored                 {:.0} ms\n\
             \x20 result: {}\n",
            self.records,
            self.rate,
            self.database,
            self.stored,
            self.lost,
            self.journalled_directly,
            self.cpu_us_per_record,
            self.engine_cpu_ms_per_call,
            self.share_of_engine_cpu * 100.0,
            self.drain_ms,
            if self.clean() { "CLEAN" } else { "FAILED" },
        )
    }
}

/// The record of one complaint call on the 1100 flow, made as its call task makes it.
pub fn complaint_record(n: u64) -> records::CallRecord {
    let start = Utc::now();
    let at = |ms: i64| start + chrono::Duration::milliseconds(ms);
    let call = format!("1733300000.{n}");
    let mut trace = CallTrace::arrived(
        &call,
        &call,
        "bench",
        "+919816012345",
        Some("09816012345"),
        at(0),
    );
    trace.answered(at(40));
    for (i, (step, key)) in [
        ("welcome", None),
        ("choose_language", Some('1')),
        ("main_menu", Some('1')),
        ("category_menu", Some('1')),
        ("record_complaint", Some('#')),
        ("record_confirm", Some('1')),
        ("file_complaint", None),
        ("complaint_registered", None),
        ("anything_else", Some('2')),
        ("goodbye", None),
    ]
    .into_iter()
    .enumerate()
    {
        trace.entered(step, at(2_000 * i as i64));
        if let Some(key) = key {
            trace.key(key, false);
        }
    }
    trace.recording(&format!("ivr-{call}-record_complaint-1"));
    trace.ticket("2612345678", "WATER");
    trace.finish(CallOutcome::Completed, false, "hi", at(24_000))
}

/// Runs the benchmark on the current runtime.
pub async fn run_records(options: &RecordsOptions) -> Result<RecordsReport, BenchError> {
    if options.records == 0 || !(options.rate.is_finite() && options.rate > 0.0) {
        return Err(BenchError::Options(
            "--records must be at least 1 and --rate a positive number".to_owned(),
        ));
    }
    let work = WorkDir::new(options.work_dir.as_deref(), "helpline-bench-records");
    std::fs::create_dir_all(&work.path)
        .map_err(io_err(format!("cannot create {}", work.path.display())))?;
    let (url, database) = match &options.postgres_url {
        Some(url) => (url.clone(), "PostgreSQL"),
        None => (
            format!(
                "sqlite://{}?mode=rwc",
                work.path.join("records.db").display()
            ),
            "SQLite",
        ),
    };
    let setup = |e: records::RecordsError| BenchError::Setup(format!("call records: {e}"));
    let store =
        records::RecordStore::open(&url, &tickets::StoreOptions::default()).map_err(setup)?;
    store.migrate().await.map_err(setup)?;
    let stop = CancellationToken::new();
    let (recorder, task) = records::Recorder::spawn(
        store,
        records::WriterConfig::new(work.path.join("journal")),
        stop.clone(),
    )
    .map_err(setup)?;
    let stats = recorder.stats();
    let sample = || procstat::sample().map_err(|e| BenchError::Setup(e.to_string()));

    // Calls end in ticks of 50 ms, as many in each as the rate says (finer ticks would measure
    // the benchmark's own wake-ups: a records writer sees no difference within its linger).
    let per_tick = (options.rate / 20.0).max(1.0);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let before = sample()?;
    let (mut sent, mut due) = (0u64, 0.0f64);
    while sent < options.records {
        tick.tick().await;
        due += per_tick;
        while sent < options.records && (sent as f64) < due {
            recorder.record(complaint_record(sent));
            sent += 1;
        }
    }
    let handed_at = Instant::now();
    let deadline = handed_at + Duration::from_secs(120);
    while stats.stored.load(Ordering::Relaxed) < options.records && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain = handed_at.elapsed();
    let after = sample()?;
    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;

    let cpu_us = after.cpu.saturating_sub(before.cpu).as_secs_f64() * 1e6 / options.records as f64;
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    Ok(RecordsReport {
        records: options.records,
        rate: options.rate,
        database,
        stored: n(&stats.stored),
        lost: n(&stats.lost),
        journalled_directly: n(&stats.overflowed),
        cpu_us_per_record: cpu_us,
        share_of_engine_cpu: cpu_us / (options.engine_cpu_ms_per_call * 1000.0),
        engine_cpu_ms_per_call: options.engine_cpu_ms_per_call,
        drain_ms: drain.as_secs_f64() * 1000.0,
    })
}
