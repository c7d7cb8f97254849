//! `helpline serve` (production: the configured Asterisk; `--sim` or no `ari.url`: the built-in simulator)
//! and `helpline sim` (the simulator alone). Signals: SIGTERM/Ctrl-C shut down gracefully, SIGHUP reloads
//! the IVR script.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use helpline::app::{self, AriEndpoint, Node, NodeOptions};
use helpline::config::Config;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// `helpline serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Use the built-in simulator instead of the configured Asterisk.
    #[arg(long)]
    pub sim: bool,
    /// The simulator's speed factor (with --sim).
    #[arg(long, default_value_t = 1.0)]
    pub sim_speed: f64,
}

/// `helpline sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// ARI user.
    #[arg(long, default_value = "asterisk")]
    pub username: String,
    /// ARI password.
    #[arg(
        long,
        env = "HELPLINE_SIM_PASSWORD",
        default_value = "asterisk",
        hide_env_values = true
    )]
    pub password: String,
}

/// Runs a node until SIGTERM/Ctrl-C, then shuts it down gracefully.
pub async fn serve(config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Listening from the start: a SIGHUP or SIGTERM while the node starts (or just after /health
    // first answers) waits for the handler below instead of killing the process outright.
    let signals = listen_for_signals();
    let use_sim = args.sim || config.ari.is_none();
    let mut sim = None;
    let (ari, speed) = match (&config.ari, use_sim) {
        (Some(ari), false) => (AriEndpoint::from_config(ari), 1.0),
        _ => {
            if !args.sim {
                warn!("no ari.url configured: running against the built-in simulator");
            }
            let speed = args.sim_speed.max(1.0);
            let handle = ari_sim::Simulator::start(app::simulator_config(
                &config.ari_app,
                &config.ivr.audio_dir,
                speed,
            ))
            .await
            .context("starting the simulator")?;
            info!(ari = %handle.base_url(), control = %handle.control_url(), "simulator running");
            let endpoint = AriEndpoint::simulator(&handle);
            sim = Some(handle);
            (endpoint, speed)
        }
    };
    info!("configuration:\n{}", config.summary());
    let node = Node::start(
        &config,
        NodeOptions {
            ari,
            clock: helpline::engine::system_clock(),
            speed,
        },
    )
    .await
    .context("starting the helpline")?;
    println!(
        "helpline serving: http://{}/health  http://{}/api/v1",
        node.http_addr(),
        node.http_addr()
    );
    let stop = node.shutdown_token();
    let signals = tokio::spawn(handle_signals(signals, stop.clone(), node_reloader(&node)));
    stop.cancelled().await;
    info!(
        grace_s = config.limits.shutdown_grace.as_secs(),
        "shutting down: new calls go back to the dialplan; calls in progress may finish"
    );
    node.wait().await;
    signals.abort();
    if let Some(sim) = sim {
        sim.shutdown().await.context("stopping the simulator")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A function that asks the node to reload its script (SIGHUP).
fn node_reloader(node: &Node) -> impl Fn() + Send + 'static {
    let node_reload = node.reload_handle();
    move || node_reload.reload_scripts()
}

/// SIGTERM and SIGHUP, listened for (`None`: they could not be, and only Ctrl-C stops the service).
#[cfg(unix)]
type Signals = Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>;
#[cfg(not(unix))]
type Signals = ();

/// Starts listening for SIGTERM and SIGHUP: from now on they are queued for [`handle_signals`].
fn listen_for_signals() -> Signals {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(term), Ok(hup)) => Some((term, hup)),
            _ => {
                warn!("cannot listen for SIGTERM/SIGHUP; Ctrl-C still stops the service");
                None
            }
        }
    }
}

/// SIGTERM or Ctrl-C cancels `stop`; SIGHUP calls `reload`.
async fn handle_signals(
    signals: Signals,
    stop: CancellationToken,
    reload: impl Fn() + Send + 'static,
) {
    #[cfg(unix)]
    {
        let Some((mut term, mut hup)) = signals else {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => { info!("SIGTERM"); stop.cancel(); }
                _ = tokio::signal::ctrl_c() => { info!("interrupted"); stop.cancel(); }
                _ = hup.recv() => { info!("SIGHUP: reloading the IVR script"); reload(); }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let () = signals;
        let _ = reload;
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    }
}

/// Runs the simulator until Ctrl-C/SIGTERM.
pub async fn sim(config: Config, args: SimArgs) -> anyhow::Result<ExitCode> {
    let mut sim_config = app::simulator_config(&config.ari_app, &config.ivr.audio_dir, args.speed);
    sim_config.listen = args.listen;
    sim_config.username = args.username.clone();
    sim_config.password = args.password.clone();
    let stop = CancellationToken::new();
    let signals = tokio::spawn(handle_signals(listen_for_signals(), stop.clone(), || {}));
    println!(
        "ARI simulator on http://{}/ari (user {}), control API http://{}/sim; Ctrl-C stops it",
        args.listen, args.username, args.listen
    );
    let served = ari_sim::serve(sim_config, stop).await;
    signals.abort();
    served.context("the simulator failed")?;
    // Let the last log lines out.
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(ExitCode::SUCCESS)
}
