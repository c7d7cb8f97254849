//! An agent: who they are (login name, phone, skills) and the state they are in, with the transitions
//! between states as one function ([`Agent::apply`]) whose refusals are typed ([`AgentError`]).
//!
//! States: [`AgentState::LoggedOut`], `Available`, `Ringing` (offered one call), `OnCall`, `WrapUp`
//! (after-call work, ended by its timer or early by a disposition), `Paused` with a [`PauseReason`].
//!
//! **A pause or log-out asked for while busy waits for the call.** As Amazon Connect's "next status"
//! and `app_queue`'s pause-during-a-call do, an agent's own pause or log-out while ringing, on a call
//! or in wrap-up is kept as [`Pending`] and takes effect at the moment the agent would otherwise
//! become available (the ring failed, or the wrap-up ended). Asked again, the newer request replaces
//! the older; `Resume` withdraws it. A supervisor's *forced* pause or log-out does not wait for a ring
//! or a wrap-up (the ring is cancelled and the caller offered to another agent), but it does wait for
//! a call in progress: nobody cuts a citizen off.
//!
//! Ring failures are counted per agent (reset by an answer or a resume); the ACD pauses the agent with
//! reason `no_answer` when the count reaches the queue's `auto_pause_after`, as `app_queue`'s
//! autopause and `mod_callcenter`'s `max-no-answer` do.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::{AgentId, AttemptId, CallId, Time};

/// A language a caller speaks and an agent takes calls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Hi,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Hi, Language::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Hi => "hi",
            Language::En => "en",
        }
    }
}

/// Which helpline's calls: the number the citizen dialled (or was transferred to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Helpline {
    /// 1100, the CM grievance helpline.
    #[serde(rename = "1100")]
    Grievance,
    /// 181, women in distress.
    #[serde(rename = "181")]
    Women,
    /// 1077, disaster management.
    #[serde(rename = "1077")]
    Disaster,
    /// The state transport corporation (HRTC).
    #[serde(rename = "hrtc")]
    Hrtc,
    /// GST.
    #[serde(rename = "gst")]
    Gst,
    /// De-addiction counselling.
    #[serde(rename = "de-addiction")]
    DeAddiction,
}

impl Helpline {
    pub const ALL: [Helpline; 6] = [
        Helpline::Grievance,
        Helpline::Women,
        Helpline::Disaster,
        Helpline::Hrtc,
        Helpline::Gst,
        Helpline::DeAddiction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Helpline::Grievance => "1100",
            Helpline::Women => "181",
            Helpline::Disaster => "1077",
            Helpline::Hrtc => "hrtc",
            Helpline::Gst => "gst",
            Helpline::DeAddiction => "de-addiction",
        }
    }
}

/// A name that is not one of the values of the type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a {what} (expected one of: {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

fn parse_name<T: Copy>(
    what: &'static str,
    given: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|v| name(*v) == given)
        .ok_or_else(|| UnknownName {
            what,
            given: given.to_owned(),
            expected: all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", "),
        })
}

impl FromStr for Language {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Language, UnknownName> {
        parse_name("language", s, &Language::ALL, Language::as_str)
    }
}

impl FromStr for Helpline {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Helpline, UnknownName> {
        parse_name("helpline", s, &Helpline::ALL, Helpline::as_str)
    }
}

impl FromStr for PauseReason {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<PauseReason, UnknownName> {
        parse_name("pause reason", s, &PauseReason::ALL, PauseReason::as_str)
    }
}

/// What an agent can take: a call needs its language, its helpline, and (in a queue that matches
/// departments) its department. Department codes are compared as written (the IVR's codes: `PWR`…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skills {
    pub languages: BTreeSet<Language>,
    pub departments: BTreeSet<String>,
    pub helplines: BTreeSet<Helpline>,
}

impl Skills {
    pub fn new(
        languages: impl IntoIterator<Item = Language>,
        departments: impl IntoIterator<Item = String>,
        helplines: impl IntoIterator<Item = Helpline>,
    ) -> Skills {
        Skills {
            languages: languages.into_iter().collect(),
            departments: departments.into_iter().collect(),
            helplines: helplines.into_iter().collect(),
        }
    }

