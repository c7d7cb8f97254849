//! The outbox's vocabulary (issue 15): the events a ticket change causes, the body a webhook
//! subscriber receives for one (the OpenAPI document's `webhooks` describe it), and the rows the
//! notifier reads back. The store writes an event in the transaction of the change itself
//! ([`crate::store::Store`]'s `insert_tickets`, `change_status`, `assign`, `feedback`, `escalate`,
//! `escalate_overdue`), so a change is never without its event nor an event without its change.
//! Plain data: what is delivered to whom is `crates/notify`'s decision.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Ticket, TicketStatus, UnknownValue};

/// What happened to a ticket. A status change to `resolved` or `reopened` is its own kind, so a
/// subscriber can ask for just those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = EventType)]
pub enum EventKind {
    #[serde(rename = "ticket.registered")]
    Registered,
    #[serde(rename = "ticket.status_changed")]
    StatusChanged,
    #[serde(rename = "ticket.resolved")]
    Resolved,
    #[serde(rename = "ticket.reopened")]
    Reopened,
    #[serde(rename = "ticket.escalated")]
    Escalated,
    /// An officer is reminded of a ticket that nears or passed its due time, by SMS (the
    /// outbox's recipient is the officer's phone; the change says `nearing` or `overdue`).
    #[serde(rename = "ticket.officer_reminder")]
    OfficerReminder,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::Registered,
        EventKind::StatusChanged,
        EventKind::Resolved,
        EventKind::Reopened,
        EventKind::Escalated,
        EventKind::OfficerReminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Registered => "ticket.registered",
            EventKind::StatusChanged => "ticket.status_changed",
            EventKind::Resolved => "ticket.resolved",
            EventKind::Reopened => "ticket.reopened",
            EventKind::Escalated => "ticket.escalated",
            EventKind::OfficerReminder => "ticket.officer_reminder",
        }
    }

    /// The kind of a move to `to`.
    pub fn of_status_change(to: TicketStatus) -> EventKind {
        match to {
            TicketStatus::Resolved => EventKind::Resolved,
            TicketStatus::Reopened => EventKind::Reopened,
            _ => EventKind::StatusChanged,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "event",
                value: s.to_owned(),
                expected: "ticket.registered ticket.status_changed ticket.resolved \
                           ticket.reopened ticket.escalated ticket.officer_reminder",
            })
    }
}

/// The ticket as the event left it. No caller number: subscribers get none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketSummary {
    #[schema(pattern = "^[1-9][0-9]{9}$")]
    pub number: String,
    pub status: TicketStatus,
    #[schema(minimum = 1, maximum = 4)]
    pub level: u8,
    pub language: String,
    pub department_code: String,
    pub department_name: String,
    pub due_at: DateTime<Utc>,
}

impl TicketSummary {
    pub fn of(ticket: &Ticket) -> TicketSummary {
        TicketSummary {
            number: ticket.number.to_string(),
            status: ticket.status,
            level: ticket.level,
            language: ticket.language.clone(),
            department_code: ticket.department_code.clone(),
            department_name: ticket.department_name.clone(),
            due_at: ticket.due_at,
        }
    }
}

/// What changed: statuses (`registered`, `resolved` …; `from` null on registration) or, for
/// `ticket.escalated`, levels (`L1` … `L4`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub from: Option<String>,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A webhook's body: one event. `id` is the idempotency key (the `Idempotency-Key` header too):
/// a subscriber that sees it twice has seen one event twice, and should answer 2xx without acting
/// twice. The caller's phone number is never included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketEvent)]
pub struct EventPayload {
    #[schema(pattern = "^evt_[0-9a-f]{32}$")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub ticket: TicketSummary,
    pub change: Change,
}

/// A new event id: `evt_` and 128 random bits in hex.
pub fn new_event_id() -> String {
    format!("evt_{}", hex::encode(rand::random::<[u8; 16]>()))
}

/// An event as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: String,
    pub kind: EventKind,
    pub ticket_number: String,
    /// The caller's normalised number or [`crate::caller::UNKNOWN`]: for the SMS only.
    pub caller_number: String,
    pub language: String,
    /// The webhook body, exactly as stored (signed as it is).
    pub payload: String,
    pub occurred_at: DateTime<Utc>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "dead" => Ok(DeliveryState::Dead),
            other => Err(UnknownValue {
                kind: "delivery state",
                value: other.to_owned(),
                expected: "pending delivered dead",
            }),
        }
    }
}

/// One delivery of one event to one target (`sms`, `webhook:<name>`), with its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub target: String,
    pub state: DeliveryState,
    /// Tries started, this one included once claimed.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub event: OutboxEvent,
}

/// How many deliveries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Pending deliveries, plus events whose deliveries are not planned yet.
    pub backlog: u64,
    pub dead: u64,
    pub delivered: u64,
}

/// A note for the ticket's audit trail that a delivery's outcome writes with it (the SMS's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAudit {
    pub action: &'static str,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_read_back_what_they_write() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert!("ticket.deleted".parse::<EventKind>().is_err());
        assert_eq!(
            EventKind::of_status_change(TicketStatus::Resolved),
            EventKind::Resolved
        );
        assert_eq!(
            EventKind::of_status_change(TicketStatus::Assigned),
            EventKind::StatusChanged
        );
    }

    #[test]
    fn event_ids_are_long_and_distinct() {
        let a = new_event_id();
        let b = new_event_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 32);
        assert!(a.starts_with("evt_"));
    }
}
