//! The command line: argument definitions (clap) and one function per subcommand. Arguments are parsed here,
//! the work is done by the library (`helpline::…`) and the crates; errors become `anyhow` messages only here.

mod bench_cmd;
mod config_cmd;
mod demo_cmd;
mod ivr_cmd;
mod report_cmd;
mod serve_cmd;
mod tickets_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use helpline::config::Config;
use helpline::telemetry::{self, LogFormat};

/// The telephony side of the 1100 public-grievance helpline.
#[derive(Debug, Parser)]
#[command(name = "helpline", version, about, propagate_version = true)]
pub struct Cli {
    /// Config file (see helpline.example.toml); every key can also come from the environment.
    #[arg(long, global = true, env = "HELPLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format (overrides log.json from the config).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the helpline against Asterisk (or, with --sim or without ari.url, the built-in simulator).
    Serve(serve_cmd::ServeArgs),
    /// Everything on this machine, nothing to set up: simulator, engine, API and a stream of callers.
    Demo(demo_cmd::DemoArgs),
    /// Run the ARI simulator (a fake Asterisk) on its own.
    Sim(serve_cmd::SimArgs),
    /// Check the IVR scripts and their prompts; non-zero exit on any error.
    Check(ivr_cmd::CheckArgs),
    /// The prompts: coverage per language, or play one.
    Prompts {
        #[command(subcommand)]
        command: ivr_cmd::PromptsCommand,
    },
    /// The ticket database.
    Db {
        #[command(subcommand)]
        command: tickets_cmd::DbCommand,
    },
    /// API tokens of users and integrations: create, list, revoke.
    Token {
        #[command(subcommand)]
        command: tickets_cmd::TokenCommand,
    },
    /// User accounts (agents, supervisors, officers, admins).
    User {
        #[command(subcommand)]
        command: tickets_cmd::UserCommand,
    },
    /// Tickets in the database.
    Tickets {
        #[command(subcommand)]
        command: tickets_cmd::TicketsCommand,
    },
    /// SMS and webhooks from the ticket outbox: dead letters, retrying one, what is owed.
    Notifications {
        #[command(subcommand)]
        command: tickets_cmd::NotificationsCommand,
    },
    /// Officers (whom tickets are assigned to, level by level, and reminded): list, add, update,
    /// deactivate.
    Officers {
        #[command(subcommand)]
        command: tickets_cmd::OfficersCommand,
    },
    /// The call-centre report of a period: calls, IVR containment, queues, agents, departments.
    Report(report_cmd::ReportArgs),
    /// Check the configuration (file + environment) and say exactly what is wrong.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: bench_cmd::BenchArgs,
    },
}

/// `helpline config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print it with secrets masked; non-zero exit on any problem.
    Check,
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_path = cli.config.clone();
    let log_format = cli.log_format;
    match cli.command {
        Command::Config {
            command: ConfigCommand::Check,
        } => Ok(config_cmd::check(config_path.as_deref())),
        Command::Serve(args) => {
            let config = load_config(&cli.config, log_format, None)?;
            runtime()?.block_on(serve_cmd::serve(config, args))
        }
        Command::Demo(args) => {
            let config = load_config(&cli.config, log_format, Some(args.log_level()))?;
            runtime()?.block_on(demo_cmd::demo(config, args))
        }
        Command::Sim(args) => {
            let config = load_config(&cli.config, log_format, None)?;
            runtime()?.block_on(serve_cmd::sim(config, args))
        }
        Command::Check(args) => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            Ok(ivr_cmd::check(&config, &args))
        }
        Command::Prompts { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            ivr_cmd::prompts(&config, command)
        }
        Command::Db { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(tickets_cmd::db(&config, command))
        }
        Command::Token { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(tickets_cmd::token(&config, command))
        }
        Command::User { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(tickets_cmd::user(&config, command))
        }
        Command::Tickets { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(tickets_cmd::tickets(&config, command))
        }
        Command::Notifications { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(tickets_cmd::notifications(&config, command))
        }
        Command::Officers { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(tickets_cmd::officers(&config, command))
        }
        Command::Report(args) => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            runtime()?.block_on(report_cmd::report(&config, args))
        }
        Command::Bench { command } => {
            let config = load_config(&cli.config, log_format, Some("warn"))?;
            bench_cmd::bench(&config, command)
        }
    }
}

/// Loads and validates the configuration (every problem listed) and starts logging. `quiet_level` replaces
/// the configured level for commands whose output is for a person, unless `RUST_LOG` says otherwise.
fn load_config(
    path: &Option<PathBuf>,
    format: Option<LogFormatArg>,
    quiet_level: Option<&str>,
) -> anyhow::Result<Config> {
    let config = Config::load(path.as_deref()).context(
        "fix the configuration (see helpline.example.toml; `helpline config check` lists it)",
    )?;
    let format = match format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None if config.log.json => LogFormat::Json,
        None => LogFormat::Text,
    };
    telemetry::init(quiet_level.unwrap_or(&config.log.level), format);
    Ok(config)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
