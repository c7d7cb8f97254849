//! The `Router`: hands each parsed event to the one task that owns it, without ever waiting. Each call has a
//! bounded mailbox (a tokio mpsc of [`Event`]s, fed in wire order); the router keeps a table from channel ids
//! (and bridge ids) to mailboxes. A `StasisStart` for an unknown channel creates that call's mailbox, puts the
//! event in it and hands the receiving end to the engine through the "new calls" channel, so nothing said
//! before the call task starts is lost. Ids the client chooses (originated and snoop channels, bridges) are
//! registered *before* the REST request so an event that overtakes the reply still finds its owner. Events
//! that are not about a call go to one bounded "control" channel for the supervisor. A full mailbox fails that
//! call loudly (counted, reported on the control channel) and never blocks the reader.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use crate::connection::ConnectionEvent;
use crate::event::{Event, RouteKey, StasisStart};
use crate::model::Channel;

/// Sizes of the router's queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterConfig {
    /// Events a call's mailbox holds before the call is failed. A call task reads its mailbox between REST
    /// calls, so this must cover the bursts of a slow moment (a few dozen events), not a stalled task.
    pub mailbox_capacity: usize,
    /// New calls waiting for the supervisor to start their task.
    pub new_calls_capacity: usize,
    /// Control events waiting for the supervisor.
    pub control_capacity: usize,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            mailbox_capacity: 64,
            new_calls_capacity: 1024,
            control_capacity: 1024,
        }
    }
}

/// A new call: the channel's snapshot from its `StasisStart` and the mailbox that already holds that event.
#[derive(Debug)]
pub struct NewCall {
    /// The channel as it entered Stasis.
    pub channel: Channel,
    /// `StasisStart.args`.
    pub args: Vec<String>,
    /// Its events, starting with the `StasisStart`.
    pub mailbox: Mailbox,
}

/// What the router tells the supervisor (everything that is not one call's event).
#[derive(Debug)]
pub enum ControlEvent {
    /// An event not about any one call: application replaced, endpoint/device state, events of bridges no
    /// call registered, text messages, unknown events without a channel.
    Event(Event),
    /// The WebSocket came up, went down, or was reconciled; see [`ConnectionEvent`].
    Connection(ConnectionEvent),
    /// This call's mailbox was full: its task is not keeping up. The call has lost events and is failed;
    /// the supervisor should hang it up. Later events for it are dropped until its `StasisEnd`.
    MailboxOverflow {
        /// The call's channel id (the owner of the mailbox).
        channel_id: Arc<str>,
    },
    /// A `StasisStart` whose call could not be handed to the engine (the new-calls queue was full or
    /// closed). Nobody owns this channel; the supervisor should hang it up.
    CallRejected {
        /// The channel left without an owner.
        channel_id: String,
    },
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The id is routed already (ids must be unique; a client-chosen id was reused).
    #[error("{0} is already routed")]
    AlreadyRouted(String),
    /// The owner the route should point to has no mailbox (its call ended).
    #[error("{0} has no mailbox")]
    NoSuchOwner(String),
}

/// A call's mailbox: its events in wire order.
#[derive(Debug)]
pub struct Mailbox {
    channel_id: Arc<str>,
    rx: mpsc::Receiver<Event>,
}

impl Mailbox {
    /// The channel this mailbox belongs to (the call's own channel).
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// The next event; `None` once the router has dropped every route to this mailbox (after `StasisEnd` of
    /// each routed id, or [`Router::unregister`]). Cancel-safe: usable in `select!` without losing events.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        self.rx.try_recv()
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

/// The sending side of one mailbox, shared by every id routed to it.
#[derive(Debug)]
struct MailboxTx {
    tx: mpsc::Sender<Event>,
    owner: Arc<str>,
    /// Set on the first overflow: the call has lost an event, so later ones are dropped too (a gap in the
    /// middle of the stream would be worse than a clean failure).
    failed: AtomicBool,
}

#[derive(Debug, Default)]
struct Routes {
    channels: HashMap<Box<str>, Arc<MailboxTx>>,
    bridges: HashMap<Box<str>, Arc<MailboxTx>>,
}

/// Counters of the router, for metrics.
#[derive(Debug, Default)]
pub struct RouterStats {
    /// Events delivered into a mailbox.
    pub delivered: AtomicU64,
    /// Events for nobody (other apps' chatter, channels already ended), dropped.
    pub unrouted: AtomicU64,
    /// Mailboxes that overflowed (each a failed call).
    pub mailbox_overflows: AtomicU64,
    /// Events dropped because their call had already failed or its task was gone.
    pub dropped_for_failed_calls: AtomicU64,
    /// Calls handed to the engine.
    pub new_calls: AtomicU64,
    /// Calls that could not be handed to the engine.
    pub rejected_calls: AtomicU64,
    /// Events put on the control channel.
    pub control_events: AtomicU64,
    /// Control events lost because the control channel was full.
    pub control_overflows: AtomicU64,
}

/// A copy of the router's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouterStatsSnapshot {
    pub delivered: u64,
    pub unrouted: u64,
    pub mailbox_overflows: u64,
    pub dropped_for_failed_calls: u64,
    pub new_calls: u64,
    pub rejected_calls: u64,
    pub control_events: u64,
    pub control_overflows: u64,
    /// Channel ids routed now.
    pub routed_channels: usize,
    /// Bridge ids routed now.
    pub routed_bridges: usize,
}

