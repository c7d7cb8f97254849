//! The call engine: a supervisor that takes calls from the ARI router and runs ONE task per call driving an
//! `ivr::Call` (see [`call`]). The supervisor is a loop over a closed enum of events (`SupervisorEvent`):
//! a new call, the ARI connection coming back (reconciliation), a call task ending, a script reload, the
//! shutdown request and the end of its grace period. Concurrency is capped by a semaphore (a call over the
//! cap, or arriving during shutdown, is sent back to the dialplan unanswered, so Asterisk's fallback takes it
//! and the caller never hears silence); shutdown lets calls in progress finish within the grace period.
//!
//! The engine is generic over the channel control and the ticket desk ([`ports`]); `adapters` implements
//! them over `ari::Client` and `tickets::TicketService`. [`fallback`] turns the complaints the dialplan
//! recorded while the engine was away into tickets.

pub mod adapters;
pub mod call;
pub mod callback;
pub mod fallback;
pub mod outbound;
pub mod ports;
pub mod progress;
pub mod stats;
pub mod trace;
pub mod translate;

#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, error, info, info_span, warn};

pub use call::{CallMailbox, CallParams, CallShared, CallSignals, OutboundStart};
pub use ports::{
    CallCentreLink, CallControl, CallLog, CentreRequest, ControlError, DeskError, Feedback,
    FeedbackReply, FetchedRecording, FiledTicket, LegReport, OriginateLeg, QueueJoin, QueueOrder,
    QueueRefusal, RecordRequest, RecordingStore, RingFailure, StoredRecording, SuperviseMode,
    TicketDesk, TransferTo,
};
pub use stats::{CallOutcome, EngineStats, StatsSnapshot};

use stats::bump;

/// The wall clock the IVR's office hours are judged by (tests inject a fixed time).
pub type WallClock = Arc<dyn Fn() -> DateTime<FixedOffset> + Send + Sync>;

/// The system clock in the machine's local offset.
pub fn system_clock() -> WallClock {
    Arc::new(|| chrono::Local::now().fixed_offset())
}

/// Loads and validates the IVR script; called at start and on every reload request (SIGHUP). It reads
/// every script and the header of every prompt's WAV (hundreds of files), so a reload runs it on the
/// blocking pool, never on the supervisor's task.
pub type ScriptLoader = Arc<dyn Fn() -> Loaded + Send + Sync>;

/// What a [`ScriptLoader`] gives: the script, or every problem with it.
pub type Loaded = Result<Arc<ivr::Script>, String>;

/// How the engine runs.
#[derive(Clone)]
pub struct EngineSettings {
    /// Calls handled at once; further calls go back to the dialplan unanswered.
    pub max_concurrent_calls: usize,
    /// How long calls in progress may take to finish after shutdown is requested.
    pub shutdown_grace: Duration,
    /// Where fetched recordings with speech are written.
    pub recordings_dir: PathBuf,
    /// Where each call's progress is kept for an engine that follows this one (`<journal>/calls`).
    pub progress_dir: PathBuf,
    /// This node's name in call records.
    pub node: String,
    /// The wall clock for office hours.
    pub clock: WallClock,
    /// How much faster than real time the IVR's timers run: 1 against a real Asterisk, the simulator's
    /// speed factor against a simulator.
    pub speed: f64,
}

impl std::fmt::Debug for EngineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSettings")
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("recordings_dir", &self.recordings_dir)
            .field("progress_dir", &self.progress_dir)
            .field("node", &self.node)
            .field("speed", &self.speed)
            .finish_non_exhaustive()
    }
}

/// What the ARI side tells the engine.
#[derive(Debug)]
pub enum EngineInput<M> {
    /// A channel entered the application (`StasisStart`); its later events arrive in `mailbox`.
    NewCall {
        /// The channel id.
        channel_id: String,
        /// The caller's number as the trunk sent it (may be empty, withheld, in any form): the engine
        /// normalises it ([`tickets::CallerId`]).
        caller: String,
        /// The channel's events, in wire order.
        mailbox: M,
    },
    /// The ARI connection is (back) up and Asterisk was asked what the application owns.
    Reconnected {
        /// Counts connections since start (1 = the first).
        generation: u64,
        /// Every channel the application owns now (for the log: every call task resyncs after a
        /// reconnection and finds out for itself whether its channel is still there).
        present: Vec<String>,
        /// Listed channels with no mailbox: nobody drives them. Those an engine that died left progress
        /// for are resumed; the others go back to the dialplan.
        unrouted: Vec<String>,
        /// Gives an unrouted channel a mailbox, so that a call can be resumed on it (`None`: cannot).
        adopt: Option<Adopter<M>>,
        /// The connection stayed up but Asterisk stalled: events may have been lost all the same.
        stalled: bool,
    },
    /// This call cannot be served properly (its mailbox overflowed and it lost events, or the router could
    /// not hand it over): end its task if it has one and send the channel back to the dialplan.
    Abandon {
        /// The channel id.
        channel_id: String,
    },
}

