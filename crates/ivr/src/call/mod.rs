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
//! A `Call` is small (no per-call script copy: the script is shared through `Arc`). Its state
//! (`state::CallState`) is kept apart from the script; every step method takes the script as
//! `&Script`. The steps live beside it: `events` (inputs, keys, playback ends, timeouts, hangup),
//! `menu` (menus, digit entry, retries), `record` (recording and its confirmation), `service`
//! (ticket, lookup, feedback), `media` (playback and rendering).

mod events;
mod io;
mod media;
mod menu;
mod record;
mod resume;
mod service;
mod state;

pub use io::*;
pub use resume::{ProgressMark, ResumeError, Snapshot, SnapshotPhase, SnapshotRecording};

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::script::Script;
use state::{CallState, Phase};

/// At most this many keys are kept ahead of the input that will use them.
const TYPEAHEAD_CAP: usize = 32;
/// Steps entered without waiting for anything before the call is declared looping.
const MAX_INSTANT_STEPS: usize = 64;
/// Extra time Asterisk gets beyond `max_duration` to report a recording's end.
const RECORDING_GRACE: Duration = Duration::from_secs(10);

/// One call's IVR: the script version it runs on, and its state kept apart from it.
#[derive(Debug)]
pub struct Call {
    script: Arc<Script>,
    state: CallState,
}

impl Call {
    /// Starts a call on `script`: answers and enters the start step.
    pub fn start(script: Arc<Script>, ctx: CallContext, now: Instant) -> (Call, Vec<Action>) {
        let language = script.default_language.clone();
        Call::begin(script, ctx, language, Vec::new(), true, now)
    }

    fn begin(
        script: Arc<Script>,
        ctx: CallContext,
        language: String,
        vars: Vec<(String, String)>,
        answer: bool,
        now: Instant,
    ) -> (Call, Vec<Action>) {
        let mut state = CallState {
            ctx,
            started: now,
            language,
            vars,
            typeahead: String::new(),
            step: script.start,
            phase: Phase::Finished,
            attempts: 0,
            recordings_made: 0,
            recordings_started: 0,
            tickets_requested: 0,
            next_tag: 0,
            playing: None,
            deadline: None,
            hung_up: false,
            recording: None,
            owed_ticket: None,
            swallow_key: None,
        };
        let mut out = Vec::new();
        if answer {
            out.push(Action::Answer);
        }
        state.goto(&script, script.start, now, &mut out);
        (Call { script, state }, out)
    }

    /// Starts a call placed by the helpline (an outbound call, already answered) on `script`, in
    /// `language`, with the variables its job gives — every one of the script's `given`, or the
    /// names of those missing are returned. No `Answer` action: the called party answered.
    pub fn start_with(
        script: Arc<Script>,
        ctx: CallContext,
        language: &str,
        vars: Vec<(String, String)>,
        now: Instant,
    ) -> Result<(Call, Vec<Action>), Vec<String>> {
        let missing: Vec<String> = script
            .given
            .iter()
            .filter(|g| !vars.iter().any(|(k, _)| k == *g))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        let language = if script.languages.iter().any(|l| l == language) {
            language.to_owned()
        } else {
            script.default_language.clone()
        };
        Ok(Call::begin(script, ctx, language, vars, false, now))
    }

    /// Feeds one input; returns what to do.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out);
        out
    }

    /// Like [`Call::handle`], pushing into a caller-provided buffer.
    pub fn handle_into(&mut self, input: Input, now: Instant, out: &mut Vec<Action>) {
        self.state.handle_into(&self.script, input, now, out);
    }

    /// When the engine must feed [`Input::Timeout`], if anything is timed.
    pub fn deadline(&self) -> Option<Instant> {
        self.state.deadline
    }

    /// The IVR is done: the engine may end the call's task.
    pub fn is_finished(&self) -> bool {
        self.state.phase == Phase::Finished
    }

    /// The caller is in the call centre's queue (after [`Action::Enqueue`]): the engine owns the
    /// call until it gives it back ([`Input::QueueOverflow`]) or the call ends.
    pub fn is_queued(&self) -> bool {
        self.state.phase == Phase::Queued
    }

    /// The caller's current language.
    pub fn language(&self) -> &str {
        &self.state.language
    }

    /// The name of the current step.
    pub fn step_name(&self) -> &str {
        &self.script.steps[self.state.step].name
    }

    /// A variable's value (`ticket_number`, `department`, …).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.state.var(name)
    }

    /// The caller is keying an entry (a complaint number, digits of a phone number): keys pressed now
    /// are private, not to be logged as they are.
    pub fn in_entry(&self) -> bool {
        matches!(self.state.phase, Phase::Input { .. })
    }

    /// What the call is (its id, the caller, when it started).
    pub fn context(&self) -> &CallContext {
        &self.state.ctx
    }

    /// The script version this call runs on.
    pub fn script(&self) -> &Arc<Script> {
        &self.script
    }
}

fn pop_front(buffer: &mut String) -> Option<char> {
    let c = buffer.chars().next()?;
    buffer.drain(..c.len_utf8());
    Some(c)
}

/// Longest call id and step name kept in a recording name: a name stays well inside what Asterisk and
/// the ticket store take, whatever the channel ids and step names.
const NAME_PART_MAX: usize = 48;

/// What every recording the IVR makes is named with first.
pub const RECORDING_PREFIX: &str = "ivr-";

/// A recording name unique to the call (`seq` counts the call's recordings, never reused), naming the
/// call and the step it was made in, safe as an ARI recording name: `ivr-<call>-<step>-<seq>`.
pub fn recording_name(call_id: &str, step: &str, seq: u32) -> String {
    format!("{}{}-{seq}", recording_prefix(call_id), name_part(step))
}

/// The start of every recording name of the call `call_id`: `ivr-<call>-`.
pub fn recording_prefix(call_id: &str) -> String {
    format!("{RECORDING_PREFIX}{}-", name_part(call_id))
}

/// `raw` with every character other than ASCII letters, digits, `-` and `_` as `_`, at most
/// [`NAME_PART_MAX`] characters.
fn name_part(raw: &str) -> String {
    raw.chars()
        .take(NAME_PART_MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
