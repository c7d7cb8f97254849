//! What the records tests share: temp folders and a fresh database on each backend.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use records::{RecordStore, StoreOptions};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("records-test-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh database: a temp SQLite file, or a fresh PostgreSQL schema (None when not configured).
pub async fn databases(tag: &str) -> Vec<(String, StoreOptions)> {
    let dir = temp_dir(tag);
    let mut out = vec![(
        format!("sqlite://{}?mode=rwc", dir.join("records.db").display()),
        StoreOptions::default(),
    )];
    match std::env::var("HELPLINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!(
                "records_{tag}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let admin = RecordStore::open(&url, &StoreOptions::default()).expect("pg url");
            admin
                .execute_raw(&format!("CREATE SCHEMA {schema}"))
                .await
                .expect("schema");
            admin.close().await;
            let options = StoreOptions {
                postgres_schema: Some(schema),
                ..StoreOptions::default()
            };
            out.push((url, options));
        }
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but HELPLINE_TEST_POSTGRES_URL is not set"
            );
            println!("skipped PostgreSQL: HELPLINE_TEST_POSTGRES_URL not set");
        }
    }
    out
}
