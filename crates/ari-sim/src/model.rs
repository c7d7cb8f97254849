//! The model of the fake Asterisk: channels, Local pairs, the dialplan, bridges, playbacks, recordings,
//! snoops, endpoints, Stasis apps and their subscriptions, and simulated callers. One actor task owns all of
//! it (no locks, no task per channel); REST requests, WebSocket (dis)connections and control calls arrive as
//! `Command`s, and everything that happens later (a playback ending, a ring timeout, a caller's next step)
//! is a timer in one heap. Events are serialized once and pushed to each subscribed app's connection with
//! `try_send`, so a slow WebSocket never blocks the model; events for an app with no connection are lost,
//! as in Asterisk. Events are emitted before the REST reply is sent, so they overtake it like the real thing.
//!
//! This file holds the state, the actor loop, events, apps, channels (originate, answer, hangup), the
//! dialplan and timers; `rest` routes ARI requests (and music on hold), `playback` and `recording` do
//! media, `bridge` bridges and snoops, `endpoints` the PJSIP phones and what each does, `callers` runs
//! scenarios (queues and call-backs included).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::audio::{self, Segment};
use crate::config::{DialplanApp, EndpointBehaviour, EndpointConfig, SimConfig};
use crate::media::{Audio, Resolved, SoundLibrary, seed_of};
use crate::scenario::{
    CallOutcome, CallResult, CallbackAttempt, HeardMedia, HungUpBy, Scenario, Step,
};
use crate::wire::{self, cause_txt, message};
use crate::{SimError, SimStats};

mod bridge;
mod callers;
mod endpoints;

use endpoints::{Originate, dial_status, endpoint_key};
mod playback;
mod recording;
mod rest;

/// A WebSocket connection's id.
pub(crate) type ConnId = u64;

/// What the model sends to a WebSocket task.
#[derive(Debug)]
pub(crate) enum WsOut {
    /// One event, already serialized for this connection's app.
    Event(String),
    /// Close the connection (fault injection, restart, or the connection fell too far behind).
    Close,
}

/// A REST request, already authenticated, split into path segments after `/ari/`.
#[derive(Debug)]
pub(crate) struct RestRequest {
    pub method: String,
    pub segments: Vec<String>,
    pub params: HashMap<String, String>,
    /// JSON body (`variables` for originate/create).
    pub body: Option<Value>,
}

/// The reply to a REST request.
#[derive(Debug)]
pub(crate) struct RestReply {
    pub status: u16,
    pub body: ReplyBody,
}

#[derive(Debug)]
pub(crate) enum ReplyBody {
    Json(Value),
    Empty,
    /// A stored recording's file, read by the HTTP layer (not the model).
    File(PathBuf),
}

impl RestReply {
    fn json(status: u16, body: Value) -> RestReply {
        RestReply {
            status,
            body: ReplyBody::Json(body),
        }
    }
    fn empty() -> RestReply {
        RestReply {
            status: 204,
            body: ReplyBody::Empty,
        }
    }
    fn error(status: u16, text: &str) -> RestReply {
        RestReply::json(status, message(text))
    }
}

/// Everything the model can be asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    Rest {
        request: RestRequest,
        reply: oneshot::Sender<RestReply>,
    },
    Connect {
        apps: Vec<String>,
        subscribe_all: bool,
        tx: mpsc::Sender<WsOut>,
        reply: oneshot::Sender<ConnId>,
    },
    Disconnect {
        conn: ConnId,
    },
    PlaceCall {
        scenario: Box<Scenario>,
        reply: oneshot::Sender<u64>,
    },
    AwaitCall {
        call: u64,
        reply: oneshot::Sender<Result<CallResult, SimError>>,
    },
    CallResults {
        /// Forget the results returned (long load runs keep memory flat this way).
        take: bool,
        reply: oneshot::Sender<Vec<CallResult>>,
    },
    DropWebsockets,
    Restart,
    Stats {
        reply: oneshot::Sender<SimStats>,
    },
    /// Adds an endpoint, or replaces the one with the same technology and resource.
    SetEndpoint {
        endpoint: Box<EndpointConfig>,
    },
    /// Removes an endpoint; replies whether it was there.
    RemoveEndpoint {
        technology: String,
        resource: String,
        reply: oneshot::Sender<bool>,
    },
    Endpoints {
        reply: oneshot::Sender<Vec<EndpointConfig>>,
    },
    /// The INVITEs the simulated phones received, oldest first.
    Invites {
        reply: oneshot::Sender<Vec<crate::Invite>>,
    },
}

/// Something scheduled for later.
#[derive(Debug, Clone)]
enum Timer {
    PlaybackItemEnd {
        playback: String,
        generation: u64,
    },
    RecordingMaxDuration {
        name: String,
        generation: u64,
    },
    RecordingSilence {
        name: String,
        generation: u64,
    },
    DtmfArrives {
        channel: String,
        digit: char,
        duration_ms: u64,
    },
    OriginateTimeout {
        channel: String,
    },
    /// An originated phone's INVITE goes out (after the originate's reply): it rings, is busy, or is silent.
    EndpointDials {
        channel: String,
        instance: u64,
    },
    EndpointAnswers {
        channel: String,
    },
    /// Nothing answered the INVITE: the SIP transaction times out (32 s).
    SipTimeout {
        channel: String,
        instance: u64,
    },
    /// The phone hangs up itself (a BYE).
    PhoneHangsUp {
        channel: String,
        instance: u64,
    },
    /// The phone puts the call on hold (`on`) or takes it off (a re-INVITE).
    PhoneHolds {
        channel: String,
        instance: u64,
        on: bool,
    },
    DialplanNext {
        channel: String,
        generation: u64,
    },
    CallStep {
        call: u64,
        generation: u64,
    },
    CallTimeout {
        call: u64,
        generation: u64,
    },
    CallVoiceEnds {
        call: u64,
        generation: u64,
    },
    CallDtmf {
        call: u64,
        digit: char,
        duration_ms: u64,
        /// A key of the current `press` step (not of an `on_prompt` reaction).
        press_step: bool,
    },
    /// An `on_prompt` reaction's hangup, on the channel the caller was on when it fired.
    CallReactionHangup {
        call: u64,
        channel: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// One half of a Local channel pair; `half` is 1 or 2.
    Local { peer: String, half: u8 },
    /// A channel from outside (a simulated SIP caller, or an originated PJSIP phone).
    Sip,
    /// A snoop channel spying on `target` (`spy`: none, in, out or both).
    Snoop { target: String, spy: String },
}

/// An originated channel's pending Stasis entry or dialplan destination.
#[derive(Debug, Clone)]
struct Origin {
    app: Option<String>,
    args: Vec<String>,
    dialplan: Option<(String, String, u32)>,
    dialstring: String,
    answered: bool,
    /// What the phone does (an originated PJSIP channel; `None` for a Local pair).
    phone: Option<EndpointBehaviour>,
}

#[derive(Debug)]
struct Channel {
    id: String,
    name: String,
    state: &'static str,
    protocol_id: String,
    caller: (String, String),
    connected: (String, String),
    creationtime: String,
    language: String,
    context: String,
    exten: String,
    priority: u32,
    app_name: String,
    app_data: String,
    vars: HashMap<String, String>,
    kind: Kind,
    /// Apps hearing this channel's events (incl. the Stasis app while it is in Stasis).
    subscribers: Vec<String>,
    /// Apps subscribed for good (the app that originated a Local pair hears both halves until destroyed).
    local_subscribers: Vec<String>,
    stasis: Option<String>,
    /// Entered Stasis from the dialplan (the dialplan resumes when Stasis ends).
    dialplan_stasis: bool,
    origin: Option<Origin>,
    playing: Option<String>,
    queue: VecDeque<String>,
    recording: Option<String>,
    /// DTMF sent *from* this channel while it was playing: held until the playback stops.
    held_dtmf: Vec<(char, u64)>,
    /// What this channel currently hears from its far end: (since model ms, audio, offset ms).
    inbound: Option<(u64, Audio, u64)>,
    bridge: Option<String>,
    call: Option<u64>,
    dialplan_generation: u64,
    snoops: Vec<String>,
    /// Music on hold started on the channel itself (`POST /channels/{id}/moh`): its class.
    moh: Option<String>,
    /// The simulated caller on this channel is hearing music on hold now (its own, or its bridge's).
    moh_heard: bool,
    muted: bool,
    on_hold: bool,
    /// `Dial PROGRESS` was reported for this originated channel (early media on its peer).
    progress_reported: bool,
    /// The channel is being torn down: a simulated caller on it takes no further steps.
    hanging_up: bool,
    /// An originated channel continued into the dialplan: its `STASISSTATUS=SUCCESS` comes when the
    /// dialplan ends, not when it leaves Stasis.
    stasis_status_pending: bool,
    /// Tells this channel's timers from those of an earlier channel with the same (client-chosen) id.
    instance: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Channel(String),
    Bridge(String),
}

impl Target {
    fn uri(&self) -> String {
        match self {
            Target::Channel(id) => format!("channel:{id}"),
            Target::Bridge(id) => format!("bridge:{id}"),
        }
    }
}

#[derive(Debug)]
struct Playback {
    id: String,
    media: Vec<String>,
    index: usize,
    target: Target,
    language: String,
    state: &'static str,
    generation: u64,
    item_started_ms: u64,
    item_duration_ms: Option<u64>,
    paused_elapsed_ms: Option<u64>,
    audio: Option<Audio>,
    /// Unknown scheme on an unanswered channel: started, never finishes, vanishes with the channel.
    stuck: bool,
}

#[derive(Debug)]
struct Bridge {
    id: String,
    name: String,
    bridge_type: String,
    technology: &'static str,
    channels: Vec<String>,
    creationtime: String,
    subscribers: Vec<String>,
    recording: Option<String>,
    playing: Option<String>,
    queue: VecDeque<String>,
    /// Music on hold on the bridge: its class and the announcer channel playing it (a mixing bridge's
    /// members see it in `BRIDGEPEER`).
    moh: Option<(String, String)>,
}

#[derive(Debug)]
struct LiveRecording {
    name: String,
    format: String,
    target: Target,
    /// Model ms when capture began (after the beep).
    started_ms: u64,
    /// Tells this recording's timers from those of an earlier one with the same name.
    instance: u64,
    /// 0: no limit. Capture is cut at exactly this length, however late its timer fires.
    max_duration_s: u64,
    max_silence_s: u64,
    terminate_on: String,
    if_exists: String,
    generation: u64,
    segments: Vec<Segment>,
    /// Voices being heard now, by channel: (start ms relative to the recording, audio, offset ms).
    open: HashMap<String, (u64, Audio, u64)>,
    paused: bool,
    /// Paused time so far (not part of the file, nor of maxDurationSeconds).
    paused_total_ms: u64,
    paused_since: Option<u64>,
    muted: bool,
    state: &'static str,
}

impl LiveRecording {
    /// Milliseconds into the recording at model time `now` (paused time excluded).
    fn rel(&self, now: u64) -> u64 {
        let paused = self.paused_total_ms + self.paused_since.map_or(0, |p| now.saturating_sub(p));
        now.saturating_sub(self.started_ms).saturating_sub(paused)
    }

