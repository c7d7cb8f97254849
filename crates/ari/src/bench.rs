//! The ARI event-path benchmark behind `cargo bench -p ari` and `helpline bench ari`: how many WebSocket frames
//! per second are parsed and routed into per-call mailboxes, and how long a frame takes from arriving to being
//! received by its call task (p50/p99), with many concurrent calls. It drives the real path
//! ([`handle_frame`] → [`Router`] → [`Mailbox`](crate::Mailbox)) with frames shaped like the real Asterisk traces.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::connection::{ConnectionStats, handle_frame};
use crate::event::{Event, parse_event};
use crate::router::{Router, RouterConfig};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchOptions {
    /// Concurrent calls (each with its mailbox and task).
    pub calls: usize,
    /// Events per call after its `StasisStart` (the last is its `StasisEnd`).
    pub events_per_call: usize,
    /// Events per second for the latency run (paced, as in production); the throughput run is unpaced.
    pub paced_rate: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            calls: 1000,
            events_per_call: 40,
            paced_rate: 5000,
        }
    }
}

/// One run's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFigures {
    /// Frames fed.
    pub frames: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Frames parsed and routed per second.
    pub events_per_sec: f64,
    /// Frame in → call task has it: median.
    pub latency_p50: Duration,
    /// … 99th percentile.
    pub latency_p99: Duration,
    /// … worst.
    pub latency_max: Duration,
    /// Mailbox overflows (should be 0).
    pub overflows: u64,
}

/// The benchmark's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    pub options: BenchOptions,
    /// Frames parsed per second on one thread, parsing only.
    pub parse_only_per_sec: f64,
    /// Unpaced: as fast as the feeder can go.
    pub throughput: RunFigures,
    /// Paced at `options.paced_rate`.
    pub paced: RunFigures,
    /// Resident memory per routed call (route + mailbox holding one event), measured over 10,000 calls;
    /// `None` where `/proc/self/statm` is not available.
    pub bytes_per_call: Option<f64>,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "ari bench: {} calls x {} events",
            self.options.calls,
            self.options.events_per_call + 1
        )?;
        writeln!(
            f,
            "  parse only (1 thread): {:.0} events/s",
            self.parse_only_per_sec
        )?;
        if let Some(bytes) = self.bytes_per_call {
            writeln!(
                f,
                "  router memory: {bytes:.0} bytes per call (route + mailbox + one event)"
            )?;
        }
        for (name, r) in [("unpaced", &self.throughput), ("paced", &self.paced)] {
            writeln!(
                f,
                "  {name:8} {} frames in {:.3} s = {:.0} events/s; frame->task p50 {:?} p99 {:?} max {:?}; overflows {}",
                r.frames,
                r.elapsed.as_secs_f64(),
                r.events_per_sec,
                r.latency_p50,
                r.latency_p99,
                r.latency_max,
                r.overflows
            )?;
        }
        Ok(())
    }
}

const CHANNEL: &str = r#"{"id": "CHAN", "name": "Local/1100@from-citizens-00000024;2", "state": "Up", "protocol_id": "", "caller": {"name": "Citizen", "number": "9816000001"}, "connected": {"name": "Citizen", "number": "9816000001"}, "accountcode": "", "dialplan": {"context": "from-citizens", "exten": "1100", "priority": 2, "app_name": "Stasis", "app_data": "ivr-1100"}, "creationtime": "2026-11-29T02:59:43.256+0000", "language": "hi"}"#;
const HEAD: &str = r#""timestamp": "2026-11-29T02:59:43.256+0000", "asterisk_id": "02:fc:00:00:00:01", "application": "ivr-1100""#;

/// A channel snapshot as Asterisk sends it, with this id.
pub fn sample_channel(id: &str) -> String {
    CHANNEL.replace("CHAN", id)
}

