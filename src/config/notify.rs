//! `[notify]`: SMS to citizens and webhooks to subscribers (issue 15), read from the file's nested
//! tables into `notify::Config`. Every problem is reported at once under its dotted key
//! (`notify.sms.templates.registered.hi.text`); secrets come from the file or, better, the
//! environment (`HELPLINE_SMS_API_KEY`, each subscriber's `secret_env`), and are never printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::sms::{Credential, MessageId, Method, NumberFormat, ParamNames, SmsGateway};
use notify::template::{Template, Templates, Text};
use notify::{Config, RetryPolicy, Secret, SmsConfig, Subscriber};
use tickets::outbox::EventKind;

use super::{Origin, Problem};

/// The SMS gateway's API key, when not in the file.
pub const SMS_API_KEY_ENV: &str = "HELPLINE_SMS_API_KEY";

/// The `[notify]` table as found, and the environment values it names.
#[derive(Debug, Default)]
pub struct RawNotify {
    table: Option<(toml::Table, PathBuf)>,
    env: BTreeMap<String, String>,
}

impl RawNotify {
    pub fn read_toml(&mut self, table: toml::Table, path: &Path) {
        self.table = Some((table, path.to_owned()));
    }

    /// Reads the environment variables the table names (and the SMS key's).
    pub fn read_env(&mut self, env: &impl Fn(&str) -> Option<String>) {
        let mut names = vec![SMS_API_KEY_ENV.to_owned()];
        if let Some((table, _)) = &self.table
            && let Some(toml::Value::Array(hooks)) = table.get("webhooks")
        {
            for hook in hooks {
                if let Some(var) = hook.get("secret_env").and_then(toml::Value::as_str) {
                    names.push(var.to_owned());
                }
            }
        }
        for name in names {
            if let Some(value) = env(&name) {
                self.env.insert(name, value);
            }
        }
    }

    /// The validated configuration, or the problems (added to `problems`).
    pub fn validate(&self, problems: &mut Vec<Problem>) -> Config {
        let mut config = Config::new();
        let (empty, no_path) = (toml::Table::new(), PathBuf::new());
        let (table, path) = match &self.table {
            Some((t, p)) => (t, p.as_path()),
            None => (&empty, no_path.as_path()),
        };
        let mut r = Reader { path, problems };
        r.only(
            "notify",
            table,
            &[
                "poll_seconds",
                "lease_seconds",
                "concurrency",
                "request_timeout_seconds",
                "drain_seconds",
                "max_attempts",
                "retry_first_seconds",
                "retry_max_seconds",
                "sms",
                "webhooks",
            ],
        );
        config.poll_every =
            Duration::from_millis(r.int(table, "notify", "poll_seconds", 1000, 1, 60_000, 1000.0));
        config.request_timeout =
            Duration::from_secs(r.int(table, "notify", "request_timeout_seconds", 10, 1, 120, 1.0));
        config.lease =
            Duration::from_secs(r.int(table, "notify", "lease_seconds", 60, 5, 3600, 1.0));
        config.drain =
            Duration::from_secs(r.int(table, "notify", "drain_seconds", 15, 0, 600, 1.0));
        config.concurrency = r.int(table, "notify", "concurrency", 16, 1, 256, 1.0) as usize;
        config.retry = RetryPolicy {
            max_attempts: r.int(table, "notify", "max_attempts", 10, 1, 100, 1.0) as u32,
            first_delay: Duration::from_millis(r.int(
                table,
                "notify",
                "retry_first_seconds",
                10_000,
                100,
                3_600_000,
                1000.0,
            )),
            max_delay: Duration::from_millis(r.int(
                table,
                "notify",
                "retry_max_seconds",
                3_600_000,
                100,
                86_400_000,
                1000.0,
            )),
        };
        if config.retry.max_delay < config.retry.first_delay {
            r.problem(
                "notify.retry_max_seconds",
                "must not be less than notify.retry_first_seconds",
            );
        }
        // A try (the request, then recording it) must end well within its lease.
        if config.lease < config.request_timeout * 2 + Duration::from_secs(5) {
            r.problem(
                "notify.lease_seconds",
                "must be at least twice notify.request_timeout_seconds plus 5: a try must end \
                 within its lease, or another node would try it at the same time",
            );
        }
        if let Some(sms) = table.get("sms") {
            config.sms = r.sms(sms, &self.env);
        }
        match table.get("webhooks") {
            None => {}
            Some(toml::Value::Array(hooks)) => {
                for (i, hook) in hooks.iter().enumerate() {
                    if let Some(s) = r.subscriber(i, hook, &self.env) {
                        if config.webhooks.iter().any(|w| w.name == s.name) {
                            r.problem(
                                &format!("notify.webhooks[{i}].name"),
                                &format!("{:?} is the name of another subscriber", s.name),
                            );
                        }
                        config.webhooks.push(s);
                    }
                }
            }
            Some(_) => r.problem("notify.webhooks", "expected [[notify.webhooks]] tables"),
        }
        config
    }
}

