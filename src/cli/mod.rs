//! The command line: argument definitions (clap) and one function per subcommand. Arguments are parsed here,
//! the work is done by the library (`helpline::…`) and the crates; errors become `anyhow` messages only here.

mod config_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Check the configuration (file + environment) and say exactly what is wrong.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Benchmarks (`bench load`: the engine under thousands of simulated callers; see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: helpline::bench::BenchCommand,
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
    match cli.command {
        Command::Config {
            command: ConfigCommand::Check,
        } => Ok(config_cmd::check(cli.config.as_deref())),
        Command::Bench { command } => Ok(if helpline::bench::run(command)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
    }
}
