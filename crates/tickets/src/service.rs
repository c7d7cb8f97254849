//! [`TicketService`]: what the engine and the API call to file and follow complaints. It validates
//! input, allocates numbers, keeps recordings as evidence, and writes tickets through a single writer
//! task that commits them in batches (group commit: one fsync covers every ticket in the batch, and
//! each caller hears its number only after that fsync). When the database cannot be reached, the same
//! writer puts the tickets in the fsync'd local journal instead; [`TicketService::replay_journal`]
//! (run by the background task) moves them into the database when it is back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::allocator::{self, NumberAllocator, sync_dir};
use crate::blocking::with_lock_held;
use crate::clock::{SharedClock, SystemClock};
use crate::error::{StoreError, TicketError};
use crate::journal::Journal;
use crate::model::{Department, FeedbackReason, RecordingInfo, Ticket, TicketSource, TicketStatus};
use crate::number::ComplaintNumber;
use crate::store::{InsertOutcome, Store, TicketRecord};
use crate::validate;

/// Settings for a [`TicketService`].
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Holds the journal and the number allocator's state; must be on local, durable storage.
    pub journal_dir: PathBuf,
    /// Where recordings are kept, one `<complaint number>.wav` per ticket.
    pub recordings_dir: PathBuf,
    /// Number blocks held in reserve for numbering during an outage (each holds 1000 numbers).
    pub spare_blocks: usize,
    /// Longest a database write may take before the batch goes to the journal instead.
    pub write_timeout: Duration,
    /// After the database failed, go straight to the journal for this long before trying it again.
    pub retry_database_after: Duration,
    /// Most tickets committed in one transaction.
    pub max_batch: usize,
    /// Largest recording accepted, in bytes.
    pub max_recording_bytes: u64,
    /// Who may give feedback by phone.
    pub feedback_check: crate::complainant::FeedbackCheck,
    /// How long recordings are kept once their complaint is closed.
    pub retention: RecordingRetention,
    /// When officers are reminded of tickets nearing or past their due time.
    pub reminders: crate::officers::ReminderPolicy,
}

/// How often the background job applies the recordings retention.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// How long helpline keeps a citizen's recording after the complaint is closed: recordings are personal
/// data (India's Digital Personal Data Protection Act, 2023: kept no longer than the purpose needs).
/// `None` keeps them. A reopened complaint is not closed, so its recording stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingRetention {
    /// After the citizen confirmed satisfaction.
    pub after_satisfied: Option<Duration>,
    /// After the citizen said they were not satisfied (it may still be reopened, appealed).
    pub after_unsatisfied: Option<Duration>,
}

impl Default for RecordingRetention {
    fn default() -> Self {
        const DAY: Duration = Duration::from_secs(24 * 3600);
        RecordingRetention {
            after_satisfied: Some(DAY * 180),
            after_unsatisfied: Some(DAY * 365),
        }
    }
}

impl ServiceConfig {
    pub fn new(journal_dir: impl Into<PathBuf>, recordings_dir: impl Into<PathBuf>) -> Self {
        ServiceConfig {
            journal_dir: journal_dir.into(),
            recordings_dir: recordings_dir.into(),
            spare_blocks: 10,
            write_timeout: Duration::from_secs(5),
            retry_database_after: Duration::from_secs(10),
            max_batch: 256,
            max_recording_bytes: 64 * 1024 * 1024,
            feedback_check: crate::complainant::FeedbackCheck::default(),
            retention: RecordingRetention::default(),
            reminders: crate::officers::ReminderPolicy::default(),
        }
    }
}

/// The audio of a voice complaint, as the engine hands it over.
#[derive(Debug, Clone)]
pub enum RecordingAudio {
    /// The WAV bytes fetched from Asterisk.
    Bytes(Vec<u8>),
    /// A WAV file on local disk; it is copied (the original is left alone).
    File(PathBuf),
}

/// A recording to keep with the ticket.
#[derive(Debug, Clone)]
pub struct Recording {
    pub audio: RecordingAudio,
    pub duration_ms: u64,
    /// The engine's SHA-256 (hex) of the audio, if it computed one: checked against the stored file.
    pub sha256: Option<String>,
}

/// A complaint taken by the IVR on a call.
#[derive(Debug, Clone)]
pub struct NewCallTicket {
    /// The caller id as the trunk delivered it, when the engine's normalised `caller_number` differs.
    pub caller_raw: Option<String>,
    /// The complaint's idempotency key: the engine passes its recording's name (unique in the call and
    /// naming it), so a call with two complaints files two tickets and a retry of one finds its ticket.
    pub call_id: String,
    pub caller_number: String,
    /// Language code of the call, e.g. `hi`, `en`.
    pub language: String,
    /// One of the seeded department codes (the IVR maps its categories to these).
    pub department_code: String,
    /// The IVR category the caller chose (kept for reporting).
    pub category: Option<String>,
    pub district: Option<String>,
    pub recording: Option<Recording>,
    /// Filed outside office hours (the IVR took a message).
    pub after_hours: bool,
}

/// A complaint filed through the API (an agent, the web portal, an integration).
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub source: TicketSource,
    /// Idempotency key: a retried request with the same key returns the same ticket.
    pub idempotency_key: Option<String>,
    pub caller_number: String,
    pub language: String,
    pub department_code: String,
    pub category: Option<String>,
    pub district: Option<String>,
    pub description: Option<String>,
}

