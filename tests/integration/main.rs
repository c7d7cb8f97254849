//! Integration tests of the whole helpline against the in-process simulator (one test binary): the call
//! flows of 1100.toml, concurrency, reconnection, shutdown, the demo and several nodes on one database.

// A test harness whose set-up fails has failed its test: unwrapping is the clearest way to say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod call_records;
mod callerid;
mod centre;
mod cli;
mod confirm;
mod fallback;
mod flows;
mod http_edge;
mod lifecycle;
mod nodes;
mod notifications;
mod openapi;
mod remind;
mod service;
mod support;
