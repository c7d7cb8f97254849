//! A small fake ARI server for the client's tests: records every REST request and answers from a script;
//! serves `/ari/events` as a WebSocket the test can push frames into, close, or make go silent. It is not a
//! simulator (that is `ari-sim`); it only lets these tests see exactly what the client sends. And
//! [`eventually`], the one way these tests wait for what the connection's task does.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{mpsc, watch};

#[allow(unused_imports)] // not every test file waits
pub use testkit::eventually;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Raw (still percent-encoded) path.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub authorization: Option<String>,
}

impl Recorded {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

pub enum WsCommand {
    Text(String),
    /// Frames written back to back and flushed once, so they reach the reader as one burst.
    Burst(Vec<String>),
    Close,
    GoSilent,
    /// Neither read nor write for this long (no pongs, events dropped), then carry on: a stalled Asterisk.
    Stall(Duration),
}

#[derive(Default)]
pub struct FakeState {
    pub requests: Mutex<Vec<Recorded>>,
    replies: Mutex<VecDeque<Reply>>,
    /// Routes answered the same way every time (method + path), for background calls such as reconciliation.
    fixed: Mutex<HashMap<(String, String), Reply>>,
    pub ws_queries: Mutex<Vec<HashMap<String, String>>>,
    /// The `Authorization` header of each WebSocket upgrade, decoded (`user:password`), if any.
    pub ws_authorizations: Mutex<Vec<Option<String>>>,
    ws_commands: Mutex<Option<mpsc::UnboundedSender<WsCommand>>>,
    ws_count: Mutex<Option<watch::Sender<usize>>>,
}

pub struct FakeAri {
    pub addr: SocketAddr,
    pub state: Arc<FakeState>,
    ws_count: watch::Receiver<usize>,
}

impl FakeAri {
    pub async fn start() -> Self {
        let (count_tx, count_rx) = watch::channel(0usize);
        let state = Arc::new(FakeState::default());
        *state.ws_count.lock().unwrap() = Some(count_tx);
        let app = axum::Router::new()
            .route("/ari/events", get(events))
            .fallback(any)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            state,
            ws_count: count_rx,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/ari", self.addr)
    }

    /// The next REST reply.
    pub fn reply(&self, status: u16, body: &str) {
        self.reply_after(status, body, Duration::ZERO);
    }

    pub fn reply_after(&self, status: u16, body: &str, delay: Duration) {
        self.state.replies.lock().unwrap().push_back(Reply {
            status,
            body: body.to_owned(),
            delay,
        });
    }

    /// Always answer `method path` like this (takes precedence over the queue).
    pub fn fixed(&self, method: &str, path: &str, status: u16, body: &str) {
        self.state.fixed.lock().unwrap().insert(
            (method.to_owned(), path.to_owned()),
            Reply {
                status,
                body: body.to_owned(),
                delay: Duration::ZERO,
            },
        );
    }

    pub fn last(&self) -> Recorded {
        self.state.requests.lock().unwrap().last().cloned().unwrap()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits until `n` WebSocket connections have been accepted in total.
    pub async fn wait_ws_connections(&self, n: usize) {
        let mut rx = self.ws_count.clone();
        tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|c| *c >= n))
            .await
            .expect("WebSocket connection in time")
            .unwrap();
    }

    pub fn ws_send(&self, cmd: WsCommand) {
        let guard = self.state.ws_commands.lock().unwrap();
        guard
            .as_ref()
            .expect("a WebSocket is connected")
            .send(cmd)
            .ok();
    }

    pub fn push(&self, frame: impl Into<String>) {
        self.ws_send(WsCommand::Text(frame.into()));
    }
}

async fn any(
    State(state): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let path = uri.path().trim_start_matches("/ari").to_owned();
    state.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query,
        body: serde_json::from_slice(&body).ok(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    let fixed = state
        .fixed
        .lock()
        .unwrap()
        .get(&(method.to_string(), path))
        .cloned();
    let reply = fixed
        .or_else(|| state.replies.lock().unwrap().pop_front())
        .unwrap_or(Reply {
            status: 204,
            body: String::new(),
            delay: Duration::ZERO,
        });
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap();
    if reply.body.is_empty() {
        status.into_response()
    } else {
        (status, [("content-type", "application/json")], reply.body).into_response()
    }
}

async fn events(
    State(state): State<Arc<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    state.ws_queries.lock().unwrap().push(query);
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok());
    state.ws_authorizations.lock().unwrap().push(authorization);
    upgrade.on_upgrade(move |socket| serve_ws(state, socket))
}

