//! A scripted caller for driving `ivr::Call` without any runtime: it answers the machine's
//! actions the way the engine would and keeps a readable transcript of them.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate};
use ivr::{
    Action, Call, CallContext, Input, Media, Script, TicketStatus, TicketStatusView, Validators,
};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Stand-in for the ticket crate's check digit: ten digits, first not 0.
pub fn ten_digits(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

pub fn validators() -> Validators {
    Validators::new().with("complaint_number", ten_digits)
}

/// The shipped 1100 script, without audio checks.
pub fn script_1100() -> Arc<Script> {
    let path = repo().join("ivr-scripts/1100.toml");
    let text = std::fs::read_to_string(&path).expect("ivr-scripts/1100.toml is readable");
    Arc::new(Script::from_toml(path, &text, &validators()).unwrap_or_else(|r| panic!("{r}")))
}

pub fn script(text: &str) -> Arc<Script> {
    Arc::new(Script::from_toml("test.toml", text, &validators()).unwrap_or_else(|r| panic!("{r}")))
}

/// Drives one call and records what it did.
pub struct Caller {
    pub call: Call,
    pub now: Instant,
    pub log: Vec<String>,
    playing: Option<u32>,
    recording: Option<String>,
}

impl Caller {
    /// Starts a call at `started_at` (RFC 3339, e.g. "2026-12-01T10:00:00+05:30").
    pub fn start(script: Arc<Script>, started_at: &str) -> Caller {
        let ctx = CallContext {
            call_id: "c1".into(),
            caller: "9800000001".into(),
            caller_raw: None,
            started_at: DateTime::parse_from_rfc3339(started_at)
                .expect("scenario start is RFC 3339"),
        };
        let now = Instant::now();
        let (call, actions) = Call::start(script, ctx, now);
        let mut caller = Caller {
            call,
            now,
            log: Vec::new(),
            playing: None,
            recording: None,
        };
        caller.apply(actions);
        caller
    }

    /// The same call picked up by another engine from its snapshot (the first one died).
    pub fn resumed(&self) -> Caller {
        let snapshot = self
            .call
            .snapshot()
            .expect("a call in progress has a snapshot");
        // Through JSON, as the engine keeps it.
        let json = serde_json::to_string(&snapshot).expect("a snapshot serialises");
        let snapshot: ivr::Snapshot = serde_json::from_str(&json).expect("and reads back");
        let ctx = CallContext {
            call_id: "c1".into(),
            caller: "9800000001".into(),
            caller_raw: None,
            started_at: DateTime::parse_from_rfc3339(OPEN).expect("RFC 3339"),
        };
        let now = self.now + Duration::from_secs(5);
        let (call, actions) =
            Call::resume(Arc::clone(self.call.script()), ctx, &snapshot, now).expect("resumable");
        let recording = match &snapshot.phase {
            ivr::SnapshotPhase::Recording { name } => Some(name.clone()),
            _ => None,
        };
        let mut caller = Caller {
            call,
            now,
            log: Vec::new(),
            playing: None,
            recording,
        };
        caller.apply(actions);
        caller
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            let line = match action {
                Action::Answer => "answer".to_owned(),
                Action::Entered { .. } => continue,
                Action::Play {
                    tag,
                    media,
                    language,
                } => {
                    self.playing = Some(tag);
                    let items: Vec<String> = media
                        .iter()
                        .map(|m| match m {
                            Media::Prompt(p) => p.clone(),
                            Media::Digits(d) => format!("digits:{d}"),
                            Media::Recording(r) => format!("recording:{r}"),
                        })
                        .collect();
                    format!("play[{language}] {}", items.join(" "))
                }
                Action::StopPlayback { tag } => {
                    assert_eq!(
                        self.playing,
                        Some(tag),
                        "stop of a playback not in progress"
                    );
                    self.playing = None;
                    "stop".to_owned()
                }
                Action::Record {
                    name,
                    beep,
                    terminate_on,
                    ..
                } => {
                    self.recording = Some(name.clone());
                    format!("record {name} beep={beep} stop={terminate_on:?}")
                }
                Action::StopRecording { name } => format!("stop-recording {name}"),
                Action::CreateTicket(d) => format!(
                    "ticket dept={} lang={} callback={} recording={} hung_up={}",
                    d.department,
                    d.language,
                    d.callback_requested,
                    d.recording.map_or("none".to_owned(), |r| r.name),
                    d.caller_hung_up
                ),
                Action::LookupTicket { number } => format!("lookup {number}"),
                Action::SubmitFeedback {
                    number,
                    satisfied,
                    reason,
                    caller: _,
                    check_digits,
                } => match check_digits {
                    None => format!("feedback {number} satisfied={satisfied} reason={reason:?}"),
                    Some(digits) => format!(
                        "feedback {number} satisfied={satisfied} reason={reason:?} check={digits}"
                    ),
                },
                Action::Enqueue {
                    queue,
                    language,
                    department,
                    complaints,
                } => format!(
                    "enqueue {queue} lang={language} dept={} complaints=[{}]",
                    department.as_deref().unwrap_or("-"),
                    complaints.join(",")
                ),
                Action::Transfer { context, extension } => {
                    format!("transfer {context}/{extension}")
                }
                Action::Hangup { reason } => format!("hangup ({reason})"),
            };
            self.log.push(line);
        }
    }

    pub fn send(&mut self, input: Input) {
        let actions = self.call.handle(input, self.now);
        self.apply(actions);
    }

    /// Lets the current prompt play to its end.
    pub fn listen(&mut self) {
        let tag = self.playing.take().expect("listen: nothing is playing");
        self.now += Duration::from_secs(3);
        self.send(Input::PlaybackFinished { tag });
    }

    pub fn press(&mut self, keys: &str) {
        for key in keys.chars() {
            self.now += Duration::from_millis(300);
            self.send(Input::Dtmf(key));
        }
    }

    /// Waits until the machine's deadline and lets it fire.
    pub fn wait(&mut self) {
        let deadline = self.call.deadline().expect("wait: no deadline set");
        self.now = deadline;
        self.send(Input::Timeout);
    }

    fn recording_name(&mut self) -> String {
        self.recording.take().expect("no recording in progress")
    }

    pub fn speak(&mut self) {
        let name = self.recording_name();
        self.now += Duration::from_secs(20);
        self.send(Input::RecordingFinished {
            name,
            duration_ms: 20_000,
            has_speech: true,
        });
    }

    pub fn stay_silent(&mut self) {
        let name = self.recording_name();
        self.now += Duration::from_secs(6);
        self.send(Input::RecordingFinished {
            name,
            duration_ms: 0,
            has_speech: false,
        });
    }

    /// Runs one scenario token (see `flows_1100.rs`).
    pub fn act(&mut self, token: &str) {
        let (verb, arg) = token.split_once(':').unwrap_or((token, ""));
        match verb {
            "listen" => self.listen(),
            "press" => self.press(arg),
            "wait" => self.wait(),
            "speak" => self.speak(),
            "silent" => self.stay_silent(),
            "rec-failed" => {
                let name = self.recording_name();
                self.send(Input::RecordingFailed { name });
            }
            "ticket" => self.send(Input::TicketCreated {
                number: arg.to_owned(),
            }),
            "ticket-failed" => self.send(Input::TicketFailed),
            "found" => {
                let mut parts = arg.split(',');
                let status = match parts.next().expect("found: needs a status") {
                    "registered" => TicketStatus::Registered,
                    "assigned" => TicketStatus::Assigned,
                    "in_progress" => TicketStatus::InProgress,
                    "resolved" => TicketStatus::Resolved,
                    "closed_satisfied" => TicketStatus::ClosedSatisfied,
                    "closed_unsatisfied" => TicketStatus::ClosedUnsatisfied,
                    "reopened" => TicketStatus::Reopened,
                    "closed_unverified" => TicketStatus::ClosedUnverified,
                    other => panic!("status {other}"),
                };
                let department = parts.next().expect("found: needs a department").to_owned();
                let due = parts.next().map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("found: due date is YYYY-MM-DD")
                });
                let view = TicketStatusView {
                    number: "1234567890".into(),
                    status,
                    department,
                    due,
                };
                self.send(Input::LookupResult(Some(view)));
            }
            "not-found" => self.send(Input::LookupResult(None)),
            "lookup-failed" => self.send(Input::LookupFailed),
            "feedback-ok" => self.send(Input::FeedbackStored),
            "feedback-failed" => self.send(Input::FeedbackFailed),
            "feedback-refused" => self.send(Input::FeedbackRefused),
            "hangup" => self.send(Input::Hangup),
            "overflow" => self.send(Input::QueueOverflow),
            other => panic!("unknown scenario token {other}"),
        }
    }

    /// A recording has been asked for and has not ended yet.
    pub fn recording_in_progress(&self) -> bool {
        self.recording.is_some()
    }

    /// The caller hangs up now.
    pub fn hangup_now(&mut self) {
        self.send(Input::Hangup);
    }

    pub fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }
}

/// Office open: a Tuesday morning in Shimla.
pub const OPEN: &str = "2026-12-01T10:00:00+05:30";
/// Office closed: the same Tuesday at night.
pub const NIGHT: &str = "2026-12-01T21:30:00+05:30";
/// A gazetted holiday, during what would be office hours.
pub const HOLIDAY: &str = "2026-12-25T11:00:00+05:30";