    /// Whether audio is being captured now.
    fn capturing(&self) -> bool {
        !self.paused && !self.muted
    }
}

#[derive(Debug, Clone)]
struct StoredRecording {
    format: String,
    path: PathBuf,
}

#[derive(Debug, Default)]
struct App {
    conn: Option<ConnId>,
    subscribed_endpoints: HashSet<String>,
}

#[derive(Debug)]
struct Conn {
    tx: mpsc::Sender<WsOut>,
    apps: Vec<String>,
}

/// What a simulated caller is waiting for.
#[derive(Debug, Clone, PartialEq)]
enum CallWait {
    Nothing,
    Prompt(Option<String>),
    PromptEnd,
    Hangup,
    Timer,
    /// For an agent to be on the line (`wait_agent`).
    Agent,
    /// Off the line, for the call-back (`await_callback`).
    Callback,
}

#[derive(Debug)]
struct CallRun {
    id: u64,
    scenario: Scenario,
    channel: String,
    started_ms: u64,
    step: usize,
    wait: CallWait,
    generation: u64,
    heard: Vec<HeardMedia>,
    /// Index into `heard` of the first prompt not yet consumed by a `wait_prompt`.
    cursor: usize,
    digits_sent: String,
    recordings: Vec<String>,
    answered_ms: Option<u64>,
    failure: Option<String>,
    hung_up_by: Option<HungUpBy>,
    transferred_to: Option<String>,
    voice_generation: u64,
    /// Digits of the current `press` step not yet sent.
    digits_pending: usize,
    // Measured only (dead air, spoken complaints); nothing below changes what the simulator does.
    /// Spans (model ms) in which the caller pressed keys or their channel was being recorded.
    covered: Vec<(u64, u64)>,
    /// Recordings capturing the caller now: (name, since model ms).
    recording_since: Vec<(String, u64)>,
    /// Recordings of the caller's channel during which they spoke.
    spoken_recordings: Vec<String>,
    /// When the call left for another party (a redirect, or the dialplan of another context), model ms.
    left_ms: Option<u64>,
    /// An `answer_replays` step ran: a prompt heard again takes the caller back.
    answer_replays: bool,
    /// Where each passed `wait_prompt` step was satisfied: (step index, media URI).
    prompts_answered: Vec<(usize, String)>,
    /// The channel the call began on (`channel` is the one it is on now, empty while off the line).
    first_channel: String,
    /// `on_prompt` reactions registered so far: (their step, fired yet).
    reactions: Vec<(usize, bool)>,
    abandoned: bool,
    connected_ms: Option<u64>,
    bridged_with: Vec<String>,
    callbacks: Vec<CallbackAttempt>,
    /// Off the line since (model ms), waiting for a call-back: not dead air.
    offline_since: Option<u64>,
    /// On the line with another party (an agent) since (model ms): not dead air either.
    bridged_since: Option<u64>,
    /// When waiting for the call-back stops (model ms), whatever attempts came meanwhile.
    callback_deadline: Option<u64>,
    /// The cause the caller's last channel ended with.
    last_cause: u32,
}

/// The actor: owns the whole simulated Asterisk.
pub(crate) struct Model {
    config: Arc<SimConfig>,
    sounds: SoundLibrary,
    recordings_dir: PathBuf,
    started: Instant,
    wall_start: chrono::DateTime<chrono::Utc>,
    /// `started` as real Unix ms (for `CallResult::started_unix_ms`).
    started_unix_ms: f64,
    channels: HashMap<String, Channel>,
    bridges: HashMap<String, Bridge>,
    playbacks: HashMap<String, Playback>,
    recordings: HashMap<String, LiveRecording>,
    stored: BTreeMap<String, StoredRecording>,
    apps: HashMap<String, App>,
    conns: HashMap<ConnId, Conn>,
    next_conn: ConnId,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    timer_slab: HashMap<u64, (Timer, u64)>,
    /// While a timer is handled: the model time it was due (see `now_ms`).
    clock: Option<u64>,
    next_timer: u64,
    next_generation: u64,
    local_seq: u32,
    unique_seq: u64,
    /// Asterisk's per-technology channel-name counters (`PJSIP/agent-101-0000000c`, `Snoop/…-00000000`).
    pjsip_seq: u32,
    snoop_seq: u32,
    /// The endpoints, by `technology/resource` with the technology in lower case (see `endpoint_key`):
    /// the configuration's, then as the `/sim` API changes them.
    endpoints: BTreeMap<String, EndpointConfig>,
    /// The INVITEs sent to simulated phones (`/sim/invites`), the latest `endpoints::INVITES_KEPT`.
    invites: VecDeque<crate::Invite>,
    calls: HashMap<u64, CallRun>,
    /// Calls off the line waiting for a call-back, by the caller's number (`callers::number_key`).
    callbacks_waiting: HashMap<String, u64>,
    results: BTreeMap<u64, CallResult>,
    waiters: HashMap<u64, Vec<oneshot::Sender<Result<CallResult, SimError>>>>,
    next_call: u64,
    /// Apps that connected with `subscribeAll=true`: they hear every channel, bridge and playback event.
    subscribe_all: Vec<String>,
    stats: SimStats,
}

const CHANNEL_NOT_FOUND: &str = "Channel not found";
const NOT_IN_STASIS: &str = "Channel not in Stasis application";

impl Model {
    pub(crate) fn new(config: Arc<SimConfig>, recordings_dir: PathBuf) -> Model {
        let sounds = SoundLibrary::new(config.sounds_dirs.clone());
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| (endpoint_key(&e.technology, &e.resource), e.clone()))
            .collect();
        let stored = scan_stored(&recordings_dir);
        Model {
            config,
            sounds,
            recordings_dir,
            started: Instant::now(),
            wall_start: chrono::Utc::now(),
            started_unix_ms: unix_ms_now(),
            channels: HashMap::new(),
            bridges: HashMap::new(),
            playbacks: HashMap::new(),
            recordings: HashMap::new(),
            stored,
            apps: HashMap::new(),
            conns: HashMap::new(),
            next_conn: 1,
            timers: BinaryHeap::new(),
            timer_slab: HashMap::new(),
            clock: None,
            next_timer: 0,
            next_generation: 1,
            local_seq: 0x24,
            unique_seq: 0,
            pjsip_seq: 0,
            snoop_seq: 0,
            endpoints,
            invites: VecDeque::new(),
            calls: HashMap::new(),
            callbacks_waiting: HashMap::new(),
            results: BTreeMap::new(),
            waiters: HashMap::new(),
            next_call: 1,
            subscribe_all: Vec::new(),
            stats: SimStats::default(),
        }
    }

