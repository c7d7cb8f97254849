//! `helpline bench faults` (issue 9, "nothing lost when the engine dies"): the simulator in one child
//! process ([`super::simproc`], with the dialplan helpline expects of Asterisk), the engine in another
//! (`helpline serve --config <generated file>`: SQLite — or PostgreSQL, `faultdb` —, journal and
//! recordings in a temporary folder), N complaint calls on the 1100 path, and one kind of fault injected at
//! seeded random moments while they run: the engine killed (`kill9`, restarted within `--restart-within`)
//! or stopped (`sigterm`, restarted when it has exited), the WebSocket dropped or silent, REST answering 500
//! or slowly, the simulator restarting, the ticket database locked by another connection, its disk full, or
//! PostgreSQL stopped, the recordings disk full. At the end the harness reads the ticket database and the
//! simulator's account of every call ([`ari_sim::CallResult`]: the recordings the caller spoke into, the
//! dead air they sat through) and reports, per run: complaints spoken, tickets, complaints lost, doubled,
//! tickets without their recording, the longest dead air outside the fault windows, calls turned away.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::BenchError;
use super::engineproc::{ENGINE_START, EngineProcess, EngineSpec, engine_config};
use super::faultdb::TicketDb;
use super::load::{WorkDir, complaint_scenario, io_err, number_problems};
use super::report::Machine;
use super::simproc::{
    CallsSummary, ChildMessage, ParentCommand, RunPlan, SimChildArgs, SimProcess,
};

/// Which fault a run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL the engine; start it again within --restart-within.
    Kill9,
    /// SIGTERM the engine (it drains its calls); start it again within --restart-within of its exit.
    Sigterm,
    /// The simulator closes every ARI WebSocket.
    WsDrop,
    /// The simulator's WebSockets go silent (no events, no pongs) for --fault-seconds.
    WsSilence,
    /// Every ARI REST request answered 500 for --fault-seconds.
    #[value(name = "rest-500")]
    #[serde(rename = "rest-500")]
    Rest500,
    /// Every ARI REST reply delayed by --slow-ms for --fault-seconds.
    RestSlow,
    /// The simulator restarts: every channel and WebSocket gone.
    SimRestart,
    /// Another connection holds an exclusive lock on the SQLite ticket database for --fault-seconds.
    DbLocked,
    /// helpline's recordings folder (its copies and spool) is on a small tmpfs filled up for
    /// --fault-seconds (needs root, to mount it).
    RecordingsFull,
    /// The SQLite ticket database's folder is on a small tmpfs filled up for --fault-seconds; the
    /// journal is on another disk (needs root, to mount it).
    SqliteFull,
    /// The engine runs on PostgreSQL (--postgres-url, a fresh database per run), which "stops" for
    /// --fault-seconds: a proxy between them resets every connection and refuses new ones.
    PgStopped,
}

impl FaultKind {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill9 => "kill9",
            FaultKind::Sigterm => "sigterm",
            FaultKind::WsDrop => "ws-drop",
            FaultKind::WsSilence => "ws-silence",
            FaultKind::Rest500 => "rest-500",
            FaultKind::RestSlow => "rest-slow",
            FaultKind::SimRestart => "sim-restart",
            FaultKind::DbLocked => "db-locked",
            FaultKind::RecordingsFull => "recordings-full",
            FaultKind::SqliteFull => "sqlite-full",
            FaultKind::PgStopped => "pg-stopped",
        }
    }
}

/// `helpline bench faults` options.
#[derive(Debug, Clone, clap::Args)]
pub struct FaultOptions {
    /// The fault to inject.
    #[arg(long, value_enum)]
    pub fault: FaultKind,
    /// Complaint calls to place in all.
    #[arg(long, default_value_t = 200)]
    pub calls: u64,
    /// New calls per second.
    #[arg(long, default_value_t = 4.0)]
    pub rate: f64,
    /// Simulation speed factor (prompts and speech take 1/speed of their time).
    #[arg(long, default_value_t = 20.0)]
    pub speed: f64,
    /// How long each caller speaks their complaint, simulated seconds.
    #[arg(long, default_value_t = 8.0)]
    pub speech: f64,
    /// Faults to inject, spread over the time calls are placed.
    #[arg(long, default_value_t = 10)]
    pub faults: u32,
    /// Seconds (real) within which a killed or stopped engine is started again (a random delay up to it).
    #[arg(long, default_value_t = 2.0)]
    pub restart_within: f64,
    /// How long a lasting fault (ws-silence, rest-500, rest-slow, db-locked, recordings-full,
    /// sqlite-full, pg-stopped) lasts, real seconds.
    #[arg(long, default_value_t = 3.0)]
    pub fault_seconds: f64,
    /// How late each REST reply is under rest-slow, real ms.
    #[arg(long, default_value_t = 3000)]
    pub slow_ms: u64,
    /// The PostgreSQL server for pg-stopped (its user creates and drops a database
    /// `helpline_faults_<pid>` for the run).
    #[arg(long, default_value = DEFAULT_POSTGRES_URL)]
    pub postgres_url: String,
    /// Seed for the fault moments and restart delays (the same seed, the same schedule).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The engine's shutdown grace after SIGTERM, seconds.
    #[arg(long, default_value_t = 10)]
    pub grace: u64,
    /// Real seconds to wait for the last calls to end after the last was placed.
    #[arg(long, default_value_t = 120.0)]
    pub finish_timeout: f64,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Directory of IVR scripts (uses `1100.toml`, made open around the clock for the run).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/ivr-scripts"))]
    pub scripts: PathBuf,
    /// Prompt audio directory (`<dir>/<lang>/helpline/*.wav`), for the engine and the simulator.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/audio"))]
    pub audio: PathBuf,
    /// Working directory for the database, journal, recordings, config and logs (default: a fresh
    /// temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The executable to run the simulator and the engine with (default: this one).
    #[arg(long, hide = true)]
    pub exe: Option<PathBuf>,
}

