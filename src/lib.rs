//! `helpline`: the service that ties the parts together. The call engine drives `ivr::Call`s with ARI events
//! and carries out their actions through `ari::Client` and `tickets::TicketService`; `app` builds and runs
//! `serve` and `demo`; `config` reads and validates the configuration; `http` serves `/health` and
//! `/metrics` (`metrics`: the registry) beside the tickets API; `web` the pages at `/` (agent desktop, wallboard, reports). The command line lives in the binary (`src/main.rs`, `src/cli/`).

pub mod app;
pub mod bench;
pub mod centre;
pub mod config;
pub mod demo;
pub mod engine;
pub mod forwarded;
pub mod http;
pub mod metrics;
pub mod telemetry;
pub mod web;