/// Who files a ticket through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    /// The client its idempotency keys belong to and that may read what it filed:
    /// `user:ID`, `integration:NAME` or `token:ID`.
    pub key: String,
    /// How the audit trail names it (a person's login and name, an integration's name).
    pub actor: String,
}

/// One complaint to file, as [`TicketService::file_from_call`] (the engine) and
/// [`TicketService::create`] (the API) hand it over: not validated yet.
struct Filing {
    source: TicketSource,
    /// What makes a retry the same complaint (a recording's name, `api:<client>:<key>`).
    key: Option<String>,
    caller_number: String,
    /// The caller id as delivered, when normalising changed it.
    caller_raw: Option<String>,
    language: String,
    department_code: String,
    category: Option<String>,
    district: Option<String>,
    description: Option<String>,
    recording: Option<Recording>,
    after_hours: bool,
    /// The audit trail's actor (`system:ivr`, `user:…`).
    created_by: String,
    /// The API client that filed it; `None`: the engine.
    filed_by: Option<String>,
}

/// Result of filing a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Filed {
    #[schema(value_type = String, pattern = "^[1-9][0-9]{9}$")]
    pub number: ComplaintNumber,
    /// False when the key (call) already had this ticket.
    pub created: bool,
    /// True when the ticket is in the local journal, waiting for the database.
    pub journaled: bool,
    /// The ticket holds its recording (kept now, or earlier): the caller's copy elsewhere (Asterisk's)
    /// is no longer the only one. False when it was filed without one, or when that is not known yet.
    pub recording_kept: bool,
}

/// What the IVR reads back when a citizen asks about a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TicketStatusView {
    #[schema(value_type = String, pattern = "^[1-9][0-9]{9}$")]
    pub number: ComplaintNumber,
    pub status: TicketStatus,
    pub department_code: String,
    pub department_name: String,
    pub due_at: DateTime<Utc>,
    #[schema(minimum = 1, maximum = 4)]
    pub level: u8,
    /// The ticket is in this node's journal and not yet in the database.
    pub pending_sync: bool,
}

/// What became of feedback given by phone.
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneFeedback {
    /// Counted: the ticket as it is now (closed satisfied or unsatisfied).
    Stored(Box<Ticket>),
    /// Refused and audited: the caller is not (or could not show to be) the complainant.
    Refused,
}

/// What a journal replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Records written to the database.
    pub created: usize,
    /// Records whose call already had a ticket (their number now points at it).
    pub merged: usize,
    /// Records the database refused; kept in `tickets.journal.rejected`.
    pub set_aside: usize,
}

#[derive(Debug)]
enum WriteOutcome {
    Stored(InsertOutcome),
    Journaled(ComplaintNumber),
}

#[derive(Debug)]
struct WriteRequest {
    record: TicketRecord,
    reply: oneshot::Sender<Result<WriteOutcome, TicketError>>,
}

/// Whether the database is believed down, and since when (a simple circuit breaker).
#[derive(Debug, Default)]
struct Health {
    down_since: StdMutex<Option<Instant>>,
}

impl Health {
    fn mark_down(&self) {
        let mut down = self
            .down_since
            .lock()
            .expect("health mutex is never poisoned");
        if down.is_none() {
            tracing::warn!("ticket database unreachable: filing new tickets in the local journal");
        }
        *down = Some(Instant::now());
    }

    fn mark_up(&self) {
        let mut down = self
            .down_since
            .lock()
            .expect("health mutex is never poisoned");
        if down.take().is_some() {
            tracing::info!("ticket database reachable again");
        }
    }

    /// True while we should not even try the database.
    fn skip_database(&self, retry_after: Duration) -> bool {
        let down = self
            .down_since
            .lock()
            .expect("health mutex is never poisoned");
        down.is_some_and(|since| since.elapsed() < retry_after)
    }

    fn is_down(&self) -> bool {
        self.down_since
            .lock()
            .expect("health mutex is never poisoned")
            .is_some()
    }
}

#[derive(Debug)]
struct Shared {
    store: Store,
    clock: SharedClock,
    config: ServiceConfig,
    /// Both behind tokio mutexes, their file work done on the blocking pool with the lock held
    /// (`crate::blocking`).
    journal: Arc<Mutex<Journal>>,
    /// The journal's length, read without its lock.
    journal_backlog: Arc<AtomicUsize>,
    allocator: Arc<Mutex<NumberAllocator>>,
    health: Health,
    /// Departments seen in the database: validates codes without a query per ticket, and names a
    /// journaled ticket's department during an outage.
    departments: StdMutex<HashMap<String, Department>>,
}

/// The ticket service. Cheap to clone; all clones share one writer, journal and allocator.
#[derive(Debug, Clone)]
pub struct TicketService {
    shared: Arc<Shared>,
    writer: mpsc::Sender<WriteRequest>,
}

impl TicketService {
    /// Opens the journal and allocator state in `config.journal_dir`, reserves spare number blocks,
    /// and starts the writer task (needs a tokio runtime). Uses the system clock.
    pub async fn new(store: Store, config: ServiceConfig) -> Result<Self, TicketError> {
        Self::with_clock(store, config, Arc::new(SystemClock)).await
    }

