//! Unit tests of the call task and the supervisor with in-memory doubles and paused time.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::call::{CallParams, CallShared, CallSignals, run_call};
use super::stats::{CallOutcome, EngineStats};
use super::testkit::*;

const CHAN: &str = "1795921121.47";

fn script() -> Arc<ivr::Script> {
    let validators = ivr::Validators::new().with("complaint_number", |s| s.len() == 10);
    let text = include_str!("../../ivr-scripts/1100.toml");
    Arc::new(ivr::Script::from_toml("1100.toml", text, &validators).unwrap())
}

/// Tuesday 10:00 in India: office hours.
fn office_hours() -> chrono::DateTime<chrono::FixedOffset> {
    let ist = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    ist.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

pub(super) type Shared = Arc<CallShared<FakeControl, FakeDesk>>;

/// What a call task on the fakes starts from: shared state writing recordings to `dir`, fresh signals,
/// and a call on 1100.toml in office hours.
pub(super) fn call_parts(dir: &std::path::Path) -> (Shared, CallSignals, CallParams) {
    let shared = Arc::new(CallShared {
        control: FakeControl::default(),
        desk: FakeDesk::default(),
        stats: Arc::new(EngineStats::default()),
        recordings_dir: dir.to_owned(),
        progress: super::progress::ProgressJournal::open(dir.join("calls")).unwrap(),
        log: Arc::new(super::ports::NoCallLog),
        node: "test".to_owned(),
        centre: super::ports::CallCentreLink::none(),
    });
    let signals = CallSignals {
        lost: CancellationToken::new(),
        resync: Arc::new(tokio::sync::Notify::new()),
        stop: CancellationToken::new(),
    };
    let params = CallParams {
        channel_id: CHAN.to_owned(),
        caller: "9816000001".to_owned(),
        caller_raw: None,
        started_at: office_hours(),
        script: script(),
        speed: 1.0,
        resume: None,
        outbound: None,
    };
    (shared, signals, params)
}

struct Harness {
    tx: mpsc::Sender<ari::Event>,
    shared: Shared,
    signals: CallSignals,
    task: tokio::task::JoinHandle<CallOutcome>,
    _dir: tempfile::TempDir,
}

/// A fresh temporary folder named after the test, removed on drop.
fn temp_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("helpline-engine-{tag}-"))
        .tempdir()
        .unwrap()
}

impl Harness {
    fn start(tag: &str) -> Harness {
        Self::start_on(tag, None)
    }

    /// With `asterisk_id`, the mailbox starts with the call's StasisStart from that Asterisk.
    fn start_on(tag: &str, asterisk_id: Option<&str>) -> Harness {
        let dir = temp_dir(tag);
        let (shared, signals, params) = call_parts(dir.path());
        let (tx, rx) = mpsc::channel(64);
        if let Some(asterisk_id) = asterisk_id {
            tx.try_send(stasis_start(CHAN, asterisk_id)).unwrap();
        }
        let task = tokio::spawn(run_call(Arc::clone(&shared), params, rx, signals.clone()));
        Harness {
            tx,
            shared,
            signals,
            task,
            _dir: dir,
        }
    }

    /// Lets the call task run until it waits again (time is paused, so this costs no real time).
    async fn settle(&self) {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    /// Sends an event; after the task has ended (the IVR is done) there is no one to receive it.
    async fn send(&self, event: ari::Event) {
        let _ = self.tx.send(event).await;
        self.settle().await;
    }

    async fn finish_playback(&self) {
        let id = self
            .shared
            .control
            .last_play()
            .expect("something is playing");
        self.send(playback_finished(CHAN, &id)).await;
    }

    async fn press(&self, key: char) {
        self.send(dtmf(CHAN, key)).await;
    }

    fn ops(&self) -> Vec<String> {
        self.shared.control.ops()
    }

    fn recording_name(&self) -> String {
        self.ops()
            .iter()
            .rev()
            .find_map(|op| op.strip_prefix("record ").map(str::to_owned))
            .expect("a recording was started")
    }

    /// Welcome → English → main menu 1 → category 1 (JSV) → instructions played → recording.
    /// Puts a stored recording where the fake Asterisk serves `fetch_recording` from.
    fn store_recording(&self, name: String, bytes: Vec<u8>) {
        self.shared
            .control
            .recordings
            .lock()
            .unwrap()
            .push((name, bytes));
    }

    async fn to_recording(&self) -> String {
        self.settle().await;
        self.finish_playback().await; // welcome
        self.press('2').await; // English
        self.press('1').await; // register
        self.press('1').await; // water supply
        self.finish_playback().await; // record instructions
        self.recording_name()
    }
}

#[test]
fn the_call_clock_runs_at_the_speed_factor() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = super::call::CallClock::start(50.0);
        let t0 = clock.now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(clock.now() - t0, Duration::from_secs(5));
        let deadline = clock.now() + Duration::from_secs(10);
        let real = clock.real(deadline);
        assert_eq!(
            real - tokio::time::Instant::now(),
            Duration::from_millis(200)
        );
        let identity = super::call::CallClock::start(1.0);
        let at = identity.now() + Duration::from_secs(3);
        assert_eq!(identity.real(at).into_std(), at);
    });
}