/// Makes a mailbox for an existing channel, or `None` if it cannot be routed.
type AdoptFn<M> = dyn Fn(&str) -> Option<Adopted<M>> + Send + Sync;

/// An existing channel's new mailbox, and its caller's number as the trunk sent it.
#[derive(Debug)]
pub struct Adopted<M> {
    pub mailbox: M,
    pub caller: String,
}

/// Routes an existing channel's events to a new mailbox (over ARI: `Router::register_channel`).
#[derive(Clone)]
pub struct Adopter<M>(Arc<AdoptFn<M>>);

impl<M> Adopter<M> {
    /// Adopts with `f`: a mailbox for the channel, or `None` if it cannot be routed.
    pub fn new(f: impl Fn(&str) -> Option<Adopted<M>> + Send + Sync + 'static) -> Self {
        Adopter(Arc::new(f))
    }

    fn adopt(&self, channel_id: &str) -> Option<Adopted<M>> {
        (self.0)(channel_id)
    }
}

impl<M> std::fmt::Debug for Adopter<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Adopter")
    }
}

/// The engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The IVR script is invalid: the engine refuses to run it.
    #[error("the IVR script cannot be used: {0}")]
    Script(String),
    /// The call progress folder cannot be used.
    #[error(transparent)]
    Progress(#[from] progress::ProgressError),
}

/// The closed set of things the supervisor reacts to.
#[derive(Debug)]
enum SupervisorEvent<M> {
    Input(EngineInput<M>),
    /// The ARI side is gone for good (its sender dropped).
    InputClosed,
    CallEnded(String),
    /// A channel the reconciliation found unrouted, looked at again after [`ORPHAN_GRACE`].
    OrphanCheck(String),
    /// A reload was asked for (SIGHUP).
    Reload,
    /// The loader, run on the blocking pool, has finished.
    Reloaded(Loaded),
    ShutdownRequested,
    GraceOver,
}

/// The call engine. Build it with [`Engine::new`], then [`Engine::run`] it.
pub struct Engine<C, D> {
    shared: Arc<CallShared<C, D>>,
    settings: EngineSettings,
    loader: ScriptLoader,
    script: Arc<ivr::Script>,
}

impl<C, D> std::fmt::Debug for Engine<C, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<C: CallControl, D: TicketDesk> Engine<C, D> {
    /// Builds the engine; refuses an invalid script.
    pub fn new(
        control: C,
        desk: D,
        settings: EngineSettings,
        loader: ScriptLoader,
    ) -> Result<Self, EngineError> {
        let script = loader().map_err(EngineError::Script)?;
        let shared = Arc::new(CallShared {
            control,
            desk,
            stats: Arc::new(EngineStats::default()),
            recordings_dir: settings.recordings_dir.clone(),
            progress: progress::ProgressJournal::open(&settings.progress_dir)?,
            log: Arc::new(ports::NoCallLog),
            node: settings.node.clone(),
            centre: CallCentreLink::none(),
        });
        Ok(Engine {
            shared,
            settings,
            loader,
            script,
        })
    }

