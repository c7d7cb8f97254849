//! The model of the fake Asterisk: channels, Local pairs, the dialplan, bridges, playbacks, recordings,
//! snoops, endpoints, Stasis apps and their subscriptions, and simulated callers. One actor task owns all of
//! it (no locks, no task per channel); REST requests, WebSocket (dis)connections and control calls arrive as
//! `Command`s, and everything that happens later (a playback ending, a ring timeout, a caller's next step)
//! is a timer in one heap. Events are serialized once and pushed to each subscribed app's connection with
//! `try_send`, so a slow WebSocket never blocks the model; events for an app with no connection are lost,
//! as in Asterisk. Events are emitted before the REST reply is sent, so they overtake it like the real thing.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::audio::{self, Segment};
use crate::config::{DialplanApp, EndpointBehaviour, SimConfig};
use crate::media::{Audio, Resolved, SoundLibrary, seed_of};
use crate::scenario::{CallOutcome, CallResult, HeardMedia, HungUpBy, Scenario, Step};
use crate::wire::{self, cause_txt, message};
use crate::{SimError, SimStats};

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
    EndpointAnswers {
        channel: String,
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
    moh: bool,
    muted: bool,
    on_hold: bool,
    /// `Dial PROGRESS` was reported for this originated channel (early media on its peer).
    progress_reported: bool,
    /// The channel is being torn down: a simulated caller on it takes no further steps.
    hanging_up: bool,
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
}

/// The actor: owns the whole simulated Asterisk.
pub(crate) struct Model {
    config: Arc<SimConfig>,
    sounds: SoundLibrary,
    recordings_dir: PathBuf,
    started: Instant,
    wall_start: chrono::DateTime<chrono::Utc>,
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
    snoop_seq: u32,
    calls: HashMap<u64, CallRun>,
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
        let stored = scan_stored(&recordings_dir);
        Model {
            config,
            sounds,
            recordings_dir,
            started: Instant::now(),
            wall_start: chrono::Utc::now(),
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
            snoop_seq: 0,
            calls: HashMap::new(),
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
                let _ = reply.send(stats);
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
        self.apps.clear();
        self.subscribe_all.clear();
        self.channels.clear();
        self.bridges.clear();
        self.playbacks.clear();
        self.recordings.clear();
        self.timers.clear();
        self.timer_slab.clear();
        self.started = Instant::now();
        self.wall_start = chrono::Utc::now();
        self.stats.restarts += 1;
    }

    // ----- REST routing -----

    fn rest(&mut self, request: RestRequest) -> RestReply {
        let RestRequest {
            method,
            segments,
            params,
            body,
        } = request;
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let p = Params(&params);
        match (method.as_str(), seg.as_slice()) {
            ("GET", ["asterisk", "info"]) => self.asterisk_info(),
            ("GET", ["asterisk", "ping"]) => RestReply::json(
                200,
                json!({"asterisk_id": self.config.asterisk_id, "ping": "pong", "timestamp": self.now_stamp()}),
            ),
            ("GET", ["applications"]) => {
                let mut names: Vec<String> = self.apps.keys().cloned().collect();
                names.sort();
                let list: Vec<Value> = names.iter().map(|n| self.app_json(n)).collect();
                RestReply::json(200, Value::Array(list))
            }
            ("GET", ["applications", name]) => match self.apps.contains_key(*name) {
                true => RestReply::json(200, self.app_json(name)),
                false => RestReply::error(404, "Application not found"),
            },
            ("POST", ["applications", name, "subscription"]) => self.app_subscribe(name, p, true),
            ("DELETE", ["applications", name, "subscription"]) => {
                self.app_subscribe(name, p, false)
            }
            ("GET", ["endpoints"]) => RestReply::json(200, Value::Array(self.endpoints_json(None))),
            ("GET", ["endpoints", tech]) => {
                let list = self.endpoints_json(Some(tech));
                if list.is_empty() {
                    RestReply::error(404, "No endpoints found")
                } else {
                    RestReply::json(200, Value::Array(list))
                }
            }
            ("GET", ["endpoints", tech, resource]) => {
                match self
                    .endpoints_json(Some(tech))
                    .into_iter()
                    .find(|e| e["resource"] == *resource)
                {
                    Some(e) => RestReply::json(200, e),
                    None => RestReply::error(404, "Endpoint not found"),
                }
            }
            ("GET", ["sounds"]) => {
                let list: Vec<Value> = self
                    .sounds
                    .list()
                    .into_iter()
                    .filter(|(_, langs)| p.get("lang").is_none_or(|l| langs.iter().any(|x| x == l)))
                    .map(|(id, langs)| sound_json(&id, &langs))
                    .collect();
                RestReply::json(200, Value::Array(list))
            }
            ("GET", ["sounds", rest @ ..]) if !rest.is_empty() => {
                let id = rest.join("/");
                match self.sounds.list().into_iter().find(|(n, _)| *n == id) {
                    Some((id, langs)) => RestReply::json(200, sound_json(&id, &langs)),
                    None => RestReply::error(404, "Sound not found"),
                }
            }
            ("GET", ["channels"]) => {
                let mut list: Vec<&Channel> = self.channels.values().collect();
                list.sort_by(|a, b| a.creationtime.cmp(&b.creationtime).then(b.id.cmp(&a.id)));
                RestReply::json(
                    200,
                    Value::Array(list.into_iter().map(channel_json).collect()),
                )
            }
            ("POST", ["channels"]) => {
                let id = p.get("channelId").map(str::to_owned);
                self.originate(id, p, body)
            }
            ("POST", ["channels", "create"]) => RestReply::error(
                501,
                "channels/create is not modelled by the simulator; originate instead",
            ),
            ("POST", ["channels", id]) => self.originate(Some((*id).to_owned()), p, body),
            ("GET", ["channels", id]) => match self.channels.get(*id) {
                Some(c) => RestReply::json(200, channel_json(c)),
                None => RestReply::error(404, CHANNEL_NOT_FOUND),
            },
            ("DELETE", ["channels", id]) => self.rest_hangup(id, p),
            ("POST", ["channels", id, "answer"]) => self.in_stasis(id, |m, id| {
                m.answer(id);
                RestReply::empty()
            }),
            ("POST", ["channels", id, "ring"]) => self.in_stasis(id, |m, id| {
                m.ring(id);
                RestReply::empty()
            }),
            ("DELETE", ["channels", id, "ring"]) => self.in_stasis(id, |_, _| RestReply::empty()),
            ("POST", ["channels", id, "progress"]) => self.in_stasis(id, |_, _| RestReply::empty()),
            ("POST", ["channels", id, "moh"]) => self.in_stasis(id, |m, id| {
                if let Some(c) = m.channels.get_mut(id) {
                    c.moh = true;
                }
                RestReply::empty()
            }),
            ("DELETE", ["channels", id, "moh"]) => self.in_stasis(id, |m, id| {
                if let Some(c) = m.channels.get_mut(id) {
                    c.moh = false;
                }
                RestReply::empty()
            }),
            ("POST" | "DELETE", ["channels", id, "hold"]) => {
                let on = method == "POST";
                self.in_stasis(id, |m, id| {
                    if let Some(c) = m.channels.get_mut(id) {
                        c.on_hold = on;
                    }
                    RestReply::empty()
                })
            }
            ("POST" | "DELETE", ["channels", id, "mute"]) => {
                let on = method == "POST";
                self.in_stasis(id, |m, id| {
                    if let Some(c) = m.channels.get_mut(id) {
                        c.muted = on;
                    }
                    RestReply::empty()
                })
            }
            ("POST" | "DELETE", ["channels", id, "silence"]) => {
                self.in_stasis(id, |_, _| RestReply::empty())
            }
            ("POST", ["channels", id, "continue"]) => self.continue_dialplan(id, p),
            ("POST", ["channels", id, "move"]) => self.move_channel(id, p),
            ("POST", ["channels", id, "redirect"]) => self.redirect(id, p),
            ("POST", ["channels", id, "play"]) => {
                let pid = p.get("playbackId").map(str::to_owned);
                self.play(Target::Channel((*id).to_owned()), pid, p)
            }
            ("POST", ["channels", id, "play", pid]) => self.play(
                Target::Channel((*id).to_owned()),
                Some((*pid).to_owned()),
                p,
            ),
            ("POST", ["channels", id, "record"]) => {
                self.record(Target::Channel((*id).to_owned()), p)
            }
            ("POST", ["channels", id, "dtmf"]) => self.rest_dtmf(id, p),
            ("GET", ["channels", id, "variable"]) => self.get_variable(id, p),
            ("POST", ["channels", id, "variable"]) => self.set_variable(id, p),
            ("POST", ["channels", id, "snoop"]) => {
                let sid = p.get("snoopId").map(str::to_owned);
                self.snoop(id, sid, p)
            }
            ("POST", ["channels", id, "snoop", sid]) => self.snoop(id, Some((*sid).to_owned()), p),
            ("GET", ["bridges"]) => {
                let list: Vec<Value> = self.bridges.values().map(bridge_json).collect();
                RestReply::json(200, Value::Array(list))
            }
            ("POST", ["bridges"]) => {
                let id = p.get("bridgeId").map(str::to_owned);
                self.create_bridge(id, p)
            }
            ("POST", ["bridges", id]) => self.create_bridge(Some((*id).to_owned()), p),
            ("GET", ["bridges", id]) => match self.bridges.get(*id) {
                Some(b) => RestReply::json(200, bridge_json(b)),
                None => RestReply::error(404, "Bridge not found"),
            },
            ("DELETE", ["bridges", id]) => self.destroy_bridge(id),
            ("POST", ["bridges", id, "addChannel"]) => self.bridge_add(id, p),
            ("POST", ["bridges", id, "removeChannel"]) => self.bridge_remove_rest(id, p),
            ("POST", ["bridges", id, "play"]) => {
                let pid = p.get("playbackId").map(str::to_owned);
                self.play(Target::Bridge((*id).to_owned()), pid, p)
            }
            ("POST", ["bridges", id, "play", pid]) => {
                self.play(Target::Bridge((*id).to_owned()), Some((*pid).to_owned()), p)
            }
            ("POST", ["bridges", id, "record"]) => self.record(Target::Bridge((*id).to_owned()), p),
            ("POST" | "DELETE", ["bridges", id, "moh"]) => match self.bridges.contains_key(*id) {
                true => RestReply::empty(),
                false => RestReply::error(404, "Bridge not found"),
            },
            ("GET", ["playbacks", id]) => match self.playbacks.get(*id) {
                Some(pb) => RestReply::json(200, playback_json(pb)),
                None => RestReply::error(404, "Playback not found"),
            },
            ("DELETE", ["playbacks", id]) => self.stop_playback(id),
            ("POST", ["playbacks", id, "control"]) => self.control_playback(id, p),
            ("GET", ["recordings", "stored"]) => {
                let list: Vec<Value> = self
                    .stored
                    .iter()
                    .map(|(n, s)| json!({"name": n, "format": s.format}))
                    .collect();
                RestReply::json(200, Value::Array(list))
            }
            ("GET", ["recordings", "stored", name]) => match self.stored.get(*name) {
                Some(s) => RestReply::json(200, json!({"name": name, "format": s.format})),
                None => RestReply::error(404, "Recording not found"),
            },
            ("GET", ["recordings", "stored", name, "file"]) => match self.stored.get(*name) {
                Some(s) => RestReply {
                    status: 200,
                    body: ReplyBody::File(s.path.clone()),
                },
                None => RestReply::error(404, "Recording not found"),
            },
            ("DELETE", ["recordings", "stored", name]) => match self.stored.remove(*name) {
                Some(s) => {
                    let _ = std::fs::remove_file(&s.path);
                    RestReply::empty()
                }
                None => RestReply::error(404, "Recording not found"),
            },
            ("POST", ["recordings", "stored", name, "copy"]) => self.copy_recording(name, p),
            ("GET", ["recordings", "live", name]) => match self.recordings.get(*name) {
                Some(r) => RestReply::json(200, self.recording_json(r, false)),
                None => RestReply::error(404, "Recording not found"),
            },
            ("DELETE", ["recordings", "live", name]) => {
                if self.recordings.contains_key(*name) {
                    self.finish_recording(name, RecordingEnd::Canceled);
                    RestReply::empty()
                } else {
                    RestReply::error(404, "Recording not found")
                }
            }
            ("POST", ["recordings", "live", name, "stop"]) => {
                if self.recordings.contains_key(*name) {
                    self.finish_recording(name, RecordingEnd::Done);
                    RestReply::empty()
                } else {
                    RestReply::error(404, "Recording not found")
                }
            }
            ("POST" | "DELETE", ["recordings", "live", name, op @ ("pause" | "mute")]) => {
                let on = method == "POST";
                self.pause_or_mute(name, *op == "pause", on)
            }
            (
                _,
                [
                    "asterisk" | "applications" | "endpoints" | "sounds" | "channels" | "bridges"
                    | "playbacks" | "recordings",
                    ..,
                ],
            ) => RestReply::error(405, "Method not allowed or resource not modelled"),
            _ => RestReply::error(404, "Resource not found"),
        }
    }

