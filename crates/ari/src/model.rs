//! The ARI data models (`Channel`, `Bridge`, `Playback`, `LiveRecording` …) as Asterisk 22 sends them, with
//! remote states as enums that keep unknown values. Field names follow the wire exactly; the conformance test
//! checks them against the Swagger models.

use std::collections::HashMap;

use crate::wire::{Timestamp, wire_enum, wire_struct};

wire_enum! {
    /// A channel's state (`Channel.state`).
    pub enum ChannelState {
        Down = "Down",
        Reserved = "Rsrved",
        OffHook = "OffHook",
        Dialing = "Dialing",
        Ring = "Ring",
        Ringing = "Ringing",
        Up = "Up",
        Busy = "Busy",
        DialingOffhook = "Dialing Offhook",
        PreRing = "Pre-ring",
        /// Asterisk's own "Unknown" state (not a value this client failed to recognise).
        Indeterminate = "Unknown",
    }
}

wire_enum! {
    /// A playback's state (`Playback.state`).
    pub enum PlaybackState {
        Queued = "queued",
        Playing = "playing",
        Continuing = "continuing",
        Paused = "paused",
        Done = "done",
        Failed = "failed",
    }
}

impl PlaybackState {
    /// Whether the playback has ended (done or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

wire_enum! {
    /// A live recording's state (`LiveRecording.state`).
    pub enum RecordingState {
        Queued = "queued",
        Recording = "recording",
        Paused = "paused",
        Done = "done",
        Failed = "failed",
        Canceled = "canceled",
    }
}

impl RecordingState {
    /// Whether the recording has ended.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Canceled)
    }
}

wire_enum! {
    /// An endpoint's state (`Endpoint.state`).
    pub enum EndpointState {
        StateUnknown = "unknown",
        Offline = "offline",
        Online = "online",
    }
}

wire_enum! {
    /// A device state (`DeviceState.state`), e.g. an agent phone's.
    pub enum DeviceStateValue {
        StateUnknown = "UNKNOWN",
        NotInUse = "NOT_INUSE",
        InUse = "INUSE",
        Busy = "BUSY",
        Invalid = "INVALID",
        Unavailable = "UNAVAILABLE",
        Ringing = "RINGING",
        RingInUse = "RINGINUSE",
        OnHold = "ONHOLD",
    }
}

wire_struct! {
    /// Caller identification (name and number).
    pub struct CallerId as "CallerID" {
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub number: String,
    }
}

wire_struct! {
    /// Where a channel is in the dialplan (context, extension, priority, current application).
    pub struct DialplanCep as "DialplanCEP" {
        pub context: String,
        pub exten: String,
        pub priority: i64,
        #[serde(default)]
        pub app_name: String,
        #[serde(default)]
        pub app_data: String,
    }
}

wire_struct! {
    /// A channel snapshot.
    pub struct Channel as "Channel" {
        pub id: String,
        pub name: String,
        pub state: ChannelState,
        #[serde(default)]
        pub protocol_id: String,
        pub caller: CallerId,
        pub connected: CallerId,
        #[serde(default)]
        pub accountcode: String,
        pub dialplan: DialplanCep,
        pub creationtime: Timestamp,
        #[serde(default)]
        pub language: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channelvars: Option<HashMap<String, serde_json::Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub caller_rdnis: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tenantid: Option<String>,
    }
}

wire_struct! {
    /// A bridge snapshot.
    pub struct Bridge as "Bridge" {
        pub id: String,
        #[serde(default)]
        pub technology: String,
        #[serde(default)]
        pub bridge_type: String,
        #[serde(default)]
        pub bridge_class: String,
        #[serde(default)]
        pub creator: String,
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub channels: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub video_mode: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub video_source_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub creationtime: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bridgevars: Option<HashMap<String, serde_json::Value>>,
    }
}

wire_struct! {
    /// A playback of one or several media URIs on a channel or bridge.
    pub struct Playback as "Playback" {
        pub id: String,
        pub media_uri: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next_media_uri: Option<String>,
        pub target_uri: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub language: Option<String>,
        pub state: PlaybackState,
    }
}

wire_struct! {
    /// A recording in progress (or just ended, in `RecordingFinished`/`RecordingFailed`).
    pub struct LiveRecording as "LiveRecording" {
        pub name: String,
        pub format: String,
        pub target_uri: String,
        pub state: RecordingState,
        /// Length in whole seconds (trailing silence trimmed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub duration: Option<i64>,
        /// Seconds of speech; only when `maxSilenceSeconds` was set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub talking_duration: Option<i64>,
        /// Seconds of silence; only when `maxSilenceSeconds` was set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub silence_duration: Option<i64>,
        /// Why a recording failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<String>,
    }
}

wire_struct! {
    /// A recording stored on the Asterisk server.
    pub struct StoredRecording as "StoredRecording" {
        pub name: String,
        pub format: String,
    }
}

wire_struct! {
    /// An endpoint (e.g. `PJSIP/agent-101`).
    pub struct Endpoint as "Endpoint" {
        pub technology: String,
        pub resource: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub state: Option<EndpointState>,
        #[serde(default)]
        pub channel_ids: Vec<String>,
    }
}

wire_struct! {
    /// A Stasis application and what it is subscribed to.
    pub struct Application as "Application" {
        pub name: String,
        #[serde(default)]
        pub channel_ids: Vec<String>,
        #[serde(default)]
        pub bridge_ids: Vec<String>,
        #[serde(default)]
        pub endpoint_ids: Vec<String>,
        #[serde(default)]
        pub device_names: Vec<String>,
        #[serde(default)]
        pub events_allowed: Vec<serde_json::Value>,
        #[serde(default)]
        pub events_disallowed: Vec<serde_json::Value>,
    }
}

