//! The load benchmark's latency probe: how long the engine takes from an ARI event reaching a call task to
//! the REST request that event caused. It wraps the engine's two ports and the call's mailbox, so the engine
//! itself is unchanged: [`TimedMailbox`] stamps each event as the call task takes it, [`TimedControl`]
//! records the time to the first channel request that follows, and [`TimedDesk`] marks an event whose
//! answer had to wait for the ticket store (a complaint must be durable before its number is read out), so
//! those are reported apart from the engine's own reaction time.
//!
//! Stamps live in a small sharded table keyed by channel id (in the form recording names carry it, see
//! `call_key`), holding only calls with an event in hand; a
//! stamp is taken by the first request naming the call and dropped when the call goes back to its mailbox,
//! so an event that causes no request is never matched to a later, unrelated one (a timer, say).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use crate::engine::{
    CallControl, CallMailbox, ControlError, DeskError, Feedback, FeedbackReply, FetchedRecording,
    FiledTicket, OriginateLeg, RecordRequest, TicketDesk,
};

/// A latency histogram of lock-free counters: 64 linear sub-buckets per power of two of microseconds, so
/// any reported percentile is within 1/64 (1.6 %) of the true value, in a fixed 13 KiB.
#[derive(Debug)]
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    max_us: AtomicU64,
}

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Values up to 2^(MAX_EXP) µs (about 18 minutes) are kept exactly in their bucket; above is clamped.
const MAX_EXP: u32 = 30;
const BUCKETS: usize = ((MAX_EXP - SUB_BITS + 1) as usize + 1) * SUB as usize;

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }
}

fn bucket_of(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let msb = 63 - us.leading_zeros();
    let shift = msb - SUB_BITS;
    let index = u64::from(shift + 1) * SUB + ((us >> shift) & (SUB - 1));
    (index as usize).min(BUCKETS - 1)
}

/// The smallest value that falls in `bucket` (the inverse of [`bucket_of`]).
fn bucket_floor(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    if bucket < SUB {
        return bucket;
    }
    let shift = bucket / SUB - 1;
    (SUB + bucket % SUB) << shift
}

impl Histogram {
    /// Records one duration.
    pub fn record(&self, duration: Duration) {
        let us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    /// Durations recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The value at quantile `q` (0..=1), as the middle of its bucket; `None` when nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        // The rank of the sample at q (1-based, nearest-rank definition).
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (bucket, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let low = bucket_floor(bucket);
                let high = bucket_floor(bucket + 1).max(low + 1);
                let mid = low + (high - low - 1) / 2;
                let max = self.max_us.load(Ordering::Relaxed);
                return Some(Duration::from_micros(mid.min(max)));
            }
        }
        Some(Duration::from_micros(self.max_us.load(Ordering::Relaxed)))
    }

    /// The largest duration recorded.
    pub fn max(&self) -> Option<Duration> {
        (self.count() > 0).then(|| Duration::from_micros(self.max_us.load(Ordering::Relaxed)))
    }
}

/// An event in hand: when the call task took it, and whether its answer waited on the ticket store.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    taken_at: Instant,
    /// When the router put the event into an idle call's mailbox (the task's wake-up); `None` when the
    /// event was already waiting as the task came back (its arrival time is unknown).
    woken_at: Option<Instant>,
    via_desk: bool,
}

const SHARDS: usize = 16;

/// The measurements shared by every wrapped mailbox and port.
#[derive(Debug)]
pub struct LatencyProbe {
    shards: [Mutex<HashMap<Arc<str>, Stamp>>; SHARDS],
    hasher: RandomState,
    /// Event → first REST request, when no ticket-store operation came between.
    pub direct: Histogram,
    /// … the same, recorded only while `high_load` is set (the benchmark sets it at its concurrency mark).
    pub direct_high_load: Histogram,
    /// Event → first REST request when the answer waited on the ticket store (filing, lookup).
    pub via_desk: Histogram,
    /// Event put into an idle call's mailbox (the router's wake-up of the task) → first REST request: the
    /// whole time the event spent in the engine after parsing and routing, scheduling included.
    pub from_arrival: Histogram,
    /// … the same, only while `high_load` is set.
    pub from_arrival_high_load: Histogram,
    /// Measured events that were already waiting when their task came back to the mailbox (not in
    /// `from_arrival`: their arrival time is unknown; they arrived while the task handled the one before).
    pub arrived_queued: AtomicU64,
    high_load: AtomicBool,
    /// `<asterisk id>_` as it starts every recording's call key (learned from the first `StasisStart`).
    asterisk_prefix: OnceLock<String>,
}

