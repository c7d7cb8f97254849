//! The table of every ARI operation this client can call: method, path template and the query parameters it
//! may send (with their allowed values). The [`Client`](crate::Client) builds every request from these
//! entries and refuses a parameter that is not listed, so the conformance test that compares this table with
//! the Swagger files checks what is really sent.

use crate::params::{
    HangupReason, IfExists, MuteDirection, PlaybackOperation, SnoopDirection, TerminateOn,
};

/// An HTTP method ARI uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
}

impl HttpMethod {
    /// As the Swagger files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamPlace {
    /// A query-string parameter.
    Query,
    /// A key of the JSON body (ARI's `variables` "containers").
    Body,
}

/// One parameter an operation may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its name on the wire.
    pub name: &'static str,
    /// Query string or JSON body.
    pub place: ParamPlace,
    /// The only values the client sends, when the spec restricts them.
    pub allowed: Option<&'static [&'static str]>,
    /// Whether several values may be sent (comma-separated).
    pub multiple: bool,
}

const fn q(name: &'static str) -> Param {
    Param {
        name,
        place: ParamPlace::Query,
        allowed: None,
        multiple: false,
    }
}

const fn qm(name: &'static str) -> Param {
    Param {
        name,
        place: ParamPlace::Query,
        allowed: None,
        multiple: true,
    }
}

const fn qe(name: &'static str, allowed: &'static [&'static str]) -> Param {
    Param {
        name,
        place: ParamPlace::Query,
        allowed: Some(allowed),
        multiple: false,
    }
}

const fn body(name: &'static str) -> Param {
    Param {
        name,
        place: ParamPlace::Body,
        allowed: None,
        multiple: false,
    }
}

/// One ARI operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// `<resource>.<nickname>` as in the Swagger files, e.g. `channels.answer`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template below the ARI base URL, e.g. `/channels/{channelId}/answer`.
    pub path: &'static str,
    /// The parameters the client may send.
    pub params: &'static [Param],
    /// Whether a 409 means "channel not in Stasis" (channel operations) rather than a conflict.
    pub channel_op: bool,
}

impl Operation {
    /// The parameter of that name, if this operation may send it.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The `{placeholders}` of the path template, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        let path: &'static str = self.path;
        path.split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }
}

macro_rules! op {
    ($name:literal, $method:ident, $path:literal, [$($param:expr),* $(,)?]) => {
        Operation { name: $name, method: HttpMethod::$method, path: $path, params: &[$($param),*], channel_op: false }
    };
    (channel $name:literal, $method:ident, $path:literal, [$($param:expr),* $(,)?]) => {
        Operation { name: $name, method: HttpMethod::$method, path: $path, params: &[$($param),*], channel_op: true }
    };
}

const ORIGINATE_PARAMS: &[Param] = &[
    q("endpoint"),
    q("extension"),
    q("context"),
    q("priority"),
    q("label"),
    q("app"),
    q("appArgs"),
    q("callerId"),
    q("timeout"),
    q("otherChannelId"),
    q("originator"),
    q("formats"),
    body("variables"),
];

pub const CHANNELS_LIST: Operation = op!("channels.list", Get, "/channels", []);
pub const CHANNELS_ORIGINATE_WITH_ID: Operation = Operation {
    name: "channels.originateWithId",
    method: HttpMethod::Post,
    path: "/channels/{channelId}",
    params: ORIGINATE_PARAMS,
    channel_op: false,
};
pub const CHANNELS_GET: Operation = op!(channel "channels.get", Get, "/channels/{channelId}", []);
pub const CHANNELS_HANGUP: Operation = op!(channel "channels.hangup", Delete, "/channels/{channelId}",
    [qe("reason", HangupReason::WIRE_VALUES)]);
pub const CHANNELS_CONTINUE: Operation = op!(channel "channels.continueInDialplan", Post, "/channels/{channelId}/continue",
    [q("context"), q("extension"), q("priority"), q("label")]);
pub const CHANNELS_MOVE: Operation = op!(channel "channels.move", Post, "/channels/{channelId}/move",
    [q("app"), q("appArgs")]);
pub const CHANNELS_REDIRECT: Operation = op!(channel "channels.redirect", Post, "/channels/{channelId}/redirect",
    [q("endpoint")]);
pub const CHANNELS_ANSWER: Operation =
    op!(channel "channels.answer", Post, "/channels/{channelId}/answer", []);
