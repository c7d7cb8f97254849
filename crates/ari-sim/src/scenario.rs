//! Simulated callers: the scenario description (serde, TOML or JSON) shared by tests, the demo and the load
//! generator — an IVR's caller, one who waits in a queue and abandons or takes the call-back offer, a phone
//! answering a call-back —, and the result a scenario run yields. The simulator's model executes the
//! steps; this module only defines and validates them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::config::EndpointBehaviour;

/// One simulated citizen's call: who calls, where, and what they do.
///
/// ```toml
/// caller = "9816000001"
/// [[steps]]
/// action = "wait_prompt"
/// sound = "helpline/welcome"
/// [[steps]]
/// action = "press"
/// digits = "1"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A label for reports.
    #[serde(default)]
    pub name: String,
    /// The caller's number (caller id).
    pub caller: String,
    /// The caller's display name.
    #[serde(default)]
    pub caller_name: String,
    /// The number dialled.
    #[serde(default = "default_extension")]
    pub extension: String,
    /// The dialplan context the call enters.
    #[serde(default = "default_context")]
    pub context: String,
    /// The channel's language (`None`: the simulator's default).
    #[serde(default)]
    pub language: Option<String>,
    /// What the caller does, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

fn default_extension() -> String {
    "1100".to_owned()
}

fn default_context() -> String {
    "from-citizens".to_owned()
}

fn default_wait_timeout() -> f64 {
    30.0
}

fn default_gap_ms() -> u64 {
    250
}

fn default_dtmf_ms() -> u64 {
    120
}

fn default_queue_timeout() -> f64 {
    300.0
}

fn default_callback_timeout() -> f64 {
    600.0
}

/// One thing a simulated caller does. Durations are in simulated seconds (scaled by the speed factor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Wait until a prompt starts playing to the caller that has not been waited for yet (optionally one
    /// whose media is `sound:<sound>`, or whose media URI is exactly `sound` when it contains a `:`).
    WaitPrompt {
        #[serde(default)]
        sound: Option<String>,
        #[serde(default = "default_wait_timeout")]
        timeout_seconds: f64,
    },
    /// Wait until nothing plays to the caller any more.
    WaitPromptEnd {
        #[serde(default = "default_wait_timeout")]
        timeout_seconds: f64,
    },
    /// Press keys (RFC 4733 digits), `gap_ms` apart.
    Press {
        digits: String,
        #[serde(default = "default_gap_ms")]
        gap_ms: u64,
        #[serde(default = "default_dtmf_ms")]
        duration_ms: u64,
    },
    /// Talk for this long (generated speech-like audio).
    Speak { seconds: f64 },
    /// Say what is in this WAV file (8 kHz mono 16-bit is used as is; other rates are resampled crudely).
    SpeakWav { path: PathBuf },
    /// Say nothing for this long.
    Silence { seconds: f64 },
    /// Do nothing for this long.
    Wait { seconds: f64 },
    /// Hang up.
    Hangup,
    /// Wait until the other side hangs up.
    WaitHangup {
        #[serde(default = "default_wait_timeout")]
        timeout_seconds: f64,
    },
    /// From here on, behave like a person when the IVR asks again: a prompt that an earlier `wait_prompt`
    /// step waited for, starting again while the caller waits for a later one (or for the hangup, or
    /// heard while they were busy), takes the caller back to the step after that `wait_prompt` (they
    /// answer the menu again, say their complaint again). Takes no time.
    AnswerReplays,
    /// Wait in the queue until an agent is on the line: the caller's channel in a mixing bridge with
    /// another party (a snoop does not count). On timeout, with `abandon` the caller hangs up — an
    /// abandoned call (`CallResult::abandoned`), not a failure, and the steps after it are not done
    /// (unless an `await_callback` follows) —, without it the step fails like any wait.
    WaitAgent {
        #[serde(default = "default_queue_timeout")]
        timeout_seconds: f64,
        #[serde(default)]
        abandon: bool,
    },
    /// From here on, the first time this prompt (as `wait_prompt` matches it) has played to its end,
    /// press `press`; then, with `hangup_after_seconds`, hang up that long after the last key (the
    /// call-back offer: "press 1 and we will call you back"). Takes no time: the steps go on meanwhile.
    OnPrompt {
        sound: String,
        press: String,
        #[serde(default)]
        hangup_after_seconds: Option<f64>,
        #[serde(default = "default_gap_ms")]
        gap_ms: u64,
        #[serde(default = "default_dtmf_ms")]
        duration_ms: u64,
    },
    /// Off the line (the caller hangs up first if still on it), wait for the call-back: an originate to
    /// a dial string naming the caller's number through a trunk (`PJSIP/<number>@telecom-trunk`; numbers
    /// compared by their last ten digits). The n-th attempt is answered as `answers[n]` says (the last
    /// repeats; none given: answered after 1 s): `answer` after N s — the steps after this one then run
    /// on that call —, `ring_out`, `busy`, `no_response` or `unreachable`. A call whose channel ends
    /// before this step (either side hanging up) comes straight here.
    AwaitCallback {
        #[serde(default = "default_callback_timeout")]
        timeout_seconds: f64,
        #[serde(default)]
        answers: Vec<EndpointBehaviour>,
    },
}

