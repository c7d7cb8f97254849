//! `helpline bench tickets`: durable tickets per second and write latency, on SQLite or PostgreSQL.
//! Simulates many concurrent calls each filing its ticket through [`TicketService::create_from_call`]
//! — the same path the engine uses, so each measured create returns only after its ticket is
//! committed (SQLite WAL with `synchronous=FULL`, PostgreSQL `synchronous_commit=on`). The writer
//! commits waiting tickets together (group commit), which is what makes the rate.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{StoreError, TicketError};
use crate::model::{Page, TicketFilter};
use crate::service::{NewCallTicket, ServiceConfig, TicketService};
use crate::store::{BackendKind, Store, StoreOptions};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// `None`: a fresh SQLite file in `work_dir`. `Some(postgres://…)`: a fresh schema there,
    /// dropped afterwards.
    pub postgres_url: Option<String>,
    /// Tickets to file.
    pub tickets: usize,
    /// Concurrent simulated calls.
    pub concurrency: usize,
    /// Holds the SQLite file, the journal and recordings; emptied first.
    pub work_dir: PathBuf,
}

/// Figures from one run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub backend: String,
    pub tickets: usize,
    pub concurrency: usize,
    pub elapsed_ms: u128,
    pub tickets_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Tickets found in the database afterwards (must equal `tickets`).
    pub stored: u64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} durable tickets, {} concurrent calls, {:.0} tickets/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.backend,
            self.tickets,
            self.concurrency,
            self.tickets_per_second,
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        )
    }
}

const DEPARTMENTS: [&str; 10] = [
    "JSV", "PWR", "PWD", "HLT", "EDU", "REV", "POL", "FCS", "TRN", "GAD",
];

/// Runs the benchmark.
pub async fn run(config: BenchConfig) -> Result<BenchReport, TicketError> {
    let io = |source| TicketError::Journal {
        path: config.work_dir.clone(),
        source,
    };
    if config.work_dir.exists() {
        std::fs::remove_dir_all(&config.work_dir).map_err(io)?;
    }
    std::fs::create_dir_all(&config.work_dir).map_err(io)?;
    let mut options = StoreOptions {
        max_connections: 16,
        ..StoreOptions::default()
    };
    let schema = format!(
        "bench_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let url = match &config.postgres_url {
        Some(url) => {
            let admin = sqlx::PgPool::connect(url)
                .await
                .map_err(StoreError::from_sqlx)?;
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .map_err(StoreError::from_sqlx)?;
            admin.close().await;
            options.postgres_schema = Some(schema.clone());
            url.clone()
        }
        None => format!(
            "sqlite://{}?mode=rwc",
            config.work_dir.join("bench.db").display()
        ),
    };
    let result = measure(&config, &url, options).await;
    if let Some(admin_url) = &config.postgres_url
        && let Ok(admin) = sqlx::PgPool::connect(admin_url).await
    {
        if let Err(e) = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await
        {
            tracing::warn!(error = %e, schema, "could not drop the benchmark schema");
        }
        admin.close().await;
    }
    result
}

async fn measure(
    config: &BenchConfig,
    url: &str,
    options: StoreOptions,
) -> Result<BenchReport, TicketError> {
    let store = Store::connect_with(url, options).await?;
    let service_config = ServiceConfig::new(
        config.work_dir.join("journal"),
        config.work_dir.join("recordings"),
    );
    let service = TicketService::new(store.clone(), service_config).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let total = config.tickets;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..config.concurrency.max(1) {
        let (service, next) = (service.clone(), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, TicketError>(latencies);
                }
                let call = NewCallTicket {
                    call_id: format!("bench-{i}"),
                    caller_number: format!("98160{:05}", i % 100_000),
                    caller_raw: None,
                    language: "hi".into(),
                    department_code: DEPARTMENTS[i % DEPARTMENTS.len()].into(),
                    category: None,
                    district: None,
                    recording: None,
                    after_hours: false,
                };
                let t0 = Instant::now();
                service.create_from_call(call).await?;
                latencies.push(t0.elapsed());
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(total);
    for worker in workers {
        let part = worker.await.map_err(|e| TicketError::Journal {
            path: config.work_dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
        latencies.extend(part);
    }
    let elapsed = started.elapsed();
    if service.journal_len().await > 0 {
        return Err(TicketError::invalid(
            "benchmark",
            "the database fell over during the run; tickets went to the journal",
        ));
    }
    let (_, stored) = store
        .list_tickets(
            &TicketFilter::default(),
            Page {
                limit: 1,
                offset: 0,
            },
        )
        .await?;
    latencies.sort();
    let pick = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let idx = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[idx].as_secs_f64() * 1000.0
    };
    let report = BenchReport {
        backend: match store.kind() {
            BackendKind::Sqlite => "sqlite".into(),
            BackendKind::Postgres => "postgres".into(),
        },
        tickets: total,
        concurrency: config.concurrency.max(1),
        elapsed_ms: elapsed.as_millis(),
        tickets_per_second: total as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
        stored,
    };
    store.close().await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_run_stores_every_ticket() {
        let temp = tempfile::tempdir().unwrap();
        let report = run(BenchConfig {
            postgres_url: None,
            tickets: 300,
            concurrency: 16,
            work_dir: temp.path().join("bench"),
        })
        .await
        .unwrap();
        assert_eq!(report.stored, 300);
        assert_eq!(report.backend, "sqlite");
        assert!(report.p50_ms <= report.p99_ms && report.p99_ms <= report.max_ms);
    }
}
