//! `cargo bench -p ari`: events parsed and routed per second, and frame → call-task latency (p50/p99), with
//! 1,000 concurrent call mailboxes. The same code runs as `helpline bench ari`. Optional arguments:
//! `cargo bench -p ari -- <calls> <events-per-call> <paced-rate>`.

use ari::bench::{BenchOptions, run};

fn main() {
    let defaults = BenchOptions::default();
    // cargo passes `--bench`; only numeric arguments are ours.
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let options = BenchOptions {
        calls: numbers.first().map_or(defaults.calls, |&n| n as usize),
        events_per_call: numbers
            .get(1)
            .map_or(defaults.events_per_call, |&n| n as usize),
        paced_rate: numbers.get(2).copied().unwrap_or(defaults.paced_rate),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the benchmark");
    let report = runtime.block_on(run(options));
    print!("{report}");
}
