//! The records store and writer on both backends (SQLite, and PostgreSQL via
//! `HELPLINE_TEST_POSTGRES_URL`): records and events round-trip; a writer that "dies" after journalling
//! and before the database write leaves records that the next start stores exactly once.

use std::time::Duration;

use std::sync::atomic::Ordering;

use chrono::{TimeZone, Utc};
use records::journal::{Entry, Journal};
use records::{
    CallRecord, FiledTicket, HungUpBy, Outcome, PathStep, QueueEvent, QueueLogEntry, RecordStore,
    Recorder, WriterConfig,
};
use tokio_util::sync::CancellationToken;

mod support;
use support::{databases, eventually};

fn record(n: u32) -> CallRecord {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 2, 4, 30, 0)
        .single()
        .expect("valid")
        + chrono::Duration::seconds(i64::from(n));
    let mut r = CallRecord::arrived(
        format!("ast1/c{n}"),
        format!("c{n}"),
        "node-a",
        "+91 98765 43210",
        at,
    );
    r.caller = "9876543210".into();
    r.asterisk_id = Some("ast1".into());
    r.language = Some("hi".into());
    r.answered_at = Some(at);
    r.ended_at = at + chrono::Duration::seconds(95);
    r.outcome = if n.is_multiple_of(2) {
        Outcome::ComplaintFiled
    } else {
        Outcome::Transferred("181".into())
    };
    r.path = vec![PathStep {
        step: "menu".into(),
        at,
        keys: "1".into(),
    }];
    r.tickets = vec![FiledTicket {
        number: "1234567890".into(),
        department: "PWD".into(),
    }];
    r.recordings = vec![format!("c{n}-complaint-1")];
    r.hangup_cause = Some("normal".into());
    r.hung_up_by = HungUpBy::Caller;
    r
}

/// Waits until the store holds `want` call records.
async fn until_stored(store: &RecordStore, want: i64) {
    eventually(
        Duration::from_secs(5),
        &format!("{want} call records stored"),
        || async {
            let n = store.count_calls().await.expect("count");
            if n == want { Ok(()) } else { Err(n) }
        },
    )
    .await;
}

#[tokio::test]
async fn records_and_events_round_trip_on_both_backends() {
    for (url, options) in databases("roundtrip").await {
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        // Migrating twice is harmless (a second node, a restart).
        store.migrate().await.expect("migrate again");
        let records = vec![record(1), record(2)];
        assert_eq!(store.insert_calls(&records).await.expect("insert"), 2);
        assert_eq!(
            store.insert_calls(&records).await.expect("insert again"),
            0,
            "{url}"
        );
        assert_eq!(store.call("ast1/c2").await.expect("read"), Some(record(2)));
        let at = record(1).arrived_at;
        let events = vec![
            (
                "k1".to_owned(),
                QueueLogEntry {
                    at,
                    event: QueueEvent::AgentLogin { agent: "a1".into() },
                },
            ),
            (
                "k2".to_owned(),
                QueueLogEntry {
                    at,
                    event: QueueEvent::Abandon {
                        call_id: "ast1/c1".into(),
                        queue: "general".into(),
                        position: 2,
                        wait_ms: 40_000,
                    },
                },
            ),
        ];
        store.append_events(&events).await.expect("events");
        store.append_events(&events).await.expect("events again");
        let read = store
            .events(None, None, None, None)
            .await
            .expect("read events");
        assert_eq!(read, vec![events[0].1.clone(), events[1].1.clone()]);
        let (calls, events) = store
            .purge_before(at + chrono::Duration::days(1))
            .await
            .expect("purge");
        assert_eq!((calls, events), (2, 2));
        store.close().await;
    }
}

#[tokio::test]
async fn a_crash_between_journal_and_database_loses_nothing_and_stores_once() {
    for (url, options) in databases("crash").await {
        let journal_temp = tempfile::tempdir().expect("temp dir");
        let journal_dir = journal_temp.path();
        // The writer journals a batch and "dies" before the database write: exactly what a crash at that
        // point leaves on disk. One record of it was stored already (a crash after the write, before the
        // trim), so the replay meets it again.
        let mut journal = Journal::open(journal_dir).expect("journal");
        let batch: Vec<Entry> = (1..=3).map(|n| Entry::Call(Box::new(record(n)))).collect();
        journal.append(&batch).expect("append");
        drop(journal);
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        store.insert_calls(&[record(1)]).await.expect("insert");

        let stop = CancellationToken::new();
        let (recorder, task) =
            Recorder::spawn(store.clone(), WriterConfig::new(journal_dir), stop.clone())
                .expect("writer");
        recorder.record(record(4));
        until_stored(&store, 4).await;
        stop.cancel();
        task.await.expect("writer ends");
        for n in 1..=4 {
            assert_eq!(
                store.call(&format!("ast1/c{n}")).await.expect("read"),
                Some(record(n))
            );
        }
        // Everything stored: the journal is empty, so the next start replays nothing.
        let mut journal = Journal::open(journal_dir).expect("journal");
        assert!(journal.take_backlog().expect("backlog").is_empty());
        assert_eq!(recorder.stats().lost.load(Ordering::Relaxed), 0);
        store.close().await;
    }
}