    fn in_stasis(&mut self, id: &str, f: impl FnOnce(&mut Model, &str) -> RestReply) -> RestReply {
        match self.channels.get(id) {
            None => RestReply::error(404, CHANNEL_NOT_FOUND),
            Some(c) if c.stasis.is_none() => RestReply::error(409, NOT_IN_STASIS),
            Some(_) => f(self, id),
        }
    }

    fn asterisk_info(&self) -> RestReply {
        let start = wire::timestamp(self.wall_start);
        RestReply::json(
            200,
            json!({
                "build": {"os": "Linux", "kernel": "(simulated)", "machine": "x86_64", "options": "OPTIONAL_API",
                          "date": start, "user": "ari-sim"},
                "system": {"version": "22.10.1", "entity_id": self.config.asterisk_id},
                "config": {"name": "", "default_language": self.config.default_language,
                           "setid": {"user": "", "group": ""}},
                "status": {"startup_time": start, "last_reload_time": start}
            }),
        )
    }

    fn app_json(&self, name: &str) -> Value {
        let mut channel_ids: Vec<&String> = self
            .channels
            .values()
            .filter(|c| c.subscribers.iter().any(|s| s == name))
            .map(|c| &c.id)
            .collect();
        channel_ids.sort();
        let mut bridge_ids: Vec<&String> = self
            .bridges
            .values()
            .filter(|b| b.subscribers.iter().any(|s| s == name))
            .map(|b| &b.id)
            .collect();
        bridge_ids.sort();
        let endpoint_ids: Vec<String> = self
            .apps
            .get(name)
            .map(|a| a.subscribed_endpoints.iter().cloned().collect())
            .unwrap_or_default();
        json!({
            "name": name, "channel_ids": channel_ids, "bridge_ids": bridge_ids,
            "endpoint_ids": endpoint_ids, "device_names": [], "events_allowed": [], "events_disallowed": []
        })
    }

    fn app_subscribe(&mut self, name: &str, p: Params, on: bool) -> RestReply {
        if !self.apps.contains_key(name) {
            return RestReply::error(404, "Application not found");
        }
        let Some(sources) = p.get("eventSource") else {
            return RestReply::error(400, "eventSource is required");
        };
        for source in sources.split(',') {
            let Some((kind, id)) = source.split_once(':') else {
                return RestReply::error(400, "Invalid event source URI scheme");
            };
            let found = match kind {
                "channel" => self.channels.contains_key(id),
                "bridge" => self.bridges.contains_key(id),
                "endpoint" => self.endpoint_config(id).is_some() || id.contains('/'),
                "deviceState" => true,
                _ => return RestReply::error(400, "Invalid event source URI scheme"),
            };
            if !found {
                return RestReply::error(422, "Event source does not exist");
            }
            let app = name.to_owned();
            match kind {
                "channel" => {
                    if let Some(c) = self.channels.get_mut(id) {
                        set_member(&mut c.subscribers, &app, on);
                    }
                }
                "bridge" => {
                    if let Some(b) = self.bridges.get_mut(id) {
                        set_member(&mut b.subscribers, &app, on);
                    }
                }
                "endpoint" => {
                    if let Some(a) = self.apps.get_mut(name) {
                        if on {
                            a.subscribed_endpoints.insert(id.to_owned());
                        } else {
                            a.subscribed_endpoints.remove(id);
                        }
                    }
                }
                _ => {}
            }
        }
        RestReply::json(200, self.app_json(name))
    }

