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

    // ----- the call centre: a caller waiting, an agent's leg, the bridge between them -----

    /// Starts music on hold on the channel (`POST /channels/{id}/moh`; Asterisk sends no event).
    fn start_moh(&self, channel: &str) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Stops it (`DELETE /channels/{id}/moh`; harmless when none plays).
    fn stop_moh(&self, channel: &str) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Rings a phone into the application as a channel of the id chosen by us, whose events go to
    /// `owner`'s call (routed before the request goes out, so none is lost to an early reply).
    fn originate(
        &self,
        leg: &OriginateLeg<'_>,
        owner: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Stops routing a leg's events to its owner (an originate refused, a leg over).
    fn forget_leg(&self, channel: &str);

    /// Makes a mixing bridge of the id chosen by us, its events routed to `owner`'s call.
    fn create_bridge(
        &self,
        bridge: &str,
        owner: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Puts channels into the bridge (a channel in another bridge moves).
    fn add_to_bridge(
        &self,
        bridge: &str,
        channels: &[&str],
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Takes a channel out of a bridge (it stays up, in the application).
    fn remove_from_bridge(
        &self,
        bridge: &str,
        channel: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Destroys the bridge (its channels stay up) and stops routing its events.
    fn destroy_bridge(&self, bridge: &str)
    -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Routes an existing leg's events (an agent's, after an engine restart) to `owner`'s call;
    /// with `bridge`, that bridge's too.
    fn adopt_leg(
        &self,
        channel: &str,
        bridge: Option<&str>,
        owner: &str,
    ) -> Result<(), ControlError>;

    /// Whether the channel still exists (`GET /channels/{id}`).
    fn channel_live(
        &self,
        channel: &str,
    ) -> impl Future<Output = Result<bool, ControlError>> + Send;

    /// Puts the channel on hold (`POST /channels/{id}/hold`: it hears music) or takes it off.
    fn hold(
        &self,
        channel: &str,
        on: bool,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Sets a channel variable (`__NAME` is inherited by the channels it dials).
    fn set_variable(
        &self,
        channel: &str,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;

    /// Snoops on `channel` as a new channel of the id `snoop` chosen by us, routed to `owner`'s call:
    /// it hears both directions; with `whisper`, what it says goes to the snooped channel's phone.
    fn snoop(
        &self,
        channel: &str,
        snoop: &str,
        whisper: bool,
        owner: &str,
    ) -> impl Future<Output = Result<(), ControlError>> + Send;
}

/// A phone rung for the call centre: an agent's, or a citizen's for a call-back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginateLeg<'a> {
    /// The new channel's id (chosen by the call centre: the ring attempt's id).
    pub channel: &'a str,
    /// The dial string, e.g. `PJSIP/agent-101`.
    pub endpoint: &'a str,
    /// Seconds to ring.
    pub timeout_secs: u32,
    /// The caller id the phone shows, e.g. `"Helpline 1100" <1100>`.
    pub caller_id: &'a str,
    /// `StasisStart.args` (`agent`).
    pub app_args: &'a str,
    /// Channel variables for the leg (`HELPLINE_CALL`, `TICKET_NUMBER` …).
    pub variables: &'a [(String, String)],
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

    /// Hands over a finished call's record and runs `on_safe` once the log has it safe (for a log that
    /// keeps nothing, at once). Never for a record that was lost.
    fn record_then(&self, record: records::CallRecord, on_safe: records::OnSafe) {
        self.record(record);
        on_safe();
    }
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

    fn record_then(&self, record: records::CallRecord, on_safe: records::OnSafe) {
        records::Recorder::record_then(self, record, on_safe);
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

// ----- the call centre -------------------------------------------------------------------------

/// A caller the IVR puts in a queue, with what the agent's screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueJoin {
    /// The call's id (the ticket's call id).
    pub call_id: String,
    /// The caller's channel.
    pub channel: String,
    /// The caller's number, normalised.
    pub caller: String,
    pub queue: String,
    pub language: String,
    /// The department chosen in the IVR, if any.
    pub department: Option<String>,
    /// Complaint numbers filed or heard in the call.
    pub complaints: Vec<String>,
    /// When the caller joined (kept across a restart, so the caller keeps their place).
    pub joined_at: chrono::DateTime<chrono::Utc>,
    /// The IVR's path so far — the steps entered and the keys pressed in each, an entry's digits
    /// masked — for the agent's screen-pop (what the caller chose and tried).
    pub path: Vec<records::PathStep>,
    /// Complaints the IVR filed in this call (a subset of `complaints`, which also holds the ones
    /// the caller asked about).
    pub filed: Vec<String>,
}

/// Why the call centre did not take a caller: the IVR goes on at the step's `on_overflow`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueRefusal {
    #[error("there is no queue `{0}`")]
    NoSuchQueue(String),
    /// The queue's rules keep callers out now (nobody logged in with the skills, full, closed).
    #[error("queue `{queue}` takes no callers now: {reason}")]
    Closed { queue: String, reason: String },
    /// No call centre runs on this node, or it did not answer in time.
    #[error("the call centre is not available")]
    Unavailable,
}

/// What the call centre tells a caller's call task to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOrder {
    /// Tell the caller their place and, when known, the expected wait.
    Announce {
        position: u32,
        expected_wait: Option<std::time::Duration>,
    },
    /// Offer the call-back keeping their place: "press 1 …".
    OfferCallback,
    /// The call-back is booked (the caller pressed its key): tell them and hang up; their place
    /// keeps moving.
    CallbackBooked,
    /// Ring an agent's phone for this caller; the leg's channel id is `attempt`.
    Ring {
        attempt: String,
        agent: String,
        phone: String,
        timeout: std::time::Duration,
    },
    /// Stop ringing this attempt (the caller moved, time is up …).
    CancelRing { attempt: String },
    /// Bridge the caller with the agent whose leg `attempt` answered.
    Connect { attempt: String, agent: String },
    /// Give the caller back to the IVR (waited the most the queue allows, no agent, queue closed).
    GiveBack { reason: String },
    /// The agent puts the caller on hold (music) or takes them off it.
    Hold { on: bool },
    /// The agent hands the connected caller on (blind: the agent's leg ends at once), with the call's
    /// complaint numbers on the channel for the receiving side.
    Transfer { to: TransferTo },
    /// A warm transfer: the caller waits with music while the agent talks to `to` first.
    Consult { to: TransferTo },
    /// The consultation ends: `complete` joins the caller with the other side and the agent leaves
    /// (the transfer); otherwise the other side is hung up and the caller is back with the agent.
    EndConsult { complete: bool },
    /// A call-back: the agent (leg `attempt` of a [`QueueOrder::Ring`]) answered; ring the citizen
    /// on `endpoint` as leg `attempt`.
    PlaceCallback {
        attempt: String,
        endpoint: String,
        timeout: std::time::Duration,
    },
    /// A supervisor joins the agent's call from their own phone.
    Supervise {
        supervisor: String,
        phone: String,
        mode: SuperviseMode,
    },
    /// The agent hangs up from the desk: their leg ends, and with it the conversation (the caller
    /// is hung up too, the centre told the agent ended it), as when they put the phone down.
    Hangup,
}

/// Where an agent transfers a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    /// A dialplan extension (an integrated helpline: `integrated-helplines,181`).
    Dialplan {
        context: String,
        extension: String,
        /// The name the call record and the queue log give it (`181`).
        label: String,
    },
    /// A phone rung into the application (an officer's): bridged with the caller once it answers.
    Phone { endpoint: String, label: String },
    /// Another of the call centre's queues.
    Queue(String),
}

impl TransferTo {
    /// How the call record and the queue log name the destination.
    pub fn label(&self) -> String {
        match self {
            TransferTo::Dialplan { label, .. } | TransferTo::Phone { label, .. } => label.clone(),
            TransferTo::Queue(queue) => format!("queue:{queue}"),
        }
    }
}

/// How a supervisor joins an agent's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuperviseMode {
    /// Hears both sides; nobody hears them.
    Listen,
    /// Hears both sides; only the agent hears them.
    Whisper,
    /// Joins the conversation: everybody hears everybody.
    Barge,
}

