//! The API's one error type, [`ApiError`]: a status, a stable machine code and a message safe to
//! show. Conversions only classify — they never log. A server-side cause travels with the response
//! as an [`ErrorCause`] extension, where the server's request trace (tower-http's `TraceLayer` in
//! `src/http.rs`) logs it once, beside the request it belongs to.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{StoreError, TicketError};

use super::MAX_BODY_BYTES;

/// The one error type of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// The input field whose value was refused (422 only).
    field: Option<&'static str>,
    /// What went wrong inside (never shown to the client): logged with the request.
    cause: Option<String>,
}

/// The internal cause of a 5xx answer, carried as a response extension for the request log.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            cause: None,
        }
    }
    /// 400: the request cannot be read (its JSON, query or path does not parse into the
    /// handler's types).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 422: the request was read, but the value of `field` is refused (too long, out of range,
    /// characters not allowed, no such department …); the body names the field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("invalid {field}: {}", message.into()),
            )
        }
    }
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// A 500 whose `cause` goes to the log, not to the client.
    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError {
            cause: Some(cause.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        }
    }
    /// 503: the server cannot take the request now (the client may try again).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
    /// The error for a status a layer answered with, before any handler ran (a request timeout, a
    /// route that does not exist, a method not allowed): a code and message of its own.
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "this route does not take that method")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request is too large"),
            StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "try again shortly"),
            s if s.is_server_error() => ("internal", "internal error"),
            _ => ("bad_request", "the request was refused"),
        };
        Self::new(status, code, message)
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn code(&self) -> &'static str {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The error body every failure answers with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code to branch on, a message for people, and for a refused value
/// (422) the field it was given in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid_input`, `malformed_json`, `unauthorized`, `forbidden`, `not_found`,
    /// `method_not_allowed`, `invalid_transition`, `not_allowed_now`, `too_large`,
    /// `unsupported_media_type`, `timeout`, `too_many_requests`, `unavailable`, `internal`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field.map(str::to_owned),
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::TicketNotFound(n) => ApiError::not_found(format!("no ticket {n}")),
            StoreError::DeliveryNotFound(id) => {
                ApiError::not_found(format!("no notification delivery {id}"))
            }
            StoreError::UnknownDepartment(code) => ApiError::invalid(
                "department_code",
                format!("no department with code {code:?}"),
            ),
            StoreError::InvalidTransition { .. } => {
                ApiError::conflict("invalid_transition", err.to_string())
            }
            StoreError::NotAllowedNow(m) => ApiError::conflict("not_allowed_now", m.clone()),
            StoreError::ConcurrentUpdate => {
                ApiError::conflict("concurrent_update", err.to_string())
            }
            StoreError::Unavailable(_) => ApiError {
                cause: Some(err.to_string()),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the ticket database is unavailable; try again shortly",
                )
            },
            _ => ApiError::internal(err.to_string()),
        }
    }
}

impl From<TicketError> for ApiError {
    fn from(err: TicketError) -> Self {
        match err {
            TicketError::Store(e) => e.into(),
            TicketError::Invalid { field, message } => ApiError::invalid(field, message),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
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
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let response = internal.into_response();
        let cause = response.extensions().get::<ErrorCause>();
        assert!(
            cause.is_some_and(|c| c.0.contains("ticket 7")),
            "the cause travels to the request log"
        );
        let conflict = ApiError::from(StoreError::ConcurrentUpdate);
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        let missing = ApiError::from(TicketError::Store(StoreError::UnknownDepartment(
            "XX".into(),
        )));
        assert_eq!(
            (missing.status(), missing.field),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("department_code"))
        );
    }
}
