//! The event WebSocket (`/ari/events?app=…`): connects, reads frames, parses each once and hands it to the
//! [`Router`]; pings every few seconds and treats a peer silent for `idle_timeout` as gone; reconnects with
//! capped exponential backoff and jitter; after every (re)connect runs a reconciliation
//! (`GET /applications/{app}`, then `GET /channels/{id}` for each of its channels) in a separate task and
//! hands the result to the supervisor, because Asterisk replays nothing that happened while we were away.
//! The reader itself never awaits HTTP or a database. State is published on a `watch` channel and counters
//! are kept for /health and metrics. Credentials travel in the upgrade request's `Authorization: Basic`
//! header, as for REST — never in the URL, where proxies and Asterisk's own logs would keep them — and are
//! never logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http;
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::error::AriError;
use crate::event::{Event, parse_event};
use crate::model::{Application, Channel};
use crate::router::{ControlEvent, Router};

/// Bound on the set of unknown event types remembered for logging.
const MAX_LOGGED_UNKNOWN_TYPES: usize = 256;

/// Frames the reader routes before it yields its worker. tungstenite hands out every frame already in its
/// read buffer without touching the socket, so without this the reader would route a whole buffer (hundreds
/// of events under load) in one poll: every call task it wakes sits in the same worker's run queue, behind
/// the reader, until the buffer is empty. Yielding every few frames lets the woken calls run (on this worker
/// or stolen by the other) while the rest of the buffer waits in memory; the router still never waits.
const FRAMES_PER_YIELD: u32 = 8;

/// How often reconciliation asks again when the just-connected application is not registered yet.
const APP_REGISTRATION_RETRIES: u32 = 8;

/// How the event connection behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// The Stasis application name (the dialplan's `Stasis(<app>)`).
    pub app: String,
    /// How often to send a WebSocket ping.
    pub ping_interval: Duration,
    /// A peer that sends nothing (no event, no pong) for this long is treated as gone.
    pub idle_timeout: Duration,
    /// A pong later than this after its ping means the peer stalled (Asterisk answers a ping in
    /// milliseconds): events of the stall may be lost, so the connection reconciles as after a
    /// reconnect, without reconnecting.
    pub stall_after: Duration,
    /// Time allowed for the WebSocket handshake.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt.
    pub backoff_initial: Duration,
    /// Largest reconnect delay.
    pub backoff_max: Duration,
    /// Concurrent `GET /channels/{id}` during reconciliation.
    pub reconcile_concurrency: usize,
}

impl ConnectionConfig {
    /// Defaults: ping every 3 s, stalled at a pong 1 s late, dead after 10 s of silence, backoff 250 ms …
    /// 10 s.
    pub fn new(app: impl Into<String>) -> Self {
        Self {
            app: app.into(),
            ping_interval: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(10),
            stall_after: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(10),
            reconcile_concurrency: 16,
        }
    }

    /// The same config with every interval at least 10 ms (a zero ping interval would panic the timer, a zero
    /// backoff would reconnect in a hot loop) and the idle timeout longer than the ping interval.
    fn sane(mut self) -> Self {
        let floor = Duration::from_millis(10);
        self.ping_interval = self.ping_interval.max(floor);
        self.idle_timeout = self.idle_timeout.max(self.ping_interval + floor);
        self.connect_timeout = self.connect_timeout.max(floor);
        self.backoff_initial = self.backoff_initial.max(floor);
        self.backoff_max = self.backoff_max.max(self.backoff_initial);
        self.reconcile_concurrency = self.reconcile_concurrency.max(1);
        self
    }

    /// The delay before reconnect attempt `attempt` (1-based): exponential, capped, with "equal jitter"
    /// (between half and all of the capped value) so a fleet does not reconnect in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .backoff_initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(self.backoff_max);
        let half = capped / 2;
        let jitter_ms = rand::random_range(0..=half.as_millis().min(u64::MAX as u128) as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

/// Where the connection is, for /health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Handshaking; `attempt` counts failures since the last good connection.
    Connecting { attempt: u32 },
    /// Connected; `generation` counts connections since start (1 = first).
    Connected { generation: u64 },
    /// Lost or never made; the next attempt comes after `retry_in`.
    Disconnected {
        reason: String,
        attempt: u32,
        retry_in: Duration,
    },
    /// Shut down on request.
    Stopped,
}

impl ConnectionState {
    /// Whether events are flowing.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected { .. })
    }
}

