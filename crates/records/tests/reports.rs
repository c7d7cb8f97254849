//! Reports on both backends: a seeded month of calls and queue events is stored, and every figure the
//! store's report gives is computed again here, independently, from the generated data. Also: a fallback
//! call's record folds into the record of the call the engine handed to the dialplan.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use records::{
    CallQuery, CallRecord, FALLBACK_CALL_PREFIX, FiledTicket, Granularity, Outcome, QueueEvent,
    QueueLogEntry, RecordStore, ReportSpec,
};

mod support;
use support::{Rng, databases};

fn month() -> (DateTime<Utc>, DateTime<Utc>) {
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("IST");
    let from = ist
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let to = ist
        .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    (from.with_timezone(&Utc), to.with_timezone(&Utc))
}

const OUTCOMES: [&str; 8] = [
    "self_service",
    "complaint_filed",
    "complaint_filed",
    "status_heard",
    "to_agent",
    "to_agent",
    "abandoned_in_queue",
    "abandoned_in_ivr",
];
const DEPARTMENTS: [&str; 3] = ["HEALTH", "PWD", "REV"];
const AGENTS: [&str; 3] = ["asha", "meena", "ravi"];

/// One generated call, with what it put in the queue log.
struct Generated {
    record: CallRecord,
    /// (wait, answered by, talk, wrap-up) for calls that queued.
    queued: Option<(i64, Option<&'static str>, i64, i64)>,
}

fn generate(n: usize) -> (Vec<Generated>, Vec<(String, QueueLogEntry)>) {
    let (from, to) = month();
    let span = (to - from).num_milliseconds() as u64;
    let mut rng = Rng(12);
    let mut calls = Vec::new();
    let mut events = Vec::new();
    for i in 0..n {
        let arrived = from + Duration::milliseconds(rng.below(span) as i64);
        let id = format!("ast/c{i}");
        let mut r = CallRecord::arrived(&id, format!("c{i}"), "node", "9816000000", arrived);
        r.language = Some(if rng.below(3) == 0 { "en" } else { "hi" }.into());
        r.answered_at = Some(arrived);
        r.ended_at = arrived + Duration::seconds(10 + rng.below(290) as i64);
        r.outcome = OUTCOMES[rng.below(OUTCOMES.len() as u64) as usize]
            .parse()
            .expect("an outcome");
        if r.outcome == Outcome::ComplaintFiled {
            r.tickets.push(FiledTicket {
                number: format!("{i:010}"),
                department: DEPARTMENTS[rng.below(3) as usize].into(),
            });
        }
        let mut queued = None;
        if matches!(r.outcome, Outcome::ToAgent | Outcome::AbandonedInQueue) {
            let queue = "general".to_owned();
            let entered = arrived + Duration::seconds(30);
            let wait = rng.below(120_000) as i64;
            let mut key = 0;
            let mut push = |at: DateTime<Utc>, event: QueueEvent| {
                key += 1;
                events.push((format!("{id}-{key}"), QueueLogEntry { at, event }));
            };
            push(
                entered,
                QueueEvent::EnterQueue {
                    call_id: id.clone(),
                    queue: queue.clone(),
                    position: 1,
                },
            );
            let left = entered + Duration::milliseconds(wait);
            if r.outcome == Outcome::ToAgent {
                let agent = AGENTS[rng.below(3) as usize];
                let talk = 30_000 + rng.below(570_000) as i64;
                let wrapup = rng.below(60_000) as i64;
                push(
                    left,
                    QueueEvent::Connect {
                        call_id: id.clone(),
                        queue: queue.clone(),
                        agent: agent.into(),
                        hold_ms: wait,
                    },
                );
                let ended = left + Duration::milliseconds(talk);
                push(
                    ended,
                    QueueEvent::CompleteAgent {
                        call_id: id.clone(),
                        queue: queue.clone(),
                        agent: agent.into(),
                        hold_ms: wait,
                        talk_ms: talk,
                    },
                );
                push(
                    ended + Duration::milliseconds(wrapup),
                    QueueEvent::Wrapup {
                        call_id: id.clone(),
                        queue,
                        agent: agent.into(),
                        wrapup_ms: wrapup,
                    },
                );
                queued = Some((wait, Some(agent), talk, wrapup));
            } else {
                push(
                    left,
                    QueueEvent::Abandon {
                        call_id: id.clone(),
                        queue,
                        position: 1,
                        wait_ms: wait,
                    },
                );
                queued = Some((wait, None, 0, 0));
            }
        }
        calls.push(Generated { record: r, queued });
    }
    // Events that fall after the month are outside the report, as they would be.
    events.retain(|(_, e)| e.at < to);
    (calls, events)
}

fn spec(granularity: Granularity) -> ReportSpec {
    let (from, to) = month();
    ReportSpec {
        granularity,
        ..ReportSpec::new(from, to, chrono_tz::Asia::Kolkata, to + Duration::days(1))
    }
}

/// The local (IST, +05:30) date of an instant, computed without the time-zone database.
fn ist_date(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::minutes(330)).date_naive()
}

