//! The notifier: one task per node that turns the outbox into deliveries. Each round (every
//! `poll_every`) it plans the events not planned yet ([`crate::plan()`]), claims as many due
//! deliveries as it has free slots (`concurrency`) under a lease, and runs each try as its own
//! task, which records the outcome: delivered (with the gateway's message id, and for an SMS an
//! entry on the ticket's audit trail), tried again after a backoff with jitter, or dead.
//!
//! Stopping ([`Notifier::run`]'s `shutdown`): no new claims; tries in flight get `drain` to finish
//! and record their outcome; any still going then are dropped with their lease held, so another
//! node (or this one restarted) tries them once the lease runs out. At least once, never marked
//! delivered without a 2xx: a receiver that answered a dropped try sees its idempotency key again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tickets::outbox::{Delivery, DeliveryAudit, EventKind, EventPayload};
use tickets::{SharedClock, Store, StoreError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::plan::{Target, plan};
use crate::retry::Next;
use crate::sms::{self, Message, Sent};
use crate::template::{Values, status_label};
use crate::webhook;

/// How often the backlog and dead-letter gauges are read from the database.
const COUNTS_EVERY: Duration = Duration::from_secs(5);
/// Events planned per round.
const PLAN_BATCH: u32 = 200;
/// Tries at recording an outcome before leaving it to the lease (the database away).
const RECORD_TRIES: u32 = 5;

/// The notifier's counters (for `/metrics`): counted where they happen, read at scrape time.
#[derive(Debug, Default)]
pub struct NotifyStats {
    /// Deliveries delivered (a 2xx).
    pub delivered: AtomicU64,
    /// Tries that failed (each one).
    pub failed: AtomicU64,
    /// Deliveries that became dead letters.
    pub dead: AtomicU64,
    /// Deliveries owed (pending, and events not planned yet), as last read.
    pub backlog: AtomicU64,
    /// Dead letters waiting for an administrator, as last read.
    pub dead_letters: AtomicU64,
}

/// Building a notifier failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the notifier's HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// What the worker and its tries share.
#[derive(Debug)]
struct Inner {
    store: Store,
    config: Config,
    http: reqwest::Client,
    /// This node's lease owner name: the node and a random suffix, so a restarted node does not
    /// take its predecessor's leases for its own.
    owner: String,
    clock: SharedClock,
    stats: Arc<NotifyStats>,
}

/// The outbox worker of one node.
#[derive(Debug, Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl Notifier {
    pub fn new(
        store: Store,
        config: Config,
        clock: SharedClock,
        node: &str,
    ) -> Result<Notifier, NotifyError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.request_timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("helpline-notify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(NotifyError::Http)?;
        let owner = format!("{node}/{}", hex::encode(rand::random::<[u8; 4]>()));
        Ok(Notifier {
            inner: Arc::new(Inner {
                store,
                config,
                http,
                owner,
                clock,
                stats: Arc::new(NotifyStats::default()),
            }),
        })
    }

    pub fn stats(&self) -> Arc<NotifyStats> {
        self.inner.stats.clone()
    }

    /// The lease owner name this notifier claims under.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Runs until `shutdown`, then drains (see the module's doc).
    pub async fn run(self, shutdown: CancellationToken) {
        let inner = self.inner;
        let mut tries: JoinSet<()> = JoinSet::new();
        let mut round = tokio::time::interval(inner.config.poll_every);
        round.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut counts = tokio::time::interval(COUNTS_EVERY);
        counts.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(
            owner = %inner.owner,
            sms = inner.config.sms.is_some(),
            webhooks = inner.config.webhooks.len(),
            "notifier started"
        );
        loop {
            // All three are cancel-safe: a tick or a finished task not taken now is taken later.
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(_) = tries.join_next(), if !tries.is_empty() => continue,
                _ = counts.tick() => {
                    inner.refresh_counts().await;
                    continue;
                }
                _ = round.tick() => {}
            }
            if let Err(e) = inner.plan_new().await {
                tracing::warn!(error = %e, "notifier: planning new events failed; next round");
            }
            let free = inner.config.concurrency.saturating_sub(tries.len());
            if free == 0 {
                continue;
            }
            let now = inner.clock.now();
            let limit = u32::try_from(free).unwrap_or(u32::MAX);
            match inner
                .store
                .claim_deliveries(&inner.owner, now, inner.config.lease, limit)
                .await
            {
                Ok(claimed) => {
                    for delivery in claimed {
                        let inner = inner.clone();
                        tries.spawn(async move { inner.deliver(delivery).await });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "notifier: claiming deliveries failed; next round");
                }
            }
        }
        let in_flight = tries.len();
        let drained = tokio::time::timeout(inner.config.drain, async {
            while tries.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                left = tries.len(),
                "notifier stopped with tries still in flight: left leased, tried again once the \
                 lease runs out"
            );
            tries.abort_all();
        }
        tracing::info!(in_flight, "notifier stopped");
    }

    /// Plans new events once (what a test or the CLI may call outside the loop).
    pub async fn plan_new(&self) -> Result<usize, StoreError> {
        self.inner.plan_new().await
    }
}

