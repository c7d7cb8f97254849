//! The simulator in its own process, so that the engine's CPU and memory are measured alone. The benchmark
//! starts its own executable as `helpline bench load-sim` ([`child_main`]): it runs `ari_sim` and the callers'
//! generator (the pace of new calls, the scenario) and talks to the parent in JSON lines — the parent writes
//! one [`RunPlan`] on the child's stdin, the child writes [`ChildMessage`]s on its stdout. Closing the
//! child's stdin stops it, so it never outlives the benchmark.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::BenchError;

/// The Stasis application the helpline dialplan sends calls to.
pub const ARI_APP: &str = "ivr-1100";

/// What the generator does once the engine is connected.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunPlan {
    /// Calls to place in all.
    pub calls: u64,
    /// New calls per second once the ramp is over.
    pub rate: f64,
    /// Seconds over which the rate rises linearly from 0.
    pub ramp_seconds: f64,
    /// What every caller does (the caller number is set per call).
    pub scenario: ari_sim::Scenario,
    /// Media URI prefixes every call must have heard to count as finished as scripted.
    pub must_hear: Vec<String>,
    /// How long (real seconds) to wait for the last calls to end after the last one was placed.
    pub finish_timeout_seconds: f64,
    /// Send every call's [`ari_sim::CallResult`] back in the summary (`bench faults` judges each call).
    #[serde(default)]
    pub return_results: bool,
    /// Measure, per call, from this key to the read-back of the number it causes
    /// ([`CallsSummary::readback_ms`]).
    #[serde(default)]
    pub readback: Option<ReadbackMark>,
}

/// Which key's answer is the complaint number read back: the last press of `key` before the caller
/// first hears `media` (a media URI prefix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadbackMark {
    pub key: char,
    pub media: String,
}

impl ReadbackMark {
    /// Simulated ms from the key reaching the application to the read-back's first prompt starting,
    /// on one call (`None`: the call never got there).
    pub fn measure(&self, result: &ari_sim::CallResult) -> Option<u64> {
        let heard = result
            .heard
            .iter()
            .find(|h| h.media_uri.starts_with(self.media.as_str()))?;
        let (_, pressed) = result
            .keys_at
            .iter()
            .rev()
            .find(|(key, at)| *key == self.key && *at <= heard.started_ms)?;
        Some(heard.started_ms - pressed)
    }
}

/// What the parent may say after the run plan, one per line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentCommand {
    /// Inject a fault into the simulator (its `/sim/faults`); answered with [`ChildMessage::Injected`].
    Inject(ari_sim::Fault),
    /// The simulator's counters now; answered with [`ChildMessage::Stats`].
    Stats,
}

/// How the simulated calls went, as the simulator saw them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallsSummary {
    pub placed: u64,
    /// Calls the simulator refused to place.
    pub place_errors: u64,
    /// Ended with every step done, hung up by the network side, having heard every `must_hear` media.
    pub as_scripted: u64,
    /// Ended otherwise.
    pub not_as_scripted: u64,
    /// Still on the line when the finish timeout ran out.
    pub unfinished: u64,
    /// Why calls did not finish as scripted (reason → count, the first 20 reasons).
    pub failures: BTreeMap<String, u64>,
    /// Median and 99th percentile of a call's simulated duration, ms.
    pub duration_p50_ms: u64,
    pub duration_p99_ms: u64,
    /// The simulator's counters at the end.
    pub sim: ari_sim::SimStats,
    /// Every call's result, when the plan asked for them.
    #[serde(default)]
    pub results: Vec<ari_sim::CallResult>,
    /// Per call that got there, simulated ms from the plan's [`ReadbackMark`] key to the number's
    /// read-back starting (sorted).
    #[serde(default)]
    pub readback_ms: Vec<u64>,
}

/// What the child says.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildMessage {
    /// The simulator listens; connect the engine here.
    Ready {
        addr: String,
        username: String,
        password: String,
    },
    /// Every call has been placed (the sustained phase is over).
    PlacingDone { placed: u64, seconds: f64 },
    /// Every call has ended (or the finish timeout ran out).
    Done(Box<CallsSummary>),
    /// The child could not go on.
    Failed { error: String },
    /// A fault the parent asked for was injected (`error`: it could not be).
    Injected { error: Option<String> },
    /// The simulator's counters, as the parent asked.
    Stats(Box<ari_sim::SimStats>),
}

