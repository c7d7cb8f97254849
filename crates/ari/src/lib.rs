//! The Asterisk REST Interface (ARI): the only place in `helpline` that knows ARI URLs and JSON field names.
//!
//! - [`Client`]: REST calls with a timeout each and typed errors ([`AriError`]).
//! - [`Event`] and [`parse_event`]: the typed events of the WebSocket.
//! - [`Connection`]: the event WebSocket with ping, silence detection, reconnect with backoff, and a
//!   reconciliation after every (re)connect.
//! - [`Router`]: feeds each call's bounded [`Mailbox`] in wire order and never waits.
//! - [`ops::OPERATIONS`]: the table of every REST operation the client makes, checked against the spec.

pub mod bench;
mod client;
mod connection;
mod error;
pub mod event;
pub mod model;
pub mod ops;
pub mod params;
mod router;
mod secret;
pub mod wire;

pub use client::{Client, ClientConfig, DEFAULT_TIMEOUT, RequestObserver, RequestOutcome};
pub use connection::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionState, ConnectionStats,
    ConnectionStatsSnapshot, ReconciledChannel, Reconciliation, handle_frame, reconcile,
};
pub use error::AriError;
pub use event::{Event, EventParseError, RouteKey, UnknownEvent, parse_event};
pub use model::{
    Application, AsteriskInfo, Bridge, CallerId, Channel, ChannelState, DialplanCep, Endpoint,
    EndpointState, LiveRecording, Playback, PlaybackState, RecordingState, Sound, StoredRecording,
    Target, Variable,
};
pub use params::{
    BridgeType, DialplanTarget, HangupReason, IfExists, Media, MuteDirection, Originate,
    PlaybackOperation, RecordParams, SendDtmf, Snoop, SnoopDirection, TerminateOn,
};
pub use router::{
    ControlEvent, Mailbox, NewCall, RouteError, Router, RouterConfig, RouterOutputs, RouterStats,
    RouterStatsSnapshot,
};
pub use secret::{Credentials, SECRET_SAFE_LOG_DIRECTIVES, Secret};
