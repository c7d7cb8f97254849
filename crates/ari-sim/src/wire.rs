//! ARI's JSON as Asterisk 22 writes it: channel, playback, recording and bridge objects, event envelopes,
//! hangup causes and their texts, error bodies. Independent of the `ari` crate on purpose.

use serde_json::{Value, json};

use crate::model::state::{Bridge, Channel, Playback};

/// The text Asterisk gives a Q.850 cause (`cause_txt`).
pub(crate) fn cause_txt(cause: u32) -> &'static str {
    match cause {
        1 => "Unallocated (unassigned) number",
        3 => "No route to destination",
        16 => "Normal Clearing",
        17 => "User busy",
        18 => "No user responding",
        19 => "User alerting, no answer",
        20 => "Subscriber absent",
        21 => "Call Rejected",
        23 => "Redirected to new destination",
        27 => "Destination out of order",
        31 => "Normal, unspecified",
        34 => "Circuit/channel congestion",
        38 => "Network out of order",
        41 => "Temporary failure",
        _ => "Unknown",
    }
}

/// The cause for an ARI hangup `reason` (DELETE /channels/{id}?reason=…).
pub(crate) fn reason_cause(reason: &str) -> Option<u32> {
    Some(match reason {
        "normal" => 16,
        "busy" => 17,
        "congestion" => 34,
        "no_answer" => 19,
        "timeout" => 18,
        "rejected" => 21,
        "unallocated" => 1,
        "normal_unspecified" => 31,
        "number_incomplete" => 28,
        "codec_mismatch" => 58,
        "interworking" => 127,
        "failure" => 41,
        "answered_elsewhere" => 26,
        _ => return None,
    })
}

/// `{"message": …}`, the body of every ARI error reply except originate's allocation failure.
pub(crate) fn message(text: impl Into<String>) -> Value {
    json!({ "message": text.into() })
}

/// Formats a simulated instant the way Asterisk does: `2026-11-29T02:59:43.256+0000`.
pub(crate) fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// Parses `callerId` as Asterisk does: `"Name" <number>`, `Name <number>` or a bare number.
pub(crate) fn parse_caller_id(text: &str) -> (String, String) {
    let text = text.trim();
    if let (Some(open), true) = (text.rfind('<'), text.ends_with('>')) {
        let number = text[open + 1..text.len() - 1].trim().to_owned();
        let name = text[..open].trim().trim_matches('"').to_owned();
        (name, number)
    } else if text.starts_with('"') {
        (text.trim_matches('"').to_owned(), String::new())
    } else {
        (String::new(), text.to_owned())
    }
}

/// Adds the `application` field to an event serialized without it: every app gets the same bytes except
/// this field, so an event is serialized once however many apps hear it.
pub(crate) fn with_application(serialized: &str, app: &str) -> String {
    let app_json = serde_json::to_string(app).expect("a string always serializes");
    let mut out = String::with_capacity(serialized.len() + app_json.len() + 16);
    out.push_str("{\"application\":");
    out.push_str(&app_json);
    match serialized.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => out.push_str(rest),
        Some(rest) => {
            out.push(',');
            out.push_str(rest);
        }
        None => out.push('}'),
    }
    out
}

/// Adds `extra`'s fields to the event `event`.
pub(crate) fn merge(event: &mut Value, extra: Value) {
    if let (Some(obj), Value::Object(extra)) = (event.as_object_mut(), extra) {
        obj.extend(extra);
    }
}

/// A channel object.
pub(crate) fn channel_json(c: &Channel) -> Value {
    json!({
        "id": c.id, "name": c.name, "state": c.state, "protocol_id": c.protocol_id,
        "caller": {"name": c.caller.0, "number": c.caller.1},
        "connected": {"name": c.connected.0, "number": c.connected.1},
        "accountcode": "",
        "dialplan": {"context": c.context, "exten": c.exten, "priority": c.priority,
                     "app_name": c.app_name, "app_data": c.app_data},
        "creationtime": c.creationtime, "language": c.language
    })
}

/// A playback object (`next_media_uri` while a list has more).
pub(crate) fn playback_json(p: &Playback) -> Value {
    let mut v = json!({
        "id": p.id, "media_uri": p.media[p.index], "target_uri": p.target.uri(),
        "language": p.language, "state": p.state
    });
    if let Some(next) = p.media.get(p.index + 1) {
        v["next_media_uri"] = json!(next);
    }
    v
}

/// A bridge object (its channels sorted).
pub(crate) fn bridge_json(b: &Bridge) -> Value {
    let mut channels = b.channels.clone();
    channels.sort();
    json!({
        "id": b.id, "technology": b.technology, "bridge_type": b.bridge_type, "bridge_class": "stasis",
        "creator": "Stasis", "name": b.name, "channels": channels, "creationtime": b.creationtime,
        "video_mode": if b.bridge_type == "holding" { "none" } else { "talker" }
    })
}

/// A sound object: its id and the languages it is in.
pub(crate) fn sound_json(id: &str, langs: &[String]) -> Value {
    let formats: Vec<Value> = langs
        .iter()
        .map(|l| json!({"language": l, "format": "wav"}))
        .collect();
    json!({"id": id, "formats": formats})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_id_forms() {
        assert_eq!(
            parse_caller_id("\"Citizen\" <9816000001>"),
            ("Citizen".to_owned(), "9816000001".to_owned())
        );
        assert_eq!(parse_caller_id("1100"), (String::new(), "1100".to_owned()));
        assert_eq!(
            parse_caller_id("Ram <42>"),
            ("Ram".to_owned(), "42".to_owned())
        );
    }

    #[test]
    fn application_is_spliced_into_the_event() {
        let v: Value = serde_json::from_str(&with_application(
            r#"{"type":"StasisStart","args":[]}"#,
            "ivr",
        ))
        .unwrap();
        assert_eq!(v["application"], "ivr");
        assert_eq!(v["type"], "StasisStart");
        let empty: Value = serde_json::from_str(&with_application("{}", "a")).unwrap();
        assert_eq!(empty, json!({"application": "a"}));
    }

    #[test]
    fn timestamps_look_like_asterisks() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-29T02:59:43.256Z")
            .unwrap()
            .to_utc();
        assert_eq!(timestamp(at), "2026-11-29T02:59:43.256+0000");
        assert_eq!(cause_txt(19), "User alerting, no answer");
        assert_eq!(reason_cause("busy"), Some(17));
    }
}
