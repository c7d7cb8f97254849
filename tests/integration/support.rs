//! Shared set-up for the integration tests: a simulator and a helpline node on a fresh SQLite database in a
//! temporary folder, scenario-building shorthands, helpers to read what a call heard, and
//! [`eventually`], the one way these tests wait for what the node does.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ari_sim::{CallResult, Scenario, SimHandle, Simulator, Step};
use chrono::TimeZone;
use helpline::app::{AriEndpoint, Node, NodeOptions, simulator_config};
use helpline::config::{Config, RawConfig};
use helpline::engine::WallClock;
use sqlx::Connection as _;
pub use tempfile::TempDir;
pub use testkit::eventually;

/// Simulated seconds per real second: prompts of several seconds take a fraction of a second, with room
/// left for a loaded CI machine (the engine's own latency counts in simulated time).
pub const SPEED: f64 = 25.0;
/// How long (real time) a test waits for one simulated call to end.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary folder named after the test, removed on drop.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("helpline-it-{tag}-"))
        .tempdir()
        .unwrap()
}

/// A wall clock fixed at a moment in India (+05:30).
pub fn ist(y: i32, m: u32, d: u32, h: u32, min: u32) -> WallClock {
    let offset = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let at = offset.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
    Arc::new(move || at)
}

/// Tuesday 1 December 2026, 10:00 IST: office hours.
pub fn office_hours() -> WallClock {
    ist(2026, 12, 1, 10, 0)
}

/// Tuesday 1 December 2026, 21:00 IST: after hours.
pub fn night() -> WallClock {
    ist(2026, 12, 1, 21, 0)
}

/// The configuration of a test node in `dir`, on `database_url` (default: SQLite in `dir`); `limits` are
/// extra keys of the `[limits]` section.
pub fn config(dir: &Path, database_url: Option<&str>, limits: &str) -> Config {
    let db = database_url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}/helpline.db", dir.display()));
    let text = format!(
        "[database]\nurl = \"{db}\"\n\
         [storage]\njournal_dir = \"{d}/journal\"\nrecordings_dir = \"{d}/recordings\"\n\
         [ivr]\nscripts_dir = \"{r}/ivr-scripts\"\naudio_dir = \"{r}/audio\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n\
         [limits]\nshutdown_grace_seconds = 5\n{limits}",
        d = dir.display(),
        r = repo().display(),
    );
    let mut raw = RawConfig::default();
    raw.read_toml(&text, Path::new("test.toml"));
    raw.validate().unwrap()
}

/// A simulator and a node driving it.
pub struct TestNode {
    pub sim: SimHandle,
    pub node: Node,
    pub config: Config,
    /// Holds the database, journal and recordings; removed when the test ends.
    _dir: TempDir,
}

impl TestNode {
    pub async fn start(tag: &str, clock: WallClock) -> TestNode {
        Self::start_with(tag, clock, None, "", SPEED).await
    }

    /// A node on `database_url` whose simulated Asterisk has its own entity id.
    pub async fn start_on_database(tag: &str, database_url: &str, asterisk_id: &str) -> TestNode {
        Self::start_full(tag, office_hours(), Some(database_url), "", SPEED, |sim| {
            sim.asterisk_id = asterisk_id.to_owned();
        })
        .await
    }

    pub async fn start_with(
        tag: &str,
        clock: WallClock,
        database_url: Option<&str>,
        limits: &str,
        speed: f64,
    ) -> TestNode {
        Self::start_full(tag, clock, database_url, limits, speed, |_| {}).await
    }

    pub async fn start_full(
        tag: &str,
        clock: WallClock,
        database_url: Option<&str>,
        limits: &str,
        speed: f64,
        tweak_sim: impl FnOnce(&mut ari_sim::SimConfig),
    ) -> TestNode {
        let dir = temp_dir(tag);
        let config = config(dir.path(), database_url, limits);
        Self::launch(dir, config, clock, speed, tweak_sim).await
    }

    /// A node whose configuration `tweak` changes first (e.g. its HTTP edge limits).
    pub async fn start_configured(tag: &str, tweak: impl FnOnce(&mut Config)) -> TestNode {
        let dir = temp_dir(tag);
        let mut config = config(dir.path(), None, "");
        tweak(&mut config);
        Self::launch(dir, config, office_hours(), SPEED, |_| {}).await
    }

