//! `helpline demo`: the whole helpline on one machine with nothing to set up. Starts the simulator, a node
//! with the 1100 script on the configured (default: local SQLite) database and the HTTP API, then places a
//! steady stream of simulated citizens with a mix of behaviours — registering in Hindi and in English, asking
//! the status of a real earlier complaint, pressing wrong keys, hanging up midway or during the recording,
//! staying silent at the beep — and reports progress, then a summary. Tickets stay in the database, so
//! `helpline tickets list` in the same folder shows them afterwards.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ari_sim::{CallOutcome, CallResult, Scenario, SimHandle, Simulator, Step};
use chrono::{Datelike, NaiveTime, TimeZone};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{self, AppError, AriEndpoint, Node, NodeOptions};
use crate::config::Config;
use crate::engine::{StatsSnapshot, WallClock};

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Stop after this many calls (`None`: until cancelled).
    pub calls: Option<u64>,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Calls in progress at most.
    pub concurrency: usize,
    /// Simulated seconds between two new calls.
    pub interval_seconds: f64,
    /// Use the real wall clock for office hours (out of hours, every caller leaves a message); by default
    /// the demo runs at 11:00 IST on the next working day so the whole menu is shown.
    pub real_clock: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            calls: None,
            speed: 10.0,
            concurrency: 8,
            interval_seconds: 4.0,
            real_clock: false,
        }
    }
}

/// The kinds of simulated citizen the demo places, in rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CitizenKind {
    /// Registers a complaint in Hindi.
    RegisterHindi,
    /// Registers a complaint in English.
    RegisterEnglish,
    /// Asks the status of a complaint registered earlier in the run.
    StatusEnquiry,
    /// Presses keys the menu does not offer until the IVR hands the call to an agent.
    WrongKeys,
    /// Hangs up at the main menu.
    HangsUpMidway,
    /// Speaks, then hangs up during the recording: still gets a ticket.
    HangsUpWhileRecording,
    /// Says nothing at the beep, then gives up.
    SilentRecording,
    /// Presses 0, waits for one of the demo's agents, talks, hangs up.
    AsksForAgent,
}

impl CitizenKind {
    const ROTATION: [CitizenKind; 12] = [
        CitizenKind::RegisterHindi,
        CitizenKind::AsksForAgent,
        CitizenKind::RegisterEnglish,
        CitizenKind::StatusEnquiry,
        CitizenKind::RegisterHindi,
        CitizenKind::AsksForAgent,
        CitizenKind::WrongKeys,
        CitizenKind::HangsUpMidway,
        CitizenKind::RegisterEnglish,
        CitizenKind::StatusEnquiry,
        CitizenKind::HangsUpWhileRecording,
        CitizenKind::SilentRecording,
    ];

    /// The label in progress lines and the summary.
    pub fn label(self) -> &'static str {
        match self {
            CitizenKind::RegisterHindi => "register (Hindi)",
            CitizenKind::RegisterEnglish => "register (English)",
            CitizenKind::StatusEnquiry => "status enquiry",
            CitizenKind::WrongKeys => "wrong keys → agent",
            CitizenKind::HangsUpMidway => "hung up midway",
            CitizenKind::HangsUpWhileRecording => "hung up while recording",
            CitizenKind::SilentRecording => "silent recording",
            CitizenKind::AsksForAgent => "asks for an agent",
        }
    }
}

fn prompt(id: &str) -> Step {
    Step::WaitPrompt {
        sound: Some(format!("helpline/{id}")),
        timeout_seconds: 120.0,
    }
}

fn press(digits: &str) -> Step {
    Step::Press {
        digits: digits.to_owned(),
        gap_ms: 250,
        duration_ms: 120,
    }
}

