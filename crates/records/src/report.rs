//! The reports a helpline is run on, computed from call records and the queue log — pure: the store
//! streams rows into a [`ReportBuilder`], `now` and the time zone are passed in, nothing here does I/O.
//!
//! Definitions (the ones a supervisor who has used `app_queue` or Amazon Connect expects):
//! - **IVR containment**: calls whose outcome was served without an agent ([`Outcome::contained`]) over
//!   all calls.
//! - **Queue figures** come from the queue log alone: *offered* = ENTERQUEUE (a call moved or
//!   overflowed into a queue is offered to it too), *answered* = CONNECT, *abandoned* = ABANDON after
//!   the queue's short-abandon threshold and *short abandons* (`wait < short_abandon_seconds`) apart,
//!   *overflowed* = EXITWITHTIMEOUT + EXITEMPTY (waited, then sent on), *refused* = JOINEMPTY + FULL
//!   (never let in, never waited), *moved out* = MOVED.
//! - **Service level** of a queue, with T its target (the queue's `service_level.within_secs`, else
//!   the report's `service_level_seconds`): `answered within T / (answered + abandoned + overflowed +
//!   call-backs given up)`, where *answered within T* is a CONNECT with `hold ≤ T`, a *call-back
//!   given up* is CALLBACK_FAILED (the citizen never reached in the queue's attempts) and short
//!   abandons are left out of both sides — the formula of the ACD's wallboard (`acd::snapshot`), so
//!   a day's report and the day's wallboard agree. Refused and moved calls never count; a call still
//!   waiting at the end of the period counts in neither side.
//! - **Average speed of answer**: the mean `hold` of the answered (a call-back's from its first join).
//! - **Average handle time**: the mean of talk time plus wrap-up time over calls an agent finished
//!   (COMPLETEAGENT, COMPLETECALLER, TRANSFER; WRAPUP adds its time).
//! - **Filters**: `queue` keeps that queue's figures, and the agents who had a call event in it (their
//!   calls, talk and wrap-up that queue's; their logged-in and paused time all of it: the log does not
//!   say which queues an agent served); `agent` keeps that agent's figures and leaves the queues out
//!   (a queue's offered and abandoned calls are nobody's). Both, like `language`, also select the
//!   calls (by the record's queue and agent); `department` selects calls only.
//! - An agent's **logged-in** and **paused** time is clipped to the period: an agent whose first event in
//!   it is not a login was logged in since its start (and paused since its start, reason `unknown`, if
//!   that event is an unpause); a login or pause still open at the end counts up to `min(to, now)`. An
//!   agent with no event in the period is not in the report.
//!
//! Calls are grouped by their arrival, in the helpline's time zone, per hour or per day.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::model::{CallRecord, Outcome};
use crate::queue::{QueueEvent, QueueLogEntry};

/// How the call series is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
}

impl std::str::FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hour" => Ok(Granularity::Hour),
            "day" => Ok(Granularity::Day),
            other => Err(format!("{other:?} is not hour or day")),
        }
    }
}

/// What a report covers and how it counts.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    /// The period: calls that arrived, and events that happened, in `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The helpline's time zone: series rows are its local hours or days.
    pub time_zone: Tz,
    pub granularity: Granularity,
    /// The service-level target (answered within this many seconds) of a queue not in `queues`.
    pub service_level_seconds: u32,
    /// The short-abandon threshold of a queue not in `queues`.
    pub short_abandon_seconds: u32,
    /// Each queue's own targets (the call centre's `queues.toml`), by queue name.
    pub queues: BTreeMap<String, QueueTarget>,
    /// Only calls with a ticket of this department (the call figures and series; queue and agent
    /// figures are not per department).
    pub department: Option<String>,
    /// Only calls in this language (the call figures and series).
    pub language: Option<String>,
    /// Only this queue (see the module's documentation).
    pub queue: Option<String>,
    /// Only this agent (see the module's documentation).
    pub agent: Option<String>,
    /// The report's "now": open logins and pauses are counted up to `min(to, now)`.
    pub now: DateTime<Utc>,
}

impl ReportSpec {
    /// The report of `[from, to)` in `time_zone` at `now`: per day, every call, queue and agent, the
    /// default targets ([`DEFAULT_SERVICE_LEVEL_SECONDS`], [`DEFAULT_SHORT_ABANDON_SECONDS`]) for every
    /// queue; set the fields for the rest.
    pub fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        time_zone: Tz,
        now: DateTime<Utc>,
    ) -> ReportSpec {
        ReportSpec {
            from,
            to,
            time_zone,
            granularity: Granularity::Day,
            service_level_seconds: DEFAULT_SERVICE_LEVEL_SECONDS,
            short_abandon_seconds: DEFAULT_SHORT_ABANDON_SECONDS,
            queues: BTreeMap::new(),
            department: None,
            language: None,
            queue: None,
            agent: None,
            now,
        }
    }
}

/// The common 80/20's 20 seconds (`[records] service_level_seconds`' default).
pub const DEFAULT_SERVICE_LEVEL_SECONDS: u32 = 20;

/// The short-abandon threshold of a queue whose own is not known: the ACD's default
/// (`short_abandon_secs` in `queues.toml`).
pub const DEFAULT_SHORT_ABANDON_SECONDS: u32 = 5;

