//! The per-call IVR state machine: [`Input`]s in, [`Action`]s out, `now` passed in, no I/O.
//!
//! The engine's call task owns one [`Call`], feeds it what happened on the channel (DTMF,
//! playback and recording results, ticket store replies, timers, hangup) and carries out the
//! actions it returns. Timers are not started here: after every call the engine sleeps until
//! [`Call::deadline`] and then feeds [`Input::Timeout`].
//!
//! Behaviour the engine can rely on:
//! - A DTMF is always kept in a type-ahead buffer, whatever is playing. During a barge-in
//!   prompt it stops the prompt ([`Action::StopPlayback`]) and is used by the next input.
//!   DTMF during a recording is dropped (the stop key also arrives as a DTMF).
//! - Playback results carry the tag of the [`Action::Play`] they answer; stale tags are ignored.
//! - After [`Input::Hangup`] the machine emits no more `Play`, `Record` or `Hangup`; it still
//!   accepts a `RecordingFinished` holding speech → [`Action::CreateTicket`] → `TicketCreated`
//!   → finished, so a caller who hung up while recording still gets a ticket.
//! - [`Call::is_finished`] says when the task can end; after `Hangup`/`Transfer` actions, or
//!   once hangup work is done.
//!
//! A `Call` is small (no per-call script copy: the script is shared through `Arc`).

mod io;

pub use io::*;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::say;
use crate::script::{
    Condition, MediaItem, MenuStep, RecordStep, Retry, Script, StepId, StepKind, TicketStep,
};

/// At most this many keys are kept ahead of the input that will use them.
const TYPEAHEAD_CAP: usize = 32;
/// Steps entered without waiting for anything before the call is declared looping.
const MAX_INSTANT_STEPS: usize = 64;
/// Extra time Asterisk gets beyond `max_duration` to report a recording's end.
const RECORDING_GRACE: Duration = Duration::from_secs(10);

/// Where the current step is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
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
    /// A goodbye prompt before `Hangup`, or a prompt before `Transfer`.
    Leaving,
    Finished,
}

/// The playback in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Playing {
    tag: u32,
    barge_in: bool,
}

/// One call's IVR state.
#[derive(Debug)]
pub struct Call {
    script: Arc<Script>,
    ctx: CallContext,
    started: Instant,
    language: String,
    vars: Vec<(String, String)>,
    typeahead: String,
    step: StepId,
    phase: Phase,
    /// Tries used in the current menu/input/confirm.
    attempts: u32,
    /// Recordings made in the current record step (silent ones, re-records).
    recordings_made: u32,
    next_tag: u32,
    playing: Option<Playing>,
    deadline: Option<Instant>,
    hung_up: bool,
    /// The complaint recording with speech, once kept.
    recording: Option<RecordedAudio>,
    /// A ticket step still owed to a caller who recorded speech (run on hangup).
    owed_ticket: Option<StepId>,
    /// An entry that filled up at `max_digits` makes the caller's habitual end key (`#`)
    /// redundant: the next key, if it is that one, is dropped instead of reaching the next menu.
    swallow_key: Option<char>,
}

impl Call {
    /// Starts a call on `script`: answers and enters the start step.
    pub fn start(script: Arc<Script>, ctx: CallContext, now: Instant) -> (Call, Vec<Action>) {
        let language = script.default_language.clone();
        let start = script.start;
        let mut call = Call {
            script,
            ctx,
            started: now,
            language,
            vars: Vec::new(),
            typeahead: String::new(),
            step: start,
            phase: Phase::Finished,
            attempts: 0,
            recordings_made: 0,
            next_tag: 0,
            playing: None,
            deadline: None,
            hung_up: false,
            recording: None,
            owed_ticket: None,
            swallow_key: None,
        };
        let mut out = vec![Action::Answer];
        call.goto(start, now, &mut out);
        (call, out)
    }

