//! The web pages in a real headless Chromium (issue 14), driven over WebDriver (fantoccini) through
//! Debian's `chromium` and `chromium-driver` (`.ci/run` installs them): an agent logs in in the
//! browser and starts taking calls; a simulated citizen presses 0; the desk pops the call with the
//! caller's past complaints; the agent files a complaint linked to the call and hangs up from the
//! desk; wrap-up; a disposition. Meanwhile a supervisor's wallboard follows the agent and the queue
//! within a second, and a listen action (confirmed first) opens a snoop on the call. An officer cannot
//! open the wallboard, and the login throttle shows. The wallboard's stream comes back by itself
//! after the server restarts on the same port, and shows changes again without a reload.
//!
//! Without chromium (and chromedriver) the tests say plainly that they were skipped — except in CI
//! (`CI=true`), where they must run. They take screenshots of the desk and the wallboard in both
//! languages: into the test's folder, or into `docs/screenshots/` with
//! `HELPLINE_UPDATE_SCREENSHOTS=1` (how README.md's pictures are made).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tickets::Role;

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Every account's password in these tests.
const PASSWORD: &str = "correct-horse-battery";
/// How long the browser may take to show what the server did.
const SHOWN: Duration = Duration::from_secs(15);

/// A chromedriver of our own on a free port, ended with the test.
struct Driver {
    url: String,
    _process: tokio::process::Child,
}

impl Driver {
    /// The driver, or `None` (the test skipped, saying so) when chromium is not installed outside CI.
    async fn start() -> Option<Driver> {
        let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
        if !installed {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but {CHROMIUM} or {CHROMEDRIVER} is missing: .ci/run installs chromium \
                 and chromium-driver, and the browser tests must run in CI"
            );
            println!(
                "skipped: no {CHROMIUM} or {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        eventually(Duration::from_secs(20), "chromedriver to start", || async {
            match http.get(format!("{url}/status")).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        Some(Driver {
            url,
            _process: process,
        })
    }

    /// A new browser window of 1366×768.
    async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1366,768", "--hide-scrollbars",
                         "--force-device-scale-factor=1"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap()
    }
}

/// A page in the browser, at one node.
struct Page {
    client: Client,
    base: String,
}

impl Page {
    async fn open(driver: &Driver, t: &TestNode) -> Page {
        Page {
            client: driver.browser().await,
            base: format!("http://{}", t.node.http_addr()),
        }
    }

    async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Runs `script` (a function body) in the page and answers its value (null while the page
    /// is being replaced by another).
    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or(Value::Null)
    }

