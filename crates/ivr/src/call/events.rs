//! Feeding inputs: the dispatch of every [`Input`], keys (type-ahead, barge-in), the end of a
//! playback, timeouts and the hangup.

use std::time::Instant;

use super::menu::Ask;
use super::state::{CallState, Phase};
use super::{Action, Input, RECORDING_GRACE, TYPEAHEAD_CAP};
use crate::script::{Script, StepKind};

impl CallState {
    /// One input; see [`super::Call::handle_into`].
    pub(super) fn handle_into(
        &mut self,
        script: &Script,
        input: Input,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.phase == Phase::Finished {
            return;
        }
        match input {
            Input::Dtmf(key) => self.on_dtmf(script, key, now, out),
            Input::PlaybackFinished { tag } | Input::PlaybackFailed { tag } => {
                if self.playing.is_some_and(|p| p.tag == tag) {
                    // A whole prompt has gone by: a later end key is meant for what comes next.
                    self.swallow_key = None;
                    self.playing = None;
                    self.deadline = None;
                    self.after_playback(script, now, out);
                }
            }
            Input::RecordingFinished {
                name,
                duration_ms,
                has_speech,
            } => {
                self.on_recording_end(script, &name, Some((duration_ms, has_speech)), now, out);
            }
            Input::RecordingFailed { name } => self.on_recording_end(script, &name, None, now, out),
            Input::TicketCreated { number } => {
                if self.phase == Phase::AwaitTicket {
                    // Filed: neither owed any more nor to be filed again by a later ticket step.
                    self.owed_ticket = None;
                    self.recording = None;
                    self.set_var("ticket_number", number);
                    self.after_service(script, true, now, out);
                }
            }
            Input::TicketFailed => {
                if self.phase == Phase::AwaitTicket {
                    self.after_service(script, false, now, out);
                }
            }
            Input::LookupResult(found) => {
                if self.phase == Phase::AwaitLookup {
                    self.on_lookup(script, found, now, out);
                }
            }
            Input::LookupFailed => {
                if self.phase == Phase::AwaitLookup {
                    self.after_service(script, false, now, out);
                }
            }
            Input::FeedbackStored | Input::FeedbackFailed => {
                if self.phase == Phase::AwaitFeedback {
                    self.after_service(script, input == Input::FeedbackStored, now, out);
                }
            }
            Input::FeedbackRefused => {
                if self.phase == Phase::AwaitFeedback {
                    self.on_feedback_refused(script, now, out);
                }
            }
            Input::Reprompt => self.reprompt(script, now, out),
            Input::Timeout => {
                if self.deadline.is_some_and(|d| now >= d) {
                    self.deadline = None;
                    self.on_timeout(script, now, out);
                }
            }
            Input::QueueOverflow => {
                if self.phase == Phase::Queued
                    && !self.hung_up
                    && let StepKind::Queue { on_overflow, .. } = &script.steps[self.step].kind
                {
                    self.goto(script, *on_overflow, now, out);
                }
            }
            Input::Hangup => self.on_hangup(script, now, out),
        }
    }

    // ----- events -------------------------------------------------------------------------

