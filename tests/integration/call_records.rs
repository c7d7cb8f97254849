//! Issue 12: every call that reaches helpline leaves one call record with the right outcome, the IVR
//! path (a complaint number's digits masked), its tickets and recordings — driven through the simulator,
//! written by the records writer into the node's database.

use ari_sim::CallOutcome;
use records::{HungUpBy, Outcome};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_call_leaves_one_record_with_its_outcome_on_sqlite() {
    every_kind_of_call_leaves_one_record(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_call_leaves_one_record_with_its_outcome_on_postgres() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::create(&url).await;
    every_kind_of_call_leaves_one_record(Some(&schema.database_url())).await;
    schema.drop_now().await;
}

/// A complaint the dialplan's fallback recorded while the engine was away, and a silent one.
const FALLBACK_SPEECH: &str = "fallback-20261129-045600-9876543210-1764391560.42";
const FALLBACK_SILENT: &str = "fallback-20261129-050100-9812345678-1764391861.43";

async fn every_kind_of_call_leaves_one_record(database_url: Option<&str>) {
    let recordings = temp_dir("call-records-sim");
    write_wav(recordings.path(), FALLBACK_SPEECH, 3.0, true);
    write_wav(recordings.path(), FALLBACK_SILENT, 2.0, false);
    let sim_dir = recordings.path().to_owned();
    let t = TestNode::start_full(
        "call-records",
        office_hours(),
        database_url,
        "",
        SPEED,
        |sim| sim.recordings_dir = Some(sim_dir),
    )
    .await;
    // The round the connection started may have run already; this one runs after it.
    let imported = t.node.fallback_importer().import_now().await.unwrap();
    assert_eq!(imported.failed, 0, "{imported:?}");

    let complaint = t
        .call(scenario("+91 98160 12345", registration("2", "6", 2.0)))
        .await;
    assert_eq!(complaint.outcome, CallOutcome::Completed, "{complaint:#?}");
    let number = number_read_back(&complaint).unwrap();
    let status = t
        .call(scenario(
            "9816000031",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("2"),
                prompt("enter_complaint_number"),
                press(&number),
                prompt("anything_else"),
                press("2"),
                wait_hangup(),
            ],
        ))
        .await;
    let women = t
        .call(scenario(
            "9816000032",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("4"),
                press("1"),
                prompt("connecting"),
                wait_hangup(),
            ],
        ))
        .await;
    let agent = t
        .call(scenario(
            "9816000033",
            vec![
                prompt("welcome"),
                press("2"),
                prompt("main_menu"),
                press("0"),
                prompt("connecting_agent"),
                // Nobody logged in: given back, and the caller gives up in the IVR.
                prompt("agents_busy"),
                hangup(),
            ],
        ))
        .await;
    let gave_up = t
        .call(scenario(
            "9816000034",
            vec![prompt("welcome"), press("2"), prompt("main_menu"), hangup()],
        ))
        .await;

    let r = record_of(&t, &complaint.channel_id).await;
    assert_eq!(r.outcome, Outcome::ComplaintFiled, "{r:#?}");
    assert_eq!(
        (r.caller.as_str(), r.caller_raw.as_str()),
        ("+919816012345", "+91 98160 12345")
    );
    assert_eq!(r.tickets.len(), 1);
    assert_eq!(r.tickets[0].number, number);
    assert_eq!(r.tickets[0].department, "REV");
    assert_eq!(r.recordings.len(), 1);
    assert_eq!(r.language.as_deref(), Some("en"));
    assert!(r.answered_at.is_some());
    let steps: Vec<&str> = r.path.iter().map(|s| s.step.as_str()).collect();
    assert!(
        steps.contains(&"record_complaint") && steps.contains(&"file_complaint"),
        "{steps:?}"
    );

    let s = record_of(&t, &status.channel_id).await;
    assert_eq!(s.outcome, Outcome::StatusHeard, "{s:#?}");
    let entry = s.path.iter().find(|p| p.step == "status_number").unwrap();
    assert!(
        !entry.keys.is_empty() && entry.keys.chars().all(|k| k == records::MASKED_KEY),
        "a complaint number's digits are never kept: {entry:?}"
    );

    assert_eq!(
        record_of(&t, &women.channel_id).await.outcome,
        Outcome::Transferred("181".into())
    );
    let a = record_of(&t, &agent.channel_id).await;
    assert_eq!(a.outcome, Outcome::AbandonedInIvr, "{a:#?}");
    assert_eq!(a.agent.queue.as_deref(), Some("grievance"));
    let g = record_of(&t, &gave_up.channel_id).await;
    assert_eq!(
        (g.outcome.clone(), g.hung_up_by),
        (Outcome::AbandonedInIvr, HungUpBy::Caller),
        "{g:#?}"
    );

    // The fallback's calls: one with the complaint's ticket, one that said nothing.
    let spoken = record_of(&t, "1764391560.42").await;
    assert_eq!(spoken.outcome, Outcome::Fallback, "{spoken:#?}");
    assert_eq!(spoken.call_id, "fallback/1764391560.42");
    assert_eq!(spoken.caller, "+919876543210");
    assert_eq!(spoken.recordings, vec![FALLBACK_SPEECH.to_owned()]);
    let ticket = t
        .node
        .tickets()
        .store()
        .ticket_by_call(FALLBACK_SPEECH)
        .await
        .unwrap()
        .expect("the fallback complaint's ticket");
    assert_eq!(spoken.tickets.len(), 1);
    assert_eq!(
        (
            spoken.tickets[0].number.as_str(),
            spoken.tickets[0].department.as_str()
        ),
        (ticket.number.to_string().as_str(), "GAD")
    );
    // The epoch in the unique id is when the call began; the recording lasted 3 s.
    assert_eq!(spoken.arrived_at.timestamp(), 1_764_391_560);
    assert!(
        (2_900..=3_100).contains(&spoken.duration_ms()),
        "{spoken:#?}"
    );
    let silent = record_of(&t, "1764391861.43").await;
    assert_eq!(
        (silent.outcome.clone(), silent.tickets.len()),
        (Outcome::Fallback, 0)
    );

    // One record per call, no more: another import round writes none again.
    t.node.fallback_importer().import_now().await.unwrap();
    t.wait_until_idle().await;
    let all = t
        .node
        .call_records()
        .calls(&Default::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 7, "{all:#?}");
    // The writer's live counters on /metrics: the records handed over, stored, none lost.
    let metrics = reqwest::get(format!("http://{}/metrics", t.node.http_addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert!(value("helpline_records_calls_total") >= 7, "{metrics}");
    assert!(value("helpline_records_stored_total") >= 7, "{metrics}");
    assert_eq!(
        (
            value("helpline_records_lost_total"),
            value("helpline_records_write_failures_total"),
            value("helpline_records_journalled_directly_total"),
        ),
        (0, 0, 0),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE helpline_records_journal_pending gauge\n"));

    let day = r
        .arrived_at
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive();
    reports_and_records_over_the_api(&t, day).await;
    t.stop().await;
}

async fn token(t: &TestNode, role: tickets::Role, department: Option<&str>) -> String {
    role_token(t.node.tickets().store(), role, department).await
}

/// The records' API: the report of the calls above as a supervisor and an officer sees it, and the
/// records themselves, masked for an agent, refused to an officer.
async fn reports_and_records_over_the_api(t: &TestNode, day: chrono::NaiveDate) {
    let http = reqwest::Client::new();
    let base = format!("http://{}/api/v1", t.node.http_addr());
    let get = |path: &str, token: &str| http.get(format!("{base}{path}")).bearer_auth(token).send();
    let supervisor = token(t, tickets::Role::Supervisor, None).await;
    // The IVR's five calls, on their (local) day: by hour for one day.
    let response = get(&format!("/reports/calls?from={day}"), &supervisor)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "figures of the day are not cached"
    );
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(report["calls"]["calls"], 5, "{report:#}");
    assert_eq!(report["calls"]["complaints_filed"], 1, "{report:#}");
    assert_eq!(report["calls"]["contained"], 2, "{report:#}");
    assert_eq!(report["time_zone"], "Asia/Kolkata");
    assert_eq!(report["granularity"], "hour");
    let series = report["series"].as_array().unwrap();
    assert_eq!(series.len(), 24);
    assert_eq!(series[0]["start"], format!("{day}T00:00:00"));
    let hourly: u64 = series.iter().map(|r| r["calls"].as_u64().unwrap()).sum();
    assert_eq!(hourly, 5, "{report:#}");
    // The ticket store's section: the day's complaint (REV) and the fallback's (GAD), at L1.
    let levels: Vec<(&str, u64, u64, u64)> = report["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["department"].as_str().unwrap(),
                l["level"].as_u64().unwrap(),
                l["complaints"].as_u64().unwrap(),
                l["overdue"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(levels, [("GAD", 1, 1, 0), ("REV", 1, 1, 0)], "{report:#}");
    // The fallback's two calls, on the day of the epoch in their unique ids (29 November 2025).
    let report: serde_json::Value =
        get("/reports/calls?from=2025-11-28&to=2025-11-30", &supervisor)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(report["granularity"], "day");
    let series = report["series"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    assert_eq!(series[1]["start"], "2025-11-29T00:00:00");
    assert_eq!(series[1]["calls"], 2, "{report:#}");
    let outcomes = report["calls"]["outcomes"].as_array().unwrap();
    let fallback = outcomes
        .iter()
        .find(|o| o["outcome"] == "fallback")
        .unwrap();
    assert_eq!(fallback["calls"], 2);

    let officer = token(t, tickets::Role::Officer, Some("REV")).await;
    let mine: serde_json::Value = get(&format!("/reports/calls?from={day}"), &officer)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["department"], "REV");
    assert_eq!(
        mine["escalations"].as_array().map(Vec::len),
        Some(1),
        "their own department's: {mine:#}"
    );
    assert_eq!(
        mine["calls"]["calls"], 1,
        "the complaint filed with REV: {mine:#}"
    );
    let other = get("/reports/calls?department=GAD", &officer)
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let refused = get("/calls?from=2026-11-01&to=2026-12-31", &officer)
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let bad = get("/reports/calls?from=2026-12-31&to=2026-12-01", &supervisor)
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let hourly = get(
        "/reports/calls?from=2026-01-01&to=2026-12-31&by=hour",
        &supervisor,
    )
    .await
    .unwrap();
    assert_eq!(hourly.status(), 422);

    let agent = token(t, tickets::Role::Agent, None).await;
    let page: serde_json::Value = get("/calls?from=2025-11-29&outcome=fallback", &agent)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["masked"], true);
    let calls = page["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "{page:#}");
    assert_eq!(calls[0]["caller"], "*********3210");
    let whole: serde_json::Value = get(
        "/calls?from=2025-11-29&outcome=fallback&limit=1&offset=1",
        &supervisor,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(whole["masked"], false);
    assert_eq!(whole["calls"].as_array().unwrap().len(), 1);
    assert_eq!(whole["calls"][0]["caller"], "+919812345678");
}

/// One day of the queue log: `grievance` (declared in ivr-scripts/acd/queues.toml: 20 s, short
/// abandons under 5 s) and `retired` (no longer declared: `[records] service_level_seconds`, here 45).
fn queue_day() -> Vec<(String, records::QueueLogEntry)> {
    use records::QueueEvent::*;
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Asia::Kolkata, 2026, 12, 2, 10, 0, 0)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let (q, c, a) = (
        |name: &str| name.to_owned(),
        |n: u32| format!("ast/q{n}"),
        |name: &str| name.to_owned(),
    );
    let events = vec![
        AgentLogin { agent: a("asha") },
        EnterQueue {
            call_id: c(1),
            queue: q("grievance"),
            position: 1,
        },
        Connect {
            call_id: c(1),
            queue: q("grievance"),
            agent: a("asha"),
            hold_ms: 30_000,
        },
        EnterQueue {
            call_id: c(2),
            queue: q("grievance"),
            position: 1,
        },
        Connect {
            call_id: c(2),
            queue: q("grievance"),
            agent: a("asha"),
            hold_ms: 10_000,
        },
        EnterQueue {
            call_id: c(3),
            queue: q("grievance"),
            position: 2,
        },
        Abandon {
            call_id: c(3),
            queue: q("grievance"),
            position: 2,
            wait_ms: 3_000,
        },
        Full {
            call_id: c(4),
            queue: q("grievance"),
        },
        EnterQueue {
            call_id: c(5),
            queue: q("retired"),
            position: 1,
        },
        Connect {
            call_id: c(5),
            queue: q("retired"),
            agent: a("ravi"),
            hold_ms: 30_000,
        },
        AgentLogoff { agent: a("asha") },
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let at = at + chrono::Duration::minutes(i as i64);
            (
                format!("queue-day-{i}"),
                records::QueueLogEntry { at, event },
            )
        })
        .collect()
}

/// The queue figures over the API and from `helpline report`: each queue counted against its own
/// target (a queue no longer declared against `[records] service_level_seconds`), short abandons
/// apart, the queue and agent filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_are_reported_against_their_own_targets_over_the_api_and_the_cli() {
    let t = TestNode::start_with(
        "queue-report",
        office_hours(),
        None,
        "[records]\nservice_level_seconds = 45\n",
        SPEED,
    )
    .await;
    t.node
        .call_records()
        .append_events(&queue_day())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}/api/v1", t.node.http_addr());
    let supervisor = token(&t, tickets::Role::Supervisor, None).await;
    let report = |query: &str| {
        let request = http
            .get(format!("{base}/reports/calls?from=2026-12-02{query}"))
            .bearer_auth(&supervisor)
            .send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let day = report("").await;
    let queues = day["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 2, "{day:#}");
    let (grievance, retired) = (&queues[0], &queues[1]);
    assert_eq!(grievance["queue"], "grievance");
    assert_eq!(
        (
            &grievance["service_level_seconds"],
            &grievance["offered"],
            &grievance["answered"],
            &grievance["answered_within_target"],
            &grievance["abandoned"],
            &grievance["abandoned_short"],
            &grievance["refused"],
        ),
        (
            &json(20),
            &json(3),
            &json(2),
            &json(1),
            &json(0),
            &json(1),
            &json(1)
        ),
        "{grievance:#}"
    );
    // One in 20 s of the two answered: the short abandon and the refused call are left out.
    assert_eq!(grievance["service_level"], 0.5);
    assert_eq!(grievance["average_speed_of_answer_ms"], 20_000);
    assert_eq!(
        (&retired["service_level_seconds"], &retired["service_level"]),
        (&json(45), &json(1.0)),
        "{retired:#}"
    );
    let asha = &day["agents"][0];
    assert_eq!(
        (
            &asha["agent"],
            &asha["calls_answered"],
            &asha["logged_in_ms"]
        ),
        (&json("asha"), &json(2), &json(10 * 60_000)),
        "{day:#}"
    );

    let one = report("&queue=retired").await;
    assert_eq!(one["queue"], "retired");
    assert_eq!(one["queues"].as_array().unwrap().len(), 1, "{one:#}");
    let agents: Vec<&str> = one["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["ravi"], "the agents who took its calls: {one:#}");
    let mine = report("&agent=asha").await;
    assert_eq!(mine["queues"], json([0u8; 0]), "{mine:#}");
    assert_eq!(mine["agents"].as_array().unwrap().len(), 1, "{mine:#}");

    // The same from the command line, with the same configuration.
    let dir = temp_dir("queue-report-cli");
    let config = dir.path().join("helpline.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n[ivr]\nscripts_dir = \"{}/ivr-scripts\"\n\
             [records]\nservice_level_seconds = 45\n",
            t.config.database.url.expose(),
            repo().display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_helpline"))
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .arg("--config")
            .arg(&config)
            .args(["report", "--from", "2026-12-02"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run(&["--csv", "queues"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[1].starts_with("grievance,20,3,2,1,0,1,0,1,0,50.0%,20.0,"),
        "{csv}"
    );
    assert!(
        rows[2].starts_with("retired,45,1,1,1,0,0,0,0,0,100.0%,30.0,"),
        "{csv}"
    );
    let agents = run(&["--queue", "grievance", "--csv", "agents"]);
    assert_eq!(agents.lines().count(), 2, "{agents}");
    assert!(
        agents.lines().nth(1).unwrap().starts_with("asha,2,"),
        "{agents}"
    );
    let tables = run(&[]);
    assert!(
        tables.contains("\nEscalations and overdue per department and level"),
        "{tables}"
    );
    t.stop().await;
}

fn json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}
