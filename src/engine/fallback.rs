//! The fallback importer: turns the complaints Asterisk's dialplan fallback recorded while the engine was
//! away (not started, restarting, at capacity, shutting down) into tickets. The dialplan
//! (`deploy/asterisk/extensions.conf`, `[helpline-fallback]`) records them into Asterisk's stored-recordings
//! folder as `fallback-<YYYYmmdd-HHMMSS>-<caller digits>-<uniqueid>`; on every ARI (re)connect, then every
//! interval, ONE task lists them, files each one with speech as a ticket keyed by the recording's name (so
//! a crash between filing and deleting never makes a second ticket), and deletes the recording on Asterisk
//! only once the ticket is durable. A silent recording is deleted without a ticket; a name that does not
//! parse is logged and left alone; a fetch or filing failure leaves the recording for the next round.
//!
//! It talks to Asterisk only through the [`RecordingStore`] port and to the ticket store only through the
//! [`TicketDesk`] port, like a call task; rounds never overlap because one task runs them in turn.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::WallClock;
use super::ports::{
    CallLog, FetchedRecording, FiledTicket, RecordingStore, StoredRecording, TicketDesk,
};
use super::stats::{EngineStats, bump};

/// What every fallback recording's name starts with.
pub const NAME_PREFIX: &str = "fallback-";
/// The department a fallback complaint goes to: nobody chose one, so general administration triages it.
pub const DEPARTMENT: &str = "GAD";
/// The language of a fallback complaint (the 1100 line's default; the caller chose none).
pub const LANGUAGE: &str = "hi";
/// The interval between rounds when none is configured.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// A recording is left alone until this long after the time in its name: the dialplan may still be
/// writing it (`Record()` takes up to 180 s), and deleting an open file would lose the complaint.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(240);

/// A fallback recording's name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackName {
    /// The whole stored-recording name (the ticket's idempotency key).
    pub name: String,
    /// When the dialplan started recording, in Asterisk's local time (for people: its time zone is not
    /// known here).
    pub recorded_at: NaiveDateTime,
    /// When the call began, from the epoch seconds Asterisk puts in every unique id: the instant both
    /// machines agree on, whatever their time zones (what the settle time is judged by).
    pub call_began: Option<DateTime<Utc>>,
    /// The caller's number normalised ([`tickets::CallerId`]): E.164, or `unknown` when the caller id was
    /// withheld or is no number.
    pub caller: String,
    /// Asterisk's unique id of the call.
    pub unique_id: String,
}

/// Why a stored recording's name is not a fallback recording's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// It does not start with [`NAME_PREFIX`]: some other recording, none of our business.
    #[error("not a fallback recording")]
    NotFallback,
    /// It starts like one but does not follow the dialplan's pattern.
    #[error("malformed fallback recording name: {0}")]
    Malformed(&'static str),
}

/// Parses `fallback-<YYYYmmdd-HHMMSS>-<caller digits>-<uniqueid>` strictly (as `[helpline-fallback]` in
/// `extensions.conf` writes it: the caller filtered to digits, possibly none; the unique id to digits
/// and dots).
pub fn parse_name(name: &str) -> Result<FallbackName, NameError> {
    let rest = name
        .strip_prefix(NAME_PREFIX)
        .ok_or(NameError::NotFallback)?;
    let parts: Vec<&str> = rest.split('-').collect();
    let [date, time, caller, unique_id] = parts[..] else {
        return Err(NameError::Malformed(
            "expected fallback-<date>-<time>-<caller>-<uniqueid>",
        ));
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(date, 8) || !digits(time, 6) {
        return Err(NameError::Malformed("the time is not YYYYmmdd-HHMMSS"));
    }
    let recorded_at = NaiveDateTime::parse_from_str(&format!("{date}{time}"), "%Y%m%d%H%M%S")
        .map_err(|_| NameError::Malformed("the time is not a real date and time"))?;
    if !caller.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NameError::Malformed("the caller is not digits (or empty)"));
    }
    // Any digits (none for a withheld number) make a complaint: normalised like a live call's.
    let caller = tickets::CallerId::from_trunk(caller).into_number();
    let unique_ok = unique_id.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && unique_id.starts_with(|c: char| c.is_ascii_digit())
        && unique_id.ends_with(|c: char| c.is_ascii_digit());
    if !unique_ok {
        return Err(NameError::Malformed("the unique id is not digits and dots"));
    }
    // `<epoch seconds>.<sequence>`; a value before 2001 is not such an epoch (a system's own ids).
    let call_began = unique_id
        .split('.')
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|secs| *secs > 978_307_200)
        .and_then(|secs| DateTime::from_timestamp(secs, 0));
    Ok(FallbackName {
        name: name.to_owned(),
        recorded_at,
        call_began,
        caller,
        unique_id: unique_id.to_owned(),
    })
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Filed as tickets and deleted on Asterisk.
    pub imported: u64,
    /// Silent or empty: deleted, no ticket.
    pub skipped: u64,
    /// Could not be imported (fetch, filing or delete failed): left for the next round.
    pub failed: u64,
    /// Named `fallback-*` but malformed or not WAV: left alone for an operator.
    pub left_alone: u64,
    /// Too recent: the dialplan may still be writing them; the next round looks again.
    pub not_settled: u64,
    /// The list of stored recordings could not be read.
    pub list_failed: bool,
}

