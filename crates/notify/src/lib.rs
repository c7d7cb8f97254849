//! Delivery of the ticket outbox's events (issue 15): an SMS to the citizen (registration with the
//! complaint number, status changes, resolution) through a configurable HTTP SMS gateway, and a
//! signed webhook to each subscriber (the state portal, a WhatsApp chatbot, CPGRAMS) for the events
//! it asked for. Delivered at least once: each delivery is leased, tried with backoff and jitter,
//! dead after the last try, and retried by an administrator from there.
//!
//! The decisions are sans-IO, `now` and the randomness passed in:
//! - [`mod@plan`]: which deliveries an event causes ([`Target`]s).
//! - [`retry`]: the backoff schedule and when a delivery is dead.
//! - [`template`]: SMS texts per language with their DLT template ids, checked when configured.
//! - [`sign`]: the webhooks' HMAC-SHA256 signature header, and its check for receivers.
//! - [`sms::SmsGateway::request`]: the gateway request a message becomes.
//!
//! The I/O is thin: [`sms`] and [`webhook`] send one try with reqwest (a timeout on each), and
//! [`worker::Notifier`] runs the loop — plan new events, claim due deliveries under a lease, send,
//! record the outcome — and stops gracefully: a try in flight finishes (within the drain time) or
//! is left leased to be tried again; nothing is marked delivered without a 2xx.
//!
//! The outbox itself (the tables, the event written with its change, leases) is the ticket
//! store's (`tickets::store`, `tickets::outbox`).

pub mod config;
pub mod plan;
pub mod retry;
pub mod sign;
pub mod sms;
pub mod template;
pub mod webhook;
pub mod worker;

pub use config::{Config, Secret, SmsConfig, Subscriber};
pub use plan::{Target, plan};
pub use retry::{Next, RetryPolicy};
pub use worker::{Notifier, NotifyStats};
