//! The call centre end to end against the simulator (issue 13): an agent with a profile logs in over
//! the API, a citizen presses 0, waits with music, is bridged with the agent's phone (the
//! simulator's `PJSIP/agent-101` answers after 2 s), hangs up; the agent goes to wrap-up and a
//! disposition makes them available again. The call record names the queue and the agent; the
//! queue log has the call's events; the live stream tells a supervisor.

use std::time::Duration;

use records::Outcome;
use serde_json::{Value, json};
use tickets::Role;
use tickets::accounts::agent::{AgentProfileInput, set_agent_profile};

use crate::support::*;

/// An agent `login` with a profile (Hindi and English, every department and helpline) and a token.
async fn agent(t: &TestNode, login: &str) -> String {
    agent_speaking(t, login, &["hi", "en"], "PJSIP/agent-101").await
}

/// An agent `login` speaking `languages`, ringing `phone`, and their token.
async fn agent_speaking(t: &TestNode, login: &str, languages: &[&str], phone: &str) -> String {
    let store = t.node.tickets().store();
    let now = chrono::Utc::now();
    store
        .insert_user(login, login, Role::Agent, None, "-", now)
        .await
        .unwrap()
        .unwrap();
    let profile = AgentProfileInput {
        phone: Some(phone.into()),
        languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        ..AgentProfileInput::default()
    };
    set_agent_profile(store, login, &profile, "test", now)
        .await
        .unwrap();
    tickets::tokens::create_token(
        store,
        tickets::tokens::NewTokenFor::User(login.into()),
        None,
        None,
        "test",
        now,
    )
    .await
    .unwrap()
    .token
}

