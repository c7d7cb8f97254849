//! `helpline bench board`: the wallboard's server side under a full floor — `agents` agents all on
//! calls and `waiting` callers waiting in the ACD benchmark's queues (`acd::bench::BENCH_QUEUES`;
//! the callers join the 1100 queue, the agents serve all four) — with the real call centre task ([`crate::centre::Centre`],
//! the ACD inside it) fed by stand-ins for the callers' call tasks over the real
//! [`CallCentreLink`] (they answer every ring and take every bridge at once), while conversations
//! end at `turnover` a second (each agent files the disposition, a new caller joins, so `waiting`
//! stay waiting).
//!
//! What it measures, for one wallboard:
//! - the floor's snapshot (`GET /centre`, and the stream's first event): the call centre's time to
//!   build it plus the JSON encoding, p50/p99, and its bytes;
//! - the live stream: the events the centre publishes (`agent`, `queue`, `ivr`), encoded as the
//!   stream sends them (`event: …` / `data: …`), in events and bytes per second;
//! - the board's re-reads: the page reads the floor again once per burst of queue events (at most
//!   one every [`BOARD_REFRESH`]), so under turnover it also moves snapshots — counted by applying
//!   the page's rule to the events as they come, each re-read a real snapshot built and encoded.
//!
//! The bytes are the stream's and the re-reads' payloads, without TCP or HTTP framing.
//!
//! With `--browser`, the page itself too: the node's web pages and `/api/v1` are served over HTTP
//! on this centre (a ticket store of its own in a temporary folder, one supervisor), and a headless
//! Chromium (Debian's, through chromedriver) logs in and opens `/board?timings`, where app.js times
//! applying each of the stream's events (the snapshot, `agent`, `queue`, and the board's re-reads of
//! the floor), style and layout included; the timings are read out of the page at the end.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::BenchError;
use super::load::{WorkDir, io_err};
use super::webdriver::Browser;
use crate::centre::{Centre, CentreHandle, CentreSettings, LiveEvent, NoQueueLog};
use crate::engine::{CallCentreLink, LegReport, QueueJoin, QueueOrder};

/// How often at most the wallboard page reads the floor again after queue events (app.js, `later`).
pub const BOARD_REFRESH: Duration = Duration::from_millis(250);

const DEPARTMENTS: [&str; 9] = [
    "JSV", "PWR", "PWD", "HLT", "EDU", "REV", "POL", "FCS", "GAD",
];

/// `helpline bench board`.
#[derive(Debug, Clone, clap::Args)]
pub struct BoardOptions {
    /// Agents logged in, all on calls.
    #[arg(long, default_value_t = 300)]
    pub agents: usize,
    /// Callers kept waiting.
    #[arg(long, default_value_t = 2000)]
    pub waiting: usize,
    /// Conversations ending per second (each followed by a disposition and a new caller).
    #[arg(long, default_value_t = 5.0)]
    pub turnover: f64,
    /// How long the turnover runs, seconds.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Snapshots built and encoded for the snapshot's figures.
    #[arg(long, default_value_t = 100)]
    pub snapshots: usize,
    /// Also time the wallboard page in a headless Chromium (`/usr/bin/chromium` through
    /// `/usr/bin/chromedriver`).
    #[arg(long)]
    pub browser: bool,
}

/// What a run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BoardReport {
    pub agents: usize,
    pub waiting: usize,
    pub turnover_per_sec: f64,
    pub seconds: f64,
    pub snapshot_bytes: usize,
    pub snapshot_p50_ms: f64,
    pub snapshot_p99_ms: f64,
    pub events: u64,
    pub events_per_sec: f64,
    pub stream_bytes_per_sec: f64,
    pub refreshes: u64,
    pub refresh_bytes_per_sec: f64,
    /// Events the reader missed (fell behind the centre's bounded broadcast).
    pub lagged: u64,
    /// The page in Chromium, with `--browser`.
    pub page: Option<PageReport>,
}

/// What the wallboard page in Chromium took to apply what it was sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageReport {
    /// Applying the floor's snapshot (parse, tables, layout), each time one came (1 unless the
    /// page fell behind or reconnected).
    pub snapshot_ms: Vec<f64>,
    /// The stream's `agent` and `queue` events applied, and the time each took.
    pub events: u64,
    pub events_per_sec: f64,
    pub event_p50_ms: f64,
    pub event_p99_ms: f64,
    pub event_max_ms: f64,
    /// The board's re-reads of the floor applied (after the fetch), and the time each took.
    pub refreshes: u64,
    pub refresh_p50_ms: f64,
    pub refresh_p99_ms: f64,
    pub refresh_max_ms: f64,
    /// The page's busy share of the run: every timed apply's milliseconds over the run's.
    pub busy: f64,
    /// How long after the run's end the page still took to apply the events it was sent (at most
    /// a minute is waited): a backlog the page works off behind the stream.
    pub behind_seconds: f64,
    /// The page applied every event the bench's own reader counted, on its first snapshot, less
    /// than a second after the run.
    pub kept_up: bool,
}

