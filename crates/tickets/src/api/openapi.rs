//! The OpenAPI document, generated (utoipa): every handler carries its `#[utoipa::path]` and the
//! routers are `utoipa_axum` `OpenApiRouter`s whose `routes!` register a handler with axum and its
//! operation with the document at once — the one list of routes (clippy's `disallowed-methods`
//! refuses `OpenApiRouter::route`, which would serve a route the document lacks). Schemas are the
//! request and response types' own (`ToSchema`).
//!
//! [`finish`] adds what is the same for every operation — the security schemes (a session cookie
//! with its CSRF header on writes, or a bearer), the error answers every route can give — and the
//! webhooks the notifier sends. The handlers' annotations name only their own successes and the
//! errors particular to them.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, HttpMethod, OpenApi as Document, PathsBuilder, Ref, RefOr, Required, Response,
    SecurityRequirement,
};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::accounts::SESSION_COOKIE;
use crate::outbox::EventKind;

use super::error::ErrorBody;

/// The document's fixed parts; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "helpline 1100 API",
        version = "1.0.0",
        description = "The 1100 public-grievance helpline: tickets, accounts, the call centre, call \
records and reports. Every route except this document and `POST /login` needs a session (the \
`helpline_session` cookie, or `Authorization: Bearer <session>`) or an API token (`Authorization: \
Bearer <token>`, made with `helpline token create --user LOGIN` or `--integration NAME`, or \
`POST /tokens`). A request the session cookie authenticates that is not GET/HEAD/OPTIONS must send \
`X-CSRF-Token` (the login's `csrf_token`). Integration tokens are narrowed by scopes. Errors are \
`{\"error\": {\"code\", \"message\"}}`. Officers only reach their own department's tickets; others \
answer 404. Repeated failed logins or credentials, or too many requests from one client, answer \
429 with `Retry-After`."
    ),
    servers((url = "/api/v1")),
    components(schemas(ErrorBody, crate::outbox::EventPayload, EventKind))
)]
struct Base;

/// The document of `paths` (an `OpenApiRouter`'s, split from its router) with everything
/// [`finish`] adds.
pub fn finish(paths: Document) -> Document {
    let mut doc = Base::openapi();
    doc.merge(paths);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
    );
    components.add_security_scheme(
        "csrf",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "The login's csrf_token: sent with a session cookie on every request that is not GET",
        ))),
    );
    for (name, description) in ERRORS {
        components
            .responses
            .insert((*name).to_owned(), RefOr::T(error_response(description)));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            complete(path, method, op);
        }
    }
    doc.webhooks = Some(webhooks());
    doc
}

/// The error answers, by the name they have under `components/responses`.
const ERRORS: &[(&str, &str)] = &[
    (
        "BadRequest",
        "The request cannot be read: malformed JSON, a value of the wrong type, an unknown field \
or parameter",
    ),
    (
        "Unauthorized",
        "No credentials, or unknown, expired or revoked ones",
    ),
    (
        "Forbidden",
        "The caller's role or scopes may not do this, or a session's write lacks its CSRF token",
    ),
    (
        "NotFound",
        "No such resource (or not visible to this caller)",
    ),
    ("Conflict", "Not allowed in the resource's current state"),
    ("TooLarge", "The body is larger than 64 KiB"),
    (
        "UnsupportedMediaType",
        "The body is not sent as application/json",
    ),
    (
        "Invalid",
        "The request was read, but a value is refused (out of range, too long, characters not \
allowed, no such department …); `error.field` names it",
    ),
    (
        "TooManyRequests",
        "Too many requests, failed logins or credentials from this client (or for this login): \
wait `Retry-After` seconds",
    ),
    ("Internal", "Something failed inside; the log has the cause"),
    (
        "Unavailable",
        "The database or the call centre is unavailable: try again shortly",
    ),
];

/// Error answers a handler's annotation names (`(status = 409, response = Conflict)`): a `$ref`
/// to the answer [`finish`] puts under `components/responses`.
macro_rules! error_responses {
    ($($name:ident),+) => {$(
        #[doc = concat!("The `", stringify!($name), "` error answer (see [`finish`]).")]
        #[derive(Debug)]
        pub struct $name;

        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let name = stringify!($name);
                let description = ERRORS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(name, |(_, d)| d);
                (name, RefOr::T(error_response(description)))
            }
        }
    )+};
}
error_responses!(BadRequest, Unauthorized, NotFound, Conflict);

fn error_response(description: &str) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("Error"))),
    );
    if description.contains("Retry-After") {
        response = response.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("Seconds to wait"))
                .build(),
        );
    }
    response.build()
}