/// The PostgreSQL server `--fault pg-stopped` uses unless told otherwise: the local one.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

impl FaultOptions {
    fn validate(&self) -> Result<(), BenchError> {
        let problems = number_problems(
            self.calls,
            &[("--rate", self.rate), ("--speed", self.speed)],
            &[
                ("--speech", self.speech),
                ("--restart-within", self.restart_within),
                ("--fault-seconds", self.fault_seconds),
                ("--finish-timeout", self.finish_timeout),
            ],
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(BenchError::Options(problems.join("; ")))
        }
    }

    /// The command line that reproduces this run.
    pub fn command_line(&self) -> String {
        let mut cmd = format!(
            "helpline bench faults --fault {} --calls {} --rate {} --speed {} --speech {} --faults {} --seed {}",
            self.fault.name(),
            self.calls,
            self.rate,
            self.speed,
            self.speech,
            self.faults,
            self.seed
        );
        match self.fault {
            FaultKind::Kill9 | FaultKind::Sigterm => {
                cmd.push_str(&format!(" --restart-within {}", self.restart_within));
            }
            FaultKind::WsSilence
            | FaultKind::Rest500
            | FaultKind::DbLocked
            | FaultKind::RecordingsFull
            | FaultKind::SqliteFull => {
                cmd.push_str(&format!(" --fault-seconds {}", self.fault_seconds));
            }
            FaultKind::PgStopped => {
                cmd.push_str(&format!(" --fault-seconds {}", self.fault_seconds));
                if self.postgres_url != DEFAULT_POSTGRES_URL {
                    let shown = crate::config::DatabaseUrl::new(self.postgres_url.as_str());
                    cmd.push_str(&format!(" --postgres-url {}", shown.redacted()));
                }
            }
            FaultKind::RestSlow => cmd.push_str(&format!(
                " --fault-seconds {} --slow-ms {}",
                self.fault_seconds, self.slow_ms
            )),
            FaultKind::WsDrop | FaultKind::SimRestart => {}
        }
        cmd
    }
}

/// One run's result. Times are real milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct FaultReport {
    pub command: String,
    pub machine: Machine,
    pub fault: FaultKind,
    /// Faults injected (and, for lasting ones, cleared).
    pub faults_injected: u32,
    /// Calls the simulator placed, and those of them that ended before the finish timeout.
    pub calls: u64,
    pub calls_ended: u64,
    /// Recordings of a caller's channel with at least a second of their voice (the simulator's account).
    pub spoken: u64,
    /// Tickets in the database at the end.
    pub tickets: u64,
    /// Spoken recordings no ticket names (a ticket's `call_id` is its recording's name).
    pub lost: u64,
    /// Tickets beyond one per spoken recording on a call, and tickets sharing a recording.
    pub doubled: u64,
    /// Tickets whose recording is not in helpline's recordings folder (missing, or not the recorded size).
    pub tickets_without_recording: u64,
    /// Tickets naming a recording the caller did not speak into, or one the simulator never made.
    pub tickets_not_for_speech: u64,
    /// The longest dead air any caller sat through outside the fault windows (from a fault's start to
    /// the engine being back: connected again, or the fault cleared), real ms (simulated ms / speed).
    pub longest_silence_after_back_ms: u64,
    /// The longest dead air of any call, fault windows included, real ms.
    pub longest_silence_ms: u64,
    /// Calls that heard the dialplan's apology (`helpline/service_unavailable`) instead of the IVR.
    pub turned_away: u64,
    /// Calls that ended otherwise than hearing their complaint number and goodbye.
    pub not_as_scripted: u64,
    /// Calls the engine answered (the caller heard its welcome).
    pub calls_answered: u64,
    /// Call records (crates/records) in the database at the end.
    pub call_records: u64,
    /// Calls the engine answered that no call record names (by channel).
    pub calls_without_record: u64,
    /// The fault windows, Unix ms (from, back).
    pub windows: Vec<(u64, u64)>,
    /// The first lost recordings, by name.
    pub lost_recordings: Vec<String>,
    /// The worst dead air after the engine was back (at most 10).
    pub worst_silences: Vec<WorstSilence>,
    /// Why calls did not go as scripted (the simulator's reasons).
    pub failures: BTreeMap<String, u64>,
    pub run_seconds: f64,
}