/// Why an agent's phone did not take the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingFailure {
    /// Rang out (Q.850 18/19) or the ring time passed.
    NoAnswer,
    /// Busy (17).
    Busy,
    /// Not registered, unreachable (Asterisk's "Allocation failed", 20, 27 …).
    Unreachable,
    /// Anything else, said.
    Other(String),
}

/// What a caller's call task tells the call centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegReport {
    /// The agent's phone answered (the leg is in the application).
    RingAnswered { attempt: String },
    RingFailed {
        attempt: String,
        failure: RingFailure,
    },
    /// The caller and the agent are bridged.
    Connected { attempt: String },
    /// A key the caller pressed while waiting (the centre knows the call-back key).
    Key { key: char },
    /// The caller hung up before talking to an agent.
    CallerLeft,
    /// The conversation ended; `by_agent`: the agent hung up.
    CallEnded { by_agent: bool },
    /// The agent handed the caller on to `destination` (their leg is over).
    Transferred { destination: String },
    /// A call-back's citizen leg answered (and heard who calls), or did not.
    CallbackLeg {
        attempt: String,
        failure: Option<RingFailure>,
    },
    /// The call task is giving the caller back to the IVR (or ending) on its own: the centre
    /// forgets the call.
    Gone,
}

/// A request to the call centre's task.
#[derive(Debug)]
pub enum CentreRequest {
    Join {
        join: QueueJoin,
        orders: tokio::sync::mpsc::Sender<QueueOrder>,
        reply: tokio::sync::oneshot::Sender<Result<(), QueueRefusal>>,
    },
    Report {
        call_id: String,
        report: LegReport,
    },
}