/// A channel the application still owns after a (re)connect.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconciledChannel {
    /// Its current snapshot.
    pub channel: Channel,
    /// Whether a mailbox is routed for it (a call task is running). If not, nobody drives it: the engine
    /// should hang it up or send it back to the dialplan.
    pub routed: bool,
}

/// What Asterisk says the application owns right after a (re)connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciliation {
    /// The connection this belongs to.
    pub generation: u64,
    /// Taken because the peer stalled (a pong came late) on a connection that stayed up: events of the
    /// stall may have been lost, though nothing reconnected.
    pub after_stall: bool,
    /// `GET /applications/{app}` as answered.
    pub application: Application,
    /// Each channel the app lists that still exists.
    pub channels: Vec<ReconciledChannel>,
    /// Listed by the app but gone by the time we asked (404).
    pub vanished: Vec<String>,
    /// Routed here (a call task exists) but not owned by the app any more: hung up while we were away, or
    /// Asterisk restarted. Their `StasisEnd` will never come; the engine should end those calls.
    pub lost: Vec<String>,
}

/// Connection news for the supervisor (on the router's control channel).
#[derive(Debug)]
pub enum ConnectionEvent {
    /// The WebSocket is up; events flow again. A reconciliation follows.
    Up { generation: u64 },
    /// The WebSocket went down; events are being missed until it is back.
    Down { generation: u64, reason: String },
    /// The result of the reconciliation after connection `generation`.
    Reconciled(Box<Reconciliation>),
    /// The reconciliation could not be done (Asterisk refused or is down); the next reconnect retries.
    ReconciliationFailed { generation: u64, error: AriError },
}

/// Counters of the connection.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    /// Data frames received.
    pub frames: AtomicU64,
    /// Frames parsed into an event (typed or unknown).
    pub parsed: AtomicU64,
    /// Events of an unknown type, or whose fields did not decode (kept raw).
    pub unknown: AtomicU64,
    /// Frames that were not events at all.
    pub malformed: AtomicU64,
    /// Reconnections after the first connection.
    pub reconnects: AtomicU64,
    /// Failed connection attempts.
    pub connect_failures: AtomicU64,
    /// Peers dropped for silence.
    pub silent_peers: AtomicU64,
    /// Stalls detected (late pongs) on connections that stayed up.
    pub stalls: AtomicU64,
    /// Unknown event types already logged at info level (later ones go to debug, so a new Asterisk event
    /// type at thousands per second cannot flood the log).
    logged_unknown_types: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionStatsSnapshot {
    pub frames: u64,
    pub parsed: u64,
    pub unknown: u64,
    pub malformed: u64,
    pub reconnects: u64,
    pub connect_failures: u64,
    pub silent_peers: u64,
    pub stalls: u64,
}

impl ConnectionStats {
    /// A copy of the counters.
    pub fn snapshot(&self) -> ConnectionStatsSnapshot {
        ConnectionStatsSnapshot {
            frames: self.frames.load(Ordering::Relaxed),
            parsed: self.parsed.load(Ordering::Relaxed),
            unknown: self.unknown.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            connect_failures: self.connect_failures.load(Ordering::Relaxed),
            silent_peers: self.silent_peers.load(Ordering::Relaxed),
            stalls: self.stalls.load(Ordering::Relaxed),
        }
    }
}

/// Parses a frame, counts it, and routes it. Shared by the connection and the benchmark so the benchmark
/// measures the real path.
pub fn handle_frame(frame: &[u8], router: &Router, stats: &ConnectionStats) {
    stats.frames.fetch_add(1, Ordering::Relaxed);
    match parse_event(frame) {
        Ok(event) => {
            stats.parsed.fetch_add(1, Ordering::Relaxed);
            if let Event::Unknown(unknown) = &event {
                stats.unknown.fetch_add(1, Ordering::Relaxed);
                match &unknown.decode_error {
                    Some(error) => tracing::warn!(
                        event_type = %unknown.event_type,
                        %error,
                        "event did not decode; kept as raw JSON"
                    ),
                    None => {
                        let first = stats
                            .logged_unknown_types
                            .lock()
                            .map(|mut seen| {
                                seen.len() < MAX_LOGGED_UNKNOWN_TYPES
                                    && seen.insert(unknown.event_type.clone())
                            })
                            .unwrap_or(false);
                        if first {
                            tracing::info!(
                                event_type = %unknown.event_type,
                                "unknown event type; kept as raw JSON (logged once per type)"
                            );
                        } else {
                            tracing::debug!(event_type = %unknown.event_type, "unknown event type");
                        }
                    }
                }
            }
            router.route(event);
        }
        Err(error) => {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            let shown = &frame[..frame.len().min(200)];
            tracing::warn!(
                %error,
                frame = %String::from_utf8_lossy(shown),
                "malformed ARI frame dropped"
            );
        }
    }
}

