//! The typed ARI events that arrive over the WebSocket, and [`parse_event`], which turns one frame into an
//! [`Event`] in a single pass (the `type` key is read first without building a tree, then the frame is decoded
//! straight into that event's struct). An event type this client does not know, or a known one whose fields
//! do not decode, is kept as raw JSON in [`Event::Unknown`] so nothing is lost and routing still works; only a
//! frame that is not a JSON object with a `type` is an error.

use std::borrow::Cow;

use serde::Deserialize;

use crate::model::{
    Bridge, Channel, DeviceState, Endpoint, LiveRecording, Playback, Target, TextMessage,
};
use crate::wire::{Timestamp, wire_struct};

wire_struct! {
    /// Contact status of an endpoint (`ContactStatusChange.contact_info`).
    pub struct ContactInfo as "ContactInfo" {
        pub uri: String,
        pub contact_status: String,
        pub aor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub roundtrip_usec: Option<String>,
    }
}

wire_struct! {
    /// Peer status of an endpoint (`PeerStatusChange.peer`).
    pub struct Peer as "Peer" {
        pub peer_status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub port: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub time: Option<String>,
    }
}

/// Declares every typed event: one struct each (the common fields `application`, `timestamp`, `asterisk_id`
/// plus its own), the [`Event`] enum, and the dispatch in [`parse_event`].
macro_rules! events {
    ( $( $(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)? } )* ) => {
        $(
            wire_struct! {
                $(#[$meta])*
                pub struct $name as { stringify!($name) } {
                    /// The Stasis application this event was sent to.
                    pub application: String,
                    /// When Asterisk raised the event.
                    pub timestamp: Timestamp,
                    /// The Asterisk instance that raised it.
                    #[serde(default, skip_serializing_if = "Option::is_none")]
                    pub asterisk_id: Option<String>,
                    $( $(#[$fmeta])* pub $field: $ty, )*
                }
            }
        )*

        /// One ARI event. Payloads are boxed so an `Event` is two words: mailboxes of thousands of calls stay
        /// small, and moving an event through a channel copies no snapshot.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $( $(#[$meta])* $name(Box<$name>), )*
            /// An event type this client has no struct for, or one whose fields did not decode; kept as JSON.
            Unknown(Box<UnknownEvent>),
        }

        /// The `type` of every event [`Event`] has a typed variant for.
        pub const KNOWN_EVENT_TYPES: &[&str] = &[ $( stringify!($name), )* ];

        impl Event {
            /// The event's `type` as on the wire.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Self::$name(_) => stringify!($name), )*
                    Self::Unknown(u) => &u.event_type,
                }
            }

            /// The Stasis application the event was sent to.
            pub fn application(&self) -> &str {
                match self {
                    $( Self::$name(e) => &e.application, )*
                    Self::Unknown(u) => u.application.as_deref().unwrap_or(""),
                }
            }

            /// When Asterisk raised the event (`None` only for an undecodable unknown event).
            pub fn timestamp(&self) -> Option<Timestamp> {
                match self {
                    $( Self::$name(e) => Some(e.timestamp), )*
                    Self::Unknown(u) => u.timestamp,
                }
            }

            /// The Asterisk instance that raised it.
            pub fn asterisk_id(&self) -> Option<&str> {
                match self {
                    $( Self::$name(e) => e.asterisk_id.as_deref(), )*
                    Self::Unknown(u) => u.asterisk_id.as_deref(),
                }
            }

            /// The event as ARI JSON (with its `type`), e.g. for logging or recording a trace.
            pub fn to_json(&self) -> serde_json::Value {
                let (event_type, value) = match self {
                    $( Self::$name(e) => (stringify!($name), serde_json::to_value(e)), )*
                    Self::Unknown(u) => return u.raw.clone(),
                };
                match value {
                    Ok(serde_json::Value::Object(mut map)) => {
                        map.insert("type".to_owned(), serde_json::Value::String(event_type.to_owned()));
                        serde_json::Value::Object(map)
                    }
                    // Our structs are plain data with string keys: serializing cannot fail or give a non-object.
                    Ok(other) => other,
                    Err(e) => serde_json::json!({ "type": event_type, "serialize_error": e.to_string() }),
                }
            }

            /// The JSON field names each typed event reads, for the conformance test.
            pub fn wire_models() -> Vec<(&'static str, Vec<$crate::wire::WireField>)> {
                use $crate::wire::WireModel;
                vec![ $( ($name::WIRE_NAME, $name::wire_fields()), )* ]
            }
        }

        fn decode_known(event_type: &str, frame: &[u8]) -> Option<Result<Event, serde_json::Error>> {
            Some(match event_type {
                $( stringify!($name) => serde_json::from_slice::<$name>(frame).map(|e| Event::$name(Box::new(e))), )*
                _ => return None,
            })
        }
    };
}