    /// Sends each finished call's record to `log` (by default there is none). Call before `run`.
    #[must_use]
    pub fn with_call_log(mut self, log: Arc<dyn CallLog>) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.log = log;
        }
        self
    }

    /// Sends the IVR's `agent` steps to this call centre (by default there is none, and every
    /// caller is given back to the step's `on_overflow`). Call before `run`.
    #[must_use]
    pub fn with_call_centre(mut self, centre: CallCentreLink) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.centre = centre;
        }
        self
    }

    /// The records of calls that ended under an engine that died before its call log had them safe:
    /// handed over again (the records store keeps a call once), each forgotten once safe.
    fn hand_over_ended_calls(&self) {
        let ended = self.shared.progress.load_ended();
        if !ended.is_empty() {
            info!(
                calls = ended.len(),
                "handing over the records of calls that ended under the engine before"
            );
        }
        for call in ended {
            let forget = self.shared.progress.forget_ended(&call.channel_id);
            self.shared.log.record_then(call.record, forget);
        }
    }

    /// The engine's counters (for `/health`, `/metrics`, the demo).
    pub fn stats(&self) -> Arc<EngineStats> {
        Arc::clone(&self.shared.stats)
    }

    /// Runs until `shutdown` is cancelled and the calls in progress have finished (or the grace period is
    /// over), or until the `inputs` sender is dropped and no call is left. Each message on `reload` reloads
    /// the script; an invalid new script is refused and the old one stays.
    pub async fn run<M: CallMailbox>(
        self,
        inputs: mpsc::Receiver<EngineInput<M>>,
        reload: mpsc::Receiver<()>,
        shutdown: CancellationToken,
    ) {
        self.hand_over_ended_calls();
        let supervisor = Supervisor {
            semaphore: Arc::new(Semaphore::new(self.settings.max_concurrent_calls)),
            // One message per call ending, and never more calls than permits, so this never blocks a task
            // for long; the margin covers calls ending while the supervisor is busy.
            ended: mpsc::channel(self.settings.max_concurrent_calls.saturating_add(16)),
            orphans: mpsc::channel(256),
            // At most one load runs at a time: one slot is enough.
            reloaded: mpsc::channel(1),
            reload: ReloadState::default(),
            calls: HashMap::new(),
            tracker: TaskTracker::new(),
            stop: CancellationToken::new(),
            engine: self,
        };
        supervisor.run(inputs, reload, shutdown).await;
    }
}

/// The supervisor's state; lives inside [`Engine::run`].
struct Supervisor<C, D> {
    engine: Engine<C, D>,
    semaphore: Arc<Semaphore>,
    ended: (mpsc::Sender<String>, mpsc::Receiver<String>),
    /// Channels to look at again after the orphan grace period.
    orphans: (mpsc::Sender<String>, mpsc::Receiver<String>),
    /// Where the loader running on the blocking pool sends its result.
    reloaded: (mpsc::Sender<Loaded>, mpsc::Receiver<Loaded>),
    reload: ReloadState,
    /// Calls with a running task: channel id → how to tell the task its channel is lost or must resync.
    calls: HashMap<String, CallSignals>,
    tracker: TaskTracker,
    /// Cancelled when the shutdown grace period is over: every call task hangs up.
    stop: CancellationToken,
}

/// Whether a script load is running on the blocking pool, and whether another reload was asked for
/// meanwhile (it runs once this one is done, so the last SIGHUP always sees the files as they are).
#[derive(Debug, Default)]
struct ReloadState {
    running: bool,
    again: bool,
}

/// How long a channel found unrouted after a (re)connection gets to show up as a new call before it is
/// sent back to the dialplan.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// After the grace period, how long call tasks get to hang up and file owed tickets.
const HARD_STOP_WAIT: Duration = Duration::from_secs(10);

