//! Conformance with Asterisk's own API description (`../shared/ari-spec/22.10.1/*.json`, Swagger 1.2): every
//! event the simulator emits in a busy session, and every kind of REST reply body, is checked against the
//! spec's models — required properties present, types right, enumerated values allowed, no property the
//! model does not define. Where the spec folder is absent (a user's clone) the test says so and passes.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use ari_sim::{EndpointBehaviour, EndpointConfig, Scenario, SimConfig, SimHandle, Simulator, Step};
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

fn spec_dir() -> Option<PathBuf> {
    // `shared/` beside the workspace, found from any checkout below it (a worktree too).
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest
        .ancestors()
        .map(|d| d.join("shared/ari-spec/22.10.1"))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| manifest.join("../../../shared/ari-spec/22.10.1"));
    dir.join("events.json").exists().then_some(dir)
}

/// Every model of every API file, by name.
fn models(dir: &PathBuf) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        if let Some(models) = doc["models"].as_object() {
            for (name, model) in models {
                all.insert(name.clone(), model.clone());
            }
        }
    }
    all
}

/// The properties of a model including those it inherits (`subTypes` of a parent name it).
fn properties(models: &BTreeMap<String, Value>, name: &str) -> BTreeMap<String, Value> {
    let mut props = BTreeMap::new();
    for (parent, model) in models {
        let is_parent = model["subTypes"]
            .as_array()
            .is_some_and(|subs| subs.iter().any(|s| s == name));
        if is_parent {
            props.extend(properties(models, parent));
        }
    }
    if let Some(own) = models[name]["properties"].as_object() {
        for (k, v) in own {
            props.insert(k.clone(), v.clone());
        }
    }
    props
}

fn check(
    models: &BTreeMap<String, Value>,
    ty: &str,
    value: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    if let Some(inner) = ty.strip_prefix("List[").and_then(|t| t.strip_suffix(']')) {
        match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(models, inner, item, &format!("{path}[{i}]"), problems);
                }
            }
            None => problems.push(format!("{path}: expected a list of {inner}, got {value}")),
        }
        return;
    }
    let ok = match ty {
        "string" | "Date" => value.is_string(),
        "int" | "long" => value.is_i64() || value.is_u64(),
        "double" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        model if models.contains_key(model) => {
            let Some(obj) = value.as_object() else {
                problems.push(format!("{path}: expected a {model} object, got {value}"));
                return;
            };
            let props = properties(models, model);
            for (name, prop) in &props {
                let required = prop["required"].as_bool().unwrap_or(false);
                match obj.get(name) {
                    None if required => {
                        problems.push(format!("{path}.{name}: required by {model}, missing"))
                    }
                    None => {}
                    Some(v) => {
                        let prop_type = prop["type"].as_str().unwrap_or("object");
                        check(models, prop_type, v, &format!("{path}.{name}"), problems);
                        if let Some(values) = prop["allowableValues"]["values"].as_array()
                            && let Some(s) = v.as_str()
                            && !values.iter().any(|a| a == s)
                        {
                            problems.push(format!("{path}.{name}: {s:?} is not one of {values:?}"));
                        }
                    }
                }
            }
            for name in obj.keys() {
                if !props.contains_key(name) {
                    problems.push(format!("{path}.{name}: not a property of {model}"));
                }
            }
            true
        }
        other => {
            problems.push(format!(
                "{path}: the spec type {other} is unknown to this checker"
            ));
            true
        }
    };
    if !ok {
        problems.push(format!("{path}: expected {ty}, got {value}"));
    }
}

async fn listen(sim: &SimHandle, app: &str) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let url = format!("{}?app={app}&api_key=asterisk:asterisk", sim.ws_url());
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (_sink, mut stream) = ws.split();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _sink = _sink;
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(text) = msg {
                let _ = tx.send(serde_json::from_str::<Value>(&text).unwrap());
            }
        }
    });
    rx
}

struct Rest {
    client: reqwest::Client,
    base: String,
    replies: Vec<(String, String, Value)>,
}

impl Rest {
    /// Calls and keeps the reply body with the spec model it must match (`""`: no body check).
    async fn call(
        &mut self,
        model: &str,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Value {
        let response = self
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", self.base, path.replace(';', "%3B")),
            )
            .basic_auth("asterisk", Some("asterisk"))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value =
            serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        if !model.is_empty() {
            self.replies
                .push((model.to_owned(), format!("{method} {path}"), body.clone()));
        }
        body
    }
}