impl Default for LatencyProbe {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: RandomState::new(),
            direct: Histogram::default(),
            direct_high_load: Histogram::default(),
            via_desk: Histogram::default(),
            from_arrival: Histogram::default(),
            from_arrival_high_load: Histogram::default(),
            arrived_queued: AtomicU64::new(0),
            high_load: AtomicBool::new(false),
            asterisk_prefix: OnceLock::new(),
        }
    }
}

impl LatencyProbe {
    fn shard(&self, channel: &str) -> MutexGuard<'_, HashMap<Arc<str>, Stamp>> {
        let index = (self.hasher.hash_one(channel) as usize) % SHARDS;
        // The table holds plain values; a panic elsewhere cannot leave it inconsistent.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks from now on whether the benchmark is at its high-load mark.
    pub fn set_high_load(&self, on: bool) {
        self.high_load.store(on, Ordering::Relaxed);
    }

    fn event_taken(&self, channel: &Arc<str>, woken_at: Option<Instant>) {
        let stamp = Stamp {
            taken_at: Instant::now(),
            woken_at,
            via_desk: false,
        };
        self.shard(channel).insert(Arc::clone(channel), stamp);
    }

    fn back_to_mailbox(&self, channel: &str) {
        self.shard(channel).remove(channel);
    }

    /// The ticket store is working for call `call_id` (`<asterisk id>/<channel id>`, see `engine::call`).
    fn desk_used(&self, call_id: &str) {
        let channel = call_id
            .rsplit_once('/')
            .map_or(call_id, |(_, channel)| channel);
        let key = call_key(channel);
        if let Some(stamp) = self.shard(&key).get_mut(&*key) {
            stamp.via_desk = true;
        }
    }

