//! The outbound dialer's runtime: ONE task driving `outbound::Dialer` — fed the due jobs of its
//! [`Jobs`] owner, the engine's inbound load and each try's end, woken at the dialer's deadline —
//! carrying out its decisions: each try a task of its own ([`attempt`]: the call placed through the
//! trunk's dial string, its channel routed to its mailbox before the request, the job's IVR script
//! run on the answered call), each decision made durable by the owner of the jobs.
//!
//! The dialer does not know what a call is for; [`Jobs`] does (the ticket store's confirmation
//! calls: [`confirmations`]; officers' reminder calls: [`reminders`], on the same dialer through
//! [`reminders::Both`]).

pub mod attempt;
pub mod confirmations;
pub mod reminders;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use outbound::{Action, AfterLastTry, AttemptResult, Cause, Dialer, Input, Job, JobId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span, warn};

use super::WallClock;
use super::call::CallShared;
use super::ports::{CallControl, CallLog, TicketDesk};
use super::stats::EngineStats;
use attempt::{AttemptEnd, AttemptParams};

/// The owner of the jobs: what is due, and every decision made durable. Each method's error is
/// logged and the decision taken again later (the job stays due with its owner).
pub trait Jobs: Send + Sync + 'static {
    /// Jobs due by `before`, at most `limit`.
    fn due(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Job>, String>> + Send;

    /// Try `attempt` of `job` is about to be dialled (counted before it goes out). An error
    /// (the job is no longer wanted) means: do not dial.
    fn dialling(
        &self,
        job: &Job,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The person answered try `attempt`: what their answers (the IVR's variables) mean, made
    /// durable. `Ok(Some(result))`: done (`result` names it in the call record, e.g.
    /// `satisfied`); `Ok(None)`: no answer was given (tried again as [`Cause::NoKey`]).
    fn answered(
        &self,
        job: &Job,
        attempt: u32,
        call: &ivr::Call,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<String>, String>> + Send;

    /// Try `attempt` did not reach the person; the next is due at `next_at`.
    fn not_reached(
        &self,
        id: &JobId,
        attempt: u32,
        cause: &Cause,
        next_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The last try did not reach the person: apply `then`.
    fn given_up(
        &self,
        id: &JobId,
        attempts: u32,
        cause: &Cause,
        then: AfterLastTry,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// What the runtime runs by.
#[derive(Clone)]
pub struct OutboundSettings {
    /// The dialer's rules: window, pacing, retries.
    pub dialer: outbound::DialerConfig,
    /// The trunk's dial string, `{number}` replaced by the job's number (`PJSIP/{number}@telecom-trunk`).
    pub dial: String,
    /// The caller id the called phone shows.
    pub caller_id: String,
    /// How long a call rings before it counts as not answered.
    pub ring: Duration,
    /// How often the owner of the jobs is asked for due ones (and the inbound load read).
    pub poll: Duration,
    /// The scripts jobs may name, by name.
    pub scripts: BTreeMap<String, Arc<ivr::Script>>,
    /// The Asterisk the calls go out on (the dialer's per-Asterisk cap).
    pub asterisk: String,
    pub clock: WallClock,
    /// Simulated seconds per real second (1 in production).
    pub speed: f64,
}

impl std::fmt::Debug for OutboundSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundSettings")
            .field("dial", &self.dial)
            .field("ring", &self.ring)
            .field("poll", &self.poll)
            .field("scripts", &self.scripts.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What the runtime's loop is told (one `match`).
enum Event {
    /// Time to ask for due jobs and read the inbound load.
    Poll,
    /// The dialer's deadline passed.
    Deadline,
    /// A try ended.
    Ended(JobId, u32, AttemptEnd),
}

/// Counters of the dialer, read by tests and metrics.
#[derive(Debug, Default)]
pub struct OutboundStats {
    /// Times the owner of the jobs was asked for due ones.
    pub polls: std::sync::atomic::AtomicU64,
    pub dialled: std::sync::atomic::AtomicU64,
    pub in_flight: std::sync::atomic::AtomicU64,
    pub most_in_flight: std::sync::atomic::AtomicU64,
    pub reached: std::sync::atomic::AtomicU64,
    pub not_reached: std::sync::atomic::AtomicU64,
    pub given_up: std::sync::atomic::AtomicU64,
}

/// The dialer's runtime.
pub struct Outbound<C, D, J> {
    settings: OutboundSettings,
    /// The call tasks' ports (the tries run the IVR like any call).
    shared: Arc<CallShared<C, D>>,
    /// Where each try's call record goes, once its result is known.
    log: Arc<dyn CallLog>,
    jobs: Arc<J>,
    router: ari::Router,
    /// The engine's counters: its inbound calls are the load outbound gives way to.
    inbound: Arc<EngineStats>,
    stats: Arc<OutboundStats>,
}

impl<C, D, J> std::fmt::Debug for Outbound<C, D, J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<C: CallControl + Clone, D: TicketDesk + Clone, J: Jobs> Outbound<C, D, J> {
    pub fn new(
        settings: OutboundSettings,
        shared: Arc<CallShared<C, D>>,
        jobs: Arc<J>,
        router: ari::Router,
        inbound: Arc<EngineStats>,
    ) -> Self {
        let log = Arc::clone(&shared.log);
        Outbound {
            settings,
            shared,
            log,
            jobs,
            router,
            inbound,
            stats: Arc::new(OutboundStats::default()),
        }
    }

    pub fn stats(&self) -> Arc<OutboundStats> {
        Arc::clone(&self.stats)
    }

    fn now(&self) -> DateTime<Utc> {
        (self.settings.clock)().to_utc()
    }

    /// Runs until `stop`: tries in progress are let finish (their channels hung up by their
    /// own stop), their results recorded.
    pub async fn run(self, stop: CancellationToken) {
        let asterisk = outbound::AsteriskId::new(self.settings.asterisk.clone());
        let mut dialer = Dialer::new(self.settings.dialer.clone(), [asterisk.clone()]);
        let most = self.settings.dialer.pacing.max_concurrent();
        // Every try's end comes back here; at most `most` tries run, so it never fills.
        let (ended_tx, mut ended_rx) = mpsc::channel::<(JobId, u32, AttemptEnd)>(most + 1);
        let tracker = TaskTracker::new();
        let mut jobs_in_flight: HashMap<JobId, Job> = HashMap::new();
        let mut poll = tokio::time::interval(self.settings.poll);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        info!(dial = %self.settings.dial, "outbound dialer started");
        loop {
            let now = self.now();
            let wait = dialer.next_deadline(now).map(|at| {
                let ahead = (at - now).to_std().unwrap_or(Duration::ZERO);
                ahead
                    .div_f64(self.settings.speed.max(1.0))
                    .min(self.settings.poll)
            });
            let event = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                Some((id, attempt, end)) = ended_rx.recv() => Event::Ended(id, attempt, end),
                _ = poll.tick() => Event::Poll,
                () = sleep_for(wait), if wait.is_some() => Event::Deadline,
            };
            let now = self.now();
            let actions = match event {
                Event::Poll => {
                    self.stats.polls.fetch_add(1, Ordering::Relaxed);
                    let mut actions = dialer.handle(
                        Input::Inbound {
                            asterisk: asterisk.clone(),
                            active: u32::try_from(
                                self.inbound.calls_in_progress.load(Ordering::Relaxed),
                            )
                            .unwrap_or(u32::MAX),
                        },
                        now,
                    );
                    let room = dialer.room();
                    if room > 0 {
                        match self.jobs.due(now, room).await {
                            Ok(due) => {
                                for job in due {
                                    actions.extend(dialer.handle(Input::Submit(job), now));
                                }
                            }
                            Err(err) => warn!(%err, "outbound: due jobs could not be read"),
                        }
                    }
                    actions
                }
                Event::Deadline => dialer.handle(Input::Tick, now),
                Event::Ended(id, attempt, end) => {
                    let result = match jobs_in_flight.remove(&id) {
                        Some(job) => self.result_of(&job, attempt, end, now).await,
                        None => AttemptResult::NotReached(Cause::Interrupted),
                    };
                    self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
                    dialer.handle(Input::Finished { id, result }, now)
                }
            };
            self.act(
                &mut dialer,
                actions,
                &tracker,
                &ended_tx,
                &mut jobs_in_flight,
                &stop,
            )
            .await;
        }
        tracker.close();
        // The tries end on their own (their stop is the same token); their results still count.
        drop(ended_tx);
        while let Some((id, attempt, end)) = ended_rx.recv().await {
            if let Some(job) = jobs_in_flight.remove(&id) {
                let now = self.now();
                let result = self.result_of(&job, attempt, end, now).await;
                for action in dialer.handle(Input::Finished { id, result }, now) {
                    self.record_decision(&action, now).await;
                }
            }
        }
        tracker.wait().await;
        info!("outbound dialer stopped");
    }

    /// What a try's end means for the dialer (the person's answers made durable first).
    async fn result_of(
        &self,
        job: &Job,
        attempt: u32,
        end: AttemptEnd,
        now: DateTime<Utc>,
    ) -> AttemptResult {
        let (result, label, record) = match end {
            AttemptEnd::NotReached { cause, record } => {
                let label = cause.as_str().to_owned();
                (AttemptResult::NotReached(cause), label, record)
            }
            AttemptEnd::Answered { call, record } => {
                match self.jobs.answered(job, attempt, &call, now).await {
                    Ok(Some(label)) => (AttemptResult::Reached, label, record),
                    Ok(None) => (
                        AttemptResult::NotReached(Cause::NoKey),
                        "no_key".to_owned(),
                        record,
                    ),
                    Err(err) => {
                        warn!(job = %job.id, %err, "outbound: the answer could not be stored; calling again");
                        let cause = Cause::Failed(format!("the answer could not be stored: {err}"));
                        (
                            AttemptResult::NotReached(cause),
                            "failed".to_owned(),
                            record,
                        )
                    }
                }
            }
        };
        if let Some(mut record) = record {
            record.outcome = records::Outcome::Outbound(label);
            self.log.record(*record);
        }
        result
    }

    async fn act(
        &self,
        dialer: &mut Dialer,
        mut actions: Vec<Action>,
        tracker: &TaskTracker,
        ended: &mpsc::Sender<(JobId, u32, AttemptEnd)>,
        in_flight: &mut HashMap<JobId, Job>,
        stop: &CancellationToken,
    ) {
        while !actions.is_empty() {
            let mut more = Vec::new();
            for action in actions {
                let now = self.now();
                match action {
                    Action::Dial {
                        job,
                        attempt,
                        asterisk: _,
                    } => {
                        if let Err(err) = self.jobs.dialling(&job, attempt, now).await {
                            // No longer wanted (or the store is away): not dialled; it is read
                            // again while still due.
                            debug!(job = %job.id, %err, "outbound: not dialled");
                            more.extend(dialer.handle(Input::Cancel(job.id.clone()), now));
                            continue;
                        }
                        self.start_attempt(&job, attempt, tracker, ended, stop);
                        in_flight.insert(job.id.clone(), job);
                    }
                    decision => self.record_decision(&decision, now).await,
                }
            }
            actions = more;
        }
    }

    async fn record_decision(&self, action: &Action, now: DateTime<Utc>) {
        match action {
            Action::Retry {
                id,
                attempt,
                cause,
                next_at,
                ..
            } => {
                self.stats.not_reached.fetch_add(1, Ordering::Relaxed);
                info!(job = %id, attempt, cause = cause.as_str(), %next_at, "outbound: not reached; tried again later");
                if let Err(err) = self
                    .jobs
                    .not_reached(id, *attempt, cause, *next_at, now)
                    .await
                {
                    warn!(job = %id, %err, "outbound: the retry could not be stored");
                }
            }
            Action::GiveUp {
                id,
                attempts,
                cause,
                then,
                ..
            } => {
                self.stats.given_up.fetch_add(1, Ordering::Relaxed);
                info!(job = %id, attempts, cause = cause.as_str(), then = then.as_str(), "outbound: last try; policy applied");
                if let Err(err) = self.jobs.given_up(id, *attempts, cause, *then, now).await {
                    warn!(job = %id, %err, "outbound: the policy could not be stored; applied again later");
                }
            }
            Action::Done { id, attempts, .. } => {
                self.stats.reached.fetch_add(1, Ordering::Relaxed);
                debug!(job = %id, attempts, "outbound: done");
            }
            Action::Refused { id } => debug!(job = %id, "outbound: dialer full; read again later"),
            Action::Dial { .. } => {}
        }
    }

    fn start_attempt(
        &self,
        job: &Job,
        attempt: u32,
        tracker: &TaskTracker,
        ended: &mpsc::Sender<(JobId, u32, AttemptEnd)>,
        stop: &CancellationToken,
    ) {
        let channel = format!("ob-{}-{attempt}", job.id);
        let n = self.stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.most_in_flight.fetch_max(n, Ordering::Relaxed);
        self.stats.dialled.fetch_add(1, Ordering::Relaxed);
        let ended = ended.clone();
        let id = job.id.clone();
        let Some(script) = self.settings.scripts.get(&job.script).cloned() else {
            warn!(job = %job.id, script = %job.script, "outbound: the job names no known script");
            let end = AttemptEnd::NotReached {
                cause: Cause::Failed(format!("no script {:?}", job.script)),
                record: None,
            };
            tracker.spawn(async move {
                let _ = ended.send((id, attempt, end)).await;
            });
            return;
        };
        let params = AttemptParams {
            channel: channel.clone(),
            endpoint: self.settings.dial.replace("{number}", &job.number),
            job: job.clone(),
            attempt,
            caller_id: self.settings.caller_id.clone(),
            ring: self.settings.ring,
            script,
            started_at: (self.settings.clock)(),
            speed: self.settings.speed,
        };
        let mailbox = self.router.register_channel(&channel);
        let shared = Arc::clone(&self.shared);
        let stop = stop.clone();
        let span = info_span!("outbound", job = %job.id, attempt, channel = %channel);
        tracker.spawn(
            async move {
                let end = match mailbox {
                    Ok(mailbox) => attempt::run_attempt(shared, params, mailbox, stop).await,
                    Err(err) => AttemptEnd::NotReached {
                        cause: Cause::Failed(format!("no mailbox: {err}")),
                        record: None,
                    },
                };
                let _ = ended.send((id, attempt, end)).await;
            }
            .instrument(span),
        );
    }
}

async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
