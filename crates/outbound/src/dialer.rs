//! The dialer: jobs waiting for their time, the calls in progress, and the decisions between them.
//!
//! Driving it: submit the jobs that are due ([`Input::Submit`], up to [`Dialer::room`]), tell it the
//! inbound load of every Asterisk ([`Input::Inbound`]) and how each call ended ([`Input::Finished`]),
//! and wake it with [`Input::Tick`] at [`Dialer::next_deadline`]. It answers with [`Action`]s: dial
//! this job on that Asterisk, try again at, give up with a policy, done. Every action that changes
//! a job is for its owner to make durable; the dialer keeps only what it needs to decide.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, Utc};

use crate::pacing::Pacing;
use crate::retry::{AfterLastTry, RetryPolicy};
use crate::window::CallingWindow;

macro_rules! name {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(name: impl Into<String>) -> Self {
                $name(name.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

name!(
    /// A job's id, unique among the jobs its owner gives the dialer (a confirmation's
    /// `confirm-<complaint>-<round>`).
    JobId
);
name!(
    /// What a call is for (`confirmation`, `officer_reminder` …): picks its retry policy.
    JobKind
);
name!(
    /// One Asterisk the dialer may place calls on.
    AsteriskId
);

/// A call to place: to whom, what the call runs, and how many tries it has had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    /// The number to dial (E.164), put in the trunk's dial string by the runtime.
    pub number: String,
    /// The IVR script the answered call runs.
    pub script: String,
    /// The language of the call's prompts.
    pub language: String,
    /// What the script says (`complaint`, `department`, `resolved_on` …).
    pub variables: Vec<(String, String)>,
    /// Tries already made (by an earlier engine, too).
    pub attempts: u32,
    /// Not to be dialled before.
    pub not_before: DateTime<Utc>,
}

impl Job {
    /// A job with no script, language or variables yet, never tried.
    pub fn new(
        id: JobId,
        kind: JobKind,
        number: impl Into<String>,
        not_before: DateTime<Utc>,
    ) -> Self {
        Job {
            id,
            kind,
            number: number.into(),
            script: String::new(),
            language: String::new(),
            variables: Vec::new(),
            attempts: 0,
            not_before,
        }
    }
}

/// Why a try did not reach the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Rang out (or the network said no answer).
    NoAnswer,
    /// Busy.
    Busy,
    /// Answered, but no key was pressed to the script's end.
    NoKey,
    /// The number could not be reached (switched off, out of coverage, congestion).
    Unreachable,
    /// The call could not be placed (Asterisk refused it, the trunk is down …).
    Failed(String),
    /// The engine stopped during the try: how it ended is not known.
    Interrupted,
}

impl Cause {
    /// The name used in call records and the audit trail.
    pub fn as_str(&self) -> &str {
        match self {
            Cause::NoAnswer => "no_answer",
            Cause::Busy => "busy",
            Cause::NoKey => "no_key",
            Cause::Unreachable => "unreachable",
            Cause::Failed(_) => "failed",
            Cause::Interrupted => "interrupted",
        }
    }
}

/// How one try ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The person answered and the script ran to an answer: the job is done.
    Reached,
    /// Not reached: tried again, or given up after the last try.
    NotReached(Cause),
}

/// What the dialer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A job that is (or will be) due. A job the dialer already has is ignored.
    Submit(Job),
    /// A job that no longer needs its call (the ticket changed meanwhile), or whose dial did not
    /// go out: forgotten, waiting or dialled (its slot freed at once, a later result ignored).
    Cancel(JobId),
    /// The inbound calls an Asterisk carries now.
    Inbound { asterisk: AsteriskId, active: u32 },
    /// A try ended.
    Finished { id: JobId, result: AttemptResult },
    /// Time passed (woken at [`Dialer::next_deadline`]).
    Tick,
}

/// What the dialer decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Place try number `attempt` of `job` on `asterisk` now.
    Dial {
        job: Job,
        attempt: u32,
        asterisk: AsteriskId,
    },
    /// Try `attempt` did not reach the person; the next is not before `next_at` (already moved to
    /// the calling window's next opening).
    Retry {
        id: JobId,
        kind: JobKind,
        attempt: u32,
        cause: Cause,
        next_at: DateTime<Utc>,
    },
    /// The last try did not reach the person: apply `then`.
    GiveUp {
        id: JobId,
        kind: JobKind,
        attempts: u32,
        cause: Cause,
        then: AfterLastTry,
    },
    /// Reached on try `attempts`.
    Done {
        id: JobId,
        kind: JobKind,
        attempts: u32,
    },
    /// Not taken: the dialer holds [`DialerConfig::max_pending`] jobs already. Submit it again later.
    Refused { id: JobId },
}

