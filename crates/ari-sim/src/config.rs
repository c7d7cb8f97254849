//! The simulator's configuration: where it listens, its ARI credentials, the speed factor, where sounds and
//! recordings live, its dialplan and the endpoints (agent phones) it knows. Everything has a default that
//! reproduces the set-up the real-Asterisk traces were captured with.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::SimError;

/// How the simulator is set up. `SimConfig::default()` listens on `127.0.0.1:0` with `asterisk`/`asterisk`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// ARI user name (basic auth or `api_key=user:pass`).
    pub username: String,
    /// ARI password.
    pub password: String,
    /// How much faster than real time the simulation runs (every duration is divided by it); 1.0 is real time.
    pub speed: f64,
    /// Directories searched for sounds, in order: `<dir>/<lang>/<name>.wav`, then `<dir>/<name>.wav`.
    pub sounds_dirs: Vec<PathBuf>,
    /// Where recordings are written (`<dir>/<name>.<format>`); recordings already there are listed as
    /// stored. `None`: a fresh directory under the system temp dir, removed when the simulator stops.
    pub recordings_dir: Option<PathBuf>,
    /// The language channels start with.
    pub default_language: String,
    /// The Asterisk entity id stamped on every event (`asterisk_id`).
    pub asterisk_id: String,
    /// Dialplan: context → extension → priorities (1-based, in order). A dialplan given in a file replaces
    /// the default one as a whole.
    pub dialplan: BTreeMap<String, BTreeMap<String, Vec<DialplanApp>>>,
    /// Endpoints that can be originated to (`PJSIP/agent-101` …) and how they behave. Given in a file,
    /// they replace the defaults.
    pub endpoints: Vec<EndpointConfig>,
    /// Events buffered per WebSocket before the connection is considered stuck and closed.
    pub ws_buffer: usize,
    /// How long a simulated caller stays on the line after its last step before giving up, in (simulated) seconds.
    pub max_call_seconds: f64,
}

/// One dialplan priority: the application it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "app", rename_all = "snake_case", deny_unknown_fields)]
pub enum DialplanApp {
    /// `NoOp(text)`; `${CALLERID(all)}`, `${CALLERID(num)}`, `${CALLERID(name)}`, `${EXTEN}` and channel
    /// variables `${NAME}` are substituted.
    NoOp { text: String },
    /// `Stasis(app[,args])`: hands the channel to an ARI app, or sets `STASISSTATUS=FAILED` and goes on.
    Stasis {
        name: String,
        #[serde(default)]
        args: Vec<String>,
    },
    /// `Answer()`.
    Answer,
    /// `Ringing()`: indicates ringing to the caller.
    Ringing,
    /// `Wait(seconds)`.
    Wait { seconds: f64 },
    /// `Playback(sound)`: answers if needed, plays a sound for as long as it lasts, sets `PLAYBACKSTATUS`.
    Playback { sound: String },
    /// `Set(name=value)`: a channel variable (`ChannelVarset`), or a function such as `CHANNEL(language)`
    /// (no event).
    Set { name: String, value: String },
    /// `Hangup()`.
    Hangup,
}

impl DialplanApp {
    /// The application name and data as Asterisk shows them in `dialplan.app_name` / `app_data`.
    pub(crate) fn name_and_data(&self) -> (&'static str, String) {
        match self {
            DialplanApp::NoOp { text } => ("NoOp", text.clone()),
            DialplanApp::Stasis { name, args } => {
                let mut data = name.clone();
                for arg in args {
                    data.push(',');
                    data.push_str(arg);
                }
                ("Stasis", data)
            }
            DialplanApp::Answer => ("Answer", String::new()),
            DialplanApp::Ringing => ("Ringing", String::new()),
            DialplanApp::Wait { seconds } => ("Wait", format_seconds(*seconds)),
            DialplanApp::Playback { sound } => ("Playback", sound.clone()),
            DialplanApp::Set { name, value } => ("Set", format!("{name}={value}")),
            DialplanApp::Hangup => ("Hangup", String::new()),
        }
    }
}

fn format_seconds(seconds: f64) -> String {
    if seconds.fract() == 0.0 {
        format!("{}", seconds as i64)
    } else {
        format!("{seconds}")
    }
}

/// An endpoint the simulator can originate to, e.g. technology `PJSIP`, resource `agent-101`. A dial
/// string `PJSIP/<number>@<resource>` calls a number through it (a trunk such as `telecom-trunk`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    pub technology: String,
    pub resource: String,
    /// What the phone does when called.
    pub behaviour: EndpointBehaviour,
    /// The endpoint's dialplan context (pjsip.conf `context`): what an originated channel's `dialplan`
    /// shows (`agents` for the capture set-up's agent phones).
    #[serde(default = "default_endpoint_context")]
    pub context: String,
}