/// The scenario of citizen number `n` of kind `kind`; `earlier` is a complaint number from this run.
pub fn citizen(n: u64, kind: CitizenKind, earlier: Option<&str>) -> Scenario {
    let caller = format!("98{:08}", 16_000_000 + n % 1_000_000);
    let department = ((n % 9) + 1).to_string();
    let register = |language: &str, speak: bool| {
        let mut steps = vec![
            prompt("welcome"),
            press(language),
            prompt("main_menu"),
            press("1"),
            prompt("category_menu"),
            press(&department),
            prompt("record_instructions"),
            Step::WaitPromptEnd {
                timeout_seconds: 120.0,
            },
        ];
        if speak {
            steps.extend([
                Step::Speak {
                    seconds: 3.0 + (n % 4) as f64,
                },
                press("#"),
                prompt("record_confirm"),
                press("1"),
                prompt("complaint_registered"),
                prompt("anything_else"),
                press("2"),
                prompt("goodbye"),
                Step::WaitHangup {
                    timeout_seconds: 120.0,
                },
            ]);
        }
        steps
    };
    let steps = match (kind, earlier) {
        (CitizenKind::RegisterHindi, _) | (CitizenKind::StatusEnquiry, None) => register("1", true),
        (CitizenKind::RegisterEnglish, _) => register("2", true),
        (CitizenKind::StatusEnquiry, Some(number)) => vec![
            prompt("welcome"),
            press("2"),
            prompt("main_menu"),
            press("2"),
            prompt("enter_complaint_number"),
            press(number),
            prompt("status_intro"),
            prompt("anything_else"),
            press("2"),
            prompt("goodbye"),
            Step::WaitHangup {
                timeout_seconds: 120.0,
            },
        ],
        (CitizenKind::WrongKeys, _) => vec![
            prompt("welcome"),
            press("2"),
            prompt("main_menu"),
            press("7"),
            prompt("invalid_choice"),
            press("8"),
            prompt("invalid_choice"),
            press("9"),
            prompt("connecting_agent"),
            Step::Wait { seconds: 30.0 },
            Step::Hangup,
        ],
        (CitizenKind::AsksForAgent, _) => vec![
            prompt("welcome"),
            press(if n.is_multiple_of(2) { "1" } else { "2" }),
            prompt("main_menu"),
            press("0"),
            prompt("connecting_agent"),
            // Put through to an agent (or, with all of them busy too long, a complaint for a
            // call-back: the queue's rules), then a short conversation.
            Step::WaitAgent {
                timeout_seconds: 300.0,
                abandon: true,
            },
            Step::Wait { seconds: 25.0 },
            Step::Hangup,
        ],
        (CitizenKind::HangsUpMidway, _) => {
            vec![
                prompt("welcome"),
                press("1"),
                prompt("main_menu"),
                Step::Hangup,
            ]
        }
        (CitizenKind::HangsUpWhileRecording, _) => {
            let mut steps = register("1", false);
            steps.extend([Step::Speak { seconds: 4.0 }, Step::Hangup]);
            steps
        }
        (CitizenKind::SilentRecording, _) => {
            let mut steps = register("2", false);
            steps.extend([
                Step::Silence { seconds: 8.0 },
                prompt("no_speech"),
                Step::Wait { seconds: 1.0 },
                Step::Hangup,
            ]);
            steps
        }
    };
    let mut scenario = Scenario::new(caller);
    scenario.name = kind.label().to_owned();
    scenario.steps = steps;
    scenario
}

/// A clock fixed at 11:00 in the script's time zone on the next day its office is open.
pub fn office_hours_clock(script: &ivr::Script) -> WallClock {
    let offset = script.utc_offset;
    let eleven = NaiveTime::from_hms_opt(11, 0, 0).expect("11:00 is a time");
    let mut date = chrono::Utc::now().with_timezone(&offset).date_naive();
    if let Some(hours) = &script.office_hours {
        for _ in 0..30 {
            if hours.is_open(date, eleven) {
                break;
            }
            date = date.succ_opt().unwrap_or(date);
        }
    } else if date.weekday() == chrono::Weekday::Sun {
        date = date.succ_opt().unwrap_or(date);
    }
    let at = offset
        .from_local_datetime(&date.and_time(eleven))
        .single()
        .expect("a fixed offset has no gaps");
    Arc::new(move || at)
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Calls placed.
    pub placed: u64,
    /// Calls that ended, by kind: (all, every step ran as the citizen expected).
    pub by_kind: BTreeMap<CitizenKind, (u64, u64)>,
    /// The engine's counters at the end.
    pub engine: StatsSnapshot,
    /// Complaint numbers read back to callers.
    pub numbers: Vec<String>,
    /// The demo's API token: the `demo` user's, living [`DEMO_TOKEN_TTL`].
    pub token: String,
    /// When that token stops working.
    pub token_expires_at: chrono::DateTime<chrono::Utc>,
    /// The demo's login (user [`DEMO_LOGIN`], a supervisor) and its password, new each run.
    pub login: String,
    pub password: String,
    /// Where the HTTP API listened.
    pub http_addr: std::net::SocketAddr,
    /// The confirmation call at the end: a complaint resolved, its citizen called back, and the
    /// status it was left in (`None`: the demo was stopped first, or it could not be set up).
    pub confirmation: Option<DemoConfirmation>,
}

