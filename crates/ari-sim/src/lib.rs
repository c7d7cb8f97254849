//! A faithful fake Asterisk: an ARI server (REST under `/ari`, events on the WebSocket `/ari/events`) with
//! a model of channels, Local pairs, a dialplan, bridges (holding with music on hold, mixing), playbacks,
//! recordings, snoops and endpoints — PJSIP phones that answer, hang up, hold, are busy, unreachable or
//! silent, as the captured agent phones were —, plus simulated callers driven by [`Scenario`]s (an IVR's
//! caller, one waiting in a queue, taking the call-back offer, answering the call-back) and fault
//! injection. It is an independent implementation of the wire Asterisk 22 speaks, checked against
//! captured real-Asterisk traces (`tests/traces.rs`, the ACD flows included).
//!
//! In-process (tests): [`Simulator::start`] returns a [`SimHandle`] with the URLs, credentials and the
//! controls. Out of process (`helpline sim`, the load generator): [`serve`] runs until a token is
//! cancelled, and every control is also reachable over HTTP under `/sim/...` (see the crate README).

mod audio;
mod config;
mod error;
mod http;
mod media;
mod model;
mod scenario;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

pub use config::{
    DialplanApp, EndpointBehaviour, EndpointConfig, SimConfig, default_dialplan, default_endpoints,
};
pub use error::SimError;
pub use scenario::{
    CallOutcome, CallResult, CallbackAttempt, HeardMedia, HungUpBy, MAX_REPORTED_SILENCES,
    REPORTED_SILENCE_MS, SPOKEN_MS, Scenario, Silence, Step,
};

use model::{Command, Model};

/// A fault to inject (in process with [`SimHandle::inject`], or `POST /sim/faults` with this as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Close every ARI WebSocket now (apps may reconnect).
    DropWebsockets,
    /// Stop (or resume) reading and writing on the WebSockets: pings go unanswered, events are not sent.
    Silent { on: bool },
    /// Answer the next `count` ARI REST requests with 500 (`count: null`: every request until cleared).
    RestErrors { count: Option<u32> },
    /// Delay every ARI REST reply by this many real milliseconds (0 clears it).
    RestDelay { ms: u64 },
    /// Restart: every WebSocket closed, every channel, bridge, playback and live recording gone.
    Restart,
    /// Clear the REST and silence faults.
    Clear,
}

/// An INVITE a simulated phone received (`GET /sim/invites`, [`SimHandle::invites`]): what the far end
/// of an originate saw, e.g. the headers `PJSIP_HEADER(add,…)` variables put in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    /// The channel originated.
    pub channel_id: String,
    /// The endpoint it went to, `PJSIP/agent-101` or `PJSIP/telecom-trunk`.
    pub endpoint: String,
    /// The dial string after the technology: `agent-101`, `9816000001@telecom-trunk`.
    pub dialstring: String,
    /// The caller id it carried (`From`).
    pub caller_name: String,
    pub caller_number: String,
    /// Headers added with `PJSIP_HEADER(add,NAME)` originate variables, by name.
    pub headers: std::collections::BTreeMap<String, String>,
    /// When it was sent, simulated ms since the simulator (re)started.
    pub at_ms: u64,
}

/// Counters for `/sim/stats` and load runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    pub channels: u64,
    pub bridges: u64,
    pub playbacks: u64,
    pub live_recordings: u64,
    pub calls_active: u64,
    pub calls_placed: u64,
    pub calls_completed: u64,
    pub calls_failed: u64,
    pub websockets: u64,
    pub events_sent: u64,
    /// Events for an app with no (or a stuck) connection: lost, as in Asterisk.
    pub events_lost: u64,
    pub rest_requests: u64,
    pub restarts: u64,
    /// ARI WebSocket connections accepted since the simulator started (a reconnection counts again).
    #[serde(default)]
    pub websocket_connects: u64,
}

/// REST/WebSocket fault switches, read by the HTTP layer without a trip to the model.
#[derive(Debug)]
pub(crate) struct Faults {
    /// Remaining 500s; `u32::MAX` means "until cleared".
    pub rest_errors: AtomicU32,
    pub rest_delay_ms: AtomicU64,
    pub silent: watch::Sender<bool>,
}

/// The simulator, started in process.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `config.listen` (port 0 picks one), starts the model and the HTTP server, and returns a handle.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let shutdown = CancellationToken::new();
        let running = start_running(config, shutdown.clone()).await?;
        Ok(SimHandle {
            addr: running.addr,
            config: running.config.clone(),
            control: running.control.clone(),
            recordings_dir: running.recordings_dir.clone(),
            running: Some(running),
            shutdown,
        })
    }
}