events! {
    /// A channel entered the application (the call starts here). `args` are the `Stasis()`/`appArgs`
    /// arguments.
    StasisStart {
        #[serde(default)]
        pub args: Vec<String>,
        pub channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replace_channel: Option<Channel>,
    }
    /// A channel left the application; nothing more will be heard of it.
    StasisEnd {
        pub channel: Channel,
    }
    /// A channel was created.
    ChannelCreated {
        pub channel: Channel,
    }
    /// A channel was destroyed (only heard for channels the app originated or still watches).
    ChannelDestroyed {
        pub cause: i32,
        pub cause_txt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tech_cause: Option<i32>,
        pub channel: Channel,
    }
    /// A channel's state changed (e.g. Ringing → Up).
    ChannelStateChange {
        pub channel: Channel,
    }
    /// A DTMF digit was received.
    ChannelDtmfReceived {
        pub digit: String,
        pub duration_ms: i64,
        pub channel: Channel,
    }
    /// Someone asked for the channel to be hung up (the caller, or us).
    ChannelHangupRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tech_cause: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub soft: Option<bool>,
        pub channel: Channel,
    }
    /// A channel variable was set (`channel` absent for a global variable).
    ChannelVarset {
        pub variable: String,
        pub value: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
    }
    /// The channel's caller id changed.
    ChannelCallerId {
        pub caller_presentation: i32,
        pub caller_presentation_txt: String,
        pub channel: Channel,
    }
    /// The channel's connected line changed.
    ChannelConnectedLine {
        pub channel: Channel,
    }
    /// The channel moved in the dialplan.
    ChannelDialplan {
        pub channel: Channel,
        pub dialplan_app: String,
        pub dialplan_app_data: String,
    }
    /// A channel joined a bridge.
    ChannelEnteredBridge {
        pub bridge: Bridge,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
    }
    /// A channel left a bridge.
    ChannelLeftBridge {
        pub bridge: Bridge,
        pub channel: Channel,
    }
    /// A channel was put on hold.
    ChannelHold {
        pub channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub musicclass: Option<String>,
    }
    /// A channel was taken off hold.
    ChannelUnhold {
        pub channel: Channel,
    }
    /// Talk detection: speech started.
    ChannelTalkingStarted {
        pub channel: Channel,
    }
    /// Talk detection: speech ended after `duration` ms.
    ChannelTalkingFinished {
        pub channel: Channel,
        pub duration: i64,
    }
    /// A tone was detected on the channel.
    ChannelToneDetected {
        pub channel: Channel,
    }
    /// A user event from the dialplan (`UserEvent()`) or `POST /events/user`.
    ChannelUserevent {
        pub eventname: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bridge: Option<Bridge>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub endpoint: Option<Endpoint>,
        pub userevent: serde_json::Value,
    }
    /// Dialing progress of `peer` (an originated or dialed channel); `dialstatus` empty while ringing.
    Dial {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub caller: Option<Channel>,
        pub peer: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub forward: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub forwarded: Option<Channel>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dialstring: Option<String>,
        pub dialstatus: String,
    }
    /// A playback started.
    PlaybackStarted {
        pub playback: Playback,
    }
    /// A multi-media playback moved on to its next media URI.
    PlaybackContinuing {
        pub playback: Playback,
    }
    /// A playback ended: state `done` (played out or stopped) or `failed`.
    PlaybackFinished {
        pub playback: Playback,
    }
    /// A recording started.
    RecordingStarted {
        pub recording: LiveRecording,
    }
    /// A recording ended (duration, talking/silence durations).
    RecordingFinished {
        pub recording: LiveRecording,
    }
    /// A recording failed (`recording.cause`).
    RecordingFailed {
        pub recording: LiveRecording,
    }
    /// A bridge was created.
    BridgeCreated {
        pub bridge: Bridge,
    }
    /// A bridge was destroyed.
    BridgeDestroyed {
        pub bridge: Bridge,
    }
    /// `bridge_from` was merged into `bridge`.
    BridgeMerged {
        pub bridge: Bridge,
        pub bridge_from: Bridge,
    }
    /// The video source of a bridge changed.
    BridgeVideoSourceChanged {
        pub bridge: Bridge,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub old_video_source_id: Option<String>,
    }
    /// A blind transfer was done by `channel`.
    BridgeBlindTransfer {
        pub channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replace_channel: Option<Channel>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transferee: Option<Channel>,
        pub exten: String,
        pub context: String,
        pub result: String,
        pub is_external: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bridge: Option<Bridge>,
    }
    /// An attended transfer was done.
    BridgeAttendedTransfer {
        pub transferer_first_leg: Channel,
        pub transferer_second_leg: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replace_channel: Option<Channel>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transferee: Option<Channel>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transfer_target: Option<Channel>,
        pub result: String,
        pub is_external: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transferer_first_leg_bridge: Option<Bridge>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transferer_second_leg_bridge: Option<Bridge>,
        pub destination_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub destination_bridge: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub destination_application: Option<String>,
    }
    /// An endpoint's state changed (e.g. an agent phone went offline).
    EndpointStateChange {
        pub endpoint: Endpoint,
    }
    /// An endpoint contact's status changed.
    ContactStatusChange {
        pub endpoint: Endpoint,
        pub contact_info: ContactInfo,
    }
    /// An endpoint peer's status changed.
    PeerStatusChange {
        pub endpoint: Endpoint,
        pub peer: Peer,
    }
    /// A device state changed.
    DeviceStateChanged {
        pub device_state: DeviceState,
    }
    /// Another WebSocket registered the same application name and took its events over.
    ApplicationReplaced {}
    /// The application was registered.
    ApplicationRegistered {}
    /// The application was unregistered.
    ApplicationUnregistered {}
    /// A `move` of a channel to another application failed.
    ApplicationMoveFailed {
        pub channel: Channel,
        pub destination: String,
        #[serde(default)]
        pub args: Vec<String>,
    }
    /// An out-of-call text message arrived.
    TextMessageReceived {
        pub message: TextMessage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub endpoint: Option<Endpoint>,
    }
}

