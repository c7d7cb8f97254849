//! The records writer: one task that takes records from a bounded queue, journals each batch (one fsync:
//! group commit), writes it to the database, then trims the journal. The call task hands its record over
//! with [`Recorder::record`], which never waits: when the queue is full the record is counted and goes to
//! the journal synchronously on a blocking thread (never the call's task), and the writer picks it up
//! from there. Nothing is dropped silently: a record that reaches neither the queue nor the journal is
//! counted as lost and logged as an error. [`Recorder::record_then`] also says when a record is safe
//! (fsync'd in the journal, or committed), so that a caller keeping its own copy meanwhile — the engine's
//! call progress, against a `kill -9` — knows when to let it go.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::error::RecordsError;
use crate::journal::{Entry, Journal};
use crate::model::{CallRecord, Outcome};
use crate::queue::{QueueEvent, QueueLogEntry};
use crate::store::RecordStore;

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Where `records.journal` lives.
    pub journal_dir: PathBuf,
    /// Records queued for the writer at most; past that they go straight to the journal.
    pub queue_capacity: usize,
    /// Records written in one batch at most.
    pub batch: usize,
    /// First wait after a failed database write (doubling up to 30 s).
    pub retry: Duration,
    /// How long one database write may take before it counts as failed.
    pub write_timeout: Duration,
    /// How long the writer gathers records after the first of a batch arrives (or until the batch
    /// is full): a journal append, a commit and their fsyncs per batch, not per call or two.
    pub linger: Duration,
}

/// [`WriterConfig::linger`]'s default: at 200 calls ending a second, batches of about twenty.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(100);

impl WriterConfig {
    /// The defaults, journalling in `journal_dir`.
    pub fn new(journal_dir: impl Into<PathBuf>) -> WriterConfig {
        WriterConfig {
            journal_dir: journal_dir.into(),
            queue_capacity: 4096,
            batch: 256,
            retry: Duration::from_millis(500),
            write_timeout: Duration::from_secs(10),
            linger: DEFAULT_LINGER,
        }
    }
}

/// The writer's counters.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Call records handed to the recorder.
    pub calls: AtomicU64,
    /// Queue events handed to the recorder.
    pub events: AtomicU64,
    /// Entries stored in the database (a replayed entry counts again).
    pub stored: AtomicU64,
    /// Entries that found the queue full (or the writer stopped) and went to the journal directly.
    pub overflowed: AtomicU64,
    /// Entries that reached neither the queue nor the journal (logged as errors).
    pub lost: AtomicU64,
    /// Failed database writes (the entries stay journalled and are retried).
    pub write_failures: AtomicU64,
    /// Entries in the journal not yet known to be stored.
    pub journalled: AtomicU64,
    /// Call records handed over, by their outcome's kind (in [`Outcome::KINDS`]' order).
    pub by_outcome: [AtomicU64; Outcome::KINDS.len()],
}