    /// Runs the actor until every command sender is gone or `shutdown` fires.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            let next = self.timers.peek().map(|Reverse((at, _))| *at);
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                command = commands.recv() => match command {
                    Some(command) => {
                        // Whatever was due before this command arrived happens first, even when the
                        // runtime woke us late.
                        self.fire_due_timers();
                        // Everything one command does happens at one simulated instant.
                        self.clock = Some(self.now_ms());
                        self.handle(command);
                        self.clock = None;
                    }
                    None => break,
                },
                () = sleep_until_opt(next) => self.fire_due_timers(),
            }
        }
        for conn in self.conns.values() {
            let _ = conn.tx.try_send(WsOut::Close);
        }
    }

    fn fire_due_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let Some((timer, due_ms)) = self.timer_slab.remove(&id) {
                // The model lives at the moment the timer was due, however late the runtime woke us:
                // lengths of playbacks, speech and recordings stay exact at any speed and load.
                self.clock = Some(due_ms);
                self.on_timer(timer);
                self.clock = None;
            }
        }
    }

    // ----- time -----

    /// Simulated milliseconds since the simulator started (real time × speed), or the due time of the
    /// timer being handled.
    fn now_ms(&self) -> u64 {
        self.clock.unwrap_or_else(|| {
            (self.started.elapsed().as_secs_f64() * 1000.0 * self.config.speed) as u64
        })
    }

    /// Model time `ms` as real Unix ms.
    fn unix_ms_at(&self, ms: u64) -> u64 {
        (self.started_unix_ms + ms as f64 / self.config.speed) as u64
    }

    fn now_stamp(&self) -> String {
        let at = self.wall_start + chrono::Duration::milliseconds(self.now_ms() as i64);
        wire::timestamp(at)
    }

    fn schedule(&mut self, after_model_ms: u64, timer: Timer) {
        let due_ms = self.now_ms() + after_model_ms;
        let at = self.started
            + std::time::Duration::from_secs_f64(due_ms as f64 / 1000.0 / self.config.speed);
        let id = self.next_timer;
        self.next_timer += 1;
        self.timer_slab.insert(id, (timer, due_ms));
        self.timers.push(Reverse((at, id)));
    }

    fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    // ----- events -----

    fn channel_json(&self, id: &str) -> Value {
        match self.channels.get(id) {
            Some(c) => channel_json(c),
            None => Value::Null,
        }
    }

    /// Sends an event to each app in `apps` that has a live connection.
    fn emit(&mut self, apps: &[String], mut event: Value) {
        let mut with_all;
        let apps = if self.subscribe_all.is_empty()
            || event
                .get("type")
                .is_some_and(|t| t == "StasisStart" || t == "StasisEnd")
        {
            apps
        } else {
            with_all = apps.to_vec();
            for app in &self.subscribe_all {
                set_member(&mut with_all, app, true);
            }
            &with_all[..]
        };
        if apps.is_empty() {
            return;
        }
        if let Some(obj) = event.as_object_mut() {
            obj.insert("timestamp".to_owned(), Value::String(self.now_stamp()));
            obj.insert(
                "asterisk_id".to_owned(),
                Value::String(self.config.asterisk_id.clone()),
            );
        }
        let serialized = event.to_string();
        let mut dead = Vec::new();
        for app in apps {
            let Some(conn_id) = self.apps.get(app).and_then(|a| a.conn) else {
                self.stats.events_lost += 1;
                continue;
            };
            let Some(conn) = self.conns.get(&conn_id) else {
                continue;
            };
            match conn
                .tx
                .try_send(WsOut::Event(wire::with_application(&serialized, app)))
            {
                Ok(()) => self.stats.events_sent += 1,
                Err(_) => {
                    // The connection is not keeping up (or is gone): drop it rather than stall the model.
                    self.stats.events_lost += 1;
                    dead.push(conn_id);
                }
            }
        }
        for conn in dead {
            self.disconnect(conn, true);
        }
    }

    fn emit_channel(&mut self, channel: &str, event_type: &str, extra: Value) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        let apps = c.subscribers.clone();
        let mut event = json!({ "type": event_type, "channel": channel_json(c) });
        merge(&mut event, extra);
        self.emit(&apps, event);
    }

    fn emit_varset(&mut self, channel: &str, variable: &str, value: &str) {
        self.emit_channel(
            channel,
            "ChannelVarset",
            json!({ "variable": variable, "value": value }),
        );
    }

    fn emit_state_change(&mut self, channel: &str) {
        self.emit_channel(channel, "ChannelStateChange", json!({}));
    }

    /// Apps hearing a playback or recording on `target`.
    fn target_subscribers(&self, target: &Target) -> Vec<String> {
        match target {
            Target::Channel(id) => self
                .channels
                .get(id)
                .map(|c| c.subscribers.clone())
                .unwrap_or_default(),
            Target::Bridge(id) => self
                .bridges
                .get(id)
                .map(|b| b.subscribers.clone())
                .unwrap_or_default(),
        }
    }

    // ----- command dispatch -----

    fn handle(&mut self, command: Command) {
        match command {
            Command::Rest { request, reply } => {
                self.stats.rest_requests += 1;
                let response = self.rest(request);
                let _ = reply.send(response);
            }
            Command::Connect {
                apps,
                subscribe_all,
                tx,
                reply,
            } => {
                if subscribe_all {
                    for app in &apps {
                        set_member(&mut self.subscribe_all, app, true);
                    }
                }
                let id = self.connect(apps, tx);
                let _ = reply.send(id);
            }
            Command::Disconnect { conn } => self.disconnect(conn, false),
            Command::PlaceCall { scenario, reply } => {
                let id = self.place_call(*scenario);
                let _ = reply.send(id);
            }
            Command::AwaitCall { call, reply } => {
                if let Some(result) = self.results.get(&call) {
                    let _ = reply.send(Ok(result.clone()));
                } else if self.calls.contains_key(&call) {
                    self.waiters.entry(call).or_default().push(reply);
                } else {
                    let _ = reply.send(Err(SimError::UnknownCall(call)));
                }
            }
            Command::CallResults { take, reply } => {
                let results = if take {
                    std::mem::take(&mut self.results).into_values().collect()
                } else {
                    self.results.values().cloned().collect()
                };
                let _ = reply.send(results);
            }
            Command::DropWebsockets => {
                let conns: Vec<ConnId> = self.conns.keys().copied().collect();
                for conn in conns {
                    self.disconnect(conn, true);
                }
            }
            Command::Restart => self.restart(),
            Command::Stats { reply } => {
                let mut stats = self.stats.clone();
                stats.channels = self.channels.len() as u64;
                stats.bridges = self.bridges.len() as u64;
                stats.playbacks = self.playbacks.len() as u64;
                stats.live_recordings = self.recordings.len() as u64;
                stats.calls_active = self.calls.len() as u64;
                stats.websockets = self.conns.len() as u64;
                stats.websocket_connects = self.next_conn - 1;
                let _ = reply.send(stats);
            }
            Command::SetEndpoint { endpoint } => {
                let key = endpoint_key(&endpoint.technology, &endpoint.resource);
                self.endpoints.insert(key, *endpoint);
            }
            Command::RemoveEndpoint {
                technology,
                resource,
                reply,
            } => {
                let removed = self
                    .endpoints
                    .remove(&endpoint_key(&technology, &resource))
                    .is_some();
                let _ = reply.send(removed);
            }
            Command::Endpoints { reply } => {
                let _ = reply.send(self.endpoints.values().cloned().collect());
            }
            Command::Invites { reply } => {
                let _ = reply.send(self.invites.iter().cloned().collect());
            }
        }
    }

    // ----- WebSocket connections and apps -----

    fn connect(&mut self, apps: Vec<String>, tx: mpsc::Sender<WsOut>) -> ConnId {
        let id = self.next_conn;
        self.next_conn += 1;
        let replaced = json!({ "type": "ApplicationReplaced", "timestamp": self.now_stamp(),
                               "asterisk_id": self.config.asterisk_id });
        for app in &apps {
            let entry = self.apps.entry(app.clone()).or_default();
            if let Some(old) = entry.conn.replace(id) {
                // A second connection for the same app takes over; the first hears ApplicationReplaced.
                if let Some(conn) = self.conns.get_mut(&old) {
                    let event = &replaced;
                    let _ = conn.tx.try_send(WsOut::Event(wire::with_application(
                        &event.to_string(),
                        app,
                    )));
                    conn.apps.retain(|a| a != app);
                }
            }
        }
        self.conns.insert(id, Conn { tx, apps });
        id
    }

    fn disconnect(&mut self, conn: ConnId, close: bool) {
        if let Some(c) = self.conns.remove(&conn) {
            if close {
                let _ = c.tx.try_send(WsOut::Close);
            }
            for app in c.apps {
                if let Some(a) = self.apps.get_mut(&app)
                    && a.conn == Some(conn)
                {
                    a.conn = None;
                }
            }
        }
    }

    fn app_connected(&self, app: &str) -> bool {
        self.apps.get(app).is_some_and(|a| a.conn.is_some())
    }

    fn restart(&mut self) {
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.disconnect(conn, true);
        }
        let calls: Vec<u64> = self.calls.keys().copied().collect();
        for call in calls {
            if let Some(run) = self.calls.get_mut(&call) {
                run.failure = Some("the simulator restarted (every channel gone)".to_owned());
                run.hung_up_by = Some(HungUpBy::Network);
            }
            self.finish_call(call, 38);
        }
        self.callbacks_waiting.clear();
        self.apps.clear();
        self.subscribe_all.clear();
        self.channels.clear();
        self.bridges.clear();
        self.playbacks.clear();
        self.recordings.clear();
        self.timers.clear();
        self.timer_slab.clear();
        self.invites.clear();
        self.pjsip_seq = 0;
        self.snoop_seq = 0;
        self.started = Instant::now();
        self.wall_start = chrono::Utc::now();
        self.started_unix_ms = unix_ms_now();
        self.stats.restarts += 1;
    }

    // ----- channels -----

    fn new_unique_id(&mut self) -> String {
        self.unique_seq += 1;
        let epoch = self.wall_start.timestamp() + (self.now_ms() / 1000) as i64;
        format!("{epoch}.{}", self.unique_seq)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_channel(
        &self,
        id: String,
        name: String,
        state: &'static str,
        caller: (String, String),
        connected: (String, String),
        context: &str,
        exten: &str,
        kind: Kind,
        language: &str,
    ) -> Channel {
        Channel {
            id,
            name,
            state,
            protocol_id: String::new(),
            caller,
            connected,
            creationtime: self.now_stamp(),
            language: language.to_owned(),
            context: context.to_owned(),
            exten: exten.to_owned(),
            priority: 1,
            app_name: String::new(),
            app_data: String::new(),
            vars: HashMap::new(),
            kind,
            subscribers: Vec::new(),
            local_subscribers: Vec::new(),
            stasis: None,
            dialplan_stasis: false,
            origin: None,
            playing: None,
            queue: VecDeque::new(),
            recording: None,
            held_dtmf: Vec::new(),
            inbound: None,
            bridge: None,
            call: None,
            dialplan_generation: 0,
            snoops: Vec::new(),
            moh: None,
            moh_heard: false,
            muted: false,
            on_hold: false,
            progress_reported: false,
            hanging_up: false,
            stasis_status_pending: false,
            instance: 0,
        }
    }

    fn originate(&mut self, id: Option<String>, p: Params, body: Option<Value>) -> RestReply {
        let Some(endpoint) = p.get("endpoint").filter(|e| !e.is_empty()) else {
            return RestReply::error(400, "Endpoint must be specified");
        };
        let app = p.get("app").filter(|a| !a.is_empty()).map(str::to_owned);
        let extension = p
            .get("extension")
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        if app.is_none() && extension.is_none() {
            return RestReply::error(400, "Application or extension must be specified");
        }
        let timeout_s: i64 = match p.get("timeout").map(str::parse::<i64>) {
            None => 30,
            Some(Ok(t)) => t,
            Some(Err(_)) => return RestReply::error(400, "timeout must be an integer"),
        };
        let priority: u32 = match p.get("priority").map(str::parse::<u32>) {
            None => 1,
            Some(Ok(pr)) => pr,
            Some(Err(_)) => return RestReply::error(400, "priority must be an integer"),
        };
        let id = id.unwrap_or_else(|| self.new_unique_id());
        let other_id = p.get("otherChannelId").map(str::to_owned);
        if self.channels.contains_key(&id)
            || other_id
                .as_ref()
                .is_some_and(|o| self.channels.contains_key(o))
        {
            return RestReply::error(409, "Channel with given unique ID already exists");
        }
        let caller = p
            .get("callerId")
            .map(wire::parse_caller_id)
            .unwrap_or_default();
        let args: Vec<String> = p
            .get("appArgs")
            .filter(|a| !a.is_empty())
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let variables: Vec<(String, String)> = body
            .as_ref()
            .and_then(|b| b.get("variables"))
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let dialplan = extension.map(|e| {
            (
                p.get("context").unwrap_or("default").to_owned(),
                e,
                priority,
            )
        });
        let lang = self.config.default_language.clone();
        let (tech, rest) = endpoint.split_once('/').unwrap_or((endpoint, ""));
        let origin = Origin {
            app: app.clone(),
            args,
            dialplan,
            dialstring: rest.to_owned(),
            answered: false,
            phone: None,
        };
        let subscriber: Vec<String> = app.iter().cloned().collect();
        if tech.eq_ignore_ascii_case("Local") {
            let target = rest.trim_end_matches("/n");
            let (exten, context) = target.split_once('@').unwrap_or((target, "default"));
            let exists = self
                .config
                .dialplan
                .get(context)
                .is_some_and(|c| c.contains_key(exten));
            if !exists {
                return RestReply::json(500, json!({"error": "Allocation failed"}));
            }
            self.local_seq += 1;
            let base = format!("Local/{exten}@{context}-{:08x}", self.local_seq);
            let id2 = other_id.unwrap_or_else(|| format!("{id};2"));
            let mut one = self.new_channel(
                id.clone(),
                format!("{base};1"),
                "Down",
                caller.clone(),
                caller.clone(),
                context,
                exten,
                Kind::Local {
                    peer: id2.clone(),
                    half: 1,
                },
                &lang,
            );
            one.app_name = "AppDial2".to_owned();
            one.app_data = "(Outgoing Line)".to_owned();
            one.subscribers = subscriber.clone();
            one.origin = Some(origin);
            for (k, v) in &variables {
                one.vars.insert(k.clone(), v.clone());
            }
            let mut two = self.new_channel(
                id2.clone(),
                format!("{base};2"),
                "Ring",
                caller.clone(),
                caller.clone(),
                context,
                exten,
                Kind::Local {
                    peer: id.clone(),
                    half: 1 + 1,
                },
                &lang,
            );
            two.local_subscribers = subscriber.clone();
            two.subscribers = subscriber;
            let created = channel_json(&one);
            self.channels.insert(id.clone(), one);
            self.channels.insert(id2.clone(), two);
            if p.get("callerId").is_some() {
                self.emit_channel(
                    &id2,
                    "ChannelCallerId",
                    json!({"caller_presentation": 0, "caller_presentation_txt": "Presentation Allowed, Not Screened"}),
                );
                self.emit_channel(&id2, "ChannelConnectedLine", json!({}));
            }
            self.emit_dial(&id, "");
            if timeout_s > 0 {
                self.schedule(
                    timeout_s as u64 * 1000,
                    Timer::OriginateTimeout {
                        channel: id.clone(),
                    },
                );
            }
            self.run_dialplan(&id2);
            // Asterisk answers with the channel as it was created, whatever the dialplan did meanwhile.
            RestReply::json(200, created)
        } else {
            let request = Originate {
                id,
                caller,
                origin,
                variables,
                timeout_s,
            };
            self.originate_phone(tech, rest, request)
        }
    }

    /// A `Dial` event about an originated channel, to the originating app.
    fn emit_dial(&mut self, channel: &str, status: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        let Some(origin) = &c.origin else { return };
        let apps = c.subscribers.clone();
        let event = json!({"type": "Dial", "dialstatus": status, "forward": "", "dialstring": origin.dialstring,
                           "peer": channel_json(c)});
        self.emit(&apps, event);
    }

    fn set_state(&mut self, channel: &str, state: &'static str) {
        let changed = match self.channels.get_mut(channel) {
            Some(c) if c.state != state => {
                c.state = state;
                true
            }
            _ => false,
        };
        if changed {
            self.emit_state_change(channel);
        }
    }

    fn local_peer(&self, channel: &str) -> Option<(String, u8)> {
        match &self.channels.get(channel)?.kind {
            Kind::Local { peer, half } => Some((peer.clone(), *half)),
            _ => None,
        }
    }

    /// Rings: on a Local `;2`, the `;1` side hears ringing.
    fn ring(&mut self, channel: &str) {
        if let Some((peer, 2)) = self.local_peer(channel)
            && self.channels.get(&peer).is_some_and(|c| c.state == "Down")
        {
            self.set_state(&peer, "Ringing");
            self.emit_dial(&peer, "RINGING");
        }
    }

    /// Media on an unanswered Local `;2` is early media: the `;1` side's dial reports `PROGRESS` (once).
    fn early_media(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.state == "Up" {
            return;
        }
        if let Some((peer, 2)) = self.local_peer(channel)
            && let Some(p) = self.channels.get_mut(&peer)
            && !p.progress_reported
        {
            p.progress_reported = true;
            self.emit_dial(&peer, "PROGRESS");
        }
    }

    /// Answers a channel; on a Local `;2` this answers the `;1` side too, which then enters its app.
    fn answer(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.state == "Up" {
            return;
        }
        self.set_state(channel, "Up");
        let now = self.now_ms();
        if let Some(call) = self.channels.get(channel).and_then(|c| c.call)
            && let Some(run) = self.calls.get_mut(&call)
            && run.answered_ms.is_none()
        {
            run.answered_ms = Some(now.saturating_sub(run.started_ms));
        }
        if let Some((peer, 2)) = self.local_peer(channel) {
            self.originated_answered(&peer);
        }
    }

    /// An originated channel was answered by the far end: `Up`, `Dial ANSWER`, then Stasis or dialplan.
    fn originated_answered(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.origin.as_ref().is_none_or(|o| o.answered) {
            return;
        }
        self.set_state(channel, "Up");
        self.emit_dial(channel, "ANSWER");
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        let Some(origin) = c.origin.as_mut() else {
            return;
        };
        origin.answered = true;
        let origin = origin.clone();
        if let Some(app) = origin.app {
            let mut data = app.clone();
            for a in &origin.args {
                data.push(',');
                data.push_str(a);
            }
            c.app_name = "Stasis".to_owned();
            c.app_data = data;
            self.emit_varset(channel, "STASISSTATUS", "");
            self.enter_stasis(channel, &app, origin.args.clone(), false);
            self.phone_answered(channel);
            self.callback_answered(channel);
        } else if let Some((context, exten, priority)) = origin.dialplan {
            c.context = context;
            c.exten = exten;
            c.priority = priority;
            self.phone_answered(channel);
            self.callback_answered(channel);
            self.run_dialplan_at(channel, priority);
        }
    }

    fn enter_stasis(
        &mut self,
        channel: &str,
        app: &str,
        args: Vec<String>,
        from_dialplan: bool,
    ) -> bool {
        if !self.app_connected(app) {
            return false;
        }
        let Some(c) = self.channels.get_mut(channel) else {
            return false;
        };
        c.stasis = Some(app.to_owned());
        c.dialplan_stasis = from_dialplan;
        if !c.subscribers.iter().any(|s| s == app) {
            c.subscribers.push(app.to_owned());
        }
        let event = json!({"type": "StasisStart", "args": args, "channel": channel_json(c)});
        self.emit(&[app.to_owned()], event);
        true
    }

    /// Leaves Stasis: `StasisEnd` to the app (which then hears nothing more of the channel), then
    /// `STASISSTATUS=SUCCESS` to whoever else listens.
    fn leave_stasis(&mut self, channel: &str, into_dialplan: bool) {
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        let Some(app) = c.stasis.take() else { return };
        let event = json!({"type": "StasisEnd", "channel": channel_json(c)});
        // The app that originated the channel keeps hearing it (up to ChannelDestroyed); an app that only
        // had it through Stasis hears nothing more.
        if c.origin.as_ref().and_then(|o| o.app.as_deref()) != Some(app.as_str())
            && !c.local_subscribers.contains(&app)
        {
            c.subscribers.retain(|s| *s != app);
        }
        // An originated channel sent on into the dialplan reports its status when that ends.
        let deferred = into_dialplan && !c.dialplan_stasis && c.origin.is_some();
        c.stasis_status_pending |= deferred;
        self.emit(&[app], event);
        if !deferred {
            self.emit_varset(channel, "STASISSTATUS", "SUCCESS");
        }
    }

    fn rest_hangup(&mut self, id: &str, p: Params) -> RestReply {
        if !self.channels.contains_key(id) {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        }
        let cause = if let Some(code) = p.get("reason_code") {
            match code.parse::<u32>() {
                Ok(c) => c,
                Err(_) => return RestReply::error(400, "Invalid reason_code"),
            }
        } else if let Some(reason) = p.get("reason") {
            match wire::reason_cause(reason) {
                Some(c) => c,
                None => return RestReply::error(400, "Invalid reason for hangup provided"),
            }
        } else {
            16
        };
        self.hangup(id, cause, HangupHow::Rest);
        RestReply::empty()
    }

    /// Hangs a channel up with everything Asterisk reports on the way (request, media ending, leaving its
    /// bridge and Stasis, destruction), then its Local peer and snoops.
    fn hangup(&mut self, id: &str, cause: u32, how: HangupHow) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        if c.hanging_up {
            return;
        }
        c.hanging_up = true;
        let c = &*c;
        let kind = c.kind.clone();
        let snoops = c.snoops.clone();
        let unanswered_origin = c.origin.as_ref().is_some_and(|o| !o.answered);
        if let Some(run) = c.call.and_then(|call| self.calls.get_mut(&call))
            && run.hung_up_by.is_none()
        {
            run.hung_up_by = Some(match how {
                HangupHow::Caller => HungUpBy::Caller,
                _ => HungUpBy::Network,
            });
        }
        let is_local_two = matches!(kind, Kind::Local { half: 2, .. });
        let is_sip = kind == Kind::Sip;
        // An answered outbound PJSIP leg reports its RTP statistics before Asterisk's BYE (the inbound
        // simulated citizen's channel, not captured so, does not).
        let outbound_sip_up = is_sip && c.state == "Up" && c.origin.is_some();
        let tech_cause = match how {
            HangupHow::Sip { tech_cause } => Some(tech_cause),
            // The originate gave up on a PJSIP phone: Asterisk CANCELs it (480).
            HangupHow::Timeout if is_sip => Some(480),
            _ => None,
        };
        match how {
            HangupHow::Rest => {
                if outbound_sip_up {
                    self.emit_rtp_qos(id);
                }
                self.emit_channel(
                    id,
                    "ChannelHangupRequest",
                    json!({"cause": 32, "soft": true}),
                );
            }
            HangupHow::Caller => {
                self.emit_rtp_qos(id);
                self.emit_channel(id, "ChannelHangupRequest", json!({}));
            }
            HangupHow::Peer => {
                self.emit_channel(id, "ChannelHangupRequest", json!({"cause": cause}))
            }
            HangupHow::Timeout => {
                if is_local_two {
                    self.emit_channel(id, "ChannelHangupRequest", json!({"cause": cause}));
                }
            }
            // A PJSIP channel's `Hangup()` ends it without a hangup request; its STASISSTATUS (if it
            // continued from Stasis) and RTP statistics come first.
            HangupHow::Dialplan if is_sip => {
                self.flush_stasis_status(id);
                if outbound_sip_up {
                    self.emit_rtp_qos(id);
                }
            }
            HangupHow::Dialplan => self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "soft": true}),
            ),
            HangupHow::Sip { tech_cause } => self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "tech_cause": tech_cause}),
            ),
        }
        if unanswered_origin {
            match how {
                HangupHow::Rest | HangupHow::Peer => self.emit_dial(id, "NOANSWER"),
                HangupHow::Sip { .. } => self.emit_dial(id, dial_status(cause)),
                _ => {}
            }
        }
        if let Some(c) = self.channels.get_mut(id) {
            c.dialplan_generation += 1;
            if let Some(o) = c.origin.as_mut() {
                o.answered = true;
            }
        }
        // Media on the channel ends: playbacks fail, a recording keeps what it has.
        self.end_channel_media(id);
        if let Some(bridge) = self.channels.get(id).and_then(|c| c.bridge.clone()) {
            self.bridge_leave(&bridge, id);
        }
        if self.channels.get(id).is_some_and(|c| c.stasis.is_some()) {
            self.leave_stasis(id, false);
        }
        self.flush_stasis_status(id);
        for snoop in snoops {
            self.hangup(&snoop, 16, HangupHow::Peer);
        }
        if is_local_two && how != HangupHow::Dialplan {
            // The Local channel's own dialplan side hangs up after Stasis returns.
            self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": 16, "soft": true}),
            );
        }
        let destroy_cause = match how {
            HangupHow::Caller => 16,
            _ => cause,
        };
        self.destroy(id, destroy_cause, tech_cause);
        if let Kind::Local { peer, .. } = kind
            && self.channels.contains_key(&peer)
        {
            if how == HangupHow::Timeout {
                self.hangup(&peer, cause, HangupHow::Timeout);
            } else {
                self.hangup(&peer, 16, HangupHow::Peer);
            }
        }
    }

    /// Fails the channel's playbacks, finishes its recording, removes held DTMF.
    fn end_channel_media(&mut self, id: &str) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        let playing = c.playing.take();
        let queued: Vec<String> = c.queue.drain(..).collect();
        let recording = c.recording.take();
        c.held_dtmf.clear();
        if let Some(pb) = playing {
            let stuck = self.playbacks.get(&pb).is_some_and(|p| p.stuck);
            if stuck {
                self.playbacks.remove(&pb);
            } else {
                self.finish_playback(&pb, "failed", false);
            }
        }
        for pb in queued {
            self.playbacks.remove(&pb);
        }
        if let Some(name) = recording {
            self.finish_recording(&name, RecordingEnd::Done);
        }
    }

    /// An originated channel continued into the dialplan reports `STASISSTATUS=SUCCESS` as it ends.
    fn flush_stasis_status(&mut self, id: &str) {
        if let Some(c) = self.channels.get_mut(id)
            && std::mem::take(&mut c.stasis_status_pending)
        {
            self.emit_varset(id, "STASISSTATUS", "SUCCESS");
        }
    }

    fn destroy(&mut self, id: &str, cause: u32, tech_cause: Option<u32>) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        // An originated channel ends back in its dialing application.
        if c.origin.is_some() {
            "AppDial2".clone_into(&mut c.app_name);
            "(Outgoing Line)".clone_into(&mut c.app_data);
        } else {
            c.app_name.clear();
            c.app_data.clear();
        }
        let mut extra = json!({"cause": cause, "cause_txt": cause_txt(cause)});
        if let Some(tech_cause) = tech_cause {
            extra["tech_cause"] = json!(tech_cause);
        }
        self.emit_channel(id, "ChannelDestroyed", extra);
        let Some(c) = self.channels.remove(id) else {
            return;
        };
        for snoop in &c.snoops {
            self.hangup(snoop, 16, HangupHow::Peer);
        }
        if let Kind::Snoop { target, .. } = &c.kind
            && let Some(t) = self.channels.get_mut(target)
        {
            t.snoops.retain(|s| s != id);
        }
        if let Some(call) = c.call {
            self.call_channel_ended(call, cause);
        }
    }

    fn continue_dialplan(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        if c.stasis.is_none() {
            return RestReply::error(409, NOT_IN_STASIS);
        }
        let priority = match p.get("priority").map(str::parse::<u32>) {
            None => None,
            Some(Ok(pr)) => Some(pr),
            Some(Err(_)) => return RestReply::error(400, "priority must be an integer"),
        };
        let context = p.get("context").map(str::to_owned);
        let extension = p.get("extension").map(str::to_owned);
        // Sent to another context (a transfer to another helpline, an agent queue): out of the IVR.
        let now = self.now_ms();
        if let Some(ctx) = &context
            && let Some(call) = c.call
            && let Some(run) = self.calls.get_mut(&call)
            && *ctx != run.scenario.context
        {
            run.left_ms.get_or_insert(now);
        }
        self.leave_stasis(id, true);
        let Some(c) = self.channels.get_mut(id) else {
            return RestReply::empty();
        };
        let next = if context.is_some() || extension.is_some() {
            if let Some(ctx) = context {
                c.context = ctx;
            }
            if let Some(ext) = extension {
                c.exten = ext;
            }
            priority.unwrap_or(1)
        } else {
            priority.unwrap_or(c.priority + 1)
        };
        self.run_dialplan_at(id, next);
        RestReply::empty()
    }

    /// Moves a channel from its Stasis app to another one.
    fn move_channel(&mut self, id: &str, p: Params) -> RestReply {
        let Some(app) = p.get("app").filter(|a| !a.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "app is required");
        };
        match self.channels.get(id) {
            None => return RestReply::error(404, CHANNEL_NOT_FOUND),
            Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
            Some(_) => {}
        }
        if !self.app_connected(&app) {
            return RestReply::error(422, "Application not found");
        }
        let args: Vec<String> = p
            .get("appArgs")
            .filter(|a| !a.is_empty())
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let from_dialplan = self.channels.get(id).is_some_and(|c| c.dialplan_stasis);
        let Some(c) = self.channels.get_mut(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        if let Some(old) = c.stasis.take() {
            let event = json!({"type": "StasisEnd", "channel": channel_json(c)});
            if c.origin.as_ref().and_then(|o| o.app.as_deref()) != Some(old.as_str())
                && !c.local_subscribers.contains(&old)
            {
                c.subscribers.retain(|s| *s != old);
            }
            self.emit(&[old], event);
        }
        self.enter_stasis(id, &app, args, from_dialplan);
        RestReply::empty()
    }

    /// Redirects (transfers) a channel to another endpoint: it leaves Stasis and this Asterisk.
    fn redirect(&mut self, id: &str, p: Params) -> RestReply {
        let Some(endpoint) = p
            .get("endpoint")
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
        else {
            return RestReply::error(400, "Required parameter 'endpoint' not provided");
        };
        match self.channels.get(id) {
            None => return RestReply::error(404, CHANNEL_NOT_FOUND),
            Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
            Some(_) => {}
        }
        let Some((tech, resource)) = endpoint
            .split_once('/')
            .filter(|(t, r)| !t.is_empty() && !r.is_empty())
        else {
            return RestReply::error(
                400,
                &format!("Endpoint parameter '{endpoint}' does not contain tech/resource"),
            );
        };
        let (channel_tech, is_sip) = match self.channels.get(id) {
            Some(c) => (
                c.name.split('/').next().unwrap_or_default().to_owned(),
                c.kind == Kind::Sip,
            ),
            None => return RestReply::error(404, CHANNEL_NOT_FOUND),
        };
        if !tech.eq_ignore_ascii_case(&channel_tech) {
            return RestReply::error(
                422,
                &format!(
                    "Endpoint technology '{tech}' does not match channel technology '{channel_tech}'"
                ),
            );
        }
        if !tech.eq_ignore_ascii_case("Local") && self.endpoint(tech, resource).is_none() {
            return RestReply::error(422, "Endpoint not found");
        }
        let now = self.now_ms();
        if let Some(call) = self.channels.get(id).and_then(|c| c.call)
            && let Some(run) = self.calls.get_mut(&call)
        {
            run.transferred_to = Some(endpoint.clone());
            run.left_ms.get_or_insert(now);
        }
        // A SIP channel is redirected with a 302 (its Contact the target's): cause 23.
        let (cause, tech_cause) = if is_sip { (23, Some(302)) } else { (16, None) };
        if let Some(c) = self.channels.get_mut(id) {
            c.hanging_up = true;
        }
        if let Some(tech_cause) = tech_cause {
            self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "tech_cause": tech_cause}),
            );
        }
        self.end_channel_media(id);
        if let Some(bridge) = self.channels.get(id).and_then(|c| c.bridge.clone()) {
            self.bridge_leave(&bridge, id);
        }
        self.leave_stasis(id, false);
        self.destroy(id, cause, tech_cause);
        RestReply::empty()
    }

    // ----- dialplan -----

    fn run_dialplan(&mut self, channel: &str) {
        self.run_dialplan_at(channel, 1);
    }

    /// Executes the dialplan from `priority` until an application blocks (Stasis, Wait, Playback) or the
    /// channel hangs up.
    fn run_dialplan_at(&mut self, channel: &str, mut priority: u32) {
        loop {
            let Some(c) = self.channels.get(channel) else {
                return;
            };
            let app = self
                .config
                .dialplan
                .get(&c.context)
                .and_then(|ctx| ctx.get(&c.exten))
                .and_then(|apps| apps.get(priority.saturating_sub(1) as usize))
                .cloned();
            let Some(app) = app else {
                // Falling off the end of the extension hangs up.
                self.hangup(channel, 16, HangupHow::Dialplan);
                return;
            };
            let (name, raw_data) = app.name_and_data();
            let data = substitute(&raw_data, c);
            let Some(c) = self.channels.get_mut(channel) else {
                return;
            };
            c.priority = priority;
            c.app_name = name.to_owned();
            c.app_data = data.clone();
            self.emit_channel(
                channel,
                "ChannelDialplan",
                json!({"dialplan_app": name, "dialplan_app_data": data}),
            );
            match app {
                DialplanApp::NoOp { .. } => {}
                DialplanApp::Stasis { name, args } => {
                    self.emit_varset(channel, "STASISSTATUS", "");
                    if self.enter_stasis(channel, &name, args, true) {
                        return;
                    }
                    if let Some(c) = self.channels.get_mut(channel) {
                        c.vars
                            .insert("STASISSTATUS".to_owned(), "FAILED".to_owned());
                    }
                    self.emit_varset(channel, "STASISSTATUS", "FAILED");
                }
                DialplanApp::Set { name, value } => {
                    let value = match self.channels.get(channel) {
                        Some(c) => substitute(&value, c),
                        None => return,
                    };
                    self.set_channel_variable(channel, &name, value);
                }
                DialplanApp::Answer => self.answer(channel),
                DialplanApp::Ringing => self.ring(channel),
                DialplanApp::Wait { seconds } => {
                    self.dialplan_wait(channel, (seconds * 1000.0) as u64);
                    return;
                }
                DialplanApp::Playback { sound } => {
                    self.answer(channel);
                    let lang = self
                        .channels
                        .get(channel)
                        .map(|c| c.language.clone())
                        .unwrap_or_default();
                    let duration = self.sounds.sound(&sound, &lang).map(|s| {
                        self.hear_from(channel, Some(s.audio.clone()));
                        s.duration_ms
                    });
                    // A simulated caller hears dialplan prompts too (as `sound:<name>`).
                    let pseudo_id = format!("dialplan-{channel}-{priority}");
                    self.notify_call_heard(channel, &pseudo_id, &format!("sound:{sound}"));
                    if duration.is_none() {
                        self.notify_call_finished(channel, &pseudo_id, "failed");
                    }
                    if let Some(c) = self.channels.get_mut(channel) {
                        let status = if duration.is_some() {
                            "SUCCESS"
                        } else {
                            "FAILED"
                        };
                        c.vars
                            .insert("PLAYBACKSTATUS".to_owned(), status.to_owned());
                    }
                    if let Some(ms) = duration {
                        self.dialplan_wait(channel, ms);
                        return;
                    }
                    self.emit_varset(channel, "PLAYBACKSTATUS", "FAILED");
                }
                DialplanApp::Hangup => {
                    self.hangup(channel, 16, HangupHow::Dialplan);
                    return;
                }
            }
            priority += 1;
        }
    }

    fn dialplan_wait(&mut self, channel: &str, ms: u64) {
        let generation = self.generation();
        if let Some(c) = self.channels.get_mut(channel) {
            c.dialplan_generation = generation;
        }
        self.schedule(
            ms,
            Timer::DialplanNext {
                channel: channel.to_owned(),
                generation,
            },
        );
    }

    // ----- audio flow -----

    /// The audio `channel` sends (a playback on it, or nothing) reaches whoever is at its far end: the Local
    /// peer, or the other members of its bridge.
    fn hear_from(&mut self, channel: &str, audio: Option<Audio>) {
        let mut listeners = Vec::new();
        if let Some((peer, _)) = self.local_peer(channel) {
            listeners.push(peer);
        }
        for listener in listeners {
            self.set_inbound(&listener, audio.clone());
        }
    }

    /// What `channel` hears changed; recordings of it (or of its bridge) follow.
    fn set_inbound(&mut self, channel: &str, audio: Option<Audio>) {
        let now = self.now_ms();
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        c.inbound = audio.clone().map(|a| (now, a, 0));
        let inbound = c.inbound.clone();
        let snoops = c.snoops.clone();
        let mut recs = Vec::new();
        if let Some(r) = &c.recording {
            recs.push(r.clone());
        }
        if let Some(b) = c.bridge.as_ref().and_then(|b| self.bridges.get(b))
            && let Some(r) = &b.recording
        {
            recs.push(r.clone());
        }
        for rec in recs {
            self.recording_voice(&rec, channel, inbound.clone(), now);
        }
        // A snoop spying on what the channel sends hears it too.
        for snoop in snoops {
            let spies = self.channels.get(&snoop).is_some_and(
                |s| matches!(&s.kind, Kind::Snoop { spy, .. } if spy == "in" || spy == "both"),
            );
            if spies {
                self.set_inbound(&snoop, audio.clone());
            }
        }
    }

    fn recording_voice(
        &mut self,
        name: &str,
        channel: &str,
        voice: Option<(u64, Audio, u64)>,
        now: u64,
    ) {
        let Some(rec) = self.recordings.get_mut(name) else {
            return;
        };
        let rel = rec.rel(now);
        if let Some((start, audio, offset)) = rec.open.remove(channel)
            && rel > start
        {
            rec.segments.push(Segment {
                start_ms: start,
                end_ms: rel,
                offset_ms: offset,
                audio,
            });
        }
        if let Some((since, audio, offset)) = voice
            && rec.capturing()
        {
            // Capture begins after the beep; a voice already going is heard from where it is then.
            let effective = now.max(rec.started_ms);
            rec.open.insert(
                channel.to_owned(),
                (rel, audio, offset + effective.saturating_sub(since)),
            );
        }
        let silent = rec.open.is_empty();
        let max_silence = rec.max_silence_s;
        rec.generation += 1;
        let generation = rec.generation;
        if silent && max_silence > 0 {
            let at = rec.started_ms.max(now);
            let delay = at - now + max_silence * 1000;
            self.schedule(
                delay,
                Timer::RecordingSilence {
                    name: name.to_owned(),
                    generation,
                },
            );
        }
    }

    // ----- timers -----

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::PlaybackItemEnd {
                playback,
                generation,
            } => {
                if self
                    .playbacks
                    .get(&playback)
                    .is_some_and(|p| p.generation == generation && p.state == "playing")
                {
                    self.item_ended(&playback);
                }
            }
            Timer::RecordingMaxDuration { name, generation } => {
                let now = self.now_ms();
                let Some(rec) = self.recordings.get(&name) else {
                    return;
                };
                if rec.instance != generation {
                    return;
                }
                let max = rec.max_duration_s * 1000;
                let rel = rec.rel(now);
                if rec.paused || rel + 5 < max {
                    // Paused time does not count: try again when the rest would be up.
                    let wait = max.saturating_sub(rel).max(50);
                    self.schedule(wait, Timer::RecordingMaxDuration { name, generation });
                } else {
                    self.finish_recording(&name, RecordingEnd::Done);
                }
            }
            Timer::RecordingSilence { name, generation } => {
                if self
                    .recordings
                    .get(&name)
                    .is_some_and(|r| r.generation == generation && r.open.is_empty() && !r.paused)
                {
                    self.finish_recording(&name, RecordingEnd::Done);
                }
            }
            Timer::DtmfArrives {
                channel,
                digit,
                duration_ms,
            } => {
                if self
                    .channels
                    .get(&channel)
                    .is_some_and(|c| c.playing.is_some())
                {
                    if let Some(c) = self.channels.get_mut(&channel) {
                        c.held_dtmf.push((digit, duration_ms));
                    }
                } else {
                    self.dtmf_sent_from(&channel, digit, duration_ms);
                }
            }
            Timer::OriginateTimeout { channel } => {
                if self
                    .channels
                    .get(&channel)
                    .is_some_and(|c| c.origin.as_ref().is_some_and(|o| !o.answered))
                {
                    self.hangup(&channel, 19, HangupHow::Timeout);
                }
            }
            Timer::EndpointDials { channel, instance } => self.endpoint_dials(&channel, instance),
            Timer::EndpointAnswers { channel } => self.originated_answered(&channel),
            Timer::SipTimeout { channel, instance } => self.sip_timeout(&channel, instance),
            Timer::PhoneHangsUp { channel, instance } => self.phone_hangs_up(&channel, instance),
            Timer::PhoneHolds {
                channel,
                instance,
                on,
            } => self.phone_holds(&channel, instance, on),
            Timer::DialplanNext {
                channel,
                generation,
            } => {
                let Some(c) = self.channels.get(&channel) else {
                    return;
                };
                if c.dialplan_generation != generation || c.stasis.is_some() {
                    return;
                }
                let next = c.priority + 1;
                if c.app_name == "Playback" {
                    let pseudo_id = format!("dialplan-{channel}-{}", c.priority);
                    self.notify_call_finished(&channel, &pseudo_id, "done");
                    self.hear_from(&channel, None);
                    self.emit_varset(&channel, "PLAYBACKSTATUS", "SUCCESS");
                }
                self.run_dialplan_at(&channel, next);
            }
            Timer::CallStep { call, generation } => {
                if self
                    .calls
                    .get(&call)
                    .is_some_and(|r| r.generation == generation)
                {
                    if let Some(run) = self.calls.get_mut(&call) {
                        run.step += 1;
                        run.wait = CallWait::Nothing;
                    }
                    self.advance_call(call);
                }
            }
            Timer::CallTimeout { call, generation } => self.call_timed_out(call, generation),
            Timer::CallReactionHangup { call, channel } => self.reaction_hangs_up(call, &channel),
            Timer::CallVoiceEnds { call, generation } => {
                let Some(run) = self.calls.get(&call) else {
                    return;
                };
                if run.voice_generation != generation {
                    return;
                }
                let channel = run.channel.clone();
                self.set_inbound(&channel, None);
            }
            Timer::CallDtmf {
                call,
                digit,
                duration_ms,
                press_step,
            } => {
                let Some(run) = self.calls.get_mut(&call) else {
                    return;
                };
                if press_step {
                    run.digits_pending = run.digits_pending.saturating_sub(1);
                }
                let channel = run.channel.clone();
                self.dtmf_received(&channel, digit, duration_ms);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HangupHow {
    /// DELETE /channels/{id}.
    Rest,
    /// The simulated caller hung up (a BYE).
    Caller,
    /// The other half of a Local pair went away.
    Peer,
    /// The originate timed out.
    Timeout,
    /// The dialplan's `Hangup()` or its end.
    Dialplan,
    /// The phone refused or never answered the INVITE (486 busy, 408 timeout): `tech_cause` is the SIP
    /// status.
    Sip { tech_cause: u32 },
}

#[derive(Debug, Clone, Copy)]
enum RecordingEnd {
    Done,
    Canceled,
}

/// What a SIP channel reports just before a BYE-driven hangup.
const RTP_QOS: [(&str, &str); 5] = [
    (
        "RTPAUDIOQOS",
        "ssrc=583854639;themssrc=235223118;lp=0;rxjitter=0.000000;rxcount=30;txjitter=0.000000;txcount=71;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000",
    ),
    (
        "RTPAUDIOQOSJITTER",
        "minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;",
    ),
    (
        "RTPAUDIOQOSLOSS",
        "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;",
    ),
    (
        "RTPAUDIOQOSRTT",
        "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;",
    ),
    (
        "RTPAUDIOQOSMES",
        "   minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;",
    ),
];

/// Query parameters.
#[derive(Clone, Copy)]
struct Params<'a>(&'a HashMap<String, String>);

