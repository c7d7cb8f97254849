//! The service around the engine: `/health`, `/metrics`, the tickets API on the same port, script
//! reloads, and the demo running to completion.

use std::time::Duration;

use ari_sim::CallOutcome;
use helpline::demo::{self, DemoOptions};
use tokio_util::sync::CancellationToken;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_the_tickets_api_share_one_port() {
    let t = TestNode::start("http", office_hours()).await;
    let result = t
        .call(scenario("9816000040", registration("2", "1", 2.0)))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    t.wait_until_idle().await;
    let base = format!("http://{}", t.node.http_addr());
    let http = reqwest::Client::new();

    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["ari"]["state"], "connected");
    assert_eq!(body["database"]["state"], "up");
    assert_eq!(body["calls_in_progress"], 0);

    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The whole text as a scraper reads it, then the series of one call from every source.
    let samples = testkit::prometheus::parse(&metrics).unwrap_or_else(|e| panic!("{e}\n{metrics}"));
    let value = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    for (series, expected) in [
        ("helpline_calls_offered_total", 1.0),
        ("helpline_tickets_created_total", 1.0),
        ("helpline_calls_ended_total{outcome=\"completed\"}", 1.0),
        ("helpline_calls_ended_total{outcome=\"lost\"}", 0.0),
        ("helpline_ari_connected", 1.0),
        ("helpline_database_up", 1.0),
        ("helpline_journal_pending", 0.0),
        ("helpline_ari_calls_routed_total", 1.0),
        ("helpline_ari_mailbox_overflows_total", 0.0),
        ("helpline_ari_connect_failures_total", 0.0),
        ("helpline_records_calls_total", 1.0),
        (
            "helpline_call_records_total{outcome=\"complaint_filed\"}",
            1.0,
        ),
        ("helpline_call_records_total{outcome=\"to_agent\"}", 0.0),
        ("helpline_queue_callers{queue=\"grievance\"}", 0.0),
        ("helpline_agents{state=\"logged_out\"}", 0.0),
        ("helpline_records_lost_total", 0.0),
        ("helpline_notify_dead_total", 0.0),
        ("helpline_notify_failed_total", 0.0),
        ("helpline_ticket_filing_duration_seconds_count", 1.0),
        (
            "helpline_ari_request_duration_seconds_count{operation=\"channels.answer\",outcome=\"answered\"}",
            1.0,
        ),
    ] {
        assert_eq!(value(series), expected, "{series}");
    }
    assert!(value("helpline_ari_frames_total") > 0.0);
    assert!(value("helpline_ari_events_delivered_total") > 0.0);
    assert!(value("helpline_ticket_filing_duration_seconds_sum") > 0.0);
    let max = value("helpline_database_connections{state=\"max\"}");
    assert!(max >= 1.0, "{max}");
    let open = value("helpline_database_connections{state=\"in_use\"}")
        + value("helpline_database_connections{state=\"idle\"}");
    assert!((1.0..=max).contains(&open), "{open} of {max}");
    // Every call's events caused actions: the first of them was timed.
    assert!(value("helpline_event_to_command_duration_seconds_count") >= 1.0);
    assert!(value("helpline_event_to_command_duration_seconds_sum") > 0.0);

    let anonymous = http
        .get(format!("{base}/api/v1/tickets"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let token = role_token(t.node.tickets().store(), tickets::Role::Supervisor, None).await;
    let listed = http
        .get(format!("{base}/api/v1/tickets"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let text = listed.text().await.unwrap();
    assert!(text.contains(&number_read_back(&result).unwrap()), "{text}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_degraded_when_asterisk_is_gone() {
    let t = TestNode::start("health-down", office_hours()).await;
    t.sim
        .inject(ari_sim::Fault::Silent { on: true })
        .await
        .unwrap();
    t.sim.inject(ari_sim::Fault::DropWebsockets).await.unwrap();
    let base = format!("http://{}", t.node.http_addr());
    let body: serde_json::Value =
        eventually(Duration::from_secs(2), "/health to answer 503", || async {
            let response = reqwest::get(format!("{base}/health")).await.unwrap();
            match response.status().as_u16() {
                503 => Ok(response.json().await.unwrap()),
                status => Err(status),
            }
        })
        .await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_ne!(body["ari"]["state"], "connected", "{body}");
    t.sim.inject(ari_sim::Fault::Clear).await.unwrap();
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_reload_is_counted_and_calls_go_on() {
    let t = TestNode::start("reload", office_hours()).await;
    t.node.reload_scripts();
    eventually(Duration::from_secs(1), "one script reload", || async {
        let stats = t.node.stats().snapshot();
        if stats.script_reloads == 1 {
            Ok(())
        } else {
            Err(stats)
        }
    })
    .await;
    let result = t
        .call(scenario("9816000041", registration("1", "2", 2.0)))
        .await;
    assert_eq!(result.outcome, CallOutcome::Completed, "{result:#?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_its_calls_to_completion_and_leaves_the_tickets_in_the_database() {
    let dir = temp_dir("demo");
    let config = config(dir.path(), None, "");
    let options = DemoOptions {
        calls: Some(12),
        speed: SPEED,
        concurrency: 6,
        ..DemoOptions::default()
    };
    let mut ready = None;
    let summary = demo::run(
        &config,
        &options,
        CancellationToken::new(),
        |r: &demo::DemoReady| {
            // The pages answer at the address told, to the login told, while the demo runs.
            let told = r.clone();
            let check = tokio::spawn(async move {
                let http = reqwest::Client::new();
                let base = format!("http://{}", told.http_addr);
                let page = http.get(format!("{base}/login")).send().await.unwrap();
                let page = (page.status().as_u16(), page.text().await.unwrap());
                let login = http
                    .post(format!("{base}/api/v1/login"))
                    .json(&serde_json::json!({"login": told.login, "password": told.password}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                (page, login)
            });
            ready = Some((r.clone(), check));
        },
        |_| {},
    )
    .await
    .unwrap();
    let (ready, page) = ready.expect("the demo reported its pages");
    assert_eq!(ready.token, summary.token);
    assert_eq!(
        (ready.login.as_str(), ready.password.as_str()),
        (summary.login.as_str(), summary.password.as_str())
    );
    assert_eq!(ready.http_addr, summary.http_addr);
    let ((status, html), login) = page.await.unwrap();
    assert_eq!(status, 200);
    assert!(html.contains("id=\"login-form\""), "{html}");
    assert_eq!(login, 200, "the demo's login works on its pages");
    assert_eq!(summary.placed, 12);
    assert_eq!(summary.ended(), 12);
    assert_eq!(summary.as_expected(), 12, "{summary:#?}");
    assert!(summary.engine.tickets_created >= 6, "{summary:#?}");
    assert_eq!(summary.engine.ari_errors, 0, "{summary:#?}");
    // The tickets stay: a later `tickets list` on the same database sees them.
    let store = helpline::app::open_store(&config).await.unwrap();
    let (_, total) = store
        .list_tickets(
            &tickets::TicketFilter::default(),
            tickets::Page {
                limit: 100,
                offset: 0,
            },
        )
        .await
        .unwrap();
    // … and the complaint the demo's confirmation call closed (filed through the service).
    assert_eq!(total, summary.engine.tickets_created + 1);
    let confirmation = summary.confirmation.as_ref().expect("a confirmation call");
    assert!(confirmation.answered, "{confirmation:?}");
    assert_eq!(confirmation.status, tickets::TicketStatus::ClosedSatisfied);
    // The demo's agents took the callers who asked for one.
    let url = helpline::app::prepare_database_url(config.database.url.expose()).unwrap();
    let records = records::RecordStore::open(&url, &tickets::StoreOptions::default()).unwrap();
    let calls = records.calls(&Default::default()).await.unwrap();
    let answered: Vec<_> = calls
        .iter()
        .filter(|r| r.outcome == records::Outcome::ToAgent)
        .filter_map(|r| r.agent.agent.clone())
        .collect();
    assert!(
        !answered.is_empty() && answered.iter().all(|a| a.starts_with("demo-")),
        "{answered:?}"
    );
    // The demo's access is short-lived (issue 10): its token stops within 8 h, and the printed
    // password logs the `demo` user in.
    let now = chrono::Utc::now();
    let hash = tickets::store::hash_token(&summary.token);
    let minutes_left = (summary.token_expires_at - now).num_minutes();
    assert!((7 * 60..=8 * 60).contains(&minutes_left), "{minutes_left}");
    let later = now + chrono::Duration::hours(8) + chrono::Duration::minutes(1);
    assert!(store.token_identity(&hash, now).await.unwrap().is_some());
    assert!(store.token_identity(&hash, later).await.unwrap().is_none());
    let session = tickets::accounts::login(
        &store,
        &tickets::accounts::Hasher::default(),
        &tickets::accounts::AccountsConfig::default(),
        &summary.login,
        &summary.password,
        None,
        now,
    )
    .await
    .unwrap();
    assert_eq!(session.unwrap().user.login, "demo");
}
