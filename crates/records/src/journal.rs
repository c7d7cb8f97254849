//! The records journal: every record the writer takes is appended here and fsync'd (a batch at a time:
//! group commit) before it goes to the database, and the file is emptied once everything in it is known
//! to be stored. At start the whole file is replayed; the database keys records by call id and events by
//! their key, so a record both stored and still journalled (a crash between the two) is stored once.
//!
//! A crash can leave a torn last line (never fsync'd): it is dropped on open. A corrupt complete line is
//! an error, and the file is kept for an operator.
//!
//! All methods do blocking file I/O: call them from `spawn_blocking`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::RecordsError;
use crate::model::CallRecord;
use crate::queue::QueueLogEntry;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Call(Box<CallRecord>),
    Event {
        /// Unique per event: what makes a replayed event stored once.
        key: String,
        #[serde(flatten)]
        entry: QueueLogEntry,
    },
}

/// Entries kept in memory awaiting the database at most; past that they stay only in the file and are
/// read back from it once the database has taken the rest.
const BACKLOG_CAP: usize = 50_000;

/// The fsync'd journal of records not yet known to be in the database.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Length of the file's complete, fsync'd content (a failed append is cut back to it).
    len: u64,
    /// Lines in the file.
    appended: u64,
    /// Of those, how many are known to be stored.
    confirmed: u64,
    /// Lines in the file that the writer has not taken yet (replayed at start, written by the overflow
    /// path, or given back after a failed database write).
    backlog: Vec<Entry>,
    /// Some lines are in the file only (the backlog was full): read the file again once the backlog is
    /// empty.
    spilled: bool,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> RecordsError + '_ {
    move |source| RecordsError::Journal {
        path: path.to_owned(),
        source,
    }
}

/// Reads every complete line of the journal at `path`; returns them and the length they span.
fn read_entries(path: &Path) -> Result<(Vec<Entry>, u64), RecordsError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error(path)(e)),
    };
    let mut entries = Vec::new();
    let mut offset = 0usize;
    let mut line = 0usize;
    while let Some(end) = bytes[offset..].iter().position(|b| *b == b'\n') {
        line += 1;
        let text = &bytes[offset..offset + end];
        let entry = serde_json::from_slice(text).map_err(|e| RecordsError::JournalCorrupt {
            path: path.to_owned(),
            line,
            message: e.to_string(),
        })?;
        entries.push(entry);
        offset += end + 1;
    }
    if offset < bytes.len() {
        tracing::warn!(path = %path.display(), "dropping the records journal's torn last line");
    }
    Ok((entries, offset as u64))
}

impl Journal {
    /// Opens (creating if needed) `dir/records.journal`; everything it holds becomes the backlog.
    pub fn open(dir: &Path) -> Result<Journal, RecordsError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let path = dir.join("records.journal");
        let (entries, len) = read_entries(&path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_error(&path))?;
        file.set_len(len).map_err(io_error(&path))?;
        file.sync_all().map_err(io_error(&path))?;
        if let Some(parent) = path.parent()
            && let Ok(dir) = File::open(parent)
        {
            // The file's directory entry must be durable too; a filesystem that cannot sync a
            // directory still keeps the file's content.
            let _ = dir.sync_all();
        }
        let mut journal = Journal {
            path,
            file,
            len,
            appended: entries.len() as u64,
            confirmed: 0,
            backlog: Vec::new(),
            spilled: false,
        };
        journal.give_back(entries);
        Ok(journal)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries in the file not yet known to be stored.
    pub fn unconfirmed(&self) -> u64 {
        self.appended - self.confirmed
    }

    /// Appends entries and fsyncs once (group commit). On failure the file is cut back to what it held.
    pub fn append(&mut self, entries: &[Entry]) -> Result<(), RecordsError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(entries.len() * 512);
        for entry in entries {
            // Plain strings, numbers and instants: serialising cannot fail.
            serde_json::to_writer(&mut buf, entry).map_err(|e| RecordsError::Journal {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            buf.push(b'\n');
        }
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            let _ = self.file.set_len(self.len);
            return Err(io_error(&self.path)(e));
        }
        self.len += buf.len() as u64;
        self.appended += entries.len() as u64;
        Ok(())
    }