    async fn launch(
        dir: TempDir,
        config: Config,
        clock: WallClock,
        speed: f64,
        tweak_sim: impl FnOnce(&mut ari_sim::SimConfig),
    ) -> TestNode {
        // RUST_LOG=helpline=debug shows the engine's steps when a test fails; quiet otherwise.
        if std::env::var_os("RUST_LOG").is_some() {
            helpline::telemetry::init("warn", helpline::telemetry::LogFormat::Text);
        }
        let mut sim_config = simulator_config(&config.ari_app, &config.ivr.audio_dir, speed);
        tweak_sim(&mut sim_config);
        let sim = Simulator::start(sim_config).await.unwrap();
        let node = Node::start(
            &config,
            NodeOptions {
                ari: AriEndpoint::simulator(&sim),
                clock,
                speed,
            },
        )
        .await
        .unwrap();
        assert!(
            node.wait_connected(Duration::from_secs(10)).await,
            "ARI connected"
        );
        wait_app_registered(&sim).await;
        TestNode {
            sim,
            node,
            config,
            _dir: dir,
        }
    }

    /// The parts, for a test that runs its own nodes on this simulator, database and folder.
    pub fn into_parts(self) -> (SimHandle, Node, Config, TempDir) {
        (self.sim, self.node, self.config, self._dir)
    }

    /// Places a call and waits for it to end.
    pub async fn call(&self, scenario: Scenario) -> CallResult {
        let id = self.sim.place_call(scenario).await.unwrap();
        self.sim.call_result(id, CALL_TIMEOUT).await.unwrap()
    }

    /// The ticket of a complaint number read back to a caller; it must be in the database.
    pub async fn ticket(&self, number: &str) -> tickets::Ticket {
        let number = number.parse().expect("a complaint number");
        self.node
            .tickets()
            .ticket(number)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("ticket {number} is not in the database"))
    }

    /// Waits until no call task runs (a call the simulator reports ended may still be finishing).
    pub async fn wait_until_idle(&self) {
        self.wait_for_calls_in_progress(0).await;
    }

    /// Waits until exactly `count` call tasks run.
    pub async fn wait_for_calls_in_progress(&self, count: u64) {
        eventually(
            Duration::from_secs(10),
            &format!("{count} calls in progress"),
            || async {
                let stats = self.node.stats().snapshot();
                if stats.calls_in_progress == count {
                    Ok(())
                } else {
                    Err(stats)
                }
            },
        )
        .await;
    }

    pub async fn stop(self) {
        self.node.shutdown().await;
        self.sim.shutdown().await.unwrap();
    }
}

/// Waits until the simulator has registered the app's WebSocket (the client may see the handshake
/// complete a moment before), so the first call is not refused with `STASISSTATUS=FAILED`.
pub async fn wait_app_registered(sim: &SimHandle) {
    eventually(
        Duration::from_secs(2),
        "the simulator to register the app's WebSocket",
        || async {
            let stats = sim.stats().await.unwrap();
            if stats.websockets >= 1 {
                Ok(())
            } else {
                Err(stats)
            }
        },
    )
    .await;
}

// ----- scenario shorthands ------------------------------------------------------------------------

/// Waits for one of our prompts to start.
pub fn prompt(id: &str) -> Step {
    Step::WaitPrompt {
        sound: Some(format!("helpline/{id}")),
        timeout_seconds: 600.0,
    }
}

/// Waits for the beep that starts a recording: a citizen speaks after it.
pub fn beep() -> Step {
    Step::WaitPrompt {
        sound: Some("beep".to_owned()),
        timeout_seconds: 600.0,
    }
}

pub fn press(digits: &str) -> Step {
    Step::Press {
        digits: digits.to_owned(),
        gap_ms: 200,
        duration_ms: 100,
    }
}

pub fn speak(seconds: f64) -> Step {
    Step::Speak { seconds }
}

pub fn silence(seconds: f64) -> Step {
    Step::Silence { seconds }
}

pub fn wait(seconds: f64) -> Step {
    Step::Wait { seconds }
}

pub fn hangup() -> Step {
    Step::Hangup
}

pub fn wait_hangup() -> Step {
    Step::WaitHangup {
        timeout_seconds: 600.0,
    }
}

pub fn scenario(caller: &str, steps: Vec<Step>) -> Scenario {
    let mut scenario = Scenario::new(caller);
    scenario.steps = steps;
    scenario
}

// ----- reading results ----------------------------------------------------------------------------

/// Our prompts the caller heard, in order (`helpline/` dropped), plus `digits:…` media as they are.
pub fn heard(result: &CallResult) -> Vec<String> {
    result
        .heard
        .iter()
        .map(|m| {
            m.media_uri
                .strip_prefix("sound:helpline/")
                .map(str::to_owned)
                .unwrap_or_else(|| m.media_uri.clone())
        })
        .collect()
}

/// The complaint number read back to the caller (the first `digits:` media of ten digits).
pub fn number_read_back(result: &CallResult) -> Option<String> {
    result.heard.iter().find_map(|m| {
        let digits = m.media_uri.strip_prefix("digits:")?;
        (digits.len() == 10).then(|| digits.to_owned())
    })
}

