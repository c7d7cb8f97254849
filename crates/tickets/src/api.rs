//! The `/api/v1` HTTP API (axum 0.8): tickets, their lifecycle, notes, feedback, audit trail and
//! recordings; departments; stats; the OpenAPI document. Every route except the OpenAPI document
//! needs `Authorization: Bearer <token>`; what a token may do depends on its role, and officers only
//! ever see their own department's tickets (others answer 404, so numbers cannot be probed).
//!
//! [`router`] returns routes relative to the mount point: the server nests it at `/api/v1`.
//! All errors go through [`ApiError`], which logs the cause and answers
//! `{"error": {"code": "...", "message": "..."}}` with the right status.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{StoreError, TicketError};
use crate::model::{
    AuditEntry, Department, DepartmentFigures, FeedbackReason, MAX_LEVEL, MIN_LEVEL, Note, Page,
    Role, Ticket, TicketFilter, TicketSource, TicketStats, TicketStatus,
};
use crate::number::ComplaintNumber;
use crate::service::{NewTicket, TicketService};
use crate::store::{TokenInfo, hash_token};
use crate::validate;

/// Largest request body accepted (JSON only; recordings come from the engine, not the API).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest page a list returns.
pub const MAX_PAGE: u32 = 200;

/// The hand-kept OpenAPI document (a test checks it lists every route of [`ROUTES`]).
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Every route the router serves, as (method, path relative to the mount point).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/tickets"),
    ("POST", "/tickets"),
    ("GET", "/tickets/{number}"),
    ("POST", "/tickets/{number}/status"),
    ("POST", "/tickets/{number}/assign"),
    ("POST", "/tickets/{number}/escalate"),
    ("GET", "/tickets/{number}/notes"),
    ("POST", "/tickets/{number}/notes"),
    ("POST", "/tickets/{number}/feedback"),
    ("GET", "/tickets/{number}/audit"),
    ("GET", "/tickets/{number}/recording"),
    ("GET", "/departments"),
    ("PATCH", "/departments/{code}"),
    ("GET", "/stats"),
    ("GET", "/stats/departments"),
];

/// What the API handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub service: TicketService,
}

impl ApiState {
    pub fn new(service: TicketService) -> Self {
        ApiState { service }
    }
}

/// The API's routes (mount with `Router::new().nest("/api/v1", tickets::api::router(state))`).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/{number}", get(get_ticket))
        .route("/tickets/{number}/status", post(change_status))
        .route("/tickets/{number}/assign", post(assign))
        .route("/tickets/{number}/escalate", post(escalate))
        .route("/tickets/{number}/notes", get(list_notes).post(add_note))
        .route("/tickets/{number}/feedback", post(feedback))
        .route("/tickets/{number}/audit", get(audit))
        .route("/tickets/{number}/recording", get(recording))
        .route("/departments", get(departments))
        .route(
            "/departments/{code}",
            axum::routing::patch(configure_department),
        )
        .route("/stats", get(stats))
        .route("/stats/departments", get(department_stats))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

// ----- errors --------------------------------------------------------------------------------------

/// The one error type of the API: a status, a stable machine code and a message safe to show.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }
    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Server-side causes are logged where they are mapped (with the underlying error); client
        // mistakes are worth a debug line for whoever is integrating.
        if self.status.is_client_error() {
            tracing::debug!(status = %self.status, code = self.code, message = %self.message, "API request refused");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::TicketNotFound(n) => ApiError::not_found(format!("no ticket {n}")),
            StoreError::UnknownDepartment(code) => {
                ApiError::bad_request(format!("no department with code {code:?}"))
            }
            StoreError::InvalidTransition { .. } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", err.to_string())
            }
            StoreError::NotAllowedNow(m) => {
                ApiError::new(StatusCode::CONFLICT, "not_allowed_now", m.clone())
            }
            StoreError::ConcurrentUpdate => {
                ApiError::new(StatusCode::CONFLICT, "concurrent_update", err.to_string())
            }
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "API request failed: database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the ticket database is unavailable; try again shortly",
                )
            }
            _ => {
                tracing::error!(error = %err, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<TicketError> for ApiError {
    fn from(err: TicketError) -> Self {
        match err {
            TicketError::Store(e) => e.into(),
            TicketError::Invalid { field, message } => {
                ApiError::bad_request(format!("invalid {field}: {message}"))
            }
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// JSON body extractor whose rejections are [`ApiError`]s (bad JSON, wrong type, too large).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let message = rejection.body_text();
    match rejection {
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message)
        }
        JsonRejection::JsonDataError(_) => ApiError::bad_request(message),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
        ),
        other => ApiError::new(other.status(), "bad_request", message),
    }
}

/// Query-string extractor with [`ApiError`] rejections.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r: QueryRejection| ApiError::bad_request(r.body_text()))
    }
}