impl FaultReport {
    /// Nothing lost, nothing doubled, every ticket with its recording.
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.doubled == 0 && self.tickets_without_recording == 0
    }

    /// The header of [`FaultReport::row`].
    pub const HEADER: &'static str = "| fault | faults | calls | spoken | tickets | lost | doubled | tickets without recording | longest silence after back (ms) | turned away |\n|---|---|---|---|---|---|---|---|---|---|\n";

    /// The run as one row of the reliability table (Markdown).
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            self.fault.name(),
            self.faults_injected,
            self.calls,
            self.spoken,
            self.tickets,
            self.lost,
            self.doubled,
            self.tickets_without_recording,
            self.longest_silence_after_back_ms,
            self.turned_away
        )
    }

    /// The table printed on stdout.
    pub fn table(&self) -> String {
        let mut t = format!(
            "{}\n{} cores, {}, {}; {:.0} s\n\n",
            self.command,
            self.machine.cpus,
            self.machine.cpu_model,
            self.machine.date_utc,
            self.run_seconds
        );
        t.push_str(Self::HEADER);
        t.push_str(&self.row());
        t.push_str(&format!(
            "\ncalls ended {} of {}, not as scripted {}, tickets not for speech {}, longest silence overall {} ms\n",
            self.calls_ended,
            self.calls,
            self.not_as_scripted,
            self.tickets_not_for_speech,
            self.longest_silence_ms
        ));
        t.push_str(&format!(
            "call records {} for {} calls the engine answered, {} of those without one\n",
            self.call_records, self.calls_answered, self.calls_without_record
        ));
        for (reason, n) in &self.failures {
            t.push_str(&format!("  {n:>5} × {reason}\n"));
        }
        if !self.lost_recordings.is_empty() {
            t.push_str(&format!("lost: {}\n", self.lost_recordings.join(", ")));
        }
        t
    }
}

/// One caller's dead air after the engine was back.
#[derive(Debug, Clone, Serialize)]
pub struct WorstSilence {
    /// The caller's channel.
    pub channel: String,
    /// How much of it lay outside the fault windows, real ms.
    pub ms: u64,
    /// When it began, Unix ms.
    pub began_unix_ms: u64,
    /// The last media the caller heard before it (`""`: none).
    pub after: String,
}

