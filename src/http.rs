//! The service's HTTP side: one axum app with the tickets API (`/api/v1`, from the tickets crate), `/health`
//! (ARI connection, database, calls in progress: 200 when all is well, 503 otherwise, JSON either way) and
//! `/metrics` (Prometheus text: calls, events, tickets, errors). Every request goes through
//! tower-http's `TraceLayer`: one span per request (method and path, never the query string, which
//! can hold a phone number) and one line per answer; a 5xx answer's internal cause (the tickets API's
//! `ErrorCause`) is logged there, once.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tickets::api::ErrorCause;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::engine::EngineStats;

/// What `/health` and `/metrics` read.
#[derive(Clone)]
pub struct Observed {
    /// The engine's counters.
    pub engine: Arc<EngineStats>,
    /// The ARI event connection's state.
    pub ari: watch::Receiver<ari::ConnectionState>,
    /// The ARI router (for its counters).
    pub router: ari::Router,
    /// The ticket service (database state, journal backlog).
    pub tickets: tickets::TicketService,
}

impl std::fmt::Debug for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observed").finish_non_exhaustive()
    }
}

/// `/health`'s answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Health {
    /// `ok` when ARI is connected and the database is up, else `degraded`.
    pub status: &'static str,
    pub ari: AriHealth,
    pub database: DatabaseHealth,
    pub calls_in_progress: u64,
}

/// The ARI part of `/health`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AriHealth {
    /// `connected`, `connecting`, `disconnected` or `stopped`.
    pub state: &'static str,
    /// Why it is not connected, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The database part of `/health`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DatabaseHealth {
    /// `up`, or `down` while tickets go to the journal.
    pub state: &'static str,
    /// Tickets in the local journal waiting for the database.
    pub journal_pending: usize,
}

impl Observed {
    /// The current health.
    pub async fn health(&self) -> Health {
        let ari = match &*self.ari.borrow() {
            ari::ConnectionState::Connected { .. } => AriHealth {
                state: "connected",
                detail: None,
            },
            ari::ConnectionState::Connecting { attempt } => AriHealth {
                state: "connecting",
                detail: (*attempt > 0).then(|| format!("{attempt} failed attempt(s)")),
            },
            ari::ConnectionState::Disconnected {
                reason, retry_in, ..
            } => AriHealth {
                state: "disconnected",
                detail: Some(format!("{reason}; retrying in {} ms", retry_in.as_millis())),
            },
            ari::ConnectionState::Stopped => AriHealth {
                state: "stopped",
                detail: None,
            },
        };
        let database_down = self.tickets.database_down();
        let database = DatabaseHealth {
            state: if database_down { "down" } else { "up" },
            journal_pending: self.tickets.journal_len().await,
        };
        let ok = ari.state == "connected" && !database_down;
        Health {
            status: if ok { "ok" } else { "degraded" },
            ari,
            database,
            calls_in_progress: self.engine.snapshot().calls_in_progress,
        }
    }

    /// The Prometheus text.
    pub async fn metrics(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.engine.snapshot().write_prometheus(&mut out);
        let router = self.router.stats();
        let health = self.health().await;
        let lines: [(&str, &str, &str, u64); 6] = [
            (
                "helpline_ari_events_delivered_total",
                "counter",
                "ARI events routed to call mailboxes.",
                router.delivered,
            ),
            (
                "helpline_ari_mailbox_overflows_total",
                "counter",
                "Calls failed because their mailbox overflowed.",
                router.mailbox_overflows,
            ),
            (
                "helpline_ari_calls_rejected_total",
                "counter",
                "Calls the router could not hand to the engine.",
                router.rejected_calls,
            ),
            (
                "helpline_ari_connected",
                "gauge",
                "1 when the ARI event connection is up.",
                u64::from(health.ari.state == "connected"),
            ),
            (
                "helpline_database_up",
                "gauge",
                "1 when the ticket database is reachable.",
                u64::from(health.database.state == "up"),
            ),
            (
                "helpline_journal_pending",
                "gauge",
                "Tickets in the local journal waiting for the database.",
                health.database.journal_pending as u64,
            ),
        ];
        for (name, kind, help, value) in lines {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        out
    }
}

/// The app: `api` (the tickets API, already nested under `/api/v1`) plus `/health` and `/metrics`.
pub fn app(observed: Observed, api: Router) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(observed)
        .merge(api)
        .layer(
            // Failures are logged by `log_response`, with their cause, so tower-http's own
            // failure line is off.
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response)
                .on_failure(()),
        )
}

/// The span of one request: method and path only (the query string can hold a phone number).
fn request_span(request: &Request<axum::body::Body>) -> Span {
    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
}

/// One line per answer; a server error with its internal cause.
fn log_response(response: &Response, latency: Duration, _: &Span) {
    let status = response.status();
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    match response.extensions().get::<ErrorCause>() {
        Some(cause) if status == StatusCode::SERVICE_UNAVAILABLE => {
            tracing::warn!(%status, latency_ms, cause = %cause.0, "request failed")
        }
        Some(cause) => tracing::error!(%status, latency_ms, cause = %cause.0, "request failed"),
        None => tracing::debug!(%status, latency_ms, "request answered"),
    }
}

async fn health(State(observed): State<Observed>) -> Response {
    let health = observed.health().await;
    let status = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(health)).into_response()
}

async fn metrics(State(observed): State<Observed>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        observed.metrics().await,
    )
        .into_response()
}