#[tokio::test(start_paused = true)]
async fn a_call_is_answered_and_greeted_in_hindi_with_our_playback_ids() {
    let h = Harness::start("greet");
    h.settle().await;
    let ops = h.ops();
    assert_eq!(ops[0], format!("answer {CHAN}"));
    assert_eq!(
        ops[1],
        format!("play pb-0-{CHAN} hi sound:helpline/welcome")
    );
}

#[tokio::test(start_paused = true)]
async fn recording_with_speech_is_fetched_kept_and_filed_before_the_number_is_read() {
    let h = Harness::start("speech");
    let name = h.to_recording().await;
    h.store_recording(name.clone(), wav(2.0, true));
    h.send(recording_finished(CHAN, &name, 2)).await;
    // "1 to keep": the ticket is filed, then the number is read back.
    h.finish_playback().await; // confirm prompt
    h.press('1').await;
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed.len(), 1);
    let (draft, recording) = &filed[0];
    assert_eq!(draft.department, "JSV");
    assert_eq!(draft.language, "en");
    assert_eq!(draft.caller, "9816000001");
    let recording = recording.as_ref().expect("filed with its recording");
    assert_eq!(recording.name, name);
    let path = recording.path.as_ref().expect("written to disk");
    assert_eq!(
        ivr::analyse_wav(&std::fs::read(path).unwrap())
            .unwrap()
            .duration_ms,
        2000
    );
    let ops = h.ops();
    let last = ops.last().unwrap().clone();
    assert!(
        last.contains("digits:1000000001"),
        "number read back after filing: {last}"
    );
    assert!(
        ops.contains(&format!("delete {name}")),
        "Asterisk's copy is deleted once the ticket and ours are durable: {ops:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn hangup_during_recording_still_files_a_ticket_for_speech() {
    let h = Harness::start("hangup-rec");
    let name = h.to_recording().await;
    h.store_recording(name.clone(), wav(3.0, true));
    h.shared.control.gone.lock().unwrap().push(CHAN.to_owned());
    h.send(hangup_request(CHAN)).await;
    h.send(recording_finished(CHAN, &name, 3)).await;
    h.send(stasis_end(CHAN)).await;
    let outcome = h.task.await.unwrap();
    assert_eq!(outcome, CallOutcome::CallerHungUp);
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed.len(), 1, "a ticket for the recorded speech");
    assert!(filed[0].0.caller_hung_up);
    assert!(filed[0].1.is_some());
    let ops = h.shared.control.ops();
    let plays_after_hangup = ops
        .iter()
        .skip_while(|op| !op.starts_with("fetch"))
        .filter(|op| op.starts_with("play"))
        .count();
    assert_eq!(
        plays_after_hangup, 0,
        "nothing is played to a caller who has gone"
    );
}

#[tokio::test(start_paused = true)]
async fn a_recording_still_live_when_the_channel_ends_is_fetched_from_storage() {
    let h = Harness::start("stasis-end-rec");
    let name = h.to_recording().await;
    h.store_recording(name.clone(), wav(1.5, true));
    // RecordingFinished never comes (lost in a disconnection); the channel is gone.
    h.send(stasis_end(CHAN)).await;
    h.task.await.unwrap();
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].1.as_ref().unwrap().name, name);
}

#[tokio::test(start_paused = true)]
async fn silence_is_not_kept_and_the_caller_is_asked_again() {
    let h = Harness::start("silence");
    let name = h.to_recording().await;
    h.store_recording(name.clone(), wav(0.0, false));
    h.send(recording_finished(CHAN, &name, 0)).await;
    // The no-speech prompt plays, then a new recording with a new name.
    h.finish_playback().await;
    let second = h.recording_name();
    assert_ne!(second, name);
    assert!(h.shared.desk.filed.lock().unwrap().is_empty());
    let files = std::fs::read_dir(&h.shared.recordings_dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("wav".as_ref()))
        .count();
    assert_eq!(files, 0, "silent recordings are not written");
    assert!(
        h.ops().contains(&format!("delete {name}")),
        "nor kept on Asterisk"
    );
}