/// Everything the dialer decides by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialerConfig {
    pub window: CallingWindow,
    pub pacing: Pacing,
    /// The retry policy of a kind not in `retry_by_kind`.
    pub retry: RetryPolicy,
    pub retry_by_kind: BTreeMap<JobKind, RetryPolicy>,
    /// Most jobs held waiting (the rest stay with their owner).
    pub max_pending: usize,
}

impl DialerConfig {
    pub fn new(window: CallingWindow, pacing: Pacing, retry: RetryPolicy) -> Self {
        DialerConfig {
            window,
            pacing,
            retry,
            retry_by_kind: BTreeMap::new(),
            max_pending: 10_000,
        }
    }

    /// A retry policy of its own for `kind`.
    pub fn with_retry_for(mut self, kind: JobKind, policy: RetryPolicy) -> Self {
        self.retry_by_kind.insert(kind, policy);
        self
    }

    pub fn retry_for(&self, kind: &JobKind) -> &RetryPolicy {
        self.retry_by_kind.get(kind).unwrap_or(&self.retry)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Load {
    outbound: usize,
    inbound: u32,
}

/// The dialer's state machine.
#[derive(Debug)]
pub struct Dialer {
    config: DialerConfig,
    /// Waiting jobs by (not before, arrival), so the first is the next due.
    pending: BTreeMap<(DateTime<Utc>, u64), Job>,
    /// Where each waiting job is in `pending`.
    index: HashMap<JobId, (DateTime<Utc>, u64)>,
    in_flight: HashMap<JobId, (Job, AsteriskId)>,
    asterisks: BTreeMap<AsteriskId, Load>,
    /// The earliest the next call may start (calls per second).
    next_start: Option<DateTime<Utc>>,
    arrivals: u64,
}

impl Dialer {
    /// A dialer placing calls on these Asterisks.
    pub fn new(config: DialerConfig, asterisks: impl IntoIterator<Item = AsteriskId>) -> Self {
        Dialer {
            config,
            pending: BTreeMap::new(),
            index: HashMap::new(),
            in_flight: HashMap::new(),
            asterisks: asterisks
                .into_iter()
                .map(|a| (a, Load::default()))
                .collect(),
            next_start: None,
            arrivals: 0,
        }
    }

    pub fn config(&self) -> &DialerConfig {
        &self.config
    }

    /// How many more jobs it takes now.
    pub fn room(&self) -> usize {
        self.config.max_pending.saturating_sub(self.index.len())
    }

    /// Jobs waiting.
    pub fn pending(&self) -> usize {
        self.index.len()
    }

    /// Calls in progress.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Calls in progress on one Asterisk.
    pub fn in_flight_on(&self, asterisk: &AsteriskId) -> usize {
        self.asterisks.get(asterisk).map_or(0, |l| l.outbound)
    }

    /// Whether the dialer holds the job (waiting or on a call).
    pub fn knows(&self, id: &JobId) -> bool {
        self.index.contains_key(id) || self.in_flight.contains_key(id)
    }

    /// One input, the decisions it leads to.
    pub fn handle(&mut self, input: Input, now: DateTime<Utc>) -> Vec<Action> {
        let mut actions = Vec::new();
        match input {
            Input::Submit(job) => {
                let tries = self.config.retry_for(&job.kind).tries();
                if self.knows(&job.id) {
                    // Its owner read it again: the dialer already has it.
                } else if job.attempts >= tries {
                    // Its last try was under way when an engine stopped: no try is left.
                    actions.push(Action::GiveUp {
                        then: self.config.retry_for(&job.kind).after_last(),
                        id: job.id,
                        kind: job.kind,
                        attempts: job.attempts,
                        cause: Cause::Interrupted,
                    });
                } else if self.room() == 0 {
                    actions.push(Action::Refused { id: job.id });
                } else {
                    self.enqueue(job);
                }
            }
            Input::Cancel(id) => {
                if let Some(key) = self.index.remove(&id) {
                    self.pending.remove(&key);
                }
                if let Some((_, asterisk)) = self.in_flight.remove(&id)
                    && let Some(load) = self.asterisks.get_mut(&asterisk)
                {
                    load.outbound = load.outbound.saturating_sub(1);
                }
            }
            Input::Inbound { asterisk, active } => {
                if let Some(load) = self.asterisks.get_mut(&asterisk) {
                    load.inbound = active;
                }
            }
            Input::Finished { id, result } => {
                if let Some(action) = self.finished(id, result, now) {
                    actions.push(action);
                }
            }
            Input::Tick => {}
        }
        self.dial(now, &mut actions);
        actions
    }

    /// When to [`Input::Tick`] next: the next job's time, the calls-per-second spacing and the
    /// window's opening. `None` when nothing waits for time alone (no job, or every call slot is
    /// taken: a finished call or a drop in inbound load wakes the dialer).
    pub fn next_deadline(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let ((first, _), _) = self.pending.first_key_value()?;
        if self.pick_asterisk().is_none()
            || self.in_flight.len() >= self.config.pacing.max_concurrent()
        {
            return None;
        }
        let mut at = (*first).max(now);
        if let Some(next_start) = self.next_start {
            at = at.max(next_start);
        }
        Some(self.config.window.next_open(at))
    }

    fn enqueue(&mut self, job: Job) {
        let key = (job.not_before, self.arrivals);
        self.arrivals += 1;
        self.index.insert(job.id.clone(), key);
        self.pending.insert(key, job);
    }

    fn finished(&mut self, id: JobId, result: AttemptResult, now: DateTime<Utc>) -> Option<Action> {
        let (mut job, asterisk) = self.in_flight.remove(&id)?;
        if let Some(load) = self.asterisks.get_mut(&asterisk) {
            load.outbound = load.outbound.saturating_sub(1);
        }
        let made = job.attempts;
        let cause = match result {
            AttemptResult::Reached => {
                return Some(Action::Done {
                    id,
                    kind: job.kind,
                    attempts: made,
                });
            }
            AttemptResult::NotReached(cause) => cause,
        };
        let policy = self.config.retry_for(&job.kind);
        match policy.delay_after(made) {
            Some(delay) => {
                let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                let at = now
                    .checked_add_signed(delay)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                let next_at = self.config.window.next_open(at);
                job.not_before = next_at;
                let kind = job.kind.clone();
                self.enqueue(job);
                Some(Action::Retry {
                    id,
                    kind,
                    attempt: made,
                    cause,
                    next_at,
                })
            }
            None => Some(Action::GiveUp {
                id,
                kind: job.kind,
                attempts: made,
                cause,
                then: policy.after_last(),
            }),
        }
    }

    /// The Asterisk with the fewest outbound calls that has room and is not busy with inbound.
    fn pick_asterisk(&self) -> Option<AsteriskId> {
        let pacing = &self.config.pacing;
        self.asterisks
            .iter()
            .filter(|(_, l)| {
                l.outbound < pacing.per_asterisk() && l.inbound < pacing.inbound_threshold()
            })
            .min_by_key(|(_, l)| l.outbound)
            .map(|(a, _)| a.clone())
    }

    fn dial(&mut self, now: DateTime<Utc>, actions: &mut Vec<Action>) {
        if !self.config.window.contains(now) {
            return;
        }
        let interval = chrono::Duration::from_std(self.config.pacing.interval())
            .unwrap_or(chrono::Duration::MAX);
        while self.in_flight.len() < self.config.pacing.max_concurrent()
            && self.next_start.is_none_or(|t| t <= now)
        {
            let Some(((not_before, _), _)) = self.pending.first_key_value() else {
                return;
            };
            if *not_before > now {
                return;
            }
            let Some(asterisk) = self.pick_asterisk() else {
                return;
            };
            let Some((_, mut job)) = self.pending.pop_first() else {
                return;
            };
            self.index.remove(&job.id);
            job.attempts = job.attempts.saturating_add(1);
            if let Some(load) = self.asterisks.get_mut(&asterisk) {
                load.outbound += 1;
            }
            self.next_start = now.checked_add_signed(interval);
            self.in_flight
                .insert(job.id.clone(), (job.clone(), asterisk.clone()));
            actions.push(Action::Dial {
                attempt: job.attempts,
                job,
                asterisk,
            });
        }
    }
}

#[cfg(test)]
mod tests;
