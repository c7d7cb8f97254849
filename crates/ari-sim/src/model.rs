//! The model of the fake Asterisk: channels, Local pairs, the dialplan, bridges, playbacks, recordings,
//! snoops, endpoints, Stasis apps and their subscriptions, and simulated callers. One actor task owns all of
//! it (no locks, no task per channel); REST requests, WebSocket (dis)connections and control calls arrive as
//! `Command`s, and everything that happens later (a playback ending, a ring timeout, a caller's next step)
//! is a timer in one heap. Events are serialized once and pushed to each subscribed app's connection with
//! `try_send`, so a slow WebSocket never blocks the model; events for an app with no connection are lost,
//! as in Asterisk. Events are emitted before the REST reply is sent, so they overtake it like the real thing.
//!
//! This file holds the actor: its loop, events, apps and connections; `state` the plain data it owns,
//! `channels` channels (originate, answer, hangup, continue, move, redirect), `dialplan` the dialplan,
//! `timers` what a due timer does; `rest` routes ARI requests (and music on hold), `playback` and `recording` do
//! media, `bridge` bridges and snoops, `endpoints` the PJSIP phones and what each does, `callers` runs
//! scenarios (queues and call-backs included).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
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
use crate::wire::{
    self, bridge_json, cause_txt, channel_json, merge, message, playback_json, sound_json,
};
use crate::{SimError, SimStats};

mod bridge;
mod callers;
mod channels;
mod dialplan;
mod endpoints;

use endpoints::{Originate, dial_status, endpoint_key};
mod playback;
mod recording;
mod rest;
pub(crate) mod state;
mod timers;

use state::*;

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