    /// Feeds one input; returns what to do.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out);
        out
    }

    /// Like [`Call::handle`], pushing into a caller-provided buffer.
    pub fn handle_into(&mut self, input: Input, now: Instant, out: &mut Vec<Action>) {
        if self.phase == Phase::Finished {
            return;
        }
        match input {
            Input::Dtmf(key) => self.on_dtmf(key, now, out),
            Input::PlaybackFinished { tag } | Input::PlaybackFailed { tag } => {
                if self.playing.is_some_and(|p| p.tag == tag) {
                    // A whole prompt has gone by: a later end key is meant for what comes next.
                    self.swallow_key = None;
                    self.playing = None;
                    self.deadline = None;
                    self.after_playback(now, out);
                }
            }
            Input::RecordingFinished {
                name,
                duration_ms,
                has_speech,
            } => {
                self.on_recording_end(&name, Some((duration_ms, has_speech)), now, out);
            }
            Input::RecordingFailed { name } => self.on_recording_end(&name, None, now, out),
            Input::TicketCreated { number } => {
                if self.phase == Phase::AwaitTicket {
                    // Filed: neither owed any more nor to be filed again by a later ticket step.
                    self.owed_ticket = None;
                    self.recording = None;
                    self.set_var("ticket_number", number);
                    self.after_service(true, now, out);
                }
            }
            Input::TicketFailed => {
                if self.phase == Phase::AwaitTicket {
                    self.after_service(false, now, out);
                }
            }
            Input::LookupResult(found) => {
                if self.phase == Phase::AwaitLookup {
                    self.on_lookup(found, now, out);
                }
            }
            Input::LookupFailed => {
                if self.phase == Phase::AwaitLookup {
                    self.after_service(false, now, out);
                }
            }
            Input::FeedbackStored | Input::FeedbackFailed => {
                if self.phase == Phase::AwaitFeedback {
                    self.after_service(input == Input::FeedbackStored, now, out);
                }
            }
            Input::Timeout => {
                if self.deadline.is_some_and(|d| now >= d) {
                    self.deadline = None;
                    self.on_timeout(now, out);
                }
            }
            Input::Hangup => self.on_hangup(now, out),
        }
    }

    /// When the engine must feed [`Input::Timeout`], if anything is timed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The IVR is done: the engine may end the call's task.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The caller's current language.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The name of the current step.
    pub fn step_name(&self) -> &str {
        &self.script.steps[self.step].name
    }

    /// A variable's value (`ticket_number`, `department`, …).
    pub fn var(&self, name: &str) -> Option<&str> {
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

    /// The script version this call runs on.
    pub fn script(&self) -> &Arc<Script> {
        &self.script
    }

    fn set_var(&mut self, name: &str, value: String) {
        if let Some(slot) = self.vars.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value;
        } else {
            self.vars.push((name.to_owned(), value));
        }
    }

    // ----- moving between steps -------------------------------------------------------------

    /// Enters `target`, running instant steps (`set`, `branch`) until one that plays or waits.
    fn goto(&mut self, target: StepId, now: Instant, out: &mut Vec<Action>) {
        let script = Arc::clone(&self.script);
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
                        .find(|(cond, _)| self.holds(cond, now))
                        .map_or(*otherwise, |(_, s)| *s);
                }
                StepKind::Play {
                    media,
                    barge_in,
                    next,
                } => {
                    let media = self.render(media);
                    if media.is_empty() {
                        // Nothing to say (e.g. only unset variables): move on at once.
                        target = *next;
                        continue;
                    }
                    self.phase = Phase::Playing;
                    self.play(media, *barge_in, now, out);
                    return;
                }
                StepKind::Menu(menu) => {
                    self.phase = Phase::Menu;
                    if !self.consume_menu(menu, now, out) {
                        let media = self.render(&menu.prompts);
                        self.play(media, menu.barge_in, now, out);
                    }
                    return;
                }
                StepKind::Input(input) => {
                    self.phase = Phase::Input {
                        digits: String::new(),
                    };
                    if !self.consume_input(now, out) {
                        let media = self.render(&input.prompts);
                        self.play(media, input.barge_in, now, out);
                    }
                    return;
                }
                StepKind::Record(rec) => {
                    self.recordings_made = 0;
                    self.start_record_intro(rec, &[], now, out);
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
                    ..
                } => {
                    let number = self.var(number_var).unwrap_or_default().to_owned();
                    let satisfied = self.var(satisfied_var) == Some("1");
                    let reason = reason_var
                        .as_deref()
                        .and_then(|v| self.var(v))
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned);
                    self.phase = Phase::AwaitFeedback;
                    out.push(Action::SubmitFeedback {
                        number,
                        satisfied,
                        reason,
                    });
                    return;
                }
                StepKind::Transfer { media, .. } | StepKind::Hangup { media, .. } => {
                    let media = self.render(media);
                    if self.hung_up || media.is_empty() {
                        self.leave(out);
                    } else {
                        self.phase = Phase::Leaving;
                        self.play(media, false, now, out);
                    }
                    return;
                }
            }
        }
        // A script loop that never waits: `check` refuses these, so this is a last resort.
        self.finish_with_hangup("script loop without input".to_owned(), out);
    }

    fn holds(&self, cond: &Condition, now: Instant) -> bool {
        match cond {
            Condition::OfficeHours(want) => {
                let local = self.local_now(now);
                let open = self
                    .script
                    .office_hours
                    .as_ref()
                    .is_none_or(|h| h.is_open(local.date_naive(), local.time()));
                open == *want
            }
            Condition::Holiday(want) => {
                let local = self.local_now(now);
                let holiday = self
                    .script
                    .office_hours
                    .as_ref()
                    .is_some_and(|h| h.is_holiday(local.date_naive()));
                holiday == *want
            }
            Condition::Equals { var, value } => self.var(var) == Some(value.as_str()),
            Condition::IsSet { var, set } => self.var(var).is_some_and(|v| !v.is_empty()) == *set,
        }
    }

    fn local_now(&self, now: Instant) -> DateTime<FixedOffset> {
        let elapsed = now.saturating_duration_since(self.started);
        let elapsed = chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::zero());
        (self.ctx.started_at + elapsed).with_timezone(&self.script.utc_offset)
    }

    /// The IVR's part ends: transfer or hang up (or just stop, if the caller is gone).
    fn leave(&mut self, out: &mut Vec<Action>) {
        let script = Arc::clone(&self.script);
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
            _ => {}
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.phase = Phase::Finished;
        self.deadline = None;
        self.playing = None;
    }

    fn finish_with_hangup(&mut self, reason: String, out: &mut Vec<Action>) {
        if !self.hung_up {
            out.push(Action::Hangup { reason });
        }
        self.finish();
    }

    // ----- media --------------------------------------------------------------------------

    /// Starts a playback; with nothing to play (templates that rendered to nothing), carries on
    /// as if it had played.
    fn play(&mut self, media: Vec<Media>, barge_in: bool, now: Instant, out: &mut Vec<Action>) {
        if self.hung_up {
            return;
        }
        if media.is_empty() {
            self.after_playback(now, out);
            return;
        }
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        self.playing = Some(Playing { tag, barge_in });
        self.deadline = Some(now + self.script.max_prompt);
        out.push(Action::Play {
            tag,
            media,
            language: self.language.clone(),
        });
    }

    fn stop_playback(&mut self, out: &mut Vec<Action>) {
        if let Some(p) = self.playing.take() {
            out.push(Action::StopPlayback { tag: p.tag });
            self.deadline = None;
        }
    }

    /// Turns script media items into playable media, with variables filled in.
    fn render(&self, items: &[MediaItem]) -> Vec<Media> {
        let mut media = Vec::with_capacity(items.len());
        for item in items {
            match item {
                MediaItem::Prompt(id) => media.push(Media::Prompt(id.clone())),
                MediaItem::Template(template) => {
                    if let Some(id) = self.fill_template(template) {
                        if self.script.has_prompt(&id) {
                            media.push(Media::Prompt(id));
                        }
                    }
                }
                MediaItem::Digits(var) => {
                    let digits: String = self
                        .var(var)
                        .unwrap_or_default()
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect();
                    if !digits.is_empty() {
                        media.push(Media::Digits(digits));
                    }
                }
                MediaItem::Number(var) => {
                    if let Some(n) = self.var(var).and_then(|v| v.trim().parse::<u32>().ok()) {
                        media.extend(say::number(n).into_iter().map(Media::Prompt));
                    }
                }
                MediaItem::Date(var) => {
                    if let Some(d) = self
                        .var(var)
                        .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
                    {
                        media.extend(say::date(d).into_iter().map(Media::Prompt));
                    }
                }
            }
        }
        media
    }

    /// `status_{status}` → `status_open`; `None` if a variable is unset.
    fn fill_template(&self, template: &str) -> Option<String> {
        let mut out = String::with_capacity(template.len() + 8);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}')? + open;
            let value = self.var(&rest[open + 1..close])?;
            if value.is_empty() {
                return None;
            }
            out.extend(value.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            }));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// `{var}` in a `set` value or a department → its value; other text as is.
    fn expand(&self, value: &str) -> String {
        match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            Some(var) => self.var(var).unwrap_or_default().to_owned(),
            None => value.to_owned(),
        }
    }

    // ----- events -------------------------------------------------------------------------

    fn on_dtmf(&mut self, key: char, now: Instant, out: &mut Vec<Action>) {
        if self.hung_up || matches!(self.phase, Phase::Recording { .. }) {
            return;
        }
        if self.swallow_key.take() == Some(key) {
            return;
        }
        if self.typeahead.len() < TYPEAHEAD_CAP {
            self.typeahead.push(key);
        }
        match self.playing {
            Some(p) if p.barge_in => {
                self.stop_playback(out);
                self.after_playback(now, out);
            }
            Some(_) => {}
            None => self.consume(now, out),
        }
    }

    /// A playback ended (finished, failed, stopped by barge-in, or timed out).
    // Consuming type-ahead has side effects, so it stays out of match guards.
    #[allow(clippy::collapsible_match)]
    fn after_playback(&mut self, now: Instant, out: &mut Vec<Action>) {
        let script = Arc::clone(&self.script);
        match (&self.phase, &script.steps[self.step].kind) {
            (Phase::Playing, StepKind::Play { next, .. }) => self.goto(*next, now, out),
            (Phase::Menu, StepKind::Menu(menu)) => {
                if !self.consume_menu(menu, now, out) {
                    self.deadline = Some(now + menu.retry.timeout);
                }
            }
            (Phase::Input { .. }, StepKind::Input(input)) => {
                if !self.consume_input(now, out) {
                    self.deadline = Some(now + input.retry.timeout);
                }
            }
            (Phase::RecordIntro, StepKind::Record(rec)) => self.start_recording(rec, now, out),
            (Phase::Confirm, StepKind::Record(rec)) => {
                if let Some(confirm) = &rec.confirm {
                    if !self.consume_confirm(rec, now, out) {
                        self.deadline = Some(now + confirm.retry.timeout);
                    }
                }
            }
            (Phase::Leaving, _) => self.leave(out),
            _ => {}
        }
    }

    /// Uses type-ahead keys if the current phase is waiting for keys.
    fn consume(&mut self, now: Instant, out: &mut Vec<Action>) {
        let script = Arc::clone(&self.script);
        match (&self.phase, &script.steps[self.step].kind) {
            (Phase::Menu, StepKind::Menu(menu)) => {
                self.consume_menu(menu, now, out);
            }
            (Phase::Input { .. }, StepKind::Input(_)) => {
                self.consume_input(now, out);
            }
            (Phase::Confirm, StepKind::Record(rec)) => {
                self.consume_confirm(rec, now, out);
            }
            _ => {}
        }
    }

    fn on_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.playing.is_some() {
            // The playback never reported its end: stop it and carry on as if it had.
            self.stop_playback(out);
            self.after_playback(now, out);
            return;
        }
        let script = Arc::clone(&self.script);
        match (&self.phase, &script.steps[self.step].kind) {
            (Phase::Menu, StepKind::Menu(menu)) => {
                self.retry(&menu.prompts, menu.barge_in, &menu.retry, false, now, out);
            }
            (Phase::Input { digits }, StepKind::Input(input)) => {
                if digits.is_empty() {
                    self.retry(
                        &input.prompts,
                        input.barge_in,
                        &input.retry,
                        false,
                        now,
                        out,
                    );
                } else {
                    // The inter-digit timeout ends the entry.
                    self.finish_input(now, out);
                }
            }
            (Phase::Confirm, StepKind::Record(rec)) => {
                if let Some(confirm) = &rec.confirm {
                    self.retry(&confirm.prompts, true, &confirm.retry, false, now, out);
                }
            }
            (Phase::Recording { name, stop_sent }, StepKind::Record(_)) => {
                let name = name.clone();
                if *stop_sent || self.hung_up {
                    // Asterisk never reported the end: count it as failed.
                    self.on_recording_end(&name, None, now, out);
                } else {
                    out.push(Action::StopRecording { name: name.clone() });
                    self.phase = Phase::Recording {
                        name,
                        stop_sent: true,
                    };
                    self.deadline = Some(now + RECORDING_GRACE);
                }
            }
            _ => {}
        }
    }

    fn on_hangup(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.hung_up {
            return;
        }
        self.hung_up = true;
        self.typeahead.clear();
        // Asterisk ends the playback itself on hangup; nothing to stop.
        self.playing = None;
        match self.phase {
            // Asterisk reports how the recording ended right after the hangup; wait for it.
            Phase::Recording { .. } => self.deadline = Some(now + RECORDING_GRACE),
            Phase::AwaitTicket => {}
            _ => {
                if !self.run_owed_ticket(out) {
                    self.finish();
                }
            }
        }
    }

    /// After a hangup: file the ticket owed to a caller whose recording held speech.
    fn run_owed_ticket(&mut self, out: &mut Vec<Action>) -> bool {
        let script = Arc::clone(&self.script);
        let Some(step) = self.owed_ticket.take() else {
            return false;
        };
        if self.recording.is_none() {
            return false;
        }
        let StepKind::Ticket(ticket) = &script.steps[step].kind else {
            return false;
        };
        self.step = step;
        self.request_ticket(ticket, out);
        true
    }

    // ----- menus and digits -----------------------------------------------------------------

    /// Handles the first type-ahead key for a menu; false if there was none.
    fn consume_menu(&mut self, menu: &MenuStep, now: Instant, out: &mut Vec<Action>) -> bool {
        if self.playing.is_some() {
            return false;
        }
        let Some(key) = pop_front(&mut self.typeahead) else {
            return false;
        };
        self.deadline = None;
        match menu.choices.iter().find(|(k, _)| *k == key) {
            Some((_, next)) => {
                if let Some((var, values)) = &menu.assign {
                    if let Some((_, v)) = values.iter().find(|(k, _)| *k == key) {
                        self.set_var(var, v.clone());
                    }
                }
                self.goto(*next, now, out);
            }
            None => self.retry(&menu.prompts, menu.barge_in, &menu.retry, true, now, out),
        }
        true
    }

    /// Takes type-ahead keys into the digits being collected; false if none were waiting.
    fn consume_input(&mut self, now: Instant, out: &mut Vec<Action>) -> bool {
        if self.playing.is_some() || self.typeahead.is_empty() {
            return false;
        }
        let script = Arc::clone(&self.script);
        let StepKind::Input(input) = &script.steps[self.step].kind else {
            return false;
        };
        while let Some(key) = pop_front(&mut self.typeahead) {
            let Phase::Input { digits } = &mut self.phase else {
                return true;
            };
            if Some(key) == input.end_key {
                self.finish_input(now, out);
                return true;
            }
            if !key.is_ascii_digit() {
                self.retry(&input.prompts, input.barge_in, &input.retry, true, now, out);
                return true;
            }
            digits.push(key);
            if digits.len() >= input.max_digits {
                match input.end_key {
                    // Already typed: drop it here.
                    Some(end) if self.typeahead.starts_with(end) => {
                        pop_front(&mut self.typeahead);
                    }
                    end => self.swallow_key = end,
                }
                self.finish_input(now, out);
                return true;
            }
        }
        self.deadline = Some(now + input.inter_digit_timeout);
        true
    }

    fn finish_input(&mut self, now: Instant, out: &mut Vec<Action>) {
        let script = Arc::clone(&self.script);
        let StepKind::Input(input) = &script.steps[self.step].kind else {
            return;
        };
        let Phase::Input { digits } = &mut self.phase else {
            return;
        };
        let digits = std::mem::take(digits);
        let valid = digits.len() >= input.min_digits
            && digits.len() <= input.max_digits
            && input.validator.as_ref().is_none_or(|(_, f)| f(&digits));
        if valid {
            self.set_var(&input.var, digits);
            self.goto(input.next, now, out);
        } else {
            self.retry(&input.prompts, input.barge_in, &input.retry, true, now, out);
        }
    }

    /// A wrong key (`invalid`) or a timeout: prompt again, or give up to `on_exhausted`.
    fn retry(
        &mut self,
        prompts: &[MediaItem],
        barge_in: bool,
        retry: &Retry,
        invalid: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        // Keys typed after a wrong one were typed by a confused caller: drop them.
        self.typeahead.clear();
        self.deadline = None;
        if let Phase::Input { digits } = &mut self.phase {
            digits.clear();
        }
        self.attempts += 1;
        if self.attempts > retry.retries {
            self.goto(retry.on_exhausted, now, out);
            return;
        }
        let mut media = self.render(if invalid {
            &retry.invalid
        } else {
            &retry.no_input
        });
        media.extend(self.render(prompts));
        self.play(media, barge_in, now, out);
    }

    // ----- recording ------------------------------------------------------------------------

    fn start_record_intro(
        &mut self,
        rec: &RecordStep,
        before: &[MediaItem],
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.phase = Phase::RecordIntro;
        let mut media = self.render(before);
        media.extend(self.render(&rec.prompts));
        if media.is_empty() {
            self.start_recording(rec, now, out);
        } else {
            self.play(media, true, now, out);
        }
    }

    fn start_recording(&mut self, rec: &RecordStep, now: Instant, out: &mut Vec<Action>) {
        // Keys pressed to skip the instructions must not be taken for the complaint.
        self.typeahead.clear();
        self.recordings_made += 1;
        let name = recording_name(
            &self.ctx.call_id,
            &self.script.steps[self.step].name,
            self.recordings_made,
        );
        out.push(Action::Record {
            name: name.clone(),
            max_duration: rec.max_duration,
            max_silence: rec.max_silence,
            beep: rec.beep,
            terminate_on: rec.stop_key,
        });
        self.phase = Phase::Recording {
            name,
            stop_sent: false,
        };
        self.deadline = Some(now + rec.max_duration + RECORDING_GRACE);
    }

    /// `result`: `Some((duration_ms, has_speech))` when finished, `None` when failed.
    fn on_recording_end(
        &mut self,
        name: &str,
        result: Option<(u64, bool)>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Phase::Recording { name: current, .. } = &self.phase else {
            return;
        };
        if current != name {
            return;
        }
        self.deadline = None;
        let script = Arc::clone(&self.script);
        let StepKind::Record(rec) = &script.steps[self.step].kind else {
            return;
        };
        let speech = result.filter(|(_, has_speech)| *has_speech);
        if let Some((duration_ms, _)) = speech {
            self.recording = Some(RecordedAudio {
                name: name.to_owned(),
                duration_ms,
            });
            self.owed_ticket = rec.hangup_ticket;
        }
        if self.hung_up {
            if !self.run_owed_ticket(out) {
                self.finish();
            }
            return;
        }
        match (speech, &rec.confirm) {
            (Some(_), Some(confirm)) => {
                self.phase = Phase::Confirm;
                self.attempts = 0;
                let media = self.render(&confirm.prompts);
                self.play(media, true, now, out);
            }
            (Some(_), None) => self.goto(rec.next, now, out),
            (None, _) => {
                if self.recordings_made > rec.retries {
                    self.goto(rec.on_exhausted, now, out);
                } else {
                    self.start_record_intro(rec, &rec.no_speech, now, out);
                }
            }
        }
    }

    fn consume_confirm(&mut self, rec: &RecordStep, now: Instant, out: &mut Vec<Action>) -> bool {
        if self.playing.is_some() {
            return false;
        }
        let Some(confirm) = &rec.confirm else {
            return false;
        };
        let Some(key) = pop_front(&mut self.typeahead) else {
            return false;
        };
        self.deadline = None;
        match key {
            '1' => self.goto(rec.next, now, out),
            '2' if self.recordings_made < rec.max_attempts => {
                self.start_record_intro(rec, &[], now, out);
            }
            // No more re-records: the last recording is kept.
            '2' => self.goto(rec.next, now, out),
            '3' => {
                let mut media: Vec<Media> = self
                    .recording
                    .iter()
                    .map(|r| Media::Recording(r.name.clone()))
                    .collect();
                media.extend(self.render(&confirm.prompts));
                self.play(media, true, now, out);
            }
            _ => self.retry(&confirm.prompts, true, &confirm.retry, true, now, out),
        }
        true
    }

    // ----- tickets ----------------------------------------------------------------------------

    fn request_ticket(&mut self, ticket: &TicketStep, out: &mut Vec<Action>) {
        self.phase = Phase::AwaitTicket;
        self.deadline = None;
        let key_part = match &self.recording {
            Some(r) => r.name.clone(),
            None => self.script.steps[self.step].name.clone(),
        };
        out.push(Action::CreateTicket(TicketDraft {
            idempotency_key: format!("{}/{key_part}", self.ctx.call_id),
            call_id: self.ctx.call_id.clone(),
            caller: self.ctx.caller.clone(),
            department: self.expand(&ticket.department),
            language: self.language.clone(),
            recording: self.recording.clone(),
            callback_requested: ticket.callback,
            caller_hung_up: self.hung_up,
        }));
    }

    fn on_lookup(&mut self, found: Option<TicketStatusView>, now: Instant, out: &mut Vec<Action>) {
        let script = Arc::clone(&self.script);
        let StepKind::Lookup {
            next, not_found, ..
        } = &script.steps[self.step].kind
        else {
            return;
        };
        match found {
            Some(view) => {
                self.set_var("status", view.status.slug().to_owned());
                self.set_var("department", view.department);
                self.set_var(
                    "due_date",
                    view.due.map(|d| d.to_string()).unwrap_or_default(),
                );
                self.goto(*next, now, out);
            }
            None => self.goto(*not_found, now, out),
        }
    }

    /// A ticket/lookup/feedback reply: on to `next` or `on_failure`.
    fn after_service(&mut self, ok: bool, now: Instant, out: &mut Vec<Action>) {
        if self.hung_up {
            self.finish();
            return;
        }
        let script = Arc::clone(&self.script);
        let target = match &script.steps[self.step].kind {
            StepKind::Ticket(t) => {
                if ok {
                    t.next
                } else {
                    t.on_failure
                }
            }
            StepKind::Lookup {
                next, on_failure, ..
            }
            | StepKind::Feedback {
                next, on_failure, ..
            } => {
                if ok {
                    *next
                } else {
                    *on_failure
                }
            }
            _ => return,
        };
        self.goto(target, now, out);
    }
}

fn pop_front(buffer: &mut String) -> Option<char> {
    let c = buffer.chars().next()?;
    buffer.drain(..c.len_utf8());
    Some(c)
}

/// A recording name unique to the call, step and attempt, safe as an ARI recording name.
pub fn recording_name(call_id: &str, step: &str, attempt: u32) -> String {
    let safe: String = call_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("ivr-{safe}-{step}-{attempt}")
}