#[tokio::test]
async fn a_seeded_month_reports_what_is_counted_independently() {
    let (generated, events) = generate(1500);
    let (_, to) = month();
    // The independent account.
    let contained_kinds = ["self_service", "complaint_filed", "status_heard"];
    let calls = generated.len() as u64;
    let contained = generated
        .iter()
        .filter(|g| contained_kinds.contains(&g.record.outcome.kind()))
        .count() as u64;
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut per_department: BTreeMap<&str, u64> = BTreeMap::new();
    for g in &generated {
        *per_day.entry(ist_date(g.record.arrived_at)).or_default() += 1;
        for t in &g.record.tickets {
            *per_department.entry(t.department.as_str()).or_default() += 1;
        }
    }
    // Queue figures from the calls whose queue events all fall in the month.
    let entered_in_month = |g: &&Generated| g.record.arrived_at + Duration::seconds(30) < to;
    let queued: Vec<_> = generated
        .iter()
        .filter(entered_in_month)
        .filter_map(|g| g.queued.map(|q| (g, q)))
        .collect();
    let left_in_month = |g: &Generated, wait: i64| {
        g.record.arrived_at + Duration::seconds(30) + Duration::milliseconds(wait) < to
    };
    let answered: Vec<_> = queued
        .iter()
        .filter(|(g, (wait, agent, _, _))| agent.is_some() && left_in_month(g, *wait))
        .collect();
    let abandoned_waits: Vec<i64> = queued
        .iter()
        .filter(|(g, (wait, agent, _, _))| agent.is_none() && left_in_month(g, *wait))
        .map(|(_, (wait, ..))| *wait)
        .collect();
    // Hung up within the default 5 s: short abandons, apart.
    let abandoned_short = abandoned_waits.iter().filter(|w| **w < 5_000).count() as u64;
    let abandoned = abandoned_waits.len() as u64 - abandoned_short;
    let within = answered.iter().filter(|(_, (w, ..))| *w <= 20_000).count() as u64;
    let asa = answered.iter().map(|(_, (w, ..))| w).sum::<i64>() / answered.len() as i64;
    // Talk time counts the calls completed in the month.
    let asha_talk: i64 = answered
        .iter()
        .filter(|(g, (wait, a, talk, _))| *a == Some("asha") && left_in_month(g, wait + talk))
        .map(|(_, (_, _, talk, _))| talk)
        .sum();

    let records: Vec<CallRecord> = generated.iter().map(|g| g.record.clone()).collect();
    for (url, options) in databases("report").await {
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        assert_eq!(store.insert_calls(&records).await.expect("insert"), calls);
        store.append_events(&events).await.expect("events");

        let report = store.report(spec(Granularity::Day)).await.expect("report");
        assert_eq!(report.calls.calls, calls, "{url}");
        assert_eq!(report.calls.contained, contained, "{url}");
        assert_eq!(
            report.calls.containment,
            Some(contained as f64 / calls as f64)
        );
        assert_eq!(report.series.len(), 31);
        for row in &report.series {
            assert_eq!(
                row.calls,
                per_day.get(&row.start.date()).copied().unwrap_or(0),
                "{}",
                row.start
            );
        }
        let departments: Vec<(&str, u64)> = report
            .complaints_by_department
            .iter()
            .map(|d| (d.department.as_str(), d.complaints_filed))
            .collect();
        assert_eq!(
            departments,
            per_department.clone().into_iter().collect::<Vec<_>>()
        );
        let q = &report.queues[0];
        assert_eq!(q.queue, "general");
        assert_eq!(q.offered, queued.len() as u64);
        assert_eq!(q.answered, answered.len() as u64);
        assert_eq!(
            (q.abandoned, q.abandoned_short),
            (abandoned, abandoned_short)
        );
        assert_eq!(q.answered_within_target, within);
        assert_eq!(
            q.service_level,
            Some(within as f64 / (answered.len() as u64 + abandoned) as f64)
        );
        assert_eq!(q.average_speed_of_answer_ms, Some(asa));
        let asha = report
            .agents
            .iter()
            .find(|a| a.agent == "asha")
            .expect("asha's figures");
        // Talk time counts calls completed in the month.
        assert!(
            asha.talk_ms <= asha_talk && asha.talk_ms > asha_talk * 9 / 10,
            "{asha:?}"
        );

        // A filter: the Hindi calls only.
        let hindi = store
            .report(ReportSpec {
                language: Some("hi".into()),
                ..spec(Granularity::Hour)
            })
            .await
            .expect("report");
        let want = generated
            .iter()
            .filter(|g| g.record.language.as_deref() == Some("hi"))
            .count() as u64;
        assert_eq!(hindi.calls.calls, want);
        assert_eq!(hindi.series.len(), 31 * 24);
        store.close().await;
    }
}