fn default_endpoint_context() -> String {
    "default".to_owned()
}

impl EndpointConfig {
    /// A PJSIP endpoint in context `context`.
    pub fn pjsip(resource: &str, context: &str, behaviour: EndpointBehaviour) -> EndpointConfig {
        EndpointConfig {
            technology: "PJSIP".to_owned(),
            resource: resource.to_owned(),
            behaviour,
            context: context.to_owned(),
        }
    }

    /// The problems with this endpoint's fields, each naming it.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let name = format!("endpoint {}/{}", self.technology, self.resource);
        if self.technology.is_empty() || self.technology.contains('/') {
            problems.push(format!("{name}: technology must be non-empty, without '/'"));
        }
        if self.technology.eq_ignore_ascii_case("Local") {
            problems.push(format!(
                "{name}: Local channels are the dialplan's, not an endpoint"
            ));
        }
        if self.resource.is_empty() || self.resource.contains(['/', '@']) {
            problems.push(format!(
                "{name}: resource must be non-empty, without '/' or '@'"
            ));
        }
        problems.extend(self.behaviour.problems(&name));
        problems
    }
}

/// What a simulated phone does when a call is originated to it, as the captured SIP phones did
/// (`../shared/ari-traces`, "ACD flows"). Durations are simulated seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EndpointBehaviour {
    /// Rings (180), then answers after `after_seconds`. Optionally, once answered, the phone hangs up
    /// itself (a BYE) `hangup_after_seconds` later, and puts the call on hold (`ChannelHold`)
    /// `hold_after_seconds` after answering and off hold (`ChannelUnhold`) `unhold_after_seconds` after
    /// that.
    Answer {
        after_seconds: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hangup_after_seconds: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_after_seconds: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unhold_after_seconds: Option<f64>,
    },
    /// Rings (180) until the originate times out (cause 19).
    RingOut,
    /// Answers the INVITE with `486 Busy Here`: cause 17 at once, never a `StasisStart`.
    Busy,
    /// An AOR without a contact: the originate itself fails (500 `Allocation failed`), no event follows,
    /// and the endpoint's state is `offline`.
    Unreachable,
    /// Nothing answers the INVITE at all: at the originate timeout the channel is destroyed (cause 19,
    /// `tech_cause` 480), or at 32 s, when the SIP transaction times out first, cause 18 (`tech_cause` 408).
    NoResponse,
}

impl EndpointBehaviour {
    /// Answers after `after_seconds`, and does nothing else.
    pub fn answer(after_seconds: f64) -> EndpointBehaviour {
        EndpointBehaviour::Answer {
            after_seconds,
            hangup_after_seconds: None,
            hold_after_seconds: None,
            unhold_after_seconds: None,
        }
    }

    /// Durations that are not a number of seconds >= 0, each named after `what` has them.
    pub(crate) fn problems(&self, what: &str) -> Vec<String> {
        self.durations()
            .into_iter()
            .filter(|(_, value)| value.is_some_and(|s| !(s.is_finite() && s >= 0.0)))
            .map(|(field, _)| format!("{what}: {field} must be >= 0"))
            .collect()
    }

    /// Every duration field, by name.
    fn durations(&self) -> Vec<(&'static str, Option<f64>)> {
        match self {
            EndpointBehaviour::Answer {
                after_seconds,
                hangup_after_seconds,
                hold_after_seconds,
                unhold_after_seconds,
            } => vec![
                ("after_seconds", Some(*after_seconds)),
                ("hangup_after_seconds", *hangup_after_seconds),
                ("hold_after_seconds", *hold_after_seconds),
                ("unhold_after_seconds", *unhold_after_seconds),
            ],
            _ => Vec::new(),
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            username: "asterisk".to_owned(),
            password: "asterisk".to_owned(),
            speed: 1.0,
            sounds_dirs: Vec::new(),
            recordings_dir: None,
            default_language: "en".to_owned(),
            asterisk_id: "02:fc:00:00:00:01".to_owned(),
            dialplan: default_dialplan(),
            endpoints: default_endpoints(),
            ws_buffer: 65_536,
            max_call_seconds: 600.0,
        }
    }
}