    /// A REST request about `channel` is going out: the first after an event closes its measurement.
    fn request(&self, channel: Option<&str>) {
        let Some(channel) = channel else { return };
        let key = call_key(channel);
        let Some(stamp) = self.shard(&key).remove(&*key) else {
            return;
        };
        let now = Instant::now();
        let elapsed = now - stamp.taken_at;
        let high_load = self.high_load.load(Ordering::Relaxed);
        if stamp.via_desk {
            self.via_desk.record(elapsed);
        } else {
            self.direct.record(elapsed);
            if high_load {
                self.direct_high_load.record(elapsed);
            }
            match stamp.woken_at {
                Some(woken_at) => {
                    let from_arrival = now - woken_at;
                    self.from_arrival.record(from_arrival);
                    if high_load {
                        self.from_arrival_high_load.record(from_arrival);
                    }
                }
                None => {
                    self.arrived_queued.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Learns the Asterisk id that prefixes call ids (one simulator: one id for the whole run).
    fn learn_asterisk(&self, event: &ari::Event) {
        if self.asterisk_prefix.get().is_none()
            && let Some(id) = event.asterisk_id().filter(|id| !id.is_empty())
        {
            let _ = self.asterisk_prefix.set(format!("{}_", call_key(id)));
        }
    }

    /// The channel key of a recording: its call key (`<asterisk id>_<channel key>`) without the Asterisk.
    fn recording_channel<'a>(&self, name: &'a str) -> Option<&'a str> {
        let key = channel_of_recording(name)?;
        Some(match self.asterisk_prefix.get() {
            Some(prefix) => key.strip_prefix(prefix.as_str()).unwrap_or(key),
            None => key,
        })
    }

    /// Calls with an event in hand right now (0 when the engine is idle: nothing leaks).
    pub fn pending(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

/// A channel id as `ivr::call::recording_name` writes it into recording names: characters other than
/// `[A-Za-z0-9_-]` become `_`. The probe keys its table by this form so a recording request finds its call.
fn call_key(channel: &str) -> std::borrow::Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if channel.chars().all(safe) {
        std::borrow::Cow::Borrowed(channel)
    } else {
        std::borrow::Cow::Owned(
            channel
                .chars()
                .map(|c| if safe(c) { c } else { '_' })
                .collect(),
        )
    }
}

/// The channel a playback id names (`pb-<tag>-<channel>`, see `engine::translate::playback_id`).
fn channel_of_playback(playback_id: &str) -> Option<&str> {
    let rest = playback_id.strip_prefix("pb-")?;
    rest.split_once('-').map(|(_, channel)| channel)
}

/// The call key a recording name carries (`ivr-<call key>-<step>-<attempt>`, see `ivr::call::recording_name`;
/// the call id is `<asterisk id>/<channel id>`, made safe).
fn channel_of_recording(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("ivr-")?;
    let mut parts = rest.rsplitn(3, '-');
    let _attempt = parts.next()?;
    let _step = parts.next()?;
    parts.next()
}

/// Notes when the router wakes a call task waiting on its mailbox, then wakes the task.
#[derive(Debug, Default)]
struct WakeStamp {
    woken_at: Mutex<Option<Instant>>,
    task: Mutex<Option<Waker>>,
}

impl WakeStamp {
    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Wake for WakeStamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Self::lock(&self.woken_at).get_or_insert_with(Instant::now);
        if let Some(task) = Self::lock(&self.task).as_ref() {
            task.wake_by_ref();
        }
    }
}

/// A call's mailbox that stamps each event as the call task takes it, and — when the task was idle,
/// waiting for it — when the router delivered it (by wrapping the waker the mailbox is polled with).
#[derive(Debug)]
pub struct TimedMailbox {
    inner: ari::Mailbox,
    channel: Arc<str>,
    probe: Arc<LatencyProbe>,
    wake: Arc<WakeStamp>,
}

impl TimedMailbox {
    /// Wraps the router's mailbox for one call.
    pub fn new(inner: ari::Mailbox, probe: Arc<LatencyProbe>) -> Self {
        let channel: Arc<str> = Arc::from(call_key(inner.channel_id()));
        Self {
            inner,
            channel,
            probe,
            wake: Arc::new(WakeStamp::default()),
        }
    }
}

impl CallMailbox for TimedMailbox {
    async fn recv(&mut self) -> Option<ari::Event> {
        // The task is back at its mailbox: whatever it did with the last event is done.
        self.probe.back_to_mailbox(&self.channel);
        *WakeStamp::lock(&self.wake.woken_at) = None;
        let wake = Arc::clone(&self.wake);
        let waker = Waker::from(Arc::clone(&wake));
        let mut first_poll = true;
        let mut was_waiting = false;
        let receiving = self.inner.recv();
        let mut receiving = std::pin::pin!(receiving);
        let event = std::future::poll_fn(|cx| {
            {
                let mut task = WakeStamp::lock(&wake.task);
                if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                    *task = Some(cx.waker().clone());
                }
            }
            let polled = receiving.as_mut().poll(&mut Context::from_waker(&waker));
            if first_poll && polled.is_pending() {
                was_waiting = true;
            }
            first_poll = false;
            polled
        })
        .await;
        if let Some(event) = &event {
            if let ari::Event::StasisStart(_) = event {
                self.probe.learn_asterisk(event);
            }
            let woken_at = if was_waiting {
                *WakeStamp::lock(&self.wake.woken_at)
            } else {
                None
            };
            self.probe.event_taken(&self.channel, woken_at);
        }
        event
    }
}

/// The engine's channel control, measured.
#[derive(Debug)]
pub struct TimedControl<C> {
    inner: C,
    probe: Arc<LatencyProbe>,
}

impl<C> TimedControl<C> {
    /// Wraps `inner`.
    pub fn new(inner: C, probe: Arc<LatencyProbe>) -> Self {
        Self { inner, probe }
    }
}

impl<C: CallControl> CallControl for TimedControl<C> {
    async fn answer(&self, channel: &str) -> Result<(), ControlError> {
        self.probe.request(Some(channel));
        self.inner.answer(channel).await
    }

    async fn play(
        &self,
        channel: &str,
        playback_id: &str,
        media: &[ivr::Media],
        language: &str,
    ) -> Result<(), ControlError> {
        self.probe.request(Some(channel));
        self.inner.play(channel, playback_id, media, language).await
    }

    async fn stop_playback(&self, playback_id: &str) -> Result<(), ControlError> {
        self.probe.request(channel_of_playback(playback_id));
        self.inner.stop_playback(playback_id).await
    }

    async fn record(&self, channel: &str, request: &RecordRequest<'_>) -> Result<(), ControlError> {
        self.probe.request(Some(channel));
        self.inner.record(channel, request).await
    }

    async fn stop_recording(&self, name: &str) -> Result<(), ControlError> {
        self.probe.request(self.probe.recording_channel(name));
        self.inner.stop_recording(name).await
    }

    async fn fetch_recording(&self, name: &str) -> Result<Vec<u8>, ControlError> {
        self.probe.request(self.probe.recording_channel(name));
        self.inner.fetch_recording(name).await
    }

    async fn playback_live(&self, playback_id: &str) -> Result<bool, ControlError> {
        self.inner.playback_live(playback_id).await
    }

