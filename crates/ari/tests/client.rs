//! The REST client against a fake ARI server over real sockets: every operation sends the method, path and
//! parameters the spec names (and together they cover the whole operation table), replies decode into the
//! typed models, and every error path gives the typed error with Asterisk's message.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use ari::ops::OPERATIONS;
use ari::*;
use support::*;

fn client(fake: &FakeAri) -> Client {
    Client::new(ClientConfig {
        base_url: fake.base_url(),
        credentials: Credentials::new("helpline", "pw-s3cret"),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn assert_request(r: &Recorded, method: &str, path: &str, query: &[(&str, &str)]) {
    assert_eq!(r.method, method, "{r:?}");
    assert_eq!(r.path, path, "{r:?}");
    let got: HashMap<&str, &str> = r
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let want: HashMap<&str, &str> = query.iter().copied().collect();
    assert_eq!(got, want, "{method} {path}");
}

#[tokio::test]
async fn every_operation_sends_what_the_spec_names() {
    let fake = FakeAri::start().await;
    let c = client(&fake);
    let ch = "caller-1;2";

    // ---- channels ----
    fake.reply(200, &format!("[{}]", channel_json("a")));
    assert_eq!(c.list_channels().await.unwrap()[0].id, "a");
    assert_request(&fake.last(), "GET", "/channels", &[]);

    fake.reply(200, &channel_json(ch));
    let got = c.get_channel(ch).await.unwrap();
    assert_eq!(got.state, ChannelState::Up);
    assert_request(&fake.last(), "GET", "/channels/caller-1;2", &[]);

    fake.reply(200, &channel_json("agent-7"));
    let mut originate = Originate {
        channel_id: "agent-7".into(),
        endpoint: "PJSIP/agent-101".into(),
        app: Some("ivr-1100".into()),
        app_args: Some("agent,caller-1;2".into()),
        caller_id: Some("\"1100\" <1100>".into()),
        timeout_secs: Some(20),
        other_channel_id: Some("agent-7b".into()),
        originator: Some(ch.into()),
        ..Originate::default()
    };
    originate
        .variables
        .insert("HELPLINE_CALL".into(), "c-1".into());
    c.originate(&originate).await.unwrap();
    let r = fake.last();
    assert_request(
        &r,
        "POST",
        "/channels/agent-7",
        &[
            ("endpoint", "PJSIP/agent-101"),
            ("app", "ivr-1100"),
            ("appArgs", "agent,caller-1;2"),
            ("callerId", "\"1100\" <1100>"),
            ("timeout", "20"),
            ("otherChannelId", "agent-7b"),
            ("originator", ch),
        ],
    );
    assert_eq!(
        r.body.unwrap()["variables"]["HELPLINE_CALL"],
        serde_json::json!("c-1")
    );

    fake.reply(200, &channel_json("out-1"));
    c.originate(&Originate {
        channel_id: "out-1".into(),
        endpoint: "Local/s@after-ivr".into(),
        dialplan: Some(DialplanTarget {
            context: Some("after-ivr".into()),
            extension: Some("s".into()),
            priority: Some(1),
            label: None,
        }),
        ..Originate::default()
    })
    .await
    .unwrap();
    let r = fake.last();
    assert_request(
        &r,
        "POST",
        "/channels/out-1",
        &[
            ("endpoint", "Local/s@after-ivr"),
            ("context", "after-ivr"),
            ("extension", "s"),
            ("priority", "1"),
        ],
    );
    assert!(r.body.is_none(), "no variables, no body");

    c.answer(ch).await.unwrap();
    assert_request(&fake.last(), "POST", "/channels/caller-1;2/answer", &[]);
    c.ring(ch).await.unwrap();
    assert_request(&fake.last(), "POST", "/channels/caller-1;2/ring", &[]);
    c.ring_stop(ch).await.unwrap();
    assert_request(&fake.last(), "DELETE", "/channels/caller-1;2/ring", &[]);
    c.hangup(ch, Some(HangupReason::Normal)).await.unwrap();
    assert_request(
        &fake.last(),
        "DELETE",
        "/channels/caller-1;2",
        &[("reason", "normal")],
    );
    c.hangup(ch, None).await.unwrap();
    assert_request(&fake.last(), "DELETE", "/channels/caller-1;2", &[]);

    fake.reply(201, PLAYBACK_JSON);
    let pb = c
        .play(
            ch,
            "pb-1",
            &[
                Media::Sound("helpline/welcome".into()),
                Media::Digits("20261129".into()),
                Media::Number(42),
                Media::Characters("HP".into()),
                Media::Recording("rec-1".into()),
                Media::Tone("beep".into()),
            ],
            Some("hi"),
        )
        .await
        .unwrap();
    assert_eq!(pb.state, PlaybackState::Queued);
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/play/pb-1",
        &[
            (
                "media",
                "sound:helpline/welcome,digits:20261129,number:42,characters:HP,recording:rec-1,tone:beep",
            ),
            ("lang", "hi"),
        ],
    );

    fake.reply(201, LIVE_RECORDING_JSON);
    let rec = c
        .record(
            ch,
            &RecordParams {
                name: "complaint-1".into(),
                format: "wav".into(),
                max_duration_secs: Some(120),
                max_silence_secs: Some(4),
                if_exists: Some(IfExists::Fail),
                beep: Some(true),
                terminate_on: Some(TerminateOn::Hash),
            },
        )
        .await
        .unwrap();
    assert_eq!(rec.state, RecordingState::Queued);
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/record",
        &[
            ("name", "complaint-1"),
            ("format", "wav"),
            ("maxDurationSeconds", "120"),
            ("maxSilenceSeconds", "4"),
            ("ifExists", "fail"),
            ("beep", "true"),
            ("terminateOn", "#"),
        ],
    );

    c.send_dtmf(
        ch,
        &SendDtmf {
            dtmf: "12#".into(),
            before_ms: Some(10),
            between_ms: Some(100),
            duration_ms: Some(120),
            after_ms: Some(20),
        },
    )
    .await
    .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/dtmf",
        &[
            ("dtmf", "12#"),
            ("before", "10"),
            ("between", "100"),
            ("duration", "120"),
            ("after", "20"),
        ],
    );

    c.continue_in_dialplan(
        ch,
        &DialplanTarget {
            context: Some("after-ivr".into()),
            extension: Some("s".into()),
            priority: Some(1),
            label: Some("start".into()),
        },
    )
    .await
    .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/continue",
        &[
            ("context", "after-ivr"),
            ("extension", "s"),
            ("priority", "1"),
            ("label", "start"),
        ],
    );
    c.continue_in_dialplan(ch, &DialplanTarget::default())
        .await
        .unwrap();
    assert_request(&fake.last(), "POST", "/channels/caller-1;2/continue", &[]);

    c.move_to_app(ch, "queue-app", Some("x")).await.unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/move",
        &[("app", "queue-app"), ("appArgs", "x")],
    );
    c.redirect(ch, "PJSIP/officer-9").await.unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/redirect",
        &[("endpoint", "PJSIP/officer-9")],
    );

    fake.reply(200, r#"{"value": "12345678"}"#);
    assert_eq!(
        c.get_variable(ch, "COMPLAINT_NO").await.unwrap().as_deref(),
        Some("12345678")
    );
    assert_request(
        &fake.last(),
        "GET",
        "/channels/caller-1;2/variable",
        &[("variable", "COMPLAINT_NO")],
    );
    fake.reply(404, r#"{"message": "Provided variable was not found"}"#);
    assert_eq!(c.get_variable(ch, "NO_SUCH_VAR").await.unwrap(), None);
    fake.reply(404, r#"{"message": "Channel not found"}"#);
    assert!(c.get_variable(ch, "X").await.unwrap_err().is_gone());

    c.set_variable(ch, "COMPLAINT_NO", "12345678")
        .await
        .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/variable",
        &[("variable", "COMPLAINT_NO"), ("value", "12345678")],
    );
    c.start_moh(ch, Some("default")).await.unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/moh",
        &[("mohClass", "default")],
    );
    c.stop_moh(ch).await.unwrap();
    assert_request(&fake.last(), "DELETE", "/channels/caller-1;2/moh", &[]);
    c.hold(ch).await.unwrap();
    assert_request(&fake.last(), "POST", "/channels/caller-1;2/hold", &[]);
    c.unhold(ch).await.unwrap();
    assert_request(&fake.last(), "DELETE", "/channels/caller-1;2/hold", &[]);
    c.mute(ch, MuteDirection::In).await.unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/mute",
        &[("direction", "in")],
    );
    c.unmute(ch, MuteDirection::Both).await.unwrap();
    assert_request(
        &fake.last(),
        "DELETE",
        "/channels/caller-1;2/mute",
        &[("direction", "both")],
    );
    c.start_silence(ch).await.unwrap();
    assert_request(&fake.last(), "POST", "/channels/caller-1;2/silence", &[]);
    c.stop_silence(ch).await.unwrap();
    assert_request(&fake.last(), "DELETE", "/channels/caller-1;2/silence", &[]);

    fake.reply(200, &channel_json("snoop-1"));
    c.snoop(
        ch,
        &Snoop {
            snoop_id: "snoop-1".into(),
            spy: SnoopDirection::Both,
            whisper: SnoopDirection::None,
            app: "ivr-1100".into(),
            app_args: Some("snoop".into()),
        },
    )
    .await
    .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/channels/caller-1;2/snoop/snoop-1",
        &[
            ("spy", "both"),
            ("whisper", "none"),
            ("app", "ivr-1100"),
            ("appArgs", "snoop"),
        ],
    );

    // ---- bridges ----
    fake.reply(200, &format!("[{BRIDGE_JSON}]"));
    assert_eq!(c.list_bridges().await.unwrap()[0].id, "br-1");
    assert_request(&fake.last(), "GET", "/bridges", &[]);
    fake.reply(200, BRIDGE_JSON);
    c.create_bridge(
        "br-1",
        &[BridgeType::Mixing, BridgeType::DtmfEvents],
        Some("call"),
    )
    .await
    .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/bridges/br-1",
        &[("type", "mixing,dtmf_events"), ("name", "call")],
    );
    fake.reply(200, BRIDGE_JSON);
    c.get_bridge("br-1").await.unwrap();
    assert_request(&fake.last(), "GET", "/bridges/br-1", &[]);
    c.add_channels("br-1", &[ch, "agent-7"]).await.unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/bridges/br-1/addChannel",
        &[("channel", "caller-1;2,agent-7")],
    );
    c.remove_channels("br-1", &[ch]).await.unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/bridges/br-1/removeChannel",
        &[("channel", ch)],
    );
    c.start_bridge_moh("br-1", None).await.unwrap();
    assert_request(&fake.last(), "POST", "/bridges/br-1/moh", &[]);
    c.stop_bridge_moh("br-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/bridges/br-1/moh", &[]);
    fake.reply(201, PLAYBACK_JSON);
    c.play_on_bridge("br-1", "pb-2", &[Media::Sound("beep".into())], None)
        .await
        .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/bridges/br-1/play/pb-2",
        &[("media", "sound:beep")],
    );
    fake.reply(201, LIVE_RECORDING_JSON);
    c.record_bridge("br-1", &RecordParams::new("conv-1", "wav"))
        .await
        .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/bridges/br-1/record",
        &[("name", "conv-1"), ("format", "wav")],
    );
    c.destroy_bridge("br-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/bridges/br-1", &[]);

    // ---- playbacks ----
    fake.reply(200, PLAYBACK_JSON);
    assert_eq!(c.get_playback("pb-1").await.unwrap().id, "pb-1");
    assert_request(&fake.last(), "GET", "/playbacks/pb-1", &[]);
    c.stop_playback("pb-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/playbacks/pb-1", &[]);
    c.control_playback("pb-1", PlaybackOperation::Pause)
        .await
        .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/playbacks/pb-1/control",
        &[("operation", "pause")],
    );

    // ---- recordings ----
    fake.reply(200, LIVE_RECORDING_JSON);
    c.get_live_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "GET", "/recordings/live/rec-1", &[]);
    c.stop_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "POST", "/recordings/live/rec-1/stop", &[]);
    c.pause_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "POST", "/recordings/live/rec-1/pause", &[]);
    c.unpause_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/recordings/live/rec-1/pause", &[]);
    c.mute_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "POST", "/recordings/live/rec-1/mute", &[]);
    c.unmute_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/recordings/live/rec-1/mute", &[]);
    c.cancel_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/recordings/live/rec-1", &[]);
    fake.reply(200, &format!("[{STORED_JSON}]"));
    assert_eq!(c.list_stored_recordings().await.unwrap().len(), 1);
    assert_request(&fake.last(), "GET", "/recordings/stored", &[]);
    fake.reply(200, STORED_JSON);
    c.get_stored_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "GET", "/recordings/stored/rec-1", &[]);
    fake.reply(200, "RIFF\u{0}\u{0}\u{0}\u{0}WAVE");
    let bytes = c.stored_recording_file("rec-1").await.unwrap();
    assert!(bytes.starts_with(b"RIFF"));
    assert_request(&fake.last(), "GET", "/recordings/stored/rec-1/file", &[]);
    fake.reply(200, r#"{"name": "rec-copy", "format": "wav"}"#);
    assert_eq!(
        c.copy_stored_recording("rec-1", "rec-copy")
            .await
            .unwrap()
            .name,
        "rec-copy"
    );
    assert_request(
        &fake.last(),
        "POST",
        "/recordings/stored/rec-1/copy",
        &[("destinationRecordingName", "rec-copy")],
    );
    c.delete_stored_recording("rec-1").await.unwrap();
    assert_request(&fake.last(), "DELETE", "/recordings/stored/rec-1", &[]);

    // ---- endpoints, applications, asterisk, sounds ----
    fake.reply(200, &format!("[{ENDPOINT_JSON}]"));
    c.list_endpoints().await.unwrap();
    assert_request(&fake.last(), "GET", "/endpoints", &[]);
    fake.reply(200, &format!("[{ENDPOINT_JSON}]"));
    c.list_endpoints_by_tech("PJSIP").await.unwrap();
    assert_request(&fake.last(), "GET", "/endpoints/PJSIP", &[]);
    fake.reply(200, ENDPOINT_JSON);
    let ep = c.get_endpoint("PJSIP", "agent-101").await.unwrap();
    assert_eq!(ep.state, Some(EndpointState::Online));
    assert_request(&fake.last(), "GET", "/endpoints/PJSIP/agent-101", &[]);

    fake.reply(200, &format!("[{}]", app_json("ivr-1100", &[])));
    c.list_applications().await.unwrap();
    assert_request(&fake.last(), "GET", "/applications", &[]);
    fake.reply(200, &app_json("ivr-1100", &[ch]));
    assert_eq!(
        c.get_application("ivr-1100").await.unwrap().channel_ids,
        [ch]
    );
    assert_request(&fake.last(), "GET", "/applications/ivr-1100", &[]);
    fake.reply(200, &app_json("ivr-1100", &[]));
    c.subscribe(
        "ivr-1100",
        &["endpoint:PJSIP/agent-101", "deviceState:Custom:x"],
    )
    .await
    .unwrap();
    assert_request(
        &fake.last(),
        "POST",
        "/applications/ivr-1100/subscription",
        &[(
            "eventSource",
            "endpoint:PJSIP/agent-101,deviceState:Custom:x",
        )],
    );
    fake.reply(200, &app_json("ivr-1100", &[]));
    c.unsubscribe("ivr-1100", &["endpoint:PJSIP/agent-101"])
        .await
        .unwrap();
    assert_request(
        &fake.last(),
        "DELETE",
        "/applications/ivr-1100/subscription",
        &[("eventSource", "endpoint:PJSIP/agent-101")],
    );

    fake.reply(200, INFO_JSON);
    let info = c.asterisk_info().await.unwrap();
    assert_eq!(info.system.unwrap().version, "22.10.1");
    assert_request(&fake.last(), "GET", "/asterisk/info", &[]);
    fake.reply(200, PING_JSON);
    assert_eq!(c.asterisk_ping().await.unwrap().ping, "pong");
    assert_request(&fake.last(), "GET", "/asterisk/ping", &[]);
    fake.reply(200, &format!("[{SOUND_JSON}]"));
    c.list_sounds(Some("en"), Some("gsm")).await.unwrap();
    assert_request(
        &fake.last(),
        "GET",
        "/sounds",
        &[("lang", "en"), ("format", "gsm")],
    );
    fake.reply(200, SOUND_JSON);
    assert_eq!(c.get_sound("hello-world").await.unwrap().formats.len(), 1);
    assert_request(&fake.last(), "GET", "/sounds/hello-world", &[]);

    // Every request carried the credentials (Basic auth), and together they cover the operation table.
    let requests = fake.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Basic aGVscGxpbmU6cHctczNjcmV0"))
    );
    let exercised: BTreeSet<&str> = requests
        .iter()
        .filter_map(|r| ari::ops::find(&r.method, &r.path).map(|op| op.name))
        .collect();
    let all: BTreeSet<&str> = OPERATIONS.iter().map(|o| o.name).collect();
    let missing: Vec<_> = all.difference(&exercised).collect();
    assert!(missing.is_empty(), "operations not exercised: {missing:?}");
}

