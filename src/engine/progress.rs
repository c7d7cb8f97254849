//! Each call's progress on local disk, so that an engine that died (crash, `kill -9`, OOM, deploy) is
//! followed by one that picks its calls up where they were (see `ivr::Call::resume`).
//!
//! One small JSON file per call in the progress folder (`<journal_dir>/calls`), written when the call
//! moves to another step or phase — not on every key — as a temporary file renamed over the old one, and
//! removed when the call task ends. It is not fsync'd: what it guards against is the engine process
//! dying, which leaves the page cache intact; a machine that loses power loses its calls anyway, and the
//! complaints already spoken are then in Asterisk's spool and the ticket journal (which is fsync'd).
//! Writes are a few tens of microseconds and happen a few times per call-minute.
//!
//! When a call ends its progress gives way to its finished call record (`<channel>.ended`), kept until
//! the records writer says the record is safe (fsync'd in its journal or committed): an engine killed in
//! between — the writer gathers a batch for up to 100 ms — leaves the record for the next engine, which
//! hands it over again at its start (the records store keeps a call once).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use tracing::warn;

/// The progress of one call: who it is, and where its IVR was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallProgress {
    /// The Asterisk channel the call is on.
    pub channel_id: String,
    /// The call id (recording names and ticket keys derive from it).
    pub call_id: String,
    /// The caller's number, normalised.
    pub caller: String,
    /// As the trunk delivered it, when that differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_raw: Option<String>,
    pub started_at: DateTime<FixedOffset>,
    /// The IVR's state.
    pub ivr: ivr::Snapshot,
    /// The recording with speech as the engine kept it (fetched to our disk, or only on Asterisk).
    pub kept_recording: Option<KeptRecording>,
    /// In the call centre: the queue, since when, and the agent talking to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueProgress>,
}

/// A caller in the call centre, as the engine that follows needs it: to join them again keeping
/// their place, or to pick up their conversation with the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueProgress {
    pub queue: String,
    pub joined_at: chrono::DateTime<chrono::Utc>,
    pub language: String,
    pub department: Option<String>,
    pub complaints: Vec<String>,
    /// Talking to an agent: their leg and the bridge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<ConnectedProgress>,
}

/// The agent's side of a conversation in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedProgress {
    pub attempt: String,
    pub agent: String,
    pub bridge: String,
}

/// A recording with speech the call task holds for the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptRecording {
    pub name: String,
    /// Our copy, if it was fetched.
    pub path: Option<PathBuf>,
    pub duration_ms: u64,
}

/// A call that ended, its record not yet known to be safe with the records writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndedCall {
    /// The Asterisk channel the call was on.
    pub channel_id: String,
    /// Its finished record.
    pub record: records::CallRecord,
}

const ENDED: &str = "ended";

/// Why the progress folder could not be used.
#[derive(Debug, thiserror::Error)]
#[error("call progress in {path}: {source}")]
pub struct ProgressError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// The folder of call progress files.
#[derive(Debug, Clone)]
pub struct ProgressJournal {
    dir: PathBuf,
}

/// The largest progress file read back (a call's state is well under a kilobyte).
const MAX_FILE_BYTES: u64 = 64 * 1024;

impl ProgressJournal {
    /// Uses (and creates) `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, ProgressError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| ProgressError {
            path: dir.clone(),
            source,
        })?;
        Ok(ProgressJournal { dir })
    }

    /// Where the progress folder is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file_of(&self, channel_id: &str) -> PathBuf {
        self.dir.join(format!("{}.json", Self::stem_of(channel_id)))
    }

    fn ended_file_of(&self, channel_id: &str) -> PathBuf {
        self.dir
            .join(format!("{}.{ENDED}", Self::stem_of(channel_id)))
    }

    fn stem_of(channel_id: &str) -> String {
        let safe: String = channel_id
            .chars()
            .take(128)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        safe
    }

    /// Saves a call's progress, replacing what was there. A failure is logged: the call goes on (it
    /// would only not survive an engine crash).
    pub fn save(&self, progress: &CallProgress) {
        let path = self.file_of(&progress.channel_id);
        if let Err(err) = write_replacing(&path, progress) {
            warn!(path = %path.display(), %err, "could not save the call's progress");
        }
    }

    /// The call on `channel_id` ended with `record`: its progress gives way to the record, kept until
    /// [`ProgressJournal::remove_ended`]. A failure is logged (the record only would not survive an
    /// engine crash before the writer has it safe).
    pub fn save_ended(&self, channel_id: &str, record: &records::CallRecord) {
        let path = self.ended_file_of(channel_id);
        let ended = EndedCall {
            channel_id: channel_id.to_owned(),
            record: record.clone(),
        };
        if let Err(err) = write_replacing(&path, &ended) {
            warn!(path = %path.display(), %err, "could not keep the call's record");
        }
        self.remove(channel_id);
    }

    /// Forgets an ended call's record (the records writer has it safe).
    pub fn remove_ended(&self, channel_id: &str) {
        remove_file(&self.ended_file_of(channel_id));
    }

    /// What forgets the ended call's record on `channel_id`, for the call log to run once it is safe.
    pub fn forget_ended(&self, channel_id: &str) -> records::OnSafe {
        let journal = self.clone();
        let channel_id = channel_id.to_owned();
        Box::new(move || journal.remove_ended(&channel_id))
    }

    /// The records of calls that ended before the writer had them safe (an engine that died left them).
    /// A file that cannot be read is moved aside as `<name>.bad`, logged, and skipped.
    pub fn load_ended(&self) -> Vec<EndedCall> {
        self.load_with_extension(ENDED)
    }

    /// Forgets a call (it ended and owes nothing any more).
    pub fn remove(&self, channel_id: &str) {
        remove_file(&self.file_of(channel_id));
    }

    /// Every call progress left in the folder (by an engine that died). A file that cannot be read is
    /// moved aside as `<name>.bad`, logged, and skipped.
    pub fn load_all(&self) -> Vec<CallProgress> {
        let mut live: Vec<CallProgress> = self.load_with_extension("json");
        // Ended (an engine died between keeping the record and forgetting the progress): nothing is
        // owed to the caller any more.
        live.retain(|progress| {
            let ended = self.ended_file_of(&progress.channel_id).exists();
            if ended {
                self.remove(&progress.channel_id);
            }
            !ended
        });
        live
    }

    fn load_with_extension<T: serde::de::DeserializeOwned>(&self, extension: &str) -> Vec<T> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) => {
                warn!(dir = %self.dir.display(), %err, "cannot read the call progress folder");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(extension) {
                continue;
            }
            match read_progress(&path) {
                Ok(progress) => out.push(progress),
                Err(err) => {
                    warn!(path = %path.display(), %err, "unreadable call progress set aside");
                    let _ = std::fs::rename(&path, path.with_extension("bad"));
                }
            }
        }
        out
    }
}

