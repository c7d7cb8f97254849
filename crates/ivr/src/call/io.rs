//! The vocabulary between the IVR and its engine: what happens to a call ([`Input`]), what the
//! IVR asks for ([`Action`], [`Media`], [`TicketDraft`]), and what the engine tells it about the
//! call and the ticket store ([`CallContext`], [`TicketStatusView`]).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};

/// What a call is, from outside: fixed for the call's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    /// The channel id; recording names and the ticket's idempotency key derive from it.
    pub call_id: String,
    /// The caller's number (CallerID) as the engine normalised it.
    pub caller: String,
    /// The caller id as the trunk delivered it, when that differs (kept with the ticket for the record).
    pub caller_raw: Option<String>,
    /// Wall-clock time the call started, for office hours and holidays (any offset; the
    /// script's UTC offset is applied).
    pub started_at: DateTime<FixedOffset>,
}

/// What can be played: the engine maps these to ARI media URIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// `sound:helpline/<id>` in the call's language (`sounds/<lang>/helpline/<id>.wav`).
    Prompt(String),
    /// `digits:<digits>` (we ship `sounds/<lang>/digits/0..9.wav`).
    Digits(String),
    /// `recording:<name>`, a stored recording (the caller listening to their complaint).
    Recording(String),
}

/// A complaint recording kept for the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAudio {
    /// The stored recording's name (`/recordings/stored/{name}/file`).
    pub name: String,
    pub duration_ms: u64,
}

/// What the IVR asks the ticket store to file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDraft {
    /// The same complaint is never filed twice under this key: its recording's name (unique in the
    /// call and naming it), or for a ticket without a recording the call id and the request's number
    /// in the call. A retry of the same complaint (after a failure, a hangup, a restart) reuses it; a
    /// second complaint in the same call gets its own.
    pub idempotency_key: String,
    /// The channel id.
    pub call_id: String,
    pub caller: String,
    /// The caller id as the trunk delivered it, when it differs from `caller`.
    pub caller_raw: Option<String>,
    /// Department code (JSV, PWR, PWD, HLT, EDU, REV, POL, FCS, GAD).
    pub department: String,
    /// The language the caller used (`hi`, `en`).
    pub language: String,
    pub recording: Option<RecordedAudio>,
    /// Out of office hours: the citizen was promised a call-back.
    pub callback_requested: bool,
    /// The caller hung up before hearing the number.
    pub caller_hung_up: bool,
}

/// A complaint's status as the IVR reads it back (mirrors the ticket system's lifecycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    Registered,
    Assigned,
    InProgress,
    Resolved,
    ClosedSatisfied,
    ClosedUnsatisfied,
    Reopened,
    /// Closed after the confirmation calls reached nobody.
    ClosedUnverified,
}

impl TicketStatus {
    /// Every status (the prompts `status_<slug>` must exist for all).
    pub const ALL: [TicketStatus; 8] = [
        TicketStatus::Registered,
        TicketStatus::Assigned,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::ClosedSatisfied,
        TicketStatus::ClosedUnsatisfied,
        TicketStatus::Reopened,
        TicketStatus::ClosedUnverified,
    ];

    /// The value the `status` variable takes (the ticket system's own name for it).
    pub fn slug(self) -> &'static str {
        match self {
            TicketStatus::Registered => "registered",
            TicketStatus::Assigned => "assigned",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::Resolved => "resolved",
            TicketStatus::ClosedSatisfied => "closed_satisfied",
            TicketStatus::ClosedUnsatisfied => "closed_unsatisfied",
            TicketStatus::Reopened => "reopened",
            TicketStatus::ClosedUnverified => "closed_unverified",
        }
    }
}

/// A looked-up complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketStatusView {
    pub number: String,
    pub status: TicketStatus,
    /// Department code.
    pub department: String,
    pub due: Option<NaiveDate>,
}

/// Something that happened to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Dtmf(char),
    PlaybackFinished {
        tag: u32,
    },
    PlaybackFailed {
        tag: u32,
    },
    /// A recording ended; the engine fetched and analysed it ([`crate::analyse_wav`]).
    RecordingFinished {
        name: String,
        duration_ms: u64,
        has_speech: bool,
    },
    RecordingFailed {
        name: String,
    },
    TicketCreated {
        number: String,
    },
    TicketFailed,
    /// `None`: no such complaint.
    LookupResult(Option<TicketStatusView>),
    LookupFailed,
    FeedbackStored,
    FeedbackFailed,
    /// The ticket store refused the feedback: the caller is not the complainant (or could not show it).
    FeedbackRefused,
    /// [`Call::deadline`](super::Call::deadline) has passed.
    Timeout,
    /// Events may have been lost (the engine's connection to Asterisk was down): a caller waiting at a
    /// question with nothing playing is asked it again now, rather than after its timeout (a key they
    /// pressed meanwhile is gone). Not counted as a try.
    Reprompt,
    /// The call centre gave the caller back (no agent for the queue, waited too long, the queue
    /// closed): the call goes on at the `agent` step's `on_overflow`.
    QueueOverflow,
    /// The caller hung up (or the channel left Stasis).
    Hangup,
}

/// Something the engine must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Answer,
    /// Play `media` in order as one playback; answer with `PlaybackFinished/Failed { tag }`.
    Play {
        tag: u32,
        media: Vec<Media>,
        language: String,
    },
    /// Stop the playback with this tag (its `PlaybackFinished` will be ignored).
    StopPlayback {
        tag: u32,
    },
    /// Record the caller (`ifExists=fail`, format wav); answer with `RecordingFinished/Failed`.
    Record {
        name: String,
        max_duration: Duration,
        max_silence: Duration,
        beep: bool,
        terminate_on: Option<char>,
    },
    /// Stop the live recording (it is kept; never DELETE a live recording).
    StopRecording {
        name: String,
    },
    /// File the complaint; answer with `TicketCreated` or `TicketFailed`.
    CreateTicket(TicketDraft),
    /// Answer with `LookupResult` or `LookupFailed`.
    LookupTicket {
        number: String,
    },
    /// Answer with `FeedbackStored`, `FeedbackRefused` or `FeedbackFailed`. Only the complainant may
    /// close a complaint: the store checks `caller` (the call's number) or `check_digits` against the
    /// number the complaint was registered from.
    SubmitFeedback {
        number: String,
        satisfied: bool,
        reason: Option<String>,
        caller: String,
        check_digits: Option<String>,
    },
    /// Put the caller in the call centre's queue `queue`. The engine owns the call from here; the
    /// IVR waits for [`Input::QueueOverflow`] (the caller given back) or the hangup.
    Enqueue {
        queue: String,
        language: String,
        /// The department chosen in the IVR, if any.
        department: Option<String>,
        /// The complaint numbers filed or heard in this call, for the agent's screen.
        complaints: Vec<String>,
    },
    /// Hand the call back to the dialplan; the IVR is done with it.
    Transfer {
        context: String,
        extension: String,
    },
    /// Hang the call up; the IVR is done with it.
    Hangup {
        reason: String,
    },
    /// A step was entered (for the call's tracing span).
    Entered {
        step: String,
    },
}

impl Action {
    /// True for what acts on the caller's channel (answer, play, record, transfer, hang up…); false for
    /// the ticket store's work and for `Entered`.
    pub fn is_channel_operation(&self) -> bool {
        !matches!(
            self,
            Action::CreateTicket(_)
                | Action::LookupTicket { .. }
                | Action::SubmitFeedback { .. }
                | Action::Entered { .. }
        )
    }
}
