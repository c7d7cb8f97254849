//! Tickets: file one, list them (filters, pages), read one, and move it through its lifecycle
//! (status, assignment, escalation).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{MAX_LEVEL, MIN_LEVEL, Role, Ticket, TicketFilter, TicketSource, TicketStatus};
use crate::number::ComplaintNumber;
use crate::service::NewTicket;
use crate::validate;

use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ApiState, PageBody, PageQuery};

/// A ticket as the API shows it.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub overdue: bool,
}

pub(crate) fn view(ticket: Ticket, now: DateTime<Utc>) -> TicketView {
    let overdue = ticket.is_overdue(now);
    TicketView { ticket, overdue }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub source: TicketSource,
    pub caller_number: String,
    pub language: String,
    pub department_code: String,
    pub category: Option<String>,
    pub district: Option<String>,
    pub description: String,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<TicketStatus>,
    pub department: Option<String>,
    pub level: Option<u8>,
    pub caller: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub overdue: bool,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    pub status: TicketStatus,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub officer: String,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    pub reason: String,
}

pub(crate) fn parse_number(raw: &str) -> Result<ComplaintNumber, ApiError> {
    ComplaintNumber::parse(raw)
        .map_err(|e| ApiError::bad_request(format!("invalid complaint number {raw:?}: {e}")))
}

pub(crate) async fn load_ticket(
    state: &ApiState,
    caller: &Caller,
    raw: &str,
) -> Result<Ticket, ApiError> {
    let number = parse_number(raw)?;
    let ticket = state
        .service
        .ticket(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no ticket {number}")))?;
    caller.check_ticket(&ticket)?;
    Ok(ticket)
}

pub(crate) async fn create_ticket(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create)?;
    let description = validate::required_text("description", &body.description, 4000)?;
    let filed = state
        .service
        .create(
            NewTicket {
                source: body.source,
                idempotency_key: body.idempotency_key,
                caller_number: body.caller_number,
                language: body.language,
                department_code: body.department_code,
                category: body.category,
                district: body.district,
                description: Some(description),
            },
            &caller.client(),
        )
        .await?;
    let status = if filed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(filed)).into_response())
}

pub(crate) async fn list_tickets(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<PageBody<TicketView>>, ApiError> {
    caller.require(Action::List)?;
    let page = PageQuery::page(q.limit, q.offset)?;
    if let Some(level) = q.level
        && !(MIN_LEVEL..=MAX_LEVEL).contains(&level)
    {
        return Err(ApiError::invalid(
            "level",
            format!("must be {MIN_LEVEL}..={MAX_LEVEL}"),
        ));
    }
    let department = q
        .department
        .map(|d| validate::department_code(&d))
        .transpose()?;
    let caller_number = q.caller.map(|c| validate::caller_number(&c)).transpose()?;
    let department = match (caller.role(), department) {
        (Role::Officer, Some(d)) if caller.department() != Some(d.as_str()) => {
            return Err(ApiError::forbidden(
                "officers see only their own department's tickets",
            ));
        }
        (Role::Officer, _) => caller.department().map(str::to_owned),
        (_, d) => d,
    };
    let now = state.service.clock().now();
    let filter = TicketFilter {
        status: q.status,
        department_code: department,
        level: q.level,
        caller_number,
        created_from: q.from,
        created_to: q.to,
        overdue_at: q.overdue.then_some(now),
    };
    let (tickets, total) = state.service.store().list_tickets(&filter, page).await?;
    let items = tickets.into_iter().map(|t| view(t, now)).collect();
    Ok(Json(PageBody::new(items, total, page)))
}

pub(crate) async fn get_ticket(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Read)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    Ok(Json(view(ticket, state.service.clock().now())))
}

pub(crate) async fn change_status(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::ChangeStatus)?;
    let reason = validate::optional_text("reason", body.reason, 1000)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    if matches!(
        body.status,
        TicketStatus::ClosedSatisfied
            | TicketStatus::ClosedUnsatisfied
            | TicketStatus::ClosedUnverified
    ) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_allowed_now",
            "a ticket is closed by the citizen's feedback: POST .../feedback",
        ));
    }
    if body.status == TicketStatus::Assigned {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_allowed_now",
            "a ticket is assigned to a named officer: POST .../assign",
        ));
    }
    if caller.role() == Role::Officer
        && !matches!(
            body.status,
            TicketStatus::InProgress | TicketStatus::Resolved
        )
    {
        return Err(ApiError::forbidden(
            "officers may only set in_progress or resolved",
        ));
    }
    let now = state.service.clock().now();
    let ticket = state
        .service
        .store()
        .change_status(
            ticket.number,
            body.status,
            &caller.actor(),
            reason.as_deref(),
            now,
        )
        .await?;
    Ok(Json(view(ticket, now)))
}

pub(crate) async fn assign(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Assign)?;
    let officer = validate::required_text("officer", &body.officer, 100)?;
    let reason = validate::optional_text("reason", body.reason, 1000)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let now = state.service.clock().now();
    let ticket = state
        .service
        .store()
        .assign(
            ticket.number,
            &officer,
            &caller.actor(),
            reason.as_deref(),
            now,
        )
        .await?;
    Ok(Json(view(ticket, now)))
}

pub(crate) async fn escalate(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<EscalateBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Escalate)?;
    let reason = validate::required_text("reason", &body.reason, 1000)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let now = state.service.clock().now();
    let ticket = state
        .service
        .store()
        .escalate(ticket.number, &caller.actor(), &reason, now)
        .await?;
    Ok(Json(view(ticket, now)))
}
