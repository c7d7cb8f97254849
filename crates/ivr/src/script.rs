//! The validated IVR script model: what a call can do, with every reference resolved.
//!
//! Scripts are TOML files (format documented in `ivr-scripts/README.md`). Parsing happens in
//! two stages: [`crate::check`] reads the file into raw, span-carrying structs and reports every
//! problem with file:line; only a script without errors becomes a [`Script`], in which step
//! references are indices, durations are [`Duration`]s and validators are resolved functions.
//! [`ScriptSet`] holds each script behind an `Arc`, so a call keeps the version it started with
//! while the engine loads a new set (SIGHUP).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, NaiveDate, NaiveTime, Weekday};

use crate::check::{self, CheckReport};

/// A validator for keyed-in digits, such as the complaint number's check digit.
pub type ValidatorFn = fn(&str) -> bool;

/// The validators a script may name in an `input` step. The ticket crate owns the complaint
/// number's check digit, so the binary registers it here (`complaint_number`) and passes the
/// set to [`ScriptSet::load`] and [`check::check_dir`].
#[derive(Clone, Default)]
pub struct Validators {
    by_name: BTreeMap<String, ValidatorFn>,
}

impl Validators {
    /// An empty set: a script naming any validator is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the validator called `name`.
    pub fn with(mut self, name: &str, validator: ValidatorFn) -> Self {
        self.by_name.insert(name.to_owned(), validator);
        self
    }

    /// The validator called `name`, if registered.
    pub fn get(&self, name: &str) -> Option<ValidatorFn> {
        self.by_name.get(name).copied()
    }

    /// The registered names, sorted (used in hints).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

impl fmt::Debug for Validators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

/// Index of a step in [`Script::steps`].
pub type StepId = usize;

/// One item of what a step says: a prompt, or a variable spoken a certain way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaItem {
    /// A prompt id (`sound:helpline/<id>` in the call's language).
    Prompt(String),
    /// A prompt id with `{var}` placeholders, e.g. `status_{status}`; the value is slugged
    /// (lower case, `_` for anything else) and the item is skipped if no such prompt exists.
    Template(String),
    /// A variable read digit by digit (`digits:` prefix), e.g. a complaint number.
    Digits(String),
    /// A variable read as a number in words (`number:` prefix), composed from `num_*` prompts.
    Number(String),
    /// A variable holding a date `YYYY-MM-DD` read as day, month, year (`date:` prefix).
    Date(String),
}

/// When a `branch` case applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Inside office hours and not a holiday.
    OfficeHours(bool),
    /// Today is in the holiday calendar.
    Holiday(bool),
    /// A variable has this value.
    Equals { var: String, value: String },
    /// A variable is set (to anything non-empty) or not.
    IsSet { var: String, set: bool },
}

/// Retry behaviour shared by `menu`, `input` and the record confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// How long to wait for the first key after the prompt ends.
    pub timeout: Duration,
    /// How many more tries after the first.
    pub retries: u32,
    /// Played before the prompt again after a wrong key.
    pub invalid: Vec<MediaItem>,
    /// Played before the prompt again after a timeout.
    pub no_input: Vec<MediaItem>,
    /// Where to go when the tries are used up (an agent or a polite goodbye, never dead air).
    pub on_exhausted: StepId,
}

/// A `menu` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuStep {
    pub prompts: Vec<MediaItem>,
    pub barge_in: bool,
    /// DTMF key → next step.
    pub choices: Vec<(char, StepId)>,
    /// Optional variable set from the key pressed (e.g. the department of a category).
    pub assign: Option<(String, Vec<(char, String)>)>,
    pub retry: Retry,
}

/// An `input` step: collect digits.
#[derive(Debug, Clone)]
pub struct InputStep {
    pub prompts: Vec<MediaItem>,
    pub barge_in: bool,
    /// The variable that receives the digits.
    pub var: String,
    pub min_digits: usize,
    pub max_digits: usize,
    /// The key that ends entry early (usually `#`).
    pub end_key: Option<char>,
    pub inter_digit_timeout: Duration,
    pub validator: Option<(String, ValidatorFn)>,
    pub retry: Retry,
    pub next: StepId,
}

/// The "1 keep, 2 record again, 3 listen" menu after a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmMenu {
    pub prompts: Vec<MediaItem>,
    /// `on_exhausted` is the record step's `next`: an unanswered confirmation keeps the recording.
    pub retry: Retry,
}