impl<C: CallControl, D: TicketDesk> Supervisor<C, D> {
    async fn run<M: CallMailbox>(
        mut self,
        mut inputs: mpsc::Receiver<EngineInput<M>>,
        mut reload: mpsc::Receiver<()>,
        shutdown: CancellationToken,
    ) {
        let mut inputs_open = true;
        let mut reload_open = true;
        let mut shutting_down = false;
        let mut grace_deadline = tokio::time::Instant::now();
        let mut grace_over = false;
        loop {
            if (shutting_down || !inputs_open) && self.calls.is_empty() {
                break;
            }
            if grace_over {
                // Every task has been told to hang up; give them a moment, then stop waiting.
                self.tracker.close();
                let drained = tokio::time::timeout(HARD_STOP_WAIT, async {
                    while !self.calls.is_empty() {
                        match self.ended.1.recv().await {
                            Some(channel) => {
                                self.calls.remove(&channel);
                            }
                            None => break,
                        }
                    }
                })
                .await;
                if drained.is_err() {
                    warn!(
                        calls = self.calls.len(),
                        "calls still running after the hard stop; leaving them"
                    );
                }
                break;
            }
            let event = tokio::select! {
                biased;
                Some(channel) = self.ended.1.recv() => SupervisorEvent::CallEnded(channel),
                Some(channel) = self.orphans.1.recv() => SupervisorEvent::OrphanCheck(channel),
                Some(result) = self.reloaded.1.recv() => SupervisorEvent::Reloaded(result),
                () = shutdown.cancelled(), if !shutting_down => SupervisorEvent::ShutdownRequested,
                () = tokio::time::sleep_until(grace_deadline), if shutting_down => SupervisorEvent::GraceOver,
                request = reload.recv(), if reload_open => match request {
                    Some(()) => SupervisorEvent::Reload,
                    None => {
                        reload_open = false;
                        continue;
                    }
                },
                input = inputs.recv(), if inputs_open => match input {
                    Some(input) => SupervisorEvent::Input(input),
                    None => SupervisorEvent::InputClosed,
                },
            };
            match event {
                SupervisorEvent::Input(EngineInput::NewCall {
                    channel_id,
                    caller,
                    mailbox,
                }) => {
                    self.new_call(channel_id, caller, mailbox, shutting_down);
                }
                SupervisorEvent::Input(EngineInput::Reconnected {
                    generation,
                    present,
                    unrouted,
                    adopt,
                    stalled,
                }) => {
                    let unrouted = if shutting_down {
                        unrouted
                    } else {
                        self.resume_calls(&present, unrouted, adopt.as_ref())
                    };
                    self.reconcile(generation, &present, unrouted, stalled);
                }
                SupervisorEvent::Input(EngineInput::Abandon { channel_id }) => {
                    self.abandon(channel_id);
                }
                SupervisorEvent::InputClosed => {
                    inputs_open = false;
                    if !self.calls.is_empty() {
                        info!(
                            calls = self.calls.len(),
                            "ARI events ended; waiting for calls"
                        );
                    }
                }
                SupervisorEvent::CallEnded(channel) => {
                    self.calls.remove(&channel);
                }
                SupervisorEvent::OrphanCheck(channel) => {
                    if !self.calls.contains_key(&channel) {
                        bump(&self.engine.shared.stats.orphans_reconciled);
                        info!(call_id = %channel, "channel with no call task: sent back to the dialplan");
                        self.send_back(channel);
                    }
                }
                SupervisorEvent::Reload => self.start_reload(),
                SupervisorEvent::Reloaded(result) => self.reloaded(result),
                SupervisorEvent::ShutdownRequested => {
                    shutting_down = true;
                    grace_deadline =
                        tokio::time::Instant::now() + self.engine.settings.shutdown_grace;
                    info!(
                        calls = self.calls.len(),
                        grace_s = self.engine.settings.shutdown_grace.as_secs(),
                        "shutting down: no new calls; letting calls in progress finish"
                    );
                }
                SupervisorEvent::GraceOver => {
                    warn!(
                        calls = self.calls.len(),
                        "shutdown grace period over; hanging up the rest"
                    );
                    self.stop.cancel();
                    grace_over = true;
                }
            }
        }
        self.tracker.close();
        // Tasks that only send calls back to the dialplan are short; let them finish.
        let _ = tokio::time::timeout(HARD_STOP_WAIT, self.tracker.wait()).await;
        info!("engine stopped");
    }

    fn new_call<M: CallMailbox>(
        &mut self,
        channel_id: String,
        caller: String,
        mailbox: M,
        shutting_down: bool,
    ) {
        let stats = &self.engine.shared.stats;
        bump(&stats.calls_offered);
        if shutting_down {
            bump(&stats.calls_refused_shutdown);
            info!(call_id = %channel_id, "shutting down: call sent back to the dialplan");
            self.send_back(channel_id);
            return;
        }
        if self.calls.contains_key(&channel_id) {
            // A second StasisStart for a channel we run (it re-entered the app): the task has it.
            warn!(call_id = %channel_id, "channel already has a call task");
            return;
        }
        let caller = tickets::CallerId::from_trunk(&caller);
        self.spawn_call(channel_id, caller, mailbox, None);
    }