async fn serve_ws(state: Arc<FakeState>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    *state.ws_commands.lock().unwrap() = Some(tx);
    if let Some(count) = state.ws_count.lock().unwrap().as_ref() {
        count.send_modify(|c| *c += 1);
    }
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(WsCommand::Text(t)) => {
                    if socket.send(Message::Text(t.into())).await.is_err() {
                        return;
                    }
                }
                Some(WsCommand::Burst(frames)) => {
                    for t in frames {
                        if futures_util::SinkExt::feed(&mut socket, Message::Text(t.into())).await.is_err() {
                            return;
                        }
                    }
                    if futures_util::SinkExt::flush(&mut socket).await.is_err() {
                        return;
                    }
                }
                Some(WsCommand::Close) | None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Some(WsCommand::Stall(pause)) => {
                    tokio::time::sleep(pause).await;
                }
                Some(WsCommand::GoSilent) => {
                    // Hold the socket without reading it: no pongs, no events, like a hung Asterisk. Released
                    // when the client gives up and closes its end (the read then fails).
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
            },
            msg = socket.recv() => match msg {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

pub const TS: &str = "2026-11-29T02:59:43.256+0000";

pub fn channel_json(id: &str) -> String {
    format!(
        r#"{{"id": "{id}", "name": "Local/1100@from-citizens-00000024;2", "state": "Up", "protocol_id": "", "caller": {{"name": "Citizen", "number": "9816000001"}}, "connected": {{"name": "", "number": ""}}, "accountcode": "", "dialplan": {{"context": "from-citizens", "exten": "1100", "priority": 2, "app_name": "Stasis", "app_data": "ivr-1100"}}, "creationtime": "{TS}", "language": "hi"}}"#
    )
}

pub fn event_json(kind: &str, channel_id: &str) -> String {
    format!(
        r#"{{"type": "{kind}", "timestamp": "{TS}", "args": [], "channel": {}, "asterisk_id": "02:fc:00:00:00:01", "application": "ivr-1100"}}"#,
        channel_json(channel_id)
    )
}

pub const BRIDGE_JSON: &str = r#"{"id": "br-1", "technology": "simple_bridge", "bridge_type": "mixing", "bridge_class": "stasis", "creator": "Stasis", "name": "call", "channels": [], "creationtime": "2026-11-29T02:59:43.256+0000", "video_mode": "none"}"#;
pub const PLAYBACK_JSON: &str = r#"{"id": "pb-1", "media_uri": "sound:hello-world", "target_uri": "channel:c1", "language": "en", "state": "queued"}"#;
pub const LIVE_RECORDING_JSON: &str =
    r#"{"name": "rec-1", "format": "wav", "target_uri": "channel:c1", "state": "queued"}"#;
pub const STORED_JSON: &str = r#"{"name": "rec-1", "format": "wav"}"#;
pub const ENDPOINT_JSON: &str =
    r#"{"technology": "PJSIP", "resource": "agent-101", "state": "online", "channel_ids": []}"#;
pub const SOUND_JSON: &str = r#"{"id": "hello-world", "text": "Hello world", "formats": [{"language": "en", "format": "gsm"}]}"#;
pub const INFO_JSON: &str = r#"{"system": {"version": "22.10.1", "entity_id": "02:fc:00:00:00:01"}, "config": {"name": "", "default_language": "en", "setid": {"user": "", "group": ""}}}"#;
pub const PING_JSON: &str = r#"{"asterisk_id": "02:fc:00:00:00:01", "ping": "pong", "timestamp": "2026-11-29T02:59:43.256+0000"}"#;

pub fn app_json(name: &str, channels: &[&str]) -> String {
    format!(
        r#"{{"name": "{name}", "channel_ids": {}, "bridge_ids": [], "endpoint_ids": [], "device_names": [], "events_allowed": [], "events_disallowed": []}}"#,
        serde_json::to_string(channels).unwrap()
    )
}

/// A connection config with short intervals, so reconnects and silence detection happen quickly in tests.
pub fn fast_connection_config() -> ari::ConnectionConfig {
    ari::ConnectionConfig {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(800),
        stall_after: Duration::from_millis(250),
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..ari::ConnectionConfig::new("ivr-1100")
    }
}
