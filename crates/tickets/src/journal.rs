//! The local journal: where a ticket goes when the database cannot take it, so the caller still hears
//! a number that will exist. One JSON line per ticket, appended and fsync'd before the number is
//! given out; replayed into the database when it is back (keyed by call, so nothing is written twice),
//! then truncated.
//!
//! A crash can leave a torn last line (written but never fsync'd, so never acknowledged): it is
//! dropped on open. A corrupt line anywhere else is an error — the file is kept for an operator.
//!
//! Every method that writes does blocking file I/O: the service calls them on the blocking pool with
//! its lock held (`crate::blocking`), never on an async worker.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::allocator::sync_dir;
use crate::error::TicketError;
use crate::number::ComplaintNumber;
use crate::store::TicketRecord;

#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    rejected_path: PathBuf,
    file: File,
    /// Length of the file's complete, fsync'd content: a failed append is cut back to it, so a
    /// half-written line never ends up in the middle of the journal.
    len: u64,
    /// Everything in the file, in order.
    pending: Vec<TicketRecord>,
    by_call: HashMap<String, usize>,
    by_number: HashMap<ComplaintNumber, usize>,
    /// `pending.len()`, readable without the service's lock (metrics, `/health`).
    backlog: Arc<AtomicUsize>,
}

impl Journal {
    /// Opens (creating if needed) `dir/tickets.journal` and loads what it holds.
    pub(crate) fn open(dir: &Path) -> Result<Self, TicketError> {
        let path = dir.join("tickets.journal");
        let rejected_path = dir.join("tickets.journal.rejected");
        let io_err = |source| TicketError::Journal {
            path: path.clone(),
            source,
        };
        let existed = path.exists();
        let text = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(e)),
        };
        let mut pending = Vec::new();
        let mut good_len = 0usize;
        let mut offset = 0usize;
        let mut line_no = 0usize;
        while offset < text.len() {
            line_no += 1;
            let end = text[offset..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|p| offset + p);
            let Some(end) = end else {
                // Torn tail: never fsync'd completely, so never acknowledged. Drop it.
                tracing::warn!(path = %path.display(), line = line_no, "dropping torn journal tail");
                break;
            };
            let line = &text[offset..end];
            let record: TicketRecord =
                serde_json::from_slice(line).map_err(|e| TicketError::JournalCorrupt {
                    path: path.clone(),
                    line: line_no,
                    message: e.to_string(),
                })?;
            pending.push(record);
            offset = end + 1;
            good_len = offset;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err)?;
        if good_len < text.len() {
            file.set_len(good_len as u64).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
        }
        if !existed {
            sync_dir(&path).map_err(io_err)?;
        }
        let mut journal = Journal {
            path,
            rejected_path,
            file,
            len: good_len as u64,
            pending: Vec::new(),
            by_call: HashMap::new(),
            by_number: HashMap::new(),
            backlog: Arc::default(),
        };
        for record in pending {
            journal.index(record);
        }
        Ok(journal)
    }

    fn index(&mut self, record: TicketRecord) {
        let at = self.pending.len();
        if let Some(call) = &record.call_id {
            self.by_call.insert(call.clone(), at);
        }
        self.by_number.insert(record.number, at);
        self.pending.push(record);
        self.backlog.store(self.pending.len(), Ordering::Relaxed);
    }

    /// The number of records held, kept up to date as the journal changes.
    pub(crate) fn backlog(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.backlog)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    pub(crate) fn pending(&self) -> &[TicketRecord] {
        &self.pending
    }

    pub(crate) fn number_for_call(&self, call_id: &str) -> Option<ComplaintNumber> {
        self.by_call.get(call_id).map(|i| self.pending[*i].number)
    }

    pub(crate) fn by_number(&self, number: ComplaintNumber) -> Option<&TicketRecord> {
        self.by_number.get(&number).map(|i| &self.pending[*i])
    }

    /// Appends records and fsyncs once for all of them (group commit). Records whose call is
    /// already journaled are not written again; the returned numbers are what each caller must hear.
    pub(crate) fn append(
        &mut self,
        records: Vec<TicketRecord>,
    ) -> Result<Vec<ComplaintNumber>, TicketError> {
        let mut numbers = Vec::with_capacity(records.len());
        let mut buffer = Vec::new();
        let mut fresh = Vec::new();
        for record in records {
            let known = record.call_id.as_deref().and_then(|c| {
                self.number_for_call(c).or_else(|| {
                    fresh
                        .iter()
                        .find(|r: &&TicketRecord| r.call_id.as_deref() == Some(c))
                        .map(|r| r.number)
                })
            });
            if let Some(number) = known {
                numbers.push(number);
                continue;
            }
            serde_json::to_writer(&mut buffer, &record).expect("a ticket record always serializes");
            buffer.push(b'\n');
            numbers.push(record.number);
            fresh.push(record);
        }
        if !buffer.is_empty() {
            let io_err = |source| TicketError::Journal {
                path: self.path.clone(),
                source,
            };
            let written = self
                .file
                .write_all(&buffer)
                .and_then(|()| self.file.sync_data());
            if let Err(e) = written {
                // Disk full or an I/O error: none of these callers hears a number. Cut the file
                // back so the next append does not follow a torn line.
                if let Err(cut) = self.file.set_len(self.len) {
                    tracing::error!(error = %cut, "could not cut the journal back after a failed append");
                }
                return Err(io_err(e));
            }
            self.len += buffer.len() as u64;
            for record in fresh {
                self.index(record);
            }
        }
        Ok(numbers)
    }

    /// Keeps records the database refused (e.g. a department removed meanwhile) in a side file for an
    /// operator, fsync'd, so they are never silently lost.
    pub(crate) fn set_aside(&self, records: &[TicketRecord]) -> Result<(), TicketError> {
        let io_err = |source| TicketError::Journal {
            path: self.rejected_path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.rejected_path)
            .map_err(io_err)?;
        let mut buffer = Vec::new();
        for record in records {
            serde_json::to_writer(&mut buffer, record).expect("a ticket record always serializes");
            buffer.push(b'\n');
        }
        file.write_all(&buffer).map_err(io_err)?;
        file.sync_data().map_err(io_err)
    }

    /// Empties the journal once everything in it is safely in the database.
    pub(crate) fn clear(&mut self) -> Result<(), TicketError> {
        let io_err = |source| TicketError::Journal {
            path: self.path.clone(),
            source,
        };
        self.file.set_len(0).map_err(io_err)?;
        self.file.sync_all().map_err(io_err)?;
        self.len = 0;
        self.pending.clear();
        self.by_call.clear();
        self.by_number.clear();
        self.backlog.store(0, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::TicketSource;
    use chrono::Utc;

    /// A journaled call ticket for department JSV (also used by the service's tests).
    pub(crate) fn record(call: &str, payload: u64) -> TicketRecord {
        TicketRecord {
            number: ComplaintNumber::from_payload(payload).unwrap(),
            call_id: Some(call.into()),
            source: TicketSource::Ivr,
            caller_number: "9816000000".into(),
            caller_raw: None,
            language: "hi".into(),
            department_code: "JSV".into(),
            category: None,
            district: None,
            description: None,
            recording: None,
            after_hours: false,
            created_at: Utc::now(),
            created_by: "system:ivr".into(),
            filed_by: None,
            evidence_problem: None,
        }
    }

    #[test]
    fn survives_reopen_dedupes_calls_and_drops_a_torn_tail() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let mut j = Journal::open(dir).unwrap();
        let numbers = j
            .append(vec![
                record("c1", 100_000_001),
                record("c2", 100_000_002),
                record("c1", 100_000_003),
            ])
            .unwrap();
        assert_eq!(numbers[0], numbers[2], "the same call gets the same number");
        assert_eq!(j.len(), 2);
        drop(j);
        // A crash mid-write leaves half a line.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join("tickets.journal"))
            .unwrap();
        f.write_all(b"{\"number\":\"10").unwrap();
        drop(f);
        let mut j = Journal::open(dir).unwrap();
        assert_eq!(j.len(), 2);
        assert_eq!(j.number_for_call("c2"), Some(numbers[1]));
        j.append(vec![record("c3", 100_000_004)]).unwrap();
        drop(j);
        let mut j = Journal::open(dir).unwrap();
        assert_eq!(j.len(), 3);
        j.clear().unwrap();
        assert!(Journal::open(dir).unwrap().is_empty());
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_not_a_silent_loss() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        fs::write(dir.join("tickets.journal"), "not json\n{}\n").unwrap();
        let err = Journal::open(dir).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