    /// Runs a call's task: a new call, or one an engine that died left progress for (`resume`).
    fn spawn_call<M: CallMailbox>(
        &mut self,
        channel_id: String,
        caller: tickets::CallerId,
        mailbox: M,
        resume: Option<Box<progress::CallProgress>>,
    ) {
        let stats = &self.engine.shared.stats;
        let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() else {
            bump(&stats.calls_over_capacity);
            warn!(call_id = %channel_id, "at the call cap: call sent back to the dialplan");
            self.send_back(channel_id);
            return;
        };
        let signals = CallSignals {
            lost: CancellationToken::new(),
            resync: Arc::new(tokio::sync::Notify::new()),
            stop: self.stop.clone(),
        };
        self.calls.insert(channel_id.clone(), signals.clone());
        // The edge for caller ids: the IVR and the ticket see one form (E.164 or `unknown`), whatever
        // the trunk sent; what it sent stays in the call's span (escaped) for the record.
        let params = CallParams {
            channel_id: channel_id.clone(),
            caller: caller.number().to_owned(),
            caller_raw: caller.raw_if_changed().map(str::to_owned),
            started_at: (self.engine.settings.clock)(),
            script: Arc::clone(&self.engine.script),
            speed: self.engine.settings.speed,
            resume,
            outbound: None,
        };
        let span = info_span!(
            "call",
            call_id = %params.channel_id,
            caller = %params.caller,
            caller_raw = caller.raw_if_changed(),
        );
        let shared = Arc::clone(&self.engine.shared);
        let ended = self.ended.0.clone();
        stats
            .calls_in_progress
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tracker.spawn(
            async move {
                let stats = Arc::clone(&shared.stats);
                let outcome = call::run_call(shared, params, mailbox, signals).await;
                stats.call_ended(outcome);
                stats
                    .calls_in_progress
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                drop(permit);
                // The supervisor outlives every call task; if it is gone there is no one to tell.
                let _ = ended.send(channel_id).await;
            }
            .instrument(span),
        );
    }

    /// Sends a channel we will not handle back to the dialplan unanswered (its fallback takes the call);
    /// hangs it up if even that fails, so the caller is never left in silence.
    fn send_back(&self, channel_id: String) {
        let shared = Arc::clone(&self.engine.shared);
        self.tracker.spawn(async move {
            match shared.control.continue_in_dialplan(&channel_id, None).await {
                Ok(()) => {}
                Err(err) if err.is_gone() => {}
                Err(err) => {
                    bump(&shared.stats.ari_errors);
                    warn!(call_id = %channel_id, %err, "could not send the call back; hanging up");
                    if let Err(err) = shared.control.hangup(&channel_id).await
                        && !err.is_gone()
                    {
                        error!(call_id = %channel_id, %err, "could not hang up either");
                    }
                }
            }
        });
    }

    /// Calls an engine that died left progress for and no task of ours runs: those Asterisk still holds
    /// are picked up on their channel (a mailbox is made for it); those it no longer holds (the caller
    /// hung up meanwhile) are run to their end all the same, so a complaint already spoken is filed from
    /// the recording on Asterisk. Returns the unrouted channels left for the orphan check.
    fn resume_calls<M: CallMailbox>(
        &mut self,
        present: &[String],
        unrouted: Vec<String>,
        adopt: Option<&Adopter<M>>,
    ) -> Vec<String> {
        let mut left = unrouted;
        for progress in self.engine.shared.progress.load_all() {
            let channel = progress.channel_id.clone();
            if self.calls.contains_key(&channel) {
                continue;
            }
            let caller = tickets::CallerId::from_trunk(&progress.caller);
            let listed = present.contains(&channel);
            let unrouted_here = left.iter().position(|c| *c == channel);
            match (listed, unrouted_here, adopt) {
                (true, Some(index), Some(adopt)) => match adopt.adopt(&channel) {
                    Some(Adopted { mailbox, .. }) => {
                        left.swap_remove(index);
                        bump(&self.engine.shared.stats.calls_resumed);
                        info!(call_id = %channel, step = %progress.ivr.step, "resuming a call");
                        self.spawn_call(channel, caller, mailbox, Some(Box::new(progress)));
                    }
                    None => {
                        warn!(call_id = %channel, "cannot route the call's events: not resumed")
                    }
                },
                // Routed already (its StasisStart is on its way) or not ours to adopt: leave it.
                (true, _, _) => {}
                (false, _, _) => {
                    // Gone while no engine listened: no event will come (a closed mailbox).
                    let (_, closed) = mpsc::channel::<ari::Event>(1);
                    bump(&self.engine.shared.stats.calls_resumed);
                    info!(call_id = %channel, step = %progress.ivr.step, "finishing a call that ended while the engine was away");
                    self.spawn_call(channel, caller, closed, Some(Box::new(progress)));
                }
            }
        }
        // Channels that entered the application while no engine listened (their StasisStart was lost
        // with the connection): their callers are waiting in silence, so their calls start now rather
        // than being sent to the fallback's apology. Without a StasisStart the call id is the channel's.
        if let Some(adopt) = adopt {
            left.retain(|channel| {
                if self.calls.contains_key(channel) {
                    return true;
                }
                match adopt.adopt(channel) {
                    Some(Adopted { mailbox, caller }) => {
                        bump(&self.engine.shared.stats.calls_offered);
                        bump(&self.engine.shared.stats.calls_picked_up);
                        info!(call_id = %channel, "a call that arrived while events were lost: starting it");
                        let caller = tickets::CallerId::from_trunk(&caller);
                        self.spawn_call(channel.clone(), caller, mailbox, None);
                        false
                    }
                    None => true,
                }
            });
        }
        left
    }