/// An event kept as raw JSON: its type is unknown to this client, or its fields did not decode
/// (`decode_error` says why).
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    /// The `type` as on the wire.
    pub event_type: String,
    /// `application`, when present.
    pub application: Option<String>,
    /// `timestamp`, when present and readable.
    pub timestamp: Option<Timestamp>,
    /// `asterisk_id`, when present.
    pub asterisk_id: Option<String>,
    /// Why a known event type did not decode; `None` for a type this client does not know.
    pub decode_error: Option<String>,
    /// The whole event.
    pub raw: serde_json::Value,
}

impl UnknownEvent {
    fn from_value(
        event_type: String,
        raw: serde_json::Value,
        decode_error: Option<String>,
    ) -> Self {
        let text = |key: &str| raw.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Self {
            application: text("application"),
            timestamp: raw
                .get("timestamp")
                .and_then(|v| v.as_str())
                .and_then(|t| Timestamp::parse(t).ok()),
            asterisk_id: text("asterisk_id"),
            event_type,
            decode_error,
            raw,
        }
    }

    /// The id of the channel this event names (`channel.id`), so it can be routed to its call.
    pub fn channel_id(&self) -> Option<&str> {
        self.raw.get("channel")?.get("id")?.as_str()
    }
}

/// Why a WebSocket frame is not an event at all.
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    /// Not JSON, or not an object.
    #[error("frame is not a JSON object: {0}")]
    NotJson(#[source] serde_json::Error),
    /// A JSON object without a string `type`.
    #[error("frame has no \"type\" string")]
    NoType,
}

