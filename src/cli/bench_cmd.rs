//! `helpline bench …`: `ari` (event parsing and routing, `ari::bench`), `tickets` (filing throughput,
//! `tickets::bench`), `acd` (the call centre's decisions, `acd::bench`) and `load` (the whole engine
//! under simulated callers, `helpline::bench`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use helpline::config::Config;

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum BenchArgs {
    /// ARI event parsing and routing to call mailboxes.
    Ari {
        /// Concurrent calls (mailboxes).
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        /// Events per call.
        #[arg(long, default_value_t = 40)]
        events_per_call: usize,
        /// Events per second of the paced (latency) run.
        #[arg(long, default_value_t = 5000)]
        paced_rate: u64,
    },
    /// Filing tickets as calls do (SQLite, or PostgreSQL with --postgres-url).
    Tickets {
        /// Tickets to file.
        #[arg(long, default_value_t = 2000)]
        tickets: usize,
        /// Concurrent filers.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// A PostgreSQL URL to run against (a fresh schema, dropped afterwards).
        #[arg(long, env = "HELPLINE_BENCH_POSTGRES_URL", hide_env_values = true)]
        postgres_url: Option<String>,
        /// Scratch folder (emptied first).
        #[arg(long, default_value = "helpline-data/bench-tickets")]
        work_dir: PathBuf,
    },
    /// The ACD's decisions: agents all busy, callers waiting; the time from an agent free to the
    /// ring, and the memory per waiting caller.
    Acd {
        /// Agents logged in (all on calls when the measure starts).
        #[arg(long, default_value_t = 300)]
        agents: usize,
        /// Callers kept waiting.
        #[arg(long, default_value_t = 2000)]
        callers: usize,
    },
    #[command(flatten)]
    Load(helpline::bench::BenchCommand),
}

pub fn bench(_config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args {
        BenchArgs::Ari {
            calls,
            events_per_call,
            paced_rate,
        } => {
            let report = super::runtime()?.block_on(ari::bench::run(ari::bench::BenchOptions {
                calls,
                events_per_call,
                paced_rate,
            }));
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        BenchArgs::Tickets {
            tickets,
            concurrency,
            postgres_url,
            work_dir,
        } => {
            let report = super::runtime()?
                .block_on(tickets::bench::run(tickets::bench::BenchConfig {
                    postgres_url,
                    tickets,
                    concurrency,
                    work_dir,
                }))
                .context("the tickets benchmark failed")?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        BenchArgs::Acd { agents, callers } => {
            println!("{}", acd::bench::run(agents, callers));
            Ok(ExitCode::SUCCESS)
        }
        BenchArgs::Load(command) => Ok(if helpline::bench::run(command)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
    }
}
