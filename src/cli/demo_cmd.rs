//! `helpline demo`: runs [`helpline::demo`], printing at the start where its web pages are and how to
//! log in, then a live progress line, and at the end a summary, where the tickets and recordings are, the demo's login, and a short-lived API token with a ready-to-paste
//! `curl` line.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;
use helpline::config::Config;
use helpline::demo::{self, DemoOptions, DemoSummary, Progress};
use helpline::engine::CallOutcome;
use tokio_util::sync::CancellationToken;

/// `helpline demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Stop after this many calls (default: until Ctrl-C).
    #[arg(long)]
    pub calls: Option<u64>,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// Calls in progress at most.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Use the real clock for office hours (at night every caller leaves a message for a call-back).
    #[arg(long)]
    pub real_clock: bool,
    /// Show the service's log lines (info) instead of only warnings.
    #[arg(long)]
    pub verbose: bool,
}

impl DemoArgs {
    /// The log level: the progress line is the demo's output, so only warnings unless asked.
    pub fn log_level(&self) -> &'static str {
        if self.verbose { "info" } else { "warn" }
    }
}

/// Runs the demo.
pub async fn demo(config: Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.speed < 1.0 || !args.speed.is_finite() {
        anyhow::bail!("--speed must be at least 1 (simulated seconds per real second)");
    }
    let options = DemoOptions {
        calls: args.calls,
        speed: args.speed,
        concurrency: args.concurrency.max(1),
        real_clock: args.real_clock,
        ..DemoOptions::default()
    };
    let stop = CancellationToken::new();
    let ctrl_c = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nstopping: no new calls; letting calls in progress finish …");
            ctrl_c.cancel();
        }
    });
    println!(
        "helpline demo: simulated citizens call 1100 (speed ×{}); {}",
        args.speed,
        match args.calls {
            Some(n) => format!("{n} calls"),
            None => "Ctrl-C to stop".to_owned(),
        }
    );
    let summary = demo::run(&config, &options, stop, print_ready, progress_printer())
        .await
        .context("the demo could not run")?;
    eprintln!();
    print_summary(&config, &summary);
    println!("\nToday's report (`helpline report` in this folder; --csv SECTION, --json)\n");
    super::report_cmd::report(&config, super::report_cmd::ReportArgs::today()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Where the pages are and how to log in, at the start (the demo runs until Ctrl-C by default).
fn print_ready(ready: &demo::DemoReady) {
    let addr = ready.http_addr;
    println!("Web pages while it runs: http://{addr}/");
    println!(
        "  log in as {} / {} (a supervisor; the password is new each run)",
        ready.login, ready.password
    );
    println!(
        "  wallboard http://{addr}/board · agent desk http://{addr}/desk · reports http://{addr}/reports"
    );
    println!(
        "API while it runs: curl -H 'Authorization: Bearer {}' http://{addr}/api/v1/tickets",
        ready.token
    );
}

/// The live progress: one line redrawn in place on a terminal; where stderr is a file or a pipe (CI
/// logs, `| tee`), a new line only when a figure changed, so the log stays readable.
fn progress_printer() -> impl FnMut(&Progress) {
    let on_terminal = std::io::stderr().is_terminal();
    let mut last = String::new();
    move |progress: &Progress| {
        let e = &progress.engine;
        let line = format!(
            "  calls placed {:>4} | in progress {:>3} | ended {:>4} (completed {}, transferred {}, caller hung up {}) | tickets {:>4}",
            progress.placed,
            e.calls_in_progress,
            progress.ended,
            e.ended(CallOutcome::Completed),
            e.ended(CallOutcome::Transferred),
            e.ended(CallOutcome::CallerHungUp),
            e.tickets_created,
        );
        if on_terminal {
            eprint!("\r{line}   ");
            let _ = std::io::stderr().flush();
        } else if line != last {
            eprintln!("{line}");
        }
        last = line;
    }
}

fn print_summary(config: &Config, summary: &DemoSummary) {
    println!("\nSummary");
    println!(
        "  calls placed {}, ended {}, went as the citizen expected {}",
        summary.placed,
        summary.ended(),
        summary.as_expected()
    );
    for (kind, (all, ok)) in &summary.by_kind {
        println!("    {:<26} {all:>4} ({ok} as expected)", kind.label());
    }
    let e = &summary.engine;
    println!(
        "  engine: completed {}, transferred {}, caller hung up {}, over capacity {}, ARI errors {}",
        e.calls_completed,
        e.calls_transferred,
        e.calls_caller_hung_up,
        e.calls_over_capacity,
        e.ari_errors
    );
    println!(
        "  tickets filed {} (failures {}), status enquiries {}, recordings fetched {}",
        e.tickets_created, e.ticket_failures, e.lookups, e.recordings_fetched
    );
    if let Some(number) = summary.numbers.last() {
        println!("  last complaint number read back: {number}");
    }
    if let Some(c) = &summary.confirmation {
        println!(
            "  confirmation call: complaint {} resolved, its citizen called back ({}), now {}",
            c.number,
            if c.answered {
                "answered, pressed 1"
            } else {
                "not answered as expected"
            },
            c.status
        );
    }
    println!("\nWhere things are");
    println!(
        "  tickets:    {}  (`helpline tickets list` in this folder)",
        config.database.url
    );
    println!("  recordings: {}", config.recordings_dir.display());
    println!(
        "  demo login (a supervisor; the password is new each run): {} / {}",
        summary.login, summary.password
    );
    println!(
        "    sessions last {} h, {} min idle: POST /api/v1/login {{\"login\", \"password\"}}",
        config.accounts.session_ttl.as_secs() / 3600,
        config.accounts.session_idle.as_secs() / 60
    );
    println!(
        "  API token of the demo user (shown once; works until {}):\n    {}",
        summary.token_expires_at.format("%Y-%m-%d %H:%M UTC"),
        summary.token
    );
    println!("  to browse them over HTTP: `helpline serve --sim`, then");
    println!(
        "    curl -H 'Authorization: Bearer {}' http://{}/api/v1/tickets",
        summary.token, config.http.listen
    );
}