/// How the child simulator is set up (`helpline bench load-sim` arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct SimChildArgs {
    /// Simulation speed factor (every simulated duration is divided by it).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Directory with the prompts (`<dir>/<lang>/helpline/<prompt>.wav`).
    #[arg(long)]
    pub sounds: PathBuf,
    /// Where the simulator writes recordings.
    #[arg(long)]
    pub recordings: PathBuf,
    /// The dialplan helpline expects of its Asterisk (`app::simulator_config`: an apology when the app
    /// is not connected, the `fallback` extension, agents and the integrated helplines) instead of the
    /// simulator's default one.
    #[arg(long)]
    pub helpline_dialplan: bool,
}

/// The child side: runs the simulator and the generator; returns when its stdin closes.
pub async fn child_main(args: SimChildArgs) -> Result<(), BenchError> {
    let base = if args.helpline_dialplan {
        crate::app::simulator_config(ARI_APP, &args.sounds, args.speed)
    } else {
        ari_sim::SimConfig::default()
    };
    let config = ari_sim::SimConfig {
        speed: args.speed,
        sounds_dirs: vec![args.sounds],
        recordings_dir: Some(args.recordings),
        // The benchmark holds thousands of calls; a stuck socket must not be taken for a slow one.
        ws_buffer: 1 << 16,
        ..base
    };
    let sim = ari_sim::Simulator::start(config)
        .await
        .map_err(|e| BenchError::Sim(e.to_string()))?;
    say(&ChildMessage::Ready {
        addr: sim.addr().to_string(),
        username: sim.username().to_owned(),
        password: sim.password().to_owned(),
    })
    .await?;
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let plan = match stdin.next_line().await.map_err(BenchError::ChildIo)? {
        Some(line) => serde_json::from_str::<RunPlan>(&line)
            .map_err(|e| BenchError::Protocol(format!("bad run plan: {e}")))?,
        // The parent went away before starting: nothing to do.
        None => {
            return sim
                .shutdown()
                .await
                .map_err(|e| BenchError::Sim(e.to_string()));
        }
    };
    let outcome = tokio::select! {
        outcome = generate(&sim, &plan) => outcome,
        // The parent is gone (stdin closed): stop at once.
        _ = obey(&sim, &mut stdin) => return sim.shutdown().await.map_err(|e| BenchError::Sim(e.to_string())),
    };
    match outcome {
        Ok(summary) => say(&ChildMessage::Done(Box::new(summary))).await?,
        Err(error) => {
            say(&ChildMessage::Failed {
                error: error.to_string(),
            })
            .await?;
        }
    }
    obey(&sim, &mut stdin).await;
    sim.shutdown()
        .await
        .map_err(|e| BenchError::Sim(e.to_string()))
}

/// Carries out the parent's commands until its stdin closes.
async fn obey(sim: &ari_sim::SimHandle, lines: &mut tokio::io::Lines<BufReader<tokio::io::Stdin>>) {
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = match serde_json::from_str::<ParentCommand>(&line) {
            Ok(ParentCommand::Inject(fault)) => ChildMessage::Injected {
                error: sim.inject(fault).await.err().map(|e| e.to_string()),
            },
            Ok(ParentCommand::Stats) => match sim.stats().await {
                Ok(stats) => ChildMessage::Stats(Box::new(stats)),
                Err(e) => ChildMessage::Failed {
                    error: e.to_string(),
                },
            },
            Err(e) => ChildMessage::Injected {
                error: Some(format!("bad command ({e}): {line}")),
            },
        };
        if say(&answer).await.is_err() {
            return;
        }
    }
}

/// One message line at a time on stdout (the generator and [`obey`] both speak).
static STDOUT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn say(message: &ChildMessage) -> Result<(), BenchError> {
    let mut line = serde_json::to_string(message)
        .map_err(|e| BenchError::Protocol(format!("cannot encode a message: {e}")))?;
    line.push('\n');
    let _one_at_a_time = STDOUT.lock().await;
    let mut out = tokio::io::stdout();
    out.write_all(line.as_bytes())
        .await
        .map_err(BenchError::ChildIo)?;
    out.flush().await.map_err(BenchError::ChildIo)
}

/// Calls that should have been placed `t` seconds in: a linear ramp to `rate`, then `rate` per second.
pub fn calls_due(plan: &RunPlan, t: f64) -> u64 {
    let ramp = plan.ramp_seconds.max(0.0);
    let due = if t < ramp {
        plan.rate * t * t / (2.0 * ramp)
    } else {
        plan.rate * ramp / 2.0 + plan.rate * (t - ramp)
    };
    (due.floor().max(0.0) as u64).min(plan.calls)
}

