//! `helpline bench load`: the engine under load. Starts the simulator in a child process, builds the real
//! engine in this process (ARI `Connection` + `Router` + `Client`, the call engine, `TicketService` on
//! SQLite in a temporary directory), has the child place calls following the 1100 complaint script at a
//! ramped, then steady, rate, samples this process's CPU and RSS against the number of calls in progress,
//! and reports (see [`LoadReport`]). The engine runs unchanged; only its ports and mailboxes are wrapped by
//! the latency probe.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::TimeZone as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::BenchError;
use super::probe::{Histogram, LatencyProbe, TimedControl, TimedDesk, TimedMailbox};
use super::procstat::{self, ProcSample};
use super::report::{CallRecordsFigures, Errors, LatencyMs, LoadReport, Machine};
use super::simproc::{ChildMessage, ReadbackMark, RunPlan, SimChildArgs, SimProcess};
use crate::engine::adapters::{AriControl, ServiceDesk};
use crate::engine::{Engine, EngineInput, EngineSettings, ScriptLoader, WallClock};

/// The call flow every simulated caller follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
pub enum Flow {
    /// The 1100 complaint path of `1100.toml` (language, menu, category, record, confirm, the number
    /// read back, "anything else?", goodbye).
    #[default]
    #[value(name = "1100")]
    #[serde(rename = "1100")]
    Helpline,
    /// `benchmark.toml`: the flow measured beside node-ari-client and asyncari on a real Asterisk
    /// (issue 16) — a prompt, one key, record until `#`, the number read back, hang up — with the
    /// durable ticket those do not file.
    #[value(name = "benchmark")]
    #[serde(rename = "benchmark")]
    Benchmark,
}

impl Flow {
    /// The script the engine runs (`<name>.toml` in the scripts directory).
    fn script(self) -> &'static str {
        match self {
            Flow::Helpline => "1100",
            Flow::Benchmark => "benchmark",
        }
    }

    /// What every simulated caller does, the media every call must have heard, and which key's
    /// answer is the number read back (the key, and the prompt that starts the read-back).
    fn scenario(
        self,
        speech: f64,
        barge_in: bool,
    ) -> (ari_sim::Scenario, Vec<String>, ReadbackMark) {
        match self {
            Flow::Helpline => {
                let (scenario, must_hear) = complaint_scenario(speech, barge_in);
                // "1" keeps the recording; the number follows once the ticket is durable.
                let mark = ReadbackMark {
                    key: '1',
                    media: "sound:helpline/complaint_registered".to_owned(),
                };
                (scenario, must_hear, mark)
            }
            Flow::Benchmark => {
                let (scenario, must_hear) = benchmark_scenario(speech, barge_in);
                let mark = ReadbackMark {
                    key: '#',
                    media: "sound:helpline/your_number_is".to_owned(),
                };
                (scenario, must_hear, mark)
            }
        }
    }
}

