//! What the records tests share: a fresh database on each backend, [`eventually`], the one way
//! they wait for what the writer does, and [`Rng`] for seeded data.

use std::sync::atomic::{AtomicU64, Ordering};

use records::{RecordStore, StoreOptions};
use tempfile::TempDir;

#[allow(unused_imports)] // not every test file waits
pub use testkit::eventually;

/// splitmix64: seeded data that is the same every run.
#[allow(dead_code)] // not every test draws
pub struct Rng(pub u64);

#[allow(dead_code)]
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Milliseconds in `from..to`.
    pub fn ms(&mut self, from: i64, to: i64) -> i64 {
        from + self.below((to - from) as u64) as i64
    }

    pub fn pick<T: Copy>(&mut self, of: &[T]) -> T {
        of[self.below(of.len() as u64) as usize]
    }
}

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