    pub(super) fn on_dtmf(
        &mut self,
        script: &Script,
        key: char,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        // Keys pressed while recording end it (Asterisk's business); in the queue they are the
        // call centre's (the call-back offer): neither is type-ahead for the next menu.
        if self.hung_up || matches!(self.phase, Phase::Recording { .. } | Phase::Queued) {
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
                self.after_playback(script, now, out);
            }
            Some(_) => {}
            None => self.consume(script, now, out),
        }
    }

    /// A playback ended (finished, failed, stopped by barge-in, or timed out).
    // Consuming type-ahead has side effects, so it stays out of match guards.
    #[allow(clippy::collapsible_match)]
    pub(super) fn after_playback(&mut self, script: &Script, now: Instant, out: &mut Vec<Action>) {
        match (&self.phase, &script.steps[self.step].kind) {
            (Phase::Playing, StepKind::Play { next, .. }) => self.goto(script, *next, now, out),
            (Phase::Menu, StepKind::Menu(menu)) => {
                if !self.consume_menu(script, menu, now, out) {
                    self.deadline = Some(now + menu.retry.timeout);
                }
            }
            (Phase::Input { .. }, StepKind::Input(input)) => {
                if !self.consume_input(script, now, out) {
                    self.deadline = Some(now + input.retry.timeout);
                }
            }
            (Phase::RecordIntro, StepKind::Record(rec)) => {
                self.start_recording(script, rec, now, out)
            }
            (Phase::Confirm, StepKind::Record(rec)) => {
                if let Some(confirm) = &rec.confirm
                    && !self.consume_confirm(script, rec, now, out)
                {
                    self.deadline = Some(now + confirm.retry.timeout);
                }
            }
            (Phase::Leaving, _) => self.leave(script, out),
            _ => {}
        }
    }

    /// Uses type-ahead keys if the current phase is waiting for keys.
    pub(super) fn consume(&mut self, script: &Script, now: Instant, out: &mut Vec<Action>) {
        match (&self.phase, &script.steps[self.step].kind) {
            (Phase::Menu, StepKind::Menu(menu)) => {
                self.consume_menu(script, menu, now, out);
            }
            (Phase::Input { .. }, StepKind::Input(_)) => {
                self.consume_input(script, now, out);
            }
            (Phase::Confirm, StepKind::Record(rec)) => {
                self.consume_confirm(script, rec, now, out);
            }
            _ => {}
        }
    }

    /// See [`Input::Reprompt`].
    fn reprompt(&mut self, script: &Script, now: Instant, out: &mut Vec<Action>) {
        if self.playing.is_some() || self.hung_up {
            return;
        }
        let ask = match (&mut self.phase, &script.steps[self.step].kind) {
            (Phase::Menu, StepKind::Menu(menu)) => Ask::menu(menu),
            (Phase::Input { digits }, StepKind::Input(input)) => {
                // Part of an entry may be lost with the events: it starts over.
                digits.clear();
                Ask::input(input)
            }
            (Phase::Confirm, StepKind::Record(rec)) => match &rec.confirm {
                Some(confirm) => Ask::confirm(confirm),
                None => return,
            },
            _ => return,
        };
        self.typeahead.clear();
        self.deadline = None;
        let media = self.render(script, ask.prompts);
        self.play(script, media, ask.barge_in, now, out);
    }

    pub(super) fn on_timeout(&mut self, script: &Script, now: Instant, out: &mut Vec<Action>) {
        if self.playing.is_some() {
            // The playback never reported its end: stop it and carry on as if it had.
            self.stop_playback(out);
            self.after_playback(script, now, out);
            return;
        }
        match (&self.phase, &script.steps[self.step].kind) {
            (Phase::Menu, StepKind::Menu(menu)) => {
                self.retry(script, Ask::menu(menu), false, now, out);
            }
            (Phase::Input { digits }, StepKind::Input(input)) => {
                if digits.is_empty() {
                    self.retry(script, Ask::input(input), false, now, out);
                } else {
                    // The inter-digit timeout ends the entry.
                    self.finish_input(script, now, out);
                }
            }
            (Phase::Confirm, StepKind::Record(rec)) => {
                if let Some(confirm) = &rec.confirm {
                    self.retry(script, Ask::confirm(confirm), false, now, out);
                }
            }
            (Phase::Recording { name, stop_sent }, StepKind::Record(_)) => {
                let name = name.clone();
                if *stop_sent || self.hung_up {
                    // Asterisk never reported the end: count it as failed.
                    self.on_recording_end(script, &name, None, now, out);
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

    pub(super) fn on_hangup(&mut self, script: &Script, now: Instant, out: &mut Vec<Action>) {
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
                if !self.run_owed_ticket(script, out) {
                    self.finish();
                }
            }
        }
    }
}