/// A small seeded generator (SplitMix64): the same seed gives the same fault schedule.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// When each fault strikes, seconds after the first call: one in each of `n` equal slots of the placing
/// time, at a random point of the slot's first half (so a fault has the rest of its slot to be over).
fn fault_moments(rng: &mut Rng, n: u32, placing_seconds: f64) -> Vec<f64> {
    let slot = placing_seconds / f64::from(n.max(1));
    (0..n)
        .map(|i| slot * (f64::from(i) + 0.5 * rng.unit()))
        .collect()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The part of `[from, to)` outside every window, ms.
fn outside_windows(from: u64, to: u64, windows: &[(u64, u64)]) -> u64 {
    let mut inside = 0;
    let mut merged: Vec<(u64, u64)> = windows.to_vec();
    merged.sort_unstable();
    let mut cursor = from;
    for (a, b) in merged {
        let (a, b) = (a.max(cursor), b.min(to));
        if b > a {
            inside += b - a;
            cursor = b;
        }
    }
    (to - from).saturating_sub(inside)
}

/// The 1100 script made to take the main menu at any hour (the office-hours branch always open), so a run
/// at night follows the same path as one by day. Fails when the script no longer has that branch.
fn always_open(script: &str) -> Result<String, BenchError> {
    const HOLIDAY: &str = r#"{ holiday = true, next = "after_hours" },"#;
    const OTHERWISE: &str = r#"otherwise = "after_hours""#;
    if !script.contains(HOLIDAY) || !script.contains(OTHERWISE) {
        return Err(BenchError::Setup(
            "1100.toml no longer has the office-hours branch the fault run opens around the clock"
                .to_owned(),
        ));
    }
    Ok(script
        .replace(HOLIDAY, r#"{ holiday = true, next = "main_menu" },"#)
        .replace(OTHERWISE, r#"otherwise = "main_menu""#))
}

/// A connection holding `BEGIN EXCLUSIVE` on the SQLite ticket database; dropping it releases the lock.
struct DbLock {
    connection: sqlx::SqliteConnection,
}

impl DbLock {
    async fn take(url: &str) -> Result<DbLock, BenchError> {
        use sqlx::Connection as _;
        let db = |e: sqlx::Error| BenchError::Fault(format!("locking the ticket database: {e}"));
        let mut connection = sqlx::SqliteConnection::connect(url).await.map_err(db)?;
        sqlx::query("PRAGMA busy_timeout = 5000")
            .execute(&mut connection)
            .await
            .map_err(db)?;
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut connection)
            .await
            .map_err(db)?;
        Ok(DbLock { connection })
    }

    async fn release(mut self) -> Result<(), BenchError> {
        use sqlx::Connection as _;
        let db = |e: sqlx::Error| BenchError::Fault(format!("unlocking the ticket database: {e}"));
        sqlx::query("ROLLBACK")
            .execute(&mut self.connection)
            .await
            .map_err(db)?;
        self.connection.close().await.map_err(db)
    }
}

/// A small tmpfs mounted over a folder, unmounted on drop.
#[derive(Debug)]
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// 32 MiB: room for a run's recordings, quick to fill.
    const SIZE: &'static str = "size=32m";

    fn mount(path: &Path) -> Result<SmallDisk, BenchError> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", Self::SIZE, "helpline-faults"])
            .arg(path)
            .status()
            .map_err(|e| BenchError::Fault(format!("cannot run mount: {e}")))?;
        if !status.success() {
            return Err(BenchError::Fault(format!(
                "mount -t tmpfs on {} failed ({status}): recordings-full and sqlite-full need root",
                path.display()
            )));
        }
        Ok(SmallDisk {
            path: path.to_owned(),
        })
    }

    /// Fills the disk under `dir` to the last byte; returns the filler file.
    fn fill(dir: &Path) -> Result<PathBuf, BenchError> {
        use std::io::Write as _;
        let path = dir.join("filler");
        let mut file = std::fs::File::create(&path)
            .map_err(|e| BenchError::Fault(format!("creating {}: {e}", path.display())))?;
        for chunk in [1 << 20, 4096, 1] {
            let bytes = vec![0u8; chunk];
            while file.write_all(&bytes).is_ok() {}
        }
        Ok(path)
    }

    /// Fills the disk under `dir` for `lasting`, then makes room again.
    async fn fill_for(dir: &Path, lasting: Duration) -> Result<(), BenchError> {
        let filler = SmallDisk::fill(dir)?;
        tokio::time::sleep(lasting).await;
        std::fs::remove_file(&filler)
            .map_err(|e| BenchError::Fault(format!("removing {}: {e}", filler.display())))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}

/// Runs one fault test and reports.
pub async fn run_faults(options: &FaultOptions) -> Result<FaultReport, BenchError> {
    options.validate()?;
    let work = WorkDir::new(options.work_dir.as_deref(), "helpline-bench-faults");
    for sub in [
        "sim-recordings",
        "scripts",
        "db",
        "tickets/journal",
        "tickets/recordings",
    ] {
        let dir = work.path.join(sub);
        std::fs::create_dir_all(&dir)
            .map_err(io_err(format!("cannot create {}", dir.display())))?;
    }
    let script_path = options.scripts.join("1100.toml");
    let script = std::fs::read_to_string(&script_path)
        .map_err(io_err(format!("cannot read {}", script_path.display())))?;
    let copy = work.path.join("scripts/1100.toml");
    std::fs::write(&copy, always_open(&script)?)
        .map_err(io_err(format!("cannot write {}", copy.display())))?;
    // Unmounted (on every way out) before the folder is removed. The journal stays on the run's disk.
    let _small_disk = match options.fault {
        FaultKind::RecordingsFull => Some(SmallDisk::mount(&work.path.join("tickets/recordings"))?),
        FaultKind::SqliteFull => Some(SmallDisk::mount(&work.path.join("db"))?),
        _ => None,
    };

    let exe = match &options.exe {
        Some(exe) => exe.clone(),
        None => std::env::current_exe().map_err(io_err("cannot find this executable"))?,
    };
    let child_args = SimChildArgs {
        speed: options.speed,
        sounds: options.audio.clone(),
        recordings: work.path.join("sim-recordings"),
        helpline_dialplan: true,
    };
    // Created last, so that every way out after it goes by its removal.
    let db = match options.fault {
        FaultKind::PgStopped => TicketDb::postgres(&options.postgres_url).await?,
        _ => TicketDb::sqlite(&work.path),
    };
    let result = match SimProcess::spawn(&exe, &child_args, Duration::from_secs(30)).await {
        Ok(mut sim) => {
            let world = World {
                options,
                work: &work.path,
                db: &db,
            };
            let result = drive(&world, &exe, &mut sim).await;
            sim.stop(Duration::from_secs(10)).await;
            result
        }
        Err(e) => Err(e),
    };
    db.remove().await;
    result
}

/// The simulator's messages seen while the harness was busy with something else.
#[derive(Debug, Default)]
struct Inbox {
    done: Option<CallsSummary>,
}

/// The child's answer to a [`ParentCommand`].
#[derive(Debug)]
enum Answer {
    Injected(Option<String>),
    Stats(Box<ari_sim::SimStats>),
}

/// How long the child may take to answer a command.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

impl Inbox {
    /// Takes one message from the child; an answer to a command is returned.
    async fn take(&mut self, sim: &mut SimProcess) -> Result<Option<Answer>, BenchError> {
        match sim.next_message().await? {
            ChildMessage::Done(summary) => {
                self.done = Some(*summary);
                Ok(None)
            }
            ChildMessage::PlacingDone { .. } => Ok(None),
            ChildMessage::Injected { error } => Ok(Some(Answer::Injected(error))),
            ChildMessage::Stats(stats) => Ok(Some(Answer::Stats(stats))),
            ChildMessage::Failed { error } => Err(BenchError::Sim(error)),
            ChildMessage::Ready { .. } => {
                Err(BenchError::Protocol("a second ready message".to_owned()))
            }
        }
    }

    /// Sends a command and waits (bounded) for its answer, keeping what else the child says.
    async fn ask(
        &mut self,
        sim: &mut SimProcess,
        command: ParentCommand,
    ) -> Result<Answer, BenchError> {
        sim.send(&command).await?;
        tokio::time::timeout(ANSWER_WITHIN, async {
            loop {
                if let Some(answer) = self.take(sim).await? {
                    return Ok::<_, BenchError>(answer);
                }
            }
        })
        .await
        .map_err(|_| BenchError::Timeout {
            what: format!("the simulator answering {command:?}"),
            after: ANSWER_WITHIN,
        })?
    }

    /// Injects a fault in the simulator.
    async fn inject(
        &mut self,
        sim: &mut SimProcess,
        fault: ari_sim::Fault,
    ) -> Result<(), BenchError> {
        match self.ask(sim, ParentCommand::Inject(fault.clone())).await? {
            Answer::Injected(None) => Ok(()),
            Answer::Injected(Some(error)) => Err(BenchError::Fault(format!("{fault:?}: {error}"))),
            Answer::Stats(_) => Err(BenchError::Protocol(
                "counters where an injection was answered".to_owned(),
            )),
        }
    }

    /// The simulator's WebSocket connections so far.
    async fn websocket_connects(&mut self, sim: &mut SimProcess) -> Result<u64, BenchError> {
        match self.ask(sim, ParentCommand::Stats).await? {
            Answer::Stats(stats) => Ok(stats.websocket_connects),
            Answer::Injected(_) => Err(BenchError::Protocol(
                "an injection answer where counters were asked".to_owned(),
            )),
        }
    }

    /// Waits (bounded) until the simulator has accepted a WebSocket connection beyond the first `seen`.
    async fn wait_reconnect(&mut self, sim: &mut SimProcess, seen: u64) -> Result<(), BenchError> {
        let deadline = Instant::now() + ENGINE_START;
        while self.websocket_connects(sim).await? <= seen {
            if Instant::now() >= deadline {
                return Err(BenchError::Timeout {
                    what: "the engine reconnecting its ARI WebSocket".to_owned(),
                    after: ENGINE_START,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}

async fn drive(
    world: &World<'_>,
    exe: &Path,
    sim: &mut SimProcess,
) -> Result<FaultReport, BenchError> {
    let (options, work) = (world.options, world.work);
    let ari_url = sim
        .base_url
        .strip_suffix("/ari")
        .unwrap_or(&sim.base_url)
        .to_owned();
    let config_path = work.join("helpline.toml");
    std::fs::write(
        &config_path,
        engine_config(
            work,
            world.db.engine_url(),
            &ari_url,
            &sim.username,
            &options.audio,
            options.grace,
        ),
    )
    .map_err(io_err(format!("cannot write {}", config_path.display())))?;
    let spec = EngineSpec {
        exe: exe.to_owned(),
        config: config_path,
        password: sim.password.clone(),
        log: work.join("engine.log"),
    };
    let mut engine = EngineProcess::start(&spec).await?;
    engine.wait_connected(ENGINE_START).await?;

    let (mut scenario, must_hear) = complaint_scenario(options.speech, false);
    // A caller asked again (an engine resuming the call replays the step) answers again.
    scenario.steps.insert(0, ari_sim::Step::AnswerReplays);
    let plan = RunPlan {
        calls: options.calls,
        rate: options.rate,
        ramp_seconds: 0.0,
        scenario,
        must_hear,
        finish_timeout_seconds: options.finish_timeout,
        return_results: true,
        readback: None,
    };
    let mut rng = Rng(options.seed);
    let placing = options.calls as f64 / options.rate;
    let moments = fault_moments(&mut rng, options.faults, placing);
    let started = Instant::now();
    sim.run(&plan).await?;
    let mut inbox = Inbox::default();
    let mut windows = Vec::new();
    let mut injected = 0;
    for at in moments {
        let due = started + Duration::from_secs_f64(at);
        // Read the child's messages while waiting for the moment.
        while Instant::now() < due && inbox.done.is_none() {
            let wait = tokio::time::sleep_until(due.into());
            tokio::select! {
                () = wait => {}
                message = inbox.take(sim) => { message?; }
            }
        }
        if inbox.done.is_some() {
            break;
        }
        let from = unix_ms();
        engine = inject(world, &spec, engine, sim, &mut inbox, &mut rng).await?;
        windows.push((from, unix_ms()));
        injected += 1;
        eprintln!(
            "bench faults: {} #{injected} at {:.1} s, engine back after {} ms",
            options.fault.name(),
            started.elapsed().as_secs_f64(),
            unix_ms().saturating_sub(from)
        );
    }
    let finish = Duration::from_secs_f64(placing + options.finish_timeout + 30.0);
    let summary = match inbox.done.take() {
        Some(summary) => summary,
        None => tokio::time::timeout(finish, async {
            loop {
                inbox.take(sim).await?;
                if let Some(summary) = inbox.done.take() {
                    return Ok::<_, BenchError>(summary);
                }
            }
        })
        .await
        .map_err(|_| BenchError::Timeout {
            what: "the simulated calls ending".to_owned(),
            after: finish,
        })??,
    };
    let run_seconds = started.elapsed().as_secs_f64();
    // Work still owed (a ticket filed after its caller hung up, the journal replayed) is finished first.
    if !engine.wait_idle(Duration::from_secs(30)).await {
        eprintln!("bench faults: the engine still had calls or a journal after 30 s");
    }
    // A recording a ticket could not take stays on Asterisk and is attached by the fallback importer's
    // next round (every 5 s here): give it two rounds before judging.
    if matches!(
        options.fault,
        FaultKind::Rest500 | FaultKind::RecordingsFull
    ) {
        tokio::time::sleep(Duration::from_secs(11)).await;
    }
    engine
        .terminate(Duration::from_secs(options.grace + 20))
        .await?;
    let stored = Stored {
        tickets: world.db.read_tickets().await?,
        call_records: world.db.read_call_records().await?,
    };
    Ok(judge(
        options,
        &summary,
        &stored,
        &work.join("tickets/recordings"),
        windows,
        injected,
        run_seconds,
    ))
}

/// What a fault is injected into, besides the processes.
struct World<'a> {
    options: &'a FaultOptions,
    /// The run's folder.
    work: &'a Path,
    db: &'a TicketDb,
}

/// Injects one fault and returns the engine once it is back.
async fn inject(
    world: &World<'_>,
    spec: &EngineSpec,
    engine: EngineProcess,
    sim: &mut SimProcess,
    inbox: &mut Inbox,
    rng: &mut Rng,
) -> Result<EngineProcess, BenchError> {
    use ari_sim::Fault;
    let options = world.options;
    let lasting = Duration::from_secs_f64(options.fault_seconds);
    let restart_delay = Duration::from_secs_f64(options.restart_within * rng.unit());
    let mut engine = match options.fault {
        FaultKind::Kill9 | FaultKind::Sigterm => {
            if options.fault == FaultKind::Kill9 {
                engine.kill9().await?;
            } else {
                engine
                    .terminate(Duration::from_secs(options.grace + 20))
                    .await?;
            }
            tokio::time::sleep(restart_delay).await;
            EngineProcess::start(spec).await?
        }
        FaultKind::WsDrop | FaultKind::SimRestart => {
            let fault = if options.fault == FaultKind::WsDrop {
                Fault::DropWebsockets
            } else {
                Fault::Restart
            };
            // Back once the engine has connected again (as the simulator counts connections).
            let seen = inbox.websocket_connects(sim).await?;
            inbox.inject(sim, fault).await?;
            inbox.wait_reconnect(sim, seen).await?;
            engine
        }
        FaultKind::WsSilence => {
            inbox.inject(sim, Fault::Silent { on: true }).await?;
            tokio::time::sleep(lasting).await;
            inbox.inject(sim, Fault::Clear).await?;
            engine
        }
        FaultKind::Rest500 => {
            inbox.inject(sim, Fault::RestErrors { count: None }).await?;
            tokio::time::sleep(lasting).await;
            inbox.inject(sim, Fault::Clear).await?;
            engine
        }
        FaultKind::RestSlow => {
            inbox
                .inject(
                    sim,
                    Fault::RestDelay {
                        ms: options.slow_ms,
                    },
                )
                .await?;
            tokio::time::sleep(lasting).await;
            inbox.inject(sim, Fault::Clear).await?;
            engine
        }
        FaultKind::RecordingsFull => {
            SmallDisk::fill_for(&world.work.join("tickets/recordings"), lasting).await?;
            engine
        }
        FaultKind::DbLocked => {
            let lock = DbLock::take(world.db.url()).await?;
            tokio::time::sleep(lasting).await;
            lock.release().await?;
            engine
        }
        FaultKind::SqliteFull => {
            SmallDisk::fill_for(&world.work.join("db"), lasting).await?;
            engine
        }
        FaultKind::PgStopped => {
            let proxy = world.db.proxy().ok_or_else(|| {
                BenchError::Fault("pg-stopped without a PostgreSQL proxy".to_owned())
            })?;
            proxy.stop().await?;
            tokio::time::sleep(lasting).await;
            proxy.resume().await?;
            engine
        }
    };
    engine.wait_connected(ENGINE_START).await?;
    Ok(engine)
}

/// What the database holds at the end.
struct Stored {
    tickets: Vec<tickets::Ticket>,
    call_records: Vec<records::CallRecord>,
}

/// The first prompt of the 1100 script: a caller who heard it was answered by the engine.
const WELCOME: &str = "sound:helpline/welcome";

/// The report, from the simulator's account and the tickets.
fn judge(
    options: &FaultOptions,
    summary: &CallsSummary,
    stored: &Stored,
    recordings_dir: &Path,
    windows: Vec<(u64, u64)>,
    faults_injected: u32,
    run_seconds: f64,
) -> FaultReport {
    let tickets = &stored.tickets;
    let mut named: BTreeMap<&str, u64> = BTreeMap::new();
    let mut tickets_without_recording = 0;
    for ticket in tickets {
        if let Some(name) = ticket.call_id.as_deref() {
            *named.entry(name).or_default() += 1;
        }
        let kept = ticket.recording.as_ref().is_some_and(|r| {
            std::fs::metadata(recordings_dir.join(&r.file_name)).is_ok_and(|m| m.len() == r.bytes)
        });
        if !kept {
            tickets_without_recording += 1;
        }
    }
    let complaints = Complaints::count(&summary.results, &named);
    let speed = options.speed;
    let mut longest = 0u64;
    let mut worst: Vec<WorstSilence> = Vec::new();
    for call in &summary.results {
        longest = longest.max((call.longest_silence_ms as f64 / speed) as u64);
        for s in &call.silences {
            let from = call.started_unix_ms + (s.start_ms as f64 / speed) as u64;
            let to = from + (s.ms as f64 / speed) as u64;
            let after_back = outside_windows(from, to, &windows);
            if after_back > 0 {
                let after = call
                    .heard
                    .iter()
                    .rfind(|h| h.started_ms <= s.start_ms)
                    .map_or_else(String::new, |h| h.media_uri.clone());
                worst.push(WorstSilence {
                    channel: call.channel_id.clone(),
                    ms: after_back,
                    began_unix_ms: from,
                    after,
                });
            }
        }
    }
    worst.sort_by_key(|w| std::cmp::Reverse(w.ms));
    worst.truncate(10);
    let apology = "sound:helpline/service_unavailable";
    let turned_away = summary
        .results
        .iter()
        .filter(|c| c.heard.iter().any(|h| h.media_uri == apology))
        .count() as u64;
    let recorded: std::collections::BTreeSet<&str> = stored
        .call_records
        .iter()
        .map(|r| r.channel_id.as_str())
        .collect();
    let answered: Vec<&ari_sim::CallResult> = summary
        .results
        .iter()
        .filter(|c| c.heard.iter().any(|h| h.media_uri == WELCOME))
        .collect();
    let calls_without_record = answered
        .iter()
        .filter(|c| !recorded.contains(c.channel_id.as_str()))
        .count() as u64;
    FaultReport {
        command: options.command_line(),
        machine: Machine::here(),
        fault: options.fault,
        faults_injected,
        calls: summary.placed,
        calls_ended: summary.results.len() as u64,
        spoken: complaints.spoken,
        tickets: tickets.len() as u64,
        lost: complaints.lost.len() as u64,
        doubled: complaints.doubled,
        tickets_without_recording,
        tickets_not_for_speech: complaints.not_for_speech,
        longest_silence_after_back_ms: worst.first().map_or(0, |w| w.ms),
        longest_silence_ms: longest,
        turned_away,
        not_as_scripted: summary.not_as_scripted,
        calls_answered: answered.len() as u64,
        call_records: stored.call_records.len() as u64,
        calls_without_record,
        windows,
        lost_recordings: complaints.lost.into_iter().take(20).collect(),
        worst_silences: worst,
        failures: summary.failures.clone(),
        run_seconds,
    }
}

/// Complaints spoken against the tickets that name them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Complaints {
    /// Spoken recordings.
    spoken: u64,
    /// Spoken recordings no ticket names.
    lost: Vec<String>,
    /// Tickets sharing a recording, and tickets for another take of a call whose spoken complaint has a
    /// ticket (the complaint twice).
    doubled: u64,
    /// Tickets naming a recording nobody spoke into, or one the simulator never made.
    not_for_speech: u64,
}

impl Complaints {
    /// `named`: recording name → tickets naming it.
    fn count(results: &[ari_sim::CallResult], named: &BTreeMap<&str, u64>) -> Complaints {
        // Recording name → (call, spoken).
        let mut recordings: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
        for (i, call) in results.iter().enumerate() {
            for name in &call.recordings {
                recordings.insert(name.as_str(), (i, false));
            }
            for name in &call.spoken_recordings {
                recordings.insert(name.as_str(), (i, true));
            }
        }
        let mut out = Complaints {
            doubled: named.values().map(|n| n.saturating_sub(1)).sum(),
            ..Complaints::default()
        };
        for name in named.keys() {
            match recordings.get(name) {
                Some((_, true)) => {}
                Some(&(call, false)) => {
                    out.not_for_speech += 1;
                    if results[call]
                        .spoken_recordings
                        .iter()
                        .any(|s| named.contains_key(s.as_str()))
                    {
                        out.doubled += 1;
                    }
                }
                None => out.not_for_speech += 1,
            }
        }
        for call in results {
            for name in &call.spoken_recordings {
                out.spoken += 1;
                if !named.contains_key(name.as_str()) {
                    out.lost.push(name.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(channel: &str, recordings: &[&str], spoken: &[&str]) -> ari_sim::CallResult {
        serde_json::from_value(serde_json::json!({
            "call_id": 1, "scenario": "", "channel_id": channel, "caller": "98", "heard": [],
            "digits_sent": "", "recordings": recordings, "spoken_recordings": spoken,
            "hung_up_by": "network", "transferred_to": null, "cause": 16, "cause_txt": "Normal Clearing",
            "answered_ms": 0, "duration_ms": 1, "outcome": {"status": "completed"}
        }))
        .unwrap()
    }

    #[test]
    fn complaints_lost_doubled_and_not_for_speech_are_told_apart() {
        let results = [
            // Filed once: fine.
            call("a", &["ivr-a-r-1"], &["ivr-a-r-1"]),
            // Spoken, no ticket: lost.
            call("b", &["ivr-b-r-1"], &["ivr-b-r-1"]),
            // A silent take ticketed besides the spoken one: doubled (and not for speech).
            call("c", &["ivr-c-r-1", "ivr-c-r-2"], &["ivr-c-r-2"]),
            // Only a silent take, ticketed: not for speech, not doubled.
            call("d", &["ivr-d-r-1"], &[]),
        ];
        let named: BTreeMap<&str, u64> = [
            ("ivr-a-r-1", 1),
            ("ivr-c-r-1", 1),
            ("ivr-c-r-2", 2),
            ("ivr-d-r-1", 1),
            ("fallback-x", 1),
        ]
        .into();
        let c = Complaints::count(&results, &named);
        assert_eq!(c.spoken, 3);
        assert_eq!(c.lost, ["ivr-b-r-1"]);
        // c-r-2 twice (1) + c-r-1 beside the ticketed c-r-2 (1).
        assert_eq!(c.doubled, 2);
        // c-r-1, d-r-1 and the unknown fallback-x.
        assert_eq!(c.not_for_speech, 3);
    }

    #[test]
    fn the_schedule_is_the_seeds_and_each_fault_lies_in_its_slot() {
        let a = fault_moments(&mut Rng(7), 10, 50.0);
        assert_eq!(a, fault_moments(&mut Rng(7), 10, 50.0));
        assert_ne!(a, fault_moments(&mut Rng(8), 10, 50.0));
        for (i, t) in a.iter().enumerate() {
            let slot = 5.0 * i as f64;
            assert!(*t >= slot && *t < slot + 2.5, "{i}: {t}");
        }
        let mut rng = Rng(1);
        assert!(
            (0..1000)
                .map(|_| rng.unit())
                .all(|u| (0.0..1.0).contains(&u))
        );
    }

    #[test]
    fn silence_inside_fault_windows_is_not_counted() {
        assert_eq!(outside_windows(100, 200, &[]), 100);
        // Inside one window entirely.
        assert_eq!(outside_windows(100, 200, &[(50, 250)]), 0);
        // Begins in the window: what is after it counts.
        assert_eq!(outside_windows(100, 200, &[(0, 150)]), 50);
        // Three windows, two overlapping each other: 40 ms inside in all.
        assert_eq!(
            outside_windows(100, 200, &[(160, 180), (110, 120), (115, 130)]),
            60
        );
    }

    #[test]
    fn the_shipped_script_is_opened_around_the_clock_and_still_checks() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/ivr-scripts/1100.toml");
        let opened = always_open(&std::fs::read_to_string(shipped).unwrap()).unwrap();
        assert!(!opened.contains(r#"next = "after_hours" }"#));
        std::fs::write(dir.join("1100.toml"), opened).unwrap();
        let set = ivr::ScriptSet::load(
            dir,
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/audio")),
            &crate::app::validators(),
        );
        assert!(set.unwrap().get("1100").is_some());
        assert!(always_open("[steps.x]\ntype = \"play\"").is_err());
    }

    #[test]
    fn every_fault_is_named_on_the_command_line_as_in_the_report() {
        use clap::ValueEnum as _;
        for kind in FaultKind::value_variants() {
            assert_eq!(FaultKind::from_str(kind.name(), false), Ok(*kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.name());
        }
    }

    #[test]
    fn bad_options_are_all_reported() {
        let mut o = FaultOptions {
            fault: FaultKind::Kill9,
            calls: 0,
            rate: 0.0,
            speed: 20.0,
            speech: 1.0,
            faults: 1,
            restart_within: -1.0,
            fault_seconds: 1.0,
            slow_ms: 1,
            postgres_url: DEFAULT_POSTGRES_URL.to_owned(),
            seed: 1,
            grace: 1,
            finish_timeout: 1.0,
            json: None,
            scripts: PathBuf::new(),
            audio: PathBuf::new(),
            work_dir: None,
            exe: None,
        };
        let err = o.validate().unwrap_err().to_string();
        assert!(
            err.contains("--calls") && err.contains("--rate") && err.contains("--restart-within"),
            "{err}"
        );
        (o.calls, o.rate, o.restart_within) = (1, 1.0, 2.0);
        o.validate().unwrap();
        assert!(
            o.command_line().contains("--fault kill9")
                && o.command_line().contains("--restart-within 2")
        );
        // pg-stopped names its server only when it is not the default, and never its password.
        o.fault = FaultKind::PgStopped;
        let line = o.command_line();
        assert!(
            line.contains("--fault pg-stopped --") && line.contains("--fault-seconds 1"),
            "{line}"
        );
        assert!(!line.contains("--postgres-url"), "{line}");
        o.postgres_url = "postgres://u:secret@db:5432/x".to_owned();
        let line = o.command_line();
        assert!(
            line.contains("--postgres-url postgres://u:***@db:5432/x") && !line.contains("secret"),
            "{line}"
        );
    }
}
