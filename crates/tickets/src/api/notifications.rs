//! The outbox's dead letters (issue 15): an administrator lists the notifications (SMS, webhooks)
//! that failed their last try and sends one on its way again; the retry is on the ticket's audit
//! trail. No caller number is shown: the event's ticket number says whose it was.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::outbox::{Delivery, DeliveryState, EventKind};
use crate::validate;

use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ApiState, PageBody, PageQuery};

/// A delivery as the API shows it.
#[derive(Debug, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    /// `sms` or `webhook:<subscriber>`.
    pub target: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub event_id: String,
    pub event_type: EventKind,
    pub ticket_number: String,
    pub occurred_at: DateTime<Utc>,
}

impl DeliveryView {
    fn of(d: Delivery) -> DeliveryView {
        DeliveryView {
            id: d.id,
            target: d.target,
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            result: d.result,
            updated_at: d.updated_at,
            event_id: d.event.id,
            event_type: d.event.kind,
            ticket_number: d.event.ticket_number,
            occurred_at: d.event.occurred_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    pub reason: Option<String>,
}

/// The dead letters, the latest first.
pub(crate) async fn dead_letters(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageBody<DeliveryView>>, ApiError> {
    caller.require(Action::ManageNotifications)?;
    let page = PageQuery::page(q.limit, q.offset)?;
    let store = state.service.store();
    let items = store.deliveries(DeliveryState::Dead, page).await?;
    let total = store.outbox_counts().await?.dead;
    Ok(Json(PageBody::new(
        items.into_iter().map(DeliveryView::of).collect(),
        total,
        page,
    )))
}

/// Sends a dead letter on its way again: pending, due now, its tries counted afresh; audited.
pub(crate) async fn retry(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RetryBody>,
) -> Result<Json<DeliveryView>, ApiError> {
    caller.require(Action::ManageNotifications)?;
    let reason = match &body.reason {
        Some(r) => Some(validate::required_text("reason", r, 500)?),
        None => None,
    };
    let now = state.service.clock().now();
    let delivery = state
        .service
        .store()
        .retry_dead_delivery(id, &caller.actor(), reason.as_deref(), now)
        .await?;
    tracing::info!(actor = %caller.actor(), delivery = id, target = %delivery.target, "dead notification retried");
    Ok(Json(DeliveryView::of(delivery)))
}