/// The demo's confirmation call.
#[derive(Debug, Clone)]
pub struct DemoConfirmation {
    pub number: String,
    /// How the simulated citizen's call went (every step as they meant: heard the question, pressed 1).
    pub answered: bool,
    pub status: tickets::TicketStatus,
}

impl DemoSummary {
    /// Calls that ended.
    pub fn ended(&self) -> u64 {
        self.by_kind.values().map(|(all, _)| all).sum()
    }

    /// Calls whose citizen did everything they meant to.
    pub fn as_expected(&self) -> u64 {
        self.by_kind.values().map(|(_, ok)| ok).sum()
    }
}

/// Progress the demo reports while it runs (the CLI prints it; tests ignore it).
#[derive(Debug, Clone)]
pub struct Progress {
    pub placed: u64,
    pub ended: u64,
    pub engine: StatsSnapshot,
}

/// What the demo tells once its node runs: where its pages and API are, and how to log in.
#[derive(Debug, Clone)]
pub struct DemoReady {
    /// Where the pages (`/`) and the API (`/api/v1`) listen.
    pub http_addr: std::net::SocketAddr,
    /// The demo user (a supervisor: the wallboard, the reports, the desk) and its password, new
    /// on every run.
    pub login: String,
    pub password: String,
    /// An API token of the demo user.
    pub token: String,
}

