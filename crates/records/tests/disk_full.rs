//! Issue 9: SQLite's disk fills up while call records are written (here `PRAGMA max_page_count` caps
//! the file on the pool's one connection). The write fails and the writer keeps the records in its
//! journal; once there is room, the next write must really land in the database — as another
//! connection sees it — and no connection of the store may be left inside a transaction, holding
//! SQLite's write lock (which kept the ticket store's journal replay out: `bench faults --fault
//! sqlite-full` lost 189 of 200 tickets and 195 of 200 call records to it).

use std::str::FromStr;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use records::{CallRecord, PathStep, RecordStore, StoreOptions};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// A record whose path fills pages of its own: it cannot be stored without the file growing.
fn big_record(id: &str) -> CallRecord {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 2, 4, 30, 0)
        .single()
        .expect("valid");
    let mut r = CallRecord::arrived(format!("ast1/{id}"), id, "node-a", "9876543210", at);
    r.path = (0..200)
        .map(|i| PathStep {
            step: format!("step-{i}-{}", "x".repeat(100)),
            at,
            keys: "1".into(),
        })
        .collect();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_found_the_disk_full_leaves_no_connection_inside_a_transaction() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("records.db").display()
    );
    let options = StoreOptions {
        max_connections: 1,
        ..StoreOptions::default()
    };
    let store = RecordStore::connect(&url, &options).await.expect("connect");

    // The disk is full: the file may not grow (a cap below its size keeps it at its size). The cap is
    // the connection's: it is set again on whichever connection the pool holds now.
    let disk_full = || async {
        store
            .execute_raw("PRAGMA max_page_count = 1")
            .await
            .expect("cap");
    };
    disk_full().await;
    // One row: SQLite cannot undo just the statement and rolls the whole transaction back itself,
    // so the ROLLBACK that follows fails.
    let full = store.insert_calls(&[big_record("c1")]).await;
    assert!(full.is_err(), "{full:?}");
    // Two rows, retried: this time SQLite undoes the statement alone.
    disk_full().await;
    let full = store
        .insert_calls(&[big_record("c1"), big_record("c2")])
        .await;
    assert!(full.is_err(), "{full:?}");

    // Room again: lift the cap on whichever connection the pool hands out, and write again.
    store
        .execute_raw("PRAGMA max_page_count = 1073741823")
        .await
        .expect("uncap");
    assert_eq!(
        store
            .insert_calls(&[big_record("c1"), big_record("c2")])
            .await
            .expect("written once there is room"),
        2
    );

    // Another connection sees both, and can take the write lock: nothing is held open.
    let mut other: SqliteConnection = SqliteConnectOptions::from_str(&url)
        .expect("url")
        .busy_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("an independent connection");
    let (seen,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM call_records")
        .fetch_one(&mut other)
        .await
        .expect("count");
    assert_eq!(seen, 2, "the second write was not committed");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("the write lock is free");
    sqlx::query("ROLLBACK")
        .execute(&mut other)
        .await
        .expect("rollback");
    store.close().await;
}
