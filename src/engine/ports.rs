//! The two things a call task talks to, as traits: [`CallControl`] (the channel, through ARI) and
//! [`TicketDesk`] (the ticket store). The engine is generic over them so that the call logic is tested with
//! in-memory fakes, and so that the only code that knows `ari::Client` and `tickets::TicketService` is the
//! adapters in `engine::adapters`.
//!
//! Every method returns a future that is `Send` (call tasks run on the multi-threaded runtime). None of them
//! is used inside `select!`: a call task awaits them one at a time, in order.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The extension, in the context a call came from, that takes the calls the engine does not serve (over
/// capacity, shutting down, no task after a reconnection). The deployment's dialplan defines it.
pub const FALLBACK_EXTENSION: &str = "fallback";

/// Why a channel operation failed, in the terms the call task acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The channel, playback or recording no longer exists or has left the application: after a hangup
    /// this is the expected outcome, not a failure.
    #[error("already gone: {0}")]
    Gone(String),
    /// The request conflicts with what exists (e.g. a recording of that name with `ifExists=fail`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else: Asterisk down, slow, or refusing the request.
    #[error("{0}")]
    Failed(String),
}

impl ControlError {
    /// True for [`ControlError::Gone`].
    pub fn is_gone(&self) -> bool {
        matches!(self, ControlError::Gone(_))
    }
}

/// "Already gone" is what a request on a channel that hung up meets: not a failure.
pub trait FilterGone {
    /// The result with [`ControlError::Gone`] counted as success.
    fn filter_gone(self) -> Result<(), ControlError>;
}

impl FilterGone for Result<(), ControlError> {
    fn filter_gone(self) -> Result<(), ControlError> {
        match self {
            Err(err) if err.is_gone() => Ok(()),
            other => other,
        }
    }
}

/// A recording request (always `format=wav`, `ifExists=fail`: an existing recording is never overwritten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRequest<'a> {
    /// The recording's name, unique to the call, step and attempt.
    pub name: &'a str,
    /// Longest recording.
    pub max_duration: Duration,
    /// Silence that ends the recording (zero: none).
    pub max_silence: Duration,
    /// Play a beep first.
    pub beep: bool,
    /// A key that ends the recording.
    pub terminate_on: Option<char>,
}

