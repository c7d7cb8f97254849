//! The queue log's vocabulary is the ACD's: every event `acd::QueueLog` writes reads, through
//! `serde_json` (as the call centre's sink maps it), as the `records::QueueEvent` of the same name and
//! fields, is kept by the sink (`in_records`), and comes back the same from both backends' tables.

use acd::{AgentId, CallId, QueueLog};
use chrono::{TimeZone, Utc};
use records::{QueueEvent, QueueLogEntry, RecordStore};

mod support;
use support::databases;

/// One of every event the ACD writes (a match below makes a new variant fail to compile here).
fn every_acd_event() -> Vec<QueueLog> {
    let c = || CallId::new("ast1/c7");
    let q = || "grievance-hi".to_owned();
    let a = || AgentId::new("asha");
    let all = vec![
        QueueLog::EnterQueue {
            call_id: c(),
            queue: q(),
            position: 2,
        },
        QueueLog::RingNoAnswer {
            call_id: c(),
            queue: q(),
            agent: a(),
            ring_ms: 15_000,
        },
        QueueLog::Connect {
            call_id: c(),
            queue: q(),
            agent: a(),
            hold_ms: 12_500,
        },
        QueueLog::CompleteAgent {
            call_id: c(),
            queue: q(),
            agent: a(),
            hold_ms: 12_500,
            talk_ms: 180_000,
        },
        QueueLog::CompleteCaller {
            call_id: c(),
            queue: q(),
            agent: a(),
            hold_ms: 9_000,
            talk_ms: 60_000,
        },
        QueueLog::Abandon {
            call_id: c(),
            queue: q(),
            position: 3,
            wait_ms: 41_000,
        },
        QueueLog::Transfer {
            call_id: c(),
            queue: q(),
            agent: a(),
            destination: "181".into(),
            hold_ms: 5_000,
            talk_ms: 6_000,
        },
        QueueLog::CallbackOffered {
            call_id: c(),
            queue: q(),
        },
        QueueLog::CallbackAccepted {
            call_id: c(),
            queue: q(),
        },
        QueueLog::AgentLogin { agent: a() },
        QueueLog::AgentLogoff { agent: a() },
        QueueLog::Pause {
            agent: a(),
            reason: "lunch".into(),
        },
        QueueLog::Unpause { agent: a() },
        QueueLog::Wrapup {
            call_id: c(),
            queue: q(),
            agent: a(),
            wrapup_ms: 30_000,
        },
        QueueLog::ExitWithTimeout {
            call_id: c(),
            queue: q(),
            position: 1,
            wait_ms: 600_000,
        },
        QueueLog::ExitEmpty {
            call_id: c(),
            queue: q(),
            position: 4,
            wait_ms: 70_000,
        },
        QueueLog::JoinEmpty {
            call_id: c(),
            queue: q(),
        },
        QueueLog::Full {
            call_id: c(),
            queue: q(),
        },
        QueueLog::Moved {
            call_id: c(),
            queue: q(),
            destination: "agent:ravi".into(),
        },
        QueueLog::CallbackFailed {
            call_id: c(),
            queue: q(),
            attempts: 3,
            wait_ms: 3_600_000,
        },
    ];
    for event in &all {
        // Exhaustive on purpose: an event the ACD gains must be added above (and to records).
        match event {
            QueueLog::EnterQueue { .. }
            | QueueLog::RingNoAnswer { .. }
            | QueueLog::Connect { .. }
            | QueueLog::CompleteAgent { .. }
            | QueueLog::CompleteCaller { .. }
            | QueueLog::Abandon { .. }
            | QueueLog::Transfer { .. }
            | QueueLog::CallbackOffered { .. }
            | QueueLog::CallbackAccepted { .. }
            | QueueLog::AgentLogin { .. }
            | QueueLog::AgentLogoff { .. }
            | QueueLog::Pause { .. }
            | QueueLog::Unpause { .. }
            | QueueLog::Wrapup { .. }
            | QueueLog::ExitWithTimeout { .. }
            | QueueLog::ExitEmpty { .. }
            | QueueLog::JoinEmpty { .. }
            | QueueLog::Full { .. }
            | QueueLog::Moved { .. }
            | QueueLog::CallbackFailed { .. } => {}
        }
    }
    all
}

/// What the call centre's sink does with an ACD event.
fn as_record(event: &QueueLog) -> QueueEvent {
    let value = serde_json::to_value(event).expect("an ACD event serialises");
    serde_json::from_value(value.clone()).unwrap_or_else(|e| {
        panic!(
            "{} does not read as a records event: {e}: {value}",
            event.name()
        )
    })
}

#[test]
fn every_acd_event_reads_as_the_records_event_of_its_name_and_fields() {
    for event in every_acd_event() {
        assert!(
            event.in_records(),
            "{} is dropped by the sink",
            event.name()
        );
        let ours = as_record(&event);
        assert_eq!(ours.name(), event.name());
        // Field for field: nothing the ACD wrote is lost or renamed on the way.
        assert_eq!(
            serde_json::to_value(&ours).expect("serialises"),
            serde_json::to_value(&event).expect("serialises"),
        );
        assert_eq!(
            ours.call_id(),
            serde_json::to_value(&event).expect("json")["call_id"].as_str()
        );
    }
}

#[tokio::test]
async fn every_acd_event_comes_back_from_the_store_as_it_was_written() {
    let at = Utc
        .with_ymd_and_hms(2026, 12, 2, 4, 0, 0)
        .single()
        .expect("valid");
    let entries: Vec<(String, QueueLogEntry)> = every_acd_event()
        .iter()
        .enumerate()
        .map(|(i, event)| {
            (
                format!("vocabulary-{i}"),
                QueueLogEntry {
                    at: at + chrono::Duration::seconds(i as i64),
                    event: as_record(event),
                },
            )
        })
        .collect();
    for (url, options) in databases("vocabulary").await {
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        store.append_events(&entries).await.expect("append");
        let back = store.events(None, None, None, None).await.expect("read");
        let written: Vec<QueueLogEntry> = entries.iter().map(|(_, e)| e.clone()).collect();
        assert_eq!(back, written, "{url}");
        store.close().await;
    }
}
