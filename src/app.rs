//! Putting a helpline node together and running it: the ticket service on its database, the IVR script,
//! the ARI client + router + event connection, the call engine (with the importer of the dialplan fallback's
//! recordings), and the HTTP server — started in order by
//! [`Node::start`] and stopped in reverse by [`Node::shutdown`] (the engine first, so calls in progress finish
//! while ARI and the database are still there). `serve`, `demo` and the integration tests all run a `Node`;
//! [`simulator_config`] sets up the in-process fake Asterisk with the helpline's dialplan and prompts.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use utoipa_axum::router::OpenApiRouter;

use crate::config::{Config, IvrConfig, Secret};
use crate::engine::adapters::{AriControl, ServiceDesk};
use crate::engine::fallback::{FallbackImporter, ImportHandle, ImporterSettings};
use crate::engine::{Engine, EngineInput, EngineSettings, EngineStats, ScriptLoader, WallClock};
use crate::http;

/// A node could not be started.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The ticket database could not be opened or migrated.
    #[error("ticket database {url}: {source}")]
    Database {
        url: String,
        #[source]
        source: tickets::StoreError,
    },
    /// The ticket service could not start (journal, number blocks).
    #[error("ticket service: {0}")]
    Tickets(#[from] tickets::TicketError),
    /// The demo's account could not be made.
    #[error("accounts: {0}")]
    Accounts(#[from] tickets::accounts::AccountError),
    /// The IVR script is invalid or missing.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The ARI client could not be built (bad URL).
    #[error("ARI client: {0}")]
    Ari(#[from] ari::AriError),
    /// A folder could not be created or the HTTP port could not be bound.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The notifier could not be built (its HTTP client).
    #[error(transparent)]
    Notify(#[from] notify::worker::NotifyError),
    /// The simulator could not start.
    #[error("simulator: {0}")]
    Simulator(#[from] ari_sim::SimError),
    /// The demo's own set-up failed.
    #[error("demo: {0}")]
    Demo(String),
    /// The call centre's queues file is invalid.
    #[error("{path} has problems:\n{problems}")]
    Queues { path: String, problems: String },
}

/// Starts each call-back as a task of its own over `control`: the agent's leg gets a mailbox of its
/// own from `router` before anything is rung.
fn callback_launcher(
    control: AriControl,
    router: ari::Router,
    link: crate::engine::CallCentreLink,
) -> crate::centre::CallbackLauncher {
    Arc::new(move |params: crate::engine::callback::CallbackParams| {
        let mailbox = router
            .register_channel(&params.agent_leg)
            .map_err(|err| err.to_string())?;
        let (control, link) = (control.clone(), link.clone());
        tokio::spawn(async move {
            crate::engine::callback::run_callback(&control, &link, params, mailbox).await;
        });
        Ok(())
    })
}

/// The jobs on the outbound dialer: the confirmation calls, and the officers' reminder calls
/// when reminders are on.
pub type OutboundJobs = crate::engine::outbound::reminders::Both<
    crate::engine::outbound::confirmations::ConfirmationJobs,
    crate::engine::outbound::reminders::ReminderJobs,
>;

/// Loads and checks the outbound script `name` like any script.
fn outbound_script(config: &Config, key: &str, name: &str) -> Result<Arc<ivr::Script>, AppError> {
    let mut ivr_config = config.ivr.clone();
    ivr_config.script = name.to_owned();
    script_loader(&ivr_config)()
        .map_err(|e| AppError::Engine(crate::engine::EngineError::Script(format!("{key}: {e}"))))
}

/// The outbound dialer of confirmation calls and officers' reminders: their scripts loaded and
/// checked like any, their tries run on the same ARI client and router as the engine's calls.
#[allow(clippy::too_many_arguments)]
fn outbound_dialer(
    config: &Config,
    options: &NodeOptions,
    control: AriControl,
    tickets: tickets::TicketService,
    router: ari::Router,
    engine_stats: Arc<EngineStats>,
    log: Arc<dyn crate::engine::CallLog>,
    spool: &std::path::Path,
) -> Result<crate::engine::outbound::Outbound<AriControl, ServiceDesk, OutboundJobs>, AppError> {
    use crate::engine::outbound::reminders::{self, Both, ReminderJobs};
    use crate::engine::outbound::{Outbound, OutboundSettings, confirmations::ConfirmationJobs};
    let mut scripts = std::collections::BTreeMap::new();
    scripts.insert(
        config.outbound.script.clone(),
        outbound_script(config, "outbound.script", &config.outbound.script)?,
    );
    let mut dialer = config.outbound.dialer.clone();
    let reminder_jobs = if config.reminders.policy.enabled {
        scripts.insert(
            config.reminders.script.clone(),
            outbound_script(config, "reminders.script", &config.reminders.script)?,
        );
        dialer = dialer.with_retry_for(
            outbound::JobKind::new(reminders::KIND),
            config.reminders.retry.clone(),
        );
        Some(ReminderJobs::new(
            tickets.clone(),
            config.reminders.script.clone(),
        ))
    } else {
        None
    };
    let shared = Arc::new(crate::engine::CallShared {
        control,
        desk: ServiceDesk::new(tickets.clone()),
        stats: Arc::clone(&engine_stats),
        recordings_dir: spool.to_path_buf(),
        // Their own folder: an outbound call is never resumed as a citizen's call by a later engine
        // (the dialer tries it again instead).
        progress: crate::engine::progress::ProgressJournal::open(
            config.journal_dir.join("outbound-calls"),
        )
        .map_err(crate::engine::EngineError::from)?,
        log,
        node: node_name(),
        centre: crate::engine::CallCentreLink::none(),
    });
    let jobs = Both {
        first: ConfirmationJobs::new(
            tickets,
            config.outbound.script.clone(),
            config.records.time_zone,
            config.outbound.first_call_after,
        ),
        second: reminder_jobs,
    };
    let settings = OutboundSettings {
        dialer,
        dial: config.outbound.dial.clone(),
        caller_id: config.outbound.caller_id.clone(),
        ring: config.outbound.ring,
        poll: config.outbound.poll,
        scripts,
        asterisk: "asterisk".to_owned(),
        clock: options.clock.clone(),
        speed: options.speed,
    };
    Ok(Outbound::new(
        settings,
        shared,
        Arc::new(jobs),
        router,
        engine_stats,
    ))
}

/// Where the call centre's queues are declared, beside the IVR scripts.
pub fn queues_path(ivr: &crate::config::IvrConfig) -> std::path::PathBuf {
    ivr.scripts_dir.join("acd").join("queues.toml")
}

/// The call centre's queues: `None` when there is no queues file (the IVR's `agent` steps then go
/// to their `on_overflow`); an error, with every problem, when it is invalid.
pub fn load_queues(ivr: &crate::config::IvrConfig) -> Result<Option<acd::Queues>, AppError> {
    let path = queues_path(ivr);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_error(format!("reading {}", path.display()))(err)),
    };
    acd::check(&text, &path)
        .map(Some)
        .map_err(|problems| AppError::Queues {
            path: path.display().to_string(),
            problems: problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        })
}

/// Each queue's service-level target and short-abandon threshold, as the call records' reports
/// count them (the same the ACD's wallboard counts against).
pub fn report_targets(
    queues: Option<&acd::Queues>,
) -> std::collections::BTreeMap<String, records::report::QueueTarget> {
    queues
        .into_iter()
        .flat_map(acd::Queues::iter)
        .map(|q| {
            (
                q.name.clone(),
                records::report::QueueTarget {
                    service_level_seconds: q.service_level.within_secs,
                    short_abandon_seconds: q.service_level.short_abandon_secs,
                },
            )
        })
        .collect()
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> AppError {
    let what = what.into();
    move |source| AppError::Io { what, source }
}

/// Where a node finds ARI.
#[derive(Debug, Clone)]
pub struct AriEndpoint {
    /// ARI's base URL including `/ari`, e.g. `http://127.0.0.1:8088/ari`.
    pub base_url: String,
    /// The ARI user.
    pub username: String,
    /// The ARI password.
    pub password: Secret,
    /// Time allowed for one REST request.
    pub request_timeout: Duration,
    /// Time allowed for the WebSocket handshake.
    pub connect_timeout: Duration,
}

impl AriEndpoint {
    /// The Asterisk of the configuration (`ari.url` + `/ari`).
    pub fn from_config(ari: &crate::config::AriConfig) -> Self {
        AriEndpoint {
            base_url: format!("{}/ari", ari.url.as_str().trim_end_matches('/')),
            username: ari.username.clone(),
            password: ari.password.clone(),
            request_timeout: ari.request_timeout,
            connect_timeout: ari.connect_timeout,
        }
    }

    /// An in-process simulator.
    pub fn simulator(sim: &ari_sim::SimHandle) -> Self {
        AriEndpoint {
            base_url: sim.base_url(),
            username: sim.username().to_owned(),
            password: Secret::new(sim.password()),
            request_timeout: ari::DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The simulator as the helpline expects its Asterisk (`deploy/asterisk/extensions.conf`):
/// `from-citizens,1100` → `Stasis(app)`, an apology when the app is not connected, and the extension
/// `fallback` for calls the engine sends back; agents and the integrated helplines answering; our prompts
/// as its sounds.
pub fn simulator_config(app: &str, audio_dir: &Path, speed: f64) -> ari_sim::SimConfig {
    use ari_sim::DialplanApp;
    let mut config = ari_sim::SimConfig {
        speed,
        sounds_dirs: vec![audio_dir.to_owned()],
        default_language: "hi".to_owned(),
        ..ari_sim::SimConfig::default()
    };
    let answered = || {
        vec![
            DialplanApp::Ringing,
            DialplanApp::Wait { seconds: 1.0 },
            DialplanApp::Answer,
            DialplanApp::Wait { seconds: 30.0 },
            DialplanApp::Hangup,
        ]
    };
    // Like extensions.conf: after Stasis() (the app not connected) the caller hears an apology; the
    // extension `fallback` takes the calls the engine sends back (over capacity, shutting down).
    let apology = || {
        vec![
            DialplanApp::Answer,
            DialplanApp::Playback {
                sound: "helpline/service_unavailable".to_owned(),
            },
            DialplanApp::Hangup,
        ]
    };
    let mut main = vec![
        DialplanApp::NoOp {
            text: "Citizen ${CALLERID(num)} calls ${EXTEN}".to_owned(),
        },
        DialplanApp::Stasis {
            name: app.to_owned(),
            args: Vec::new(),
        },
    ];
    main.extend(apology());
    let citizens = config
        .dialplan
        .entry("from-citizens".to_owned())
        .or_default();
    citizens.insert("1100".to_owned(), main);
    citizens.insert(
        crate::engine::ports::FALLBACK_EXTENSION.to_owned(),
        apology(),
    );
    let agents = config.dialplan.entry("agents".to_owned()).or_default();
    agents.insert("queue".to_owned(), answered());
    let helplines = config
        .dialplan
        .entry("integrated-helplines".to_owned())
        .or_default();
    for extension in ["181", "1077", "hrtc", "gst", "nasha"] {
        helplines.insert(extension.to_owned(), answered());
    }
    config
}

/// The IVR's input validators (the complaint number's check digit comes from the ticket system).
pub fn validators() -> ivr::Validators {
    ivr::Validators::new().with("complaint_number", tickets::is_valid_complaint_number)
}

/// Loads the configured script from its folder, checking prompts against the audio folder; every problem
/// is reported. Used at start (an invalid script refuses the start) and on every reload.
pub fn script_loader(ivr_config: &IvrConfig) -> ScriptLoader {
    let scripts_dir = ivr_config.scripts_dir.clone();
    let audio_dir = ivr_config.audio_dir.clone();
    let name = ivr_config.script.clone();
    Arc::new(move || {
        if !scripts_dir.is_dir() {
            return Err(format!(
                "no IVR scripts folder {} here: run from the helpline folder, or set ivr.scripts_dir \
                 (HELPLINE_IVR_SCRIPTS_DIR) and ivr.audio_dir (HELPLINE_IVR_AUDIO_DIR)",
                scripts_dir.display()
            ));
        }
        let set = ivr::ScriptSet::load(&scripts_dir, &audio_dir, &validators())
            .map_err(|report| format!("{} has problems:\n{report}", scripts_dir.display()))?;
        set.get(&name).ok_or_else(|| {
            let known: Vec<&str> = set.names().collect();
            format!(
                "no script {name:?} in {} (found: {})",
                scripts_dir.display(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
    })
}

/// A SQLite URL that creates its file (and folder) when missing; other URLs unchanged.
pub fn prepare_database_url(url: &str) -> Result<String, AppError> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(url.to_owned());
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(io_error(format!(
            "creating database folder {}",
            parent.display()
        )))?;
    }
    if query.split('&').any(|kv| kv.starts_with("mode=")) {
        return Ok(url.to_owned());
    }
    let sep = if query.is_empty() { "?" } else { "&" };
    Ok(format!("{url}{sep}mode=rwc"))
}

/// Opens (and migrates) the ticket database.
pub async fn open_store(config: &Config) -> Result<tickets::Store, AppError> {
    let url = prepare_database_url(config.database.url.expose())?;
    let options = tickets::StoreOptions {
        max_connections: config.database.max_connections,
        ..tickets::StoreOptions::default()
    };
    // A node may start while the database is down: tickets then go to the journal.
    tickets::Store::connect_or_defer(&url, options)
        .await
        .map_err(|source| AppError::Database {
            url: config.database.url.redacted(),
            source,
        })
}

/// Opens the call records' store on the ticket database and starts their writer, journalling in
/// `<journal_dir>/records`, and their retention (`records.keep_days`). A database away at start delays the migration to the next start; records
/// are journalled meanwhile, never lost.
async fn open_call_records(
    config: &Config,
    stop: CancellationToken,
) -> Result<(records::RecordStore, records::Recorder, JoinHandle<()>), AppError> {
    let url = prepare_database_url(config.database.url.expose())?;
    let options = tickets::StoreOptions {
        max_connections: config.database.max_connections.clamp(1, 4),
        ..tickets::StoreOptions::default()
    };
    let records_error = |err: records::RecordsError| AppError::Io {
        what: format!("call records in {}", config.database.url.redacted()),
        source: std::io::Error::other(err.to_string()),
    };
    let store = records::RecordStore::open(&url, &options).map_err(records_error)?;
    if let Err(err) = store.migrate().await {
        warn!(%err, "call records not migrated (database away?): they are journalled until it is");
    }
    if let Some(keep) = config.records.keep {
        // Stopped with the node; a round cut short by the stop deletes in the next start's round.
        drop(records::retention::spawn(
            store.clone(),
            keep,
            records::retention::DEFAULT_EVERY,
            chrono::Utc::now,
            stop.clone(),
        ));
    }
    let writer = records::WriterConfig::new(config.journal_dir.join("records"));
    let (recorder, task) =
        records::Recorder::spawn(store.clone(), writer, stop).map_err(records_error)?;
    Ok((store, recorder, task))
}

/// This node's name in call records: the machine's host name.
fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "helpline".to_owned())
}

/// The folder in the journal folder where each call's progress is kept (`engine::progress`).
const PROGRESS_DIR: &str = "calls";

/// Opens the ticket service (store + journal + recordings folder).
pub async fn open_tickets(config: &Config) -> Result<tickets::TicketService, AppError> {
    let store = open_store(config).await?;
    let mut service_config =
        tickets::ServiceConfig::new(&config.journal_dir, &config.recordings_dir);
    service_config.feedback_check = config.feedback_check;
    service_config.retention = config.retention;
    service_config.reminders = config.reminders.policy;
    Ok(tickets::TicketService::new(store, service_config).await?)
}

/// A running helpline node.
pub struct Node {
    http_addr: SocketAddr,
    stats: Arc<EngineStats>,
    tickets: tickets::TicketService,
    router: ari::Router,
    ari_state: watch::Receiver<ari::ConnectionState>,
    /// Cancelled to shut the engine down gracefully (SIGTERM).
    engine_stop: CancellationToken,
    /// Cancelled after the engine is done: connection, bridge, HTTP, background jobs.
    infra_stop: CancellationToken,
    reload: mpsc::Sender<()>,
    engine_task: JoinHandle<()>,
    router_feed_task: JoinHandle<()>,
    http_task: JoinHandle<std::io::Result<()>>,
    background_task: JoinHandle<()>,
    /// The notifier (SMS, webhooks): drains its tries in flight when the infrastructure stops.
    notify_task: JoinHandle<()>,
    /// Files the dialplan fallback's recordings as tickets; stops with the engine (SIGTERM).
    fallback_task: JoinHandle<()>,
    /// The call records: their store, and the writer that batches them (stops after the engine).
    records: records::RecordStore,
    records_task: JoinHandle<()>,
    /// The call centre (stops after the engine: callers still queued hear from it to the end).
    centre_task: Option<JoinHandle<()>>,
    centre: Option<crate::centre::CentreHandle>,
    fallback: ImportHandle,
    connection: ari::Connection,
    /// The outbound dialer (confirmation calls), when `outbound.enabled`; stops with the engine.
    outbound_task: Option<JoinHandle<()>>,
    outbound_stats: Option<Arc<crate::engine::outbound::OutboundStats>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("http_addr", &self.http_addr)
            .finish_non_exhaustive()
    }
}

/// Asks a node's engine to reload its IVR script.
#[derive(Debug, Clone)]
pub struct ReloadHandle {
    tx: mpsc::Sender<()>,
}

impl ReloadHandle {
    /// Requests a reload; calls in progress keep the version they started with.
    pub fn reload_scripts(&self) {
        if self.tx.try_send(()).is_err() {
            debug!("a script reload is already pending");
        }
    }
}

/// How a node runs beyond its configuration.
#[derive(Clone)]
pub struct NodeOptions {
    /// The ARI to drive.
    pub ari: AriEndpoint,
    /// The wall clock for office hours.
    pub clock: WallClock,
    /// The IVR's timers run this much faster than real time: 1 for a real Asterisk, the simulator's
    /// speed factor for a simulator.
    pub speed: f64,
}

impl std::fmt::Debug for NodeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeOptions")
            .field("ari", &self.ari)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Starts every part of a node; fails (having started nothing that keeps running) on a bad script,
    /// database URL or port.
    pub async fn start(config: &Config, options: NodeOptions) -> Result<Node, AppError> {
        let loader = script_loader(&config.ivr);
        let tickets = open_tickets(config).await?;
        // The latency histograms, before the parts that observe them; registered below.
        let timings = crate::metrics::Timings::default();
        let spool = config.recordings_dir.join("incoming");
        std::fs::create_dir_all(&spool).map_err(io_error(format!(
            "creating recordings folder {}",
            spool.display()
        )))?;

        let client = ari::Client::new(ari::ClientConfig {
            base_url: options.ari.base_url.clone(),
            credentials: ari::Credentials::new(
                options.ari.username.clone(),
                options.ari.password.clone(),
            ),
            timeout: options.ari.request_timeout,
        })?
        .with_observer(timings.ari());
        let infra_stop = CancellationToken::new();
        let (records, recorder, records_task) =
            open_call_records(config, infra_stop.clone()).await?;
        let records_stats = recorder.stats();
        let queues = load_queues(&config.ivr)?;
        let targets = Arc::new(report_targets(queues.as_ref()));
        let (router, outputs) = ari::Router::new(ari::RouterConfig::default());
        let engine = Engine::new(
            AriControl::new(client.clone()).with_router(router.clone(), config.ari_app.clone()),
            ServiceDesk::new(tickets.clone()).with_filing_timer(timings.filing()),
            EngineSettings {
                max_concurrent_calls: config.limits.max_concurrent_calls,
                shutdown_grace: config.limits.shutdown_grace,
                recordings_dir: spool.clone(),
                // Beside the ticket journal: local, durable, this node's own.
                progress_dir: config.journal_dir.join(PROGRESS_DIR),
                node: node_name(),
                clock: options.clock.clone(),
                speed: options.speed,
            },
            loader,
        )?;
        let (centre, centre_parts) = match queues {
            Some(queues) => {
                let (link, requests) = crate::engine::CallCentreLink::new(1024);
                let (centre, handle, commands) = crate::centre::Centre::new(
                    crate::centre::CentreSettings {
                        queues: Arc::new(queues),
                        helpline: acd::Helpline::Grievance,
                        transfers: crate::centre::integrated_helplines(),
                        callback_dial: config.callback_dial.clone(),
                        speed: options.speed,
                        // Beside the calls' progress: local, this node's own.
                        state_file: Some(config.journal_dir.join("centre.json")),
                    },
                    Arc::new(recorder.clone()),
                );
                let centre =
                    centre
                        .with_engine_stats(engine.stats())
                        .with_callbacks(callback_launcher(
                            AriControl::new(client.clone())
                                .with_router(router.clone(), config.ari_app.clone()),
                            router.clone(),
                            link.clone(),
                        ));
                (link, Some((centre, handle, requests, commands)))
            }
            None => {
                warn!(
                    path = %queues_path(&config.ivr).display(),
                    "no queues file: callers asking for an agent go to their step's on_overflow"
                );
                (crate::engine::CallCentreLink::none(), None)
            }
        };
        let call_log: Arc<dyn crate::engine::CallLog> = Arc::new(recorder);
        let call_log_for_outbound = Arc::clone(&call_log);
        let spool_for_outbound = spool.clone();
        let engine = engine
            .with_call_log(Arc::clone(&call_log))
            .with_call_centre(centre);
        let stats = engine.stats();
        let importer = FallbackImporter::new(
            AriControl::new(client.clone()),
            ServiceDesk::new(tickets.clone()),
            Arc::clone(&stats),
            ImporterSettings {
                interval: config.fallback.import_every,
                spool_dir: spool,
                settle: crate::engine::fallback::DEFAULT_SETTLE,
                clock: options.clock.clone(),
                progress: Some(
                    crate::engine::progress::ProgressJournal::open(
                        config.journal_dir.join(PROGRESS_DIR),
                    )
                    .map_err(crate::engine::EngineError::from)?,
                ),
            },
        )
        .with_call_log(call_log, node_name());

        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .map_err(io_error(format!(
                "binding the HTTP port {}",
                config.http.listen
            )))?;
        let http_addr = listener
            .local_addr()
            .map_err(io_error("reading the HTTP address"))?;

        let engine_stop = CancellationToken::new();
        let outbound_control =
            AriControl::new(client.clone()).with_router(router.clone(), config.ari_app.clone());
        let mut connection_config = ari::ConnectionConfig::new(config.ari_app.clone());
        connection_config.connect_timeout = options.ari.connect_timeout;
        let connection = ari::Connection::spawn(
            client,
            router.clone(),
            connection_config,
            infra_stop.clone(),
        );
        let ari_state = connection.state();

        let (inputs_tx, inputs_rx) = mpsc::channel(1024);
        let router_feed_task = tokio::spawn(feed_router_to_engine(
            outputs,
            router.clone(),
            inputs_tx,
            infra_stop.clone(),
        ));
        let (reload, reload_rx) = mpsc::channel(4);
        let engine_task = tokio::spawn(engine.run(inputs_rx, reload_rx, engine_stop.clone()));
        let (fallback, fallback_task) = importer.spawn(ari_state.clone(), engine_stop.clone());
        let (outbound_task, outbound_stats) = if config.outbound.enabled {
            let dialer = outbound_dialer(
                config,
                &options,
                outbound_control,
                tickets.clone(),
                router.clone(),
                Arc::clone(&stats),
                Arc::clone(&call_log_for_outbound),
                &spool_for_outbound,
            )?;
            let outbound_stats = dialer.stats();
            let task = tokio::spawn(dialer.run(engine_stop.clone()));
            (Some(task), Some(outbound_stats))
        } else {
            (None, None)
        };

        // The outbox's deliveries, after the ticket store (stopped with the infrastructure, after
        // the engine: events of the calls' last changes are still planned and sent).
        let notifier = notify::Notifier::new(
            tickets.store().clone(),
            config.notify.clone(),
            tickets.clock().clone(),
            &node_name(),
        )?;
        let notify_stats = notifier.stats();
        let notify_task = tokio::spawn(notifier.run(infra_stop.clone()));
        let metrics = crate::metrics::Metrics::new(
            &timings,
            crate::metrics::Sources {
                engine: Arc::clone(&stats),
                router: router.clone(),
                connection: connection.stats_handle(),
                ari_state: ari_state.clone(),
                tickets: tickets.clone(),
                records: records_stats,
                centre: centre_parts
                    .as_ref()
                    .map(|(_, handle, _, _)| handle.gauges()),
                notify: notify_stats,
                outbound: outbound_stats.clone(),
            },
        );
        let observed = http::Observed {
            engine: Arc::clone(&stats),
            ari: ari_state.clone(),
            tickets: tickets.clone(),
            metrics: Arc::new(metrics),
        };
        let mut more = records::api::routes(records::api::RecordsApi {
            store: records.clone(),
            time_zone: config.records.time_zone,
            service_level_seconds: config.records.service_level_seconds,
            queues: targets,
        });
        let mut centre_handle = None;
        let centre_task = centre_parts.map(|(centre, handle, requests, commands)| {
            more = std::mem::replace(&mut more, OpenApiRouter::new()).merge(
                crate::centre::api::routes(handle.clone(), config.records.time_zone),
            );
            centre_handle = Some(handle);
            tokio::spawn(centre.run(requests, commands, infra_stop.clone()))
        });
        let api_state =
            tickets::api::ApiState::with_accounts(tickets.clone(), config.accounts.clone());
        let api = axum::Router::new()
            .nest(
                "/api/v1",
                tickets::api::router_with(api_state.clone(), more),
            )
            // The web pages, on the same accounts (their throttles too).
            .merge(crate::web::routes(api_state));
        let app = http::app(observed, api, &config.http);
        let http_stop = infra_stop.clone();
        let http_config = config.http.clone();
        let http_task =
            tokio::spawn(async move { http::serve(listener, app, &http_config, http_stop).await });
        let background_task = tickets.spawn_background(
            Duration::from_secs(300),
            Duration::from_secs(5),
            infra_stop.clone(),
        );
        info!(http = %http_addr, ari = %options.ari.base_url, app = %config.ari_app, "helpline node started");
        Ok(Node {
            http_addr,
            stats,
            tickets,
            router,
            ari_state,
            engine_stop,
            infra_stop,
            reload,
            engine_task,
            router_feed_task,
            http_task,
            background_task,
            notify_task,
            fallback_task,
            fallback,
            records,
            records_task,
            centre_task,
            centre: centre_handle,
            connection,
            outbound_task,
            outbound_stats,
        })
    }

    /// The outbound dialer's counters, when it runs.
    pub fn outbound_stats(&self) -> Option<Arc<crate::engine::outbound::OutboundStats>> {
        self.outbound_stats.clone()
    }

    /// The call centre, when the node runs one (a queues file exists).
    pub fn centre(&self) -> Option<&crate::centre::CentreHandle> {
        self.centre.as_ref()
    }

    /// Where the HTTP API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The engine's counters.
    pub fn stats(&self) -> Arc<EngineStats> {
        Arc::clone(&self.stats)
    }

    /// The call records' store.
    pub fn call_records(&self) -> &records::RecordStore {
        &self.records
    }

    /// The ticket service.
    pub fn tickets(&self) -> &tickets::TicketService {
        &self.tickets
    }

    /// The ARI router (for its counters).
    pub fn router(&self) -> &ari::Router {
        &self.router
    }

    /// Runs the dialplan fallback's recordings importer now (it also runs on every ARI connect and
    /// every `fallback.import_seconds`).
    pub fn fallback_importer(&self) -> ImportHandle {
        self.fallback.clone()
    }

    /// The ARI connection's state.
    pub fn ari_state(&self) -> watch::Receiver<ari::ConnectionState> {
        self.ari_state.clone()
    }

    /// Waits until the ARI event connection is up (at most `timeout`); false if it did not come up.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let mut state = self.ari_state.clone();
        tokio::time::timeout(timeout, state.wait_for(ari::ConnectionState::is_connected))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Asks the engine to reload the IVR script (SIGHUP); calls in progress keep their version.
    pub fn reload_scripts(&self) {
        self.reload_handle().reload_scripts();
    }

    /// A handle that asks for script reloads (for a signal handler).
    pub fn reload_handle(&self) -> ReloadHandle {
        ReloadHandle {
            tx: self.reload.clone(),
        }
    }

    /// The token that starts a graceful shutdown when cancelled (SIGTERM).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.engine_stop.clone()
    }

    /// Shuts down gracefully: no new calls (they go back to the dialplan), calls in progress finish within
    /// the grace period, then the ARI connection, the HTTP server and the background jobs stop.
    pub async fn shutdown(self) {
        self.engine_stop.cancel();
        self.wait().await;
    }

    /// Waits for the engine to stop (after [`Node::shutdown_token`] is cancelled), then stops the rest.
    pub async fn wait(self) {
        if let Err(err) = self.engine_task.await {
            warn!(%err, "the engine task ended abnormally");
        }
        if let Err(err) = self.fallback_task.await {
            warn!(%err, "the fallback importer ended abnormally");
        }
        if let Some(task) = self.outbound_task
            && let Err(err) = task.await
        {
            warn!(%err, "the outbound dialer ended abnormally");
        }
        self.infra_stop.cancel();
        self.connection.join().await;
        if let Err(err) = self.router_feed_task.await {
            warn!(%err, "the ARI bridge task ended abnormally");
        }
        match self.http_task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => warn!(%err, "the HTTP server failed"),
            Err(err) => warn!(%err, "the HTTP task ended abnormally"),
        }
        if let Err(err) = self.background_task.await {
            warn!(%err, "the ticket background task ended abnormally");
        }
        if let Err(err) = self.notify_task.await {
            warn!(%err, "the notifier ended abnormally");
        }
        if let Some(task) = self.centre_task
            && let Err(err) = task.await
        {
            warn!(%err, "the call centre ended abnormally");
        }
        // Stopped after the engine: every call's record has been handed over; what is queued is written.
        if let Err(err) = self.records_task.await {
            warn!(%err, "the call records writer ended abnormally");
        }
        let pending = self.tickets.journal_len().await;
        if pending > 0 {
            warn!(
                pending,
                "tickets remain in the journal; they are replayed at the next start"
            );
        }
        info!("helpline node stopped");
    }
}

/// Carries what the ARI router produces to the engine: new calls, reconciliations, failed calls.
async fn feed_router_to_engine(
    mut outputs: ari::RouterOutputs,
    router: ari::Router,
    inputs: mpsc::Sender<EngineInput<ari::Mailbox>>,
    stop: CancellationToken,
) {
    let mut calls_open = true;
    let mut control_open = true;
    while calls_open || control_open {
        // All three are cancel-safe: a token and two mpsc receivers.
        let input = tokio::select! {
            () = stop.cancelled() => break,
            call = outputs.new_calls.recv(), if calls_open => match call {
                Some(call) => EngineInput::NewCall {
                    channel_id: call.channel.id.clone(),
                    caller: call.channel.caller.number.clone(),
                    mailbox: call.mailbox,
                },
                None => {
                    calls_open = false;
                    continue;
                }
            },
            event = outputs.control.recv(), if control_open => match event {
                Some(event) => match control_input(event, &router) {
                    Some(input) => input,
                    None => continue,
                },
                None => {
                    control_open = false;
                    continue;
                }
            },
        };
        if inputs.send(input).await.is_err() {
            // The engine has stopped.
            break;
        }
    }
}

fn control_input(
    event: ari::ControlEvent,
    router: &ari::Router,
) -> Option<EngineInput<ari::Mailbox>> {
    match event {
        ari::ControlEvent::Connection(ari::ConnectionEvent::Reconciled(reconciliation)) => {
            let present = reconciliation
                .channels
                .iter()
                .map(|c| c.channel.id.clone())
                .collect();
            let unrouted = reconciliation
                .channels
                .iter()
                .filter(|c| !c.routed)
                .map(|c| c.channel.id.clone())
                .collect();
            // A call an engine that died left progress for is resumed on a mailbox made for its channel.
            let router = router.clone();
            let callers: std::collections::HashMap<String, String> = reconciliation
                .channels
                .iter()
                .map(|c| (c.channel.id.clone(), c.channel.caller.number.clone()))
                .collect();
            let adopt = crate::engine::Adopter::new(move |channel: &str| {
                let caller = callers.get(channel)?.clone();
                let mailbox = router.register_channel(channel).ok()?;
                Some(crate::engine::Adopted { mailbox, caller })
            });
            Some(EngineInput::Reconnected {
                generation: reconciliation.generation,
                present,
                unrouted,
                adopt: Some(adopt),
                stalled: reconciliation.after_stall,
            })
        }
        ari::ControlEvent::Connection(ari::ConnectionEvent::Up { generation }) => {
            info!(generation, "ARI events connected");
            None
        }
        ari::ControlEvent::Connection(ari::ConnectionEvent::Down { generation, reason }) => {
            warn!(generation, %reason, "ARI events disconnected; reconnecting");
            None
        }
        ari::ControlEvent::Connection(ari::ConnectionEvent::ReconciliationFailed {
            generation,
            error,
        }) => {
            warn!(generation, %error, "could not reconcile calls after connecting");
            None
        }
        ari::ControlEvent::MailboxOverflow { channel_id } => Some(EngineInput::Abandon {
            channel_id: channel_id.to_string(),
        }),
        ari::ControlEvent::CallRejected { channel_id } => Some(EngineInput::Abandon { channel_id }),
        ari::ControlEvent::Event(event) => {
            if matches!(event, ari::Event::ApplicationReplaced(_)) {
                warn!("another connection took over this ARI application");
            } else {
                debug!(event = event.event_type(), "ARI event not about a call");
            }
            None
        }
    }
}

/// The OpenAPI document of every route a node with a call centre serves under `/api/v1` (the
/// ticket API, the call records' and the call centre's): what `GET /api/v1/openapi.json` answers
/// there. A node without a call centre serves the same without the centre's routes.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    tickets::api::document(records::api::paths().merge(crate::centre::api::paths()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_whole_api_document_has_unique_operations_and_no_schema_shadowed() {
        let doc = super::openapi_document();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                assert!(
                    ids.insert(op.operation_id.clone()),
                    "{path}: operation id {:?} repeated",
                    op.operation_id
                );
            }
        }
        // utoipa keys schemas by name: a second type of the same name replaces the first (the
        // call centre's login body once replaced the accounts' one).
        let json = serde_json::to_value(&doc).unwrap();
        let schemas = &json["components"]["schemas"];
        assert!(schemas["LoginBody"]["properties"]["password"].is_object());
        assert!(schemas["CentreLogin"]["properties"]["phone"].is_object());
    }

    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_and_others_are_left_alone() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let url = format!("sqlite://{}/x/h.db", dir.display());
        assert_eq!(
            prepare_database_url(&url).unwrap(),
            format!("{url}?mode=rwc")
        );
        assert!(dir.join("x").is_dir());
        let with_query = format!("{url}?cache=shared");
        assert_eq!(
            prepare_database_url(&with_query).unwrap(),
            format!("{with_query}&mode=rwc")
        );
        let with_mode = format!("{url}?mode=ro");
        assert_eq!(prepare_database_url(&with_mode).unwrap(), with_mode);
        let pg = "postgres://u:p@db/helpline";
        assert_eq!(prepare_database_url(pg).unwrap(), pg);
    }

    #[test]
    fn the_simulator_dialplan_sends_1100_to_the_app_with_a_fallback() {
        let config = simulator_config("ivr-1100", Path::new("audio"), 50.0);
        let plan = &config.dialplan["from-citizens"]["1100"];
        assert!(
            matches!(&plan[1], ari_sim::DialplanApp::Stasis { name, .. } if name == "ivr-1100")
        );
        assert!(
            plan.iter()
                .any(|app| matches!(app, ari_sim::DialplanApp::Playback { .. }))
        );
        assert!(config.dialplan["from-citizens"].contains_key("fallback"));
        assert!(config.dialplan["agents"].contains_key("queue"));
        assert!(config.dialplan["integrated-helplines"].contains_key("181"));
    }
}