impl Step {
    /// A short name for failure reasons.
    pub fn label(&self) -> String {
        match self {
            Step::WaitPrompt { sound: Some(s), .. } => format!("wait_prompt {s}"),
            Step::WaitPrompt { sound: None, .. } => "wait_prompt".to_owned(),
            Step::WaitPromptEnd { .. } => "wait_prompt_end".to_owned(),
            Step::Press { digits, .. } => format!("press {digits}"),
            Step::Speak { seconds } => format!("speak {seconds}s"),
            Step::SpeakWav { path } => format!("speak_wav {}", path.display()),
            Step::Silence { seconds } => format!("silence {seconds}s"),
            Step::Wait { seconds } => format!("wait {seconds}s"),
            Step::Hangup => "hangup".to_owned(),
            Step::WaitHangup { .. } => "wait_hangup".to_owned(),
            Step::AnswerReplays => "answer_replays".to_owned(),
            Step::WaitAgent { .. } => "wait_agent".to_owned(),
            Step::OnPrompt { sound, press, .. } => format!("on_prompt {sound} press {press}"),
            Step::AwaitCallback { .. } => "await_callback".to_owned(),
        }
    }
}

impl Scenario {
    /// A scenario with just a caller number and no steps.
    pub fn new(caller: impl Into<String>) -> Scenario {
        Scenario {
            name: String::new(),
            caller: caller.into(),
            caller_name: String::new(),
            extension: default_extension(),
            context: default_context(),
            language: None,
            steps: Vec::new(),
        }
    }

    /// Adds a step (builder style).
    pub fn step(mut self, step: Step) -> Scenario {
        self.steps.push(step);
        self
    }

