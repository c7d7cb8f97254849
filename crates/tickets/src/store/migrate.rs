//! The ticket store's schema: `sqlx::migrate!` over `migrations/sqlite` and `migrations/postgres` (one
//! folder per backend, each dialect written out), applied in ONE transaction that holds the write lock
//! from its first statement — SQLite `BEGIN IMMEDIATE`, PostgreSQL sqlx's migration lock (the advisory
//! lock the call records' migrator takes too) — together with the seed departments, so nodes starting
//! together on one database migrate exactly once and wait for each other.
//!
//! The call records' migrations (`crates/records`, versions 120000 and up) share sqlx's
//! `_sqlx_migrations` table: each migrator ignores the other's rows (`set_ignore_missing`), and
//! "newer than this build" is judged on this crate's own range, [`VERSIONS`].
//!
//! A database made by the hand-made runner of earlier builds has `helpline_migrations` rows and no
//! `_sqlx_migrations` rows of ours: it is adopted — the rows of the versions it has are written, with
//! the checksums of our files so later runs validate them — in the same transaction, before the rest
//! run. `helpline_migrations` is left as it was (nothing reads it once adopted), so a node still on
//! the previous build can restart during a rolling upgrade.
//!
//! Never edit an applied migration file: sqlx checks every applied version's checksum and refuses a
//! database whose file changed. Add a new version instead, to both folders.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::time::Instant;

use sqlx::migrate::{Migrate, MigrateError, Migrator};

use super::{Backend, BackendKind, Store, sqlite_lock_error};
use crate::departments::seed_departments;
use crate::error::StoreError;

/// The migration versions that belong to the ticket store. Those of the call records (120000 and up)
/// live in the same table; a version in neither range is nobody's and is ignored.
pub const VERSIONS: RangeInclusive<i64> = 1..=99_999;

/// The newest schema version this build knows: the last file in each migrations folder.
pub const SCHEMA_VERSION: i64 = 7;

