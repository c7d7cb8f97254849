//! The service's HTTP side: one axum app with the tickets API (`/api/v1`, from the tickets crate), `/health`
//! (ARI connection, database, calls in progress: 200 when all is well, 503 otherwise, JSON either way) and
//! `/metrics` (Prometheus text from the node's registry, `crate::metrics`). Every request goes through
//! tower-http's `TraceLayer`: one span per request (method and path, never the query string, which
//! can hold a phone number) and one line per answer; a 5xx answer's internal cause (the tickets API's
//! `ErrorCause`) is logged there, once.
//!
//! [`serve`] is the edge that keeps one slow or hostile client from stalling the others: hyper's
//! HTTP/1 connection with a header-read timeout (it also closes an idle keep-alive connection), a
//! whole-request timeout (tower-http's `TimeoutLayer`, 408), and a cap on connections. Past the cap a
//! few more connections ([`OVERFLOW_CONNECTIONS`]) are still let in and answered at once — `/health`
//! as usual, anything else 503 with `Retry-After` — so a monitor still sees the node while it is
//! flooded; connections past those are closed as they arrive.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use tickets::api::{ApiError, ErrorCause};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::{ServiceBuilder, ServiceExt};
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::PeerIpKeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::config::HttpConfig;
use crate::engine::EngineStats;
use crate::metrics::{self as prometheus, Metrics};

/// What `/health` and `/metrics` read.
#[derive(Clone)]
pub struct Observed {
    /// The engine's counters.
    pub engine: Arc<EngineStats>,
    /// The ARI event connection's state.
    pub ari: watch::Receiver<ari::ConnectionState>,
    /// The ticket service (database state, journal backlog).
    pub tickets: tickets::TicketService,
    /// The node's metrics registry.
    pub metrics: Arc<Metrics>,
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
    pub fn metrics(&self) -> String {
        self.metrics.encode()
    }
}

/// The app: `api` (the tickets API, already nested under `/api/v1`, and the web pages, limited per client address
/// to `http.rate_limit_per_second`) plus `/health` and `/metrics`, each request bounded by
/// `http.request_timeout`. Call it inside the runtime: the rate limiter's sweeper is a task.
pub fn app(observed: Observed, api: Router, http: &HttpConfig) -> Router {
    let api = rate_limited(api, http);
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(observed)
        .merge(api)
        // Innermost first: the timeout's bare 408 gets the API's error body on its way out.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            http.request_timeout,
        ))
        .layer(middleware::map_response(explain_bare_errors))
        .layer(middleware::from_fn(refuse_when_over_capacity))
        // The headers every answer carries, whatever produced it (a handler, a layer, the
        // connection cap). Nothing may sniff a type, frame an answer, run a script in one (but
        // the web pages' own) or leak its URL (which can hold a ticket number) as a referrer;
        // and nothing is cached — a ticket, a note or a recording is
        // personal data, and a shared cache or a browser's disk is no place for it (a handler
        // that means otherwise sets its own Cache-Control).
        .layer(
            ServiceBuilder::new()
                .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(always(header::X_FRAME_OPTIONS, "DENY"))
                // The web pages (`crate::web`) set their own policy, which lets in this
                // origin's script and style; everything else gets none at all.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                ))
                .layer(always(header::REFERRER_POLICY, "no-referrer"))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        )
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

/// `api` with a per-client limit (tower_governor: a GCRA bucket per peer address, refilled at
/// `http.rate_limit_per_second`, `http.rate_limit_burst` deep), unless it is off. Past it
/// a client hears 429 with the API's error body and `Retry-After` (whole seconds, rounded up).
/// The buckets of clients gone quiet are swept every minute, so a scan from many addresses does
/// not grow the map for ever; the sweeper ends with the app.
fn rate_limited(api: Router, http: &HttpConfig) -> Router {
    let Some(per_second) = http.rate_limit_per_second else {
        return api;
    };
    let Some(config) = GovernorConfigBuilder::default()
        .key_extractor(PeerIpKeyExtractor)
        .per_nanosecond((1_000_000_000 / u64::from(per_second.max(1))).max(1))
        .burst_size(http.rate_limit_burst.max(1))
        .finish()
    else {
        // Only a zero period or burst fails, and both are at least 1 here.
        tracing::error!(
            per_second,
            burst = http.rate_limit_burst,
            "rate limit not built"
        );
        return api;
    };
    let config = Arc::new(config);
    let swept = Arc::downgrade(&config);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(config) = swept.upgrade() else {
                return;
            };
            config.limiter().retain_recent();
        }
    });
    api.layer(GovernorLayer::new(config).error_handler(too_many_requests))
}