/// The running event connection. Dropping it does not stop it: cancel the token given to
/// [`Connection::spawn`], then [`Connection::join`].
#[derive(Debug)]
pub struct Connection {
    state: watch::Receiver<ConnectionState>,
    stats: Arc<ConnectionStats>,
    task: JoinHandle<()>,
}

impl Connection {
    /// Starts the connection task: connect, read, reconnect, until `cancel` fires.
    pub fn spawn(
        client: Client,
        router: Router,
        config: ConnectionConfig,
        cancel: CancellationToken,
    ) -> Self {
        let (state_tx, state_rx) = watch::channel(ConnectionState::Connecting { attempt: 0 });
        let stats = Arc::new(ConnectionStats::default());
        let worker = Worker {
            client,
            router,
            config: config.sane(),
            cancel,
            state: state_tx,
            stats: stats.clone(),
        };
        let task = tokio::spawn(worker.run());
        Self {
            state: state_rx,
            stats,
            task,
        }
    }

    /// The connection state, to watch (e.g. for /health).
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// The counters.
    pub fn stats(&self) -> ConnectionStatsSnapshot {
        self.stats.snapshot()
    }

    /// The live counters (shared).
    pub fn stats_handle(&self) -> Arc<ConnectionStats> {
        self.stats.clone()
    }

    /// Waits for the task to end (after the cancel token fired).
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "ARI connection task ended abnormally");
        }
    }
}

/// Why a session (one WebSocket connection) ended.
enum SessionEnd {
    Cancelled,
    Closed(String),
    Silent,
    Failed(String),
}

struct Worker {
    client: Client,
    router: Router,
    config: ConnectionConfig,
    cancel: CancellationToken,
    state: watch::Sender<ConnectionState>,
    stats: Arc<ConnectionStats>,
}

impl Worker {
    async fn run(self) {
        let mut attempt: u32 = 0;
        let mut generation: u64 = 0;
        loop {
            if self.cancel.is_cancelled() {
                break;
            }
            self.state
                .send_replace(ConnectionState::Connecting { attempt });
            let reason = match self.connect().await {
                Ok(ws) => {
                    generation += 1;
                    if generation > 1 {
                        self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!(app = %self.config.app, generation, "ARI events connected");
                    self.state
                        .send_replace(ConnectionState::Connected { generation });
                    self.router
                        .send_control(ControlEvent::Connection(ConnectionEvent::Up { generation }));
                    self.spawn_reconciliation(generation, false);
                    let heard_before = self.stats.frames.load(Ordering::Relaxed);
                    let end = self.session(ws, generation).await;
                    // A session that carried events was a good connection: start backing off afresh.
                    if self.stats.frames.load(Ordering::Relaxed) > heard_before {
                        attempt = 0;
                    }
                    let reason = match end {
                        SessionEnd::Cancelled => break,
                        SessionEnd::Closed(r) => format!("closed by Asterisk: {r}"),
                        SessionEnd::Silent => {
                            self.stats.silent_peers.fetch_add(1, Ordering::Relaxed);
                            format!("no frame from Asterisk for {:?}", self.config.idle_timeout)
                        }
                        SessionEnd::Failed(r) => r,
                    };
                    tracing::warn!(app = %self.config.app, generation, %reason, "ARI events disconnected");
                    self.router
                        .send_control(ControlEvent::Connection(ConnectionEvent::Down {
                            generation,
                            reason: reason.clone(),
                        }));
                    reason
                }
                Err(reason) => {
                    self.stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(app = %self.config.app, attempt, %reason, "ARI events connect failed");
                    reason
                }
            };
            attempt = attempt.saturating_add(1);
            let retry_in = self.config.backoff(attempt);
            self.state.send_replace(ConnectionState::Disconnected {
                reason,
                attempt,
                retry_in,
            });
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep(retry_in) => {}
            }
        }
        self.state.send_replace(ConnectionState::Stopped);
        tracing::info!(app = %self.config.app, "ARI events connection stopped");
    }