/// How the importer runs.
#[derive(Clone)]
pub struct ImporterSettings {
    /// Time between rounds (a round also runs on every ARI (re)connect).
    pub interval: Duration,
    /// Where a fetched recording is written before it is filed (the engine's spool folder).
    pub spool_dir: PathBuf,
    /// How old (by the time in its name) a recording must be before it is imported.
    pub settle: Duration,
    /// The clock the names' times are compared with (Asterisk's and the node's local time agree).
    pub clock: WallClock,
    /// This node's call progress: a live call's `ivr-*` recordings are its own, not left over. `None`:
    /// `ivr-*` recordings are not looked at.
    pub progress: Option<super::progress::ProgressJournal>,
}

impl std::fmt::Debug for ImporterSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImporterSettings")
            .field("interval", &self.interval)
            .field("spool_dir", &self.spool_dir)
            .field("settle", &self.settle)
            .finish_non_exhaustive()
    }
}

/// What happened to one recording.
enum Outcome {
    /// Filed as ticket `number`; the recording lasted `duration_ms`.
    Imported {
        number: String,
        duration_ms: u64,
    },
    /// Silent: deleted without a ticket.
    Skipped {
        duration_ms: u64,
    },
    Failed,
    /// Gone between the list and the fetch (another round cannot exist, so an operator removed it).
    Vanished,
}

/// Imports fallback recordings; build it with [`FallbackImporter::new`], then [`FallbackImporter::run`]
/// it on one task (or call [`FallbackImporter::run_round`] directly).
pub struct FallbackImporter<S, D> {
    store: S,
    desk: D,
    stats: Arc<EngineStats>,
    settings: ImporterSettings,
    /// Malformed names already warned about, so a bad file is reported once, not every round.
    warned: HashSet<String>,
    /// `ivr-*` recordings no live call owns, and since when (see [`FallbackImporter::leftovers`]).
    leftovers_seen: std::collections::HashMap<String, tokio::time::Instant>,
    /// Where each imported fallback call's record goes, and the node named in it.
    log: Arc<dyn CallLog>,
    node: String,
}

impl<S, D> std::fmt::Debug for FallbackImporter<S, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackImporter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Asks a running importer for a round now and waits for its report.
#[derive(Debug, Clone)]
pub struct ImportHandle {
    tx: mpsc::Sender<oneshot::Sender<RoundReport>>,
}

impl ImportHandle {
    /// Runs a round on the importer's task (after the one in progress, if any); `None` if the importer
    /// has stopped.
    pub async fn import_now(&self) -> Option<RoundReport> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(reply).await.ok()?;
        answer.await.ok()
    }
}

/// The closed set of things that start a round or stop the importer.
enum Wake {
    Stop,
    Connection,
    Tick,
    Asked(oneshot::Sender<RoundReport>),
}

