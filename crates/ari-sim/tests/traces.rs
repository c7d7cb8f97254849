//! Trace tests: every scenario captured from a real Asterisk 22.10.1 (`shared/ari-traces` beside the
//! workspace, or the copies in the workspace's `tests/fixtures/ari-traces/`, shared with `crates/ari`'s
//! trace tests; the ACD traces of 2026-12-02 are read from `shared` only until they are copied) is replayed
//! against the simulator with the same REST calls, at the same (scaled) moments, with the `caller` and
//! `ivr-1100` apps each on their own WebSocket. The simulator must answer with the same status codes and
//! key body fields, and emit the same events per side. Events on different
//! channels interleave non-deterministically in the real traces, so each side's events are compared per
//! entity (channel, playback, recording, bridge) in order: types, states and key fields, ids and times
//! normalised. Pure chatter (caller-id/connected-line updates, BRIDGEPEER, PLAYBACKSTATUS) is left out.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ari_sim::{
    DialplanApp, EndpointBehaviour, EndpointConfig, Scenario, SimConfig, SimHandle, Simulator, Step,
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// Replay speed: trace time runs this many times faster than real time.
const SPEED: f64 = 5.0;

/// `shared/ari-traces` beside the workspace (found from any checkout below it, a worktree too), else the
/// workspace's copies.
fn traces_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("shared/ari-traces"))
        .find(|dir| dir.join("README.md").exists())
        .unwrap_or_else(|| manifest.join("../../tests/fixtures/ari-traces"))
}

fn load(name: &str) -> Value {
    let path = traces_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

type Events = Arc<Mutex<Vec<Value>>>;

struct Side {
    reader: JoinHandle<()>,
    closer: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn connect(sim: &SimHandle, app: &str, events: Events) -> Side {
    let url = format!(
        "{}?app={app}&api_key={}:{}&subscribeAll=false",
        sim.ws_url(),
        sim.username(),
        sim.password()
    );
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let (closer, mut closed) = tokio::sync::oneshot::channel::<()>();
    let sink_events = events;
    let reader = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut closed => {
                    use futures_util::SinkExt;
                    let _ = sink.send(tokio_tungstenite::tungstenite::Message::Close(None)).await;
                    let _ = sink.close().await;
                    break;
                }
                msg = stream.next() => match msg {
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                        let v: Value = serde_json::from_str(&text).unwrap();
                        sink_events.lock().unwrap().push(v);
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
        }
    });
    Side {
        reader,
        closer: Some(closer),
    }
}

impl Side {
    async fn close(&mut self) {
        if let Some(c) = self.closer.take() {
            let _ = c.send(());
        }
        let _ = (&mut self.reader).await;
    }
}

/// What one side saw, by entity, as comparable signatures.
type Grouped = BTreeMap<String, Vec<String>>;

fn norm_id(id: &str, ids: &BTreeMap<String, String>) -> String {
    if let Some(mapped) = ids.get(id) {
        return mapped.clone();
    }
    let is_uuid = id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4;
    let is_unique = id.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && a.chars().all(|c| c.is_ascii_digit())
            && b.chars().all(|c| c.is_ascii_digit())
    });
    if is_uuid {
        "<uuid>".to_owned()
    } else if is_unique {
        "<uniqueid>".to_owned()
    } else {
        id.to_owned()
    }
}

fn ignored(ev: &Value) -> bool {
    let t = ev["type"].as_str().unwrap_or_default();
    if matches!(t, "ChannelCallerId" | "ChannelConnectedLine") {
        return true;
    }
    t == "ChannelVarset"
        && matches!(
            ev["variable"].as_str().unwrap_or_default(),
            "BRIDGEPEER" | "PLAYBACKSTATUS"
        )
}

