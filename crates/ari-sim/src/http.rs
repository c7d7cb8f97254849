//! The HTTP edge: ARI REST under `/ari/...` (basic auth or `api_key=user:pass`), the ARI WebSocket
//! `/ari/events`, and the simulator's own control API under `/sim/...`. It authenticates, applies the REST
//! faults, parses parameters, and hands everything to the model; it never holds model state itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::model::{Command, ReplyBody, RestRequest, WsOut};
use crate::{Control, EndpointConfig, Fault, Scenario, SimConfig, SimError};

#[derive(Clone)]
struct AppState {
    config: Arc<SimConfig>,
    control: Control,
}

/// The whole HTTP surface.
pub(crate) fn router(config: Arc<SimConfig>, control: Control) -> Router {
    let state = AppState { config, control };
    let sim = Router::new()
        .route("/sim/calls", post(place_call).get(list_calls))
        .route("/sim/calls/{id}", get(get_call))
        .route("/sim/faults", post(inject_fault))
        .route("/sim/restart", post(restart))
        .route("/sim/stats", get(stats))
        .route("/sim/endpoints", post(set_endpoint).get(list_endpoints))
        .route(
            "/sim/endpoints/{technology}/{resource}",
            axum::routing::delete(remove_endpoint),
        )
        .route("/sim/invites", get(list_invites))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            sim_auth,
        ));
    Router::new()
        .route("/ari/events", get(events))
        .route("/ari/{*rest}", axum::routing::any(ari_rest))
        .merge(sim)
        .with_state(state)
}

fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn unauthorized() -> Response {
    let mut response = json_response(401, json!({"message": "Authentication required"}));
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Asterisk REST Interface\""),
    );
    response
}

/// Basic auth or `api_key=user:pass`, as Asterisk accepts.
fn authorized(config: &SimConfig, headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
    let expected = format!("{}:{}", config.username, config.password);
    if let Some(key) = query.get("api_key") {
        return *key == expected;
    }
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| pair == expected)
}

fn parse_query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Path segments keep `+` (only the query uses it for spaces).
fn decode_segment(segment: &str) -> String {
    percent_decode(&segment.replace('+', "%2B"))
}

async fn ari_rest(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = parse_query(&uri);
    if !authorized(&state.config, &headers, &params) {
        return unauthorized();
    }
    params.remove("api_key");
    let delay = state.control.faults.rest_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let errors = &state.control.faults.rest_errors;
    let failing = errors
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
            0 => None,
            u32::MAX => Some(u32::MAX),
            n => Some(n - 1),
        })
        .is_ok();
    if failing {
        return json_response(500, json!({"message": "Internal Server Error"}));
    }
    // Asterisk also takes parameters as a JSON object body; `variables` stays a body field.
    let mut json_body = None;
    if !body.is_empty() {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(fields)) => {
                for (k, v) in &fields {
                    if k == "variables" {
                        continue;
                    }
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    params.entry(k.clone()).or_insert(text);
                }
                json_body = Some(Value::Object(fields));
            }
            Ok(_) | Err(_) => {
                return json_response(
                    400,
                    json!({"message": "Request body must be a JSON object"}),
                );
            }
        }
    }
    let path = uri.path().strip_prefix("/ari/").unwrap_or_default();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_segment)
        .collect();
    let request = RestRequest {
        method: method.as_str().to_owned(),
        segments,
        params,
        body: json_body,
    };
    let (tx, rx) = oneshot::channel();
    if state
        .control
        .commands
        .send(Command::Rest { request, reply: tx })
        .await
        .is_err()
    {
        return json_response(503, json!({"message": "Simulator is shutting down"}));
    }
    let Ok(reply) = rx.await else {
        return json_response(503, json!({"message": "Simulator is shutting down"}));
    };
    match reply.body {
        ReplyBody::Json(value) => json_response(reply.status, value),
        ReplyBody::Empty => StatusCode::from_u16(reply.status)
            .unwrap_or(StatusCode::NO_CONTENT)
            .into_response(),
        ReplyBody::File(path) => match tokio::fs::read(&path).await {
            Ok(bytes) => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "audio/wav")
                .body(Body::from(bytes))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
            Err(_) => json_response(404, json!({"message": "Recording not found"})),
        },
    }
}