async fn generate(sim: &ari_sim::SimHandle, plan: &RunPlan) -> Result<CallsSummary, BenchError> {
    let mut summary = CallsSummary::default();
    let start = Instant::now();
    let mut placed = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while placed < plan.calls {
        tick.tick().await;
        let due = calls_due(plan, start.elapsed().as_secs_f64());
        while placed < due {
            let mut scenario = plan.scenario.clone();
            scenario.caller = format!("98{:08}", placed % 100_000_000);
            scenario.name = format!("load-{placed}");
            match sim.place_call(scenario).await {
                Ok(_) => summary.placed += 1,
                Err(_) => summary.place_errors += 1,
            }
            placed += 1;
        }
    }
    say(&ChildMessage::PlacingDone {
        placed,
        seconds: start.elapsed().as_secs_f64(),
    })
    .await?;

    let deadline = Instant::now() + Duration::from_secs_f64(plan.finish_timeout_seconds.max(1.0));
    loop {
        let stats = sim
            .stats()
            .await
            .map_err(|e| BenchError::Sim(e.to_string()))?;
        if stats.calls_completed + stats.calls_failed >= summary.placed
            || Instant::now() >= deadline
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let results = sim
        .results()
        .await
        .map_err(|e| BenchError::Sim(e.to_string()))?;
    let mut durations = Vec::with_capacity(results.len());
    for result in &results {
        durations.push(result.duration_ms);
        if let Some(ms) = plan.readback.as_ref().and_then(|mark| mark.measure(result)) {
            summary.readback_ms.push(ms);
        }
        match judge(result, &plan.must_hear) {
            Ok(()) => summary.as_scripted += 1,
            Err(reason) => {
                summary.not_as_scripted += 1;
                if summary.failures.len() < 20 || summary.failures.contains_key(&reason) {
                    *summary.failures.entry(reason).or_default() += 1;
                }
            }
        }
    }
    summary.unfinished = summary.placed.saturating_sub(results.len() as u64);
    durations.sort_unstable();
    let at = |q: f64| {
        durations
            .get(((durations.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0)
    };
    summary.readback_ms.sort_unstable();
    summary.duration_p50_ms = at(0.5);
    summary.duration_p99_ms = at(0.99);
    summary.sim = sim
        .stats()
        .await
        .map_err(|e| BenchError::Sim(e.to_string()))?;
    if plan.return_results {
        summary.results = results;
    }
    Ok(summary)
}

/// Whether one call went as scripted; the reason when not.
fn judge(result: &ari_sim::CallResult, must_hear: &[String]) -> Result<(), String> {
    if let ari_sim::CallOutcome::Failed { reason } = &result.outcome {
        // Reasons name the step and what was missing; drop per-call numbers so they group.
        let reason: String = reason.chars().filter(|c| !c.is_ascii_digit()).collect();
        return Err(format!("caller: {reason}"));
    }
    if result.hung_up_by != ari_sim::HungUpBy::Network {
        return Err("the caller, not the IVR, ended the call".to_owned());
    }
    for wanted in must_hear {
        if !result
            .heard
            .iter()
            .any(|h| h.media_uri.starts_with(wanted.as_str()) && h.state == "done")
        {
            return Err(format!("never heard {wanted} to its end"));
        }
    }
    Ok(())
}

/// The parent's handle on the child simulator.
#[derive(Debug)]
pub struct SimProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: tokio::io::Lines<BufReader<ChildStdout>>,
    /// `http://ADDR/ari`.
    pub base_url: String,
    pub username: String,
    pub password: String,
}

impl SimProcess {
    /// Starts `exe bench load-sim …` and waits until its simulator listens.
    pub async fn spawn(
        exe: &std::path::Path,
        args: &SimChildArgs,
        startup_timeout: Duration,
    ) -> Result<SimProcess, BenchError> {
        let mut child = tokio::process::Command::new(exe)
            .arg("bench")
            .arg("load-sim")
            .arg("--speed")
            .arg(args.speed.to_string())
            .arg("--sounds")
            .arg(&args.sounds)
            .arg("--recordings")
            .arg(&args.recordings)
            .args(args.helpline_dialplan.then_some("--helpline-dialplan"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BenchError::Spawn {
                exe: exe.to_owned(),
                source,
            })?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Protocol("the child has no stdout".to_owned()))?;
        let mut process = SimProcess {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            base_url: String::new(),
            username: String::new(),
            password: String::new(),
        };
        match tokio::time::timeout(startup_timeout, process.next_message()).await {
            Ok(Ok(ChildMessage::Ready {
                addr,
                username,
                password,
            })) => {
                process.base_url = format!("http://{addr}/ari");
                process.username = username;
                process.password = password;
                Ok(process)
            }
            Ok(Ok(ChildMessage::Failed { error })) => Err(BenchError::Sim(error)),
            Ok(Ok(other)) => Err(BenchError::Protocol(format!(
                "expected the ready message, got {other:?}"
            ))),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(BenchError::Protocol(format!(
                "the simulator did not start within {startup_timeout:?}"
            ))),
        }
    }

    /// Starts the generator.
    pub async fn run(&mut self, plan: &RunPlan) -> Result<(), BenchError> {
        self.write_line(plan, "the run plan").await
    }

    /// Sends the child a command. Its answer comes with the other messages.
    pub async fn send(&mut self, command: &ParentCommand) -> Result<(), BenchError> {
        self.write_line(command, "a command").await
    }

    async fn write_line(&mut self, value: &impl Serialize, what: &str) -> Result<(), BenchError> {
        let mut line = serde_json::to_string(value)
            .map_err(|e| BenchError::Protocol(format!("cannot encode {what}: {e}")))?;
        line.push('\n');
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| BenchError::Protocol("the child's stdin is closed".to_owned()))?;
        stdin
            .write_all(line.as_bytes())
            .await
            .map_err(BenchError::ChildIo)?;
        stdin.flush().await.map_err(BenchError::ChildIo)
    }

    /// The child's next message (cancel-safe: a partial line stays buffered).
    pub async fn next_message(&mut self) -> Result<ChildMessage, BenchError> {
        match self.lines.next_line().await.map_err(BenchError::ChildIo)? {
            Some(line) => serde_json::from_str(&line).map_err(|e| {
                BenchError::Protocol(format!("bad message from the child ({e}): {line}"))
            }),
            None => Err(BenchError::Protocol(
                "the simulator process ended unexpectedly".to_owned(),
            )),
        }
    }

    /// Closes the child's stdin and waits for it to exit (killing it after `grace`).
    pub async fn stop(mut self, grace: Duration) {
        self.stdin = None;
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readback_is_timed_from_the_last_press_of_its_key_before_it() {
        let result: ari_sim::CallResult = serde_json::from_value(serde_json::json!({
            "call_id": 1, "scenario": "", "channel_id": "c", "caller": "98",
            "heard": [
                {"media_uri": "sound:helpline/main_menu", "language": "hi", "playback_id": "p1",
                 "started_ms": 100, "finished_ms": 900, "state": "done"},
                {"media_uri": "sound:helpline/your_number_is", "language": "hi", "playback_id": "p2",
                 "started_ms": 5_030, "finished_ms": 6_000, "state": "done"}
            ],
            "digits_sent": "1#", "keys_at": [["1", 1_000], ["#", 5_000], ["#", 7_000]],
            "recordings": [], "hung_up_by": "network", "transferred_to": null, "cause": 16,
            "cause_txt": "Normal Clearing", "answered_ms": 0, "duration_ms": 8_000,
            "outcome": {"status": "completed"}
        }))
        .unwrap();
        let mark = |key: char, media: &str| ReadbackMark {
            key,
            media: media.to_owned(),
        };
        assert_eq!(
            mark('#', "sound:helpline/your_number_is").measure(&result),
            Some(30)
        );
        // A key pressed only after it, or a prompt never heard: nothing to measure.
        assert_eq!(
            mark('*', "sound:helpline/your_number_is").measure(&result),
            None
        );
        assert_eq!(mark('#', "sound:helpline/goodbye").measure(&result), None);
    }

    fn plan(calls: u64, rate: f64, ramp: f64) -> RunPlan {
        RunPlan {
            calls,
            rate,
            ramp_seconds: ramp,
            scenario: ari_sim::Scenario::new("1"),
            must_hear: Vec::new(),
            finish_timeout_seconds: 1.0,
            return_results: false,
            readback: None,
        }
    }

    #[test]
    fn the_pace_ramps_then_holds_and_stops_at_the_total() {
        let p = plan(1000, 100.0, 10.0);
        assert_eq!(calls_due(&p, 0.0), 0);
        // Half-way up the ramp: a quarter of the ramp's calls.
        assert_eq!(calls_due(&p, 5.0), 125);
        assert_eq!(calls_due(&p, 10.0), 500);
        assert_eq!(calls_due(&p, 12.0), 700);
        assert_eq!(calls_due(&p, 60.0), 1000);
        let no_ramp = plan(50, 10.0, 0.0);
        assert_eq!(calls_due(&no_ramp, 1.5), 15);
    }
}