/// A `record` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStep {
    pub prompts: Vec<MediaItem>,
    pub beep: bool,
    pub max_duration: Duration,
    pub max_silence: Duration,
    pub stop_key: Option<char>,
    pub confirm: Option<ConfirmMenu>,
    /// Played before recording again when a recording held no speech.
    pub no_speech: Vec<MediaItem>,
    /// How many more recordings after a silent or failed one.
    pub retries: u32,
    /// How many recordings the caller may make in all through "2 record again".
    pub max_attempts: u32,
    pub next: StepId,
    pub on_exhausted: StepId,
    /// The `ticket` step to run when the caller hangs up once a recording holds speech.
    pub hangup_ticket: Option<StepId>,
}

/// A `ticket` step: file the complaint from what the call collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketStep {
    /// A department code, or `{var}` to take it from a variable.
    pub department: String,
    /// The citizen is promised a call-back (out of office hours).
    pub callback: bool,
    pub next: StepId,
    pub on_failure: StepId,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// `play` / `say`: prompts and variables, then `next`.
    Play {
        media: Vec<MediaItem>,
        barge_in: bool,
        next: StepId,
    },
    Menu(MenuStep),
    Input(InputStep),
    Record(RecordStep),
    Ticket(TicketStep),
    /// Look a complaint up by the number in `number_var`; sets `status`, `department`, `due_date`.
    Lookup {
        number_var: String,
        next: StepId,
        not_found: StepId,
        on_failure: StepId,
    },
    /// Store the citizen's feedback on a complaint.
    Feedback {
        number_var: String,
        satisfied_var: String,
        reason_var: Option<String>,
        /// The variable holding the digits the caller keyed to show the complaint is theirs (e.g. the
        /// last four digits of the number it was registered from), sent with the feedback.
        check_var: Option<String>,
        next: StepId,
        on_failure: StepId,
        /// Where the call goes when the ticket store refuses the feedback because the caller is not
        /// (or could not show to be) the complainant; `on_failure` when the script does not say.
        on_refused: StepId,
    },
    /// `agent`: put the caller in one of helpline's own queues (after optional prompts); the call
    /// centre takes the call from there, or sends it back to `on_overflow` (no agent, waited too
    /// long: e.g. record the complaint instead).
    Queue {
        media: Vec<MediaItem>,
        /// A queue of `queues.toml`.
        queue: String,
        /// The department the caller chose, as a template (`{department}`); empty when unset.
        department: Option<String>,
        on_overflow: StepId,
    },
    /// `transfer`: hand the call back to the dialplan (after optional prompts).
    Transfer {
        media: Vec<MediaItem>,
        context: String,
        extension: String,
    },
    /// Set the language and/or variables.
    Set {
        language: Option<String>,
        vars: Vec<(String, String)>,
        next: StepId,
    },
    /// The first case that holds decides; else `otherwise`.
    Branch {
        cases: Vec<(Condition, StepId)>,
        otherwise: StepId,
    },
    /// Say goodbye (optional prompts) and hang up.
    Hangup {
        media: Vec<MediaItem>,
        reason: String,
    },
}

/// A named step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
}

impl Step {
    /// Every step this one may lead to.
    pub fn successors(&self) -> Vec<StepId> {
        match &self.kind {
            StepKind::Play { next, .. } | StepKind::Set { next, .. } => vec![*next],
            StepKind::Menu(m) => {
                let mut out: Vec<StepId> = m.choices.iter().map(|(_, s)| *s).collect();
                out.push(m.retry.on_exhausted);
                out
            }
            StepKind::Input(i) => vec![i.next, i.retry.on_exhausted],
            StepKind::Record(r) => {
                let mut out = vec![r.next, r.on_exhausted];
                out.extend(r.hangup_ticket);
                out
            }
            StepKind::Ticket(t) => vec![t.next, t.on_failure],
            StepKind::Lookup {
                next,
                not_found,
                on_failure,
                ..
            } => {
                vec![*next, *not_found, *on_failure]
            }
            StepKind::Feedback {
                next,
                on_failure,
                on_refused,
                ..
            } => vec![*next, *on_failure, *on_refused],
            StepKind::Queue { on_overflow, .. } => vec![*on_overflow],
            StepKind::Branch { cases, otherwise } => {
                let mut out: Vec<StepId> = cases.iter().map(|(_, s)| *s).collect();
                out.push(*otherwise);
                out
            }
            StepKind::Transfer { .. } | StepKind::Hangup { .. } => Vec::new(),
        }
    }

    /// The step ends the IVR's part of the call.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.kind,
            StepKind::Transfer { .. } | StepKind::Hangup { .. }
        )
    }

    /// The step neither plays nor waits, so a loop of such steps would spin forever.
    pub fn is_instant(&self) -> bool {
        matches!(self.kind, StepKind::Set { .. } | StepKind::Branch { .. })
    }
}

/// Office hours and the holiday calendar, in the script's UTC offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    pub days: Vec<Weekday>,
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub holidays: BTreeSet<NaiveDate>,
}