    /// The WebSocket URL (no credentials: they go in the `Authorization` header).
    fn events_url(&self) -> Result<url::Url, String> {
        let mut url = url::Url::parse(self.client.base_url())
            .map_err(|e| format!("bad ARI base URL: {e}"))?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| "cannot make a WebSocket URL from the ARI base URL".to_owned())?;
        url.path_segments_mut()
            .map_err(|()| "ARI base URL cannot have a path".to_owned())?
            .pop_if_empty()
            .push("events");
        url.query_pairs_mut()
            .append_pair("app", &self.config.app)
            .append_pair("subscribeAll", "false");
        Ok(url)
    }

    async fn connect(
        &self,
    ) -> Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        String,
    > {
        let url = self.events_url()?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad WebSocket request: {e}"))?;
        let mut authorization =
            http::HeaderValue::from_str(self.client.credentials().basic_authorization().expose())
                .map_err(|_| "the ARI credentials cannot go in an HTTP header".to_owned())?;
        authorization.set_sensitive(true);
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, authorization);
        let handshake = tokio_tungstenite::connect_async(request);
        tokio::select! {
            _ = self.cancel.cancelled() => Err("cancelled".to_owned()),
            res = tokio::time::timeout(self.config.connect_timeout, handshake) => match res {
                Err(_) => Err(format!("no handshake within {:?}", self.config.connect_timeout)),
                // tungstenite's errors name no URL, so no credentials leak here.
                Ok(Err(e)) => Err(format!("WebSocket connect failed: {e}")),
                Ok(Ok((ws, _response))) => Ok(ws),
            }
        }
    }

    async fn session(
        &self,
        ws: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        generation: u64,
    ) -> SessionEnd {
        let (mut sink, mut stream) = ws.split();
        // When the ping awaiting its pong went out. A pong later than `stall_after` means the peer
        // stalled: it sent nothing meanwhile, and what it should have sent may be lost.
        let mut ping_out: Option<Instant> = None;
        // The first ping goes out at once: a peer that is stalled as the connection opens (a hung
        // Asterisk that still accepts connections) answers it late, and the stall is noticed then
        // rather than one interval later, after events of it are gone unnoticed.
        let mut ping = tokio::time::interval(self.config.ping_interval);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        // One timer for the whole session, re-armed only when it fires (not per frame): when it fires, the
        // peer is silent unless something was heard since it was armed.
        let silence = tokio::time::sleep(self.config.idle_timeout);
        tokio::pin!(silence);
        let mut routed_since_yield = 0u32;
        loop {
            if routed_since_yield >= FRAMES_PER_YIELD {
                routed_since_yield = 0;
                tokio::task::yield_now().await;
            }
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(None))).await;
                    return SessionEnd::Cancelled;
                }
                // Cancel-safe: a frame not yet complete stays buffered in the stream.
                msg = stream.next() => {
                    last_heard = Instant::now();
                    match msg {
                        Some(Ok(Message::Text(text))) => {
                            handle_frame(text.as_bytes(), &self.router, &self.stats);
                            routed_since_yield += 1;
                        }
                        Some(Ok(Message::Binary(bytes))) => {
                            handle_frame(&bytes, &self.router, &self.stats);
                            routed_since_yield += 1;
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let reason = frame.map(|f| format!("{} {}", f.code, f.reason)).unwrap_or_default();
                            return SessionEnd::Closed(reason);
                        }
                        Some(Ok(Message::Pong(_))) => {
                            if ping_out.take().is_some_and(|at| at.elapsed() > self.config.stall_after) {
                                self.stats.stalls.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!(app = %self.config.app, generation, "Asterisk stalled (a late pong): calls re-read their state");
                                self.spawn_reconciliation(generation, true);
                            }
                        }
                        Some(Ok(Message::Ping(_) | Message::Frame(_))) => {}
                        Some(Err(e)) => return SessionEnd::Failed(format!("WebSocket error: {e}")),
                        None => return SessionEnd::Closed("stream ended".to_owned()),
                    }
                }
                _ = ping.tick() => {
                    let sent = tokio::time::timeout(self.config.ping_interval, sink.send(Message::Ping(Vec::new().into()))).await;
                    match sent {
                        Ok(Ok(())) => {
                            ping_out.get_or_insert_with(Instant::now);
                        }
                        Ok(Err(e)) => return SessionEnd::Failed(format!("ping failed: {e}")),
                        Err(_) => return SessionEnd::Silent,
                    }
                }
                _ = &mut silence => {
                    let deadline = last_heard + self.config.idle_timeout;
                    if deadline <= Instant::now() {
                        return SessionEnd::Silent;
                    }
                    silence.as_mut().reset(deadline);
                }
            }
        }
    }

    fn spawn_reconciliation(&self, generation: u64, after_stall: bool) {
        let client = self.client.clone();
        let router = self.router.clone();
        let app = self.config.app.clone();
        let cancel = self.cancel.clone();
        let concurrency = self.config.reconcile_concurrency.max(1);
        tokio::spawn(async move {
            let work = async {
                // Asterisk registers the application just after the WebSocket upgrade, so right after
                // connecting `GET /applications/{app}` can still say 404: ask again a few times.
                let mut tries = 0u32;
                loop {
                    let mut event =
                        reconcile(&client, &router, &app, generation, concurrency).await;
                    if let ConnectionEvent::Reconciled(r) = &mut event {
                        r.after_stall = after_stall;
                    }
                    match &event {
                        ConnectionEvent::ReconciliationFailed {
                            error: AriError::NotFound { operation, .. },
                            ..
                        } if *operation == crate::ops::APPLICATIONS_GET.name
                            && tries < APP_REGISTRATION_RETRIES =>
                        {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(50) * tries).await;
                        }
                        _ => return event,
                    }
                }
            };
            let event = tokio::select! {
                _ = cancel.cancelled() => return,
                event = work => event,
            };
            router
                .send_control_wait(ControlEvent::Connection(event))
                .await;
        });
    }
}