/// The dialplan the traces were captured with: `from-citizens` (`1100` → `Stasis(ivr-1100)` → `Hangup`),
/// `agents` (`answer`: rings 1 s, answers, waits; `noanswer`: rings forever), `after-ivr` (`s`: plays a
/// prompt, hangs up), and the ACD captures' `xfer-test` (`s`: `NoOp(TICKET_NUMBER=…)`, answers, waits
/// 1 s, hangs up) and `supervisor` (`answer`: answers, waits an hour — a supervisor's phone).
pub fn default_dialplan() -> BTreeMap<String, BTreeMap<String, Vec<DialplanApp>>> {
    let mut plan = BTreeMap::new();
    let mut citizens = BTreeMap::new();
    citizens.insert(
        "1100".to_owned(),
        vec![
            DialplanApp::NoOp {
                text: "Citizen call to IVR ${EXTEN} from ${CALLERID(all)}".to_owned(),
            },
            DialplanApp::Stasis {
                name: "ivr-1100".to_owned(),
                args: Vec::new(),
            },
            DialplanApp::Hangup,
        ],
    );
    plan.insert("from-citizens".to_owned(), citizens);
    let mut agents = BTreeMap::new();
    agents.insert(
        "answer".to_owned(),
        vec![
            DialplanApp::Ringing,
            DialplanApp::Wait { seconds: 1.0 },
            DialplanApp::Answer,
            DialplanApp::Wait { seconds: 600.0 },
        ],
    );
    agents.insert(
        "noanswer".to_owned(),
        vec![DialplanApp::Ringing, DialplanApp::Wait { seconds: 600.0 }],
    );
    plan.insert("agents".to_owned(), agents);
    let mut after = BTreeMap::new();
    after.insert(
        "s".to_owned(),
        vec![
            DialplanApp::NoOp {
                text: "Back in dialplan after IVR: ${COMPLAINT_NO}".to_owned(),
            },
            DialplanApp::Playback {
                sound: "hello-world".to_owned(),
            },
            DialplanApp::Hangup,
        ],
    );
    plan.insert("after-ivr".to_owned(), after);
    let mut xfer = BTreeMap::new();
    xfer.insert(
        "s".to_owned(),
        vec![
            DialplanApp::NoOp {
                text: "TICKET_NUMBER=${TICKET_NUMBER}".to_owned(),
            },
            DialplanApp::Answer,
            DialplanApp::Wait { seconds: 1.0 },
            DialplanApp::Hangup,
        ],
    );
    plan.insert("xfer-test".to_owned(), xfer);
    let mut supervisor = BTreeMap::new();
    supervisor.insert(
        "answer".to_owned(),
        vec![DialplanApp::Answer, DialplanApp::Wait { seconds: 3600.0 }],
    );
    plan.insert("supervisor".to_owned(), supervisor);
    plan
}

/// The capture set-up's endpoints: `PJSIP/citizen` (the trunk citizens call in on) and
/// `PJSIP/telecom-trunk` (the trunk numbers are dialled through, `PJSIP/<number>@telecom-trunk`), both
/// answering after 1 s; the agent phones of context `agents`: `agent-101` answers after 2 s, `agent-102` is
/// busy (486), `agent-103` is unreachable (an AOR without a contact), `agent-104` never responds.
pub fn default_endpoints() -> Vec<EndpointConfig> {
    vec![
        EndpointConfig::pjsip("citizen", "from-citizens", EndpointBehaviour::answer(1.0)),
        EndpointConfig::pjsip(
            "telecom-trunk",
            "from-citizens",
            EndpointBehaviour::answer(1.0),
        ),
        EndpointConfig::pjsip("agent-101", "agents", EndpointBehaviour::answer(2.0)),
        EndpointConfig::pjsip("agent-102", "agents", EndpointBehaviour::Busy),
        EndpointConfig::pjsip("agent-103", "agents", EndpointBehaviour::Unreachable),
        EndpointConfig::pjsip("agent-104", "agents", EndpointBehaviour::NoResponse),
    ]
}

