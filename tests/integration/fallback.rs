//! The fallback importer against the simulator: complaints the dialplan recorded while the engine was away
//! (WAVs in the simulator's stored-recordings folder, named as `extensions.conf` names them) become
//! tickets once, silent ones are deleted, malformed names are left alone, and a filing that fails keeps
//! the recording for the next round.

use std::sync::Arc;
use std::sync::Mutex;

use helpline::engine::adapters::{AriControl, ServiceDesk};
use helpline::engine::fallback::{FallbackImporter, ImporterSettings};
use helpline::engine::{
    DeskError, EngineStats, Feedback, FeedbackReply, FetchedRecording, FiledTicket, TicketDesk,
};

use crate::support::*;

const SPEECH: &str = "fallback-20261129-045600-9876543210-1764391560.42";
const SILENT: &str = "fallback-20261129-050100-9812345678-1764391861.43";
const MALFORMED: &str = "fallback-2026-11-29-9876543210";
/// One minute before the test clock (1 December 2026, 10:00): the dialplan may still be writing it.
// 09:59 in India on the test day is 04:29 UTC: the epoch in the unique id says so too.
const RECENT: &str = "fallback-20261201-095900-9811111111-1796099340.44";
const OTHER: &str = "some-other-recording";

fn ari_client(sim: &ari_sim::SimHandle) -> ari::Client {
    ari::Client::new(ari::ClientConfig {
        base_url: sim.base_url(),
        credentials: ari::Credentials::new(sim.username().to_owned(), sim.password()),
        timeout: ari::DEFAULT_TIMEOUT,
    })
    .unwrap()
}

async fn stored_names(client: &ari::Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_stored_recordings()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    names.sort();
    names
}

