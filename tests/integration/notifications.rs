//! Issue 15, notifications: a node's outbox delivers to a fake SMS gateway and webhook receivers
//! (axum, in the test) — the registration SMS in Hindi with the number the caller heard, status
//! changes, the resolution; a receiver failing 500 then recovering gets each event once; one that
//! never recovers gives a dead letter an administrator retries over the API; a node stopped while a
//! slow receiver holds a delivery, and another started, loses and doubles nothing; every body is
//! signed and matches the OpenAPI document's schema. SQLite and PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use helpline::app::{AriEndpoint, Node, NodeOptions};
use serde_json::Value;
use testkit::eventually;
use tickets::{NewCallTicket, Role, TicketStatus};

use crate::support::{
    SPEED, Schema, TestNode, number_read_back, office_hours, postgres_url, registration,
    role_token, scenario,
};

const SECRET: &str = "whsec-test-7f3a";

/// What the fake receivers saw.
#[derive(Debug, Clone)]
struct Hook {
    receiver: String,
    key: String,
    event: String,
    body: Value,
    signed: bool,
    schema_problems: Vec<String>,
}

#[derive(Default)]
struct Seen {
    sms: Vec<HashMap<String, String>>,
    /// Webhooks answered 2xx.
    hooks: Vec<Hook>,
    /// Every request per receiver, answered or not.
    tries: HashMap<String, u32>,
    /// Receivers answering 500 (`flaky`: the first two of its requests).
    down: std::collections::HashSet<String>,
}

#[derive(Clone)]
struct Fake {
    seen: Arc<Mutex<Seen>>,
    openapi: Arc<Value>,
}

impl Fake {
    async fn start() -> (Fake, String) {
        let fake = Fake {
            seen: Arc::default(),
            openapi: Arc::new(serde_json::to_value(helpline::app::openapi_document()).unwrap()),
        };
        let app = axum::Router::new()
            .route("/sms", get(sms))
            .route("/hooks/{name}", post(hook))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (fake, base)
    }

    fn sms(&self) -> Vec<HashMap<String, String>> {
        self.seen.lock().unwrap().sms.clone()
    }

    fn hooks(&self, receiver: &str) -> Vec<Hook> {
        let seen = self.seen.lock().unwrap();
        seen.hooks
            .iter()
            .filter(|h| h.receiver == receiver)
            .cloned()
            .collect()
    }

    fn tries(&self, receiver: &str) -> u32 {
        self.seen
            .lock()
            .unwrap()
            .tries
            .get(receiver)
            .copied()
            .unwrap_or(0)
    }

    fn set_down(&self, receiver: &str, down: bool) {
        let mut seen = self.seen.lock().unwrap();
        if down {
            seen.down.insert(receiver.to_owned());
        } else {
            seen.down.remove(receiver);
        }
    }
}

async fn sms(State(fake): State<Fake>, Query(q): Query<HashMap<String, String>>) -> String {
    let mut seen = fake.seen.lock().unwrap();
    seen.sms.push(q);
    format!(
        "{{\"status\":\"ok\",\"data\":{{\"id\":\"gw-{}\"}}}}",
        seen.sms.len()
    )
}

