//! The outbox's deliveries (issue 15): the notifier plans each event's deliveries once, claims due
//! ones under a lease, and records each try's outcome. Events themselves are written by the ticket
//! changes (`insert_event!` in the store).
//!
//! Architecture invariant: a claim is a compare-and-set on the delivery's lease (`lease_until` past
//! or unset), so of two nodes reading the same due delivery exactly one takes it — PostgreSQL
//! re-checks the condition after the other's commit, SQLite writes one at a time. An outcome is
//! written only by the lease's owner and only while the delivery is pending: a node whose lease
//! ran out and was taken over records nothing, and nothing is marked delivered unless its owner
//! saw it delivered.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{AuditRecord, Backend, Store, count_from_sql, page_binds};
use crate::clock::{from_millis, to_millis};
use crate::error::StoreError;
use crate::model::Page;
use crate::outbox::{Delivery, DeliveryAudit, DeliveryState, OutboxCounts, OutboxEvent};

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    id: String,
    kind: String,
    ticket_number: String,
    caller_number: String,
    language: String,
    payload: String,
    occurred_at: i64,
}

impl EventRow {
    fn into_event(self) -> Result<OutboxEvent, StoreError> {
        Ok(OutboxEvent {
            kind: self
                .kind
                .parse()
                .map_err(|e| StoreError::CorruptRow(format!("outbox event {}: {e}", self.id)))?,
            id: self.id,
            ticket_number: self.ticket_number,
            caller_number: self.caller_number,
            language: self.language,
            payload: self.payload,
            occurred_at: from_millis(self.occurred_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DeliveryRow {
    d_id: i64,
    target: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    result: Option<String>,
    updated_at: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery, StoreError> {
        let corrupt = |e: String| StoreError::CorruptRow(format!("delivery {}: {e}", self.d_id));
        Ok(Delivery {
            id: self.d_id,
            state: self.state.parse().map_err(|e| corrupt(format!("{e}")))?,
            attempts: u32::try_from(self.attempts).map_err(|e| corrupt(format!("{e}")))?,
            target: self.target,
            next_attempt_at: from_millis(self.next_attempt_at),
            last_error: self.last_error,
            result: self.result,
            updated_at: from_millis(self.updated_at),
            event: self.event.into_event()?,
        })
    }
}

const EVENT_COLUMNS: &str =
    "e.id, e.kind, e.ticket_number, e.caller_number, e.language, e.payload, e.occurred_at";

fn delivery_select() -> String {
    format!(
        "SELECT d.id AS d_id, d.target, d.state, d.attempts, d.next_attempt_at, d.last_error, \
         d.result, d.updated_at, {EVENT_COLUMNS} \
         FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id"
    )
}

/// Longest error text kept with a delivery.
const MAX_ERROR_CHARS: usize = 500;

fn clip(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

impl Store {
    /// Events whose deliveries are not planned yet, oldest first, at most `limit`.
    pub async fn unplanned_events(&self, limit: u32) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {EVENT_COLUMNS} FROM outbox_events e WHERE e.planned_at IS NULL \
                 ORDER BY e.seq LIMIT $1"
            ))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// The events a ticket caused, oldest first.
    pub async fn ticket_events(&self, number: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {EVENT_COLUMNS} FROM outbox_events e WHERE e.ticket_number = $1 \
                 ORDER BY e.seq"
            ))
            .bind(number)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// Plans an event's deliveries, one per target, each due at `now`, and marks the event planned —
    /// in one transaction. Planning an event again (another node did it meanwhile) adds nothing.
    /// An event with no targets is planned all the same: nothing is owed for it.
    pub async fn plan_deliveries(
        &self,
        event_id: &str,
        targets: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now_ms = to_millis(now);
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let marked = sqlx::query(
                "UPDATE outbox_events SET planned_at = $1 WHERE id = $2 AND planned_at IS NULL",
            )
            .bind(now_ms)
            .bind(event_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
                for target in targets {
                    sqlx::query(
                        "INSERT INTO outbox_deliveries (event_id, target, state, attempts, \
                         next_attempt_at, created_at, updated_at) \
                         VALUES ($1, $2, 'pending', 0, $3, $3, $3) \
                         ON CONFLICT (event_id, target) DO NOTHING",
                    )
                    .bind(event_id)
                    .bind(target.clone())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }))?;
        Ok(())
    }

    /// Claims up to `limit` pending deliveries due by `now` whose lease is free, for `owner` until
    /// `now + lease`, counting the try they are claimed for. Oldest due first.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now_ms = to_millis(now);
        let until_ms = now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let candidates: Vec<(i64,)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id FROM outbox_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
                 AND (lease_until IS NULL OR lease_until <= $1) \
                 ORDER BY next_attempt_at, id LIMIT $2",
            )
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut claimed: Vec<i64> = Vec::with_capacity(candidates.len());
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            for (id,) in &candidates {
                let took = sqlx::query(
                    "UPDATE outbox_deliveries SET lease_owner = $1, lease_until = $2, \
                     attempts = attempts + 1, updated_at = $3 \
                     WHERE id = $4 AND state = 'pending' AND next_attempt_at <= $3 \
                     AND (lease_until IS NULL OR lease_until <= $3)",
                )
                .bind(owner)
                .bind(until_ms)
                .bind(now_ms)
                .bind(*id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if took == 1 {
                    claimed.push(*id);
                }
            }
        }))?;
        let mut deliveries = Vec::with_capacity(claimed.len());
        for id in claimed {
            if let Some(d) = self.delivery(id).await? {
                deliveries.push(d);
            }
        }
        Ok(deliveries)
    }

    /// One delivery with its event.
    pub async fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        let row: Option<DeliveryRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{} WHERE d.id = $1", delivery_select()))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(DeliveryRow::into_delivery).transpose()
    }

    /// Deliveries in `state`, the latest changed first.
    pub async fn deliveries(
        &self,
        state: DeliveryState,
        page: Page,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (limit, offset) = page_binds(page);
        let rows: Vec<DeliveryRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{} WHERE d.state = $1 ORDER BY d.updated_at DESC, d.id DESC LIMIT $2 OFFSET $3",
                delivery_select()
            ))
            .bind(state.as_str())
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// The deliveries of one event, by target.
    pub async fn event_deliveries(&self, event_id: &str) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{} WHERE d.event_id = $1 ORDER BY d.target",
                delivery_select()
            ))
            .bind(event_id)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// `owner`'s try of delivery `id` was answered with success (`result`: the gateway's message id,
    /// the HTTP status). Returns false — and writes nothing — when `owner` no longer holds it.
    pub async fn delivery_succeeded(
        &self,
        id: i64,
        owner: &str,
        result: &str,
        audit: Option<&DeliveryAudit>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.delivery_outcome(id, owner, Outcome::Delivered { result }, audit, now)
            .await
    }

    /// `owner`'s try of delivery `id` failed with `error`: tried again at `retry_at`, or dead
    /// (`None`). Returns false — and writes nothing — when `owner` no longer holds it.
    pub async fn delivery_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        audit: Option<&DeliveryAudit>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.delivery_outcome(id, owner, Outcome::Failed { error, retry_at }, audit, now)
            .await
    }

    async fn delivery_outcome(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome<'_>,
        audit: Option<&DeliveryAudit>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now_ms = to_millis(now);
        let (state, next_ms, error, result) = match outcome {
            Outcome::Delivered { result } => ("delivered", now_ms, None, Some(clip(result))),
            Outcome::Failed {
                error,
                retry_at: Some(at),
            } => ("pending", to_millis(at), Some(clip(error)), None),
            Outcome::Failed {
                error,
                retry_at: None,
            } => ("dead", now_ms, Some(clip(error)), None),
        };
        // The write comes first: on SQLite a transaction that reads before it writes cannot wait
        // for another writer (its snapshot would be stale) and fails busy at once.
        let written = on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let updated = sqlx::query(
                "UPDATE outbox_deliveries SET state = $1, next_attempt_at = $2, \
                 last_error = COALESCE($3, last_error), result = COALESCE($4, result), \
                 lease_owner = NULL, lease_until = NULL, updated_at = $5 \
                 WHERE id = $6 AND lease_owner = $7 AND state = 'pending'",
            )
            .bind(state)
            .bind(next_ms)
            .bind(error)
            .bind(result)
            .bind(now_ms)
            .bind(id)
            .bind(owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Ok(false);
            }
            if let Some(audit) = audit {
                let (ticket_id,): (i64,) = sqlx::query_as(
                    "SELECT e.ticket_id FROM outbox_deliveries d JOIN outbox_events e \
                     ON e.id = d.event_id WHERE d.id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let entry = AuditRecord {
                    at_ms: now_ms,
                    actor: "system:notify".to_owned(),
                    action: audit.action,
                    from_value: None,
                    to_value: None,
                    reason: Some(clip(&audit.reason)),
                };
                insert_audit!(tx, ticket_id, &entry)?;
            }
            true
        }))?;
        Ok(written)
    }

    /// An administrator's retry of a dead delivery: pending again, due at once, its tries counted
    /// afresh; the ticket's audit trail says who and why.
    pub async fn retry_dead_delivery(
        &self,
        id: i64,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let now_ms = to_millis(now);
        // Write first (see `delivery_outcome`); a delivery that is not dead is told apart after.
        let retried = on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let updated = sqlx::query(
                "UPDATE outbox_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, \
                 lease_owner = NULL, lease_until = NULL, updated_at = $1 \
                 WHERE id = $2 AND state = 'dead'",
            )
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Ok(false);
            }
            let (ticket_id, target): (i64, String) = sqlx::query_as(
                "SELECT e.ticket_id, d.target FROM outbox_deliveries d \
                 JOIN outbox_events e ON e.id = d.event_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let entry = AuditRecord {
                at_ms: now_ms,
                actor: actor.to_owned(),
                action: "notification_retried",
                from_value: Some("dead".to_owned()),
                to_value: Some(target),
                reason: reason.map(clip),
            };
            insert_audit!(tx, ticket_id, &entry)?;
            true
        }))?;
        if !retried {
            return match self.delivery(id).await? {
                None => Err(StoreError::DeliveryNotFound(id)),
                Some(d) => Err(StoreError::NotAllowedNow(format!(
                    "delivery {id} is {}; only a dead one is retried",
                    d.state.as_str()
                ))),
            };
        }
        self.delivery(id)
            .await?
            .ok_or(StoreError::DeliveryNotFound(id))
    }

    /// Deliveries owed (pending, and events not planned yet), dead and delivered.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let (states, unplanned): (Vec<(String, i64)>, i64) = on_pool!(self, |pool| {
            let states: Vec<(String, i64)> =
                sqlx::query_as("SELECT state, COUNT(*) FROM outbox_deliveries GROUP BY state")
                    .fetch_all(pool)
                    .await?;
            let (unplanned,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM outbox_events WHERE planned_at IS NULL")
                    .fetch_one(pool)
                    .await?;
            Ok::<_, sqlx::Error>((states, unplanned))
        })?;
        let mut counts = OutboxCounts {
            backlog: count_from_sql(unplanned),
            ..OutboxCounts::default()
        };
        for (state, n) in states {
            match state.as_str() {
                "pending" => counts.backlog += count_from_sql(n),
                "dead" => counts.dead = count_from_sql(n),
                "delivered" => counts.delivered = count_from_sql(n),
                other => {
                    return Err(StoreError::CorruptRow(format!(
                        "outbox delivery state {other:?}"
                    )));
                }
            }
        }
        Ok(counts)
    }
}

enum Outcome<'a> {
    Delivered {
        result: &'a str,
    },
    Failed {
        error: &'a str,
        retry_at: Option<DateTime<Utc>>,
    },
}