/// `helpline bench load` options. The defaults run a short load (a few hundred calls) in about a minute.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadOptions {
    /// The call flow: the 1100 complaint path, or the cross-engine benchmark's.
    #[arg(long, value_enum, default_value_t = Flow::Helpline)]
    pub flow: Flow,
    /// Calls to place in all.
    #[arg(long, default_value_t = 300)]
    pub calls: u64,
    /// New calls per second after the ramp.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Seconds over which the rate rises from 0 to --rate.
    #[arg(long, default_value_t = 5.0)]
    pub ramp: f64,
    /// Simulation speed factor: prompts and speech take 1/speed of their real time (the engine's own
    /// timers stay real, which only makes callers quicker to answer).
    #[arg(long, default_value_t = 4.0)]
    pub speed: f64,
    /// How long each caller speaks their complaint, simulated seconds (the main knob for holding time).
    #[arg(long, default_value_t = 8.0)]
    pub speech: f64,
    /// Callers press each menu key as soon as the menu starts (barge-in) instead of listening to it.
    #[arg(long)]
    pub barge_in: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Concurrency from which event→command latency is also reported separately.
    #[arg(long, default_value_t = 5000)]
    pub high_load_mark: u64,
    /// Concurrency marks between which the memory per call is taken (RSS slope).
    #[arg(long, default_value_t = 1000)]
    pub rss_low_mark: u64,
    #[arg(long, default_value_t = 5000)]
    pub rss_high_mark: u64,
    /// The engine's cap on concurrent calls.
    #[arg(long, default_value_t = 20_000)]
    pub max_calls: usize,
    /// Real seconds to wait for the last calls to end after the last was placed.
    #[arg(long, default_value_t = 180.0)]
    pub finish_timeout: f64,
    /// Directory of IVR scripts (uses `1100.toml`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/ivr-scripts"))]
    pub scripts: PathBuf,
    /// Prompt audio directory (`<dir>/<lang>/helpline/*.wav`), for both the engine's check and the simulator.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/audio"))]
    pub audio: PathBuf,
    /// Working directory for the database, journal and recordings (default: a fresh temporary directory,
    /// removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The executable to run the simulator with (default: this one).
    #[arg(long, hide = true)]
    pub sim_exe: Option<PathBuf>,
    /// Run the engine without call records (as a node always has them), to measure what writing
    /// them costs.
    #[arg(long)]
    pub no_call_records: bool,
}

impl LoadOptions {
    fn validate(&self) -> Result<(), BenchError> {
        let mut problems = number_problems(
            self.calls,
            &[("--rate", self.rate), ("--speed", self.speed)],
            &[
                ("--ramp", self.ramp),
                ("--speech", self.speech),
                ("--finish-timeout", self.finish_timeout),
            ],
        );
        if self.rss_high_mark <= self.rss_low_mark {
            problems.push("--rss-high-mark must be above --rss-low-mark".to_owned());
        }
        if self.max_calls == 0 {
            problems.push("--max-calls must be at least 1".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(BenchError::Options(problems.join("; ")))
        }
    }

    /// The command line that reproduces this run.
    fn command_line(&self) -> String {
        let mut cmd = format!(
            "helpline bench load --calls {} --rate {} --ramp {} --speed {} --speech {}",
            self.calls, self.rate, self.ramp, self.speed, self.speech
        );
        if self.flow == Flow::Benchmark {
            cmd.push_str(" --flow benchmark");
        }
        if self.barge_in {
            cmd.push_str(" --barge-in");
        }
        if self.no_call_records {
            cmd.push_str(" --no-call-records");
        }
        cmd
    }
}

/// What is wrong with a run's numbers: `calls` must be at least 1, `positive` above 0, `non_negative` 0 or
/// more (all finite).
pub(super) fn number_problems(
    calls: u64,
    positive: &[(&str, f64)],
    non_negative: &[(&str, f64)],
) -> Vec<String> {
    let mut problems = Vec::new();
    if calls == 0 {
        problems.push("--calls must be at least 1".to_owned());
    }
    for (name, v) in positive {
        if !(v.is_finite() && *v > 0.0) {
            problems.push(format!("{name} must be a positive number"));
        }
    }
    for (name, v) in non_negative {
        if !(v.is_finite() && *v >= 0.0) {
            problems.push(format!("{name} must be 0 or more"));
        }
    }
    problems
}

/// The steps the benchmark's callers are made of.
mod caller_steps {
    use ari_sim::Step;

    /// Simulated seconds; generous so that a slow moment is seen as latency, not as a failed call.
    pub const WAIT: f64 = 240.0;

    /// Wait for `helpline/<name>` to start.
    pub fn prompt(name: &str) -> Step {
        Step::WaitPrompt {
            sound: Some(format!("helpline/{name}")),
            timeout_seconds: WAIT,
        }
    }

    /// Listen to the prompt playing to its end.
    pub fn end() -> Step {
        Step::WaitPromptEnd {
            timeout_seconds: WAIT,
        }
    }