impl Inner {
    async fn plan_new(&self) -> Result<usize, StoreError> {
        let events = self.store.unplanned_events(PLAN_BATCH).await?;
        let now = self.clock.now();
        for event in &events {
            let targets: Vec<String> = plan(event, &self.config).iter().map(Target::key).collect();
            self.store.plan_deliveries(&event.id, &targets, now).await?;
        }
        Ok(events.len())
    }

    async fn refresh_counts(&self) {
        match self.store.outbox_counts().await {
            Ok(c) => {
                self.stats.backlog.store(c.backlog, Ordering::Relaxed);
                self.stats.dead_letters.store(c.dead, Ordering::Relaxed);
            }
            Err(e) => tracing::debug!(error = %e, "notifier: reading the outbox's counts failed"),
        }
    }

    /// One try of `delivery` and its outcome recorded.
    async fn deliver(self: Arc<Self>, delivery: Delivery) {
        let (sent, sms) = match Target::parse(&delivery.target) {
            Some(Target::Sms) => {
                let (sent, note) = self.send_sms(&delivery).await;
                (sent, Some(note))
            }
            Some(Target::Webhook(name)) => match self.config.subscriber(&name) {
                Some(subscriber) => (
                    webhook::send(
                        &self.http,
                        subscriber,
                        &delivery.event,
                        delivery.id,
                        self.clock.now(),
                        self.config.request_timeout,
                    )
                    .await,
                    None,
                ),
                None => (
                    Sent::Failed {
                        error: format!("no webhook subscriber {name:?} is configured any more"),
                        permanent: true,
                    },
                    None,
                ),
            },
            None => (
                Sent::Failed {
                    error: format!("unknown delivery target {:?}", delivery.target),
                    permanent: true,
                },
                None,
            ),
        };
        self.record(&delivery, sent, sms.as_deref()).await;
    }