/// Runs the demo until `options.calls` have ended or `stop` is cancelled; `on_progress` is called about
/// twice a second, `on_ready` once the node runs (its pages' address, the login, the API token).
pub async fn run(
    config: &Config,
    options: &DemoOptions,
    stop: CancellationToken,
    mut on_ready: impl FnMut(&DemoReady),
    mut on_progress: impl FnMut(&Progress),
) -> Result<DemoSummary, AppError> {
    let script = app::script_loader(&config.ivr)().map_err(crate::engine::EngineError::Script)?;
    let clock = if options.real_clock {
        crate::engine::system_clock()
    } else {
        office_hours_clock(&script)
    };
    let clock_for_confirmation = clock.clone();
    let speed = options.speed.max(1.0);
    let sim = Arc::new(
        Simulator::start(app::simulator_config(
            &config.ari_app,
            &config.ivr.audio_dir,
            speed,
        ))
        .await?,
    );
    // The demo must run with nothing set up: if the configured HTTP port is taken (a `serve` running, say),
    // it takes any free port instead and says which.
    let mut config = config.clone();
    // The demo serves plain HTTP on this machine: a `Secure` cookie would never come back.
    config.accounts.cookie_secure = false;
    // The demo shows a confirmation call going out (on the simulator's trunk).
    config.outbound.enabled = true;
    config.outbound.poll = Duration::from_secs(1);
    if std::net::TcpListener::bind(config.http.listen).is_err() {
        tracing::warn!(port = %config.http.listen, "the HTTP port is taken; the demo uses a free one");
        config.http.listen.set_port(0);
    }
    let node = Node::start(
        &config,
        NodeOptions {
            ari: AriEndpoint::simulator(&sim),
            clock,
            speed,
        },
    )
    .await?;
    let access = demo_access(node.tickets()).await?;
    demo_agents(&sim, &node).await?;
    on_ready(&DemoReady {
        http_addr: node.http_addr(),
        login: DEMO_LOGIN.to_owned(),
        password: access.password.clone(),
        token: access.token.clone(),
    });
    if !node.wait_connected(Duration::from_secs(10)).await {
        tracing::warn!("the simulator's event connection is not up yet; calls may be refused");
    }
    // The client sees the handshake complete a moment before the simulator registers the app.
    for _ in 0..100 {
        if sim.stats().await.is_ok_and(|s| s.websockets >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let result = place_calls(&sim, &node, options, &stop, &mut on_progress).await;
    let confirmation = if stop.is_cancelled() {
        None
    } else {
        confirmation_call(&sim, &node, &clock_for_confirmation, speed).await
    };
    let engine = node.stats().snapshot();
    let http_addr = node.http_addr();
    node.shutdown().await;
    // Every waiting task has ended, so this is the last handle; dropping a handle also stops it.
    if let Ok(sim) = Arc::try_unwrap(sim)
        && let Err(err) = sim.shutdown().await
    {
        tracing::warn!(%err, "the simulator did not stop cleanly");
    }
    let (placed, by_kind, numbers) = result;
    Ok(DemoSummary {
        placed,
        by_kind,
        engine,
        numbers,
        token: access.token,
        token_expires_at: access.token_expires_at,
        login: DEMO_LOGIN.to_owned(),
        password: access.password,
        http_addr,
        confirmation,
    })
}

/// A complaint resolved now, its citizen waiting for the helpline's call: they hear the question
/// and press 1, and the complaint is closed satisfied.
async fn confirmation_call(
    sim: &SimHandle,
    node: &Node,
    clock: &WallClock,
    speed: f64,
) -> Option<DemoConfirmation> {
    let caller = "9816099999";
    let service = node.tickets();
    let mut scenario = Scenario::new(caller);
    scenario.name = "confirmation call".to_owned();
    scenario.steps = vec![
        Step::AwaitCallback {
            timeout_seconds: 600.0,
            answers: vec![ari_sim::EndpointBehaviour::answer(2.0)],
        },
        prompt("confirm_menu"),
        press("1"),
        Step::WaitHangup {
            timeout_seconds: 60.0,
        },
    ];
    let call = match sim.place_call(scenario).await {
        Ok(call) => call,
        Err(err) => {
            tracing::warn!(%err, "demo: the confirmation call's citizen could not be set up");
            return None;
        }
    };
    let filed = service
        .create_from_call(tickets::NewCallTicket {
            call_id: format!("demo-confirm-{}", chrono::Utc::now().timestamp_millis()),
            caller_number: format!("+91{caller}"),
            caller_raw: None,
            language: "hi".to_owned(),
            department_code: "JSV".to_owned(),
            category: None,
            district: None,
            recording: None,
            after_hours: false,
        })
        .await;
    let number = match filed {
        Ok(number) => number,
        Err(err) => {
            tracing::warn!(%err, "demo: the complaint to confirm could not be filed");
            return None;
        }
    };
    let now = clock().to_utc();
    let store = service.store();
    let walked = async {
        store
            .assign(number, "ee-shimla", "system:demo", None, now)
            .await?;
        store
            .change_status(
                number,
                tickets::TicketStatus::InProgress,
                "system:demo",
                None,
                now,
            )
            .await?;
        store
            .change_status(
                number,
                tickets::TicketStatus::Resolved,
                "system:demo",
                Some("pipe repaired"),
                now,
            )
            .await
    };
    if let Err(err) = walked.await {
        tracing::warn!(%err, "demo: the complaint could not be resolved");
        return None;
    }
    let wait = Duration::from_secs_f64(900.0 / speed).max(Duration::from_secs(30));
    let answered = sim
        .call_result(call, wait)
        .await
        .is_ok_and(|r| r.outcome == CallOutcome::Completed);
    // The answer is stored once the call has ended.
    let mut status = tickets::TicketStatus::Resolved;
    for _ in 0..100 {
        if let Ok(Some(t)) = service.ticket(number).await {
            status = t.status;
            if status != tickets::TicketStatus::Resolved {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(DemoConfirmation {
        number: number.to_string(),
        answered,
        status,
    })
}

/// The demo's user: a supervisor, its password new on every run.
pub const DEMO_LOGIN: &str = "demo";
/// How long the demo's API token lives (issue 10: never an immortal one).
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

struct DemoAccess {
    password: String,
    token: String,
    token_expires_at: chrono::DateTime<chrono::Utc>,
}

/// Makes (or, on a later run in the same folder, re-keys) the `demo` user with a random password,
/// and a token of theirs that lives [`DEMO_TOKEN_TTL`].
async fn demo_access(service: &tickets::TicketService) -> Result<DemoAccess, AppError> {
    use tickets::accounts::{self, Hasher, NewUser};
    let store = service.store();
    let hasher = Hasher::default();
    let now = chrono::Utc::now();
    let password = accounts::random_password();
    let actor = "system:demo";
    if store
        .user_by_login(DEMO_LOGIN)
        .await
        .map_err(tickets::TicketError::from)?
        .is_some()
    {
        accounts::set_password(store, &hasher, DEMO_LOGIN, &password, actor, now).await?;
    } else {
        let user = NewUser {
            login: DEMO_LOGIN.to_owned(),
            display_name: "Demo supervisor".to_owned(),
            role: tickets::Role::Supervisor,
            department_code: None,
            password: password.clone(),
        };
        accounts::create_user(store, &hasher, user, actor, now).await?;
    }
    let created = tickets::tokens::create_token(
        store,
        tickets::tokens::NewTokenFor::User(DEMO_LOGIN.to_owned()),
        Some("helpline demo"),
        Some(DEMO_TOKEN_TTL),
        actor,
        now,
    )
    .await?;
    Ok(DemoAccess {
        password,
        token_expires_at: created.info.expires_at.unwrap_or(now),
        token: created.token,
    })
}

/// The demo's agents: login, name, languages, and their simulated phone (answers after 3 s).
const DEMO_AGENTS: [(&str, &str, &[&str]); 3] = [
    ("demo-asha", "Asha Verma", &["hi", "en"]),
    ("demo-ravi", "Ravi Kumar", &["hi"]),
    ("demo-meena", "Meena Thakur", &["en", "hi"]),
];

/// Makes the demo's agents (users with an agent profile, a simulated phone each) and logs them in
/// to the call centre, so a newcomer sees calls queue and connect.
async fn demo_agents(sim: &SimHandle, node: &Node) -> Result<(), AppError> {
    use tickets::accounts::agent::{AgentProfileInput, set_agent_profile};
    let Some(centre) = node.centre() else {
        return Ok(());
    };
    let store = node.tickets().store();
    let now = chrono::Utc::now();
    for (i, (login, name, languages)) in DEMO_AGENTS.iter().enumerate() {
        let resource = format!("demo-agent-{}", i + 1);
        sim.set_endpoint(ari_sim::EndpointConfig {
            technology: "PJSIP".to_owned(),
            resource: resource.clone(),
            behaviour: ari_sim::EndpointBehaviour::answer(3.0),
            context: "agents".to_owned(),
        })
        .await?;
        let exists = store
            .user_by_login(login)
            .await
            .map_err(tickets::TicketError::from)?
            .is_some();
        if !exists {
            // Nobody logs in as them with a password: a random one, never shown.
            store
                .insert_user(
                    login,
                    name,
                    tickets::Role::Agent,
                    None,
                    &tickets::accounts::random_password(),
                    now,
                )
                .await
                .map_err(tickets::TicketError::from)?;
        }
        let profile = AgentProfileInput {
            phone: Some(format!("PJSIP/{resource}")),
            languages: languages.iter().map(|l| (*l).to_owned()).collect(),
            ..AgentProfileInput::default()
        };
        let profile = set_agent_profile(store, login, &profile, "system:demo", now).await?;
        let departments = store
            .departments()
            .await
            .map_err(tickets::TicketError::from)?
            .into_iter()
            .map(|d| d.code);
        let skills = crate::centre::skills(&profile, departments).map_err(AppError::Demo)?;
        let login_input = acd::Input::LogIn {
            agent: acd::AgentId::new(login),
            phone: format!("PJSIP/{resource}"),
            skills,
        };
        // Already logged in (the state survived from an earlier run in this folder): fine.
        if let Err(err) = centre.input(login_input).await {
            tracing::debug!(%err, agent = login, "demo agent not logged in again");
        }
    }
    Ok(())
}

type Tally = (u64, BTreeMap<CitizenKind, (u64, u64)>, Vec<String>);

async fn place_calls(
    sim: &Arc<SimHandle>,
    node: &Node,
    options: &DemoOptions,
    stop: &CancellationToken,
    on_progress: &mut impl FnMut(&Progress),
) -> Tally {
    let (done_tx, mut done_rx) = mpsc::channel::<(CitizenKind, Option<CallResult>)>(64);
    let interval = Duration::from_secs_f64(options.interval_seconds / options.speed.max(1.0));
    let mut next_call = tokio::time::interval(interval.max(Duration::from_millis(10)));
    next_call.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut report = tokio::time::interval(Duration::from_millis(500));
    let stats = node.stats();
    let mut placed = 0u64;
    let mut in_flight = 0usize;
    let mut by_kind: BTreeMap<CitizenKind, (u64, u64)> = BTreeMap::new();
    let mut numbers: Vec<String> = Vec::new();
    let mut stopping = false;
    let call_timeout =
        Duration::from_secs_f64(900.0 / options.speed.max(1.0)).max(Duration::from_secs(30));
    loop {
        let want_more = !stopping && options.calls.is_none_or(|n| placed < n);
        if !want_more && in_flight == 0 {
            break;
        }
        // All branches are cancel-safe: interval ticks, an mpsc receiver and a token.
        tokio::select! {
            () = stop.cancelled(), if !stopping => stopping = true,
            _ = next_call.tick(), if want_more && in_flight < options.concurrency => {
                let mut kind =
                    CitizenKind::ROTATION[(placed % CitizenKind::ROTATION.len() as u64) as usize];
                let earlier = (!numbers.is_empty())
                    .then(|| numbers[(placed as usize) % numbers.len()].clone());
                if kind == CitizenKind::StatusEnquiry && earlier.is_none() {
                    // Nothing registered yet to ask about: this citizen registers instead.
                    kind = CitizenKind::RegisterHindi;
                }
                let scenario = citizen(placed, kind, earlier.as_deref());
                placed += 1;
                match sim.place_call(scenario).await {
                    Ok(id) => {
                        in_flight += 1;
                        let sim = Arc::clone(sim);
                        let done = done_tx.clone();
                        tokio::spawn(async move {
                            let result = sim.call_result(id, call_timeout).await.ok();
                            let _ = done.send((kind, result)).await;
                        });
                    }
                    Err(err) => tracing::warn!(%err, "could not place a simulated call"),
                }
            }
            Some((kind, result)) = done_rx.recv() => {
                in_flight -= 1;
                let entry = by_kind.entry(kind).or_default();
                entry.0 += 1;
                if let Some(result) = result {
                    if result.outcome == CallOutcome::Completed {
                        entry.1 += 1;
                    }
                    if let Some(number) = read_back(&result) {
                        numbers.push(number);
                    }
                }
            }
            _ = report.tick() => {
                let ended = by_kind.values().map(|(all, _)| all).sum();
                on_progress(&Progress { placed, ended, engine: stats.snapshot() });
            }
        }
    }
    (placed, by_kind, numbers)
}

/// The complaint number read back on a call (ten digits played with `digits:`).
pub fn read_back(result: &CallResult) -> Option<String> {
    result.heard.iter().find_map(|m| {
        let digits = m.media_uri.strip_prefix("digits:")?;
        (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_covers_every_kind_and_status_enquiries_use_earlier_numbers() {
        let kinds: std::collections::BTreeSet<_> = CitizenKind::ROTATION.iter().copied().collect();
        assert_eq!(kinds.len(), 8);
        let enquiry = citizen(2, CitizenKind::StatusEnquiry, Some("1234567890"));
        assert!(enquiry.steps.contains(&press("1234567890")));
        let first = citizen(2, CitizenKind::StatusEnquiry, None);
        assert!(
            first.steps.contains(&prompt("record_instructions")),
            "registers instead"
        );
        for (n, kind) in CitizenKind::ROTATION.iter().enumerate() {
            citizen(n as u64, *kind, Some("1234567890"))
                .validate()
                .unwrap();
        }
    }

    #[test]
    fn the_demo_clock_is_inside_office_hours() {
        let validators = app::validators();
        let text = include_str!("../ivr-scripts/1100.toml");
        let script = ivr::Script::from_toml("1100.toml", text, &validators).unwrap();
        let at = office_hours_clock(&script)();
        let hours = script.office_hours.as_ref().unwrap();
        assert!(hours.is_open(at.date_naive(), at.time()));
    }
}