wire_struct! {
    /// A channel or bridge variable's value.
    pub struct Variable as "Variable" {
        pub value: String,
    }
}

wire_struct! {
    /// How Asterisk was built.
    pub struct BuildInfo as "BuildInfo" {
        #[serde(default)]
        pub os: String,
        #[serde(default)]
        pub kernel: String,
        #[serde(default)]
        pub options: String,
        #[serde(default)]
        pub machine: String,
        #[serde(default)]
        pub date: String,
        #[serde(default)]
        pub user: String,
    }
}

wire_struct! {
    /// Asterisk's version and entity id.
    pub struct SystemInfo as "SystemInfo" {
        pub version: String,
        pub entity_id: String,
    }
}

wire_struct! {
    /// The user and group Asterisk runs as.
    pub struct SetId as "SetId" {
        #[serde(default)]
        pub user: String,
        #[serde(default)]
        pub group: String,
    }
}

wire_struct! {
    /// Asterisk's configuration summary.
    pub struct ConfigInfo as "ConfigInfo" {
        pub name: String,
        pub default_language: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_channels: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_open_files: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_load: Option<f64>,
        pub setid: SetId,
    }
}

wire_struct! {
    /// When Asterisk started and last reloaded.
    pub struct StatusInfo as "StatusInfo" {
        pub startup_time: Timestamp,
        pub last_reload_time: Timestamp,
    }
}

wire_struct! {
    /// `GET /asterisk/info`: each part present when asked for (all by default).
    pub struct AsteriskInfo as "AsteriskInfo" {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub build: Option<BuildInfo>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub system: Option<SystemInfo>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub config: Option<ConfigInfo>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<StatusInfo>,
    }
}

wire_struct! {
    /// `GET /asterisk/ping`.
    pub struct AsteriskPing as "AsteriskPing" {
        pub asterisk_id: String,
        pub ping: String,
        pub timestamp: String,
    }
}

wire_struct! {
    /// One language/format a sound exists in.
    pub struct FormatLangPair as "FormatLangPair" {
        pub language: String,
        pub format: String,
    }
}

wire_struct! {
    /// A sound file Asterisk can play (`sound:<id>`).
    pub struct Sound as "Sound" {
        pub id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub text: Option<String>,
        #[serde(default)]
        pub formats: Vec<FormatLangPair>,
    }
}

wire_struct! {
    /// A device's state (`DeviceStateChanged.device_state`).
    pub struct DeviceState as "DeviceState" {
        pub name: String,
        pub state: DeviceStateValue,
    }
}

wire_struct! {
    /// An out-of-call text message (`TextMessageReceived.message`).
    pub struct TextMessage as "TextMessage" {
        pub from: String,
        pub to: String,
        pub body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub variables: Option<HashMap<String, serde_json::Value>>,
    }
}

/// What a `target_uri` (of a playback or recording) points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// `channel:<id>`
    Channel(&'a str),
    /// `bridge:<id>`
    Bridge(&'a str),
    /// `endpoint:…`, `deviceState:…`, or anything else.
    Other(&'a str),
}

impl<'a> Target<'a> {
    /// Splits a `target_uri` such as `channel:caller-1;2` into its kind and id.
    pub fn parse(target_uri: &'a str) -> Self {
        if let Some(id) = target_uri.strip_prefix("channel:") {
            Target::Channel(id)
        } else if let Some(id) = target_uri.strip_prefix("bridge:") {
            Target::Bridge(id)
        } else {
            Target::Other(target_uri)
        }
    }
}

impl Playback {
    /// What this playback plays on.
    pub fn target(&self) -> Target<'_> {
        Target::parse(&self.target_uri)
    }
}

impl LiveRecording {
    /// What this recording records.
    pub fn target(&self) -> Target<'_> {
        Target::parse(&self.target_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_from_trace_shape() {
        let json = r#"{"id": "caller-508c126e;2", "name": "Local/1100@from-citizens-00000024;2", "state": "Ring",
            "protocol_id": "", "caller": {"name": "Citizen", "number": "9816000001"},
            "connected": {"name": "Citizen", "number": "9816000001"}, "accountcode": "",
            "dialplan": {"context": "from-citizens", "exten": "1100", "priority": 2, "app_name": "Stasis",
            "app_data": "ivr-1100"}, "creationtime": "2026-11-29T02:59:43.256+0000", "language": "en"}"#;
        let ch: Channel = serde_json::from_str(json).unwrap();
        assert_eq!(ch.state, ChannelState::Ring);
        assert_eq!(ch.caller.number, "9816000001");
        assert_eq!(ch.dialplan.priority, 2);
        let back = serde_json::to_string(&ch).unwrap();
        let again: Channel = serde_json::from_str(&back).unwrap();
        assert_eq!(ch, again);
    }

    #[test]
    fn unknown_states_are_kept() {
        let s: ChannelState = serde_json::from_str("\"Mystery\"").unwrap();
        assert_eq!(s, ChannelState::Unknown("Mystery".into()));
        assert_eq!(s.as_str(), "Mystery");
        let p: PlaybackState = serde_json::from_str("\"done\"").unwrap();
        assert!(p.is_final());
    }

    #[test]
    fn targets() {
        assert_eq!(Target::parse("channel:a;2"), Target::Channel("a;2"));
        assert_eq!(Target::parse("bridge:b"), Target::Bridge("b"));
        assert_eq!(
            Target::parse("endpoint:PJSIP/x"),
            Target::Other("endpoint:PJSIP/x")
        );
    }
}