#[tokio::test]
async fn a_fallback_record_folds_into_the_record_of_the_call_handed_back() {
    for (url, options) in databases("fold").await {
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        let (from, _) = month();
        let mut handed_back = CallRecord::arrived("ast/17.5", "17.5", "node", "9816000000", from);
        handed_back.outcome = Outcome::Failed;
        handed_back.ended_at = from + Duration::seconds(20);
        handed_back.recordings = vec!["ivr-17.5-record_complaint-1".into()];
        store
            .insert_calls(&[handed_back.clone()])
            .await
            .expect("insert");

        let mut fallback = CallRecord::arrived(
            format!("{FALLBACK_CALL_PREFIX}17.5"),
            "17.5",
            "node",
            "+919816000000",
            from,
        );
        fallback.outcome = Outcome::Fallback;
        fallback.ended_at = from + Duration::seconds(90);
        fallback.recordings = vec!["fallback-20261201-000010-9816000000-17.5".into()];
        fallback.tickets = vec![FiledTicket {
            number: "1234567890".into(),
            department: "GAD".into(),
        }];
        // A fallback call nobody handed back is a record of its own.
        let mut alone = fallback.clone();
        alone.call_id = format!("{FALLBACK_CALL_PREFIX}18.1");
        alone.channel_id = "18.1".into();
        for _ in 0..2 {
            store
                .insert_calls(&[fallback.clone(), alone.clone()])
                .await
                .expect("insert fallback");
        }
        let all = store.calls(&CallQuery::default()).await.expect("calls");
        assert_eq!(all.len(), 2, "{url}: {all:#?}");
        let folded = store.call("ast/17.5").await.expect("read").expect("kept");
        assert_eq!(folded.outcome, Outcome::Fallback);
        assert_eq!(folded.tickets, fallback.tickets, "the ticket once");
        assert_eq!(
            folded.recordings,
            vec![
                handed_back.recordings[0].clone(),
                fallback.recordings[0].clone()
            ]
        );
        assert_eq!(folded.ended_at, fallback.ended_at);
        assert_eq!(
            store.call("fallback/18.1").await.expect("read"),
            Some(alone)
        );
        store.close().await;
    }
}