/// The names of the queue log's events (`ENTER_QUEUE` …), as stored, narrowed like the store does.
async fn queue_events(t: &TestNode, queue: Option<&str>, agent: Option<&str>) -> Vec<String> {
    let events = t
        .node
        .call_records()
        .events(None, None, queue, agent)
        .await
        .unwrap();
    events
        .iter()
        .map(|e| {
            serde_json::to_value(&e.event).unwrap()["event"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(t: &TestNode) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("http://{}/api/v1", t.node.http_addr()),
        }
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The agent's state on the floor.
    async fn state_of(&self, token: &str, login: &str) -> String {
        let (status, floor) = self.get("/centre", token).await;
        assert_eq!(status, 200, "{floor}");
        floor["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["agent"] == login)
            .map(|a| a["state"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_reaches_a_logged_in_agent_and_the_agent_wraps_up() {
    // Slower than the other tests: the 30 s wrap-up must outlast the checks made during it.
    let t = TestNode::start_with("centre", office_hours(), None, "", 5.0).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    let officer = role_token(t.node.tickets().store(), Role::Officer, Some("JSV")).await;

    // Not logged in yet: the floor shows nobody available.
    assert_eq!(api.state_of(&supervisor, "asha").await, "");
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.state_of(&supervisor, "asha").await, "available");
    // Logging in twice is refused, a supervisor cannot log in as an agent without a profile, an
    // officer sees nothing of the floor.
    let (status, _) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 409);
    let (status, body) = api.post("/centre/me/login", &supervisor, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = api.get("/centre", &officer).await;
    assert_eq!(status, 403);
    let (status, body) = api
        .post("/centre/me/pause", &asha, json!({"reason": "napping"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("reason"))
    );

    let result = t
        .call(scenario(
            "9816000051",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("0"),
                prompt("connecting_agent"),
                // The agent's phone answers after 2 s; the caller talks, then hangs up.
                wait(20.0),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:#?}"
    );
    t.wait_until_idle().await;
    let record = record_of(&t, &result.channel_id).await;
    assert_eq!(record.outcome, Outcome::ToAgent, "{record:#?}");
    assert_eq!(record.agent.queue.as_deref(), Some("grievance"));
    assert_eq!(record.agent.agent.as_deref(), Some("asha"));
    assert!(record.agent.talk_ms.unwrap_or(0) > 0, "{:?}", record.agent);

    // After the call: wrap-up, ended by the disposition.
    assert_eq!(api.state_of(&supervisor, "asha").await, "wrap_up");
    let (status, body) = api.post("/centre/me/disposition", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.state_of(&supervisor, "asha").await, "available");

    // The queue log has the call, in order.
    let names = eventually(
        Duration::from_secs(10),
        "the call's queue events",
        || async {
            let names = queue_events(&t, Some("grievance"), None).await;
            if names.len() >= 4 {
                Ok(names)
            } else {
                Err(names)
            }
        },
    )
    .await;
    assert_eq!(
        names,
        ["ENTER_QUEUE", "CONNECT", "COMPLETE_CALLER", "WRAPUP"]
    );

    // A supervisor pauses the agent (audited with their name) and logs them out.
    let (status, body) = api
        .post(
            "/centre/agents/asha/pause",
            &supervisor,
            json!({"reason": "meeting"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.state_of(&supervisor, "asha").await, "paused");
    let (status, _) = api
        .post(
            "/centre/agents/asha/pause",
            &asha,
            json!({"reason": "meeting"}),
        )
        .await;
    assert_eq!(status, 403, "an agent does not pause others");
    let (status, _) = api
        .post("/centre/agents/asha/logout", &supervisor, json!({}))
        .await;
    assert_eq!(status, 204);
    assert_eq!(api.state_of(&supervisor, "asha").await, "logged_out");
    let audit = t.node.tickets().store().account_events(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "agent_force_paused" && e.subject.as_deref() == Some("asha")),
        "{audit:?}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_agent_the_caller_records_a_complaint_for_a_call_back() {
    let t = TestNode::start("centre-empty", office_hours()).await;
    let steps = vec![
        prompt("welcome"),
        press("2"),
        prompt("main_menu"),
        press("0"),
        prompt("connecting_agent"),
        prompt("agents_busy"),
        prompt("record_instructions"),
        beep(),
        speak(3.0),
        press("#"),
        prompt("record_confirm"),
        press("1"),
        prompt("goodbye"),
        wait_hangup(),
    ];
    let result = t.call(scenario("9816000052", steps)).await;
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:#?}"
    );
    t.wait_until_idle().await;
    let number = number_read_back(&result).expect("a number read back");
    let ticket = t.ticket(&number).await;
    // Flagged for a call-back, sorted by the call-back officer (no department was chosen).
    assert!(
        ticket.after_hours && ticket.department_code == "GAD",
        "{ticket:?}"
    );
    let record = record_of(&t, &result.channel_id).await;
    assert_eq!(record.outcome, Outcome::ComplaintFiled, "{record:#?}");
    t.stop().await;
}

/// Waits for the agent's wrap-up after a call and ends it with a disposition (at the simulator's
/// speed the wrap-up may be over first: then they are available already, and may be offered the
/// next call at once).
async fn end_wrap_up(api: &Api, token: &str, supervisor: &str, login: &str) {
    let state = eventually(Duration::from_secs(20), "the call's end", || async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match api.state_of(supervisor, login).await {
            s if s == "wrap_up" || s == "available" => Ok(s),
            s => Err(s),
        }
    })
    .await;
    if state == "wrap_up" {
        let (status, body) = api.post("/centre/me/disposition", token, json!({})).await;
        assert!(status == 204 || status == 409, "{status} {body}");
    }
}

/// A citizen who asks for an agent in English, waits for one (at most `wait_agent` s), talks for
/// `talk` s and hangs up.
fn to_agent(caller: &str, wait_agent: f64, talk: f64) -> ari_sim::Scenario {
    scenario(
        caller,
        vec![
            prompt("welcome"),
            press("2"),
            prompt("main_menu"),
            press("0"),
            prompt("connecting_agent"),
            ari_sim::Step::WaitAgent {
                timeout_seconds: wait_agent,
                abandon: false,
            },
            wait(talk),
            hangup(),
        ],
    )
}

/// Waits until `login` is on a call (the floor says so; polled gently: the API limits each client's
/// rate).
async fn until_on_call(api: &Api, token: &str, login: &str) {
    eventually(
        Duration::from_secs(30),
        &format!("{login} on a call"),
        || async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            match api.state_of(token, login).await {
                state if state == "on_call" => Ok(()),
                state => Err(state),
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_and_the_agent_transfers_to_181_with_the_ticket_attached() {
    let t = TestNode::start("centre-transfer", office_hours()).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");

    // The citizen files a complaint, then asks for an agent: the agent's screen and the transfer
    // carry its number.
    let mut steps = registration("2", "1", 2.0);
    steps.truncate(steps.len() - 2); // … up to "anything else?"
    steps.extend([
        press("1"),
        prompt("main_menu"),
        press("0"),
        prompt("connecting_agent"),
        wait_hangup(),
    ]);
    let id = t
        .sim
        .place_call(scenario("9816000053", steps))
        .await
        .unwrap();
    until_on_call(&api, &supervisor, "asha").await;
    let (status, floor) = api.get("/centre", &supervisor).await;
    assert_eq!(status, 200);
    assert_eq!(floor["agents"][0]["state"], "on_call", "{floor}");
    // The agent's screen pops the call: the caller (unmasked for them alone) and the complaint.
    assert_eq!(floor["calls"][0]["agent"], "asha", "{floor}");
    let (_, mine) = api.get("/centre", &asha).await;
    assert_eq!(mine["calls"][0]["caller"], "+919816000053", "{mine}");
    assert_eq!(
        mine["calls"][0]["complaints"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(floor["queues"][0]["name"], "grievance", "{floor}");

    // Only supervisors supervise; a bad mode or phone is refused by field.
    let (status, _) = api
        .post(
            "/centre/agents/asha/supervise",
            &asha,
            json!({"phone": "PJSIP/citizen", "mode": "listen"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = api
        .post(
            "/centre/agents/asha/supervise",
            &supervisor,
            json!({"phone": "PJSIP/citizen", "mode": "shout"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("mode"))
    );
    let (status, body) = api
        .post(
            "/centre/agents/asha/supervise",
            &supervisor,
            json!({"phone": "PJSIP/citizen", "mode": "listen"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // The supervisor's phone answers and snoops: the caller, the agent, the supervisor, the snoop.
    eventually(Duration::from_secs(10), "the supervisor's legs", || async {
        match t.sim.stats().await.unwrap().channels {
            legs if legs >= 4 => Ok(()),
            legs => Err(legs),
        }
    })
    .await;

    let (status, body) = api
        .post("/centre/me/transfer", &asha, json!({"to": "nowhere"}))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("to")));
    let (status, body) = api
        .post("/centre/me/transfer", &asha, json!({"to": "181"}))
        .await;
    assert_eq!(status, 204, "{body}");
    let result = t.sim.call_result(id, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:#?}"
    );
    t.wait_until_idle().await;
    // Every leg went with the call.
    assert_eq!(t.sim.stats().await.unwrap().channels, 0);

    let number = number_read_back(&result).expect("the complaint's number");
    let notes = t
        .node
        .tickets()
        .store()
        .notes(number.parse().unwrap())
        .await
        .unwrap();
    assert!(
        notes.iter().any(|n| n.text.contains("transferred to 181")),
        "{notes:?}"
    );
    let record = record_of(&t, &result.channel_id).await;
    assert_eq!(record.agent.agent.as_deref(), Some("asha"));
    // The agent is free for the next call (after the wrap-up, short at the simulator's speed).
    let state = api.state_of(&supervisor, "asha").await;
    assert!(state == "wrap_up" || state == "available", "{state}");
    let audit = t.node.tickets().store().account_events(20).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "agent_supervised"),
        "{audit:?}"
    );
    t.stop().await;
}

/// A node in a runtime of its own, on a thread of its own: dropping that runtime ends every task of
/// the node at once, with nothing shut down gracefully — as `kill -9` would (its files stay).
fn node_apart(
    config: &helpline::config::Config,
    sim: &ari_sim::SimHandle,
) -> (tokio::runtime::Runtime, helpline::app::Node) {
    let config = config.clone();
    let ari = helpline::app::AriEndpoint::simulator(sim);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let node = runtime
            .block_on(helpline::app::Node::start(
                &config,
                helpline::app::NodeOptions {
                    ari,
                    clock: office_hours(),
                    speed: SPEED,
                },
            ))
            .unwrap();
        (runtime, node)
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_dies_leaves_agents_logged_in_conversations_going_and_callers_in_place() {
    // The first engine: one agent, one caller talking to them, one caller waiting.
    let t = TestNode::start("centre-restart", office_hours()).await;
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    // The test's own node stops; the one that dies runs apart.
    let (sim, node, config, dir) = t.into_parts();
    node.shutdown().await;
    let (runtime, first) = node_apart(&config, &sim);
    assert!(first.wait_connected(Duration::from_secs(10)).await);
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{}/api/v1", first.http_addr()),
    };
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");

    let talking = sim
        .place_call(to_agent("9816000061", 600.0, 60.0))
        .await
        .unwrap();
    until_on_call(&api, &supervisor, "asha").await;
    let waiting = sim
        .place_call(to_agent("9816000062", 600.0, 5.0))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "the second caller waiting",
        || async {
            let (_, floor) = api.get("/centre", &supervisor).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
            match floor["waiting"].as_array().map(Vec::len) {
                Some(1) => Ok(()),
                other => Err(other),
            }
        },
    )
    .await;
    // Let the call centre save its state, then the engine dies.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    runtime.shutdown_background();
    drop(first);

    // The next engine, on the same database and journal.
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
    assert!(second.wait_connected(Duration::from_secs(10)).await);
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{}/api/v1", second.http_addr()),
    };
    // The agent is still logged in and on the call; nobody was dropped.
    until_on_call(&api, &supervisor, "asha").await;
    let first_call = sim.call_result(talking, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        first_call.outcome,
        ari_sim::CallOutcome::Completed,
        "{first_call:#?}"
    );
    // The conversation ended: wrap-up, then the waiting caller (who kept their place) is put
    // through to the same agent.
    end_wrap_up(&api, &asha, &supervisor, "asha").await;
    let second_call = sim.call_result(waiting, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        second_call.outcome,
        ari_sim::CallOutcome::Completed,
        "{second_call:#?}"
    );
    assert!(second_call.connected_ms.is_some(), "{second_call:#?}");
    eventually(Duration::from_secs(10), "both calls recorded", || async {
        let records = second
            .call_records()
            .calls(&Default::default())
            .await
            .unwrap();
        let to_agent = records
            .iter()
            .filter(|r| r.outcome == Outcome::ToAgent && r.agent.agent.as_deref() == Some("asha"))
            .count();
        if to_agent == 2 { Ok(()) } else { Err(records) }
    })
    .await;
    second.shutdown().await;
    sim.shutdown().await.unwrap();
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_back_keeps_the_place_rings_the_agent_first_then_the_citizen() {
    let t = TestNode::start("centre-callback", office_hours()).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    let to_agent = || {
        vec![
            prompt("welcome"),
            press("2"),
            prompt("main_menu"),
            press("0"),
            prompt("connecting_agent"),
        ]
    };
    // The agent is busy with a first caller.
    let mut first = to_agent();
    first.extend([
        ari_sim::Step::WaitAgent {
            timeout_seconds: 60.0,
            abandon: false,
        },
        wait(200.0),
        hangup(),
    ]);
    let first = t
        .sim
        .place_call(scenario("9816000071", first))
        .await
        .unwrap();
    until_on_call(&api, &supervisor, "asha").await;
    // The second waits, is offered the call-back (after 120 s, `1`), takes it and hangs up; called
    // back, they answer and are put through to the agent.
    let mut second = to_agent();
    second.extend([
        ari_sim::Step::OnPrompt {
            sound: "helpline/callback_offer".into(),
            press: "1".into(),
            hangup_after_seconds: Some(4.0),
            gap_ms: 250,
            duration_ms: 120,
        },
        ari_sim::Step::WaitPrompt {
            sound: Some("helpline/callback_accepted".into()),
            timeout_seconds: 300.0,
        },
        ari_sim::Step::AwaitCallback {
            timeout_seconds: 900.0,
            answers: vec![ari_sim::EndpointBehaviour::answer(1.0)],
        },
        ari_sim::Step::WaitAgent {
            timeout_seconds: 60.0,
            abandon: false,
        },
        wait(10.0),
        hangup(),
    ]);
    let second = t
        .sim
        .place_call(scenario("9816000072", second))
        .await
        .unwrap();
    // While they wait, /metrics has them: one caller on the line for a while, the agent on a call.
    eventually(
        Duration::from_secs(20),
        "the waiting caller on /metrics",
        || async {
            let metrics = reqwest::get(format!("http://{}/metrics", t.node.http_addr()))
                .await
                .map_err(|e| e.to_string())?
                .text()
                .await
                .map_err(|e| e.to_string())?;
            let samples = testkit::prometheus::parse(&metrics)?;
            let seen = [
                "helpline_queue_callers{queue=\"grievance\"}",
                "helpline_queue_oldest_wait_seconds{queue=\"grievance\"}",
                "helpline_agents{state=\"on_call\"}",
                "helpline_queue_agents_logged_in{queue=\"grievance\"}",
            ]
            .map(|series| samples.get(series).copied());
            match seen {
                [Some(1.0), Some(oldest), Some(1.0), Some(1.0)] if oldest >= 1.0 => Ok(()),
                _ => Err(format!("{seen:?}")),
            }
        },
    )
    .await;
    let first = t.sim.call_result(first, CALL_TIMEOUT).await.unwrap();
    assert_eq!(first.outcome, ari_sim::CallOutcome::Completed, "{first:#?}");
    // The slot is on the agent's call-back list (the number masked: not theirs yet) and the
    // supervisor's (in full).
    let slots = eventually(Duration::from_secs(20), "the booked slot", || async {
        let (status, body) = api.get("/centre/callbacks", &asha).await;
        match body["items"].as_array() {
            Some(items) if status == 200 && items.len() == 1 => Ok(body),
            _ => Err(body),
        }
    })
    .await;
    let slot = &slots["items"][0];
    assert_eq!(
        (&slot["queue"], &slot["position"], &slot["info"]["number"]),
        (
            &json!("grievance"),
            &json!(1),
            &json!(records::mask_number("+919816000072"))
        ),
        "{slots}"
    );
    assert!(slot["booked_at"].is_string(), "{slots}");
    let (_, all) = api.get("/centre/callbacks", &supervisor).await;
    assert_eq!(all["items"][0]["info"]["number"], "+919816000072", "{all}");
    // The agent disposes; the call-back slot at the head of the queue goes to them.
    end_wrap_up(&api, &asha, &supervisor, "asha").await;
    let second = t.sim.call_result(second, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        second.outcome,
        ari_sim::CallOutcome::Completed,
        "{second:#?}"
    );
    assert_eq!(second.callbacks.len(), 1, "{second:#?}");
    assert!(second.connected_ms.is_some(), "{second:#?}");
    let heard = heard(&second);
    assert!(heard.iter().any(|m| m == "callback_accepted"), "{heard:?}");
    assert!(heard.iter().any(|m| m == "callback_greeting"), "{heard:?}");
    // The first call's record says the citizen asked for a call-back; the queue log has the offer.
    let record = record_of(&t, &second.channel_id).await;
    assert_eq!(record.outcome, Outcome::CallbackRequested, "{record:#?}");
    let events = eventually(
        Duration::from_secs(10),
        "the call-back's events",
        || async {
            let names = queue_events(&t, Some("grievance"), None).await;
            if names.iter().filter(|n| *n == "CONNECT").count() >= 2 {
                Ok(names)
            } else {
                Err(names)
            }
        },
    )
    .await;
    assert!(
        events.iter().any(|e| e == "CALLBACK_ACCEPTED"),
        "{events:?}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hindi_caller_reaches_the_hindi_agent_and_a_phone_that_is_always_busy_pauses_its_agent() {
    let t = TestNode::start("centre-skills", office_hours()).await;
    let api = Api::new(&t);
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    // An English agent whose phone is always busy, and a Hindi agent whose phone answers.
    let busy = agent_speaking(&t, "ravi", &["en"], "PJSIP/agent-102").await;
    let hindi = agent_speaking(&t, "meena", &["hi"], "PJSIP/agent-101").await;
    for token in [&busy, &hindi] {
        let (status, body) = api.post("/centre/me/login", token, json!({})).await;
        assert_eq!(status, 204, "{body}");
    }
    // A Hindi caller: only meena speaks Hindi.
    let hindi_call = t
        .call(scenario(
            "9816000081",
            vec![
                prompt("welcome"),
                press("1"),
                prompt("main_menu"),
                press("0"),
                prompt("connecting_agent"),
                ari_sim::Step::WaitAgent {
                    timeout_seconds: 120.0,
                    abandon: false,
                },
                wait(5.0),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(
        hindi_call.outcome,
        ari_sim::CallOutcome::Completed,
        "{hindi_call:#?}"
    );
    let record = record_of(&t, &hindi_call.channel_id).await;
    assert_eq!(record.agent.agent.as_deref(), Some("meena"), "{record:#?}");

    // An English caller: ravi's phone is busy every time; after three rings in a row (the queue's
    // auto_pause_after) he is paused `no_answer`, and with nobody left to take English calls the
    // caller records the complaint instead — never left waiting on nobody.
    let english_call = t
        .call(scenario(
            "9816000082",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("0"),
                prompt("connecting_agent"),
                prompt("agents_busy"),
                hangup(),
            ],
        ))
        .await;
    assert_eq!(
        english_call.outcome,
        ari_sim::CallOutcome::Completed,
        "{english_call:#?}"
    );
    let (_, floor) = api.get("/centre", &supervisor).await;
    let ravi = floor["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "ravi")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (ravi["state"].as_str(), ravi["reason"].as_str()),
        (Some("paused"), Some("no_answer")),
        "{floor}"
    );
    // Written by the records writer, batched: read until all three are there.
    eventually(Duration::from_secs(10), "ravi's three rings", || async {
        let events = queue_events(&t, None, Some("ravi")).await;
        let no_answers = events.iter().filter(|e| *e == "RING_NO_ANSWER").count();
        if no_answers == 3 { Ok(()) } else { Err(events) }
    })
    .await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_talks_to_the_officer_first_then_leaves_the_caller_with_them() {
    let t = TestNode::start("centre-warm", office_hours()).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    let call = t
        .sim
        .place_call(to_agent("9816000091", 60.0, 60.0))
        .await
        .unwrap();
    until_on_call(&api, &supervisor, "asha").await;
    let (status, body) = api
        .post(
            "/centre/me/transfer",
            &asha,
            json!({"to": "phone:PJSIP/citizen", "mode": "warm"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    // The officer's phone answers: caller (on hold), agent and officer are all up.
    eventually(
        Duration::from_secs(10),
        "the officer on the line",
        || async {
            match t.sim.stats().await.unwrap().channels {
                3 => Ok(()),
                n => Err(n),
            }
        },
    )
    .await;
    let (status, body) = api
        .post("/centre/me/transfer/complete", &asha, json!({}))
        .await;
    assert_eq!(status, 204, "{body}");
    // The agent is free; the caller and the officer go on until the caller hangs up.
    eventually(Duration::from_secs(10), "the agent's leg gone", || async {
        match t.sim.stats().await.unwrap().channels {
            2 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    eventually(
        Duration::from_secs(10),
        "the agent off the call",
        || async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            match api.state_of(&supervisor, "asha").await {
                s if s == "wrap_up" || s == "available" => Ok(()),
                s => Err(s),
            }
        },
    )
    .await;
    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(
        result.outcome,
        ari_sim::CallOutcome::Completed,
        "{result:#?}"
    );
    t.wait_until_idle().await;
    assert_eq!(t.sim.stats().await.unwrap().channels, 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_hangs_up_from_the_desk_and_the_call_ends_for_both_sides() {
    // Slow enough that the wrap-up (30 s on the centre's clock) outlasts the checks made in it.
    let t = TestNode::start_with("centre-hangup", office_hours(), None, "", 5.0).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    // Not on a call: nothing to hang up, said.
    let (status, body) = api.post("/centre/me/hangup", &asha, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_on_call")),
        "{body}"
    );
    // An officer takes no calls.
    let officer = role_token(t.node.tickets().store(), Role::Officer, Some("JSV")).await;
    let (status, _) = api.post("/centre/me/hangup", &officer, json!({})).await;
    assert_eq!(status, 403);

    // The citizen would stay on the line for ten minutes; the agent ends the call.
    let call = t
        .sim
        .place_call(to_agent("9816000057", 600.0, 600.0))
        .await
        .unwrap();
    until_on_call(&api, &supervisor, "asha").await;
    // The screen-pop's IVR path reaches the floor for the call the agent is on: English (2),
    // then an agent (0).
    let (_, floor) = api.get("/centre", &asha).await;
    let popped = &floor["calls"][0];
    assert_eq!(popped["agent"], "asha", "{floor}");
    let keys: Vec<&str> = popped["path"]
        .as_array()
        .unwrap_or_else(|| panic!("no path: {floor}"))
        .iter()
        .filter_map(|s| s["keys"].as_str())
        .collect();
    assert_eq!(keys, ["2", "0"], "{floor}");
    // A second citizen listens to the menu: one call in the IVR, the one with the agent not.
    let browsing = t
        .sim
        .place_call(scenario(
            "9816000058",
            vec![prompt("welcome"), wait(15.0), hangup()],
        ))
        .await
        .unwrap();
    eventually(Duration::from_secs(10), "one call in the IVR", || async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (_, floor) = api.get("/centre", &supervisor).await;
        match floor["in_ivr"].as_u64() {
            Some(1) => Ok(()),
            other => Err(other),
        }
    })
    .await;
    let (status, body) = api.post("/centre/me/hangup", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    let result = t.sim.call_result(call, CALL_TIMEOUT).await.unwrap();
    assert_eq!(result.hung_up_by, ari_sim::HungUpBy::Network, "{result:#?}");
    t.sim.call_result(browsing, CALL_TIMEOUT).await.unwrap();
    // The agent's leg is gone too: nothing of the call is left on the simulator.
    t.wait_until_idle().await;
    eventually(Duration::from_secs(10), "no channel left", || async {
        match t.sim.stats().await.unwrap().channels {
            0 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    // The agent is in wrap-up; the call record and the queue log say the agent ended it.
    assert_eq!(api.state_of(&supervisor, "asha").await, "wrap_up");
    let record = record_of(&t, &result.channel_id).await;
    assert_eq!(record.outcome, Outcome::ToAgent, "{record:#?}");
    assert_eq!(record.agent.agent.as_deref(), Some("asha"));
    assert!(record.agent.talk_ms.is_some(), "{:?}", record.agent);
    assert_eq!(record.hung_up_by, records::HungUpBy::Helpline);
    let names = eventually(
        Duration::from_secs(10),
        "the call's queue events",
        || async {
            let names = queue_events(&t, Some("grievance"), Some("asha")).await;
            if names.iter().any(|n| n == "COMPLETE_AGENT") {
                Ok(names)
            } else {
                Err(names)
            }
        },
    )
    .await;
    assert!(!names.iter().any(|n| n == "COMPLETE_CALLER"), "{names:?}");
    let (status, body) = api.post("/centre/me/disposition", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.state_of(&supervisor, "asha").await, "available");
    // The queue's average handle time counts the conversation and its wrap-up.
    let (_, floor) = api.get("/centre", &supervisor).await;
    let grievance = floor["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "grievance")
        .unwrap_or_else(|| panic!("{floor}"));
    assert_eq!(grievance["counters"]["completed"], 1, "{grievance}");
    assert!(
        grievance["average_handle_time_secs"]
            .as_f64()
            .is_some_and(|s| s > 0.0),
        "{grievance}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallboard_reads_overdue_complaints_per_level_and_todays_escalations() {
    let t = TestNode::start("centre-complaints", office_hours()).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    let (status, _) = api.get("/centre/complaints", &asha).await;
    assert_eq!(status, 403, "an agent does not read the board's complaints");
    for description in ["Police did not come", "Police did not come again"] {
        let (status, body) = api
            .post(
                "/tickets",
                &supervisor,
                json!({
                    "source": "web", "caller_number": "9816000059", "language": "en",
                    "department_code": "POL", "description": description,
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, board) = api.get("/centre/complaints", &supervisor).await;
    assert_eq!(status, 200, "{board}");
    assert_eq!(
        board["levels"],
        json!([{"department": "POL", "name": board["levels"][0]["name"], "level": 1,
                "complaints": 2, "overdue": 0}]),
        "{board}"
    );
    assert_eq!(board["escalated_today"], json!([]));
    // The escalation job finds both past their three days: two escalations to L2 today.
    let later = t.node.tickets().clock().now() + chrono::Duration::days(4);
    let raised = t.node.tickets().escalate_overdue(later).await.unwrap();
    assert_eq!(raised.len(), 2);
    let (_, board) = api.get("/centre/complaints", &supervisor).await;
    assert_eq!(
        board["escalated_today"],
        json!([{"department": "POL", "level": 2, "escalations": 2}]),
        "{board}"
    );
    assert_eq!(board["levels"][0]["level"], 2, "{board}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_clicks_to_call_an_after_hours_complainant_and_marks_it_called_back() {
    let t = TestNode::start_with("centre-click-to-call", office_hours(), None, "", 5.0).await;
    let api = Api::new(&t);
    let asha = agent(&t, "asha").await;
    let supervisor = role_token(t.node.tickets().store(), Role::Supervisor, None).await;
    // A complaint recorded at night, flagged for a call-back.
    let number = after_hours_complaint(&t, "night-call", "9816000091", "JSV").await;
    let click = json!({"ticket": number.to_string()});
    let (status, list) = api.get("/tickets?callback_due=true", &asha).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["number"], number.to_string(), "{list}");
    // Never logged in to the call centre: it knows no phone of theirs to ring, said.
    let (status, body) = api.post("/centre/me/call", &asha, click.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    // Neither a slot nor a ticket: refused.
    let (status, body) = api.post("/centre/me/call", &asha, json!({})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = api.post("/centre/me/login", &asha, json!({})).await;
    assert_eq!(status, 204, "{body}");
    // The citizen's phone: answered when the helpline calls; they talk for a while, then hang up.
    let citizen = t
        .sim
        .place_call(answers_the_call_back("9816000091", 30.0))
        .await
        .unwrap();
    let (status, body) = api.post("/centre/me/call", &asha, click.clone()).await;
    assert_eq!(status, 202, "{body}");
    let call = body["call"].as_str().unwrap_or_default().to_owned();
    // The agent's phone first, then the citizen's; bridged, the agent's floor pops the complaint
    // with the citizen's number (their own call).
    until_on_call(&api, &supervisor, "asha").await;
    let (_, floor) = api.get("/centre", &asha).await;
    let popped = floor["calls"]
        .as_array()
        .and_then(|calls| calls.iter().find(|c| c["call"] == call.as_str()))
        .unwrap_or_else(|| panic!("{call} not on the floor: {floor}"));
    assert_eq!(popped["agent"], "asha", "{floor}");
    assert_eq!(popped["caller"], "+919816000091", "{floor}");
    assert_eq!(popped["complaints"][0], number.to_string(), "{floor}");
    // Asking again while on the call is refused.
    let (status, body) = api.post("/centre/me/call", &asha, click.clone()).await;
    assert_eq!(status, 409, "{body}");
    let result = t.sim.call_result(citizen, CALL_TIMEOUT).await.unwrap();
    assert_eq!(result.callbacks.len(), 1, "{result:#?}");
    assert!(result.connected_ms.is_some(), "{result:#?}");
    assert!(
        heard(&result).iter().any(|m| m == "callback_greeting"),
        "{result:#?}"
    );
    end_wrap_up(&api, &asha, &supervisor, "asha").await;
    // Done: marked with its outcome, audited, and off the list. Marked twice: refused.
    let path = format!("/tickets/{number}/called-back");
    let (status, body) = api
        .post(
            &path,
            &asha,
            json!({"outcome": "reached", "note": "spoke to him"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.post(&path, &asha, json!({"outcome": "reached"})).await;
    assert_eq!(status, 409, "{body}");
    let (_, list) = api.get("/tickets?callback_due=true", &asha).await;
    assert_eq!(list["total"], 0, "{list}");
    let audit = t.node.tickets().store().audit_trail(number).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "called_back" && e.to_value.as_deref() == Some("reached")),
        "{audit:?}"
    );
    // The call centre holds nothing more of it; the queues counted nothing.
    let (_, floor) = api.get("/centre", &supervisor).await;
    assert_eq!(floor["calls"].as_array().map(Vec::len), Some(0), "{floor}");
    assert_eq!(floor["queues"][0]["counters"]["answered"], 0, "{floor}");
    t.stop().await;
}
