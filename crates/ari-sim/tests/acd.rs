//! What a call centre drives the simulator through, over its real sockets (raw HTTP + WebSocket): agent
//! phones originated into the app and what each does (the `/sim/endpoints` API), holding bridges with
//! music on hold, mixing bridges of two and three, hangups, snoops, barge, a supervisor's Local leg,
//! variables and `continue` on an agent, redirect and hold. The sequences are those of the ACD traces
//! (`shared/ari-traces`, "ACD flows"; `tests/traces.rs` replays the traces themselves).

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use ari_sim::{
    CallOutcome, EndpointBehaviour, EndpointConfig, HungUpBy, Scenario, SimHandle, Step,
};
use serde_json::{Value, json};
use support::{App, Rest, WAIT, app, place_and_answer, rest, sim};

/// Events until (and with) the first one `last` accepts.
async fn until(app: &mut App, mut last: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, async {
        loop {
            let e = app.events.recv().await.expect("websocket closed");
            let done = last(&e);
            seen.push(e);
            if done {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out; saw {seen:#?}"));
    seen
}

/// `type` of each event about `channel` (as `channel` or as a Dial's `peer`), with the field that tells
/// it apart: a Dial's status, a variable's name, a hangup's cause.
fn sequence(events: &[Value], channel: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["channel"]["id"] == channel || e["peer"]["id"] == channel)
        .map(|e| {
            let ty = e["type"].as_str().unwrap_or_default();
            match ty {
                "Dial" => format!("Dial {}", e["dialstatus"].as_str().unwrap_or_default()),
                "ChannelVarset" => format!("Varset {}", e["variable"].as_str().unwrap_or_default()),
                "ChannelStateChange" => {
                    format!("State {}", e["channel"]["state"].as_str().unwrap())
                }
                "ChannelHangupRequest" | "ChannelDestroyed" => {
                    format!(
                        "{ty} {}",
                        e.get("cause").map_or("-".to_owned(), Value::to_string)
                    )
                }
                _ => ty.to_owned(),
            }
        })
        .collect()
}

/// Simulated ms from event `a` to event `b` (their `timestamp`s).
fn ms_between(a: &Value, b: &Value) -> i64 {
    let at = |e: &Value| {
        chrono::DateTime::parse_from_str(
            e["timestamp"].as_str().unwrap(),
            "%Y-%m-%dT%H:%M:%S%.3f%z",
        )
        .unwrap()
        .timestamp_millis()
    };
    at(b) - at(a)
}

/// The first `Dial` among `events` (its INVITE going out).
fn first_dial(events: &[Value]) -> &Value {
    events.iter().find(|e| e["type"] == "Dial").unwrap()
}

const QOS: [&str; 5] = [
    "Varset RTPAUDIOQOS",
    "Varset RTPAUDIOQOSJITTER",
    "Varset RTPAUDIOQOSLOSS",
    "Varset RTPAUDIOQOSRTT",
    "Varset RTPAUDIOQOSMES",
];

/// An answered agent leg bridged with a PJSIP caller hanging up (`request`: by its BYE, or a DELETE).
fn bridged_pjsip_hangup(request: &str) -> Vec<String> {
    let mut sequence = strings(&QOS);
    sequence.extend(strings(&[
        request,
        "Varset BRIDGEPEER",
        "Varset BRIDGEPVTCALLID",
        "ChannelLeftBridge",
        "StasisEnd",
        "Varset STASISSTATUS",
        "ChannelDestroyed 16",
    ]));
    sequence
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Originates `endpoint` into `ivr-1100` as the ACD does (client-chosen id, `appArgs=agent`).
async fn originate(ari: &Rest, id: &str, endpoint: &str, timeout: &str) -> (u16, Value) {
    ari.call(
        "POST",
        "/channels",
        &[
            ("endpoint", endpoint),
            ("app", "ivr-1100"),
            ("appArgs", "agent"),
            ("channelId", id),
            ("timeout", timeout),
            ("callerId", "\"Helpline 1100\" <1100>"),
        ],
    )
    .await
}

/// Adds a simulated phone through `POST /sim/endpoints`.
async fn phone(sim: &SimHandle, resource: &str, behaviour: Value) -> u16 {
    let body = json!({"technology": "PJSIP", "resource": resource, "context": "agents", "behaviour": behaviour});
    reqwest::Client::new()
        .post(format!("{}/endpoints", sim.control_url()))
        .basic_auth(sim.username(), Some(sim.password()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A simulated citizen in Stasis, answered, staying on the line.
async fn citizen(sim: &SimHandle, ivr: &mut App, ari: &Rest) -> (u64, String) {
    let scenario = Scenario::new("9816000001").step(Step::WaitHangup {
        timeout_seconds: 120.0,
    });
    place_and_answer(sim, ivr, ari, scenario).await
}

/// A mixing bridge `id` with `channels` in it; returns the ChannelEnteredBridge events and the rest seen.
async fn mixing_bridge(ari: &Rest, ivr: &mut App, id: &str, channels: &[&str]) -> Vec<Value> {
    let (status, bridge) = ari
        .call("POST", &format!("/bridges/{id}"), &[("type", "mixing")])
        .await;
    assert_eq!(
        (status, bridge["technology"].as_str()),
        (200, Some("simple_bridge"))
    );
    let list = channels.join(",");
    assert_eq!(
        ari.call(
            "POST",
            &format!("/bridges/{id}/addChannel"),
            &[("channel", &list)]
        )
        .await
        .0,
        204
    );
    let last = channels[channels.len() - 1].to_owned();
    until(ivr, |e| {
        e["type"] == "ChannelEnteredBridge" && e["channel"]["id"] == last.as_str()
    })
    .await
}

#[tokio::test]
async fn a_pjsip_agent_is_dialled_rings_answers_and_enters_the_app() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let (status, reply) = originate(&ari, "agent-1", "PJSIP/agent-101", "20").await;
    assert_eq!(status, 200);
    assert_eq!(reply["state"], "Down");
    let name = reply["name"].as_str().unwrap();
    let suffix = name.strip_prefix("PJSIP/agent-101-").unwrap();
    assert!(
        suffix.len() == 8 && suffix.chars().all(|c| c.is_ascii_hexdigit()),
        "{name}"
    );
    assert!(!reply["protocol_id"].as_str().unwrap().is_empty());
    assert_eq!(
        reply["dialplan"],
        json!({"context": "agents", "exten": "s", "priority": 1, "app_name": "AppDial2",
               "app_data": "(Outgoing Line)"})
    );
    let helpline = json!({"name": "Helpline 1100", "number": "1100"});
    assert_eq!(
        (&reply["caller"], &reply["connected"]),
        (&helpline, &helpline)
    );

    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(
        sequence(&events, "agent-1"),
        strings(&[
            "Dial ",
            "State Ringing",
            "Dial RINGING",
            "State Up",
            "Dial ANSWER",
            "Varset STASISSTATUS",
            "StasisStart"
        ]),
        "no ChannelDialplan or ChannelCallerId for a PJSIP originate"
    );
    let dial = &events[0];
    assert_eq!(dial["dialstring"], "agent-101");
    assert!(dial.get("caller").is_none(), "{dial}");
    let start = events.last().unwrap();
    assert_eq!(start["args"], json!(["agent"]));
    assert_eq!(
        start["channel"]["dialplan"]["app_data"], "ivr-1100,agent",
        "{start}"
    );
    // agent-101 answers 2 s after its INVITE.
    assert_eq!(ms_between(dial, start), 2000);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn what_each_phone_does_is_set_through_sim_endpoints() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let bye = json!({"kind": "answer", "after_seconds": 1.0, "hangup_after_seconds": 2.0});
    assert_eq!(phone(&sim, "agent-201", bye).await, 204);
    assert_eq!(phone(&sim, "agent-202", json!({"kind": "busy"})).await, 204);
    assert_eq!(
        phone(&sim, "agent-203", json!({"kind": "unreachable"})).await,
        204
    );
    assert_eq!(
        phone(&sim, "agent-204", json!({"kind": "no_response"})).await,
        204
    );
    let hold = json!({"kind": "answer", "after_seconds": 0.5, "hold_after_seconds": 1.0,
                      "unhold_after_seconds": 1.5});
    assert_eq!(phone(&sim, "agent-205", hold).await, 204);
    let bad = json!({"kind": "answer", "after_seconds": -1.0});
    assert_eq!(phone(&sim, "agent-206", bad).await, 400);
    let listed = sim.endpoints().await.unwrap();
    assert!(listed.contains(&EndpointConfig::pjsip(
        "agent-202",
        "agents",
        EndpointBehaviour::Busy
    )));
    assert!(!listed.iter().any(|e| e.resource == "agent-206"));

    // Answers after 1 s, then the phone hangs up itself (a BYE) 2 s later, while bridged with a caller,
    // who stays in the bridge.
    let (_, caller) = citizen(&sim, &mut ivr, &ari).await;
    originate(&ari, "agent-1", "PJSIP/agent-201", "20").await;
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(
        ms_between(first_dial(&events), events.last().unwrap()),
        1000
    );
    let answered = events.last().unwrap().clone();
    mixing_bridge(&ari, &mut ivr, "call-1", &[&caller, "agent-1"]).await;
    let events = until(&mut ivr, |e| e["type"] == "ChannelDestroyed").await;
    let from_bye = events
        .iter()
        .position(|e| e["variable"] == "RTPAUDIOQOS")
        .unwrap();
    let events = &events[from_bye..];
    // Both are PJSIP channels: each has the other's Call-ID in BRIDGEPVTCALLID, cleared as it leaves.
    assert_eq!(
        sequence(events, "agent-1"),
        bridged_pjsip_hangup("ChannelHangupRequest -")
    );
    assert_eq!(ms_between(&answered, events.last().unwrap()), 2000);
    let bridged: Vec<String> = QOS.iter().map(|q| format!("{q}BRIDGED")).collect();
    assert_eq!(sequence(events, &caller), bridged);
    let (_, bridge) = ari.call("GET", "/bridges/call-1", &[]).await;
    assert_eq!(bridge["channels"], json!([caller]));

    // Busy (486): cause 17 at once, no StasisStart, the channel gone.
    originate(&ari, "agent-2", "PJSIP/agent-202", "20").await;
    let events = until(&mut ivr, |e| e["type"] == "ChannelDestroyed").await;
    assert_eq!(
        sequence(&events, "agent-2"),
        strings(&[
            "Dial ",
            "ChannelHangupRequest 17",
            "Dial BUSY",
            "ChannelDestroyed 17"
        ])
    );
    let destroyed = events.last().unwrap();
    assert_eq!(
        (&destroyed["cause_txt"], &destroyed["tech_cause"]),
        (&json!("User busy"), &json!(486))
    );
    let request = events
        .iter()
        .find(|e| e["type"] == "ChannelHangupRequest")
        .unwrap();
    assert_eq!(request["tech_cause"], 486);
    assert_eq!(ari.call("GET", "/channels/agent-2", &[]).await.0, 404);

    // Unreachable: the originate is refused, nothing follows, the endpoint is offline.
    let (status, body) = originate(&ari, "agent-3", "PJSIP/agent-203", "20").await;
    assert_eq!((status, body), (500, json!({"error": "Allocation failed"})));
    let (_, endpoint) = ari.call("GET", "/endpoints/PJSIP/agent-203", &[]).await;
    assert_eq!(
        endpoint,
        json!({"technology": "PJSIP", "resource": "agent-203", "state": "offline", "channel_ids": []})
    );

    // No response: at the originate timeout only ChannelDestroyed (19, SIP 480) …
    originate(&ari, "agent-4", "PJSIP/agent-204", "3").await;
    let events = until(&mut ivr, |e| e["type"] == "ChannelDestroyed").await;
    assert_eq!(
        sequence(&events, "agent-4"),
        strings(&["Dial ", "ChannelDestroyed 19"]),
        "agent-3 raised nothing: {events:#?}"
    );
    assert_eq!(events.last().unwrap()["tech_cause"], 480);
    assert_eq!(
        ms_between(first_dial(&events), events.last().unwrap()),
        3000
    );
    // … and with a timeout above 32 s, the SIP transaction's timeout at 32 s (18, SIP 408).
    originate(&ari, "agent-5", "PJSIP/agent-204", "60").await;
    let events = until(&mut ivr, |e| e["type"] == "ChannelDestroyed").await;
    assert_eq!(
        sequence(&events, "agent-5"),
        strings(&[
            "Dial ",
            "ChannelHangupRequest 18",
            "Dial NOANSWER",
            "ChannelDestroyed 18"
        ])
    );
    assert_eq!(events.last().unwrap()["tech_cause"], 408);
    assert_eq!(
        ms_between(first_dial(&events), events.last().unwrap()),
        32_000
    );

    // The phone holds (re-INVITE sendonly) and unholds itself.
    originate(&ari, "agent-6", "PJSIP/agent-205", "20").await;
    let start = until(&mut ivr, |e| e["type"] == "StasisStart")
        .await
        .pop()
        .unwrap();
    let held = until(&mut ivr, |e| e["type"] == "ChannelHold")
        .await
        .pop()
        .unwrap();
    assert_eq!(held["musicclass"], "default");
    assert_eq!(ms_between(&start, &held), 1000);
    let unheld = until(&mut ivr, |e| e["type"] == "ChannelUnhold")
        .await
        .pop()
        .unwrap();
    assert_eq!(ms_between(&held, &unheld), 1500);

    // An endpoint removed is no longer there to call.
    let remove = |resource: &str| {
        reqwest::Client::new()
            .delete(format!("{}/endpoints/PJSIP/{resource}", sim.control_url()))
            .basic_auth(sim.username(), Some(sim.password()))
            .send()
    };
    assert_eq!(remove("agent-205").await.unwrap().status().as_u16(), 204);
    assert_eq!(remove("agent-205").await.unwrap().status().as_u16(), 404);
    assert_eq!(
        originate(&ari, "agent-7", "PJSIP/agent-205", "20").await.0,
        500
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn callers_wait_in_a_holding_bridge_with_music_and_meet_agents_in_a_mixing_one() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let (first_call, first) = citizen(&sim, &mut ivr, &ari).await;
    let (_, second) = citizen(&sim, &mut ivr, &ari).await;
    let (status, queue) = ari
        .call(
            "POST",
            "/bridges/queue-1",
            &[("type", "holding"), ("name", "queue-helpline")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&queue["technology"], &queue["bridge_type"], &queue["name"]),
        (
            &json!("holding_bridge"),
            &json!("holding"),
            &json!("queue-helpline")
        )
    );
    let both = format!("{first},{second}");
    assert_eq!(
        ari.call("POST", "/bridges/queue-1/addChannel", &[("channel", &both)])
            .await
            .0,
        204
    );
    let events = until(&mut ivr, |e| {
        e["type"] == "ChannelEnteredBridge" && e["channel"]["id"] == second.as_str()
    })
    .await;
    // A holding bridge sets no BRIDGEPEER.
    assert!(
        !events.iter().any(|e| e["type"] == "ChannelVarset"),
        "{events:#?}"
    );
    // Music on hold, on the bridge and on a channel, raises no event: an unknown class and a second stop
    // are 204 all the same.
    for (method, path, query) in [
        (
            "POST",
            "/bridges/queue-1/moh",
            vec![("mohClass", "default")],
        ),
        (
            "POST",
            &*format!("/channels/{second}/moh"),
            vec![("mohClass", "no-such-class")],
        ),
        ("DELETE", &*format!("/channels/{second}/moh"), vec![]),
        ("DELETE", &*format!("/channels/{second}/moh"), vec![]),
    ] {
        assert_eq!(
            ari.call(method, path, &query).await.0,
            204,
            "{method} {path}"
        );
    }
    assert_eq!(ari.call("POST", "/bridges/nope/moh", &[]).await.0, 404);
    assert!(ivr.drain(Duration::from_millis(100)).await.is_empty());

    // An agent answers: the caller leaves the queue (its music stops) for a mixing bridge of two.
    originate(&ari, "agent-1", "PJSIP/agent-101", "20").await;
    until(&mut ivr, |e| e["type"] == "StasisStart").await;
    for (method, path, query) in [
        ("DELETE", "/bridges/queue-1/moh", vec![]),
        ("DELETE", "/bridges/queue-1/moh", vec![]),
        (
            "POST",
            "/bridges/queue-1/removeChannel",
            vec![("channel", first.as_str())],
        ),
    ] {
        assert_eq!(
            ari.call(method, path, &query).await.0,
            204,
            "{method} {path}"
        );
    }
    until(&mut ivr, |e| e["type"] == "ChannelLeftBridge").await;
    let events = mixing_bridge(&ari, &mut ivr, "call-1", &[&first, "agent-1"]).await;
    let events = [events, ivr.drain(Duration::from_millis(100)).await].concat();
    let peer = |channel: &str| {
        events
            .iter()
            .rev()
            .find(|e| e["variable"] == "BRIDGEPEER" && e["channel"]["id"] == channel)
            .map(|e| e["value"].as_str().unwrap().to_owned())
    };
    let (_, agent) = ari.call("GET", "/channels/agent-1", &[]).await;
    let (_, caller) = ari.call("GET", &format!("/channels/{first}"), &[]).await;
    assert_eq!(peer(&first), agent["name"].as_str().map(str::to_owned));
    assert_eq!(peer("agent-1"), caller["name"].as_str().map(str::to_owned));
    // BRIDGEPVTCALLID: the PJSIP peer's Call-ID.
    assert!(events.iter().any(|e| e["variable"] == "BRIDGEPVTCALLID"
        && e["channel"]["id"] == first.as_str()
        && e["value"] == agent["protocol_id"]));

    // A third party (a barge): softmix, and BRIDGEPEER lists the other two.
    assert_eq!(
        ari.call(
            "POST",
            "/bridges/call-1/addChannel",
            &[("channel", &second)]
        )
        .await
        .0,
        204
    );
    let events = until(&mut ivr, |e| e["type"] == "ChannelEnteredBridge").await;
    let events = [events, ivr.drain(Duration::from_millis(100)).await].concat();
    assert_eq!(
        sequence(&events, &second)[..2],
        strings(&["ChannelLeftBridge", "ChannelEnteredBridge"]),
        "moved straight from the queue"
    );
    let (_, bridge) = ari.call("GET", "/bridges/call-1", &[]).await;
    assert_eq!(bridge["technology"], "softmix");
    let (_, second_chan) = ari.call("GET", &format!("/channels/{second}"), &[]).await;
    let agent_peers = events
        .iter()
        .rev()
        .find(|e| e["variable"] == "BRIDGEPEER" && e["channel"]["id"] == "agent-1")
        .unwrap();
    assert_eq!(
        agent_peers["value"],
        format!(
            "{},{}",
            second_chan["name"].as_str().unwrap(),
            caller["name"].as_str().unwrap()
        )
    );

    // The queue, left empty, is deleted without BridgeDestroyed; the mixing bridge with it.
    assert_eq!(ari.call("DELETE", "/bridges/queue-1", &[]).await.0, 204);
    for member in [&first, &second, &"agent-1".to_owned()] {
        ari.call(
            "POST",
            "/bridges/call-1/removeChannel",
            &[("channel", member)],
        )
        .await;
    }
    assert_eq!(ari.call("DELETE", "/bridges/call-1", &[]).await.0, 204);
    let events = until(&mut ivr, |e| e["type"] == "BridgeDestroyed").await;
    assert_eq!(events.last().unwrap()["bridge"]["id"], "call-1");
    assert!(
        !events
            .iter()
            .any(|e| e["bridge"]["id"] == "queue-1" && e["type"] == "BridgeDestroyed")
    );

    // The first caller heard the queue's music until they left it.
    ari.call("DELETE", &format!("/channels/{first}"), &[]).await;
    let result = sim.call_result(first_call, WAIT).await.unwrap();
    let moh = &result.heard[0];
    assert_eq!(
        (moh.media_uri.as_str(), moh.state.as_str()),
        ("moh:default", "done")
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn supervisors_listen_whisper_and_barge_and_agents_are_hung_up() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let (_, caller) = citizen(&sim, &mut ivr, &ari).await;
    originate(&ari, "agent-1", "PJSIP/agent-101", "20").await;
    until(&mut ivr, |e| e["type"] == "StasisStart").await;
    mixing_bridge(&ari, &mut ivr, "call-1", &[&caller, "agent-1"]).await;
    ivr.drain(Duration::from_millis(50)).await;

    // Listen: a snoop on the agent, in this app; the bridge re-reads its peers.
    let (status, snoop) = ari
        .call(
            "POST",
            "/channels/agent-1/snoop/snoop-1",
            &[
                ("spy", "both"),
                ("whisper", "none"),
                ("app", "ivr-1100"),
                ("appArgs", "listen"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            &snoop["id"],
            &snoop["name"],
            &snoop["state"],
            &snoop["language"]
        ),
        (
            &json!("snoop-1"),
            &json!("Snoop/agent-1-00000000"),
            &json!("Up"),
            &json!("en")
        )
    );
    assert_eq!(snoop["caller"], json!({"name": "", "number": ""}));
    assert_eq!(
        snoop["dialplan"],
        json!({"context": "default", "exten": "s", "priority": 1, "app_name": "", "app_data": ""})
    );
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(events.last().unwrap()["args"], json!(["listen"]));
    for channel in [caller.as_str(), "agent-1"] {
        assert!(
            events
                .iter()
                .any(|e| e["variable"] == "BRIDGEPEER" && e["channel"]["id"] == channel),
            "BRIDGEPEER re-sent to {channel}: {events:#?}"
        );
    }
    // The supervisor's own phone: a Local leg into the app; both halves are heard.
    let (status, _) = ari
        .call(
            "POST",
            "/channels/sup-1",
            &[
                ("endpoint", "Local/answer@supervisor/n"),
                ("app", "ivr-1100"),
                ("appArgs", "supervisor"),
                ("callerId", "\"Supervisor\" <2001>"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(events.last().unwrap()["args"], json!(["supervisor"]));
    assert!(sequence(&events, "sup-1;2").contains(&"ChannelDialplan".to_owned()));
    mixing_bridge(&ari, &mut ivr, "listen-1", &["snoop-1", "sup-1"]).await;

    // Whisper: a second snoop (numbered on), the first one hung up — no ChannelDestroyed for a snoop.
    let (_, whisper) = ari
        .call(
            "POST",
            "/channels/agent-1/snoop/snoop-2",
            &[
                ("spy", "both"),
                ("whisper", "out"),
                ("app", "ivr-1100"),
                ("appArgs", "whisper"),
            ],
        )
        .await;
    assert_eq!(whisper["name"], "Snoop/agent-1-00000001");
    until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(ari.call("DELETE", "/channels/snoop-1", &[]).await.0, 204);
    let events = until(&mut ivr, |e| e["type"] == "StasisEnd").await;
    assert_eq!(
        sequence(&events, "snoop-1"),
        strings(&[
            "ChannelHangupRequest 32",
            "Varset BRIDGEPEER",
            "ChannelLeftBridge",
            "StasisEnd"
        ])
    );
    let request = events
        .iter()
        .find(|e| e["type"] == "ChannelHangupRequest")
        .unwrap();
    assert_eq!(request["soft"], true);

    // Barge: the supervisor, still in the listen bridge, is added to the call: left, then entered.
    assert_eq!(
        ari.call(
            "POST",
            "/bridges/call-1/addChannel",
            &[("channel", "sup-1")]
        )
        .await
        .0,
        204
    );
    let events = until(&mut ivr, |e| e["type"] == "ChannelEnteredBridge").await;
    let moves: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["channel"]["id"] == "sup-1" && e["bridge"].is_object())
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["bridge"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("ChannelLeftBridge", "listen-1"),
            ("ChannelEnteredBridge", "call-1")
        ]
    );
    let (_, bridge) = ari.call("GET", "/bridges/call-1", &[]).await;
    assert_eq!(bridge["technology"], "softmix");
    assert_eq!(bridge["channels"].as_array().unwrap().len(), 3);

    // Hanging the supervisor up: both halves of the Local leg are destroyed, in the app.
    assert_eq!(ari.call("DELETE", "/channels/sup-1", &[]).await.0, 204);
    let events = until(&mut ivr, |e| {
        e["type"] == "ChannelDestroyed" && e["channel"]["id"] == "sup-1;2"
    })
    .await;
    assert!(sequence(&events, "sup-1").contains(&"ChannelDestroyed 16".to_owned()));

    // DELETE of the agent: RTP statistics, the soft hangup request, out of the bridge and the app, gone.
    ari.call("DELETE", "/channels/snoop-2", &[]).await;
    until(&mut ivr, |e| e["type"] == "StasisEnd").await;
    assert_eq!(ari.call("DELETE", "/channels/agent-1", &[]).await.0, 204);
    let events = until(&mut ivr, |e| e["type"] == "ChannelDestroyed").await;
    assert_eq!(
        sequence(&events, "agent-1"),
        bridged_pjsip_hangup("ChannelHangupRequest 32")
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn agents_carry_variables_continue_into_the_dialplan_and_calls_are_redirected_or_held() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    // Originate variables: no ChannelVarset; a PJSIP_HEADER(add,…) goes into the INVITE.
    let response = ari
        .client
        .post(format!("{}/channels", ari.base))
        .basic_auth(&ari.user, Some(&ari.pass))
        .query(&[
            ("endpoint", "PJSIP/agent-101"),
            ("app", "ivr-1100"),
            ("appArgs", "agent"),
            ("channelId", "agent-1"),
            ("callerId", "\"Helpline 1100\" <1100>"),
        ])
        .json(
            &json!({"variables": {"PJSIP_HEADER(add,X-Complaint-Number)": "1000000009",
                                    "TICKET_NUMBER": "1000000009"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert!(!events.iter().any(|e| e["variable"] == "TICKET_NUMBER"));
    let invite = sim.invites().await.unwrap().pop().unwrap();
    assert_eq!(
        (
            invite.channel_id.as_str(),
            invite.endpoint.as_str(),
            invite.caller_number.as_str()
        ),
        ("agent-1", "PJSIP/agent-101", "1100")
    );
    assert_eq!(invite.headers["X-Complaint-Number"], "1000000009");
    for (name, reply) in [
        ("TICKET_NUMBER", (200, json!({"value": "1000000009"}))),
        (
            "PJSIP_HEADER(read,X-Complaint-Number)",
            (500, json!({"message": "Unable to read provided function"})),
        ),
        ("CALLERID(num)", (200, json!({"value": "1100"}))),
    ] {
        let got = ari
            .call("GET", "/channels/agent-1/variable", &[("variable", name)])
            .await;
        assert_eq!(got, reply, "{name}");
    }

    // Hold and unhold over REST: 204, no event.
    for method in ["POST", "DELETE"] {
        assert_eq!(ari.call(method, "/channels/agent-1/hold", &[]).await.0, 204);
    }
    assert!(ivr.drain(Duration::from_millis(100)).await.is_empty());

    // Continue on the originated agent: StasisEnd, and the app still hears it through the dialplan up to
    // its ChannelDestroyed; STASISSTATUS comes as the dialplan ends.
    let (status, _) = ari
        .call(
            "POST",
            "/channels/agent-1/continue",
            &[
                ("context", "xfer-test"),
                ("extension", "s"),
                ("priority", "1"),
            ],
        )
        .await;
    assert_eq!(status, 204);
    let events = until(&mut ivr, |e| e["type"] == "ChannelDestroyed").await;
    let mut expected = strings(&[
        "StasisEnd",
        "ChannelDialplan",
        "ChannelDialplan",
        "ChannelDialplan",
        "ChannelDialplan",
        "Varset STASISSTATUS",
    ]);
    expected.extend(strings(&QOS));
    expected.push("ChannelDestroyed 16".to_owned());
    assert_eq!(sequence(&events, "agent-1"), expected);
    let apps: Vec<&str> = events
        .iter()
        .filter_map(|e| e["dialplan_app"].as_str())
        .collect();
    assert_eq!(apps, ["NoOp", "Answer", "Wait", "Hangup"]);
    assert_eq!(events[1]["dialplan_app_data"], "TICKET_NUMBER=1000000009");

    // Redirect of an inbound SIP call: another technology is refused; a PJSIP endpoint is a 302.
    let call = sim
        .place_call(Scenario::new("9816000003").step(Step::WaitHangup {
            timeout_seconds: 60.0,
        }))
        .await
        .unwrap();
    let chan = ivr.next("StasisStart").await["channel"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let redirect = format!("/channels/{chan}/redirect");
    assert_eq!(
        ari.call("POST", &redirect, &[("endpoint", "Local/answer@agents")])
            .await,
        (
            422,
            json!({"message": "Endpoint technology 'Local' does not match channel technology 'PJSIP'"})
        )
    );
    assert_eq!(
        ari.call("POST", &redirect, &[("endpoint", "agent-101")])
            .await
            .0,
        400
    );
    assert_eq!(
        ari.call("POST", &redirect, &[("endpoint", "PJSIP/agent-101")])
            .await
            .0,
        204
    );
    let events = until(&mut ivr, |e| e["type"] == "StasisEnd").await;
    assert_eq!(
        sequence(&events, &chan),
        strings(&["ChannelHangupRequest 23", "StasisEnd"])
    );
    assert_eq!(events[0]["tech_cause"], 302);
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(
        (result.transferred_to.as_deref(), result.cause),
        (Some("PJSIP/agent-101"), 23)
    );
    sim.shutdown().await.unwrap();
}

/// A simulated citizen from JSON steps (as `POST /sim/calls` takes them), placed; returns the call.
async fn place(sim: &SimHandle, steps: Value) -> u64 {
    let scenario = json!({"caller": "9816000001", "caller_name": "Citizen", "steps": steps});
    let response = reqwest::Client::new()
        .post(format!("{}/calls", sim.control_url()))
        .basic_auth(sim.username(), Some(sim.password()))
        .json(&scenario)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Value>().await.unwrap()["call_id"]
        .as_u64()
        .unwrap()
}

/// The next channel into the app, answered; its id.
async fn answer_next(ivr: &mut App, ari: &Rest) -> String {
    let start = ivr.next("StasisStart").await;
    let chan = start["channel"]["id"].as_str().unwrap().to_owned();
    ari.call("POST", &format!("/channels/{chan}/answer"), &[])
        .await;
    chan
}

#[tokio::test]
async fn callers_wait_in_the_queue_and_abandon_or_reach_an_agent() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    ari.call("POST", "/bridges/queue-1", &[("type", "holding")])
        .await;
    ari.call("POST", "/bridges/queue-1/moh", &[("mohClass", "queue")])
        .await;
    // One gives up after 5 s in the queue; the other waits up to 30 s and an agent takes them (other
    // callers in the holding bridge are no agent, even when the wait begins among them).
    let patient = json!([{"action": "wait", "seconds": 1},
                         {"action": "wait_agent", "timeout_seconds": 30},
                         {"action": "wait", "seconds": 2}, {"action": "hangup"}]);
    let abandoning = place(
        &sim,
        json!([{"action": "wait_agent", "timeout_seconds": 5, "abandon": true}]),
    )
    .await;
    let quitter = answer_next(&mut ivr, &ari).await;
    let waiting = place(&sim, patient).await;
    let taken = answer_next(&mut ivr, &ari).await;
    let both = format!("{quitter},{taken}");
    ari.call("POST", "/bridges/queue-1/addChannel", &[("channel", &both)])
        .await;
    let quit = sim.call_result(abandoning, WAIT).await.unwrap();
    assert!(quit.abandoned, "{quit:?}");
    assert_eq!(quit.outcome, CallOutcome::Completed);
    assert_eq!(quit.hung_up_by, HungUpBy::Caller);
    assert_eq!(quit.heard[0].media_uri, "moh:queue");
    assert!(quit.connected_ms.is_none() && quit.bridged_with.is_empty());

    originate(&ari, "agent-1", "PJSIP/agent-101", "20").await;
    until(&mut ivr, |e| e["type"] == "StasisStart").await;
    ari.call(
        "POST",
        "/bridges/queue-1/removeChannel",
        &[("channel", &taken)],
    )
    .await;
    mixing_bridge(&ari, &mut ivr, "call-1", &[&taken, "agent-1"]).await;
    let served = sim.call_result(waiting, WAIT).await.unwrap();
    assert_eq!(served.outcome, CallOutcome::Completed, "{served:?}");
    assert!(!served.abandoned);
    let (_, agent) = ari.call("GET", "/channels/agent-1", &[]).await;
    assert_eq!(served.bridged_with, [agent["name"].as_str().unwrap()]);
    let connected = served.connected_ms.unwrap();
    assert!(served.duration_ms >= connected + 2000, "{served:?}");
    // Music while queued, then talking with the agent: no dead air to speak of.
    assert!(served.longest_silence_ms < 500, "{served:?}");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_caller_takes_the_call_back_offer_and_answers_the_call_back_on_the_third_try() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let call = place(
        &sim,
        json!([
            {"action": "on_prompt", "sound": "vm-intro", "press": "1", "hangup_after_seconds": 1.0},
            {"action": "wait_agent", "timeout_seconds": 60},
            {"action": "await_callback", "timeout_seconds": 120,
             "answers": [{"kind": "busy"}, {"kind": "ring_out"}, {"kind": "answer", "after_seconds": 2.0}]},
            {"action": "wait_agent", "timeout_seconds": 30},
            {"action": "wait_hangup", "timeout_seconds": 60}
        ]),
    )
    .await;
    let first = answer_next(&mut ivr, &ari).await;
    // The offer: the caller presses 1 once it has played, then hangs up.
    ari.call(
        "POST",
        &format!("/channels/{first}/play/offer"),
        &[("media", "sound:vm-intro")],
    )
    .await;
    let dtmf = ivr.next("ChannelDtmfReceived").await;
    assert_eq!(
        (dtmf["digit"].as_str(), dtmf["channel"]["id"].as_str()),
        (Some("1"), Some(first.as_str()))
    );
    let events = until(&mut ivr, |e| e["type"] == "StasisEnd").await;
    assert!(events.iter().any(|e| e["type"] == "ChannelHangupRequest"));

    // The call-back through the trunk: busy, then no answer, then answered.
    let dial = |id: &'static str, timeout: &'static str| {
        originate(&ari, id, "PJSIP/+919816000001@telecom-trunk", timeout)
    };
    dial("cb-1", "20").await;
    let busy = until(&mut ivr, |e| e["type"] == "ChannelDestroyed")
        .await
        .pop()
        .unwrap();
    assert_eq!(busy["cause"], 17);
    dial("cb-2", "2").await;
    let unanswered = until(&mut ivr, |e| e["type"] == "ChannelDestroyed")
        .await
        .pop()
        .unwrap();
    assert_eq!(
        (&unanswered["channel"]["id"], &unanswered["cause"]),
        (&json!("cb-2"), &json!(19))
    );
    let (status, reply) = dial("cb-3", "20").await;
    assert_eq!(
        (
            status,
            reply["name"]
                .as_str()
                .map(|n| n.starts_with("PJSIP/telecom-trunk-"))
        ),
        (200, Some(true))
    );
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(
        first_dial(&events)["dialstring"],
        "+919816000001@telecom-trunk"
    );
    originate(&ari, "agent-1", "PJSIP/agent-101", "20").await;
    until(&mut ivr, |e| e["type"] == "StasisStart").await;
    mixing_bridge(&ari, &mut ivr, "call-1", &["cb-3", "agent-1"]).await;
    ari.call("DELETE", "/channels/cb-3", &[]).await;

    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    assert_eq!(result.channel_id, first);
    assert_eq!(result.digits_sent, "1");
    let tries: Vec<(&str, &EndpointBehaviour)> = result
        .callbacks
        .iter()
        .map(|c| (c.channel_id.as_str(), &c.answer))
        .collect();
    assert_eq!(
        tries,
        [
            ("cb-1", &EndpointBehaviour::Busy),
            ("cb-2", &EndpointBehaviour::RingOut),
            ("cb-3", &EndpointBehaviour::answer(2.0))
        ]
    );
    let (_, agent) = ari.call("GET", "/channels/agent-1", &[]).await;
    assert_eq!(result.bridged_with, [agent["name"].as_str().unwrap()]);
    assert_eq!(result.hung_up_by, HungUpBy::Network);
    // Off the line while waiting for the call-back is not dead air.
    assert!(result.longest_silence_ms < 3000, "{result:?}");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_citizens_phone_only_answers_a_call_back_and_other_numbers_answer_as_the_trunk_does() {
    let sim = sim(20.0).await;
    let ari = rest(&sim);
    let mut ivr = app(&sim, "ivr-1100").await;
    let call = place(
        &sim,
        json!([{"action": "await_callback", "answers": [{"kind": "answer", "after_seconds": 3.0}]},
               {"action": "wait_prompt", "sound": "hello-world"},
               {"action": "hangup"}]),
    )
    .await;
    // Nobody dialled in.
    assert!(ivr.drain(Duration::from_millis(100)).await.is_empty());
    // A number nobody waits on: the trunk's own behaviour (answered after 1 s).
    originate(&ari, "helpline-181", "PJSIP/181@telecom-trunk", "20").await;
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(
        ms_between(first_dial(&events), events.last().unwrap()),
        1000
    );
    originate(&ari, "cb-1", "PJSIP/09816000001@telecom-trunk", "20").await;
    let events = until(&mut ivr, |e| e["type"] == "StasisStart").await;
    assert_eq!(events.last().unwrap()["channel"]["id"], "cb-1");
    assert_eq!(
        ms_between(first_dial(&events), events.last().unwrap()),
        3000
    );
    ari.call(
        "POST",
        "/channels/cb-1/play/p",
        &[("media", "sound:hello-world")],
    )
    .await;
    let result = sim.call_result(call, WAIT).await.unwrap();
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:?}");
    assert_eq!(
        (result.channel_id.as_str(), result.hung_up_by),
        ("cb-1", HungUpBy::Caller)
    );
    assert_eq!(result.heard[0].media_uri, "sound:hello-world");
    assert_eq!(result.callbacks.len(), 1);
    // Not called back in time: the wait fails, saying so.
    let waiting = place(
        &sim,
        json!([{"action": "await_callback", "timeout_seconds": 2}]),
    )
    .await;
    let result = sim.call_result(waiting, WAIT).await.unwrap();
    let CallOutcome::Failed { reason } = result.outcome else {
        panic!("{result:?}")
    };
    assert!(
        reason.contains("step 1 (await_callback) timed out"),
        "{reason}"
    );
    sim.shutdown().await.unwrap();
}