/// Control of the calls' channels (implemented over `ari::Client`).
pub trait CallControl: Send + Sync + 'static {
    /// Answers the channel.
    fn answer(&self, channel: &str) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Plays `media` in order, as one playback, with the id chosen by the caller.
    fn play(
        &self,
        channel: &str,
        playback_id: &str,
        media: &[ivr::Media],
        language: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Stops a playback (its `PlaybackFinished` follows).
    fn stop_playback(
        &self,
        playback_id: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Starts recording the channel.
    fn record(
        &self,
        channel: &str,
        request: &RecordRequest<'_>,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Stops a live recording, keeping what was recorded (never a DELETE of a live recording).
    fn stop_recording(&self, name: &str) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Whether a playback is still going (false once it has finished or is unknown); asked after a
    /// reconnection, when its end may have been missed. The default cannot tell and says "still going", so
    /// the IVR's own timeout ends the wait; implementations that can ask should.
    fn playback_live(
        &self,
        playback_id: &str,
    ) -> impl Future<Output = Result<bool, ControlError>> + Send {
        let _ = playback_id;
        std::future::ready(Ok(true))
    }

    /// Whether a recording is still being made (false once it has finished or is unknown); see
    /// [`CallControl::playback_live`] for the default.
    fn recording_live(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<bool, ControlError>> + Send {
        let _ = name;
        std::future::ready(Ok(true))
    }

    /// Fetches a stored recording's audio (`/recordings/stored/{name}/file`).
    fn fetch_recording(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<u8>, ControlError>> + Send;

    /// Deletes a stored recording on Asterisk (`DELETE /recordings/stored/{name}`): done with a silent
    /// or replaced take at once, and with a complaint's once its ticket and our copy are durable.
    fn delete_recording(&self, name: &str)
    -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Sends the channel back to the dialplan: to `context`/`extension` priority 1, or, with `None`, to
    /// the extension [`FALLBACK_EXTENSION`] of the channel's own context, where the dialplan apologises
    /// and takes a voicemail-style complaint (`deploy/asterisk/extensions.conf`).
    fn continue_in_dialplan(
        &self,
        channel: &str,
        target: Option<(&str, &str)>,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Hangs the channel up.
    fn hangup(&self, channel: &str) -> impl Future<Output = Result<(), ControlError>> + Send;
}

/// A recording Asterisk keeps in its stored-recordings folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecording {
    /// The name, without the format's extension.
    pub name: String,
    /// The file format, e.g. `wav`.
    pub format: String,
}

/// Asterisk's stored recordings (`/recordings/stored`), as the fallback importer uses them (implemented
/// over `ari::Client`).
pub trait RecordingStore: Send + Sync + 'static {
    /// Every stored recording.
    fn list_stored(
        &self,
    ) -> impl Future<Output = Result<Vec<StoredRecording>, ControlError>> + Send;

    /// One stored recording's bytes.
    fn fetch_stored(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<u8>, ControlError>> + Send;

    /// Deletes a stored recording (its file on Asterisk).
    fn delete_stored(&self, name: &str) -> impl Future<Output = Result<(), ControlError>> + Send;
}

/// Where a finished call's record goes (implemented over `records::Recorder`: batched, journalled, off the
/// call's task). Never waits.
pub trait CallLog: Send + Sync + std::fmt::Debug + 'static {
    /// Hands over a finished call's record.
    fn record(&self, record: records::CallRecord);
}

/// No call log (tests and benchmarks that do not measure it).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCallLog;

impl CallLog for NoCallLog {
    fn record(&self, _: records::CallRecord) {}
}

impl CallLog for records::Recorder {
    fn record(&self, record: records::CallRecord) {
        records::Recorder::record(self, record);
    }
}

/// Why the ticket store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeskError(pub String);

/// A complaint filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledTicket {
    /// Its complaint number, read to the caller.
    pub number: String,
    /// The ticket holds its recording: Asterisk's copy may go. False when it was filed without it
    /// (not fetched, or not kept — a full disk) or that is not known yet: Asterisk's copy stays, and
    /// is filed again (attached) later.
    pub recording_kept: bool,
}

/// A complaint recording fetched from Asterisk and written to the recordings folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedRecording {
    /// The recording's name on Asterisk.
    pub name: String,
    /// Where the engine wrote its bytes (`None` when it could not be fetched; it stays on Asterisk).
    pub path: Option<PathBuf>,
    /// Length.
    pub duration_ms: u64,
}

/// The ticket store, as the IVR uses it (implemented over `tickets::TicketService`).
pub trait TicketDesk: Send + Sync + 'static {
    /// Files the complaint (idempotent per `draft.idempotency_key`) and returns its complaint number once it is
    /// durable (database or journal). Filing again a complaint filed without its recording attaches it.
    fn file(
        &self,
        draft: &ivr::TicketDraft,
        recording: Option<&FetchedRecording>,
    ) -> impl Future<Output = Result<FiledTicket, DeskError>> + Send;

    /// A complaint's status by number; `Ok(None)` when there is no such complaint.
    fn lookup(
        &self,
        number: &str,
    ) -> impl Future<Output = Result<Option<ivr::TicketStatusView>, DeskError>> + Send;

    /// Whether the complaint keyed `key` (a recording's name) has a ticket that lacks its recording: its
    /// call has filed it and is done with it, so the recording left on Asterisk can be attached at once.
    /// The default cannot tell (`false`), and such a leftover waits out the settle time.
    fn filed_without_recording(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<bool, DeskError>> + Send {
        let _ = key;
        std::future::ready(Ok(false))
    }

    /// Stores a citizen's feedback on a resolved complaint, if the caller is its complainant.
    fn feedback(
        &self,
        feedback: &Feedback<'_>,
    ) -> impl Future<Output = Result<FeedbackReply, DeskError>> + Send;
}

/// Feedback given on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feedback<'a> {
    pub number: &'a str,
    pub satisfied: bool,
    /// The script's reason value (the store's names), if the caller gave one.
    pub reason: Option<&'a str>,
    /// The calling number.
    pub caller: &'a str,
    /// Digits the caller keyed to show the complaint is theirs, if asked.
    pub check_digits: Option<&'a str>,
}

/// What the ticket store made of feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackReply {
    /// Counted.
    Stored,
    /// Refused (and audited): the caller is not, or could not show to be, the complainant.
    Refused,
}