    /// Whether a call needing these can go to an agent with `self`.
    pub fn covers(&self, need: &Need<'_>) -> bool {
        self.languages.contains(&need.language)
            && self.helplines.contains(&need.helpline)
            && need.department.is_none_or(|d| self.departments.contains(d))
    }
}

/// What one call needs of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need<'a> {
    pub language: Language,
    pub helpline: Helpline,
    /// `None` when the queue does not match departments, or the call has none.
    pub department: Option<&'a str>,
}

/// Why an agent is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    Break,
    Lunch,
    Training,
    Meeting,
    /// Making calls of their own (not the ACD's).
    Outbound,
    /// Paused by the system or a supervisor for another reason.
    System,
    /// Paused by the ACD after too many rings went unanswered.
    NoAnswer,
}

impl PauseReason {
    pub const ALL: [PauseReason; 7] = [
        PauseReason::Break,
        PauseReason::Lunch,
        PauseReason::Training,
        PauseReason::Meeting,
        PauseReason::Outbound,
        PauseReason::System,
        PauseReason::NoAnswer,
    ];

    /// The name written in the queue log's `PAUSE` event and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::Break => "break",
            PauseReason::Lunch => "lunch",
            PauseReason::Training => "training",
            PauseReason::Meeting => "meeting",
            PauseReason::Outbound => "outbound",
            PauseReason::System => "system",
            PauseReason::NoAnswer => "no_answer",
        }
    }
}

/// Where an agent is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentState {
    LoggedOut,
    Available {
        since: Time,
    },
    /// Their phone is ringing with `call` (attempt `attempt`).
    Ringing {
        call: CallId,
        attempt: AttemptId,
        since: Time,
    },
    OnCall {
        call: CallId,
        since: Time,
    },
    /// After-call work on `call` until `until` (or a disposition).
    WrapUp {
        call: CallId,
        until: Time,
    },
    Paused {
        reason: PauseReason,
        since: Time,
    },
}

impl AgentState {
    /// The state's name, for the API and logs.
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged_out",
            AgentState::Available { .. } => "available",
            AgentState::Ringing { .. } => "ringing",
            AgentState::OnCall { .. } => "on_call",
            AgentState::WrapUp { .. } => "wrap_up",
            AgentState::Paused { .. } => "paused",
        }
    }

    /// The call the agent is busy with, if any.
    pub fn call(&self) -> Option<&CallId> {
        match self {
            AgentState::Ringing { call, .. }
            | AgentState::OnCall { call, .. }
            | AgentState::WrapUp { call, .. } => Some(call),
            _ => None,
        }
    }

    pub fn is_logged_in(&self) -> bool {
        !matches!(self, AgentState::LoggedOut)
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentState::Paused { reason, .. } => write!(f, "paused ({})", reason.as_str()),
            other => f.write_str(other.name()),
        }
    }
}

/// What an agent asked for while busy, applied when the call is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "then", content = "reason", rename_all = "snake_case")]
pub enum Pending {
    Pause(PauseReason),
    LogOut,
}

/// A transition an agent cannot make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error("the agent is not logged in")]
    NotLoggedIn,
    #[error("the agent is already logged in (log out first to change phone or skills)")]
    AlreadyLoggedIn,
    #[error("the agent is not paused")]
    NotPaused,
    #[error("the agent is not in wrap-up or on a call")]
    NotInWrapUp,
    #[error("the agent takes no calls: a login needs at least one language and one helpline")]
    NoSkills,
    #[error("the agent is {0}, not {1}")]
    WrongState(&'static str, &'static str),
}

/// What asks an agent's state to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEvent {
    LogIn,
    /// `forced`: a supervisor's, which does not wait for a ring or a wrap-up.
    LogOut {
        forced: bool,
    },
    Pause {
        reason: PauseReason,
        forced: bool,
    },
    Resume,
    /// The ACD offers a call.
    Ring {
        call: CallId,
        attempt: AttemptId,
    },
    Answered,
    /// The ring ended without an answer; `counts` for the no-answer count, pause at `auto_pause_after`
    /// (0: never).
    RingFailed {
        counts: bool,
        auto_pause_after: u32,
    },
    /// The ring was withdrawn (the caller left, took a call-back, was moved): not the agent's fault.
    RingCancelled,
    CallEnded {
        wrap_up_secs: u32,
    },
    /// Free without wrap-up (a call-back whose citizen did not answer).
    Released,
    WrapUpEnded,
    Disposition,
}

