//! Every event and every REST reply in the real-Asterisk traces decodes into its typed form, and encodes back
//! to the same JSON. The traces are the ones the project keeps in `tests/fixtures/ari-traces/` (one copy,
//! shared with the simulator's trace tests), read from `../shared/ari-traces/` when present (the source of
//! truth), else from that copy.

#![allow(clippy::unwrap_used)] // tests may unwrap (see clippy.toml); helpers here are test code too

use std::path::PathBuf;

use ari::{Event, RouteKey, parse_event};
use serde_json::Value;

/// The traces the project has taken in: the names of its copies in `tests/fixtures/ari-traces/`. A new
/// trace in `../shared` is taken in by copying it there with the client and simulator work it needs (the
/// ACD traces of 2026-12-02 wait for the call-centre issue).
fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ari-traces")
}

/// Where each trace's content is read: `../shared/ari-traces/` when present (the source of truth), else the
/// project's copy.
fn traces_dir() -> PathBuf {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ari-traces");
    if shared.is_dir() {
        shared
    } else {
        fixtures_dir()
    }
}

fn traces() -> Vec<(String, Value)> {
    let dir = traces_dir();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let path = dir.join(&name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((name, serde_json::from_str(&text).unwrap()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 10,
        "expected the trace files in {}",
        dir.display()
    );
    out
}

#[test]
fn every_trace_event_is_typed_and_round_trips() {
    let mut count = 0;
    let mut types = std::collections::BTreeSet::new();
    for (name, trace) in traces() {
        for entry in trace["entries"].as_array().unwrap() {
            if entry["kind"] != "event" {
                continue;
            }
            let original = &entry["event"];
            let frame = serde_json::to_vec(original).unwrap();
            let event = parse_event(&frame).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                !matches!(event, Event::Unknown(_)),
                "{name}: {} parsed as {event:?}",
                original["type"]
            );
            assert_eq!(event.event_type(), original["type"].as_str().unwrap());
            assert_eq!(
                event.application(),
                original["application"].as_str().unwrap()
            );
            assert_eq!(
                event.timestamp().unwrap().to_string(),
                original["timestamp"].as_str().unwrap()
            );
            assert_eq!(event.to_json(), *original, "{name}: round trip");
            // Key routing fields.
            if let Some(id) = original["channel"]["id"].as_str() {
                assert_eq!(event.route_key(), RouteKey::Channel(id), "{name}");
            }
            if let Some(target) = original["playback"]["target_uri"]
                .as_str()
                .or(original["recording"]["target_uri"].as_str())
            {
                let expected = match target.split_once(':') {
                    Some(("channel", id)) => RouteKey::Channel(id),
                    Some(("bridge", id)) => RouteKey::Bridge(id),
                    _ => RouteKey::Global,
                };
                assert_eq!(event.route_key(), expected, "{name}");
            }
            types.insert(event.event_type().to_owned());
            count += 1;
        }
    }
    assert!(count > 300, "only {count} events");
    for needed in [
        "StasisStart",
        "StasisEnd",
        "ChannelDtmfReceived",
        "PlaybackFinished",
        "RecordingFinished",
        "ChannelHangupRequest",
        "ApplicationReplaced",
    ] {
        assert!(types.contains(needed), "no {needed} in the traces");
    }
}

#[test]
fn every_traced_rest_reply_decodes() {
    let mut checked = 0;
    for (name, trace) in traces() {
        for entry in trace["entries"].as_array().unwrap() {
            if entry["kind"] != "rest" {
                continue;
            }
            let method = entry["method"].as_str().unwrap();
            let path = entry["path"].as_str().unwrap();
            let status = entry["status"].as_u64().unwrap();
            let op = match (method, path) {
                // The harness's own originates use POST /channels; the client uses the with-id form.
                ("POST", "/channels") => &ari::ops::CHANNELS_ORIGINATE_WITH_ID,
                // Plays without an id are only the errors trace's negative cases.
                ("POST", p) if p.ends_with("/play") => continue,
                _ => ari::ops::find(method, path)
                    .unwrap_or_else(|| panic!("{name}: no operation for {method} {path}")),
            };
            // Every traced query parameter is one the client knows for that operation.
            if let Some(query) = entry["query"].as_object() {
                for key in query.keys() {
                    let known = op.param(key).is_some()
                        || (op.name == "channels.originateWithId" && key == "channelId");
                    assert!(known, "{name}: {} has no parameter {key}", op.name);
                }
            }
            let Some(body) = entry.get("response") else {
                continue;
            };
            if !(200..300).contains(&status) || body.is_null() {
                continue;
            }
            let text = serde_json::to_vec(body).unwrap();
            /// Decodes into `T` and encodes back: nothing Asterisk sent may be dropped or changed.
            fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
                text: &[u8],
            ) -> Result<Value, serde_json::Error> {
                serde_json::to_value(serde_json::from_slice::<T>(text)?)
            }
            let decoded = match op.name {
                "channels.get" | "channels.originateWithId" | "channels.snoopChannelWithId" => {
                    round_trip::<ari::Channel>(&text)
                }
                "channels.list" => round_trip::<Vec<ari::Channel>>(&text),
                "channels.playWithId" | "bridges.playWithId" | "playbacks.get" => {
                    round_trip::<ari::Playback>(&text)
                }
                "channels.record" | "bridges.record" | "recordings.getLive" => {
                    round_trip::<ari::LiveRecording>(&text)
                }
                "channels.getChannelVar" => round_trip::<ari::Variable>(&text),
                "bridges.createWithId" | "bridges.get" => round_trip::<ari::Bridge>(&text),
                "applications.get" => round_trip::<ari::Application>(&text),
                "applications.list" => round_trip::<Vec<ari::Application>>(&text),
                "asterisk.getInfo" => round_trip::<ari::AsteriskInfo>(&text),
                "endpoints.list" => round_trip::<Vec<ari::Endpoint>>(&text),
                "sounds.get" => round_trip::<ari::Sound>(&text),
                "recordings.getStored" => round_trip::<ari::StoredRecording>(&text),
                other => panic!("{name}: no decoder for {other}"),
            };
            let encoded =
                decoded.unwrap_or_else(|e| panic!("{name}: {method} {path}: {e}: {body}"));
            assert_eq!(&encoded, body, "{name}: {method} {path} round trip");
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} replies");
}

#[test]
fn traced_errors_map_to_typed_errors() {
    // The error replies a real Asterisk gave, through the classification the client uses.
    let mut seen = 0;
    for (name, trace) in traces() {
        for entry in trace["entries"].as_array().unwrap() {
            if entry["kind"] != "rest" || entry["status"].as_u64().unwrap() < 400 {
                continue;
            }
            let method = entry["method"].as_str().unwrap();
            let path = entry["path"].as_str().unwrap();
            let status = entry["status"].as_u64().unwrap() as u16;
            let op = match (method, path) {
                ("POST", "/channels") => &ari::ops::CHANNELS_ORIGINATE_WITH_ID,
                ("POST", p) if p.ends_with("/play") => &ari::ops::CHANNELS_PLAY_WITH_ID,
                _ => ari::ops::find(method, path).unwrap(),
            };
            let body = serde_json::to_vec(&entry["response"]).unwrap();
            let err = ari::AriError::from_status(op.name, op.channel_op, status, &body);
            let message = entry["response"]["message"]
                .as_str()
                .or(entry["response"]["error"].as_str())
                .unwrap();
            assert!(err.to_string().contains(message), "{name}: {err}");
            assert_eq!(err.status(), Some(status));
            let expected_kind = match status {
                404 => matches!(err, ari::AriError::NotFound { .. }) && err.is_gone(),
                409 => matches!(err, ari::AriError::Conflict { .. }),
                400 => matches!(err, ari::AriError::BadRequest { .. }),
                422 => matches!(err, ari::AriError::Unprocessable { .. }),
                500 => matches!(err, ari::AriError::Unavailable { .. }) && err.is_transient(),
                _ => false,
            };
            assert!(expected_kind, "{name}: {method} {path} {status} -> {err:?}");
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} error replies");
}

/// The ids the IVR side chose itself in a trace (originated and snoop channels, bridges), each with the
/// index of the first entry that names it: the engine registers them before its request, and the request
/// goes out before the first event or reply about them.
fn client_chosen_ids(entries: &[Value]) -> Vec<(usize, bool, String)> {
    let mut ids: Vec<(usize, bool, String)> = Vec::new();
    for entry in entries
        .iter()
        .filter(|e| e["side"] == "ivr" && e["kind"] == "rest")
    {
        let method = entry["method"].as_str().unwrap();
        let path = entry["path"].as_str().unwrap();
        let Some(op) = ari::ops::find(method, path) else {
            continue;
        };
        let id = path.rsplit('/').next().unwrap().to_owned();
        let is_bridge = match op.name {
            "channels.originateWithId" | "channels.snoopChannelWithId" => false,
            "bridges.createWithId" => true,
            _ => continue,
        };
        let first = entries
            .iter()
            .position(|e| {
                serde_json::to_string(e)
                    .unwrap()
                    .contains(&format!("\"{id}"))
            })
            .unwrap();
        ids.push((first, is_bridge, id));
    }
    ids
}

#[test]
fn trace_events_reach_the_right_call_through_the_router() {
    for (name, trace) in traces() {
        let entries: Vec<Value> = trace["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["side"] == "ivr")
            .cloned()
            .collect();
        let chosen = client_chosen_ids(&entries);
        let (router, mut out) = ari::Router::new(ari::RouterConfig::default());
        let mut calls: Vec<ari::NewCall> = Vec::new();
        let mut own_mailboxes: Vec<ari::Mailbox> = Vec::new();
        let mut current_call: Option<String> = None;
        let mut inbound_starts = 0;
        for (i, entry) in entries.iter().enumerate() {
            for (_, is_bridge, id) in chosen.iter().filter(|(first, _, _)| *first == i) {
                match (&current_call, is_bridge) {
                    (Some(owner), true) => router.register_bridge(id, owner).unwrap(),
                    (Some(owner), false) => router.register_alias(id, owner).unwrap(),
                    (None, false) => own_mailboxes.push(router.register_channel(id).unwrap()),
                    (None, true) => panic!("{name}: bridge {id} without a call"),
                }
            }
            if entry["kind"] != "event" {
                continue;
            }
            let event = parse_event(&serde_json::to_vec(&entry["event"]).unwrap()).unwrap();
            if let Event::StasisStart(s) = &event
                && !chosen.iter().any(|(_, _, id)| *id == s.channel.id)
            {
                inbound_starts += 1;
            }
            router.route(event);
            while let Ok(call) = out.new_calls.try_recv() {
                current_call = Some(call.channel.id.clone());
                calls.push(call);
            }
        }
        let stats = router.stats();
        assert_eq!(stats.mailbox_overflows, 0, "{name}");
        assert_eq!(stats.rejected_calls, 0, "{name}");
        assert_eq!(
            calls.len(),
            inbound_starts,
            "{name}: one new call per inbound StasisStart"
        );

        // Each call's mailbox holds, in wire order, every event about its channel up to its StasisEnd.
        for call in &mut calls {
            let id = call.channel.id.clone();
            let mut got = Vec::new();
            while let Ok(e) = call.mailbox.try_recv() {
                got.push(e.to_json());
            }
            assert_eq!(got[0]["type"], "StasisStart", "{name}");
            let mut expected = Vec::new();
            for entry in entries.iter().filter(|e| e["kind"] == "event") {
                let ev = &entry["event"];
                if ev["channel"]["id"] == id.as_str() {
                    expected.push(ev.clone());
                    if ev["type"] == "StasisEnd" {
                        break;
                    }
                }
            }
            let mut rest = got.iter();
            for e in &expected {
                assert!(
                    rest.any(|g| g == e),
                    "{name}: {} for {id} missing or out of order",
                    e["type"]
                );
            }
        }
        // Originated channels registered before the request got their events, including their end.
        for mailbox in &mut own_mailboxes {
            let mut kinds = Vec::new();
            while let Ok(e) = mailbox.try_recv() {
                kinds.push(e.event_type().to_owned());
            }
            assert!(
                kinds.first().is_some_and(|k| k == "Dial"),
                "{name}: {kinds:?}"
            );
            assert_eq!(
                kinds.last().map(String::as_str),
                Some("ChannelDestroyed"),
                "{name}"
            );
        }
    }
}