/// A queue's targets, as its `service_level` in `queues.toml` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QueueTarget {
    /// Answered within this many seconds counts as answered in time.
    pub service_level_seconds: u32,
    /// Callers who hang up within this many seconds are short abandons.
    pub short_abandon_seconds: u32,
}

/// The call figures of the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallFigures {
    pub calls: u64,
    /// Answered by the IVR (or the fallback).
    pub answered: u64,
    /// Served without an agent.
    pub contained: u64,
    /// `contained / calls`; `None` without calls.
    pub containment: Option<f64>,
    /// Tickets filed in the calls.
    pub complaints_filed: u64,
    /// Calls by outcome kind, every kind present (zero or not), in [`Outcome::KINDS`] order.
    pub outcomes: Vec<OutcomeCount>,
    /// Mean time from arrival to end.
    pub average_duration_ms: Option<i64>,
}

/// How many calls ended one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OutcomeCount {
    pub outcome: &'static str,
    pub calls: u64,
}

/// One row of the series: calls that arrived in one local hour or day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SeriesRow {
    /// The local start of the hour or day (`2026-12-03T14:00:00`, in the report's time zone).
    #[schema(value_type = String, example = "2026-12-04T10:00:00")]
    pub start: NaiveDateTime,
    pub calls: u64,
    pub contained: u64,
    pub complaints_filed: u64,
    pub to_agent: u64,
    pub abandoned: u64,
}

/// Complaints filed in calls, for one department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DepartmentComplaints {
    pub department: String,
    pub complaints_filed: u64,
}

/// One queue's figures, from the queue log (definitions in the module's documentation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueFigures {
    pub queue: String,
    /// The target its service level was counted against.
    pub service_level_seconds: u32,
    /// Callers who hung up within this many seconds are short abandons.
    pub short_abandon_seconds: u32,
    /// Calls that joined it.
    pub offered: u64,
    pub answered: u64,
    /// Hung up waiting, after the short-abandon threshold.
    pub abandoned: u64,
    /// Hung up waiting, within it (left out of the service level).
    pub abandoned_short: u64,
    /// Waited, then sent on (most wait, or no agent left).
    pub overflowed: u64,
    /// Not let in (no agent, or full).
    pub refused: u64,
    /// Moved elsewhere by a supervisor while waiting.
    pub moved_out: u64,
    /// Call-backs given up: the citizen not reached in the queue's attempts.
    pub callbacks_failed: u64,
    pub answered_within_target: u64,
    /// `answered_within_target / (answered + abandoned + overflowed + callbacks_failed)`.
    pub service_level: Option<f64>,
    pub average_speed_of_answer_ms: Option<i64>,
    pub average_handle_time_ms: Option<i64>,
    /// The longest wait: answered, abandoned, overflowed or a call-back given up.
    pub longest_wait_ms: i64,
    pub ring_no_answer: u64,
    pub transferred: u64,
    pub callbacks_offered: u64,
    pub callbacks_accepted: u64,
}

/// One agent's figures, from the queue log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentFigures {
    pub agent: String,
    /// Calls taken (connected to them).
    pub calls_answered: u64,
    pub ring_no_answer: u64,
    pub logged_in_ms: i64,
    pub paused_ms: i64,
    /// Paused time per reason, by reason.
    pub paused_by_reason: Vec<PauseTime>,
    pub talk_ms: i64,
    pub wrapup_ms: i64,
    pub average_handle_time_ms: Option<i64>,
}

/// Time paused for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PauseTime {
    pub reason: String,
    pub ms: i64,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub time_zone: String,
    pub granularity: Granularity,
    pub service_level_seconds: u32,
    pub department: Option<String>,
    pub language: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub calls: CallFigures,
    pub series: Vec<SeriesRow>,
    pub complaints_by_department: Vec<DepartmentComplaints>,
    pub queues: Vec<QueueFigures>,
    pub agents: Vec<AgentFigures>,
}

/// The pause reason of a pause that began before the period.
pub const UNKNOWN_REASON: &str = "unknown";

#[derive(Debug, Default)]
struct QueueAcc {
    figures: QueueFigures,
    wait_answered_ms: i64,
    handled: u64,
    handle_ms: i64,
    target_ms: i64,
    short_abandon_ms: i64,
}

#[derive(Debug, Default)]
struct AgentAcc {
    figures: AgentFigures,
    logged_in_since: Option<DateTime<Utc>>,
    paused_since: Option<(DateTime<Utc>, String)>,
    paused_by_reason: BTreeMap<String, i64>,
    handled: u64,
    /// Whether an event of this agent was seen yet (the first one shows what was open before the period).
    seen: bool,
    /// Whether one of their call events was counted (a queue filter keeps only such agents).
    took_calls: bool,
}

/// Folds call records and queue events into a [`Report`]; feed each record with
/// [`ReportBuilder::call`] and each event, in time order, with [`ReportBuilder::event`].
#[derive(Debug)]
pub struct ReportBuilder {
    spec: ReportSpec,
    calls: CallFigures,
    outcome_counts: [u64; Outcome::KINDS.len()],
    duration_total_ms: i64,
    series: BTreeMap<NaiveDateTime, SeriesRow>,
    departments: BTreeMap<String, u64>,
    queues: BTreeMap<String, QueueAcc>,
    agents: BTreeMap<String, AgentAcc>,
}

