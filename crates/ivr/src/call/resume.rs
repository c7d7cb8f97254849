//! A call's progress as plain data ([`Snapshot`]), and picking a call up from it ([`Call::resume`]) when
//! the engine that ran it died (crash, `kill -9`, OOM, deploy) while Asterisk kept the channel.
//!
//! What is kept is what the caller would lose: the step, the language, the variables, the recording
//! with speech not yet filed and the numbering of recordings and tickets (so a resumed call never reuses
//! a recording name or files a complaint twice). Resuming replays the current step's prompt; a call that
//! was recording waits for that recording; one at "1 keep, 2 again" hears that question again; one that
//! was filing files again under the same key.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::state::{CallState, Phase};
use super::{Action, Call, CallContext, RECORDING_GRACE, RecordedAudio};
use crate::script::{Script, StepKind};

/// Playback tags a resumed call skips, so that no playback id of the engine that died is reused (its
/// playbacks may still be playing; Asterisk refuses an id that exists).
const TAG_SKIP_ON_RESUME: u32 = 1000;

/// Where in its step a call was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SnapshotPhase {
    /// Anywhere the step can simply be entered again (its prompt replayed).
    Step,
    /// Recording `name`.
    Recording { name: String },
    /// At the "1 keep, 2 again, 3 listen" question after a recording with speech.
    Confirm,
    /// Waiting for the ticket store to file the complaint.
    AwaitTicket,
    /// In the call centre (after `Enqueue`): picked up there by the engine, no prompt replayed.
    Queued,
}

/// A call's progress, enough to pick it up in another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The step's name (a script reload may have changed ids, not names).
    pub step: String,
    pub phase: SnapshotPhase,
    pub language: String,
    pub vars: Vec<(String, String)>,
    /// The recording with speech not yet filed.
    pub recording: Option<SnapshotRecording>,
    /// The `ticket` step owed to the caller should they hang up.
    pub owed_ticket: Option<String>,
    pub recordings_made: u32,
    pub recordings_started: u32,
    pub tickets_requested: u32,
    pub next_tag: u32,
}

/// [`RecordedAudio`] as kept in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecording {
    pub name: String,
    pub duration_ms: u64,
}

/// Where a call is, compared cheaply (see [`Call::progress_mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressMark {
    step: usize,
    recordings_started: u32,
    tickets_requested: u32,
    phase: std::mem::Discriminant<Phase>,
    kept: bool,
}

/// Why a snapshot cannot be picked up on this script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// The script has no step of that name (it was changed since).
    #[error("the script has no step `{0}` any more")]
    NoSuchStep(String),
    /// The snapshot says the call was recording or confirming in a step that is not a `record` step.
    #[error("step `{0}` is not a record step")]
    NotARecordStep(String),
    /// The snapshot says the call was in the call centre from a step that is not an `agent` step.
    #[error("step `{0}` is not an agent step")]
    NotAnAgentStep(String),
}

impl Call {
    /// The call's progress now, or `None` once it is finished (nothing to resume).
    pub fn snapshot(&self) -> Option<Snapshot> {
        let s = &self.state;
        let phase = match &s.phase {
            Phase::Finished => return None,
            Phase::Recording { name, .. } => SnapshotPhase::Recording { name: name.clone() },
            Phase::Confirm => SnapshotPhase::Confirm,
            Phase::AwaitTicket => SnapshotPhase::AwaitTicket,
            Phase::Queued => SnapshotPhase::Queued,
            _ => SnapshotPhase::Step,
        };
        let step_name = |id: usize| self.script.steps[id].name.clone();
        Some(Snapshot {
            step: step_name(s.step),
            phase,
            language: s.language.clone(),
            vars: s.vars.clone(),
            recording: s.recording.as_ref().map(|r| SnapshotRecording {
                name: r.name.clone(),
                duration_ms: r.duration_ms,
            }),
            owed_ticket: s.owed_ticket.map(step_name),
            recordings_made: s.recordings_made,
            recordings_started: s.recordings_started,
            tickets_requested: s.tickets_requested,
            next_tag: s.next_tag,
        })
    }

    /// Changes whenever the call moves to another step or phase: the engine saves a snapshot when it
    /// changed (not on every key press).
    pub fn progress_mark(&self) -> ProgressMark {
        let s = &self.state;
        ProgressMark {
            step: s.step,
            recordings_started: s.recordings_started,
            tickets_requested: s.tickets_requested,
            phase: std::mem::discriminant(&s.phase),
            kept: s.recording.is_some(),
        }
    }

    /// Picks a call up from `snapshot` on `script`: the actions to carry out now (replaying the step's
    /// prompt, asking the question again, filing again). A call that was recording gets no action: the
    /// engine asks Asterisk how that recording stands and feeds its end.
    pub fn resume(
        script: Arc<Script>,
        ctx: CallContext,
        snapshot: &Snapshot,
        now: Instant,
    ) -> Result<(Call, Vec<Action>), ResumeError> {
        let find = |name: &str| {
            script
                .step_id(name)
                .ok_or_else(|| ResumeError::NoSuchStep(name.to_owned()))
        };
        let step = find(&snapshot.step)?;
        let owed_ticket = snapshot.owed_ticket.as_deref().map(find).transpose()?;
        let mut state = CallState {
            ctx,
            started: now,
            language: snapshot.language.clone(),
            vars: snapshot.vars.clone(),
            typeahead: String::new(),
            step,
            phase: Phase::Finished,
            attempts: 0,
            recordings_made: snapshot.recordings_made,
            recordings_started: snapshot.recordings_started,
            tickets_requested: snapshot.tickets_requested,
            next_tag: snapshot.next_tag.saturating_add(TAG_SKIP_ON_RESUME),
            playing: None,
            deadline: None,
            hung_up: false,
            recording: snapshot.recording.as_ref().map(|r| RecordedAudio {
                name: r.name.clone(),
                duration_ms: r.duration_ms,
            }),
            owed_ticket,
            swallow_key: None,
        };
        let mut out = Vec::new();
        let record = match &script.steps[step].kind {
            StepKind::Record(rec) => Some(rec),
            _ => None,
        };
        match (&snapshot.phase, record) {
            (SnapshotPhase::Recording { name }, Some(rec)) => {
                state.phase = Phase::Recording {
                    name: name.clone(),
                    stop_sent: false,
                };
                state.deadline = Some(now + rec.max_duration + RECORDING_GRACE);
            }
            (SnapshotPhase::Confirm, Some(rec)) => {
                state.phase = Phase::Confirm;
                let prompts = rec.confirm.as_ref().map(|c| c.prompts.as_slice());
                let media = state.render(&script, prompts.unwrap_or_default());
                state.play(&script, media, true, now, &mut out);
            }
            (SnapshotPhase::Recording { .. } | SnapshotPhase::Confirm, None) => {
                return Err(ResumeError::NotARecordStep(snapshot.step.clone()));
            }
            (SnapshotPhase::AwaitTicket, _) => {
                // Entering the step again requests the ticket again: under the same key.
                state.tickets_requested = state.tickets_requested.saturating_sub(1);
                state.goto(&script, step, now, &mut out);
            }
            (SnapshotPhase::Queued, _) => {
                if !matches!(script.steps[step].kind, StepKind::Queue { .. }) {
                    return Err(ResumeError::NotAnAgentStep(snapshot.step.clone()));
                }
                state.phase = Phase::Queued;
            }
            (SnapshotPhase::Step, _) => state.goto(&script, step, now, &mut out),
        }
        Ok((Call { script, state }, out))
    }
}