    /// Appends one entry the writer has not seen (the overflow path) and keeps it for the writer.
    pub fn append_for_writer(&mut self, entry: Entry) -> Result<(), RecordsError> {
        self.append(std::slice::from_ref(&entry))?;
        self.give_back(vec![entry]);
        Ok(())
    }

    /// Takes the entries awaiting the database (reading the file again first if some were only there).
    pub fn take_backlog(&mut self) -> Result<Vec<Entry>, RecordsError> {
        if self.spilled && self.backlog.is_empty() {
            let (entries, _) = read_entries(&self.path)?;
            // Every line is in the backlog again: those already stored are stored once more, harmlessly.
            self.appended = entries.len() as u64;
            self.confirmed = 0;
            self.spilled = false;
            self.give_back(entries);
        }
        Ok(std::mem::take(&mut self.backlog))
    }

    /// Entries in the file that did not reach the database: kept for the next attempt.
    pub fn give_back(&mut self, entries: Vec<Entry>) {
        for entry in entries {
            if self.backlog.len() < BACKLOG_CAP {
                self.backlog.push(entry);
            } else {
                self.spilled = true;
            }
        }
    }

    /// `n` journalled entries are stored. Once everything in the file is, the file is emptied —
    /// without an fsync: the entries are committed to the database already, so a truncation a
    /// crash undoes only means they are replayed and stored once more, harmlessly (the store keeps
    /// the first of each call and event key), and the next append's fsync makes the new length
    /// durable with its own entries. One fsync less per batch.
    pub fn confirm(&mut self, n: u64) -> Result<(), RecordsError> {
        self.confirmed = (self.confirmed + n).min(self.appended);
        if self.confirmed == self.appended && self.backlog.is_empty() && !self.spilled {
            self.file.set_len(0).map_err(io_error(&self.path))?;
            self.len = 0;
            self.appended = 0;
            self.confirmed = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(n: u32) -> Entry {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 10, 0, 0)
            .single()
            .expect("valid");
        Entry::Call(Box::new(CallRecord::arrived(
            format!("ast/c{n}"),
            format!("c{n}"),
            "node-a",
            "9876543210",
            at,
        )))
    }

    /// A folder for a journal, not made yet (the journal makes it); removed with the `TempDir`.
    fn journal_dir() -> (tempfile::TempDir, PathBuf) {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("journal");
        (temp, dir)
    }

    #[test]
    fn what_is_appended_is_replayed_until_confirmed() {
        let (_temp, dir) = journal_dir();
        let mut journal = Journal::open(&dir).expect("open");
        journal.append(&[record(1), record(2)]).expect("append");
        drop(journal);
        let mut journal = Journal::open(&dir).expect("reopen");
        assert_eq!(
            journal.take_backlog().expect("backlog"),
            vec![record(1), record(2)]
        );
        journal.confirm(2).expect("confirm");
        assert_eq!(std::fs::metadata(journal.path()).expect("stat").len(), 0);
        drop(journal);
        let mut journal = Journal::open(&dir).expect("reopen");
        assert!(journal.take_backlog().expect("backlog").is_empty());
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_corrupt_one_is_an_error() {
        let (_temp, dir) = journal_dir();
        let mut journal = Journal::open(&dir).expect("open");
        journal.append(&[record(1)]).expect("append");
        let path = journal.path().to_owned();
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"kind\":\"call\",\"call_id\":")
            .expect("write");
        drop(file);
        let mut journal = Journal::open(&dir).expect("reopen");
        assert_eq!(journal.take_backlog().expect("backlog"), vec![record(1)]);
        drop(journal);
        std::fs::write(&path, b"not json\n").expect("write");
        assert!(matches!(
            Journal::open(&dir),
            Err(RecordsError::JournalCorrupt { line: 1, .. })
        ));
    }

    #[test]
    fn the_file_is_kept_while_anything_in_it_is_unconfirmed() {
        let (_temp, dir) = journal_dir();
        let mut journal = Journal::open(&dir).expect("open");
        journal.append(&[record(1)]).expect("append");
        journal.append_for_writer(record(2)).expect("append");
        journal.confirm(1).expect("confirm");
        assert_eq!(journal.unconfirmed(), 1);
        drop(journal);
        let mut journal = Journal::open(&dir).expect("reopen");
        assert_eq!(journal.take_backlog().expect("backlog").len(), 2);
    }
}