    /// Press `digits` as a person does.
    pub fn press(digits: &str) -> Step {
        Step::Press {
            digits: digits.to_owned(),
            gap_ms: 250,
            duration_ms: 120,
        }
    }
}

/// The benchmark flow's caller (`benchmark.toml`): hears the menu, presses 1, hears the recording
/// instructions, speaks, presses `#`, hears the number read back, and the IVR hangs up after goodbye.
pub fn benchmark_scenario(speech_seconds: f64, barge_in: bool) -> (ari_sim::Scenario, Vec<String>) {
    use ari_sim::Step;
    use caller_steps::{end, press, prompt};
    let mut steps = vec![prompt("main_menu")];
    if !barge_in {
        steps.push(end());
    }
    steps.extend([
        press("1"),
        prompt("record_instructions"),
        end(),
        Step::Speak {
            seconds: speech_seconds,
        },
        press("#"),
        prompt("your_number_is"),
        end(),
    ]);
    hindi_caller_hearing_goodbye(steps, "your_number_is")
}

/// What every simulated caller does: the 1100 complaint path in Hindi — language 1, complaint 1, category
/// 1 (water), speak, `#`, confirm 1, hear the complaint number, 2 (nothing else), hear goodbye, and the IVR
/// hangs up. Returns the scenario and the media every call must have heard.
pub fn complaint_scenario(speech_seconds: f64, barge_in: bool) -> (ari_sim::Scenario, Vec<String>) {
    use ari_sim::Step;
    use caller_steps::{end, press, prompt};
    let mut steps = vec![prompt("welcome"), end()];
    for (menu, key) in [
        ("choose_language", "1"),
        ("main_menu", "1"),
        ("category_menu", "1"),
    ] {
        steps.push(prompt(menu));
        if !barge_in {
            steps.push(end());
        }
        steps.push(press(key));
    }
    steps.extend([
        prompt("record_instructions"),
        end(),
        Step::Speak {
            seconds: speech_seconds,
        },
        press("#"),
        prompt("record_confirm"),
    ]);
    if !barge_in {
        steps.push(end());
    }
    steps.extend([
        press("1"),
        prompt("complaint_registered"),
        end(),
        prompt("anything_else"),
    ]);
    if !barge_in {
        steps.push(end());
    }
    steps.extend([press("2")]);
    hindi_caller_hearing_goodbye(steps, "complaint_registered")
}

/// A Hindi caller doing `steps`, then hearing goodbye and waiting for the IVR to hang up; they must
/// have heard `readback` (the number's first prompt) and goodbye to their end.
fn hindi_caller_hearing_goodbye(
    mut steps: Vec<ari_sim::Step>,
    readback: &str,
) -> (ari_sim::Scenario, Vec<String>) {
    use caller_steps::{WAIT, prompt};
    steps.extend([
        prompt("goodbye"),
        ari_sim::Step::WaitHangup {
            timeout_seconds: WAIT,
        },
    ]);
    let mut scenario = ari_sim::Scenario::new("9800000000");
    scenario.language = Some("hi".to_owned());
    scenario.steps = steps;
    let must_hear = vec![
        format!("sound:helpline/{readback}"),
        "sound:helpline/goodbye".to_owned(),
    ];
    (scenario, must_hear)
}

/// A clock fixed inside office hours (a working Monday, 11:00 IST), so every call takes the main menu.
fn office_hours_clock() -> WallClock {
    let ist = chrono::FixedOffset::east_opt(5 * 3600 + 1800).expect("+05:30 is a valid offset");
    let at = ist
        .with_ymd_and_hms(2026, 11, 30, 11, 0, 0)
        .single()
        .expect("2026-11-30 11:00 exists in IST");
    Arc::new(move || at)
}

/// Wake-up lateness of a task on the engine's runtime.
#[derive(Debug, Default)]
struct LagProbe {
    all: Histogram,
    at_high_load: Histogram,
    high_load: std::sync::atomic::AtomicBool,
}

/// Sleeps 5 ms at a time and records how late each wake-up is.
async fn measure_lag(lag: Arc<LagProbe>) {
    const PERIOD: Duration = Duration::from_millis(5);
    loop {
        let due = tokio::time::Instant::now() + PERIOD;
        tokio::time::sleep_until(due).await;
        let late = tokio::time::Instant::now().saturating_duration_since(due);
        lag.all.record(late);
        if lag.high_load.load(Ordering::Relaxed) {
            lag.at_high_load.record(late);
        }
    }
}

/// Router-side trouble counted by the glue between the router and the engine.
#[derive(Debug, Default)]
struct GlueCounters {
    overflows: AtomicU64,
    rejected: AtomicU64,
    disconnects: AtomicU64,
}

/// A temporary working directory removed on drop (unless the user chose it).
pub(super) struct WorkDir {
    pub(super) path: PathBuf,
    remove: bool,
}

impl WorkDir {
    /// The folder the user chose (kept), or a fresh one under the temp dir named `<prefix>-<pid>` (removed).
    pub(super) fn new(chosen: Option<&Path>, prefix: &str) -> WorkDir {
        match chosen {
            Some(dir) => WorkDir {
                path: dir.to_owned(),
                remove: false,
            },
            None => WorkDir {
                path: std::env::temp_dir().join(format!("{prefix}-{}", std::process::id())),
                remove: true,
            },
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

pub(super) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let what = what.into();
    move |source| BenchError::Io { what, source }
}

fn latency(h: &Histogram) -> LatencyMs {
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
    LatencyMs {
        samples: h.count(),
        p50: ms(h.quantile(0.5)),
        p95: ms(h.quantile(0.95)),
        p99: ms(h.quantile(0.99)),
        p999: ms(h.quantile(0.999)),
        max: ms(h.max()),
    }
}

fn script_loader(scripts: PathBuf, audio: PathBuf, name: &'static str) -> ScriptLoader {
    Arc::new(move || {
        let validators =
            ivr::Validators::new().with("complaint_number", tickets::is_valid_complaint_number);
        let set = ivr::ScriptSet::load(&scripts, &audio, &validators).map_err(|r| r.to_string())?;
        set.get(name)
            .ok_or_else(|| format!("no {name}.toml in {}", scripts.display()))
    })
}

/// Runs one load test and reports.
pub async fn run_load(options: &LoadOptions) -> Result<LoadReport, BenchError> {
    options.validate()?;
    let work = WorkDir::new(options.work_dir.as_deref(), "helpline-bench-load");
    for sub in [
        "sim-recordings",
        "spool",
        "tickets/journal",
        "tickets/recordings",
    ] {
        std::fs::create_dir_all(work.path.join(sub)).map_err(io_err(format!(
            "cannot create {}",
            work.path.join(sub).display()
        )))?;
    }

    // The simulator, in its own process.
    let exe = match &options.sim_exe {
        Some(exe) => exe.clone(),
        None => std::env::current_exe().map_err(io_err("cannot find this executable"))?,
    };
    let child_args = SimChildArgs {
        speed: options.speed,
        sounds: options.audio.clone(),
        recordings: work.path.join("sim-recordings"),
        helpline_dialplan: false,
    };
    let mut sim = SimProcess::spawn(&exe, &child_args, Duration::from_secs(30)).await?;

    let result = drive(options, &work.path, &mut sim).await;
    sim.stop(Duration::from_secs(10)).await;
    result
}

async fn drive(
    options: &LoadOptions,
    work: &Path,
    sim: &mut SimProcess,
) -> Result<LoadReport, BenchError> {
    // The engine, in this process, exactly as `serve` assembles it, with the probe around its ports.
    let probe = Arc::new(LatencyProbe::default());
    let client = ari::Client::new(ari::ClientConfig::new(
        sim.base_url.clone(),
        ari::Credentials::new(sim.username.clone(), sim.password.clone()),
    ))
    .map_err(|e| BenchError::Setup(e.to_string()))?;
    let db = work.join("tickets/tickets.db");
    let store = tickets::Store::connect(&format!("sqlite://{}?mode=rwc", db.display()))
        .await
        .map_err(|e| BenchError::Setup(format!("ticket store: {e}")))?;
    let service = tickets::TicketService::new(
        store,
        tickets::ServiceConfig::new(
            work.join("tickets/journal"),
            work.join("tickets/recordings"),
        ),
    )
    .await
    .map_err(|e| BenchError::Setup(format!("ticket service: {e}")))?;
    let control = TimedControl::new(AriControl::new(client.clone()), Arc::clone(&probe));
    let desk = TimedDesk::new(ServiceDesk::new(service), Arc::clone(&probe));
    let settings = EngineSettings {
        max_concurrent_calls: options.max_calls,
        shutdown_grace: Duration::from_secs(30),
        recordings_dir: work.join("spool"),
        progress_dir: work.join("calls"),
        node: "bench".to_owned(),
        clock: office_hours_clock(),
        speed: 1.0,
    };
    let engine = Engine::new(
        control,
        desk,
        settings,
        script_loader(
            options.scripts.clone(),
            options.audio.clone(),
            options.flow.script(),
        ),
    )
    .map_err(|e| BenchError::Setup(e.to_string()))?;
    // The call records, as a node writes them: to the ticket database, journalled in the work dir.
    let records_stop = CancellationToken::new();
    let (engine, records) = if options.no_call_records {
        (engine, None)
    } else {
        let (recorder, task) = call_records(&db, work, records_stop.clone()).await?;
        let stats = recorder.stats();
        (
            engine.with_call_log(Arc::new(recorder)),
            Some((stats, task)),
        )
    };
    let stats = engine.stats();

    let cancel = CancellationToken::new();
    let (router, mut outputs) = ari::Router::new(ari::RouterConfig::default());
    let connection = ari::Connection::spawn(
        client,
        router,
        ari::ConnectionConfig::new("ivr-1100"),
        cancel.clone(),
    );
    let connection_stats = connection.stats_handle();
    let (inputs, engine_inputs) = mpsc::channel(1024);
    let (_reload, reload_rx) = mpsc::channel(1);
    let engine_stop = CancellationToken::new();
    let engine_task = tokio::spawn(engine.run(engine_inputs, reload_rx, engine_stop.clone()));

    // The glue `serve` has between the router and the engine: new calls with their (timed) mailbox, and
    // the router's control news, counted.
    let glue = Arc::new(GlueCounters::default());
    let glue_task = {
        let glue = Arc::clone(&glue);
        let probe = Arc::clone(&probe);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    call = outputs.new_calls.recv() => {
                        let Some(call) = call else { break };
                        let input = EngineInput::NewCall {
                            channel_id: call.channel.id.clone(),
                            caller: call.channel.caller.number.clone(),
                            mailbox: TimedMailbox::new(call.mailbox, Arc::clone(&probe)),
                        };
                        if inputs.send(input).await.is_err() {
                            break;
                        }
                    }
                    event = outputs.control.recv() => match event {
                        None => break,
                        Some(ari::ControlEvent::MailboxOverflow { .. }) => {
                            glue.overflows.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(ari::ControlEvent::CallRejected { .. }) => {
                            glue.rejected.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(ari::ControlEvent::Connection(ari::ConnectionEvent::Down { .. })) => {
                            glue.disconnects.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(ari::ControlEvent::Connection(ari::ConnectionEvent::Reconciled(r))) if r.generation > 1 => {
                            let present = r.channels.iter().map(|c| c.channel.id.clone()).collect();
                            let unrouted = r.channels.iter().filter(|c| !c.routed).map(|c| c.channel.id.clone()).collect();
                            let generation = r.generation;
                            if inputs.send(EngineInput::Reconnected { generation, present, unrouted, adopt: None, stalled: r.after_stall }).await.is_err() {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
        })
    };

    // Wait for the WebSocket.
    let mut state = connection.state();
    let connected = tokio::time::timeout(Duration::from_secs(15), async {
        while !state.borrow_and_update().is_connected() {
            if state.changed().await.is_err() {
                return false;
            }
        }
        true
    })
    .await;
    if !matches!(connected, Ok(true)) {
        cancel.cancel();
        engine_stop.cancel();
        return Err(BenchError::Setup(
            "the engine did not connect to the simulator's ARI WebSocket".to_owned(),
        ));
    }

    let (scenario, must_hear, readback) = options.flow.scenario(options.speech, options.barge_in);
    let plan = RunPlan {
        readback: Some(readback),
        calls: options.calls,
        rate: options.rate,
        ramp_seconds: options.ramp,
        scenario,
        must_hear,
        finish_timeout_seconds: options.finish_timeout,
        return_results: false,
    };
    // How late a woken task runs: a timer task on the engine's runtime measures how long after its
    // deadline it gets to run. An event waiting in a call's mailbox waits about this long for its task
    // (the probe's event→command interval starts when the task takes the event).
    // First two seconds with no call at all: the wake-up lag the machine itself causes (other processes
    // competing for the cores), to read the loaded figure against.
    let idle_lag = Arc::new(LagProbe::default());
    let idle_task = tokio::spawn(measure_lag(Arc::clone(&idle_lag)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    idle_task.abort();
    let lag = Arc::new(LagProbe::default());
    let lag_task = tokio::spawn(measure_lag(Arc::clone(&lag)));
    let sample = || procstat::sample().map_err(|e| BenchError::Setup(e.to_string()));
    let start_sample = sample()?;
    let started = Instant::now();
    sim.run(&plan).await?;

    // Sample while the child places calls and they run.
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut peak = 0u64;
    let mut peak_fds = 0usize;
    let mut rss_peak = start_sample.rss_bytes;
    let mut low_mark: Option<(u64, u64)> = None;
    let mut high_mark: Option<(u64, u64)> = None;
    let mut steady_start: Option<(Instant, u64)> = None;
    let mut steady_end: Option<(Instant, u64)> = None;
    let mut placing_seconds = 0.0;
    let ramp_end = started + Duration::from_secs_f64(options.ramp);
    // A progress line on stderr now and then, so a long run is seen to be alive.
    const PROGRESS_EVERY: Duration = Duration::from_secs(5);
    let mut last_progress = Instant::now();
    let summary = loop {
        tokio::select! {
            message = sim.next_message() => match message? {
                ChildMessage::PlacingDone { seconds, .. } => {
                    placing_seconds = seconds;
                    steady_end = Some((Instant::now(), stats.snapshot().calls_offered));
                }
                ChildMessage::Done(summary) => break *summary,
                ChildMessage::Failed { error } => {
                    cancel.cancel();
                    engine_stop.cancel();
                    return Err(BenchError::Sim(error));
                }
                ChildMessage::Ready { .. } | ChildMessage::Injected { .. } | ChildMessage::Stats(_) => {
                    return Err(BenchError::Protocol("an unexpected message".to_owned()));
                }
            },
            _ = tick.tick() => {
                let snap = stats.snapshot();
                let now_sample: ProcSample = sample()?;
                let in_progress = snap.calls_in_progress;
                peak_fds = peak_fds.max(procstat::open_fds().unwrap_or(0));
                peak = peak.max(in_progress);
                rss_peak = rss_peak.max(now_sample.rss_bytes);
                probe.set_high_load(in_progress >= options.high_load_mark);
                lag.high_load.store(in_progress >= options.high_load_mark, Ordering::Relaxed);
                // The first sample at or past each mark (the ramp is monotonic up to the peak).
                if low_mark.is_none() && in_progress >= options.rss_low_mark {
                    low_mark = Some((in_progress, now_sample.rss_bytes));
                }
                if high_mark.is_none() && in_progress >= options.rss_high_mark {
                    high_mark = Some((in_progress, now_sample.rss_bytes));
                }
                if last_progress.elapsed() >= PROGRESS_EVERY {
                    last_progress = Instant::now();
                    eprintln!(
                        "bench load: {:>6.1} s  offered {:>6}  in progress {:>6}  completed {:>6}  RSS {:>6.1} MiB",
                        started.elapsed().as_secs_f64(),
                        snap.calls_offered,
                        in_progress,
                        snap.calls_completed,
                        now_sample.rss_bytes as f64 / (1024.0 * 1024.0)
                    );
                }
                if steady_start.is_none() && Instant::now() >= ramp_end {
                    steady_start = Some((Instant::now(), snap.calls_offered));
                }
            }
        }
    };
    let run_seconds = started.elapsed().as_secs_f64();
    let end_sample = sample()?;
    probe.set_high_load(false);
    lag_task.abort();

    // Stop the engine and the connection.
    engine_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(40), engine_task).await;
    cancel.cancel();
    connection.join().await;
    glue_task.abort();
    // Every call's record written before the figures are read.
    records_stop.cancel();
    let call_records = match records {
        Some((stats, task)) => {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
            let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
            Some(CallRecordsFigures {
                handed: n(&stats.calls),
                stored: n(&stats.stored),
                lost: n(&stats.lost),
                journalled_directly: n(&stats.overflowed),
            })
        }
        None => None,
    };

    let snap = stats.snapshot();
    let conn = connection_stats.snapshot();
    let new_calls_per_sec = match (steady_start, steady_end) {
        (Some((t0, n0)), Some((t1, n1))) if t1 > t0 + Duration::from_millis(500) => {
            n1.saturating_sub(n0) as f64 / (t1 - t0).as_secs_f64()
        }
        // No steady window (the run was all ramp): the average over the placing time.
        _ if placing_seconds > 0.0 => snap.calls_offered as f64 / placing_seconds,
        _ => 0.0,
    };
    let cpu = end_sample
        .cpu
        .saturating_sub(start_sample.cpu)
        .as_secs_f64();
    let cpu_system = end_sample
        .system
        .saturating_sub(start_sample.system)
        .as_secs_f64();
    let readback: Vec<f64> = summary
        .readback_ms
        .iter()
        .map(|&ms| ms as f64 / options.speed)
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let rss_bytes_per_call = match (low_mark, high_mark) {
        (Some((c0, r0)), Some((c1, r1))) if c1 > c0 => {
            Some((r1 as f64 - r0 as f64) / (c1 - c0) as f64)
        }
        _ => None,
    };
    let errors = Errors {
        ari_request_errors: snap.ari_errors,
        ticket_failures: snap.ticket_failures,
        calls_over_capacity: snap.calls_over_capacity,
        mailbox_overflows: glue.overflows.load(Ordering::Relaxed),
        calls_rejected_by_router: glue.rejected.load(Ordering::Relaxed),
        websocket_disconnects: glue.disconnects.load(Ordering::Relaxed),
        malformed_frames: conn.malformed,
        calls_not_as_scripted: summary.not_as_scripted,
        timeouts: summary.unfinished,
        place_errors: summary.place_errors,
    };
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    Ok(LoadReport {
        command: options.command_line(),
        flow: options.flow,
        key_to_readback: LatencyMs::from_sorted(&readback),
        machine: Machine::here(),
        calls_planned: options.calls,
        rate_planned: options.rate,
        speed: options.speed,
        run_seconds,
        placing_seconds,
        new_calls_per_sec,
        events_per_sec: snap.events as f64 / run_seconds.max(1e-9),
        events: snap.events,
        peak_concurrent_calls: peak,
        event_to_command: latency(&probe.direct),
        event_to_command_at_high_load: latency(&probe.direct_high_load),
        high_load_mark: options.high_load_mark,
        event_to_command_via_ticket_store: latency(&probe.via_desk),
        arrival_to_command: latency(&probe.from_arrival),
        arrival_to_command_at_high_load: latency(&probe.from_arrival_high_load),
        events_found_queued: probe.arrived_queued.load(Ordering::Relaxed),
        scheduling_lag_idle: latency(&idle_lag.all),
        scheduling_lag: latency(&lag.all),
        scheduling_lag_at_high_load: latency(&lag.at_high_load),
        cpu_ms_per_call: (snap.calls_completed > 0)
            .then(|| cpu * 1000.0 / snap.calls_completed as f64),
        cpu_system_ms_per_call: (snap.calls_completed > 0)
            .then(|| cpu_system * 1000.0 / snap.calls_completed as f64),
        cpu_system_share: if cpu > 0.0 { cpu_system / cpu } else { 0.0 },
        cpu_seconds: cpu,
        cpu_share_of_machine: cpu / (run_seconds.max(1e-9) * cores),
        rss_start_mib: mib(start_sample.rss_bytes),
        rss_peak_mib: mib(rss_peak),
        rss_low_mark: low_mark,
        rss_high_mark: high_mark,
        rss_bytes_per_call,
        peak_open_fds: peak_fds,
        probe_stamps_left: probe.pending(),
        tickets_created: snap.tickets_created,
        tickets_per_sec: snap.tickets_created as f64 / placing_seconds.max(1e-9),
        engine_calls_completed: snap.calls_completed,
        engine_calls_other_outcome: snap.calls_ended() - snap.calls_completed,
        errors,
        calls: summary,
        call_records,
    })
}

/// The call records' store on the run's ticket database, migrated, and its writer.
async fn call_records(
    db: &Path,
    work: &Path,
    stop: CancellationToken,
) -> Result<(records::Recorder, tokio::task::JoinHandle<()>), BenchError> {
    let setup = |e: records::RecordsError| BenchError::Setup(format!("call records: {e}"));
    let store = records::RecordStore::open(
        &format!("sqlite://{}?mode=rwc", db.display()),
        &tickets::StoreOptions::default(),
    )
    .map_err(setup)?;
    store.migrate().await.map_err(setup)?;
    records::Recorder::spawn(
        store,
        records::WriterConfig::new(work.join("records")),
        stop,
    )
    .map_err(setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_scenarios_are_valid_and_end_waiting_for_the_ivr() {
        for (flow, barge_in) in [
            (Flow::Helpline, false),
            (Flow::Helpline, true),
            (Flow::Benchmark, false),
            (Flow::Benchmark, true),
        ] {
            let (scenario, must_hear, readback) = flow.scenario(5.0, barge_in);
            scenario.validate().unwrap();
            assert!(must_hear.contains(&readback.media), "{flow:?}");
            assert!(matches!(
                scenario.steps.last(),
                Some(ari_sim::Step::WaitHangup { .. })
            ));
            assert_eq!(must_hear.len(), 2);
        }
    }

    #[test]
    fn the_clock_is_in_office_hours_of_the_shipped_script() {
        let script = script_loader(
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ivr-scripts")),
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/audio")),
            "1100",
        )()
        .unwrap();
        let now = office_hours_clock()();
        let hours = script.office_hours.as_ref().unwrap();
        assert!(hours.is_open(now.date_naive(), now.time()));
    }

    #[test]
    fn bad_options_are_all_reported() {
        let mut o = LoadOptions {
            flow: Flow::Helpline,
            calls: 0,
            rate: -1.0,
            ramp: 1.0,
            speed: 1.0,
            speech: 1.0,
            barge_in: false,
            json: None,
            high_load_mark: 1,
            rss_low_mark: 10,
            rss_high_mark: 5,
            max_calls: 1,
            finish_timeout: 1.0,
            scripts: PathBuf::new(),
            audio: PathBuf::new(),
            work_dir: None,
            sim_exe: None,
            no_call_records: false,
        };
        let err = o.validate().unwrap_err().to_string();
        assert!(
            err.contains("--calls") && err.contains("--rate") && err.contains("--rss-high-mark"),
            "{err}"
        );
        o.calls = 1;
        o.rate = 1.0;
        o.rss_high_mark = 20;
        o.validate().unwrap();
    }
}