fn operations(item: &mut PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// Whether `path` is open to anyone (no credentials).
fn is_public(path: &str) -> bool {
    path == "/openapi.json" || path == "/login"
}

/// An operation's security and the error answers every operation of its kind can give.
fn complete(path: &str, method: HttpMethod, op: &mut Operation) {
    let public = is_public(path);
    if public {
        op.security = Some(vec![SecurityRequirement::default()]);
    } else {
        let session = if method == HttpMethod::Get {
            SecurityRequirement::new("session", Vec::<String>::new())
        } else {
            SecurityRequirement::new("session", Vec::<String>::new())
                .add("csrf", Vec::<String>::new())
        };
        op.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            session,
        ]);
    }
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_path = path.contains('{');
    let has_body = op.request_body.is_some();
    let mut add = |status: &str, name: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    };
    if has_params || has_body {
        add("400", "BadRequest");
        add("422", "Invalid");
    }
    if has_body {
        add("413", "TooLarge");
        add("415", "UnsupportedMediaType");
    }
    if !public {
        add("401", "Unauthorized");
        add("403", "Forbidden");
    }
    if has_path {
        add("404", "NotFound");
    }
    add("429", "TooManyRequests");
    add("500", "Internal");
    if path != "/openapi.json" {
        add("503", "Unavailable");
    }
}

/// The webhooks the notifier sends each subscriber, one per event type.
fn webhooks() -> utoipa::openapi::Paths {
    let mut paths = PathsBuilder::new();
    for kind in EventKind::ALL {
        let summary = match kind {
            EventKind::Registered => {
                "A complaint was registered (by a call, an agent, the web, or a journal replay \
after a database outage)"
            }
            EventKind::StatusChanged => {
                "A complaint's status changed (assigned, in progress, closed …)"
            }
            EventKind::Resolved => "A complaint was marked resolved",
            EventKind::Reopened => "A complaint was reopened",
            EventKind::Escalated => "A complaint went up one level (by hand or past its due date)",
            EventKind::OfficerReminder => {
                "An officer was reminded by SMS of a complaint nearing (`change.to` = `nearing`) or \
past (`overdue`) its due time"
            }
        };
        let header = |name: &str, description: &str, schema: RefOr<utoipa::openapi::Schema>| {
            RefOr::T(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(description))
                    .schema(Some(schema))
                    .build(),
            )
        };
        let string = || RefOr::T(ObjectBuilder::new().schema_type(Type::String).into());
        let mut op = Operation::new();
        op.summary = Some(summary.to_owned());
        op.description = Some(format!(
            "Sent to each subscriber (`[[notify.webhooks]]`) that lists `{}` in its events, at \
least once: a try that is not answered with a 2xx within the timeout is tried again with backoff \
and jitter, and after the last try is a dead letter an administrator can retry (`POST \
/notifications/{{id}}/retry`). Redirects are not followed.",
            kind.as_str()
        ));
        op.parameters = Some(vec![
            header(
                "Idempotency-Key",
                "The event id: the same on every try.",
                string(),
            ),
            header(
                "Helpline-Event",
                "The event type.",
                RefOr::Ref(Ref::from_schema_name("EventType")),
            ),
            header(
                "Helpline-Delivery",
                "This delivery's id (for support requests).",
                string(),
            ),
            header(
                "Helpline-Signature",
                "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the subscriber's \
secret>`. Check it in constant time over the raw body, and refuse timestamps more than a few \
minutes old.",
                RefOr::T(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some("^t=[0-9]+,v1=[0-9a-f]{64}$"))
                        .into(),
                ),
            ),
        ]);
        op.request_body = Some(RefOr::T(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("TicketEvent"))),
                )
                .build(),
        ));
        op.responses = ResponsesBuilder::new()
            .response(
                "2XX",
                ResponseBuilder::new().description("Received (any 2xx); the delivery is done."),
            )
            .response(
                "default",
                ResponseBuilder::new().description(
                    "Anything else is tried again (408, 425, 429, 5xx, no answer) or, for any \
other 4xx, a dead letter at once.",
                ),
            )
            .build();
        let mut item = PathItem::default();
        item.post = Some(op);
        paths = paths.path(kind.as_str(), item);
    }
    paths.build()
}

/// `{number}`: a complaint number in a path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NumberPath {
    /// Ten-digit complaint number (last digit: Verhoeff check digit).
    #[param(pattern = "^[1-9][0-9]{9}$")]
    pub number: String,
}

/// `{login}`: a user's login in a path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LoginPath {
    pub login: String,
}

/// `{id}`: a numeric id in a path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    pub id: i64,
}

/// A WAV file's bytes, as a response body.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Wav(pub Vec<u8>);

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object))
)]
pub(crate) async fn document(
    axum::Extension(doc): axum::Extension<Served>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// The document as served, serialised once.
#[derive(Debug, Clone)]
pub struct Served(pub std::sync::Arc<String>);