/// Pause after the first locked attempt; doubled after each, up to [`MAX_PAUSE`].
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);
const MAX_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// This backend's migrations, ignoring the call records' rows. Not locking: [`Store::migrate`] holds
/// the lock itself, across the adoption and the seeding as well.
fn migrator(kind: BackendKind) -> Migrator {
    let mut migrator = match kind {
        BackendKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        BackendKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator.set_locking(false);
    migrator
}

/// The statements that differ between the backends.
struct Dialect {
    /// Counts the tables named `helpline_migrations` (0 or 1) in the store's schema.
    legacy_table_exists: &'static str,
    /// One adopted row: `$1` version, `$2` description, `$3` checksum, `$4` when the old runner
    /// applied it (epoch milliseconds).
    adopt: &'static str,
}

fn dialect(kind: BackendKind) -> Dialect {
    match kind {
        BackendKind::Sqlite => Dialect {
            legacy_table_exists: "SELECT COUNT(*) FROM sqlite_master \
                                  WHERE type = 'table' AND name = 'helpline_migrations'",
            adopt: "INSERT INTO _sqlx_migrations \
                    (version, description, installed_on, success, checksum, execution_time) \
                    VALUES ($1, $2, datetime($4 / 1000, 'unixepoch'), TRUE, $3, 0)",
        },
        BackendKind::Postgres => Dialect {
            legacy_table_exists: "SELECT COUNT(*) FROM pg_catalog.pg_tables \
                                  WHERE schemaname = current_schema() \
                                  AND tablename = 'helpline_migrations'",
            adopt: "INSERT INTO _sqlx_migrations \
                    (version, description, installed_on, success, checksum, execution_time) \
                    VALUES ($1, $2, to_timestamp($4 / 1000.0), TRUE, $3, 0)",
        },
    }
}

/// sqlx's migration error as ours: a driver error keeps its meaning (SQLite locked is retried, a
/// database away is "unavailable"), a failed migration names itself.
fn store_error(err: MigrateError, migrator: &Migrator) -> StoreError {
    match err {
        MigrateError::Execute(source) => StoreError::from_sqlx(source),
        MigrateError::ExecuteMigration(source, version) => StoreError::Migration {
            version,
            name: migrator
                .iter()
                .find(|m| m.version == version)
                .map(|m| m.description.to_string())
                .unwrap_or_default(),
            source,
        },
        other => StoreError::Migrate(other),
    }
}

/// Applies the migrations on `$conn` (a pooled connection of either backend) as described in the
/// module doc; evaluates to `Result<versions applied, StoreError>`. A macro so the body is compiled
/// once per backend, like `on_pool!`'s.
macro_rules! migrate_on {
    ($conn:expr, $kind:expr, $migrator:expr) => {{
        let (kind, migrator): (BackendKind, &Migrator) = ($kind, $migrator);
        let sql = dialect(kind);
        let fail = |e: MigrateError| store_error(e, migrator);
        // PostgreSQL: sqlx's advisory lock, held by the session across the transaction and its
        // commit (a no-op on SQLite, whose lock is `BEGIN IMMEDIATE`).
        Migrate::lock(&mut *$conn).await.map_err(fail)?;
        let begin = match kind {
            BackendKind::Sqlite => "BEGIN IMMEDIATE",
            BackendKind::Postgres => "BEGIN",
        };
        let mut tx = sqlx::Connection::begin_with(&mut *$conn, begin).await?;
        Migrate::ensure_migrations_table(&mut *tx)
            .await
            .map_err(fail)?;
        let ours = |rows: Vec<(i64,)>| -> BTreeSet<i64> {
            rows.into_iter()
                .map(|(v,)| v)
                .filter(|v| VERSIONS.contains(v))
                .collect()
        };
        let mut before = ours(
            sqlx::query_as("SELECT version FROM _sqlx_migrations")
                .fetch_all(&mut *tx)
                .await?,
        );
        let (legacy,): (i64,) = sqlx::query_as(sql.legacy_table_exists)
            .fetch_one(&mut *tx)
            .await?;
        if legacy > 0 {
            let rows: Vec<(i64, i64)> =
                sqlx::query_as("SELECT version, applied_at FROM helpline_migrations")
                    .fetch_all(&mut *tx)
                    .await?;
            for (version, applied_at) in rows {
                if before.contains(&version) {
                    continue;
                }
                let Some(migration) = migrator.iter().find(|m| m.version == version) else {
                    return Err(StoreError::SchemaTooNew(version));
                };
                sqlx::query(sql.adopt)
                    .bind(version)
                    .bind(migration.description.to_string())
                    .bind(migration.checksum.to_vec())
                    .bind(applied_at)
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(
                    version,
                    "adopted a migration applied by an earlier build's runner"
                );
                before.insert(version);
            }
        }
        if let Some(newest) = before.last().copied().filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::SchemaTooNew(newest));
        }
        // `run_direct`, not `run`: `run`'s `Acquire` bound is not general enough for a future that
        // is spawned (sqlx's own workaround, pinned with sqlx 0.8).
        migrator.run_direct(&mut *tx).await.map_err(fail)?;
        let after = ours(
            sqlx::query_as("SELECT version FROM _sqlx_migrations")
                .fetch_all(&mut *tx)
                .await?,
        );
        for d in seed_departments()? {
            sqlx::query(
                "INSERT INTO departments (code, name, name_hi, sla_days) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_hi = excluded.name_hi",
            )
            .bind(d.code)
            .bind(d.name)
            .bind(d.name_hi)
            .bind(i64::from(d.sla_days))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Migrate::unlock(&mut *$conn).await.map_err(fail)?;
        Ok::<Vec<i64>, StoreError>(after.difference(&before).copied().collect())
    }};
}

