//! One call's task: drives an `ivr::Call` with the events of its channel and carries out the actions it
//! returns through [`CallControl`] and [`TicketDesk`]. One sequential task per call, fed in wire order from
//! the call's mailbox; one deadline timer (the machine's `deadline()`); ids of playbacks and recordings are
//! known before their requests go out; "already gone" after a hangup is expected, not an error. A hangup at
//! any step ends the task once the work owed to the caller (a ticket for a recording with speech) is done.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ivr::{Action, Input};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

mod queue;

use super::ports::{
    CallCentreLink, CallControl, CallLog, ControlError, Feedback, FeedbackReply, FetchedRecording,
    FiledTicket, FilterGone, QueueOrder, RecordRequest, TicketDesk,
};
use super::progress::{CallProgress, KeptRecording, ProgressJournal};
use super::stats::{CallOutcome, EngineStats, bump};
use super::trace::CallTrace;
use super::translate::{self, CallEvent};

/// A call's source of ARI events, in wire order.
pub trait CallMailbox: Send + 'static {
    /// The next event; `None` once nothing more will come. Must be cancel-safe (it is used in `select!`).
    fn recv(&mut self) -> impl Future<Output = Option<ari::Event>> + Send;
}

impl CallMailbox for ari::Mailbox {
    // `ari::Mailbox::recv` is documented cancel-safe.
    fn recv(&mut self) -> impl Future<Output = Option<ari::Event>> + Send {
        ari::Mailbox::recv(self)
    }
}

impl CallMailbox for tokio::sync::mpsc::Receiver<ari::Event> {
    // `mpsc::Receiver::recv` is cancel-safe: a cancelled call loses no message.
    fn recv(&mut self) -> impl Future<Output = Option<ari::Event>> + Send {
        tokio::sync::mpsc::Receiver::recv(self)
    }
}

/// What every call task shares: the ports, the counters and where recordings go.
#[derive(Debug)]
pub struct CallShared<C, D> {
    pub control: C,
    pub desk: D,
    pub stats: Arc<EngineStats>,
    /// Recordings with speech are written here as `<name>.wav` when fetched.
    pub recordings_dir: PathBuf,
    /// Each call's progress, for the engine that follows this one should it die.
    pub progress: ProgressJournal,
    /// Where each finished call's record goes.
    pub log: Arc<dyn CallLog>,
    /// This node's name in call records.
    pub node: String,
    /// The call centre, for the IVR's `agent` steps.
    pub centre: CallCentreLink,
}

/// What a call task starts from.
#[derive(Debug)]
pub struct CallParams {
    pub channel_id: String,
    /// The caller id, normalised.
    pub caller: String,
    /// As the trunk delivered it, when that differs.
    pub caller_raw: Option<String>,
    pub started_at: DateTime<FixedOffset>,
    /// The script version the call runs on to its end, whatever reloads happen meanwhile.
    pub script: Arc<ivr::Script>,
    /// How much faster than real time the IVR's timers run (1 in production; a simulator's speed factor).
    pub speed: f64,
    /// Where an engine that died left this call: pick it up from there instead of starting anew.
    pub resume: Option<Box<CallProgress>>,
    /// A call the helpline placed (answered already): its language and its job's variables.
    pub outbound: Option<OutboundStart>,
}

/// How a call the helpline placed starts (see `ivr::Call::start_with`).
#[derive(Debug, Clone)]
pub struct OutboundStart {
    pub language: String,
    pub vars: Vec<(String, String)>,
}

/// Signals from the supervisor.
#[derive(Debug, Clone)]
pub struct CallSignals {
    /// Reconciliation after a reconnection found the channel gone: no event will come for it any more.
    pub lost: CancellationToken,
    /// The ARI connection came back with the channel still there: events of the gap were lost, so the
    /// task asks Asterisk how its playback and recording stand.
    pub resync: Arc<tokio::sync::Notify>,
    /// The shutdown grace period is over: hang up now (owed tickets are still filed).
    pub stop: CancellationToken,
}

/// The waits between attempts of an ARI request a call depends on: about 2.5 s in all, which outlasts a
/// short burst of errors from a busy or restarting Asterisk. Requests are retried by the ids the engine
/// chose (the same playback id, the same recording name), so a retry never plays or records twice.
const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_millis(700),
    Duration::from_millis(1400),
];

/// The longest a caller waits on the ticket store for a status lookup or feedback before hearing that the
/// service is unavailable (a filing is bounded by the ticket service, which journals a slow write).
pub const DESK_DEADLINE: Duration = Duration::from_secs(4);

