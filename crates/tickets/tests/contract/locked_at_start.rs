//! SQLite locked by another connection while a node starts (another node migrating, a backup):
//! opening tries again with a growing pause, each try waiting the busy timeout, until
//! `sqlite_lock_wait` has passed, then fails with a clear "locked" error — which still counts as
//! unavailable, so an engine node starts anyway and files tickets in its journal.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tickets::{Store, StoreError, StoreOptions};

use crate::support::{Env, test_options};

/// Another connection holding SQLite's write lock.
async fn hold_write_lock(env: &Env) -> SqliteConnection {
    let mut conn = SqliteConnectOptions::from_str(&env.url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_waits_out_a_lock_longer_than_the_busy_timeout() {
    let env = Env::sqlite().await;
    let busy_timeout = test_options().sqlite_busy_timeout;
    let mut lock = hold_write_lock(&env).await;
    let held_for = busy_timeout * 2;
    let release = tokio::spawn(async move {
        tokio::time::sleep(held_for).await;
        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
        lock
    });
    let started = Instant::now();
    let store = Store::connect_with(&env.url, test_options()).await.unwrap();
    assert!(
        started.elapsed() > busy_timeout,
        "the lock outlasted one busy timeout"
    );
    assert!(store.department("JSV").await.unwrap().is_some());
    drop(release.await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_stays_is_a_clear_error_and_an_engine_node_starts_anyway() {
    let env = Env::sqlite().await;
    let _lock = hold_write_lock(&env).await;
    let options = StoreOptions {
        sqlite_lock_wait: Duration::from_millis(1500),
        ..test_options()
    };
    let started = Instant::now();
    let err = Store::connect_with(&env.url, options.clone())
        .await
        .unwrap_err();
    let StoreError::Locked {
        attempts, waited, ..
    } = &err
    else {
        panic!("expected Locked, got {err:?}");
    };
    assert!(*attempts >= 2, "tried again: {attempts}");
    assert!(*waited >= options.sqlite_lock_wait, "waited {waited:?}");
    assert!(
        started.elapsed() >= options.sqlite_busy_timeout * *attempts,
        "each attempt waited the busy timeout: {attempts} in {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < options.sqlite_lock_wait + options.sqlite_busy_timeout * 3,
        "bounded: {:?}",
        started.elapsed()
    );
    assert!(err.is_unavailable());
    assert!(err.to_string().contains("stayed locked"), "{err}");
    // The engine's way in: start unmigrated and journal until the database is free.
    Store::connect_or_defer(&env.url, options).await.unwrap();
}

/// A node that started while a fresh database was locked (nothing migrated yet) migrates it before its
/// first write, so the first complaint lands in the database rather than failing on missing tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_started_deferred_on_a_fresh_database_migrates_before_its_first_write() {
    let env = Env::sqlite().await;
    let url = format!("sqlite://{}?mode=rwc", env.dir.join("fresh.db").display());
    let mut lock = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    let store = Store::connect_or_defer(&url, test_options()).await.unwrap();
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    drop(lock);
    let service = tickets::TicketService::new(
        store.clone(),
        crate::support::service_config(&env.dir.join("fresh-node"), "fresh"),
    )
    .await
    .unwrap();
    let filed = service
        .file_from_call(crate::lifecycle::call("fresh-1", "JSV"))
        .await
        .unwrap();
    assert!(!filed.journaled, "written to the database: {filed:?}");
    assert!(store.ticket(filed.number).await.unwrap().is_some());
}