impl ReportBuilder {
    pub fn new(spec: ReportSpec) -> ReportBuilder {
        let series = buckets(&spec)
            .into_iter()
            .map(|start| {
                (
                    start,
                    SeriesRow {
                        start,
                        ..SeriesRow::default()
                    },
                )
            })
            .collect();
        ReportBuilder {
            spec,
            calls: CallFigures::default(),
            outcome_counts: [0; Outcome::KINDS.len()],
            duration_total_ms: 0,
            series,
            departments: BTreeMap::new(),
            queues: BTreeMap::new(),
            agents: BTreeMap::new(),
        }
    }

    /// Counts one call record (one outside the period or the department filter is ignored).
    pub fn call(&mut self, record: &CallRecord) {
        if record.arrived_at < self.spec.from || record.arrived_at >= self.spec.to {
            return;
        }
        if let Some(department) = &self.spec.department
            && !record.tickets.iter().any(|t| &t.department == department)
        {
            return;
        }
        let wanted = |filter: &Option<String>, value: &Option<String>| {
            filter.is_none() || filter.as_ref() == value.as_ref()
        };
        if !wanted(&self.spec.language, &record.language)
            || !wanted(&self.spec.queue, &record.agent.queue)
            || !wanted(&self.spec.agent, &record.agent.agent)
        {
            return;
        }
        let c = &mut self.calls;
        c.calls += 1;
        if record.answered_at.is_some() {
            c.answered += 1;
        }
        let contained = record.outcome.contained();
        if contained {
            c.contained += 1;
        }
        let filed = record.tickets.len() as u64;
        c.complaints_filed += filed;
        if let Some(i) = Outcome::KINDS
            .iter()
            .position(|k| *k == record.outcome.kind())
        {
            self.outcome_counts[i] += 1;
        }
        self.duration_total_ms += record.duration_ms();
        for ticket in &record.tickets {
            *self
                .departments
                .entry(ticket.department.clone())
                .or_default() += 1;
        }
        let start = bucket_of(record.arrived_at, &self.spec);
        let row = self.series.entry(start).or_insert_with(|| SeriesRow {
            start,
            ..SeriesRow::default()
        });
        row.calls += 1;
        row.contained += u64::from(contained);
        row.complaints_filed += filed;
        row.to_agent += u64::from(record.outcome == Outcome::ToAgent);
        row.abandoned += u64::from(matches!(
            record.outcome,
            Outcome::AbandonedInIvr | Outcome::AbandonedInQueue
        ));
    }

    /// Counts one queue-log event; events must come in time order (an agent's login before its logoff).
    pub fn event(&mut self, entry: &QueueLogEntry) {
        if entry.at < self.spec.from || entry.at >= self.spec.to {
            return;
        }
        let at = entry.at;
        // An agent's first event in the period, unless it is a login, shows them logged in since before.
        let first_seen = match entry.event.agent() {
            Some(agent) => {
                let from = self.spec.from;
                let a = self.agent(agent);
                let first = !a.seen;
                if first && !matches!(entry.event, QueueEvent::AgentLogin { .. }) {
                    a.logged_in_since = Some(from);
                }
                a.seen = true;
                first
            }
            None => false,
        };
        if !self.selected(&entry.event) {
            return;
        }
        if let (Some(agent), Some(_)) = (entry.event.agent(), entry.event.queue()) {
            self.agent(agent).took_calls = true;
        }
        match &entry.event {
            QueueEvent::EnterQueue { queue, .. } => self.queue(queue).figures.offered += 1,
            QueueEvent::RingNoAnswer { queue, agent, .. } => {
                self.queue(queue).figures.ring_no_answer += 1;
                self.agent(agent).figures.ring_no_answer += 1;
            }
            QueueEvent::Connect {
                queue,
                agent,
                hold_ms,
                ..
            } => {
                let q = self.queue(queue);
                q.figures.answered += 1;
                q.wait_answered_ms += hold_ms;
                q.figures.longest_wait_ms = q.figures.longest_wait_ms.max(*hold_ms);
                if *hold_ms <= q.target_ms {
                    q.figures.answered_within_target += 1;
                }
                self.agent(agent).figures.calls_answered += 1;
            }
            QueueEvent::CompleteAgent {
                queue,
                agent,
                talk_ms,
                ..
            }
            | QueueEvent::CompleteCaller {
                queue,
                agent,
                talk_ms,
                ..
            } => self.handled(queue, agent, *talk_ms),
            QueueEvent::Transfer {
                queue,
                agent,
                talk_ms,
                ..
            } => {
                self.queue(queue).figures.transferred += 1;
                self.handled(queue, agent, *talk_ms);
            }
            QueueEvent::Abandon { queue, wait_ms, .. } => {
                let q = self.queue(queue);
                if *wait_ms < q.short_abandon_ms {
                    q.figures.abandoned_short += 1;
                } else {
                    q.figures.abandoned += 1;
                }
                q.figures.longest_wait_ms = q.figures.longest_wait_ms.max(*wait_ms);
            }
            QueueEvent::ExitWithTimeout { queue, wait_ms, .. }
            | QueueEvent::ExitEmpty { queue, wait_ms, .. } => {
                let q = self.queue(queue);
                q.figures.overflowed += 1;
                q.figures.longest_wait_ms = q.figures.longest_wait_ms.max(*wait_ms);
            }
            QueueEvent::JoinEmpty { queue, .. } | QueueEvent::Full { queue, .. } => {
                self.queue(queue).figures.refused += 1;
            }
            QueueEvent::Moved { queue, .. } => self.queue(queue).figures.moved_out += 1,
            QueueEvent::CallbackOffered { queue, .. } => {
                self.queue(queue).figures.callbacks_offered += 1;
            }
            QueueEvent::CallbackAccepted { queue, .. } => {
                self.queue(queue).figures.callbacks_accepted += 1;
            }
            QueueEvent::CallbackFailed { queue, wait_ms, .. } => {
                let q = self.queue(queue);
                q.figures.callbacks_failed += 1;
                q.figures.longest_wait_ms = q.figures.longest_wait_ms.max(*wait_ms);
            }
            QueueEvent::Wrapup {
                queue,
                agent,
                wrapup_ms,
                ..
            } => {
                self.queue(queue).handle_ms += wrapup_ms;
                self.agent(agent).figures.wrapup_ms += wrapup_ms;
            }
            QueueEvent::AgentLogin { agent } => {
                let a = self.agent(agent);
                a.logged_in_since.get_or_insert(at);
            }
            QueueEvent::AgentLogoff { agent } => {
                let a = self.agent(agent);
                a.close_pause(at);
                if let Some(since) = a.logged_in_since.take() {
                    a.figures.logged_in_ms += (at - since).num_milliseconds().max(0);
                }
            }
            QueueEvent::Pause { agent, reason } => {
                let a = self.agent(agent);
                a.paused_since.get_or_insert_with(|| (at, reason.clone()));
            }
            QueueEvent::Unpause { agent } => {
                let from = self.spec.from;
                let a = self.agent(agent);
                if first_seen {
                    // Paused since before the period, for a reason it does not show.
                    a.paused_since = Some((from, UNKNOWN_REASON.to_owned()));
                }
                a.close_pause(at);
            }
        }
    }

