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

/// An endpoint the simulator can originate to, e.g. technology `PJSIP`, resource `agent-101`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    pub technology: String,
    pub resource: String,
    /// What the phone does when called.
    pub behaviour: EndpointBehaviour,
}

/// What a simulated phone does when a call is originated to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EndpointBehaviour {
    /// Rings, then answers after this many (simulated) seconds.
    Answer { after_seconds: f64 },
    /// Rings until the originate times out (cause 19).
    RingOut,
    /// Not registered: the call fails at once (cause 20, "Subscriber absent").
    Unreachable,
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
/// `agents` (`answer`: rings 1 s, answers, waits; `noanswer`: rings forever) and `after-ivr` (`s`: plays a
/// prompt, hangs up).
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
    plan
}

/// `PJSIP/citizen` (the trunk citizens call in on) and three agent phones: `agent-101` answers after 2 s,
/// `agent-102` rings out, `agent-103` is unreachable.
pub fn default_endpoints() -> Vec<EndpointConfig> {
    vec![
        EndpointConfig {
            technology: "PJSIP".to_owned(),
            resource: "citizen".to_owned(),
            behaviour: EndpointBehaviour::Answer { after_seconds: 1.0 },
        },
        EndpointConfig {
            technology: "PJSIP".to_owned(),
            resource: "agent-101".to_owned(),
            behaviour: EndpointBehaviour::Answer { after_seconds: 2.0 },
        },
        EndpointConfig {
            technology: "PJSIP".to_owned(),
            resource: "agent-102".to_owned(),
            behaviour: EndpointBehaviour::RingOut,
        },
        EndpointConfig {
            technology: "PJSIP".to_owned(),
            resource: "agent-103".to_owned(),
            behaviour: EndpointBehaviour::Unreachable,
        },
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
        for endpoint in &self.endpoints {
            if let EndpointBehaviour::Answer { after_seconds } = endpoint.behaviour
                && !(after_seconds.is_finite() && after_seconds >= 0.0)
            {
                problems.push(format!(
                    "endpoint {}/{}: after_seconds must be >= 0",
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
            EndpointBehaviour::Answer { after_seconds: 3.5 }
        );
        assert_eq!(
            config.endpoints.len(),
            2,
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
        let err = SimConfig::from_toml("speed = -1.0\nws_buffer = 0").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("speed"), "{text}");
        assert!(text.contains("ws_buffer"), "{text}");
    }
}