impl WriterStats {
    /// Call records handed over by outcome kind, as `(kind, count)`.
    pub fn by_outcome(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Outcome::KINDS
            .iter()
            .zip(&self.by_outcome)
            .map(|(kind, n)| (*kind, n.load(Ordering::Relaxed)))
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What to do once a record is safe: fsync'd in the journal or committed to the database. Run on a
/// blocking thread (it may touch files); never run for a record that was lost.
pub type OnSafe = Box<dyn FnOnce() + Send + 'static>;

/// An entry on its way to the writer, with what to do once it is safe.
struct Handed {
    entry: Entry,
    on_safe: Option<OnSafe>,
}

/// Runs what waits for entries to be safe.
fn run_all(on_safe: Vec<OnSafe>) {
    for f in on_safe {
        f();
    }
}

/// Hands records to the writer; cheap to clone, never waits.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Handed>,
    journal: Arc<Mutex<Journal>>,
    wake: Arc<Notify>,
    stats: Arc<WriterStats>,
    /// Prefix of every event key this writer gives out (unique per process start).
    key_prefix: Arc<str>,
    next_key: Arc<AtomicU64>,
}

impl Recorder {
    /// Opens the journal (its content becomes the first batch: replay) and starts the writer task, which
    /// runs until `stop` is cancelled, then writes what is queued and returns.
    pub fn spawn(
        store: RecordStore,
        config: WriterConfig,
        stop: CancellationToken,
    ) -> Result<(Recorder, JoinHandle<()>), RecordsError> {
        let journal = Journal::open(&config.journal_dir)?;
        let stats = Arc::new(WriterStats::default());
        stats
            .journalled
            .store(journal.unconfirmed(), Ordering::Relaxed);
        if journal.unconfirmed() > 0 {
            info!(
                entries = journal.unconfirmed(),
                "replaying the records journal"
            );
        }
        let journal = Arc::new(Mutex::new(journal));
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let wake = Arc::new(Notify::new());
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let recorder = Recorder {
            tx,
            journal: Arc::clone(&journal),
            wake: Arc::clone(&wake),
            stats: Arc::clone(&stats),
            key_prefix: format!("{started:x}-{:x}", std::process::id()).into(),
            next_key: Arc::new(AtomicU64::new(0)),
        };
        let writer = Writer {
            store,
            config,
            journal,
            wake,
            stats,
            rx,
        };
        // The first round runs at once: it stores what the journal held.
        writer.wake.notify_one();
        let task = tokio::spawn(writer.run(stop));
        Ok((recorder, task))
    }

    /// The writer's counters.
    pub fn stats(&self) -> Arc<WriterStats> {
        Arc::clone(&self.stats)
    }

    /// Hands over a finished call's record. Never waits.
    pub fn record(&self, record: CallRecord) {
        self.record_inner(record, None);
    }

    /// Hands over a finished call's record, and runs `on_safe` once it is safe (fsync'd in the
    /// journal or committed; on a blocking thread). A record lost — neither the journal nor the
    /// database took it — never runs it: whoever kept a copy keeps it. Never waits.
    pub fn record_then(&self, record: CallRecord, on_safe: OnSafe) {
        self.record_inner(record, Some(on_safe));
    }

    fn record_inner(&self, record: CallRecord, on_safe: Option<OnSafe>) {
        bump(&self.stats.calls);
        let kind = record.outcome.kind();
        if let Some(i) = Outcome::KINDS.iter().position(|k| *k == kind) {
            bump(&self.stats.by_outcome[i]);
        }
        self.hand_over(Handed {
            entry: Entry::Call(Box::new(record)),
            on_safe,
        });
    }

    /// Logs a queue or agent event at `entry.at`. Never waits.
    pub fn queue_event(&self, entry: QueueLogEntry) {
        bump(&self.stats.events);
        let n = self.next_key.fetch_add(1, Ordering::Relaxed);
        let key = format!("{}-{n}", self.key_prefix);
        self.hand_over(Handed {
            entry: Entry::Event { key, entry },
            on_safe: None,
        });
    }

    /// Logs `event` as happening now.
    pub fn log(&self, event: QueueEvent) {
        self.queue_event(QueueLogEntry {
            at: chrono::Utc::now(),
            event,
        });
    }

