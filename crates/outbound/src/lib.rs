//! The outbound dialer's decisions, without I/O: when a call to a citizen (or an officer) may be
//! placed, on which Asterisk, how often it is tried again and what happens after the last try.
//!
//! - [`window`]: the calling window in the helpline's time zone (hours, week days, holidays).
//! - [`retry`]: how many tries, how far apart, and the [`AfterLastTry`] policy.
//! - [`pacing`]: most concurrent outbound calls, calls per second, a cap per Asterisk, and the
//!   inbound load above which no new outbound call starts (inbound always wins).
//! - [`dialer`]: the state machine [`Dialer`]: [`Input`] in, [`Action`]s out, `now` passed in,
//!   woken at [`Dialer::next_deadline`].
//!
//! The dialer does not know what a call is for: a [`Job`] has a kind (`confirmation`, an officer's
//! reminder …), a number, the IVR script to run, its language and variables. Whoever owns the jobs
//! (the ticket store's confirmation rows) keeps them durable; the dialer decides and says so.
//!
//! ```
//! use chrono::{DateTime, NaiveTime, Utc};
//! use outbound::{
//!     Action, AsteriskId, AttemptResult, CallingWindow, Dialer, DialerConfig, Input, Job, JobId,
//!     JobKind, Pacing, RetryPolicy,
//! };
//!
//! let window = CallingWindow::new(
//!     chrono_tz::Asia::Kolkata,
//!     NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
//!     NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
//! )
//! .unwrap();
//! let config = DialerConfig::new(window, Pacing::default(), RetryPolicy::default());
//! let mut dialer = Dialer::new(config, [AsteriskId::new("pbx-1")]);
//! let now: DateTime<Utc> = "2026-12-04T05:00:00Z".parse().unwrap(); // 10:30 IST
//! let job = Job::new(JobId::new("confirm-1"), JobKind::new("confirmation"), "+919800000001", now);
//! let actions = dialer.handle(Input::Submit(job), now);
//! assert!(matches!(&actions[..], [Action::Dial { attempt: 1, .. }]));
//! let actions = dialer.handle(
//!     Input::Finished { id: JobId::new("confirm-1"), result: AttemptResult::Reached },
//!     now,
//! );
//! assert!(matches!(&actions[..], [Action::Done { attempts: 1, .. }]));
//! ```

pub mod dialer;
pub mod pacing;
pub mod retry;
pub mod window;

pub use dialer::{
    Action, AsteriskId, AttemptResult, Cause, Dialer, DialerConfig, Input, Job, JobId, JobKind,
};
pub use pacing::{Pacing, PacingError};
pub use retry::{AfterLastTry, RetryError, RetryPolicy};
pub use window::{CallingWindow, WindowError};