    /// Reads a scenario from TOML text.
    pub fn from_toml(text: &str) -> Result<Scenario, SimError> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| SimError::Scenario(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, SimError> {
        let scenario: Scenario =
            serde_json::from_str(text).map_err(|e| SimError::Scenario(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads a scenario file; `.json` is JSON, anything else TOML.
    pub fn from_file(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ScenarioFile {
            path: path.to_owned(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            Scenario::from_json(&text)
        } else {
            Scenario::from_toml(&text)
        }
    }

    /// Checks every step; reports all problems at once.
    pub fn validate(&self) -> Result<(), SimError> {
        let mut problems = Vec::new();
        if self.caller.is_empty() {
            problems.push("caller must not be empty".to_owned());
        }
        for (index, step) in self.steps.iter().enumerate() {
            let n = index + 1;
            let bad_seconds = |s: f64| !(s.is_finite() && s >= 0.0);
            match step {
                Step::WaitPrompt {
                    timeout_seconds, ..
                }
                | Step::WaitPromptEnd { timeout_seconds }
                | Step::WaitHangup { timeout_seconds }
                | Step::WaitAgent {
                    timeout_seconds, ..
                } => {
                    if bad_seconds(*timeout_seconds) {
                        problems.push(format!("step {n}: timeout_seconds must be >= 0"));
                    }
                }
                Step::Press { digits, .. } => digit_problems(n, digits, &mut problems),
                Step::OnPrompt {
                    sound,
                    press,
                    hangup_after_seconds,
                    ..
                } => {
                    if sound.is_empty() {
                        problems.push(format!("step {n}: on_prompt needs a sound"));
                    }
                    digit_problems(n, press, &mut problems);
                    if hangup_after_seconds.is_some_and(bad_seconds) {
                        problems.push(format!("step {n}: hangup_after_seconds must be >= 0"));
                    }
                }
                Step::AwaitCallback {
                    timeout_seconds,
                    answers,
                } => {
                    if bad_seconds(*timeout_seconds) {
                        problems.push(format!("step {n}: timeout_seconds must be >= 0"));
                    }
                    for answer in answers {
                        problems.extend(answer.problems(&format!("step {n}")));
                    }
                }
                Step::Speak { seconds } | Step::Silence { seconds } | Step::Wait { seconds } => {
                    if bad_seconds(*seconds) {
                        problems.push(format!("step {n}: seconds must be >= 0"));
                    }
                }
                Step::SpeakWav { path } => {
                    if path.as_os_str().is_empty() {
                        problems.push(format!("step {n}: speak_wav needs a path"));
                    }
                }
                Step::Hangup | Step::AnswerReplays => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SimError::Scenario(problems.join("; ")))
        }
    }
}

/// Keys to press: at least one, each on a phone's keypad.
fn digit_problems(n: usize, digits: &str, problems: &mut Vec<String>) {
    if digits.is_empty() {
        problems.push(format!("step {n}: press needs digits"));
    }
    if let Some(bad) = digits.chars().find(|c| !is_dtmf_digit(*c)) {
        problems.push(format!("step {n}: '{bad}' is not a DTMF digit"));
    }
}

/// Whether `c` is a key on a phone's keypad (incl. A–D).
pub(crate) fn is_dtmf_digit(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A' | 'B' | 'C' | 'D')
}

/// A media played to the simulated caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeardMedia {
    /// The media URI as the app asked for it (`sound:helpline/welcome`, `digits:123` …).
    pub media_uri: String,
    /// The playback's language.
    pub language: String,
    /// The playback id.
    pub playback_id: String,
    /// When it started, simulated milliseconds since the call began.
    pub started_ms: u64,
    /// When it finished (`None`: still playing when the call ended).
    pub finished_ms: Option<u64>,
    /// `done`, `failed`, or `playing` when the call ended first.
    pub state: String,
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HungUpBy {
    /// The simulated caller (a `hangup` step, or giving up after a failed wait).
    Caller,
    /// The network side: the ARI app, the dialplan, or the simulator restarting.
    Network,
}

/// How a scenario run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CallOutcome {
    /// Every step ran.
    Completed,
    /// A step could not run; the reason says which and why.
    Failed { reason: String },
}

/// What happened on one simulated call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    pub call_id: u64,
    pub scenario: String,
    pub channel_id: String,
    pub caller: String,
    /// Every media played to the caller, in order.
    pub heard: Vec<HeardMedia>,
    /// Digits the caller sent, in order.
    pub digits_sent: String,
    /// When each of the caller's keys reached the application (its `ChannelDtmfReceived`, sent as
    /// the key is released), simulated milliseconds since the call began.
    #[serde(default)]
    pub keys_at: Vec<(char, u64)>,
    /// Names of recordings made of the caller's channel.
    pub recordings: Vec<String>,
    /// Who hung up.
    pub hung_up_by: HungUpBy,
    /// Where the call was transferred (`POST /channels/{id}/redirect`), if it was.
    pub transferred_to: Option<String>,
    /// The hangup cause (Q.850) and its text.
    pub cause: u32,
    pub cause_txt: String,
    /// When the call was answered, simulated ms since it began (`None`: never answered).
    pub answered_ms: Option<u64>,
    /// How long the call lasted, simulated ms.
    pub duration_ms: u64,
    /// Whether every step ran.
    pub outcome: CallOutcome,
    /// The longest stretch of dead air, simulated ms: time in the call (answered, not yet hung up,
    /// transferred or sent to another context) with nothing playing to the caller, their channel not
    /// being recorded, the caller not pressing keys, not on the line with another party (an agent) and
    /// not off the line waiting for a call-back. Measured only; the simulator acts the same.
    #[serde(default)]
    pub longest_silence_ms: u64,
    /// When that stretch began, simulated ms since the call began (`None`: no dead air at all).
    #[serde(default)]
    pub longest_silence_start_ms: Option<u64>,
    /// Every stretch of dead air of at least [`REPORTED_SILENCE_MS`], in time order (at most
    /// [`MAX_REPORTED_SILENCES`]: the longest are kept).
    #[serde(default)]
    pub silences: Vec<Silence>,
    /// Recordings of the caller's channel, in `recordings`, during which the caller spoke: ended (written,
    /// or failed to write) with at least [`SPOKEN_MS`] of the caller's voice captured. Cancelled takes and
    /// recordings that vanished with a simulator restart are not counted.
    #[serde(default)]
    pub spoken_recordings: Vec<String>,
    /// When the call began, real (wall-clock) Unix ms. Simulated ms into the call are `ms / speed` real ms,
    /// so a harness can relate a silence to the moments it injected faults.
    #[serde(default)]
    pub started_unix_ms: u64,
    /// When the caller was first on the line with someone (their channel in a mixing bridge with another
    /// party), simulated ms since the call began.
    #[serde(default)]
    pub connected_ms: Option<u64>,
    /// The channels the caller shared a mixing bridge with (snoops left out), by name, in the order met:
    /// `PJSIP/agent-101-00000003` tells which agent phone took the call.
    #[serde(default)]
    pub bridged_with: Vec<String>,
    /// The caller gave up waiting for an agent (`wait_agent` with `abandon`).
    #[serde(default)]
    pub abandoned: bool,
    /// Every call-back attempt made to the caller's number (`await_callback`), in order.
    #[serde(default)]
    pub callbacks: Vec<CallbackAttempt>,
}

/// A call-back the simulated caller's phone received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackAttempt {
    /// The channel originated (none made when the phone was `unreachable`).
    pub channel_id: String,
    /// The dial string after the technology: `9816000001@telecom-trunk`.
    pub dialstring: String,
    /// When it came, simulated ms since the call began.
    pub at_ms: u64,
    /// What the phone did with it, as `answers` said.
    pub answer: EndpointBehaviour,
}

/// Dead air shorter than this (simulated ms) is not listed in [`CallResult::silences`].
pub const REPORTED_SILENCE_MS: u64 = 1000;
/// At most this many silences are listed per call.
pub const MAX_REPORTED_SILENCES: usize = 32;
/// A recording with at least this much of the caller's voice (simulated ms) counts as spoken.
pub const SPOKEN_MS: u64 = 1000;

/// A stretch of dead air on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Simulated ms since the call began.
    pub start_ms: u64,
    /// Its length, simulated ms.
    pub ms: u64,
}

/// The gaps in `[from, to)` covered by none of `spans` (half-open `(start, end)` pairs, any order, may
/// overlap or reach outside the window), as `(start, length)` in time order; empty gaps are left out.
pub(crate) fn dead_air(from: u64, to: u64, spans: &mut [(u64, u64)]) -> Vec<(u64, u64)> {
    spans.sort_unstable();
    let mut gaps = Vec::new();
    // The first instant not known to be covered.
    let mut cursor = from;
    for &(start, end) in spans.iter() {
        if cursor >= to {
            break;
        }
        if end <= cursor {
            continue;
        }
        if start > cursor {
            let gap_end = start.min(to);
            gaps.push((cursor, gap_end - cursor));
        }
        cursor = cursor.max(end);
    }
    if cursor < to {
        gaps.push((cursor, to - cursor));
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_scenario_parses_with_defaults() {
        let s = Scenario::from_toml(
            r#"
caller = "9816000001"
[[steps]]
action = "wait_prompt"
sound = "helpline/welcome"
[[steps]]
action = "press"
digits = "1#"
[[steps]]
action = "speak"
seconds = 3.5
[[steps]]
action = "hangup"
"#,
        )
        .unwrap();
        assert_eq!(s.extension, "1100");
        assert_eq!(s.context, "from-citizens");
        assert_eq!(
            s.steps[0],
            Step::WaitPrompt {
                sound: Some("helpline/welcome".to_owned()),
                timeout_seconds: 30.0
            }
        );
        assert_eq!(
            s.steps[1],
            Step::Press {
                digits: "1#".to_owned(),
                gap_ms: 250,
                duration_ms: 120
            }
        );
    }

    #[test]
    fn the_readme_example_is_a_valid_scenario() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## Simulated callers").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + section[start..].find("```").unwrap();
        let s = Scenario::from_toml(&section[start..end]).unwrap();
        assert_eq!(s.language.as_deref(), Some("hi"));
        assert_eq!(s.steps.len(), 9);
    }

    #[test]
    fn the_readme_queue_example_is_a_valid_scenario() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("### Waiting in a queue").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + section[start..].find("```").unwrap();
        let s = Scenario::from_toml(&section[start..end]).unwrap();
        assert_eq!(s.steps.len(), 5);
        assert!(matches!(&s.steps[2], Step::AwaitCallback { answers, .. } if answers.len() == 3));
    }