fn signature(ev: &Value, ids: &BTreeMap<String, String>) -> (String, String) {
    let t = ev["type"].as_str().unwrap_or_default().to_owned();
    let chan = |v: &Value| norm_id(v["id"].as_str().unwrap_or_default(), ids);
    let mut sig = t.clone();
    let key;
    if let Some(c) = ev.get("channel") {
        key = format!("channel {}", chan(c));
        sig.push_str(&format!(
            " state={}",
            c["state"].as_str().unwrap_or_default()
        ));
    } else if let Some(p) = ev.get("peer") {
        key = format!("channel {}", chan(p));
        sig.push_str(&format!(
            " peer_state={}",
            p["state"].as_str().unwrap_or_default()
        ));
    } else if let Some(p) = ev.get("playback") {
        key = format!(
            "playback {}",
            norm_id(p["id"].as_str().unwrap_or_default(), ids)
        );
        sig.push_str(&format!(
            " state={} media={} next={}",
            p["state"].as_str().unwrap_or_default(),
            p["media_uri"].as_str().unwrap_or_default(),
            p["next_media_uri"].as_str().unwrap_or_default()
        ));
    } else if let Some(r) = ev.get("recording") {
        key = format!("recording {}", r["name"].as_str().unwrap_or_default());
        sig.push_str(&format!(
            " state={} target={} silence_fields={}",
            r["state"].as_str().unwrap_or_default(),
            r["target_uri"].as_str().unwrap_or_default(),
            r.get("talking_duration").is_some() && r.get("silence_duration").is_some()
        ));
    } else if let Some(b) = ev.get("bridge") {
        key = format!("bridge {}", b["id"].as_str().unwrap_or_default());
    } else {
        key = "application".to_owned();
    }
    for field in [
        "cause",
        "tech_cause",
        "soft",
        "digit",
        "duration_ms",
        "dialstatus",
        "dialplan_app",
        "musicclass",
    ] {
        if let Some(v) = ev.get(field) {
            sig.push_str(&format!(" {field}={v}"));
        }
    }
    if t == "ChannelVarset" {
        let variable = ev["variable"].as_str().unwrap_or_default();
        // RTP statistics are measurements of the call: their names and order matter, not the numbers.
        // A SIP Call-ID (`BRIDGEPVTCALLID`) is chosen anew on every run.
        let value = if variable.starts_with("RTPAUDIOQOS") {
            "\"<measured>\"".to_owned()
        } else {
            json!(norm_id(ev["value"].as_str().unwrap_or_default(), ids)).to_string()
        };
        sig.push_str(&format!(" {}={value}", ev["variable"]));
    }
    if let Some(args) = ev.get("args") {
        sig.push_str(&format!(" args={args}"));
    }
    if let Some(b) = ev.get("bridge")
        && ev.get("channel").is_some()
    {
        sig.push_str(&format!(" bridge={}", b["id"].as_str().unwrap_or_default()));
    }
    (key, sig)
}

fn group(events: &[Value], ids: &BTreeMap<String, String>) -> (Grouped, Vec<(String, i64)>) {
    let mut grouped = Grouped::new();
    let mut durations = Vec::new();
    for ev in events.iter().filter(|e| !ignored(e)) {
        let (key, sig) = signature(ev, ids);
        if ev["type"] == "RecordingFinished" {
            durations.push((
                key.clone(),
                ev["recording"]["duration"].as_i64().unwrap_or(-1),
            ));
        }
        grouped.entry(key).or_default().push(sig);
    }
    // A PJSIP phone's 180 raises `ChannelStateChange` (Ringing) and `Dial RINGING` in either order, the
    // Dial's peer seen Down or Ringing (both are in the captures): compare them in one order and state.
    for sigs in grouped.values_mut() {
        for i in 0..sigs.len() {
            if sigs[i].starts_with("Dial ") && sigs[i].ends_with(" dialstatus=\"RINGING\"") {
                sigs[i] = "Dial peer_state=Down|Ringing dialstatus=\"RINGING\"".to_owned();
                if i + 1 < sigs.len() && sigs[i + 1] == "ChannelStateChange state=Ringing" {
                    sigs.swap(i, i + 1);
                }
            }
        }
    }
    (grouped, durations)
}

