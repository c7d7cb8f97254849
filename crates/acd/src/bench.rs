//! The ACD's decision time and memory, measured: `agents` agents all busy and `callers` callers
//! waiting (a mix of languages, departments, helplines and priorities over four queues); then, again
//! and again, one agent's call ends, they file the disposition, and the time to the ring for the best
//! caller they can take is measured — the decision "a caller waiting + an agent free → ring" — while
//! simulated time moves on and ticks (announcements, the most wait) are measured too. A new caller
//! joins for every one connected, so `callers` keep waiting.
//!
//! Memory per waiting caller: the bytes of the ACD's caller structures over the calls they hold,
//! from their sizes and heap capacities (the caller, its call information and strings, its place in
//! the queue, its timers, the map entry; B-tree and hash-table overheads estimated from their
//! layout); and — when the benchmark binary gives one (`cargo bench -p acd`) — the growth a counting
//! allocator saw while the waiting callers joined, over their number.
//!
//! This module reads the clock (`std::time::Instant`) to measure; the ACD it drives does not.

use std::fmt;
use std::mem::size_of;
use std::sync::Arc;
use std::time::Instant;

use chrono::TimeDelta;

use crate::acd::callers::{Caller, Key, Timer};
use crate::acd::{AgentIx, CallerIx};
use crate::agent::{Helpline, Language, Skills};
use crate::{Acd, Action, AgentId, AttemptId, CallId, CallInfo, Input, Join, Side, Time};

/// The queues of the benchmark: the helpline's shape, with waits long enough that callers stay.
pub const BENCH_QUEUES: &str = r#"
[defaults]
wrap_up_secs = 30
max_wait_secs = 7200
max_callers = 100000
announce_every_secs = 45
join_when_empty = true

[queue.grievance]
helpline = "1100"
match_department = true
open_complaint_boost = 5

[queue.disaster]
helpline = "1077"
priority = 100

[queue.women]
helpline = "181"
priority = 50
strategy = "round_robin"

[queue.gst]
helpline = "gst"
strategy = "fewest_calls"
"#;

const DEPARTMENTS: [&str; 9] = [
    "JSV", "PWR", "PWD", "HLT", "EDU", "REV", "POL", "FCS", "GAD",
];

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub agents: usize,
    pub callers: usize,
    /// Agent-free decisions measured, and how many of them rang a caller.
    pub decisions: usize,
    pub rung: usize,
    pub decision_p50_us: f64,
    pub decision_p99_us: f64,
    pub decision_max_us: f64,
    /// Ticks run (simulated time moving on), and their cost.
    pub ticks: usize,
    pub tick_p99_us: f64,
    /// Joining a caller (its place, timers, the offer).
    pub join_p99_us: f64,
    pub bytes_per_waiting_caller_estimated: usize,
    /// From a counting allocator, when the caller of [`run_counted`] has one.
    pub bytes_per_waiting_caller_counted: Option<usize>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "acd: {} agents, {} callers waiting",
            self.agents, self.callers
        )?;
        writeln!(
            f,
            "  agent free → ring: {} decisions ({} rang a caller): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            self.decisions,
            self.rung,
            self.decision_p50_us,
            self.decision_p99_us,
            self.decision_max_us
        )?;
        writeln!(f, "  caller joins: p99 {:.1} µs", self.join_p99_us)?;
        writeln!(
            f,
            "  ticks: {} (announcements, most wait): p99 {:.1} µs",
            self.ticks, self.tick_p99_us
        )?;
        write!(
            f,
            "  memory per waiting caller: {} bytes (from sizes and capacities)",
            self.bytes_per_waiting_caller_estimated
        )?;
        if let Some(counted) = self.bytes_per_waiting_caller_counted {
            write!(f, ", {counted} bytes (counted by the allocator)")?;
        }
        Ok(())
    }
}

/// Runs the benchmark (memory from sizes and capacities only).
pub fn run(agents: usize, callers: usize) -> BenchReport {
    run_counted(agents, callers, None)
}