/// Writes `value` as JSON to `path` through a temporary file renamed over it (not fsync'd).
fn write_replacing(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&bytes)?;
    std::fs::rename(&tmp, path)
}

fn remove_file(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => warn!(path = %path.display(), %err, "could not remove a call's file"),
    }
}

fn read_progress<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<T> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other(
            "larger than a call's progress can be",
        ));
    }
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(channel: &str) -> CallProgress {
        CallProgress {
            channel_id: channel.to_owned(),
            call_id: format!("02:fc/{channel}"),
            caller: "+919816012345".into(),
            caller_raw: Some("09816012345".into()),
            started_at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00+05:30").unwrap(),
            ivr: ivr::Snapshot {
                step: "record_complaint".into(),
                phase: ivr::SnapshotPhase::Recording {
                    name: "ivr-x-record_complaint-1".into(),
                },
                language: "hi".into(),
                vars: vec![("department".into(), "REV".into())],
                recording: None,
                owed_ticket: None,
                recordings_made: 1,
                recordings_started: 1,
                tickets_requested: 0,
                next_tag: 7,
            },
            kept_recording: None,
            queue: None,
        }
    }

    fn ended_record(channel: &str) -> records::CallRecord {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T04:30:00Z")
            .unwrap()
            .to_utc();
        records::CallRecord::arrived(
            format!("02:fc/{channel}"),
            channel,
            "node-a",
            "09816012345",
            at,
        )
    }

    #[test]
    fn an_ended_call_keeps_its_record_in_its_progress_place_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ProgressJournal::open(dir.path()).unwrap();
        journal.save(&progress("1795921121.47"));
        journal.save_ended("1795921121.47", &ended_record("1795921121.47"));
        assert!(journal.load_all().is_empty(), "nothing to resume");
        let ended = journal.load_ended();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].channel_id, "1795921121.47");
        assert_eq!(ended[0].record, ended_record("1795921121.47"));
        (journal.forget_ended("1795921121.47"))();
        assert!(journal.load_ended().is_empty());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file left"
        );
    }

    #[test]
    fn a_progress_beside_its_ended_record_is_not_resumed_and_goes() {
        // An engine killed between keeping the record and removing the progress.
        let dir = tempfile::tempdir().unwrap();
        let journal = ProgressJournal::open(dir.path()).unwrap();
        journal.save_ended("c1", &ended_record("c1"));
        journal.save(&progress("c1"));
        journal.save(&progress("c2"));
        let live = journal.load_all();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].channel_id, "c2");
        assert!(
            !journal.file_of("c1").exists(),
            "the ended call's progress is gone"
        );
        assert_eq!(journal.load_ended().len(), 1, "its record stays until safe");
    }

    #[test]
    fn progress_is_saved_replaced_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ProgressJournal::open(dir.path().join("calls")).unwrap();
        let mut first = progress("1795921121.47");
        journal.save(&first);
        journal.save(&progress("odd/../id;2"));
        first.ivr.next_tag = 9;
        journal.save(&first);
        let mut all = journal.load_all();
        all.sort_by(|a, b| a.channel_id.cmp(&b.channel_id));
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], first, "the latest save wins");
        assert_eq!(
            all[1].channel_id, "odd/../id;2",
            "the id is kept, the file name made safe"
        );
        journal.remove("1795921121.47");
        journal.remove("never-saved");
        assert_eq!(journal.load_all().len(), 1);
    }

    #[test]
    fn an_unreadable_file_is_set_aside_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ProgressJournal::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("garbage.json"), b"{ not json").unwrap();
        journal.save(&progress("ok"));
        let all = journal.load_all();
        assert_eq!(all.len(), 1);
        assert!(dir.path().join("garbage.bad").exists());
    }
}
