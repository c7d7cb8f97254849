//! The simulator over real sockets: simulated callers driven by scenarios against a small hand-written IVR
//! (raw HTTP + WebSocket, not the `ari` crate), recordings as real WAV files, endpoints, DTMF timing,
//! parameter validation, authentication, the `/sim` control API and fault injection.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ari_sim::{CallOutcome, Fault, HungUpBy, Scenario, SimConfig, Simulator, Step};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

mod support;

use support::{Rest, WAIT, app, place_and_answer, rest, sim};

fn wav_info(bytes: &[u8]) -> (hound::WavSpec, Vec<i16>) {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let spec = reader.spec();
    let samples = reader.into_samples::<i16>().map(Result::unwrap).collect();
    (spec, samples)
}

#[tokio::test]
async fn a_citizen_hears_prompts_presses_keys_and_is_recorded() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::from_toml(
        r##"
name = "complaint"
caller = "9816000001"
caller_name = "Citizen"
[[steps]]
action = "wait_prompt"
sound = "hello-world"
[[steps]]
action = "press"
digits = "1"
[[steps]]
action = "wait_prompt"
sound = "digits:42"
[[steps]]
action = "wait_prompt"
sound = "beep"
[[steps]]
action = "speak"
seconds = 2.5
[[steps]]
action = "press"
digits = "#"
[[steps]]
action = "wait_hangup"
"##,
    )
    .unwrap();
    let call = sim.place_call(scenario).await.unwrap();

    let start = ivr.next("StasisStart").await;
    let chan = start["channel"]["id"].as_str().unwrap().to_owned();
    assert_eq!(start["channel"]["state"], "Ring");
    assert_eq!(start["channel"]["caller"]["number"], "9816000001");
    assert!(chan.contains('.'), "SIP-like unique id, got {chan}");
    assert!(
        start["channel"]["name"]
            .as_str()
            .unwrap()
            .starts_with("PJSIP/citizen-")
    );
    assert_eq!(
        ari.call("POST", &format!("/channels/{chan}/answer"), &[])
            .await
            .0,
        204
    );
    let (status, pb) = ari
        .call(
            "POST",
            &format!("/channels/{chan}/play/pb-1"),
            &[("media", "sound:hello-world")],
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(pb["target_uri"], format!("channel:{chan}"));
    let dtmf = ivr.next("ChannelDtmfReceived").await;
    assert_eq!(dtmf["digit"], "1");
    // Barge-in: the caller pressed during the prompt; the IVR stops it.
    assert_eq!(ari.call("DELETE", "/playbacks/pb-1", &[]).await.0, 204);
    let finished = ivr.next("PlaybackFinished").await;
    assert_eq!(finished["playback"]["state"], "done");
    ari.call(
        "POST",
        &format!("/channels/{chan}/play/pb-2"),
        &[("media", "digits:42")],
    )
    .await;
    ivr.next_where(|e| e["type"] == "PlaybackFinished" && e["playback"]["id"] == "pb-2")
        .await;
    let (status, rec) = ari
        .call(
            "POST",
            &format!("/channels/{chan}/record"),
            &[
                ("name", "complaint-1"),
                ("format", "wav"),
                ("maxDurationSeconds", "30"),
                ("maxSilenceSeconds", "3"),
                ("terminateOn", "#"),
                ("ifExists", "fail"),
                ("beep", "true"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{rec}");
    ivr.next("RecordingStarted").await;
    let dtmf = ivr.next("ChannelDtmfReceived").await;
    assert_eq!(dtmf["digit"], "#");
    let done = ivr.next("RecordingFinished").await;
    assert_eq!(done["recording"]["state"], "done");
    assert_eq!(done["recording"]["duration"], 2);
    assert_eq!(done["recording"]["talking_duration"], 2);
    let (status, ct, bytes) = ari.bytes("/recordings/stored/complaint-1/file").await;
    assert_eq!((status, ct.as_str()), (200, "audio/wav"));
    let (spec, samples) = wav_info(&bytes);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    // The caller spoke 2.5 s from the beep's start; capture began when the 0.25 s beep ended; trailing
    // silence (until the #) is trimmed.
    // (Timers are scaled by the speed factor, so allow a little jitter.)
    assert!(
        (16_800..=19_200).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    let loud = samples.iter().filter(|s| s.unsigned_abs() > 256).count();
    assert!(
        loud > samples.len() / 2,
        "speech should be loud, {loud} of {}",
        samples.len()
    );
    assert_eq!(
        ari.call("DELETE", &format!("/channels/{chan}"), &[])
            .await
            .0,
        204
    );
    ivr.next("StasisEnd").await;

    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    let heard: Vec<&str> = result.heard.iter().map(|h| h.media_uri.as_str()).collect();
    assert_eq!(heard, ["sound:hello-world", "digits:42", "sound:beep"]);
    assert_eq!(result.heard[0].state, "done");
    assert_eq!(result.heard[0].language, "en");
    assert_eq!(result.digits_sent, "1#");
    // Each key's moment: the 1 during the first prompt, the # after 2.5 s of speech past the beep.
    let keys: Vec<char> = result.keys_at.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ['1', '#']);
    let (one, hash) = (result.keys_at[0].1, result.keys_at[1].1);
    let beep = result.heard[2].started_ms;
    assert!(one < beep && hash >= beep + 2_500, "{:?}", result.keys_at);
    assert!(result.answered_ms.is_some_and(|a| a <= one));
    assert_eq!(result.recordings, ["complaint-1"]);
    assert_eq!(result.hung_up_by, HungUpBy::Network);
    assert_eq!(
        (result.cause, result.cause_txt.as_str()),
        (16, "Normal Clearing")
    );
    assert!(result.answered_ms.is_some());
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_silent_caller_gives_a_header_only_wav_and_the_caller_hangs_up_at_its_moment() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981")
        .step(Step::Silence { seconds: 5.0 })
        .step(Step::Hangup);
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    let (status, _) = ari
        .call(
            "POST",
            &format!("/channels/{chan}/record"),
            &[
                ("name", "quiet"),
                ("format", "wav"),
                ("maxSilenceSeconds", "2"),
                ("beep", "true"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    let done = ivr.next("RecordingFinished").await;
    assert_eq!(done["recording"]["duration"], 0);
    assert_eq!(done["recording"]["silence_duration"], 0);
    let (_, _, bytes) = ari.bytes("/recordings/stored/quiet/file").await;
    assert_eq!(bytes.len(), 44);
    // The caller hangs up after 5 s of silence: a BYE (QoS variables, a request without cause).
    let events = [
        ivr.next("ChannelVarset").await,
        ivr.next("ChannelHangupRequest").await,
        ivr.next("StasisEnd").await,
    ];
    assert_eq!(events[0]["variable"], "RTPAUDIOQOS");
    assert!(events[1].get("cause").is_none());
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.hung_up_by, HungUpBy::Caller);
    assert_eq!(result.outcome, CallOutcome::Completed);
    assert_eq!(result.recordings, ["quiet"]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_speak_wav_step_is_what_the_recording_contains() {
    let dir = std::env::temp_dir().join(format!("ari-sim-speakwav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let voice = dir.join("voice.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&voice, spec).unwrap();
    for i in 0..12_000_i32 {
        writer
            .write_sample(((i % 40) * 500 - 10_000) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981")
        .step(Step::WaitPrompt {
            sound: Some("beep".to_owned()),
            timeout_seconds: 10.0,
        })
        .step(Step::WaitPromptEnd {
            timeout_seconds: 10.0,
        })
        .step(Step::SpeakWav {
            path: voice.clone(),
        })
        .step(Step::WaitHangup {
            timeout_seconds: 30.0,
        });
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    // The caller starts talking when it hears the recording's beep; capture starts when the beep ends.
    ari.call(
        "POST",
        &format!("/channels/{chan}/record"),
        &[
            ("name", "voice-copy"),
            ("format", "wav"),
            ("maxSilenceSeconds", "1"),
            ("beep", "true"),
        ],
    )
    .await;
    ivr.next("RecordingFinished").await;
    let (_, _, bytes) = ari.bytes("/recordings/stored/voice-copy/file").await;
    let (_, samples) = wav_info(&bytes);
    // The supplied 1.5 s of audio, sample for sample, less the 0.25 s said during the beep.
    assert!(
        (9_900..=10_100).contains(&samples.len()),
        "{}",
        samples.len()
    );
    let expected: Vec<i16> = (0..12_000_i32)
        .map(|i| ((i % 40) * 500 - 10_000) as i16)
        .collect();
    let window = &samples[100..200];
    assert!(
        expected.windows(100).any(|w| w == window),
        "recorded audio is the supplied WAV"
    );
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    std::fs::remove_dir_all(dir).unwrap();
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wait_that_times_out_fails_with_a_reason_and_no_app_means_the_dialplan_fallback() {
    let sim = sim(50.0).await;
    // No app connected: Stasis fails, the dialplan goes on and hangs up.
    let call = sim
        .place_call(Scenario::new("981").step(Step::WaitPrompt {
            sound: None,
            timeout_seconds: 5.0,
        }))
        .await
        .unwrap();
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.hung_up_by, HungUpBy::Network);
    let CallOutcome::Failed { reason } = &result.outcome else {
        panic!("expected a failure, got {result:?}")
    };
    assert!(reason.contains("step 1"), "{reason}");
    // An app that answers but never plays: the wait times out and the caller gives up.
    let mut ivr = app(&sim, "ivr-1100").await;
    let call = sim
        .place_call(Scenario::new("981").step(Step::WaitPrompt {
            sound: Some("helpline/welcome".to_owned()),
            timeout_seconds: 2.0,
        }))
        .await
        .unwrap();
    ivr.next("StasisStart").await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    let CallOutcome::Failed { reason } = &result.outcome else {
        panic!("expected a failure, got {result:?}")
    };
    assert!(
        reason.contains("timed out") && reason.contains("helpline/welcome"),
        "{reason}"
    );
    assert_eq!(result.hung_up_by, HungUpBy::Caller);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn dtmf_sent_on_a_playing_leg_waits_for_the_playback_to_stop() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut caller = app(&sim, "caller").await;
    let mut ivr = app(&sim, "ivr-1100").await;
    let (status, _) = ari
        .call(
            "POST",
            "/channels",
            &[
                ("endpoint", "Local/1100@from-citizens/n"),
                ("app", "caller"),
                ("channelId", "c1"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    ivr.next("StasisStart").await;
    ari.call("POST", "/channels/c1;2/answer", &[]).await;
    caller.next("StasisStart").await;
    ari.call(
        "POST",
        "/channels/c1/play/voice",
        &[("media", "sound:hello-world")],
    )
    .await;
    ari.call(
        "POST",
        "/channels/c1/dtmf",
        &[("dtmf", "5"), ("duration", "100")],
    )
    .await;
    let mut order = Vec::new();
    while order.len() < 2 {
        let e = caller
            .next_where(|e| e["type"] == "PlaybackFinished" || e["type"] == "ChannelDtmfReceived")
            .await;
        order.push(e["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(order, ["PlaybackFinished", "ChannelDtmfReceived"]);
    let dtmf = ivr.next("ChannelDtmfReceived").await;
    assert_eq!(
        (dtmf["digit"].as_str(), dtmf["channel"]["id"].as_str()),
        (Some("5"), Some("c1;2"))
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_default_agent_phones_answer_are_busy_unreachable_or_silent() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let (status, chan) = ari
        .call(
            "POST",
            "/channels/agent-1",
            &[
                ("endpoint", "PJSIP/agent-101"),
                ("app", "ivr-1100"),
                ("appArgs", "agent,101"),
            ],
        )
        .await;
    assert_eq!((status, chan["state"].as_str()), (200, Some("Down")));
    assert_eq!(ivr.next("Dial").await["dialstatus"], "");
    assert_eq!(
        ivr.next("ChannelStateChange").await["channel"]["state"],
        "Ringing"
    );
    assert_eq!(ivr.next("Dial").await["dialstatus"], "RINGING");
    assert_eq!(ivr.next("Dial").await["dialstatus"], "ANSWER");
    let start = ivr.next("StasisStart").await;
    assert_eq!(start["args"], json!(["agent", "101"]));
    assert_eq!(start["channel"]["state"], "Up");
    let (_, endpoint) = ari.call("GET", "/endpoints/PJSIP/agent-101", &[]).await;
    assert_eq!(endpoint["channel_ids"], json!(["agent-1"]));

    // agent-102 is busy: cause 17 at once (SIP 486), whatever the timeout; agent-104 never answers the
    // INVITE: at the originate timeout, cause 19 (SIP 480).
    for (id, endpoint, cause, tech_cause) in [
        ("agent-2", "PJSIP/agent-102", 17, 486),
        ("agent-4", "PJSIP/agent-104", 19, 480),
    ] {
        ari.call(
            "POST",
            &format!("/channels/{id}"),
            &[
                ("endpoint", endpoint),
                ("app", "ivr-1100"),
                ("timeout", "2"),
            ],
        )
        .await;
        let destroyed = ivr
            .next_where(|e| e["type"] == "ChannelDestroyed" && e["channel"]["id"] == id)
            .await;
        assert_eq!(
            (
                destroyed["cause"].as_u64(),
                destroyed["tech_cause"].as_u64()
            ),
            (Some(cause), Some(tech_cause)),
            "{endpoint}"
        );
    }

    // agent-103 has no contact: the originate fails, and the endpoint is offline.
    let (status, body) = ari
        .call(
            "POST",
            "/channels/agent-3",
            &[("endpoint", "PJSIP/agent-103"), ("app", "ivr-1100")],
        )
        .await;
    assert_eq!((status, body), (500, json!({"error": "Allocation failed"})));
    let (_, endpoint) = ari.call("GET", "/endpoints/PJSIP/agent-103", &[]).await;
    assert_eq!(endpoint["state"], "offline");

    let (status, body) = ari
        .call(
            "POST",
            "/channels",
            &[("endpoint", "PJSIP/nobody"), ("app", "ivr-1100")],
        )
        .await;
    assert_eq!((status, body), (500, json!({"error": "Allocation failed"})));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn recordings_if_exists_copy_delete_and_errors() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981").step(Step::Speak { seconds: 30.0 });
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    let record = |name: &'static str, if_exists: &'static str| {
        let path = format!("/channels/{chan}/record");
        let ari = &ari;
        async move {
            ari.call(
                "POST",
                &path,
                &[
                    ("name", name),
                    ("format", "wav"),
                    ("maxDurationSeconds", "1"),
                    ("ifExists", if_exists),
                ],
            )
            .await
        }
    };
    assert_eq!(record("r", "fail").await.0, 201);
    assert_eq!(
        ivr.next("RecordingFinished").await["recording"]["duration"],
        1
    );
    assert_eq!(record("r", "fail").await.0, 409);
    assert_eq!(record("r", "append").await.0, 201);
    ivr.next("RecordingFinished").await;
    let (_, _, bytes) = ari.bytes("/recordings/stored/r/file").await;
    assert_eq!(wav_info(&bytes).1.len(), 16_000, "append doubles the audio");
    assert_eq!(record("r", "overwrite").await.0, 201);
    ivr.next("RecordingFinished").await;
    let (_, _, bytes) = ari.bytes("/recordings/stored/r/file").await;
    assert_eq!(wav_info(&bytes).1.len(), 8_000, "overwrite replaces it");
    let (status, body) = ari
        .call(
            "POST",
            &format!("/channels/{chan}/record"),
            &[("name", "x"), ("format", "mp9")],
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("specified format is unknown on this system"))
    );
    assert_eq!(
        ari.call(
            "POST",
            &format!("/channels/{chan}/record"),
            &[("format", "wav")]
        )
        .await
        .0,
        400
    );
    // A live recording can be read and stopped.
    assert_eq!(
        ari.call(
            "POST",
            &format!("/channels/{chan}/record"),
            &[("name", "live"), ("format", "wav")]
        )
        .await
        .0,
        201
    );
    let (status, live) = ari.call("GET", "/recordings/live/live", &[]).await;
    assert_eq!((status, live["state"].as_str()), (200, Some("recording")));
    assert_eq!(
        ari.call("POST", "/recordings/live/live/stop", &[]).await.0,
        204
    );
    ivr.next_where(|e| e["type"] == "RecordingFinished" && e["recording"]["name"] == "live")
        .await;

    let (status, copy) = ari
        .call(
            "POST",
            "/recordings/stored/r/copy",
            &[("destinationRecordingName", "r2")],
        )
        .await;
    assert_eq!((status, copy["name"].as_str()), (200, Some("r2")));
    assert_eq!(
        ari.call(
            "POST",
            "/recordings/stored/r/copy",
            &[("destinationRecordingName", "r2")]
        )
        .await
        .0,
        409
    );
    let (_, list) = ari.call("GET", "/recordings/stored", &[]).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["live", "r", "r2"]);
    assert_eq!(
        ari.call("DELETE", "/recordings/stored/r2", &[]).await.0,
        204
    );
    assert_eq!(
        ari.call("DELETE", "/recordings/stored/r2", &[]).await.0,
        404
    );
    assert_eq!(
        ari.call("GET", "/recordings/stored/r2/file", &[]).await.0,
        404
    );
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.recordings, ["r", "r", "r", "live"]);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn authentication_and_parameter_validation() {
    let sim = sim(1.0).await;
    let client = reqwest::Client::new();
    let url = format!("{}/channels", sim.base_url());
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(
        client
            .get(&url)
            .basic_auth("asterisk", Some("wrong"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let with_key = client
        .get(format!("{url}?api_key=asterisk:asterisk"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status().as_u16(), 200);
    assert!(
        tokio_tungstenite::connect_async(format!("{}?app=x", sim.ws_url()))
            .await
            .is_err()
    );
    assert!(
        tokio_tungstenite::connect_async(format!("{}?api_key=asterisk:asterisk", sim.ws_url()))
            .await
            .is_err(),
        "app is required"
    );
    let ari = rest(&sim);
    let (status, body) = ari.call("POST", "/channels", &[("app", "x")]).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Endpoint must be specified"))
    );
    assert_eq!(
        ari.call("POST", "/channels", &[("endpoint", "PJSIP/agent-101")])
            .await
            .0,
        400
    );
    assert_eq!(
        ari.call("GET", "/channels/nope", &[]).await,
        (404, json!({"message": "Channel not found"}))
    );
    assert_eq!(ari.call("GET", "/playbacks/nope", &[]).await.0, 404);
    assert_eq!(ari.call("GET", "/bridges/nope", &[]).await.0, 404);
    assert_eq!(ari.call("GET", "/applications/nope", &[]).await.0, 404);
    assert_eq!(ari.call("GET", "/sounds/nope", &[]).await.0, 404);
    assert_eq!(ari.call("GET", "/nothing/here", &[]).await.0, 404);
    let (status, info) = ari.call("GET", "/asterisk/info", &[]).await;
    assert_eq!(
        (status, info["system"]["version"].as_str()),
        (200, Some("22.10.1"))
    );
    let (_, ping) = ari.call("GET", "/asterisk/ping", &[]).await;
    assert_eq!(ping["ping"], "pong");
    let (_, sound) = ari.call("GET", "/sounds/hello-world", &[]).await;
    assert_eq!(sound["formats"][0]["language"], "en");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn bridges_snoops_variables_move_and_redirect() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let mut other = app(&sim, "queue").await;
    let scenario = Scenario::new("981").step(Step::WaitHangup {
        timeout_seconds: 60.0,
    });
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    let (status, bridge) = ari
        .call(
            "POST",
            "/bridges/hold-1",
            &[("type", "holding"), ("name", "q")],
        )
        .await;
    assert_eq!(
        (status, bridge["bridge_type"].as_str()),
        (200, Some("holding"))
    );
    assert_eq!(
        ari.call("POST", "/bridges/hold-1/addChannel", &[("channel", "nope")])
            .await
            .0,
        400
    );
    assert_eq!(
        ari.call("POST", "/bridges/hold-1/addChannel", &[("channel", &chan)])
            .await
            .0,
        204
    );
    let entered = ivr.next("ChannelEnteredBridge").await;
    assert_eq!(entered["bridge"]["channels"], json!([chan]));
    assert_eq!(
        ari.call(
            "POST",
            "/bridges/hold-1/removeChannel",
            &[("channel", &chan)]
        )
        .await
        .0,
        204
    );
    ivr.next("ChannelLeftBridge").await;
    assert_eq!(
        ari.call(
            "POST",
            "/bridges/hold-1/removeChannel",
            &[("channel", &chan)]
        )
        .await
        .0,
        422
    );
    // A holding bridge left empty is no longer the app's: deleting it raises no BridgeDestroyed.
    assert_eq!(ari.call("DELETE", "/bridges/hold-1", &[]).await.0, 204);

    let (status, snoop) = ari
        .call(
            "POST",
            &format!("/channels/{chan}/snoop/sn-1"),
            &[("spy", "both"), ("app", "ivr-1100"), ("appArgs", "snoop")],
        )
        .await;
    assert_eq!((status, snoop["state"].as_str()), (200, Some("Up")));
    assert_eq!(ivr.next("StasisStart").await["args"], json!(["snoop"]));
    assert_eq!(
        ari.call(
            "POST",
            &format!("/channels/{chan}/snoop"),
            &[("spy", "sideways"), ("app", "ivr-1100")]
        )
        .await
        .0,
        400
    );

    assert_eq!(
        ari.call(
            "POST",
            &format!("/channels/{chan}/variable"),
            &[("variable", "LANG"), ("value", "hi")]
        )
        .await
        .0,
        204
    );
    assert_eq!(ivr.next("ChannelVarset").await["value"], "hi");
    let (_, v) = ari
        .call(
            "GET",
            &format!("/channels/{chan}/variable"),
            &[("variable", "LANG")],
        )
        .await;
    assert_eq!(v, json!({"value": "hi"}));
    assert_eq!(
        ari.call(
            "GET",
            &format!("/channels/{chan}/variable"),
            &[("variable", "NOPE")]
        )
        .await
        .0,
        404
    );

    // Moving the caller to another app: StasisEnd here, StasisStart there.
    assert_eq!(
        ari.call(
            "POST",
            &format!("/channels/{chan}/move"),
            &[("app", "queue")]
        )
        .await
        .0,
        204
    );
    ivr.next_where(|e| e["type"] == "StasisEnd" && e["channel"]["id"] == chan.as_str())
        .await;
    other.next("StasisStart").await;
    // Redirect transfers the call away.
    assert_eq!(
        ari.call(
            "POST",
            &format!("/channels/{chan}/redirect"),
            &[("endpoint", "PJSIP/agent-101")]
        )
        .await
        .0,
        204
    );
    other.next("StasisEnd").await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.transferred_to.as_deref(), Some("PJSIP/agent-101"));
    // The snoop went with its target.
    assert_eq!(ari.call("GET", "/channels/sn-1", &[]).await.0, 404);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn faults_rest_errors_delay_dropped_and_silent_websockets_restart() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    sim.inject(Fault::RestErrors { count: Some(2) })
        .await
        .unwrap();
    assert_eq!(ari.call("GET", "/channels", &[]).await.0, 500);
    assert_eq!(ari.call("GET", "/channels", &[]).await.0, 500);
    assert_eq!(ari.call("GET", "/channels", &[]).await.0, 200);
    sim.inject(Fault::RestDelay { ms: 150 }).await.unwrap();
    let before = std::time::Instant::now();
    assert_eq!(ari.call("GET", "/channels", &[]).await.0, 200);
    assert!(before.elapsed() >= Duration::from_millis(150));
    sim.inject(Fault::Clear).await.unwrap();

    // Silent: pings go unanswered until it is cleared.
    let mut ivr = app(&sim, "ivr-1100").await;
    sim.inject(Fault::Silent { on: true }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    ivr.outgoing.send(Message::Ping(vec![1].into())).unwrap();
    let quiet = ivr.drain(Duration::from_millis(300)).await;
    assert!(
        quiet.iter().all(|e| e["type"] != "__pong"),
        "no pong while silent"
    );
    sim.inject(Fault::Silent { on: false }).await.unwrap();
    ivr.next("__pong").await;

    // Dropping the WebSockets closes them.
    sim.inject(Fault::DropWebsockets).await.unwrap();
    tokio::time::timeout(WAIT, ivr.closed.wait_for(|c| *c))
        .await
        .unwrap()
        .unwrap();

    // Restart: every channel gone, calls end with a reason.
    let mut ivr = app(&sim, "ivr-1100").await;
    let call = sim
        .place_call(Scenario::new("981").step(Step::Wait { seconds: 60.0 }))
        .await
        .unwrap();
    ivr.next("StasisStart").await;
    sim.restart().await.unwrap();
    tokio::time::timeout(WAIT, ivr.closed.wait_for(|c| *c))
        .await
        .unwrap()
        .unwrap();
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert!(
        matches!(&result.outcome, CallOutcome::Failed { reason } if reason.contains("restarted"))
    );
    let (_, channels) = ari.call("GET", "/channels", &[]).await;
    assert_eq!(channels, json!([]));
    let stats = sim.stats().await.unwrap();
    assert_eq!((stats.restarts, stats.channels), (1, 0));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_sim_control_api_over_http() {
    let sim = sim(50.0).await;
    let client = reqwest::Client::new();
    let base = sim.control_url();
    let auth = |r: reqwest::RequestBuilder| r.basic_auth("asterisk", Some("asterisk"));
    assert_eq!(
        client
            .get(format!("{base}/stats"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = json!({"caller": "981", "steps": [{"action": "wait", "seconds": 1.0}, {"action": "hangup"}]});
    let response = auth(client.post(format!("{base}/calls")).json(&scenario))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<Value>().await.unwrap()["call_id"]
        .as_u64()
        .unwrap();
    ivr.next("StasisStart").await;
    let result: Value = auth(client.get(format!("{base}/calls/{id}?wait_ms=5000")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(result["outcome"]["status"], "completed");
    assert_eq!(result["hung_up_by"], "caller");
    let bad = auth(
        client
            .post(format!("{base}/calls"))
            .json(&json!({"caller": ""})),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert_eq!(
        auth(client.get(format!("{base}/calls/999")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let fault = auth(
        client
            .post(format!("{base}/faults"))
            .json(&json!({"fault": "rest_errors", "count": 1})),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(fault.status().as_u16(), 204);
    assert_eq!(rest(&sim).call("GET", "/channels", &[]).await.0, 500);
    let stats: Value = auth(client.get(format!("{base}/stats")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            stats["calls_placed"].as_u64(),
            stats["calls_completed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let list: Value = auth(client.get(format!("{base}/calls")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    // `take=true` hands the results over once.
    let taken: Value = auth(client.get(format!("{base}/calls?take=true")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(taken["results"].as_array().unwrap().len(), 1);
    assert!(sim.take_results().await.unwrap().is_empty());
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_connection_for_an_app_takes_over() {
    let sim = sim(20.0).await;
    let mut first = app(&sim, "ivr-1100").await;
    let mut second = app(&sim, "ivr-1100").await;
    assert_eq!(
        first.next("ApplicationReplaced").await["application"],
        "ivr-1100"
    );
    sim.place_call(Scenario::new("981")).await.unwrap();
    second.next("StasisStart").await;
    let stray = first.drain(Duration::from_millis(200)).await;
    assert!(
        stray.iter().all(|e| e["type"] != "StasisStart"),
        "the replaced connection hears nothing"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn paused_time_is_left_out_and_muted_time_is_silence() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981").step(Step::Speak { seconds: 60.0 });
    let (_, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    // Each step's simulated time, read back from the simulator (`/asterisk/ping`'s timestamp), so the
    // expectations do not depend on how long real sleeps and requests took on a busy machine.
    let mut at = Vec::new();
    let steps: [(&str, String); 6] = [
        (
            "POST",
            format!("/channels/{chan}/record?name=pm&format=wav"),
        ),
        ("POST", "/recordings/live/pm/pause".to_owned()),
        ("DELETE", "/recordings/live/pm/pause".to_owned()),
        ("POST", "/recordings/live/pm/mute".to_owned()),
        ("DELETE", "/recordings/live/pm/mute".to_owned()),
        ("POST", "/recordings/live/pm/stop".to_owned()),
    ];
    for (index, (method, path)) in steps.iter().enumerate() {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let query: Vec<(&str, &str)> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let before = model_ms(&ari).await;
        let status = ari.call(method, path, &query).await.0;
        assert!(status == 201 || status == 204, "{method} {path}: {status}");
        let after = model_ms(&ari).await;
        // The step happened somewhere between the two readings.
        at.push((before, after));
        if index == 1 {
            let (_, live) = ari.call("GET", "/recordings/live/pm", &[]).await;
            assert_eq!(live["state"], "paused");
        }
        // At 20x, 50 ms of real time is about 1 s of the call.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ivr.next("RecordingFinished").await;
    let (_, _, bytes) = ari.bytes("/recordings/stored/pm/file").await;
    let (_, samples) = wav_info(&bytes);
    // Recorded: from the start to the pause, and from the unpause to the stop (muted time included).
    let least = (at[1].0 - at[0].1) + (at[5].0 - at[2].1);
    let most = (at[1].1 - at[0].0) + (at[5].1 - at[2].0);
    let got_ms = samples.len() as i64 / 8;
    assert!(
        (least - 40..=most + 40).contains(&got_ms),
        "{got_ms} ms recorded, expected {least}..{most} (pause left out)"
    );
    // The muted stretch is silence in the middle of speech.
    let silent_frames = samples
        .chunks(160)
        .filter(|f| f.iter().all(|s| *s == 0))
        .count() as i64;
    let (fewest, most_frames) = ((at[4].0 - at[3].1) / 20, (at[4].1 - at[3].0) / 20);
    assert!(
        (fewest - 2..=most_frames + 2).contains(&silent_frames),
        "{silent_frames} silent 20 ms frames, muted for {fewest}..{most_frames}"
    );
    assert!(samples[..4000].iter().any(|s| s.unsigned_abs() > 256));
    sim.shutdown().await.unwrap();
}

/// The simulator's current simulated time in ms, from `/asterisk/ping`.
async fn model_ms(ari: &Rest) -> i64 {
    let (_, ping) = ari.call("GET", "/asterisk/ping", &[]).await;
    chrono::DateTime::parse_from_str(
        ping["timestamp"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap()
    .timestamp_millis()
}

#[tokio::test]
async fn bridge_playbacks_queue_and_reach_the_callers_in_the_bridge() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981").step(Step::WaitHangup {
        timeout_seconds: 60.0,
    });
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    ari.call("POST", "/bridges", &[("bridgeId", "b"), ("type", "mixing")])
        .await;
    ari.call("POST", "/bridges/b/addChannel", &[("channel", &chan)])
        .await;
    let (_, first) = ari
        .call(
            "POST",
            "/bridges/b/play/one",
            &[("media", "sound:hello-world")],
        )
        .await;
    assert_eq!(first["target_uri"], "bridge:b");
    let (status, second) = ari
        .call("POST", "/bridges/b/play/two", &[("media", "sound:beep")])
        .await;
    assert_eq!((status, second["state"].as_str()), (201, Some("queued")));
    let mut order = Vec::new();
    while order.len() < 4 {
        let e = ivr
            .next_where(|e| e["type"] == "PlaybackStarted" || e["type"] == "PlaybackFinished")
            .await;
        order.push(format!(
            "{} {}",
            e["type"].as_str().unwrap(),
            e["playback"]["id"].as_str().unwrap()
        ));
    }
    assert_eq!(
        order,
        [
            "PlaybackStarted one",
            "PlaybackFinished one",
            "PlaybackStarted two",
            "PlaybackFinished two"
        ]
    );
    assert_eq!(ari.call("DELETE", "/bridges/b", &[]).await.0, 204);
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    let heard: Vec<(&str, &str)> = result
        .heard
        .iter()
        .map(|h| (h.media_uri.as_str(), h.state.as_str()))
        .collect();
    assert_eq!(
        heard,
        [("sound:hello-world", "done"), ("sound:beep", "done")]
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn serve_runs_standalone_until_cancelled() {
    // A free port for the standalone runner (it is given a fixed address, like `helpline sim`).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = SimConfig {
        listen: ([127, 0, 0, 1], port).into(),
        speed: 50.0,
        ..SimConfig::default()
    };
    let token = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(ari_sim::serve(config, token.clone()));
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/sim/stats");
    let mut stats = None;
    for _ in 0..200 {
        if let Ok(response) = client
            .get(&url)
            .basic_auth("asterisk", Some("asterisk"))
            .send()
            .await
        {
            stats = Some(response.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stats.unwrap()["channels"], 0);
    token.cancel();
    tokio::time::timeout(WAIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // A second simulator on a taken address says so.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = SimConfig {
        listen: taken.local_addr().unwrap(),
        ..SimConfig::default()
    };
    let err = Simulator::start(config).await.unwrap_err();
    assert!(err.to_string().contains("cannot listen"), "{err}");
}

#[tokio::test]
async fn a_snoop_spying_in_records_what_the_caller_says() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981").step(Step::Speak { seconds: 30.0 });
    let (_, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    for (snoop, spy) in [("spy-in", "in"), ("spy-out", "out")] {
        let (status, _) = ari
            .call(
                "POST",
                &format!("/channels/{chan}/snoop/{snoop}"),
                &[("spy", spy), ("app", "ivr-1100")],
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = ari
            .call(
                "POST",
                &format!("/channels/{snoop}/record"),
                &[
                    ("name", snoop),
                    ("format", "wav"),
                    ("maxDurationSeconds", "1"),
                ],
            )
            .await;
        assert_eq!(status, 201);
    }
    let mut loud = BTreeMap::new();
    for _ in 0..2 {
        let done = ivr.next("RecordingFinished").await;
        let name = done["recording"]["name"].as_str().unwrap().to_owned();
        let (_, _, bytes) = ari.bytes(&format!("/recordings/stored/{name}/file")).await;
        let (_, samples) = wav_info(&bytes);
        loud.insert(name, samples.iter().any(|s| s.unsigned_abs() > 256));
    }
    // Spying "in" hears the caller; spying "out" hears what is sent to them (nothing here).
    assert!(loud["spy-in"], "spying in hears the caller");
    assert!(!loud["spy-out"], "spying out hears nothing here");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn music_on_hold_is_heard_by_the_caller() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("981")
        .step(Step::WaitPrompt {
            sound: Some("moh:queue".to_owned()),
            timeout_seconds: 10.0,
        })
        .step(Step::WaitHangup {
            timeout_seconds: 60.0,
        });
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    let moh = format!("/channels/{chan}/moh");
    assert_eq!(
        ari.call("POST", &moh, &[("mohClass", "queue")]).await.0,
        204
    );
    assert_eq!(ari.call("DELETE", &moh, &[]).await.0, 204);
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    assert_eq!(result.heard[0].media_uri, "moh:queue");
    assert_eq!(result.heard[0].state, "done");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn dead_air_and_spoken_complaints_are_measured_without_changing_the_call() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("9816000002")
        .step(Step::WaitPrompt {
            sound: Some("hello-world".to_owned()),
            timeout_seconds: 30.0,
        })
        .step(Step::WaitPromptEnd {
            timeout_seconds: 30.0,
        })
        .step(Step::Press {
            digits: "12".to_owned(),
            gap_ms: 250,
            duration_ms: 120,
        })
        .step(Step::WaitPrompt {
            sound: Some("beep".to_owned()),
            timeout_seconds: 60.0,
        })
        .step(Step::Speak { seconds: 2.0 })
        .step(Step::WaitPrompt {
            sound: Some("beep".to_owned()),
            timeout_seconds: 30.0,
        })
        .step(Step::WaitHangup {
            timeout_seconds: 30.0,
        });
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    ari.call(
        "POST",
        &format!("/channels/{chan}/play/pb-1"),
        &[("media", "sound:hello-world")],
    )
    .await;
    ivr.next("PlaybackFinished").await;
    // Both keys arrive; then the IVR says nothing for a while: 300 ms real, 6 s simulated at speed 20.
    ivr.next("ChannelDtmfReceived").await;
    ivr.next("ChannelDtmfReceived").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let record = |name: &'static str| {
        let ari = &ari;
        let chan = chan.clone();
        async move {
            let (status, body) = ari
                .call(
                    "POST",
                    &format!("/channels/{chan}/record"),
                    &[
                        ("name", name),
                        ("format", "wav"),
                        ("maxSilenceSeconds", "1"),
                        ("beep", "true"),
                    ],
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
    };
    // The caller speaks into the first take and says nothing in the second.
    record("take-spoken").await;
    ivr.next("RecordingFinished").await;
    record("take-silent").await;
    ivr.next("RecordingFinished").await;
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;

    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    assert_eq!(result.recordings, ["take-spoken", "take-silent"]);
    assert_eq!(result.spoken_recordings, ["take-spoken"]);
    // The longest dead air is the IVR's pause after the keys (the prompt, the key presses and both
    // recordings cover the rest); its start is the last key's release.
    let hello_end = result.heard[0].finished_ms.unwrap();
    let start = result.longest_silence_start_ms.unwrap();
    assert!(
        (5_000..=9_000).contains(&result.longest_silence_ms),
        "{result:?}"
    );
    assert!(start > hello_end && start < hello_end + 1_500, "{result:?}");
    assert!(
        result
            .silences
            .iter()
            .all(|s| s.ms >= ari_sim::REPORTED_SILENCE_MS)
    );
    assert!(result.silences.contains(&ari_sim::Silence {
        start_ms: start,
        ms: result.longest_silence_ms
    }));
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        (before.saturating_sub(50)..=after).contains(&result.started_unix_ms),
        "{} not in {before}..{after}",
        result.started_unix_ms
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unanswered_call_has_no_dead_air_and_a_transfer_ends_the_measure() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("9816000003").step(Step::WaitHangup {
        timeout_seconds: 60.0,
    });
    let call = sim.place_call(scenario.clone()).await.unwrap();
    let chan = ivr.next("StasisStart").await["channel"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(100)).await;
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.answered_ms, None);
    assert_eq!(
        (result.longest_silence_ms, result.longest_silence_start_ms),
        (0, None)
    );

    // Answered, then sent to the agents' context at once: what follows there is not the IVR's silence.
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    let (status, _) = ari
        .call(
            "POST",
            &format!("/channels/{chan}/continue"),
            &[("context", "agents"), ("extension", "noanswer")],
        )
        .await;
    assert_eq!(status, 204);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.restart().await.unwrap();
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert!(result.duration_ms >= 5_000, "{result:?}");
    assert!(result.longest_silence_ms < 1_000, "{result:?}");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_caller_who_answers_replays_presses_again_when_a_menu_comes_back() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let scenario = Scenario::new("9816000004")
        .step(Step::AnswerReplays)
        .step(Step::WaitPrompt {
            sound: Some("hello-world".to_owned()),
            timeout_seconds: 30.0,
        })
        .step(Step::WaitPromptEnd {
            timeout_seconds: 30.0,
        })
        .step(Step::Press {
            digits: "1".to_owned(),
            gap_ms: 250,
            duration_ms: 120,
        })
        .step(Step::WaitPrompt {
            sound: Some("digits:42".to_owned()),
            timeout_seconds: 30.0,
        })
        .step(Step::WaitHangup {
            timeout_seconds: 30.0,
        });
    let (call, chan) = place_and_answer(&sim, &mut ivr, &ari, scenario).await;
    // The IVR plays the menu, takes the key, and (as an engine restarted without it would) asks twice more;
    // then once more after its last prompt, while the caller only waits for the hangup.
    for id in ["pb-1", "pb-2", "pb-2b"] {
        ari.call(
            "POST",
            &format!("/channels/{chan}/play/{id}"),
            &[("media", "sound:hello-world")],
        )
        .await;
        ivr.next("PlaybackFinished").await;
        assert_eq!(ivr.next("ChannelDtmfReceived").await["digit"], "1");
    }
    for (id, media) in [("pb-3", "digits:42"), ("pb-4", "sound:hello-world")] {
        ari.call(
            "POST",
            &format!("/channels/{chan}/play/{id}"),
            &[("media", media)],
        )
        .await;
        ivr.next("PlaybackFinished").await;
    }
    assert_eq!(ivr.next("ChannelDtmfReceived").await["digit"], "1");
    ari.call(
        "POST",
        &format!("/channels/{chan}/play/pb-5"),
        &[("media", "digits:42")],
    )
    .await;
    ivr.next("PlaybackFinished").await;
    ari.call("DELETE", &format!("/channels/{chan}"), &[]).await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    assert_eq!(result.digits_sent, "1111");
    sim.shutdown().await.unwrap();
}