impl<'a> Params<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).map(String::as_str)
    }
}

fn close_voices(rec: &mut LiveRecording, rel: u64) {
    for (_, (start, audio, offset)) in rec.open.drain() {
        if rel > start {
            rec.segments.push(Segment {
                start_ms: start,
                end_ms: rel,
                offset_ms: offset,
                audio,
            });
        }
    }
}

fn set_member(list: &mut Vec<String>, app: &str, on: bool) {
    if on {
        if !list.iter().any(|a| a == app) {
            list.push(app.to_owned());
        }
    } else {
        list.retain(|a| a != app);
    }
}

fn unix_ms_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn secs(seconds: f64) -> u64 {
    (seconds * 1000.0).max(0.0) as u64
}

fn prompt_matches(wanted: Option<&str>, uri: &str) -> bool {
    match wanted {
        None => true,
        Some(w) if w.contains(':') => uri == w,
        Some(w) => uri.strip_prefix("sound:") == Some(w),
    }
}

fn merge(event: &mut Value, extra: Value) {
    if let (Some(obj), Value::Object(extra)) = (event.as_object_mut(), extra) {
        obj.extend(extra);
    }
}

fn channel_json(c: &Channel) -> Value {
    json!({
        "id": c.id, "name": c.name, "state": c.state, "protocol_id": c.protocol_id,
        "caller": {"name": c.caller.0, "number": c.caller.1},
        "connected": {"name": c.connected.0, "number": c.connected.1},
        "accountcode": "",
        "dialplan": {"context": c.context, "exten": c.exten, "priority": c.priority,
                     "app_name": c.app_name, "app_data": c.app_data},
        "creationtime": c.creationtime, "language": c.language
    })
}