/// Runs the benchmark; `allocated` reads the bytes allocated now (a counting global allocator).
pub fn run_counted(
    agents: usize,
    callers: usize,
    allocated: Option<&dyn Fn() -> usize>,
) -> BenchReport {
    let mut bench = Bench::new();
    let agents = agents.max(1);
    for i in 0..agents {
        bench.log_in(i);
    }
    // Every agent on a call.
    for _ in 0..agents * 4 {
        if bench.busy.len() >= agents {
            break;
        }
        bench.join();
        bench.answer_rings();
    }
    let counted_before = allocated.map(|f| f());
    let mut joins = Vec::with_capacity(callers);
    while bench.waiting() < callers {
        joins.push(bench.join());
        bench.answer_rings();
    }
    // The structures' bytes over the callers they hold; the allocator's growth over those who joined.
    let estimated = estimated_heap(&bench.acd) / bench.acd.calls().max(1);
    let counted = allocated
        .zip(counted_before)
        .map(|(f, before)| f().saturating_sub(before) / joins.len().max(1));

    let rounds = (agents * 20).max(2_000);
    let mut decisions = Vec::with_capacity(rounds);
    let mut ticks = Vec::with_capacity(rounds);
    let mut rung = 0;
    for _ in 0..rounds {
        bench.advance(200);
        let started = Instant::now();
        bench.input(Input::Tick);
        ticks.push(started.elapsed().as_secs_f64() * 1e6);
        let Some(agent) = bench.next_busy() else {
            break;
        };
        let (took, rang) = bench.free(agent);
        decisions.push(took);
        rung += usize::from(rang);
        bench.answer_rings();
        while bench.waiting() < callers {
            joins.push(bench.join());
            bench.answer_rings();
        }
    }
    BenchReport {
        agents,
        callers,
        decisions: decisions.len(),
        rung,
        decision_p50_us: percentile(&mut decisions, 0.50),
        decision_p99_us: percentile(&mut decisions, 0.99),
        decision_max_us: percentile(&mut decisions, 1.0),
        ticks: ticks.len(),
        tick_p99_us: percentile(&mut ticks, 0.99),
        join_p99_us: percentile(&mut joins, 0.99),
        bytes_per_waiting_caller_estimated: estimated,
        bytes_per_waiting_caller_counted: counted,
    }
}

struct Bench {
    acd: Acd,
    now: Time,
    rng: u64,
    next_call: u64,
    /// Agents on a call: (agent, call).
    busy: Vec<(AgentId, CallId)>,
    next: usize,
    rings: Vec<AttemptId>,
    out: Vec<Action>,
}

impl Bench {
    fn new() -> Bench {
        #[allow(clippy::expect_used)]
        let queues = crate::config::check(BENCH_QUEUES, "bench.toml")
            .expect("BENCH_QUEUES is valid (a test checks it)");
        let now = Time::UNIX_EPOCH + TimeDelta::days(20_000);
        let mut acd = Acd::new(Arc::new(queues), now);
        acd.seed(13);
        Bench {
            acd,
            now,
            rng: 0x9E37_79B9_7F4A_7C15,
            next_call: 0,
            busy: Vec::new(),
            next: 0,
            rings: Vec::new(),
            out: Vec::new(),
        }
    }

