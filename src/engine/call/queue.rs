//! A caller in the call centre, as part of their call's task: the IVR said `Enqueue`, the call
//! centre (`acd::runtime`, over [`CallCentreLink`]) decides, and this carries out its orders on the
//! caller's channel and on the agent legs rung for it — all in the call's one task, fed in wire
//! order: the agent legs' events come to the caller's mailbox (each leg is routed to the caller's
//! call before its originate goes out).
//!
//! While waiting the caller hears music on hold on their own channel (as `app_queue` does: no
//! shared holding bridge, so no caller hears another's announcement), interrupted by our own
//! announcements — position and expected wait, the call-back offer. An agent leg that answers is
//! bridged with the caller in a mixing bridge of its own; the caller's music stops only then.
//! When either side hangs up the other is hung up too. The call centre is told everything that
//! happens ([`LegReport`]); when it gives the caller back, the IVR goes on at the step's
//! `on_overflow`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ivr::{Input, Media};
use tracing::{debug, info, warn};

use super::super::ports::{
    CallControl, LegReport, OriginateLeg, QueueJoin, QueueOrder, RingFailure, SuperviseMode,
    TicketDesk, TransferTo,
};
use super::super::progress::{ConnectedProgress, QueueProgress};
use super::super::translate::{self, LegEvent};
use super::{CallDriver, play_retried, retried};

/// What the agent's phone shows as the caller's name.
const CALLER_NAME: &str = "1100";

/// What plays after one of the queue's own playbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterPlay {
    /// Music on hold again.
    Moh,
    /// Hang up (the call-back is promised).
    Hangup,
}

/// The caller and the agent, bridged.
#[derive(Debug)]
struct Talking {
    attempt: String,
    agent: String,
    bridge: String,
}

/// Where the caller stands in the call centre, compared to save the call's progress when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QueueMark {
    Waiting,
    Talking,
    Leaving,
}

/// The phone a caller is transferred to: rung, then bridged with them.
#[derive(Debug)]
struct TransferLeg {
    channel: String,
    label: String,
    bridge: Option<String>,
}

/// A warm transfer's other side, which the agent talks to while the caller waits.
#[derive(Debug)]
struct ConsultLeg {
    channel: String,
    label: String,
    answered: bool,
    /// The agent completed the transfer while the other side still rang: it completes when they
    /// answer (an attended transfer completed early is a blind one).
    complete_on_answer: bool,
}

/// A supervisor on the agent's call, from their own phone.
#[derive(Debug)]
struct SupervisorLeg {
    channel: String,
    supervisor: String,
    mode: SuperviseMode,
    answered: bool,
    /// Listening or whispering: the snoop on the agent's channel and the bridge with it.
    snoop: Option<String>,
    bridge: Option<String>,
}

/// What the caller said in the IVR, to join another queue with after a transfer.
#[derive(Debug, Clone)]
struct JoinedWith {
    language: String,
    department: Option<String>,
    complaints: Vec<String>,
}

/// The caller's state in the call centre.
#[derive(Debug)]
pub(super) struct QueueLeg {
    queue: String,
    joined_with: JoinedWith,
    /// The agent handed the caller on: the call centre is done with them.
    transferred: bool,
    transfer: Option<TransferLeg>,
    consult: Option<ConsultLeg>,
    supervisors: Vec<SupervisorLeg>,
    /// Numbers the legs this call makes beyond the agents' (`xfer-`, `sup-`, `snoop-`).
    next_leg: u32,
    joined_at: DateTime<Utc>,
    /// The centre's orders, until the call task's loop takes them to wait on.
    pub(super) orders: Option<tokio::sync::mpsc::Receiver<QueueOrder>>,
    moh: bool,
    /// Our playback on the caller's channel and what follows it.
    playing: Option<(String, AfterPlay)>,
    next_tag: u32,
    /// Agent legs rung, not answered yet.
    ringing: Vec<String>,
    /// Agent legs answered, waiting for the centre's `Connect`.
    answered: Vec<String>,
    talking: Option<Talking>,
    /// The call-back is booked: the caller hears so and is hung up.
    callback_accepted: bool,
}

impl QueueLeg {
    fn owns(&self, channel: &str) -> bool {
        self.ringing.iter().any(|a| a == channel)
            || self.answered.iter().any(|a| a == channel)
            || self.talking.as_ref().is_some_and(|t| t.attempt == channel)
    }

    fn new_leg(&mut self, kind: &str, channel: &str) -> String {
        self.next_leg += 1;
        format!("{kind}-{}-{channel}", self.next_leg)
    }
}

/// The complaint number on a leg we ring: as a variable, and as the SIP header the phone (or the
/// officer's system) can read — Asterisk puts `PJSIP_HEADER(add,…)` given at the originate into
/// the INVITE (trace `transfer_with_variables`).
fn ticket_variables(complaints: &[String]) -> Vec<(String, String)> {
    match complaints.first() {
        Some(first) => vec![
            ("TICKET_NUMBER".to_owned(), first.clone()),
            (
                "PJSIP_HEADER(add,X-Complaint-Number)".to_owned(),
                first.clone(),
            ),
        ],
        None => Vec::new(),
    }
}

/// The queue's playback ids: `pbq-<n>-<channel>`, apart from the IVR's `pb-` ones.
fn queue_playback_id(channel: &str, tag: u32) -> String {
    format!("pbq-{tag}-{channel}")
}

