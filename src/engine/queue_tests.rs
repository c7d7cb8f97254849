//! The caller's leg in the call centre, on the fakes: the IVR's `agent` step joins a queue over a
//! [`CallCentreLink`] whose other end the test plays; the call task carries out the centre's
//! orders (music, announcements, ringing the agent, the bridge) and tells it what happens.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::call::{CallShared, run_call};
use super::ports::{
    CallCentreLink, CallLog, CentreRequest, LegReport, QueueOrder, QueueRefusal, RingFailure,
};
use super::stats::CallOutcome;
use super::testkit::*;

const CHAN: &str = "1795921121.47";

#[derive(Debug, Default)]
struct Records(Mutex<Vec<records::CallRecord>>);

impl CallLog for Records {
    fn record(&self, record: records::CallRecord) {
        self.0.lock().unwrap().push(record);
    }
}

struct Desk {
    tx: mpsc::Sender<ari::Event>,
    shared: Arc<CallShared<FakeControl, FakeDesk>>,
    centre: mpsc::Receiver<CentreRequest>,
    orders: Option<mpsc::Sender<QueueOrder>>,
    records: Arc<Records>,
    task: tokio::task::JoinHandle<CallOutcome>,
    _dir: std::path::PathBuf,
}

impl Desk {
    async fn start(tag: &str) -> Desk {
        let dir = std::env::temp_dir().join(format!("helpline-queue-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (shared, signals, params) = super::tests::call_parts(&dir);
        let mut shared = Arc::into_inner(shared).expect("fresh");
        let (link, centre) = CallCentreLink::new(16);
        shared.centre = link;
        let records = Arc::new(Records::default());
        shared.log = records.clone();
        let shared = Arc::new(shared);
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(run_call(Arc::clone(&shared), params, rx, signals));
        let desk = Desk {
            tx,
            shared,
            centre,
            orders: None,
            records,
            task,
            _dir: dir,
        };
        desk.settle().await;
        desk
    }

    async fn settle(&self) {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    async fn send(&self, event: ari::Event) {
        let _ = self.tx.send(event).await;
        self.settle().await;
    }

    async fn finish_playback(&self) {
        let id = self.shared.control.last_play().expect("something plays");
        self.send(playback_finished(CHAN, &id)).await;
    }

    fn ops(&self) -> Vec<String> {
        self.shared.control.ops()
    }

    /// Welcome → English → 0 → "connecting you" played → the join request.
    async fn join_queue(&mut self) -> super::ports::QueueJoin {
        self.finish_playback().await; // welcome
        self.send(dtmf(CHAN, '2')).await; // English
        self.send(dtmf(CHAN, '0')).await; // an agent
        self.finish_playback().await; // connecting_agent
        match self.centre.recv().await {
            Some(CentreRequest::Join {
                join,
                orders,
                reply,
            }) => {
                self.orders = Some(orders);
                reply.send(Ok(())).unwrap();
                self.settle().await;
                join
            }
            other => panic!("expected a join, got {other:?}"),
        }
    }

    async fn order(&self, order: QueueOrder) {
        self.orders.as_ref().unwrap().send(order).await.unwrap();
        self.settle().await;
    }

    /// The centre rings `phone` for the caller as attempt `attempt`.
    async fn ring(&self, attempt: &str, agent: &str, phone: &str) {
        self.order(QueueOrder::Ring {
            attempt: attempt.into(),
            agent: agent.into(),
            phone: phone.into(),
            timeout: Duration::from_secs(15),
        })
        .await;
    }

    /// A supervisor joins from `phone`; their leg answers at once.
    async fn supervise(&self, phone: &str, mode: super::ports::SuperviseMode, leg: &str) {
        self.order(QueueOrder::Supervise {
            supervisor: "sunita".into(),
            phone: phone.into(),
            mode,
        })
        .await;
        self.send(stasis_start(leg, "")).await;
    }

    async fn report(&mut self) -> LegReport {
        match tokio::time::timeout(Duration::from_secs(1), self.centre.recv()).await {
            Ok(Some(CentreRequest::Report { call_id, report })) => {
                assert_eq!(call_id, CHAN);
                report
            }
            other => panic!("expected a report, got {other:?}"),
        }
    }

    fn record(&self) -> records::CallRecord {
        self.records
            .0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a call record")
    }
}

#[tokio::test(start_paused = true)]
async fn a_caller_waits_with_music_hears_their_place_and_is_bridged_with_the_agent_who_answers() {
    let mut d = Desk::start("connect").await;
    let join = d.join_queue().await;
    assert_eq!(
        (join.queue.as_str(), join.language.as_str()),
        ("grievance", "en")
    );
    assert_eq!(join.caller, "9816000001");
    // The screen-pop's IVR path: the steps entered, with what was pressed in each.
    let keys: Vec<&str> = join
        .path
        .iter()
        .map(|s| s.keys.as_str())
        .filter(|k| !k.is_empty())
        .collect();
    assert_eq!(keys, ["2", "0"], "{:?}", join.path);
    assert!(join.filed.is_empty());
    assert!(d.ops().contains(&format!("moh {CHAN}")), "{:?}", d.ops());

    // An announcement pauses the music and plays our prompts, then the music comes back.
    d.order(QueueOrder::Announce {
        position: 2,
        expected_wait: Some(Duration::from_secs(180)),
    })
    .await;
    let play = d.ops().last().cloned().unwrap();
    assert!(
        play.starts_with(&format!(
            "play pbq-1-{CHAN} en sound:helpline/queue_position,sound:helpline/num_2"
        )) && play.contains("queue_wait_minutes"),
        "{play}"
    );
    d.send(playback_finished(CHAN, &format!("pbq-1-{CHAN}")))
        .await;
    assert_eq!(d.ops().last().unwrap(), &format!("moh {CHAN}"));

    // A key in the queue is the centre's (and not the IVR's).
    d.send(dtmf(CHAN, '5')).await;
    assert_eq!(d.report().await, LegReport::Key { key: '5' });

    // The centre rings an agent: the leg is routed to this call; its answer is reported.
    d.ring("agent-a1", "asha", "PJSIP/agent-101").await;
    assert!(
        d.ops()
            .contains(&format!("originate agent-a1 PJSIP/agent-101 for {CHAN}"))
    );
    d.send(stasis_start("agent-a1", "")).await;
    assert_eq!(
        d.report().await,
        LegReport::RingAnswered {
            attempt: "agent-a1".into()
        }
    );
    // The caller's music stops only as they are bridged.
    assert_ne!(d.ops().last().unwrap(), &format!("moh-stop {CHAN}"));
    d.order(QueueOrder::Connect {
        attempt: "agent-a1".into(),
        agent: "asha".into(),
    })
    .await;
    let ops = d.ops();
    let n = ops.len();
    assert_eq!(
        ops[n - 3..],
        [
            "bridge acd-agent-a1".to_owned(),
            format!("moh-stop {CHAN}"),
            format!("bridge-add acd-agent-a1 {CHAN},agent-a1"),
        ]
    );
    assert_eq!(
        d.report().await,
        LegReport::Connected {
            attempt: "agent-a1".into()
        }
    );

    // The agent hangs up: the centre hears it, the caller is hung up, the bridge goes.
    d.send(hangup_request("agent-a1")).await;
    assert_eq!(d.report().await, LegReport::CallEnded { by_agent: true });
    let ops = d.ops();
    assert!(
        ops.contains(&"bridge-destroy acd-agent-a1".to_owned()),
        "{ops:?}"
    );
    assert_eq!(ops.last().unwrap(), &format!("hangup {CHAN}"));
    d.send(stasis_end(CHAN)).await;
    assert!(d.task.is_finished());
    let record = d.record();
    assert_eq!(record.outcome, records::Outcome::ToAgent);
    assert_eq!(record.agent.queue.as_deref(), Some("grievance"));
    assert_eq!(record.agent.agent.as_deref(), Some("asha"));
    // (Wall-clock times: tokio's paused clock does not move them.)
    assert!(record.agent.talk_ms.is_some() && record.agent.wait_ms.is_some());
    assert_eq!(record.hung_up_by, records::HungUpBy::Helpline);
}

#[tokio::test(start_paused = true)]
async fn busy_and_unreachable_phones_are_reported_and_a_caller_who_hangs_up_abandons() {
    let mut d = Desk::start("fail").await;
    d.shared
        .control
        .unreachable
        .lock()
        .unwrap()
        .push("PJSIP/agent-103".into());
    d.join_queue().await;
    d.ring("agent-b1", "ravi", "PJSIP/agent-102").await;
    d.send(channel_destroyed("agent-b1", 17)).await;
    assert_eq!(
        d.report().await,
        LegReport::RingFailed {
            attempt: "agent-b1".into(),
            failure: RingFailure::Busy
        }
    );
    d.ring("agent-b2", "meena", "PJSIP/agent-103").await;
    assert_eq!(
        d.report().await,
        LegReport::RingFailed {
            attempt: "agent-b2".into(),
            failure: RingFailure::Unreachable
        }
    );
    assert!(d.ops().contains(&"forget agent-b2".to_owned()));
    // A third rings when the caller hangs up: the leg is hung up with them.
    d.ring("agent-b3", "asha", "PJSIP/agent-101").await;
    d.send(hangup_request(CHAN)).await;
    assert_eq!(d.report().await, LegReport::CallerLeft);
    assert!(
        d.ops().contains(&"hangup agent-b3".to_owned()),
        "{:?}",
        d.ops()
    );
    d.send(stasis_end(CHAN)).await;
    let record = d.record();
    assert_eq!(record.outcome, records::Outcome::AbandonedInQueue);
    assert!(record.agent.wait_ms.is_some());
}

#[tokio::test(start_paused = true)]
async fn the_call_back_offer_keeps_the_place_and_a_give_back_returns_to_the_ivr() {
    // Call-back: offered, taken with 1, promised, hung up by us.
    let mut d = Desk::start("callback").await;
    d.join_queue().await;
    d.order(QueueOrder::OfferCallback).await;
    assert!(d.ops().last().unwrap().contains("callback_offer"));
    d.send(playback_finished(CHAN, &format!("pbq-1-{CHAN}")))
        .await;
    d.send(dtmf(CHAN, '1')).await;
    assert_eq!(d.report().await, LegReport::Key { key: '1' });
    d.order(QueueOrder::CallbackBooked).await;
    assert!(d.ops().last().unwrap().contains("callback_accepted"));
    d.send(playback_finished(CHAN, &format!("pbq-2-{CHAN}")))
        .await;
    assert_eq!(d.ops().last().unwrap(), &format!("hangup {CHAN}"));
    d.send(stasis_end(CHAN)).await;
    assert_eq!(d.report().await, LegReport::Gone);
    assert_eq!(d.record().outcome, records::Outcome::CallbackRequested);

    // Given back: the IVR goes on at on_overflow ("all officers are busy", record the complaint).
    let mut d = Desk::start("giveback").await;
    d.join_queue().await;
    d.order(QueueOrder::GiveBack {
        reason: "waited 600 s".into(),
    })
    .await;
    let ops = d.ops();
    assert!(ops.contains(&format!("moh-stop {CHAN}")), "{ops:?}");
    assert!(ops.last().unwrap().contains("agents_busy"), "{ops:?}");
    d.finish_playback().await; // agents_busy
    assert!(
        d.ops().last().unwrap().contains("record_instructions"),
        "{:?}",
        d.ops()
    );
    // Keys are the IVR's again: one cuts the instructions short (barge-in).
    d.send(dtmf(CHAN, '5')).await;
    assert!(
        d.ops().iter().any(|op| op.starts_with("record ivr-")),
        "{:?}",
        d.ops()
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_join_sends_the_caller_to_on_overflow_at_once() {
    let mut d = Desk::start("refused").await;
    d.finish_playback().await;
    d.send(dtmf(CHAN, '2')).await;
    d.send(dtmf(CHAN, '0')).await;
    d.finish_playback().await;
    match d.centre.recv().await {
        Some(CentreRequest::Join { reply, .. }) => reply
            .send(Err(QueueRefusal::Closed {
                queue: "grievance".into(),
                reason: "no agent logged in".into(),
            }))
            .unwrap(),
        other => panic!("{other:?}"),
    }
    d.settle().await;
    assert!(
        d.ops().last().unwrap().contains("agents_busy"),
        "{:?}",
        d.ops()
    );
    assert!(!d.ops().contains(&format!("moh {CHAN}")));
}

/// Joined, rung and connected to agent leg `agent-a1` (agent `asha`).
async fn connected(tag: &str) -> Desk {
    let mut d = Desk::start(tag).await;
    d.join_queue().await;
    d.ring("agent-a1", "asha", "PJSIP/agent-101").await;
    d.send(stasis_start("agent-a1", "")).await;
    assert!(matches!(d.report().await, LegReport::RingAnswered { .. }));
    d.order(QueueOrder::Connect {
        attempt: "agent-a1".into(),
        agent: "asha".into(),
    })
    .await;
    assert!(matches!(d.report().await, LegReport::Connected { .. }));
    d
}

#[tokio::test(start_paused = true)]
async fn an_agent_who_hangs_up_from_the_desk_ends_the_call_for_both_sides() {
    let mut d = connected("desk-hangup").await;
    // A supervisor listening in goes with the call.
    d.supervise(
        "PJSIP/supervisor-1",
        super::ports::SuperviseMode::Listen,
        &format!("sup-1-{CHAN}"),
    )
    .await;
    d.order(QueueOrder::Hangup).await;
    // The centre hears the agent ended it (the queue log's COMPLETEAGENT, wrap-up for the agent).
    assert_eq!(d.report().await, LegReport::CallEnded { by_agent: true });
    let ops = d.ops();
    let at = |needle: &str| {
        ops.iter()
            .position(|o| o == needle)
            .unwrap_or_else(|| panic!("no `{needle}` in {ops:?}"))
    };
    // The agent's leg first, then the bridge, the supervisor's leg, and the caller last.
    assert!(at("hangup agent-a1") < at("bridge-destroy acd-agent-a1"));
    assert!(at("bridge-destroy acd-agent-a1") < at(&format!("hangup sup-1-{CHAN}")));
    assert_eq!(ops.last().unwrap(), &format!("hangup {CHAN}"));
    // The agent leg's own hangup events that follow end nothing twice.
    d.send(hangup_request("agent-a1")).await;
    d.send(stasis_end("agent-a1")).await;
    d.send(stasis_end(CHAN)).await;
    assert!(d.task.is_finished());
    while let Ok(request) = d.centre.try_recv() {
        if let CentreRequest::Report { report, .. } = request {
            assert!(
                !matches!(report, LegReport::CallEnded { .. }),
                "the end told twice: {report:?}"
            );
        }
    }
    let record = d.record();
    assert_eq!(record.outcome, records::Outcome::ToAgent);
    assert_eq!(record.agent.agent.as_deref(), Some("asha"));
    assert!(record.agent.talk_ms.is_some());
    assert_eq!(record.hung_up_by, records::HungUpBy::Helpline);
}

#[tokio::test(start_paused = true)]
async fn a_hangup_order_for_a_caller_still_waiting_ends_nothing() {
    let mut d = Desk::start("desk-hangup-waiting").await;
    d.join_queue().await;
    let before = d.ops().len();
    d.order(QueueOrder::Hangup).await;
    assert_eq!(d.ops().len(), before, "{:?}", d.ops());
    assert!(d.centre.try_recv().is_err());
    assert!(!d.task.is_finished());
}

#[tokio::test(start_paused = true)]
async fn an_agent_holds_and_transfers_blind_with_the_ticket_attached() {
    use super::ports::TransferTo;
    let mut d = connected("xfer-helpline").await;
    d.order(QueueOrder::Hold { on: true }).await;
    assert_eq!(d.ops().last().unwrap(), &format!("hold {CHAN}"));
    d.order(QueueOrder::Hold { on: false }).await;
    assert_eq!(d.ops().last().unwrap(), &format!("unhold {CHAN}"));

    d.order(QueueOrder::Transfer {
        to: TransferTo::Dialplan {
            context: "integrated-helplines".into(),
            extension: "181".into(),
            label: "181".into(),
        },
    })
    .await;
    assert_eq!(
        d.report().await,
        LegReport::Transferred {
            destination: "181".into()
        }
    );
    let ops = d.ops();
    let at = |needle: &str| {
        ops.iter()
            .position(|o| o.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {ops:?}"))
    };
    // The call's id goes on the channel (inherited by what the dialplan dials), the agent's leg and
    // the bridge end, then the caller goes to the helpline.
    assert!(at("__HELPLINE_CALL=") < at("hangup agent-a1"));
    assert!(at("bridge-destroy acd-agent-a1") < at("continue"));
    assert_eq!(
        ops.last().unwrap(),
        &format!("continue {CHAN} integrated-helplines,181")
    );
    d.send(stasis_end(CHAN)).await;
    assert_eq!(d.report().await, LegReport::Gone);
    let record = d.record();
    assert_eq!(record.agent.agent.as_deref(), Some("asha"));
}

#[tokio::test(start_paused = true)]
async fn a_transfer_to_an_officers_phone_bridges_them_and_one_that_fails_goes_back_to_the_ivr() {
    use super::ports::TransferTo;
    let mut d = connected("xfer-phone").await;
    d.order(QueueOrder::Transfer {
        to: TransferTo::Phone {
            endpoint: "PJSIP/officer-7".into(),
            label: "PJSIP/officer-7".into(),
        },
    })
    .await;
    assert!(matches!(d.report().await, LegReport::Transferred { .. }));
    let leg = format!("xfer-1-{CHAN}");
    assert!(
        d.ops()
            .contains(&format!("originate {leg} PJSIP/officer-7 for {CHAN}")),
        "{:?}",
        d.ops()
    );
    assert!(d.ops().contains(&format!("moh {CHAN}")));
    d.send(stasis_start(&leg, "")).await;
    let ops = d.ops();
    assert!(
        ops.contains(&format!("bridge-add br-{leg} {CHAN},{leg}")),
        "{ops:?}"
    );
    // The officer hangs up: so does the caller.
    d.send(hangup_request(&leg)).await;
    assert_eq!(d.ops().last().unwrap(), &format!("hangup {CHAN}"));

    // An officer who does not answer: the caller records the complaint instead.
    let mut d = connected("xfer-noanswer").await;
    d.order(QueueOrder::Transfer {
        to: TransferTo::Phone {
            endpoint: "PJSIP/officer-7".into(),
            label: "officer".into(),
        },
    })
    .await;
    assert!(matches!(d.report().await, LegReport::Transferred { .. }));
    d.send(channel_destroyed(&format!("xfer-1-{CHAN}"), 19))
        .await;
    assert!(
        d.ops().last().unwrap().contains("agents_busy"),
        "{:?}",
        d.ops()
    );
}

#[tokio::test(start_paused = true)]
async fn a_transfer_to_another_queue_joins_it_with_what_the_ivr_knew() {
    use super::ports::TransferTo;
    let mut d = connected("xfer-queue").await;
    d.order(QueueOrder::Transfer {
        to: TransferTo::Queue("disaster".into()),
    })
    .await;
    assert_eq!(
        d.report().await,
        LegReport::Transferred {
            destination: "queue:disaster".into()
        }
    );
    match d.centre.recv().await {
        Some(CentreRequest::Join { join, reply, .. }) => {
            assert_eq!(
                (join.queue.as_str(), join.language.as_str()),
                ("disaster", "en")
            );
            reply.send(Ok(())).unwrap();
        }
        other => panic!("expected a join, got {other:?}"),
    }
    d.settle().await;
    assert_eq!(d.ops().last().unwrap(), &format!("moh {CHAN}"));
}

#[tokio::test(start_paused = true)]
async fn supervisors_listen_whisper_and_barge_from_their_own_phone() {
    use super::ports::SuperviseMode;
    let mut d = connected("supervise").await;
    // Listen: the supervisor's phone, then a snoop on the agent's leg, bridged together.
    d.order(QueueOrder::Supervise {
        supervisor: "sunita".into(),
        phone: "PJSIP/sup-1".into(),
        mode: SuperviseMode::Listen,
    })
    .await;
    let sup = format!("sup-1-{CHAN}");
    assert!(
        d.ops()
            .contains(&format!("originate {sup} PJSIP/sup-1 for {CHAN}"))
    );
    d.send(stasis_start(&sup, "")).await;
    let snoop = format!("snoop-2-{CHAN}");
    assert_eq!(
        d.ops().last().unwrap(),
        &format!("snoop {snoop} on agent-a1 listen")
    );
    d.send(stasis_start(&snoop, "")).await;
    assert_eq!(
        d.ops().last().unwrap(),
        &format!("bridge-add br-{snoop} {sup},{snoop}")
    );
    // The supervisor hangs up: their snoop and bridge go, the call goes on.
    d.send(hangup_request(&sup)).await;
    let ops = d.ops();
    assert!(ops.contains(&format!("hangup {snoop}")), "{ops:?}");
    assert!(
        ops.contains(&format!("bridge-destroy br-{snoop}")),
        "{ops:?}"
    );
    assert!(!ops.contains(&format!("hangup {CHAN}")));

    // Whisper: the snoop whispers to the agent.
    let sup = format!("sup-3-{CHAN}");
    d.supervise("PJSIP/sup-1", SuperviseMode::Whisper, &sup)
        .await;
    assert_eq!(
        d.ops().last().unwrap(),
        &format!("snoop snoop-4-{CHAN} on agent-a1 whisper")
    );
    // Barge: into the call's own bridge.
    let barger = format!("sup-5-{CHAN}");
    d.supervise("PJSIP/sup-2", SuperviseMode::Barge, &barger)
        .await;
    assert_eq!(
        d.ops().last().unwrap(),
        &format!("bridge-add acd-agent-a1 {barger}")
    );
    // The caller hangs up: every leg goes with them.
    d.send(hangup_request(CHAN)).await;
    assert_eq!(d.report().await, LegReport::CallEnded { by_agent: false });
    let ops = d.ops();
    for leg in ["agent-a1".to_owned(), sup, barger] {
        assert!(ops.contains(&format!("hangup {leg}")), "{leg}: {ops:?}");
    }
}

/// A call-back's task, its agent (`acd-7`) and citizen (`acd-8`) legs answered and bridged.
struct CallbackUp {
    control: Arc<FakeControl>,
    centre: mpsc::Receiver<CentreRequest>,
    orders: mpsc::Sender<QueueOrder>,
    events: mpsc::Sender<ari::Event>,
    task: tokio::task::JoinHandle<()>,
}

async fn callback_connected() -> CallbackUp {
    use super::callback::{CallbackParams, run_callback};
    let control = Arc::new(FakeControl::default());
    let (link, mut centre) = CallCentreLink::new(16);
    let (orders, orders_rx) = mpsc::channel(8);
    let (events, mailbox) = mpsc::channel::<ari::Event>(16);
    let params = CallbackParams {
        call_id: "c9".into(),
        agent_leg: "acd-7".into(),
        number: "+919816000072".into(),
        language: "hi".into(),
        orders: orders_rx,
    };
    let task = {
        let control = Arc::clone(&control);
        tokio::spawn(async move { run_callback(&*control, &link, params, mailbox).await })
    };
    orders
        .send(QueueOrder::Ring {
            attempt: "acd-7".into(),
            agent: "asha".into(),
            phone: "PJSIP/agent-101".into(),
            timeout: Duration::from_secs(20),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    events.send(stasis_start("acd-7", "")).await.unwrap();
    assert_eq!(
        next_report(&mut centre).await,
        LegReport::RingAnswered {
            attempt: "acd-7".into()
        }
    );
    orders
        .send(QueueOrder::PlaceCallback {
            attempt: "acd-8".into(),
            endpoint: "PJSIP/+919816000072@telecom-trunk".into(),
            timeout: Duration::from_secs(40),
        })
        .await
        .unwrap();
    // The citizen's leg answers once it is rung (the order is carried out first).
    tokio::time::sleep(Duration::from_millis(5)).await;
    events.send(stasis_start("acd-8", "")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    events
        .send(playback_finished("acd-8", "pbq-cb-acd-8"))
        .await
        .unwrap();
    assert_eq!(
        next_report(&mut centre).await,
        LegReport::CallbackLeg {
            attempt: "acd-8".into(),
            failure: None
        }
    );
    orders
        .send(QueueOrder::Connect {
            attempt: "acd-7".into(),
            agent: "asha".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        next_report(&mut centre).await,
        LegReport::Connected {
            attempt: "acd-7".into()
        }
    );
    CallbackUp {
        control,
        centre,
        orders,
        events,
        task,
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_back_rings_the_agent_first_then_greets_the_citizen_and_bridges_them() {
    let CallbackUp {
        control,
        mut centre,
        events,
        task,
        ..
    } = callback_connected().await;
    events.send(hangup_request("acd-8")).await.unwrap();
    assert_eq!(
        next_report(&mut centre).await,
        LegReport::CallEnded { by_agent: false }
    );
    task.await.unwrap();
    let ops = control.ops();
    let at = |needle: &str| {
        ops.iter()
            .position(|o| o.starts_with(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {ops:?}"))
    };
    // The agent first, music for them while the citizen rings, who is greeted, then the bridge.
    assert!(at("originate acd-7 PJSIP/agent-101") < at("moh acd-7"));
    assert!(at("moh acd-7") < at("originate acd-8 PJSIP/+919816000072@telecom-trunk"));
    assert!(
        at("play pbq-cb-acd-8 hi sound:helpline/callback_greeting")
            < at("bridge-add br-acd-8 acd-7,acd-8")
    );
    assert!(ops.contains(&"hangup acd-7".to_owned()), "{ops:?}");
}

async fn next_report(centre: &mut mpsc::Receiver<CentreRequest>) -> LegReport {
    match tokio::time::timeout(Duration::from_secs(1), centre.recv()).await {
        Ok(Some(CentreRequest::Report { call_id, report })) => {
            assert_eq!(call_id, "c9");
            report
        }
        other => panic!("expected a report, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_agent_who_hangs_up_a_call_back_from_the_desk_ends_both_legs() {
    let mut up = callback_connected().await;
    up.orders.send(QueueOrder::Hangup).await.unwrap();
    assert_eq!(
        next_report(&mut up.centre).await,
        LegReport::CallEnded { by_agent: true }
    );
    up.task.await.unwrap();
    let ops = up.control.ops();
    for leg in ["hangup acd-7", "hangup acd-8", "bridge-destroy br-acd-8"] {
        assert!(ops.contains(&leg.to_owned()), "{leg}: {ops:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_centre_that_lets_go_leaves_a_conversation_alone_and_gives_a_waiter_back() {
    let mut d = connected("letgo-talking").await;
    d.orders = None;
    d.settle().await;
    assert!(
        !d.ops().contains(&"hangup agent-a1".to_owned()),
        "{:?}",
        d.ops()
    );
    assert!(!d.ops().last().unwrap().contains("agents_busy"));

    let mut d = Desk::start("letgo-waiting").await;
    d.join_queue().await;
    d.orders = None;
    d.settle().await;
    assert!(
        d.ops().last().unwrap().contains("agents_busy"),
        "{:?}",
        d.ops()
    );
}

#[tokio::test(start_paused = true)]
async fn a_warm_transfer_consults_first_then_joins_the_caller_or_brings_them_back() {
    use super::ports::TransferTo;
    let officer = || TransferTo::Phone {
        endpoint: "PJSIP/officer-7".into(),
        label: "officer".into(),
    };
    // Cancelled: the other side hung up, the caller back with the agent.
    let d = connected("warm-cancel").await;
    d.order(QueueOrder::Consult { to: officer() }).await;
    let consult = format!("consult-1-{CHAN}");
    let ops = d.ops();
    assert!(
        ops.contains(&format!("bridge-remove acd-agent-a1 {CHAN}"))
            && ops.contains(&format!("moh {CHAN}"))
            && ops.contains(&format!("originate {consult} PJSIP/officer-7 for {CHAN}")),
        "{ops:?}"
    );
    d.send(stasis_start(&consult, "")).await;
    assert_eq!(
        d.ops().last().unwrap(),
        &format!("bridge-add acd-agent-a1 {consult}")
    );
    d.order(QueueOrder::EndConsult { complete: false }).await;
    let ops = d.ops();
    assert!(ops.contains(&format!("hangup {consult}")), "{ops:?}");
    assert_eq!(
        ops.last().unwrap(),
        &format!("bridge-add acd-agent-a1 {CHAN}")
    );

    // Completed: the caller joins the other side, the agent's leg ends.
    let mut d = connected("warm-complete").await;
    d.order(QueueOrder::Consult { to: officer() }).await;
    d.send(stasis_start(&consult, "")).await;
    d.order(QueueOrder::EndConsult { complete: true }).await;
    assert_eq!(
        d.report().await,
        LegReport::Transferred {
            destination: "officer".into()
        }
    );
    let ops = d.ops();
    let at = |needle: &str| {
        ops.iter()
            .rposition(|o| o == needle)
            .unwrap_or_else(|| panic!("no `{needle}` in {ops:?}"))
    };
    assert!(at(&format!("bridge-add acd-agent-a1 {CHAN}")) < at("hangup agent-a1"));
    // The other side hangs up: so does the caller.
    d.send(hangup_request(&consult)).await;
    assert_eq!(d.ops().last().unwrap(), &format!("hangup {CHAN}"));
}