    /// Whether an event is in the report's queue and of its agent (see the module's documentation).
    fn selected(&self, event: &QueueEvent) -> bool {
        let other_queue = matches!(
            (&self.spec.queue, event.queue()),
            (Some(want), Some(queue)) if want != queue
        );
        let other_agent = self
            .spec
            .agent
            .as_deref()
            .is_some_and(|want| event.agent() != Some(want));
        !other_queue && !other_agent
    }

    fn handled(&mut self, queue: &str, agent: &str, talk_ms: i64) {
        let q = self.queue(queue);
        q.handled += 1;
        q.handle_ms += talk_ms;
        let a = self.agent(agent);
        a.handled += 1;
        a.figures.talk_ms += talk_ms;
    }

    fn queue(&mut self, queue: &str) -> &mut QueueAcc {
        let spec = &self.spec;
        self.queues.entry(queue.to_owned()).or_insert_with(|| {
            let target = spec.queues.get(queue).copied().unwrap_or(QueueTarget {
                service_level_seconds: spec.service_level_seconds,
                short_abandon_seconds: spec.short_abandon_seconds,
            });
            QueueAcc {
                figures: QueueFigures {
                    queue: queue.to_owned(),
                    service_level_seconds: target.service_level_seconds,
                    short_abandon_seconds: target.short_abandon_seconds,
                    ..QueueFigures::default()
                },
                target_ms: i64::from(target.service_level_seconds) * 1000,
                short_abandon_ms: i64::from(target.short_abandon_seconds) * 1000,
                ..QueueAcc::default()
            }
        })
    }

    fn agent(&mut self, agent: &str) -> &mut AgentAcc {
        self.agents
            .entry(agent.to_owned())
            .or_insert_with(|| AgentAcc {
                figures: AgentFigures {
                    agent: agent.to_owned(),
                    ..AgentFigures::default()
                },
                ..AgentAcc::default()
            })
    }

    /// The report.
    pub fn finish(mut self) -> Report {
        let until = self.spec.to.min(self.spec.now).max(self.spec.from);
        let mut calls = std::mem::take(&mut self.calls);
        calls.outcomes = Outcome::KINDS
            .iter()
            .zip(self.outcome_counts)
            .map(|(outcome, calls)| OutcomeCount { outcome, calls })
            .collect();
        calls.containment = share(calls.contained, calls.calls);
        calls.average_duration_ms = mean(self.duration_total_ms, calls.calls);
        // A queue's figures are not one agent's.
        if self.spec.agent.is_some() {
            self.queues.clear();
        }
        let queues = self
            .queues
            .into_values()
            .map(|mut q| {
                let f = &mut q.figures;
                f.service_level = share(
                    f.answered_within_target,
                    f.answered + f.abandoned + f.overflowed + f.callbacks_failed,
                );
                f.average_speed_of_answer_ms = mean(q.wait_answered_ms, f.answered);
                f.average_handle_time_ms = mean(q.handle_ms, q.handled);
                q.figures
            })
            .collect();
        let (queue_filter, agent_filter) = (self.spec.queue.is_some(), self.spec.agent.clone());
        let agents = self
            .agents
            .into_values()
            .filter(|a| !queue_filter || a.took_calls)
            .filter(|a| {
                agent_filter
                    .as_ref()
                    .is_none_or(|want| *want == a.figures.agent)
            })
            .map(|mut a| {
                if let Some(since) = a.logged_in_since.take() {
                    a.figures.logged_in_ms += (until - since).num_milliseconds().max(0);
                }
                a.close_pause(until);
                a.figures.paused_by_reason = a
                    .paused_by_reason
                    .into_iter()
                    .map(|(reason, ms)| PauseTime { reason, ms })
                    .collect();
                a.figures.average_handle_time_ms =
                    mean(a.figures.talk_ms + a.figures.wrapup_ms, a.handled);
                a.figures
            })
            .collect();
        Report {
            from: self.spec.from,
            to: self.spec.to,
            time_zone: self.spec.time_zone.name().to_owned(),
            granularity: self.spec.granularity,
            service_level_seconds: self.spec.service_level_seconds,
            department: self.spec.department,
            language: self.spec.language,
            queue: self.spec.queue,
            agent: self.spec.agent,
            calls,
            series: self.series.into_values().collect(),
            complaints_by_department: self
                .departments
                .into_iter()
                .map(|(department, complaints_filed)| DepartmentComplaints {
                    department,
                    complaints_filed,
                })
                .collect(),
            queues,
            agents,
        }
    }
}