/// What an announcement says: "you are number N in the queue; your expected waiting time is about
/// M minutes" (or "within a minute"), from our own prompts and numbers.
pub(super) fn announcement(position: u32, expected_wait: Option<Duration>) -> Vec<Media> {
    let mut media = vec![Media::Prompt("queue_position".into())];
    media.extend(ivr::say::number(position).into_iter().map(Media::Prompt));
    media.push(Media::Prompt("queue_position_end".into()));
    match expected_wait {
        Some(wait) if wait >= Duration::from_secs(90) => {
            let minutes = u32::try_from(wait.as_secs().div_ceil(60)).unwrap_or(u32::MAX);
            media.push(Media::Prompt("queue_wait".into()));
            media.extend(ivr::say::number(minutes).into_iter().map(Media::Prompt));
            media.push(Media::Prompt("queue_wait_minutes".into()));
        }
        Some(_) => media.push(Media::Prompt("queue_wait_short".into())),
        None => media.push(Media::Prompt("queue_please_hold".into())),
    }
    media
}

impl<C: CallControl, D: TicketDesk> CallDriver<'_, C, D> {
    pub(super) fn queue_mark(&self) -> Option<QueueMark> {
        self.queue.as_ref().map(|l| {
            if l.talking.is_some() {
                QueueMark::Talking
            } else if l.callback_accepted || l.transferred {
                QueueMark::Leaving
            } else {
                QueueMark::Waiting
            }
        })
    }

    /// What the engine that follows needs to pick the caller up in the call centre.
    pub(super) fn queue_progress(&self) -> Option<QueueProgress> {
        let leg = self.queue.as_ref()?;
        if leg.callback_accepted || leg.transferred {
            return None;
        }
        Some(QueueProgress {
            queue: leg.queue.clone(),
            joined_at: leg.joined_at,
            language: leg.joined_with.language.clone(),
            department: leg.joined_with.department.clone(),
            complaints: leg.joined_with.complaints.clone(),
            connected: leg.talking.as_ref().map(|t| ConnectedProgress {
                attempt: t.attempt.clone(),
                agent: t.agent.clone(),
                bridge: t.bridge.clone(),
            }),
        })
    }

    /// The IVR's path so far and the complaints it filed, for the agent's screen-pop.
    fn ivr_so_far(&self) -> (Vec<records::PathStep>, Vec<String>) {
        self.trace
            .as_ref()
            .map(|t| (t.path().to_vec(), t.filed()))
            .unwrap_or_default()
    }

    /// After an engine restart: the caller was in the call centre. Waiting, they join again with
    /// their first join time (their place kept) and hear the music again; talking, their agent's leg
    /// and bridge are routed to this call again — and if the agent hung up meanwhile, that is the
    /// end of the conversation.
    pub(super) async fn resume_queue(&mut self, saved: QueueProgress) {
        let (path, filed) = self.ivr_so_far();
        let ctx = self.call.context();
        if let Some(c) = &saved.connected
            && let Err(err) =
                self.shared
                    .control
                    .adopt_leg(&c.attempt, Some(&c.bridge), &self.channel)
        {
            warn!(%err, "cannot route the agent's leg to the resumed call");
        }
        let join = QueueJoin {
            call_id: ctx.call_id.clone(),
            channel: self.channel.clone(),
            caller: ctx.caller.clone(),
            queue: saved.queue.clone(),
            language: saved.language.clone(),
            department: saved.department.clone(),
            complaints: saved.complaints.clone(),
            joined_at: saved.joined_at,
            path,
            filed,
        };
        let orders = self.shared.centre.join(join).await;
        if let Some(trace) = &mut self.trace {
            trace.queued(&saved.queue, saved.joined_at);
        }
        let talking = saved.connected.as_ref().map(|c| Talking {
            attempt: c.attempt.clone(),
            agent: c.agent.clone(),
            bridge: c.bridge.clone(),
        });
        let orders = match orders {
            Ok(orders) => Some(orders),
            Err(refusal) if talking.is_none() => {
                info!(%refusal, "the call centre did not take the resumed caller back");
                if let Some(trace) = &mut self.trace {
                    trace.given_back(Utc::now());
                }
                self.feed(Input::QueueOverflow).await;
                return;
            }
            // Talking: the conversation goes on whatever the centre says.
            Err(refusal) => {
                warn!(%refusal, "the call centre does not know the resumed conversation");
                None
            }
        };
        info!(queue = %saved.queue, talking = talking.is_some(), "caller picked up in the call centre");
        let agent = talking
            .as_ref()
            .map(|t| (t.attempt.clone(), t.agent.clone()));
        self.queue = Some(Box::new(QueueLeg {
            queue: saved.queue,
            joined_with: JoinedWith {
                language: saved.language,
                department: saved.department,
                complaints: saved.complaints,
            },
            transferred: false,
            transfer: None,
            consult: None,
            supervisors: Vec::new(),
            next_leg: 100,
            joined_at: saved.joined_at,
            orders,
            moh: false,
            playing: None,
            next_tag: 100,
            ringing: Vec::new(),
            answered: Vec::new(),
            talking,
            callback_accepted: false,
        }));
        match agent {
            Some((attempt, agent)) => {
                if let Some(trace) = &mut self.trace {
                    trace.agent_connected(&agent, Utc::now());
                }
                if !matches!(self.shared.control.channel_live(&attempt).await, Ok(true)) {
                    // The agent hung up while no engine listened.
                    self.agent_leg_over(&attempt).await;
                }
            }
            None => self.music().await,
        }
    }

    /// The IVR's `Enqueue`: join the queue, start the music. A refusal gives the caller back to
    /// the IVR at once.
    pub(super) async fn enqueue(
        &mut self,
        queue: String,
        language: String,
        department: Option<String>,
        complaints: Vec<String>,
    ) -> Option<Input> {
        let (path, filed) = self.ivr_so_far();
        let ctx = self.call.context();
        let joined_at = Utc::now();
        let joined_with = JoinedWith {
            language: language.clone(),
            department: department.clone(),
            complaints: complaints.clone(),
        };
        let join = QueueJoin {
            call_id: ctx.call_id.clone(),
            channel: self.channel.clone(),
            caller: ctx.caller.clone(),
            queue: queue.clone(),
            language,
            department,
            complaints,
            joined_at,
            path,
            filed,
        };
        if let Some(trace) = &mut self.trace {
            trace.queued(&queue, joined_at);
        }
        match self.shared.centre.join(join).await {
            Ok(orders) => {
                info!(%queue, "caller queued");
                self.queue = Some(Box::new(QueueLeg {
                    queue,
                    joined_with,
                    transferred: false,
                    transfer: None,
                    consult: None,
                    supervisors: Vec::new(),
                    next_leg: 0,
                    joined_at,
                    orders: Some(orders),
                    moh: false,
                    playing: None,
                    next_tag: 0,
                    ringing: Vec::new(),
                    answered: Vec::new(),
                    talking: None,
                    callback_accepted: false,
                }));
                self.music().await;
                None
            }
            Err(refusal) => {
                info!(%queue, %refusal, "the call centre did not take the caller");
                if let Some(trace) = &mut self.trace {
                    trace.given_back(Utc::now());
                }
                Some(Input::QueueOverflow)
            }
        }
    }

    /// Music on hold for a waiting caller (not once they talk to an agent or are leaving).
    async fn music(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        if leg.moh || leg.talking.is_some() || leg.playing.is_some() || self.hung_up {
            return;
        }
        leg.moh = true;
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let channel = self.channel.as_str();
        let result = retried(stats, "start moh", |_| control.start_moh(channel)).await;
        if !self.control_result("start moh", result)
            && let Some(leg) = &mut self.queue
        {
            leg.moh = false;
        }
    }

    async fn silence_music(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        if !leg.moh {
            return;
        }
        leg.moh = false;
        let result = self.shared.control.stop_moh(&self.channel).await;
        self.control_result("stop moh", result);
    }

    /// Plays our own media to the waiting caller (the music pauses), then `after`.
    async fn say_to_caller(&mut self, media: Vec<Media>, after: AfterPlay) {
        if self.hung_up {
            return;
        }
        self.silence_music().await;
        let Some(leg) = &mut self.queue else { return };
        if let Some((id, _)) = leg.playing.take() {
            // A newer announcement replaces one still playing.
            let result = self.shared.control.stop_playback(&id).await;
            self.control_result("stop playback", result);
        }
        let Some(leg) = &mut self.queue else { return };
        leg.next_tag += 1;
        let id = queue_playback_id(&self.channel, leg.next_tag);
        leg.playing = Some((id.clone(), after));
        let language = self.call.language().to_owned();
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let result = play_retried(control, stats, &self.channel, &id, &media, &language).await;
        if !self.control_result("play", result) {
            // Not played: carry on as if it had.
            self.queue_playback_ended(&id).await;
        }
    }

    /// One of the queue's playbacks ended: music again, or the hangup after the call-back promise.
    pub(super) async fn queue_playback_ended(&mut self, playback_id: &str) -> bool {
        let Some(leg) = &mut self.queue else {
            return false;
        };
        match &leg.playing {
            Some((id, after)) if id == playback_id => {
                let after = *after;
                leg.playing = None;
                match after {
                    AfterPlay::Moh => self.music().await,
                    AfterPlay::Hangup => {
                        self.we_ended = true;
                        let result = self.shared.control.hangup(&self.channel).await;
                        self.control_result("hangup", result);
                    }
                }
                true
            }
            _ => playback_id.starts_with("pbq-"),
        }
    }

    /// A key while waiting: the centre's to judge (the call-back key books the call-back).
    pub(super) async fn queue_key(&mut self, key: char) {
        if self.waiting() {
            self.tell_centre(LegReport::Key { key }).await;
        }
    }

    /// The call-back is booked: the promise, then the hangup; the place keeps moving.
    async fn callback_booked(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        if leg.callback_accepted || leg.talking.is_some() {
            return;
        }
        leg.callback_accepted = true;
        info!("caller took the call-back offer");
        if let Some(trace) = &mut self.trace {
            trace.callback_requested();
        }
        let media = vec![Media::Prompt("callback_accepted".into())];
        self.say_to_caller(media, AfterPlay::Hangup).await;
    }

    async fn tell_centre(&mut self, report: LegReport) {
        let call_id = self.call.context().call_id.clone();
        if !self.shared.centre.report(&call_id, report.clone()).await {
            warn!(?report, "the call centre did not take a report");
        }
    }

    /// An order from the call centre.
    pub(super) async fn on_order(&mut self, order: QueueOrder) {
        if self.hung_up {
            return;
        }
        match order {
            QueueOrder::Announce {
                position,
                expected_wait,
            } => {
                if self.waiting() {
                    self.say_to_caller(announcement(position, expected_wait), AfterPlay::Moh)
                        .await;
                }
            }
            QueueOrder::OfferCallback => {
                if self.waiting() {
                    let media = vec![Media::Prompt("callback_offer".into())];
                    self.say_to_caller(media, AfterPlay::Moh).await;
                }
            }
            QueueOrder::CallbackBooked => self.callback_booked().await,
            QueueOrder::Ring {
                attempt,
                agent,
                phone,
                timeout,
            } => self.ring(attempt, agent, phone, timeout).await,
            QueueOrder::CancelRing { attempt } => self.cancel_ring(&attempt).await,
            QueueOrder::Connect { attempt, agent } => self.connect(attempt, agent).await,
            QueueOrder::GiveBack { reason } => {
                info!(%reason, "the call centre gives the caller back to the IVR");
                self.end_queue_legs().await;
                self.silence_music().await;
                if let Some(leg) = self.queue.take()
                    && let Some((id, _)) = leg.playing
                {
                    let result = self.shared.control.stop_playback(&id).await;
                    self.control_result("stop playback", result);
                }
                if let Some(trace) = &mut self.trace {
                    trace.given_back(Utc::now());
                }
                self.feed(Input::QueueOverflow).await;
            }
            QueueOrder::Hold { on } => {
                if self.queue.as_ref().is_some_and(|l| l.talking.is_some()) {
                    let result = self.shared.control.hold(&self.channel, on).await;
                    self.control_result(if on { "hold" } else { "unhold" }, result);
                }
            }
            QueueOrder::Transfer { to } => self.transfer(to).await,
            QueueOrder::Consult { to } => self.consult(to).await,
            QueueOrder::EndConsult { complete } => self.end_consult(complete).await,
            // A call-back's order: its own task places those, never a caller's.
            QueueOrder::PlaceCallback { attempt, .. } => {
                warn!(%attempt, "a call-back order for a caller's call: ignored");
            }
            QueueOrder::Supervise {
                supervisor,
                phone,
                mode,
            } => self.supervise(supervisor, phone, mode).await,
            QueueOrder::Hangup => self.agent_hangs_up().await,
        }
    }

    /// The agent hangs up from the desk: a consultation in progress ends, the agent's leg is hung
    /// up, and the conversation ends as when the agent puts the phone down ([`Self::agent_leg_over`]:
    /// the centre told `by_agent`, the bridge gone, the caller hung up). The leg's own events that
    /// follow find nothing left to end.
    async fn agent_hangs_up(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        let Some(attempt) = leg.talking.as_ref().map(|t| t.attempt.clone()) else {
            return;
        };
        if let Some(c) = leg.consult.take() {
            self.hang_up_leg(&c.channel).await;
        }
        info!(%attempt, "the agent hangs up from the desk");
        self.hang_up_leg(&attempt).await;
        self.agent_leg_over(&attempt).await;
    }

    /// Puts the call's complaint numbers on the caller's channel, inherited by what it dials
    /// (`__TICKET_NUMBER`: the first; `__HELPLINE_COMPLAINTS`: all) — the dialplan's pre-dial
    /// handler puts them in a SIP header for the receiving side (deploy/asterisk).
    async fn attach_ticket(&mut self) {
        let ctx = self.call.context();
        let mut vars = vec![("__HELPLINE_CALL".to_owned(), ctx.call_id.clone())];
        if let Some(leg) = &self.queue
            && let Some(first) = leg.joined_with.complaints.first()
        {
            vars.push(("__TICKET_NUMBER".to_owned(), first.clone()));
            vars.push((
                "__HELPLINE_COMPLAINTS".to_owned(),
                leg.joined_with.complaints.join(","),
            ));
        }
        for (name, value) in vars {
            let result = self
                .shared
                .control
                .set_variable(&self.channel, &name, &value)
                .await;
            self.control_result("set variable", result);
        }
    }

    /// The agent hands the caller on: their leg ends at once (blind), the ticket goes along.
    async fn transfer(&mut self, to: TransferTo) {
        let Some(leg) = &mut self.queue else { return };
        if leg.talking.is_none() || leg.transferred {
            return;
        }
        let destination = to.label();
        info!(%destination, "the agent transfers the caller");
        self.attach_ticket().await;
        if let Some(trace) = &mut self.trace {
            trace.agent_ended(Utc::now());
        }
        // The agent's leg and the bridge end; supervisors with them.
        self.end_agent_side().await;
        self.tell_centre(LegReport::Transferred {
            destination: destination.clone(),
        })
        .await;
        if let Some(leg) = &mut self.queue {
            leg.transferred = true;
        }
        match to {
            TransferTo::Dialplan {
                context, extension, ..
            } => {
                if let Some(trace) = &mut self.trace {
                    trace.transferred(&context, &extension);
                }
                self.we_ended = true;
                let (control, stats) = (&self.shared.control, &*self.shared.stats);
                let channel = self.channel.as_str();
                let target = Some((context.as_str(), extension.as_str()));
                let result = retried(stats, "continue", |_| {
                    control.continue_in_dialplan(channel, target)
                })
                .await;
                if !self.control_result("continue", result) {
                    self.give_up("transfer").await;
                }
            }
            TransferTo::Queue(queue) => {
                let Some(leg) = self.queue.take() else { return };
                let with = leg.joined_with;
                if let Some(input) =
                    Box::pin(self.enqueue(queue, with.language, with.department, with.complaints))
                        .await
                {
                    self.feed(input).await;
                }
            }
            TransferTo::Phone { endpoint, label } => {
                let Some(leg) = &mut self.queue else { return };
                let channel = leg.new_leg("xfer", &self.channel);
                leg.transfer = Some(TransferLeg {
                    channel: channel.clone(),
                    label,
                    bridge: None,
                });
                leg.moh = false;
                self.music_for_transfer().await;
                let ctx = self.call.context();
                let caller_id = format!("\"{CALLER_NAME}\" <{}>", ctx.caller);
                let mut variables = vec![("HELPLINE_CALL".to_owned(), ctx.call_id.clone())];
                if let Some(leg) = &self.queue {
                    variables.extend(ticket_variables(&leg.joined_with.complaints));
                }
                let originate = OriginateLeg {
                    channel: &channel,
                    endpoint: &endpoint,
                    timeout_secs: 60,
                    caller_id: &caller_id,
                    app_args: "transfer",
                    variables: &variables,
                };
                let result = self
                    .shared
                    .control
                    .originate(&originate, &self.channel)
                    .await;
                if let Err(err) = result {
                    self.shared.control.forget_leg(&channel);
                    warn!(%endpoint, %err, "the transfer's phone could not be rung");
                    self.transfer_failed().await;
                }
            }
        }
    }

    /// A warm transfer begins: the caller leaves the agent's bridge for music, the other side is
    /// rung and, once it answers, put with the agent.
    async fn consult(&mut self, to: TransferTo) {
        let Some(leg) = &mut self.queue else { return };
        let Some(bridge) = leg.talking.as_ref().map(|t| t.bridge.clone()) else {
            return;
        };
        if leg.consult.is_some() || leg.transferred {
            return;
        }
        let (endpoint, label) = match &to {
            TransferTo::Phone { endpoint, label } => (endpoint.clone(), label.clone()),
            TransferTo::Dialplan {
                context,
                extension,
                label,
            } => (format!("Local/{extension}@{context}"), label.clone()),
            // Nobody to talk to first in a queue: a blind transfer.
            TransferTo::Queue(_) => return Box::pin(self.transfer(to)).await,
        };
        let channel = leg.new_leg("consult", &self.channel);
        leg.consult = Some(ConsultLeg {
            channel: channel.clone(),
            label,
            answered: false,
            complete_on_answer: false,
        });
        info!(%endpoint, "the agent consults before transferring");
        let result = self
            .shared
            .control
            .remove_from_bridge(&bridge, &self.channel)
            .await;
        self.control_result("remove from bridge", result);
        self.music_for_transfer().await;
        let ctx = self.call.context();
        let caller_id = format!("\"{CALLER_NAME}\" <{}>", ctx.caller);
        let mut variables = vec![("HELPLINE_CALL".to_owned(), ctx.call_id.clone())];
        if let Some(leg) = &self.queue {
            variables.extend(ticket_variables(&leg.joined_with.complaints));
        }
        let originate = OriginateLeg {
            channel: &channel,
            endpoint: &endpoint,
            timeout_secs: 60,
            caller_id: &caller_id,
            app_args: "consult",
            variables: &variables,
        };
        if let Err(err) = self
            .shared
            .control
            .originate(&originate, &self.channel)
            .await
        {
            self.shared.control.forget_leg(&channel);
            warn!(%endpoint, %err, "the consultation's phone could not be rung");
            self.back_with_agent().await;
        }
    }

    /// The consultation is over without a transfer: the caller is with the agent again.
    async fn back_with_agent(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        leg.consult = None;
        let Some(bridge) = leg.talking.as_ref().map(|t| t.bridge.clone()) else {
            return;
        };
        self.silence_music().await;
        let caller = self.channel.clone();
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let channels = [caller.as_str()];
        let result = retried(stats, "bridge", |_| {
            control.add_to_bridge(&bridge, &channels)
        })
        .await;
        self.control_result("back with the agent", result);
    }

    /// The agent completes the warm transfer (the caller joins the other side, the agent leaves)
    /// or cancels it (the other side is hung up).
    async fn end_consult(&mut self, complete: bool) {
        let Some(leg) = &mut self.queue else { return };
        if complete
            && let Some(c) = leg.consult.as_mut()
            && !c.answered
        {
            c.complete_on_answer = true;
            return;
        }
        let Some(consult) = leg.consult.take() else {
            return;
        };
        if !complete {
            self.hang_up_leg(&consult.channel).await;
            self.back_with_agent().await;
            return;
        }
        let Some(talking) = leg.talking.take() else {
            return;
        };
        info!(to = %consult.label, "warm transfer completed");
        self.attach_ticket().await;
        self.silence_music().await;
        let caller = self.channel.clone();
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let channels = [caller.as_str()];
        let result = retried(stats, "bridge", |_| {
            control.add_to_bridge(&talking.bridge, &channels)
        })
        .await;
        self.control_result("join the other side", result);
        if let Some(trace) = &mut self.trace {
            trace.agent_ended(Utc::now());
        }
        self.hang_up_leg(&talking.attempt).await;
        let supervisors: Vec<SupervisorLeg> = self
            .queue
            .as_mut()
            .map(|l| l.supervisors.drain(..).collect())
            .unwrap_or_default();
        for s in supervisors {
            self.end_supervisor(s).await;
        }
        if let Some(leg) = &mut self.queue {
            leg.transferred = true;
            // From here the other side is the transfer's leg, in the bridge the agent left.
            leg.transfer = Some(TransferLeg {
                channel: consult.channel,
                label: consult.label.clone(),
                bridge: Some(talking.bridge),
            });
        }
        self.tell_centre(LegReport::Transferred {
            destination: consult.label,
        })
        .await;
    }

    /// Music while the transfer's phone rings.
    async fn music_for_transfer(&mut self) {
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let channel = self.channel.as_str();
        let result = retried(stats, "start moh", |_| control.start_moh(channel)).await;
        if self.control_result("start moh", result)
            && let Some(leg) = &mut self.queue
        {
            leg.moh = true;
        }
    }

    /// The transfer's phone did not answer: the caller goes back to the IVR (to record the
    /// complaint), never left on hold.
    async fn transfer_failed(&mut self) {
        self.silence_music().await;
        self.queue = None;
        if let Some(trace) = &mut self.trace {
            trace.given_back(Utc::now());
        }
        self.feed(Input::QueueOverflow).await;
    }

    /// A supervisor's phone is rung; once it answers they listen, whisper or barge in.
    async fn supervise(&mut self, supervisor: String, phone: String, mode: SuperviseMode) {
        let Some(leg) = &mut self.queue else { return };
        if leg.talking.is_none() {
            return;
        }
        let channel = leg.new_leg("sup", &self.channel);
        leg.supervisors.push(SupervisorLeg {
            channel: channel.clone(),
            supervisor: supervisor.clone(),
            mode,
            answered: false,
            snoop: None,
            bridge: None,
        });
        let caller_id = format!("\"{CALLER_NAME} {mode:?}\" <1100>");
        let originate = OriginateLeg {
            channel: &channel,
            endpoint: &phone,
            timeout_secs: 30,
            caller_id: &caller_id,
            app_args: "supervisor",
            variables: &[],
        };
        info!(%supervisor, ?mode, "a supervisor joins the call");
        if let Err(err) = self
            .shared
            .control
            .originate(&originate, &self.channel)
            .await
        {
            self.shared.control.forget_leg(&channel);
            warn!(%supervisor, %phone, %err, "the supervisor's phone could not be rung");
            if let Some(leg) = &mut self.queue {
                leg.supervisors.retain(|s| s.channel != channel);
            }
        }
    }

    /// Waiting in the queue (see [`Self::waiting`]).
    pub(super) fn waiting_in_queue(&self) -> bool {
        self.waiting()
    }

    /// Waiting in the queue: not talking to an agent, not leaving with a call-back promised, not
    /// handed on.
    fn waiting(&self) -> bool {
        self.queue
            .as_ref()
            .is_some_and(|l| l.talking.is_none() && !l.callback_accepted && !l.transferred)
    }

    async fn ring(&mut self, attempt: String, agent: String, phone: String, timeout: Duration) {
        if !self.waiting() {
            self.tell_centre(LegReport::RingFailed {
                attempt,
                failure: RingFailure::Other("the caller is no longer waiting".into()),
            })
            .await;
            return;
        }
        let ctx = self.call.context();
        let mut variables = vec![
            ("HELPLINE_CALL".to_owned(), ctx.call_id.clone()),
            ("HELPLINE_CALLER".to_owned(), ctx.caller.clone()),
        ];
        if let Some(leg) = &self.queue {
            variables.push(("HELPLINE_QUEUE".to_owned(), leg.queue.clone()));
            variables.extend(ticket_variables(&leg.joined_with.complaints));
        }
        let caller_id = format!("\"{CALLER_NAME}\" <{}>", ctx.caller);
        let timeout_secs = u32::try_from(timeout.as_secs().max(1)).unwrap_or(u32::MAX);
        let leg = OriginateLeg {
            channel: &attempt,
            endpoint: &phone,
            timeout_secs,
            caller_id: &caller_id,
            app_args: "agent",
            variables: &variables,
        };
        if let Some(q) = &mut self.queue {
            q.ringing.push(attempt.clone());
        }
        debug!(%attempt, %agent, %phone, "ringing an agent");
        let control = &self.shared.control;
        let result = control.originate(&leg, &self.channel).await;
        if let Err(err) = result {
            control.forget_leg(&attempt);
            if let Some(q) = &mut self.queue {
                q.ringing.retain(|a| *a != attempt);
            }
            let failure = if err.to_string().contains("Allocation failed") {
                RingFailure::Unreachable
            } else {
                RingFailure::Other(err.to_string())
            };
            info!(%agent, %phone, %err, "agent's phone could not be rung");
            self.tell_centre(LegReport::RingFailed { attempt, failure })
                .await;
        }
    }

    async fn cancel_ring(&mut self, attempt: &str) {
        let Some(leg) = &mut self.queue else { return };
        let was = leg
            .ringing
            .iter()
            .chain(&leg.answered)
            .any(|a| a == attempt);
        leg.ringing.retain(|a| a != attempt);
        leg.answered.retain(|a| a != attempt);
        if was {
            let result = self.shared.control.hangup(attempt).await;
            self.control_result("hangup agent leg", result);
        }
    }

    async fn connect(&mut self, attempt: String, agent: String) {
        let answered = self
            .queue
            .as_ref()
            .is_some_and(|l| l.answered.contains(&attempt));
        if !answered || !self.waiting() {
            self.tell_centre(LegReport::RingFailed {
                attempt,
                failure: RingFailure::Other("not answered, or the caller is gone".into()),
            })
            .await;
            return;
        }
        let bridge = format!("acd-{attempt}");
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let channel = self.channel.as_str();
        let mut result = retried(stats, "create bridge", |_| {
            control.create_bridge(&bridge, channel)
        })
        .await;
        if result.is_ok() {
            // The music stops only now, as the caller is put with the agent.
            self.silence_music().await;
            if let Some(leg) = &mut self.queue
                && let Some((id, _)) = leg.playing.take()
            {
                let result = self.shared.control.stop_playback(&id).await;
                self.control_result("stop playback", result);
            }
            let (control, stats) = (&self.shared.control, &*self.shared.stats);
            let channels = [self.channel.as_str(), attempt.as_str()];
            result = retried(stats, "bridge", |_| {
                control.add_to_bridge(&bridge, &channels)
            })
            .await;
        }
        if let Err(err) = result {
            warn!(%attempt, %err, "could not bridge the caller with the agent");
            let result = self.shared.control.destroy_bridge(&bridge).await;
            self.control_result("destroy bridge", result);
            self.cancel_ring(&attempt).await;
            self.music().await;
            self.tell_centre(LegReport::RingFailed {
                attempt,
                failure: RingFailure::Other(format!("bridging failed: {err}")),
            })
            .await;
            return;
        }
        let waited = self
            .queue
            .as_ref()
            .map(|l| (Utc::now() - l.joined_at).num_milliseconds());
        if let Some(leg) = &mut self.queue {
            leg.answered.retain(|a| *a != attempt);
            leg.talking = Some(Talking {
                attempt: attempt.clone(),
                agent: agent.clone(),
                bridge,
            });
        }
        info!(%agent, waited_ms = waited.unwrap_or(0), "caller connected to an agent");
        if let Some(trace) = &mut self.trace {
            trace.agent_connected(&agent, Utc::now());
        }
        self.tell_centre(LegReport::Connected { attempt }).await;
    }

    /// An event on one of the caller's agent legs; false when the event is not about one.
    pub(super) async fn on_leg_event(&mut self, event: &ari::Event) -> bool {
        let Some(leg_event) = translate::leg_event(event) else {
            return false;
        };
        let channel = match leg_event {
            LegEvent::Answered { channel }
            | LegEvent::Destroyed { channel, .. }
            | LegEvent::HangupRequested { channel }
            | LegEvent::Left { channel } => channel,
        };
        if channel == self.channel {
            return false;
        }
        if self.other_leg_event(leg_event).await {
            return true;
        }
        let Some(leg) = &mut self.queue else {
            // A leg of a queue left already (a cancelled ring answering late): hang it up.
            if let LegEvent::Answered { channel } = leg_event {
                let result = self.shared.control.hangup(channel).await;
                self.control_result("hangup agent leg", result);
            }
            if let LegEvent::Destroyed { channel, .. } = leg_event {
                self.shared.control.forget_leg(channel);
            }
            return true;
        };
        let owned = leg.owns(channel);
        match leg_event {
            LegEvent::Answered { channel } => {
                if leg.ringing.iter().any(|a| a == channel) {
                    leg.ringing.retain(|a| a != channel);
                    leg.answered.push(channel.to_owned());
                    let attempt = channel.to_owned();
                    self.tell_centre(LegReport::RingAnswered { attempt }).await;
                } else if !owned {
                    // Answered after we stopped wanting it.
                    let result = self.shared.control.hangup(channel).await;
                    self.control_result("hangup agent leg", result);
                }
            }
            LegEvent::Destroyed { channel, cause } => {
                self.shared.control.forget_leg(channel);
                if leg.ringing.iter().any(|a| a == channel) {
                    leg.ringing.retain(|a| a != channel);
                    let failure = translate::ring_failure(cause);
                    let attempt = channel.to_owned();
                    self.tell_centre(LegReport::RingFailed { attempt, failure })
                        .await;
                } else {
                    self.agent_leg_over(channel).await;
                }
            }
            LegEvent::HangupRequested { channel } | LegEvent::Left { channel } => {
                self.agent_leg_over(channel).await;
            }
        }
        true
    }

    /// An answered agent leg hung up: before the bridge, the ring failed; in it, the agent ended
    /// the conversation and the caller is hung up too.
    async fn agent_leg_over(&mut self, channel: &str) {
        let Some(leg) = &mut self.queue else { return };
        if leg.answered.iter().any(|a| a == channel) {
            leg.answered.retain(|a| a != channel);
            let attempt = channel.to_owned();
            self.tell_centre(LegReport::RingFailed {
                attempt,
                failure: RingFailure::Other("hung up before the caller was connected".into()),
            })
            .await;
            return;
        }
        if leg.talking.as_ref().is_some_and(|t| t.attempt == channel) {
            let Some(talking) = leg.talking.take() else {
                return;
            };
            info!(agent = %talking.agent, "the agent ended the call");
            self.tell_centre(LegReport::CallEnded { by_agent: true })
                .await;
            if let Some(trace) = &mut self.trace {
                trace.agent_ended(Utc::now());
            }
            self.drop_bridge(&talking.bridge).await;
            let supervisors: Vec<SupervisorLeg> = self
                .queue
                .as_mut()
                .map(|l| l.supervisors.drain(..).collect())
                .unwrap_or_default();
            for s in supervisors {
                self.end_supervisor(s).await;
            }
            if !self.hung_up {
                self.we_ended = true;
                let result = self.shared.control.hangup(&self.channel).await;
                self.control_result("hangup", result);
            }
        }
    }

    /// The caller hung up (or is being hung up): ring no more, end the agent's leg, tell the
    /// centre.
    pub(super) async fn caller_gone_from_queue(&mut self) {
        let Some(leg) = &self.queue else { return };
        let report = if leg.talking.is_some() {
            LegReport::CallEnded { by_agent: false }
        } else if leg.callback_accepted || leg.transferred {
            LegReport::Gone
        } else {
            LegReport::CallerLeft
        };
        self.end_queue_legs().await;
        if let Some(trace) = &mut self.trace {
            trace.queue_left(Utc::now());
        }
        self.tell_centre(report).await;
        self.queue = None;
    }

    /// Hangs up every leg of the caller's but theirs, and the bridges.
    async fn end_queue_legs(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        let legs: Vec<String> = leg
            .ringing
            .drain(..)
            .chain(leg.answered.drain(..))
            .collect();
        let transfer = leg.transfer.take();
        let consult = leg.consult.take();
        if let Some(c) = consult {
            self.hang_up_leg(&c.channel).await;
        }
        for attempt in legs {
            self.hang_up_leg(&attempt).await;
        }
        self.end_agent_side().await;
        if let Some(t) = transfer {
            self.hang_up_leg(&t.channel).await;
            if let Some(bridge) = t.bridge {
                self.drop_bridge(&bridge).await;
            }
        }
    }

    /// The agent's leg, its bridge, and the supervisors on it.
    async fn end_agent_side(&mut self) {
        let Some(leg) = &mut self.queue else { return };
        let talking = leg.talking.take();
        let supervisors: Vec<SupervisorLeg> = leg.supervisors.drain(..).collect();
        for s in supervisors {
            self.end_supervisor(s).await;
        }
        if let Some(t) = talking {
            self.hang_up_leg(&t.attempt).await;
            self.drop_bridge(&t.bridge).await;
        }
    }

    async fn end_supervisor(&mut self, s: SupervisorLeg) {
        self.hang_up_leg(&s.channel).await;
        if let Some(snoop) = &s.snoop {
            self.hang_up_leg(snoop).await;
        }
        if let Some(bridge) = &s.bridge {
            self.drop_bridge(bridge).await;
        }
    }

    async fn hang_up_leg(&mut self, channel: &str) {
        let result = self.shared.control.hangup(channel).await;
        self.control_result("hangup leg", result);
    }

    async fn drop_bridge(&mut self, bridge: &str) {
        let result = self.shared.control.destroy_bridge(bridge).await;
        self.control_result("destroy bridge", result);
    }

    /// A bridge of our own with `channels` in it; false (logged) when it could not be made.
    async fn bridge_with(&mut self, bridge: &str, channels: &[&str]) -> bool {
        let (control, stats) = (&self.shared.control, &*self.shared.stats);
        let owner = self.channel.as_str();
        let mut result = retried(stats, "create bridge", |_| {
            control.create_bridge(bridge, owner)
        })
        .await;
        if result.is_ok() {
            result = retried(stats, "bridge", |_| control.add_to_bridge(bridge, channels)).await;
        }
        let ok = self.control_result("bridge", result);
        if !ok {
            self.drop_bridge(bridge).await;
        }
        ok
    }

    /// An event on the transfer's leg, a supervisor's, or a snoop; false when it is none of them.
    async fn other_leg_event(&mut self, event: LegEvent<'_>) -> bool {
        let Some(leg) = &mut self.queue else {
            return false;
        };
        let (channel, answered, over) = match event {
            LegEvent::Answered { channel } => (channel, true, false),
            LegEvent::Destroyed { channel, .. }
            | LegEvent::HangupRequested { channel }
            | LegEvent::Left { channel } => (channel, false, true),
        };
        if matches!(event, LegEvent::Destroyed { .. }) && !leg.owns(channel) {
            self.shared.control.forget_leg(channel);
        }
        if leg.consult.as_ref().is_some_and(|c| c.channel == channel) {
            if answered {
                let mut complete = false;
                if let Some(c) = leg.consult.as_mut() {
                    c.answered = true;
                    complete = c.complete_on_answer;
                }
                if let Some(bridge) = leg.talking.as_ref().map(|t| t.bridge.clone()) {
                    let (control, stats) = (&self.shared.control, &*self.shared.stats);
                    let channels = [channel];
                    let result = retried(stats, "consult", |_| {
                        control.add_to_bridge(&bridge, &channels)
                    })
                    .await;
                    self.control_result("consult", result);
                }
                if complete {
                    Box::pin(self.end_consult(true)).await;
                }
            } else if over {
                // The other side is gone (or never answered): back with the agent.
                self.back_with_agent().await;
            }
            return true;
        }
        if leg.transfer.as_ref().is_some_and(|t| t.channel == channel) {
            let bridged = leg.transfer.as_ref().is_some_and(|t| t.bridge.is_some());
            if answered && !bridged {
                let bridge = format!("br-{channel}");
                self.silence_music().await;
                let caller = self.channel.clone();
                if self.bridge_with(&bridge, &[caller.as_str(), channel]).await {
                    if let Some(t) = self.queue.as_mut().and_then(|l| l.transfer.as_mut()) {
                        info!(to = %t.label, "transferred caller connected");
                        t.bridge = Some(bridge);
                    }
                } else {
                    self.hang_up_leg(channel).await;
                    self.transfer_failed().await;
                }
            } else if over && !bridged {
                self.transfer_failed().await;
            } else if over {
                // The other side hung up: the caller is done too.
                if let Some(t) = self.queue.as_mut().and_then(|l| l.transfer.take())
                    && let Some(bridge) = t.bridge
                {
                    self.drop_bridge(&bridge).await;
                }
                if !self.hung_up {
                    self.we_ended = true;
                    let result = self.shared.control.hangup(&self.channel).await;
                    self.control_result("hangup", result);
                }
            }
            return true;
        }
        if let Some(i) = leg.supervisors.iter().position(|s| s.channel == channel) {
            if over {
                let s = leg.supervisors.swap_remove(i);
                info!(supervisor = %s.supervisor, "the supervisor left the call");
                self.end_supervisor(s).await;
                return true;
            }
            if answered && !leg.supervisors[i].answered {
                leg.supervisors[i].answered = true;
                let mode = leg.supervisors[i].mode;
                let Some((agent, bridge)) = leg
                    .talking
                    .as_ref()
                    .map(|t| (t.attempt.clone(), t.bridge.clone()))
                else {
                    return true;
                };
                match mode {
                    SuperviseMode::Barge => {
                        let (control, stats) = (&self.shared.control, &*self.shared.stats);
                        let channels = [channel];
                        let result = retried(stats, "barge", |_| {
                            control.add_to_bridge(&bridge, &channels)
                        })
                        .await;
                        self.control_result("barge", result);
                    }
                    SuperviseMode::Listen | SuperviseMode::Whisper => {
                        let snoop = leg.new_leg("snoop", &self.channel);
                        leg.supervisors[i].snoop = Some(snoop.clone());
                        let whisper = mode == SuperviseMode::Whisper;
                        let result = self
                            .shared
                            .control
                            .snoop(&agent, &snoop, whisper, &self.channel)
                            .await;
                        if !self.control_result("snoop", result) {
                            self.shared.control.forget_leg(&snoop);
                        }
                    }
                }
            }
            return true;
        }
        if let Some(i) = leg
            .supervisors
            .iter()
            .position(|s| s.snoop.as_deref() == Some(channel))
        {
            // A snoop never gets ChannelDestroyed (the traces): its StasisEnd is its end.
            if over {
                self.shared.control.forget_leg(channel);
                return true;
            }
            if answered && leg.supervisors[i].bridge.is_none() {
                let bridge = format!("br-{channel}");
                let supervisor = leg.supervisors[i].channel.clone();
                leg.supervisors[i].bridge = Some(bridge.clone());
                self.bridge_with(&bridge, &[supervisor.as_str(), channel])
                    .await;
            }
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts(media: &[Media]) -> Vec<String> {
        media
            .iter()
            .map(|m| match m {
                Media::Prompt(p) => p.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn announcements_say_the_place_and_the_wait_in_minutes() {
        let said = prompts(&announcement(3, Some(Duration::from_secs(250))));
        assert_eq!(
            said,
            [
                "queue_position",
                "num_3",
                "queue_position_end",
                "queue_wait",
                "num_5",
                "queue_wait_minutes"
            ]
        );
        let soon = prompts(&announcement(1, Some(Duration::from_secs(40))));
        assert_eq!(soon.last().map(String::as_str), Some("queue_wait_short"));
        let unknown = prompts(&announcement(12, None));
        assert_eq!(
            unknown.last().map(String::as_str),
            Some("queue_please_hold")
        );
    }

    #[test]
    fn queue_playbacks_are_not_the_ivrs() {
        let id = queue_playback_id("c1", 4);
        assert_eq!(translate::playback_tag("c1", &id), None);
    }
}