/// Runs the simulator until `shutdown` is cancelled (for `helpline sim` and load runs in another process).
pub async fn serve(config: SimConfig, shutdown: CancellationToken) -> Result<(), SimError> {
    let running = start_running(config, shutdown.clone()).await?;
    tracing::info!(addr = %running.addr, "ARI simulator listening");
    shutdown.cancelled().await;
    running.finish().await
}

struct Running {
    addr: SocketAddr,
    recordings_dir: PathBuf,
    /// The recordings directory was made for this run under the temp dir: removed when it ends.
    temporary_recordings: bool,
    config: Arc<SimConfig>,
    control: Control,
    server: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    model: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    async fn finish(self) -> Result<(), SimError> {
        let _ = self.model.await;
        if self.temporary_recordings {
            let _ = std::fs::remove_dir_all(&self.recordings_dir);
        }
        match self.server.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(SimError::Serve(e)),
            Err(join) => Err(SimError::Serve(std::io::Error::other(join.to_string()))),
        }
    }
}

async fn start_running(
    config: SimConfig,
    shutdown: CancellationToken,
) -> Result<Running, SimError> {
    config.validate()?;
    let recordings_dir = match &config.recordings_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "ari-sim-recordings-{}-{}",
            std::process::id(),
            NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed)
        )),
    };
    std::fs::create_dir_all(&recordings_dir).map_err(|source| SimError::Directory {
        path: recordings_dir.clone(),
        source,
    })?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let config = Arc::new(config);
    let (commands, receiver) = mpsc::channel(4096);
    let recordings_dir_for_handle = recordings_dir.clone();
    let model = Model::new(config.clone(), recordings_dir);
    let model = tokio::spawn(model.run(receiver, shutdown.clone()));
    let (silent, _) = watch::channel(false);
    let faults = Arc::new(Faults {
        rest_errors: AtomicU32::new(0),
        rest_delay_ms: AtomicU64::new(0),
        silent,
    });
    let control = Control { commands, faults };
    let router = http::router(config.clone(), control.clone());
    let server_shutdown = shutdown.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { server_shutdown.cancelled().await })
            .await
    });
    Ok(Running {
        addr,
        recordings_dir: recordings_dir_for_handle,
        temporary_recordings: config.recordings_dir.is_none(),
        config,
        control,
        server,
        model,
    })
}

static NEXT_INSTANCE: AtomicU32 = AtomicU32::new(0);

/// The controls shared by the in-process handle and the `/sim` HTTP API.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    pub commands: mpsc::Sender<Command>,
    pub faults: Arc<Faults>,
}

impl Control {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SimError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| SimError::Stopped)?;
        rx.await.map_err(|_| SimError::Stopped)
    }

    pub async fn place_call(&self, scenario: Scenario) -> Result<u64, SimError> {
        scenario.validate()?;
        self.ask(|reply| Command::PlaceCall {
            scenario: Box::new(scenario),
            reply,
        })
        .await
    }

    pub async fn call_result(&self, call: u64, timeout: Duration) -> Result<CallResult, SimError> {
        let waiting = self.ask(|reply| Command::AwaitCall { call, reply });
        match tokio::time::timeout(timeout, waiting).await {
            Ok(result) => result?,
            Err(_) => Err(SimError::CallTimeout(call)),
        }
    }

    pub async fn results(&self, take: bool) -> Result<Vec<CallResult>, SimError> {
        self.ask(|reply| Command::CallResults { take, reply }).await
    }

    pub async fn stats(&self) -> Result<SimStats, SimError> {
        self.ask(|reply| Command::Stats { reply }).await
    }

    pub async fn set_endpoint(&self, endpoint: EndpointConfig) -> Result<(), SimError> {
        let problems = endpoint.problems();
        if !problems.is_empty() {
            return Err(SimError::Config(problems.join("; ")));
        }
        self.commands
            .send(Command::SetEndpoint {
                endpoint: Box::new(endpoint),
            })
            .await
            .map_err(|_| SimError::Stopped)
    }

    pub async fn remove_endpoint(
        &self,
        technology: &str,
        resource: &str,
    ) -> Result<bool, SimError> {
        self.ask(|reply| Command::RemoveEndpoint {
            technology: technology.to_owned(),
            resource: resource.to_owned(),
            reply,
        })
        .await
    }

    pub async fn endpoints(&self) -> Result<Vec<EndpointConfig>, SimError> {
        self.ask(|reply| Command::Endpoints { reply }).await
    }

    pub async fn invites(&self) -> Result<Vec<Invite>, SimError> {
        self.ask(|reply| Command::Invites { reply }).await
    }

    pub async fn inject(&self, fault: Fault) -> Result<(), SimError> {
        match fault {
            Fault::DropWebsockets => self
                .commands
                .send(Command::DropWebsockets)
                .await
                .map_err(|_| SimError::Stopped)?,
            Fault::Restart => self
                .commands
                .send(Command::Restart)
                .await
                .map_err(|_| SimError::Stopped)?,
            Fault::Silent { on } => {
                self.faults.silent.send_replace(on);
            }
            Fault::RestErrors { count } => {
                self.faults
                    .rest_errors
                    .store(count.unwrap_or(u32::MAX), Ordering::SeqCst);
            }
            Fault::RestDelay { ms } => self.faults.rest_delay_ms.store(ms, Ordering::SeqCst),
            Fault::Clear => {
                self.faults.rest_errors.store(0, Ordering::SeqCst);
                self.faults.rest_delay_ms.store(0, Ordering::SeqCst);
                self.faults.silent.send_replace(false);
            }
        }
        Ok(())
    }
}

