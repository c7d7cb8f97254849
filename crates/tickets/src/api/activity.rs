//! What happens around a ticket: notes, the citizen's feedback, the audit trail and the call's
//! recording.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::model::{AuditEntry, FeedbackReason, Note};
use crate::validate;

use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::{Conflict, NumberPath, Wav};
use super::tickets::{TicketView, load_ticket, view};
use super::{ApiState, PageBody, PageQuery};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[schema(min_length = 1, max_length = 4000)]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    pub satisfied: bool,
    pub reason_code: Option<FeedbackReason>,
}

/// A page of a ticket's notes, oldest first.
///
/// Roles: all roles.
#[utoipa::path(get, path = "/tickets/{number}/notes", tag = "tickets", params(NumberPath, PageQuery), responses(
    (status = 200, description = "A page of notes", body = PageBody<Note>),
))]
pub(crate) async fn list_notes(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageBody<Note>>, ApiError> {
    caller.require(Action::Read)?;
    let page = PageQuery::page(q.limit, q.offset)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let (notes, total) = state
        .service
        .store()
        .notes_page(ticket.number, page)
        .await?;
    Ok(Json(PageBody::new(notes, total, page)))
}

/// Add a note.
///
/// Roles: agent, supervisor, admin, officer.
#[utoipa::path(post, path = "/tickets/{number}/notes", tag = "tickets", params(NumberPath),
    request_body = NoteBody, responses(
    (status = 201, description = "The note", body = Note),
))]
pub(crate) async fn add_note(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
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

/// Citizen feedback on a resolved ticket; closes it satisfied or not satisfied.
///
/// Roles: agent, supervisor, admin, integration (recorded on the citizen's behalf, audited).
#[utoipa::path(post, path = "/tickets/{number}/feedback", tag = "tickets", params(NumberPath),
    request_body = FeedbackBody, responses(
    (status = 200, description = "The ticket after the feedback", body = TicketView),
    (status = 409, response = Conflict),
))]
pub(crate) async fn feedback(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
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
            &caller.actor_for_citizen(),
            now,
        )
        .await?;
    Ok(Json(view(ticket, now)))
}

/// A page of a ticket's audit trail, oldest first: who changed what, when, from → to, why.
///
/// Roles: supervisor, admin, officer.
#[utoipa::path(get, path = "/tickets/{number}/audit", tag = "tickets", params(NumberPath, PageQuery), responses(
    (status = 200, description = "A page of audit entries", body = PageBody<AuditEntry>),
))]
pub(crate) async fn audit(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageBody<AuditEntry>>, ApiError> {
    caller.require(Action::ReadAudit)?;
    let page = PageQuery::page(q.limit, q.offset)?;
    let ticket = load_ticket(&state, &caller, &number).await?;
    let (entries, total) = state
        .service
        .store()
        .audit_page(ticket.number, page)
        .await?;
    Ok(Json(PageBody::new(entries, total, page)))
}

/// The complaint's voice recording.
///
/// Roles: agent, supervisor, admin, officer.
#[utoipa::path(get, path = "/tickets/{number}/recording", tag = "tickets", params(NumberPath), responses(
    (status = 200, description = "WAV audio", content_type = "audio/wav", body = Wav),
))]
pub(crate) async fn recording(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
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
