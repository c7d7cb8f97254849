//! The ARI REST client: one method per operation an IVR and call centre use, each with a timeout, each built
//! from the operation table in [`crate::ops`], each failing with a typed [`AriError`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::DeserializeOwned;

use crate::error::AriError;
use crate::model::{
    Application, AsteriskInfo, AsteriskPing, Bridge, Channel, Endpoint, LiveRecording, Playback,
    Sound, StoredRecording, Variable,
};
use crate::ops::{self, HttpMethod, Operation, ParamPlace};
use crate::params::{
    BridgeType, DialplanTarget, HangupReason, Media, MuteDirection, Originate, PlaybackOperation,
    RecordParams, SendDtmf, Snoop,
};
use crate::secret::Credentials;

/// Characters escaped in a path segment. `;` stays as is: Asterisk's Local channel ids (`x;2`) are sent raw,
/// as in the real traces.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// Default time allowed for one REST call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where Asterisk's ARI is and how to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// ARI base URL, e.g. `http://127.0.0.1:8088/ari`.
    pub base_url: String,
    /// ARI user and password.
    pub credentials: Credentials,
    /// Time allowed for each REST call (connect + reply).
    pub timeout: Duration,
}

impl ClientConfig {
    /// A config with the default timeout.
    pub fn new(base_url: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            base_url: base_url.into(),
            credentials,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// How an ARI request ended, as a [`RequestObserver`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    /// A 2xx reply, read to its end.
    Answered,
    /// A reply outside 2xx (404 for a channel gone, 409 not in Stasis, 500 …).
    Refused,
    /// No reply within the client's timeout.
    TimedOut,
    /// Connection refused or cut, or the body cut off.
    Failed,
}

impl RequestOutcome {
    /// The outcome's name in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Answered => "answered",
            RequestOutcome::Refused => "refused",
            RequestOutcome::TimedOut => "timed_out",
            RequestOutcome::Failed => "failed",
        }
    }
}

/// Told how long every ARI request took, by operation (`channels.answer` …), once it has ended: the
/// hook metrics hang on, so this crate knows no metrics library. Called on the requesting task: keep
/// it cheap (an atomic, a short lock).
pub trait RequestObserver: Send + Sync + std::fmt::Debug {
    fn observe(&self, operation: &'static str, outcome: RequestOutcome, elapsed: Duration);
}

/// The ARI REST client. Cheap to clone (shares one connection pool).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    /// Base URL without a trailing slash.
    base: Arc<str>,
    credentials: Arc<Credentials>,
    timeout: Duration,
    /// Told of every request's time (metrics), if anyone asked.
    observer: Option<Arc<dyn RequestObserver>>,
}

/// A request being built: the operation it belongs to, its URL and its parameters. Every parameter is checked
/// against the operation table, so the client cannot send what the table (and so the conformance test) does
/// not know.
struct Request {
    op: &'static Operation,
    url: String,
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Map<String, serde_json::Value>>,
    error: Option<String>,
}

impl Request {
    fn param(mut self, name: &'static str, value: impl ToString) -> Self {
        let value = value.to_string();
        match self.op.param(name) {
            None => {
                self.error = Some(format!("parameter {name} is not in the operation table"));
            }
            Some(spec) => {
                if spec.place != ParamPlace::Query {
                    self.error = Some(format!("parameter {name} is not a query parameter"));
                } else if let Some(allowed) = spec.allowed {
                    let mut values = value.split(',');
                    if !values.all(|v| allowed.contains(&v)) {
                        self.error = Some(format!("value {value:?} not allowed for {name}"));
                    }
                }
                self.query.push((name, value));
            }
        }
        self
    }

    fn opt(self, name: &'static str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    fn body_map(mut self, name: &'static str, map: &HashMap<String, String>) -> Self {
        if map.is_empty() {
            return self;
        }
        if self.op.param(name).map(|p| p.place) != Some(ParamPlace::Body) {
            self.error = Some(format!(
                "body parameter {name} is not in the operation table"
            ));
            return self;
        }
        let inner: serde_json::Map<String, serde_json::Value> = map
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        self.body
            .get_or_insert_with(serde_json::Map::new)
            .insert(name.to_owned(), serde_json::Value::Object(inner));
        self
    }
}