impl<S: RecordingStore, D: TicketDesk> FallbackImporter<S, D> {
    /// An importer over Asterisk's stored recordings and the ticket desk, counting into `stats`.
    pub fn new(store: S, desk: D, stats: Arc<EngineStats>, settings: ImporterSettings) -> Self {
        Self {
            store,
            desk,
            stats,
            settings,
            warned: HashSet::new(),
            leftovers_seen: std::collections::HashMap::new(),
            log: Arc::new(super::ports::NoCallLog),
            node: String::new(),
        }
    }

    /// Writes a call record for every fallback call imported (a complaint filed, or a silent recording
    /// deleted), naming `node`.
    pub fn with_call_log(mut self, log: Arc<dyn CallLog>, node: impl Into<String>) -> Self {
        self.log = log;
        self.node = node.into();
        self
    }

    /// Spawns the importer's one task: a round on every new ARI connection (`Connected` with a new
    /// generation), every interval while connected, and whenever the returned handle asks; it stops when
    /// `stop` is cancelled (a recording being filed is finished first).
    pub fn spawn(
        self,
        connection: watch::Receiver<ari::ConnectionState>,
        stop: CancellationToken,
    ) -> (ImportHandle, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(self.run(connection, rx, stop));
        (ImportHandle { tx }, task)
    }

