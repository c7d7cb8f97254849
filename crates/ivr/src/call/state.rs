//! The call's state apart from the script it runs ([`CallState`]), and moving between steps:
//! entering a step (running instant `set`/`branch` steps), conditions, leaving the IVR.

use std::time::Instant;

use chrono::{DateTime, FixedOffset};

use super::{Action, CallContext, MAX_INSTANT_STEPS, RecordedAudio};
use crate::script::{Condition, Script, StepId, StepKind};

/// Where the current step is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// A `play` step's media is playing.
    Playing,
    /// A `menu`: prompting or waiting for a key.
    Menu,
    /// An `input`: digits collected so far.
    Input {
        digits: String,
    },
    /// A `record` step is playing its instructions.
    RecordIntro,
    /// Recording `name`; `stop_sent` once a `StopRecording` was sent on a timeout.
    Recording {
        name: String,
        stop_sent: bool,
    },
    /// The "1 keep, 2 again, 3 listen" menu.
    Confirm,
    AwaitTicket,
    AwaitLookup,
    AwaitFeedback,
    /// A goodbye prompt before `Hangup`, or a prompt before `Transfer` or `Enqueue`.
    Leaving,
    /// In the call centre's queue (or talking to an agent): waiting to be given back.
    Queued,
    Finished,
}

/// The playback in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Playing {
    pub(super) tag: u32,
    pub(super) barge_in: bool,
}

/// Everything one call has done so far, without the script: every method that needs the script
/// takes it as `&Script`, so the state can change while the script's steps are borrowed.
#[derive(Debug)]
pub(super) struct CallState {
    pub(super) ctx: CallContext,
    pub(super) started: Instant,
    pub(super) language: String,
    pub(super) vars: Vec<(String, String)>,
    pub(super) typeahead: String,
    pub(super) step: StepId,
    pub(super) phase: Phase,
    /// Tries used in the current menu/input/confirm.
    pub(super) attempts: u32,
    /// Recordings made in the current record step (silent ones, re-records).
    pub(super) recordings_made: u32,
    /// Recordings started in the whole call: numbers each one's name, so no name is ever reused in a
    /// call (Asterisk refuses an existing name with 409, and each complaint is keyed by its recording).
    pub(super) recordings_started: u32,
    /// Ticket requests made in the call: keys a ticket filed without a recording.
    pub(super) tickets_requested: u32,
    pub(super) next_tag: u32,
    pub(super) playing: Option<Playing>,
    pub(super) deadline: Option<Instant>,
    pub(super) hung_up: bool,
    /// The complaint recording with speech, once kept.
    pub(super) recording: Option<RecordedAudio>,
    /// A ticket step still owed to a caller who recorded speech (run on hangup).
    pub(super) owed_ticket: Option<StepId>,
    /// An entry that filled up at `max_digits` makes the caller's habitual end key (`#`)
    /// redundant: the next key, if it is that one, is dropped instead of reaching the next menu.
    pub(super) swallow_key: Option<char>,
}

impl CallState {
    /// A variable's value (`ticket_number`, `department`, …).
    pub(super) fn var(&self, name: &str) -> Option<&str> {
        match name {
            "caller" => Some(&self.ctx.caller),
            "call_id" => Some(&self.ctx.call_id),
            "language" => Some(&self.language),
            _ => self
                .vars
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
        }
    }