async fn hook(
    State(fake): State<Fake>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let tries = {
        let mut seen = fake.seen.lock().unwrap();
        let n = seen.tries.entry(name.clone()).or_default();
        *n += 1;
        *n
    };
    if name == "slow" {
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let mut seen = fake.seen.lock().unwrap();
    if seen.down.contains(&name) || (name == "flaky" && tries <= 2) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signed = notify::sign::verify(
        SECRET.as_bytes(),
        &header("helpline-signature"),
        &body,
        chrono::Utc::now(),
        300,
    )
    .is_ok();
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let schema_problems =
        testkit::schema::check(&fake.openapi, "/components/schemas/TicketEvent", &value);
    seen.hooks.push(Hook {
        receiver: name,
        key: header("idempotency-key"),
        event: header("helpline-event"),
        body: value,
        signed,
        schema_problems,
    });
    StatusCode::NO_CONTENT
}

/// The `[notify]` tables of a node delivering to `base` (appended after `[limits]`), with the
/// subscribers `hooks` (name, events) and at most `concurrency` tries at once.
fn notify_toml(base: &str, hooks: &[(&str, &str)], concurrency: u32) -> String {
    let hook = |name: &str, events: &str| {
        format!(
            "[[notify.webhooks]]\nname = \"{name}\"\nurl = \"{base}/hooks/{name}\"\n\
             events = [{events}]\nsecret = \"{SECRET}\"\n"
        )
    };
    let all = "\"ticket.registered\", \"ticket.status_changed\", \"ticket.resolved\", \
               \"ticket.reopened\", \"ticket.escalated\"";
    format!(
        "[notify]\npoll_seconds = 0.1\nmax_attempts = 3\nretry_first_seconds = 0.2\n\
         retry_max_seconds = 0.5\nrequest_timeout_seconds = 5\nlease_seconds = 20\n\
         drain_seconds = 15\nconcurrency = {concurrency}\n\
         [notify.sms]\nurl = \"{base}/sms\"\nsender_id = \"CMHLPL\"\nmessage_id = \"/data/id\"\n\
         api_key = \"sms-key-1\"\napi_key_param = \"apikey\"\n\
         params = {{ to = \"mobile\", text = \"message\", sender = \"senderid\", template_id = \"dlt_template_id\" }}\n\
         extra = {{ entity_id = \"1101000000001\" }}\n\
         [notify.sms.templates.registered]\n\
         hi = {{ text = \"आपकी शिकायत संख्या {{number}} ({{department}}) दर्ज हो गई है। - सीएम हेल्पलाइन 1100\", dlt_template_id = \"1107-reg-hi\" }}\n\
         en = {{ text = \"Your complaint {{number}} ({{department}}) is registered. - CM Helpline 1100\", dlt_template_id = \"1107-reg-en\" }}\n\
         [notify.sms.templates.status_changed]\n\
         hi = {{ text = \"शिकायत {{number}}: {{status}}\", dlt_template_id = \"1107-st-hi\" }}\n\
         en = {{ text = \"Complaint {{number}}: {{status}}\", dlt_template_id = \"1107-st-en\" }}\n\
         [notify.sms.templates.resolved]\n\
         hi = {{ text = \"शिकायत {{number}} {{status}}। संतुष्ट न हों तो 1100 पर कॉल करें\", dlt_template_id = \"1107-res-hi\" }}\n\
         en = {{ text = \"Complaint {{number}} is resolved. Not satisfied? Call 1100\", dlt_template_id = \"1107-res-en\" }}\n\
         {}",
        hooks
            .iter()
            .map(|(name, events)| hook(name, if *events == "all" { all } else { events }))
            .collect::<String>(),
    )
}

async fn wait_for<T: std::fmt::Debug>(what: &str, check: impl Fn() -> Result<(), T>) {
    eventually(Duration::from_secs(20), what, || async { check() }).await;
}

async fn sms_and_webhooks_reach_the_citizen_and_the_subscribers(database_url: Option<&str>) {
    let (fake, base) = Fake::start().await;
    // The receiver that never recovers (until mended below).
    fake.set_down("down", true);
    let hooks = [
        ("portal", "all"),
        ("flaky", "\"ticket.registered\", \"ticket.resolved\""),
        ("down", "\"ticket.resolved\""),
    ];
    let t = TestNode::start_full(
        "notify",
        office_hours(),
        database_url,
        &notify_toml(&base, &hooks, 16),
        SPEED,
        |_| {},
    )
    .await;
    // A Hindi complaint to Jal Shakti from a mobile.
    let result = t
        .call(scenario("9816000050", registration("1", "1", 2.0)))
        .await;
    let number = number_read_back(&result).expect("a number read back");
    wait_for("the registration SMS", || {
        let sms = fake.sms();
        if sms.len() == 1 { Ok(()) } else { Err(sms) }
    })
    .await;
    let sms = fake.sms();
    let reg = &sms[0];
    assert_eq!(reg["mobile"], "9816000050");
    assert_eq!(reg["senderid"], "CMHLPL");
    assert_eq!(reg["dlt_template_id"], "1107-reg-hi");
    assert_eq!(reg["entity_id"], "1101000000001");
    assert_eq!(reg["apikey"], "sms-key-1");
    assert!(
        reg["message"].starts_with(&format!("आपकी शिकायत संख्या {number} (")),
        "{}",
        reg["message"]
    );
    assert!(reg["message"].contains("दर्ज हो गई है"), "{}", reg["message"]);

    // The officer works it: assigned, in progress, resolved.
    let store = t.node.tickets().store().clone();
    let n: tickets::ComplaintNumber = number.parse().unwrap();
    let now = chrono::Utc::now();
    store
        .assign(n, "ee-shimla", "supervisor:asha", None, now)
        .await
        .unwrap();
    store
        .change_status(n, TicketStatus::InProgress, "officer:ee", None, now)
        .await
        .unwrap();
    store
        .change_status(
            n,
            TicketStatus::Resolved,
            "officer:ee",
            Some("pipe fixed"),
            now,
        )
        .await
        .unwrap();
    wait_for("four SMS", || {
        let sms = fake.sms();
        if sms.len() == 4 { Ok(()) } else { Err(sms) }
    })
    .await;
    let sms = fake.sms();
    let texts: Vec<(&str, &str)> = sms
        .iter()
        .map(|s| (s["dlt_template_id"].as_str(), s["message"].as_str()))
        .collect();
    let mut sorted = texts.clone();
    sorted.sort();
    let assigned = format!("शिकायत {number}: अधिकारी को सौंपी गई");
    let progress = format!("शिकायत {number}: कार्यवाही जारी");
    let resolved = format!("शिकायत {number} निराकृत। संतुष्ट न हों तो 1100 पर कॉल करें");
    for expected in [
        ("1107-st-hi", assigned.as_str()),
        ("1107-st-hi", progress.as_str()),
        ("1107-res-hi", resolved.as_str()),
    ] {
        assert!(texts.contains(&expected), "{expected:?} in {texts:#?}");
    }

    // Webhooks: the portal gets all four events, each once, signed, as documented.
    wait_for("four events at the portal", || {
        let h = fake.hooks("portal");
        if h.len() == 4 { Ok(()) } else { Err(h) }
    })
    .await;
    let portal = fake.hooks("portal");
    let mut events: Vec<&str> = portal.iter().map(|h| h.event.as_str()).collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            "ticket.registered",
            "ticket.resolved",
            "ticket.status_changed",
            "ticket.status_changed"
        ]
    );
    for h in &portal {
        assert!(h.signed, "the signature verifies: {h:?}");
        assert!(
            h.schema_problems.is_empty(),
            "{:?}: {:?}",
            h.body,
            h.schema_problems
        );
        assert_eq!(h.body["id"], h.key.as_str(), "the key is the event id");
        assert_eq!(h.body["type"], h.event.as_str());
        assert_eq!(h.body["ticket"]["number"], number.as_str());
        assert!(
            !h.body.to_string().contains("9816000050"),
            "no caller number"
        );
    }
    let resolved_body = &portal
        .iter()
        .find(|h| h.event == "ticket.resolved")
        .unwrap()
        .body;
    assert_eq!(resolved_body["change"]["reason"], "pipe fixed");

    // The flaky receiver failed twice, then got each of its events exactly once.
    wait_for("two events at the flaky receiver", || {
        let h = fake.hooks("flaky");
        if h.len() == 2 { Ok(()) } else { Err(h) }
    })
    .await;
    let flaky = fake.hooks("flaky");
    assert!(fake.tries("flaky") >= 4, "tried again after the 500s");
    let keys: std::collections::HashSet<&str> = flaky.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys.len(), 2, "each key once: {flaky:?}");

    // The receiver that never recovers: 3 tries, then a dead letter.
    let admin = role_token(&store, Role::Admin, None).await;
    let supervisor = role_token(&store, Role::Supervisor, None).await;
    let http = reqwest::Client::new();
    let api = format!("http://{}/api/v1", t.node.http_addr());
    let dead = |token: String| {
        let (http, api) = (http.clone(), api.clone());
        async move {
            let r = http
                .get(format!("{api}/notifications/dead"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    eventually(Duration::from_secs(20), "a dead letter for `down`", || {
        let store = store.clone();
        async move {
            let dead = store
                .deliveries(
                    tickets::outbox::DeliveryState::Dead,
                    tickets::Page::default(),
                )
                .await
                .unwrap();
            if dead.iter().any(|d| d.target == "webhook:down") {
                Ok(())
            } else {
                Err(dead)
            }
        }
    })
    .await;
    assert_eq!(fake.tries("down"), 3, "max_attempts tries");
    assert!(fake.hooks("down").is_empty());
    let (status, _) = dead(supervisor.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "administrators only");
    let (_, body) = dead(admin.clone()).await;
    let letter = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["target"] == "webhook:down")
        .unwrap()
        .clone();
    assert_eq!(letter["event_type"], "ticket.resolved");
    assert_eq!(letter["attempts"], 3);
    assert!(
        letter["last_error"].as_str().unwrap().contains("HTTP 500"),
        "{letter}"
    );
    assert!(
        testkit::schema::check(
            &serde_json::to_value(helpline::app::openapi_document()).unwrap(),
            "/components/schemas/PageBody_DeliveryView",
            &body
        )
        .is_empty()
    );
    // The receiver is mended; the administrator retries it: delivered, once, audited.
    fake.set_down("down", false);
    let id = letter["id"].as_i64().unwrap();
    let r = http
        .post(format!("{api}/notifications/{id}/retry"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"reason": "portal mended"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    wait_for("the retried event at `down`", || {
        let h = fake.hooks("down");
        if h.len() == 1 { Ok(()) } else { Err(h) }
    })
    .await;
    let retried = &fake.hooks("down")[0];
    assert!(retried.signed);
    assert_eq!(
        retried.key,
        portal
            .iter()
            .find(|h| h.event == "ticket.resolved")
            .unwrap()
            .key,
        "the same idempotency key as the portal's copy"
    );
    let again = http
        .post(format!("{api}/notifications/{id}/retry"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "only a dead one is retried"
    );

    // The ticket's audit trail: each SMS with its gateway message id, and the retry.
    let trail = store.audit_trail(n).await.unwrap();
    let sent: Vec<&str> = trail
        .iter()
        .filter(|e| e.action == "sms_sent")
        .filter_map(|e| e.reason.as_deref())
        .collect();
    assert_eq!(sent.len(), 4, "{trail:#?}");
    assert!(
        sent.iter().any(
            |r| r.contains("ticket.registered SMS (hi, DLT template 1107-reg-hi)")
                && r.contains("gateway message id gw-1")
        ),
        "{sent:#?}"
    );
    assert!(trail.iter().any(
        |e| e.action == "notification_retried" && e.reason.as_deref() == Some("portal mended")
    ));

    // The counters.
    let metrics = http
        .get(format!("http://{}/metrics", t.node.http_addr()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = testkit::prometheus::parse(&metrics).unwrap_or_else(|e| panic!("{e}\n{metrics}"));
    let value = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    assert!(
        value("helpline_notify_delivered_total") >= 11.0,
        "4 SMS + 4 portal + 2 flaky + 1 retried"
    );
    assert_eq!(value("helpline_notify_dead_total"), 1.0);
    assert!(
        value("helpline_notify_failed_total") >= 5.0,
        "2 flaky + 3 down"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sms_and_webhooks_reach_the_citizen_and_the_subscribers_sqlite() {
    sms_and_webhooks_reach_the_citizen_and_the_subscribers(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sms_and_webhooks_reach_the_citizen_and_the_subscribers_postgres() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::create(&url).await;
    sms_and_webhooks_reach_the_citizen_and_the_subscribers(Some(&schema.database_url())).await;
    schema.drop_now().await;
}

fn complaint(i: u32) -> NewCallTicket {
    NewCallTicket {
        call_id: format!("restart-{i}"),
        caller_number: "unknown".to_owned(),
        caller_raw: None,
        language: "en".to_owned(),
        department_code: "JSV".to_owned(),
        category: None,
        district: None,
        recording: None,
        after_hours: false,
    }
}

/// A node stopped while the slow receiver holds deliveries finishes them (drain) and records
/// them; the next node delivers the rest; the receiver sees each idempotency key once. A caller
/// without a number gets no SMS.
async fn a_restart_mid_delivery_loses_and_doubles_nothing(database_url: Option<&str>) {
    let (fake, base) = Fake::start().await;
    // One try at a time: the stop finds one in flight and the rest still owed.
    let hooks = [("portal", "all"), ("slow", "\"ticket.registered\"")];
    let t = TestNode::start_full(
        "notify-restart",
        office_hours(),
        database_url,
        &notify_toml(&base, &hooks, 1),
        SPEED,
        |_| {},
    )
    .await;
    for i in 0..6 {
        t.node
            .tickets()
            .create_from_call(complaint(i))
            .await
            .unwrap();
    }
    wait_for("the slow receiver busy", || {
        let n = fake.tries("slow");
        if n >= 1 { Ok(()) } else { Err(n) }
    })
    .await;
    let (sim, node, config, dir) = t.into_parts();
    node.shutdown().await;
    let before = fake.hooks("slow").len();
    assert!(before >= 1, "the try in flight finished during the drain");
    assert!(before < 6, "some were still owed at the stop: {before}");
    let node = Node::start(
        &config,
        NodeOptions {
            ari: AriEndpoint::simulator(&sim),
            clock: office_hours(),
            speed: SPEED,
        },
    )
    .await
    .unwrap();
    wait_for("six events at the slow receiver", || {
        let h = fake.hooks("slow");
        if h.len() >= 6 { Ok(()) } else { Err(h.len()) }
    })
    .await;
    // Settle: nothing more arrives once the outbox is empty.
    let store = node.tickets().store().clone();
    eventually(Duration::from_secs(20), "an empty backlog", || {
        let store = store.clone();
        async move {
            let c = store.outbox_counts().await.unwrap();
            if c.backlog == 0 { Ok(()) } else { Err(c) }
        }
    })
    .await;
    let slow = fake.hooks("slow");
    let mut keys: Vec<&str> = slow.iter().map(|h| h.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 6);
    assert_eq!(slow.len(), 6, "no key twice: {slow:?}");
    assert_eq!(fake.tries("slow"), 6, "no try repeated");
    assert!(fake.sms().is_empty(), "no SMS to `unknown`");
    node.shutdown().await;
    sim.shutdown().await.unwrap();
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_mid_delivery_loses_and_doubles_nothing_sqlite() {
    a_restart_mid_delivery_loses_and_doubles_nothing(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_mid_delivery_loses_and_doubles_nothing_postgres() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::create(&url).await;
    a_restart_mid_delivery_loses_and_doubles_nothing(Some(&schema.database_url())).await;
    schema.drop_now().await;
}

/// An officer reminded by SMS (issue 15): the reminders job writes the reminder with its outbox
/// event, and the notifier sends the officer's template (with the days overdue) to the officer's
/// phone through the gateway — once, whatever how often the job runs.
async fn an_officer_is_reminded_by_sms(database_url: Option<&str>) {
    let (fake, base) = Fake::start().await;
    let config = format!(
        "[reminders]\nenabled = true\nbefore_hours = 24\n{}\
         [notify.sms.templates.officer_reminder]\n\
         hi = {{ text = \"अनुस्मारक: शिकायत {{number}} ({{department}}) {{days_overdue}} दिन से लंबित\", dlt_template_id = \"1107-rem-hi\" }}\n\
         en = {{ text = \"Reminder: complaint {{number}} ({{department}}) is {{days_overdue}} day(s) overdue\", dlt_template_id = \"1107-rem-en\" }}\n",
        notify_toml(&base, &[], 4)
    );
    let t = TestNode::start_full(
        "remind-sms",
        office_hours(),
        database_url,
        &config,
        SPEED,
        |_| {},
    )
    .await;
    let service = t.node.tickets();
    let store = service.store();
    let now = chrono::Utc::now();
    let officer = store
        .create_officer(
            &tickets::OfficerInput {
                name: Some("Nodal JSV".into()),
                department_code: Some("JSV".into()),
                level: Some(1),
                phone: Some("+91 98160 00095".into()),
                nodal: Some(true),
                reminder_channel: Some(tickets::ReminderChannel::Sms),
                active: None,
            },
            "admin:test",
            now,
        )
        .await
        .unwrap();
    // Nobody assigned: the department's nodal officer is reminded.
    let number = service
        .create_from_call(NewCallTicket {
            call_id: "it-remind-sms".into(),
            caller_number: "anonymous".into(),
            caller_raw: None,
            language: "en".into(),
            department_code: "JSV".into(),
            category: None,
            district: None,
            recording: None,
            after_hours: false,
        })
        .await
        .unwrap();
    let due = service.ticket(number).await.unwrap().unwrap().due_at;
    let late = due + chrono::Duration::days(3) + chrono::Duration::hours(1);
    let scheduled = service.schedule_reminders(late).await.unwrap();
    assert_eq!((scheduled.calls, scheduled.sms), (0, 1));
    assert_eq!(service.schedule_reminders(late).await.unwrap().sms, 0);
    wait_for("the officer's reminder SMS", || {
        let sms = fake.sms();
        if sms.len() == 1 { Ok(()) } else { Err(sms) }
    })
    .await;
    let sms = &fake.sms()[0];
    assert_eq!(sms["mobile"], "9816000095");
    assert_eq!(sms["dlt_template_id"], "1107-rem-en");
    let text = &sms["message"];
    assert!(
        text.starts_with(&format!("Reminder: complaint {number} (Jal Shakti"))
            && text.ends_with(") is 3 day(s) overdue"),
        "{text}"
    );
    let reminders = store.reminders_of(number).await.unwrap();
    assert_eq!(
        (reminders[0].officer_id, reminders[0].state.as_str()),
        (officer.id, "sent")
    );
    // The gateway's message id on the ticket's audit trail, as a citizen's SMS has it.
    eventually(
        Duration::from_secs(10),
        "the SMS on the audit trail",
        || async {
            let audit = store.audit_trail(number).await.unwrap();
            let actions: Vec<String> = audit.iter().map(|a| a.action.clone()).collect();
            if actions.iter().any(|a| a == "sms_sent") {
                Ok(())
            } else {
                Err(actions)
            }
        },
    )
    .await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_officer_is_reminded_by_sms_sqlite() {
    an_officer_is_reminded_by_sms(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_officer_is_reminded_by_sms_postgres() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::create(&url).await;
    an_officer_is_reminded_by_sms(Some(&schema.database_url())).await;
    schema.drop_now().await;
}