    fn hand_over(&self, handed: Handed) {
        let Handed { entry, on_safe } = match self.tx.try_send(handed) {
            Ok(()) => return,
            Err(
                mpsc::error::TrySendError::Full(handed) | mpsc::error::TrySendError::Closed(handed),
            ) => handed,
        };
        bump(&self.stats.overflowed);
        let journal = Arc::clone(&self.journal);
        let wake = Arc::clone(&self.wake);
        let stats = Arc::clone(&self.stats);
        let journal_now = move || {
            let mut journal = journal.lock().unwrap_or_else(|e| e.into_inner());
            match journal.append_for_writer(entry) {
                Ok(()) => {
                    stats
                        .journalled
                        .store(journal.unconfirmed(), Ordering::Relaxed);
                    drop(journal);
                    wake.notify_one();
                    run_all(on_safe.into_iter().collect());
                }
                Err(err) => {
                    bump(&stats.lost);
                    error!(%err, "call record lost: the records queue is full and the journal failed");
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(journal_now);
            }
            // Not on a runtime (a test, a shutdown hook): this thread is not an async worker.
            Err(_) => journal_now(),
        }
    }
}

/// Entries the journal refused: safe only once committed.
#[derive(Default)]
struct Unjournalled {
    entries: Vec<Entry>,
    on_safe: Vec<OnSafe>,
}

struct Writer {
    store: RecordStore,
    config: WriterConfig,
    journal: Arc<Mutex<Journal>>,
    wake: Arc<Notify>,
    stats: Arc<WriterStats>,
    rx: mpsc::Receiver<Handed>,
}

/// Runs `f` on the journal on a blocking thread.
async fn with_journal<T: Send + 'static>(
    journal: &Arc<Mutex<Journal>>,
    f: impl FnOnce(&mut Journal) -> T + Send + 'static,
) -> T {
    let journal = Arc::clone(journal);
    let run = move || f(&mut journal.lock().unwrap_or_else(|e| e.into_inner()));
    match tokio::task::spawn_blocking(run).await {
        Ok(value) => value,
        // The closure panicked: nothing sensible to go on with.
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    }
}

impl Writer {
    async fn run(mut self, stop: CancellationToken) {
        let mut batch = Vec::with_capacity(self.config.batch);
        let mut delay = self.config.retry;
        let mut retry_at: Option<tokio::time::Instant> = None;
        let mut stopping = false;
        loop {
            if !stopping {
                let retry = async {
                    match retry_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = stop.cancelled() => stopping = true,
                    // `recv_many` and `Notified` are cancel-safe.
                    n = self.rx.recv_many(&mut batch, self.config.batch) => {
                        if n == 0 {
                            stopping = true;
                        } else {
                            stopping = self.linger(&mut batch, &stop).await;
                        }
                    }
                    () = self.wake.notified() => {}
                    () = retry => retry_at = None,
                }
            }
            if stopping {
                self.rx.close();
                while batch.len() < self.config.batch {
                    match self.rx.try_recv() {
                        Ok(entry) => batch.push(entry),
                        Err(_) => break,
                    }
                }
            }
            let (fresh, journal_error) = self.journal_batch(&mut batch).await;
            let backing_off = retry_at.is_some_and(|at| tokio::time::Instant::now() < at);
            // Entries the journal refused are not held back: they have nowhere else to wait.
            if backing_off && !stopping && journal_error.is_none() {
                with_journal(&self.journal, move |j| j.give_back(fresh)).await;
                continue;
            }
            let mut entries = match with_journal(&self.journal, Journal::take_backlog).await {
                Ok(entries) => entries,
                Err(err) => {
                    error!(%err, "cannot read the records journal back");
                    Vec::new()
                }
            };
            entries.extend(fresh);
            let journalled = entries.len() as u64;
            let Unjournalled {
                entries: unjournalled,
                on_safe,
            } = journal_error.unwrap_or_default();
            let all_done = entries.is_empty() && unjournalled.is_empty();
            if !all_done {
                match self.write(&entries, &unjournalled).await {
                    Ok(()) => {
                        delay = self.config.retry;
                        retry_at = None;
                        self.stats
                            .stored
                            .fetch_add(journalled + unjournalled.len() as u64, Ordering::Relaxed);
                        let stats = Arc::clone(&self.stats);
                        let confirmed = with_journal(&self.journal, move |j| {
                            let result = j.confirm(journalled);
                            stats.journalled.store(j.unconfirmed(), Ordering::Relaxed);
                            result
                        })
                        .await;
                        if let Err(err) = confirmed {
                            warn!(%err, "cannot trim the records journal (its records are stored; a replay stores them once)");
                        }
                        if !on_safe.is_empty() {
                            // Committed: safe. Off the async worker, as for the journalled ones.
                            let ran = tokio::task::spawn_blocking(move || run_all(on_safe)).await;
                            if let Err(err) = ran {
                                std::panic::resume_unwind(err.into_panic());
                            }
                        }
                    }
                    Err(err) => {
                        bump(&self.stats.write_failures);
                        warn!(%err, entries = entries.len() + unjournalled.len(), retry_in = ?delay, "call records not written; kept in the journal");
                        if !unjournalled.is_empty() {
                            // Neither journalled nor stored: try the journal again before giving up.
                            let appended = with_journal(&self.journal, {
                                let unjournalled = unjournalled.clone();
                                move |j| {
                                    let appended = j.append(&unjournalled);
                                    if appended.is_ok() {
                                        run_all(on_safe);
                                    }
                                    appended
                                }
                            })
                            .await;
                            if let Err(err) = appended {
                                self.stats
                                    .lost
                                    .fetch_add(unjournalled.len() as u64, Ordering::Relaxed);
                                error!(%err, lost = unjournalled.len(), "call records lost: neither the journal nor the database took them");
                            } else {
                                entries.extend(unjournalled);
                            }
                        }
                        with_journal(&self.journal, move |j| j.give_back(entries)).await;
                        retry_at = Some(tokio::time::Instant::now() + delay);
                        delay = (delay * 2).min(Duration::from_secs(30));
                        if stopping {
                            info!(
                                "records writer stopping with records in the journal; they are written at the next start"
                            );
                            return;
                        }
                    }
                }
            }
            if stopping && self.rx.is_empty() && batch.is_empty() {
                return;
            }
        }
    }