    #[test]
    fn json_scenario_round_trips() {
        let s = Scenario::new("981")
            .step(Step::Silence { seconds: 2.0 })
            .step(Step::Hangup);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(Scenario::from_json(&text).unwrap(), s);
    }

    #[test]
    fn dead_air_is_what_no_span_covers_inside_the_window() {
        // Nothing at all: the whole window.
        assert_eq!(dead_air(100, 400, &mut []), vec![(100, 300)]);
        // Overlapping, unsorted spans reaching outside the window; a gap between them and one at the end.
        let mut spans = [(350, 380), (0, 150), (120, 200), (250, 300), (290, 320)];
        assert_eq!(
            dead_air(100, 400, &mut spans),
            vec![(200, 50), (320, 30), (380, 20)]
        );
        // Fully covered; touching spans leave no gap.
        let mut spans = [(0, 50), (50, 500)];
        assert!(dead_air(10, 400, &mut spans).is_empty());
        // An empty window.
        assert!(dead_air(10, 10, &mut []).is_empty());
    }

    #[test]
    fn results_without_the_measurements_still_parse() {
        let text = r#"{"call_id":1,"scenario":"","channel_id":"c","caller":"1","heard":[],"digits_sent":"",
            "recordings":[],"hung_up_by":"caller","transferred_to":null,"cause":16,"cause_txt":"Normal Clearing",
            "answered_ms":null,"duration_ms":5,"outcome":{"status":"completed"}}"#;
        let r: CallResult = serde_json::from_str(text).unwrap();
        assert_eq!(r.longest_silence_ms, 0);
        assert!(r.spoken_recordings.is_empty() && r.silences.is_empty());
    }

    #[test]
    fn queue_steps_parse_from_json_with_defaults() {
        let s = Scenario::from_json(
            r#"{"caller": "9816000001", "steps": [
                {"action": "wait_agent", "abandon": true},
                {"action": "on_prompt", "sound": "helpline/callback_offer", "press": "1", "hangup_after_seconds": 2.0},
                {"action": "await_callback", "answers": [{"kind": "busy"}, {"kind": "answer", "after_seconds": 3.0}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            s.steps[0],
            Step::WaitAgent {
                timeout_seconds: 300.0,
                abandon: true
            }
        );
        assert_eq!(
            s.steps[1],
            Step::OnPrompt {
                sound: "helpline/callback_offer".to_owned(),
                press: "1".to_owned(),
                hangup_after_seconds: Some(2.0),
                gap_ms: 250,
                duration_ms: 120
            }
        );
        assert_eq!(
            s.steps[2],
            Step::AwaitCallback {
                timeout_seconds: 600.0,
                answers: vec![EndpointBehaviour::Busy, EndpointBehaviour::answer(3.0)]
            }
        );
        let bad = Scenario::from_json(
            r#"{"caller": "1", "steps": [{"action": "on_prompt", "sound": "", "press": "x"},
                {"action": "await_callback", "answers": [{"kind": "answer", "after_seconds": -1}]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(bad.contains("needs a sound"), "{bad}");
        assert!(bad.contains("'x'"), "{bad}");
        assert!(bad.contains("step 2: after_seconds"), "{bad}");
    }

    #[test]
    fn every_problem_is_reported() {
        let err = Scenario::from_json(
            r#"{"caller":"","steps":[{"action":"press","digits":"1x"},{"action":"wait","seconds":-1}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("caller"), "{err}");
        assert!(err.contains("'x'"), "{err}");
        assert!(err.contains("step 2"), "{err}");
    }
}