    /// The text of `#id`.
    async fn text(&self, id: &str) -> String {
        let value = self
            .js(&format!(
                "const e = document.getElementById('{id}'); return e ? e.textContent : null;"
            ))
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until `script` answers something truthy in the page; answers it.
    async fn until(&self, what: &str, script: &str) -> Value {
        eventually(SHOWN, what, || async {
            let value = self.js(script).await;
            let yes = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if yes { Ok(value) } else { Err(value) }
        })
        .await
    }

    async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn type_in(&self, id: &str, text: &str) {
        let field = self.client.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn select(&self, id: &str, value: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Logs in on the login page (opened unless the browser is on it) as `login`, then waits to
    /// be on `lands` (a path).
    async fn log_in(&self, login: &str, lands: &str) {
        let url = self.client.current_url().await.unwrap();
        if url.path() != "/login" {
            self.go("/login").await;
        }
        self.type_in("login-name", login).await;
        self.type_in("login-password", PASSWORD).await;
        self.click("login-submit").await;
        let wanted = format!("{}{lands}", self.base);
        eventually(SHOWN, &format!("{login} on {lands}"), || async {
            let url = self.client.current_url().await.unwrap().to_string();
            if url == wanted { Ok(()) } else { Err(url) }
        })
        .await;
    }

    /// The language of the pages from now on.
    async fn language(&self, code: &str, back: &str) {
        self.go(&format!("/lang/{code}?back={back}")).await;
        self.until(
            "the page in its language",
            &format!("return document.documentElement.lang === '{code}';"),
        )
        .await;
    }

    /// The agent's state on the desk.
    async fn desk_state(&self) -> String {
        self.js("return document.getElementById('my-state').dataset.state;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn screenshot(&self, dir: &Path, name: &str) {
        self.js("window.scrollTo(0, 0); document.activeElement?.blur(); return 1;")
            .await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    async fn close(self) {
        self.client.close().await.unwrap();
    }
}

/// Where screenshots go: README.md's folder when asked for, else the test's own.
fn screenshots(temp: &Path) -> PathBuf {
    if std::env::var_os("HELPLINE_UPDATE_SCREENSHOTS").is_some() {
        repo().join("docs").join("screenshots")
    } else {
        temp.join("screenshots")
    }
}

/// A user with the tests' password.
async fn person(t: &TestNode, login: &str, name: &str, role: Role, department: Option<&str>) {
    tickets::accounts::create_user(
        t.node.tickets().store(),
        &tickets::accounts::Hasher::new(1),
        tickets::accounts::NewUser {
            login: login.into(),
            display_name: name.into(),
            role,
            department_code: department.map(str::to_owned),
            password: PASSWORD.into(),
        },
        "test",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
}

/// The API as a token holder (to set things up and to check what the browser did).
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(t: &TestNode, role: Role) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("http://{}/api/v1", t.node.http_addr()),
            token: role_token(t.node.tickets().store(), role, None).await,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
}

/// Waits until the wallboard in `board` shows `agent` in `state`.
async fn board_shows(board: &Page, agent: &str, state: &str) {
    board
        .until(
            &format!("{agent} {state} on the board"),
            &format!(
                "const r = document.querySelector('#agents tr[data-agent={agent}]'); \
                 return r && r.dataset.state === '{state}';"
            ),
        )
        .await;
}

/// Simulated seconds per real second here: slow enough that the wrap-up (30 s on the call
/// centre's clock, which runs at this speed) leaves the browser time to end it.
const BROWSER_SPEED: f64 = 4.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_a_call_in_the_browser_and_the_wallboard_follows() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = TestNode::start_with("browser-desk", office_hours(), None, "", BROWSER_SPEED).await;
    let shots = screenshots(t.config.journal_dir.parent().unwrap_or(Path::new(".")));
    person(&t, "asha", "Asha Verma", Role::Agent, None).await;
    person(&t, "ravi", "Ravi Sharma", Role::Supervisor, None).await;
    let api = Api::new(&t, Role::Supervisor).await;
    // Asha takes calls on the simulator's agent phone, in Hindi and English.
    let profile = json!({"phone": "PJSIP/agent-101", "languages": ["hi", "en"]});
    api.call(reqwest::Method::PUT, "/users/asha/agent", Some(profile))
        .await;
    // The caller complained before: the desk must show it.
    let earlier = api
        .call(
            reqwest::Method::POST,
            "/tickets",
            Some(json!({
                "source": "web", "caller_number": "9816000061", "language": "en",
                "department_code": "JSV",
                "description": "No water in the tap at Sanjauli for three days",
            })),
        )
        .await["number"]
        .as_str()
        .unwrap()
        .to_owned();

    // A complaint recorded at night, flagged for a call-back: on the desk's call-back list.
    let night = after_hours_complaint(&t, "night-call", "9816000062", "PWR")
        .await
        .to_string();

    // The agent logs in and starts taking calls on their profile's phone.
    let desk = Page::open(&driver, &t).await;
    desk.go("/desk").await;
    // Not logged in: to the login page, which brings them back.
    desk.log_in("asha", "/desk").await;
    desk.until(
        "the desk's live stream",
        "return document.getElementById('live').dataset.live === 'on';",
    )
    .await;
    desk.click("btn-centre-login").await;
    desk.until(
        "asha available",
        "return document.getElementById('my-state').dataset.state === 'available';",
    )
    .await;

    // The supervisor's wallboard, in Hindi.
    let board = Page::open(&driver, &t).await;
    board.language("hi", "/login").await;
    board.log_in("ravi", "/board").await;
    board_shows(&board, "asha", "available").await;

    // A citizen presses 0 for an agent and stays on the line.
    let mut steps = vec![prompt("welcome"), press("2"), prompt("main_menu")];
    steps.extend([press("0"), prompt("connecting_agent"), wait_hangup()]);
    let call = t
        .sim
        .place_call(scenario("9816000061", steps))
        .await
        .unwrap();
    // The desk pops the call: the caller, and their earlier complaint.
    desk.until(
        "the call popped on the desk",
        "return ['ringing', 'on_call'].includes(document.getElementById('my-state').dataset.state) \
         && document.getElementById('pop-caller').textContent === '+919816000061';",
    )
    .await;
    desk.until(
        "asha on the call",
        "return document.getElementById('my-state').dataset.state === 'on_call';",
    )
    .await;
    // The wallboard shows the agent on the call and the queue's answer within a second.
    let on_call = Instant::now();
    board
        .until(
            "asha on the call on the board",
            "const r = document.querySelector('#agents tr[data-agent=asha]'); \
             const q = document.querySelector('#queues tr[data-queue=grievance] .answered'); \
             return r && r.dataset.state === 'on_call' && q && q.textContent === '1';",
        )
        .await;
    let lag = on_call.elapsed();
    assert!(lag < Duration::from_secs(1), "the board took {lag:?}");
    desk.until(
        "the caller's earlier complaint on the desk",
        &format!(
            "return document.querySelector('#history tr[data-number=\"{earlier}\"]') !== null;"
        ),
    )
    .await;
    assert!(desk.text("history-summary").await.contains("1 open"));
    // The caller's number is shown to the supervisor, with the queue.
    assert!(
        board
            .js("return document.querySelector('#agents tr[data-agent=asha]').textContent;")
            .await
            .as_str()
            .unwrap_or_default()
            .contains("+919816000061")
    );

    // The agent files a complaint on the caller's behalf, linked to the call.
    desk.type_in(
        "file-description",
        "Streetlight broken near the bus stand for a week",
    )
    .await;
    desk.select("file-department", "JSV").await;
    desk.click("btn-file").await;
    let filed = desk
        .until(
            "the complaint filed in this call",
            "const t = document.getElementById('pop-filed').textContent; \
             return /^[0-9]{10}/.test(t) ? t : null;",
        )
        .await;
    let filed = filed.as_str().unwrap_or_default().to_owned();
    let ticket = api
        .call(reqwest::Method::GET, &format!("/tickets/{filed}"), None)
        .await;
    assert_eq!(ticket["source"], "agent", "{ticket}");
    assert_eq!(ticket["caller_number"], "+919816000061", "{ticket}");
    assert_eq!(ticket["department_code"], "JSV", "{ticket}");
    let floor = api.call(reqwest::Method::GET, "/centre", None).await;
    let call_id = floor["calls"][0]["call"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(floor["calls"][0]["agent"], "asha", "{floor}");
    let notes = api
        .call(
            reqwest::Method::GET,
            &format!("/tickets/{filed}/notes"),
            None,
        )
        .await;
    assert!(
        notes["items"][0]["text"]
            .as_str()
            .is_some_and(|n| n.contains(&call_id)),
        "the note names the call: {notes}"
    );

    // Pictures of the call on the desk and the board, in both languages (the page reloaded in
    // the other language picks the call up again from the stream).
    desk.screenshot(&shots, "desk-en.png").await;
    board.screenshot(&shots, "wallboard-hi.png").await;
    desk.language("hi", "/desk").await;
    desk.until(
        "the call popped again, in Hindi",
        "return document.getElementById('pop-caller').textContent === '+919816000061' \
         && document.querySelector('#history tbody tr') !== null;",
    )
    .await;
    desk.screenshot(&shots, "desk-hi.png").await;
    board.language("en", "/board").await;
    board_shows(&board, "asha", "on_call").await;
    board.screenshot(&shots, "wallboard-en.png").await;

    // The supervisor listens in from their own phone, once they confirm: a snoop on the call.
    let legs = t.sim.stats().await.unwrap().channels;
    board.type_in("supervisor-phone", "PJSIP/citizen").await;
    board
        .client
        .find(Locator::Css(
            "#agents tr[data-agent=asha] button[data-key='asha:listen']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    board
        .until(
            "the confirmation asked",
            "return document.getElementById('confirm').open;",
        )
        .await;
    board.click("confirm-ok").await;
    eventually(SHOWN, "the supervisor's leg and the snoop", || async {
        match t.sim.stats().await.unwrap().channels {
            now if now >= legs + 2 => Ok(()),
            now => Err(now),
        }
    })
    .await;

    // The agent hangs up from the desk (confirmed first): both sides end, wrap-up, ended with a
    // disposition.
    desk.click("btn-hangup").await;
    desk.until(
        "the hang-up confirmation asked",
        "return document.getElementById('confirm').open;",
    )
    .await;
    desk.click("confirm-ok").await;
    desk.until(
        "asha in wrap-up",
        "return document.getElementById('my-state').dataset.state === 'wrap_up' \
         && !document.getElementById('wrapup-form').hidden;",
    )
    .await;
    desk.select("disposition", "complaint_filed").await;
    desk.click("btn-dispose").await;
    eventually(SHOWN, "asha available again", || async {
        match desk.desk_state().await {
            state if state == "available" => Ok(()),
            state => Err(state),
        }
    })
    .await;
    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:#?}"
    );
    // The desk's hang-up ended the citizen's side too.
    assert_eq!(result.hung_up_by, ari_sim::HungUpBy::Network, "{result:#?}");
    // Audited once the call centre took it (the desk may hear of it first).
    eventually(SHOWN, "the disposition audited with the call", || async {
        let audit = t.node.tickets().store().account_events(50).await.unwrap();
        let found = audit.iter().any(|e| {
            e.action == "call_disposition"
                && e.subject.as_deref() == Some(call_id.as_str())
                && e.detail.as_deref() == Some("complaint_filed")
        });
        if found { Ok(()) } else { Err(audit) }
    })
    .await;
    board_shows(&board, "asha", "available").await;

    // The call-back list: the night's complaint, with click to call. The citizen answers the
    // helpline's call and talks a while; the agent's phone rang first.
    let row = format!("#callbacks-list tr[data-kind=after_hours][data-id=\"{night}\"]");
    desk.until(
        "the after-hours complaint on the call-back list",
        &format!("const b = document.querySelector('{row} button.call'); return b && !b.disabled;"),
    )
    .await;
    let citizen = t
        .sim
        .place_call(answers_the_call_back("9816000062", 20.0))
        .await
        .unwrap();
    desk.js(&format!(
        "document.querySelector('{row} button.call').click(); return 1;"
    ))
    .await;
    desk.until(
        "the call-back popped with the complaint",
        &format!(
            "return document.getElementById('my-state').dataset.state === 'on_call' \
             && document.getElementById('pop-caller').textContent === '+919816000062' \
             && document.getElementById('pop-complaints').textContent.includes('{night}');"
        ),
    )
    .await;
    let result = t.sim.call_result(citizen, CALL_TIMEOUT).await.unwrap();
    assert_eq!(result.callbacks.len(), 1, "{result:#?}");
    assert!(result.connected_ms.is_some(), "{result:#?}");
    // Done: marked called back with its outcome (confirmed in the dialog); off the list.
    desk.until(
        "asha in wrap-up after the call-back",
        "return document.getElementById('my-state').dataset.state === 'wrap_up';",
    )
    .await;
    desk.js(&format!(
        "document.querySelector('{row} button.done').click(); return 1;"
    ))
    .await;
    desk.until(
        "the outcome asked",
        "return document.getElementById('confirm').open \
         && document.getElementById('callback-outcome') !== null;",
    )
    .await;
    desk.select("callback-outcome", "reached").await;
    desk.type_in("callback-note", "Spoke to him: the line is repaired")
        .await;
    desk.click("confirm-ok").await;
    desk.until(
        "the complaint off the call-back list",
        &format!("return document.querySelector('{row}') === null;"),
    )
    .await;
    let audit = t
        .node
        .tickets()
        .store()
        .audit_trail(night.parse().unwrap())
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "called_back"
            && e.actor.contains("asha")
            && e.to_value.as_deref() == Some("reached")),
        "{audit:?}"
    );

    desk.close().await;
    board.close().await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_cannot_open_the_wallboard_and_the_login_throttle_shows() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = TestNode::start("browser-roles", office_hours()).await;
    person(&t, "meena", "Meena Thakur", Role::Officer, Some("JSV")).await;
    let page = Page::open(&driver, &t).await;

    // An officer lands on the reports; the wallboard and the desk are not for them.
    page.log_in("meena", "/reports").await;
    let nav = page
        .js("return document.querySelector('header nav').textContent;")
        .await;
    assert!(
        !nav.as_str().unwrap_or_default().contains("Wallboard"),
        "{nav}"
    );
    page.go("/board").await;
    page.until(
        "the 403 page",
        "return document.getElementById('forbidden') !== null;",
    )
    .await;
    assert!(page.text("main").await.contains("Officer"));
    // Nor does the API behind it answer them.
    let status = page
        .js("return fetch('/api/v1/centre').then(r => r.status);")
        .await;
    assert_eq!(status, json!(403));
    page.click("logout").await;
    page.until("logged out", "return location.pathname === '/login';")
        .await;

    // Wrong passwords, one after another: the fifth locks the name, the next is refused with
    // the time to wait, and the button stays off meanwhile.
    for attempt in 1..=6 {
        page.type_in("login-name", "meena").await;
        page.type_in("login-password", "not-the-password").await;
        page.click("login-submit").await;
        let shown = page
            .until(
                "the login's answer",
                "const e = document.getElementById('login-error').textContent; \
                 return e ? e : null;",
            )
            .await;
        let shown = shown.as_str().unwrap_or_default().to_owned();
        if attempt < 6 {
            assert_eq!(shown, "Wrong login name or password.", "attempt {attempt}");
            page.js("document.getElementById('login-error').textContent = ''; return 1;")
                .await;
        } else {
            assert!(
                shown.starts_with("Too many failed attempts. Try again in"),
                "{shown}"
            );
            let disabled = page
                .js("return document.getElementById('login-submit').disabled;")
                .await;
            assert_eq!(disabled, json!(true));
        }
    }
    page.close().await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallboard_reconnects_after_the_server_restarts_and_stays_live_without_a_reload() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = TestNode::start("browser-restart", office_hours()).await;
    person(&t, "ravi", "Ravi Sharma", Role::Supervisor, None).await;
    person(&t, "asha", "Asha Verma", Role::Agent, None).await;
    let api = Api::new(&t, Role::Supervisor).await;
    let profile = json!({"phone": "PJSIP/agent-101", "languages": ["hi", "en"]});
    api.call(reqwest::Method::PUT, "/users/asha/agent", Some(profile))
        .await;
    let asha = tickets::tokens::create_token(
        t.node.tickets().store(),
        tickets::tokens::NewTokenFor::User("asha".into()),
        None,
        None,
        "test",
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .token;
    let board = Page::open(&driver, &t).await;
    board.log_in("ravi", "/board").await;
    board
        .until(
            "the board's live stream",
            "return document.getElementById('live').dataset.live === 'on';",
        )
        .await;
    // A mark in this page: a reload would lose it.
    board
        .js("window.helplineMark = 'before the restart'; return 1;")
        .await;

    // The node stops (its HTTP and call centre with it): the page sees the stream go.
    let (sim, node, mut config, dir) = t.into_parts();
    let addr = node.http_addr();
    node.shutdown().await;
    board
        .until(
            "the page to see the stream lost",
            "return document.getElementById('live').dataset.live !== 'on';",
        )
        .await;
    // Started again on the same port, the same database and journal.
    config.http.listen = addr;
    let second = helpline::app::Node::start(
        &config,
        helpline::app::NodeOptions {
            ari: helpline::app::AriEndpoint::simulator(&sim),
            clock: office_hours(),
            speed: SPEED,
        },
    )
    .await
    .unwrap();
    assert_eq!(second.http_addr(), addr);
    board
        .until(
            "the stream back by itself",
            "return document.getElementById('live').dataset.live === 'on';",
        )
        .await;
    // A change made after the restart shows live, in the same page.
    let (status, body) = {
        let response = reqwest::Client::new()
            .post(format!("http://{addr}/api/v1/centre/me/login"))
            .bearer_auth(&asha)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap_or_default())
    };
    assert!(status.is_success(), "{status} {body}");
    board_shows(&board, "asha", "available").await;
    assert_eq!(
        board.js("return window.helplineMark;").await,
        json!("before the restart"),
        "the page was not reloaded"
    );
    board.close().await;
    second.shutdown().await;
    sim.shutdown().await.unwrap();
    drop(dir);
}