struct Reader<'a> {
    path: &'a Path,
    problems: &'a mut Vec<Problem>,
}

/// Where the SMS of each event kind is configured.
fn kind_key(kind: EventKind) -> &'static str {
    kind.as_str().trim_start_matches("ticket.")
}

impl Reader<'_> {
    fn problem(&mut self, key: &str, message: &str) {
        self.problems.push(Problem {
            key: key.to_owned(),
            origin: Some(Origin::File(self.path.to_owned())),
            message: message.to_owned(),
        });
    }

    /// Reports every key of `table` not in `allowed`.
    fn only(&mut self, at: &str, table: &toml::Table, allowed: &[&str]) {
        for key in table.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(
                    &format!("{at}.{key}"),
                    &format!("unknown key; expected one of: {}", allowed.join(", ")),
                );
            }
        }
    }

    fn table<'t>(&mut self, at: &str, value: &'t toml::Value) -> Option<&'t toml::Table> {
        match value {
            toml::Value::Table(t) => Some(t),
            _ => {
                self.problem(at, "expected a table");
                None
            }
        }
    }

    fn string(
        &mut self,
        table: &toml::Table,
        at: &str,
        key: &str,
        required: bool,
    ) -> Option<String> {
        match table.get(key) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(toml::Value::String(_)) => {
                self.problem(&format!("{at}.{key}"), "must not be empty");
                None
            }
            Some(_) => {
                self.problem(&format!("{at}.{key}"), "expected a string");
                None
            }
            None => {
                if required {
                    self.problem(&format!("{at}.{key}"), "required");
                }
                None
            }
        }
    }

    /// An integer in `min..=max` (in the key's unit), returned times `scale` (e.g. seconds → ms).
    #[allow(clippy::too_many_arguments)]
    fn int(
        &mut self,
        table: &toml::Table,
        at: &str,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
        scale: f64,
    ) -> u64 {
        let scaled = |v: f64| (v * scale).round() as u64;
        match table.get(key) {
            None => default,
            Some(toml::Value::Integer(n)) => {
                let v = *n as f64;
                let (lo, hi) = (min as f64 / scale, max as f64 / scale);
                if v < lo || v > hi {
                    self.problem(
                        &format!("{at}.{key}"),
                        &format!("must be between {lo} and {hi}"),
                    );
                    default
                } else {
                    scaled(v)
                }
            }
            Some(toml::Value::Float(v)) if scale > 1.0 => {
                let (lo, hi) = (min as f64 / scale, max as f64 / scale);
                if !v.is_finite() || *v < lo || *v > hi {
                    self.problem(
                        &format!("{at}.{key}"),
                        &format!("must be between {lo} and {hi}"),
                    );
                    default
                } else {
                    scaled(*v)
                }
            }
            Some(_) => {
                self.problem(&format!("{at}.{key}"), "expected a number");
                default
            }
        }
    }

    fn url(&mut self, at: &str, text: Option<String>) -> Option<url::Url> {
        let text = text?;
        match url::Url::parse(&text) {
            Ok(u) if u.scheme() == "http" => Some(u),
            Ok(u) if u.scheme() == "https" => {
                self.problem(
                    at,
                    "https is not supported by this build (no TLS stack in the notifier yet); \
                     put a TLS-terminating proxy on this machine and give its http:// address",
                );
                let _ = u;
                None
            }
            Ok(_) => {
                self.problem(at, "must be an http:// URL");
                None
            }
            Err(e) => {
                self.problem(at, &format!("not a URL: {e}"));
                None
            }
        }
    }

    fn secret(
        &mut self,
        table: &toml::Table,
        at: &str,
        key: &str,
        env_var: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Option<Secret> {
        if let Some(var) = env_var
            && let Some(value) = env.get(var)
            && !value.is_empty()
        {
            return Some(Secret::new(value.clone()));
        }
        match table.get(key) {
            Some(toml::Value::String(s)) if !s.is_empty() => Some(Secret::new(s.clone())),
            Some(_) => {
                self.problem(&format!("{at}.{key}"), "expected a non-empty string");
                None
            }
            None => None,
        }
    }

    fn sms(&mut self, value: &toml::Value, env: &BTreeMap<String, String>) -> Option<SmsConfig> {
        let at = "notify.sms";
        let t = self.table(at, value)?;
        self.only(
            at,
            t,
            &[
                "url",
                "method",
                "sender_id",
                "number_format",
                "message_id",
                "api_key",
                "api_key_param",
                "api_key_header",
                "params",
                "extra",
                "default_language",
                "templates",
            ],
        );
        let url_text = self.string(t, at, "url", true);
        let url = self.url("notify.sms.url", url_text);
        let method = match self.string(t, at, "method", false).as_deref() {
            None | Some("get") => Some(Method::Get),
            Some("post_form") => Some(Method::PostForm),
            Some("post_json") => Some(Method::PostJson),
            Some(other) => {
                self.problem(
                    "notify.sms.method",
                    &format!("{other:?}: expected get, post_form or post_json"),
                );
                None
            }
        };
        let sender_id = self.string(t, at, "sender_id", true);
        if let Some(s) = &sender_id
            && !(s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            self.problem(
                "notify.sms.sender_id",
                "a DLT sender id (header) is 6 letters, e.g. CMHLPL",
            );
        }
        let number_format = match self.string(t, at, "number_format", false).as_deref() {
            None | Some("national") => Some(NumberFormat::National),
            Some("country_code") => Some(NumberFormat::CountryCode),
            Some("e164") => Some(NumberFormat::E164),
            Some(other) => {
                self.problem(
                    "notify.sms.number_format",
                    &format!("{other:?}: expected national (9816012345), country_code (919816012345) or e164 (+919816012345)"),
                );
                None
            }
        };
        let message_id = match self.string(t, at, "message_id", false) {
            None => MessageId::Body,
            Some(s) if s == "body" => MessageId::Body,
            Some(s) if s.starts_with('/') => MessageId::JsonPointer(s),
            Some(s) => {
                self.problem(
                    "notify.sms.message_id",
                    &format!("{s:?}: expected \"body\" or a JSON pointer such as /data/id"),
                );
                MessageId::Body
            }
        };
        let key = self.secret(t, at, "api_key", Some(SMS_API_KEY_ENV), env);
        let param = self.string(t, at, "api_key_param", false);
        let header = self.string(t, at, "api_key_header", false);
        let credential = match (key, param, header) {
            (None, None, None) => None,
            (Some(value), Some(name), None) => Some(Credential::Param { name, value }),
            (Some(value), None, Some(name)) => Some(Credential::Header { name, value }),
            (Some(_), None, None) => {
                self.problem(
                    "notify.sms.api_key_param",
                    "the API key is set: say how it is sent, api_key_param or api_key_header",
                );
                None
            }
            (_, Some(_), Some(_)) => {
                self.problem(
                    "notify.sms.api_key_header",
                    "set api_key_param or api_key_header, not both",
                );
                None
            }
            (None, _, _) => {
                self.problem("notify.sms.api_key", &format!("required by api_key_param/api_key_header (set {SMS_API_KEY_ENV} rather than writing it in the file)"));
                None
            }
        };
        let mut names = ParamNames::default();
        if let Some(v) = t.get("params")
            && let Some(p) = self.table("notify.sms.params", v)
        {
            self.only(
                "notify.sms.params",
                p,
                &["to", "text", "sender", "template_id"],
            );
            let at = "notify.sms.params";
            if let Some(s) = self.string(p, at, "to", false) {
                names.to = s;
            }
            if let Some(s) = self.string(p, at, "text", false) {
                names.text = s;
            }
            if let Some(s) = self.string(p, at, "sender", false) {
                names.sender = s;
            }
            if let Some(s) = self.string(p, at, "template_id", false) {
                names.template_id = s;
            }
        }
        let mut extra = Vec::new();
        if let Some(v) = t.get("extra")
            && let Some(e) = self.table("notify.sms.extra", v)
        {
            for (k, v) in e {
                match v {
                    toml::Value::String(s) => extra.push((k.clone(), s.clone())),
                    toml::Value::Integer(n) => extra.push((k.clone(), n.to_string())),
                    _ => self.problem(&format!("notify.sms.extra.{k}"), "expected a string"),
                }
            }
        }
        let default_language = self
            .string(t, at, "default_language", false)
            .unwrap_or_else(|| "en".to_owned());
        let mut templates = Templates::new(default_language.clone());
        match t.get("templates") {
            None => self.problem(
                "notify.sms.templates",
                "required: the messages, per event and language",
            ),
            Some(v) => {
                if let Some(by_kind) = self.table("notify.sms.templates", v) {
                    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| kind_key(*k)).collect();
                    self.only("notify.sms.templates", by_kind, &kinds);
                    for kind in EventKind::ALL {
                        let Some(v) = by_kind.get(kind_key(*kind)) else {
                            continue;
                        };
                        let at = format!("notify.sms.templates.{}", kind_key(*kind));
                        let Some(languages) = self.table(&at, v) else {
                            continue;
                        };
                        for (language, v) in languages {
                            let at = format!("{at}.{language}");
                            let Some(entry) = self.table(&at, v) else {
                                continue;
                            };
                            self.only(&at, entry, &["text", "dlt_template_id"]);
                            let text = self.string(entry, &at, "text", true);
                            let id = self.string(entry, &at, "dlt_template_id", true);
                            let text = text.and_then(|s| match Text::parse(&s) {
                                Ok(t) => Some(t),
                                Err(e) => {
                                    self.problem(&format!("{at}.text"), &e.to_string());
                                    None
                                }
                            });
                            if let (Some(text), Some(dlt_template_id)) = (text, id) {
                                templates.insert(
                                    *kind,
                                    language.clone(),
                                    Template {
                                        text,
                                        dlt_template_id,
                                    },
                                );
                            }
                        }
                        if !languages.is_empty() && !languages.contains_key(&default_language) {
                            self.problem(&at, &format!("has no {default_language:?} message, the default language's (notify.sms.default_language)"));
                        }
                    }
                }
            }
        }
        Some(SmsConfig {
            gateway: SmsGateway {
                url: url?,
                method: method?,
                names,
                extra,
                credential,
                number_format: number_format?,
                message_id,
            },
            sender_id: sender_id?,
            templates,
        })
    }

    fn subscriber(
        &mut self,
        i: usize,
        value: &toml::Value,
        env: &BTreeMap<String, String>,
    ) -> Option<Subscriber> {
        let at = format!("notify.webhooks[{i}]");
        let t = self.table(&at, value)?;
        self.only(&at, t, &["name", "url", "events", "secret", "secret_env"]);
        let name = self.string(t, &at, "name", true);
        if let Some(n) = &name
            && !n
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            self.problem(&format!("{at}.name"), "letters, digits, - and _ only");
        }
        let url_text = self.string(t, &at, "url", true);
        let url = self.url(&format!("{at}.url"), url_text);
        let mut events = Vec::new();
        match t.get("events") {
            Some(toml::Value::Array(list)) if !list.is_empty() => {
                for e in list {
                    match e.as_str().map(str::parse::<EventKind>) {
                        Some(Ok(kind)) => events.push(kind),
                        Some(Err(err)) => self.problem(&format!("{at}.events"), &err.to_string()),
                        None => self.problem(
                            &format!("{at}.events"),
                            "expected event names such as \"ticket.resolved\"",
                        ),
                    }
                }
            }
            _ => self.problem(
                &format!("{at}.events"),
                "required: a list of events such as [\"ticket.registered\", \"ticket.resolved\"]",
            ),
        }
        let var = self.string(t, &at, "secret_env", false);
        let secret = self.secret(t, &at, "secret", var.as_deref(), env);
        if secret.is_none() {
            let message = match &var {
                Some(v) => format!("the signing secret: {v} is not set (nor `secret`)"),
                None => "required: the signing secret (`secret_env` naming an environment variable, or `secret`)".to_owned(),
            };
            self.problem(&format!("{at}.secret"), &message);
        }
        Some(Subscriber {
            name: name?,
            url: url?,
            events,
            secret: secret?,
        })
    }
}