/// Runs `op` (given the attempt's number, from 0) until it succeeds, fails for a reason a retry cannot
/// mend (gone, conflict), or the retries of [`RETRY_DELAYS`] are spent.
async fn retried<T, F, Fut>(stats: &EngineStats, what: &str, mut op: F) -> Result<T, ControlError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, ControlError>>,
{
    let mut attempt = 0;
    loop {
        match op(attempt).await {
            Err(ControlError::Failed(err)) if attempt < RETRY_DELAYS.len() => {
                bump(&stats.ari_retries);
                debug!(operation = what, attempt, %err, "ARI request failed; trying again");
                tokio::time::sleep(RETRY_DELAYS[attempt]).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Plays `media` as playback `id`, retried by the same id: a retry that finds its own playback (409)
/// means the earlier attempt went through.
async fn play_retried<C: CallControl>(
    control: &C,
    stats: &EngineStats,
    channel: &str,
    id: &str,
    media: &[ivr::Media],
    language: &str,
) -> Result<(), ControlError> {
    retried(stats, "play", |attempt| async move {
        match control.play(channel, id, media, language).await {
            Err(ControlError::Conflict(_)) if attempt > 0 => Ok(()),
            other => other,
        }
    })
    .await
}

/// The call's clock for the IVR. With `speed` 1 it is tokio's clock (so tests with paused time drive the
/// IVR's timers too); with `speed` > 1 the IVR's time runs that much faster, matching a simulator run at
/// that speed factor (prompts, timeouts and recordings all shrink alike).
#[derive(Debug, Clone, Copy)]
pub struct CallClock {
    origin: tokio::time::Instant,
    speed: f64,
}

impl CallClock {
    /// A clock starting now, running `speed` times faster than real time (values below 1 count as 1).
    pub fn start(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 1.0 {
            speed
        } else {
            1.0
        };
        CallClock {
            origin: tokio::time::Instant::now(),
            speed,
        }
    }

    /// The IVR's now.
    pub fn now(&self) -> std::time::Instant {
        let real = tokio::time::Instant::now();
        let elapsed = real.duration_since(self.origin).mul_f64(self.speed);
        (self.origin + elapsed).into_std()
    }

    /// The real instant at which the IVR's `deadline` falls.
    pub fn real(&self, deadline: std::time::Instant) -> tokio::time::Instant {
        let origin = self.origin.into_std();
        let ahead = deadline
            .saturating_duration_since(origin)
            .div_f64(self.speed);
        self.origin + ahead
    }
}

/// Runs one call to its end and says how it ended.
pub async fn run_call<C: CallControl, D: TicketDesk, M: CallMailbox>(
    shared: Arc<CallShared<C, D>>,
    params: CallParams,
    mailbox: M,
    signals: CallSignals,
) -> CallOutcome {
    match Box::pin(run_call_to_end(shared, params, mailbox, signals)).await {
        Ok((outcome, _)) | Err(outcome) => outcome,
    }
}

/// Runs one call to its end; says how it ended and gives back its IVR (what the caller answered
/// is in its variables). `Err`: the call could not start its IVR at all.
pub async fn run_call_to_end<C: CallControl, D: TicketDesk, M: CallMailbox>(
    shared: Arc<CallShared<C, D>>,
    params: CallParams,
    mut mailbox: M,
    signals: CallSignals,
) -> Result<(CallOutcome, ivr::Call), CallOutcome> {
    let clock = CallClock::start(params.speed);
    let channel = params.channel_id;
    let (call, actions, first_event, resumed) = match params.resume {
        Some(progress) => {
            let ctx = ivr::CallContext {
                call_id: progress.call_id.clone(),
                caller: progress.caller.clone(),
                caller_raw: progress.caller_raw.clone(),
                started_at: progress.started_at,
            };
            match ivr::Call::resume(params.script, ctx, &progress.ivr, clock.now()) {
                Ok((call, actions)) => (call, actions, None, Some(progress)),
                Err(err) => {
                    // The script changed under it: the dialplan's fallback takes the caller.
                    warn!(%err, "cannot resume the call; handing it to the dialplan fallback");
                    let result = shared.control.continue_in_dialplan(&channel, None).await;
                    if let Err(err) = result.filter_gone() {
                        warn!(%err, "could not hand the call over");
                    }
                    shared.progress.remove(&channel);
                    return Err(CallOutcome::GivenUp);
                }
            }
        }
        None => {
            // The router puts the call's StasisStart first in its mailbox. Its `asterisk_id` names the
            // Asterisk box: prefixed to the channel id it makes the call id (the ticket's idempotency key
            // and the recording names) unique across several nodes sharing one database, whose channel
            // ids may coincide.
            let mut first_event = futures_util::FutureExt::now_or_never(mailbox.recv()).flatten();
            let call_id = match &first_event {
                Some(event @ ari::Event::StasisStart(_)) => {
                    let call_id = match event.asterisk_id().filter(|id| !id.is_empty()) {
                        Some(asterisk) => format!("{asterisk}/{channel}"),
                        None => channel.clone(),
                    };
                    first_event = None;
                    call_id
                }
                _ => channel.clone(),
            };
            let ctx = ivr::CallContext {
                call_id,
                caller: params.caller,
                caller_raw: params.caller_raw,
                started_at: params.started_at,
            };
            let (call, actions) = match params.outbound {
                None => ivr::Call::start(params.script, ctx, clock.now()),
                Some(start) => {
                    match ivr::Call::start_with(
                        params.script,
                        ctx,
                        &start.language,
                        start.vars,
                        clock.now(),
                    ) {
                        Ok(started) => started,
                        Err(missing) => {
                            warn!(
                                ?missing,
                                "the outbound call's job lacks variables its script needs"
                            );
                            let _ = shared.control.hangup(&channel).await;
                            return Err(CallOutcome::GivenUp);
                        }
                    }
                }
            };
            (call, actions, first_event, None)
        }
    };
    let ctx = call.context();
    let trace = CallTrace::arrived(
        &ctx.call_id,
        &channel,
        &shared.node,
        &ctx.caller,
        ctx.caller_raw.as_deref(),
        chrono::Utc::now(),
    );
    let mut driver = CallDriver {
        shared: &shared,
        channel,
        call,
        trace: Some(Box::new(trace)),
        we_ended: false,
        clock,
        live_playbacks: Vec::new(),
        live_recording: None,
        kept_recording: None,
        hung_up: false,
        handed_off: false,
        outcome: None,
        actions,
        spare: Vec::new(),
        inputs: VecDeque::new(),
        saved: None,
        queue: None,
        event_at: None,
    };
    if let Some(progress) = resumed {
        info!(step = %progress.ivr.step, "call resumed from where the previous engine left it");
        driver.kept_recording = progress.kept_recording.map(|k| FetchedRecording {
            name: k.name,
            path: k.path,
            duration_ms: k.duration_ms,
        });
        if let ivr::SnapshotPhase::Recording { name } = &progress.ivr.phase {
            driver.live_recording = Some(name.clone());
        }
        if let Some(saved) = progress.queue.clone() {
            Box::pin(driver.resume_queue(saved)).await;
        }
        // Whatever happened while no engine listened: ask Asterisk (a recording may have ended).
        driver.resync().await;
    }
    driver.settle().await;
    if let Some(event) = first_event {
        driver.on_event(&event).await;
    }

    let mut mailbox_open = true;
    let mut stopping = false;
    let mut lost = false;
    // The call centre's orders while the caller is in a queue (held here, apart from the driver,
    // so that waiting for one borrows nothing the handlers use).
    let mut orders: Option<tokio::sync::mpsc::Receiver<QueueOrder>> = None;
    while !driver.call.is_finished() {
        // The call centre's changes (joined, connected) are saved like the IVR's.
        driver.save_progress();
        match &mut driver.queue {
            Some(leg) if orders.is_none() => orders = leg.orders.take(),
            None => orders = None,
            Some(_) => {}
        }
        let deadline = driver.call.deadline().map(|d| driver.clock.real(d));
        tokio::select! {
            biased;
            () = signals.stop.cancelled(), if !stopping => {
                stopping = true;
                driver.shut_down().await;
            }
            () = signals.lost.cancelled(), if !lost => {
                lost = true;
                mailbox_open = false;
                driver.channel_gone(CallOutcome::Lost).await;
            }
            // `Notified` is cancel-safe here: a notification sent meanwhile is kept as a permit.
            () = signals.resync.notified(), if !lost => driver.resync().await,
            event = mailbox.recv(), if mailbox_open => match event {
                Some(event) => driver.on_event(&event).await,
                None => {
                    // The router dropped the mailbox: the channel left Stasis without us seeing it.
                    mailbox_open = false;
                    driver.channel_gone(CallOutcome::Lost).await;
                }
            },
            () = sleep_until_deadline(deadline), if deadline.is_some() => {
                driver.feed(Input::Timeout).await;
            }
            order = next_order(&mut orders), if orders.is_some() => match order {
                // Boxed: the call-centre paths stay out of every call task's future.
                Some(order) => Box::pin(driver.on_order(order)).await,
                None => {
                    // The call centre let the call go. A caller still waiting (it stopped, or this
                    // task fell behind) goes back to the IVR rather than waiting on nothing; one
                    // talking to an agent or handed on goes on as they are.
                    orders = None;
                    if driver.waiting_in_queue() {
                        Box::pin(driver.on_order(QueueOrder::GiveBack {
                            reason: "the call centre let the call go".into(),
                        }))
                        .await;
                    }
                }
            },
            // No event can come and nothing is timed: the IVR can never move again.
            else => break,
        }
    }
    // A caller whose channel vanished in the queue: no agent leg outlives the call.
    Box::pin(driver.caller_gone_from_queue()).await;
    let outcome = driver.outcome.unwrap_or(CallOutcome::CallerHungUp);
    if let Some(trace) = driver.trace.take() {
        let caller_hung_up = driver.hung_up && !driver.we_ended;
        let record = trace.finish(
            outcome,
            caller_hung_up,
            driver.call.language(),
            chrono::Utc::now(),
        );
        // Nothing is owed to the caller any more: no engine after this one should pick the call up.
        // The record takes the progress's place until the log has it safe, so that an engine killed
        // meanwhile leaves it to the next one.
        shared.progress.save_ended(&driver.channel, &record);
        shared
            .log
            .record_then(record, shared.progress.forget_ended(&driver.channel));
    } else {
        shared.progress.remove(&driver.channel);
    }
    debug!(outcome = outcome.as_str(), "call ended");
    Ok((outcome, driver.call))
}

async fn next_order(
    orders: &mut Option<tokio::sync::mpsc::Receiver<QueueOrder>>,
) -> Option<QueueOrder> {
    match orders {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_deadline(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The state of one call task around its `ivr::Call`.
struct CallDriver<'a, C, D> {
    shared: &'a CallShared<C, D>,
    channel: String,
    call: ivr::Call,
    clock: CallClock,
    /// Tags of playbacks requested and not yet finished; registered before the request goes out.
    live_playbacks: Vec<u32>,
    /// The recording requested and not yet finished; registered before the request goes out.
    live_recording: Option<String>,
    /// The latest recording with speech, fetched from Asterisk (what a ticket is filed with).
    kept_recording: Option<FetchedRecording>,
    /// The caller hung up (or the channel is gone); `Input::Hangup` was fed.
    hung_up: bool,
    /// The call was handed to the dialplan's fallback because Asterisk kept failing: the channel is no
    /// longer ours to drive.
    handed_off: bool,
    outcome: Option<CallOutcome>,
    /// Actions the IVR returned and not yet carried out.
    actions: Vec<Action>,
    /// An empty buffer kept to swap with `actions`, so settling does not allocate.
    spare: Vec<Action>,
    /// Inputs produced by carrying out actions, fed in order.
    inputs: VecDeque<Input>,
    /// Where the call was when its progress was last saved.
    saved: Option<(ivr::ProgressMark, bool, Option<queue::QueueMark>)>,
    /// The call's record in the making (taken at the end); boxed, as the call task's future stays small.
    trace: Option<Box<CallTrace>>,
    /// The helpline ended the call (hung up, handed it on): a hangup that follows is not the caller's.
    we_ended: bool,
    /// The caller in the call centre (after the IVR's `Enqueue`).
    queue: Option<Box<queue::QueueLeg>>,
    /// When the event being handled reached the task, until the first action it causes.
    event_at: Option<std::time::Instant>,
}

impl<C: CallControl, D: TicketDesk> CallDriver<'_, C, D> {
    async fn feed(&mut self, input: Input) {
        self.call
            .handle_into(input, self.clock.now(), &mut self.actions);
        self.settle().await;
    }

    /// Carries out pending actions and feeds back what they produce, until the IVR has nothing more to do.
    async fn settle(&mut self) {
        loop {
            if !self.actions.is_empty() {
                // Saved before the actions go out: a recording is known to the next engine before
                // Asterisk starts it, so a restart never asks for the same name again.
                self.save_progress();
                if let Some(at) = self.event_at.take() {
                    self.shared.stats.event_to_command.observe(at.elapsed());
                }
                let mut batch =
                    std::mem::replace(&mut self.actions, std::mem::take(&mut self.spare));
                for action in batch.drain(..) {
                    if let Some(input) = self.execute(action).await {
                        self.inputs.push_back(input);
                    }
                }
                self.spare = batch;
            }
            match self.inputs.pop_front() {
                Some(input) => self
                    .call
                    .handle_into(input, self.clock.now(), &mut self.actions),
                None if self.actions.is_empty() => break,
                None => {}
            }
        }
        self.save_progress();
    }

    /// Saves the call's progress when it moved on (another step or phase, a recording kept).
    fn save_progress(&mut self) {
        let mark = (
            self.call.progress_mark(),
            self.kept_recording.is_some(),
            self.queue_mark(),
        );
        if self.saved == Some(mark) {
            return;
        }
        self.saved = Some(mark);
        let Some(ivr) = self.call.snapshot() else {
            return;
        };
        let ctx = self.call.context();
        self.shared.progress.save(&CallProgress {
            channel_id: self.channel.clone(),
            call_id: ctx.call_id.clone(),
            caller: ctx.caller.clone(),
            caller_raw: ctx.caller_raw.clone(),
            started_at: ctx.started_at,
            ivr,
            kept_recording: self.kept_recording.as_ref().map(|k| KeptRecording {
                name: k.name.clone(),
                path: k.path.clone(),
                duration_ms: k.duration_ms,
            }),
            queue: self.queue_progress(),
        });
    }

    async fn on_event(&mut self, event: &ari::Event) {
        // Timed to the first action the event causes (`settle`); one that causes none is not timed.
        self.event_at = Some(std::time::Instant::now());
        self.handle_event(event).await;
        self.event_at = None;
    }

    async fn handle_event(&mut self, event: &ari::Event) {
        bump(&self.shared.stats.events);
        // Another channel's event in this call's mailbox: one of its agent legs.
        if event.channel().is_some_and(|c| c.id != self.channel) {
            Box::pin(self.on_leg_event(event)).await;
            return;
        }
        let Some(event) = translate::call_event(event) else {
            return;
        };
        match event {
            CallEvent::Dtmf(key) => {
                if self.queue.is_some() {
                    if let Some(trace) = &mut self.trace {
                        trace.key(key, false);
                    }
                    Box::pin(self.queue_key(key)).await;
                    return;
                }
                let private = self.call.in_entry();
                if let Some(trace) = &mut self.trace {
                    trace.key(key, private);
                }
                self.feed(Input::Dtmf(key)).await;
            }
            CallEvent::PlaybackEnded { playback_id, .. }
                if self.queue.is_some() && playback_id.starts_with("pbq-") =>
            {
                Box::pin(self.queue_playback_ended(playback_id)).await;
            }
            CallEvent::PlaybackEnded {
                playback_id,
                failed,
            } => {
                let Some(tag) = translate::playback_tag(&self.channel, playback_id) else {
                    return;
                };
                let Some(index) = self.live_playbacks.iter().position(|t| *t == tag) else {
                    return;
                };
                self.live_playbacks.swap_remove(index);
                let input = if failed {
                    Input::PlaybackFailed { tag }
                } else {
                    Input::PlaybackFinished { tag }
                };
                self.feed(input).await;
            }
            CallEvent::RecordingFinished {
                name,
                duration_s,
                talking_s,
            } => {
                if self.live_recording.as_deref() == Some(name) {
                    let name = self.live_recording.take().expect("matched just above");
                    let input = self.collect_recording(name, duration_s, talking_s).await;
                    self.feed(input).await;
                }
            }
            CallEvent::RecordingFailed { name } => {
                if self.live_recording.as_deref() == Some(name) {
                    let name = self.live_recording.take().expect("matched just above");
                    warn!(recording = %name, "recording failed");
                    self.feed(Input::RecordingFailed { name }).await;
                }
            }
            CallEvent::HangupRequested => self.hangup_seen(CallOutcome::CallerHungUp).await,
            CallEvent::StasisEnded => self.channel_gone(CallOutcome::CallerHungUp).await,
        }
    }

    async fn hangup_seen(&mut self, outcome: CallOutcome) {
        if self.hung_up {
            return;
        }
        self.hung_up = true;
        self.live_playbacks.clear();
        self.outcome.get_or_insert(outcome);
        debug!("caller hung up");
        if self.queue.is_some() {
            Box::pin(self.caller_gone_from_queue()).await;
        }
        self.feed(Input::Hangup).await;
    }

    /// Nothing more will be heard of the channel. A recording still live was ended by the hangup and is
    /// stored on Asterisk: fetch it, so that speech in it still becomes a ticket.
    async fn channel_gone(&mut self, outcome: CallOutcome) {
        self.hangup_seen(outcome).await;
        if let Some(name) = self.live_recording.take() {
            let input = self.collect_recording(name, None, None).await;
            self.feed(input).await;
        }
    }

    /// After a reconnection: events of the gap are lost, so ask Asterisk whether the playback and the
    /// recording we wait for are still going; feed the IVR the end of those that are over.
    async fn resync(&mut self) {
        let live = self.live_playbacks.clone();
        for tag in live {
            let id = translate::playback_id(&self.channel, tag);
            match self.shared.control.playback_live(&id).await {
                Ok(true) => {}
                Ok(false) => {
                    debug!(playback = %id, "playback ended while disconnected");
                    self.live_playbacks.retain(|t| *t != tag);
                    self.feed(Input::PlaybackFinished { tag }).await;
                }
                Err(err) => warn!(playback = %id, %err, "cannot ask about the playback"),
            }
        }
        if let Some(name) = self.live_recording.clone() {
            match self.shared.control.recording_live(&name).await {
                Ok(true) => {}
                Ok(false) => {
                    debug!(recording = %name, "recording ended while disconnected");
                    self.live_recording = None;
                    let input = self.collect_recording(name, None, None).await;
                    self.feed(input).await;
                }
                Err(err) => warn!(recording = %name, %err, "cannot ask about the recording"),
            }
        }
        // A key pressed meanwhile is lost: a caller waiting at a question hears it again now.
        if !self.hung_up {
            self.feed(Input::Reprompt).await;
        }
    }

    /// A channel operation found the channel gone before its hangup event was read (the caller hung up
    /// and the event is still in the mailbox, or it was lost while disconnected): the call is over; the IVR
    /// hears the hangup after the current actions.
    fn channel_vanished(&mut self) {
        if !self.hung_up {
            self.hung_up = true;
            self.live_playbacks.clear();
            self.outcome.get_or_insert(CallOutcome::CallerHungUp);
            self.inputs.push_back(Input::Hangup);
        }
    }

    /// The shutdown grace period is over: hang up; the IVR still files what it owes the caller.
    async fn shut_down(&mut self) {
        info!("shutdown grace period over: hanging up");
        self.outcome.get_or_insert(CallOutcome::ShutDown);
        if !self.hung_up {
            self.control_result("hangup", self.shared.control.hangup(&self.channel).await);
        }
        self.hangup_seen(CallOutcome::ShutDown).await;
    }

    /// Asterisk kept failing a request the call cannot go on without (answer, play, transfer): rather than
    /// leave the caller in silence, hand the call to the dialplan's fallback, which apologises and records
    /// the complaint; hang up if even that is refused. The IVR then hears a hangup, so a complaint already
    /// recorded is still filed.
    async fn give_up(&mut self, what: &str) {
        if self.handed_off || self.hung_up {
            return;
        }
        self.handed_off = true;
        self.we_ended = true;
        warn!(
            operation = what,
            "ARI keeps failing: handing the call to the dialplan fallback"
        );
        let control = &self.shared.control;
        let channel = self.channel.as_str();
        let result = retried(&self.shared.stats, "continue", |_| {
            control.continue_in_dialplan(channel, None)
        })
        .await;
        let refused = matches!(&result, Err(err) if !err.is_gone());
        self.control_result("continue to fallback", result);
        if refused {
            let hangup = control.hangup(channel).await;
            self.control_result("hangup", hangup);
        }
        self.outcome.get_or_insert(CallOutcome::GivenUp);
        self.channel_vanished();
    }

    /// Logs and counts a failed channel operation unless the channel is simply gone; true on success.
    fn control_result(&self, what: &str, result: Result<(), ControlError>) -> bool {
        match result {
            Ok(()) => true,
            Err(err) if err.is_gone() => {
                debug!(operation = what, %err, "channel already gone");
                false
            }
            Err(err) => {
                bump(&self.shared.stats.ari_errors);
                warn!(operation = what, %err, "ARI request failed");
                false
            }
        }
    }

    /// Carries out one action; returns the input that answers it at once, if any.
    async fn execute(&mut self, action: Action) -> Option<Input> {
        if self.handed_off && action.is_channel_operation() {
            // The channel is the dialplan's now; only the work owed to the caller (a ticket) goes on.
            return None;
        }
        let shared = self.shared;
        let (control, stats) = (&shared.control, &*shared.stats);
        let channel = self.channel.as_str();
        match action {
            Action::Entered { step } => {
                debug!(step = %step, "step");
                if let Some(trace) = &mut self.trace {
                    trace.entered(&step, chrono::Utc::now());
                }
                None
            }
            Action::Answer => {
                let result = retried(stats, "answer", |_| control.answer(channel)).await;
                if let (Ok(()), Some(trace)) = (&result, &mut self.trace) {
                    trace.answered(chrono::Utc::now());
                }
                self.settle_essential("answer", result).await;
                None
            }
            Action::Play {
                tag,
                media,
                language,
            } => {
                let id = translate::playback_id(channel, tag);
                self.live_playbacks.push(tag);
                let result = play_retried(control, stats, channel, &id, &media, &language).await;
                if result.is_ok() {
                    return None;
                }
                self.live_playbacks.retain(|t| *t != tag);
                let gone = matches!(&result, Err(err) if err.is_gone());
                self.settle_essential("play", result).await;
                // Gone: the IVR hears the hangup next. Given up: the IVR hears the hangup at once.
                gone.then_some(Input::PlaybackFailed { tag })
            }
            Action::StopPlayback { tag } => {
                self.live_playbacks.retain(|t| *t != tag);
                let id = translate::playback_id(channel, tag);
                let result = retried(stats, "stop playback", |_| control.stop_playback(&id)).await;
                self.control_result("stop playback", result);
                None
            }
            Action::Record {
                name,
                max_duration,
                max_silence,
                beep,
                terminate_on,
            } => {
                self.live_recording = Some(name.clone());
                if let Some(trace) = &mut self.trace {
                    trace.recording(&name);
                }
                let request = RecordRequest {
                    name: &name,
                    max_duration,
                    max_silence,
                    beep,
                    terminate_on,
                };
                let request = &request;
                let result = retried(stats, "record", |_| async move {
                    match control.record(channel, request).await {
                        // `ifExists=fail` refusing the name: a retry whose earlier attempt started it, or
                        // a resumed call whose dead engine did. Live, it is ours to go on with.
                        Err(ControlError::Conflict(err)) => {
                            match control.recording_live(request.name).await {
                                Ok(true) => Ok(()),
                                _ => Err(ControlError::Conflict(err)),
                            }
                        }
                        other => other,
                    }
                })
                .await;
                if matches!(&result, Err(err) if err.is_gone()) {
                    self.channel_vanished();
                }
                if self.control_result("record", result) {
                    None
                } else {
                    // The IVR tells the caller honestly (not "we could not hear you") and goes on.
                    self.live_recording = None;
                    Some(Input::RecordingFailed { name })
                }
            }
            Action::StopRecording { name } => {
                // Stop, never DELETE: what was recorded is kept and RecordingFinished follows.
                let result =
                    retried(stats, "stop recording", |_| control.stop_recording(&name)).await;
                self.control_result("stop recording", result);
                None
            }
            Action::CreateTicket(draft) => Some(self.file_ticket(&draft).await),
            Action::LookupTicket { number } => {
                let found = self
                    .desk_call("status lookup", shared.desk.lookup(&number))
                    .await;
                Some(match found {
                    Some(found) => {
                        if let (Some(_), Some(trace)) = (&found, &mut self.trace) {
                            trace.status_heard();
                        }
                        bump(&stats.lookups);
                        debug!(%number, found = found.is_some(), "status looked up");
                        Input::LookupResult(found)
                    }
                    None => Input::LookupFailed,
                })
            }
            Action::SubmitFeedback {
                number,
                satisfied,
                reason,
                caller,
                check_digits,
            } => {
                let feedback = Feedback {
                    number: &number,
                    satisfied,
                    reason: reason.as_deref(),
                    caller: &caller,
                    check_digits: check_digits.as_deref(),
                };
                let reply = self
                    .desk_call("feedback", shared.desk.feedback(&feedback))
                    .await;
                if let (Some(FeedbackReply::Stored), Some(trace)) = (&reply, &mut self.trace) {
                    trace.feedback_given();
                }
                Some(match reply {
                    Some(FeedbackReply::Stored) => Input::FeedbackStored,
                    Some(FeedbackReply::Refused) => Input::FeedbackRefused,
                    None => Input::FeedbackFailed,
                })
            }
            Action::Enqueue {
                queue,
                language,
                department,
                complaints,
            } => Box::pin(self.enqueue(queue, language, department, complaints)).await,
            Action::Transfer { context, extension } => {
                self.outcome.get_or_insert(CallOutcome::Transferred);
                self.we_ended = true;
                if let Some(trace) = &mut self.trace {
                    trace.transferred(&context, &extension);
                }
                info!(%context, %extension, "transferring");
                let target = Some((context.as_str(), extension.as_str()));
                let result = retried(stats, "continue", |_| {
                    control.continue_in_dialplan(channel, target)
                })
                .await;
                // Refused: the caller must not be left in silence, so the fallback takes the call.
                self.settle_essential("continue", result).await;
                None
            }
            Action::Hangup { reason } => {
                self.outcome.get_or_insert(CallOutcome::Completed);
                self.we_ended = true;
                debug!(%reason, "hanging up");
                let mut result = retried(stats, "hangup", |_| control.hangup(channel)).await;
                // The caller has heard goodbye and waits on a line that should close: nothing else
                // waits on this call, so one more round of tries outlasts a longer outage.
                if matches!(result, Err(ControlError::Failed(_))) {
                    tokio::time::sleep(RETRY_DELAYS[RETRY_DELAYS.len() - 1]).await;
                    result = retried(stats, "hangup", |_| control.hangup(channel)).await;
                }
                self.control_result("hangup", result);
                None
            }
        }
    }

    /// The end of a request the call cannot go on without: gone means the caller hung up; any other
    /// failure (after the retries) hands the call to the fallback.
    async fn settle_essential(&mut self, what: &str, result: Result<(), ControlError>) {
        let gone = matches!(&result, Err(err) if err.is_gone());
        if gone {
            self.channel_vanished();
        }
        if !self.control_result(what, result) && !gone {
            self.give_up(what).await;
        }
    }

    /// A call to the ticket store with [`DESK_DEADLINE`]; `None` (logged, counted) when it failed or
    /// took too long, and the caller hears that the service is unavailable.
    async fn desk_call<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, super::ports::DeskError>>,
    ) -> Option<T> {
        match tokio::time::timeout(DESK_DEADLINE, call).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                warn!(operation = what, %err, "ticket store request failed");
                None
            }
            Err(_) => {
                bump(&self.shared.stats.desk_timeouts);
                warn!(
                    operation = what,
                    deadline_s = DESK_DEADLINE.as_secs(),
                    "ticket store too slow: the caller hears that the service is unavailable"
                );
                None
            }
        }
    }

    async fn file_ticket(&mut self, draft: &ivr::TicketDraft) -> Input {
        let wanted = draft.recording.as_ref().map(|r| r.name.as_str());
        let recording = self
            .kept_recording
            .as_ref()
            .filter(|r| Some(r.name.as_str()) == wanted);
        let name: Option<String> = recording.map(|r| r.name.clone());
        match self.shared.desk.file(draft, recording).await {
            Ok(FiledTicket {
                number,
                recording_kept,
            }) => {
                bump(&self.shared.stats.tickets_created);
                info!(%number, department = %draft.department, hung_up = draft.caller_hung_up, recording_kept, "ticket filed");
                if let Some(trace) = &mut self.trace {
                    trace.ticket(&number, &draft.department);
                }
                self.kept_recording = None;
                // The ticket holds its recording: Asterisk's copy is not needed. One the ticket does not
                // hold (not fetched, or not kept) stays on Asterisk, the only evidence, until the
                // fallback importer attaches it.
                if let (Some(name), true) = (name, recording_kept) {
                    self.delete_on_asterisk(&name).await;
                }
                Input::TicketCreated { number }
            }
            Err(err) => {
                bump(&self.shared.stats.ticket_failures);
                warn!(%err, "ticket could not be filed");
                Input::TicketFailed
            }
        }
    }

    /// Fetches a finished recording over ARI, analyses it, and keeps it on disk when it holds speech.
    /// If it cannot be fetched, Asterisk's own figures decide (the recording stays stored on Asterisk).
    async fn collect_recording(
        &mut self,
        name: String,
        duration_s: Option<i64>,
        talking_s: Option<i64>,
    ) -> Input {
        let control = &self.shared.control;
        let fetched = retried(&self.shared.stats, "fetch recording", |_| {
            control.fetch_recording(&name)
        })
        .await;
        let last_error = match fetched {
            Ok(bytes) => {
                bump(&self.shared.stats.recordings_fetched);
                match ivr::analyse_wav(&bytes) {
                    Ok(analysis) => return self.keep_recording(name, &bytes, analysis).await,
                    Err(err) => {
                        warn!(recording = %name, %err, "recording is not a readable WAV");
                        Some(err.to_string())
                    }
                }
            }
            Err(err) => Some(err.to_string()),
        };
        let duration_ms = u64::try_from(duration_s.unwrap_or(0)).unwrap_or(0) * 1000;
        let talking = talking_s.or(duration_s).unwrap_or(0);
        let has_speech = talking > 0;
        warn!(
            recording = %name,
            error = last_error.as_deref().unwrap_or("unknown"),
            has_speech,
            "recording not fetched; judged by Asterisk's figures"
        );
        if duration_s.is_none() && talking_s.is_none() {
            // Nothing known about it at all (the channel vanished): count it as failed.
            return Input::RecordingFailed { name };
        }
        if has_speech {
            self.keep(FetchedRecording {
                name: name.clone(),
                path: None,
                duration_ms,
            })
            .await;
        }
        Input::RecordingFinished {
            name,
            duration_ms,
            has_speech,
        }
    }

    async fn keep_recording(
        &mut self,
        name: String,
        bytes: &[u8],
        analysis: ivr::RecordingAnalysis,
    ) -> Input {
        debug!(
            recording = %name,
            duration_ms = analysis.duration_ms,
            speech_ms = analysis.speech_ms,
            has_speech = analysis.has_speech,
            "recording analysed"
        );
        if !analysis.has_speech {
            // A silent attempt is nobody's evidence: it does not stay on Asterisk's disk.
            self.delete_on_asterisk(&name).await;
        }
        if analysis.has_speech {
            let path = self.shared.recordings_dir.join(format!("{name}.wav"));
            let written = match write_file(&path, bytes).await {
                Ok(()) => Some(path),
                Err(err) => {
                    warn!(recording = %name, path = %path.display(), %err, "could not write recording");
                    None
                }
            };
            self.keep(FetchedRecording {
                name: name.clone(),
                path: written,
                duration_ms: analysis.duration_ms,
            })
            .await;
        }
        Input::RecordingFinished {
            name,
            duration_ms: analysis.duration_ms,
            has_speech: analysis.has_speech,
        }
    }
}

impl<C: CallControl, D: TicketDesk> CallDriver<'_, C, D> {
    /// Deletes a stored recording on Asterisk (best effort: one left behind costs disk, not evidence).
    async fn delete_on_asterisk(&self, name: &str) {
        match self.shared.control.delete_recording(name).await {
            Ok(()) => bump(&self.shared.stats.recordings_deleted),
            Err(err) if err.is_gone() => {}
            Err(err) => {
                warn!(recording = %name, %err, "could not delete the recording on Asterisk")
            }
        }
    }

    /// Keeps the latest take with speech; one it replaces ("2, record again") was discarded by the
    /// caller's choice.
    async fn keep(&mut self, recording: FetchedRecording) {
        if let Some(replaced) = self.kept_recording.replace(recording) {
            self.discard(replaced).await;
        }
    }

    /// A take the caller replaced: gone from Asterisk and from our spool.
    async fn discard(&self, recording: FetchedRecording) {
        debug!(recording = %recording.name, "take replaced by a new recording");
        self.delete_on_asterisk(&recording.name).await;
        if let Some(path) = recording.path
            && let Err(err) = tokio::fs::remove_file(&path).await
        {
            warn!(path = %path.display(), %err, "could not remove a replaced recording");
        }
    }
}

async fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::write(path, bytes).await
}