/// tower_governor's refusal as the API's: 429 (or, for a request without a peer address, which
/// `serve` always gives, 500) with `{"error": …}`.
fn too_many_requests(error: GovernorError) -> Response {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut response = ApiError::from_status(StatusCode::TOO_MANY_REQUESTS).into_response();
            // `wait_time` is whole seconds, truncated: one more is never too soon.
            let retry_after = HeaderValue::from(wait_time.saturating_add(1));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after);
            response
        }
        other => ApiError::internal(format!("rate limit: {other}")).into_response(),
    }
}

/// A header set on every answer, replacing whatever the handler set.
fn always(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// Gives an error answered by a layer rather than a handler (the request timeout's 408, a 404 off
/// the API) the API's `{"error": …}` body, so every failure reads the same.
async fn explain_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut explained = ApiError::from_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH {
            explained.headers_mut().insert(name.clone(), value.clone());
        }
    }
    *explained.extensions_mut() = parts.extensions;
    explained
}

/// Marks a request that came on a connection past `http.max_connections`.
#[derive(Debug, Clone, Copy)]
struct OverCapacity;

/// On a connection past the cap only `/health` is served; the rest hear 503 and to come back.
async fn refuse_when_over_capacity(request: Request<axum::body::Body>, next: Next) -> Response {
    if request.extensions().get::<OverCapacity>().is_none() || request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let mut response =
        ApiError::unavailable("the server is at its connection limit; try again shortly")
            .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Connections let in past `http.max_connections`, each answered once and closed: enough for
/// monitors and for a client to hear why, few enough that a flood cannot use them up for long
/// (each is bound by the header-read timeout like any other).
pub const OVERFLOW_CONNECTIONS: usize = 64;

/// Serves `app` on `listener` until `shutdown`, with the edge limits of `http`: a header-read timeout
/// on every connection, at most `http.max_connections` connections (plus [`OVERFLOW_CONNECTIONS`]
/// answered at once), every request's client address as axum's `ConnectInfo<SocketAddr>` (the peer,
/// or behind a
/// trusted proxy the client it forwards for: `crate::forwarded`). On
/// shutdown it stops accepting, lets each connection finish the request it is in (at most
/// `http.request_timeout`), then returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    http: &HttpConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let served = Arc::new(Semaphore::new(http.max_connections));
    let overflow = Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS));
    let connections = TaskTracker::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_read_timeout);
    let mut once = builder.clone();
    once.keep_alive(false);
    let trusted: Arc<[crate::forwarded::Cidr]> = http.trusted_proxies.clone().into();
    let client_header = http.client_address_header;
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %err, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (builder, permit, over) = if let Ok(permit) = Arc::clone(&served).try_acquire_owned() {
            (&builder, permit, false)
        } else if let Ok(permit) = Arc::clone(&overflow).try_acquire_owned() {
            (&once, permit, true)
        } else {
            tracing::debug!(%peer, "connection refused: over the connection limit");
            continue;
        };
        let trusted = Arc::clone(&trusted);
        let service = app
            .clone()
            .map_request(move |request: Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                // Behind a trusted proxy, the client it forwards for (`crate::forwarded`).
                let client = crate::forwarded::client_address(
                    peer,
                    request.headers(),
                    &trusted,
                    client_header,
                );
                request.extensions_mut().insert(ConnectInfo(client));
                if over {
                    request.extensions_mut().insert(OverCapacity);
                }
                request
            });
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_connection_end(peer, result),
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    log_connection_end(peer, connection.await);
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(http.request_timeout, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("HTTP connections still open at shutdown were dropped");
    }
    Ok(())
}

fn log_connection_end(peer: SocketAddr, result: hyper::Result<()>) {
    if let Err(err) = result {
        // A header-read timeout, a client that went away, a malformed request: the client's doing.
        tracing::debug!(%peer, error = %err, "HTTP connection ended");
    }
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
        [(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)],
        observed.metrics(),
    )
        .into_response()
}
