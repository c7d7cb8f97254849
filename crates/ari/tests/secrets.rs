//! No ARI secret reaches a log line at any level: the whole process logs at `trace` (its own `tracing`
//! events and, through `tracing-log`, the `log` records of tungstenite and the HTTP stack) into a buffer
//! while the client connects its WebSocket, makes REST requests, is refused, and reconnects; the buffer
//! must not hold the password, nor the `user:password` pair, nor its base64 form. The filter is `trace`
//! plus [`ari::SECRET_SAFE_LOG_DIRECTIVES`], as the binary sets it: without them tungstenite prints the
//! upgrade request's `Authorization` header. Its own test binary, because it installs a global subscriber.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ari::*;
use support::*;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "pw-Zq8#s3cret";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_logged_at_trace_level() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_log::LogTracer::init().unwrap();
    // Everything at trace, plus the directives the binary adds to every filter (src/telemetry.rs).
    let filter = SECRET_SAFE_LOG_DIRECTIVES
        .iter()
        .fold(tracing_subscriber::EnvFilter::new("trace"), |f, d| {
            f.add_directive(d.parse().unwrap())
        });
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();

    let fake = FakeAri::start().await;
    fake.fixed("GET", "/applications/ivr-1100", 200, r#"{"name": "ivr-1100", "channel_ids": [], "bridge_ids": [], "endpoint_ids": [], "device_names": [], "events_allowed": [], "events_disallowed": []}"#);
    fake.fixed(
        "GET",
        "/channels",
        401,
        r#"{"message": "Authentication required"}"#,
    );
    let creds = Credentials::new("helpline", PASSWORD);
    let client = Client::new(ClientConfig::new(fake.base_url(), creds.clone())).unwrap();
    let (router, _out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(
        client.clone(),
        router,
        fast_connection_config(),
        cancel.clone(),
    );
    fake.wait_ws_connections(1).await;
    // A refused REST request logs its error; the WebSocket is dropped and connected again.
    assert!(client.list_channels().await.is_err());
    fake.ws_send(WsCommand::Close);
    fake.wait_ws_connections(2).await;
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(20), conn.join())
        .await
        .unwrap();

    let logged = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logged.lines().count() > 5,
        "the capture saw the connection's log lines: {logged}"
    );
    let basic = creds.basic_authorization();
    let encoded = basic.expose().trim_start_matches("Basic ");
    for secret in [PASSWORD, encoded, &format!("helpline:{PASSWORD}")] {
        assert!(!logged.contains(secret), "{secret:?} was logged:\n{logged}");
    }
}