/// A realistic frame: the `k`-th event of call `id` (0 = StasisStart, `last` = StasisEnd).
pub fn sample_frame(id: &str, k: usize, last: usize) -> String {
    let channel = sample_channel(id);
    if k == 0 {
        return format!(r#"{{"type": "StasisStart", {HEAD}, "args": [], "channel": {channel}}}"#);
    }
    if k == last {
        return format!(r#"{{"type": "StasisEnd", {HEAD}, "channel": {channel}}}"#);
    }
    match k % 4 {
        0 => format!(
            r#"{{"type": "ChannelDtmfReceived", {HEAD}, "digit": "5", "duration_ms": 120, "channel": {channel}}}"#
        ),
        1 => format!(
            r#"{{"type": "PlaybackStarted", {HEAD}, "playback": {{"id": "pb-{k}", "media_uri": "sound:helpline/welcome", "target_uri": "channel:{id}", "language": "hi", "state": "playing"}}}}"#
        ),
        2 => format!(
            r#"{{"type": "PlaybackFinished", {HEAD}, "playback": {{"id": "pb-{k}", "media_uri": "sound:helpline/welcome", "target_uri": "channel:{id}", "language": "hi", "state": "done"}}}}"#
        ),
        _ => format!(
            r#"{{"type": "ChannelVarset", {HEAD}, "variable": "HELPLINE_STEP", "value": "{k}", "channel": {channel}}}"#
        ),
    }
}

/// Runs the benchmark. Needs a multi-threaded tokio runtime (call tasks run beside the feeder).
pub async fn run(options: BenchOptions) -> BenchReport {
    // First, before other runs leave freed memory behind that new allocations would reuse unseen.
    let bytes_per_call = memory_per_call(10_000);
    let calls = options.calls.max(1);
    let per_call = options.events_per_call.max(1);
    // Frames in wire order: round-robin over the calls, so every call is live at once.
    let mut frames = Vec::with_capacity(calls * (per_call + 1));
    for k in 0..=per_call {
        for c in 0..calls {
            frames.push(sample_frame(&format!("bench-{c};2"), k, per_call).into_bytes());
        }
    }

    let parse_started = Instant::now();
    let mut parsed = 0u64;
    for f in &frames {
        if parse_event(f).is_ok() {
            parsed += 1;
        }
    }
    let parse_only_per_sec = parsed as f64 / parse_started.elapsed().as_secs_f64();

    let throughput = run_once(&frames, calls, None).await;
    let paced = run_once(&frames, calls, Some(options.paced_rate.max(1))).await;
    BenchReport {
        options,
        parse_only_per_sec,
        throughput,
        paced,
        bytes_per_call,
    }
}

/// Resident set size in bytes (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// How much memory `calls` live calls cost the router: each has a route and a mailbox holding its
/// `StasisStart` (the event's own size is counted too: it is what a call task receives first).
pub fn memory_per_call(calls: usize) -> Option<f64> {
    let calls = calls.max(1);
    let frames: Vec<Vec<u8>> = (0..calls)
        .map(|c| sample_frame(&format!("mem-{c};2"), 0, 1).into_bytes())
        .collect();
    let (router, mut outputs) = Router::new(RouterConfig {
        new_calls_capacity: calls,
        ..RouterConfig::default()
    });
    let stats = ConnectionStats::default();
    let before = resident_bytes()?;
    for frame in &frames {
        handle_frame(frame, &router, &stats);
    }
    let mut held = Vec::with_capacity(calls);
    while let Ok(call) = outputs.new_calls.try_recv() {
        held.push(call.mailbox);
    }
    let after = resident_bytes()?;
    let per_call = after.saturating_sub(before) as f64 / held.len().max(1) as f64;
    drop(held);
    Some(per_call)
}

async fn run_once(frames: &[Vec<u8>], calls: usize, rate: Option<u64>) -> RunFigures {
    let (router, mut outputs) = Router::new(RouterConfig {
        mailbox_capacity: 64,
        new_calls_capacity: calls + 16,
        control_capacity: 1024,
    });
    let stats = ConnectionStats::default();
    // Arrival time of each frame (ns since `origin`), read by the call tasks.
    let origin = Instant::now();
    let arrivals: Arc<Vec<AtomicU64>> =
        Arc::new((0..frames.len()).map(|_| AtomicU64::new(0)).collect());

    // The supervisor: one task per call, each noting how long its frames took to reach it.
    let supervisor = {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let mut tasks = Vec::with_capacity(calls);
            while let Some(mut call) = outputs.new_calls.recv().await {
                let arrivals = arrivals.clone();
                let index: usize = call
                    .mailbox
                    .channel_id()
                    .trim_start_matches("bench-")
                    .trim_end_matches(";2")
                    .parse()
                    .unwrap_or(0);
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut k = 0usize;
                    while let Some(event) = call.mailbox.recv().await {
                        let received = origin.elapsed().as_nanos() as u64;
                        let frame = k * calls + index;
                        let sent = arrivals
                            .get(frame)
                            .map(|a| a.load(Ordering::Relaxed))
                            .unwrap_or(received);
                        latencies.push(received.saturating_sub(sent));
                        k += 1;
                        if matches!(event, Event::StasisEnd(_)) {
                            break;
                        }
                    }
                    latencies
                }));
                if tasks.len() == calls {
                    break;
                }
            }
            let mut all = Vec::new();
            for t in tasks {
                if let Ok(l) = t.await {
                    all.extend(l);
                }
            }
            all
        })
    };

    let started = Instant::now();
    let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r as f64));
    for (i, frame) in frames.iter().enumerate() {
        if let Some(interval) = interval {
            let due = started + interval.mul_f64(i as f64);
            let now = Instant::now();
            if due > now + Duration::from_micros(200) {
                tokio::time::sleep(due - now).await;
            }
        } else if i % calls == calls - 1 {
            // Unpaced: let the call tasks run once per round so the feeder measures routing, not overflow.
            tokio::task::yield_now().await;
        }
        arrivals[i].store(origin.elapsed().as_nanos() as u64, Ordering::Relaxed);
        handle_frame(frame, &router, &stats);
    }
    let mut latencies = supervisor.await.unwrap_or_default();
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pick = |q: f64| {
        if latencies.is_empty() {
            Duration::ZERO
        } else {
            let i = ((latencies.len() - 1) as f64 * q).round() as usize;
            Duration::from_nanos(latencies[i])
        }
    };
    RunFigures {
        frames: frames.len() as u64,
        elapsed,
        events_per_sec: frames.len() as f64 / elapsed.as_secs_f64(),
        latency_p50: pick(0.5),
        latency_p99: pick(0.99),
        latency_max: pick(1.0),
        overflows: router.stats().mailbox_overflows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_frames_parse_to_typed_events() {
        for k in 0..=8 {
            let f = sample_frame("bench-1;2", k, 8);
            let e = parse_event(f.as_bytes()).unwrap();
            assert!(!matches!(e, Event::Unknown(_)), "{k}: {e:?}");
            assert_eq!(e.route_key(), crate::RouteKey::Channel("bench-1;2"));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn small_run_delivers_everything() {
        let report = run(BenchOptions {
            calls: 20,
            events_per_call: 5,
            paced_rate: 100_000,
        })
        .await;
        assert_eq!(report.throughput.frames, 120);
        assert_eq!(report.throughput.overflows, 0);
        assert!(report.throughput.latency_max >= report.throughput.latency_p50);
        assert!(report.to_string().contains("20 calls"));
        if let Some(bytes) = report.bytes_per_call {
            // Generous bound: the load target allows 16 KiB per call for the whole engine.
            assert!(bytes < 16.0 * 1024.0, "{bytes} bytes per call");
        }
    }
}
