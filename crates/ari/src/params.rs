//! Typed request parameters: the closed sets of values ARI accepts (hangup reasons, `ifExists`, …), media URIs,
//! and structs for the calls that take many parameters (`Originate`, `RecordParams`, …).

use std::collections::HashMap;
use std::fmt;

use crate::wire::param_enum;

param_enum! {
    /// Why we hang up a channel (`DELETE /channels/{id}?reason=`).
    pub enum HangupReason {
        Normal = "normal",
        Busy = "busy",
        Congestion = "congestion",
        NoAnswer = "no_answer",
        Timeout = "timeout",
        Rejected = "rejected",
        Unallocated = "unallocated",
        NormalUnspecified = "normal_unspecified",
        NumberIncomplete = "number_incomplete",
        CodecMismatch = "codec_mismatch",
        Interworking = "interworking",
        Failure = "failure",
        AnsweredElsewhere = "answered_elsewhere",
    }
}

param_enum! {
    /// What a recording does when a stored recording of the same name exists.
    pub enum IfExists {
        /// Refuse with 409.
        Fail = "fail",
        Overwrite = "overwrite",
        Append = "append",
    }
}

param_enum! {
    /// Which DTMF digit ends a recording.
    pub enum TerminateOn {
        None = "none",
        Any = "any",
        Star = "*",
        Hash = "#",
    }
}

param_enum! {
    /// Direction of snooping (spy) or whispering.
    pub enum SnoopDirection {
        None = "none",
        Both = "both",
        Out = "out",
        In = "in",
    }
}

param_enum! {
    /// Which audio direction to mute.
    pub enum MuteDirection {
        Both = "both",
        In = "in",
        Out = "out",
    }
}

param_enum! {
    /// A playback control operation.
    pub enum PlaybackOperation {
        Restart = "restart",
        Pause = "pause",
        Unpause = "unpause",
        Reverse = "reverse",
        Forward = "forward",
    }
}

param_enum! {
    /// A bridge feature (`POST /bridges?type=mixing,dtmf_events`).
    pub enum BridgeType {
        Mixing = "mixing",
        Holding = "holding",
        DtmfEvents = "dtmf_events",
        ProxyMedia = "proxy_media",
        VideoSfu = "video_sfu",
        VideoSingle = "video_single",
        SdpLabel = "sdp_label",
    }
}

/// One media URI to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// `sound:<id>` — a sound file in the channel's language, e.g. `helpline/welcome`.
    Sound(String),
    /// `digits:<digits>` — read digit by digit.
    Digits(String),
    /// `number:<n>` — read as a number.
    Number(i64),
    /// `characters:<text>` — spelled letter by letter.
    Characters(String),
    /// `recording:<name>` — a stored recording.
    Recording(String),
    /// `tone:<name or spec>` — a tone (e.g. `beep`, `ring;tonezone=in`).
    Tone(String),
}

impl fmt::Display for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Media::Sound(s) => write!(f, "sound:{s}"),
            Media::Digits(s) => write!(f, "digits:{s}"),
            Media::Number(n) => write!(f, "number:{n}"),
            Media::Characters(s) => write!(f, "characters:{s}"),
            Media::Recording(s) => write!(f, "recording:{s}"),
            Media::Tone(s) => write!(f, "tone:{s}"),
        }
    }
}

impl Media {
    /// The media URI as ARI takes it.
    pub fn uri(&self) -> String {
        self.to_string()
    }
}

/// `POST /channels/{channelId}`: create a channel with a client-chosen id and dial it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Originate {
    /// The id of the new channel, chosen by us so its events can be routed before the reply.
    pub channel_id: String,
    /// What to dial, e.g. `PJSIP/agent-101` or `Local/answer@agents/n`.
    pub endpoint: String,
    /// The Stasis application to put the answered channel into (exclusive with `dialplan`).
    pub app: Option<String>,
    /// Arguments for `StasisStart.args` (comma-separated by Asterisk).
    pub app_args: Option<String>,
    /// Where in the dialplan to go after the answer, when not into an app.
    pub dialplan: Option<DialplanTarget>,
    /// Caller id to present, e.g. `"1100" <1100>`.
    pub caller_id: Option<String>,
    /// Seconds to ring before giving up (`-1`: forever).
    pub timeout_secs: Option<i32>,
    /// The id of the `;2` half of a Local channel.
    pub other_channel_id: Option<String>,
    /// The channel this one is originated for (codec and linked id).
    pub originator: Option<String>,
    /// Channel variables to set on the new channel.
    pub variables: HashMap<String, String>,
}

/// A dialplan location (`continue`, originate to extension).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DialplanTarget {
    pub context: Option<String>,
    pub extension: Option<String>,
    pub priority: Option<i64>,
    pub label: Option<String>,
}

/// `POST /channels/{id}/record` and `/bridges/{id}/record`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordParams {
    /// Name of the recording (chosen by us, so its events can be matched).
    pub name: String,
    /// File format, e.g. `wav`.
    pub format: String,
    /// Stop after this many seconds (`None`: no limit).
    pub max_duration_secs: Option<u32>,
    /// Stop after this many seconds of silence (`None`: no limit).
    pub max_silence_secs: Option<u32>,
    /// What to do when a recording of that name exists.
    pub if_exists: Option<IfExists>,
    /// Play a beep before recording.
    pub beep: Option<bool>,
    /// DTMF that ends the recording.
    pub terminate_on: Option<TerminateOn>,
}

impl RecordParams {
    /// A recording with only name and format set; Asterisk's defaults for the rest.
    pub fn new(name: impl Into<String>, format: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            format: format.into(),
            max_duration_secs: None,
            max_silence_secs: None,
            if_exists: None,
            beep: None,
            terminate_on: None,
        }
    }
}

/// `POST /channels/{id}/dtmf`: digits to send, timings in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendDtmf {
    pub dtmf: String,
    pub before_ms: Option<u32>,
    pub between_ms: Option<u32>,
    pub duration_ms: Option<u32>,
    pub after_ms: Option<u32>,
}

/// `POST /channels/{id}/snoop/{snoopId}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snoop {
    /// Id of the snoop channel, chosen by us.
    pub snoop_id: String,
    /// Which audio of the snooped channel the snoop channel hears.
    pub spy: SnoopDirection,
    /// Which way the snoop channel's audio is whispered.
    pub whisper: SnoopDirection,
    /// The Stasis application for the snoop channel.
    pub app: String,
    /// `StasisStart.args` for it.
    pub app_args: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_uris() {
        assert_eq!(
            Media::Sound("helpline/welcome".into()).uri(),
            "sound:helpline/welcome"
        );
        assert_eq!(Media::Digits("1100".into()).uri(), "digits:1100");
        assert_eq!(Media::Number(42).uri(), "number:42");
        assert_eq!(Media::Characters("HP".into()).uri(), "characters:HP");
        assert_eq!(Media::Recording("r1".into()).uri(), "recording:r1");
        assert_eq!(Media::Tone("beep".into()).uri(), "tone:beep");
    }

    #[test]
    fn param_values() {
        assert_eq!(HangupReason::NoAnswer.as_str(), "no_answer");
        assert_eq!(TerminateOn::Hash.as_str(), "#");
        assert!(IfExists::WIRE_VALUES.contains(&"fail"));
    }
}
