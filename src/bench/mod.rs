//! Benchmarks behind `helpline bench …`. `bench load` ([`load`]) drives the real engine — ARI WebSocket and
//! REST client, router, call tasks, IVR, ticket store on SQLite — against the ARI simulator running in a
//! separate process ([`simproc`]), with thousands of simulated callers following the 1100 complaint script,
//! and reports event→command latency ([`probe`]), throughput, the engine's CPU and memory ([`procstat`]) and
//! every call that did not go as scripted. `bench load-sim` is that child process (not for direct use).
//! `bench faults` ([`faults`]) runs the engine as a child process too (`engineproc`: `helpline serve`
//! with a generated config), injects one kind of fault at seeded random moments while complaint calls run,
//! and reports what callers lost: complaints without a ticket or with two, tickets without their recording,
//! dead air after the engine was back (RELIABILITY.md). `bench board` ([`board`]) measures the
//! wallboard's server side with a full floor: the snapshot, the live stream, the page's re-reads.

pub mod board;
mod engineproc;
mod faultdb;
pub mod faults;
pub mod load;
mod pgproxy;
pub mod probe;
pub mod procstat;
pub mod records;
pub mod report;
pub mod simproc;
mod webdriver;

use std::path::PathBuf;

pub use faults::{FaultKind, FaultOptions, FaultReport, run_faults};
pub use load::{Flow, LoadOptions, run_load};
pub use report::LoadReport;

/// `helpline bench …`.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Load test: N simulated callers (simulator in a separate process) against the engine; prints a
    /// table and writes JSON with --json.
    Load(LoadOptions),
    /// Fault test: the engine as a child process against the simulator in another, N complaint calls,
    /// a fault injected now and then (kill -9, SIGTERM, WebSocket drop/silence, REST 500/slow,
    /// simulator restart, SQLite locked or full, PostgreSQL stopped, recordings disk full); reports
    /// lost/doubled complaints and dead air.
    Faults(FaultOptions),
    /// The wallboard's server side with a full floor (300 agents on calls, 2,000 callers waiting,
    /// conversations ending): the snapshot's time and bytes, the live stream's events and bytes per
    /// second, and the page's re-reads of the floor.
    Board(board::BoardOptions),
    /// What writing call records costs: N complaint calls' records made as call tasks make them,
    /// handed to the records writer at the rate calls end; CPU per record against the engine's per
    /// call (target < 5 %).
    Records(records::RecordsOptions),
    /// The simulator side of `bench load`, started by it (talks JSON lines on stdin/stdout).
    #[command(hide = true)]
    LoadSim(simproc::SimChildArgs),
}

/// Why a benchmark could not run (a run that went badly is a report with errors, not this).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A runtime, file or directory problem.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// The simulator process could not be started.
    #[error("cannot start the simulator process {exe}: {source}")]
    Spawn {
        exe: PathBuf,
        source: std::io::Error,
    },
    /// Talking to the simulator process failed.
    #[error("simulator process I/O: {0}")]
    ChildIo(std::io::Error),
    /// The simulator process said something unexpected, or nothing.
    #[error("simulator process: {0}")]
    Protocol(String),
    /// The simulator failed.
    #[error("simulator: {0}")]
    Sim(String),
    /// The engine or its parts could not be set up.
    #[error("engine setup: {0}")]
    Setup(String),
    /// The options make no sense.
    #[error("invalid options: {0}")]
    Options(String),
    /// The engine process (`bench faults`) would not start, or failed.
    #[error("engine process: {0}")]
    Engine(String),
    /// Something the harness waits for did not happen in time.
    #[error("{what} did not happen within {after:?}")]
    Timeout {
        what: String,
        after: std::time::Duration,
    },
    /// A fault could not be injected or cleared.
    #[error("fault injection: {0}")]
    Fault(String),
    /// The ticket database could not be read.
    #[error("ticket database: {0}")]
    Tickets(String),
}

/// Runs one `helpline bench …` command on its own runtime. For `load` and `faults`, returns whether the run
/// met its correctness bar (`load`: every call as scripted, no errors; `faults`: nothing lost or doubled).
pub fn run(command: BenchCommand) -> Result<bool, BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| BenchError::Io {
            what: "cannot start the async runtime".to_owned(),
            source,
        })?;
    match command {
        BenchCommand::Load(options) => runtime.block_on(async move {
            let report = run_load(&options).await?;
            print!("{}", report.table());
            if let Some(path) = &options.json {
                write_json(path, &report)?;
            }
            Ok(report.clean())
        }),
        BenchCommand::Faults(options) => runtime.block_on(async move {
            let report = run_faults(&options).await?;
            print!("{}", report.table());
            if let Some(path) = &options.json {
                write_json(path, &report)?;
            }
            Ok(report.clean())
        }),
        BenchCommand::Board(options) => runtime.block_on(async move {
            println!("{}", board::run_board(&options).await?);
            Ok(true)
        }),
        BenchCommand::Records(options) => runtime.block_on(async move {
            let report = records::run_records(&options).await?;
            print!("{}", report.table());
            Ok(report.clean())
        }),
        BenchCommand::LoadSim(args) => runtime.block_on(simproc::child_main(args)).map(|()| true),
    }
}

/// Writes a report as pretty JSON.
fn write_json(path: &std::path::Path, report: &impl serde::Serialize) -> Result<(), BenchError> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| BenchError::Setup(format!("cannot encode the report: {e}")))?;
    std::fs::write(path, text + "\n").map_err(|source| BenchError::Io {
        what: format!("cannot write {}", path.display()),
        source,
    })
}