/// Asks Asterisk what the application owns and compares it with what the router routes.
pub async fn reconcile(
    client: &Client,
    router: &Router,
    app: &str,
    generation: u64,
    concurrency: usize,
) -> ConnectionEvent {
    let application = match client.get_application(app).await {
        Ok(a) => a,
        Err(error) => return ConnectionEvent::ReconciliationFailed { generation, error },
    };
    let lookups =
        futures_util::stream::iter(application.channel_ids.clone().into_iter().map(|id| {
            let client = client.clone();
            async move {
                let result = client.get_channel(&id).await;
                (id, result)
            }
        }))
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut channels = Vec::new();
    let mut vanished = Vec::new();
    for (id, result) in lookups {
        match result {
            Ok(channel) => channels.push(ReconciledChannel {
                routed: router.is_routed(&channel.id),
                channel,
            }),
            Err(e) if e.is_gone() => vanished.push(id),
            Err(error) => return ConnectionEvent::ReconciliationFailed { generation, error },
        }
    }
    let owned: std::collections::HashSet<&str> =
        application.channel_ids.iter().map(String::as_str).collect();
    let mut lost: Vec<String> = router
        .routed_channel_ids()
        .into_iter()
        .filter(|id| !owned.contains(id.as_str()))
        .collect();
    lost.sort_unstable();
    ConnectionEvent::Reconciled(Box::new(Reconciliation {
        generation,
        after_stall: false,
        application,
        channels,
        vanished,
        lost,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let cfg = ConnectionConfig::new("app");
        for attempt in 1..40 {
            let d = cfg.backoff(attempt);
            assert!(d <= cfg.backoff_max, "{attempt}: {d:?}");
            let exp = cfg
                .backoff_initial
                .saturating_mul(1u32 << (attempt - 1).min(20))
                .min(cfg.backoff_max);
            assert!(d >= exp / 2, "{attempt}: {d:?} < {:?}", exp / 2);
        }
        assert!(cfg.backoff(1) <= cfg.backoff_initial);
    }

    #[test]
    fn zero_intervals_are_made_safe() {
        let cfg = ConnectionConfig {
            ping_interval: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            connect_timeout: Duration::ZERO,
            backoff_initial: Duration::ZERO,
            backoff_max: Duration::ZERO,
            reconcile_concurrency: 0,
            ..ConnectionConfig::new("app")
        }
        .sane();
        assert!(cfg.ping_interval >= Duration::from_millis(10));
        assert!(cfg.idle_timeout > cfg.ping_interval);
        assert!(cfg.backoff(5) >= Duration::from_millis(5));
        assert_eq!(cfg.reconcile_concurrency, 1);
    }
}
