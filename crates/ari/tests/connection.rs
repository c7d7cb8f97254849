//! The event WebSocket against a fake ARI over real sockets: events reach per-call mailboxes in order,
//! malformed and unknown frames are counted without stalling the stream, every (re)connect is followed by a
//! reconciliation, a closed or silent peer leads to a reconnect, a burst of frames
//! does not hold back the calls it wakes, and shutdown is clean. Timings use short
//! intervals with generous deadlines (no speed assertions).

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use ari::*;
use support::*;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

fn client(fake: &FakeAri) -> Client {
    Client::new(ClientConfig::new(
        fake.base_url(),
        Credentials::new("helpline", "pw-s3cret"),
    ))
    .unwrap()
}

fn config() -> ConnectionConfig {
    fast_connection_config()
}

async fn next_control(rx: &mut mpsc::Receiver<ControlEvent>) -> ControlEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("control event in time")
        .expect("control channel open")
}

async fn next_connection_event(rx: &mut mpsc::Receiver<ControlEvent>) -> ConnectionEvent {
    match next_control(rx).await {
        ControlEvent::Connection(e) => e,
        other => panic!("unexpected control event {other:?}"),
    }
}

async fn reconciled(rx: &mut mpsc::Receiver<ControlEvent>) -> Reconciliation {
    match next_connection_event(rx).await {
        ConnectionEvent::Reconciled(r) => *r,
        other => panic!("expected a reconciliation, got {other:?}"),
    }
}

