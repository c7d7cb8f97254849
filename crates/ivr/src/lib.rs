//! IVR scripts and the IVR state machine: plain code with no I/O (inputs in, actions out).
//!
//! - [`script`]: the TOML script format, parsed into raw structs and turned into a validated
//!   [`Script`]; [`ScriptSet`] loads a directory of scripts (each an `Arc<Script>`, so a call keeps
//!   the version it started with across a reload).
//! - [`check`]: every problem in a script directory as `file:line:col: error|warning: message`.
//! - [`call`]: the per-call state machine [`Call`]: [`Input`] in, [`Action`]s out, `now` passed in.
//! - [`say`]: numbers and dates composed from our own prompts (Hindi does not use Asterisk's say.c).
//! - [`audio`]: WAV format checks and the speech/silence analysis of a recording.
//! - [`prompts`]: the prompt manifest (`audio/prompts.toml`), WAV paths and per-language coverage.
//!
//! Driving a call (what the engine's per-call task does, minus the I/O):
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use ivr::{Action, Call, CallContext, Input, Media, Script, Validators};
//!
//! let script = Script::from_toml("hello.toml", r#"
//!     [script]
//!     languages = ["hi"]
//!     start = "hello"
//!     [steps.hello]
//!     type = "hangup"
//!     prompts = ["goodbye"]
//! "#, &Validators::new()).expect("a valid script");
//! let ctx = CallContext {
//!     call_id: "1795921121.47".into(),
//!     caller: "+919800000001".into(),
//!     caller_raw: Some("09800000001".into()),
//!     started_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+05:30").unwrap(),
//! };
//! let now = Instant::now();
//! let (mut call, actions) = Call::start(Arc::new(script), ctx, now);
//! assert_eq!(actions[0], Action::Answer);
//! let Some(Action::Play { tag, media, language }) = actions.last() else { panic!() };
//! assert_eq!((media.as_slice(), language.as_str()), ([Media::Prompt("goodbye".into())].as_slice(), "hi"));
//! // The engine plays `sound:helpline/goodbye` with lang=hi, then reports the end:
//! let actions = call.handle(Input::PlaybackFinished { tag: *tag }, now);
//! assert_eq!(actions, [Action::Hangup { reason: "ivr finished".into() }]);
//! assert!(call.is_finished());
//! ```

pub mod audio;
pub mod call;
pub mod check;
pub mod prompts;
pub mod say;
pub mod script;

pub use audio::{RecordingAnalysis, analyse_wav};
pub use call::{
    Action, Call, CallContext, Input, Media, ProgressMark, RecordedAudio, ResumeError, Snapshot,
    SnapshotPhase, SnapshotRecording, TicketDraft, TicketStatus, TicketStatusView,
};
pub use check::{CheckReport, Diagnostic, Severity, check_dir};
pub use script::{Script, ScriptSet, ValidatorFn, Validators};