/// How long a call task waits for the call centre to take a request before the caller is given
/// back to the IVR (a join) or the report is dropped and counted (never: the centre reads fast).
pub const CENTRE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Orders a call task may have waiting for it; the centre drops a call whose task falls this far
/// behind (it is stuck).
pub const ORDERS_CAPACITY: usize = 32;

/// A call task's line to the call centre (an actor's handle): bounded, and never blocking a call
/// for longer than [`CENTRE_DEADLINE`]. [`CallCentreLink::none`] is a node without one: every
/// join is refused, so `agent` steps go to their `on_overflow`.
#[derive(Debug, Clone, Default)]
pub struct CallCentreLink {
    tx: Option<tokio::sync::mpsc::Sender<CentreRequest>>,
}

impl CallCentreLink {
    /// No call centre.
    pub fn none() -> Self {
        Self { tx: None }
    }

    /// A link and the centre's end of it, holding up to `capacity` requests.
    pub fn new(capacity: usize) -> (Self, tokio::sync::mpsc::Receiver<CentreRequest>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        (Self { tx: Some(tx) }, rx)
    }

    /// Puts a caller in a queue; the orders for the call come on the receiver.
    pub async fn join(
        &self,
        join: QueueJoin,
    ) -> Result<tokio::sync::mpsc::Receiver<QueueOrder>, QueueRefusal> {
        let tx = self.tx.as_ref().ok_or(QueueRefusal::Unavailable)?;
        let (orders, orders_rx) = tokio::sync::mpsc::channel(ORDERS_CAPACITY);
        let (reply, reply_rx) = tokio::sync::oneshot::channel();
        let request = CentreRequest::Join {
            join,
            orders,
            reply,
        };
        let answer = tokio::time::timeout(CENTRE_DEADLINE, async {
            tx.send(request)
                .await
                .map_err(|_| QueueRefusal::Unavailable)?;
            reply_rx.await.map_err(|_| QueueRefusal::Unavailable)?
        })
        .await
        .map_err(|_| QueueRefusal::Unavailable)?;
        answer.map(|()| orders_rx)
    }

    /// Tells the centre what happened to a call's legs. False when it could not be told (no
    /// centre, or it did not take the report within [`CENTRE_DEADLINE`]).
    pub async fn report(&self, call_id: &str, report: LegReport) -> bool {
        let Some(tx) = &self.tx else {
            return false;
        };
        let request = CentreRequest::Report {
            call_id: call_id.to_owned(),
            report,
        };
        matches!(
            tokio::time::timeout(CENTRE_DEADLINE, tx.send(request)).await,
            Ok(Ok(()))
        )
    }
}