    pub(super) fn set_var(&mut self, name: &str, value: String) {
        if let Some(slot) = self.vars.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value;
        } else {
            self.vars.push((name.to_owned(), value));
        }
    }

    /// Enters `target`, running instant steps (`set`, `branch`) until one that plays or waits.
    pub(super) fn goto(
        &mut self,
        script: &Script,
        target: StepId,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let mut target = target;
        for _ in 0..MAX_INSTANT_STEPS {
            self.step = target;
            self.attempts = 0;
            self.deadline = None;
            let step = &script.steps[target];
            out.push(Action::Entered {
                step: step.name.clone(),
            });
            match &step.kind {
                StepKind::Set {
                    language,
                    vars,
                    next,
                } => {
                    if let Some(lang) = language {
                        self.language.clone_from(lang);
                    }
                    for (k, v) in vars {
                        let value = self.expand(v);
                        self.set_var(k, value);
                    }
                    target = *next;
                }
                StepKind::Branch { cases, otherwise } => {
                    target = cases
                        .iter()
                        .find(|(cond, _)| self.holds(script, cond, now))
                        .map_or(*otherwise, |(_, s)| *s);
                }
                StepKind::Play {
                    media,
                    barge_in,
                    next,
                } => {
                    let media = self.render(script, media);
                    if media.is_empty() {
                        // Nothing to say (e.g. only unset variables): move on at once.
                        target = *next;
                        continue;
                    }
                    self.phase = Phase::Playing;
                    self.play(script, media, *barge_in, now, out);
                    return;
                }
                StepKind::Menu(menu) => {
                    self.phase = Phase::Menu;
                    if !self.consume_menu(script, menu, now, out) {
                        let media = self.render(script, &menu.prompts);
                        self.play(script, media, menu.barge_in, now, out);
                    }
                    return;
                }
                StepKind::Input(input) => {
                    self.phase = Phase::Input {
                        digits: String::new(),
                    };
                    if !self.consume_input(script, now, out) {
                        let media = self.render(script, &input.prompts);
                        self.play(script, media, input.barge_in, now, out);
                    }
                    return;
                }
                StepKind::Record(rec) => {
                    self.recordings_made = 0;
                    self.start_record_intro(script, rec, &[], now, out);
                    return;
                }
                StepKind::Ticket(ticket) => {
                    self.request_ticket(ticket, out);
                    return;
                }
                StepKind::Lookup { number_var, .. } => {
                    let number = self.var(number_var).unwrap_or_default().to_owned();
                    self.phase = Phase::AwaitLookup;
                    out.push(Action::LookupTicket { number });
                    return;
                }
                StepKind::Feedback {
                    number_var,
                    satisfied_var,
                    reason_var,
                    check_var,
                    ..
                } => {
                    let number = self.var(number_var).unwrap_or_default().to_owned();
                    let satisfied = self.var(satisfied_var) == Some("1");
                    let reason = reason_var
                        .as_deref()
                        .and_then(|v| self.var(v))
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned);
                    let check_digits = check_var
                        .as_deref()
                        .and_then(|v| self.var(v))
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned);
                    self.phase = Phase::AwaitFeedback;
                    out.push(Action::SubmitFeedback {
                        number,
                        satisfied,
                        reason,
                        caller: self.ctx.caller.clone(),
                        check_digits,
                    });
                    return;
                }
                StepKind::Transfer { media, .. }
                | StepKind::Hangup { media, .. }
                | StepKind::Queue { media, .. } => {
                    let media = self.render(script, media);
                    if self.hung_up || media.is_empty() {
                        self.leave(script, out);
                    } else {
                        self.phase = Phase::Leaving;
                        self.play(script, media, false, now, out);
                    }
                    return;
                }
            }
        }
        // A script loop that never waits: `check` refuses these, so this is a last resort.
        self.finish_with_hangup("script loop without input".to_owned(), out);
    }

    pub(super) fn holds(&self, script: &Script, cond: &Condition, now: Instant) -> bool {
        match cond {
            Condition::OfficeHours(want) => {
                let local = self.local_now(script, now);
                let open = script
                    .office_hours
                    .as_ref()
                    .is_none_or(|h| h.is_open(local.date_naive(), local.time()));
                open == *want
            }
            Condition::Holiday(want) => {
                let local = self.local_now(script, now);
                let holiday = script
                    .office_hours
                    .as_ref()
                    .is_some_and(|h| h.is_holiday(local.date_naive()));
                holiday == *want
            }
            Condition::Equals { var, value } => self.var(var) == Some(value.as_str()),
            Condition::IsSet { var, set } => self.var(var).is_some_and(|v| !v.is_empty()) == *set,
        }
    }

    pub(super) fn local_now(&self, script: &Script, now: Instant) -> DateTime<FixedOffset> {
        let elapsed = now.saturating_duration_since(self.started);
        let elapsed = chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::zero());
        (self.ctx.started_at + elapsed).with_timezone(&script.utc_offset)
    }

    /// The IVR's part ends: transfer or hang up (or just stop, if the caller is gone).
    pub(super) fn leave(&mut self, script: &Script, out: &mut Vec<Action>) {
        match &script.steps[self.step].kind {
            StepKind::Transfer {
                context, extension, ..
            } if !self.hung_up => {
                out.push(Action::Transfer {
                    context: context.clone(),
                    extension: extension.clone(),
                });
            }
            StepKind::Hangup { reason, .. } if !self.hung_up => {
                out.push(Action::Hangup {
                    reason: reason.clone(),
                });
            }
            StepKind::Queue {
                queue, department, ..
            } if !self.hung_up => {
                let department = department
                    .as_deref()
                    .map(|d| self.expand(d))
                    .filter(|d| !d.is_empty());
                out.push(Action::Enqueue {
                    queue: queue.clone(),
                    language: self.language.clone(),
                    department,
                    complaints: self.complaint_numbers(script),
                });
                self.phase = Phase::Queued;
                self.deadline = None;
                self.playing = None;
                return;
            }
            _ => {}
        }
        self.finish();
    }

    /// The complaint numbers this call filed or asked about: `ticket_number` and the variables
    /// the script's lookups and feedback read a number from, each once.
    fn complaint_numbers(&self, script: &Script) -> Vec<String> {
        let mut names = vec!["ticket_number"];
        for step in &script.steps {
            if let StepKind::Lookup { number_var, .. } | StepKind::Feedback { number_var, .. } =
                &step.kind
            {
                names.push(number_var);
            }
        }
        let mut out: Vec<String> = Vec::new();
        for name in names {
            if let Some(v) = self.var(name).filter(|v| !v.is_empty())
                && !out.iter().any(|o| o == v)
            {
                out.push(v.to_owned());
            }
        }
        out
    }

    pub(super) fn finish(&mut self) {
        self.phase = Phase::Finished;
        self.deadline = None;
        self.playing = None;
    }

    pub(super) fn finish_with_hangup(&mut self, reason: String, out: &mut Vec<Action>) {
        if !self.hung_up {
            out.push(Action::Hangup { reason });
        }
        self.finish();
    }
}