#[tokio::test]
async fn error_replies_are_typed_and_keep_the_message() {
    let fake = FakeAri::start().await;
    let c = client(&fake);

    fake.reply(404, r#"{"message": "Channel not found"}"#);
    let e = c.answer("gone").await.unwrap_err();
    assert!(
        matches!(&e, AriError::NotFound { message, operation: "channels.answer" } if message == "Channel not found")
    );
    assert!(e.is_gone());

    fake.reply(409, r#"{"message": "Channel not in Stasis application"}"#);
    let e = c
        .play("c", "pb", &[Media::Sound("x".into())], None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AriError::NotInStasis { status: 409, .. }),
        "{e:?}"
    );
    assert!(e.is_gone());

    fake.reply(412, r#"{"message": "Channel in invalid state"}"#);
    let e = c
        .continue_in_dialplan("c", &DialplanTarget::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, AriError::NotInStasis { status: 412, .. }),
        "{e:?}"
    );

    fake.reply(
        409,
        r#"{"message": "Recording 'complaint-1' already exists and can not be overwritten"}"#,
    );
    let e = c
        .record("c", &RecordParams::new("complaint-1", "wav"))
        .await
        .unwrap_err();
    assert!(matches!(e, AriError::Conflict { .. }), "{e:?}");
    assert!(!e.is_gone());

    fake.reply(400, r#"{"message": "DTMF is required"}"#);
    let e = c
        .send_dtmf(
            "c",
            &SendDtmf {
                dtmf: "1".into(),
                ..SendDtmf::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, AriError::BadRequest { message, .. } if message == "DTMF is required"));

    fake.reply(
        422,
        r#"{"message": "specified format is unknown on this system"}"#,
    );
    let e = c
        .record("c", &RecordParams::new("x", "nosuchformat"))
        .await
        .unwrap_err();
    assert!(matches!(e, AriError::Unprocessable { .. }));

    fake.reply(500, r#"{"error": "Allocation failed"}"#);
    let e = c
        .originate(&Originate {
            channel_id: "o".into(),
            endpoint: "PJSIP/nobody-here".into(),
            app: Some("ivr-1100".into()),
            ..Originate::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AriError::Unavailable { status: Some(500), message, .. } if message == "Allocation failed")
    );
    assert!(e.is_transient());

    fake.reply(401, r#"{"message": "Authentication required"}"#);
    let e = c.list_channels().await.unwrap_err();
    assert!(matches!(e, AriError::Unauthorized { status: 401, .. }));

    fake.reply(200, "{not json");
    let e = c.get_channel("c").await.unwrap_err();
    assert!(
        matches!(
            e,
            AriError::Decode {
                operation: "channels.get",
                ..
            }
        ),
        "{e:?}"
    );

    fake.reply(418, "I'm a teapot");
    let e = c.answer("c").await.unwrap_err();
    assert!(
        matches!(&e, AriError::Unexpected { status: 418, message, .. } if message == "I'm a teapot")
    );

    // Refused before sending: nothing to play.
    let before = fake.requests().len();
    let e = c.play("c", "pb", &[], None).await.unwrap_err();
    assert!(matches!(e, AriError::InvalidRequest { .. }));
    let e = c.add_channels("b", &[]).await.unwrap_err();
    assert!(matches!(e, AriError::InvalidRequest { .. }));
    let e = c.get_channel("").await.unwrap_err();
    assert!(matches!(e, AriError::InvalidRequest { .. }));
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn slow_reply_times_out() {
    let fake = FakeAri::start().await;
    let c = client(&fake).with_timeout(Duration::from_millis(200));
    fake.reply_after(204, "", Duration::from_secs(3));
    let started = std::time::Instant::now();
    let e = c.answer("c").await.unwrap_err();
    assert!(
        matches!(
            e,
            AriError::Timeout {
                operation: "channels.answer",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn refused_connection_is_unavailable() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::new(ClientConfig::new(
        format!("http://127.0.0.1:{port}/ari"),
        Credentials::new("u", "hidden-pw"),
    ))
    .unwrap();
    let e = c.list_channels().await.unwrap_err();
    assert!(
        matches!(e, AriError::Unavailable { status: None, .. }),
        "{e:?}"
    );
    assert!(!e.to_string().contains("hidden-pw"));
}

/// Records what the client tells its observer.
#[derive(Debug, Default)]
struct Seen(std::sync::Mutex<Vec<(&'static str, RequestOutcome, Duration)>>);

impl RequestObserver for Seen {
    fn observe(&self, operation: &'static str, outcome: RequestOutcome, elapsed: Duration) {
        self.0.lock().unwrap().push((operation, outcome, elapsed));
    }
}

#[tokio::test]
async fn every_request_is_timed_by_operation_and_outcome() {
    let fake = FakeAri::start().await;
    let seen = std::sync::Arc::new(Seen::default());
    let c = client(&fake)
        .with_timeout(Duration::from_millis(300))
        .with_observer(seen.clone());
    fake.reply_after(204, "", Duration::from_millis(50));
    c.answer("c").await.unwrap();
    fake.reply(404, r#"{"message": "Channel not found"}"#);
    c.hangup("c", None).await.unwrap_err();
    fake.reply_after(204, "", Duration::from_secs(2));
    c.answer("c").await.unwrap_err();
    // Refused before it is sent: nothing went to Asterisk, nothing to time.
    c.get_channel("").await.unwrap_err();

    let seen = seen.0.lock().unwrap().clone();
    let what: Vec<_> = seen
        .iter()
        .map(|(op, outcome, _)| (*op, *outcome))
        .collect();
    assert_eq!(
        what,
        [
            ("channels.answer", RequestOutcome::Answered),
            ("channels.hangup", RequestOutcome::Refused),
            ("channels.answer", RequestOutcome::TimedOut),
        ]
    );
    assert!(seen[0].2 >= Duration::from_millis(50), "{seen:?}");
    assert!(seen[2].2 >= Duration::from_millis(300), "{seen:?}");
}