impl std::fmt::Display for BoardReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "board: {} agents on calls, {} callers waiting, {:.1} conversations ending a second for {:.0} s",
            self.agents, self.waiting, self.turnover_per_sec, self.seconds
        )?;
        writeln!(
            f,
            "  floor snapshot: {} bytes (JSON); built + encoded p50 {:.2} ms, p99 {:.2} ms",
            self.snapshot_bytes, self.snapshot_p50_ms, self.snapshot_p99_ms
        )?;
        writeln!(
            f,
            "  live stream: {} events, {:.1} events/s, {:.0} bytes/s",
            self.events, self.events_per_sec, self.stream_bytes_per_sec
        )?;
        writeln!(
            f,
            "  board re-reads (one per burst of queue events, at most every {} ms): {} ({:.1}/s), {:.0} bytes/s",
            BOARD_REFRESH.as_millis(),
            self.refreshes,
            self.refreshes as f64 / self.seconds.max(1e-9),
            self.refresh_bytes_per_sec
        )?;
        write!(
            f,
            "  one wallboard receives {:.0} bytes/s in all; events missed by the reader: {}",
            self.stream_bytes_per_sec + self.refresh_bytes_per_sec,
            self.lagged
        )?;
        if let Some(page) = &self.page {
            let snapshots: Vec<String> = page
                .snapshot_ms
                .iter()
                .map(|ms| format!("{ms:.1}"))
                .collect();
            write!(
                f,
                "\n  the page in Chromium: snapshot applied in {} ms; {} events ({:.1}/s) applied \
                 p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} re-reads applied p50 {:.1} ms, p99 {:.1} ms, \
                 max {:.1} ms; busy {:.1} % of the run; done {:.1} s after the run; kept up: {}",
                snapshots.join(", "),
                page.events,
                page.events_per_sec,
                page.event_p50_ms,
                page.event_p99_ms,
                page.event_max_ms,
                page.refreshes,
                page.refresh_p50_ms,
                page.refresh_p99_ms,
                page.refresh_max_ms,
                page.busy * 100.0,
                page.behind_seconds,
                if page.kept_up { "yes" } else { "no" },
            )?;
        }
        Ok(())
    }
}

/// A call talking to an agent, as the stand-in callers saw it connected.
type Talking = Arc<Mutex<VecDeque<(String, String)>>>;