    fn endpoint_config(&self, spec: &str) -> Option<&crate::config::EndpointConfig> {
        let (tech, resource) = spec.split_once('/')?;
        self.config
            .endpoints
            .iter()
            .find(|e| e.technology.eq_ignore_ascii_case(tech) && e.resource == resource)
    }

    fn endpoints_json(&self, tech: Option<&str>) -> Vec<Value> {
        self.config
            .endpoints
            .iter()
            .filter(|e| tech.is_none_or(|t| e.technology.eq_ignore_ascii_case(t)))
            .map(|e| {
                let prefix = format!("{}/{}-", e.technology, e.resource);
                let mut ids: Vec<&String> = self
                    .channels
                    .values()
                    .filter(|c| c.name.starts_with(&prefix))
                    .map(|c| &c.id)
                    .collect();
                ids.sort();
                let state = match e.behaviour {
                    EndpointBehaviour::Unreachable => "offline",
                    _ => "online",
                };
                json!({"technology": e.technology, "resource": e.resource, "state": state, "channel_ids": ids})
            })
            .collect()
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
            moh: false,
            muted: false,
            on_hold: false,
            progress_reported: false,
            hanging_up: false,
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
            let Some(config) = self.endpoint_config(endpoint).cloned() else {
                return RestReply::json(500, json!({"error": "Allocation failed"}));
            };
            self.unique_seq += 1;
            let name = format!(
                "{}/{}-{:08x}",
                config.technology, config.resource, self.unique_seq
            );
            let mut chan = self.new_channel(
                id.clone(),
                name,
                "Down",
                caller.clone(),
                (String::new(), String::new()),
                "default",
                "s",
                Kind::Sip,
                &lang,
            );
            chan.app_name = "AppDial2".to_owned();
            chan.app_data = "(Outgoing Line)".to_owned();
            chan.subscribers = subscriber;
            chan.origin = Some(origin);
            chan.protocol_id = format!("{}-sim@127.0.0.1", self.unique_seq);
            for (k, v) in &variables {
                chan.vars.insert(k.clone(), v.clone());
            }
            self.channels.insert(id.clone(), chan);
            self.emit_dial(&id, "");
            let reply = self.channel_json(&id);
            match config.behaviour {
                EndpointBehaviour::Unreachable => {
                    self.hangup(&id, 20, HangupHow::Timeout);
                }
                EndpointBehaviour::RingOut => {
                    self.set_state(&id, "Ringing");
                    self.emit_dial(&id, "RINGING");
                }
                EndpointBehaviour::Answer { after_seconds } => {
                    self.set_state(&id, "Ringing");
                    self.emit_dial(&id, "RINGING");
                    self.schedule(
                        (after_seconds * 1000.0) as u64,
                        Timer::EndpointAnswers {
                            channel: id.clone(),
                        },
                    );
                }
            }
            if timeout_s > 0 && self.channels.contains_key(&id) {
                self.schedule(
                    timeout_s as u64 * 1000,
                    Timer::OriginateTimeout {
                        channel: id.clone(),
                    },
                );
            }
            RestReply::json(200, reply)
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
        } else if let Some((context, exten, priority)) = origin.dialplan {
            c.context = context;
            c.exten = exten;
            c.priority = priority;
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
    fn leave_stasis(&mut self, channel: &str) {
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
        self.emit(&[app], event);
        self.emit_varset(channel, "STASISSTATUS", "SUCCESS");
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
        match how {
            HangupHow::Rest => self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": 32, "soft": true}),
            ),
            HangupHow::Caller => {
                for (var, value) in RTP_QOS {
                    self.emit_varset(id, var, value);
                }
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
            HangupHow::Dialplan => self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "soft": true}),
            ),
        }
        if unanswered_origin && matches!(how, HangupHow::Rest | HangupHow::Peer) {
            self.emit_dial(id, "NOANSWER");
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
            self.leave_stasis(id);
        }
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
        self.destroy(id, destroy_cause);
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

    fn destroy(&mut self, id: &str, cause: u32) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        c.app_name.clear();
        c.app_data.clear();
        self.emit_channel(
            id,
            "ChannelDestroyed",
            json!({"cause": cause, "cause_txt": cause_txt(cause)}),
        );
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
            self.finish_call(call, cause);
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
        self.leave_stasis(id);
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
        if !endpoint.contains('/') {
            return RestReply::error(
                400,
                "Endpoint parameter must be of the form technology/resource",
            );
        }
        if !endpoint.starts_with("Local/") && self.endpoint_config(&endpoint).is_none() {
            return RestReply::error(422, "Endpoint not found");
        }
        if let Some(call) = self.channels.get(id).and_then(|c| c.call)
            && let Some(run) = self.calls.get_mut(&call)
        {
            run.transferred_to = Some(endpoint.clone());
        }
        self.end_channel_media(id);
        if let Some(bridge) = self.channels.get(id).and_then(|c| c.bridge.clone()) {
            self.bridge_leave(&bridge, id);
        }
        self.leave_stasis(id);
        self.destroy(id, 16);
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

    // ----- playbacks -----

    fn play(&mut self, target: Target, id: Option<String>, p: Params) -> RestReply {
        let Some(media) = p.get("media").filter(|m| !m.is_empty()) else {
            return RestReply::error(400, "media is required");
        };
        let lang = match &target {
            Target::Channel(cid) => match self.channels.get(cid) {
                None => return RestReply::error(404, CHANNEL_NOT_FOUND),
                Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
                Some(c) => c.language.clone(),
            },
            Target::Bridge(bid) => match self.bridges.contains_key(bid) {
                false => return RestReply::error(404, "Bridge not found"),
                true => self.config.default_language.clone(),
            },
        };
        let lang = p
            .get("lang")
            .filter(|l| !l.is_empty())
            .map_or(lang, str::to_owned);
        let id = id.unwrap_or_else(|| new_uuid(&mut self.unique_seq));
        if self.playbacks.contains_key(&id) {
            return RestReply::error(409, "Playback with given id already exists");
        }
        let playback = Playback {
            id: id.clone(),
            media: media.split(',').map(str::to_owned).collect(),
            index: 0,
            target: target.clone(),
            language: lang,
            state: "queued",
            generation: 0,
            item_started_ms: 0,
            item_duration_ms: None,
            paused_elapsed_ms: None,
            audio: None,
            stuck: false,
        };
        let reply_json = playback_json(&playback);
        self.playbacks.insert(id.clone(), playback);
        let busy = match &target {
            Target::Channel(cid) => {
                let c = self.channels.get_mut(cid).expect("checked above");
                if c.playing.is_some() {
                    c.queue.push_back(id.clone());
                    true
                } else {
                    c.playing = Some(id.clone());
                    false
                }
            }
            Target::Bridge(bid) => {
                let b = self.bridges.get_mut(bid).expect("checked above");
                if b.playing.is_some() {
                    b.queue.push_back(id.clone());
                    true
                } else {
                    b.playing = Some(id.clone());
                    false
                }
            }
        };
        if busy {
            return RestReply::json(201, reply_json);
        }
        self.start_playback(&id);
        match self.playbacks.get(&id) {
            Some(pb) => RestReply::json(201, playback_json(pb)),
            None => RestReply::json(201, reply_json),
        }
    }

    fn start_playback(&mut self, id: &str) {
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        pb.state = "playing";
        let target = pb.target.clone();
        let event = json!({"type": "PlaybackStarted", "playback": playback_json(pb)});
        let apps = self.target_subscribers(&target);
        self.emit(&apps, event);
        self.start_item(id);
    }

    fn start_item(&mut self, id: &str) {
        let now = self.now_ms();
        let stored: HashMap<String, PathBuf> = HashMap::new();
        let Some(pb) = self.playbacks.get(id) else {
            return;
        };
        let uri = pb.media[pb.index].clone();
        let lang = pb.language.clone();
        let target = pb.target.clone();
        let stored_paths = &self.stored;
        let resolved = self.sounds.resolve(&uri, &lang, |name| {
            stored_paths
                .get(name)
                .map(|s| s.path.clone())
                .or_else(|| stored.get(name).cloned())
        });
        let answered = match &target {
            Target::Channel(c) => self.channels.get(c).is_some_and(|c| c.state == "Up"),
            Target::Bridge(_) => true,
        };
        let generation = self.generation();
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        pb.generation = generation;
        pb.item_started_ms = now;
        pb.paused_elapsed_ms = None;
        let (duration, audio) = match resolved {
            Resolved::Plays(sound) => (Some(sound.duration_ms), Some(sound.audio)),
            Resolved::Endless(audio) => (None, Some(audio)),
            Resolved::Fails => {
                self.finish_playback(id, "failed", true);
                return;
            }
            Resolved::UnknownScheme if !answered => {
                pb.stuck = true;
                (None, None)
            }
            Resolved::UnknownScheme => {
                self.finish_playback(id, "failed", true);
                return;
            }
        };
        pb.item_duration_ms = duration;
        pb.audio = audio.clone();
        if let Target::Bridge(b) = &target {
            // Everyone in the bridge hears it.
            let members = self
                .bridges
                .get(b)
                .map(|b| b.channels.clone())
                .unwrap_or_default();
            for member in members {
                self.notify_call_heard(&member, id, &uri);
            }
        }
        if let Target::Channel(c) = &target {
            let c = c.clone();
            self.early_media(&c);
            self.hear_from(&c, audio);
            self.notify_call_heard(&c, id, &uri);
        }
        if let Some(ms) = duration {
            self.schedule(
                ms,
                Timer::PlaybackItemEnd {
                    playback: id.to_owned(),
                    generation,
                },
            );
        }
    }

    fn item_ended(&mut self, id: &str) {
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        if pb.index + 1 < pb.media.len() {
            pb.index += 1;
            let target = pb.target.clone();
            let event = json!({"type": "PlaybackContinuing", "playback": playback_json(pb)});
            let apps = self.target_subscribers(&target);
            self.emit(&apps, event);
            self.start_item(id);
        } else {
            self.finish_playback(id, "done", true);
        }
    }

    /// Ends a playback; `next` starts the channel's next queued playback.
    fn finish_playback(&mut self, id: &str, state: &'static str, next: bool) {
        let Some(mut pb) = self.playbacks.remove(id) else {
            return;
        };
        pb.state = state;
        let apps = self.target_subscribers(&pb.target);
        let event = json!({"type": "PlaybackFinished", "playback": playback_json(&pb)});
        self.emit(&apps, event);
        match &pb.target {
            Target::Channel(cid) => {
                let cid = cid.clone();
                self.hear_from(&cid, None);
                self.notify_call_finished(&cid, id, state);
                let Some(c) = self.channels.get_mut(&cid) else {
                    return;
                };
                if c.playing.as_deref() == Some(id) {
                    c.playing = None;
                }
                let held: Vec<(char, u64)> = c.held_dtmf.drain(..).collect();
                let next_id = if next { c.queue.pop_front() } else { None };
                self.send_dtmf_now(&cid, held);
                if let Some(next_id) = next_id {
                    if let Some(c) = self.channels.get_mut(&cid) {
                        c.playing = Some(next_id.clone());
                    }
                    self.start_playback(&next_id);
                }
            }
            Target::Bridge(bid) => {
                let members = self
                    .bridges
                    .get(bid)
                    .map(|b| b.channels.clone())
                    .unwrap_or_default();
                for member in members {
                    self.notify_call_finished(&member, id, state);
                }
                let Some(b) = self.bridges.get_mut(bid) else {
                    return;
                };
                if b.playing.as_deref() == Some(id) {
                    b.playing = None;
                }
                if next
                    && b.playing.is_none()
                    && let Some(next_id) = b.queue.pop_front()
                {
                    b.playing = Some(next_id.clone());
                    self.start_playback(&next_id);
                }
            }
        }
    }

    fn stop_playback(&mut self, id: &str) -> RestReply {
        let Some(pb) = self.playbacks.get(id) else {
            return RestReply::error(404, "Playback not found");
        };
        if pb.state == "queued" {
            match pb.target.clone() {
                Target::Channel(c) => {
                    if let Some(c) = self.channels.get_mut(&c) {
                        c.queue.retain(|q| q != id);
                    }
                }
                Target::Bridge(b) => {
                    if let Some(b) = self.bridges.get_mut(&b) {
                        b.queue.retain(|q| q != id);
                    }
                }
            }
            self.playbacks.remove(id);
        } else {
            self.finish_playback(id, "done", true);
        }
        RestReply::empty()
    }

    fn control_playback(&mut self, id: &str, p: Params) -> RestReply {
        let Some(op) = p.get("operation") else {
            return RestReply::error(400, "operation is required");
        };
        let now = self.now_ms();
        let Some(pb) = self.playbacks.get_mut(id) else {
            return RestReply::error(404, "Playback not found");
        };
        if pb.state != "playing" && pb.state != "paused" {
            return RestReply::error(409, "Playback not in a state to be controlled");
        }
        match op {
            "pause" if pb.state == "playing" => {
                pb.paused_elapsed_ms = Some(now.saturating_sub(pb.item_started_ms));
                pb.state = "paused";
                pb.generation += 1;
            }
            "unpause" if pb.state == "paused" => {
                let elapsed = pb.paused_elapsed_ms.take().unwrap_or(0);
                pb.state = "playing";
                pb.item_started_ms = now.saturating_sub(elapsed);
                self.reschedule_item(id, now);
            }
            "pause" | "unpause" => {}
            "restart" => {
                pb.item_started_ms = now;
                pb.paused_elapsed_ms = pb.paused_elapsed_ms.map(|_| 0);
                self.reschedule_item(id, now);
            }
            "forward" | "reverse" => {
                let skip = 3000;
                pb.item_started_ms = if op == "forward" {
                    pb.item_started_ms.saturating_sub(skip)
                } else {
                    (pb.item_started_ms + skip).min(now)
                };
                if let Some(e) = pb.paused_elapsed_ms.as_mut() {
                    *e = if op == "forward" {
                        *e + skip
                    } else {
                        e.saturating_sub(skip)
                    };
                }
                self.reschedule_item(id, now);
            }
            _ => return RestReply::error(400, "Invalid operation"),
        }
        RestReply::empty()
    }

    fn reschedule_item(&mut self, id: &str, now: u64) {
        let generation = self.generation();
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        pb.generation = generation;
        if pb.state != "playing" {
            return;
        }
        if let Some(duration) = pb.item_duration_ms {
            let end = pb.item_started_ms + duration;
            self.schedule(
                end.saturating_sub(now),
                Timer::PlaybackItemEnd {
                    playback: id.to_owned(),
                    generation,
                },
            );
        }
    }

    // ----- DTMF -----

    fn rest_dtmf(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        if c.stasis.is_none() {
            return RestReply::error(409, NOT_IN_STASIS);
        }
        let Some(dtmf) = p.get("dtmf").filter(|d| !d.is_empty()) else {
            return RestReply::error(400, "DTMF is required");
        };
        let number = |name: &str, default: u64| -> Result<u64, RestReply> {
            match p.get(name).map(str::parse::<u64>) {
                None => Ok(default),
                Some(Ok(v)) => Ok(v),
                Some(Err(_)) => Err(RestReply::error(400, &format!("{name} must be an integer"))),
            }
        };
        let (before, between, duration) = match (
            number("before", 0),
            number("between", 100),
            number("duration", 100),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return RestReply::error(e.status, "invalid DTMF timing");
            }
        };
        let digits: Vec<char> = dtmf
            .chars()
            .filter(|c| crate::scenario::is_dtmf_digit(*c))
            .collect();
        if digits.is_empty() {
            return RestReply::error(400, "DTMF is required");
        }
        let playing = c.playing.is_some();
        if playing {
            // Asterisk queues DTMF behind the channel's own playback.
            if let Some(c) = self.channels.get_mut(id) {
                c.held_dtmf.extend(digits.iter().map(|d| (*d, duration)));
            }
        } else {
            let mut at = before + 100;
            for d in digits {
                at += duration;
                self.schedule(
                    at,
                    Timer::DtmfArrives {
                        channel: id.to_owned(),
                        digit: d,
                        duration_ms: duration,
                    },
                );
                at += between;
            }
        }
        RestReply::empty()
    }

    fn send_dtmf_now(&mut self, from: &str, digits: Vec<(char, u64)>) {
        let mut at = 100;
        for (d, duration) in digits {
            at += duration;
            self.schedule(
                at,
                Timer::DtmfArrives {
                    channel: from.to_owned(),
                    digit: d,
                    duration_ms: duration,
                },
            );
            at += 100;
        }
    }

    /// A digit sent *from* `from` arrives at its far end (a Local peer; nothing hears a phone's DTMF).
    fn dtmf_sent_from(&mut self, from: &str, digit: char, duration_ms: u64) {
        if let Some((peer, _)) = self.local_peer(from) {
            self.dtmf_received(&peer, digit, duration_ms);
        }
    }

    /// `channel` receives a digit: the event, then a recording's terminateOn.
    fn dtmf_received(&mut self, channel: &str, digit: char, duration_ms: u64) {
        self.emit_channel(
            channel,
            "ChannelDtmfReceived",
            json!({"digit": digit.to_string(), "duration_ms": duration_ms}),
        );
        let Some(name) = self.channels.get(channel).and_then(|c| c.recording.clone()) else {
            return;
        };
        let terminates = self.recordings.get(&name).is_some_and(|r| {
            r.terminate_on == "any" || (r.terminate_on != "none" && r.terminate_on.contains(digit))
        });
        if terminates {
            self.finish_recording(&name, RecordingEnd::Done);
        }
    }

    // ----- variables -----

    fn get_variable(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        let Some(var) = p.get("variable").filter(|v| !v.is_empty()) else {
            return RestReply::error(400, "Variable name is required");
        };
        let value = match var {
            "CALLERID(num)" => Some(c.caller.1.clone()),
            "CALLERID(name)" => Some(c.caller.0.clone()),
            "CHANNEL(language)" => Some(c.language.clone()),
            "CHANNEL(name)" => Some(c.name.clone()),
            "UNIQUEID" => Some(c.id.clone()),
            "EXTEN" => Some(c.exten.clone()),
            _ => c.vars.get(var).cloned(),
        };
        match value {
            Some(value) => RestReply::json(200, json!({ "value": value })),
            None => RestReply::error(404, "Provided variable was not found"),
        }
    }

    fn set_variable(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get_mut(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        let Some(var) = p.get("variable").filter(|v| !v.is_empty()) else {
            return RestReply::error(400, "Variable name is required");
        };
        let value = p.get("value").unwrap_or_default().to_owned();
        if var == "CHANNEL(language)" {
            c.language = value.clone();
        } else {
            c.vars.insert(var.to_owned(), value.clone());
        }
        self.emit_varset(id, var, &value);
        RestReply::empty()
    }

    // ----- snoop -----

    fn snoop(&mut self, target: &str, id: Option<String>, p: Params) -> RestReply {
        let Some(app) = p.get("app").filter(|a| !a.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "app is required");
        };
        for (name, value) in [("spy", p.get("spy")), ("whisper", p.get("whisper"))] {
            if let Some(v) = value
                && !matches!(v, "none" | "both" | "out" | "in")
            {
                return RestReply::error(400, &format!("Invalid {name} direction"));
            }
        }
        if !self.channels.contains_key(target) {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        }
        let id = id.unwrap_or_else(|| self.new_unique_id());
        if self.channels.contains_key(&id) {
            return RestReply::error(409, "Channel with given unique ID already exists");
        }
        self.snoop_seq += 1;
        let args: Vec<String> = p
            .get("appArgs")
            .filter(|a| !a.is_empty())
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let lang = self.config.default_language.clone();
        let mut chan = self.new_channel(
            id.clone(),
            format!("Snoop/{target}-{:08x}", self.snoop_seq),
            "Up",
            (String::new(), String::new()),
            (String::new(), String::new()),
            "default",
            "s",
            Kind::Snoop {
                target: target.to_owned(),
                spy: p.get("spy").unwrap_or("none").to_owned(),
            },
            &lang,
        );
        chan.app_name = "Stasis".to_owned();
        chan.app_data = std::iter::once(app.clone())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(",");
        self.channels.insert(id.clone(), chan);
        if let Some(t) = self.channels.get_mut(target) {
            t.snoops.push(id.clone());
        }
        let spy = p.get("spy").unwrap_or("none");
        if spy == "in" || spy == "both" {
            let heard = self
                .channels
                .get(target)
                .and_then(|t| t.inbound.as_ref().map(|(_, a, _)| a.clone()));
            self.set_inbound(&id, heard);
        }
        if !self.enter_stasis(&id, &app, args, false) {
            // No app to hand the snoop to: Asterisk tears it down at once.
            self.channels.remove(&id);
            if let Some(t) = self.channels.get_mut(target) {
                t.snoops.retain(|s| *s != id);
            }
            return RestReply::json(500, json!({"error": "Allocation failed"}));
        }
        RestReply::json(200, self.channel_json(&id))
    }

    // ----- bridges -----

    fn create_bridge(&mut self, id: Option<String>, p: Params) -> RestReply {
        let id = id.unwrap_or_else(|| new_uuid(&mut self.unique_seq));
        let types = p.get("type").unwrap_or("mixing");
        let holding = types.split(',').any(|t| t == "holding");
        for t in types.split(',') {
            if !matches!(
                t,
                "mixing"
                    | "holding"
                    | "dtmf_events"
                    | "proxy_media"
                    | "video_sfu"
                    | "video_single"
                    | "sdp_label"
            ) {
                return RestReply::error(400, "Invalid bridge type");
            }
        }
        if let Some(b) = self.bridges.get(&id) {
            // Asterisk answers an existing id with the bridge (update semantics).
            return RestReply::json(200, bridge_json(b));
        }
        let bridge = Bridge {
            id: id.clone(),
            name: p.get("name").unwrap_or_default().to_owned(),
            bridge_type: if holding { "holding" } else { "mixing" }.to_owned(),
            technology: if holding {
                "holding_bridge"
            } else {
                "simple_bridge"
            },
            channels: Vec::new(),
            creationtime: self.now_stamp(),
            subscribers: Vec::new(),
            recording: None,
            playing: None,
            queue: VecDeque::new(),
        };
        let reply = bridge_json(&bridge);
        self.bridges.insert(id, bridge);
        RestReply::json(200, reply)
    }

    fn destroy_bridge(&mut self, id: &str) -> RestReply {
        let Some(b) = self.bridges.get(id) else {
            return RestReply::error(404, "Bridge not found");
        };
        for c in b.channels.clone() {
            self.bridge_leave(id, &c);
        }
        if let Some(rec) = self.bridges.get(id).and_then(|b| b.recording.clone()) {
            self.finish_recording(&rec, RecordingEnd::Done);
        }
        if let Some(b) = self.bridges.get_mut(id) {
            let queued: Vec<String> = b.queue.drain(..).collect();
            for pb in queued {
                self.playbacks.remove(&pb);
            }
        }
        if let Some(pb) = self.bridges.get(id).and_then(|b| b.playing.clone()) {
            self.finish_playback(&pb, "done", false);
        }
        if let Some(b) = self.bridges.remove(id) {
            let apps = b.subscribers.clone();
            self.emit(
                &apps,
                json!({"type": "BridgeDestroyed", "bridge": bridge_json(&b)}),
            );
        }
        RestReply::empty()
    }

    fn bridge_add(&mut self, id: &str, p: Params) -> RestReply {
        let Some(list) = p.get("channel").filter(|c| !c.is_empty()) else {
            return RestReply::error(400, "channel is required");
        };
        if !self.bridges.contains_key(id) {
            return RestReply::error(404, "Bridge not found");
        }
        let ids: Vec<String> = list.split(',').map(str::to_owned).collect();
        for cid in &ids {
            match self.channels.get(cid) {
                None => return RestReply::error(400, "Channel not found"),
                Some(c) if c.stasis.is_none() => return RestReply::error(422, NOT_IN_STASIS),
                Some(_) => {}
            }
        }
        for cid in ids {
            if let Some(old) = self.channels.get(&cid).and_then(|c| c.bridge.clone()) {
                if old == id {
                    continue;
                }
                self.bridge_leave(&old, &cid);
            }
            let app = self.channels.get(&cid).and_then(|c| c.stasis.clone());
            let Some(b) = self.bridges.get_mut(id) else {
                break;
            };
            b.channels.push(cid.clone());
            if let Some(app) = app
                && !b.subscribers.contains(&app)
            {
                b.subscribers.push(app);
            }
            let apps = b.subscribers.clone();
            let bridge = bridge_json(b);
            if let Some(c) = self.channels.get_mut(&cid) {
                c.bridge = Some(id.to_owned());
            }
            let event = json!({"type": "ChannelEnteredBridge", "bridge": bridge, "channel": self.channel_json(&cid)});
            self.emit(&apps, event);
            self.update_bridge_peers(id);
            // A recording of the bridge hears the newcomer from now on.
            let inbound = self.channels.get(&cid).and_then(|c| c.inbound.clone());
            if let Some(rec) = self.bridges.get(id).and_then(|b| b.recording.clone()) {
                let now = self.now_ms();
                self.recording_voice(&rec, &cid, inbound, now);
            }
        }
        RestReply::empty()
    }

    fn bridge_remove_rest(&mut self, id: &str, p: Params) -> RestReply {
        let Some(list) = p.get("channel").filter(|c| !c.is_empty()) else {
            return RestReply::error(400, "channel is required");
        };
        let Some(b) = self.bridges.get(id) else {
            return RestReply::error(404, "Bridge not found");
        };
        let ids: Vec<String> = list.split(',').map(str::to_owned).collect();
        for cid in &ids {
            if !self.channels.contains_key(cid) {
                return RestReply::error(400, "Channel not found");
            }
            if !b.channels.contains(cid) {
                return RestReply::error(422, "Channel not in this bridge");
            }
        }
        for cid in ids {
            self.bridge_leave(id, &cid);
        }
        RestReply::empty()
    }

    fn bridge_leave(&mut self, id: &str, channel: &str) {
        let Some(b) = self.bridges.get_mut(id) else {
            return;
        };
        if !b.channels.iter().any(|c| c == channel) {
            return;
        }
        b.channels.retain(|c| c != channel);
        let apps = b.subscribers.clone();
        let bridge = bridge_json(b);
        let empty = b.channels.is_empty();
        let recording = b.recording.clone();
        if let Some(c) = self.channels.get_mut(channel) {
            c.bridge = None;
        }
        if let Some(c) = self.channels.get(channel)
            && c.vars.contains_key("BRIDGEPEER")
        {
            self.emit_varset(channel, "BRIDGEPEER", "");
        }
        let event = json!({"type": "ChannelLeftBridge", "bridge": bridge, "channel": self.channel_json(channel)});
        self.emit(&apps, event);
        if let Some(rec) = &recording {
            let now = self.now_ms();
            self.recording_voice(rec, channel, None, now);
        }
        self.update_bridge_peers(id);
        if empty && let Some(rec) = recording {
            // A bridge recording ends when the last channel leaves.
            self.finish_recording(&rec, RecordingEnd::Done);
        }
    }

    fn update_bridge_peers(&mut self, id: &str) {
        let Some(b) = self.bridges.get(id) else {
            return;
        };
        let members = b.channels.clone();
        for m in &members {
            let peers: Vec<String> = members
                .iter()
                .filter(|o| *o != m)
                .filter_map(|o| self.channels.get(o).map(|c| c.name.clone()))
                .collect();
            let value = peers.join(",");
            let Some(c) = self.channels.get_mut(m) else {
                continue;
            };
            if c.vars.get("BRIDGEPEER") != Some(&value) {
                c.vars.insert("BRIDGEPEER".to_owned(), value.clone());
                self.emit_varset(m, "BRIDGEPEER", &value);
            }
        }
    }

    // ----- recordings -----

    fn record(&mut self, target: Target, p: Params) -> RestReply {
        let Some(name) = p.get("name").filter(|n| !n.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "Recording name is required");
        };
        let Some(format) = p.get("format").filter(|f| !f.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "Recording format is required");
        };
        let number = |key: &str| -> Result<u64, ()> {
            match p.get(key).map(str::parse::<u64>) {
                None => Ok(0),
                Some(Ok(v)) => Ok(v),
                Some(Err(_)) => Err(()),
            }
        };
        let (Ok(max_duration_s), Ok(max_silence_s)) =
            (number("maxDurationSeconds"), number("maxSilenceSeconds"))
        else {
            return RestReply::error(
                400,
                "maxDurationSeconds and maxSilenceSeconds must be non-negative integers",
            );
        };
        let if_exists = p.get("ifExists").unwrap_or("fail").to_owned();
        if !matches!(if_exists.as_str(), "fail" | "overwrite" | "append") {
            return RestReply::error(400, "ifExists must be fail, overwrite or append");
        }
        let beep = match p.get("beep") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return RestReply::error(400, "beep must be true or false"),
        };
        let terminate_on = p.get("terminateOn").unwrap_or("none").to_owned();
        if terminate_on != "none"
            && terminate_on != "any"
            && !terminate_on.chars().all(crate::scenario::is_dtmf_digit)
        {
            return RestReply::error(400, "terminateOn must be none, any, or DTMF digits");
        }
        match &target {
            Target::Channel(cid) => match self.channels.get(cid) {
                None => return RestReply::error(404, CHANNEL_NOT_FOUND),
                Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
                Some(c) if c.recording.is_some() => {
                    return RestReply::error(409, "Channel is already being recorded");
                }
                Some(_) => {}
            },
            Target::Bridge(bid) => match self.bridges.get(bid) {
                None => return RestReply::error(404, "Bridge not found"),
                Some(b) if b.recording.is_some() => {
                    return RestReply::error(409, "Bridge is already being recorded");
                }
                Some(_) => {}
            },
        }
        if !matches!(format.as_str(), "wav" | "WAV") {
            // The simulator writes WAV only; Asterisk's other formats are reported unknown like "nosuchformat".
            return RestReply::error(422, "specified format is unknown on this system");
        }
        if name.contains("..") || name.starts_with('/') {
            return RestReply::error(400, "Invalid recording name");
        }
        let exists = self.stored.contains_key(&name) || self.recordings.contains_key(&name);
        if self.recordings.contains_key(&name) || (exists && if_exists == "fail") {
            return RestReply::error(
                409,
                &format!("Recording '{name}' already exists and can not be overwritten"),
            );
        }
        let now = self.now_ms();
        let beep_ms = if beep { 250 } else { 0 };
        let generation = self.generation();
        let rec = LiveRecording {
            name: name.clone(),
            format: format.to_lowercase(),
            target: target.clone(),
            started_ms: now + beep_ms,
            instance: generation,
            max_duration_s,
            max_silence_s,
            terminate_on,
            if_exists,
            generation,
            segments: Vec::new(),
            open: HashMap::new(),
            paused: false,
            paused_total_ms: 0,
            paused_since: None,
            muted: false,
            state: "recording",
        };
        let reply = {
            let mut j = self.recording_json(&rec, false);
            j["state"] = json!("queued");
            j
        };
        self.recordings.insert(name.clone(), rec);
        let listeners: Vec<String> = match &target {
            Target::Channel(cid) => {
                if let Some(c) = self.channels.get_mut(cid) {
                    c.recording = Some(name.clone());
                }
                if let Some(call) = self.channels.get(cid).and_then(|c| c.call)
                    && let Some(run) = self.calls.get_mut(&call)
                {
                    run.recordings.push(name.clone());
                }
                vec![cid.clone()]
            }
            Target::Bridge(bid) => {
                let b = self.bridges.get_mut(bid).expect("checked above");
                b.recording = Some(name.clone());
                b.channels.clone()
            }
        };
        let apps = self.target_subscribers(&target);
        if let Some(r) = self.recordings.get(&name) {
            let event =
                json!({"type": "RecordingStarted", "recording": self.recording_json(r, false)});
            self.emit(&apps, event);
        }
        for l in listeners {
            let inbound = self.channels.get(&l).and_then(|c| c.inbound.clone());
            self.recording_voice(&name, &l, inbound, now);
        }
        if beep && let Target::Channel(cid) = &target {
            // The caller hears the beep; capture starts when it ends.
            let pseudo_id = format!("beep-{name}");
            self.notify_call_heard(cid, &pseudo_id, "sound:beep");
            self.mark_heard_finished(cid, &pseudo_id, beep_ms);
        }
        if max_duration_s > 0 {
            self.schedule(
                beep_ms + max_duration_s * 1000,
                Timer::RecordingMaxDuration { name, generation },
            );
        }
        RestReply::json(201, reply)
    }

    /// Channels whose audio a recording captures.
    fn recording_listeners(&self, target: &Target) -> Vec<String> {
        match target {
            Target::Channel(c) => vec![c.clone()],
            Target::Bridge(b) => self
                .bridges
                .get(b)
                .map(|b| b.channels.clone())
                .unwrap_or_default(),
        }
    }

    /// Pause (time and audio stop counting) or mute (time runs, audio is silence), on or off.
    fn pause_or_mute(&mut self, name: &str, pause: bool, on: bool) -> RestReply {
        let now = self.now_ms();
        let Some(rec) = self.recordings.get_mut(name) else {
            return RestReply::error(404, "Recording not found");
        };
        let was_capturing = rec.capturing();
        let rel = rec.rel(now);
        if pause {
            if on && !rec.paused {
                rec.paused = true;
                rec.paused_since = Some(now);
                rec.state = "paused";
            } else if !on && rec.paused {
                rec.paused = false;
                rec.paused_total_ms += rec.paused_since.take().map_or(0, |p| now.saturating_sub(p));
                rec.state = "recording";
            }
        } else {
            rec.muted = on;
        }
        if was_capturing && !rec.capturing() {
            close_voices(rec, rel);
            // Silence detection is suspended meanwhile.
            rec.generation += 1;
        } else if !was_capturing && rec.capturing() {
            let target = rec.target.clone();
            for listener in self.recording_listeners(&target) {
                let inbound = self.channels.get(&listener).and_then(|c| c.inbound.clone());
                self.recording_voice(name, &listener, inbound, now);
            }
        }
        RestReply::empty()
    }

    fn recording_json(&self, r: &LiveRecording, _finished: bool) -> Value {
        json!({"name": r.name, "format": r.format, "state": r.state, "target_uri": r.target.uri()})
    }

    fn finish_recording(&mut self, name: &str, end: RecordingEnd) {
        let Some(mut rec) = self.recordings.remove(name) else {
            return;
        };
        let now = self.now_ms();
        let mut rel = rec.rel(now);
        if rec.max_duration_s > 0 {
            rel = rel.min(rec.max_duration_s * 1000);
        }
        close_voices(&mut rec, rel);
        let apps = self.target_subscribers(&rec.target);
        match &rec.target {
            Target::Channel(c) => {
                if let Some(c) = self.channels.get_mut(c)
                    && c.recording.as_deref() == Some(name)
                {
                    c.recording = None;
                }
            }
            Target::Bridge(b) => {
                if let Some(b) = self.bridges.get_mut(b)
                    && b.recording.as_deref() == Some(name)
                {
                    b.recording = None;
                }
            }
        }
        if matches!(end, RecordingEnd::Canceled) {
            rec.state = "canceled";
            let event =
                json!({"type": "RecordingFinished", "recording": self.recording_json(&rec, true)});
            self.emit(&apps, event);
            return;
        }
        let mut samples = audio::render(&rec.segments, rel);
        audio::trim_trailing_silence(&mut samples);
        let path = self.recordings_dir.join(format!("{name}.{}", rec.format));
        let mut all = samples.clone();
        if rec.if_exists == "append"
            && let Some(existing) = self.stored.get(name)
            && let Some(mut before) = audio::read_samples(&existing.path)
        {
            before.extend_from_slice(&all);
            all = before;
        }
        let kept_ms = samples.len() as u64 * 1000 / u64::from(audio::RATE);
        let talking_ms: u64 = rec
            .segments
            .iter()
            .map(|s| {
                s.end_ms
                    .min(kept_ms)
                    .saturating_sub(s.start_ms.min(kept_ms))
            })
            .sum();
        let written = audio::write_wav(&path, &all);
        rec.state = if written.is_ok() { "done" } else { "failed" };
        let mut recording = self.recording_json(&rec, true);
        match written {
            Ok(()) => {
                self.stored.insert(
                    name.to_owned(),
                    StoredRecording {
                        format: rec.format.clone(),
                        path,
                    },
                );
                recording["duration"] = json!(kept_ms / 1000);
                if rec.max_silence_s > 0 {
                    recording["talking_duration"] = json!(talking_ms / 1000);
                    recording["silence_duration"] =
                        json!(kept_ms.saturating_sub(talking_ms) / 1000);
                }
                self.emit(
                    &apps,
                    json!({"type": "RecordingFinished", "recording": recording}),
                );
            }
            Err(e) => {
                recording["cause"] = json!(format!("cannot write {}: {e}", path.display()));
                self.emit(
                    &apps,
                    json!({"type": "RecordingFailed", "recording": recording}),
                );
            }
        }
    }

    fn copy_recording(&mut self, name: &str, p: Params) -> RestReply {
        let Some(dest) = p.get("destinationRecordingName").filter(|d| !d.is_empty()) else {
            return RestReply::error(400, "destinationRecordingName is required");
        };
        let Some(src) = self.stored.get(name).cloned() else {
            return RestReply::error(404, "Recording not found");
        };
        if dest.contains("..") || dest.starts_with('/') {
            return RestReply::error(400, "Invalid destination recording name");
        }
        if self.stored.contains_key(dest) {
            return RestReply::error(
                409,
                "A recording with the same name already exists on the system",
            );
        }
        let path = self.recordings_dir.join(format!("{dest}.{}", src.format));
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match std::fs::copy(&src.path, &path) {
            Ok(_) => {
                self.stored.insert(
                    dest.to_owned(),
                    StoredRecording {
                        format: src.format.clone(),
                        path,
                    },
                );
                RestReply::json(200, json!({"name": dest, "format": src.format}))
            }
            Err(e) => RestReply::error(500, &format!("copy failed: {e}")),
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
            Timer::EndpointAnswers { channel } => self.originated_answered(&channel),
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
            Timer::CallTimeout { call, generation } => {
                let Some(run) = self.calls.get_mut(&call) else {
                    return;
                };
                if run.generation != generation {
                    return;
                }
                let step = run.step;
                let label = run
                    .scenario
                    .steps
                    .get(step)
                    .map_or_else(|| "the end of the call".to_owned(), Step::label);
                let heard: Vec<&str> = run.heard.iter().map(|h| h.media_uri.as_str()).collect();
                if run.step < run.scenario.steps.len() {
                    run.failure = Some(format!(
                        "step {} ({label}) timed out; heard so far: [{}]",
                        step + 1,
                        heard.join(", ")
                    ));
                }
                run.hung_up_by = Some(HungUpBy::Caller);
                let channel = run.channel.clone();
                self.hangup(&channel, 16, HangupHow::Caller);
            }
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
            } => {
                let Some(run) = self.calls.get_mut(&call) else {
                    return;
                };
                run.digits_pending = run.digits_pending.saturating_sub(1);
                let channel = run.channel.clone();
                self.dtmf_received(&channel, digit, duration_ms);
            }
        }
    }

    // ----- simulated callers -----

    fn place_call(&mut self, scenario: Scenario) -> u64 {
        let call = self.next_call;
        self.next_call += 1;
        self.stats.calls_placed += 1;
        let id = self.new_unique_id();
        self.unique_seq += 0;
        let lang = scenario
            .language
            .clone()
            .unwrap_or_else(|| self.config.default_language.clone());
        let name = format!("PJSIP/citizen-{:08x}", self.unique_seq);
        let mut chan = self.new_channel(
            id.clone(),
            name,
            "Ring",
            (scenario.caller_name.clone(), scenario.caller.clone()),
            (String::new(), String::new()),
            &scenario.context,
            &scenario.extension,
            Kind::Sip,
            &lang,
        );
        chan.protocol_id = format!("{call}-{}@127.0.0.1", std::process::id());
        chan.call = Some(call);
        self.channels.insert(id.clone(), chan);
        let now = self.now_ms();
        self.calls.insert(
            call,
            CallRun {
                id: call,
                scenario,
                channel: id.clone(),
                started_ms: now,
                step: 0,
                wait: CallWait::Nothing,
                generation: 0,
                heard: Vec::new(),
                cursor: 0,
                digits_sent: String::new(),
                recordings: Vec::new(),
                answered_ms: None,
                failure: None,
                hung_up_by: None,
                transferred_to: None,
                voice_generation: 0,
                digits_pending: 0,
            },
        );
        let exists = self.channels.get(&id).is_some_and(|c| {
            self.config
                .dialplan
                .get(&c.context)
                .is_some_and(|ctx| ctx.contains_key(&c.exten))
        });
        if !exists {
            if let Some(run) = self.calls.get_mut(&call) {
                run.failure =
                    Some("the dialled extension does not exist in the dialplan".to_owned());
                run.hung_up_by = Some(HungUpBy::Network);
            }
            self.hangup(&id, 1, HangupHow::Dialplan);
            return call;
        }
        self.advance_call(call);
        if self.channels.contains_key(&id) {
            self.run_dialplan(&id);
        }
        call
    }

    /// Runs the caller's steps until one has to wait.
    fn advance_call(&mut self, call: u64) {
        loop {
            let generation = self.generation();
            let Some(run) = self.calls.get_mut(&call) else {
                return;
            };
            run.generation = generation;
            let channel = run.channel.clone();
            let Some(step) = run.scenario.steps.get(run.step).cloned() else {
                // Every step ran: stay on the line until the other side hangs up (bounded).
                run.wait = CallWait::Hangup;
                let ms = (self.config.max_call_seconds * 1000.0) as u64;
                self.schedule(ms, Timer::CallTimeout { call, generation });
                return;
            };
            match step {
                Step::WaitPrompt {
                    sound,
                    timeout_seconds,
                } => {
                    if let Some(index) = run.heard[run.cursor..]
                        .iter()
                        .position(|h| prompt_matches(sound.as_deref(), &h.media_uri))
                    {
                        run.cursor += index + 1;
                        run.step += 1;
                        continue;
                    }
                    run.wait = CallWait::Prompt(sound);
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
                Step::WaitPromptEnd { timeout_seconds } => {
                    if self
                        .channels
                        .get(&channel)
                        .is_none_or(|c| c.playing.is_none())
                    {
                        run.step += 1;
                        continue;
                    }
                    run.wait = CallWait::PromptEnd;
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
                Step::Press {
                    digits,
                    gap_ms,
                    duration_ms,
                } => {
                    run.digits_sent.push_str(&digits);
                    run.digits_pending = digits.chars().count();
                    run.wait = CallWait::Timer;
                    let mut at = 0;
                    for d in digits.chars() {
                        at += duration_ms;
                        self.schedule(
                            at,
                            Timer::CallDtmf {
                                call,
                                digit: d,
                                duration_ms,
                            },
                        );
                        at += gap_ms;
                    }
                    self.schedule(at, Timer::CallStep { call, generation });
                    return;
                }
                Step::Speak { seconds } => {
                    let seed = seed_of(&format!("{call}-{}", run.step));
                    self.call_voice(
                        call,
                        &channel,
                        Audio::Speech { seed },
                        secs(seconds),
                        generation,
                    );
                    return;
                }
                Step::SpeakWav { path } => match crate::media::read_wav(&path) {
                    Some(sound) => {
                        self.call_voice(call, &channel, sound.audio, sound.duration_ms, generation);
                        return;
                    }
                    None => {
                        run.failure = Some(format!(
                            "step {} (speak_wav): cannot read {} as a WAV file",
                            run.step + 1,
                            path.display()
                        ));
                        run.hung_up_by = Some(HungUpBy::Caller);
                        self.hangup(&channel, 16, HangupHow::Caller);
                        return;
                    }
                },
                Step::Silence { seconds } | Step::Wait { seconds } => {
                    run.wait = CallWait::Timer;
                    self.schedule(secs(seconds), Timer::CallStep { call, generation });
                    return;
                }
                Step::Hangup => {
                    run.step += 1;
                    run.hung_up_by = Some(HungUpBy::Caller);
                    self.hangup(&channel, 16, HangupHow::Caller);
                    return;
                }
                Step::WaitHangup { timeout_seconds } => {
                    run.wait = CallWait::Hangup;
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
            }
        }
    }

    fn call_voice(&mut self, call: u64, channel: &str, audio: Audio, ms: u64, generation: u64) {
        let voice_generation = self.generation();
        if let Some(run) = self.calls.get_mut(&call) {
            run.wait = CallWait::Timer;
            run.voice_generation = voice_generation;
        }
        self.set_inbound(channel, Some(audio));
        self.schedule(
            ms,
            Timer::CallVoiceEnds {
                call,
                generation: voice_generation,
            },
        );
        self.schedule(ms, Timer::CallStep { call, generation });
    }

    fn notify_call_heard(&mut self, channel: &str, playback: &str, uri: &str) {
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let now = self.now_ms();
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        let language = match self.playbacks.get(playback) {
            Some(p) => p.language.clone(),
            None => self
                .channels
                .get(channel)
                .map(|c| c.language.clone())
                .unwrap_or_default(),
        };
        // The previous item of a multi-media playback is done when the next begins.
        if let Some(last) = run.heard.last_mut()
            && last.playback_id == playback
            && last.finished_ms.is_none()
        {
            last.finished_ms = Some(now.saturating_sub(run.started_ms));
            last.state = "done".to_owned();
        }
        run.heard.push(HeardMedia {
            media_uri: uri.to_owned(),
            language,
            playback_id: playback.to_owned(),
            started_ms: now.saturating_sub(run.started_ms),
            finished_ms: None,
            state: "playing".to_owned(),
        });
        let hanging_up = self.channels.get(channel).is_none_or(|c| c.hanging_up);
        if let CallWait::Prompt(sound) = &run.wait
            && prompt_matches(sound.as_deref(), uri)
            && !hanging_up
        {
            run.cursor = run.heard.len();
            run.step += 1;
            run.wait = CallWait::Nothing;
            self.advance_call(call);
        }
    }

    /// A media the caller hears whose end is already known (the recording beep).
    fn mark_heard_finished(&mut self, channel: &str, playback: &str, after_ms: u64) {
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let now = self.now_ms();
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(h) = run
            .heard
            .iter_mut()
            .rev()
            .find(|h| h.playback_id == playback)
        {
            h.finished_ms = Some(now.saturating_sub(run.started_ms) + after_ms);
            h.state = "done".to_owned();
        }
    }

    fn notify_call_finished(&mut self, channel: &str, playback: &str, state: &str) {
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let now = self.now_ms();
        let queue_empty = self
            .channels
            .get(channel)
            .is_some_and(|c| c.queue.is_empty() && !c.hanging_up);
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(h) = run
            .heard
            .iter_mut()
            .rev()
            .find(|h| h.playback_id == playback && h.finished_ms.is_none())
        {
            h.finished_ms = Some(now.saturating_sub(run.started_ms));
            h.state = state.to_owned();
        }
        if run.wait == CallWait::PromptEnd && queue_empty {
            run.step += 1;
            run.wait = CallWait::Nothing;
            self.advance_call(call);
        }
    }

    fn finish_call(&mut self, call: u64, cause: u32) {
        let Some(run) = self.calls.remove(&call) else {
            return;
        };
        let now = self.now_ms();
        let steps = run.scenario.steps.len();
        // A press whose digits have all gone out is done even if its trailing gap had not elapsed.
        let mut step = run.step;
        if run.digits_pending == 0
            && matches!(run.scenario.steps.get(step), Some(Step::Press { .. }))
        {
            step += 1;
        }
        let only_waiting_left = run.scenario.steps[step.min(steps)..]
            .iter()
            .all(|s| matches!(s, Step::WaitHangup { .. }));
        let outcome = if let Some(reason) = run.failure.clone() {
            CallOutcome::Failed { reason }
        } else if only_waiting_left {
            CallOutcome::Completed
        } else {
            let label = run.scenario.steps[run.step].label();
            CallOutcome::Failed {
                reason: format!("the call ended during step {} ({label})", run.step + 1),
            }
        };
        match outcome {
            CallOutcome::Completed => self.stats.calls_completed += 1,
            CallOutcome::Failed { .. } => self.stats.calls_failed += 1,
        }
        let mut heard = run.heard;
        for h in &mut heard {
            if h.finished_ms.is_none() && h.state == "playing" {
                h.state = "failed".to_owned();
                h.finished_ms = Some(now.saturating_sub(run.started_ms));
            }
        }
        let result = CallResult {
            call_id: run.id,
            scenario: run.scenario.name.clone(),
            channel_id: run.channel,
            caller: run.scenario.caller.clone(),
            heard,
            digits_sent: run.digits_sent,
            recordings: run.recordings,
            hung_up_by: run.hung_up_by.unwrap_or(HungUpBy::Network),
            transferred_to: run.transferred_to,
            cause,
            cause_txt: cause_txt(cause).to_owned(),
            answered_ms: run.answered_ms,
            duration_ms: now.saturating_sub(run.started_ms),
            outcome,
        };
        for waiter in self.waiters.remove(&call).unwrap_or_default() {
            let _ = waiter.send(Ok(result.clone()));
        }
        self.results.insert(call, result);
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
    /// Originate timeout or an unreachable endpoint.
    Timeout,
    /// The dialplan's `Hangup()` or its end.
    Dialplan,
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