#[tokio::test]
async fn events_reach_mailboxes_and_every_connect_is_reconciled() {
    let fake = FakeAri::start().await;
    fake.fixed(
        "GET",
        "/applications/ivr-1100",
        200,
        &app_json("ivr-1100", &["old-1;2", "gone-1"]),
    );
    fake.fixed("GET", "/channels/old-1;2", 200, &channel_json("old-1;2"));
    fake.fixed(
        "GET",
        "/channels/gone-1",
        404,
        r#"{"message": "Channel not found"}"#,
    );
    let (router, mut out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(client(&fake), router.clone(), config(), cancel.clone());

    fake.wait_ws_connections(1).await;
    let query = fake.state.ws_queries.lock().unwrap()[0].clone();
    assert_eq!(query["app"], "ivr-1100");
    assert!(
        !query.contains_key("api_key"),
        "credentials never travel in the URL: {query:?}"
    );
    assert_eq!(
        fake.state.ws_authorizations.lock().unwrap()[0].as_deref(),
        Some("helpline:pw-s3cret"),
        "credentials travel in the upgrade's Authorization header"
    );
    assert_eq!(query["subscribeAll"], "false");

    assert!(matches!(
        next_connection_event(&mut out.control).await,
        ConnectionEvent::Up { generation: 1 }
    ));
    let r = reconciled(&mut out.control).await;
    assert_eq!(r.generation, 1);
    assert_eq!(r.application.name, "ivr-1100");
    assert_eq!(r.channels.len(), 1);
    assert_eq!(r.channels[0].channel.id, "old-1;2");
    assert!(
        !r.channels[0].routed,
        "nobody drives it: the engine decides"
    );
    assert_eq!(r.vanished, ["gone-1"]);
    assert!(r.lost.is_empty());

    fake.push(event_json("StasisStart", "c1;2"));
    fake.push("this is not json");
    fake.push(r#"{"type": "SomethingNew", "application": "ivr-1100", "channel": {"id": "c1;2"}}"#);
    fake.push(r#"{"no_type": true}"#);
    fake.push(event_json("ChannelStateChange", "c1;2"));
    fake.push(event_json("StasisEnd", "c1;2"));

    let mut call = tokio::time::timeout(WAIT, out.new_calls.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.channel.id, "c1;2");
    let mut seen = Vec::new();
    while let Some(e) = tokio::time::timeout(WAIT, call.mailbox.recv())
        .await
        .unwrap()
    {
        seen.push(e.event_type().to_owned());
    }
    assert_eq!(
        seen,
        [
            "StasisStart",
            "SomethingNew",
            "ChannelStateChange",
            "StasisEnd"
        ]
    );
    let stats = conn.stats();
    assert_eq!(stats.frames, 6);
    assert_eq!(stats.parsed, 4);
    assert_eq!(stats.unknown, 1);
    assert_eq!(stats.malformed, 2);
    assert!(conn.state().borrow().is_connected());

    // Nothing printable holds the password.
    let printed = format!(
        "{:?} {:?} {:?}",
        conn,
        *conn.state().borrow(),
        client(&fake)
    );
    assert!(!printed.contains("pw-s3cret"), "{printed}");

    cancel.cancel();
    let mut state = conn.state();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
    assert_eq!(*state.borrow_and_update(), ConnectionState::Stopped);
}

#[tokio::test]
async fn reconnects_after_close_and_reports_lost_calls() {
    let fake = FakeAri::start().await;
    fake.fixed(
        "GET",
        "/applications/ivr-1100",
        200,
        &app_json("ivr-1100", &[]),
    );
    let (router, mut out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(client(&fake), router.clone(), config(), cancel.clone());
    fake.wait_ws_connections(1).await;
    assert!(matches!(
        next_connection_event(&mut out.control).await,
        ConnectionEvent::Up { generation: 1 }
    ));
    reconciled(&mut out.control).await;

    fake.push(event_json("StasisStart", "c1;2"));
    let _call = tokio::time::timeout(WAIT, out.new_calls.recv())
        .await
        .unwrap()
        .unwrap();

    // Asterisk drops the socket; while we are away the call is hung up (no StasisEnd will ever come).
    fake.ws_send(WsCommand::Close);
    match next_connection_event(&mut out.control).await {
        ConnectionEvent::Down {
            generation: 1,
            reason,
        } => assert!(reason.contains("closed"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        next_connection_event(&mut out.control).await,
        ConnectionEvent::Up { generation: 2 }
    ));
    let r = reconciled(&mut out.control).await;
    assert_eq!(r.generation, 2);
    assert_eq!(
        r.lost,
        ["c1;2"],
        "the engine must end the call it still runs"
    );
    assert_eq!(conn.stats().reconnects, 1);

    cancel.cancel();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
}

#[tokio::test]
async fn silent_peer_is_detected_and_replaced() {
    let fake = FakeAri::start().await;
    fake.fixed(
        "GET",
        "/applications/ivr-1100",
        200,
        &app_json("ivr-1100", &[]),
    );
    let (router, mut out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(client(&fake), router, config(), cancel.clone());
    fake.wait_ws_connections(1).await;
    next_connection_event(&mut out.control).await;
    reconciled(&mut out.control).await;

    fake.ws_send(WsCommand::GoSilent);
    match next_connection_event(&mut out.control).await {
        ConnectionEvent::Down { reason, .. } => assert!(reason.contains("no frame"), "{reason}"),
        other => panic!("{other:?}"),
    }
    fake.wait_ws_connections(2).await;
    assert_eq!(conn.stats().silent_peers, 1);
    cancel.cancel();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
}

/// Issue 9.7: a peer silent for less than the idle timeout (a stalled Asterisk, a half-open moment) keeps
/// the connection, but events of the stall may be lost: a late pong starts a reconciliation, so calls
/// re-read their state.
#[tokio::test]
async fn a_stall_shorter_than_the_idle_timeout_is_reconciled_without_reconnecting() {
    let fake = FakeAri::start().await;
    fake.fixed(
        "GET",
        "/applications/ivr-1100",
        200,
        &app_json("ivr-1100", &[]),
    );
    let (router, mut out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(client(&fake), router, config(), cancel.clone());
    fake.wait_ws_connections(1).await;
    next_connection_event(&mut out.control).await;
    assert!(!reconciled(&mut out.control).await.after_stall);

    fake.ws_send(WsCommand::Stall(Duration::from_millis(500)));
    let after = reconciled(&mut out.control).await;
    assert!(after.after_stall, "{after:?}");
    assert_eq!(after.generation, 1, "the same connection");
    let stats = conn.stats();
    assert_eq!(
        (stats.stalls, stats.reconnects, stats.silent_peers),
        (1, 0, 0)
    );
    cancel.cancel();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
}

#[tokio::test]
async fn failed_connects_back_off_and_reconciliation_failure_is_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::new(ClientConfig::new(
        format!("http://127.0.0.1:{port}/ari"),
        Credentials::new("helpline", "pw-s3cret"),
    ))
    .unwrap();
    let (router, _out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(client.clone(), router.clone(), config(), cancel.clone());
    let mut state = conn.state();
    tokio::time::timeout(
        WAIT,
        state.wait_for(
            |s| matches!(s, ConnectionState::Disconnected { attempt, .. } if *attempt >= 3),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let printed = format!("{:?}", *state.borrow());
    assert!(!printed.contains("pw-s3cret"), "{printed}");
    assert!(conn.stats().connect_failures >= 3);

    // A reconciliation against an unreachable Asterisk says so instead of inventing an answer.
    match reconcile(&client, &router, "ivr-1100", 7, 4).await {
        ConnectionEvent::ReconciliationFailed {
            generation: 7,
            error,
        } => assert!(error.is_transient()),
        other => panic!("{other:?}"),
    }
    cancel.cancel();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
}

#[tokio::test]
async fn credentials_with_special_characters_reach_asterisk_intact() {
    let fake = FakeAri::start().await;
    fake.fixed(
        "GET",
        "/applications/ivr 1100&x",
        200,
        &app_json("ivr 1100&x", &[]),
    );
    let client = Client::new(ClientConfig::new(
        fake.base_url(),
        Credentials::new("help line", "p@ss:w/rd&x=1#?"),
    ))
    .unwrap();
    let (router, _out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(
        client,
        router,
        ConnectionConfig {
            app: "ivr 1100&x".into(),
            ..config()
        },
        cancel.clone(),
    );
    fake.wait_ws_connections(1).await;
    let query = fake.state.ws_queries.lock().unwrap()[0].clone();
    assert_eq!(query["app"], "ivr 1100&x");
    assert!(!query.contains_key("api_key"), "{query:?}");
    assert_eq!(
        fake.state.ws_authorizations.lock().unwrap()[0].as_deref(),
        Some("help line:p@ss:w/rd&x=1#?")
    );
    cancel.cancel();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
}

/// A burst of frames already buffered by the reader must not be routed in one go: a call woken by the first
/// frame runs after a few more frames, not after the whole burst (that wait was the engine's p99 tail under
/// load, BENCHMARKS.md). On the single-threaded test runtime the woken call can only run when the reader
/// gives way, so the number of frames routed by then shows how long it held the thread.
#[tokio::test]
async fn a_burst_of_frames_does_not_hold_back_the_calls_it_wakes() {
    const BURST: u64 = 300;
    let fake = FakeAri::start().await;
    fake.fixed(
        "GET",
        "/applications/ivr-1100",
        200,
        &app_json("ivr-1100", &[]),
    );
    let (router, mut out) = Router::new(RouterConfig::default());
    let mut mailbox = router.register_channel("c1;2").unwrap();
    let cancel = CancellationToken::new();
    let conn = Connection::spawn(client(&fake), router.clone(), config(), cancel.clone());
    fake.wait_ws_connections(1).await;
    assert_eq!(reconciled_after_up(&mut out.control).await.generation, 1);

    let stats = conn.stats_handle();
    let woken = tokio::spawn(async move {
        let event = mailbox.recv().await.expect("an event for the call");
        (
            event.event_type().to_owned(),
            stats.frames.load(std::sync::atomic::Ordering::Relaxed),
        )
    });
    // Written back to back and flushed once, so the reader finds many frames in one read.
    let mut burst = vec![event_json("ChannelStateChange", "c1;2")];
    burst.extend((1..BURST).map(|n| event_json("ChannelStateChange", &format!("nobody-{n}"))));
    fake.ws_send(WsCommand::Burst(burst));
    let (event_type, frames_when_woken) = tokio::time::timeout(WAIT, woken).await.unwrap().unwrap();
    assert_eq!(event_type, "ChannelStateChange");
    assert!(
        frames_when_woken <= 16,
        "the call ran only after {frames_when_woken} of {BURST} frames were routed"
    );
    // The rest of the burst is still read and routed.
    eventually(WAIT, "the whole burst read and routed", || async {
        let frames = conn.stats().frames;
        if frames >= BURST {
            Ok(())
        } else {
            Err(format!("{frames} of {BURST} frames"))
        }
    })
    .await;
    cancel.cancel();
    tokio::time::timeout(WAIT, conn.join()).await.unwrap();
}

async fn reconciled_after_up(rx: &mut mpsc::Receiver<ControlEvent>) -> Reconciliation {
    assert!(matches!(
        next_connection_event(rx).await,
        ConnectionEvent::Up { generation: 1 }
    ));
    reconciled(rx).await
}
