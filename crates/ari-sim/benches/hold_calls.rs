//! How many concurrent calls the simulator holds, and at what cost: places `CALLS` simulated callers (each
//! stays `HOLD_SECONDS`, then hangs up), while a minimal IVR on a raw WebSocket answers each one and keeps a
//! 10-second prompt playing on it (a new play whenever one finishes). Reports the time to set the calls up,
//! the CPU the whole process used per held second (simulator + the IVR + its HTTP client), the resident
//! memory, and the simulator's counters. `CALLS=2000 cargo bench -p ari-sim --bench hold_calls` to change
//! the size.

// A benchmark binary: failing loudly on a broken set-up is the right behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ari_sim::{Scenario, SimConfig, Simulator, Step};
use futures_util::StreamExt;
use serde_json::Value;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// (user + system CPU seconds, resident MiB) of this process, from /proc.
fn cpu_and_rss() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    (ticks / 100.0, rss_kb / 1024.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let calls = env_u64("CALLS", 10_000);
    let hold = env_u64("HOLD_SECONDS", 40) as f64;
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let url = format!("{}?app=ivr-1100&api_key=asterisk:asterisk", sim.ws_url());
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (_sink, mut stream) = ws.split();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let base = sim.base_url();
    let answered = Arc::new(AtomicU64::new(0));
    let plays = Arc::new(AtomicU64::new(0));
    let events = Arc::new(AtomicU64::new(0));
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    {
        let (answered, plays, events) = (answered.clone(), plays.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let tokio_tungstenite::tungstenite::Message::Text(text) = msg else {
                    continue;
                };
                events.fetch_add(1, Ordering::Relaxed);
                let ev: Value = serde_json::from_str(&text).unwrap();
                let request = match ev["type"].as_str() {
                    Some("StasisStart") => {
                        Some((ev["channel"]["id"].as_str().unwrap().to_owned(), true))
                    }
                    Some("PlaybackFinished") if ev["playback"]["state"] == "done" => {
                        let target = ev["playback"]["target_uri"].as_str().unwrap_or_default();
                        target
                            .strip_prefix("channel:")
                            .map(|c| (c.to_owned(), false))
                    }
                    _ => None,
                };
                let Some((channel, answer)) = request else {
                    continue;
                };
                let (client, base, limit) = (client.clone(), base.clone(), limit.clone());
                let (answered, plays) = (answered.clone(), plays.clone());
                tokio::spawn(async move {
                    let _permit = limit.acquire().await.unwrap();
                    if answer {
                        let r = client
                            .post(format!("{base}/channels/{channel}/answer"))
                            .basic_auth("asterisk", Some("asterisk"))
                            .send()
                            .await;
                        if r.is_ok() {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    let r = client
                        .post(format!("{base}/channels/{channel}/play"))
                        .basic_auth("asterisk", Some("asterisk"))
                        .query(&[("media", "sound:demo-congrats")])
                        .send()
                        .await;
                    if r.is_ok() {
                        plays.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
    }

    let setup = Instant::now();
    let scenario = Scenario::new("9816000001")
        .step(Step::Wait { seconds: hold })
        .step(Step::Hangup);
    let mut ids = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        ids.push(sim.place_call(scenario.clone()).await.unwrap());
    }
    while answered.load(Ordering::Relaxed) < calls && setup.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let setup_time = setup.elapsed();
    let stats = sim.stats().await.unwrap();
    println!(
        "set-up: {calls} calls placed and answered in {:.2} s; {} channels live",
        setup_time.as_secs_f64(),
        stats.channels
    );
    let (cpu0, _) = cpu_and_rss();
    let events0 = events.load(Ordering::Relaxed);
    let plays0 = plays.load(Ordering::Relaxed);
    let window = Duration::from_secs(10);
    tokio::time::sleep(window).await;
    let (cpu1, rss) = cpu_and_rss();
    let stats = sim.stats().await.unwrap();
    println!(
        "holding {} channels for {:.0} s: CPU {:.2} s per second (of 2 cores; simulator + IVR + HTTP client), \
         RSS {rss:.0} MiB, {:.0} events/s, {:.0} plays/s",
        stats.channels,
        window.as_secs_f64(),
        (cpu1 - cpu0) / window.as_secs_f64(),
        (events.load(Ordering::Relaxed) - events0) as f64 / window.as_secs_f64(),
        (plays.load(Ordering::Relaxed) - plays0) as f64 / window.as_secs_f64(),
    );
    for id in ids {
        sim.call_result(id, Duration::from_secs(hold as u64 + 120))
            .await
            .unwrap();
    }
    let stats = sim.stats().await.unwrap();
    println!(
        "done: {} completed, {} failed, {} events sent, {} lost, {} REST requests",
        stats.calls_completed,
        stats.calls_failed,
        stats.events_sent,
        stats.events_lost,
        stats.rest_requests
    );
    sim.shutdown().await.unwrap();
}