#[tokio::test(start_paused = true)]
async fn a_replaced_take_is_deleted_and_a_recording_never_fetched_stays_on_asterisk() {
    let h = Harness::start("replaced");
    let first = h.to_recording().await;
    h.store_recording(first.clone(), wav(2.0, true));
    h.send(recording_finished(CHAN, &first, 2)).await;
    h.finish_playback().await; // confirm prompt
    h.press('2').await; // record again
    h.finish_playback().await; // instructions
    let second = h.recording_name();
    assert_ne!(second, first);
    // The second take cannot be fetched: Asterisk's figures say it holds speech.
    h.send(recording_finished(CHAN, &second, 4)).await;
    assert!(
        h.ops().contains(&format!("delete {first}")),
        "the replaced take is gone from Asterisk"
    );
    h.finish_playback().await;
    h.press('1').await;
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed.len(), 1);
    let recording = filed[0].1.as_ref().unwrap();
    assert_eq!(recording.name, second);
    assert_eq!(recording.path, None, "never fetched");
    let ops = h.ops();
    assert!(
        !ops.contains(&format!("delete {second}")),
        "the only copy of the complaint stays on Asterisk: {ops:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn asterisks_copy_stays_when_the_ticket_could_not_keep_the_recording() {
    let h = Harness::start("not-kept");
    h.shared
        .desk
        .drops_recordings
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let name = h.to_recording().await;
    h.store_recording(name.clone(), wav(2.0, true));
    h.send(recording_finished(CHAN, &name, 2)).await;
    h.finish_playback().await;
    h.press('1').await;
    assert_eq!(h.shared.desk.filed.lock().unwrap().len(), 1);
    let ops = h.ops();
    assert!(
        !ops.contains(&format!("delete {name}")),
        "the only copy the ticket can get is Asterisk's: {ops:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn after_a_reconnection_a_caller_waiting_at_a_menu_is_asked_again_at_once() {
    let h = Harness::start("reprompt");
    h.settle().await;
    h.finish_playback().await; // welcome
    h.finish_playback().await; // choose language: the menu now waits for a key
    let asked = |h: &Harness| {
        h.ops()
            .iter()
            .filter(|op| op.ends_with("sound:helpline/choose_language"))
            .count()
    };
    assert_eq!(asked(&h), 1);
    // The connection came back: the key the caller pressed meanwhile is lost.
    h.signals.resync.notify_one();
    h.settle().await;
    assert_eq!(
        asked(&h),
        2,
        "asked again, not after the timeout: {:?}",
        h.ops()
    );
    h.press('2').await;
    let last = h.ops().last().unwrap().clone();
    assert!(last.contains(" en sound:helpline/main_menu"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_request_is_retried_and_the_call_goes_on() {
    let h = Harness::start("retry");
    h.shared.control.fail_next(2);
    tokio::time::sleep(Duration::from_secs(3)).await; // the retries' waits
    h.settle().await;
    let ops = h.ops();
    assert_eq!(
        ops[..3],
        [
            format!("answer {CHAN}"),
            format!("answer {CHAN}"),
            format!("answer {CHAN}")
        ]
    );
    assert_eq!(
        ops[3],
        format!("play pb-0-{CHAN} hi sound:helpline/welcome")
    );
    assert_eq!(h.shared.stats.snapshot().ari_retries, 2);
    // A play is retried with its own id: a retry never plays twice.
    h.shared.control.fail_next(1);
    h.finish_playback().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let plays: Vec<String> = h.ops()[4..]
        .iter()
        .filter(|op| op.starts_with("play "))
        .cloned()
        .collect();
    assert_eq!(plays.len(), 2, "{plays:?}");
    assert_eq!(plays[0], plays[1]);
}

#[tokio::test(start_paused = true)]
async fn asterisk_failing_for_good_hands_the_call_to_the_fallback_never_silence() {
    let h = Harness::start("give-up");
    // Every attempt at answering fails; then the hand-off to the fallback is accepted.
    h.shared.control.fail_next(5);
    h.settle().await;
    let outcome = h.task.await.unwrap();
    assert_eq!(outcome, CallOutcome::GivenUp);
    let ops = h.shared.control.ops();
    assert_eq!(ops.len(), 6, "{ops:?}");
    assert_eq!(ops[5], format!("continue {CHAN} back"));
}

#[tokio::test(start_paused = true)]
async fn a_slow_ticket_store_is_a_prompt_within_the_deadline_not_silence() {
    let h = Harness::start("slow-desk");
    *h.shared.desk.delay.lock().unwrap() = Duration::from_secs(60);
    h.settle().await;
    h.finish_playback().await; // welcome
    h.press('2').await; // English
    h.press('2').await; // status of a complaint
    h.finish_playback().await; // enter the number
    for key in "1000000001#".chars() {
        h.press(key).await;
    }
    let asked = tokio::time::Instant::now();
    tokio::time::sleep(super::call::DESK_DEADLINE + Duration::from_millis(10)).await;
    h.settle().await;
    let last = h.ops().last().unwrap().clone();
    assert!(last.contains("service_unavailable"), "{last}");
    assert!(asked.elapsed() < Duration::from_secs(5));
    assert_eq!(h.shared.stats.snapshot().desk_timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn no_key_at_the_language_menu_times_out_and_defaults_to_hindi() {
    let h = Harness::start("timeout");
    h.settle().await;
    h.finish_playback().await; // welcome
    h.finish_playback().await; // choose language
    tokio::time::sleep(Duration::from_secs(6)).await; // 5 s timeout
    h.settle().await;
    h.finish_playback().await; // no-input + choose language again
    tokio::time::sleep(Duration::from_secs(6)).await;
    h.settle().await;
    let last = h.ops().last().unwrap().clone();
    assert!(last.contains(" hi sound:helpline/main_menu"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn gone_errors_after_a_hangup_are_expected_not_counted() {
    let h = Harness::start("gone");
    h.settle().await;
    h.shared.control.gone.lock().unwrap().push(CHAN.to_owned());
    h.send(hangup_request(CHAN)).await;
    h.send(stasis_end(CHAN)).await;
    assert_eq!(h.task.await.unwrap(), CallOutcome::CallerHungUp);
    assert_eq!(h.shared.stats.snapshot().ari_errors, 0);
}

#[tokio::test(start_paused = true)]
async fn the_shutdown_stop_hangs_up_the_call() {
    let h = Harness::start("stop");
    h.settle().await;
    h.signals.stop.cancel();
    h.settle().await;
    assert!(h.ops().contains(&format!("hangup {CHAN}")));
    assert_eq!(h.task.await.unwrap(), CallOutcome::ShutDown);
}

#[tokio::test(start_paused = true)]
async fn a_lost_channel_ends_the_task() {
    let h = Harness::start("lost");
    h.settle().await;
    h.signals.lost.cancel();
    assert_eq!(h.task.await.unwrap(), CallOutcome::Lost);
}

#[tokio::test(start_paused = true)]
async fn after_a_reconnection_a_playback_that_ended_meanwhile_is_caught_up() {
    let h = Harness::start("resync");
    h.settle().await;
    // The welcome's PlaybackFinished was lost while disconnected; the resync asks and moves on.
    h.signals.resync.notify_one();
    h.settle().await;
    let ops = h.ops();
    assert!(ops.contains(&format!("playback? pb-0-{CHAN}")), "{ops:?}");
    assert!(
        ops.last()
            .unwrap()
            .contains("sound:helpline/choose_language"),
        "{ops:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_channel_found_gone_by_a_request_ends_the_call() {
    let h = Harness::start("vanished");
    h.settle().await;
    h.shared.control.gone.lock().unwrap().push(CHAN.to_owned());
    h.finish_playback().await; // the next play finds the channel gone
    assert_eq!(h.task.await.unwrap(), CallOutcome::CallerHungUp);
}

#[tokio::test(start_paused = true)]
async fn the_call_id_names_the_asterisk_so_nodes_sharing_a_database_never_collide() {
    let h = Harness::start_on("call-id", Some("02:fc:00:00:00:07"));
    let name = h.to_recording().await;
    assert!(
        name.starts_with("ivr-02_fc_00_00_00_07_1795921121_47-"),
        "{name}"
    );
    h.store_recording(name.clone(), wav(2.0, true));
    h.send(recording_finished(CHAN, &name, 2)).await;
    h.finish_playback().await;
    h.press('1').await;
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed[0].0.call_id, format!("02:fc:00:00:00:07/{CHAN}"));
    assert_eq!(
        h.ops()[0],
        format!("answer {CHAN}"),
        "requests still name the channel itself"
    );
}

#[test]
fn a_call_task_stays_small() {
    // The engine's budget is 16 KiB per concurrent call at 10,000 calls; the task's own state (the future
    // with the IVR machine in it) must be a small part of that, beside its mailbox and the registry entry.
    let dir = temp_dir("small");
    let (shared, signals, params) = call_parts(dir.path());
    let (_tx, rx) = mpsc::channel::<ari::Event>(64);
    let future = run_call(shared, params, rx, signals);
    let size = std::mem::size_of_val(&future);
    assert!(size <= 4 * 1024, "the call task's future is {size} bytes");
}

// ----- the supervisor ---------------------------------------------------------------------------------

mod supervisor {
    use super::*;
    use crate::engine::{Engine, EngineInput, EngineSettings, ScriptLoader};

    struct Running {
        inputs: mpsc::Sender<EngineInput<mpsc::Receiver<ari::Event>>>,
        reload: mpsc::Sender<()>,
        shutdown: CancellationToken,
        stats: Arc<EngineStats>,
        ops: Arc<std::sync::Mutex<Vec<String>>>,
        done: tokio::task::JoinHandle<()>,
        progress_dir: std::path::PathBuf,
        /// Holds `progress_dir` and the recordings: each engine its own, since tests run at once
        /// and must not resume each other's calls.
        _dir: tempfile::TempDir,
    }

    fn start(max_calls: usize, grace: Duration) -> Running {
        start_with_loader(max_calls, grace, Arc::new(|| Ok(script())))
    }

    fn start_with_loader(max_calls: usize, grace: Duration, loader: ScriptLoader) -> Running {
        start_in(
            temp_dir("supervisor"),
            max_calls,
            grace,
            loader,
            Arc::new(super::super::ports::NoCallLog),
        )
    }

    /// An engine on `dir` (its progress in `dir/calls`) writing call records to `records`.
    fn start_in(
        dir: tempfile::TempDir,
        max_calls: usize,
        grace: Duration,
        loader: ScriptLoader,
        records: Arc<dyn super::super::ports::CallLog>,
    ) -> Running {
        let control = FakeControl::default();
        let log = Arc::clone(&control.ops);
        let progress_dir = dir.path().join("calls");
        let engine = Engine::new(
            control,
            FakeDesk::default(),
            EngineSettings {
                max_concurrent_calls: max_calls,
                shutdown_grace: grace,
                recordings_dir: dir.path().to_owned(),
                progress_dir: progress_dir.clone(),
                node: "test".to_owned(),
                clock: Arc::new(office_hours),
                speed: 1.0,
            },
            loader,
        )
        .unwrap()
        .with_call_log(records);
        let stats = engine.stats();
        let (inputs, inputs_rx) = mpsc::channel(16);
        let (reload, reload_rx) = mpsc::channel(1);
        let shutdown = CancellationToken::new();
        let done = tokio::spawn(engine.run(inputs_rx, reload_rx, shutdown.clone()));
        Running {
            inputs,
            reload,
            shutdown,
            stats,
            ops: log,
            done,
            progress_dir,
            _dir: dir,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn records_of_calls_that_ended_under_a_dead_engine_are_handed_over_at_start() {
        let dir = temp_dir("supervisor-ended");
        let progress =
            super::super::progress::ProgressJournal::open(dir.path().join("calls")).unwrap();
        let at = office_hours().to_utc();
        let record = records::CallRecord::arrived("ast1/c9", "c9", "node-a", "09816000001", at);
        progress.save_ended("c9", &record);
        let held = Arc::new(HeldLog::default());
        let r = start_in(
            dir,
            10,
            Duration::from_secs(5),
            Arc::new(|| Ok(script())),
            held.clone(),
        );
        ::testkit::eventually(Duration::from_secs(5), "the record handed over", || {
            let n = held.records.lock().unwrap().len();
            std::future::ready(if n == 1 { Ok(()) } else { Err(n) })
        })
        .await;
        assert_eq!(held.records.lock().unwrap()[0], record);
        assert_eq!(progress.load_ended().len(), 1, "kept until safe");
        held.all_safe();
        assert!(progress.load_ended().is_empty());
        r.shutdown.cancel();
        r.done.await.unwrap();
    }

    /// The senders of adopted channels' mailboxes, by channel.
    type Senders = Arc<std::sync::Mutex<Vec<(String, mpsc::Sender<ari::Event>)>>>;

    /// An adopter as the ARI glue makes one: a mailbox per channel (its sender kept for the test).
    fn adopter(senders: &Senders) -> super::super::Adopter<mpsc::Receiver<ari::Event>> {
        let senders = Arc::clone(senders);
        super::super::Adopter::new(move |channel: &str| {
            let (tx, rx) = mpsc::channel(64);
            senders.lock().unwrap().push((channel.to_owned(), tx));
            Some(super::super::Adopted {
                mailbox: rx,
                caller: "09816000001".to_owned(),
            })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn calls_waiting_after_lost_events_start_and_calls_a_dead_engine_left_resume() {
        let r = start(10, Duration::from_secs(5));
        // A dead engine left progress for "left": it was at the main menu, in English.
        let journal = super::super::progress::ProgressJournal::open(&r.progress_dir).unwrap();
        journal.save(&super::super::progress::CallProgress {
            channel_id: "left".into(),
            call_id: "left".into(),
            caller: "+919816000002".into(),
            caller_raw: None,
            started_at: office_hours(),
            ivr: ivr::Snapshot {
                step: "main_menu".into(),
                phase: ivr::SnapshotPhase::Step,
                language: "en".into(),
                vars: Vec::new(),
                recording: None,
                owed_ticket: None,
                recordings_made: 0,
                recordings_started: 0,
                tickets_requested: 0,
                next_tag: 3,
            },
            kept_recording: None,
            queue: None,
        });
        let senders = Arc::new(std::sync::Mutex::new(Vec::new()));
        r.inputs
            .send(EngineInput::Reconnected {
                generation: 1,
                present: vec!["left".into(), "waiting".into()],
                unrouted: vec!["left".into(), "waiting".into()],
                adopt: Some(adopter(&senders)),
                stalled: false,
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let ops = ops(&r);
        assert!(
            ops.contains(&"play pb-1003-left en sound:helpline/main_menu".to_owned()),
            "resumed at its step, in its language, with fresh playback ids: {ops:?}"
        );
        assert!(ops.contains(&"answer waiting".to_owned()), "{ops:?}");
        assert!(
            !ops.iter().any(|op| op.starts_with("continue")),
            "nobody is sent to the fallback's apology: {ops:?}"
        );
        let stats = r.stats.snapshot();
        assert_eq!((stats.calls_resumed, stats.calls_picked_up), (1, 1));
        assert_eq!(senders.lock().unwrap().len(), 2);
    }

    async fn offer(r: &Running, channel: &str) -> mpsc::Sender<ari::Event> {
        offer_from(r, channel, "9816000001").await
    }

    async fn offer_from(r: &Running, channel: &str, caller: &str) -> mpsc::Sender<ari::Event> {
        let (tx, rx) = mpsc::channel(64);
        r.inputs
            .send(EngineInput::NewCall {
                channel_id: channel.to_owned(),
                caller: caller.to_owned(),
                mailbox: rx,
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        tx
    }

    fn ops(r: &Running) -> Vec<String> {
        r.ops.lock().unwrap().clone()
    }

    /// Issue 9.4: the call runs on the normalised caller id; what the trunk sent is in the call's span,
    /// escaped, and no log line is broken or coloured by it.
    #[tokio::test(start_paused = true)]
    async fn the_caller_id_is_normalised_at_the_edge_and_logged_escaped() {
        let (subscriber, capture) = crate::telemetry::capture(crate::telemetry::LogFormat::Text);
        let _logging = tracing::subscriber::set_default(subscriber);
        // With one live subscriber, tracing-core asks the *registering thread's* default about a new
        // callsite: other tests' threads (no subscriber) would switch this test's callsites off for good.
        // A second live dispatcher makes it ask every live one; then redo what was cached meanwhile.
        let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        tracing::callsite::rebuild_interest_cache();
        let r = start(4, Duration::from_secs(5));
        let _spaced = offer_from(&r, "c1", "+91-98160-12345").await;
        let _hostile = offer_from(&r, "c2", "98160\n2026-12-01 ERROR forged\u{1b}[31m").await;
        let _plain = offer_from(&r, "c3", "+919816012345").await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let out = capture.text();
        assert!(!out.contains('\u{1b}'), "{out}");
        let of = |call: &str| -> Vec<&str> {
            let span = format!("call{{call_id={call} ");
            out.lines().filter(|l| l.contains(&span)).collect()
        };
        let (c1, c2, c3) = (of("c1"), of("c2"), of("c3"));
        assert!(!c1.is_empty() && !c2.is_empty() && !c3.is_empty(), "{out}");
        assert!(
            c1.iter()
                .all(|l| l.contains("caller=+919816012345 caller_raw=\"+91-98160-12345\"}")),
            "{c1:?}"
        );
        assert!(
            c2.iter().all(|l| l.contains(
                r#"caller=unknown caller_raw="98160\\n2026-12-01 ERROR forged\\u{1b}[31m"}"#
            )),
            "{c2:?}"
        );
        // Already in the normal form: nothing more to keep.
        assert!(
            c3.iter().all(|l| l.contains("caller=+919816012345}")),
            "{c3:?}"
        );
        // No line was forged: every one starts with the formatter's timestamp.
        assert!(out.lines().all(|l| l.starts_with("20")), "{out}");
    }

    #[tokio::test(start_paused = true)]
    async fn over_the_cap_a_call_is_sent_back_unanswered() {
        let r = start(1, Duration::from_secs(5));
        let _first = offer(&r, "c1").await;
        let _second = offer(&r, "c2").await;
        let ops = ops(&r);
        assert!(ops.contains(&"answer c1".to_owned()), "{ops:?}");
        assert!(ops.contains(&"continue c2 back".to_owned()), "{ops:?}");
        assert!(!ops.contains(&"answer c2".to_owned()), "{ops:?}");
        assert_eq!(r.stats.snapshot().calls_over_capacity, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_refuses_new_calls_and_hangs_up_the_rest_after_the_grace_period() {
        let r = start(10, Duration::from_secs(5));
        let _first = offer(&r, "c1").await;
        r.shutdown.cancel();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let _late = offer(&r, "c2").await;
        assert!(ops(&r).contains(&"continue c2 back".to_owned()));
        assert!(
            !ops(&r).contains(&"hangup c1".to_owned()),
            "c1 may finish within the grace period"
        );
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert!(ops(&r).contains(&"hangup c1".to_owned()), "{:?}", ops(&r));
        r.done.await.unwrap();
        let stats = r.stats.snapshot();
        assert_eq!(
            (stats.calls_refused_shutdown, stats.calls_shut_down),
            (1, 1),
            "{stats:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unrouted_channel_goes_back_only_if_no_call_claims_it_within_the_grace() {
        let r = start(10, Duration::from_secs(5));
        let reconnected = |unrouted: &[&str]| EngineInput::Reconnected {
            generation: 2,
            present: unrouted.iter().map(|c| (*c).to_owned()).collect(),
            unrouted: unrouted.iter().map(|c| (*c).to_owned()).collect(),
            adopt: None,
            stalled: false,
        };
        r.inputs
            .send(reconnected(&["orphan", "racing"]))
            .await
            .unwrap();
        // "racing" was a StasisStart still on its way: its call arrives within the grace period.
        let _racing = offer(&r, "racing").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let ops = ops(&r);
        assert!(ops.contains(&"continue orphan back".to_owned()), "{ops:?}");
        assert!(!ops.contains(&"continue racing back".to_owned()), "{ops:?}");
        assert_eq!(r.stats.snapshot().orphans_reconciled, 1);
        assert_eq!(r.stats.snapshot().reconnections, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_call_ends_and_goes_back_and_reloads_are_counted() {
        let r = start(10, Duration::from_secs(5));
        let _call = offer(&r, "c1").await;
        r.inputs
            .send(EngineInput::Abandon {
                channel_id: "c1".to_owned(),
            })
            .await
            .unwrap();
        r.reload.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            ops(&r).contains(&"continue c1 back".to_owned()),
            "{:?}",
            ops(&r)
        );
        let stats = r.stats.snapshot();
        assert_eq!(
            (
                stats.calls_lost,
                stats.calls_in_progress,
                stats.script_reloads
            ),
            (1, 0, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_invalid_script_on_reload_is_refused_and_the_running_one_stays() {
        let broken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&broken);
        let loader: ScriptLoader = Arc::new(move || {
            if flag.load(std::sync::atomic::Ordering::Relaxed) {
                Err("1100.toml:3:1: error: unknown step".to_owned())
            } else {
                Ok(script())
            }
        });
        let r = start_with_loader(10, Duration::from_secs(5), loader);
        broken.store(true, std::sync::atomic::Ordering::Relaxed);
        r.reload.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let _call = offer(&r, "c1").await;
        let stats = r.stats.snapshot();
        assert_eq!((stats.script_reloads, stats.script_reload_failures), (0, 1));
        assert!(
            ops(&r).contains(&"answer c1".to_owned()),
            "calls still run on the old script"
        );
    }

    /// A reload reads hundreds of files: it runs on the blocking pool, and the supervisor takes
    /// calls while it does.
    #[tokio::test]
    async fn a_reload_reading_its_files_does_not_hold_up_new_calls() {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&loads);
        let loader: ScriptLoader = Arc::new(move || {
            // The first load is the engine's start; the reload's waits for the test (or 10 s: a
            // load run on the supervisor's task would hold up the test's own task that long, and
            // then the reload would be counted before the call was answered).
            if counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                let _ = wait.lock().unwrap().recv_timeout(Duration::from_secs(10));
            }
            Ok(script())
        });
        let r = start_with_loader(10, Duration::from_secs(5), loader);
        r.reload.send(()).await.unwrap();
        ::testkit::eventually(Duration::from_secs(5), "the reload to start", || {
            let started = loads.load(std::sync::atomic::Ordering::SeqCst);
            std::future::ready((started == 2).then_some(()).ok_or(started))
        })
        .await;
        let _call = offer(&r, "c1").await;
        ::testkit::eventually(Duration::from_secs(5), "c1 answered mid-reload", || {
            let ops = ops(&r);
            std::future::ready(
                ops.contains(&"answer c1".to_owned())
                    .then_some(())
                    .ok_or(ops),
            )
        })
        .await;
        assert_eq!(
            r.stats.snapshot().script_reloads,
            0,
            "the reload is still reading"
        );
        release.send(()).unwrap();
        ::testkit::eventually(Duration::from_secs(5), "the reload to be counted", || {
            let done = r.stats.snapshot().script_reloads;
            std::future::ready((done == 1).then_some(()).ok_or(done))
        })
        .await;
    }
}

/// The engine died (its task is gone mid-call, as after `kill -9`): another picks the call up from the
/// progress file, on a new mailbox, with the same shared ports.
fn resume_on(
    h: &Harness,
    mailbox: mpsc::Receiver<ari::Event>,
) -> tokio::task::JoinHandle<CallOutcome> {
    h.task.abort();
    let mut saved = h.shared.progress.load_all();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let (_, signals, mut params) = call_parts(&h.shared.recordings_dir);
    params.resume = Some(Box::new(saved.remove(0)));
    tokio::spawn(run_call(Arc::clone(&h.shared), params, mailbox, signals))
}

#[tokio::test(start_paused = true)]
async fn a_call_recording_when_the_engine_died_is_picked_up_and_its_complaint_filed_once() {
    let h = Harness::start("resume-rec");
    let name = h.to_recording().await;
    // The caller went on speaking and pressed #: Asterisk stored the recording meanwhile.
    h.store_recording(name.clone(), wav(4.0, true));
    let (tx, rx) = mpsc::channel(64);
    let resumed = resume_on(&h, rx);
    h.settle().await;
    // The new engine asked how the recording stands, fetched it, and asks "1 keep, 2 again".
    let ops = h.ops();
    assert!(ops.contains(&format!("recording? {name}")), "{ops:?}");
    let last = ops.last().unwrap();
    assert!(last.contains("record_confirm"), "{last}");
    assert!(
        !last.contains(&format!("pb-{}-", 0)),
        "no playback id of the engine that died is reused: {last}"
    );
    let _ = tx.send(dtmf(CHAN, '1')).await;
    h.settle().await;
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].0.idempotency_key, name);
    assert_eq!(filed[0].1.as_ref().unwrap().name, name);
    let _ = tx.send(stasis_end(CHAN)).await;
    resumed.await.unwrap();
    assert!(
        h.shared.progress.load_all().is_empty(),
        "the call ended: nothing left to resume"
    );
}

#[tokio::test(start_paused = true)]
async fn a_caller_who_hung_up_while_no_engine_listened_has_the_spoken_complaint_filed() {
    let h = Harness::start("resume-gone");
    let name = h.to_recording().await;
    h.store_recording(name.clone(), wav(3.0, true));
    // The channel is gone by the time an engine is back: no event will ever come.
    let (tx, rx) = mpsc::channel(1);
    drop(tx);
    let outcome = resume_on(&h, rx).await.unwrap();
    assert_eq!(outcome, CallOutcome::Lost);
    let filed = h.shared.desk.filed.lock().unwrap().clone();
    assert_eq!(filed.len(), 1, "the complaint on Asterisk became a ticket");
    assert!(filed[0].0.caller_hung_up);
    assert_eq!(filed[0].0.idempotency_key, name);
    assert!(h.shared.progress.load_all().is_empty());
}

/// A call log that keeps what it is handed and says a record is safe only when the test says so.
#[derive(Default)]
struct HeldLog {
    records: std::sync::Mutex<Vec<records::CallRecord>>,
    waiting: std::sync::Mutex<Vec<records::OnSafe>>,
}

impl std::fmt::Debug for HeldLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldLog").finish_non_exhaustive()
    }
}

impl super::ports::CallLog for HeldLog {
    fn record(&self, record: records::CallRecord) {
        self.records.lock().unwrap().push(record);
    }

    fn record_then(&self, record: records::CallRecord, on_safe: records::OnSafe) {
        self.record(record);
        self.waiting.lock().unwrap().push(on_safe);
    }
}

impl HeldLog {
    /// The log has everything safe.
    fn all_safe(&self) {
        for on_safe in std::mem::take(&mut *self.waiting.lock().unwrap()) {
            on_safe();
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_ended_calls_record_stays_on_disk_until_the_call_log_has_it_safe() {
    let dir = temp_dir("ended");
    let (shared, signals, params) = call_parts(dir.path());
    let held = Arc::new(HeldLog::default());
    let shared = Arc::new(CallShared {
        log: held.clone(),
        ..Arc::try_unwrap(shared).unwrap()
    });
    let (tx, rx) = mpsc::channel(64);
    let task = tokio::spawn(run_call(Arc::clone(&shared), params, rx, signals));
    tx.send(stasis_end(CHAN)).await.unwrap();
    task.await.unwrap();
    assert_eq!(held.records.lock().unwrap().len(), 1);
    assert!(shared.progress.load_all().is_empty(), "nothing to resume");
    // A `kill -9` now would leave the record to the next engine.
    let ended = shared.progress.load_ended();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].record, held.records.lock().unwrap()[0]);
    held.all_safe();
    assert!(
        shared.progress.load_ended().is_empty(),
        "forgotten once safe"
    );
}

#[tokio::test(start_paused = true)]
async fn progress_follows_the_call_and_is_gone_when_it_ends() {
    let h = Harness::start("progress");
    h.settle().await;
    let saved = h.shared.progress.load_all();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].channel_id, CHAN);
    assert_eq!(saved[0].ivr.step, "welcome");
    h.finish_playback().await;
    h.press('2').await;
    let saved = h.shared.progress.load_all();
    assert_eq!(
        (saved[0].ivr.step.as_str(), saved[0].ivr.language.as_str()),
        ("main_menu", "en")
    );
    h.send(stasis_end(CHAN)).await;
    assert!(h.shared.progress.load_all().is_empty());
}