    /// The importer's loop (see [`FallbackImporter::spawn`]).
    pub async fn run(
        mut self,
        mut connection: watch::Receiver<ari::ConnectionState>,
        mut asked: mpsc::Receiver<oneshot::Sender<RoundReport>>,
        stop: CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(self.settings.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; the connection's first `Connected` starts the first round.
        ticker.tick().await;
        let mut imported_generation = None;
        let mut watching = true;
        let mut asking = true;
        loop {
            // Every branch is cancel-safe: a token, a watch change, an interval tick, an mpsc receive.
            let wake = tokio::select! {
                () = stop.cancelled() => Wake::Stop,
                changed = connection.changed(), if watching => match changed {
                    Ok(()) => Wake::Connection,
                    Err(_) => {
                        watching = false;
                        continue;
                    }
                },
                _ = ticker.tick() => Wake::Tick,
                request = asked.recv(), if asking => match request {
                    Some(reply) => Wake::Asked(reply),
                    None => {
                        asking = false;
                        continue;
                    }
                },
            };
            let generation = match &*connection.borrow_and_update() {
                ari::ConnectionState::Connected { generation } => Some(*generation),
                _ => None,
            };
            match wake {
                Wake::Stop => break,
                Wake::Connection => {
                    if generation.is_some() && generation != imported_generation {
                        imported_generation = generation;
                        self.logged_round(&stop).await;
                    }
                }
                Wake::Tick => {
                    if generation.is_some() {
                        self.logged_round(&stop).await;
                    } else {
                        debug!("ARI not connected: fallback import waits for the connection");
                    }
                }
                Wake::Asked(reply) => {
                    let report = self.logged_round(&stop).await;
                    // The asker may have given up waiting; the round is done either way.
                    let _ = reply.send(report);
                }
            }
        }
        debug!("fallback importer stopped");
    }

    async fn logged_round(&mut self, stop: &CancellationToken) -> RoundReport {
        let report = self.round(Some(stop)).await;
        if report.imported + report.skipped + report.failed > 0 {
            info!(
                imported = report.imported,
                skipped = report.skipped,
                failed = report.failed,
                left_alone = report.left_alone,
                not_settled = report.not_settled,
                "fallback recordings imported"
            );
        }
        report
    }

    /// Runs one round over every stored `fallback-*` recording.
    pub async fn run_round(&mut self) -> RoundReport {
        self.round(None).await
    }

    async fn round(&mut self, stop: Option<&CancellationToken>) -> RoundReport {
        let mut report = RoundReport::default();
        let list = match self.store.list_stored().await {
            Ok(list) => list,
            Err(err) => {
                warn!(%err, "could not list Asterisk's stored recordings; fallback import retries later");
                report.list_failed = true;
                return report;
            }
        };
        let now = (self.settings.clock)();
        let mut seen_malformed = HashSet::new();
        let mut leftovers = Vec::new();
        for recording in list {
            if stop.is_some_and(CancellationToken::is_cancelled) {
                break;
            }
            let parsed = match parse_name(&recording.name) {
                Ok(parsed) => parsed,
                Err(NameError::NotFallback) => {
                    if recording.name.starts_with(ivr::call::RECORDING_PREFIX)
                        && recording.format.eq_ignore_ascii_case("wav")
                    {
                        leftovers.push(recording.name);
                    }
                    continue;
                }
                Err(err) => {
                    self.warn_once(&recording, &err.to_string());
                    seen_malformed.insert(recording.name);
                    report.left_alone += 1;
                    continue;
                }
            };
            if !recording.format.eq_ignore_ascii_case("wav") {
                self.warn_once(&recording, "not a WAV recording");
                seen_malformed.insert(recording.name);
                report.left_alone += 1;
                continue;
            }
            // Judged by the epoch in the unique id: two machines' clocks agree on it, their zones need not.
            // Only a name without one falls back on the local time written in the name.
            let settle =
                chrono::Duration::from_std(self.settings.settle).unwrap_or(chrono::Duration::MAX);
            let settled = match parsed.call_began {
                Some(began) => now.with_timezone(&Utc) >= began + settle,
                None => now.naive_local() >= parsed.recorded_at + settle,
            };
            if !settled {
                debug!(recording = %parsed.name, "fallback recording too recent; next round");
                report.not_settled += 1;
                continue;
            }
            let outcome = self.import(&parsed.name, &parsed.caller).await;
            self.log_call(&parsed, &outcome, now);
            self.count(outcome, &mut report);
        }
        self.leftovers(&leftovers, stop, &mut report).await;
        // Forget names that are gone, so the set stays as small as the folder's bad files.
        self.warned.retain(|name| seen_malformed.contains(name));
        report
    }

    /// Recordings of the IVR's own calls left on Asterisk (`ivr-*`): a complaint whose ticket could not
    /// keep its audio (a full disk, a failed fetch), or one spoken on a call whose engine died and whose
    /// progress was lost. Once no live call owns one (none of this node's call progress names its call)
    /// and it has stayed so for the settle time, it is filed like a fallback recording under its own
    /// name — the key its call's ticket has, so a ticket filed without it gets it attached, and one never
    /// filed is filed (for a call-back) — then deleted.
    async fn leftovers(
        &mut self,
        names: &[String],
        stop: Option<&CancellationToken>,
        report: &mut RoundReport,
    ) {
        let Some(progress) = &self.settings.progress else {
            return;
        };
        let owned: Vec<String> = progress
            .load_all()
            .iter()
            .map(|p| ivr::call::recording_prefix(&p.call_id))
            .collect();
        let now = tokio::time::Instant::now();
        self.leftovers_seen.retain(|name, _| names.contains(name));
        for name in names {
            if stop.is_some_and(CancellationToken::is_cancelled) {
                break;
            }
            if owned.iter().any(|prefix| name.starts_with(prefix.as_str())) {
                self.leftovers_seen.remove(name);
                continue;
            }
            let first_seen = *self.leftovers_seen.entry(name.clone()).or_insert(now);
            // The ticket of a call that is over and lacks this audio takes it at once; a recording no
            // ticket names waits out the settle time (its call, on another node say, may still file it).
            let attach_now = self
                .desk
                .filed_without_recording(name)
                .await
                .unwrap_or(false);
            if !attach_now && now.duration_since(first_seen) < self.settings.settle {
                report.not_settled += 1;
                continue;
            }
            let outcome = self.import(name, tickets::caller::UNKNOWN).await;
            if matches!(
                outcome,
                Outcome::Imported { .. } | Outcome::Skipped { .. } | Outcome::Vanished
            ) {
                self.leftovers_seen.remove(name);
            }
            self.count(outcome, report);
        }
    }

    /// The call record of a fallback call once its recording is dealt with (filed or found silent): the
    /// call never reached the IVR, so what is known is what the dialplan put in the name. A call the
    /// engine handed back to the dialplan already has a record under its channel; the store folds this one
    /// into it (see `records::RecordStore::insert_calls`).
    fn log_call(&self, parsed: &FallbackName, outcome: &Outcome, now: DateTime<FixedOffset>) {
        let (ticket, duration_ms) = match outcome {
            Outcome::Imported {
                number,
                duration_ms,
            } => (Some(number), *duration_ms),
            Outcome::Skipped { duration_ms } => (None, *duration_ms),
            Outcome::Failed | Outcome::Vanished => return,
        };
        // The dialplan's local time, read in this node's offset, when the unique id has no epoch.
        let began = parsed.call_began.unwrap_or_else(|| {
            parsed
                .recorded_at
                .and_local_timezone(*now.offset())
                .earliest()
                .map_or_else(|| now.with_timezone(&Utc), |t| t.with_timezone(&Utc))
        });
        let mut record = records::CallRecord::arrived(
            format!("{}{}", records::FALLBACK_CALL_PREFIX, parsed.unique_id),
            parsed.unique_id.clone(),
            self.node.clone(),
            parsed.caller.clone(),
            began,
        );
        record.caller = parsed.caller.clone();
        record.language = Some(LANGUAGE.to_owned());
        record.answered_at = Some(began);
        record.ended_at =
            began + chrono::Duration::milliseconds(i64::try_from(duration_ms).unwrap_or(i64::MAX));
        record.outcome = records::Outcome::Fallback;
        record.recordings = vec![parsed.name.clone()];
        record.tickets = ticket
            .map(|number| records::FiledTicket {
                number: number.clone(),
                department: DEPARTMENT.to_owned(),
            })
            .into_iter()
            .collect();
        self.log.record(record);
    }

    fn count(&self, outcome: Outcome, report: &mut RoundReport) {
        match outcome {
            Outcome::Imported { .. } => {
                bump(&self.stats.fallback_imported);
                report.imported += 1;
            }
            Outcome::Skipped { .. } => {
                bump(&self.stats.fallback_skipped);
                report.skipped += 1;
            }
            Outcome::Failed => {
                bump(&self.stats.fallback_failed);
                report.failed += 1;
            }
            Outcome::Vanished => {}
        }
    }

    fn warn_once(&mut self, recording: &StoredRecording, why: &str) {
        if self.warned.insert(recording.name.clone()) {
            warn!(recording = %recording.name, format = %recording.format, why,
                "stored recording named like a fallback complaint cannot be imported; left alone");
        }
    }

    async fn import(&self, name: &str, caller: &str) -> Outcome {
        let bytes = match self.store.fetch_stored(name).await {
            Ok(bytes) => bytes,
            Err(err) if err.is_gone() => {
                warn!(
                    recording = name,
                    "fallback recording vanished before it was fetched"
                );
                return Outcome::Vanished;
            }
            Err(err) => {
                warn!(recording = name, %err, "could not fetch fallback recording; next round");
                return Outcome::Failed;
            }
        };
        bump(&self.stats.recordings_fetched);
        let analysis = match ivr::analyse_wav(&bytes) {
            Ok(analysis) => analysis,
            Err(err) => {
                // Kept: it may be a file an operator can still play; deleting it could lose a complaint.
                warn!(recording = name, %err, "fallback recording is not a readable WAV; left in place");
                return Outcome::Failed;
            }
        };
        if !analysis.has_speech {
            info!(
                recording = name,
                caller = %caller,
                duration_ms = analysis.duration_ms,
                "fallback recording holds no speech: deleted without a ticket"
            );
            return match self.store.delete_stored(name).await {
                Ok(()) => Outcome::Skipped {
                    duration_ms: analysis.duration_ms,
                },
                Err(err) if err.is_gone() => Outcome::Skipped {
                    duration_ms: analysis.duration_ms,
                },
                Err(err) => {
                    warn!(recording = name, %err, "could not delete silent fallback recording");
                    Outcome::Failed
                }
            };
        }

        let path = self.settings.spool_dir.join(format!("{name}.wav"));
        if let Err(err) = write_file(&path, &bytes).await {
            warn!(recording = name, path = %path.display(), %err, "could not spool fallback recording; next round");
            return Outcome::Failed;
        }
        let draft = ivr::TicketDraft {
            // The recording's name is the complaint's identity: filing it again (after a crash
            // between filing and deleting) finds the same ticket.
            idempotency_key: name.to_owned(),
            call_id: name.to_owned(),
            caller: caller.to_owned(),
            caller_raw: None,
            department: DEPARTMENT.to_owned(),
            language: LANGUAGE.to_owned(),
            recording: Some(ivr::RecordedAudio {
                name: name.to_owned(),
                duration_ms: analysis.duration_ms,
            }),
            // The caller never heard a complaint number: someone must call back with it.
            callback_requested: true,
            caller_hung_up: true,
        };
        let evidence = FetchedRecording {
            name: name.to_owned(),
            path: Some(path.clone()),
            duration_ms: analysis.duration_ms,
        };
        let FiledTicket {
            number,
            recording_kept,
        } = match self.desk.file(&draft, Some(&evidence)).await {
            Ok(filed) => filed,
            Err(err) => {
                warn!(recording = name, %err, "could not file fallback complaint; recording kept for the next round");
                // The desk keeps the spool file only on success; a failed filing leaves no copy behind.
                if let Err(err) = tokio::fs::remove_file(&path).await
                    && err.kind() != std::io::ErrorKind::NotFound
                {
                    warn!(path = %path.display(), %err, "could not remove spooled fallback recording");
                }
                return Outcome::Failed;
            }
        };
        bump(&self.stats.tickets_created);
        if !recording_kept {
            // Filed, but the ticket does not hold the audio yet (our disk is full, say): Asterisk's
            // copy is the evidence. The next round files it again, which attaches it, then deletes.
            warn!(recording = name, %number, "complaint filed without its recording; kept on Asterisk for the next round");
            return Outcome::Failed;
        }
        match self.store.delete_stored(name).await {
            Ok(()) => {}
            Err(err) if err.is_gone() => {}
            Err(err) => {
                // The ticket is durable; the next round files it again (same number) and deletes.
                warn!(recording = name, %number, %err, "fallback complaint filed, but its recording could not be deleted");
                return Outcome::Failed;
            }
        }
        info!(recording = name, %number, %caller, "fallback complaint filed as a ticket");
        Outcome::Imported {
            number,
            duration_ms: analysis.duration_ms,
        }
    }
}

async fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::write(path, bytes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialplans_names_parse() {
        let parsed = parse_name("fallback-20261129-045600-9876543210-1764391560.42").unwrap();
        assert_eq!(parsed.caller, "+919876543210");
        assert_eq!(parsed.unique_id, "1764391560.42");
        assert_eq!(
            parsed.recorded_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            "2026-11-29 04:56:00"
        );
        assert_eq!(
            parsed.call_began.map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-11-29T04:46:00+00:00"),
            "the instant in the unique id, whatever the zones"
        );
        assert_eq!(
            parse_name("fallback-20261129-045600-9876543210-42.1")
                .unwrap()
                .call_began,
            None
        );
        let anonymous = parse_name("fallback-20261129-045600--1764391560.42").unwrap();
        assert_eq!(anonymous.caller, "unknown");
        // Never set aside for its caller id: a short or overlong one is `unknown`.
        for odd in ["12", &"9".repeat(25)] {
            let name = format!("fallback-20261129-045600-{odd}-1764391560.42");
            assert_eq!(parse_name(&name).unwrap().caller, "unknown");
        }
    }

    #[test]
    fn other_recordings_are_not_ours_and_bad_names_are_malformed() {
        assert_eq!(parse_name("call-abc-1"), Err(NameError::NotFallback));
        for bad in [
            "fallback-",
            "fallback-20261129-045600-98765",
            "fallback-20261129-045600-98765-1.2-3",
            "fallback-2026112-045600-98765-1.2",
            "fallback-20261339-045600-98765-1.2",
            "fallback-20261129-256000-98765-1.2",
            "fallback-20261129-045600-98a65-1.2",
            "fallback-20261129-045600-98765-",
            "fallback-20261129-045600-98765-.12",
            "fallback-20261129-045600-98765-12.",
            "fallback-20261129-045600-98765-12x",
        ] {
            assert!(
                matches!(parse_name(bad), Err(NameError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
