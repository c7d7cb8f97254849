//! The load benchmark's result: one serde struct written as JSON (`--json FILE`) and rendered as the table
//! printed on stdout. Targets from issue 6 are carried in the report so a reader sees pass/fail per figure.

use std::fmt::Write as _;

use serde::Serialize;

/// Latency figures in milliseconds (`None`: nothing was measured).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LatencyMs {
    pub samples: u64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub max: Option<f64>,
}

impl LatencyMs {
    /// From sorted values in ms (nearest rank).
    pub fn from_sorted(values: &[f64]) -> LatencyMs {
        let at = |q: f64| {
            let rank = ((values.len() as f64 * q).ceil() as usize).saturating_sub(1);
            values.get(rank).copied()
        };
        LatencyMs {
            samples: values.len() as u64,
            p50: at(0.5),
            p95: at(0.95),
            p99: at(0.99),
            p999: at(0.999),
            max: values.last().copied(),
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// The options the run used, as given on the command line.
    pub command: String,
    /// The call flow the callers followed.
    pub flow: super::load::Flow,
    /// `nproc`, CPU model, date (UTC).
    pub machine: Machine,
    pub calls_planned: u64,
    pub rate_planned: f64,
    pub speed: f64,
    /// Wall seconds from the first call placed to the last ended.
    pub run_seconds: f64,
    /// Wall seconds over which calls were placed.
    pub placing_seconds: f64,
    /// New calls per second reaching the engine over the steady (post-ramp) placing window.
    pub new_calls_per_sec: f64,
    /// ARI events handled by call tasks per second over the whole run.
    pub events_per_sec: f64,
    pub events: u64,
    /// Highest number of calls the engine held at once.
    pub peak_concurrent_calls: u64,
    /// ARI event taken by a call task → its first REST request, no ticket-store operation between.
    pub event_to_command: LatencyMs,
    /// The same, only while at least `high_load_mark` calls were in progress.
    pub event_to_command_at_high_load: LatencyMs,
    pub high_load_mark: u64,
    /// Event delivered by the router into a waiting call's mailbox → its first REST request: the time in
    /// the engine after parsing and routing, the call task's scheduling included.
    pub arrival_to_command: LatencyMs,
    /// … the same, only while at least `high_load_mark` calls were in progress.
    pub arrival_to_command_at_high_load: LatencyMs,
    /// Measured events that were already queued when their task came back for them (counted in
    /// `event_to_command` only: they arrived while the task handled the previous event).
    pub events_found_queued: u64,
    /// Event → REST request when the answer waited for the ticket to be durable (filing the complaint).
    pub event_to_command_via_ticket_store: LatencyMs,
    /// How late a woken task runs on the engine's runtime (a 5 ms timer's lateness; tokio timers have
    /// 1 ms granularity, so up to ~1 ms of it is the timer wheel): what an event waits in its mailbox for
    /// its call task, before `event_to_command` starts.
    pub scheduling_lag: LatencyMs,
    /// The same over two seconds before the first call: what the machine alone causes.
    pub scheduling_lag_idle: LatencyMs,
    pub scheduling_lag_at_high_load: LatencyMs,
    /// The caller's key that asks for the complaint number (`#` on the benchmark flow, `1` keeping
    /// the recording on 1100) → the read-back's first prompt starting, as the caller hears it (the
    /// simulator's clock, real ms): the ticket made durable, and the WebSocket and REST both ways.
    pub key_to_readback: LatencyMs,
    /// Engine CPU (user + system, all threads) per completed call, milliseconds.
    pub cpu_ms_per_call: Option<f64>,
    /// Of the engine's CPU, the kernel's part (system time), per call and as a share.
    pub cpu_system_ms_per_call: Option<f64>,
    pub cpu_system_share: f64,
    /// Engine CPU seconds over the run, and as a share of the machine's cores.
    pub cpu_seconds: f64,
    pub cpu_share_of_machine: f64,
    /// Engine RSS at the start, at the low and high concurrency marks, and at the peak, MiB.
    pub rss_start_mib: f64,
    pub rss_peak_mib: f64,
    /// (calls in progress, RSS bytes) nearest the low and high marks.
    pub rss_low_mark: Option<(u64, u64)>,
    pub rss_high_mark: Option<(u64, u64)>,
    /// RSS growth per concurrent call between the two marks, bytes (`None` when the run did not reach both).
    pub rss_bytes_per_call: Option<f64>,
    /// Most file descriptors the engine process had open at once (WebSocket, HTTP pool, database, files).
    pub peak_open_fds: usize,
    /// Latency stamps the probe still held at the end (0: it tracked every event to its end).
    pub probe_stamps_left: usize,
    pub tickets_created: u64,
    pub tickets_per_sec: f64,
    /// Engine-side outcomes.
    pub engine_calls_completed: u64,
    pub engine_calls_other_outcome: u64,
    /// Every kind of error; all must be 0.
    pub errors: Errors,
    /// The simulator's view: calls as scripted, not, unfinished; failure reasons.
    pub calls: super::simproc::CallsSummary,
    /// The call records written (`None`: run with `--no-call-records`).
    pub call_records: Option<CallRecordsFigures>,
}

/// What the call records writer did over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CallRecordsFigures {
    /// Records the calls handed over (one per call).
    pub handed: u64,
    /// Written to the database by the end of the run.
    pub stored: u64,
    /// Found the writer's queue full and went to its journal directly.
    pub journalled_directly: u64,
    /// Reached neither (must be 0).
    pub lost: u64,
}

/// Error counters (must all be 0 for a clean run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Errors {
    pub ari_request_errors: u64,
    pub ticket_failures: u64,
    pub calls_over_capacity: u64,
    pub mailbox_overflows: u64,
    pub calls_rejected_by_router: u64,
    pub websocket_disconnects: u64,
    pub malformed_frames: u64,
    pub calls_not_as_scripted: u64,
    /// Calls still up when the finish timeout ran out.
    pub timeouts: u64,
    pub place_errors: u64,
}