impl Client {
    /// A client for the ARI at `config.base_url`. Fails only if the HTTP client cannot be set up.
    pub fn new(config: ClientConfig) -> Result<Self, AriError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| AriError::InvalidRequest {
                operation: "client.new",
                message: e.to_string(),
            })?;
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(AriError::InvalidRequest {
                operation: "client.new",
                message: format!("ARI base URL must start with http:// or https://, got {base:?}"),
            });
        }
        Ok(Self {
            http,
            base: base.into(),
            credentials: Arc::new(config.credentials),
            timeout: config.timeout,
            observer: None,
        })
    }

    /// The same client (and its clones) telling `observer` how long each request took.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The same client with another per-call timeout (e.g. longer for a file download).
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            timeout,
            ..self.clone()
        }
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The ARI base URL (no credentials in it).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The ARI credentials (the password stays redacted in Debug output).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn request(&self, op: &'static Operation, path_values: &[&str]) -> Request {
        let mut url = String::with_capacity(self.base.len() + op.path.len() + 32);
        url.push_str(&self.base);
        let mut values = path_values.iter();
        let mut error = None;
        for segment in op.path.split('/').skip(1) {
            url.push('/');
            if segment.starts_with('{') {
                match values.next() {
                    Some(v) if !v.is_empty() => {
                        let _ = write!(url, "{}", utf8_percent_encode(v, SEGMENT));
                    }
                    Some(_) => {
                        error = Some(format!("empty path parameter in {}", op.path));
                    }
                    None => error = Some(format!("missing path parameter for {}", op.path)),
                }
            } else {
                url.push_str(segment);
            }
        }
        if values.next().is_some() {
            error = Some(format!("too many path parameters for {}", op.path));
        }
        Request {
            op,
            url,
            query: Vec::new(),
            body: None,
            error,
        }
    }

    /// Sends a request; returns the reply body of a 2xx, or the typed error.
    async fn send(&self, req: Request) -> Result<Bytes, AriError> {
        let op = req.op;
        if let Some(message) = req.error {
            return Err(AriError::InvalidRequest {
                operation: op.name,
                message,
            });
        }
        let method = match op.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .http
            .request(method, &req.url)
            .basic_auth(
                &self.credentials.user,
                Some(self.credentials.password.expose()),
            )
            .timeout(self.timeout);
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let started = std::time::Instant::now();
        let reply = self.exchange(op, builder).await;
        let elapsed = started.elapsed();
        if let Some(observer) = &self.observer {
            let outcome = match &reply {
                Ok((status, _)) if (200..300).contains(status) => RequestOutcome::Answered,
                Ok(_) => RequestOutcome::Refused,
                Err(AriError::Timeout { .. }) => RequestOutcome::TimedOut,
                Err(_) => RequestOutcome::Failed,
            };
            observer.observe(op.name, outcome, elapsed);
        }
        let (status, bytes) = reply?;
        tracing::trace!(
            operation = op.name,
            status,
            elapsed_us = elapsed.as_micros() as u64,
            "ARI call"
        );
        if (200..300).contains(&status) {
            Ok(bytes)
        } else {
            Err(AriError::from_status(
                op.name,
                op.channel_op,
                status,
                &bytes,
            ))
        }
    }

    /// Sends the request and reads the whole reply: its status and body.
    async fn exchange(
        &self,
        op: &'static Operation,
        builder: reqwest::RequestBuilder,
    ) -> Result<(u16, Bytes), AriError> {
        let response = builder
            .send()
            .await
            .map_err(|e| self.transport_error(op, &e))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(op, &e))?;
        Ok((status, bytes))
    }

    fn transport_error(&self, op: &'static Operation, e: &reqwest::Error) -> AriError {
        if e.is_timeout() {
            AriError::Timeout {
                operation: op.name,
                after: self.timeout,
            }
        } else if e.is_builder() {
            AriError::InvalidRequest {
                operation: op.name,
                message: e.to_string(),
            }
        } else {
            // Connection refused/reset, or the body was cut off: Asterisk is not (fully) there. The error's
            // text names the URL, which holds no credentials (they go in a header).
            AriError::Unavailable {
                operation: op.name,
                status: None,
                message: error_chain(e),
            }
        }
    }

    async fn send_json<T: DeserializeOwned>(&self, req: Request) -> Result<T, AriError> {
        let op = req.op.name;
        let bytes = self.send(req).await?;
        serde_json::from_slice(&bytes).map_err(|source| AriError::Decode {
            operation: op,
            source,
        })
    }

    async fn send_empty(&self, req: Request) -> Result<(), AriError> {
        self.send(req).await.map(drop)
    }

    // ---- channels ----

    /// `GET /channels`: every active channel.
    pub async fn list_channels(&self) -> Result<Vec<Channel>, AriError> {
        self.send_json(self.request(&ops::CHANNELS_LIST, &[])).await
    }

    /// `GET /channels/{id}`.
    pub async fn get_channel(&self, channel_id: &str) -> Result<Channel, AriError> {
        self.send_json(self.request(&ops::CHANNELS_GET, &[channel_id]))
            .await
    }

    /// `POST /channels/{channelId}`: originate with the client-chosen `params.channel_id`. Register that id
    /// with the [`Router`](crate::Router) *before* calling this: its events may arrive before the reply. If
    /// this fails, unregister it again ([`Router::unregister`](crate::Router::unregister)).
    pub async fn originate(&self, params: &Originate) -> Result<Channel, AriError> {
        let mut req = self
            .request(&ops::CHANNELS_ORIGINATE_WITH_ID, &[&params.channel_id])
            .param("endpoint", &params.endpoint)
            .opt("app", params.app.as_ref())
            .opt("appArgs", params.app_args.as_ref())
            .opt("callerId", params.caller_id.as_ref())
            .opt("timeout", params.timeout_secs)
            .opt("otherChannelId", params.other_channel_id.as_ref())
            .opt("originator", params.originator.as_ref());
        if let Some(target) = &params.dialplan {
            req = dialplan_params(req, target);
        }
        let req = req.body_map("variables", &params.variables);
        self.send_json(req).await
    }

    /// `POST /channels/{id}/answer`. Answering an answered channel succeeds.
    pub async fn answer(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_ANSWER, &[channel_id]))
            .await
    }

    /// `POST /channels/{id}/ring`: indicate ringing to the caller.
    pub async fn ring(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_RING, &[channel_id]))
            .await
    }

    /// `DELETE /channels/{id}/ring`: stop indicating ringing.
    pub async fn ring_stop(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_RING_STOP, &[channel_id]))
            .await
    }

    /// `DELETE /channels/{id}`: hang up, with an optional reason. A gone channel gives
    /// [`AriError::NotFound`] (see [`AriError::is_gone`]).
    pub async fn hangup(
        &self,
        channel_id: &str,
        reason: Option<HangupReason>,
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_HANGUP, &[channel_id])
            .opt("reason", reason.map(HangupReason::as_str));
        self.send_empty(req).await
    }

    /// `POST /channels/{id}/play/{playbackId}`: play one or several media in order. Register the playback's
    /// channel before (it is routed by `target_uri`); `playback_id` is ours so its events can be matched.
    pub async fn play(
        &self,
        channel_id: &str,
        playback_id: &str,
        media: &[Media],
        lang: Option<&str>,
    ) -> Result<Playback, AriError> {
        let req = self
            .request(&ops::CHANNELS_PLAY_WITH_ID, &[channel_id, playback_id])
            .param("media", join_media(media))
            .opt("lang", lang);
        let req = require_media(req, media);
        self.send_json(req).await
    }

    /// `POST /channels/{id}/record`.
    pub async fn record(
        &self,
        channel_id: &str,
        params: &RecordParams,
    ) -> Result<LiveRecording, AriError> {
        let req = record_params(self.request(&ops::CHANNELS_RECORD, &[channel_id]), params);
        self.send_json(req).await
    }

    /// `POST /channels/{id}/dtmf`: send DTMF to the channel.
    pub async fn send_dtmf(&self, channel_id: &str, dtmf: &SendDtmf) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_SEND_DTMF, &[channel_id])
            .param("dtmf", &dtmf.dtmf)
            .opt("before", dtmf.before_ms)
            .opt("between", dtmf.between_ms)
            .opt("duration", dtmf.duration_ms)
            .opt("after", dtmf.after_ms);
        self.send_empty(req).await
    }

    /// `POST /channels/{id}/continue`: leave Stasis and go on in the dialplan (where it was, or `target`).
    /// `StasisEnd` follows at once.
    pub async fn continue_in_dialplan(
        &self,
        channel_id: &str,
        target: &DialplanTarget,
    ) -> Result<(), AriError> {
        let req = dialplan_params(self.request(&ops::CHANNELS_CONTINUE, &[channel_id]), target);
        self.send_empty(req).await
    }

    /// `POST /channels/{id}/move`: hand the channel to another Stasis application.
    pub async fn move_to_app(
        &self,
        channel_id: &str,
        app: &str,
        app_args: Option<&str>,
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_MOVE, &[channel_id])
            .param("app", app)
            .opt("appArgs", app_args);
        self.send_empty(req).await
    }

    /// `POST /channels/{id}/redirect`: redirect the channel to another endpoint.
    pub async fn redirect(&self, channel_id: &str, endpoint: &str) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_REDIRECT, &[channel_id])
            .param("endpoint", endpoint);
        self.send_empty(req).await
    }

    /// `GET /channels/{id}/variable`: a channel variable, `None` if it is not set. (Asterisk answers 404 both
    /// for an unset variable and a gone channel; only the latter is an error here.)
    pub async fn get_variable(
        &self,
        channel_id: &str,
        variable: &str,
    ) -> Result<Option<String>, AriError> {
        let req = self
            .request(&ops::CHANNELS_GET_VAR, &[channel_id])
            .param("variable", variable);
        match self.send_json::<Variable>(req).await {
            Ok(v) => Ok(Some(v.value)),
            Err(AriError::NotFound { message, .. })
                if message.to_ascii_lowercase().contains("variable") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// `POST /channels/{id}/variable`: set a channel variable (a `ChannelVarset` event follows).
    pub async fn set_variable(
        &self,
        channel_id: &str,
        variable: &str,
        value: &str,
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_SET_VAR, &[channel_id])
            .param("variable", variable)
            .param("value", value);
        self.send_empty(req).await
    }

    /// `POST /channels/{id}/moh`: start music on hold (default class when `None`).
    pub async fn start_moh(&self, channel_id: &str, class: Option<&str>) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_START_MOH, &[channel_id])
            .opt("mohClass", class);
        self.send_empty(req).await
    }

    /// `DELETE /channels/{id}/moh`.
    pub async fn stop_moh(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_STOP_MOH, &[channel_id]))
            .await
    }

    /// `POST /channels/{id}/hold`.
    pub async fn hold(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_HOLD, &[channel_id]))
            .await
    }

    /// `DELETE /channels/{id}/hold`.
    pub async fn unhold(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_UNHOLD, &[channel_id]))
            .await
    }

    /// `POST /channels/{id}/mute`.
    pub async fn mute(&self, channel_id: &str, direction: MuteDirection) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_MUTE, &[channel_id])
            .param("direction", direction.as_str());
        self.send_empty(req).await
    }

    /// `DELETE /channels/{id}/mute`.
    pub async fn unmute(&self, channel_id: &str, direction: MuteDirection) -> Result<(), AriError> {
        let req = self
            .request(&ops::CHANNELS_UNMUTE, &[channel_id])
            .param("direction", direction.as_str());
        self.send_empty(req).await
    }

    /// `POST /channels/{id}/silence`: play silence (keeps some phones from dropping a quiet line).
    pub async fn start_silence(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_START_SILENCE, &[channel_id]))
            .await
    }

    /// `DELETE /channels/{id}/silence`.
    pub async fn stop_silence(&self, channel_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::CHANNELS_STOP_SILENCE, &[channel_id]))
            .await
    }

    /// `POST /channels/{id}/snoop/{snoopId}`: a snoop channel with our id; register it first.
    pub async fn snoop(&self, channel_id: &str, snoop: &Snoop) -> Result<Channel, AriError> {
        let req = self
            .request(&ops::CHANNELS_SNOOP_WITH_ID, &[channel_id, &snoop.snoop_id])
            .param("spy", snoop.spy.as_str())
            .param("whisper", snoop.whisper.as_str())
            .param("app", &snoop.app)
            .opt("appArgs", snoop.app_args.as_ref());
        self.send_json(req).await
    }

    // ---- bridges ----

    /// `GET /bridges`.
    pub async fn list_bridges(&self) -> Result<Vec<Bridge>, AriError> {
        self.send_json(self.request(&ops::BRIDGES_LIST, &[])).await
    }

    /// `POST /bridges/{bridgeId}`: create a bridge with our id and features (e.g. `[Mixing]`).
    pub async fn create_bridge(
        &self,
        bridge_id: &str,
        types: &[BridgeType],
        name: Option<&str>,
    ) -> Result<Bridge, AriError> {
        let types = types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let req = self
            .request(&ops::BRIDGES_CREATE_WITH_ID, &[bridge_id])
            .opt("type", (!types.is_empty()).then_some(types))
            .opt("name", name);
        self.send_json(req).await
    }

    /// `GET /bridges/{id}`.
    pub async fn get_bridge(&self, bridge_id: &str) -> Result<Bridge, AriError> {
        self.send_json(self.request(&ops::BRIDGES_GET, &[bridge_id]))
            .await
    }

    /// `DELETE /bridges/{id}`.
    pub async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::BRIDGES_DESTROY, &[bridge_id]))
            .await
    }

    /// `POST /bridges/{id}/addChannel`: one `ChannelEnteredBridge` per channel follows.
    pub async fn add_channels(
        &self,
        bridge_id: &str,
        channel_ids: &[&str],
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::BRIDGES_ADD_CHANNEL, &[bridge_id])
            .param("channel", channel_ids.join(","));
        let req = require_nonempty(req, channel_ids.is_empty(), "channel");
        self.send_empty(req).await
    }

    /// `POST /bridges/{id}/removeChannel`.
    pub async fn remove_channels(
        &self,
        bridge_id: &str,
        channel_ids: &[&str],
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::BRIDGES_REMOVE_CHANNEL, &[bridge_id])
            .param("channel", channel_ids.join(","));
        let req = require_nonempty(req, channel_ids.is_empty(), "channel");
        self.send_empty(req).await
    }

    /// `POST /bridges/{id}/moh`.
    pub async fn start_bridge_moh(
        &self,
        bridge_id: &str,
        class: Option<&str>,
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::BRIDGES_START_MOH, &[bridge_id])
            .opt("mohClass", class);
        self.send_empty(req).await
    }

    /// `DELETE /bridges/{id}/moh`.
    pub async fn stop_bridge_moh(&self, bridge_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::BRIDGES_STOP_MOH, &[bridge_id]))
            .await
    }

    /// `POST /bridges/{id}/play/{playbackId}`: play to everyone in the bridge.
    pub async fn play_on_bridge(
        &self,
        bridge_id: &str,
        playback_id: &str,
        media: &[Media],
        lang: Option<&str>,
    ) -> Result<Playback, AriError> {
        let req = self
            .request(&ops::BRIDGES_PLAY_WITH_ID, &[bridge_id, playback_id])
            .param("media", join_media(media))
            .opt("lang", lang);
        let req = require_media(req, media);
        self.send_json(req).await
    }

    /// `POST /bridges/{id}/record`: record the bridge's mix (`target_uri` `bridge:<id>`).
    pub async fn record_bridge(
        &self,
        bridge_id: &str,
        params: &RecordParams,
    ) -> Result<LiveRecording, AriError> {
        let req = record_params(self.request(&ops::BRIDGES_RECORD, &[bridge_id]), params);
        self.send_json(req).await
    }

    // ---- playbacks ----

    /// `GET /playbacks/{id}`.
    pub async fn get_playback(&self, playback_id: &str) -> Result<Playback, AriError> {
        self.send_json(self.request(&ops::PLAYBACKS_GET, &[playback_id]))
            .await
    }

    /// `DELETE /playbacks/{id}`: stop a playback (`PlaybackFinished` follows, possibly before the reply).
    pub async fn stop_playback(&self, playback_id: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::PLAYBACKS_STOP, &[playback_id]))
            .await
    }

    /// `POST /playbacks/{id}/control`.
    pub async fn control_playback(
        &self,
        playback_id: &str,
        operation: PlaybackOperation,
    ) -> Result<(), AriError> {
        let req = self
            .request(&ops::PLAYBACKS_CONTROL, &[playback_id])
            .param("operation", operation.as_str());
        self.send_empty(req).await
    }

    // ---- recordings ----

    /// `GET /recordings/live/{name}`.
    pub async fn get_live_recording(&self, name: &str) -> Result<LiveRecording, AriError> {
        self.send_json(self.request(&ops::RECORDINGS_GET_LIVE, &[name]))
            .await
    }

    /// `POST /recordings/live/{name}/stop`: stop and keep.
    pub async fn stop_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_STOP, &[name]))
            .await
    }

    /// `DELETE /recordings/live/{name}`: stop and discard.
    pub async fn cancel_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_CANCEL, &[name]))
            .await
    }

    /// `POST /recordings/live/{name}/pause`.
    pub async fn pause_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_PAUSE, &[name]))
            .await
    }

    /// `DELETE /recordings/live/{name}/pause`.
    pub async fn unpause_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_UNPAUSE, &[name]))
            .await
    }

    /// `POST /recordings/live/{name}/mute`.
    pub async fn mute_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_MUTE, &[name]))
            .await
    }

    /// `DELETE /recordings/live/{name}/mute`.
    pub async fn unmute_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_UNMUTE, &[name]))
            .await
    }

    /// `GET /recordings/stored`.
    pub async fn list_stored_recordings(&self) -> Result<Vec<StoredRecording>, AriError> {
        self.send_json(self.request(&ops::RECORDINGS_LIST_STORED, &[]))
            .await
    }

    /// `GET /recordings/stored/{name}`.
    pub async fn get_stored_recording(&self, name: &str) -> Result<StoredRecording, AriError> {
        self.send_json(self.request(&ops::RECORDINGS_GET_STORED, &[name]))
            .await
    }

    /// `GET /recordings/stored/{name}/file`: the recording's bytes (e.g. a WAV file).
    pub async fn stored_recording_file(&self, name: &str) -> Result<Bytes, AriError> {
        self.send(self.request(&ops::RECORDINGS_GET_STORED_FILE, &[name]))
            .await
    }

    /// `POST /recordings/stored/{name}/copy`.
    pub async fn copy_stored_recording(
        &self,
        name: &str,
        destination: &str,
    ) -> Result<StoredRecording, AriError> {
        let req = self
            .request(&ops::RECORDINGS_COPY_STORED, &[name])
            .param("destinationRecordingName", destination);
        self.send_json(req).await
    }

    /// `DELETE /recordings/stored/{name}`.
    pub async fn delete_stored_recording(&self, name: &str) -> Result<(), AriError> {
        self.send_empty(self.request(&ops::RECORDINGS_DELETE_STORED, &[name]))
            .await
    }

    // ---- endpoints ----

    /// `GET /endpoints`.
    pub async fn list_endpoints(&self) -> Result<Vec<Endpoint>, AriError> {
        self.send_json(self.request(&ops::ENDPOINTS_LIST, &[]))
            .await
    }

    /// `GET /endpoints/{tech}`.
    pub async fn list_endpoints_by_tech(&self, tech: &str) -> Result<Vec<Endpoint>, AriError> {
        self.send_json(self.request(&ops::ENDPOINTS_LIST_BY_TECH, &[tech]))
            .await
    }

    /// `GET /endpoints/{tech}/{resource}`.
    pub async fn get_endpoint(&self, tech: &str, resource: &str) -> Result<Endpoint, AriError> {
        self.send_json(self.request(&ops::ENDPOINTS_GET, &[tech, resource]))
            .await
    }

    // ---- applications ----

    /// `GET /applications`.
    pub async fn list_applications(&self) -> Result<Vec<Application>, AriError> {
        self.send_json(self.request(&ops::APPLICATIONS_LIST, &[]))
            .await
    }

    /// `GET /applications/{name}`: what the app owns (its channels, for reconciliation).
    pub async fn get_application(&self, name: &str) -> Result<Application, AriError> {
        self.send_json(self.request(&ops::APPLICATIONS_GET, &[name]))
            .await
    }

    /// `POST /applications/{name}/subscription`: subscribe to e.g. `endpoint:PJSIP/agent-101`,
    /// `deviceState:…`, `channel:…`, `bridge:…`.
    pub async fn subscribe(
        &self,
        app: &str,
        event_sources: &[&str],
    ) -> Result<Application, AriError> {
        let req = self
            .request(&ops::APPLICATIONS_SUBSCRIBE, &[app])
            .param("eventSource", event_sources.join(","));
        let req = require_nonempty(req, event_sources.is_empty(), "eventSource");
        self.send_json(req).await
    }

    /// `DELETE /applications/{name}/subscription`.
    pub async fn unsubscribe(
        &self,
        app: &str,
        event_sources: &[&str],
    ) -> Result<Application, AriError> {
        let req = self
            .request(&ops::APPLICATIONS_UNSUBSCRIBE, &[app])
            .param("eventSource", event_sources.join(","));
        let req = require_nonempty(req, event_sources.is_empty(), "eventSource");
        self.send_json(req).await
    }

    // ---- asterisk, sounds ----

    /// `GET /asterisk/info`.
    pub async fn asterisk_info(&self) -> Result<AsteriskInfo, AriError> {
        self.send_json(self.request(&ops::ASTERISK_INFO, &[])).await
    }

    /// `GET /asterisk/ping`.
    pub async fn asterisk_ping(&self) -> Result<AsteriskPing, AriError> {
        self.send_json(self.request(&ops::ASTERISK_PING, &[])).await
    }

    /// `GET /sounds`, optionally only those in a language/format.
    pub async fn list_sounds(
        &self,
        lang: Option<&str>,
        format: Option<&str>,
    ) -> Result<Vec<Sound>, AriError> {
        let req = self
            .request(&ops::SOUNDS_LIST, &[])
            .opt("lang", lang)
            .opt("format", format);
        self.send_json(req).await
    }

    /// `GET /sounds/{id}`.
    pub async fn get_sound(&self, sound_id: &str) -> Result<Sound, AriError> {
        self.send_json(self.request(&ops::SOUNDS_GET, &[sound_id]))
            .await
    }
}

