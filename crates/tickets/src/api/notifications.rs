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
use super::openapi::{Conflict, IdPath};
use super::{ApiState, PageBody, PageQuery};

/// A delivery as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// `sms` or `webhook:<subscriber>`.
    pub target: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The receiver's last answer: the SMS gateway's message id, or `HTTP 204`.
    pub result: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub event_id: String,
    pub event_type: EventKind,
    #[schema(pattern = "^[1-9][0-9]{9}$")]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// The notifications (SMS, webhooks) that failed their last try, the latest first.
///
/// Roles: admin. A delivery is dead after its last try (`notify.max_attempts`), or at once when
/// the receiver refused the request itself (a 4xx other than 408/425/429). No caller number is
/// shown.
#[utoipa::path(get, path = "/notifications/dead", tag = "notifications", params(PageQuery), responses(
    (status = 200, description = "A page of dead letters", body = PageBody<DeliveryView>),
))]
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

/// Send a dead notification on its way again.
///
/// Roles: admin. The delivery is pending again, due at once, its tries counted afresh; the
/// ticket's audit trail gets a `notification_retried` entry naming the administrator, the target
/// and the reason. It goes out with the same idempotency key (the event id).
#[utoipa::path(post, path = "/notifications/{id}/retry", tag = "notifications", params(IdPath),
    request_body = RetryBody, responses(
    (status = 200, description = "The delivery, pending again", body = DeliveryView),
    (status = 409, response = Conflict),
))]
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