    async fn recording_live(&self, name: &str) -> Result<bool, ControlError> {
        self.inner.recording_live(name).await
    }

    async fn delete_recording(&self, name: &str) -> Result<(), ControlError> {
        self.inner.delete_recording(name).await
    }

    async fn continue_in_dialplan(
        &self,
        channel: &str,
        target: Option<(&str, &str)>,
    ) -> Result<(), ControlError> {
        self.probe.request(Some(channel));
        self.inner.continue_in_dialplan(channel, target).await
    }

    async fn hangup(&self, channel: &str) -> Result<(), ControlError> {
        self.probe.request(Some(channel));
        self.inner.hangup(channel).await
    }

    async fn start_moh(&self, channel: &str) -> Result<(), ControlError> {
        self.probe.request(Some(channel));
        self.inner.start_moh(channel).await
    }

    async fn stop_moh(&self, channel: &str) -> Result<(), ControlError> {
        self.inner.stop_moh(channel).await
    }

    async fn originate(&self, leg: &OriginateLeg<'_>, owner: &str) -> Result<(), ControlError> {
        self.inner.originate(leg, owner).await
    }

    fn forget_leg(&self, channel: &str) {
        self.inner.forget_leg(channel);
    }

    async fn create_bridge(&self, bridge: &str, owner: &str) -> Result<(), ControlError> {
        self.inner.create_bridge(bridge, owner).await
    }

    async fn add_to_bridge(&self, bridge: &str, channels: &[&str]) -> Result<(), ControlError> {
        self.inner.add_to_bridge(bridge, channels).await
    }

    async fn remove_from_bridge(&self, bridge: &str, channel: &str) -> Result<(), ControlError> {
        self.inner.remove_from_bridge(bridge, channel).await
    }

    async fn destroy_bridge(&self, bridge: &str) -> Result<(), ControlError> {
        self.inner.destroy_bridge(bridge).await
    }

    async fn hold(&self, channel: &str, on: bool) -> Result<(), ControlError> {
        self.inner.hold(channel, on).await
    }

    fn adopt_leg(
        &self,
        channel: &str,
        bridge: Option<&str>,
        owner: &str,
    ) -> Result<(), ControlError> {
        self.inner.adopt_leg(channel, bridge, owner)
    }

    async fn channel_live(&self, channel: &str) -> Result<bool, ControlError> {
        self.inner.channel_live(channel).await
    }

    async fn set_variable(
        &self,
        channel: &str,
        name: &str,
        value: &str,
    ) -> Result<(), ControlError> {
        self.inner.set_variable(channel, name, value).await
    }

    async fn snoop(
        &self,
        channel: &str,
        snoop: &str,
        whisper: bool,
        owner: &str,
    ) -> Result<(), ControlError> {
        self.inner.snoop(channel, snoop, whisper, owner).await
    }
}

/// The engine's ticket desk, marking events whose answer waits on it.
#[derive(Debug)]
pub struct TimedDesk<D> {
    inner: D,
    probe: Arc<LatencyProbe>,
}

impl<D> TimedDesk<D> {
    /// Wraps `inner`.
    pub fn new(inner: D, probe: Arc<LatencyProbe>) -> Self {
        Self { inner, probe }
    }
}

impl<D: TicketDesk> TicketDesk for TimedDesk<D> {
    async fn file(
        &self,
        draft: &ivr::TicketDraft,
        recording: Option<&FetchedRecording>,
    ) -> Result<FiledTicket, DeskError> {
        self.probe.desk_used(&draft.call_id);
        self.inner.file(draft, recording).await
    }

    async fn lookup(&self, number: &str) -> Result<Option<ivr::TicketStatusView>, DeskError> {
        // The lookup names no call; the benchmark's callers file complaints and do not look any up.
        self.inner.lookup(number).await
    }