pub const CHANNELS_RING: Operation =
    op!(channel "channels.ring", Post, "/channels/{channelId}/ring", []);
pub const CHANNELS_RING_STOP: Operation =
    op!(channel "channels.ringStop", Delete, "/channels/{channelId}/ring", []);
pub const CHANNELS_SEND_DTMF: Operation = op!(channel "channels.sendDTMF", Post, "/channels/{channelId}/dtmf",
    [q("dtmf"), q("before"), q("between"), q("duration"), q("after")]);
pub const CHANNELS_MUTE: Operation = op!(channel "channels.mute", Post, "/channels/{channelId}/mute",
    [qe("direction", MuteDirection::WIRE_VALUES)]);
pub const CHANNELS_UNMUTE: Operation = op!(channel "channels.unmute", Delete, "/channels/{channelId}/mute",
    [qe("direction", MuteDirection::WIRE_VALUES)]);
pub const CHANNELS_HOLD: Operation =
    op!(channel "channels.hold", Post, "/channels/{channelId}/hold", []);
pub const CHANNELS_UNHOLD: Operation =
    op!(channel "channels.unhold", Delete, "/channels/{channelId}/hold", []);
pub const CHANNELS_START_MOH: Operation = op!(channel "channels.startMoh", Post, "/channels/{channelId}/moh",
    [q("mohClass")]);
pub const CHANNELS_STOP_MOH: Operation =
    op!(channel "channels.stopMoh", Delete, "/channels/{channelId}/moh", []);
pub const CHANNELS_START_SILENCE: Operation =
    op!(channel "channels.startSilence", Post, "/channels/{channelId}/silence", []);
pub const CHANNELS_STOP_SILENCE: Operation =
    op!(channel "channels.stopSilence", Delete, "/channels/{channelId}/silence", []);
pub const CHANNELS_PLAY_WITH_ID: Operation = op!(channel "channels.playWithId", Post, "/channels/{channelId}/play/{playbackId}",
    [qm("media"), q("lang"), q("offsetms"), q("skipms")]);
pub const CHANNELS_RECORD: Operation = op!(channel "channels.record", Post, "/channels/{channelId}/record",
    [q("name"), q("format"), q("maxDurationSeconds"), q("maxSilenceSeconds"),
     qe("ifExists", IfExists::WIRE_VALUES), q("beep"), qe("terminateOn", TerminateOn::WIRE_VALUES)]);
pub const CHANNELS_GET_VAR: Operation = op!(channel "channels.getChannelVar", Get, "/channels/{channelId}/variable",
    [q("variable")]);
pub const CHANNELS_SET_VAR: Operation = op!(channel "channels.setChannelVar", Post, "/channels/{channelId}/variable",
    [q("variable"), q("value")]);
pub const CHANNELS_SNOOP_WITH_ID: Operation = op!(channel "channels.snoopChannelWithId", Post, "/channels/{channelId}/snoop/{snoopId}",
    [qe("spy", SnoopDirection::WIRE_VALUES), qe("whisper", SnoopDirection::WIRE_VALUES), q("app"), q("appArgs")]);

pub const BRIDGES_LIST: Operation = op!("bridges.list", Get, "/bridges", []);
pub const BRIDGES_CREATE_WITH_ID: Operation = op!(
    "bridges.createWithId",
    Post,
    "/bridges/{bridgeId}",
    [q("type"), q("name")]
);
pub const BRIDGES_GET: Operation = op!("bridges.get", Get, "/bridges/{bridgeId}", []);
pub const BRIDGES_DESTROY: Operation = op!("bridges.destroy", Delete, "/bridges/{bridgeId}", []);
pub const BRIDGES_ADD_CHANNEL: Operation = op!(
    "bridges.addChannel",
    Post,
    "/bridges/{bridgeId}/addChannel",
    [qm("channel"), q("role"), q("absorbDTMF"), q("mute")]
);
pub const BRIDGES_REMOVE_CHANNEL: Operation = op!(
    "bridges.removeChannel",
    Post,
    "/bridges/{bridgeId}/removeChannel",
    [qm("channel")]
);
pub const BRIDGES_START_MOH: Operation = op!(
    "bridges.startMoh",
    Post,
    "/bridges/{bridgeId}/moh",
    [q("mohClass")]
);
pub const BRIDGES_STOP_MOH: Operation =
    op!("bridges.stopMoh", Delete, "/bridges/{bridgeId}/moh", []);
