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

pub mod audio;
pub mod call;
pub mod check;
pub mod prompts;
pub mod say;
pub mod script;

pub use audio::{RecordingAnalysis, analyse_wav};
pub use call::{
    Action, Call, CallContext, Input, Media, RecordedAudio, TicketDraft, TicketStatus,
    TicketStatusView,
};
pub use check::{CheckReport, Diagnostic, Severity, check_dir};
pub use script::{Script, ScriptSet, ValidatorFn, Validators};