fn parse_number(raw: &str) -> Result<ComplaintNumber, ApiError> {
    ComplaintNumber::parse(raw)
        .map_err(|e| ApiError::bad_request(format!("invalid complaint number {raw:?}: {e}")))
}

// ----- authentication and authorization ------------------------------------------------------------

/// The authenticated caller: a live token's identity.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

impl Caller {
    fn actor(&self) -> String {
        format!("{}:{}", self.0.role, self.0.label)
    }

    fn require(&self, action: Action) -> Result<(), ApiError> {
        if allowed(self.0.role, action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} token may not {}",
                self.0.role,
                action.describe()
            )))
        }
    }

    /// Object-level check: an officer reaches only tickets of their own department. Others are
    /// answered "not found", exactly as for a number that does not exist.
    fn check_ticket(&self, ticket: &Ticket) -> Result<(), ApiError> {
        if self.0.role == Role::Officer
            && self.0.department_code.as_deref() != Some(ticket.department_code.as_str())
        {
            return Err(ApiError::not_found(format!("no ticket {}", ticket.number)));
        }
        Ok(())
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(|| unauthorized("the Authorization header must be Bearer <token>"))?;
        let info = state
            .service
            .store()
            .token_by_hash(&hash_token(token))
            .await?
            .ok_or_else(|| unauthorized("unknown or revoked token"))?;
        Ok(Caller(info))
    }
}

/// What a request wants to do, for the role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    ChangeStatus,
    Assign,
    Escalate,
    AddNote,
    Feedback,
    ReadAudit,
    ReadRecording,
    ReadDepartments,
    ConfigureDepartment,
    Stats,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::Create => "create tickets",
            Action::Read => "read tickets",
            Action::ChangeStatus => "change a ticket's status",
            Action::Assign => "assign tickets",
            Action::Escalate => "escalate tickets",
            Action::AddNote => "add notes",
            Action::Feedback => "record feedback",
            Action::ReadAudit => "read audit trails",
            Action::ReadRecording => "download recordings",
            Action::ReadDepartments => "list departments",
            Action::ConfigureDepartment => "configure departments",
            Action::Stats => "read statistics",
        }
    }
}

/// The role matrix. Agents take complaints and feedback; supervisors run the floor; officers work
/// their department's tickets; integrations (portal, WhatsApp bot, SMS gateway) file and follow;
/// admins do everything.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Supervisor => action != ConfigureDepartment,
        Role::Agent => matches!(
            action,
            Create | Read | AddNote | Feedback | ReadRecording | ReadDepartments
        ),
        Role::Officer => matches!(
            action,
            Read | ChangeStatus | AddNote | ReadAudit | ReadRecording | ReadDepartments | Stats
        ),
        Role::Integration => matches!(action, Create | Read | Feedback | ReadDepartments),
    }
}

async fn load_ticket(state: &ApiState, caller: &Caller, raw: &str) -> Result<Ticket, ApiError> {
    let number = parse_number(raw)?;
    let ticket = state
        .service
        .ticket(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no ticket {number}")))?;
    caller.check_ticket(&ticket)?;
    Ok(ticket)
}

// ----- bodies --------------------------------------------------------------------------------------

/// A ticket as the API shows it.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub overdue: bool,
}