pub const BRIDGES_PLAY_WITH_ID: Operation = op!(
    "bridges.playWithId",
    Post,
    "/bridges/{bridgeId}/play/{playbackId}",
    [qm("media"), q("lang"), q("offsetms"), q("skipms")]
);
pub const BRIDGES_RECORD: Operation = op!(
    "bridges.record",
    Post,
    "/bridges/{bridgeId}/record",
    [
        q("name"),
        q("format"),
        q("maxDurationSeconds"),
        q("maxSilenceSeconds"),
        qe("ifExists", IfExists::WIRE_VALUES),
        q("beep"),
        qe("terminateOn", TerminateOn::WIRE_VALUES)
    ]
);

pub const PLAYBACKS_GET: Operation = op!("playbacks.get", Get, "/playbacks/{playbackId}", []);
pub const PLAYBACKS_STOP: Operation = op!("playbacks.stop", Delete, "/playbacks/{playbackId}", []);
pub const PLAYBACKS_CONTROL: Operation = op!(
    "playbacks.control",
    Post,
    "/playbacks/{playbackId}/control",
    [qe("operation", PlaybackOperation::WIRE_VALUES)]
);

pub const RECORDINGS_LIST_STORED: Operation =
    op!("recordings.listStored", Get, "/recordings/stored", []);
pub const RECORDINGS_GET_STORED: Operation = op!(
    "recordings.getStored",
    Get,
    "/recordings/stored/{recordingName}",
    []
);
pub const RECORDINGS_DELETE_STORED: Operation = op!(
    "recordings.deleteStored",
    Delete,
    "/recordings/stored/{recordingName}",
    []
);
pub const RECORDINGS_GET_STORED_FILE: Operation = op!(
    "recordings.getStoredFile",
    Get,
    "/recordings/stored/{recordingName}/file",
    []
);
pub const RECORDINGS_COPY_STORED: Operation = op!(
    "recordings.copyStored",
    Post,
    "/recordings/stored/{recordingName}/copy",
    [q("destinationRecordingName")]
);
pub const RECORDINGS_GET_LIVE: Operation = op!(
    "recordings.getLive",
    Get,
    "/recordings/live/{recordingName}",
    []
);
pub const RECORDINGS_CANCEL: Operation = op!(
    "recordings.cancel",
    Delete,
    "/recordings/live/{recordingName}",
    []
);
pub const RECORDINGS_STOP: Operation = op!(
    "recordings.stop",
    Post,
    "/recordings/live/{recordingName}/stop",
    []
);
pub const RECORDINGS_PAUSE: Operation = op!(
    "recordings.pause",
    Post,
    "/recordings/live/{recordingName}/pause",
    []
);
pub const RECORDINGS_UNPAUSE: Operation = op!(
    "recordings.unpause",
    Delete,
    "/recordings/live/{recordingName}/pause",
    []
);
pub const RECORDINGS_MUTE: Operation = op!(
    "recordings.mute",
    Post,
    "/recordings/live/{recordingName}/mute",
    []
);
pub const RECORDINGS_UNMUTE: Operation = op!(
    "recordings.unmute",
    Delete,
    "/recordings/live/{recordingName}/mute",
    []
);

pub const ENDPOINTS_LIST: Operation = op!("endpoints.list", Get, "/endpoints", []);
pub const ENDPOINTS_LIST_BY_TECH: Operation =
    op!("endpoints.listByTech", Get, "/endpoints/{tech}", []);
pub const ENDPOINTS_GET: Operation = op!("endpoints.get", Get, "/endpoints/{tech}/{resource}", []);

pub const APPLICATIONS_LIST: Operation = op!("applications.list", Get, "/applications", []);
pub const APPLICATIONS_GET: Operation = op!(
    "applications.get",
    Get,
    "/applications/{applicationName}",
    []
);
pub const APPLICATIONS_SUBSCRIBE: Operation = op!(
    "applications.subscribe",
    Post,
    "/applications/{applicationName}/subscription",
    [qm("eventSource")]
);
pub const APPLICATIONS_UNSUBSCRIBE: Operation = op!(
    "applications.unsubscribe",
    Delete,
    "/applications/{applicationName}/subscription",
    [qm("eventSource")]
);

pub const ASTERISK_INFO: Operation = op!("asterisk.getInfo", Get, "/asterisk/info", [qm("only")]);
pub const ASTERISK_PING: Operation = op!("asterisk.ping", Get, "/asterisk/ping", []);