/// A line for `config check`: what is delivered where, secrets masked.
pub fn summary(config: &Config) -> String {
    let sms = match &config.sms {
        Some(s) => format!(
            "SMS via {} {}{} as {}",
            match s.gateway.method {
                Method::Get => "GET",
                Method::PostForm => "POST (form)",
                Method::PostJson => "POST (JSON)",
            },
            {
                let mut u = s.gateway.url.clone();
                u.set_query(None);
                u
            },
            if s.gateway.credential.is_some() {
                " (API key set)"
            } else {
                ""
            },
            s.sender_id
        ),
        None => "no SMS".to_owned(),
    };
    let hooks: Vec<String> = config
        .webhooks
        .iter()
        .map(|w| format!("{} ({} events)", w.name, w.events.len()))
        .collect();
    format!(
        "{sms}; webhooks: {}; {} tries, {}s lease",
        if hooks.is_empty() {
            "none".to_owned()
        } else {
            hooks.join(", ")
        },
        config.retry.max_attempts,
        config.lease.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::load;

    const GOOD: &str = r#"
[notify]
poll_seconds = 0.5
max_attempts = 5
[notify.sms]
url = "http://127.0.0.1:9000/api/send?route=dlt"
method = "post_form"
sender_id = "CMHLPL"
number_format = "country_code"
message_id = "/data/id"
api_key_header = "Authorization"
params = { to = "mobile", text = "message" }
extra = { entity_id = "1101000000001", unicode = 1 }
[notify.sms.templates.registered]
hi = { text = "शिकायत {number} दर्ज", dlt_template_id = "1107-1" }
en = { text = "Complaint {number} registered", dlt_template_id = "1107-2" }
[[notify.webhooks]]
name = "state-portal"
url = "http://127.0.0.1:9001/hooks"
events = ["ticket.registered", "ticket.resolved"]
secret_env = "PORTAL_SECRET"
"#;

    #[test]
    fn a_gateway_templates_and_subscribers_are_read_with_secrets_from_the_environment() {
        let config = load(
            GOOD,
            &[
                ("HELPLINE_SMS_API_KEY", "Bearer sms-key-9"),
                ("PORTAL_SECRET", "whsec-1"),
            ],
        )
        .unwrap();
        let n = &config.notify;
        assert_eq!(n.poll_every, Duration::from_millis(500));
        assert_eq!(n.retry.max_attempts, 5);
        let sms = n.sms.as_ref().unwrap();
        assert_eq!(sms.gateway.method, Method::PostForm);
        assert_eq!(sms.gateway.number_format, NumberFormat::CountryCode);
        assert_eq!(sms.gateway.names.to, "mobile");
        assert_eq!(sms.gateway.names.sender, "sender", "a default");
        assert!(matches!(
            &sms.gateway.credential,
            Some(Credential::Header { name, value }) if name == "Authorization" && value.expose() == "Bearer sms-key-9"
        ));
        let (lang, t) = sms.templates.pick(EventKind::Registered, "hi").unwrap();
        assert_eq!((lang, t.dlt_template_id.as_str()), ("hi", "1107-1"));
        assert_eq!(n.webhooks.len(), 1);
        assert_eq!(n.webhooks[0].secret.expose(), "whsec-1");
        assert_eq!(
            n.webhooks[0].events,
            vec![EventKind::Registered, EventKind::Resolved]
        );
        // Secrets never print.
        let shown = format!("{}\n{config:?}", config.summary());
        assert!(!shown.contains("sms-key-9"), "{shown}");
        assert!(!shown.contains("whsec-1"), "{shown}");
        assert!(shown.contains("SMS via POST (form)"), "{shown}");
    }

    #[test]
    fn the_example_files_notify_section_is_valid_once_uncommented() {
        let example = include_str!("../../helpline.example.toml");
        let start = example.find("# [notify]\n").unwrap();
        let text: String = example[start..]
            .lines()
            .filter(|l| !l.starts_with("# #"))
            .filter_map(|l| l.strip_prefix("# ").or((l == "#").then_some("")))
            .map(|l| format!("{l}\n"))
            .collect();
        let config = load(
            &text,
            &[
                ("HELPLINE_SMS_API_KEY", "k"),
                ("HELPLINE_WEBHOOK_STATE_PORTAL_SECRET", "s"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let sms = config.notify.sms.unwrap();
        for kind in [
            EventKind::Registered,
            EventKind::StatusChanged,
            EventKind::Resolved,
        ] {
            assert_eq!(sms.templates.languages(kind), vec!["en", "hi"]);
        }
        assert_eq!(config.notify.webhooks[0].events.len(), 5);
    }

    #[test]
    fn nothing_configured_delivers_nothing() {
        let config = load("", &[]).unwrap();
        assert!(!config.notify.delivers_anything());
        assert_eq!(config.notify.lease, Duration::from_secs(60));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
[notify]
lease_seconds = 5
colour = "blue"
[notify.sms]
url = "https://sms.example.in/send"
sender_id = "CM"
api_key_param = "apikey"
[notify.sms.templates.registered]
hi = { text = "शिकायत {numbr}", dlt_template_id = "1" }
[notify.sms.templates.closed]
en = { text = "x", dlt_template_id = "2" }
[[notify.webhooks]]
name = "portal"
url = "ftp://portal"
events = ["ticket.deleted"]
"#;
        let err = load(text, &[]).unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        for key in [
            "notify.colour",
            "notify.lease_seconds",
            "notify.sms.url",
            "notify.sms.sender_id",
            "notify.sms.api_key",
            "notify.sms.templates.registered.hi.text",
            "notify.sms.templates.registered",
            "notify.sms.templates.closed",
            "notify.webhooks[0].url",
            "notify.webhooks[0].events",
            "notify.webhooks[0].secret",
        ] {
            assert!(keys.contains(&key), "{key} in {err}");
        }
        let text = err.to_string();
        assert!(text.contains("unknown placeholder {numbr}"), "{text}");
        assert!(text.contains("https is not supported"), "{text}");
    }
}