fn view(ticket: Ticket, now: DateTime<Utc>) -> TicketView {
    let overdue = ticket.is_overdue(now);
    TicketView { ticket, overdue }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    source: TicketSource,
    caller_number: String,
    language: String,
    department_code: String,
    category: Option<String>,
    district: Option<String>,
    description: String,
    idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<TicketStatus>,
    department: Option<String>,
    level: Option<u8>,
    caller: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    #[serde(default)]
    overdue: bool,
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Serialize)]
struct ListBody {
    items: Vec<TicketView>,
    total: u64,
    limit: u32,
    offset: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: TicketStatus,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    officer: String,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalateBody {
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    satisfied: bool,
    reason_code: Option<FeedbackReason>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentBody {
    sla_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    department: Option<String>,
}

// ----- handlers ------------------------------------------------------------------------------------

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}

async fn create_ticket(
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
            &caller.actor(),
        )
        .await?;
    let status = if filed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(filed)).into_response())
}

async fn list_tickets(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody>, ApiError> {
    caller.require(Action::Read)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1..={MAX_PAGE}"
        )));
    }
    if let Some(level) = q.level {
        if !(MIN_LEVEL..=MAX_LEVEL).contains(&level) {
            return Err(ApiError::bad_request(format!(
                "level must be {MIN_LEVEL}..={MAX_LEVEL}"
            )));
        }
    }
    let department = q
        .department
        .map(|d| validate::department_code(&d))
        .transpose()?;
    let caller_number = q.caller.map(|c| validate::caller_number(&c)).transpose()?;
    let department = match (caller.0.role, department) {
        (Role::Officer, Some(d)) if caller.0.department_code.as_deref() != Some(d.as_str()) => {
            return Err(ApiError::forbidden(
                "officers see only their own department's tickets",
            ));
        }
        (Role::Officer, _) => caller.0.department_code.clone(),
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
    let page = Page {
        limit,
        offset: q.offset.unwrap_or(0),
    };
    let (tickets, total) = state.service.store().list_tickets(&filter, page).await?;
    Ok(Json(ListBody {
        items: tickets.into_iter().map(|t| view(t, now)).collect(),
        total,
        limit,
        offset: page.offset,
    }))
}

async fn get_ticket(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Read)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    Ok(Json(view(ticket, state.service.clock().now())))
}