async fn events(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let params = parse_query(&uri);
    if !authorized(&state.config, &headers, &params) {
        return unauthorized();
    }
    let apps: Vec<String> = params
        .get("app")
        .map(|a| {
            a.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if apps.is_empty() {
        return json_response(400, json!({"message": "Missing parameter app"}));
    }
    let subscribe_all = params.get("subscribeAll").is_some_and(|v| v == "true");
    // The apps are registered before the upgrade completes, as Asterisk does: a call that arrives right
    // after the client sees the handshake finds its app; events meanwhile wait in the connection's queue.
    let (tx, rx) = mpsc::channel(state.config.ws_buffer);
    let (reply, registered) = oneshot::channel();
    let connect = Command::Connect {
        apps,
        subscribe_all,
        tx,
        reply,
    };
    if state.control.commands.send(connect).await.is_err() {
        return json_response(503, json!({"message": "Simulator is shutting down"}));
    }
    let Ok(conn) = registered.await else {
        return json_response(503, json!({"message": "Simulator is shutting down"}));
    };
    let commands = state.control.commands.clone();
    upgrade
        .on_failed_upgrade(move |_| {
            let _ = commands.try_send(Command::Disconnect { conn });
        })
        .on_upgrade(move |socket| websocket(socket, state, conn, rx))
}

/// One ARI WebSocket: writes the events the model queues for its apps, until either side closes it.
async fn websocket(
    socket: WebSocket,
    state: AppState,
    conn: crate::model::ConnId,
    mut rx: mpsc::Receiver<WsOut>,
) {
    let mut silent = state.control.faults.silent.subscribe();
    let (mut sink, mut stream) = socket.split();
    loop {
        let is_silent = *silent.borrow_and_update();
        tokio::select! {
            out = rx.recv() => match out {
                Some(WsOut::Event(text)) => {
                    if !is_silent && sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsOut::Close) | None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            },
            // While silent the socket is not read, so pings go unanswered, like a hung Asterisk.
            incoming = stream.next(), if !is_silent => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            changed = silent.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    let _ = state
        .control
        .commands
        .send(Command::Disconnect { conn })
        .await;
}

fn sim_error(e: &SimError) -> Response {
    let status = match e {
        SimError::UnknownCall(_) => 404,
        SimError::Scenario(_) | SimError::Config(_) => 400,
        SimError::CallTimeout(_) => 202,
        _ => 503,
    };
    json_response(status, json!({"message": e.to_string()}))
}

/// `status` with the value as JSON, or the error's answer.
fn sim_reply<T: serde::Serialize>(status: u16, result: Result<T, SimError>) -> Response {
    match result {
        Ok(value) => json_response(status, json!(value)),
        Err(e) => sim_error(&e),
    }
}

/// `204`, or the error's answer.
fn sim_done(result: Result<(), SimError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => sim_error(&e),
    }
}

/// A `/sim` request body read as `T`, or the `400` text naming what is wrong with it.
fn sim_body<T: serde::de::DeserializeOwned>(what: &str, body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid {what}: {e}"))
}

/// Every `/sim` request is authenticated as ARI's are (basic auth or `api_key=user:pass`).
async fn sim_auth(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !authorized(
        &state.config,
        request.headers(),
        &parse_query(request.uri()),
    ) {
        return unauthorized();
    }
    next.run(request).await
}

async fn place_call(State(state): State<AppState>, body: Bytes) -> Response {
    let scenario = match std::str::from_utf8(&body)
        .map_err(|e| SimError::Scenario(e.to_string()))
        .and_then(Scenario::from_json)
    {
        Ok(s) => s,
        Err(e) => return sim_error(&e),
    };
    match state.control.place_call(scenario).await {
        Ok(id) => json_response(201, json!({"call_id": id})),
        Err(e) => sim_error(&e),
    }
}

async fn list_calls(State(state): State<AppState>, uri: Uri) -> Response {
    let take = parse_query(&uri).get("take").is_some_and(|t| t == "true");
    match (
        state.control.results(take).await,
        state.control.stats().await,
    ) {
        (Ok(results), Ok(stats)) => json_response(
            200,
            json!({"active": stats.calls_active, "results": results}),
        ),
        (Err(e), _) | (_, Err(e)) => sim_error(&e),
    }
}

async fn get_call(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let wait = match query.get("wait_ms").map(|w| w.parse::<u64>()) {
        None => 0,
        Some(Ok(ms)) => ms.min(600_000),
        Some(Err(_)) => {
            return json_response(400, json!({"message": "wait_ms must be an integer"}));
        }
    };
    match state
        .control
        .call_result(id, Duration::from_millis(wait.max(1)))
        .await
    {
        Ok(result) => json_response(200, json!(result)),
        Err(SimError::CallTimeout(_)) => {
            json_response(202, json!({"call_id": id, "status": "running"}))
        }
        Err(e) => sim_error(&e),
    }
}

async fn inject_fault(State(state): State<AppState>, body: Bytes) -> Response {
    match sim_body::<Fault>("fault", &body) {
        Ok(fault) => sim_done(state.control.inject(fault).await),
        Err(message) => json_response(400, json!({ "message": message })),
    }
}

async fn restart(State(state): State<AppState>) -> Response {
    sim_done(state.control.inject(Fault::Restart).await)
}

async fn stats(State(state): State<AppState>) -> Response {
    sim_reply(200, state.control.stats().await)
}

async fn set_endpoint(State(state): State<AppState>, body: Bytes) -> Response {
    match sim_body::<EndpointConfig>("endpoint", &body) {
        Ok(endpoint) => sim_done(state.control.set_endpoint(endpoint).await),
        Err(message) => json_response(400, json!({ "message": message })),
    }
}

async fn list_endpoints(State(state): State<AppState>) -> Response {
    sim_reply(200, state.control.endpoints().await)
}

async fn remove_endpoint(
    State(state): State<AppState>,
    Path((technology, resource)): Path<(String, String)>,
) -> Response {
    match state.control.remove_endpoint(&technology, &resource).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => json_response(404, json!({"message": "Endpoint not found"})),
        Err(e) => sim_error(&e),
    }
}

async fn list_invites(State(state): State<AppState>) -> Response {
    sim_reply(200, state.control.invites().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("caller-1%3B2"), "caller-1;2");
        assert_eq!(
            percent_decode("%22Citizen%22+%3C981%3E"),
            "\"Citizen\" <981>"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(decode_segment("a+b"), "a+b");
    }
}