pub const SOUNDS_LIST: Operation = op!("sounds.list", Get, "/sounds", [q("lang"), q("format")]);
pub const SOUNDS_GET: Operation = op!("sounds.get", Get, "/sounds/{soundId}", []);

/// Every operation the client implements.
pub const OPERATIONS: &[&Operation] = &[
    &CHANNELS_LIST,
    &CHANNELS_ORIGINATE_WITH_ID,
    &CHANNELS_GET,
    &CHANNELS_HANGUP,
    &CHANNELS_CONTINUE,
    &CHANNELS_MOVE,
    &CHANNELS_REDIRECT,
    &CHANNELS_ANSWER,
    &CHANNELS_RING,
    &CHANNELS_RING_STOP,
    &CHANNELS_SEND_DTMF,
    &CHANNELS_MUTE,
    &CHANNELS_UNMUTE,
    &CHANNELS_HOLD,
    &CHANNELS_UNHOLD,
    &CHANNELS_START_MOH,
    &CHANNELS_STOP_MOH,
    &CHANNELS_START_SILENCE,
    &CHANNELS_STOP_SILENCE,
    &CHANNELS_PLAY_WITH_ID,
    &CHANNELS_RECORD,
    &CHANNELS_GET_VAR,
    &CHANNELS_SET_VAR,
    &CHANNELS_SNOOP_WITH_ID,
    &BRIDGES_LIST,
    &BRIDGES_CREATE_WITH_ID,
    &BRIDGES_GET,
    &BRIDGES_DESTROY,
    &BRIDGES_ADD_CHANNEL,
    &BRIDGES_REMOVE_CHANNEL,
    &BRIDGES_START_MOH,
    &BRIDGES_STOP_MOH,
    &BRIDGES_PLAY_WITH_ID,
    &BRIDGES_RECORD,
    &PLAYBACKS_GET,
    &PLAYBACKS_STOP,
    &PLAYBACKS_CONTROL,
    &RECORDINGS_LIST_STORED,
    &RECORDINGS_GET_STORED,
    &RECORDINGS_DELETE_STORED,
    &RECORDINGS_GET_STORED_FILE,
    &RECORDINGS_COPY_STORED,
    &RECORDINGS_GET_LIVE,
    &RECORDINGS_CANCEL,
    &RECORDINGS_STOP,
    &RECORDINGS_PAUSE,
    &RECORDINGS_UNPAUSE,
    &RECORDINGS_MUTE,
    &RECORDINGS_UNMUTE,
    &ENDPOINTS_LIST,
    &ENDPOINTS_LIST_BY_TECH,
    &ENDPOINTS_GET,
    &APPLICATIONS_LIST,
    &APPLICATIONS_GET,
    &APPLICATIONS_SUBSCRIBE,
    &APPLICATIONS_UNSUBSCRIBE,
    &ASTERISK_INFO,
    &ASTERISK_PING,
    &SOUNDS_LIST,
    &SOUNDS_GET,
];

/// The operation a request (method and concrete path below the ARI base, e.g. `/channels/x;2/answer`)
/// belongs to. Literal segments win over placeholders (`/recordings/stored` is not `/recordings/{x}`).
pub fn find(method: &str, path: &str) -> Option<&'static Operation> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    OPERATIONS
        .iter()
        .copied()
        .filter(|op| op.method.as_str() == method)
        .filter(|op| {
            let template = op.path.trim_start_matches('/').split('/');
            template.clone().count() == segments.len()
                && template
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == *s)
        })
        .max_by_key(|op| op.path.split('/').filter(|s| !s.starts_with('{')).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unique_and_path_params() {
        let mut names: Vec<_> = OPERATIONS.iter().map(|o| o.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        let ps: Vec<_> = CHANNELS_PLAY_WITH_ID.path_params().collect();
        assert_eq!(ps, ["channelId", "playbackId"]);
        assert!(CHANNELS_HANGUP.param("reason").is_some());
        assert!(CHANNELS_HANGUP.param("nope").is_none());
        assert_eq!(
            find("GET", "/recordings/stored"),
            Some(&RECORDINGS_LIST_STORED)
        );
        assert_eq!(
            find("GET", "/recordings/stored/r1"),
            Some(&RECORDINGS_GET_STORED)
        );
        assert_eq!(find("DELETE", "/channels/a;2"), Some(&CHANNELS_HANGUP));
        assert_eq!(find("PATCH", "/channels/a;2"), None);
    }
}
