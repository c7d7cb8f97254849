//! The simulated Asterisk's state: channels, playbacks, bridges, recordings, apps and their
//! connections, simulated callers' runs, and the timers that move them on. Plain data; the actor
//! (`Model`) and its parts change it, `wire` writes it as ARI JSON.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use tokio::sync::mpsc;

use super::{ConnId, WsOut};
use crate::audio::Segment;
use crate::config::EndpointBehaviour;
use crate::media::Audio;
use crate::scenario::{CallbackAttempt, HeardMedia, HungUpBy, Scenario};

/// Something scheduled for later.
#[derive(Debug, Clone)]
pub(crate) enum Timer {
    PlaybackItemEnd {
        playback: String,
        generation: u64,
    },
    RecordingMaxDuration {
        name: String,
        generation: u64,
    },
    RecordingSilence {
        name: String,
        generation: u64,
    },
    DtmfArrives {
        channel: String,
        digit: char,
        duration_ms: u64,
    },
    OriginateTimeout {
        channel: String,
    },
    /// An originated phone's INVITE goes out (after the originate's reply): it rings, is busy, or is silent.
    EndpointDials {
        channel: String,
        instance: u64,
    },
    EndpointAnswers {
        channel: String,
    },
    /// Nothing answered the INVITE: the SIP transaction times out (32 s).
    SipTimeout {
        channel: String,
        instance: u64,
    },
    /// The phone hangs up itself (a BYE).
    PhoneHangsUp {
        channel: String,
        instance: u64,
    },
    /// The phone puts the call on hold (`on`) or takes it off (a re-INVITE).
    PhoneHolds {
        channel: String,
        instance: u64,
        on: bool,
    },
    DialplanNext {
        channel: String,
        generation: u64,
    },
    CallStep {
        call: u64,
        generation: u64,
    },
    CallTimeout {
        call: u64,
        generation: u64,
    },
    CallVoiceEnds {
        call: u64,
        generation: u64,
    },
    CallDtmf {
        call: u64,
        digit: char,
        duration_ms: u64,
        /// A key of the current `press` step (not of an `on_prompt` reaction).
        press_step: bool,
    },
    /// An `on_prompt` reaction's hangup, on the channel the caller was on when it fired.
    CallReactionHangup {
        call: u64,
        channel: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// One half of a Local channel pair; `half` is 1 or 2.
    Local { peer: String, half: u8 },
    /// A channel from outside (a simulated SIP caller, or an originated PJSIP phone).
    Sip,
    /// A snoop channel spying on `target` (`spy`: none, in, out or both).
    Snoop { target: String, spy: String },
}

/// An originated channel's pending Stasis entry or dialplan destination.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) app: Option<String>,
    pub(crate) args: Vec<String>,
    pub(crate) dialplan: Option<(String, String, u32)>,
    pub(crate) dialstring: String,
    pub(crate) answered: bool,
    /// What the phone does (an originated PJSIP channel; `None` for a Local pair).
    pub(crate) phone: Option<EndpointBehaviour>,
}

