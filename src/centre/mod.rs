//! The call centre's runtime: one task that owns the ACD's decisions (`acd::Acd`, no I/O) and
//! connects them to the rest of the node — callers' call tasks (over the engine's
//! [`CallCentreLink`](crate::engine::CallCentreLink): joins and leg reports in, [`QueueOrder`]s out), agents and supervisors (the
//! API's [`Command`]s), the queue log (`records`), and the live stream the web pages read
//! ([`LiveEvent`], a bounded broadcast: a slow reader loses events and resynchronises from a
//! snapshot; the call centre never waits for it).
//!
//! Like a call task it is sequential: every input is handled to its end, in order, and the ACD's
//! timers are one `sleep_until` on [`acd::Acd::next_deadline`]. It never awaits a call task: an order
//! that does not fit in a call's bounded queue means that call is stuck, and it is let go.

pub mod api;
mod gauges;

pub use gauges::{AGENT_STATES, Floor, Gauges, QueueGauge};

use std::collections::HashMap;
use std::sync::Arc;

use acd::{Action, AgentId, AttemptId, CallId, Input};
use chrono::Utc;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::engine::{
    CentreRequest, LegReport, QueueJoin, QueueOrder, QueueRefusal, RingFailure, SuperviseMode,
    TransferTo,
};

/// How many live events a slow reader may fall behind before it is resynchronised.
pub const LIVE_CAPACITY: usize = 4096;
/// Commands from the API waiting for the call centre.
pub const COMMANDS_CAPACITY: usize = 256;

/// What the call centre is configured with.
#[derive(Debug, Clone)]
pub struct CentreSettings {
    pub queues: Arc<acd::Queues>,
    /// The helpline whose IVR puts callers in the queues (1100).
    pub helpline: acd::Helpline,
    /// Where agents may transfer a caller, by the name they pick (`181`, `1077` …).
    pub transfers: std::collections::BTreeMap<String, TransferTo>,
    /// The dial string a call-back rings the citizen on, `{number}` their number as the engine
    /// normalised it (`PJSIP/{number}@telecom-trunk`).
    pub callback_dial: String,
    /// How much faster than real time the call centre's time runs: 1 with a real Asterisk, the
    /// simulator's speed factor with a simulator (rings, waits and wrap-ups shrink with the calls').
    pub speed: f64,
    /// Where the ACD's state is kept across restarts (agents logged in and paused, conversations,
    /// call-back slots, the day's counters); `None`: nowhere (tests).
    pub state_file: Option<std::path::PathBuf>,
}

/// How often, at most, the call centre's state is written when it changed.
pub const SAVE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The state an earlier engine left, if any (a file that cannot be read is set aside, logged).
fn load_state(path: &std::path::Path) -> Option<acd::Durable> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            warn!(path = %path.display(), %err, "cannot read the call centre's state; starting empty");
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(state) => Some(state),
        Err(err) => {
            let aside = path.with_extension("unreadable");
            warn!(path = %path.display(), %err, aside = %aside.display(),
                "the call centre's state does not parse; set aside, starting empty");
            let _ = std::fs::rename(path, aside);
            None
        }
    }
}

