//! `helpline config check`: validate the configuration and print it, or every problem with it.

use std::path::Path;
use std::process::ExitCode;

use helpline::config::{Config, environment_variables};

/// Prints the validated configuration (secrets masked) or every problem; failure exit code on problems.
pub fn check(path: Option<&Path>) -> ExitCode {
    let source = match path {
        Some(path) => format!("{} + environment", path.display()),
        None => "environment only (no --config given)".to_owned(),
    };
    match Config::load(path) {
        Ok(config) => {
            println!("configuration OK ({source})\n{}", config.summary());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("configuration from {source}: {err}");
            let vars: Vec<&str> = environment_variables().map(|(_, var)| var).collect();
            eprintln!("environment variables read: {}", vars.join(", "));
            ExitCode::FAILURE
        }
    }
}