#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) state: &'static str,
    pub(crate) protocol_id: String,
    pub(crate) caller: (String, String),
    pub(crate) connected: (String, String),
    pub(crate) creationtime: String,
    pub(crate) language: String,
    pub(crate) context: String,
    pub(crate) exten: String,
    pub(crate) priority: u32,
    pub(crate) app_name: String,
    pub(crate) app_data: String,
    pub(crate) vars: HashMap<String, String>,
    pub(crate) kind: Kind,
    /// Apps hearing this channel's events (incl. the Stasis app while it is in Stasis).
    pub(crate) subscribers: Vec<String>,
    /// Apps subscribed for good (the app that originated a Local pair hears both halves until destroyed).
    pub(crate) local_subscribers: Vec<String>,
    pub(crate) stasis: Option<String>,
    /// Entered Stasis from the dialplan (the dialplan resumes when Stasis ends).
    pub(crate) dialplan_stasis: bool,
    pub(crate) origin: Option<Origin>,
    pub(crate) playing: Option<String>,
    pub(crate) queue: VecDeque<String>,
    pub(crate) recording: Option<String>,
    /// DTMF sent *from* this channel while it was playing: held until the playback stops.
    pub(crate) held_dtmf: Vec<(char, u64)>,
    /// What this channel currently hears from its far end: (since model ms, audio, offset ms).
    pub(crate) inbound: Option<(u64, Audio, u64)>,
    pub(crate) bridge: Option<String>,
    pub(crate) call: Option<u64>,
    pub(crate) dialplan_generation: u64,
    pub(crate) snoops: Vec<String>,
    /// Music on hold started on the channel itself (`POST /channels/{id}/moh`): its class.
    pub(crate) moh: Option<String>,
    /// The simulated caller on this channel is hearing music on hold now (its own, or its bridge's).
    pub(crate) moh_heard: bool,
    pub(crate) muted: bool,
    pub(crate) on_hold: bool,
    /// `Dial PROGRESS` was reported for this originated channel (early media on its peer).
    pub(crate) progress_reported: bool,
    /// The channel is being torn down: a simulated caller on it takes no further steps.
    pub(crate) hanging_up: bool,
    /// An originated channel continued into the dialplan: its `STASISSTATUS=SUCCESS` comes when the
    /// dialplan ends, not when it leaves Stasis.
    pub(crate) stasis_status_pending: bool,
    /// Tells this channel's timers from those of an earlier channel with the same (client-chosen) id.
    pub(crate) instance: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Channel(String),
    Bridge(String),
}