/// Writes the state as a temporary file renamed over the old one (no fsync: what it guards
/// against is the process dying, which leaves the page cache intact — the same rule as the calls'
/// progress files).
fn save_state(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The integrated helplines of the shipped dialplan (`deploy/asterisk/extensions.conf`,
/// `[integrated-helplines]`), as transfer destinations.
pub fn integrated_helplines() -> std::collections::BTreeMap<String, TransferTo> {
    ["181", "1077", "hrtc", "gst", "nasha"]
        .into_iter()
        .map(|ext| {
            let to = TransferTo::Dialplan {
                context: "integrated-helplines".to_owned(),
                extension: ext.to_owned(),
                label: ext.to_owned(),
            };
            (ext.to_owned(), to)
        })
        .collect()
}

/// The ACD's skills from an agent profile and the departments they take: an empty list of
/// helplines means all of them; a helpline the ACD does not know is refused, said.
pub fn skills(
    profile: &tickets::accounts::agent::AgentProfile,
    departments: impl IntoIterator<Item = String>,
) -> Result<acd::Skills, String> {
    let languages = profile.languages.iter().filter_map(|l| match l.as_str() {
        "hi" => Some(acd::Language::Hi),
        "en" => Some(acd::Language::En),
        _ => None,
    });
    let helplines: Vec<acd::Helpline> = if profile.helplines.is_empty() {
        acd::Helpline::ALL.to_vec()
    } else {
        profile
            .helplines
            .iter()
            .map(|h| {
                serde_json::from_value::<acd::Helpline>(serde_json::Value::String(h.clone()))
                    .map_err(|_| format!("the agent profile names `{h}`, which is not a helpline"))
            })
            .collect::<Result<_, _>>()?
    };
    Ok(acd::Skills::new(languages, departments, helplines))
}

/// What an agent's or a supervisor's request does to the call the agent is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAction {
    Hold {
        on: bool,
    },
    /// To a name of [`CentreSettings::transfers`], `queue:<name>`, or `phone:<dial string>`.
    Transfer {
        to: String,
    },
    /// A warm transfer to the same kinds of destination: the agent talks to them first.
    Consult {
        to: String,
    },
    /// The warm transfer is completed (the caller joins the other side) or cancelled.
    EndConsult {
        complete: bool,
    },
    Supervise {
        supervisor: String,
        phone: String,
        mode: SuperviseMode,
    },
    /// The agent ends the call from the desk (both sides hang up; the agent goes to wrap-up).
    Hangup,
}

/// Why the call centre refused an agent's or a supervisor's request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CentreError {
    #[error(transparent)]
    Refused(#[from] acd::AcdError),
    #[error("the call centre is not running")]
    Unavailable,
    #[error("{0} is not on a call")]
    NotOnCall(String),
    #[error(
        "no transfer destination `{0}` (one of the helplines, queue:NAME or phone:TECH/resource)"
    )]
    NoSuchDestination(String),
}

/// A request from the API.
#[derive(Debug)]
pub enum Command {
    /// Agents' and supervisors' inputs to the ACD (log in, pause, dispositions, moves …).
    Input {
        input: Input,
        reply: oneshot::Sender<Result<(), CentreError>>,
    },
    /// The current picture, for a page that just connected.
    Snapshot { reply: oneshot::Sender<Snapshot> },
    /// The call-back slots: on `agent`'s list, or all of them (`None`).
    Callbacks {
        agent: Option<String>,
        reply: oneshot::Sender<Result<Vec<acd::CallbackSlot>, CentreError>>,
    },
    /// Something done to the call `agent` is on; answers the call's complaint numbers.
    OnCall {
        agent: String,
        action: CallAction,
        reply: oneshot::Sender<Result<Vec<String>, CentreError>>,
    },
}

/// One agent, as the wallboard shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AgentView {
    pub agent: String,
    pub phone: String,
    /// `logged_out`, `available`, `ringing`, `on_call`, `wrap_up`, `paused`.
    pub state: &'static str,
    /// The pause's reason, when paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The call they ring for, talk on or wrap up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    pub since: chrono::DateTime<Utc>,
    pub calls_taken: u32,
}

impl AgentView {
    fn of(agent: &acd::Agent) -> AgentView {
        let state = agent.state();
        AgentView {
            agent: agent.id.as_str().to_owned(),
            phone: agent.phone.clone(),
            state: state.name(),
            reason: match state {
                acd::AgentState::Paused { reason, .. } => Some(reason.as_str()),
                _ => None,
            },
            call: state.call().map(|c| c.as_str().to_owned()),
            since: agent.entered(),
            calls_taken: agent.calls_taken(),
        }
    }
}

/// A caller in a queue, as the wallboard shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct WaitingView {
    pub call: String,
    pub queue: String,
    pub position: u32,
    pub caller: String,
    pub language: String,
    pub department: Option<String>,
    pub complaints: Vec<String>,
    pub joined_at: chrono::DateTime<Utc>,
}

/// The call centre now: per queue the wallboard's figures (waiting, oldest wait, answered and
/// abandoned today, service level against its target, average speed of answer, expected wait),
/// every agent, the callers in queue order, and every call the centre holds (with its agent).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Snapshot {
    pub at: chrono::DateTime<Utc>,
    /// When the day's counters began.
    pub since: chrono::DateTime<Utc>,
    pub queues: Vec<acd::QueueSnapshot>,
    pub agents: Vec<AgentView>,
    /// Callers waiting (or ringing an agent), queue by queue, in queue order.
    pub waiting: Vec<WaitingView>,
    /// Every call in the centre, waiting or talking: what an agent's screen pops.
    pub calls: Vec<CallView>,
    /// Calls in the IVR now (the engine's calls in progress less those in the centre); `None`
    /// where the centre is told no engine's figures (tests).
    pub in_ivr: Option<u64>,
}

