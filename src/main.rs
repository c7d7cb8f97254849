//! `helpline`: the command-line edge. Parses arguments and hands off to the library parts.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "helpline", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