/// What an event is about, for routing it to the task that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKey<'a> {
    /// The event belongs to this channel's call.
    Channel(&'a str),
    /// The event is about this bridge (no channel named).
    Bridge(&'a str),
    /// Not about a channel or bridge: endpoint/device state, application events, text messages.
    Global,
}

impl Event {
    /// The channel the event is about, if it names one: `channel` for channel events, `peer` for `Dial`,
    /// `transferer_first_leg` for attended transfers.
    pub fn channel(&self) -> Option<&Channel> {
        match self {
            Self::StasisStart(e) => Some(&e.channel),
            Self::StasisEnd(e) => Some(&e.channel),
            Self::ChannelCreated(e) => Some(&e.channel),
            Self::ChannelDestroyed(e) => Some(&e.channel),
            Self::ChannelStateChange(e) => Some(&e.channel),
            Self::ChannelDtmfReceived(e) => Some(&e.channel),
            Self::ChannelHangupRequest(e) => Some(&e.channel),
            Self::ChannelVarset(e) => e.channel.as_ref(),
            Self::ChannelCallerId(e) => Some(&e.channel),
            Self::ChannelConnectedLine(e) => Some(&e.channel),
            Self::ChannelDialplan(e) => Some(&e.channel),
            Self::ChannelEnteredBridge(e) => e.channel.as_ref(),
            Self::ChannelLeftBridge(e) => Some(&e.channel),
            Self::ChannelHold(e) => Some(&e.channel),
            Self::ChannelUnhold(e) => Some(&e.channel),
            Self::ChannelTalkingStarted(e) => Some(&e.channel),
            Self::ChannelTalkingFinished(e) => Some(&e.channel),
            Self::ChannelToneDetected(e) => Some(&e.channel),
            Self::ChannelUserevent(e) => e.channel.as_ref(),
            Self::Dial(e) => Some(&e.peer),
            Self::BridgeBlindTransfer(e) => Some(&e.channel),
            Self::BridgeAttendedTransfer(e) => Some(&e.transferer_first_leg),
            Self::ApplicationMoveFailed(e) => Some(&e.channel),
            Self::PlaybackStarted(_)
            | Self::PlaybackContinuing(_)
            | Self::PlaybackFinished(_)
            | Self::RecordingStarted(_)
            | Self::RecordingFinished(_)
            | Self::RecordingFailed(_)
            | Self::BridgeCreated(_)
            | Self::BridgeDestroyed(_)
            | Self::BridgeMerged(_)
            | Self::BridgeVideoSourceChanged(_)
            | Self::EndpointStateChange(_)
            | Self::ContactStatusChange(_)
            | Self::PeerStatusChange(_)
            | Self::DeviceStateChanged(_)
            | Self::ApplicationReplaced(_)
            | Self::ApplicationRegistered(_)
            | Self::ApplicationUnregistered(_)
            | Self::TextMessageReceived(_)
            | Self::Unknown(_) => None,
        }
    }

    /// Whom the event is for: a channel (directly, or as a playback's/recording's `channel:<id>` target), a
    /// bridge (`bridge:<id>` target or a bridge event), or nobody in particular.
    pub fn route_key(&self) -> RouteKey<'_> {
        fn target(t: Target<'_>) -> RouteKey<'_> {
            match t {
                Target::Channel(id) => RouteKey::Channel(id),
                Target::Bridge(id) => RouteKey::Bridge(id),
                Target::Other(_) => RouteKey::Global,
            }
        }
        if let Some(ch) = self.channel() {
            return RouteKey::Channel(&ch.id);
        }
        match self {
            Self::PlaybackStarted(e) => target(e.playback.target()),
            Self::PlaybackContinuing(e) => target(e.playback.target()),
            Self::PlaybackFinished(e) => target(e.playback.target()),
            Self::RecordingStarted(e) => target(e.recording.target()),
            Self::RecordingFinished(e) => target(e.recording.target()),
            Self::RecordingFailed(e) => target(e.recording.target()),
            Self::BridgeCreated(e) => RouteKey::Bridge(&e.bridge.id),
            Self::BridgeDestroyed(e) => RouteKey::Bridge(&e.bridge.id),
            Self::BridgeMerged(e) => RouteKey::Bridge(&e.bridge.id),
            Self::BridgeVideoSourceChanged(e) => RouteKey::Bridge(&e.bridge.id),
            Self::ChannelEnteredBridge(e) => RouteKey::Bridge(&e.bridge.id),
            Self::ChannelUserevent(e) => match &e.bridge {
                Some(b) => RouteKey::Bridge(&b.id),
                None => RouteKey::Global,
            },
            Self::Unknown(u) => match u.channel_id() {
                Some(id) => RouteKey::Channel(id),
                None => RouteKey::Global,
            },
            _ => RouteKey::Global,
        }
    }
}

/// Parses one WebSocket text frame. Known types decode straight into their struct; unknown types and known
/// types that fail to decode come back as [`Event::Unknown`] with the raw JSON. Only a frame that is not a JSON
/// object with a `type` string is an error.
pub fn parse_event(frame: &[u8]) -> Result<Event, EventParseError> {
    let event_type = read_type(frame)?;
    match decode_known(&event_type, frame) {
        Some(Ok(event)) => Ok(event),
        Some(Err(err)) => {
            let raw: serde_json::Value =
                serde_json::from_slice(frame).map_err(EventParseError::NotJson)?;
            Ok(Event::Unknown(Box::new(UnknownEvent::from_value(
                event_type.into_owned(),
                raw,
                Some(err.to_string()),
            ))))
        }
        None => {
            let raw: serde_json::Value =
                serde_json::from_slice(frame).map_err(EventParseError::NotJson)?;
            Ok(Event::Unknown(Box::new(UnknownEvent::from_value(
                event_type.into_owned(),
                raw,
                None,
            ))))
        }
    }
}

/// The frame's `type`. Asterisk writes it first (`{"type":"StasisStart",…`), so that case is read with a
/// byte scan; anything else falls back to a full (but tree-less) JSON pass.
fn read_type(frame: &[u8]) -> Result<Cow<'_, str>, EventParseError> {
    if let Some(t) = leading_type(frame) {
        return Ok(Cow::Borrowed(t));
    }
    #[derive(Deserialize)]
    struct TypeOnly<'a> {
        #[serde(borrow, rename = "type")]
        event_type: Option<Cow<'a, str>>,
    }
    let parsed: TypeOnly<'_> = serde_json::from_slice(frame).map_err(EventParseError::NotJson)?;
    parsed.event_type.ok_or(EventParseError::NoType)
}