impl Target {
    pub(crate) fn uri(&self) -> String {
        match self {
            Target::Channel(id) => format!("channel:{id}"),
            Target::Bridge(id) => format!("bridge:{id}"),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Playback {
    pub(crate) id: String,
    pub(crate) media: Vec<String>,
    pub(crate) index: usize,
    pub(crate) target: Target,
    pub(crate) language: String,
    pub(crate) state: &'static str,
    pub(crate) generation: u64,
    pub(crate) item_started_ms: u64,
    pub(crate) item_duration_ms: Option<u64>,
    pub(crate) paused_elapsed_ms: Option<u64>,
    pub(crate) audio: Option<Audio>,
    /// Unknown scheme on an unanswered channel: started, never finishes, vanishes with the channel.
    pub(crate) stuck: bool,
}

#[derive(Debug)]
pub(crate) struct Bridge {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) bridge_type: String,
    pub(crate) technology: &'static str,
    pub(crate) channels: Vec<String>,
    pub(crate) creationtime: String,
    pub(crate) subscribers: Vec<String>,
    pub(crate) recording: Option<String>,
    pub(crate) playing: Option<String>,
    pub(crate) queue: VecDeque<String>,
    /// Music on hold on the bridge: its class and the announcer channel playing it (a mixing bridge's
    /// members see it in `BRIDGEPEER`).
    pub(crate) moh: Option<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct LiveRecording {
    pub(crate) name: String,
    pub(crate) format: String,
    pub(crate) target: Target,
    /// Model ms when capture began (after the beep).
    pub(crate) started_ms: u64,
    /// Tells this recording's timers from those of an earlier one with the same name.
    pub(crate) instance: u64,
    /// 0: no limit. Capture is cut at exactly this length, however late its timer fires.
    pub(crate) max_duration_s: u64,
    pub(crate) max_silence_s: u64,
    pub(crate) terminate_on: String,
    pub(crate) if_exists: String,
    pub(crate) generation: u64,
    pub(crate) segments: Vec<Segment>,
    /// Voices being heard now, by channel: (start ms relative to the recording, audio, offset ms).
    pub(crate) open: HashMap<String, (u64, Audio, u64)>,
    pub(crate) paused: bool,
    /// Paused time so far (not part of the file, nor of maxDurationSeconds).
    pub(crate) paused_total_ms: u64,
    pub(crate) paused_since: Option<u64>,
    pub(crate) muted: bool,
    pub(crate) state: &'static str,
}

impl LiveRecording {
    /// Milliseconds into the recording at model time `now` (paused time excluded).
    pub(crate) fn rel(&self, now: u64) -> u64 {
        let paused = self.paused_total_ms + self.paused_since.map_or(0, |p| now.saturating_sub(p));
        now.saturating_sub(self.started_ms).saturating_sub(paused)
    }

    /// Whether audio is being captured now.
    pub(crate) fn capturing(&self) -> bool {
        !self.paused && !self.muted
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StoredRecording {
    pub(crate) format: String,
    pub(crate) path: PathBuf,
}

#[derive(Debug, Default)]
pub(crate) struct App {
    pub(crate) conn: Option<ConnId>,
    pub(crate) subscribed_endpoints: HashSet<String>,
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) tx: mpsc::Sender<WsOut>,
    pub(crate) apps: Vec<String>,
}

/// What a simulated caller is waiting for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CallWait {
    Nothing,
    Prompt(Option<String>),
    PromptEnd,
    Hangup,
    Timer,
    /// For an agent to be on the line (`wait_agent`).
    Agent,
    /// Off the line, for the call-back (`await_callback`).
    Callback,
}

#[derive(Debug)]
pub(crate) struct CallRun {
    pub(crate) id: u64,
    pub(crate) scenario: Scenario,
    pub(crate) channel: String,
    pub(crate) started_ms: u64,
    pub(crate) step: usize,
    pub(crate) wait: CallWait,
    pub(crate) generation: u64,
    pub(crate) heard: Vec<HeardMedia>,
    /// Index into `heard` of the first prompt not yet consumed by a `wait_prompt`.
    pub(crate) cursor: usize,
    pub(crate) digits_sent: String,
    /// (digit, ms since the call began) as each key reached the far end.
    pub(crate) keys_at: Vec<(char, u64)>,
    pub(crate) recordings: Vec<String>,
    pub(crate) answered_ms: Option<u64>,
    pub(crate) failure: Option<String>,
    pub(crate) hung_up_by: Option<HungUpBy>,
    pub(crate) transferred_to: Option<String>,
    pub(crate) voice_generation: u64,
    /// Digits of the current `press` step not yet sent.
    pub(crate) digits_pending: usize,
    // Measured only (dead air, spoken complaints); nothing below changes what the simulator does.
    /// Spans (model ms) in which the caller pressed keys or their channel was being recorded.
    pub(crate) covered: Vec<(u64, u64)>,
    /// Recordings capturing the caller now: (name, since model ms).
    pub(crate) recording_since: Vec<(String, u64)>,
    /// Recordings of the caller's channel during which they spoke.
    pub(crate) spoken_recordings: Vec<String>,
    /// When the call left for another party (a redirect, or the dialplan of another context), model ms.
    pub(crate) left_ms: Option<u64>,
    /// An `answer_replays` step ran: a prompt heard again takes the caller back.
    pub(crate) answer_replays: bool,
    /// Where each passed `wait_prompt` step was satisfied: (step index, media URI).
    pub(crate) prompts_answered: Vec<(usize, String)>,
    /// The channel the call began on (`channel` is the one it is on now, empty while off the line).
    pub(crate) first_channel: String,
    /// `on_prompt` reactions registered so far: (their step, fired yet).
    pub(crate) reactions: Vec<(usize, bool)>,
    pub(crate) abandoned: bool,
    pub(crate) connected_ms: Option<u64>,
    pub(crate) bridged_with: Vec<String>,
    pub(crate) callbacks: Vec<CallbackAttempt>,
    /// Off the line since (model ms), waiting for a call-back: not dead air.
    pub(crate) offline_since: Option<u64>,
    /// On the line with another party (an agent) since (model ms): not dead air either.
    pub(crate) bridged_since: Option<u64>,
    /// When waiting for the call-back stops (model ms), whatever attempts came meanwhile.
    pub(crate) callback_deadline: Option<u64>,
    /// The cause the caller's last channel ended with.
    pub(crate) last_cause: u32,
}
