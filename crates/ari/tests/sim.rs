//! The client against the simulator (`ari-sim`, an independent implementation of the same wire) over real
//! sockets: a whole IVR call driven through `Client` + `Connection` + `Router` (answer, play, DTMF, record,
//! stored recording, variables, hangup and the "already gone" error after it), an agent leg originated
//! with a pre-registered id and bridged, and a dropped WebSocket followed by reconnect and reconciliation.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use ari::*;
use ari_sim::{Fault, Scenario, SimConfig, SimHandle, Simulator, Step};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

struct Rig {
    sim: SimHandle,
    client: Client,
    router: Router,
    out: RouterOutputs,
    conn: Connection,
    cancel: CancellationToken,
}

async fn rig() -> Rig {
    let sim = Simulator::start(SimConfig {
        speed: 10.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(ClientConfig::new(
        sim.base_url(),
        Credentials::new(sim.username(), sim.password()),
    ))
    .unwrap();
    let (router, mut out) = Router::new(RouterConfig::default());
    let cancel = CancellationToken::new();
    let config = ConnectionConfig {
        ping_interval: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(1_000),
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..ConnectionConfig::new("ivr-1100")
    };
    let conn = Connection::spawn(client.clone(), router.clone(), config, cancel.clone());
    // Connected and reconciled (an empty app) before any call is placed.
    loop {
        match tokio::time::timeout(WAIT, out.control.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ControlEvent::Connection(ConnectionEvent::Reconciled(r)) => {
                assert!(r.channels.is_empty());
                break;
            }
            ControlEvent::Connection(ConnectionEvent::ReconciliationFailed { error, .. }) => {
                panic!("reconciliation failed: {error}")
            }
            _ => {}
        }
    }
    Rig {
        sim,
        client,
        router,
        out,
        conn,
        cancel,
    }
}

/// The next event in the mailbox that `pick` accepts (others, like `ChannelVarset` chatter, are skipped).
async fn next(mailbox: &mut Mailbox, mut pick: impl FnMut(&Event) -> bool) -> Event {
    tokio::time::timeout(WAIT, async {
        loop {
            let e = mailbox.recv().await.expect("mailbox open");
            if pick(&e) {
                return e;
            }
        }
    })
    .await
    .expect("event in time")
}

/// A citizen calling 1100 from `caller` and doing `steps`.
fn citizen(name: &str, caller: &str, steps: Vec<Step>) -> Scenario {
    Scenario {
        name: name.into(),
        caller: caller.into(),
        caller_name: "Citizen".into(),
        extension: "1100".into(),
        context: "from-citizens".into(),
        language: None,
        steps,
    }
}

/// Places a call that waits for the app to hang up, and takes it from the router.
async fn waiting_call(rig: &mut Rig, name: &str, caller: &str) -> (u64, NewCall) {
    let call_id = rig
        .sim
        .place_call(citizen(
            name,
            caller,
            vec![Step::WaitHangup {
                timeout_seconds: 120.0,
            }],
        ))
        .await
        .unwrap();
    let call = tokio::time::timeout(WAIT, rig.out.new_calls.recv())
        .await
        .unwrap()
        .unwrap();
    (call_id, call)
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_ivr_call_through_the_simulator() {
    let mut rig = rig().await;
    let call_id = rig
        .sim
        .place_call(citizen(
            "complaint",
            "9816000001",
            vec![
                Step::WaitPrompt {
                    sound: None,
                    timeout_seconds: 20.0,
                },
                Step::WaitPromptEnd {
                    timeout_seconds: 20.0,
                },
                Step::Press {
                    digits: "5".into(),
                    gap_ms: 100,
                    duration_ms: 120,
                },
                Step::Speak { seconds: 2.0 },
                Step::Press {
                    digits: "#".into(),
                    gap_ms: 100,
                    duration_ms: 120,
                },
                Step::WaitHangup {
                    timeout_seconds: 30.0,
                },
            ],
        ))
        .await
        .unwrap();

    let mut call = tokio::time::timeout(WAIT, rig.out.new_calls.recv())
        .await
        .unwrap()
        .unwrap();
    let ch = call.channel.id.clone();
    assert_eq!(call.channel.caller.number, "9816000001");
    assert!(matches!(
        call.mailbox.recv().await,
        Some(Event::StasisStart(_))
    ));

    let c = &rig.client;
    c.answer(&ch).await.unwrap();
    next(
        &mut call.mailbox,
        |e| matches!(e, Event::ChannelStateChange(s) if s.channel.state == ChannelState::Up),
    )
    .await;

    let pb = unique("pb");
    let playback = c
        .play(&ch, &pb, &[Media::Digits("12".into())], Some("en"))
        .await
        .unwrap();
    assert_eq!(playback.id, pb);
    assert_eq!(playback.target(), Target::Channel(&ch));
    let finished = next(&mut call.mailbox, |e| {
        matches!(e, Event::PlaybackFinished(_))
    })
    .await;
    let Event::PlaybackFinished(finished) = finished else {
        unreachable!()
    };
    assert_eq!(finished.playback.id, pb);
    assert_eq!(finished.playback.state, PlaybackState::Done);

    let dtmf = next(&mut call.mailbox, |e| {
        matches!(e, Event::ChannelDtmfReceived(_))
    })
    .await;
    let Event::ChannelDtmfReceived(dtmf) = dtmf else {
        unreachable!()
    };
    assert_eq!(dtmf.digit, "5");

    let name = unique("complaint");
    let mut params = RecordParams::new(&name, "wav");
    params.max_duration_secs = Some(20);
    params.max_silence_secs = Some(5);
    params.terminate_on = Some(TerminateOn::Hash);
    params.if_exists = Some(IfExists::Fail);
    params.beep = Some(false);
    let live = c.record(&ch, &params).await.unwrap();
    assert_eq!(live.name, name);
    let done = next(&mut call.mailbox, |e| {
        matches!(e, Event::RecordingFinished(_))
    })
    .await;
    let Event::RecordingFinished(done) = done else {
        unreachable!()
    };
    assert_eq!(done.recording.name, name);
    assert!(
        done.recording.duration.unwrap_or(0) >= 1,
        "{:?}",
        done.recording
    );

    // The same name again with ifExists=fail is a conflict, not "gone".
    let err = c.record(&ch, &params).await.unwrap_err();
    assert!(matches!(err, AriError::Conflict { .. }), "{err:?}");

    let stored = c.get_stored_recording(&name).await.unwrap();
    assert_eq!(stored.format, "wav");
    let bytes = c.stored_recording_file(&name).await.unwrap();
    assert!(
        bytes.len() > 44 && bytes.starts_with(b"RIFF"),
        "{} bytes",
        bytes.len()
    );

    c.set_variable(&ch, "COMPLAINT_NO", "12345678")
        .await
        .unwrap();
    assert_eq!(
        c.get_variable(&ch, "COMPLAINT_NO")
            .await
            .unwrap()
            .as_deref(),
        Some("12345678")
    );
    assert_eq!(c.get_variable(&ch, "NO_SUCH_VAR").await.unwrap(), None);

    c.hangup(&ch, Some(HangupReason::Normal)).await.unwrap();
    next(&mut call.mailbox, |e| matches!(e, Event::StasisEnd(_))).await;
    // The router dropped the route after StasisEnd: the mailbox ends.
    assert!(
        tokio::time::timeout(WAIT, call.mailbox.recv())
            .await
            .unwrap()
            .is_none()
    );
    let err = c.hangup(&ch, None).await.unwrap_err();
    assert!(err.is_gone(), "{err:?}");
    let err = c.answer(&ch).await.unwrap_err();
    assert!(err.is_gone(), "{err:?}");

    let result = rig.sim.call_result(call_id, WAIT).await.unwrap();
    assert_eq!(result.digits_sent, "5#");
    assert!(result.heard.iter().any(|h| h.media_uri == "digits:12"));
    assert!(result.recordings.contains(&name));

    rig.cancel.cancel();
    rig.conn.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_leg_with_a_pre_registered_id_is_bridged() {
    let mut rig = rig().await;
    let (_, mut call) = waiting_call(&mut rig, "agent", "9816000002").await;
    let ch = call.channel.id.clone();
    let c = &rig.client;
    c.answer(&ch).await.unwrap();

    // Register before originating: the agent's events (which overtake the reply) reach this call's task.
    let agent = unique("agent");
    rig.router.register_alias(&agent, &ch).unwrap();
    let created = c
        .originate(&Originate {
            channel_id: agent.clone(),
            endpoint: "PJSIP/agent-101".into(),
            app: Some("ivr-1100".into()),
            app_args: Some("agent".into()),
            caller_id: Some("1100".into()),
            timeout_secs: Some(20),
            ..Originate::default()
        })
        .await
        .unwrap();
    assert_eq!(created.id, agent);
    let start = next(
        &mut call.mailbox,
        |e| matches!(e, Event::StasisStart(s) if s.channel.id == agent),
    )
    .await;
    let Event::StasisStart(start) = start else {
        unreachable!()
    };
    assert_eq!(start.args, ["agent"]);

    let bridge = unique("br");
    rig.router.register_bridge(&bridge, &ch).unwrap();
    let b = c
        .create_bridge(&bridge, &[BridgeType::Mixing], Some("call"))
        .await
        .unwrap();
    assert_eq!(b.id, bridge);
    c.add_channels(&bridge, &[&ch, &agent]).await.unwrap();
    let mut entered = Vec::new();
    while entered.len() < 2 {
        if let Event::ChannelEnteredBridge(e) = next(&mut call.mailbox, |e| {
            matches!(e, Event::ChannelEnteredBridge(_))
        })
        .await
        {
            entered.push(e.channel.map(|c| c.id).unwrap_or_default());
        }
    }
    entered.sort();
    let mut expected = vec![ch.clone(), agent.clone()];
    expected.sort();
    assert_eq!(entered, expected);
    let got = c.get_bridge(&bridge).await.unwrap();
    assert_eq!(got.channels.len(), 2);

    c.hangup(&agent, None).await.unwrap();
    c.destroy_bridge(&bridge).await.unwrap();
    let err = c.get_bridge(&bridge).await.unwrap_err();
    assert!(matches!(err, AriError::NotFound { .. }), "{err:?}");
    c.hangup(&ch, None).await.unwrap();
    next(
        &mut call.mailbox,
        |e| matches!(e, Event::StasisEnd(s) if s.channel.id == ch),
    )
    .await;
    rig.cancel.cancel();
    rig.conn.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_websocket_reconnects_and_reconciles_the_live_call() {
    let mut rig = rig().await;
    let (_, call) = waiting_call(&mut rig, "reconnect", "9816000003").await;
    let ch = call.channel.id.clone();

    rig.sim.inject(Fault::DropWebsockets).await.unwrap();
    let reconciliation = loop {
        match tokio::time::timeout(WAIT, rig.out.control.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ControlEvent::Connection(ConnectionEvent::Reconciled(r)) => break r,
            ControlEvent::Connection(ConnectionEvent::ReconciliationFailed { error, .. }) => {
                panic!("{error}")
            }
            _ => {}
        }
    };
    assert_eq!(reconciliation.generation, 2);
    let mine = reconciliation
        .channels
        .iter()
        .find(|c| c.channel.id == ch)
        .expect("the live call is still the app's");
    assert!(mine.routed, "its task is still running: resume it");
    assert!(reconciliation.lost.is_empty());
    assert_eq!(rig.conn.stats().reconnects, 1);

    // Events flow again after the reconnect.
    rig.client.hangup(&ch, None).await.unwrap();
    let mut mailbox = call.mailbox;
    next(&mut mailbox, |e| matches!(e, Event::StasisEnd(_))).await;
    rig.cancel.cancel();
    rig.conn.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_faults_surface_as_typed_errors_and_reconnects() {
    let mut rig = rig().await;

    // REST answered with 500: Unavailable, transient.
    rig.sim
        .inject(Fault::RestErrors { count: Some(1) })
        .await
        .unwrap();
    let err = rig.client.list_channels().await.unwrap_err();
    assert!(
        matches!(
            err,
            AriError::Unavailable {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    rig.client.list_channels().await.unwrap();

    // REST answered slowly: Timeout after the client's own limit.
    rig.sim
        .inject(Fault::RestDelay { ms: 2_000 })
        .await
        .unwrap();
    let err = rig
        .client
        .with_timeout(Duration::from_millis(200))
        .list_channels()
        .await
        .unwrap_err();
    assert!(matches!(err, AriError::Timeout { .. }), "{err:?}");
    rig.sim.inject(Fault::Clear).await.unwrap();

    // A live call, then Asterisk restarts: every channel gone; the reconciliation reports the call lost.
    let (_, call) = waiting_call(&mut rig, "restart", "9816000004").await;
    let ch = call.channel.id.clone();
    rig.sim.restart().await.unwrap();
    let reconciliation = loop {
        match tokio::time::timeout(WAIT, rig.out.control.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ControlEvent::Connection(ConnectionEvent::Reconciled(r)) => break r,
            ControlEvent::Connection(ConnectionEvent::ReconciliationFailed { error, .. }) => {
                panic!("{error}")
            }
            _ => {}
        }
    };
    assert!(reconciliation.channels.is_empty());
    assert_eq!(reconciliation.lost, std::slice::from_ref(&ch));
    let err = rig.client.answer(&ch).await.unwrap_err();
    assert!(err.is_gone(), "{err:?}");

    // The WebSocket goes silent (no pongs, no events): dropped within the idle timeout and replaced.
    rig.sim.inject(Fault::Silent { on: true }).await.unwrap();
    loop {
        if let ControlEvent::Connection(ConnectionEvent::Down { reason, .. }) =
            tokio::time::timeout(WAIT, rig.out.control.recv())
                .await
                .unwrap()
                .unwrap()
        {
            assert!(reason.contains("no frame"), "{reason}");
            break;
        }
    }
    rig.sim.inject(Fault::Clear).await.unwrap();
    loop {
        if let ControlEvent::Connection(ConnectionEvent::Reconciled(_)) =
            tokio::time::timeout(WAIT, rig.out.control.recv())
                .await
                .unwrap()
                .unwrap()
        {
            break;
        }
    }
    assert_eq!(rig.conn.stats().silent_peers, 1);
    drop(call);
    rig.cancel.cancel();
    rig.conn.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_works_against_the_simulator() {
    let mut rig = rig().await;
    let (call_id, mut call) = waiting_call(&mut rig, "every-op", "9816000005").await;
    let ch = call.channel.id.clone();
    let c = rig.client.clone();
    let mb = &mut call.mailbox;

    // Channel control.
    c.ring(&ch).await.unwrap();
    c.ring_stop(&ch).await.unwrap();
    c.answer(&ch).await.unwrap();
    assert_eq!(c.get_channel(&ch).await.unwrap().state, ChannelState::Up);
    assert!(c.list_channels().await.unwrap().iter().any(|x| x.id == ch));
    c.start_moh(&ch, Some("default")).await.unwrap();
    c.stop_moh(&ch).await.unwrap();
    c.hold(&ch).await.unwrap();
    c.unhold(&ch).await.unwrap();
    c.mute(&ch, MuteDirection::Both).await.unwrap();
    c.unmute(&ch, MuteDirection::Both).await.unwrap();
    c.start_silence(&ch).await.unwrap();
    c.stop_silence(&ch).await.unwrap();
    c.send_dtmf(
        &ch,
        &SendDtmf {
            dtmf: "1".into(),
            duration_ms: Some(100),
            ..SendDtmf::default()
        },
    )
    .await
    .unwrap();
    let err = c.send_dtmf(&ch, &SendDtmf::default()).await.unwrap_err();
    assert!(matches!(err, AriError::BadRequest { .. }), "{err:?}");

    // Playbacks: get, pause/unpause, stop.
    let pb = unique("pb");
    c.play(
        &ch,
        &pb,
        &[Media::Sound("demo-congrats".into())],
        Some("en"),
    )
    .await
    .unwrap();
    next(
        mb,
        |e| matches!(e, Event::PlaybackStarted(p) if p.playback.id == pb),
    )
    .await;
    assert_eq!(c.get_playback(&pb).await.unwrap().id, pb);
    c.control_playback(&pb, PlaybackOperation::Pause)
        .await
        .unwrap();
    c.control_playback(&pb, PlaybackOperation::Unpause)
        .await
        .unwrap();
    c.stop_playback(&pb).await.unwrap();
    next(
        mb,
        |e| matches!(e, Event::PlaybackFinished(p) if p.playback.id == pb),
    )
    .await;
    let err = c.get_playback(&pb).await.unwrap_err();
    assert!(err.is_gone(), "{err:?}");

    // Live recordings: pause, mute, get, stop; stored: list, get, file, copy, delete; cancel.
    let rec = unique("rec");
    c.record(&ch, &RecordParams::new(&rec, "wav"))
        .await
        .unwrap();
    next(
        mb,
        |e| matches!(e, Event::RecordingStarted(r) if r.recording.name == rec),
    )
    .await;
    c.pause_recording(&rec).await.unwrap();
    c.unpause_recording(&rec).await.unwrap();
    c.mute_recording(&rec).await.unwrap();
    c.unmute_recording(&rec).await.unwrap();
    assert_eq!(c.get_live_recording(&rec).await.unwrap().name, rec);
    c.stop_recording(&rec).await.unwrap();
    next(
        mb,
        |e| matches!(e, Event::RecordingFinished(r) if r.recording.name == rec),
    )
    .await;
    assert!(
        c.list_stored_recordings()
            .await
            .unwrap()
            .iter()
            .any(|r| r.name == rec)
    );
    let copy = format!("{rec}-copy");
    assert_eq!(
        c.copy_stored_recording(&rec, &copy).await.unwrap().name,
        copy
    );
    assert!(
        c.stored_recording_file(&copy)
            .await
            .unwrap()
            .starts_with(b"RIFF")
    );
    c.delete_stored_recording(&copy).await.unwrap();
    let err = c.get_stored_recording(&copy).await.unwrap_err();
    assert!(matches!(err, AriError::NotFound { .. }), "{err:?}");
    let cancelled = unique("cancelled");
    c.record(&ch, &RecordParams::new(&cancelled, "wav"))
        .await
        .unwrap();
    c.cancel_recording(&cancelled).await.unwrap();
    let err = c.get_live_recording(&cancelled).await.unwrap_err();
    assert!(matches!(err, AriError::NotFound { .. }), "{err:?}");

    // Snoop with our id, routed to this call before the request.
    let snoop = unique("snoop");
    rig.router.register_alias(&snoop, &ch).unwrap();
    let snooped = c
        .snoop(
            &ch,
            &Snoop {
                snoop_id: snoop.clone(),
                spy: SnoopDirection::Both,
                whisper: SnoopDirection::None,
                app: "ivr-1100".into(),
                app_args: Some("snoop".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(snooped.id, snoop);
    next(
        mb,
        |e| matches!(e, Event::StasisStart(s) if s.channel.id == snoop),
    )
    .await;
    c.hangup(&snoop, None).await.unwrap();

    // Bridges: list, MOH, play, record, remove.
    let bridge = unique("br");
    rig.router.register_bridge(&bridge, &ch).unwrap();
    c.create_bridge(&bridge, &[BridgeType::Mixing], None)
        .await
        .unwrap();
    assert!(
        c.list_bridges()
            .await
            .unwrap()
            .iter()
            .any(|b| b.id == bridge)
    );
    c.add_channels(&bridge, &[&ch]).await.unwrap();
    c.start_bridge_moh(&bridge, None).await.unwrap();
    c.stop_bridge_moh(&bridge).await.unwrap();
    let bpb = unique("bpb");
    let p = c
        .play_on_bridge(&bridge, &bpb, &[Media::Digits("7".into())], None)
        .await
        .unwrap();
    assert_eq!(p.target(), Target::Bridge(&bridge));
    let brec = unique("brec");
    let r = c
        .record_bridge(&bridge, &RecordParams::new(&brec, "wav"))
        .await
        .unwrap();
    assert_eq!(r.target(), Target::Bridge(&bridge));
    c.remove_channels(&bridge, &[&ch]).await.unwrap();
    c.destroy_bridge(&bridge).await.unwrap();
    next(
        mb,
        |e| matches!(e, Event::BridgeDestroyed(b) if b.bridge.id == bridge),
    )
    .await;

    // Endpoints, applications, Asterisk, sounds.
    assert!(
        c.list_endpoints()
            .await
            .unwrap()
            .iter()
            .any(|e| e.resource == "agent-101")
    );
    assert!(!c.list_endpoints_by_tech("PJSIP").await.unwrap().is_empty());
    assert_eq!(
        c.get_endpoint("PJSIP", "agent-101")
            .await
            .unwrap()
            .technology,
        "PJSIP"
    );
    assert!(
        c.list_applications()
            .await
            .unwrap()
            .iter()
            .any(|a| a.name == "ivr-1100")
    );
    let app = c
        .subscribe("ivr-1100", &["endpoint:PJSIP/agent-101"])
        .await
        .unwrap();
    assert!(
        app.endpoint_ids.iter().any(|e| e.contains("agent-101")),
        "{app:?}"
    );
    c.unsubscribe("ivr-1100", &["endpoint:PJSIP/agent-101"])
        .await
        .unwrap();
    assert!(c.asterisk_info().await.unwrap().system.is_some());
    c.asterisk_ping().await.unwrap();
    assert!(!c.list_sounds(None, None).await.unwrap().is_empty());
    assert_eq!(c.get_sound("hello-world").await.unwrap().id, "hello-world");

    // Leaving Stasis: continue in the dialplan (StasisEnd at once); the channel is then no longer ours.
    c.continue_in_dialplan(
        &ch,
        &DialplanTarget {
            context: Some("after-ivr".into()),
            extension: Some("s".into()),
            priority: Some(1),
            label: None,
        },
    )
    .await
    .unwrap();
    next(
        mb,
        |e| matches!(e, Event::StasisEnd(s) if s.channel.id == ch),
    )
    .await;
    let err = c.move_to_app(&ch, "other", None).await.unwrap_err();
    assert!(err.is_gone(), "{err:?}");
    let err = c.redirect(&ch, "PJSIP/agent-101").await.unwrap_err();
    assert!(err.is_gone(), "{err:?}");
    let result = rig.sim.call_result(call_id, WAIT).await.unwrap();
    assert!(result.recordings.contains(&rec));
    rig.cancel.cancel();
    rig.conn.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_hands_the_call_to_an_officer() {
    let mut rig = rig().await;
    let (call_id, mut call) = waiting_call(&mut rig, "redirect", "9816000006").await;
    let ch = call.channel.id.clone();
    rig.client.answer(&ch).await.unwrap();
    rig.client.redirect(&ch, "PJSIP/agent-101").await.unwrap();
    next(&mut call.mailbox, |e| matches!(e, Event::StasisEnd(_))).await;
    let result = rig.sim.call_result(call_id, WAIT).await.unwrap();
    assert_eq!(result.transferred_to.as_deref(), Some("PJSIP/agent-101"));
    rig.cancel.cancel();
    rig.conn.join().await;
}