impl Store {
    /// Applies pending migrations and upserts the seed departments (names are refreshed; a
    /// configured SLA is kept), in one transaction holding the write lock (see the module doc).
    /// Returns the versions applied (not those adopted from an earlier build's runner). A database
    /// with a migration of ours newer than [`SCHEMA_VERSION`] is refused
    /// ([`StoreError::SchemaTooNew`]).
    ///
    /// SQLite locked by another connection (`SQLITE_BUSY`/`SQLITE_LOCKED`: nodes starting
    /// together, a backup) is tried again with a growing pause — each attempt waiting the pool's
    /// busy timeout for the lock — until [`StoreOptions::sqlite_lock_wait`] has passed; then it is
    /// [`StoreError::Locked`].
    ///
    /// [`StoreOptions::sqlite_lock_wait`]: super::StoreOptions::sqlite_lock_wait
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            let err = match self.migrate_once().await {
                Ok(applied) => return Ok(applied),
                Err(err) => err,
            };
            let source = sqlite_lock_error(err)?;
            let waited = started.elapsed();
            let Some(left) = self
                .sqlite_lock_wait
                .checked_sub(waited)
                .filter(|d| !d.is_zero())
            else {
                return Err(StoreError::Locked {
                    attempts: attempt,
                    waited,
                    source,
                });
            };
            let pause_now = pause.min(left);
            tracing::warn!(attempt, error = %source, retry_in = ?pause_now, "SQLite database locked while migrating; trying again");
            tokio::time::sleep(pause_now).await;
            pause = (pause * 2).min(MAX_PAUSE);
            attempt += 1;
        }
    }

    async fn migrate_once(&self) -> Result<Vec<i64>, StoreError> {
        let kind = self.kind();
        let migrator = migrator(kind);
        let applied = on_pool!(self, |pool| {
            let mut conn = pool.acquire().await?;
            let result = async { migrate_on!(conn, kind, &migrator) }.await;
            if result.is_err() {
                // Whatever it held — a transaction, PostgreSQL's session lock — ends with it.
                conn.close_on_drop();
            }
            result
        })?;
        self.migrated
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both folders hold the same versions with the same descriptions, all in this crate's range,
    /// the last one [`SCHEMA_VERSION`].
    #[test]
    fn the_two_backends_have_the_same_migrations() {
        let list = |kind| -> Vec<(i64, String)> {
            migrator(kind)
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        let sqlite = list(BackendKind::Sqlite);
        assert_eq!(sqlite, list(BackendKind::Postgres));
        let versions: Vec<i64> = sqlite.iter().map(|(v, _)| *v).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
        assert!(versions.iter().all(|v| VERSIONS.contains(v)));
    }

    /// The call records' migrations share the table: none of their versions may be ours.
    #[test]
    fn the_call_records_migrations_are_outside_our_range() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../records/migrations");
        let mut seen = 0;
        for backend in ["sqlite", "postgres"] {
            for entry in std::fs::read_dir(root.join(backend)).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                let version: i64 = name.split('_').next().unwrap().parse().unwrap();
                assert!(
                    !VERSIONS.contains(&version),
                    "records migration {name} is in the ticket store's range {VERSIONS:?}"
                );
                seen += 1;
            }
        }
        assert!(
            seen >= 2,
            "no records migrations found under {}",
            root.display()
        );
    }

    /// What the old runner templated (`{ID}`, `{NOW_MS}`) is written out per backend, and nothing
    /// templated is left.
    #[test]
    fn each_dialect_is_written_out() {
        for (kind, id, other_id) in [
            (
                BackendKind::Sqlite,
                "INTEGER PRIMARY KEY AUTOINCREMENT",
                "IDENTITY",
            ),
            (
                BackendKind::Postgres,
                "GENERATED BY DEFAULT AS IDENTITY",
                "AUTOINCREMENT",
            ),
        ] {
            let all: String = migrator(kind).iter().map(|m| m.sql.to_string()).collect();
            assert!(!all.contains('{'), "{kind:?}: a template is left");
            assert!(all.contains(id), "{kind:?}");
            assert!(
                !all.contains(other_id),
                "{kind:?}: the other backend's id column"
            );
        }
    }
}