    /// [`TicketService::new`] with an explicit clock (tests use [`crate::ManualClock`]).
    pub async fn with_clock(
        store: Store,
        config: ServiceConfig,
        clock: SharedClock,
    ) -> Result<Self, TicketError> {
        let dirs = [config.journal_dir.clone(), config.recordings_dir.clone()];
        let spare_blocks = config.spare_blocks;
        let (journal, allocator) = tokio::task::spawn_blocking(move || {
            for dir in &dirs {
                std::fs::create_dir_all(dir).map_err(|source| TicketError::Journal {
                    path: dir.clone(),
                    source,
                })?;
            }
            let [journal_dir, _] = &dirs;
            Ok::<_, TicketError>((
                Journal::open(journal_dir)?,
                NumberAllocator::open(journal_dir, spare_blocks)?,
            ))
        })
        .await
        .map_err(|e| TicketError::FileTask(e.to_string()))??;
        let allocator = Arc::new(Mutex::new(allocator));
        let health = Health::default();
        let held = Arc::clone(&allocator).lock_owned().await;
        if let Err(e) = allocator::top_up(held, &store).await {
            // Starting during an outage is allowed as long as spares from an earlier run remain.
            tracing::warn!(error = %e, "could not reserve complaint number blocks at start");
            health.mark_down();
        }
        let departments = match store.departments().await {
            Ok(list) => list.into_iter().map(|d| (d.code.clone(), d)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not load departments at start");
                HashMap::new()
            }
        };
        let (writer, requests) = mpsc::channel(config.max_batch.max(1) * 4);
        let shared = Arc::new(Shared {
            store,
            clock,
            config,
            journal_backlog: journal.backlog(),
            journal: Arc::new(Mutex::new(journal)),
            allocator,
            health,
            departments: StdMutex::new(departments),
        });
        tokio::spawn(run_writer(Arc::clone(&shared), requests));
        Ok(TicketService { shared, writer })
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    pub fn clock(&self) -> &SharedClock {
        &self.shared.clock
    }

    pub fn recordings_dir(&self) -> &Path {
        &self.shared.config.recordings_dir
    }

    /// Files the ticket for a call. Idempotent by `call_id`: a retry (even after a crash) returns the
    /// same number. When this returns, the ticket is durable — in the database, or in the fsync'd
    /// journal if the database is unreachable — so the number can be read to the caller.
    pub async fn create_from_call(
        &self,
        call: NewCallTicket,
    ) -> Result<ComplaintNumber, TicketError> {
        self.file_from_call(call).await.map(|filed| filed.number)
    }

    /// [`TicketService::create_from_call`], saying also whether the ticket holds its recording (filing
    /// again a complaint filed without it attaches it): until it does, the caller keeps its copy.
    pub async fn file_from_call(&self, call: NewCallTicket) -> Result<Filed, TicketError> {
        let NewCallTicket {
            call_id,
            caller_raw,
            caller_number,
            language,
            department_code,
            category,
            district,
            recording,
            after_hours,
        } = call;
        let caller = crate::CallerId::from_trunk(&caller_number);
        self.file(Filing {
            source: TicketSource::Ivr,
            key: Some(validate::call_id(&call_id)?),
            caller_raw: caller_raw.or_else(|| caller.raw_if_changed().map(str::to_owned)),
            // Whatever the trunk sent, the complaint is filed (an unreadable number as `unknown`).
            caller_number: caller.into_number(),
            language,
            department_code,
            category,
            district,
            description: None,
            recording,
            after_hours,
            created_by: "system:ivr".to_owned(),
            filed_by: None,
        })
        .await
    }

    /// Files a ticket from the API for `client`. Its idempotency key is the client's own: the
    /// same key from another client is another complaint (issue 10), and no API key can meet one
    /// of the engine's (recording names, never starting `api:`).
    pub async fn create(
        &self,
        ticket: NewTicket,
        client: &ApiClient,
    ) -> Result<Filed, TicketError> {
        let key = ticket
            .idempotency_key
            .as_deref()
            .map(|k| validate::call_id(k).map(|k| format!("api:{}:{k}", client.key)))
            .transpose()?;
        if ticket.source == TicketSource::Ivr {
            return Err(TicketError::invalid(
                "source",
                "ivr tickets are filed by the engine",
            ));
        }
        let caller_raw = crate::CallerId::from_trunk(&ticket.caller_number)
            .raw_if_changed()
            .map(str::to_owned);
        self.file(Filing {
            source: ticket.source,
            key,
            caller_number: ticket.caller_number,
            caller_raw,
            language: ticket.language,
            department_code: ticket.department_code,
            category: ticket.category,
            district: ticket.district,
            description: ticket.description,
            recording: None,
            after_hours: false,
            created_by: client.actor.clone(),
            filed_by: Some(client.key.clone()),
        })
        .await
    }

    /// Files one complaint, whoever brought it (see [`Filing`]).
    async fn file(&self, filing: Filing) -> Result<Filed, TicketError> {
        let caller_number = validate::caller_number(&filing.caller_number)?;
        let language = validate::language(&filing.language)?;
        let department_code = validate::department_code(&filing.department_code)?;
        let category = validate::optional_text("category", filing.category, 64)?;
        let district = validate::optional_text("district", filing.district, 64)?;
        let description = validate::optional_text("description", filing.description, 4000)?;
        let Filing {
            source,
            key,
            caller_raw,
            recording,
            after_hours,
            created_by,
            filed_by,
            ..
        } = filing;
        if let Some(r) = &recording {
            validate::recording_duration(r.duration_ms)?;
        }

        // Already filed? (A retry after a crash, or during an outage.) Answer without new work.
        // The journal is always asked (it is in memory); the database only when a recording would
        // otherwise be written for nothing — without one, the writer's keyed insert finds the
        // existing ticket anyway, and a query per ticket is saved.
        if let Some(key) = &key {
            if let Some(number) = self.shared.journal.lock().await.number_for_call(key) {
                return Ok(Filed {
                    number,
                    created: false,
                    journaled: true,
                    // Known once it is in the database; the caller keeps its copy until then.
                    recording_kept: false,
                });
            }
            if recording.is_some()
                && !self
                    .shared
                    .health
                    .skip_database(self.shared.config.retry_database_after)
            {
                match self.shared.store.ticket_by_call(key).await {
                    Ok(Some(t)) if t.recording.is_some() => {
                        return Ok(Filed {
                            number: t.number,
                            created: false,
                            journaled: false,
                            recording_kept: true,
                        });
                    }
                    Ok(Some(t)) => {
                        // Filed earlier without its recording: the evidence has turned up.
                        let kept = match recording {
                            Some(r) => self.attach(t.number, r, &created_by).await,
                            None => false,
                        };
                        return Ok(Filed {
                            number: t.number,
                            created: false,
                            journaled: false,
                            recording_kept: kept,
                        });
                    }
                    Ok(None) => {}
                    Err(e) if e.is_unavailable() => self.shared.health.mark_down(),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let known = self.cached_department(&department_code).is_some();
        if !known
            && !self
                .shared
                .health
                .skip_database(self.shared.config.retry_database_after)
        {
            // Checked here (not only by the database) so a bad code is refused before a number is
            // spent. While the database is away an unseen code is journaled rather than refused:
            // replay sets it aside for an operator if it really does not exist.
            match self.shared.store.department(&department_code).await {
                Ok(Some(d)) => {
                    self.shared
                        .departments
                        .lock()
                        .expect("department cache mutex is never poisoned")
                        .insert(d.code.clone(), d);
                }
                Ok(None) => return Err(StoreError::UnknownDepartment(department_code).into()),
                Err(e) if e.is_unavailable() => self.shared.health.mark_down(),
                Err(e) => return Err(e.into()),
            }
        }

        let number = self.allocate().await?;
        // The complaint matters more than its evidence: if the recording cannot be kept (file
        // gone, empty, checksum mismatch, too large), the ticket is filed without it and the
        // reason goes into its audit trail, where an officer will see it.
        let (recording, evidence_problem) = match recording {
            Some(r) => match self.keep_recording(number, r).await {
                Ok(info) => (Some(info), None),
                Err(e) => {
                    tracing::warn!(%number, error = %e, "filing the complaint without its recording");
                    self.discard_recording(number).await;
                    (None, Some(e.to_string()))
                }
            },
            None => (None, None),
        };
        let has_recording = recording.is_some();
        let record = TicketRecord {
            number,
            call_id: key,
            source,
            caller_number,
            // Bounded, whatever a caller sent (the normaliser keeps at most 64 escaped characters).
            caller_raw: caller_raw.map(|raw| raw.chars().take(64).collect()),
            language,
            department_code,
            category,
            district,
            description,
            recording,
            after_hours,
            created_at: self.shared.clock.now(),
            created_by,
            filed_by,
            evidence_problem,
        };
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(WriteRequest { record, reply })
            .await
            .map_err(|_| TicketError::WriterGone)?;
        let outcome = answer.await.map_err(|_| TicketError::WriterGone)?;
        let kept = has_recording;
        let filed = match outcome {
            Err(e) => {
                self.discard_recording(number).await;
                return Err(e);
            }
            Ok(WriteOutcome::Stored(InsertOutcome::Created(n))) => Filed {
                number: n,
                created: true,
                journaled: false,
                recording_kept: kept,
            },
            // A concurrent filing of the same complaint won; whether it kept a recording is its own.
            Ok(WriteOutcome::Stored(InsertOutcome::Existing(n))) => Filed {
                number: n,
                created: false,
                journaled: false,
                recording_kept: false,
            },
            Ok(WriteOutcome::Stored(InsertOutcome::UnknownDepartment)) => {
                self.discard_recording(number).await;
                return Err(TicketError::invalid(
                    "department_code",
                    "no such department",
                ));
            }
            Ok(WriteOutcome::Journaled(n)) => Filed {
                number: n,
                created: n == number,
                journaled: true,
                recording_kept: kept && n == number,
            },
        };
        if filed.number != number {
            // Lost a race with a concurrent retry of the same call: its ticket (and recording) won.
            self.discard_recording(number).await;
        }
        Ok(filed)
    }

    /// Keeps `recording` for a ticket filed without one and records it on the ticket; false (logged)
    /// when it could not be kept, so the caller's copy stays where it is.
    async fn attach(&self, number: ComplaintNumber, recording: Recording, actor: &str) -> bool {
        let info = match self.keep_recording(number, recording).await {
            Ok(info) => info,
            Err(e) => {
                tracing::warn!(%number, error = %e, "the recording found later could not be kept either");
                return false;
            }
        };
        match self
            .shared
            .store
            .attach_recording(number, &info, actor, self.shared.clock.now())
            .await
        {
            Ok(_) => {
                tracing::info!(%number, "recording attached to a ticket filed without it");
                true
            }
            Err(e) => {
                tracing::warn!(%number, error = %e, "could not attach the recording");
                self.discard_recording(number).await;
                false
            }
        }
    }

    async fn allocate(&self) -> Result<ComplaintNumber, TicketError> {
        let lock = || Arc::clone(&self.shared.allocator).lock_owned();
        let mut held = lock().await;
        if held.needs_top_up()
            && !self
                .shared
                .health
                .skip_database(self.shared.config.retry_database_after)
        {
            held = match allocator::top_up(held, &self.shared.store).await {
                Ok(held) => held,
                Err(TicketError::Store(e)) if e.is_unavailable() => {
                    self.shared.health.mark_down();
                    lock().await
                }
                Err(e) => return Err(e),
            };
        }
        allocator::next(held).await
    }

    /// Writes the recording to `<recordings_dir>/<number>.wav`, fsync'd, and returns its evidence.
    async fn keep_recording(
        &self,
        number: ComplaintNumber,
        recording: Recording,
    ) -> Result<RecordingInfo, TicketError> {
        let file_name = format!("{number}.wav");
        let target = self.shared.config.recordings_dir.join(&file_name);
        let max = self.shared.config.max_recording_bytes;
        let expected = recording.sha256.map(|s| s.to_ascii_lowercase());
        let duration_ms = recording.duration_ms;
        let target_for_task = target.clone();
        tokio::task::spawn_blocking(move || -> Result<RecordingInfo, TicketError> {
            let bytes = match recording.audio {
                RecordingAudio::Bytes(b) => b,
                RecordingAudio::File(path) => std::fs::read(&path)
                    .map_err(|source| TicketError::Recording { path, source })?,
            };
            if bytes.is_empty() {
                return Err(TicketError::invalid("recording", "the audio is empty"));
            }
            if bytes.len() as u64 > max {
                return Err(TicketError::invalid(
                    "recording",
                    format!("{} bytes is more than the {max} allowed", bytes.len()),
                ));
            }
            let sha256 = hex::encode(Sha256::digest(&bytes));
            if let Some(expected) = expected
                && expected != sha256
            {
                return Err(TicketError::RecordingChecksum {
                    expected,
                    actual: sha256,
                });
            }
            let io_err = |source| TicketError::Recording {
                path: target_for_task.clone(),
                source,
            };
            {
                use std::io::Write;
                let mut file = std::fs::File::create(&target_for_task).map_err(io_err)?;
                file.write_all(&bytes).map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
            }
            sync_dir(&target_for_task).map_err(io_err)?;
            Ok(RecordingInfo {
                file_name,
                duration_ms,
                sha256,
                bytes: bytes.len() as u64,
            })
        })
        .await
        .map_err(|e| TicketError::Recording {
            path: target,
            source: std::io::Error::other(e.to_string()),
        })?
    }

    async fn discard_recording(&self, number: ComplaintNumber) {
        let path = self
            .shared
            .config
            .recordings_dir
            .join(format!("{number}.wav"));
        if let Err(e) = tokio::fs::remove_file(&path).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove unused recording");
        }
    }

    /// The citizen-facing status of a complaint; `None` if there is no such complaint. During an
    /// outage, tickets still in this node's journal are reported as registered, pending sync.
    pub async fn status(
        &self,
        number: &ComplaintNumber,
    ) -> Result<Option<TicketStatusView>, TicketError> {
        match self.shared.store.ticket(*number).await {
            Ok(Some(t)) => Ok(Some(status_view(&t, false))),
            Ok(None) => Ok(self.journaled_status(*number).await),
            Err(e) if e.is_unavailable() => match self.journaled_status(*number).await {
                Some(view) => Ok(Some(view)),
                None => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    async fn journaled_status(&self, number: ComplaintNumber) -> Option<TicketStatusView> {
        let journal = self.shared.journal.lock().await;
        let record = journal.by_number(number)?;
        let department = self.cached_department(&record.department_code);
        let sla_days = department.as_ref().map_or(0, |d| d.sla_days);
        Some(TicketStatusView {
            number,
            status: TicketStatus::Registered,
            department_code: record.department_code.clone(),
            department_name: department.map_or_else(|| record.department_code.clone(), |d| d.name),
            due_at: record.created_at + chrono::Duration::days(i64::from(sla_days)),
            level: 1,
            pending_sync: true,
        })
    }

    fn cached_department(&self, code: &str) -> Option<Department> {
        self.shared
            .departments
            .lock()
            .expect("department cache mutex is never poisoned")
            .get(code)
            .cloned()
    }

    /// Full ticket (for the API and CLI).
    pub async fn ticket(&self, number: ComplaintNumber) -> Result<Option<Ticket>, TicketError> {
        Ok(self.shared.store.ticket(number).await?)
    }

    /// The citizen's feedback; only on a resolved ticket (anything else is refused with the reason).
    pub async fn feedback(
        &self,
        number: &ComplaintNumber,
        satisfied: bool,
        reason: Option<FeedbackReason>,
    ) -> Result<Ticket, TicketError> {
        Ok(self
            .shared
            .store
            .feedback(
                *number,
                satisfied,
                reason,
                "system:ivr",
                self.shared.clock.now(),
            )
            .await?)
    }

    /// Feedback given on a call: counted only when the caller is the complainant under the configured
    /// [`FeedbackCheck`](crate::complainant::FeedbackCheck) (the registered number, or its last digits
    /// keyed on another phone). A refusal changes nothing but the audit trail, where it is recorded
    /// with the calling number; the caller's keyed digits are never stored.
    pub async fn feedback_by_phone(
        &self,
        number: &ComplaintNumber,
        satisfied: bool,
        reason: Option<FeedbackReason>,
        claim: crate::complainant::Claim<'_>,
    ) -> Result<PhoneFeedback, TicketError> {
        use crate::complainant::{Verdict, judge};
        let ticket = self
            .shared
            .store
            .ticket(*number)
            .await?
            .ok_or(StoreError::TicketNotFound(*number))?;
        let check = self.shared.config.feedback_check;
        match judge(check, &ticket.caller_number, claim) {
            Verdict::Accepted(how) => {
                tracing::debug!(%number, how, "feedback from the complainant");
                self.feedback(number, satisfied, reason)
                    .await
                    .map(|t| PhoneFeedback::Stored(Box::new(t)))
            }
            Verdict::Refused(why) => {
                // The calling number is from outside: escaped, so it cannot forge log lines.
                let caller = claim.caller.escape_debug().to_string();
                tracing::warn!(%number, caller = %caller, why, "feedback refused: not the complainant");
                let note = format!(
                    "by phone from {caller} ({why}; {})",
                    if satisfied {
                        "satisfied"
                    } else {
                        "not satisfied"
                    }
                );
                self.shared
                    .store
                    .record_refusal(
                        *number,
                        "system:ivr",
                        "feedback_refused",
                        &note,
                        self.shared.clock.now(),
                    )
                    .await?;
                Ok(PhoneFeedback::Refused)
            }
        }
    }

    /// The retention job, at `now`: deletes the recordings of complaints closed longer ago than
    /// [`RecordingRetention`] says (file and reference; the audit trail records it). Returns how many.
    pub async fn apply_retention(&self, now: DateTime<Utc>) -> Result<usize, TicketError> {
        let retention = self.shared.config.retention;
        let mut deleted = 0;
        for (status, keep) in [
            (TicketStatus::ClosedSatisfied, retention.after_satisfied),
            (TicketStatus::ClosedUnsatisfied, retention.after_unsatisfied),
            // Closed without the citizen's word: kept as long as a complaint they were unhappy with.
            (TicketStatus::ClosedUnverified, retention.after_unsatisfied),
        ] {
            let Some(keep) = keep.and_then(|k| chrono::Duration::from_std(k).ok()) else {
                continue;
            };
            let cutoff = now - keep;
            loop {
                let batch = self
                    .shared
                    .store
                    .recordings_past(status, cutoff, 200)
                    .await?;
                if batch.is_empty() {
                    break;
                }
                for (number, file) in batch {
                    let path = self.shared.config.recordings_dir.join(&file);
                    match tokio::fs::remove_file(&path).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            // Kept referenced: the next run tries again; nothing is half-forgotten.
                            tracing::warn!(%number, path = %path.display(), error = %e, "could not delete a recording past retention");
                            return Ok(deleted);
                        }
                    }
                    let why = format!("retention: {} days after {status}", keep.num_days());
                    self.shared
                        .store
                        .forget_recording(number, "system:retention", &why, now)
                        .await?;
                    deleted += 1;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "recordings past their retention deleted");
        }
        Ok(deleted)
    }

    /// The reminders owed at `now` (when reminders are on), written for the dialer and the
    /// outbox. Runs before the escalation job, so an overdue ticket's reminder goes to the
    /// officer it was overdue with.
    pub async fn schedule_reminders(
        &self,
        now: DateTime<Utc>,
    ) -> Result<crate::store::Scheduled, TicketError> {
        let policy = self.shared.config.reminders;
        if !policy.enabled {
            return Ok(crate::store::Scheduled::default());
        }
        let scheduled = self
            .shared
            .store
            .schedule_reminders(now, policy.before)
            .await?;
        if scheduled.calls + scheduled.sms > 0 {
            tracing::info!(
                calls = scheduled.calls,
                sms = scheduled.sms,
                "officers' reminders scheduled"
            );
        }
        Ok(scheduled)
    }

    /// The escalation job, at `now`. Returns the tickets raised and their new level.
    pub async fn escalate_overdue(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ComplaintNumber, u8)>, TicketError> {
        let raised = self.shared.store.escalate_overdue(now).await?;
        if !raised.is_empty() {
            tracing::info!(count = raised.len(), "escalated overdue tickets");
        }
        Ok(raised)
    }

    /// Number of tickets waiting in the local journal.
    pub async fn journal_len(&self) -> usize {
        self.journal_backlog()
    }

    /// [`TicketService::journal_len`] without waiting: read while an append or a replay holds the
    /// journal (metrics).
    pub fn journal_backlog(&self) -> usize {
        self.shared.journal_backlog.load(Ordering::Relaxed)
    }

    /// Moves journaled tickets into the database. Idempotent: safe to run again after a failure
    /// half-way (tickets are keyed by call, or found by number). The journal is emptied only when
    /// all are in — read back on a connection of its own, which sees only committed rows (a
    /// transaction that looked committed on a connection sqlx had lost track of was not: issue 9).
    pub async fn replay_journal(&self) -> Result<ReplayReport, TicketError> {
        let store = self.shared.store.clone();
        self.replay_checked(|numbers| async move { store.numbers_not_committed(&numbers).await })
            .await
    }

    /// [`TicketService::replay_journal`] with the read-back passed in: `not_committed` gets the
    /// numbers the replay wrote and returns those the database does not have.
    async fn replay_checked<F, Fut>(&self, not_committed: F) -> Result<ReplayReport, TicketError>
    where
        F: FnOnce(Vec<ComplaintNumber>) -> Fut,
        Fut: Future<Output = Result<Vec<ComplaintNumber>, StoreError>>,
    {
        let journal = Arc::clone(&self.shared.journal).lock_owned().await;
        let mut report = ReplayReport::default();
        if journal.is_empty() {
            return Ok(report);
        }
        let mut refused = Vec::new();
        let mut written = Vec::with_capacity(journal.len());
        for chunk in journal
            .pending()
            .chunks(self.shared.config.max_batch.max(1))
        {
            let outcomes = match self.shared.store.insert_tickets(chunk, true).await {
                Ok(o) => o,
                Err(e) => {
                    if e.is_unavailable() {
                        self.shared.health.mark_down();
                    }
                    return Err(e.into());
                }
            };
            for (record, outcome) in chunk.iter().zip(outcomes) {
                match outcome {
                    InsertOutcome::Created(_) => report.created += 1,
                    InsertOutcome::Existing(_) => report.merged += 1,
                    InsertOutcome::UnknownDepartment => {
                        refused.push(record.clone());
                        continue;
                    }
                }
                written.push(record.number);
            }
        }
        let replayed = written.len();
        let missing = match not_committed(written).await {
            Ok(missing) => missing,
            Err(e) => {
                if e.is_unavailable() {
                    self.shared.health.mark_down();
                }
                return Err(e.into());
            }
        };
        if let Some(first) = missing.first() {
            tracing::error!(
                missing = missing.len(),
                replayed,
                %first,
                path = %journal.path().display(),
                "journal replay looked committed but the database does not have all its tickets; \
                 keeping the journal"
            );
            return Err(TicketError::ReplayNotCommitted {
                missing: missing.len(),
                replayed,
                first: *first,
            });
        }
        if !refused.is_empty() {
            tracing::error!(
                count = refused.len(),
                path = %journal.path().display(),
                "the database refused journaled tickets (a department that no longer exists, or a \
                 number another call's ticket has); set aside for an operator"
            );
            report.set_aside = refused.len();
        }
        with_lock_held(journal, move |journal| {
            if !refused.is_empty() {
                journal.set_aside(&refused)?;
            }
            journal.clear()
        })
        .await?;
        self.shared.health.mark_up();
        tracing::info!(
            created = report.created,
            merged = report.merged,
            "journal replayed"
        );
        Ok(report)
    }

    /// Runs the escalation job every `escalate_every` and retries the journal every `replay_every`
    /// (when it holds anything) until `shutdown` is cancelled.
    pub fn spawn_background(
        &self,
        escalate_every: Duration,
        replay_every: Duration,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut last_retention = None;
            let mut escalate = tokio::time::interval(escalate_every);
            let mut replay = tokio::time::interval(replay_every);
            escalate.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            replay.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // All three branches are cancel-safe (interval ticks and a token).
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = escalate.tick() => {
                        if let Err(e) = service.shared.store.ensure_migrated().await {
                            tracing::warn!(error = %e, "database still not migrated; will retry");
                            continue;
                        }
                        // Retention is a matter of days: once an hour is plenty (and one scan).
                        if last_retention.is_none_or(|at: tokio::time::Instant| at.elapsed() >= RETENTION_EVERY) {
                            last_retention = Some(tokio::time::Instant::now());
                            if let Err(e) = service.apply_retention(service.shared.clock.now()).await {
                                tracing::warn!(error = %e, "recordings retention job failed; will retry");
                            }
                        }
                        if let Err(e) = service.schedule_reminders(service.shared.clock.now()).await {
                            tracing::warn!(error = %e, "reminders job failed; will retry");
                        }
                        if let Err(e) = service.escalate_overdue(service.shared.clock.now()).await {
                            tracing::warn!(error = %e, "escalation job failed; will retry");
                        }
                    }
                    _ = replay.tick() => {
                        if service.journal_len().await > 0
                            && let Err(e) = service.replay_journal().await {
                                tracing::warn!(error = %e, "journal replay failed; will retry");
                            }
                    }
                }
            }
        })
    }

    /// True while the service believes the database is unreachable.
    pub fn database_down(&self) -> bool {
        self.shared.health.is_down()
    }
}

fn status_view(t: &Ticket, pending_sync: bool) -> TicketStatusView {
    TicketStatusView {
        number: t.number,
        status: t.status,
        department_code: t.department_code.clone(),
        department_name: t.department_name.clone(),
        due_at: t.due_at,
        level: t.level,
        pending_sync,
    }
}

/// The single writer: drains whatever requests are waiting (up to `max_batch`), commits them in one
/// transaction, and answers each caller. Falls back to the journal when the database is unreachable.
async fn run_writer(shared: Arc<Shared>, mut requests: mpsc::Receiver<WriteRequest>) {
    let max_batch = shared.config.max_batch.max(1);
    let mut batch = Vec::with_capacity(max_batch);
    while requests.recv_many(&mut batch, max_batch).await > 0 {
        write_batch(&shared, std::mem::take(&mut batch)).await;
    }
}

async fn write_batch(shared: &Shared, batch: Vec<WriteRequest>) {
    let (records, replies): (Vec<TicketRecord>, Vec<_>) =
        batch.into_iter().map(|r| (r.record, r.reply)).unzip();
    if !shared
        .health
        .skip_database(shared.config.retry_database_after)
    {
        let attempt = tokio::time::timeout(
            shared.config.write_timeout,
            shared.store.insert_tickets(&records, false),
        )
        .await;
        match attempt {
            Ok(Ok(outcomes)) => {
                shared.health.mark_up();
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(WriteOutcome::Stored(outcome)));
                }
                return;
            }
            Ok(Err(e)) if !e.is_unavailable() => {
                // Not an outage: some record is bad. Write them one by one so only it fails.
                tracing::warn!(error = %e, "batch insert failed; retrying tickets one by one");
                for (record, reply) in records.into_iter().zip(replies) {
                    let single = shared
                        .store
                        .insert_tickets(std::slice::from_ref(&record), false)
                        .await;
                    let answer = match single {
                        Ok(mut o) => match o.pop() {
                            Some(outcome) => Ok(WriteOutcome::Stored(outcome)),
                            None => Err(TicketError::Store(StoreError::CorruptRow(
                                "insert returned no outcome".into(),
                            ))),
                        },
                        Err(e) if e.is_unavailable() => {
                            shared.health.mark_down();
                            journal_one(shared, record).await
                        }
                        Err(e) => Err(e.into()),
                    };
                    let _ = reply.send(answer);
                }
                return;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "ticket database unavailable"),
            Err(_) => {
                tracing::warn!(timeout = ?shared.config.write_timeout, "ticket write timed out")
            }
        }
        shared.health.mark_down();
    }
    let journal = Arc::clone(&shared.journal).lock_owned().await;
    let path = journal.path().to_path_buf();
    match with_lock_held(journal, move |journal| journal.append(records)).await {
        Ok((_, numbers)) => {
            for (reply, number) in replies.into_iter().zip(numbers) {
                let _ = reply.send(Ok(WriteOutcome::Journaled(number)));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "journal write failed: tickets NOT filed");
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(TicketError::Journal {
                    path: path.clone(),
                    source: std::io::Error::other(message.clone()),
                }));
            }
        }
    }
}