    async fn feedback(&self, feedback: &Feedback<'_>) -> Result<FeedbackReply, DeskError> {
        self.inner.feedback(feedback).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_invert() {
        let mut last = 0;
        for us in (0..200_000u64).step_by(7) {
            let b = bucket_of(us);
            assert!(b >= last, "bucket of {us} went backwards");
            assert!(bucket_floor(b) <= us, "floor of bucket {b} above {us}");
            assert!(
                bucket_floor(b + 1) > us,
                "next bucket of {b} not above {us}"
            );
            last = b;
        }
    }

    #[test]
    fn quantiles_are_within_the_bucket_error() {
        let h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for us in 1..=10_000u64 {
            h.record(Duration::from_micros(us));
        }
        for (q, want) in [(0.5, 5_000.0), (0.99, 9_900.0), (0.999, 9_990.0)] {
            let got = h.quantile(q).unwrap().as_micros() as f64;
            assert!(
                (got - want).abs() / want < 0.02,
                "q{q}: got {got}, want {want}"
            );
        }
        assert_eq!(h.max(), Some(Duration::from_micros(10_000)));
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn ids_name_their_channel() {
        let id = crate::engine::translate::playback_id("caller-5af3b363", 7);
        assert_eq!(channel_of_playback(&id), Some("caller-5af3b363"));
        let name = ivr::call::recording_name("1795921121.47", "record_complaint", 2);
        assert_eq!(channel_of_recording(&name), Some("1795921121_47"));
        assert_eq!(call_key("1795921121.47"), "1795921121_47");
        let probe = LatencyProbe::default();
        let _ = probe
            .asterisk_prefix
            .set(format!("{}_", call_key("02:fc:00:00:00:01")));
        let name =
            ivr::call::recording_name("02:fc:00:00:00:01/1795921121.47", "record_complaint", 1);
        assert_eq!(probe.recording_channel(&name), Some("1795921121_47"));
        assert_eq!(channel_of_playback("voice"), None);
        assert_eq!(channel_of_recording("other"), None);
    }

    #[test]
    fn a_stamp_is_taken_once_and_dropped_at_the_mailbox() {
        let probe = LatencyProbe::default();
        let channel: Arc<str> = Arc::from("c1");
        probe.event_taken(&channel, None);
        probe.request(Some("c1"));
        probe.request(Some("c1"));
        assert_eq!(probe.direct.count(), 1);
        probe.event_taken(&channel, None);
        probe.desk_used("02:fc:00:00:00:01/c1");
        probe.request(Some("c1"));
        assert_eq!(probe.via_desk.count(), 1);
        probe.event_taken(&channel, None);
        probe.back_to_mailbox("c1");
        probe.request(Some("c1"));
        assert_eq!(probe.direct.count(), 1);
        // An event that woke its idle task is also measured from its arrival.
        let arrived = Instant::now();
        probe.event_taken(&channel, Some(arrived));
        probe.request(Some("c1"));
        assert_eq!(probe.direct.count(), 2);
        assert_eq!(probe.from_arrival.count(), 1);
        assert_eq!(probe.arrived_queued.load(Ordering::Relaxed), 1);
        assert_eq!(probe.pending(), 0);
    }
}

#[cfg(test)]
mod mailbox_tests {
    use super::*;

    fn stasis_start(channel: &str) -> ari::Event {
        let json = serde_json::json!({
            "type": "StasisStart", "application": "ivr-1100", "args": [],
            "timestamp": "2026-11-29T05:00:01.000+0000", "asterisk_id": "02:fc:00:00:00:01",
            "channel": {
                "id": channel, "name": "PJSIP/citizen-00000001", "state": "Ring", "protocol_id": "",
                "caller": {"name": "", "number": "9816000001"}, "connected": {"name": "", "number": ""},
                "accountcode": "", "dialplan": {"context": "from-citizens", "exten": "1100",
                "priority": 2, "app_name": "Stasis", "app_data": "ivr-1100"},
                "creationtime": "2026-11-29T05:00:00.000+0000", "language": "hi"
            }
        });
        ari::parse_event(json.to_string().as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn a_waiting_task_is_measured_from_the_routers_delivery() {
        let (router, mut outputs) = ari::Router::new(ari::RouterConfig::default());
        router.route(stasis_start("c1"));
        let call = outputs.new_calls.recv().await.unwrap();
        let probe = Arc::new(LatencyProbe::default());
        let mut mailbox = TimedMailbox::new(call.mailbox, Arc::clone(&probe));
        // The StasisStart was queued before the task came: not measured from its arrival.
        assert!(mailbox.recv().await.is_some());
        probe.request(Some("c1"));
        assert_eq!(probe.arrived_queued.load(Ordering::Relaxed), 1);
        // The task waits; the router delivers the next event and wakes it.
        let waiting = tokio::spawn(async move {
            let event = mailbox.recv().await;
            (mailbox, event)
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut hangup = stasis_start("c1").to_json();
        hangup["type"] = "ChannelHangupRequest".into();
        router.route(ari::parse_event(hangup.to_string().as_bytes()).unwrap());
        let (_mailbox, event) = waiting.await.unwrap();
        assert!(event.is_some());
        probe.request(Some("c1"));
        assert_eq!(probe.from_arrival.count(), 1);
        assert_eq!(probe.direct.count(), 2);
        assert_eq!(probe.pending(), 0);
    }
}
