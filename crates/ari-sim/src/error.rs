//! The simulator's error type: what can go wrong starting it, loading its configuration or a scenario,
//! and talking to its control handle.

use std::path::PathBuf;

/// Everything the simulator's public API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// A directory the simulator needs (recordings) could not be created or used.
    #[error("cannot use directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration is invalid; the message says which field and why.
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    /// A scenario could not be read or is invalid.
    #[error("invalid scenario: {0}")]
    Scenario(String),
    /// A scenario file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    ScenarioFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The simulator has shut down; the control handle can no longer reach it.
    #[error("the simulator is not running")]
    Stopped,
    /// No call with this id was placed.
    #[error("no simulated call with id {0}")]
    UnknownCall(u64),
    /// Waiting for a call result took longer than allowed.
    #[error("simulated call {0} did not finish in time")]
    CallTimeout(u64),
    /// The HTTP server failed while serving.
    #[error("the simulator's HTTP server failed: {0}")]
    Serve(std::io::Error),
}