async fn journal_one(shared: &Shared, record: TicketRecord) -> Result<WriteOutcome, TicketError> {
    let journal = Arc::clone(&shared.journal).lock_owned().await;
    let (_, mut numbers) =
        with_lock_held(journal, move |journal| journal.append(vec![record])).await?;
    numbers.pop().map(WriteOutcome::Journaled).ok_or_else(|| {
        TicketError::Store(StoreError::CorruptRow("journal returned no number".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::tests::record;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replay_the_database_does_not_have_keeps_the_journal() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        std::fs::create_dir_all(dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("tickets.db").display());
        let store = Store::connect(&url).await.unwrap();
        let config = ServiceConfig::new(dir.join("journal"), dir.join("recordings"));
        let service = TicketService::new(store.clone(), config).await.unwrap();
        let keyed = record("call-1", 100_000_001);
        let keyless = TicketRecord {
            call_id: None,
            ..record("", 100_000_002)
        };
        service
            .shared
            .journal
            .lock()
            .await
            .append(vec![keyed.clone(), keyless.clone()])
            .unwrap();

        // The read-back does not find one of them: the journal stays as it is.
        let lost = keyless.number;
        let err = service
            .replay_checked(|_| async move { Ok(vec![lost]) })
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                TicketError::ReplayNotCommitted { missing: 1, replayed: 2, first } if first == lost
            ),
            "{err}"
        );
        assert_eq!(service.journal_len().await, 2);
        let journal_file = dir.join("journal").join("tickets.journal");
        assert!(std::fs::metadata(&journal_file).unwrap().len() > 0);

        // Run again with the real read-back (the rows did commit): the keyed record is found by
        // its call, the keyless one by its number; nothing is written twice.
        let report = service.replay_journal().await.unwrap();
        assert_eq!(
            report,
            ReplayReport {
                created: 0,
                merged: 2,
                set_aside: 0
            }
        );
        assert_eq!(service.journal_len().await, 0);
        assert_eq!(std::fs::metadata(&journal_file).unwrap().len(), 0);
        let unknown = ComplaintNumber::from_payload(100_000_003).unwrap();
        assert_eq!(
            store
                .numbers_not_committed(&[keyed.number, keyless.number, unknown])
                .await
                .unwrap(),
            vec![unknown]
        );
        let (_, total) = store
            .list_tickets(
                &crate::model::TicketFilter::default(),
                crate::model::Page::default(),
            )
            .await
            .unwrap();
        assert_eq!(total, 2);
        store.close().await;
    }
}