/// What an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Changed {
        old: AgentState,
        new: AgentState,
    },
    /// No state change; the pending request is now this.
    Pending(Option<Pending>),
    /// Nothing changed (a disposition given during the call, a pause with the same reason).
    Unchanged,
}

/// One agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    /// The dial string of their phone (`PJSIP/agent-101`).
    pub phone: String,
    pub skills: Skills,
    state: AgentState,
    /// When the current state began.
    entered: Time,
    pending: Option<Pending>,
    /// Rings failed in a row.
    no_answers: u32,
    /// Calls answered (since the ACD started or the counters were reset).
    calls_taken: u32,
    /// A disposition was given during the call: no wrap-up after it.
    disposed: bool,
}

impl Agent {
    /// A logged-out agent.
    pub fn new(id: AgentId, phone: String, skills: Skills, now: Time) -> Agent {
        Agent {
            id,
            phone,
            skills,
            state: AgentState::LoggedOut,
            entered: now,
            pending: None,
            no_answers: 0,
            calls_taken: 0,
            disposed: false,
        }
    }

    pub fn state(&self) -> &AgentState {
        &self.state
    }

    /// When the current state began.
    pub fn entered(&self) -> Time {
        self.entered
    }

    pub fn pending(&self) -> Option<Pending> {
        self.pending
    }

    pub fn no_answers(&self) -> u32 {
        self.no_answers
    }

    pub fn calls_taken(&self) -> u32 {
        self.calls_taken
    }

    pub fn is_available(&self) -> bool {
        matches!(self.state, AgentState::Available { .. })
    }

    /// An agent as it was saved: its state, pending request and counts (no-answers, calls taken).
    pub(crate) fn restored(
        id: AgentId,
        phone: String,
        skills: Skills,
        state: AgentState,
        entered: Time,
        pending: Option<Pending>,
        (no_answers, calls_taken): (u32, u32),
    ) -> Agent {
        Agent {
            id,
            phone,
            skills,
            state,
            entered,
            pending,
            no_answers,
            calls_taken,
            disposed: false,
        }
    }

    pub(crate) fn reset_calls_taken(&mut self) {
        self.calls_taken = 0;
    }

