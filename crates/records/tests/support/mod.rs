//! What the records tests share: a fresh database on each backend, and [`eventually`], the one way
//! they wait for what the writer does.

use std::sync::atomic::{AtomicU64, Ordering};

use records::{RecordStore, StoreOptions};
use tempfile::TempDir;

#[allow(unused_imports)] // not every test file waits
pub use testkit::eventually;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh database on each backend, as `(url, options)`: a temp SQLite file (its folder removed
/// when the iteration ends), and a fresh PostgreSQL schema when `HELPLINE_TEST_POSTGRES_URL` is set.
pub struct Databases {
    list: std::vec::IntoIter<(String, StoreOptions)>,
    _dir: TempDir,
}

impl Iterator for Databases {
    type Item = (String, StoreOptions);

    fn next(&mut self) -> Option<Self::Item> {
        self.list.next()
    }
}

/// See [`Databases`].
pub async fn databases(tag: &str) -> Databases {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = vec![(
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("records.db").display()
        ),
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
    Databases {
        list: out.into_iter(),
        _dir: dir,
    }
}