async fn change_status(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::ChangeStatus)?;
    let reason = validate::optional_text("reason", body.reason, 1000)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    if matches!(
        body.status,
        TicketStatus::ClosedSatisfied | TicketStatus::ClosedUnsatisfied
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
    if caller.0.role == Role::Officer
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

async fn assign(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
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

async fn escalate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
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

async fn list_notes(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<Vec<Note>>, ApiError> {
    caller.require(Action::Read)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    Ok(Json(state.service.store().notes(ticket.number).await?))
}

async fn add_note(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    caller.require(Action::AddNote)?;
    let text = validate::required_text("text", &body.text, 4000)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let note = state
        .service
        .store()
        .add_note(
            ticket.number,
            &caller.actor(),
            &text,
            state.service.clock().now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn feedback(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Action::Feedback)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let now = state.service.clock().now();
    let ticket = state
        .service
        .store()
        .feedback(
            ticket.number,
            body.satisfied,
            body.reason_code,
            &caller.actor(),
            now,
        )
        .await?;
    Ok(Json(view(ticket, now)))
}

async fn audit(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    caller.require(Action::ReadAudit)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    Ok(Json(
        state.service.store().audit_trail(ticket.number).await?,
    ))
}

async fn recording(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::ReadRecording)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let info = ticket
        .recording
        .ok_or_else(|| ApiError::not_found(format!("ticket {} has no recording", ticket.number)))?;
    // The file name is ours (`<number>.wav`), but never trust a stored path to stay inside the dir.
    if info.file_name.contains(['/', '\\']) || info.file_name.starts_with('.') {
        tracing::error!(file = %info.file_name, "refusing a recording path outside the directory");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        ));
    }
    let path = state.service.recordings_dir().join(&info.file_name);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "recording file missing");
        ApiError::not_found(format!(
            "the recording of ticket {} is not on this server",
            ticket.number
        ))
    })?;
    let disposition = format!("attachment; filename=\"{}\"", info.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("audio/wav")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn departments(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<Department>>, ApiError> {
    caller.require(Action::ReadDepartments)?;
    Ok(Json(state.service.store().departments().await?))
}

async fn configure_department(
    State(state): State<ApiState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<DepartmentBody>,
) -> Result<Json<Department>, ApiError> {
    caller.require(Action::ConfigureDepartment)?;
    let code = validate::department_code(&code)?;
    if !(1..=365).contains(&body.sla_days) {
        return Err(ApiError::bad_request("sla_days must be 1..=365"));
    }
    let department = state
        .service
        .store()
        .set_department_sla(&code, body.sla_days)
        .await
        .map_err(|e| match e {
            StoreError::UnknownDepartment(c) => ApiError::not_found(format!("no department {c}")),
            other => other.into(),
        })?;
    tracing::info!(actor = %caller.actor(), code = %code, sla_days = body.sla_days, "department SLA changed");
    Ok(Json(department))
}

async fn stats(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<TicketStats>, ApiError> {
    caller.require(Action::Stats)?;
    let department = q
        .department
        .map(|d| validate::department_code(&d))
        .transpose()?;
    let department = match caller.0.role {
        Role::Officer => {
            if department.is_some() && department != caller.0.department_code {
                return Err(ApiError::forbidden(
                    "officers see only their own department's figures",
                ));
            }
            caller.0.department_code.clone()
        }
        _ => department,
    };
    let now = state.service.clock().now();
    Ok(Json(
        state
            .service
            .store()
            .stats(department.as_deref(), now)
            .await?,
    ))
}

/// The headline figures per department. Same roles as `/stats`: supervisors and admins see every
/// department with tickets; an officer sees only their own department's row (none if it has no
/// tickets yet).
async fn department_stats(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<DepartmentFigures>>, ApiError> {
    caller.require(Action::Stats)?;
    let now = state.service.clock().now();
    let mut report = state.service.store().department_report(now).await?;
    if caller.0.role == Role::Officer {
        let own = caller.0.department_code.as_deref();
        report.retain(|d| Some(d.code.as_str()) == own);
    }
    Ok(Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (method, path) in ROUTES {
            let item = paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} missing from openapi.json"));
            assert!(
                item.get(method.to_lowercase()).is_some(),
                "{method} {path} missing from openapi.json"
            );
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(
            documented,
            ROUTES.len(),
            "openapi.json documents a route the router lacks"
        );
    }

    #[test]
    fn store_errors_map_to_statuses_without_leaking_internals() {
        let unavailable = ApiError::from(StoreError::Unavailable(sqlx::Error::PoolTimedOut));
        assert_eq!(
            (unavailable.status(), unavailable.code),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        );
        let internal = ApiError::from(StoreError::CorruptRow("ticket 7 number \"x\"".into()));
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !internal.message.contains("ticket 7"),
            "internals stay in the log"
        );
        let conflict = ApiError::from(StoreError::ConcurrentUpdate);
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        let missing = ApiError::from(TicketError::Store(StoreError::UnknownDepartment(
            "XX".into(),
        )));
        assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn role_matrix_keeps_each_role_in_its_lane() {
        assert!(!allowed(Role::Agent, Action::Assign));
        assert!(!allowed(Role::Officer, Action::Create));
        assert!(!allowed(Role::Integration, Action::ReadAudit));
        assert!(!allowed(Role::Supervisor, Action::ConfigureDepartment));
        assert!(allowed(Role::Admin, Action::ConfigureDepartment));
    }
}