    /// Applies one event at `now`. A refusal leaves the agent as it was.
    pub fn apply(&mut self, event: AgentEvent, now: Time) -> Result<Outcome, AgentError> {
        use AgentState as S;
        let busy = matches!(
            self.state,
            S::Ringing { .. } | S::OnCall { .. } | S::WrapUp { .. }
        );
        let new = match (&self.state, event) {
            (S::LoggedOut, AgentEvent::LogIn) => {
                if self.skills.languages.is_empty() || self.skills.helplines.is_empty() {
                    return Err(AgentError::NoSkills);
                }
                self.no_answers = 0;
                S::Available { since: now }
            }
            (_, AgentEvent::LogIn) => return Err(AgentError::AlreadyLoggedIn),
            (S::LoggedOut, _) => return Err(AgentError::NotLoggedIn),

            (S::Available { .. } | S::Paused { .. }, AgentEvent::LogOut { .. }) => S::LoggedOut,
            (S::Ringing { .. } | S::WrapUp { .. }, AgentEvent::LogOut { forced: true }) => {
                S::LoggedOut
            }
            (_, AgentEvent::LogOut { .. }) => return Ok(self.set_pending(Some(Pending::LogOut))),

            (S::Paused { reason: old, .. }, AgentEvent::Pause { reason, .. }) if *old == reason => {
                return Ok(Outcome::Unchanged);
            }
            (S::Available { .. } | S::Paused { .. }, AgentEvent::Pause { reason, .. }) => {
                S::Paused { reason, since: now }
            }
            (
                S::Ringing { .. } | S::WrapUp { .. },
                AgentEvent::Pause {
                    reason,
                    forced: true,
                },
            ) => S::Paused { reason, since: now },
            (_, AgentEvent::Pause { reason, .. }) => {
                return Ok(self.set_pending(Some(Pending::Pause(reason))));
            }

            (S::Paused { .. }, AgentEvent::Resume) => {
                self.no_answers = 0;
                S::Available { since: now }
            }
            (_, AgentEvent::Resume) if busy && self.pending.is_some() => {
                return Ok(self.set_pending(None));
            }
            (_, AgentEvent::Resume) => return Err(AgentError::NotPaused),

            (S::Available { .. }, AgentEvent::Ring { call, attempt }) => S::Ringing {
                call,
                attempt,
                since: now,
            },
            (S::Ringing { call, .. }, AgentEvent::Answered) => {
                let call = call.clone();
                self.no_answers = 0;
                self.calls_taken = self.calls_taken.saturating_add(1);
                self.disposed = false;
                S::OnCall { call, since: now }
            }
            (
                S::Ringing { .. },
                AgentEvent::RingFailed {
                    counts,
                    auto_pause_after,
                },
            ) => {
                if counts {
                    self.no_answers = self.no_answers.saturating_add(1);
                }
                let auto_pause =
                    counts && auto_pause_after > 0 && self.no_answers >= auto_pause_after;
                match self.pending.take() {
                    Some(Pending::LogOut) => S::LoggedOut,
                    Some(Pending::Pause(reason)) => S::Paused { reason, since: now },
                    None if auto_pause => S::Paused {
                        reason: PauseReason::NoAnswer,
                        since: now,
                    },
                    None => S::Available { since: now },
                }
            }
            (S::Ringing { .. }, AgentEvent::RingCancelled) => self.free(now),
            (S::OnCall { call, .. }, AgentEvent::CallEnded { wrap_up_secs }) => {
                if wrap_up_secs == 0 || self.disposed {
                    self.free(now)
                } else {
                    S::WrapUp {
                        call: call.clone(),
                        until: after(now, wrap_up_secs),
                    }
                }
            }
            (S::OnCall { .. }, AgentEvent::Released) => self.free(now),
            (S::WrapUp { .. }, AgentEvent::WrapUpEnded | AgentEvent::Disposition) => self.free(now),
            (S::OnCall { .. }, AgentEvent::Disposition) => {
                self.disposed = true;
                return Ok(Outcome::Unchanged);
            }
            (_, AgentEvent::Disposition) => return Err(AgentError::NotInWrapUp),
            (state, AgentEvent::Ring { .. }) => {
                return Err(AgentError::WrongState(state.name(), "available"));
            }
            (
                state,
                AgentEvent::Answered | AgentEvent::RingFailed { .. } | AgentEvent::RingCancelled,
            ) => return Err(AgentError::WrongState(state.name(), "ringing")),
            (state, AgentEvent::CallEnded { .. } | AgentEvent::Released) => {
                return Err(AgentError::WrongState(state.name(), "on_call"));
            }
            (state, AgentEvent::WrapUpEnded) => {
                return Err(AgentError::WrongState(state.name(), "wrap_up"));
            }
        };
        if !matches!(new, S::Ringing { .. } | S::OnCall { .. } | S::WrapUp { .. }) {
            self.disposed = false;
        }
        if matches!(new, S::LoggedOut) {
            self.pending = None;
        }
        let old = std::mem::replace(&mut self.state, new.clone());
        self.entered = now;
        Ok(Outcome::Changed { old, new })
    }

    /// The state an agent done with a call goes to: what they asked for meanwhile, or available.
    fn free(&mut self, now: Time) -> AgentState {
        match self.pending.take() {
            Some(Pending::LogOut) => AgentState::LoggedOut,
            Some(Pending::Pause(reason)) => AgentState::Paused { reason, since: now },
            None => AgentState::Available { since: now },
        }
    }

    fn set_pending(&mut self, pending: Option<Pending>) -> Outcome {
        if self.pending == pending {
            return Outcome::Unchanged;
        }
        self.pending = pending;
        Outcome::Pending(pending)
    }
}