async fn wait_for(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>,
    seen: &mut Vec<Value>,
    ty: &str,
) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = rx.recv().await.unwrap();
            let done = e["type"] == ty;
            seen.push(e);
            if done {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {ty}"));
}

#[tokio::test]
async fn events_and_replies_match_the_ari_spec() {
    let Some(dir) = spec_dir() else {
        eprintln!("skipping: ../shared/ari-spec/22.10.1 is not present in this checkout");
        return;
    };
    let models = models(&dir);
    let sim = Simulator::start(SimConfig {
        speed: 20.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut caller = listen(&sim, "caller").await;
    let mut ivr = listen(&sim, "ivr-1100").await;
    let mut rest = Rest {
        client: reqwest::Client::new(),
        base: sim.base_url(),
        replies: Vec::new(),
    };
    let mut seen = Vec::new();

    rest.call(
        "Channel",
        "POST",
        "/channels",
        &[
            ("endpoint", "Local/1100@from-citizens/n"),
            ("app", "caller"),
            ("channelId", "c"),
            ("callerId", "\"Citizen\" <981>"),
        ],
    )
    .await;
    wait_for(&mut ivr, &mut seen, "StasisStart").await;
    rest.call("", "POST", "/channels/c;2/answer", &[]).await;
    rest.call("Channel", "GET", "/channels/c;2", &[]).await;
    rest.call("List[Channel]", "GET", "/channels", &[]).await;
    rest.call(
        "Playback",
        "POST",
        "/channels/c;2/play/p",
        &[("media", "sound:beep,digits:1")],
    )
    .await;
    rest.call("Playback", "GET", "/playbacks/p", &[]).await;
    wait_for(&mut ivr, &mut seen, "PlaybackFinished").await;
    rest.call("", "POST", "/channels/c/dtmf", &[("dtmf", "1")])
        .await;
    wait_for(&mut ivr, &mut seen, "ChannelDtmfReceived").await;
    rest.call(
        "",
        "POST",
        "/channels/c;2/variable",
        &[("variable", "X"), ("value", "1")],
    )
    .await;
    rest.call(
        "Variable",
        "GET",
        "/channels/c;2/variable",
        &[("variable", "X")],
    )
    .await;
    rest.call(
        "LiveRecording",
        "POST",
        "/channels/c;2/record",
        &[("name", "r"), ("format", "wav"), ("maxSilenceSeconds", "1")],
    )
    .await;
    rest.call("LiveRecording", "GET", "/recordings/live/r", &[])
        .await;
    wait_for(&mut ivr, &mut seen, "RecordingFinished").await;
    rest.call("StoredRecording", "GET", "/recordings/stored/r", &[])
        .await;
    rest.call("List[StoredRecording]", "GET", "/recordings/stored", &[])
        .await;
    rest.call("Bridge", "POST", "/bridges/b", &[("type", "mixing")])
        .await;
    rest.call("", "POST", "/bridges/b/addChannel", &[("channel", "c;2")])
        .await;
    rest.call("Bridge", "GET", "/bridges/b", &[]).await;
    rest.call("List[Bridge]", "GET", "/bridges", &[]).await;
    rest.call("", "DELETE", "/bridges/b", &[]).await;
    wait_for(&mut ivr, &mut seen, "BridgeDestroyed").await;
    rest.call(
        "Channel",
        "POST",
        "/channels/c;2/snoop/s",
        &[("app", "ivr-1100"), ("spy", "both")],
    )
    .await;
    rest.call("", "DELETE", "/channels/s", &[]).await;
    rest.call(
        "Channel",
        "POST",
        "/channels/agent",
        &[
            ("endpoint", "PJSIP/agent-102"),
            ("app", "ivr-1100"),
            ("timeout", "1"),
        ],
    )
    .await;
    // A phone that answers, holds, unholds and hangs up itself (a BYE).
    sim.set_endpoint(EndpointConfig::pjsip(
        "agent-301",
        "agents",
        EndpointBehaviour::Answer {
            after_seconds: 0.2,
            hangup_after_seconds: Some(1.0),
            hold_after_seconds: Some(0.2),
            unhold_after_seconds: Some(0.2),
        },
    ))
    .await
    .unwrap();
    rest.call(
        "Channel",
        "POST",
        "/channels/agent-301",
        &[
            ("endpoint", "PJSIP/agent-301"),
            ("app", "ivr-1100"),
            ("callerId", "\"Helpline 1100\" <1100>"),
        ],
    )
    .await;
    wait_for(&mut ivr, &mut seen, "ChannelUnhold").await;
    rest.call("Application", "GET", "/applications/ivr-1100", &[])
        .await;
    rest.call("List[Application]", "GET", "/applications", &[])
        .await;
    rest.call("AsteriskInfo", "GET", "/asterisk/info", &[])
        .await;
    rest.call("AsteriskPing", "GET", "/asterisk/ping", &[])
        .await;
    rest.call("List[Endpoint]", "GET", "/endpoints", &[]).await;
    rest.call("Endpoint", "GET", "/endpoints/PJSIP/agent-101", &[])
        .await;
    rest.call("Sound", "GET", "/sounds/hello-world", &[]).await;
    rest.call("List[Sound]", "GET", "/sounds", &[]).await;
    wait_for(&mut ivr, &mut seen, "ChannelDestroyed").await;
    rest.call("", "DELETE", "/channels/c;2", &[]).await;
    wait_for(&mut caller, &mut seen, "ChannelDestroyed").await;
    // A SIP-like caller hanging up (BYE), and an app taken over by a second connection.
    let call = sim
        .place_call(Scenario::new("981").step(Step::Hangup))
        .await
        .unwrap();
    sim.call_result(call, Duration::from_secs(10))
        .await
        .unwrap();
    wait_for(&mut ivr, &mut seen, "StasisEnd").await;
    let _second = listen(&sim, "ivr-1100").await;
    wait_for(&mut ivr, &mut seen, "ApplicationReplaced").await;
    while let Ok(e) = caller.try_recv() {
        seen.push(e);
    }

    let mut problems = Vec::new();
    let mut types = BTreeSet::new();
    for event in &seen {
        let ty = event["type"].as_str().unwrap_or_default().to_owned();
        if !models.contains_key(&ty) {
            problems.push(format!("event type {ty} is not in the spec"));
            continue;
        }
        check(&models, &ty, event, &ty, &mut problems);
        types.insert(ty);
    }
    for (model, what, body) in &rest.replies {
        check(&models, model, body, what, &mut problems);
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The session really exercised the event types an IVR and a call centre rely on.
    for ty in [
        "StasisStart",
        "StasisEnd",
        "ChannelStateChange",
        "ChannelDtmfReceived",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "ChannelVarset",
        "ChannelDialplan",
        "ChannelCallerId",
        "ChannelConnectedLine",
        "Dial",
        "PlaybackStarted",
        "PlaybackContinuing",
        "PlaybackFinished",
        "RecordingStarted",
        "RecordingFinished",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "BridgeDestroyed",
        "ApplicationReplaced",
        "ChannelHold",
        "ChannelUnhold",
    ] {
        assert!(
            types.contains(ty),
            "the session produced no {ty}; it produced {types:?}"
        );
    }
    sim.shutdown().await.unwrap();
}

#[test]
fn the_checker_catches_missing_extra_and_mistyped_properties() {
    let Some(dir) = spec_dir() else {
        eprintln!("skipping: ../shared/ari-spec/22.10.1 is not present in this checkout");
        return;
    };
    let models = models(&dir);
    let event: Value = serde_json::from_str(
        r#"{"type": "PlaybackFinished", "application": "a", "timestamp": "t", "bogus": 1,
            "playback": {"id": "p", "media_uri": "sound:x", "target_uri": "channel:c",
                         "language": "en", "state": "exploded"}}"#,
    )
    .unwrap();
    let mut problems = Vec::new();
    check(&models, "PlaybackFinished", &event, "ev", &mut problems);
    let text = problems.join("\n");
    assert!(text.contains("ev.bogus: not a property"), "{text}");
    assert!(text.contains("\"exploded\" is not one of"), "{text}");
    let mut problems = Vec::new();
    check(
        &models,
        "Variable",
        &serde_json::json!({"value": 5}),
        "v",
        &mut problems,
    );
    assert_eq!(problems, ["v.value: expected string, got 5"]);
    let mut problems = Vec::new();
    check(
        &models,
        "Variable",
        &serde_json::json!({}),
        "v",
        &mut problems,
    );
    assert_eq!(problems, ["v.value: required by Variable, missing"]);
}
