//! Tickets: file one, list them (filters, pages), read one, and move it through its lifecycle
//! (status, assignment, escalation).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::model::{MAX_LEVEL, MIN_LEVEL, Role, Ticket, TicketFilter, TicketSource, TicketStatus};
use crate::number::ComplaintNumber;
use crate::service::{Filed, NewTicket};
use crate::validate;

use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::{Conflict, NumberPath};
use super::{ApiState, PageBody, PageQuery};

/// A ticket as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Open and past its due date.
    pub overdue: bool,
}

pub(crate) fn view(ticket: Ticket, now: DateTime<Utc>) -> TicketView {
    let overdue = ticket.is_overdue(now);
    TicketView { ticket, overdue }
}

/// A complaint filed through the API (an agent, the web, WhatsApp).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub source: ApiSource,
    /// Any usual form (+919816012345, 09816012345, +91 98160 12345, anonymous); stored in E.164,
    /// or unknown for a withheld number. A value that is no phone number is refused.
    #[schema(example = "+919816012345", max_length = 64)]
    pub caller_number: String,
    #[schema(example = "hi", max_length = 16)]
    pub language: String,
    #[schema(pattern = "^[A-Z]{2,6}$")]
    pub department_code: String,
    #[schema(max_length = 64)]
    pub category: Option<String>,
    #[schema(max_length = 64)]
    pub district: Option<String>,
    #[schema(min_length = 1, max_length = 4000)]
    pub description: String,
    /// The same key from the same client files the same complaint once.
    #[schema(max_length = 128)]
    pub idempotency_key: Option<String>,
}

/// How a complaint filed through the API reached the helpline (`ivr` is the engine's own).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiSource {
    Agent,
    Web,
    Whatsapp,
}

impl From<ApiSource> for TicketSource {
    fn from(source: ApiSource) -> Self {
        match source {
            ApiSource::Agent => TicketSource::Agent,
            ApiSource::Web => TicketSource::Web,
            ApiSource::Whatsapp => TicketSource::Whatsapp,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<TicketStatus>,
    /// Only this department.
    #[param(pattern = "^[A-Z]{2,6}$")]
    pub department: Option<String>,
    /// Only this escalation level.
    #[param(minimum = 1, maximum = 4)]
    pub level: Option<u8>,
    /// Only this caller number, in any usual form (normalised like a new ticket's).
    pub caller: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Only open tickets past their due date.
    #[serde(default)]
    pub overdue: bool,
    /// Only complaints filed after hours, flagged for a call-back (true), or only the others (false).
    pub after_hours: Option<bool>,
    /// Only after-hours complaints still open whose call-back nobody has marked done
    /// (`POST /tickets/{number}/called-back`): the agents' call-back list.
    #[serde(default)]
    pub callback_due: bool,
    /// Page size.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Entries to skip; the next page is at offset + limit while that is below total.
    pub offset: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalledBackBody {
    pub outcome: crate::model::CallbackOutcome,
    /// What the agent heard, on the audit entry.
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    pub status: TicketStatus,
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The officer's id (`GET /officers`): an active officer of the ticket's department, whose
    /// name becomes `assigned_to`.
    pub officer_id: Option<i64>,
    /// Free text, as earlier builds took: refused (422) with a pointer to `officer_id`.
    #[schema(deprecated)]
    pub officer: Option<String>,
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// A complaint number from a path. One of the right shape whose check digit does not match is
/// no ticket there is (404, saying it was probably mistyped): the document's pattern cannot tell
/// check digits, so such a number is one the schema allows. Any other shape is 400.
pub(crate) fn parse_number(raw: &str) -> Result<ComplaintNumber, ApiError> {
    ComplaintNumber::parse(raw).map_err(|e| match e {
        crate::number::ComplaintNumberError::CheckDigit => {
            ApiError::not_found(format!("no ticket {raw}: {e}"))
        }
        other => ApiError::bad_request(format!("invalid complaint number {raw:?}: {other}")),
    })
}

/// A ticket the caller may read (by its number as given; 404 for none, 403 for another
/// department's to an officer).
pub async fn load_ticket(state: &ApiState, caller: &Caller, raw: &str) -> Result<Ticket, ApiError> {
    let number = parse_number(raw)?;
    let ticket = state
        .service
        .ticket(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no ticket {number}")))?;
    caller.check_ticket(&ticket)?;
    Ok(ticket)
}

/// File a ticket (agent, web, WhatsApp).
///
/// Roles: agent, supervisor, admin, integration (scope tickets:file).
#[utoipa::path(post, path = "/tickets", tag = "tickets", request_body = CreateBody, responses(
    (status = 201, description = "Filed", body = Filed),
    (status = 200, description = "Filed before under the same idempotency key: that ticket", body = Filed),
))]
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
                source: body.source.into(),
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

/// List tickets, newest first.
///
/// Roles: all roles (officers: own department only; integrations with tickets:personal_data).
#[utoipa::path(get, path = "/tickets", tag = "tickets", params(ListQuery), responses(
    (status = 200, description = "A page of tickets", body = PageBody<TicketView>),
))]
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
        after_hours: q.after_hours,
        callback_due: q.callback_due,
    };
    let (tickets, total) = state.service.store().list_tickets(&filter, page).await?;
    let items = tickets.into_iter().map(|t| view(t, now)).collect();
    Ok(Json(PageBody::new(items, total, page)))
}