impl SimConfig {
    /// Reads a configuration from TOML text (fields not given keep their defaults).
    pub fn from_toml(text: &str) -> Result<SimConfig, SimError> {
        let config: SimConfig =
            toml::from_str(text).map_err(|e| SimError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; reports all problems at once.
    pub fn validate(&self) -> Result<(), SimError> {
        let mut problems = Vec::new();
        if !(self.speed.is_finite() && self.speed > 0.0) {
            problems.push(format!(
                "speed must be a positive number, got {}",
                self.speed
            ));
        }
        if self.username.is_empty() || self.username.contains(':') {
            problems.push("username must be non-empty and contain no ':'".to_owned());
        }
        if self.ws_buffer == 0 {
            problems.push("ws_buffer must be at least 1".to_owned());
        }
        if !(self.max_call_seconds.is_finite() && self.max_call_seconds > 0.0) {
            problems.push("max_call_seconds must be a positive number".to_owned());
        }
        for (context, extens) in &self.dialplan {
            for (exten, apps) in extens {
                if apps.is_empty() {
                    problems.push(format!("dialplan {exten}@{context} has no priorities"));
                }
                for app in apps {
                    if let DialplanApp::Wait { seconds } = app
                        && !(seconds.is_finite() && *seconds >= 0.0)
                    {
                        problems.push(format!(
                            "dialplan {exten}@{context}: Wait needs seconds >= 0"
                        ));
                    }
                }
            }
        }
        for (index, endpoint) in self.endpoints.iter().enumerate() {
            problems.extend(endpoint.problems());
            if self.endpoints[..index].iter().any(|e| {
                e.technology.eq_ignore_ascii_case(&endpoint.technology)
                    && e.resource == endpoint.resource
            }) {
                problems.push(format!(
                    "endpoint {}/{} is given twice",
                    endpoint.technology, endpoint.resource
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SimError::Config(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_has_the_trace_dialplan() {
        let config = SimConfig::default();
        config.validate().unwrap();
        assert_eq!(config.dialplan["from-citizens"]["1100"].len(), 3);
        assert_eq!(
            config.dialplan["from-citizens"]["1100"][1].name_and_data(),
            ("Stasis", "ivr-1100".to_owned())
        );
    }

    #[test]
    fn dialplan_and_endpoints_read_from_toml() {
        let config = SimConfig::from_toml(
            r#"
speed = 10.0
sounds_dirs = ["audio"]
default_language = "hi"

[dialplan.from-citizens]
"1100" = [
    { app = "no_op", text = "call from ${CALLERID(num)}" },
    { app = "stasis", name = "helpline", args = ["inbound"] },
    { app = "playback", sound = "helpline/service_unavailable" },
    { app = "hangup" },
]

[[endpoints]]
technology = "PJSIP"
resource = "agent-201"
behaviour = { kind = "answer", after_seconds = 3.5 }

[[endpoints]]
technology = "PJSIP"
resource = "agent-202"
behaviour = { kind = "unreachable" }

[[endpoints]]
technology = "PJSIP"
resource = "agent-203"
context = "agents"
behaviour = { kind = "answer", after_seconds = 1.0, hangup_after_seconds = 4.0, hold_after_seconds = 1.5, unhold_after_seconds = 1.5 }
"#,
        )
        .unwrap();
        let plan = &config.dialplan["from-citizens"]["1100"];
        assert_eq!(
            plan[1].name_and_data(),
            ("Stasis", "helpline,inbound".to_owned())
        );
        assert_eq!(plan.len(), 4);
        assert_eq!(
            config.endpoints[0].behaviour,
            EndpointBehaviour::answer(3.5)
        );
        assert_eq!(config.endpoints[0].context, "default");
        assert_eq!(
            config.endpoints[2],
            EndpointConfig::pjsip(
                "agent-203",
                "agents",
                EndpointBehaviour::Answer {
                    after_seconds: 1.0,
                    hangup_after_seconds: Some(4.0),
                    hold_after_seconds: Some(1.5),
                    unhold_after_seconds: Some(1.5),
                }
            )
        );
        assert_eq!(
            config.endpoints.len(),
            3,
            "endpoints given replace the defaults"
        );
        let bad = SimConfig::from_toml(
            "[dialplan.x]
y = [{ app = \"dance\" }]",
        )
        .unwrap_err();
        assert!(bad.to_string().contains("dance"), "{bad}");
    }

    #[test]
    fn the_readme_example_is_a_valid_configuration() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## Configuration").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + section[start..].find("```").unwrap();
        let config = SimConfig::from_toml(&section[start..end]).unwrap();
        assert_eq!(config.listen.port(), 8088);
        assert_eq!(config.dialplan["agents"]["answer"].len(), 4);
    }

    #[test]
    fn toml_overrides_keep_defaults_and_bad_values_are_all_reported() {
        let config = SimConfig::from_toml("speed = 20.0\nusername = \"u\"").unwrap();
        assert_eq!(config.speed, 20.0);
        assert_eq!(config.password, "asterisk");
        let err = SimConfig::from_toml(
            "speed = -1.0\nws_buffer = 0\n[[endpoints]]\ntechnology = \"PJSIP\"\nresource = \"a@b\"\n\
             behaviour = { kind = \"answer\", after_seconds = 1.0, hangup_after_seconds = -2.0 }",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("speed"), "{text}");
        assert!(text.contains("ws_buffer"), "{text}");
        assert!(text.contains("resource must be"), "{text}");
        assert!(text.contains("hangup_after_seconds must be"), "{text}");
    }
}
