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
use axum::extract::{DefaultBodyLimit, Extension};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
pub mod officers;
pub mod openapi;
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
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Entries to skip; the next page is at offset + limit while that is below total.
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
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: u64,
    #[schema(minimum = 1, maximum = 200)]
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
    router_with(state, OpenApiRouter::new())
}

/// The API's routes with `more` routes of another part of the system (the call records' reports,
/// the call centre) merged in: the same state, the same callers and roles, the same body limit and
/// "no such route" — and one OpenAPI document of them all, served at `/openapi.json`.
pub fn router_with(state: ApiState, more: OpenApiRouter<ApiState>) -> Router {
    let (router, paths) = routes().merge(more).split_for_parts();
    let served = openapi::Served(std::sync::Arc::new(
        openapi::finish(paths)
            .to_json()
            .expect("the OpenAPI document is plain data and serialises"),
    ));
    router
        .fallback(not_found)
        .layer(Extension(served))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The OpenAPI document of [`router_with`]`(_, more)`, as it serves it.
pub fn document(more: OpenApiRouter<ApiState>) -> utoipa::openapi::OpenApi {
    openapi::finish(routes().merge(more).into_openapi())
}

/// Every route of the ticket API: each handler with its operation (`routes!`), the one list.
fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(openapi::document))
        .routes(routes!(tickets::list_tickets, tickets::create_ticket))
        .routes(routes!(tickets::get_ticket))
        .routes(routes!(status::ticket_status, tickets::change_status))
        .routes(routes!(tickets::assign))
        .routes(routes!(tickets::escalate))
        .routes(routes!(activity::list_notes, activity::add_note))
        .routes(routes!(activity::feedback))
        .routes(routes!(tickets::called_back))
        .routes(routes!(activity::audit))
        .routes(routes!(activity::recording))
        .routes(routes!(confirmations::list))
        .routes(routes!(departments::departments))
        .routes(routes!(departments::configure_department))
        .routes(routes!(stats::stats))
        .routes(routes!(stats::department_stats))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::disable_user))
        .routes(routes!(accounts::set_password))
        .routes(routes!(
            accounts::get_agent_profile,
            accounts::set_agent_profile
        ))
        .routes(routes!(accounts::agent_profiles))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(notifications::dead_letters))
        .routes(routes!(notifications::retry))
        .routes(routes!(officers::list, officers::create))
        .routes(routes!(officers::get_one, officers::update))
        .routes(routes!(officers::deactivate))
}

/// Every operation of `doc`, as (method, path relative to the mount point): what a test walks to
/// check that the router serves each one.
pub fn operations(doc: &utoipa::openapi::OpenApi) -> Vec<(&'static str, String)> {
    let mut all = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ] {
            if op.is_some() {
                all.push((method, path.clone()));
            }
        }
    }
    all
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_has_every_route_with_its_schemas_and_the_webhooks() {
        let doc = serde_json::to_value(document(OpenApiRouter::new())).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");

        let ops = operations(&document(OpenApiRouter::new()));
        assert!(ops.contains(&("GET", "/tickets/{number}".to_owned())));
        assert!(ops.contains(&("DELETE", "/tokens/{id}".to_owned())));
        assert!(ops.contains(&("POST", "/officers/{id}/deactivate".to_owned())));
        assert_eq!(ops.len(), 39, "{ops:?}");
        // Every $ref resolves.
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r);
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in all {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
        }
        for kind in crate::outbox::EventKind::ALL {
            assert!(doc["webhooks"][kind.as_str()]["post"].is_object(), "{kind}");
        }
        let login = &doc["paths"]["/login"]["post"];
        assert_eq!(login["security"], serde_json::json!([{}]));
        let write = &doc["paths"]["/tickets"]["post"];
        assert_eq!(
            write["security"],
            serde_json::json!([{"bearer": []}, {"session": [], "csrf": []}])
        );
        assert!(write["responses"]["415"].is_object());
        assert!(write["responses"]["201"].is_object());
    }
}
