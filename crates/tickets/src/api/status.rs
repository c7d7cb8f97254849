//! `GET /tickets/{number}/status`: where a complaint stands — status, department, due date, level
//! — and nothing personal (no phone number, no text, no recording). What a citizen-facing
//! integration (the WhatsApp bot, the SMS gateway) reads with the `tickets:status` scope for a
//! number the citizen gives it; officers still see only their own department's.

use axum::Json;
use axum::extract::State;

use crate::model::Role;
use crate::service::TicketStatusView;

use super::ApiState;
use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::ApiPath;
use super::openapi::NumberPath;
use super::tickets::parse_number;

/// A complaint's status, without personal data.
///
/// Roles: agent, supervisor, officer (own department), admin; integration with scope
/// tickets:status.
#[utoipa::path(get, path = "/tickets/{number}/status", tag = "tickets", params(NumberPath), responses(
    (status = 200, description = "Where it stands", body = TicketStatusView),
))]
pub(crate) async fn ticket_status(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<TicketStatusView>, ApiError> {
    caller.require(Action::ReadStatus)?;
    let number = parse_number(&number)?;
    let view = state
        .service
        .status(&number)
        .await?
        .filter(|v| {
            caller.role() != Role::Officer || caller.department() == Some(&v.department_code)
        })
        .ok_or_else(|| ApiError::not_found(format!("no ticket {number}")))?;
    Ok(Json(view))
}