async fn ticket_count(tickets: &tickets::TicketService) -> u64 {
    tickets
        .store()
        .list_tickets(&tickets::TicketFilter::default(), tickets::Page::default())
        .await
        .unwrap()
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_files_fallback_recordings_once_deletes_silence_and_leaves_bad_names_alone() {
    let recordings = temp_dir("fallback-sim");
    write_wav(recordings.path(), SPEECH, 3.0, true);
    write_wav(recordings.path(), SILENT, 2.0, false);
    write_wav(recordings.path(), MALFORMED, 3.0, true);
    write_wav(recordings.path(), RECENT, 3.0, true);
    write_wav(recordings.path(), OTHER, 3.0, true);
    let sim_dir = recordings.path().to_owned();
    let t = TestNode::start_full("fallback", office_hours(), None, "", SPEED, |sim| {
        sim.recordings_dir = Some(sim_dir);
    })
    .await;
    let importer = t.node.fallback_importer();

    // Whether the round the connection started has run yet or not, this one runs after it.
    let report = importer.import_now().await.unwrap();
    let ari = ari_client(&t.sim);
    let mut left = vec![MALFORMED.to_owned(), RECENT.to_owned(), OTHER.to_owned()];
    left.sort();
    assert_eq!(stored_names(&ari).await, left);
    assert_eq!(report.left_alone, 1, "{report:?}");
    assert_eq!(report.not_settled, 1, "{report:?}");

    let ticket = t
        .node
        .tickets()
        .store()
        .ticket_by_call(SPEECH)
        .await
        .unwrap()
        .expect("a ticket for the fallback complaint");
    assert_eq!(ticket.caller_number, "+919876543210");
    assert_eq!(ticket.source, tickets::TicketSource::Ivr);
    assert_eq!(ticket.language, "hi");
    assert_eq!(ticket.department_code, "GAD");
    assert!(ticket.after_hours, "the caller must be called back");
    let evidence = ticket.recording.expect("the recording kept as evidence");
    assert!(
        (2900..=3100).contains(&evidence.duration_ms),
        "{evidence:?}"
    );
    let kept = t.config.recordings_dir.join(&evidence.file_name);
    assert_eq!(
        std::fs::metadata(&kept).unwrap().len(),
        evidence.bytes,
        "{}",
        kept.display()
    );
    assert_eq!(ticket_count(t.node.tickets()).await, 1);

    // Again: nothing left to import, still one ticket.
    let again = importer.import_now().await.unwrap();
    assert_eq!((again.imported, again.skipped, again.failed), (0, 0, 0));
    assert_eq!(ticket_count(t.node.tickets()).await, 1);

    let stats = t.node.stats().snapshot();
    assert_eq!(stats.fallback_imported, 1, "{stats:?}");
    assert_eq!(stats.fallback_skipped, 1, "{stats:?}");
    assert_eq!(stats.fallback_failed, 0, "{stats:?}");
    let metrics = reqwest::get(format!("http://{}/metrics", t.node.http_addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("helpline_fallback_recordings_total{result=\"imported\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("helpline_fallback_recordings_total{result=\"skipped\"} 1\n"),
        "{metrics}"
    );
    t.stop().await;
}

/// What the test desk does with the next filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeskMode {
    /// The ticket store is unreachable: nothing is filed.
    Down,
    /// The ticket is filed, then the node "crashes" before it hears so.
    LoseReply,
    Up,
}

/// The real desk with a switch in front of it.
struct SwitchedDesk {
    inner: ServiceDesk,
    mode: Mutex<DeskMode>,
}

impl SwitchedDesk {
    fn set(&self, mode: DeskMode) {
        *self.mode.lock().unwrap() = mode;
    }
}

impl TicketDesk for SwitchedDesk {
    async fn file(
        &self,
        draft: &ivr::TicketDraft,
        recording: Option<&FetchedRecording>,
    ) -> Result<FiledTicket, DeskError> {
        let mode = *self.mode.lock().unwrap();
        match mode {
            DeskMode::Down => Err(DeskError("ticket database unreachable (test)".to_owned())),
            DeskMode::LoseReply => {
                self.inner.file(draft, recording).await?;
                Err(DeskError("crashed before the reply (test)".to_owned()))
            }
            DeskMode::Up => self.inner.file(draft, recording).await,
        }
    }

    async fn lookup(&self, number: &str) -> Result<Option<ivr::TicketStatusView>, DeskError> {
        self.inner.lookup(number).await
    }

    async fn feedback(&self, feedback: &Feedback<'_>) -> Result<FeedbackReply, DeskError> {
        self.inner.feedback(feedback).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_filing_keeps_the_recording_and_a_lost_reply_never_makes_a_second_ticket() {
    let dir = temp_dir("fallback-desk");
    let sim_recordings = dir.path().join("asterisk");
    std::fs::create_dir_all(&sim_recordings).unwrap();
    write_wav(&sim_recordings, SPEECH, 3.0, true);
    let config = config(dir.path(), None, "");
    let mut sim_config =
        helpline::app::simulator_config(&config.ari_app, &config.ivr.audio_dir, SPEED);
    sim_config.recordings_dir = Some(sim_recordings);
    let sim = ari_sim::Simulator::start(sim_config).await.unwrap();
    let tickets = helpline::app::open_tickets(&config).await.unwrap();
    let desk = Arc::new(SwitchedDesk {
        inner: ServiceDesk::new(tickets.clone()),
        mode: Mutex::new(DeskMode::Down),
    });
    let stats = Arc::new(EngineStats::default());
    let spool = config.recordings_dir.join("incoming");
    let mut importer = FallbackImporter::new(
        AriControl::new(ari_client(&sim)),
        Arc::clone(&desk),
        Arc::clone(&stats),
        ImporterSettings {
            interval: std::time::Duration::from_secs(1),
            spool_dir: spool.clone(),
            settle: helpline::engine::fallback::DEFAULT_SETTLE,
            clock: office_hours(),
            progress: None,
        },
    );
    let ari = ari_client(&sim);

    // The ticket store is down: the recording stays on Asterisk, nothing is filed, nothing spooled.
    let report = importer.run_round().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(stored_names(&ari).await, vec![SPEECH.to_owned()]);
    assert_eq!(ticket_count(&tickets).await, 0);
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);

    // Filed, but the reply is lost (a crash between filing and deleting): the recording stays...
    desk.set(DeskMode::LoseReply);
    let report = importer.run_round().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(stored_names(&ari).await, vec![SPEECH.to_owned()]);
    assert_eq!(ticket_count(&tickets).await, 1);
    let first = tickets
        .store()
        .ticket_by_call(SPEECH)
        .await
        .unwrap()
        .unwrap();

    // ...and the next round finds the same ticket, then deletes the recording.
    desk.set(DeskMode::Up);
    let report = importer.run_round().await;
    assert_eq!(report.imported, 1, "{report:?}");
    assert!(stored_names(&ari).await.is_empty());
    assert_eq!(ticket_count(&tickets).await, 1);
    let last = tickets
        .store()
        .ticket_by_call(SPEECH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.number, last.number);
    assert!(last.recording.is_some());

    let snapshot = stats.snapshot();
    assert_eq!(snapshot.fallback_failed, 2, "{snapshot:?}");
    assert_eq!(snapshot.fallback_imported, 1, "{snapshot:?}");
    sim.shutdown().await.unwrap();
}

/// Waits (generously) until the node has imported `count` fallback recordings by itself.
async fn wait_imported(t: &TestNode, count: u64) {
    eventually(
        std::time::Duration::from_secs(30),
        &format!("{count} fallback recordings imported"),
        || async {
            let stats = t.node.stats().snapshot();
            if stats.fallback_imported >= count {
                Ok(())
            } else {
                Err(stats)
            }
        },
    )
    .await;
}

/// A node whose simulated Asterisk holds one ordinary recording with speech, to copy to fallback names
/// while the node runs (as the dialplan would record them).
async fn node_with_a_recording(tag: &str, extra_config: &str) -> (TestNode, TempDir, ari::Client) {
    let recordings = temp_dir(tag);
    write_wav(recordings.path(), OTHER, 3.0, true);
    let sim_dir = recordings.path().to_owned();
    let t = TestNode::start_full(tag, office_hours(), None, extra_config, SPEED, |sim| {
        sim.recordings_dir = Some(sim_dir);
    })
    .await;
    let ari = ari_client(&t.sim);
    (t, recordings, ari)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ari_reconnection_starts_an_import_round() {
    // Rounds come only from connections here: the interval is an hour.
    let (t, _recordings, ari) =
        node_with_a_recording("fallback-reconnect", "[fallback]\nimport_seconds = 3600").await;
    // The first connection's round has found nothing to import.
    t.node.fallback_importer().import_now().await.unwrap();
    ari.copy_stored_recording(OTHER, SPEECH).await.unwrap();
    t.sim.inject(ari_sim::Fault::DropWebsockets).await.unwrap();
    wait_imported(&t, 1).await;
    assert!(
        t.node
            .tickets()
            .store()
            .ticket_by_call(SPEECH)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(stored_names(&ari).await, vec![OTHER.to_owned()]);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_made_while_connected_are_imported_at_the_next_interval() {
    let (t, _recordings, ari) =
        node_with_a_recording("fallback-interval", "[fallback]\nimport_seconds = 1").await;
    ari.copy_stored_recording(OTHER, SPEECH).await.unwrap();
    wait_imported(&t, 1).await;
    assert_eq!(stored_names(&ari).await, vec![OTHER.to_owned()]);
    assert_eq!(ticket_count(t.node.tickets()).await, 1);
    t.stop().await;
}

/// Issue 9: the IVR's own recordings left on Asterisk — a complaint whose ticket could not keep its
/// audio, one spoken on a call whose engine died with its progress — are filed under their own name
/// (attached to the ticket that lacks it, or a new ticket for a call-back) once no live call owns them,
/// then deleted; a live call's recordings and silent leftovers are handled as they must be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_a_call_left_on_asterisk_are_attached_or_filed_never_a_live_calls() {
    use helpline::engine::progress::{CallProgress, ProgressJournal};
    const WITHOUT_AUDIO: &str = "ivr-02_fc_1796281801_1-record_complaint-1";
    const ORPHAN: &str = "ivr-02_fc_1796281802_7-record_complaint-2";
    const SILENT_TAKE: &str = "ivr-02_fc_1796281803_2-record_complaint-1";
    const LIVE: &str = "ivr-02_fc_1796281804_3-record_complaint-1";
    let dir = temp_dir("leftovers");
    let sim_recordings = dir.path().join("asterisk");
    std::fs::create_dir_all(&sim_recordings).unwrap();
    for name in [WITHOUT_AUDIO, ORPHAN, LIVE] {
        write_wav(&sim_recordings, name, 3.0, true);
    }
    write_wav(&sim_recordings, SILENT_TAKE, 2.0, false);
    let config = config(dir.path(), None, "");
    let mut sim_config =
        helpline::app::simulator_config(&config.ari_app, &config.ivr.audio_dir, SPEED);
    sim_config.recordings_dir = Some(sim_recordings);
    let sim = ari_sim::Simulator::start(sim_config).await.unwrap();
    let tickets = helpline::app::open_tickets(&config).await.unwrap();
    // The call's ticket, filed while our disk was full: no audio.
    let filed = tickets
        .file_from_call(tickets::NewCallTicket {
            call_id: WITHOUT_AUDIO.to_owned(),
            caller_number: "+919816012345".to_owned(),
            caller_raw: None,
            language: "en".to_owned(),
            department_code: "REV".to_owned(),
            category: None,
            district: None,
            recording: None,
            after_hours: false,
        })
        .await
        .unwrap();
    // A call in progress on this node owns LIVE.
    let progress = ProgressJournal::open(dir.path().join("calls")).unwrap();
    progress.save(&CallProgress {
        channel_id: "1796281804.3".into(),
        call_id: "02:fc/1796281804.3".into(),
        caller: "+919816000004".into(),
        caller_raw: None,
        started_at: office_hours()(),
        ivr: ivr::Snapshot {
            step: "record_complaint".into(),
            phase: ivr::SnapshotPhase::Confirm,
            language: "hi".into(),
            vars: Vec::new(),
            recording: None,
            owed_ticket: None,
            recordings_made: 1,
            recordings_started: 1,
            tickets_requested: 0,
            next_tag: 4,
        },
        kept_recording: None,
        queue: None,
    });
    let stats = Arc::new(EngineStats::default());
    let mut importer = FallbackImporter::new(
        AriControl::new(ari_client(&sim)),
        ServiceDesk::new(tickets.clone()),
        Arc::clone(&stats),
        ImporterSettings {
            interval: std::time::Duration::from_secs(1),
            spool_dir: config.recordings_dir.join("incoming"),
            settle: std::time::Duration::from_millis(200),
            clock: office_hours(),
            progress: Some(progress),
        },
    );
    let ari = ari_client(&sim);

    // The ticket that lacks its audio gets it at once; the others wait out the settle time (a call on
    // another node may still file them).
    let report = importer.run_round().await;
    assert_eq!((report.imported, report.not_settled), (1, 2), "{report:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let report = importer.run_round().await;
    assert_eq!((report.imported, report.skipped), (1, 1), "{report:?}");
    assert_eq!(
        stored_names(&ari).await,
        vec![LIVE.to_owned()],
        "a live call's recording stays"
    );

    let attached = tickets.store().ticket(filed.number).await.unwrap().unwrap();
    assert!(attached.recording.is_some(), "the ticket got its evidence");
    assert_eq!(attached.department_code, "REV");
    let orphan = tickets
        .store()
        .ticket_by_call(ORPHAN)
        .await
        .unwrap()
        .unwrap();
    assert!(
        orphan.recording.is_some() && orphan.after_hours,
        "filed for a call-back: {orphan:?}"
    );
    assert_eq!(ticket_count(&tickets).await, 2);
    sim.shutdown().await.unwrap();
}