fn playback_json(p: &Playback) -> Value {
    let mut v = json!({
        "id": p.id, "media_uri": p.media[p.index], "target_uri": p.target.uri(),
        "language": p.language, "state": p.state
    });
    if let Some(next) = p.media.get(p.index + 1) {
        v["next_media_uri"] = json!(next);
    }
    v
}

fn bridge_json(b: &Bridge) -> Value {
    let mut channels = b.channels.clone();
    channels.sort();
    json!({
        "id": b.id, "technology": b.technology, "bridge_type": b.bridge_type, "bridge_class": "stasis",
        "creator": "Stasis", "name": b.name, "channels": channels, "creationtime": b.creationtime,
        "video_mode": if b.bridge_type == "holding" { "none" } else { "talker" }
    })
}

fn sound_json(id: &str, langs: &[String]) -> Value {
    let formats: Vec<Value> = langs
        .iter()
        .map(|l| json!({"language": l, "format": "wav"}))
        .collect();
    json!({"id": id, "formats": formats})
}

/// `${NAME}` substitution for dialplan application data.
fn substitute(text: &str, c: &Channel) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        let value = match name {
            "EXTEN" => c.exten.clone(),
            "CALLERID(all)" => format!("\"{}\" <{}>", c.caller.0, c.caller.1),
            "CALLERID(num)" => c.caller.1.clone(),
            "CALLERID(name)" => c.caller.0.clone(),
            _ => c.vars.get(name).cloned().unwrap_or_default(),
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn new_uuid(seq: &mut u64) -> String {
    *seq += 1;
    let r: u128 = rand::random();
    let mixed = r ^ u128::from(*seq);
    let hex = format!("{mixed:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn scan_stored(dir: &std::path::Path) -> BTreeMap<String, StoredRecording> {
    let mut stored = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) {
                stored.insert(
                    stem.to_string_lossy().into_owned(),
                    StoredRecording {
                        format: ext.to_string_lossy().into_owned(),
                        path,
                    },
                );
            }
        }
    }
    stored
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> Channel {
        let config = Arc::new(SimConfig::default());
        let model = Model::new(config, std::env::temp_dir().join("ari-sim-unit-none"));
        let mut c = model.new_channel(
            "c".to_owned(),
            "PJSIP/citizen-1".to_owned(),
            "Ring",
            ("Citizen".to_owned(), "981".to_owned()),
            (String::new(), String::new()),
            "from-citizens",
            "1100",
            Kind::Sip,
            "hi",
        );
        c.vars
            .insert("COMPLAINT_NO".to_owned(), "12345678".to_owned());
        c
    }

    #[test]
    fn dialplan_substitution() {
        let c = channel();
        assert_eq!(
            substitute("Citizen call to IVR ${EXTEN} from ${CALLERID(all)}", &c),
            "Citizen call to IVR 1100 from \"Citizen\" <981>"
        );
        assert_eq!(
            substitute("after IVR: ${COMPLAINT_NO}", &c),
            "after IVR: 12345678"
        );
        assert_eq!(substitute("${NOPE}|${CALLERID(num)}", &c), "|981");
        assert_eq!(
            substitute("unterminated ${EXTEN", &c),
            "unterminated ${EXTEN"
        );
    }

    #[test]
    fn prompts_match_by_sound_name_or_full_uri() {
        assert!(prompt_matches(None, "digits:42"));
        assert!(prompt_matches(
            Some("helpline/welcome"),
            "sound:helpline/welcome"
        ));
        assert!(!prompt_matches(
            Some("helpline/welcome"),
            "sound:helpline/welcome2"
        ));
        assert!(prompt_matches(Some("digits:42"), "digits:42"));
        assert!(!prompt_matches(Some("42"), "digits:42"));
    }

    #[test]
    fn server_chosen_ids_have_asterisks_shapes() {
        let mut seq = 0;
        let id = new_uuid(&mut seq);
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_ne!(new_uuid(&mut seq), id);
        let c = channel();
        let json = channel_json(&c);
        assert_eq!(json["dialplan"]["exten"], "1100");
        assert_eq!(json["language"], "hi");
        assert_eq!(json["caller"]["number"], "981");
    }
}