/// Like `Display for reqwest::Error`, plus its sources ("error sending request" alone says nothing).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

fn join_media(media: &[Media]) -> String {
    let mut out = String::new();
    for (i, m) in media.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{m}");
    }
    out
}

fn require_media(req: Request, media: &[Media]) -> Request {
    require_nonempty(req, media.is_empty(), "media")
}

fn require_nonempty(mut req: Request, empty: bool, what: &str) -> Request {
    if empty {
        req.error = Some(format!("at least one {what} is required"));
    }
    req
}

fn dialplan_params(req: Request, target: &DialplanTarget) -> Request {
    req.opt("context", target.context.as_ref())
        .opt("extension", target.extension.as_ref())
        .opt("priority", target.priority)
        .opt("label", target.label.as_ref())
}

fn record_params(req: Request, params: &RecordParams) -> Request {
    req.param("name", &params.name)
        .param("format", &params.format)
        .opt("maxDurationSeconds", params.max_duration_secs)
        .opt("maxSilenceSeconds", params.max_silence_secs)
        .opt("ifExists", params.if_exists.map(|v| v.as_str()))
        .opt("beep", params.beep)
        .opt("terminateOn", params.terminate_on.map(|v| v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::new(ClientConfig::new(
            "http://127.0.0.1:1/ari/",
            Credentials::new("u", "p"),
        ))
        .unwrap()
    }

    #[test]
    fn builds_urls_from_templates() {
        let c = client();
        let r = c.request(&ops::CHANNELS_PLAY_WITH_ID, &["caller-1;2", "pb 1/x"]);
        assert!(r.error.is_none());
        assert_eq!(
            r.url,
            "http://127.0.0.1:1/ari/channels/caller-1;2/play/pb%201%2Fx"
        );
        let r = c.request(&ops::CHANNELS_GET, &[]);
        assert!(r.error.is_some());
        let r = c.request(&ops::CHANNELS_GET, &[""]);
        assert!(r.error.is_some());
    }

    #[test]
    fn refuses_params_not_in_table() {
        let c = client();
        let r = c.request(&ops::CHANNELS_ANSWER, &["x"]).param("bogus", 1);
        assert!(r.error.is_some());
        let r = c
            .request(&ops::CHANNELS_RECORD, &["x"])
            .param("terminateOn", "#")
            .param("ifExists", "fail");
        assert!(r.error.is_none());
        let r = c
            .request(&ops::CHANNELS_RECORD, &["x"])
            .param("ifExists", "maybe");
        assert!(r.error.is_some());
    }

    #[test]
    fn rejects_bad_base_url() {
        let e = Client::new(ClientConfig::new(
            "127.0.0.1:8088",
            Credentials::new("u", "p"),
        ));
        assert!(matches!(e, Err(AriError::InvalidRequest { .. })));
    }

    #[test]
    fn debug_hides_password() {
        let c = Client::new(ClientConfig::new(
            "http://127.0.0.1:1/ari",
            Credentials::new("u", "hunter2-secret"),
        ))
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2-secret"));
    }

    #[test]
    fn joins_media() {
        let m = [Media::Sound("a".into()), Media::Digits("12".into())];
        assert_eq!(join_media(&m), "sound:a,digits:12");
    }
}
