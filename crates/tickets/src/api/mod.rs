//! The `/api/v1` HTTP API (axum 0.8): tickets, their lifecycle, notes, feedback, audit trail and
//! recordings; departments; stats; login, logout, users and tokens; the OpenAPI document. Every
//! route except the OpenAPI document and `POST /login` needs a session (cookie, or bearer) or an API
//! token (`Authorization: Bearer <token>`); what a caller may do depends on its role (and an
//! integration's on its scopes), and officers only ever see their own department's tickets (others
//! answer 404, so numbers cannot be probed).
//!
//! [`router`] returns routes relative to the mount point: the server nests it at `/api/v1`.
//! All errors go through [`ApiError`], which answers `{"error": {"code": "...", "message": "..."}}`
//! with the right status. The module is split along its seams: [`error`], [`extract`] (axum's
//! extractors with [`ApiError`] rejections), [`auth`] (caller, actions, role matrix) and one module
//! of handlers per resource ([`tickets`], [`activity`], [`departments`], [`stats`]).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};

use crate::accounts::{Accounts, AccountsConfig};
use crate::service::TicketService;

pub mod accounts;
pub mod activity;
pub mod auth;
pub mod confirmations;
pub mod departments;
pub mod error;
pub mod extract;
pub mod notifications;
pub mod stats;
pub mod status;
pub mod tickets;

pub use auth::{Action, Caller, allowed};
pub use error::{ApiError, ErrorCause};

/// Largest request body accepted (JSON only; recordings come from the engine, not the API).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest page a list returns.
pub const MAX_PAGE: u32 = 200;
/// The page a list returns when no `limit` is given.
pub const DEFAULT_PAGE: u32 = 50;

/// `?limit=&offset=` of a list that can grow (tickets, a ticket's notes, its audit trail).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

impl PageQuery {
    /// The page asked for: `limit` 1..=[`MAX_PAGE`] (default [`DEFAULT_PAGE`]), `offset` from 0.
    pub fn page(limit: Option<u32>, offset: Option<u64>) -> Result<crate::model::Page, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("must be 1..={MAX_PAGE}"),
            ));
        }
        Ok(crate::model::Page {
            limit,
            offset: offset.unwrap_or(0),
        })
    }
}

/// One page of a list: its items, how many there are in all, and the page that was asked for
/// (the next one is at `offset + limit` while that is below `total`).
#[derive(Debug, serde::Serialize)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

impl<T> PageBody<T> {
    pub(crate) fn new(items: Vec<T>, total: u64, page: crate::model::Page) -> Self {
        PageBody {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

/// The hand-kept OpenAPI document (a test checks it lists every route of [`ROUTES`]).
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Every route the router serves, as (method, path relative to the mount point).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/tickets"),
    ("POST", "/tickets"),
    ("GET", "/tickets/{number}"),
    ("GET", "/confirmations"),
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
    ("GET", "/tickets/{number}/status"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/me"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/{login}/disable"),
    ("POST", "/users/{login}/password"),
    ("GET", "/users/{login}/agent"),
    ("PUT", "/users/{login}/agent"),
    ("GET", "/agent-profiles"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{id}"),
    ("GET", "/notifications/dead"),
    ("POST", "/notifications/{id}/retry"),
];

/// What the API handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub service: TicketService,
    /// Session and token settings, the password hasher, the failed-login throttles.
    pub accounts: Accounts,
}

impl ApiState {
    /// With the default account settings.
    pub fn new(service: TicketService) -> Self {
        Self::with_accounts(service, AccountsConfig::default())
    }

    pub fn with_accounts(service: TicketService, config: AccountsConfig) -> Self {
        ApiState {
            service,
            accounts: Accounts::new(config),
        }
    }
}

/// The API's routes (mount with `Router::new().nest("/api/v1", tickets::api::router(state))`).
pub fn router(state: ApiState) -> Router {
    router_with(state, Router::new())
}

/// The API's routes with `more` routes of another part of the system (the call records' reports)
/// merged in: the same state, the same callers and roles, the same body limit and "no such route".
pub fn router_with(state: ApiState, more: Router<ApiState>) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route(
            "/tickets",
            get(tickets::list_tickets).post(tickets::create_ticket),
        )
        .route("/tickets/{number}", get(tickets::get_ticket))
        .route(
            "/tickets/{number}/status",
            get(status::ticket_status).post(tickets::change_status),
        )
        .route("/tickets/{number}/assign", post(tickets::assign))
        .route("/tickets/{number}/escalate", post(tickets::escalate))
        .route(
            "/tickets/{number}/notes",
            get(activity::list_notes).post(activity::add_note),
        )
        .route("/tickets/{number}/feedback", post(activity::feedback))
        .route("/tickets/{number}/audit", get(activity::audit))
        .route("/tickets/{number}/recording", get(activity::recording))
        .route("/confirmations", get(confirmations::list))
        .route("/departments", get(departments::departments))
        .route(
            "/departments/{code}",
            patch(departments::configure_department),
        )
        .route("/stats", get(stats::stats))
        .route("/stats/departments", get(stats::department_stats))
        .merge(more)
        .merge(accounts_routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Login, logout, whoami; users and tokens (admins).
fn accounts_routes() -> Router<ApiState> {
    use axum::routing::delete;
    Router::new()
        .route("/login", post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route("/me", get(accounts::me))
        .route(
            "/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route("/users/{login}/disable", post(accounts::disable_user))
        .route("/users/{login}/password", post(accounts::set_password))
        .route(
            "/users/{login}/agent",
            get(accounts::get_agent_profile).put(accounts::set_agent_profile),
        )
        .route("/agent-profiles", get(accounts::agent_profiles))
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route("/tokens/{id}", delete(accounts::revoke_token))
        .route("/notifications/dead", get(notifications::dead_letters))
        .route("/notifications/{id}/retry", post(notifications::retry))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

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
}
