//! The contract suite: the same behaviour checked against SQLite and PostgreSQL. Each contract is an
//! `async fn(Env)`; `contract!(name)` runs it once per backend. PostgreSQL runs when
//! `HELPLINE_TEST_POSTGRES_URL` is set (required when `CI=true`).

// Test fixtures outside #[test] fns: a failed setup should panic loudly.
#![allow(clippy::unwrap_used)]

mod support;

mod accounts;
mod api;
mod caller;
mod confirmations;
mod disk_full;
mod edge;
mod lifecycle;
mod locked_at_start;
mod officers;
mod outage;
mod outbox;
mod reports;
mod upgrade;
