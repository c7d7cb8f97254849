//! `record` steps: the instructions, the recording (one name per attempt), its end, and the
//! "1 keep, 2 again, 3 listen" confirmation.

use std::time::Instant;

use super::menu::Ask;
use super::state::{CallState, Phase};
use super::{Action, Media, RECORDING_GRACE, RecordedAudio, pop_front, recording_name};
use crate::script::{MediaItem, RecordStep, Script, StepKind};

impl CallState {
    pub(super) fn start_record_intro(
        &mut self,
        script: &Script,
        rec: &RecordStep,
        before: &[MediaItem],
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.phase = Phase::RecordIntro;
        let mut media = self.render(script, before);
        media.extend(self.render(script, &rec.prompts));
        if media.is_empty() {
            self.start_recording(script, rec, now, out);
        } else {
            self.play(script, media, true, now, out);
        }
    }

    pub(super) fn start_recording(
        &mut self,
        script: &Script,
        rec: &RecordStep,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        // Keys pressed to skip the instructions must not be taken for the complaint.
        self.typeahead.clear();
        self.recordings_made += 1;
        self.recordings_started += 1;
        let name = recording_name(
            &self.ctx.call_id,
            &script.steps[self.step].name,
            self.recordings_started,
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
    pub(super) fn on_recording_end(
        &mut self,
        script: &Script,
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
            if !self.run_owed_ticket(script, out) {
                self.finish();
            }
            return;
        }
        match (speech, &rec.confirm) {
            (Some(_), Some(confirm)) => {
                self.phase = Phase::Confirm;
                self.attempts = 0;
                let media = self.render(script, &confirm.prompts);
                self.play(script, media, true, now, out);
            }
            (Some(_), None) => self.goto(script, rec.next, now, out),
            // The recording itself failed (Asterisk could not record, even after the engine's retries):
            // "we could not hear you" would be untrue, and recording again is unlikely to work.
            // An earlier take with speech (before "2, record again") is kept and filed.
            (None, _) if result.is_none() => {
                let target = if self.recording.is_some() {
                    rec.next
                } else {
                    rec.on_exhausted
                };
                self.goto(script, target, now, out);
            }
            (None, _) => {
                if self.recordings_made > rec.retries {
                    self.goto(script, rec.on_exhausted, now, out);
                } else {
                    self.start_record_intro(script, rec, &rec.no_speech, now, out);
                }
            }
        }
    }

    pub(super) fn consume_confirm(
        &mut self,
        script: &Script,
        rec: &RecordStep,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
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
            '1' => self.goto(script, rec.next, now, out),
            '2' if self.recordings_made < rec.max_attempts => {
                self.start_record_intro(script, rec, &[], now, out);
            }
            // No more re-records: the last recording is kept.
            '2' => self.goto(script, rec.next, now, out),
            '3' => {
                let mut media: Vec<Media> = self
                    .recording
                    .iter()
                    .map(|r| Media::Recording(r.name.clone()))
                    .collect();
                media.extend(self.render(script, &confirm.prompts));
                self.play(script, media, true, now, out);
            }
            _ => self.retry(script, Ask::confirm(confirm), true, now, out),
        }
        true
    }
}