/// The receiving ends the supervisor reads.
#[derive(Debug)]
pub struct RouterOutputs {
    /// New calls, each with its mailbox.
    pub new_calls: mpsc::Receiver<NewCall>,
    /// Everything that is not one call's event.
    pub control: mpsc::Receiver<ControlEvent>,
}

#[derive(Debug)]
struct Inner {
    routes: Mutex<Routes>,
    new_calls: mpsc::Sender<NewCall>,
    control: mpsc::Sender<ControlEvent>,
    mailbox_capacity: usize,
    stats: RouterStats,
}

/// Routes events to per-call mailboxes. Cheap to clone; the clones share one table.
#[derive(Debug, Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl Router {
    /// A router and the two queues its supervisor reads.
    pub fn new(config: RouterConfig) -> (Self, RouterOutputs) {
        let (new_tx, new_rx) = mpsc::channel(config.new_calls_capacity.max(1));
        let (control_tx, control_rx) = mpsc::channel(config.control_capacity.max(1));
        let router = Self {
            inner: Arc::new(Inner {
                routes: Mutex::new(Routes::default()),
                new_calls: new_tx,
                control: control_tx,
                mailbox_capacity: config.mailbox_capacity.max(1),
                stats: RouterStats::default(),
            }),
        };
        (
            router,
            RouterOutputs {
                new_calls: new_rx,
                control: control_rx,
            },
        )
    }

    fn routes(&self) -> MutexGuard<'_, Routes> {
        // A panic while holding this lock cannot leave the map half-updated (each operation is one insert
        // or remove), so a poisoned lock is still consistent.
        self.inner
            .routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates a mailbox for a channel id we chose (an originated or snoop channel) and routes it there.
    /// Call before the REST request.
    pub fn register_channel(&self, channel_id: &str) -> Result<Mailbox, RouteError> {
        let mut routes = self.routes();
        if routes.channels.contains_key(channel_id) {
            return Err(RouteError::AlreadyRouted(channel_id.to_owned()));
        }
        let (tx, mailbox) = self.new_mailbox(channel_id);
        routes.channels.insert(channel_id.into(), tx);
        Ok(mailbox)
    }

    /// Routes a channel id we chose (e.g. an agent leg or a snoop channel) into the mailbox of an existing
    /// call, so one task sees both legs in wire order. Call before the REST request.
    pub fn register_alias(
        &self,
        channel_id: &str,
        owner_channel_id: &str,
    ) -> Result<(), RouteError> {
        let mut routes = self.routes();
        if routes.channels.contains_key(channel_id) {
            return Err(RouteError::AlreadyRouted(channel_id.to_owned()));
        }
        let owner = routes
            .channels
            .get(owner_channel_id)
            .cloned()
            .ok_or_else(|| RouteError::NoSuchOwner(owner_channel_id.to_owned()))?;
        routes.channels.insert(channel_id.into(), owner);
        Ok(())
    }

    /// Routes events of a bridge (its playbacks/recordings, bridge events, channels entering it that no one
    /// else owns) into the mailbox of the call `owner_channel_id`. Call before creating the bridge.
    pub fn register_bridge(
        &self,
        bridge_id: &str,
        owner_channel_id: &str,
    ) -> Result<(), RouteError> {
        let mut routes = self.routes();
        if routes.bridges.contains_key(bridge_id) {
            return Err(RouteError::AlreadyRouted(bridge_id.to_owned()));
        }
        let owner = routes
            .channels
            .get(owner_channel_id)
            .cloned()
            .ok_or_else(|| RouteError::NoSuchOwner(owner_channel_id.to_owned()))?;
        routes.bridges.insert(bridge_id.into(), owner);
        Ok(())
    }

    /// Stops routing a channel id (e.g. an originate that failed, or a call task that is giving up).
    /// Returns whether it was routed.
    pub fn unregister(&self, channel_id: &str) -> bool {
        self.routes().channels.remove(channel_id).is_some()
    }

    /// Stops routing a bridge id. Returns whether it was routed.
    pub fn unregister_bridge(&self, bridge_id: &str) -> bool {
        self.routes().bridges.remove(bridge_id).is_some()
    }

    /// Whether events of this channel currently reach a mailbox.
    pub fn is_routed(&self, channel_id: &str) -> bool {
        self.routes().channels.contains_key(channel_id)
    }

    /// Every channel id routed now.
    pub fn routed_channel_ids(&self) -> Vec<String> {
        self.routes()
            .channels
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    /// The counters.
    pub fn stats(&self) -> RouterStatsSnapshot {
        let s = &self.inner.stats;
        let (routed_channels, routed_bridges) = {
            let routes = self.routes();
            (routes.channels.len(), routes.bridges.len())
        };
        RouterStatsSnapshot {
            delivered: s.delivered.load(Ordering::Relaxed),
            unrouted: s.unrouted.load(Ordering::Relaxed),
            mailbox_overflows: s.mailbox_overflows.load(Ordering::Relaxed),
            dropped_for_failed_calls: s.dropped_for_failed_calls.load(Ordering::Relaxed),
            new_calls: s.new_calls.load(Ordering::Relaxed),
            rejected_calls: s.rejected_calls.load(Ordering::Relaxed),
            control_events: s.control_events.load(Ordering::Relaxed),
            control_overflows: s.control_overflows.load(Ordering::Relaxed),
            routed_channels,
            routed_bridges,
        }
    }

    fn new_mailbox(&self, channel_id: &str) -> (Arc<MailboxTx>, Mailbox) {
        let owner: Arc<str> = channel_id.into();
        let (tx, rx) = mpsc::channel(self.inner.mailbox_capacity);
        (
            Arc::new(MailboxTx {
                tx,
                owner: owner.clone(),
                failed: AtomicBool::new(false),
            }),
            Mailbox {
                channel_id: owner,
                rx,
            },
        )
    }

    /// Puts a control event on the control channel without waiting; counts and logs a loss.
    pub(crate) fn send_control(&self, event: ControlEvent) {
        match self.inner.control.try_send(event) {
            Ok(()) => {
                self.inner
                    .stats
                    .control_events
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(event)) => {
                self.inner
                    .stats
                    .control_overflows
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    ?event,
                    "control channel full: supervisor not keeping up, event lost"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.inner
                    .stats
                    .control_overflows
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!("control channel closed (supervisor gone)");
            }
        }
    }

    /// Puts a control event on the control channel, waiting for room (for tasks other than the reader).
    pub(crate) async fn send_control_wait(&self, event: ControlEvent) {
        if self.inner.control.send(event).await.is_ok() {
            self.inner
                .stats
                .control_events
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Routes one event. Never waits: the WebSocket reader calls this for every event.
    pub fn route(&self, event: Event) {
        /// What to do, decided while the event's ids are borrowed.
        enum Decision {
            Deliver {
                tx: Arc<MailboxTx>,
                /// The route to remove after delivery (`StasisEnd`, `BridgeDestroyed`).
                remove: Option<RouteId>,
            },
            NewCall(Box<str>),
            Control,
            Unrouted,
        }
        enum RouteId {
            Channel(Box<str>),
            Bridge(Box<str>),
        }

        let mut routes = self.routes();
        let decision = match event.route_key() {
            RouteKey::Channel(id) => {
                if let Some(tx) = routes.channels.get(id) {
                    // After StasisEnd (or ChannelDestroyed, the end of an originated channel that never
                    // entered Stasis) nothing more is heard of the channel.
                    let remove = matches!(event, Event::StasisEnd(_) | Event::ChannelDestroyed(_))
                        .then(|| RouteId::Channel(id.into()));
                    Decision::Deliver {
                        tx: tx.clone(),
                        remove,
                    }
                } else if let Some(tx) = bridge_of(&event).and_then(|b| routes.bridges.get(b)) {
                    // A channel nobody owns entering/leaving a bridge someone owns: the bridge's owner.
                    Decision::Deliver {
                        tx: tx.clone(),
                        remove: None,
                    }
                } else if matches!(event, Event::StasisStart(_)) {
                    Decision::NewCall(id.into())
                } else {
                    Decision::Unrouted
                }
            }
            RouteKey::Bridge(id) => match routes.bridges.get(id) {
                Some(tx) => Decision::Deliver {
                    tx: tx.clone(),
                    remove: matches!(event, Event::BridgeDestroyed(_))
                        .then(|| RouteId::Bridge(id.into())),
                },
                None => Decision::Control,
            },
            RouteKey::Global => Decision::Control,
        };

        match decision {
            Decision::Deliver { tx, remove } => {
                let terminal = remove.is_some();
                let closed = self.deliver(&tx, event, terminal);
                let remove = match (remove, closed) {
                    (Some(id), _) => Some(id),
                    // The call task is gone: forget every id of this event that led there.
                    (None, Some(event)) => match event.route_key() {
                        RouteKey::Channel(id) => Some(RouteId::Channel(id.into())),
                        RouteKey::Bridge(id) => Some(RouteId::Bridge(id.into())),
                        RouteKey::Global => None,
                    },
                    (None, None) => None,
                };
                match remove {
                    Some(RouteId::Channel(id)) => {
                        routes.channels.remove(&id);
                    }
                    Some(RouteId::Bridge(id)) => {
                        routes.bridges.remove(&id);
                    }
                    None => {}
                }
            }
            Decision::NewCall(id) => {
                let (tx, mailbox) = self.new_mailbox(&id);
                routes.channels.insert(id.clone(), tx.clone());
                drop(routes);
                if let Event::StasisStart(start) = event {
                    self.start_call(&id, tx, mailbox, start);
                }
            }
            Decision::Control => {
                drop(routes);
                self.send_control(ControlEvent::Event(event));
            }
            Decision::Unrouted => {
                drop(routes);
                self.inner.stats.unrouted.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(event = event.event_type(), "event for no one dropped");
            }
        }
    }

    /// Puts a `StasisStart` into the new call's mailbox and hands the mailbox to the engine.
    fn start_call(&self, id: &str, tx: Arc<MailboxTx>, mailbox: Mailbox, start: Box<StasisStart>) {
        let channel = start.channel.clone();
        let args = start.args.clone();
        self.deliver(&tx, Event::StasisStart(start), false);
        let call = NewCall {
            channel,
            args,
            mailbox,
        };
        match self.inner.new_calls.try_send(call) {
            Ok(()) => {
                self.inner.stats.new_calls.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => {
                self.inner
                    .stats
                    .rejected_calls
                    .fetch_add(1, Ordering::Relaxed);
                let full = matches!(err, mpsc::error::TrySendError::Full(_));
                tracing::error!(
                    channel = id,
                    queue_full = full,
                    "new call could not be handed to the engine"
                );
                self.routes().channels.remove(id);
                self.send_control(ControlEvent::CallRejected {
                    channel_id: id.to_owned(),
                });
            }
        }
    }

    /// Puts an event into a mailbox. `terminal` events (StasisEnd, ChannelDestroyed, BridgeDestroyed) are tried even on a failed call, so its
    /// task can still learn that the channel is gone. Gives the event back if the call task is gone.
    fn deliver(&self, tx: &MailboxTx, event: Event, terminal: bool) -> Option<Event> {
        let stats = &self.inner.stats;
        if tx.failed.load(Ordering::Relaxed) && !terminal {
            stats
                .dropped_for_failed_calls
                .fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match tx.tx.try_send(event) {
            Ok(()) => {
                stats.delivered.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(mpsc::error::TrySendError::Full(event)) => {
                stats
                    .dropped_for_failed_calls
                    .fetch_add(1, Ordering::Relaxed);
                if !tx.failed.swap(true, Ordering::Relaxed) {
                    stats.mailbox_overflows.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        call = &*tx.owner,
                        event = event.event_type(),
                        "call mailbox full: call task not keeping up; failing the call"
                    );
                    self.send_control(ControlEvent::MailboxOverflow {
                        channel_id: tx.owner.clone(),
                    });
                }
                None
            }
            Err(mpsc::error::TrySendError::Closed(event)) => {
                stats
                    .dropped_for_failed_calls
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    call = &*tx.owner,
                    event = event.event_type(),
                    "call task gone; event dropped"
                );
                Some(event)
            }
        }
    }
}

/// The bridge a channel-and-bridge event is about, to fall back on when its channel is not routed.
fn bridge_of(event: &Event) -> Option<&str> {
    match event {
        Event::ChannelEnteredBridge(e) => Some(&e.bridge.id),
        Event::ChannelLeftBridge(e) => Some(&e.bridge.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::sample_frame;
    use crate::event::parse_event;

    fn ev(id: &str, k: usize, last: usize) -> Event {
        parse_event(sample_frame(id, k, last).as_bytes()).unwrap()
    }

    fn raw(json: &str) -> Event {
        parse_event(json.as_bytes()).unwrap()
    }

    const TS: &str = r#""application":"ivr-1100","timestamp":"2026-11-29T02:59:43.256+0000""#;

    fn bridge_event(kind: &str, bridge: &str) -> Event {
        raw(&format!(
            r#"{{"type":"{kind}",{TS},"bridge":{{"id":"{bridge}","technology":"simple_bridge","bridge_type":"mixing","bridge_class":"stasis","creator":"Stasis","name":"","channels":[]}}}}"#
        ))
    }

    #[tokio::test]
    async fn stasis_start_creates_mailbox_and_hands_it_over() {
        let (router, mut out) = Router::new(RouterConfig::default());
        router.route(ev("c1", 0, 3));
        router.route(ev("c1", 1, 3));
        let mut call = out.new_calls.try_recv().unwrap();
        assert_eq!(call.channel.id, "c1");
        assert_eq!(call.mailbox.channel_id(), "c1");
        assert!(matches!(
            call.mailbox.recv().await,
            Some(Event::StasisStart(_))
        ));
        assert!(matches!(
            call.mailbox.recv().await,
            Some(Event::PlaybackStarted(_))
        ));
        router.route(ev("c1", 3, 3));
        assert!(matches!(
            call.mailbox.recv().await,
            Some(Event::StasisEnd(_))
        ));
        // Route removed after StasisEnd: the mailbox closes, later chatter is counted and dropped.
        assert!(call.mailbox.recv().await.is_none());
        router.route(ev("c1", 2, 3));
        let stats = router.stats();
        assert_eq!(stats.unrouted, 1);
        assert_eq!(stats.new_calls, 1);
        assert_eq!(stats.delivered, 3);
        assert_eq!(stats.routed_channels, 0);
    }

    #[tokio::test]
    async fn registered_ids_get_events_that_overtake_the_reply() {
        let (router, mut out) = Router::new(RouterConfig::default());
        // The engine registers an originated channel before POST /channels/{id} …
        let mut agent = router.register_channel("agent-1").unwrap();
        assert_eq!(
            router.register_channel("agent-1").unwrap_err(),
            RouteError::AlreadyRouted("agent-1".into())
        );
        // … so its StasisStart goes to that mailbox, not to the new-calls queue.
        router.route(ev("agent-1", 0, 2));
        assert!(out.new_calls.try_recv().is_err());
        assert!(matches!(agent.recv().await, Some(Event::StasisStart(_))));
    }

    #[tokio::test]
    async fn unanswered_originate_is_unrouted_by_channel_destroyed() {
        // originate_no_answer: the leg never enters Stasis, so no StasisEnd; ChannelDestroyed ends it.
        let (router, _out) = Router::new(RouterConfig::default());
        let mut agent = router.register_channel("agent-9").unwrap();
        router.route(raw(&format!(
            r#"{{"type":"ChannelDestroyed",{TS},"cause":19,"cause_txt":"User alerting, no answer","channel":{}}}"#,
            crate::bench::sample_channel("agent-9")
        )));
        assert!(matches!(
            agent.recv().await,
            Some(Event::ChannelDestroyed(_))
        ));
        assert!(!router.is_routed("agent-9"));
        assert!(agent.recv().await.is_none());
    }

    #[tokio::test]
    async fn aliases_and_bridges_reach_the_owner_in_order() {
        let (router, mut out) = Router::new(RouterConfig::default());
        router.route(ev("caller;2", 0, 9));
        let mut call = out.new_calls.try_recv().unwrap();
        router.register_alias("agent-1", "caller;2").unwrap();
        router.register_bridge("br-1", "caller;2").unwrap();
        assert_eq!(
            router.register_alias("x", "nobody").unwrap_err(),
            RouteError::NoSuchOwner("nobody".into())
        );
        router.route(ev("agent-1", 1, 9));
        router.route(bridge_event("BridgeCreated", "br-1"));
        router.route(raw(&format!(
            r#"{{"type":"RecordingStarted",{TS},"recording":{{"name":"conv","format":"wav","target_uri":"bridge:br-1","state":"recording"}}}}"#
        )));
        router.route(bridge_event("BridgeDestroyed", "br-1"));
        router.route(bridge_event("BridgeCreated", "br-1"));
        let mut kinds = Vec::new();
        while let Ok(e) = call.mailbox.try_recv() {
            kinds.push(e.event_type().to_owned());
        }
        assert_eq!(
            kinds,
            [
                "StasisStart",
                "PlaybackStarted",
                "BridgeCreated",
                "RecordingStarted",
                "BridgeDestroyed"
            ]
        );
        // After BridgeDestroyed the bridge is no longer routed: its next event goes to control.
        match out.control.try_recv().unwrap() {
            ControlEvent::Event(Event::BridgeCreated(_)) => {}
            other => panic!("{other:?}"),
        }
        assert!(router.unregister("agent-1"));
        assert!(!router.unregister("agent-1"));
    }

    #[tokio::test]
    async fn full_mailbox_fails_only_that_call() {
        let (router, mut out) = Router::new(RouterConfig {
            mailbox_capacity: 4,
            ..RouterConfig::default()
        });
        router.route(ev("slow", 0, 100));
        router.route(ev("fast", 0, 100));
        let mut slow = out.new_calls.try_recv().unwrap();
        let mut fast = out.new_calls.try_recv().unwrap();
        for k in 1..10 {
            router.route(ev("slow", k, 100));
            router.route(ev("fast", k, 100));
            // The fast call keeps up.
            while fast.mailbox.try_recv().is_ok() {}
        }
        match out.control.try_recv().unwrap() {
            ControlEvent::MailboxOverflow { channel_id } => assert_eq!(&*channel_id, "slow"),
            other => panic!("{other:?}"),
        }
        // Reported once, not per dropped event.
        assert!(out.control.try_recv().is_err());
        let stats = router.stats();
        assert_eq!(stats.mailbox_overflows, 1);
        assert!(stats.dropped_for_failed_calls >= 6);
        // The slow call got a clean prefix, then nothing but its StasisEnd once room is made.
        let mut got = 0;
        while slow.mailbox.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, 4);
        router.route(ev("slow", 11, 100));
        assert!(slow.mailbox.try_recv().is_err());
        router.route(ev("slow", 100, 100));
        assert!(matches!(slow.mailbox.try_recv(), Ok(Event::StasisEnd(_))));
    }

    #[tokio::test]
    async fn rejected_when_engine_not_taking_calls() {
        let (router, mut out) = Router::new(RouterConfig {
            new_calls_capacity: 1,
            ..RouterConfig::default()
        });
        router.route(ev("a", 0, 2));
        router.route(ev("b", 0, 2));
        match out.control.try_recv().unwrap() {
            ControlEvent::CallRejected { channel_id } => assert_eq!(channel_id, "b"),
            other => panic!("{other:?}"),
        }
        assert!(!router.is_routed("b"));
        assert!(router.is_routed("a"));
        assert_eq!(router.stats().rejected_calls, 1);
    }

    #[tokio::test]
    async fn ended_task_route_is_forgotten() {
        let (router, mut out) = Router::new(RouterConfig::default());
        router.route(ev("gone", 0, 5));
        drop(out.new_calls.try_recv().unwrap());
        router.route(ev("gone", 1, 5));
        assert!(!router.is_routed("gone"));
        assert_eq!(router.stats().dropped_for_failed_calls, 1);
    }

    #[tokio::test]
    async fn global_events_go_to_control() {
        let (router, mut out) = Router::new(RouterConfig::default());
        router.route(raw(&format!(r#"{{"type":"ApplicationReplaced",{TS}}}"#)));
        router.route(raw(&format!(
            r#"{{"type":"EndpointStateChange",{TS},"endpoint":{{"technology":"PJSIP","resource":"agent-101","state":"offline","channel_ids":[]}}}}"#
        )));
        assert!(matches!(
            out.control.try_recv().unwrap(),
            ControlEvent::Event(Event::ApplicationReplaced(_))
        ));
        assert!(matches!(
            out.control.try_recv().unwrap(),
            ControlEvent::Event(Event::EndpointStateChange(_))
        ));
        assert_eq!(router.stats().control_events, 2);
    }

    #[test]
    fn per_call_memory_is_small() {
        // A mailbox's queue holds boxed events: one slot is two words.
        assert!(std::mem::size_of::<Event>() <= 16);
        assert!(std::mem::size_of::<MailboxTx>() <= 64);
    }
}
