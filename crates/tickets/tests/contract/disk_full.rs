//! Issue 9: SQLite's disk fills up while calls come in (here the store's fault hook caps the file
//! with `PRAGMA max_page_count`; the journal is elsewhere). Callers hear journaled numbers; once
//! there is room again the replay must really land in the database — as another connection sees
//! it — before the journal is emptied, and no connection of the store may be left inside a
//! transaction (holding SQLite's write lock, its later writes never committed).
//!
//! How a connection got stuck: a write that runs out of room where SQLite cannot undo just the
//! statement (a failed `COMMIT` on a full disk; here a one-row `INSERT … VALUES`) makes SQLite
//! roll the whole transaction back itself; sqlx's `ROLLBACK` then fails and sqlx still counts the
//! connection as inside a transaction, so its next `BEGIN` is a `SAVEPOINT`. When a later write
//! on it fails in a way SQLite undoes per statement, sqlx's `ROLLBACK TO` succeeds and leaves a
//! transaction open that nothing ever commits.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tickets::{
    ComplaintNumber, NewCallTicket, NewTicket, Recording, RecordingAudio, Store, TicketService,
    TicketSource,
};

use crate::lifecycle::call;
use crate::support::{Env, service_config, test_options};

/// A connection of its own to the test's database file: it sees only what was committed.
async fn independent_connection(env: &Env) -> SqliteConnection {
    SqliteConnectOptions::from_str(&env.url)
        .unwrap()
        .busy_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap()
}

/// A call whose recording cannot be kept (its file is not there): the ticket is filed without it
/// and the reason, naming the long path, goes into the "created" audit entry. Those big audit rows
/// outgrow their page first, in the one-row insert SQLite cannot undo by itself.
fn call_with_lost_recording(env: &Env, call_id: &str) -> NewCallTicket {
    let mut path = env.dir.join("gone");
    for i in 0..10 {
        path.push(format!("{i}{}", "r".repeat(150)));
    }
    NewCallTicket {
        recording: Some(Recording {
            audio: RecordingAudio::File(path.join("take.wav")),
            duration_ms: 4_000,
            sha256: None,
        }),
        ..call(call_id, "PWR")
    }
}

/// A long complaint typed in by an agent: the ticket row itself needs a page of its own, and the
/// `INSERT … SELECT` that writes it is undone per statement when there is no room.
fn long_complaint() -> NewTicket {
    NewTicket {
        source: TicketSource::Web,
        idempotency_key: None,
        caller_number: "+919816012345".to_owned(),
        language: "hi".to_owned(),
        department_code: "JSV".to_owned(),
        category: None,
        district: Some("Mandi".to_owned()),
        description: Some("the pipeline to the village has been dry for a week. ".repeat(60)),
    }
}

/// The numbers (of `heard`) that `conn` cannot find as a ticket or as a merged number.
async fn missing(conn: &mut SqliteConnection, heard: &[ComplaintNumber]) -> Vec<ComplaintNumber> {
    let mut missing = Vec::new();
    for number in heard {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM tickets WHERE number = $1 \
             UNION ALL SELECT 1 FROM number_aliases WHERE number = $1",
        )
        .bind(number.to_string())
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
        if found.is_none() {
            missing.push(*number);
        }
    }
    missing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_journaled_while_sqlite_is_full_are_in_the_database_after_replay() {
    let env = Env::sqlite().await;
    // One pooled connection, so every write goes through the connection that saw the errors
    // (with more, which one a write gets is down to the pool's rotation).
    let mut options = test_options();
    options.max_connections = 1;
    let store = Store::connect_with(&env.url, options).await.unwrap();
    let service = TicketService::with_clock(
        store.clone(),
        service_config(&env.dir, "full"),
        Arc::new(env.clock.clone()),
    )
    .await
    .unwrap();
    let mut heard = Vec::new();
    for i in 0..5 {
        let number = service
            .create_from_call(call(&format!("before-{i}"), "JSV"))
            .await
            .unwrap();
        heard.push(number);
    }
    assert_eq!(service.journal_len().await, 0);

    // The disk fills. Calls keep coming; after each failure the service goes straight to the
    // journal for `retry_database_after` (200 ms in the tests), then tries the database again.
    store.limit_sqlite_pages(Some(1));
    let mut rounds = 0;
    while rounds < 12 || service.journal_len().await < 13 {
        assert!(rounds < 100, "the page cap never made writes fail");
        let first = if rounds % 2 == 0 {
            service
                .create_from_call(call_with_lost_recording(&env, &format!("full-{rounds}")))
                .await
                .unwrap()
        } else {
            service
                .create(long_complaint(), &agent())
                .await
                .unwrap()
                .number
        };
        heard.push(first);
        for i in 0..2 {
            let number = service
                .create_from_call(call(&format!("full-{rounds}-{i}"), "HLT"))
                .await
                .unwrap();
            heard.push(number);
        }
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let journaled = service.journal_len().await;

    // Room again.
    store.limit_sqlite_pages(None);
    let report = service.replay_journal().await.unwrap();
    assert_eq!(report.created + report.merged, journaled, "{report:?}");
    let after = service
        .create_from_call(call("after-the-fill", "JSV"))
        .await
        .unwrap();
    heard.push(after);

    let mut other = independent_connection(&env).await;
    let lost = missing(&mut other, &heard).await;
    assert!(
        lost.is_empty(),
        "{} of the {} numbers callers heard ({journaled} journaled) are not in the database: {lost:?}",
        lost.len(),
        heard.len()
    );
    let journal = env.dir.join("journal-full").join("tickets.journal");
    assert_eq!(
        std::fs::metadata(&journal).unwrap().len(),
        0,
        "the replayed journal is emptied"
    );
    // No connection of the store sits in a transaction: another writer gets the write lock.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("a second writer takes SQLite's write lock after the fill");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
}

fn agent() -> tickets::ApiClient {
    tickets::ApiClient {
        key: "user:7".into(),
        actor: "agent:asha (Asha Verma)".into(),
    }
}