/// A call in the centre, with the agent ringing for it or talking to it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CallView {
    #[serde(flatten)]
    pub call: WaitingView,
    pub agent: Option<String>,
    /// For a call an agent rings for or talks to (what their screen pops; left out for the
    /// waiting, so a floor of thousands stays small): the IVR's path — steps and the keys pressed
    /// in each, an entry's digits masked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<records::PathStep>,
    /// Likewise: the complaints the IVR filed in this call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filed: Vec<String>,
}

/// What the live stream carries after its snapshot.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// An agent's state changed.
    Agent(AgentView),
    /// A queue or agent event (`queue_log`'s vocabulary).
    Queue {
        at: chrono::DateTime<Utc>,
        #[serde(flatten)]
        event: acd::QueueLog,
    },
    /// The number of calls in the IVR changed (sampled every [`IVR_SAMPLE_EVERY`]).
    Ivr {
        at: chrono::DateTime<Utc>,
        in_ivr: u64,
    },
}

/// How often the call centre looks at the engine's calls in progress, to tell the pages how many
/// are in the IVR (only when the number changed).
pub const IVR_SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The API's line to the call centre.
#[derive(Debug, Clone)]
pub struct CentreHandle {
    commands: mpsc::Sender<Command>,
    live: broadcast::Sender<LiveEvent>,
    gauges: Arc<Gauges>,
}

impl CentreHandle {
    /// Feeds an agent's or a supervisor's input; answers once the ACD took it (or refused it).
    pub async fn input(&self, input: Input) -> Result<(), CentreError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Input { input, reply })
            .await
            .map_err(|_| CentreError::Unavailable)?;
        rx.await.map_err(|_| CentreError::Unavailable)?
    }

    /// The picture now.
    pub async fn snapshot(&self) -> Result<Snapshot, CentreError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Snapshot { reply })
            .await
            .map_err(|_| CentreError::Unavailable)?;
        rx.await.map_err(|_| CentreError::Unavailable)
    }

    /// The call-back slots on `agent`'s list (theirs, and the unassigned ones their skills cover),
    /// or all of them.
    pub async fn callbacks(
        &self,
        agent: Option<&str>,
    ) -> Result<Vec<acd::CallbackSlot>, CentreError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Callbacks {
                agent: agent.map(str::to_owned),
                reply,
            })
            .await
            .map_err(|_| CentreError::Unavailable)?;
        rx.await.map_err(|_| CentreError::Unavailable)?
    }

    /// Acts on the call `agent` is on; answers the call's complaint numbers (for its tickets' notes).
    pub async fn on_call(
        &self,
        agent: &str,
        action: CallAction,
    ) -> Result<Vec<String>, CentreError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::OnCall {
                agent: agent.to_owned(),
                action,
                reply,
            })
            .await
            .map_err(|_| CentreError::Unavailable)?;
        rx.await.map_err(|_| CentreError::Unavailable)?
    }

    /// Resolves once the call centre's task has stopped (the node is shutting down). Cancel-safe.
    pub async fn stopped(&self) {
        self.commands.closed().await;
    }

    /// The live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }

    /// The live figures `/metrics` reads.
    pub fn gauges(&self) -> Arc<Gauges> {
        Arc::clone(&self.gauges)
    }
}

/// Where the queue log goes (records' writer in a node; nothing in tests that do not look).
pub trait QueueLogSink: Send + Sync + 'static {
    fn log(&self, event: &acd::QueueLog);
}

impl QueueLogSink for records::Recorder {
    fn log(&self, event: &acd::QueueLog) {
        if !event.in_records() {
            return;
        }
        // The same vocabulary, field by field (the acd crate keeps it so; see `acd::log`).
        match serde_json::to_value(event).and_then(serde_json::from_value::<records::QueueEvent>) {
            Ok(event) => records::Recorder::log(self, event),
            Err(err) => {
                warn!(%err, event = event.name(), "queue event not in the records' vocabulary")
            }
        }
    }
}

/// A queue log that keeps nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoQueueLog;

impl QueueLogSink for NoQueueLog {
    fn log(&self, _: &acd::QueueLog) {}
}

/// A call in the call centre: where its orders go and what the wallboard shows of it.
#[derive(Debug)]
struct CallEntry {
    orders: mpsc::Sender<QueueOrder>,
    view: WaitingView,
    /// The IVR's path and the complaints it filed, for the agent's screen-pop.
    path: Vec<records::PathStep>,
    filed: Vec<String>,
    /// A call-back's own task (no caller's call task in the engine behind it).
    callback: bool,
}