impl Errors {
    /// The sum of every counter.
    pub fn total(&self) -> u64 {
        self.ari_request_errors
            + self.ticket_failures
            + self.calls_over_capacity
            + self.mailbox_overflows
            + self.calls_rejected_by_router
            + self.websocket_disconnects
            + self.malformed_frames
            + self.calls_not_as_scripted
            + self.timeouts
            + self.place_errors
    }
}

/// The machine the run was on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub date_utc: String,
}

impl Machine {
    /// This machine, now.
    pub fn here() -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            date_utc: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2} ms"))
}

impl LoadReport {
    /// Every call as scripted, none unfinished, no errors.
    pub fn clean(&self) -> bool {
        self.errors.total() == 0
            && self.calls.as_scripted == self.calls.placed
            && self.calls.placed > 0
            && self
                .call_records
                .as_ref()
                .is_none_or(|r| r.lost == 0 && r.stored == r.handed)
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let mut row = |name: &str, value: String, target: &str| {
            // Writing to a String cannot fail.
            let _ = writeln!(t, "  {name:<48} {value:>28}   {target}");
        };
        row(
            "calls placed / as scripted",
            format!("{} / {}", self.calls.placed, self.calls.as_scripted),
            "all",
        );
        row(
            "peak concurrent calls",
            self.peak_concurrent_calls.to_string(),
            "target 10000",
        );
        row(
            "new calls/s sustained",
            format!("{:.1}", self.new_calls_per_sec),
            "target 200 for 60 s",
        );
        row(
            "ARI events handled/s",
            format!("{:.0}", self.events_per_sec),
            "",
        );
        let l = &self.event_to_command;
        row("event -> command p50", ms(l.p50), "");
        row("event -> command p99", ms(l.p99), "");
        row("event -> command p99.9", ms(l.p999), "");
        row("event -> command max", ms(l.max), "");
        let h = &self.event_to_command_at_high_load;
        row(
            &format!("event -> command p99 at >= {} calls", self.high_load_mark),
            ms(h.p99),
            "target <= 5 ms",
        );
        let a = &self.arrival_to_command;
        row(
            "delivered -> command p50 / p99 / p99.9",
            format!("{} / {} / {}", ms(a.p50), ms(a.p99), ms(a.p999)),
            "(scheduling included)",
        );
        row(
            &format!(
                "delivered -> command p99 at >= {} calls",
                self.high_load_mark
            ),
            ms(self.arrival_to_command_at_high_load.p99),
            "target <= 5 ms",
        );
        row(
            "runtime wake-up lag p99 (idle / run / high load)",
            format!(
                "{} / {} / {}",
                ms(self.scheduling_lag_idle.p99),
                ms(self.scheduling_lag.p99),
                ms(self.scheduling_lag_at_high_load.p99)
            ),
            "",
        );
        let d = &self.event_to_command_via_ticket_store;
        row(
            "event -> command via ticket store p99",
            ms(d.p99),
            "(durable first)",
        );
        let r = &self.key_to_readback;
        row(
            "key -> number read back p50 / p95 / p99",
            format!("{} / {} / {}", ms(r.p50), ms(r.p95), ms(r.p99)),
            "target p95 <= 10 ms at 50 calls",
        );
        row(
            "engine CPU per call",
            self.cpu_ms_per_call
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.2} ms")),
            "",
        );
        row(
            "engine CPU in the kernel (per call, share)",
            format!(
                "{} ({:.0} %)",
                self.cpu_system_ms_per_call
                    .map_or_else(|| "-".to_owned(), |v| format!("{v:.2} ms")),
                self.cpu_system_share * 100.0
            ),
            "",
        );
        row(
            "engine CPU (share of all cores)",
            format!(
                "{:.1} s ({:.0} %)",
                self.cpu_seconds,
                self.cpu_share_of_machine * 100.0
            ),
            "",
        );
        row(
            "engine memory per concurrent call",
            self.rss_bytes_per_call.map_or_else(
                || "- (marks not reached)".to_owned(),
                |v| format!("{:.1} KiB", v / 1024.0),
            ),
            "target <= 16 KiB",
        );
        row(
            "engine RSS start / peak",
            format!("{:.0} / {:.0} MiB", self.rss_start_mib, self.rss_peak_mib),
            "",
        );
        row(
            "engine open file descriptors (peak)",
            self.peak_open_fds.to_string(),
            "",
        );
        row(
            "tickets written/s",
            format!(
                "{:.1} ({} total)",
                self.tickets_per_sec, self.tickets_created
            ),
            "",
        );
        row(
            "call records handed / stored / lost",
            self.call_records.as_ref().map_or_else(
                || "- (--no-call-records)".to_owned(),
                |r| format!("{} / {} / {}", r.handed, r.stored, r.lost),
            ),
            "one per call, 0 lost",
        );
        row(
            "call duration p50 / p99 (simulated)",
            format!(
                "{:.1} / {:.1} s",
                self.calls.duration_p50_ms as f64 / 1000.0,
                self.calls.duration_p99_ms as f64 / 1000.0
            ),
            "",
        );
        row(
            "errors (all kinds)",
            self.errors.total().to_string(),
            "must be 0",
        );
        let mut out = format!(
            "helpline bench load — {} calls at {}/s, speed x{} — {} CPUs ({}), {}\n",
            self.calls_planned,
            self.rate_planned,
            self.speed,
            self.machine.cpus,
            self.machine.cpu_model,
            self.machine.date_utc
        );
        out.push_str(&t);
        if self.errors.total() > 0 {
            let _ = writeln!(out, "  error detail: {:?}", self.errors);
        }
        for (reason, count) in &self.calls.failures {
            let _ = writeln!(out, "  not as scripted: {count} x {reason}");
        }
        let _ = writeln!(
            out,
            "  result: {}",
            if self.clean() { "CLEAN" } else { "FAILED" }
        );
        out
    }
}