/// The registration flow of one citizen (language key, department key), ending with goodbye.
pub fn registration(language: &str, department: &str, seconds: f64) -> Vec<Step> {
    vec![
        prompt("welcome"),
        press(language),
        prompt("main_menu"),
        press("1"),
        prompt("category_menu"),
        press(department),
        prompt("record_instructions"),
        beep(),
        speak(seconds),
        press("#"),
        prompt("record_confirm"),
        press("1"),
        prompt("anything_else"),
        press("2"),
        wait_hangup(),
    ]
}

/// `HELPLINE_TEST_POSTGRES_URL`, or `None` (skip) outside CI; in CI its absence is a failure.
pub fn postgres_url() -> Option<String> {
    match std::env::var("HELPLINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but HELPLINE_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run in CI"
            )
        }
        _ => {
            println!(
                "skipped: HELPLINE_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A fresh schema for this test, dropped on drop (best effort).
pub struct Schema {
    url: String,
    name: String,
}

impl Schema {
    pub async fn create(url: &str) -> Schema {
        let name = format!(
            "helpline_test_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        Schema {
            url: url.to_owned(),
            name,
        }
    }

    /// The database URL with this schema as its search path.
    pub fn database_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options%5Bsearch_path%5D={}", self.url, self.name)
    }

    pub async fn drop_now(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.url).await {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

/// Writes a 16-bit mono 8 kHz WAV: `seconds` of a loud tone (speech to the analyser) or of silence.
pub fn write_wav(dir: &Path, name: &str, seconds: f64, loud: bool) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(dir.join(format!("{name}.wav")), spec).unwrap();
    let samples = (seconds * 8000.0) as usize;
    for i in 0..samples {
        let value = if loud {
            (f64::sin(i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0) * 12000.0) as i16
        } else {
            0
        };
        writer.write_sample(value).unwrap();
    }
    writer.finalize().unwrap();
}

/// An API token acting as a new user with `role` (an integration: a token with the default
/// scopes). The user's password is never used: these tests authenticate by token.
pub async fn role_token(
    store: &tickets::Store,
    role: tickets::Role,
    department: Option<&str>,
) -> String {
    static USERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = USERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = chrono::Utc::now();
    let owner = if role == tickets::Role::Integration {
        tickets::tokens::NewTokenFor::Integration {
            name: format!("bot-{n}"),
            scopes: vec![],
        }
    } else {
        let login = format!("{role}-{n}");
        store
            .insert_user(&login, &format!("Test {role}"), role, department, "-", now)
            .await
            .unwrap()
            .unwrap();
        tickets::tokens::NewTokenFor::User(login)
    };
    tickets::tokens::create_token(store, owner, None, None, "test", now)
        .await
        .unwrap()
        .token
}

/// Waits (generously) until the node's records store holds the call on `channel`.
pub async fn record_of(t: &TestNode, channel: &str) -> records::CallRecord {
    eventually(
        std::time::Duration::from_secs(10),
        &format!("a call record for {channel}"),
        || async {
            let found = t
                .node
                .call_records()
                .calls(&Default::default())
                .await
                .unwrap();
            let channels: Vec<String> = found.iter().map(|r| r.channel_id.clone()).collect();
            found
                .into_iter()
                .find(|r| r.channel_id == channel)
                .ok_or(channels)
        },
    )
    .await
}

/// A complaint from `+91<caller>` recorded after hours in Hindi: flagged for a call-back.
pub async fn after_hours_complaint(
    t: &TestNode,
    call_id: &str,
    caller: &str,
    department: &str,
) -> tickets::ComplaintNumber {
    t.node
        .tickets()
        .create_from_call(tickets::NewCallTicket {
            call_id: call_id.to_owned(),
            caller_number: format!("+91{caller}"),
            caller_raw: None,
            language: "hi".to_owned(),
            department_code: department.to_owned(),
            category: None,
            district: None,
            recording: None,
            after_hours: true,
        })
        .await
        .unwrap()
}

/// A citizen at `caller` who waits for the helpline's call (never dialling in), answers it, talks
/// to the agent for `talk` s and hangs up.
pub fn answers_the_call_back(caller: &str, talk: f64) -> ari_sim::Scenario {
    scenario(
        caller,
        vec![
            ari_sim::Step::AwaitCallback {
                timeout_seconds: 600.0,
                answers: vec![ari_sim::EndpointBehaviour::answer(1.0)],
            },
            ari_sim::Step::WaitAgent {
                timeout_seconds: 60.0,
                abandon: false,
            },
            wait(talk),
            hangup(),
        ],
    )
}