/// Mark an after-hours complaint's call-back done, with its outcome; audited on the ticket
/// (action `called_back`), after which it leaves `callback_due`.
///
/// Roles: agent, supervisor, admin. 409 when the ticket was not filed for a call-back or was
/// marked already.
#[utoipa::path(post, path = "/tickets/{number}/called-back", tag = "tickets", params(NumberPath),
    request_body = CalledBackBody, responses(
    (status = 200, description = "The ticket, marked", body = TicketView),
    (status = 409, response = Conflict),
))]
pub(crate) async fn called_back(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<CalledBackBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::CallBack)?;
    let note = body
        .note
        .as_deref()
        .map(|n| validate::required_text("note", n, 2000))
        .transpose()?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let now = state.service.clock().now();
    let ticket = state
        .service
        .store()
        .called_back(
            ticket.number,
            body.outcome,
            note.as_deref(),
            &caller.actor(),
            now,
        )
        .await?;
    Ok(Json(view(ticket, now)))
}

/// One ticket.
///
/// Roles: all roles (officers: own department; integrations: the ones they filed).
#[utoipa::path(get, path = "/tickets/{number}", tag = "tickets", params(NumberPath), responses(
    (status = 200, description = "The ticket", body = TicketView),
))]
pub(crate) async fn get_ticket(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Read)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    Ok(Json(view(ticket, state.service.clock().now())))
}

/// Move a ticket along its lifecycle.
///
/// registered → assigned → in_progress → resolved; resolved/closed_unsatisfied/closed_unverified →
/// reopened → assigned/in_progress. Closing happens through feedback (or, unanswered, the
/// confirmation calls' policy). Roles: supervisor, admin, officer (in_progress and resolved only).
#[utoipa::path(post, path = "/tickets/{number}/status", tag = "tickets", params(NumberPath),
    request_body = StatusBody, responses(
    (status = 200, description = "The ticket after the change", body = TicketView),
    (status = 409, response = Conflict),
))]
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

/// Assign to an officer (at the ticket's current level).
///
/// Roles: supervisor, admin. By officer id: an active officer of the ticket's department (409
/// otherwise).
#[utoipa::path(post, path = "/tickets/{number}/assign", tag = "tickets", params(NumberPath),
    request_body = AssignBody, responses(
    (status = 200, description = "The ticket after the change", body = TicketView),
    (status = 409, response = Conflict),
))]
pub(crate) async fn assign(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Assign)?;
    let Some(officer_id) = body.officer_id else {
        return Err(ApiError::invalid(
            "officer_id",
            if body.officer.is_some() {
                "a ticket is assigned to an officer by id, not by name: {\"officer_id\": N} (GET /officers lists them)"
            } else {
                "the officer's id (GET /officers lists them)"
            },
        ));
    };
    let reason = validate::optional_text("reason", body.reason, 1000)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let now = state.service.clock().now();
    let ticket = state
        .service
        .store()
        .assign_officer(
            ticket.number,
            officer_id,
            &caller.actor(),
            reason.as_deref(),
            now,
        )
        .await?;
    Ok(Json(view(ticket, now)))
}

/// Raise one level (L1 → L4) and restart the SLA clock.
///
/// Roles: supervisor, admin.
#[utoipa::path(post, path = "/tickets/{number}/escalate", tag = "tickets", params(NumberPath),
    request_body = EscalateBody, responses(
    (status = 200, description = "The ticket after the change", body = TicketView),
    (status = 409, response = Conflict),
))]
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