impl AgentAcc {
    /// Ends an open pause at `at`.
    fn close_pause(&mut self, at: DateTime<Utc>) {
        if let Some((since, reason)) = self.paused_since.take() {
            let ms = (at - since).num_milliseconds().max(0);
            self.figures.paused_ms += ms;
            *self.paused_by_reason.entry(reason).or_default() += ms;
        }
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn mean(total_ms: i64, count: u64) -> Option<i64> {
    (count > 0).then(|| total_ms / count as i64)
}

/// The local start of the hour or day `at` falls in.
fn bucket_of(at: DateTime<Utc>, spec: &ReportSpec) -> NaiveDateTime {
    let local = at.with_timezone(&spec.time_zone).naive_local();
    match spec.granularity {
        Granularity::Hour => local
            .date()
            .and_hms_opt(local.hour(), 0, 0)
            .unwrap_or(local),
        Granularity::Day => local.date().and_time(chrono::NaiveTime::MIN),
    }
}

/// Every bucket of the period (so a chart shows the quiet hours too), at most a year of hours.
fn buckets(spec: &ReportSpec) -> Vec<NaiveDateTime> {
    const MAX_BUCKETS: usize = 366 * 24;
    let mut out = Vec::new();
    if spec.to <= spec.from {
        return out;
    }
    match spec.granularity {
        Granularity::Hour => {
            // Step in UTC hours from the first local hour's start: in a zone with daylight saving the
            // repeated or skipped local hour is shown as it happened.
            let first = bucket_of(spec.from, spec);
            let mut at = spec
                .time_zone
                .from_local_datetime(&first)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(spec.from);
            while at < spec.to && out.len() < MAX_BUCKETS {
                let b = bucket_of(at, spec);
                if out.last() != Some(&b) {
                    out.push(b);
                }
                at += Duration::hours(1);
            }
        }
        Granularity::Day => {
            let first: NaiveDate = spec.from.with_timezone(&spec.time_zone).date_naive();
            let last: NaiveDate = (spec.to - Duration::milliseconds(1))
                .with_timezone(&spec.time_zone)
                .date_naive();
            let mut day = first;
            while day <= last && out.len() < MAX_BUCKETS {
                out.push(day.and_time(chrono::NaiveTime::MIN));
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => break,
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FiledTicket;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("an RFC 3339 instant")
    }

    fn spec(granularity: Granularity) -> ReportSpec {
        ReportSpec {
            granularity,
            ..ReportSpec::new(
                utc("2026-12-01T18:30:00Z"), // 2026-12-02 00:00 IST
                utc("2026-12-02T18:30:00Z"), // 2026-12-03 00:00 IST
                chrono_tz::Asia::Kolkata,
                utc("2026-12-05T00:00:00Z"),
            )
        }
    }

    fn call(id: &str, at: &str, outcome: Outcome, departments: &[&str]) -> CallRecord {
        let arrived = utc(at);
        let mut r = CallRecord::arrived(id, id, "n1", "+919816012345", arrived);
        r.answered_at = Some(arrived + Duration::seconds(1));
        r.ended_at = arrived + Duration::seconds(61);
        r.outcome = outcome;
        r.tickets = departments
            .iter()
            .map(|d| FiledTicket {
                number: "1234567890".into(),
                department: (*d).into(),
            })
            .collect();
        r
    }

    fn ev(at: &str, event: QueueEvent) -> QueueLogEntry {
        QueueLogEntry { at: utc(at), event }
    }

    #[test]
    fn calls_are_counted_by_outcome_and_local_hour() {
        let mut b = ReportBuilder::new(spec(Granularity::Hour));
        // 02:15 IST on the 2nd.
        b.call(&call(
            "a",
            "2026-12-01T20:45:00Z",
            Outcome::ComplaintFiled,
            &["PWD", "PWD"],
        ));
        b.call(&call("b", "2026-12-01T20:50:00Z", Outcome::ToAgent, &[]));
        b.call(&call(
            "c",
            "2026-12-02T10:00:00Z",
            Outcome::AbandonedInIvr,
            &[],
        ));
        b.call(&call(
            "d",
            "2026-12-02T10:10:00Z",
            Outcome::Transferred("181".into()),
            &["HEALTH"],
        ));
        // Outside the period: the hour before it, and its end.
        b.call(&call(
            "early",
            "2026-12-01T18:29:59Z",
            Outcome::SelfService,
            &[],
        ));
        b.call(&call(
            "late",
            "2026-12-02T18:30:00Z",
            Outcome::SelfService,
            &[],
        ));
        let r = b.finish();
        assert_eq!(r.calls.calls, 4);
        assert_eq!(r.calls.contained, 1);
        assert_eq!(r.calls.containment, Some(0.25));
        assert_eq!(r.calls.complaints_filed, 3);
        assert_eq!(r.calls.average_duration_ms, Some(61_000));
        let count = |kind: &str| {
            r.calls
                .outcomes
                .iter()
                .find(|o| o.outcome == kind)
                .map(|o| o.calls)
        };
        assert_eq!(r.calls.outcomes.len(), Outcome::KINDS.len());
        assert_eq!(count("complaint_filed"), Some(1));
        assert_eq!(count("transferred"), Some(1));
        assert_eq!(count("fallback"), Some(0));
        // 24 local hours, the quiet ones included.
        assert_eq!(r.series.len(), 24);
        assert_eq!(r.series[0].start.to_string(), "2026-12-02 00:00:00");
        let two = &r.series[2];
        assert_eq!(two.start.to_string(), "2026-12-02 02:00:00");
        assert_eq!(
            (two.calls, two.contained, two.complaints_filed, two.to_agent),
            (2, 1, 2, 1)
        );
        // 10:00 UTC is 15:30 IST.
        assert_eq!((r.series[15].calls, r.series[15].abandoned), (2, 1));
        assert_eq!(r.series.iter().map(|s| s.calls).sum::<u64>(), 4);
        assert_eq!(
            r.complaints_by_department,
            vec![
                DepartmentComplaints {
                    department: "HEALTH".into(),
                    complaints_filed: 1
                },
                DepartmentComplaints {
                    department: "PWD".into(),
                    complaints_filed: 2
                },
            ]
        );
    }

    #[test]
    fn a_department_filter_keeps_the_calls_that_filed_with_it() {
        let mut s = spec(Granularity::Day);
        s.department = Some("PWD".into());
        let mut b = ReportBuilder::new(s);
        b.call(&call(
            "a",
            "2026-12-01T20:45:00Z",
            Outcome::ComplaintFiled,
            &["PWD"],
        ));
        b.call(&call(
            "b",
            "2026-12-01T20:50:00Z",
            Outcome::ComplaintFiled,
            &["HEALTH"],
        ));
        b.call(&call(
            "c",
            "2026-12-01T20:55:00Z",
            Outcome::StatusHeard,
            &[],
        ));
        let r = b.finish();
        assert_eq!(r.calls.calls, 1);
        assert_eq!(r.series.len(), 1);
        assert_eq!(r.series[0].calls, 1);
    }

    #[test]
    fn queues_get_service_level_speed_of_answer_and_handle_time() {
        let mut b = ReportBuilder::new(spec(Granularity::Day));
        let q = || "hi-general".to_owned();
        let agent = || "asha".to_owned();
        let id = |n: u8| format!("c{n}");
        for (n, at) in [
            (1, "2026-12-02T04:00:00Z"),
            (2, "2026-12-02T04:01:00Z"),
            (3, "2026-12-02T04:02:00Z"),
        ] {
            b.event(&ev(
                at,
                QueueEvent::EnterQueue {
                    call_id: id(n),
                    queue: q(),
                    position: 1,
                },
            ));
        }
        b.event(&ev(
            "2026-12-02T04:00:10Z",
            QueueEvent::Connect {
                call_id: id(1),
                queue: q(),
                agent: agent(),
                hold_ms: 10_000,
            },
        ));
        b.event(&ev(
            "2026-12-02T04:01:30Z",
            QueueEvent::Connect {
                call_id: id(2),
                queue: q(),
                agent: agent(),
                hold_ms: 30_000,
            },
        ));
        b.event(&ev(
            "2026-12-02T04:02:05Z",
            QueueEvent::Abandon {
                call_id: id(3),
                queue: q(),
                position: 1,
                wait_ms: 5_000,
            },
        ));
        b.event(&ev(
            "2026-12-02T04:01:10Z",
            QueueEvent::CompleteCaller {
                call_id: id(1),
                queue: q(),
                agent: agent(),
                hold_ms: 10_000,
                talk_ms: 60_000,
            },
        ));
        b.event(&ev(
            "2026-12-02T04:01:40Z",
            QueueEvent::Wrapup {
                call_id: id(1),
                queue: q(),
                agent: agent(),
                wrapup_ms: 30_000,
            },
        ));
        b.event(&ev(
            "2026-12-02T04:03:00Z",
            QueueEvent::Transfer {
                call_id: id(2),
                queue: q(),
                agent: agent(),
                destination: "181".into(),
                hold_ms: 30_000,
                talk_ms: 90_000,
            },
        ));
        let r = b.finish();
        let f = &r.queues[0];
        assert_eq!(
            (f.offered, f.answered, f.abandoned, f.answered_within_target),
            (3, 2, 1, 1)
        );
        assert_eq!(f.service_level, Some(1.0 / 3.0));
        assert_eq!(f.average_speed_of_answer_ms, Some(20_000));
        // (60 + 30) + 90 over two handled calls.
        assert_eq!(f.average_handle_time_ms, Some(90_000));
        assert_eq!((f.longest_wait_ms, f.transferred), (30_000, 1));
        let a = &r.agents[0];
        assert_eq!(
            (a.calls_answered, a.talk_ms, a.wrapup_ms),
            (2, 150_000, 30_000)
        );
        assert_eq!(a.average_handle_time_ms, Some(90_000));
    }

    fn enter(at: &str, call: &str, queue: &str) -> QueueLogEntry {
        ev(
            at,
            QueueEvent::EnterQueue {
                call_id: call.into(),
                queue: queue.into(),
                position: 1,
            },
        )
    }

    fn connect(at: &str, call: &str, queue: &str, agent: &str, hold_ms: i64) -> QueueLogEntry {
        ev(
            at,
            QueueEvent::Connect {
                call_id: call.into(),
                queue: queue.into(),
                agent: agent.into(),
                hold_ms,
            },
        )
    }

    fn abandon(at: &str, call: &str, queue: &str, wait_ms: i64) -> QueueLogEntry {
        ev(
            at,
            QueueEvent::Abandon {
                call_id: call.into(),
                queue: queue.into(),
                position: 1,
                wait_ms,
            },
        )
    }

    #[test]
    fn each_queue_counts_against_its_own_target_as_the_wallboard_does() {
        let mut s = spec(Granularity::Day);
        s.service_level_seconds = 25;
        s.short_abandon_seconds = 4;
        s.queues.insert(
            "hi".into(),
            QueueTarget {
                service_level_seconds: 10,
                short_abandon_seconds: 3,
            },
        );
        let mut b = ReportBuilder::new(s);
        let at = "2026-12-02T04:00:00Z";
        for (call, queue) in [
            ("a", "hi"),
            ("b", "hi"),
            ("c", "hi"),
            ("d", "hi"),
            ("e", "en"),
        ] {
            b.event(&enter(at, call, queue));
        }
        // hi: 10 s is in target, 11 s is not; a 2.9 s hang-up is short, a 3 s one is not.
        b.event(&connect(at, "a", "hi", "asha", 10_000));
        b.event(&connect(at, "b", "hi", "asha", 11_000));
        b.event(&abandon(at, "c", "hi", 2_900));
        b.event(&abandon(at, "d", "hi", 3_000));
        // en has no target of its own: 25 s, short abandons under 4 s.
        b.event(&connect(at, "e", "en", "ravi", 25_000));
        b.event(&abandon(at, "f", "en", 3_999));
        b.event(&ev(
            at,
            QueueEvent::ExitWithTimeout {
                call_id: "g".into(),
                queue: "hi".into(),
                position: 2,
                wait_ms: 300_000,
            },
        ));
        b.event(&ev(
            at,
            QueueEvent::ExitEmpty {
                call_id: "h".into(),
                queue: "hi".into(),
                position: 1,
                wait_ms: 8_000,
            },
        ));
        b.event(&ev(
            at,
            QueueEvent::JoinEmpty {
                call_id: "i".into(),
                queue: "hi".into(),
            },
        ));
        b.event(&ev(
            at,
            QueueEvent::Full {
                call_id: "j".into(),
                queue: "hi".into(),
            },
        ));
        b.event(&ev(
            at,
            QueueEvent::Moved {
                call_id: "k".into(),
                queue: "hi".into(),
                destination: "queue:en".into(),
            },
        ));
        b.event(&ev(
            at,
            QueueEvent::CallbackFailed {
                call_id: "l".into(),
                queue: "hi".into(),
                attempts: 3,
                wait_ms: 5_400_000,
            },
        ));
        let r = b.finish();
        let (en, hi) = (&r.queues[0], &r.queues[1]);
        assert_eq!(
            (
                hi.queue.as_str(),
                hi.service_level_seconds,
                hi.short_abandon_seconds
            ),
            ("hi", 10, 3)
        );
        assert_eq!(
            (hi.offered, hi.answered, hi.answered_within_target),
            (4, 2, 1)
        );
        assert_eq!((hi.abandoned, hi.abandoned_short), (1, 1));
        assert_eq!((hi.overflowed, hi.refused, hi.moved_out), (2, 2, 1));
        assert_eq!(hi.callbacks_failed, 1);
        // 1 in target over 2 answered + 1 abandoned + 2 overflowed + 1 call-back given up.
        assert_eq!(hi.service_level, Some(1.0 / 6.0));
        // The call-back's slot waited longest (an hour and a half).
        assert_eq!(hi.longest_wait_ms, 5_400_000);
        assert_eq!(
            (en.service_level_seconds, en.short_abandon_seconds),
            (25, 4)
        );
        assert_eq!((en.answered_within_target, en.abandoned_short), (1, 1));
        assert_eq!(en.service_level, Some(1.0));
    }

    #[test]
    fn a_queue_filter_keeps_its_agents_and_an_agent_filter_leaves_the_queues_out() {
        let events = [
            ev(
                "2026-12-02T03:00:00Z",
                QueueEvent::AgentLogin {
                    agent: "asha".into(),
                },
            ),
            ev(
                "2026-12-02T03:00:00Z",
                QueueEvent::AgentLogin {
                    agent: "ravi".into(),
                },
            ),
            enter("2026-12-02T04:00:00Z", "a", "hi"),
            enter("2026-12-02T04:00:00Z", "b", "en"),
            connect("2026-12-02T04:00:05Z", "a", "hi", "asha", 5_000),
            connect("2026-12-02T04:00:09Z", "b", "en", "ravi", 9_000),
            ev(
                "2026-12-02T04:10:00Z",
                QueueEvent::CompleteCaller {
                    call_id: "b".into(),
                    queue: "en".into(),
                    agent: "ravi".into(),
                    hold_ms: 9_000,
                    talk_ms: 591_000,
                },
            ),
            ev(
                "2026-12-02T05:00:00Z",
                QueueEvent::AgentLogoff {
                    agent: "ravi".into(),
                },
            ),
        ];
        let report = |queue: Option<&str>, agent: Option<&str>| {
            let mut s = spec(Granularity::Day);
            s.queue = queue.map(str::to_owned);
            s.agent = agent.map(str::to_owned);
            let mut b = ReportBuilder::new(s);
            for e in &events {
                b.event(e);
            }
            b.finish()
        };
        let en = report(Some("en"), None);
        assert_eq!(en.queues.len(), 1);
        assert_eq!(
            (en.queues[0].queue.as_str(), en.queues[0].offered),
            ("en", 1)
        );
        // Ravi took a call in it; Asha, logged in all the same, did not.
        assert_eq!(en.agents.len(), 1);
        let ravi = &en.agents[0];
        assert_eq!((ravi.agent.as_str(), ravi.calls_answered), ("ravi", 1));
        assert_eq!((ravi.talk_ms, ravi.logged_in_ms), (591_000, 2 * 3_600_000));

        let asha = report(None, Some("asha"));
        assert!(asha.queues.is_empty(), "{:?}", asha.queues);
        assert_eq!(asha.agents.len(), 1);
        assert_eq!(
            (asha.agents[0].agent.as_str(), asha.agents[0].calls_answered),
            ("asha", 1)
        );
        assert_eq!(asha.agent.as_deref(), Some("asha"));

        let nobody = report(Some("hi"), Some("ravi"));
        assert!(nobody.queues.is_empty() && nobody.agents.is_empty());
    }

    #[test]
    fn agents_logged_in_and_paused_time_is_clipped_to_the_period() {
        let mut s = spec(Granularity::Day);
        s.now = utc("2026-12-02T12:00:00Z");
        let mut b = ReportBuilder::new(s);
        let a = || "asha".to_owned();
        let r = || "ravi".to_owned();
        b.event(&ev(
            "2026-12-02T03:00:00Z",
            QueueEvent::AgentLogin { agent: a() },
        ));
        b.event(&ev(
            "2026-12-02T06:00:00Z",
            QueueEvent::Pause {
                agent: a(),
                reason: "lunch".into(),
            },
        ));
        b.event(&ev(
            "2026-12-02T06:30:00Z",
            QueueEvent::Unpause { agent: a() },
        ));
        b.event(&ev(
            "2026-12-02T07:00:00Z",
            QueueEvent::Pause {
                agent: a(),
                reason: "break".into(),
            },
        ));
        b.event(&ev(
            "2026-12-02T07:10:00Z",
            QueueEvent::AgentLogoff { agent: a() },
        ));
        // Ravi was paused before the period began, comes back, and is still logged in at `now`.
        b.event(&ev(
            "2026-12-01T19:30:00Z",
            QueueEvent::Unpause { agent: r() },
        ));
        let report = b.finish();
        let asha = &report.agents[0];
        assert_eq!(asha.agent, "asha");
        assert_eq!(asha.logged_in_ms, (4 * 60 + 10) * 60_000);
        assert_eq!(asha.paused_ms, 40 * 60_000);
        assert_eq!(
            asha.paused_by_reason,
            vec![
                PauseTime {
                    reason: "break".into(),
                    ms: 10 * 60_000
                },
                PauseTime {
                    reason: "lunch".into(),
                    ms: 30 * 60_000
                },
            ]
        );
        let ravi = &report.agents[1];
        // Logged in from the period's start (18:30 UTC) to now (12:00 UTC).
        assert_eq!(ravi.logged_in_ms, (17 * 60 + 30) * 60_000);
        assert_eq!(ravi.paused_ms, 60 * 60_000);
        assert_eq!(ravi.paused_by_reason[0].reason, UNKNOWN_REASON);
    }

    #[test]
    fn day_buckets_follow_the_local_calendar() {
        let mut s = spec(Granularity::Day);
        s.from = utc("2026-11-30T18:30:00Z");
        s.to = utc("2026-12-31T18:30:00Z");
        let r = ReportBuilder::new(s).finish();
        assert_eq!(r.series.len(), 31);
        assert_eq!(r.series[0].start.to_string(), "2026-12-01 00:00:00");
        assert_eq!(r.series[30].start.to_string(), "2026-12-31 00:00:00");
        assert_eq!(r.calls.containment, None);
        assert!(r.queues.is_empty() && r.agents.is_empty());
    }
}