    /// Gathers more of a batch for [`WriterConfig::linger`], until it is full; true when the
    /// writer is to stop (asked to, or every recorder gone).
    async fn linger(&mut self, batch: &mut Vec<Handed>, stop: &CancellationToken) -> bool {
        let until = tokio::time::Instant::now() + self.config.linger;
        while batch.len() < self.config.batch {
            let room = self.config.batch - batch.len();
            tokio::select! {
                () = stop.cancelled() => return true,
                () = tokio::time::sleep_until(until) => return false,
                n = self.rx.recv_many(batch, room) => if n == 0 {
                    return true;
                },
            }
        }
        false
    }

    /// Journals `batch` (one fsync) and empties it, running what waited for its entries to be safe.
    /// Returns the journalled entries, and those the journal refused (written to the database all the
    /// same) with what waits for them.
    async fn journal_batch(&self, batch: &mut Vec<Handed>) -> (Vec<Entry>, Option<Unjournalled>) {
        if batch.is_empty() {
            return (Vec::new(), None);
        }
        let mut taken = Vec::with_capacity(batch.len());
        let mut on_safe = Vec::new();
        for handed in batch.drain(..) {
            taken.push(handed.entry);
            on_safe.extend(handed.on_safe);
        }
        let stats = Arc::clone(&self.stats);
        with_journal(&self.journal, move |j| match j.append(&taken) {
            Ok(()) => {
                stats.journalled.store(j.unconfirmed(), Ordering::Relaxed);
                run_all(on_safe);
                (taken, None)
            }
            Err(err) => {
                error!(%err, "cannot journal call records; writing them to the database unjournalled");
                (Vec::new(), Some(Unjournalled { entries: taken, on_safe }))
            }
        })
        .await
    }

    async fn write(
        &self,
        journalled: &[Entry],
        unjournalled: &[Entry],
    ) -> Result<(), RecordsError> {
        let mut calls = Vec::new();
        let mut events = Vec::new();
        for entry in journalled.iter().chain(unjournalled) {
            match entry {
                Entry::Call(record) => calls.push((**record).clone()),
                Entry::Event { key, entry } => events.push((key.clone(), entry.clone())),
            }
        }
        let write = async {
            self.store.insert_calls(&calls).await?;
            self.store.append_events(&events).await
        };
        match tokio::time::timeout(self.config.write_timeout, write).await {
            Ok(result) => result,
            Err(_) => Err(RecordsError::Database(sqlx::Error::PoolTimedOut)),
        }
    }
}