/// Runs the benchmark.
pub async fn run_board(options: &BoardOptions) -> Result<BoardReport, BenchError> {
    if options.agents == 0 || !options.turnover.is_finite() || options.turnover <= 0.0 {
        return Err(BenchError::Options(
            "--agents and --turnover must be above 0".to_owned(),
        ));
    }
    let queues = acd::config::check(acd::bench::BENCH_QUEUES, "bench.toml")
        .map_err(|problems| BenchError::Setup(format!("{problems:?}")))?;
    let settings = CentreSettings {
        queues: Arc::new(queues),
        helpline: acd::Helpline::Grievance,
        transfers: crate::centre::integrated_helplines(),
        callback_dial: "PJSIP/{number}@telecom-trunk".to_owned(),
        speed: 1.0,
        state_file: None,
    };
    let (centre, handle, commands) = Centre::new(settings, Arc::new(NoQueueLog));
    let (link, requests) = CallCentreLink::new(4096);
    let stop = CancellationToken::new();
    let centre_task = tokio::spawn(centre.run(requests, commands, stop.clone()));

    for i in 0..options.agents {
        let skills = acd::Skills::new(
            [acd::Language::Hi, acd::Language::En],
            DEPARTMENTS.iter().map(|d| (*d).to_owned()),
            acd::Helpline::ALL,
        );
        handle
            .input(acd::Input::LogIn {
                agent: acd::AgentId::new(&format!("agent-{i:03}")),
                phone: format!("PJSIP/agent-{i:03}"),
                skills,
            })
            .await
            .map_err(|e| BenchError::Setup(e.to_string()))?;
    }
    let talking: Talking = Arc::default();
    let mut next = 0_u64;
    for _ in 0..options.agents + options.waiting {
        join(&link, &talking, &mut next).await?;
    }
    wait_for(&handle, "every agent on a call", |s| {
        s.agents.iter().all(|a| a.state == "on_call") && s.waiting.len() >= options.waiting
    })
    .await?;

    // The snapshot: built by the centre, encoded as the API does.
    let mut times = Vec::with_capacity(options.snapshots.max(1));
    let mut bytes = 0;
    for _ in 0..options.snapshots.max(1) {
        let started = Instant::now();
        let floor = handle
            .snapshot()
            .await
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        let json = serde_json::to_vec(&floor).map_err(|e| BenchError::Setup(e.to_string()))?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        bytes = json.len();
    }

    // The page, its first snapshot applied before the turnover starts.
    let work = WorkDir::new(None, "helpline-bench-board");
    let page = match options.browser {
        true => Some(Page::open(&handle, &work.path, stop.clone()).await?),
        false => None,
    };

    // The stream under turnover, read as one wallboard would.
    let mut live = handle.subscribe();
    let reader_handle = handle.clone();
    let reader_stop = CancellationToken::new();
    let reader = {
        let stop = reader_stop.clone();
        tokio::spawn(async move { read_stream(&mut live, &reader_handle, stop).await })
    };
    let every = Duration::from_secs_f64(1.0 / options.turnover);
    let started = Instant::now();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while started.elapsed() < Duration::from_secs(options.seconds) {
        tick.tick().await;
        let ended = talking.lock().ok().and_then(|mut t| t.pop_front());
        let Some((call, agent)) = ended else { continue };
        link.report(&call, LegReport::CallEnded { by_agent: false })
            .await;
        // The agent files the disposition at once; the next caller is rung for them.
        let _ = handle
            .input(acd::Input::Disposition {
                agent: acd::AgentId::new(&agent),
            })
            .await;
        join(&link, &talking, &mut next).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    reader_stop.cancel();
    let read = reader
        .await
        .map_err(|e| BenchError::Setup(format!("the stream reader failed: {e}")))??;
    let page = match page {
        Some(page) => Some(page.finish(read.events, elapsed).await?),
        None => None,
    };
    stop.cancel();
    let _ = centre_task.await;

    Ok(BoardReport {
        agents: options.agents,
        waiting: options.waiting,
        turnover_per_sec: options.turnover,
        seconds: elapsed,
        snapshot_bytes: bytes,
        snapshot_p50_ms: percentile(&mut times, 0.50),
        snapshot_p99_ms: percentile(&mut times, 0.99),
        events: read.events,
        events_per_sec: read.events as f64 / elapsed,
        stream_bytes_per_sec: read.stream_bytes as f64 / elapsed,
        refreshes: read.refreshes,
        refresh_bytes_per_sec: read.refresh_bytes as f64 / elapsed,
        lagged: read.lagged,
        page,
    })
}

/// A stand-in caller joins the queue; its task answers every ring and takes every bridge.
async fn join(link: &CallCentreLink, talking: &Talking, next: &mut u64) -> Result<(), BenchError> {
    *next += 1;
    let n = *next;
    let call_id = format!("bench-{n}");
    let join = QueueJoin {
        call_id: call_id.clone(),
        channel: call_id.clone(),
        caller: format!("+9198160{:05}", n % 100_000),
        queue: "grievance".to_owned(),
        language: if n.is_multiple_of(3) { "en" } else { "hi" }.to_owned(),
        department: Some(DEPARTMENTS[(n as usize) % DEPARTMENTS.len()].to_owned()),
        complaints: Vec::new(),
        joined_at: chrono::Utc::now(),
        path: vec![
            records::PathStep {
                step: "welcome".to_owned(),
                at: chrono::Utc::now(),
                keys: "2".to_owned(),
            },
            records::PathStep {
                step: "main_menu".to_owned(),
                at: chrono::Utc::now(),
                keys: "0".to_owned(),
            },
        ],
        filed: Vec::new(),
    };
    let mut orders = link
        .join(join)
        .await
        .map_err(|e| BenchError::Setup(format!("a caller was not taken: {e}")))?;
    let link = link.clone();
    let talking = Arc::clone(talking);
    tokio::spawn(async move {
        while let Some(order) = orders.recv().await {
            match order {
                QueueOrder::Ring { attempt, .. } => {
                    link.report(&call_id, LegReport::RingAnswered { attempt })
                        .await;
                }
                QueueOrder::Connect { attempt, agent } => {
                    if let Ok(mut t) = talking.lock() {
                        t.push_back((call_id.clone(), agent));
                    }
                    link.report(&call_id, LegReport::Connected { attempt })
                        .await;
                }
                _ => {}
            }
        }
    });
    Ok(())
}

/// Waits (at most a minute) until the floor is as `ready` wants.
async fn wait_for(
    handle: &CentreHandle,
    what: &str,
    ready: impl Fn(&crate::centre::Snapshot) -> bool,
) -> Result<(), BenchError> {
    let after = Duration::from_secs(60);
    let started = Instant::now();
    loop {
        let floor = handle
            .snapshot()
            .await
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        if ready(&floor) {
            return Ok(());
        }
        if started.elapsed() > after {
            return Err(BenchError::Timeout {
                what: what.to_owned(),
                after,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Debug, Default)]
struct Read {
    events: u64,
    stream_bytes: u64,
    refreshes: u64,
    refresh_bytes: u64,
    lagged: u64,
}

/// Reads the live events as the stream sends them, and re-reads the floor as the page does: once
/// per burst of queue events, [`BOARD_REFRESH`] after the first.
async fn read_stream(
    live: &mut tokio::sync::broadcast::Receiver<LiveEvent>,
    handle: &CentreHandle,
    stop: CancellationToken,
) -> Result<Read, BenchError> {
    let mut read = Read::default();
    let mut refresh_at: Option<tokio::time::Instant> = None;
    loop {
        let due = refresh_at;
        tokio::select! {
            () = stop.cancelled() => return Ok(read),
            () = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                refresh_at = None;
                let floor = handle.snapshot().await.map_err(|e| BenchError::Setup(e.to_string()))?;
                let json = serde_json::to_vec(&floor).map_err(|e| BenchError::Setup(e.to_string()))?;
                read.refreshes += 1;
                read.refresh_bytes += json.len() as u64;
            }
            event = live.recv() => match event {
                Ok(event) => {
                    let name = match &event {
                        LiveEvent::Agent(_) => "agent",
                        LiveEvent::Queue { .. } => {
                            refresh_at.get_or_insert_with(|| tokio::time::Instant::now() + BOARD_REFRESH);
                            "queue"
                        }
                        LiveEvent::Ivr { .. } => "ivr",
                    };
                    let data = serde_json::to_string(&event).map_err(|e| BenchError::Setup(e.to_string()))?;
                    // `event: NAME\ndata: JSON\n\n`, as the stream writes it.
                    read.stream_bytes += (7 + name.len() + 1 + 6 + data.len() + 2) as u64;
                    read.events += 1;
                }
                Err(RecvError::Lagged(n)) => read.lagged += n,
                Err(RecvError::Closed) => return Ok(read),
            },
        }
    }
}

/// The supervisor the page logs in as.
const SUPERVISOR: &str = "bench-supervisor";
const PASSWORD: &str = "bench-board-password";

/// The wallboard page in Chromium, on this centre's API.
struct Page {
    browser: Browser,
}

#[derive(Debug, serde::Deserialize)]
struct Timing {
    kind: String,
    ms: f64,
}

impl Page {
    /// Serves the web pages and `/api/v1` on `centre` over HTTP on loopback (until `stop`), logs a
    /// supervisor in in Chromium and opens the wallboard; answers once the snapshot is applied.
    async fn open(
        centre: &CentreHandle,
        work: &Path,
        stop: CancellationToken,
    ) -> Result<Page, BenchError> {
        std::fs::create_dir_all(work).map_err(io_err(format!("creating {}", work.display())))?;
        let db = work.join("tickets.db");
        let store = tickets::Store::connect(&format!("sqlite://{}?mode=rwc", db.display()))
            .await
            .map_err(|e| BenchError::Setup(format!("ticket store: {e}")))?;
        let service = tickets::TicketService::new(
            store,
            tickets::ServiceConfig::new(work.join("journal"), work.join("recordings")),
        )
        .await
        .map_err(|e| BenchError::Setup(format!("ticket service: {e}")))?;
        tickets::accounts::create_user(
            service.store(),
            &tickets::accounts::Hasher::new(1),
            tickets::accounts::NewUser {
                login: SUPERVISOR.to_owned(),
                display_name: "Bench Supervisor".to_owned(),
                role: tickets::Role::Supervisor,
                department_code: None,
                password: PASSWORD.to_owned(),
            },
            "bench",
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| BenchError::Setup(format!("the supervisor: {e}")))?;
        let state = tickets::api::ApiState::new(service);
        let app = axum::Router::new()
            .nest(
                "/api/v1",
                tickets::api::router_with(
                    state.clone(),
                    crate::centre::api::routes(centre.clone(), chrono_tz::Asia::Kolkata),
                ),
            )
            .merge(crate::web::routes(state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(io_err("binding the pages' port"))?;
        let addr = listener.local_addr().map_err(io_err("the pages' port"))?;
        let mut http = crate::config::HttpConfig::new(addr);
        http.rate_limit_per_second = None;
        tokio::spawn(async move { crate::http::serve(listener, app, &http, stop).await });

        let browser = Browser::start().await?;
        let base = format!("http://{addr}");
        browser.go(&format!("{base}/login")).await?;
        let login = serde_json::json!({ "login": SUPERVISOR, "password": PASSWORD }).to_string();
        let status = browser
            .run(&format!(
                "return fetch('/api/v1/login', {{method: 'POST', headers: {{'Content-Type': \
                 'application/json'}}, body: JSON.stringify({login})}}).then((r) => r.status);"
            ))
            .await?;
        if status.as_u64() != Some(200) {
            return Err(BenchError::Setup(format!(
                "the supervisor's login answered {status}"
            )));
        }
        browser.go(&format!("{base}/board?timings")).await?;
        let page = Page { browser };
        let after = Duration::from_secs(120);
        let started = Instant::now();
        while !page.timings().await?.iter().any(|t| t.kind == "snapshot") {
            if started.elapsed() > after {
                return Err(BenchError::Timeout {
                    what: "the wallboard page's first snapshot".to_owned(),
                    after,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(page)
    }

    async fn timings(&self) -> Result<Vec<Timing>, BenchError> {
        let value = self
            .browser
            .run("return window.__helplineTimings ?? [];")
            .await?;
        serde_json::from_value(value)
            .map_err(|e| BenchError::Setup(format!("the page's timings: {e}")))
    }

    /// Waits (at most a minute) for the page to have applied `published` events, reads its timings and
    /// closes the browser.
    async fn finish(self, published: u64, seconds: f64) -> Result<PageReport, BenchError> {
        let started = Instant::now();
        let applied = |timings: &[Timing]| {
            timings
                .iter()
                .filter(|t| t.kind == "agent" || t.kind == "queue")
                .count() as u64
        };
        let mut timings = self.timings().await?;
        while applied(&timings) < published && started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            timings = self.timings().await?;
        }
        let behind_seconds = started.elapsed().as_secs_f64();
        self.browser.close().await?;
        let of = |kinds: &[&str]| -> Vec<f64> {
            timings
                .iter()
                .filter(|t| kinds.contains(&t.kind.as_str()))
                .map(|t| t.ms)
                .collect()
        };
        let snapshot_ms = of(&["snapshot"]);
        let mut events = of(&["agent", "queue"]);
        let mut refreshes = of(&["refresh"]);
        let busy_ms: f64 =
            timings.iter().map(|t| t.ms).sum::<f64>() - snapshot_ms.first().copied().unwrap_or(0.0);
        Ok(PageReport {
            kept_up: snapshot_ms.len() == 1
                && events.len() as u64 >= published
                && behind_seconds < 1.0,
            behind_seconds,
            snapshot_ms,
            events: events.len() as u64,
            events_per_sec: events.len() as f64 / seconds,
            event_p50_ms: percentile(&mut events, 0.50),
            event_p99_ms: percentile(&mut events, 0.99),
            event_max_ms: percentile(&mut events, 1.0),
            refreshes: refreshes.len() as u64,
            refresh_p50_ms: percentile(&mut refreshes, 0.50),
            refresh_p99_ms: percentile(&mut refreshes, 0.99),
            refresh_max_ms: percentile(&mut refreshes, 1.0),
            busy: busy_ms / (seconds * 1e3),
        })
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[rank.min(values.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--browser` end to end on a small floor: the page in Chromium got the snapshot and applied
    /// the turnover's events. Skipped (saying so) where Chromium is not installed, outside CI.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_browser_mode_times_the_page_applying_the_stream() {
        let installed = [
            super::super::webdriver::CHROMIUM,
            super::super::webdriver::CHROMEDRIVER,
        ]
        .iter()
        .all(|p| Path::new(p).exists());
        if !installed {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but chromium or chromedriver is missing"
            );
            println!("skipped: no chromium or chromedriver");
            return;
        }
        let report = run_board(&BoardOptions {
            agents: 10,
            waiting: 20,
            turnover: 5.0,
            seconds: 2,
            snapshots: 2,
            browser: true,
        })
        .await
        .unwrap();
        assert!(report.events > 0, "{report}");
        let page = report.page.as_ref().expect("a page report with --browser");
        assert_eq!(page.snapshot_ms.len(), 1, "{report}");
        assert!(page.events >= report.events, "{report}");
    }
}