/// Key fields of a REST reply body.
fn body_summary(body: &Value, ids: &BTreeMap<String, String>) -> String {
    match body {
        Value::Object(o) => {
            let mut parts = Vec::new();
            for k in [
                "id",
                "state",
                "media_uri",
                "next_media_uri",
                "target_uri",
                "message",
                "error",
                "format",
                "value",
                "bridge_type",
                "technology",
            ] {
                if let Some(v) = o.get(k) {
                    let mut text = match v {
                        Value::String(s) if k == "id" => norm_id(s, ids),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if k == "target_uri" {
                        let (scheme, id) = text.split_once(':').unwrap_or(("", &text));
                        text = format!("{scheme}:{}", norm_id(id, ids));
                    }
                    if k == "state"
                        && (text == "queued" || text == "playing")
                        && o.contains_key("media_uri")
                    {
                        text = "queued|playing".to_owned();
                    }
                    if k == "state" && o.contains_key("target_uri") && !o.contains_key("media_uri")
                    {
                        text = "queued|recording".to_owned();
                    }
                    parts.push(format!("{k}={text}"));
                }
            }
            if let Some(Value::Array(list)) = o.get("channel_ids") {
                let mut ids: Vec<String> = list
                    .iter()
                    .map(|v| norm_id(v.as_str().unwrap_or_default(), ids))
                    .collect();
                ids.sort();
                parts.push(format!("channel_ids={ids:?}"));
            }
            if let Some(system) = o.get("system") {
                parts.push(format!("version={}", system["version"]));
            }
            if let Some(Value::Array(formats)) = o.get("formats") {
                let langs: Vec<&str> = formats
                    .iter()
                    .filter_map(|f| f["language"].as_str())
                    .collect();
                parts.push(format!("languages={langs:?}"));
            }
            parts.join(" ")
        }
        Value::Array(items) => {
            let mut parts: Vec<String> = items.iter().map(|i| body_summary(i, ids)).collect();
            parts.sort();
            format!("[{}]", parts.join("; "))
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether two ids name the same call: a Local pair's halves (`x` and `x;2`) count as one, and a
/// playback or recording id may carry a prefix (`voice-<name>`).
fn same_call(event_id: &str, named: &str) -> bool {
    let base = |s: &str| s.split(';').next().unwrap_or_default().to_owned();
    base(event_id) == base(named) || event_id.starts_with(named)
}

/// Ids an event is about (channel, Dial peer, playback, recording, bridge).
fn event_entities(ev: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for (field, key) in [
        ("channel", "id"),
        ("peer", "id"),
        ("playback", "id"),
        ("recording", "name"),
        ("bridge", "id"),
    ] {
        if let Some(id) = ev.get(field).and_then(|v| v[key].as_str()) {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// Before the harness's action at `index`, waits (bounded) until the simulator has delivered the events
/// the trace logged before it — except the ones the action itself causes (events overtake the REST reply
/// in the log: those about the ids the request names, logged since the previous action). This keeps
/// cause and effect in order despite scaled timing, without waiting for effects of the action itself.
async fn wait_for_earlier_events(entries: &[Value], index: usize, sides: &BTreeMap<&str, Events>) {
    let entry = &entries[index];
    let t_ms = entry["t_ms"].as_f64().unwrap();
    let causes_events = entry["method"] != "GET";
    let mut named: Vec<String> = entry["path"]
        .as_str()
        .unwrap_or_default()
        .split('/')
        .filter(|s| s.len() > 3)
        .map(str::to_owned)
        .collect();
    if let Some(q) = entry["query"].as_object() {
        for v in q.values() {
            named.extend(
                v.as_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| s.len() > 3)
                    .map(str::to_owned),
            );
        }
    }
    let previous_action_ms = entries[..index]
        .iter()
        .rev()
        .find(|e| e["kind"] != "event")
        .map_or(0.0, |e| e["t_ms"].as_f64().unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    for (side, events) in sides {
        let want = entries[..index]
            .iter()
            .filter(|e| e["kind"] == "event" && e["side"] == *side && !ignored(&e["event"]))
            .filter(|e| {
                // A digit is never the effect of the request that follows it in the log.
                let caused_by_this = causes_events
                    && e["event"]["type"] != "ChannelDtmfReceived"
                    && e["t_ms"].as_f64().unwrap() > previous_action_ms.max(t_ms - 8.0)
                    && event_entities(&e["event"])
                        .iter()
                        .any(|id| named.iter().any(|n| same_call(id, n)));
                !caused_by_this
            })
            .count();
        while events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| !ignored(e))
            .count()
            < want
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The simulator set up as the trace's capture was: the ACD captures (2026-12-02) set the citizen's
/// language in the dialplan, and their SIPp phone on agent-101 hung up or held as each description says.
async fn simulator_for(name: &str, trace: &Value) -> SimHandle {
    let mut config = SimConfig {
        speed: SPEED,
        ..SimConfig::default()
    };
    if trace["asterisk"]["captured"] == "2026-12-02" {
        config.dialplan.get_mut("from-citizens").unwrap().insert(
            "1100".to_owned(),
            vec![
                DialplanApp::NoOp {
                    text: "1100 call from ${CALLERID(num)}".to_owned(),
                },
                DialplanApp::Set {
                    name: "CHANNEL(language)".to_owned(),
                    value: "hi".to_owned(),
                },
                DialplanApp::Stasis {
                    name: "ivr-1100".to_owned(),
                    args: Vec::new(),
                },
                DialplanApp::Hangup,
            ],
        );
    }
    let sim = Simulator::start(config).await.unwrap();
    let phone = match name {
        // `uas_answer_then_bye`: a BYE 4 s after the ACK.
        "queue_hold_moh" => {
            Some(json!({"kind": "answer", "after_seconds": 2.0, "hangup_after_seconds": 4.0}))
        }
        // `uas_answer_hold`: re-INVITEs sendonly 1.5 s after the ACK and sendrecv 1.5 s later.
        "agent_phone_hold" => Some(json!({"kind": "answer", "after_seconds": 2.0,
                                          "hold_after_seconds": 1.5, "unhold_after_seconds": 1.5})),
        _ => None,
    };
    if let Some(behaviour) = phone {
        // Through the control API, as a test or `helpline demo` would set a phone up.
        let endpoint = json!({"technology": "PJSIP", "resource": "agent-101", "context": "agents",
                              "behaviour": behaviour});
        let response = reqwest::Client::new()
            .post(format!("{}/endpoints", sim.control_url()))
            .basic_auth(sim.username(), Some(sim.password()))
            .json(&endpoint)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 204);
        let set: Vec<EndpointConfig> = sim.endpoints().await.unwrap();
        assert!(
            set.iter()
                .any(|e| e.resource == "agent-101" && e.behaviour != EndpointBehaviour::answer(2.0)),
            "{set:?}"
        );
    }
    sim
}

/// The simulated SIP call a trace of a real SIP call (sipp) is replayed with.
fn sip_caller(name: &str) -> Option<Scenario> {
    match name {
        "sip_call_dtmf" => Some(
            Scenario {
                caller_name: "sipp".to_owned(),
                ..Scenario::new("sipp")
            }
            .step(Step::WaitPrompt {
                sound: Some("hello-world".to_owned()),
                timeout_seconds: 10.0,
            })
            .step(Step::WaitPromptEnd {
                timeout_seconds: 10.0,
            })
            .step(Step::Wait { seconds: 0.2 })
            .step(Step::Press {
                digits: "123".to_owned(),
                gap_ms: 424,
                duration_ms: 280,
            })
            .step(Step::Wait { seconds: 1.3 })
            .step(Step::Hangup),
        ),
        "redirect_pjsip" => Some(
            Scenario {
                caller_name: "Citizen".to_owned(),
                ..Scenario::new("9816000003")
            }
            .step(Step::WaitHangup {
                timeout_seconds: 30.0,
            }),
        ),
        _ => None,
    }
}

/// Replays one trace; returns every difference found.
async fn replay(name: &str) -> Vec<String> {
    let trace = load(name);
    let entries = trace["entries"].as_array().unwrap().clone();
    let sim = simulator_for(name, &trace).await;
    let client = reqwest::Client::new();
    let mut sides: BTreeMap<&str, Events> = BTreeMap::new();
    for s in ["caller", "ivr", "ivr2"] {
        sides.insert(s, Arc::new(Mutex::new(Vec::new())));
    }
    let mut caller = connect(&sim, "caller", sides["caller"].clone()).await;
    let mut ivr = connect(&sim, "ivr-1100", sides["ivr"].clone()).await;
    let mut ivr2: Option<Side> = None;
    let mut diffs = Vec::new();
    // Trace ids the simulator chooses differently (SIP unique ids) → the simulator's.
    let mut id_map: BTreeMap<String, String> = BTreeMap::new();
    let mut sip_ids: Option<(String, String)> = None;
    if let Some(scenario) = sip_caller(name) {
        sim.place_call(scenario).await.unwrap();
        let trace_id = entries
            .iter()
            .find(|e| e["event"]["type"] == "StasisStart")
            .map(|e| e["event"]["channel"]["id"].as_str().unwrap().to_owned())
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let sim_id = loop {
            if let Some(ev) = sides["ivr"]
                .lock()
                .unwrap()
                .iter()
                .find(|e| e["type"] == "StasisStart")
            {
                break ev["channel"]["id"].as_str().unwrap().to_owned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the simulated SIP call never reached the IVR"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        id_map.insert(trace_id.clone(), "<sip-call>".to_owned());
        id_map.insert(sim_id.clone(), "<sip-call>".to_owned());
        sip_ids = Some((trace_id, sim_id));
    }
    let start = tokio::time::Instant::now();
    for (index, entry) in entries.iter().enumerate() {
        let t_ms = entry["t_ms"].as_f64().unwrap();
        tokio::time::sleep_until(start + Duration::from_secs_f64(t_ms / 1000.0 / SPEED)).await;
        if entry["kind"] != "event" || entry["event"]["type"] == "ApplicationReplaced" {
            // What the harness did at t_ms was done after it had seen the events logged clearly earlier;
            // wait (bounded) until the simulator has delivered as many, so scaled timing cannot reorder
            // cause and effect.
            wait_for_earlier_events(&entries, index, &sides).await;
        }
        match entry["kind"].as_str().unwrap() {
            "note" => {
                let text = entry["text"].as_str().unwrap_or_default();
                if text.contains("WebSocket closed") {
                    ivr.close().await;
                    // Give the simulator a moment to notice the app is gone.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                } else if text.contains("connected again") {
                    ivr = connect(&sim, "ivr-1100", sides["ivr"].clone()).await;
                }
            }
            "event" => {
                if entry["event"]["type"] == "ApplicationReplaced" && ivr2.is_none() {
                    ivr2 = Some(connect(&sim, "ivr-1100", sides["ivr2"].clone()).await);
                }
            }
            "rest" => {
                let mut path = entry["path"].as_str().unwrap().to_owned();
                if let Some((trace_id, sim_id)) = &sip_ids {
                    path = path.replace(trace_id.as_str(), sim_id);
                }
                let method =
                    reqwest::Method::from_bytes(entry["method"].as_str().unwrap().as_bytes())
                        .unwrap();
                let url = format!("{}{}", sim.base_url(), path.replace(';', "%3B"));
                let query: Vec<(String, String)> = entry["query"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut request = client
                    .request(method, url)
                    .basic_auth(sim.username(), Some(sim.password()))
                    .query(&query);
                if let Some(body) = entry.get("request_body") {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let expected_status = entry["status"].as_u64().unwrap() as u16;
                let what = format!(
                    "{} {} {:?}",
                    entry["method"].as_str().unwrap(),
                    entry["path"].as_str().unwrap(),
                    query
                );
                if status != expected_status {
                    diffs.push(format!("{what}: status {status}, trace {expected_status}"));
                    continue;
                }
                if let Some(ct) = entry.get("response_content_type") {
                    let got = response
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let bytes = response.bytes().await.unwrap();
                    if got != ct.as_str().unwrap() || bytes.len() < 44 || &bytes[..4] != b"RIFF" {
                        diffs.push(format!(
                            "{what}: content-type {got}, {} bytes; trace {ct}",
                            bytes.len()
                        ));
                    }
                } else if let Some(expected) = entry.get("response") {
                    let text = response.text().await.unwrap();
                    let got: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let (mut g, e) = (body_summary(&got, &id_map), body_summary(expected, &id_map));
                    if path == "/endpoints" {
                        // The simulator knows more endpoints than the capture set-up had; the traced ones must be there.
                        let wanted = expected.as_array().unwrap();
                        let all_there = wanted.iter().all(|w| {
                            got.as_array().unwrap().iter().any(|x| {
                                x["resource"] == w["resource"] && x["technology"] == w["technology"]
                            })
                        });
                        g = if all_there { e.clone() } else { g };
                    }
                    if g != e {
                        diffs.push(format!("{what}:\n    sim:   {g}\n    trace: {e}"));
                    }
                }
            }
            other => panic!("unknown entry kind {other}"),
        }
    }
    // Let trailing events arrive.
    tokio::time::sleep(Duration::from_millis(150)).await;
    caller.close().await;
    ivr.close().await;
    if let Some(mut s) = ivr2 {
        s.close().await;
    }
    for (side, events) in &sides {
        let expected: Vec<Value> = entries
            .iter()
            .filter(|e| e["kind"] == "event" && e["side"] == *side)
            .map(|e| e["event"].clone())
            .collect();
        let got = events.lock().unwrap().clone();
        let (want, want_durations) = group(&expected, &id_map);
        let (have, have_durations) = group(&got, &id_map);
        let keys: std::collections::BTreeSet<&String> = want.keys().chain(have.keys()).collect();
        for key in keys {
            let w = want.get(key).cloned().unwrap_or_default();
            let h = have.get(key).cloned().unwrap_or_default();
            if w != h {
                diffs.push(format!(
                    "side {side}, {key}:\n    sim:   {}\n    trace: {}",
                    h.join("\n           "),
                    w.join("\n           ")
                ));
            }
        }
        for (key, want_d) in &want_durations {
            if let Some((_, have_d)) = have_durations.iter().find(|(k, _)| k == key)
                && (have_d - want_d).abs() > 1
            {
                diffs.push(format!(
                    "side {side}, {key}: duration {have_d}s, trace {want_d}s (±1 allowed)"
                ));
            }
        }
    }
    sim.shutdown().await.unwrap();
    diffs
}

/// Differences from the real Asterisk that are known and accepted, each with its reason. A difference
/// listed here is still reported if it changes; anything not listed fails the test.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "record_silence",
        "side caller, channel caller-a0596d2c:",
        "real Asterisk reported cause 0 \"Unknown\" on this one ;1 ChannelDestroyed; every other capture has 16",
    ),
    (
        "transfer_with_variables",
        "side caller, channel caller-a5866b7d:",
        "the same race: cause 0 on the ;1 ChannelDestroyed; continue_and_vars, the same flow, has 16",
    ),
];

async fn check(name: &str) {
    let diffs: Vec<String> = replay(name)
        .await
        .into_iter()
        .filter(|d| {
            !KNOWN.iter().any(|(trace, prefix, _)| {
                *trace == name && d.starts_with(prefix) && d.contains("cause=0")
            })
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "{name}: {} difference(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

macro_rules! trace_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                check(stringify!($name)).await;
            }
        )*
    };
}

trace_tests!(
    answer_play_hangup,
    app_disconnect,
    app_state,
    barge_in_dtmf,
    bridge_agent,
    continue_and_vars,
    errors,
    hangup_during_playback,
    hangup_while_recording,
    originate_no_answer,
    record_complaint,
    record_max_duration,
    record_silence,
    record_speech_then_silence,
    say_digits_number,
    sip_call_dtmf,
    snoop,
    agent_busy,
    agent_unreachable,
    agent_no_response,
    agent_no_response_sip_timeout,
    queue_hold_moh,
    supervisor_listen_whisper_barge,
    transfer_with_variables,
    redirect_pjsip,
    moh_and_hold,
    agent_phone_hold,
);

#[test]
fn every_trace_has_a_test() {
    // The traces the project has taken in (its copies); `../shared` may hold newer ones not yet taken in.
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ari-traces");
    let mut names: Vec<String> = std::fs::read_dir(fixtures)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    let source = include_str!("traces.rs");
    for name in names {
        assert!(
            source.contains(&format!("    {name},\n")),
            "trace {name} has no test"
        );
    }
}
