//! `cargo bench -p tickets`: durable ticket writes per second and p99 latency on SQLite, and on
//! PostgreSQL when `HELPLINE_TEST_POSTGRES_URL` is set. Knobs: `BENCH_TICKETS` (default 20000),
//! `BENCH_CONCURRENCY` (default 200).

use tickets::bench::{BenchConfig, run};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tickets = env_usize("BENCH_TICKETS", 20_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 200);
    let mut targets = vec![None];
    match std::env::var("HELPLINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => targets.push(Some(url)),
        _ => println!("postgres skipped: HELPLINE_TEST_POSTGRES_URL not set"),
    }
    for postgres_url in targets {
        let temp = tempfile::tempdir()?;
        let report = run(BenchConfig {
            postgres_url,
            tickets,
            concurrency,
            work_dir: temp.path().join("bench"),
        })
        .await?;
        println!("{report}");
    }
    Ok(())
}