    /// After a (re)connection: calls we run whose channel is gone are told so; channels in the application
    /// that no mailbox routes (they arrived while we were away, or their task is gone) go back to the
    /// dialplan, whose fallback takes them.
    fn reconcile(
        &mut self,
        generation: u64,
        present: &[String],
        unrouted: Vec<String>,
        stalled: bool,
    ) {
        let stats = &self.engine.shared.stats;
        if generation > 1 && !stalled {
            bump(&stats.reconnections);
        }
        // Events may have been missed after a reconnection, or a stall of a connection that stayed up.
        let catch_up = generation > 1 || stalled;
        // A call not listed may have ended while we were away, or may have started after the listing was
        // taken (a race at every connect): either way its task asks Asterisk about what it waits for, and
        // a channel that is gone ends the call at its next request. At the first connection nothing can
        // have been missed.
        let mut resumed = 0usize;
        let mut unlisted = 0usize;
        if catch_up {
            for (channel, signals) in &self.calls {
                if present.iter().any(|c| c == channel) {
                    resumed += 1;
                } else {
                    unlisted += 1;
                }
                signals.resync.notify_one();
            }
        }
        // A channel listed but not routed may be a call whose StasisStart is still on its way through the
        // router (it raced the listing): look again after a grace period before sending it back.
        let mut orphans = 0usize;
        for channel in unrouted {
            if !self.calls.contains_key(&channel) {
                orphans += 1;
                let recheck = self.orphans.0.clone();
                self.tracker.spawn(async move {
                    tokio::time::sleep(ORPHAN_GRACE).await;
                    let _ = recheck.send(channel).await;
                });
            }
        }
        if catch_up || orphans > 0 {
            info!(
                generation,
                resumed, unlisted, orphans, "ARI connected: calls reconciled"
            );
        }
    }

    /// Ends a call that can no longer be served and hands its channel back to the dialplan.
    fn abandon(&mut self, channel_id: String) {
        warn!(call_id = %channel_id, "call abandoned (lost events); sending it back to the dialplan");
        if let Some(signals) = self.calls.get(&channel_id) {
            signals.lost.cancel();
        }
        self.send_back(channel_id);
    }

    /// Runs the loader on the blocking pool (it reads hundreds of files); calls keep being served
    /// meanwhile, on the script they have.
    fn start_reload(&mut self) {
        if self.reload.running {
            self.reload.again = true;
            return;
        }
        self.reload.running = true;
        let loader = Arc::clone(&self.engine.loader);
        let done = self.reloaded.0.clone();
        tokio::task::spawn_blocking(move || {
            // The one slot is free: only one load runs at a time. If the supervisor has stopped
            // meanwhile, nobody wants the result.
            let _ = done.try_send(loader());
        });
    }

    fn reloaded(&mut self, result: Loaded) {
        self.reload.running = false;
        match result {
            Ok(script) => {
                self.engine.script = script;
                bump(&self.engine.shared.stats.script_reloads);
                info!(
                    calls = self.calls.len(),
                    "IVR script reloaded; calls in progress keep their version"
                );
            }
            Err(err) => {
                bump(&self.engine.shared.stats.script_reload_failures);
                error!(%err, "IVR script reload refused; the running script stays");
            }
        }
        debug!("reload handled");
        if std::mem::take(&mut self.reload.again) {
            self.start_reload();
        }
    }
}