#[tokio::test]
async fn a_full_queue_sends_records_to_the_journal_and_none_is_lost() {
    for (url, options) in databases("overflow").await {
        let journal_temp = tempfile::tempdir().expect("temp dir");
        let journal_dir = journal_temp.path();
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        let mut config = WriterConfig::new(journal_dir);
        config.queue_capacity = 1;
        config.batch = 1;
        let stop = CancellationToken::new();
        let (recorder, task) =
            Recorder::spawn(store.clone(), config, stop.clone()).expect("writer");
        for n in 0..50 {
            recorder.record(record(n));
        }
        until_stored(&store, 50).await;
        assert!(
            recorder.stats().overflowed.load(Ordering::Relaxed) > 0,
            "the queue of 1 overflowed"
        );
        assert_eq!(recorder.stats().lost.load(Ordering::Relaxed), 0);
        stop.cancel();
        task.await.expect("writer ends");
        store.close().await;
    }
}

/// Counts `record_then`'s calls of `on_safe`, per record.
fn safe_counter() -> (
    std::sync::Arc<std::sync::Mutex<Vec<u32>>>,
    impl Fn(u32) -> records::OnSafe,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let make = {
        let seen = std::sync::Arc::clone(&seen);
        move |n: u32| -> records::OnSafe {
            let seen = std::sync::Arc::clone(&seen);
            Box::new(move || seen.lock().expect("not poisoned").push(n))
        }
    };
    (seen, make)
}

#[tokio::test]
async fn record_then_says_once_when_each_record_is_safe_through_the_queue_or_the_journal() {
    for (url, options) in databases("safe").await {
        let journal_temp = tempfile::tempdir().expect("temp dir");
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        let mut config = WriterConfig::new(journal_temp.path());
        // A queue of 2 overflows: some records reach the journal through the queue, some directly.
        config.queue_capacity = 2;
        config.batch = 2;
        let stop = CancellationToken::new();
        let (recorder, task) =
            Recorder::spawn(store.clone(), config, stop.clone()).expect("writer");
        let (seen, on_safe) = safe_counter();
        for n in 0..40 {
            recorder.record_then(record(n), on_safe(n));
        }
        until_stored(&store, 40).await;
        eventually(Duration::from_secs(5), "40 records said safe", || async {
            let n = seen.lock().expect("not poisoned").len();
            if n >= 40 { Ok(()) } else { Err(n) }
        })
        .await;
        let mut said = seen.lock().expect("not poisoned").clone();
        said.sort_unstable();
        assert_eq!(
            said,
            (0..40).collect::<Vec<_>>(),
            "each record said safe once"
        );
        assert!(recorder.stats().overflowed.load(Ordering::Relaxed) > 0);
        stop.cancel();
        task.await.expect("writer ends");
        store.close().await;
    }
}

#[tokio::test]
async fn a_record_is_safe_once_journalled_even_while_the_database_is_away() {
    for (url, options) in databases("safe_db_away").await {
        let journal_temp = tempfile::tempdir().expect("temp dir");
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        // The writer's database is gone (its pool closed): nothing can be stored.
        let gone = RecordStore::connect(&url, &options).await.expect("connect");
        gone.close().await;
        let stop = CancellationToken::new();
        let (recorder, task) =
            Recorder::spawn(gone, WriterConfig::new(journal_temp.path()), stop.clone())
                .expect("writer");
        let (seen, on_safe) = safe_counter();
        for n in 0..3 {
            recorder.record_then(record(n), on_safe(n));
        }
        eventually(Duration::from_secs(5), "3 records said safe", || async {
            let n = seen.lock().expect("not poisoned").len();
            if n == 3 { Ok(()) } else { Err(n) }
        })
        .await;
        assert_eq!(store.count_calls().await.expect("count"), 0, "none stored");
        stop.cancel();
        task.await.expect("writer ends");
        // The journal kept them: the next writer, with a database, stores them.
        let (_recorder, task) = Recorder::spawn(
            store.clone(),
            WriterConfig::new(journal_temp.path()),
            stop.child_token(),
        )
        .expect("writer");
        until_stored(&store, 3).await;
        drop(task);
        store.close().await;
    }
}

#[tokio::test]
async fn retention_deletes_what_is_older_than_kept_and_nothing_newer() {
    for (url, options) in databases("retention").await {
        let store = RecordStore::connect(&url, &options).await.expect("connect");
        let old = record(1);
        let mut new = record(2);
        new.arrived_at += chrono::Duration::days(40);
        new.ended_at += chrono::Duration::days(40);
        store
            .insert_calls(&[old, new.clone()])
            .await
            .expect("insert");
        // 30 days kept, "now" 41 days after the first call: only it is past retention.
        let now = new.ended_at + chrono::Duration::days(1);
        let keep = Duration::from_secs(30 * 86_400);
        let stop = CancellationToken::new();
        let task = records::retention::spawn(
            store.clone(),
            keep,
            Duration::from_millis(20),
            move || now,
            stop.clone(),
        );
        until_stored(&store, 1).await;
        assert_eq!(
            store.calls(&Default::default()).await.expect("calls"),
            vec![new]
        );
        stop.cancel();
        task.await.expect("the task ends when stopped");
        store.close().await;
    }
}