fn leading_type(frame: &[u8]) -> Option<&str> {
    let skip_ws = |mut i: usize| {
        while i < frame.len() && frame[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(0);
    if frame.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(i + 1);
    let key = b"\"type\"";
    if !frame.get(i..)?.starts_with(key) {
        return None;
    }
    i = skip_ws(i + key.len());
    if frame.get(i) != Some(&b':') {
        return None;
    }
    i = skip_ws(i + 1);
    if frame.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let len = frame.get(start..)?.iter().position(|&b| b == b'"')?;
    let value = &frame[start..start + len];
    // An escape means the slow path must unescape it; event types never contain one.
    if value.contains(&b'\\') {
        return None;
    }
    std::str::from_utf8(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STASIS_START: &str = r#"{"type": "StasisStart", "timestamp": "2026-11-29T02:59:43.256+0000", "args": ["a"], "channel": {"id": "caller-508c126e;2", "name": "Local/1100@from-citizens-00000024;2", "state": "Ring", "protocol_id": "", "caller": {"name": "Citizen", "number": "9816000001"}, "connected": {"name": "Citizen", "number": "9816000001"}, "accountcode": "", "dialplan": {"context": "from-citizens", "exten": "1100", "priority": 2, "app_name": "Stasis", "app_data": "ivr-1100"}, "creationtime": "2026-11-29T02:59:43.256+0000", "language": "en"}, "asterisk_id": "02:fc:00:00:00:01", "application": "ivr-1100"}"#;

    #[test]
    fn typed_event() {
        let ev = parse_event(STASIS_START.as_bytes()).unwrap();
        assert_eq!(ev.event_type(), "StasisStart");
        assert_eq!(ev.application(), "ivr-1100");
        assert_eq!(ev.asterisk_id(), Some("02:fc:00:00:00:01"));
        assert_eq!(ev.route_key(), RouteKey::Channel("caller-508c126e;2"));
        let Event::StasisStart(s) = ev else {
            panic!("not StasisStart")
        };
        assert_eq!(s.args, vec!["a".to_owned()]);
    }

    #[test]
    fn type_not_first_still_parses() {
        let json = r#"{"application":"a","timestamp":"2026-11-29T02:59:43.256+0000","type":"ApplicationReplaced"}"#;
        let ev = parse_event(json.as_bytes()).unwrap();
        assert!(matches!(ev, Event::ApplicationReplaced(_)));
        assert_eq!(ev.route_key(), RouteKey::Global);
    }

    #[test]
    fn unknown_type_kept_raw_and_routable() {
        let json = r#"{"type":"ChannelFutureThing","application":"a","channel":{"id":"c1"},"x":1}"#;
        let ev = parse_event(json.as_bytes()).unwrap();
        let Event::Unknown(u) = &ev else {
            panic!("expected unknown")
        };
        assert_eq!(u.event_type, "ChannelFutureThing");
        assert!(u.decode_error.is_none());
        assert_eq!(u.raw["x"], 1);
        assert_eq!(ev.route_key(), RouteKey::Channel("c1"));
    }

    #[test]
    fn known_type_with_bad_fields_is_kept() {
        let json = r#"{"type":"StasisEnd","application":"a","timestamp":"2026-11-29T02:59:43.256+0000","channel":{"id":"c1"}}"#;
        let ev = parse_event(json.as_bytes()).unwrap();
        let Event::Unknown(u) = &ev else {
            panic!("expected unknown")
        };
        assert!(u.decode_error.is_some());
        assert_eq!(ev.route_key(), RouteKey::Channel("c1"));
    }

    #[test]
    fn malformed_frames() {
        assert!(matches!(
            parse_event(b"not json"),
            Err(EventParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_event(b"[1,2]"),
            Err(EventParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_event(br#"{"no":"type"}"#),
            Err(EventParseError::NoType)
        ));
        assert!(matches!(
            parse_event(br#"{"type": "Stasis"#),
            Err(EventParseError::NotJson(_))
        ));
    }

    #[test]
    fn playback_routes_by_target() {
        let json = r#"{"type":"PlaybackFinished","application":"a","timestamp":"2026-11-29T02:59:43.256+0000","playback":{"id":"pb","media_uri":"sound:x","target_uri":"bridge:b1","state":"done"}}"#;
        let ev = parse_event(json.as_bytes()).unwrap();
        assert_eq!(ev.route_key(), RouteKey::Bridge("b1"));
    }

    #[test]
    fn event_is_small() {
        assert!(std::mem::size_of::<Event>() <= 16);
    }
}