/// The call centre's task.
pub struct Centre {
    acd: acd::Acd,
    settings: CentreSettings,
    calls: HashMap<CallId, CallEntry>,
    /// Ring attempts by their channel id, and the call each is for.
    attempts: HashMap<String, (AttemptId, CallId)>,
    live: broadcast::Sender<LiveEvent>,
    log: Arc<dyn QueueLogSink>,
    /// Reused for every input's actions.
    actions: Vec<Action>,
    /// The state changed since it was last saved.
    dirty: bool,
    /// Starts a call-back's task, when this node places call-backs.
    callbacks: Option<CallbackLauncher>,
    /// The engine's counters, for the calls in the IVR now.
    engine: Option<Arc<crate::engine::EngineStats>>,
    /// The number of calls in the IVR the pages were last told.
    told_in_ivr: Option<u64>,
    clock: CentreClock,
    gauges: Arc<Gauges>,
}

/// Starts a call-back's task (made by the node: it owns the ARI side).
pub type CallbackLauncher =
    Arc<dyn Fn(crate::engine::callback::CallbackParams) -> Result<(), String> + Send + Sync>;

impl std::fmt::Debug for Centre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Centre")
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl Centre {
    /// A call centre over `settings`' queues, with its API handle and the command queue.
    pub fn new(
        settings: CentreSettings,
        log: Arc<dyn QueueLogSink>,
    ) -> (Centre, CentreHandle, mpsc::Receiver<Command>) {
        let (commands, commands_rx) = mpsc::channel(COMMANDS_CAPACITY);
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let clock = CentreClock::start(settings.speed);
        let now = clock.now();
        let saved = settings.state_file.as_deref().and_then(load_state);
        let (acd, actions) = match saved {
            Some(durable) => {
                let (acd, actions) = acd::Acd::restore(Arc::clone(&settings.queues), durable, now);
                info!(
                    agents = acd.agents().filter(|a| a.state().is_logged_in()).count(),
                    calls = acd.calls(),
                    "call centre state restored"
                );
                (acd, actions)
            }
            None => (acd::Acd::new(Arc::clone(&settings.queues), now), Vec::new()),
        };
        let mut centre = Centre {
            acd,
            settings,
            calls: HashMap::new(),
            attempts: HashMap::new(),
            live: live.clone(),
            log,
            actions: Vec::new(),
            dirty: false,
            callbacks: None,
            engine: None,
            told_in_ivr: None,
            clock,
            gauges: Gauges::new(clock),
        };
        // The restore's own actions: the old engine's rings cancelled, their agents available.
        for action in actions {
            centre.execute(action);
        }
        centre.gauges.refresh(&centre.acd.snapshot(now));
        let handle = CentreHandle {
            commands,
            live,
            gauges: Arc::clone(&centre.gauges),
        };
        (centre, handle, commands_rx)
    }

    /// Places call-backs with `launch`.
    #[must_use]
    pub fn with_callbacks(mut self, launch: CallbackLauncher) -> Self {
        self.callbacks = Some(launch);
        self
    }

    /// Counts the calls in the IVR from `engine`'s calls in progress.
    #[must_use]
    pub fn with_engine_stats(mut self, engine: Arc<crate::engine::EngineStats>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Calls in the IVR now: the engine's calls in progress that are not in the centre.
    fn in_ivr(&self) -> Option<u64> {
        let engine = self.engine.as_ref()?;
        let running = engine
            .calls_in_progress
            .load(std::sync::atomic::Ordering::Relaxed);
        let here = self.calls.values().filter(|c| !c.callback).count();
        Some(running.saturating_sub(u64::try_from(here).unwrap_or(u64::MAX)))
    }

    /// Tells the pages the number of calls in the IVR, when it changed.
    fn sample_ivr(&mut self) {
        let Some(in_ivr) = self.in_ivr() else { return };
        if self.told_in_ivr != Some(in_ivr) {
            self.told_in_ivr = Some(in_ivr);
            let _ = self.live.send(LiveEvent::Ivr {
                at: self.clock.now(),
                in_ivr,
            });
        }
    }

    /// Runs until `stop`: call tasks' requests, the API's commands, the ACD's timers.
    pub async fn run(
        mut self,
        mut requests: mpsc::Receiver<CentreRequest>,
        mut commands: mpsc::Receiver<Command>,
        stop: CancellationToken,
    ) {
        let mut save = tokio::time::interval(SAVE_EVERY);
        save.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ivr = tokio::time::interval(IVR_SAMPLE_EVERY);
        ivr.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let sample = self.engine.is_some();
        loop {
            let deadline = self.acd.next_deadline().map(|at| self.clock.instant(at));
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                _ = save.tick(), if self.dirty => {
                    self.gauges.refresh(&self.acd.snapshot(self.clock.now()));
                    self.save().await;
                }
                _ = ivr.tick(), if sample => self.sample_ivr(),
                request = requests.recv() => match request {
                    Some(request) => self.on_request(request),
                    None => break,
                },
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => self.feed(Input::Tick),
            }
        }
        if self.dirty {
            self.save().await;
        }
        // Callers still waiting are given back to their IVR by their tasks when the orders
        // channel closes (dropped with `self`).
        info!(calls = self.calls.len(), "call centre stopped");
    }

    /// Writes the ACD's durable state, off the async workers.
    async fn save(&mut self) {
        self.dirty = false;
        let Some(path) = self.settings.state_file.clone() else {
            return;
        };
        let bytes = match serde_json::to_vec(&self.acd.durable(self.clock.now())) {
            Ok(bytes) => bytes,
            Err(err) => return warn!(%err, "the call centre's state does not serialise"),
        };
        match tokio::task::spawn_blocking(move || save_state(&path, &bytes)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                warn!(%err, "cannot save the call centre's state; trying again");
                self.dirty = true;
            }
            Err(err) => warn!(%err, "the call centre's state writer failed"),
        }
    }

    fn on_request(&mut self, request: CentreRequest) {
        match request {
            CentreRequest::Join {
                join,
                orders,
                reply,
            } => {
                let answer = self.join(join, orders);
                // The caller's task may have given up waiting: nothing to tell then.
                let _ = reply.send(answer);
            }
            CentreRequest::Report { call_id, report } => self.report(&call_id, report),
        }
    }

    fn join(
        &mut self,
        join: QueueJoin,
        orders: mpsc::Sender<QueueOrder>,
    ) -> Result<(), QueueRefusal> {
        if self.settings.queues.get(&join.queue).is_none() {
            return Err(QueueRefusal::NoSuchQueue(join.queue));
        }
        let language = match join.language.as_str() {
            "en" => acd::Language::En,
            _ => acd::Language::Hi,
        };
        let call = CallId::new(&join.call_id);
        let info = acd::CallInfo {
            number: join.caller.clone(),
            language,
            department: join.department.clone(),
            helpline: self.settings.helpline,
            open_complaint: !join.complaints.is_empty(),
            complaints: join.complaints.clone(),
        };
        let view = WaitingView {
            call: join.call_id.clone(),
            queue: join.queue.clone(),
            position: 0,
            caller: join.caller,
            language: join.language,
            department: join.department,
            complaints: join.complaints,
            joined_at: join.joined_at,
        };
        let entry = CallEntry {
            orders,
            view,
            path: join.path,
            filed: join.filed,
            callback: false,
        };
        self.calls.insert(call.clone(), entry);
        let input = Input::Join(acd::Join {
            call: call.clone(),
            queue: join.queue,
            info,
            joined_at: Some(self.clock.of_wall(join.joined_at)),
        });
        match self.try_feed(input) {
            Ok(()) => {}
            // A call the restored ACD holds already (talking to an agent when the engine that ran it
            // died): its new task takes its orders from now on.
            Err(acd::AcdError::DuplicateCall(_)) => {}
            Err(err) => {
                self.calls.remove(&call);
                return Err(QueueRefusal::Closed {
                    queue: view_queue(&err),
                    reason: err.to_string(),
                });
            }
        }
        Ok(())
    }

    fn report(&mut self, call_id: &str, report: LegReport) {
        let call = CallId::new(call_id);
        let attempt = |channel: &str| self.attempts.get(channel).map(|(a, _)| *a);
        let input = match report {
            LegReport::RingAnswered { attempt: channel } => match attempt(&channel) {
                Some(attempt) => Input::RingAnswered { attempt },
                None => return debug!(%channel, "an answer for no ring"),
            },
            LegReport::RingFailed {
                attempt: channel,
                failure,
            } => match self.attempts.remove(&channel) {
                Some((attempt, _)) => Input::RingFailed {
                    attempt,
                    cause: ring_failure(&failure),
                },
                None => return debug!(%channel, "a failure for no ring"),
            },
            // The ACD counted the call connected when it asked for the bridge.
            LegReport::Connected { .. } => return,
            LegReport::Key { key } => Input::Key { call, key },
            LegReport::CallerLeft => {
                self.calls.remove(&call);
                Input::Left { call }
            }
            LegReport::CallEnded { by_agent } => {
                self.calls.remove(&call);
                self.attempts.retain(|_, (_, c)| *c != call);
                Input::CallEnded {
                    call,
                    side: if by_agent {
                        acd::Side::Agent
                    } else {
                        acd::Side::Caller
                    },
                }
            }
            LegReport::CallbackLeg {
                attempt: channel,
                failure,
            } => match self.attempts.remove(&channel) {
                Some((attempt, _)) => Input::CallbackResult {
                    attempt,
                    outcome: match failure {
                        None => acd::CallbackOutcome::Answered,
                        Some(f) => acd::CallbackOutcome::Failed(ring_failure(&f)),
                    },
                },
                None => return debug!(%channel, "a call-back leg for no attempt"),
            },
            LegReport::Transferred { destination } => {
                self.calls.remove(&call);
                self.attempts.retain(|_, (_, c)| *c != call);
                Input::Transferred { call, destination }
            }
            // A booked call-back keeps its slot in the ACD; the call task is gone.
            LegReport::Gone => {
                self.calls.remove(&call);
                return;
            }
        };
        if let Err(err) = self.try_feed(input) {
            debug!(%err, call = call_id, "report not taken");
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Input { input, reply } => {
                let result = self.try_feed(input).map_err(CentreError::from);
                let _ = reply.send(result);
            }
            Command::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Command::Callbacks { agent, reply } => {
                let slots = self.acd.callback_slots(agent.as_deref());
                let _ = reply.send(slots.map_err(CentreError::from));
            }
            Command::OnCall {
                agent,
                action,
                reply,
            } => {
                let _ = reply.send(self.on_call(&agent, action));
            }
        }
    }

    fn on_call(&mut self, agent: &str, action: CallAction) -> Result<Vec<String>, CentreError> {
        let call = self
            .acd
            .agent(agent)
            .and_then(|a| match a.state() {
                acd::AgentState::OnCall { call, .. } => Some(call.clone()),
                _ => None,
            })
            .ok_or_else(|| CentreError::NotOnCall(agent.to_owned()))?;
        let complaints = self
            .calls
            .get(&call)
            .map(|c| c.view.complaints.clone())
            .ok_or_else(|| CentreError::NotOnCall(agent.to_owned()))?;
        let order = match action {
            CallAction::Hold { on } => QueueOrder::Hold { on },
            CallAction::Transfer { to } => QueueOrder::Transfer {
                to: self.destination(&to)?,
            },
            CallAction::Consult { to } => QueueOrder::Consult {
                to: self.destination(&to)?,
            },
            CallAction::EndConsult { complete } => QueueOrder::EndConsult { complete },
            CallAction::Supervise {
                supervisor,
                phone,
                mode,
            } => QueueOrder::Supervise {
                supervisor,
                phone,
                mode,
            },
            CallAction::Hangup => QueueOrder::Hangup,
        };
        self.order(&call, order);
        Ok(complaints)
    }

    fn destination(&self, to: &str) -> Result<TransferTo, CentreError> {
        if let Some(t) = self.settings.transfers.get(to) {
            return Ok(t.clone());
        }
        if let Some(queue) = to.strip_prefix("queue:")
            && self.settings.queues.get(queue).is_some()
        {
            return Ok(TransferTo::Queue(queue.to_owned()));
        }
        if let Some(phone) = to.strip_prefix("phone:")
            && let Ok(endpoint) = tickets::accounts::agent::dial_string("to", phone)
        {
            return Ok(TransferTo::Phone {
                label: endpoint.clone(),
                endpoint,
            });
        }
        Err(CentreError::NoSuchDestination(to.to_owned()))
    }

    fn snapshot(&self) -> Snapshot {
        let now = self.clock.now();
        let floor = self.acd.snapshot(now);
        let mut waiting = Vec::new();
        for queue in self.settings.queues.iter() {
            for (i, call) in self.acd.waiting(&queue.name).iter().enumerate() {
                if let Some(entry) = self.calls.get(call) {
                    let mut view = entry.view.clone();
                    view.position = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    waiting.push(view);
                }
            }
        }
        let agent_of: HashMap<&CallId, &str> = self
            .acd
            .agents()
            .filter_map(|a| a.state().call().map(|c| (c, a.id.as_str())))
            .collect();
        let mut calls: Vec<CallView> = self
            .calls
            .iter()
            .map(|(id, entry)| {
                let agent = agent_of.get(id).map(|a| (*a).to_owned());
                let popped = agent.is_some();
                CallView {
                    call: entry.view.clone(),
                    agent,
                    path: if popped {
                        entry.path.clone()
                    } else {
                        Vec::new()
                    },
                    filed: if popped {
                        entry.filed.clone()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        calls.sort_by_key(|c| c.call.joined_at);
        Snapshot {
            at: now,
            since: floor.since,
            queues: floor.queues,
            agents: self.acd.agents().map(AgentView::of).collect(),
            waiting,
            calls,
            in_ivr: self.in_ivr(),
        }
    }

    fn feed(&mut self, input: Input) {
        if let Err(err) = self.try_feed(input) {
            debug!(%err, "ACD input refused");
        }
    }

    /// Feeds the ACD and carries out what it says (also the timers' actions of a refused input).
    fn try_feed(&mut self, input: Input) -> Result<(), acd::AcdError> {
        let mut actions = std::mem::take(&mut self.actions);
        let result = self.acd.handle_into(input, self.clock.now(), &mut actions);
        self.dirty |= !actions.is_empty();
        for action in actions.drain(..) {
            self.execute(action);
        }
        self.actions = actions;
        result
    }

    fn execute(&mut self, action: Action) {
        match action {
            Action::RingAgent {
                attempt,
                agent,
                phone,
                call,
                timeout_secs,
                callback,
                info,
                queue,
            } => {
                let channel = attempt.channel_id();
                if callback && !self.start_callback(&call, &channel, &queue, &info) {
                    self.feed(Input::RingFailed {
                        attempt,
                        cause: acd::RingFailure::Other,
                    });
                    return;
                }
                self.attempts
                    .insert(channel.clone(), (attempt, call.clone()));
                self.order(
                    &call,
                    QueueOrder::Ring {
                        attempt: channel,
                        agent: agent.as_str().to_owned(),
                        phone,
                        timeout: std::time::Duration::from_secs(u64::from(timeout_secs)),
                    },
                );
            }
            Action::CancelRing { attempt } => {
                let channel = attempt.channel_id();
                if let Some((_, call)) = self.attempts.remove(&channel) {
                    self.order(&call, QueueOrder::CancelRing { attempt: channel });
                }
            }
            Action::Connect {
                call,
                agent,
                agent_leg,
                ..
            } => {
                let attempt = agent_leg.channel_id();
                self.order(
                    &call,
                    QueueOrder::Connect {
                        attempt,
                        agent: agent.as_str().to_owned(),
                    },
                );
            }
            Action::Announce {
                call,
                position,
                expected_wait_secs,
                ..
            } => self.order(
                &call,
                QueueOrder::Announce {
                    position,
                    expected_wait: expected_wait_secs
                        .map(|s| std::time::Duration::from_secs(u64::from(s))),
                },
            ),
            Action::OfferCallback { call, .. } => self.order(&call, QueueOrder::OfferCallback),
            Action::CallbackBooked { call, .. } => self.order(&call, QueueOrder::CallbackBooked),
            Action::Overflow {
                call, to, reason, ..
            } => {
                if let acd::Overflow::Queue(queue) = &to {
                    // The ACD put them there already.
                    if let Some(entry) = self.calls.get_mut(&call) {
                        entry.view.queue.clone_from(queue);
                    }
                } else {
                    self.order(
                        &call,
                        QueueOrder::GiveBack {
                            reason: format!("{reason:?}"),
                        },
                    );
                    self.calls.remove(&call);
                }
            }
            Action::AgentStateChanged { agent, .. } => self.agent_changed(&agent),
            Action::AgentPending { .. } => {}
            Action::Log(event) => {
                self.log.log(&event);
                let _ = self.live.send(LiveEvent::Queue {
                    at: self.clock.now(),
                    event,
                });
            }
            Action::PlaceCallback {
                attempt,
                call,
                info,
                ..
            } => {
                let channel = attempt.channel_id();
                let endpoint = self
                    .settings
                    .callback_dial
                    .replace("{number}", &info.number);
                if tickets::accounts::agent::dial_string("number", &endpoint).is_err() {
                    // A withheld or unreadable number cannot be called back.
                    warn!(call = %call.as_str(), "call-back: the citizen's number cannot be dialled");
                    self.feed(Input::CallbackResult {
                        attempt,
                        outcome: acd::CallbackOutcome::Failed(acd::RingFailure::Unreachable),
                    });
                    return;
                }
                self.attempts
                    .insert(channel.clone(), (attempt, call.clone()));
                self.order(
                    &call,
                    QueueOrder::PlaceCallback {
                        attempt: channel,
                        endpoint,
                        timeout: std::time::Duration::from_secs(u64::from(
                            acd::acd::CALLBACK_RING_SECS,
                        )),
                    },
                );
            }
            Action::CallbackFailed { call, attempts, .. } => {
                warn!(call = %call.as_str(), attempts, "call-back given up: the citizen could not be reached");
                self.calls.remove(&call);
            }
        }
    }

    /// Starts a call-back's own task (its agent's leg `channel` rung first); false when this node
    /// cannot place call-backs.
    fn start_callback(
        &mut self,
        call: &CallId,
        channel: &str,
        queue: &str,
        info: &acd::CallInfo,
    ) -> bool {
        let Some(launch) = &self.callbacks else {
            warn!(call = %call.as_str(), "call-back cannot be placed: no dialler on this node");
            return false;
        };
        let (orders, rx) = mpsc::channel(crate::engine::ports::ORDERS_CAPACITY);
        let params = crate::engine::callback::CallbackParams {
            call_id: call.as_str().to_owned(),
            agent_leg: channel.to_owned(),
            number: info.number.clone(),
            language: info.language.as_str().to_owned(),
            orders: rx,
        };
        if let Err(err) = launch(params) {
            warn!(call = %call.as_str(), %err, "call-back not started");
            return false;
        }
        let view = WaitingView {
            call: call.as_str().to_owned(),
            queue: queue.to_owned(),
            position: 0,
            caller: info.number.clone(),
            language: info.language.as_str().to_owned(),
            department: info.department.clone(),
            complaints: info.complaints.clone(),
            joined_at: self.clock.now(),
        };
        let entry = CallEntry {
            orders,
            view,
            path: Vec::new(),
            filed: Vec::new(),
            callback: true,
        };
        self.calls.insert(call.clone(), entry);
        true
    }

    fn agent_changed(&mut self, agent: &AgentId) {
        if let Some(agent) = self.acd.agent(agent.as_str()) {
            let _ = self.live.send(LiveEvent::Agent(AgentView::of(agent)));
        }
    }

    /// Sends a call its order; a call whose task is gone or stuck is let go.
    fn order(&mut self, call: &CallId, order: QueueOrder) {
        let Some(entry) = self.calls.get(call) else {
            debug!(call = %call.as_str(), ?order, "order for a call no longer here");
            return;
        };
        if let Err(err) = entry.orders.try_send(order) {
            warn!(call = %call.as_str(), %err, "call task not taking orders: letting the call go");
            self.calls.remove(call);
            let left = call.clone();
            self.feed(Input::Left { call: left });
        }
    }
}

fn view_queue(err: &acd::AcdError) -> String {
    match err {
        acd::AcdError::UnknownQueue(q) => q.clone(),
        _ => String::new(),
    }
}

fn ring_failure(failure: &RingFailure) -> acd::RingFailure {
    match failure {
        RingFailure::NoAnswer => acd::RingFailure::NoAnswer,
        RingFailure::Busy => acd::RingFailure::Busy,
        RingFailure::Unreachable => acd::RingFailure::Unreachable,
        RingFailure::Other(_) => acd::RingFailure::Other,
    }
}

/// The call centre's time: the wall clock at speed 1; with a simulator's speed factor, wall-clock
/// time from the start on, running that much faster.
#[derive(Debug, Clone, Copy)]
struct CentreClock {
    wall: chrono::DateTime<Utc>,
    origin: tokio::time::Instant,
    speed: f64,
}

impl CentreClock {
    fn start(speed: f64) -> Self {
        CentreClock {
            wall: Utc::now(),
            origin: tokio::time::Instant::now(),
            speed: if speed.is_finite() && speed > 1.0 {
                speed
            } else {
                1.0
            },
        }
    }

    fn now(&self) -> acd::Time {
        if self.speed == 1.0 {
            return Utc::now();
        }
        let elapsed = self.origin.elapsed().mul_f64(self.speed);
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }

    /// A wall-clock instant (a caller's join, as their call task saw it) on this clock: as long
    /// before now, scaled.
    fn of_wall(&self, at: chrono::DateTime<Utc>) -> acd::Time {
        if self.speed == 1.0 {
            return at;
        }
        let ago = (Utc::now() - at)
            .to_std()
            .unwrap_or_default()
            .mul_f64(self.speed);
        self.now() - chrono::Duration::from_std(ago).unwrap_or_default()
    }

    /// The real instant the ACD's `at` falls on.
    fn instant(&self, at: acd::Time) -> tokio::time::Instant {
        let ahead = (at - self.now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + ahead.div_f64(self.speed)
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