/// A running in-process simulator. Dropping it without [`SimHandle::shutdown`] also stops it.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    config: Arc<SimConfig>,
    control: Control,
    recordings_dir: PathBuf,
    /// `None` once `shutdown` has taken the tasks to wait for them.
    running: Option<Running>,
    shutdown: CancellationToken,
}

impl SimHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/ari`.
    pub fn base_url(&self) -> String {
        format!("http://{}/ari", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ari/events` (add `?app=…&api_key=…`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ari/events", self.addr)
    }

    /// `http://127.0.0.1:PORT/sim`, the control API.
    pub fn control_url(&self) -> String {
        format!("http://{}/sim", self.addr)
    }

    /// The ARI user name.
    pub fn username(&self) -> &str {
        &self.config.username
    }

    /// The ARI password.
    pub fn password(&self) -> &str {
        &self.config.password
    }

    /// The speed factor the simulator runs at.
    pub fn speed(&self) -> f64 {
        self.config.speed
    }

    /// Where stored recordings are written.
    pub fn recordings_dir(&self) -> &std::path::Path {
        &self.recordings_dir
    }

    /// Places a simulated citizen's call; returns its id (the call runs on its own).
    pub async fn place_call(&self, scenario: Scenario) -> Result<u64, SimError> {
        self.control.place_call(scenario).await
    }

    /// Waits (at most `timeout`, real time) for a call to end and returns what happened on it.
    pub async fn call_result(&self, call: u64, timeout: Duration) -> Result<CallResult, SimError> {
        self.control.call_result(call, timeout).await
    }

    /// Results of every call that has ended, by call id.
    pub async fn results(&self) -> Result<Vec<CallResult>, SimError> {
        self.control.results(false).await
    }

    /// Results of the calls that ended since the last `take_results`, forgotten by the simulator once
    /// returned (for long load runs). A call whose result was taken can no longer be awaited.
    pub async fn take_results(&self) -> Result<Vec<CallResult>, SimError> {
        self.control.results(true).await
    }

    /// Injects a fault.
    pub async fn inject(&self, fault: Fault) -> Result<(), SimError> {
        self.control.inject(fault).await
    }

    /// Restarts the simulated Asterisk: every channel gone, every WebSocket closed.
    pub async fn restart(&self) -> Result<(), SimError> {
        self.inject(Fault::Restart).await
    }

    /// Counters.
    pub async fn stats(&self) -> Result<SimStats, SimError> {
        self.control.stats().await
    }

    /// Adds a simulated phone (an endpoint and what it does when called), or changes what the one with
    /// the same technology and resource does: calls originated from now on follow it.
    pub async fn set_endpoint(&self, endpoint: EndpointConfig) -> Result<(), SimError> {
        self.control.set_endpoint(endpoint).await
    }

    /// Removes an endpoint (originates to it fail from now on); `false` if there was none.
    pub async fn remove_endpoint(
        &self,
        technology: &str,
        resource: &str,
    ) -> Result<bool, SimError> {
        self.control.remove_endpoint(technology, resource).await
    }

    /// The endpoints the simulator knows now.
    pub async fn endpoints(&self) -> Result<Vec<EndpointConfig>, SimError> {
        self.control.endpoints().await
    }

    /// The latest INVITEs simulated phones received, oldest first.
    pub async fn invites(&self) -> Result<Vec<Invite>, SimError> {
        self.control.invites().await
    }

    /// Stops the server and the model and waits for them.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        self.shutdown.cancel();
        match self.running.take() {
            Some(running) => running.finish().await,
            None => Ok(()),
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if self
            .running
            .as_ref()
            .is_some_and(|r| r.temporary_recordings)
        {
            let _ = std::fs::remove_dir_all(&self.recordings_dir);
        }
    }
}