    async fn record(&self, delivery: &Delivery, sent: Sent, sms: Option<&str>) {
        for attempt in 1..=RECORD_TRIES {
            let now = self.clock.now();
            let written = match &sent {
                Sent::Delivered(result) => {
                    let audit = sms.map(|what| DeliveryAudit {
                        action: "sms_sent",
                        reason: format!("{what}: gateway message id {result}"),
                    });
                    self.store
                        .delivery_succeeded(delivery.id, &self.owner, result, audit.as_ref(), now)
                        .await
                }
                Sent::Failed { error, permanent } => {
                    let next = self.config.retry.after_failure(
                        delivery.attempts,
                        *permanent,
                        now,
                        rand::random::<f64>(),
                    );
                    let retry_at = match next {
                        Next::RetryAt(at) => Some(at),
                        Next::Dead => None,
                    };
                    let audit = match (sms, retry_at) {
                        (Some(what), None) => Some(DeliveryAudit {
                            action: "sms_failed",
                            reason: format!("{what}: {error}"),
                        }),
                        _ => None,
                    };
                    self.store
                        .delivery_failed(
                            delivery.id,
                            &self.owner,
                            error,
                            retry_at,
                            audit.as_ref(),
                            now,
                        )
                        .await
                        .inspect(|written| {
                            if *written && retry_at.is_none() {
                                self.stats.dead.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!(
                                    delivery = delivery.id,
                                    target = %delivery.target,
                                    event = %delivery.event.id,
                                    attempts = delivery.attempts,
                                    error = %error,
                                    "notification is a dead letter"
                                );
                            }
                        })
                }
            };
            match written {
                Ok(true) => {
                    let counter = match sent {
                        Sent::Delivered(_) => &self.stats.delivered,
                        Sent::Failed { .. } => &self.stats.failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Ok(false) => {
                    tracing::warn!(
                        delivery = delivery.id,
                        "a try's lease was taken over before its outcome was recorded"
                    );
                    return;
                }
                Err(e) if attempt < RECORD_TRIES => {
                    tracing::warn!(delivery = delivery.id, error = %e, "recording a try failed; again");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(e) => {
                    tracing::error!(
                        delivery = delivery.id,
                        error = %e,
                        "recording a try failed: left leased, tried again once the lease runs out"
                    );
                }
            }
        }
    }

    /// Renders and sends the SMS of `delivery`; with the description its audit entry starts with.
    async fn send_sms(&self, delivery: &Delivery) -> (Sent, String) {
        let event = &delivery.event;
        let refused = |error: String| Sent::Failed {
            error,
            permanent: true,
        };
        let Some(sms) = &self.config.sms else {
            return (
                refused("SMS is not configured on this node".to_owned()),
                format!("{} SMS", event.kind),
            );
        };
        let Some((language, template)) = sms.templates.pick(event.kind, &event.language) else {
            return (
                refused(format!("no SMS template for {}", event.kind)),
                format!("{} SMS", event.kind),
            );
        };
        let what = format!(
            "{} SMS ({language}, DLT template {}) to {}",
            event.kind,
            template.dlt_template_id,
            masked(&event.caller_number)
        );
        let payload: EventPayload = match serde_json::from_str(&event.payload) {
            Ok(p) => p,
            Err(e) => {
                return (
                    refused(format!("the event's body is unreadable: {e}")),
                    what,
                );
            }
        };
        let department = match language {
            "hi" => match self.store.department(&payload.ticket.department_code).await {
                Ok(Some(d)) => d.name_hi,
                Ok(None) => payload.ticket.department_name.clone(),
                Err(e) => {
                    let error = format!("reading the department's Hindi name: {e}");
                    return (
                        Sent::Failed {
                            error,
                            permanent: false,
                        },
                        what,
                    );
                }
            },
            _ => payload.ticket.department_name.clone(),
        };
        let status = match event.kind {
            EventKind::Registered => tickets::TicketStatus::Registered,
            _ => payload.ticket.status,
        };
        let text = template.text.render(&Values {
            number: &payload.ticket.number,
            department: &department,
            status: status_label(status, language),
            level: payload.ticket.level,
            days_overdue: tickets::officers::days_overdue(
                payload.ticket.due_at,
                payload.occurred_at,
            ),
        });
        let message = Message {
            to: &event.caller_number,
            text: &text,
            sender_id: &sms.sender_id,
            dlt_template_id: &template.dlt_template_id,
        };
        let sent = sms::send(
            &self.http,
            &sms.gateway,
            &message,
            self.config.request_timeout,
        )
        .await;
        (sent, what)
    }
}

/// A number with all but its last four digits hidden, for the audit trail.
fn masked(number: &str) -> String {
    let digits = number.chars().count();
    number
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i + 4 < digits && c.is_ascii_digit() {
                'x'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_but_the_last_four() {
        assert_eq!(masked("+919816012345"), "+xxxxxxxx2345");
        assert_eq!(masked("123"), "123");
    }
}