impl OfficeHours {
    /// Whether `date` is in the holiday calendar.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    /// Whether the office is open at this local date and time.
    pub fn is_open(&self, date: NaiveDate, time: NaiveTime) -> bool {
        use chrono::Datelike;
        !self.is_holiday(date)
            && self.days.contains(&date.weekday())
            && time >= self.open
            && time < self.close
    }
}

/// A validated script. Shared by every call that runs it (`Arc<Script>`).
#[derive(Debug, Clone)]
pub struct Script {
    /// The file stem (`1100` for `1100.toml`); the name calls ask for.
    pub name: String,
    pub path: PathBuf,
    pub languages: Vec<String>,
    pub default_language: String,
    pub start: StepId,
    pub utc_offset: FixedOffset,
    pub office_hours: Option<OfficeHours>,
    /// Department code → name, as declared in `[departments]`.
    pub departments: BTreeMap<String, String>,
    /// Variables the one who starts a call gives it (`[script] given`): an outbound call's job
    /// variables. [`crate::Call::start_with`] refuses a start without each.
    pub given: Vec<String>,
    /// A playback that neither finishes nor fails within this is stopped (Asterisk may never
    /// finish a playback of an unknown media scheme).
    pub max_prompt: Duration,
    pub steps: Vec<Step>,
    /// Prompt ids present in every language (from the audio directory); `None` when the script
    /// was loaded without one (tests), in which case every template prompt is assumed present.
    pub available_prompts: Option<BTreeSet<String>>,
}

impl Script {
    /// Parses and validates one script from text, with no audio checks (prompts are assumed to
    /// exist). Used by tests and tools; deployments use [`ScriptSet::load`].
    pub fn from_toml(
        path: impl Into<PathBuf>,
        source: &str,
        validators: &Validators,
    ) -> Result<Script, CheckReport> {
        let path = path.into();
        let mut report = CheckReport::default();
        let script = check::compile_script(&path, source, validators, None, &mut report);
        match script {
            Some(s) if !report.has_errors() => Ok(s),
            _ => Err(report),
        }
    }

    /// The step called `name`.
    pub fn step_id(&self, name: &str) -> Option<StepId> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// Whether a prompt id can be played (see [`Script::available_prompts`]).
    pub fn has_prompt(&self, id: &str) -> bool {
        self.available_prompts
            .as_ref()
            .is_none_or(|set| set.contains(id))
    }
}

/// Every valid script in a directory, by name.
#[derive(Debug, Clone, Default)]
pub struct ScriptSet {
    scripts: BTreeMap<String, Arc<Script>>,
    /// Warnings found while loading (the set loads despite them).
    pub warnings: CheckReport,
}

impl ScriptSet {
    /// Loads every `*.toml` in `scripts_dir`, checking prompts against `audio_dir`. Refuses the
    /// whole set if any script has an error, returning every problem found.
    pub fn load(
        scripts_dir: &Path,
        audio_dir: &Path,
        validators: &Validators,
    ) -> Result<ScriptSet, CheckReport> {
        let (scripts, report) = check::check_and_compile(scripts_dir, audio_dir, validators);
        if report.has_errors() {
            return Err(report);
        }
        Ok(ScriptSet {
            scripts: scripts
                .into_iter()
                .map(|s| (s.name.clone(), Arc::new(s)))
                .collect(),
            warnings: report,
        })
    }

    /// A set from already-built scripts (tests, tools).
    pub fn from_scripts(scripts: impl IntoIterator<Item = Script>) -> ScriptSet {
        ScriptSet {
            scripts: scripts
                .into_iter()
                .map(|s| (s.name.clone(), Arc::new(s)))
                .collect(),
            warnings: CheckReport::default(),
        }
    }

    /// The script called `name` (the file stem).
    pub fn get(&self, name: &str) -> Option<Arc<Script>> {
        self.scripts.get(name).cloned()
    }

    /// The names of the scripts, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.scripts.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }
}

/// Parses a duration as the scripts write it: `500ms`, `5s`, `2m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else {
        return None;
    };
    let value: u64 = number.trim().parse().ok()?;
    Some(Duration::from_millis(value.checked_mul(unit_ms)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn office_hours_exclude_holidays_and_closed_days() {
        let hours = OfficeHours {
            days: vec![Weekday::Mon, Weekday::Tue],
            open: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            close: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            holidays: [NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()].into(),
        };
        let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
        // 2026-12-01 is a Tuesday, 2026-11-30 a Monday (holiday), 2026-12-02 a Wednesday.
        assert!(hours.is_open(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), ten));
        assert!(!hours.is_open(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), ten));
        assert!(!hours.is_open(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(), ten));
        let late = NaiveTime::from_hms_opt(18, 0, 0).unwrap();
        assert!(!hours.is_open(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), late));
    }
}