/// `now` plus `secs` seconds, saturating at the end of time (never a panic).
pub(crate) fn after(now: Time, secs: u32) -> Time {
    now.checked_add_signed(TimeDelta::seconds(i64::from(secs)))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// Milliseconds from `from` to `to`, 0 if the clock went back.
pub(crate) fn millis(from: Time, to: Time) -> i64 {
    (to - from).num_milliseconds().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn t(s: i64) -> Time {
        Utc.timestamp_opt(1_780_000_000 + s, 0).unwrap()
    }

    fn agent() -> Agent {
        Agent::new(
            AgentId::new("asha"),
            "PJSIP/agent-101".into(),
            Skills::new([Language::Hi], ["PWR".to_owned()], [Helpline::Grievance]),
            t(0),
        )
    }

    fn logged_in() -> Agent {
        let mut a = agent();
        a.apply(AgentEvent::LogIn, t(0)).unwrap();
        a
    }

    fn ring(a: &mut Agent, at: i64) {
        a.apply(
            AgentEvent::Ring {
                call: CallId::new("c1"),
                attempt: AttemptId(1),
            },
            t(at),
        )
        .unwrap();
    }

    const FAILED: AgentEvent = AgentEvent::RingFailed {
        counts: true,
        auto_pause_after: 3,
    };

    #[test]
    fn names_parse_and_print_the_same() {
        for h in Helpline::ALL {
            assert_eq!(h.as_str().parse::<Helpline>(), Ok(h));
        }
        for r in PauseReason::ALL {
            assert_eq!(r.as_str().parse::<PauseReason>(), Ok(r));
        }
        assert_eq!("hi".parse::<Language>(), Ok(Language::Hi));
        let err = "pa".parse::<Language>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`pa` is not a language (expected one of: hi, en)"
        );
    }

    #[test]
    fn skills_need_language_helpline_and_department_when_asked() {
        let s = agent().skills;
        let need = Need {
            language: Language::Hi,
            helpline: Helpline::Grievance,
            department: None,
        };
        assert!(s.covers(&need));
        assert!(s.covers(&Need {
            department: Some("PWR"),
            ..need
        }));
        assert!(!s.covers(&Need {
            department: Some("HLT"),
            ..need
        }));
        assert!(!s.covers(&Need {
            language: Language::En,
            ..need
        }));
        assert!(!s.covers(&Need {
            helpline: Helpline::Disaster,
            ..need
        }));
    }

    #[test]
    fn login_needs_skills_and_happens_once() {
        let mut a = agent();
        a.skills.helplines.clear();
        assert_eq!(a.apply(AgentEvent::LogIn, t(0)), Err(AgentError::NoSkills));
        let mut a = logged_in();
        assert_eq!(
            a.apply(AgentEvent::LogIn, t(1)),
            Err(AgentError::AlreadyLoggedIn)
        );
        assert_eq!(a.state(), &AgentState::Available { since: t(0) });
        assert_eq!(
            agent().apply(AgentEvent::Resume, t(0)),
            Err(AgentError::NotLoggedIn)
        );
    }

    #[test]
    fn a_call_goes_ringing_on_call_wrap_up_available() {
        let mut a = logged_in();
        ring(&mut a, 1);
        a.apply(AgentEvent::Answered, t(3)).unwrap();
        assert_eq!(a.calls_taken(), 1);
        let out = a
            .apply(AgentEvent::CallEnded { wrap_up_secs: 30 }, t(60))
            .unwrap();
        assert!(matches!(
            out,
            Outcome::Changed { new: AgentState::WrapUp { until, .. }, .. } if until == t(90)
        ));
        a.apply(AgentEvent::WrapUpEnded, t(90)).unwrap();
        assert_eq!(a.state(), &AgentState::Available { since: t(90) });
    }

    #[test]
    fn a_disposition_ends_wrap_up_or_skips_it_when_given_during_the_call() {
        let mut a = logged_in();
        ring(&mut a, 1);
        a.apply(AgentEvent::Answered, t(2)).unwrap();
        assert_eq!(
            a.apply(AgentEvent::Disposition, t(5)),
            Ok(Outcome::Unchanged)
        );
        a.apply(AgentEvent::CallEnded { wrap_up_secs: 30 }, t(9))
            .unwrap();
        assert_eq!(a.state(), &AgentState::Available { since: t(9) });
        assert_eq!(
            a.apply(AgentEvent::Disposition, t(10)),
            Err(AgentError::NotInWrapUp)
        );
    }

    #[test]
    fn no_answers_pause_the_agent_at_the_limit_and_resume_resets_the_count() {
        let mut a = logged_in();
        for i in 0..2 {
            ring(&mut a, i);
            a.apply(FAILED, t(i)).unwrap();
            assert!(a.is_available());
        }
        ring(&mut a, 5);
        a.apply(FAILED, t(5)).unwrap();
        assert_eq!(
            a.state(),
            &AgentState::Paused {
                reason: PauseReason::NoAnswer,
                since: t(5)
            }
        );
        a.apply(AgentEvent::Resume, t(6)).unwrap();
        assert_eq!(a.no_answers(), 0);
    }

    #[test]
    fn an_answer_resets_the_no_answer_count() {
        let mut a = logged_in();
        ring(&mut a, 0);
        a.apply(FAILED, t(0)).unwrap();
        ring(&mut a, 1);
        a.apply(AgentEvent::Answered, t(1)).unwrap();
        assert_eq!(a.no_answers(), 0);
    }

    #[test]
    fn a_pause_asked_while_busy_waits_for_the_end_of_wrap_up() {
        let mut a = logged_in();
        ring(&mut a, 1);
        let pause = AgentEvent::Pause {
            reason: PauseReason::Lunch,
            forced: false,
        };
        assert_eq!(
            a.apply(pause.clone(), t(2)),
            Ok(Outcome::Pending(Some(Pending::Pause(PauseReason::Lunch))))
        );
        a.apply(AgentEvent::Answered, t(3)).unwrap();
        a.apply(AgentEvent::CallEnded { wrap_up_secs: 10 }, t(50))
            .unwrap();
        assert!(matches!(a.state(), AgentState::WrapUp { .. }));
        a.apply(AgentEvent::WrapUpEnded, t(60)).unwrap();
        assert_eq!(
            a.state(),
            &AgentState::Paused {
                reason: PauseReason::Lunch,
                since: t(60)
            }
        );
        assert_eq!(a.pending(), None);
    }

    #[test]
    fn resume_withdraws_a_pending_request_and_a_log_out_replaces_a_pause() {
        let mut a = logged_in();
        ring(&mut a, 1);
        a.apply(
            AgentEvent::Pause {
                reason: PauseReason::Break,
                forced: false,
            },
            t(2),
        )
        .unwrap();
        a.apply(AgentEvent::LogOut { forced: false }, t(3)).unwrap();
        assert_eq!(a.pending(), Some(Pending::LogOut));
        a.apply(AgentEvent::Resume, t(4)).unwrap();
        assert_eq!(a.pending(), None);
        assert_eq!(
            a.apply(AgentEvent::Resume, t(5)),
            Err(AgentError::NotPaused)
        );
        a.apply(AgentEvent::LogOut { forced: false }, t(6)).unwrap();
        a.apply(FAILED, t(7)).unwrap();
        assert_eq!(a.state(), &AgentState::LoggedOut);
    }

    #[test]
    fn a_forced_pause_does_not_wait_for_a_ring_but_waits_for_a_call() {
        let forced = AgentEvent::Pause {
            reason: PauseReason::System,
            forced: true,
        };
        let mut a = logged_in();
        ring(&mut a, 1);
        a.apply(forced.clone(), t(2)).unwrap();
        assert!(matches!(a.state(), AgentState::Paused { .. }));
        let mut a = logged_in();
        ring(&mut a, 1);
        a.apply(AgentEvent::Answered, t(2)).unwrap();
        assert_eq!(
            a.apply(forced, t(3)),
            Ok(Outcome::Pending(Some(Pending::Pause(PauseReason::System))))
        );
        assert!(matches!(a.state(), AgentState::OnCall { .. }));
    }

    #[test]
    fn wrong_events_are_refused_and_change_nothing() {
        let mut a = logged_in();
        let before = a.clone();
        assert_eq!(
            a.apply(AgentEvent::Answered, t(1)),
            Err(AgentError::WrongState("available", "ringing"))
        );
        assert_eq!(
            a.apply(AgentEvent::CallEnded { wrap_up_secs: 1 }, t(1)),
            Err(AgentError::WrongState("available", "on_call"))
        );
        assert_eq!(a, before);
        ring(&mut a, 1);
        assert_eq!(
            a.apply(
                AgentEvent::Ring {
                    call: CallId::new("c2"),
                    attempt: AttemptId(2)
                },
                t(2)
            ),
            Err(AgentError::WrongState("ringing", "available"))
        );
    }

    #[test]
    fn times_saturate_instead_of_panicking() {
        let end = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        assert_eq!(after(end, 10), end);
        assert_eq!(millis(t(10), t(5)), 0);
        assert_eq!(millis(t(5), t(10)), 5000);
    }
}