    fn random(&mut self, below: u64) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 33) % below.max(1)
    }

    fn advance(&mut self, millis: i64) {
        self.now += TimeDelta::milliseconds(millis);
    }

    /// Feeds an input; keeps the rings it started and the calls it connected.
    fn input(&mut self, input: Input) {
        self.out.clear();
        let mut out = std::mem::take(&mut self.out);
        // Refusals cannot happen with the benchmark's own inputs; one would only count as nothing.
        let _ = self.acd.handle_into(input, self.now, &mut out);
        for action in &out {
            match action {
                Action::RingAgent { attempt, .. } => self.rings.push(*attempt),
                Action::CancelRing { attempt } => self.rings.retain(|a| a != attempt),
                Action::Connect { call, agent, .. } => {
                    self.busy.push((agent.clone(), call.clone()))
                }
                _ => {}
            }
        }
        self.out = out;
    }

    fn log_in(&mut self, i: usize) {
        let languages = match self.random(10) {
            0..=4 => vec![Language::Hi],
            5..=6 => vec![Language::En],
            _ => vec![Language::Hi, Language::En],
        };
        let mut helplines = vec![Helpline::Grievance];
        match self.random(10) {
            0..=1 => helplines.push(Helpline::Disaster),
            2 => helplines.push(Helpline::Women),
            3 => helplines = vec![Helpline::Gst],
            _ => {}
        }
        let first = self.random(9) as usize;
        let departments = (0..3).map(|k| DEPARTMENTS[(first + k * 3) % 9].to_owned());
        self.input(Input::LogIn {
            agent: AgentId::new(&format!("agent{i:04}")),
            phone: format!("PJSIP/agent-{i:04}"),
            skills: Skills::new(languages, departments, helplines),
        });
    }

    /// A caller joins; returns the time it took, in µs.
    fn join(&mut self) -> f64 {
        self.next_call += 1;
        let (queue, helpline) = match self.random(20) {
            0..=1 => ("disaster", Helpline::Disaster),
            2 => ("women", Helpline::Women),
            3 => ("gst", Helpline::Gst),
            _ => ("grievance", Helpline::Grievance),
        };
        let language = if self.random(10) < 7 {
            Language::Hi
        } else {
            Language::En
        };
        let department = DEPARTMENTS[self.random(9) as usize].to_owned();
        let open_complaint = self.random(5) == 0;
        let join = Join {
            call: CallId::new(&format!("1795921121.{}", self.next_call)),
            queue: queue.to_owned(),
            info: CallInfo {
                number: format!("+9198{:08}", self.next_call),
                language,
                department: Some(department),
                helpline,
                open_complaint,
                complaints: if open_complaint {
                    vec![format!("11{:08}", self.next_call)]
                } else {
                    Vec::new()
                },
            },
            joined_at: None,
        };
        self.advance(1);
        let started = Instant::now();
        self.input(Input::Join(join));
        started.elapsed().as_secs_f64() * 1e6
    }

    fn answer_rings(&mut self) {
        while let Some(attempt) = self.rings.pop() {
            self.input(Input::RingAnswered { attempt });
        }
    }

    fn waiting(&self) -> usize {
        self.acd.qs.iter().map(|q| q.order.len()).sum()
    }

    fn next_busy(&mut self) -> Option<(AgentId, CallId)> {
        if self.busy.is_empty() {
            return None;
        }
        self.next = (self.next + 1) % self.busy.len();
        Some(self.busy.swap_remove(self.next))
    }

    /// The agent's call ends and they file the disposition: the measured decision. Returns its time
    /// in µs and whether it rang a caller.
    fn free(&mut self, (agent, call): (AgentId, CallId)) -> (f64, bool) {
        self.input(Input::CallEnded {
            call,
            side: Side::Caller,
        });
        let rings_before = self.rings.len();
        let started = Instant::now();
        self.input(Input::Disposition { agent });
        let took = started.elapsed().as_secs_f64() * 1e6;
        (took, self.rings.len() > rings_before)
    }
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// Heap bytes the ACD's caller structures hold, from their sizes and capacities.
fn estimated_heap(acd: &Acd) -> usize {
    let mut bytes = acd.callers.capacity() * size_of::<Option<Caller>>()
        + acd.free_slots.capacity() * size_of::<CallerIx>()
        + hash_table(acd.caller_ix.capacity(), size_of::<(CallId, CallerIx)>())
        + b_tree(acd.timers.len(), size_of::<(Time, Timer)>());
    for q in &acd.qs {
        bytes += b_tree(q.order.len(), size_of::<(Key, CallerIx)>());
    }
    for x in acd.callers.iter().flatten() {
        // Arc<str>: two counts and the text (shared by the map's key).
        bytes += 2 * size_of::<usize>() + x.id.as_str().len();
        bytes += x.avoid.capacity() * size_of::<(AgentIx, Time)>();
        let info = &x.info;
        bytes += 2 * size_of::<usize>()
            + size_of::<CallInfo>()
            + info.number.capacity()
            + info.department.as_ref().map_or(0, String::capacity)
            + info.complaints.capacity() * size_of::<String>()
            + info.complaints.iter().map(String::capacity).sum::<usize>();
    }
    bytes
}

/// A SwissTable of `capacity` entries: buckets (a power of two, 7/8 full at most), one control byte
/// each plus a group's worth.
fn hash_table(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity * 8 / 7).next_power_of_two();
    buckets * (entry + 1) + 16
}

/// A B-tree of `len` entries: leaves of 11 slots about two-thirds full, plus the internal nodes
/// (a seventh more, with 12 child pointers each).
fn b_tree(len: usize, entry: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let leaf = 11 * entry + size_of::<usize>() + 4;
    let leaves = len.div_ceil(7);
    let internal = leaves.div_ceil(7);
    leaves * leaf + internal * (leaf + 12 * size_of::<usize>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_queues_are_valid() {
        crate::config::checked(BENCH_QUEUES);
    }

    #[test]
    fn a_small_run_rings_and_reports() {
        let report = run(20, 100);
        assert_eq!(report.agents, 20);
        assert!(report.decisions > 1_000, "{report}");
        assert!(report.rung > report.decisions / 2, "{report}");
        assert!(report.bytes_per_waiting_caller_estimated > 200, "{report}");
        assert!(report.decision_p50_us > 0.0);
        assert!(report.to_string().contains("agent free → ring"));
    }
}
