//! The service configuration: the TOML file (`helpline.example.toml` documents every key) overlaid with the
//! environment, read into raw values and then validated into [`Config`]. Validation reports every problem at
//! once, each naming the key, where its value came from (file, environment variable) and what is wrong.
//! Secrets (the ARI password, a database password) are wrapped so they never reach a log or a terminal.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

// `[notify]`: SMS and webhooks, nested tables read on their own.
pub mod notify;

/// Where the database lives when nothing is configured: a folder in the current directory, so that `demo`
/// and `tickets list` run in the same folder see the same tickets.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://helpline-data/helpline.db";
/// The folder of everything the service writes by default (database, journal, recordings).
pub const DEFAULT_DATA_DIR: &str = "helpline-data";

/// A value that must never be printed (`Debug` and `Display` show `***`): the ARI crate's type, so the
/// password read here reaches `ari::Credentials` without ever being unwrapped on the way.
pub use ari::Secret;

/// A database URL: may carry a password, so it prints with the password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Secret);

impl DatabaseUrl {
    /// Wraps a database URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(Secret::new(url))
    }

    /// The full URL including any password, for connecting.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Whether this is a PostgreSQL URL (as opposed to SQLite).
    pub fn is_postgres(&self) -> bool {
        let url = self.expose();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// The URL with any password replaced by `***`, safe to print.
    pub fn redacted(&self) -> String {
        match url::Url::parse(self.expose()) {
            Ok(mut parsed) if parsed.password().is_some() => {
                // Setting a password only fails for URLs that cannot have one, and this one has one.
                let _ = parsed.set_password(Some("***"));
                parsed.to_string()
            }
            Ok(_) => self.expose().to_owned(),
            Err(_) => "[unparsable URL]".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The validated configuration of `serve` (and, with defaults, `demo`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The Asterisk to drive; `None` when no URL is configured, in which case `serve --sim` and `demo`
    /// run the in-process simulator and `serve` without `--sim` refuses to start.
    pub ari: Option<AriConfig>,
    /// The Stasis application name; also used for the simulator when `ari` is `None`.
    pub ari_app: String,
    /// The ticket database.
    pub database: DatabaseConfig,
    /// Where tickets are journalled (fsync'd) when the database is unreachable.
    pub journal_dir: PathBuf,
    /// Where fetched recordings are kept beside their tickets.
    pub recordings_dir: PathBuf,
    /// The IVR scripts and their prompts.
    pub ivr: IvrConfig,
    /// The HTTP API.
    pub http: HttpConfig,
    /// Capacity and shutdown limits.
    pub limits: LimitsConfig,
    /// Importing the complaints Asterisk's dialplan fallback recorded.
    pub fallback: FallbackConfig,
    /// Who may give feedback on a complaint by phone (`tickets.feedback_from`).
    pub feedback_check: tickets::complainant::FeedbackCheck,
    /// Call records and reports (`[records]`).
    pub records: RecordsConfig,
    /// The dial string a call-back rings the citizen on (`centre.callback_dial`), `{number}` their
    /// number as normalised (`+91…`). Default `PJSIP/{number}@telecom-trunk`.
    pub callback_dial: String,
    /// How long recordings are kept after closure (`tickets.recordings_keep_days_*`).
    pub retention: tickets::RecordingRetention,
    /// The outbound dialer: confirmation calls after a complaint is resolved (`[outbound]`).
    pub outbound: OutboundConfig,
    /// Officers' reminders (`[reminders]`): when, by which script, how often tried.
    pub reminders: RemindersConfig,
    /// Sessions and API tokens (`accounts.*`).
    pub accounts: tickets::accounts::AccountsConfig,
    /// SMS and webhooks (`[notify]`): what the outbox delivers, and how.
    pub notify: ::notify::Config,
    /// Logging.
    pub log: LogConfig,
}

/// The outbound dialer (`[outbound]`): whether it calls at all, through which dial string, the
/// calling window (in `records.time_zone`), retries, the policy after the last try and pacing.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Off by default: a deployment turns it on once its trunk may call citizens. Confirmation
    /// calls are scheduled all the same, and go out once it is on.
    pub enabled: bool,
    /// `PJSIP/{number}@telecom-trunk`: `{number}` the complainant's, as normalised (`+91…`).
    pub dial: String,
    pub caller_id: String,
    /// The script a confirmation call runs (`confirm`).
    pub script: String,
    pub dialer: outbound::DialerConfig,
    pub ring: Duration,
    pub poll: Duration,
    /// How long after the resolution the first try may go out.
    pub first_call_after: Duration,
}

/// Officers' reminders (`[reminders]`). An officer reminded by call is called on the outbound
/// dialer (so only while `outbound.enabled`); by SMS through the outbox (`notify.sms.templates.
/// officer_reminder`).
#[derive(Debug, Clone)]
pub struct RemindersConfig {
    /// Whether reminders are scheduled, and how long before the due time (`before_hours`; 0:
    /// only once overdue).
    pub policy: tickets::ReminderPolicy,
    /// The script a reminder call runs (`remind`).
    pub script: String,
    /// Tries of a reminder call and the delays between them.
    pub retry: outbound::RetryPolicy,
}

/// How to reach Asterisk's ARI.
#[derive(Debug, Clone)]
pub struct AriConfig {
    /// Base URL of ARI, e.g. `http://127.0.0.1:8088` (the `/ari` prefix is added by the client).
    pub url: url::Url,
    /// ARI user (`ari.conf`).
    pub username: String,
    /// ARI password.
    pub password: Secret,
    /// How long one REST request may take before it is abandoned.
    pub request_timeout: Duration,
    /// How long to wait for the WebSocket to connect before retrying.
    pub connect_timeout: Duration,
}

/// The ticket database.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`.
    pub url: DatabaseUrl,
    /// Largest number of pooled connections.
    pub max_connections: u32,
}

/// The IVR scripts and their prompts.
#[derive(Debug, Clone)]
pub struct IvrConfig {
    /// Folder of `*.toml` scripts.
    pub scripts_dir: PathBuf,
    /// The script run for every call, by name (file stem), e.g. `1100`.
    pub script: String,
    /// Folder of the prompt WAVs (`<lang>/<prompt>.wav`) and the prompt manifest.
    pub audio_dir: PathBuf,
}

impl IvrConfig {
    /// The path of the configured script.
    pub fn script_path(&self) -> PathBuf {
        self.scripts_dir.join(format!("{}.toml", self.script))
    }
}

/// The HTTP API.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Address to listen on (`/api/v1`, `/health`, `/metrics`).
    pub listen: SocketAddr,
    /// How long a client may take to send a request's headers (also how long an idle keep-alive
    /// connection stays open): a slow or silent client is cut off after it.
    pub header_read_timeout: Duration,
    /// How long one request may take, body and answer included; past it the client gets 408.
    pub request_timeout: Duration,
    /// Connections served at once. Past it a few more are let in to be answered `/health` or 503
    /// (`http::OVERFLOW_CONNECTIONS`), and the rest are closed as they arrive.
    pub max_connections: usize,
    /// Requests per second one client address may make to `/api/v1`, on average; `None` is no
    /// limit. Past it (and its burst) the client hears 429 with `Retry-After`.
    pub rate_limit_per_second: Option<u32>,
    /// Requests a client may make at once above its rate before it is held to it.
    pub rate_limit_burst: u32,
    /// Reverse proxies whose word on the client's address is taken (`http.trusted_proxies`):
    /// from them, the rightmost hop of [`Self::client_address_header`] that is not one of them
    /// is the client the throttles, the rate limit and the log key on. Empty: the peer always.
    pub trusted_proxies: Vec<crate::forwarded::Cidr>,
    /// The header trusted proxies name the client in (`x-forwarded-for` or `forwarded`).
    pub client_address_header: crate::forwarded::ForwardedHeader,
}

impl HttpConfig {
    /// The defaults of the `[http]` section, listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        HttpConfig {
            listen,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            rate_limit_per_second: Some(20),
            rate_limit_burst: 100,
            trusted_proxies: Vec::new(),
            client_address_header: crate::forwarded::ForwardedHeader::XForwardedFor,
        }
    }
}

/// Capacity and shutdown limits.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Calls handled at once; further calls are sent back to the dialplan's fallback unanswered.
    pub max_concurrent_calls: usize,
    /// How long calls in progress may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
}

/// Importing the dialplan fallback's recordings as tickets.
#[derive(Debug, Clone)]
pub struct FallbackConfig {
    /// Time between import rounds (one also runs on every ARI (re)connect).
    pub import_every: Duration,
}

/// Call records and the reports computed from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsConfig {
    /// The helpline's time zone: reports group calls by its local hours and days.
    pub time_zone: chrono_tz::Tz,
    /// The service-level target: a queued call answered within this many seconds counts as answered
    /// in time (the common 80/20 is 80% within 20 s).
    pub service_level_seconds: u32,
    /// How long call records and queue events are kept (`None`: for ever).
    pub keep: Option<Duration>,
}

/// Logging.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `helpline=debug,ari=info`.
    pub level: String,
    /// JSON lines instead of human-readable text.
    pub json: bool,
}

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The config file (its path).
    File(PathBuf),
    /// An environment variable (its name).
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The dotted key, e.g. `ari.url` (or the file, for a file that cannot be read).
    pub key: String,
    /// Where the offending value came from, if it came from anywhere.
    pub origin: Option<Origin>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "{} (from {origin}): {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// The configuration could not be used; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("the configuration has {} problem(s):\n{}", .problems.len(), render_problems(.problems))]
pub struct ConfigError {
    /// Every problem, in key order.
    pub problems: Vec<Problem>,
}

fn render_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One configuration key: its dotted name and the environment variables that can set it (first wins).
#[derive(Debug)]
struct KeySpec {
    key: &'static str,
    env: &'static [&'static str],
}

/// Every key the service understands. The file may hold only these; the environment overrides the file.
const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "ari.url",
        env: &["HELPLINE_ARI_URL"],
    },
    KeySpec {
        key: "ari.username",
        env: &["HELPLINE_ARI_USERNAME"],
    },
    KeySpec {
        key: "ari.password",
        env: &["HELPLINE_ARI_PASSWORD"],
    },
    KeySpec {
        key: "ari.app",
        env: &["HELPLINE_ARI_APP"],
    },
    KeySpec {
        key: "ari.request_timeout_seconds",
        env: &["HELPLINE_ARI_REQUEST_TIMEOUT_SECONDS"],
    },
    KeySpec {
        key: "ari.connect_timeout_seconds",
        env: &["HELPLINE_ARI_CONNECT_TIMEOUT_SECONDS"],
    },
    KeySpec {
        key: "database.url",
        env: &["HELPLINE_DATABASE_URL", "DATABASE_URL"],
    },
    KeySpec {
        key: "database.max_connections",
        env: &["HELPLINE_DATABASE_MAX_CONNECTIONS"],
    },
    KeySpec {
        key: "storage.journal_dir",
        env: &["HELPLINE_JOURNAL_DIR"],
    },
    KeySpec {
        key: "storage.recordings_dir",
        env: &["HELPLINE_RECORDINGS_DIR"],
    },
    KeySpec {
        key: "ivr.scripts_dir",
        env: &["HELPLINE_IVR_SCRIPTS_DIR"],
    },
    KeySpec {
        key: "ivr.script",
        env: &["HELPLINE_IVR_SCRIPT"],
    },
    KeySpec {
        key: "ivr.audio_dir",
        env: &["HELPLINE_IVR_AUDIO_DIR"],
    },
    KeySpec {
        key: "http.listen",
        env: &["HELPLINE_HTTP_LISTEN"],
    },
    KeySpec {
        key: "http.header_read_timeout_seconds",
        env: &["HELPLINE_HTTP_HEADER_READ_TIMEOUT_SECONDS"],
    },
    KeySpec {
        key: "http.request_timeout_seconds",
        env: &["HELPLINE_HTTP_REQUEST_TIMEOUT_SECONDS"],
    },
    KeySpec {
        key: "http.max_connections",
        env: &["HELPLINE_HTTP_MAX_CONNECTIONS"],
    },
    KeySpec {
        key: "http.rate_limit_per_second",
        env: &["HELPLINE_HTTP_RATE_LIMIT_PER_SECOND"],
    },
    KeySpec {
        key: "http.rate_limit_burst",
        env: &["HELPLINE_HTTP_RATE_LIMIT_BURST"],
    },
    KeySpec {
        key: "http.trusted_proxies",
        env: &["HELPLINE_HTTP_TRUSTED_PROXIES"],
    },
    KeySpec {
        key: "http.client_address_header",
        env: &["HELPLINE_HTTP_CLIENT_ADDRESS_HEADER"],
    },
    KeySpec {
        key: "limits.max_concurrent_calls",
        env: &["HELPLINE_MAX_CONCURRENT_CALLS"],
    },
    KeySpec {
        key: "limits.shutdown_grace_seconds",
        env: &["HELPLINE_SHUTDOWN_GRACE_SECONDS"],
    },
    KeySpec {
        key: "fallback.import_seconds",
        env: &["HELPLINE_FALLBACK_IMPORT_SECONDS"],
    },
    KeySpec {
        key: "tickets.feedback_from",
        env: &["HELPLINE_FEEDBACK_FROM"],
    },
    KeySpec {
        key: "tickets.recordings_keep_days_satisfied",
        env: &["HELPLINE_RECORDINGS_KEEP_DAYS_SATISFIED"],
    },
    KeySpec {
        key: "tickets.recordings_keep_days_unsatisfied",
        env: &["HELPLINE_RECORDINGS_KEEP_DAYS_UNSATISFIED"],
    },
    KeySpec {
        key: "records.time_zone",
        env: &["HELPLINE_TIME_ZONE"],
    },
    KeySpec {
        key: "records.service_level_seconds",
        env: &["HELPLINE_SERVICE_LEVEL_SECONDS"],
    },
    KeySpec {
        key: "records.keep_days",
        env: &["HELPLINE_RECORDS_KEEP_DAYS"],
    },
    KeySpec {
        key: "centre.callback_dial",
        env: &["HELPLINE_CALLBACK_DIAL"],
    },
    KeySpec {
        key: "outbound.enabled",
        env: &["HELPLINE_OUTBOUND_ENABLED"],
    },
    KeySpec {
        key: "outbound.dial",
        env: &["HELPLINE_OUTBOUND_DIAL"],
    },
    KeySpec {
        key: "outbound.caller_id",
        env: &["HELPLINE_OUTBOUND_CALLER_ID"],
    },
    KeySpec {
        key: "outbound.script",
        env: &["HELPLINE_OUTBOUND_SCRIPT"],
    },
    KeySpec {
        key: "outbound.window_open",
        env: &["HELPLINE_OUTBOUND_WINDOW_OPEN"],
    },
    KeySpec {
        key: "outbound.window_close",
        env: &["HELPLINE_OUTBOUND_WINDOW_CLOSE"],
    },
    KeySpec {
        key: "outbound.days",
        env: &["HELPLINE_OUTBOUND_DAYS"],
    },
    KeySpec {
        key: "outbound.holidays",
        env: &["HELPLINE_OUTBOUND_HOLIDAYS"],
    },
    KeySpec {
        key: "outbound.tries",
        env: &["HELPLINE_OUTBOUND_TRIES"],
    },
    KeySpec {
        key: "outbound.retry_after_minutes",
        env: &["HELPLINE_OUTBOUND_RETRY_AFTER_MINUTES"],
    },
    KeySpec {
        key: "outbound.after_last_try",
        env: &["HELPLINE_OUTBOUND_AFTER_LAST_TRY"],
    },
    KeySpec {
        key: "outbound.max_concurrent",
        env: &["HELPLINE_OUTBOUND_MAX_CONCURRENT"],
    },
    KeySpec {
        key: "outbound.per_asterisk",
        env: &["HELPLINE_OUTBOUND_PER_ASTERISK"],
    },
    KeySpec {
        key: "outbound.calls_per_second",
        env: &["HELPLINE_OUTBOUND_CALLS_PER_SECOND"],
    },
    KeySpec {
        key: "outbound.inbound_threshold",
        env: &["HELPLINE_OUTBOUND_INBOUND_THRESHOLD"],
    },
    KeySpec {
        key: "outbound.ring_seconds",
        env: &["HELPLINE_OUTBOUND_RING_SECONDS"],
    },
    KeySpec {
        key: "outbound.poll_seconds",
        env: &["HELPLINE_OUTBOUND_POLL_SECONDS"],
    },
    KeySpec {
        key: "outbound.first_call_after_minutes",
        env: &["HELPLINE_OUTBOUND_FIRST_CALL_AFTER_MINUTES"],
    },
    KeySpec {
        key: "reminders.enabled",
        env: &["HELPLINE_REMINDERS_ENABLED"],
    },
    KeySpec {
        key: "reminders.before_hours",
        env: &["HELPLINE_REMINDERS_BEFORE_HOURS"],
    },
    KeySpec {
        key: "reminders.script",
        env: &["HELPLINE_REMINDERS_SCRIPT"],
    },
    KeySpec {
        key: "reminders.tries",
        env: &["HELPLINE_REMINDERS_TRIES"],
    },
    KeySpec {
        key: "reminders.retry_after_minutes",
        env: &["HELPLINE_REMINDERS_RETRY_AFTER_MINUTES"],
    },
    KeySpec {
        key: "accounts.session_hours",
        env: &["HELPLINE_SESSION_HOURS"],
    },
    KeySpec {
        key: "accounts.session_idle_minutes",
        env: &["HELPLINE_SESSION_IDLE_MINUTES"],
    },
    KeySpec {
        key: "accounts.cookie_secure",
        env: &["HELPLINE_COOKIE_SECURE"],
    },
    KeySpec {
        key: "accounts.token_days",
        env: &["HELPLINE_TOKEN_DAYS"],
    },
    KeySpec {
        key: "log.level",
        env: &["HELPLINE_LOG_LEVEL"],
    },
    KeySpec {
        key: "log.json",
        env: &["HELPLINE_LOG_JSON"],
    },
];

/// The names of every environment variable the configuration reads, for `config check` and the docs.
pub fn environment_variables() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYS.iter()
        .flat_map(|spec| spec.env.iter().map(move |var| (spec.key, *var)))
}

/// A value as found, before validation.
#[derive(Debug, Clone)]
enum RawValue {
    /// From the TOML file: typed by TOML.
    Toml(toml::Value),
    /// From the environment: always text.
    Text(String),
}

/// The largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The configuration as found in the file and the environment, not yet validated.
#[derive(Debug, Default)]
pub struct RawConfig {
    values: BTreeMap<&'static str, (RawValue, Origin)>,
    problems: Vec<Problem>,
    /// `[notify]`: nested tables, read by `notify::RawNotify`.
    notify: notify::RawNotify,
}

impl RawConfig {
    /// Reads `path` (when given) and overlays the process environment.
    pub fn load(path: Option<&Path>) -> Self {
        Self::load_with_env(path, |var| std::env::var(var).ok())
    }

    /// Reads `path` (when given) and overlays the variables `env` returns (tests pass a map).
    pub fn load_with_env(path: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Self {
        let mut raw = RawConfig::default();
        if let Some(path) = path {
            // A FIFO or device is refused unopened (opening a FIFO blocks), a huge file unread.
            match ivr::check::read_regular_file(path, MAX_CONFIG_BYTES) {
                Ok(text) => raw.read_toml(&text, path),
                Err(err) => raw.problems.push(Problem {
                    key: path.display().to_string(),
                    origin: None,
                    message: format!("cannot read the config file: {err}"),
                }),
            }
        }
        raw.read_env(env);
        raw
    }

    /// Parses the text of a config file into this raw configuration.
    pub fn read_toml(&mut self, text: &str, path: &Path) {
        let table: toml::Table = match toml::from_str(text) {
            Ok(table) => table,
            Err(err) => {
                self.problems.push(Problem {
                    key: path.display().to_string(),
                    origin: None,
                    message: format!("not valid TOML: {err}"),
                });
                return;
            }
        };
        for (section, value) in table {
            if section == "notify"
                && let toml::Value::Table(entries) = value
            {
                self.notify.read_toml(entries, path);
                continue;
            }
            let toml::Value::Table(entries) = value else {
                self.problems.push(Problem {
                    key: section.clone(),
                    origin: Some(Origin::File(path.to_owned())),
                    message: format!("expected a [{section}] section"),
                });
                continue;
            };
            for (name, value) in entries {
                let dotted = format!("{section}.{name}");
                match KEYS.iter().find(|spec| spec.key == dotted) {
                    Some(spec) => {
                        self.values.insert(
                            spec.key,
                            (RawValue::Toml(value), Origin::File(path.to_owned())),
                        );
                    }
                    None => self.problems.push(Problem {
                        key: dotted,
                        origin: Some(Origin::File(path.to_owned())),
                        message: "unknown key (see helpline.example.toml for every key)".to_owned(),
                    }),
                }
            }
        }
    }

    fn read_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        self.notify.read_env(&env);
        for spec in KEYS {
            if let Some((var, value)) = spec
                .env
                .iter()
                .find_map(|var| env(var).map(|value| (*var, value)))
            {
                self.values
                    .insert(spec.key, (RawValue::Text(value), Origin::Env(var)));
            }
        }
    }

    /// Validates every value; returns the configuration or every problem found.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let mut v = Validator {
            raw: &self,
            problems: self.problems.clone(),
        };

        let ari_url = v.url("ari.url");
        let ari_username = v.string("ari.username");
        let ari_password = v.string("ari.password");
        let ari_app = v.string("ari.app").unwrap_or_else(|| "ivr-1100".to_owned());
        if ari_app.is_empty() || ari_app.contains(['/', '?', '#', ' ']) {
            v.problem(
                "ari.app",
                "must be a non-empty name without '/', '?', '#' or spaces",
            );
        }
        let request_timeout = v.seconds("ari.request_timeout_seconds", 10, 1, 300);
        let connect_timeout = v.seconds("ari.connect_timeout_seconds", 5, 1, 300);
        let ari = match ari_url {
            Some(url) => {
                if ari_username.is_none() {
                    v.problem(
                        "ari.username",
                        "required when ari.url is set (the user in ari.conf)",
                    );
                }
                if ari_password.is_none() {
                    v.problem(
                        "ari.password",
                        "required when ari.url is set (set HELPLINE_ARI_PASSWORD rather than \
                         writing it in the file)",
                    );
                }
                Some(AriConfig {
                    url,
                    username: ari_username.unwrap_or_default(),
                    password: Secret::new(ari_password.unwrap_or_default()),
                    request_timeout,
                    connect_timeout,
                })
            }
            None => None,
        };

        let database_url = v
            .string("database.url")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            v.problem(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql:// \
                 (e.g. sqlite://helpline-data/helpline.db)",
            );
        }
        if let Some(mode) = postgres_tls_mode(&database_url) {
            v.problem(
                "database.url",
                &format!("sslmode={mode}: {NO_TLS_POSTGRES}"),
            );
        }
        let max_connections = v.integer("database.max_connections", 10, 1, 1000) as u32;

        let journal_dir = v.path("storage.journal_dir", "helpline-data/journal");
        let recordings_dir = v.path("storage.recordings_dir", "helpline-data/recordings");

        let scripts_dir = v.path("ivr.scripts_dir", "ivr-scripts");
        let script = v.string("ivr.script").unwrap_or_else(|| "1100".to_owned());
        if script.is_empty() || script.contains(['/', '\\']) || script.ends_with(".toml") {
            v.problem(
                "ivr.script",
                "the script's name without folder or .toml, e.g. 1100",
            );
        }
        let audio_dir = v.path("ivr.audio_dir", "audio");

        let listen = v.socket_addr("http.listen", "127.0.0.1:8080");
        let defaults = HttpConfig::new(listen);
        let http = HttpConfig {
            listen,
            header_read_timeout: v.seconds(
                "http.header_read_timeout_seconds",
                defaults.header_read_timeout.as_secs(),
                1,
                300,
            ),
            request_timeout: v.seconds(
                "http.request_timeout_seconds",
                defaults.request_timeout.as_secs(),
                1,
                3600,
            ),
            max_connections: v.integer(
                "http.max_connections",
                defaults.max_connections as u64,
                1,
                100_000,
            ) as usize,
            // 0 turns the limit off (a node behind a proxy that limits, a benchmark).
            rate_limit_per_second: match v.integer(
                "http.rate_limit_per_second",
                defaults.rate_limit_per_second.map_or(0, u64::from),
                0,
                100_000,
            ) {
                0 => None,
                n => Some(n as u32),
            },
            rate_limit_burst: v.integer(
                "http.rate_limit_burst",
                u64::from(defaults.rate_limit_burst),
                1,
                100_000,
            ) as u32,
            trusted_proxies: trusted_proxies(&mut v),
            client_address_header: match v.string("http.client_address_header") {
                None => defaults.client_address_header,
                Some(text) => text.parse().unwrap_or_else(|message: String| {
                    v.problem("http.client_address_header", &message);
                    defaults.client_address_header
                }),
            },
        };
        let max_concurrent_calls = v.integer("limits.max_concurrent_calls", 1000, 1, 100_000);
        let shutdown_grace = v.seconds("limits.shutdown_grace_seconds", 30, 0, 3600);
        let import_every = v.seconds("fallback.import_seconds", 60, 1, 3600);
        // 0 keeps recordings (a legal hold); otherwise days after closure, at most ten years.
        let keep_days = |v: &mut Validator<'_>, key, default| match v.integer(key, default, 0, 3650)
        {
            0 => None,
            days => Some(Duration::from_secs(days * 24 * 3600)),
        };
        let retention = tickets::RecordingRetention {
            after_satisfied: keep_days(&mut v, "tickets.recordings_keep_days_satisfied", 180),
            after_unsatisfied: keep_days(&mut v, "tickets.recordings_keep_days_unsatisfied", 365),
        };
        let feedback_check = match v.string("tickets.feedback_from") {
            None => tickets::complainant::FeedbackCheck::default(),
            Some(text) => text.parse().unwrap_or_else(|err: String| {
                v.problem("tickets.feedback_from", &err);
                tickets::complainant::FeedbackCheck::default()
            }),
        };

        let time_zone = match v.string("records.time_zone") {
            None => chrono_tz::Asia::Kolkata,
            Some(name) => name.parse().unwrap_or_else(|_| {
                v.problem(
                    "records.time_zone",
                    &format!("{name:?} is not a time zone of the tz database (e.g. Asia/Kolkata)"),
                );
                chrono_tz::Asia::Kolkata
            }),
        };
        let records = RecordsConfig {
            time_zone,
            service_level_seconds: v.integer("records.service_level_seconds", 20, 1, 3600) as u32,
            keep: keep_days(&mut v, "records.keep_days", 730),
        };
        let callback_dial = v
            .string("centre.callback_dial")
            .unwrap_or_else(|| "PJSIP/{number}@telecom-trunk".to_owned());
        let sample = callback_dial.replace("{number}", "+919816012345");
        if !callback_dial.contains("{number}")
            || tickets::accounts::agent::dial_string("centre.callback_dial", &sample).is_err()
        {
            v.problem(
                "centre.callback_dial",
                "a dial string with {number} for the citizen's number, e.g. PJSIP/{number}@telecom-trunk",
            );
        }
        let outbound = outbound_config(&mut v, time_zone);
        let reminders = reminders_config(&mut v);
        let accounts = tickets::accounts::AccountsConfig {
            session_ttl: Duration::from_secs(v.integer("accounts.session_hours", 8, 1, 24) * 3600),
            session_idle: Duration::from_secs(
                v.integer("accounts.session_idle_minutes", 30, 2, 480) * 60,
            ),
            cookie_secure: v.boolean("accounts.cookie_secure", true),
            token_ttl: Duration::from_secs(v.integer("accounts.token_days", 90, 1, 366) * 86_400),
            ..tickets::accounts::AccountsConfig::default()
        };

        let level = v.string("log.level").unwrap_or_else(|| "info".to_owned());
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&level) {
            v.problem(
                "log.level",
                &format!("not a valid log filter ({err}); try info or debug"),
            );
        }
        let json = v.boolean("log.json", false);
        let notify = self.notify.validate(&mut v.problems);

        if !v.problems.is_empty() {
            let mut problems = v.problems;
            problems.sort_by(|a, b| a.key.cmp(&b.key));
            return Err(ConfigError { problems });
        }
        Ok(Config {
            ari,
            ari_app,
            database: DatabaseConfig {
                url: DatabaseUrl::new(database_url),
                max_connections,
            },
            journal_dir,
            recordings_dir,
            ivr: IvrConfig {
                scripts_dir,
                script,
                audio_dir,
            },
            http,
            limits: LimitsConfig {
                max_concurrent_calls: max_concurrent_calls as usize,
                shutdown_grace,
            },
            fallback: FallbackConfig { import_every },
            feedback_check,
            retention,
            records,
            callback_dial,
            outbound,
            reminders,
            accounts,
            notify,
            log: LogConfig { level, json },
        })
    }
}

/// Tries and the minutes between them (`KEY.tries`, `KEY.retry_after_minutes`), every problem
/// reported (the default policy stands in meanwhile).
fn retry_policy(
    v: &mut Validator<'_>,
    (tries_key, default_tries): (&'static str, u64),
    (delays_key, default_delays): (&'static str, &str),
    after_last: outbound::AfterLastTry,
) -> outbound::RetryPolicy {
    let tries = v.integer(tries_key, default_tries, 1, 10) as u32;
    let mut delays = Vec::new();
    for minutes in v
        .string(delays_key)
        .unwrap_or_else(|| default_delays.to_owned())
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        match minutes.parse::<u64>() {
            Ok(m) if m >= 1 => delays.push(Duration::from_secs(m * 60)),
            _ => v.problem(
                delays_key,
                &format!("{minutes:?} is not a number of minutes (1 or more, separated by commas)"),
            ),
        }
    }
    outbound::RetryPolicy::new(tries, delays, after_last).unwrap_or_else(|err| {
        v.problem(delays_key, &err.to_string());
        outbound::RetryPolicy::default()
    })
}

/// `[reminders]`: officers reminded of tickets nearing or past their due time.
fn reminders_config(v: &mut Validator<'_>) -> RemindersConfig {
    let enabled = v.boolean("reminders.enabled", false);
    let before = Duration::from_secs(v.integer("reminders.before_hours", 24, 0, 24 * 30) * 3600);
    let script = v
        .string("reminders.script")
        .unwrap_or_else(|| "remind".to_owned());
    if script.is_empty() || script.contains(['/', '\\']) || script.ends_with(".toml") {
        v.problem(
            "reminders.script",
            "the name of a script in ivr.scripts_dir, without .toml (e.g. remind)",
        );
    }
    // After the last try a reminder is given up and logged: neither call-back nor closing applies.
    let retry = retry_policy(
        v,
        ("reminders.tries", 3),
        ("reminders.retry_after_minutes", "60, 120"),
        outbound::AfterLastTry::CallBack,
    );
    RemindersConfig {
        policy: tickets::ReminderPolicy { enabled, before },
        script,
        retry,
    }
}

/// `[outbound]`, every problem reported (the defaults stand in for a bad value meanwhile).
fn outbound_config(v: &mut Validator<'_>, time_zone: chrono_tz::Tz) -> OutboundConfig {
    let enabled = v.boolean("outbound.enabled", false);
    let dial = v
        .string("outbound.dial")
        .unwrap_or_else(|| "PJSIP/{number}@telecom-trunk".to_owned());
    let sample = dial.replace("{number}", "+919816012345");
    if !dial.contains("{number}")
        || tickets::accounts::agent::dial_string("outbound.dial", &sample).is_err()
    {
        v.problem(
            "outbound.dial",
            "a dial string with {number} for the citizen's number, e.g. PJSIP/{number}@telecom-trunk",
        );
    }
    let caller_id = v
        .string("outbound.caller_id")
        .unwrap_or_else(|| "\"CM Helpline\" <1100>".to_owned());
    let script = v
        .string("outbound.script")
        .unwrap_or_else(|| "confirm".to_owned());
    if script.is_empty() || script.contains(['/', '\\']) || script.ends_with(".toml") {
        v.problem(
            "outbound.script",
            "the name of a script in ivr.scripts_dir, without .toml (e.g. confirm)",
        );
    }
    let time = |v: &mut Validator<'_>, key: &'static str, default: &str| {
        let text = v.string(key).unwrap_or_else(|| default.to_owned());
        chrono::NaiveTime::parse_from_str(&text, "%H:%M").unwrap_or_else(|_| {
            v.problem(key, "a time of day as HH:MM, e.g. 09:00");
            chrono::NaiveTime::parse_from_str(default, "%H:%M").unwrap_or_default()
        })
    };
    let opens = time(v, "outbound.window_open", "09:00");
    let closes = time(v, "outbound.window_close", "20:00");
    let window = outbound::CallingWindow::new(time_zone, opens, closes).unwrap_or_else(|err| {
        v.problem("outbound.window_close", &err.to_string());
        outbound::CallingWindow::new(
            time_zone,
            chrono::NaiveTime::MIN,
            chrono::NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default(),
        )
        .unwrap_or_else(|_| unreachable_window(time_zone))
    });
    let window = match v.string("outbound.days") {
        None => window,
        Some(text) => {
            let mut days = Vec::new();
            let mut bad = false;
            for day in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
                match day.parse::<chrono::Weekday>() {
                    Ok(d) => days.push(d),
                    Err(_) => {
                        bad = true;
                        v.problem(
                            "outbound.days",
                            &format!("{day:?} is not a week day (mon … sun)"),
                        );
                    }
                }
            }
            match window.clone().on_days(days) {
                Ok(w) => w,
                Err(err) => {
                    // One problem per key: a bad name already said why no day is left.
                    if !bad {
                        v.problem("outbound.days", &err.to_string());
                    }
                    window
                }
            }
        }
    };
    let mut holidays = Vec::new();
    for day in v
        .string("outbound.holidays")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(d) => holidays.push(d),
            Err(_) => v.problem(
                "outbound.holidays",
                &format!("{day:?} is not a date YYYY-MM-DD (dates separated by commas)"),
            ),
        }
    }
    let window = window.with_holidays(holidays);

    let after_last = match v.string("outbound.after_last_try") {
        None => outbound::AfterLastTry::CallBack,
        Some(text) => text.parse().unwrap_or_else(|err: outbound::RetryError| {
            v.problem("outbound.after_last_try", &err.to_string());
            outbound::AfterLastTry::CallBack
        }),
    };
    let retry = retry_policy(
        v,
        ("outbound.tries", 3),
        ("outbound.retry_after_minutes", "240, 2640"),
        after_last,
    );
    let pacing = outbound::Pacing::new(
        v.integer("outbound.max_concurrent", 10, 1, 1000) as usize,
        v.integer("outbound.per_asterisk", 10, 1, 1000) as usize,
        v.integer("outbound.calls_per_second", 2, 1, 100) as u32,
        v.integer("outbound.inbound_threshold", 50, 1, 100_000) as u32,
    )
    .unwrap_or_default();
    OutboundConfig {
        enabled,
        dial,
        caller_id,
        script,
        dialer: outbound::DialerConfig::new(window, pacing, retry),
        ring: v.seconds("outbound.ring_seconds", 30, 5, 120),
        poll: v.seconds("outbound.poll_seconds", 5, 1, 3600),
        first_call_after: Duration::from_secs(
            v.integer("outbound.first_call_after_minutes", 0, 0, 7 * 24 * 60) * 60,
        ),
    }
}

/// `http.trusted_proxies`: networks (`10.0.0.0/8`) or addresses, each checked.
fn trusted_proxies(v: &mut Validator<'_>) -> Vec<crate::forwarded::Cidr> {
    let mut nets = Vec::new();
    for text in v.list("http.trusted_proxies").unwrap_or_default() {
        match text.parse::<crate::forwarded::Cidr>() {
            Ok(net) => nets.push(net),
            Err(message) => v.problem("http.trusted_proxies", &message),
        }
    }
    nets
}

/// A window open all day: what a refused window leaves while its problem is reported.
fn unreachable_window(time_zone: chrono_tz::Tz) -> outbound::CallingWindow {
    let mut opens = chrono::NaiveTime::MIN;
    loop {
        let closes = opens + chrono::Duration::minutes(1);
        if let Ok(w) = outbound::CallingWindow::new(time_zone, opens, closes) {
            return w;
        }
        opens = closes;
    }
}

/// Turns raw values into typed ones, collecting problems instead of stopping at the first.
struct Validator<'a> {
    raw: &'a RawConfig,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(&mut self, key: &str, message: &str) {
        let origin = self.raw.values.get(key).map(|(_, origin)| origin.clone());
        self.problems.push(Problem {
            key: key.to_owned(),
            origin,
            message: message.to_owned(),
        });
    }

    fn string(&mut self, key: &'static str) -> Option<String> {
        match self.raw.values.get(key)? {
            (RawValue::Text(text), _) | (RawValue::Toml(toml::Value::String(text)), _) => {
                Some(text.clone())
            }
            (RawValue::Toml(other), _) => {
                let kind = other.type_str();
                self.problem(key, &format!("expected a string, found {kind}"));
                None
            }
        }
    }

    /// A list of strings: a TOML array, or (from the environment) text separated by commas.
    fn list(&mut self, key: &'static str) -> Option<Vec<String>> {
        match self.raw.values.get(key)? {
            (RawValue::Text(text), _) | (RawValue::Toml(toml::Value::String(text)), _) => Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            (RawValue::Toml(toml::Value::Array(items)), _) => {
                let texts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect();
                if texts.is_none() {
                    self.problem(key, "expected a list of strings");
                }
                texts
            }
            (RawValue::Toml(other), _) => {
                let kind = other.type_str();
                self.problem(key, &format!("expected a list of strings, found {kind}"));
                None
            }
        }
    }

    fn path(&mut self, key: &'static str, default: &str) -> PathBuf {
        match self.string(key) {
            Some(text) if text.is_empty() => {
                self.problem(key, "must not be empty");
                PathBuf::from(default)
            }
            Some(text) => PathBuf::from(text),
            None => PathBuf::from(default),
        }
    }

    fn integer(&mut self, key: &'static str, default: u64, min: u64, max: u64) -> u64 {
        let parsed = match self.raw.values.get(key) {
            None => return default,
            Some((RawValue::Toml(toml::Value::Integer(n)), _)) => u64::try_from(*n).ok(),
            Some((RawValue::Text(text), _)) => text.trim().parse::<u64>().ok(),
            Some((RawValue::Toml(other), _)) => {
                let kind = other.type_str();
                self.problem(key, &format!("expected a whole number, found {kind}"));
                return default;
            }
        };
        match parsed {
            Some(n) if (min..=max).contains(&n) => n,
            _ => {
                self.problem(key, &format!("must be a whole number from {min} to {max}"));
                default
            }
        }
    }

    fn seconds(&mut self, key: &'static str, default: u64, min: u64, max: u64) -> Duration {
        Duration::from_secs(self.integer(key, default, min, max))
    }

    fn boolean(&mut self, key: &'static str, default: bool) -> bool {
        match self.raw.values.get(key) {
            None => default,
            Some((RawValue::Toml(toml::Value::Boolean(b)), _)) => *b,
            Some((RawValue::Text(text), _)) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    self.problem(key, "must be true or false");
                    default
                }
            },
            Some((RawValue::Toml(other), _)) => {
                let kind = other.type_str();
                self.problem(key, &format!("expected true or false, found {kind}"));
                default
            }
        }
    }

    fn url(&mut self, key: &'static str) -> Option<url::Url> {
        let text = self.string(key)?;
        if text.is_empty() {
            return None;
        }
        match url::Url::parse(&text) {
            Ok(url) if url.scheme() == "https" && url.has_host() => {
                self.problem(key, NO_TLS_ARI);
                None
            }
            Ok(url) if url.scheme() == "http" && url.has_host() => {
                if url.password().is_some() || !url.username().is_empty() {
                    self.problem(
                        key,
                        "put the user and password in ari.username/ari.password",
                    );
                    return None;
                }
                Some(url)
            }
            Ok(_) => {
                self.problem(key, "must be an http:// URL, e.g. http://127.0.0.1:8088");
                None
            }
            Err(err) => {
                self.problem(
                    key,
                    &format!("not a URL ({err}), e.g. http://127.0.0.1:8088"),
                );
                None
            }
        }
    }

    fn socket_addr(&mut self, key: &'static str, default: &str) -> SocketAddr {
        let fallback: SocketAddr = default
            .parse()
            .expect("defaults are valid socket addresses");
        match self.string(key) {
            None => fallback,
            Some(text) => match text.parse::<SocketAddr>() {
                Ok(addr) => addr,
                Err(_) => {
                    self.problem(key, "must be an IP address and port, e.g. 127.0.0.1:8080");
                    fallback
                }
            },
        }
    }
}

/// Why an `https://` ARI URL is refused: this build has no TLS stack, and a URL that is accepted but then
/// fails at connect time would be found only when calls are already being turned away.
const NO_TLS_ARI: &str = "https:// (ARI over TLS) is not supported: this build has no TLS stack. Run \
     helpline on the Asterisk host and use ARI on the loopback interface, http://127.0.0.1:8088 \
     (deploy/asterisk/http.conf binds it there)";

/// Why a PostgreSQL URL that demands TLS is refused (see [`NO_TLS_ARI`]).
const NO_TLS_POSTGRES: &str = "PostgreSQL over TLS is not supported: this build has no TLS stack. \
     Reach the database over a private network or a local socket and use sslmode=disable or prefer";

/// The `sslmode` of a PostgreSQL URL when it demands TLS (`require`, `verify-ca`, `verify-full`); `None`
/// for other URLs and for the modes that work without TLS (`disable`, `allow`, `prefer`).
fn postgres_tls_mode(database_url: &str) -> Option<String> {
    if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
        return None;
    }
    let url = url::Url::parse(database_url).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.to_ascii_lowercase())
        .filter(|mode| matches!(mode.as_str(), "require" | "verify-ca" | "verify-full"))
}

impl Config {
    /// Loads `path` (if any) and the environment, and validates.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        RawConfig::load(path).validate()
    }

    /// A human-readable summary with secrets masked, for `config check` and the start-up log.
    pub fn summary(&self) -> String {
        let ari = match &self.ari {
            Some(ari) => format!(
                "{} as {} (password {}), app {}, request timeout {}s, connect timeout {}s",
                ari.url,
                ari.username,
                if ari.password.expose().is_empty() {
                    "empty"
                } else {
                    "set"
                },
                self.ari_app,
                ari.request_timeout.as_secs(),
                ari.connect_timeout.as_secs()
            ),
            None => format!(
                "not configured: the built-in simulator is used (app {})",
                self.ari_app
            ),
        };
        let keep = |d: Option<Duration>| match d {
            Some(d) => format!("deleted {} days", d.as_secs() / 86_400),
            None => "kept".to_owned(),
        };
        format!(
            "ari:        {ari}\n\
             database:   {} (pool {})\n\
             journal:    {}\n\
             recordings: {}\n\
             ivr:        script {} in {}, prompts in {}\n\
             http:       {} ({} connections, headers within {}s, requests within {}s, {})\n\
             limits:     {} concurrent calls, {}s shutdown grace\n\
             fallback:   recordings imported every {}s\n\
             feedback:   by phone from {}\n\
             retention:  recordings {} after a satisfied closure, {} after an unsatisfied one\n\
             accounts:   sessions {} h ({} min idle), cookie {}, tokens {} days\n\
             notify:     {}\n\
             log:        {}{}",
            self.database.url,
            self.database.max_connections,
            self.journal_dir.display(),
            self.recordings_dir.display(),
            self.ivr.script,
            self.ivr.scripts_dir.display(),
            self.ivr.audio_dir.display(),
            self.http.listen,
            self.http.max_connections,
            self.http.header_read_timeout.as_secs(),
            self.http.request_timeout.as_secs(),
            match self.http.rate_limit_per_second {
                Some(rate) => format!(
                    "{rate} API requests/s per client, bursts of {}",
                    self.http.rate_limit_burst
                ),
                None => "no API rate limit".to_owned(),
            },
            self.limits.max_concurrent_calls,
            self.limits.shutdown_grace.as_secs(),
            self.fallback.import_every.as_secs(),
            self.feedback_check,
            keep(self.retention.after_satisfied),
            keep(self.retention.after_unsatisfied),
            self.accounts.session_ttl.as_secs() / 3600,
            self.accounts.session_idle.as_secs() / 60,
            if self.accounts.cookie_secure {
                "HTTPS only"
            } else {
                "also over plain HTTP"
            },
            self.accounts.token_ttl.as_secs() / 86_400,
            notify::summary(&self.notify),
            self.log.level,
            if self.log.json { " (JSON)" } else { "" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `toml_text` and `env` read and validated (the `[notify]` tests use it too).
    pub(super) fn load(toml_text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut raw = RawConfig::default();
        raw.read_toml(toml_text, Path::new("test.toml"));
        raw.read_env(|var| env.get(var).cloned());
        raw.validate()
    }

    #[test]
    fn empty_config_gives_the_documented_defaults() {
        let config = load("", &[]).unwrap();
        assert!(config.ari.is_none());
        assert_eq!(config.ari_app, "ivr-1100");
        assert_eq!(config.database.url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(config.ivr.script_path(), Path::new("ivr-scripts/1100.toml"));
        assert_eq!(config.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.http.header_read_timeout, Duration::from_secs(10));
        assert_eq!(config.http.request_timeout, Duration::from_secs(30));
        assert_eq!(config.http.max_connections, 1024);
        assert_eq!(config.http.rate_limit_per_second, Some(20));
        assert_eq!(config.http.rate_limit_burst, 100);
        assert!(
            config.http.trusted_proxies.is_empty(),
            "no proxy is trusted by default"
        );
        let config = load(
            "[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nclient_address_header = \"forwarded\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.http.trusted_proxies.len(), 2);
        assert_eq!(
            config.http.client_address_header,
            crate::forwarded::ForwardedHeader::Forwarded
        );
        let config = load(
            "",
            &[("HELPLINE_HTTP_TRUSTED_PROXIES", "127.0.0.1, 192.168.0.0/16")],
        )
        .unwrap();
        assert_eq!(config.http.trusted_proxies.len(), 2);
        let err = load(
            "[http]\ntrusted_proxies = [\"10.0.0.0/40\", \"proxy\"]\nclient_address_header = \"via\"\n",
            &[],
        )
        .unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.client_address_header",
                "http.trusted_proxies",
                "http.trusted_proxies"
            ]
        );
        let config = load("[http]\nrate_limit_per_second = 0\n", &[]).unwrap();
        assert_eq!(config.http.rate_limit_per_second, None, "0 is no limit");
        let err = load("", &[("HELPLINE_HTTP_RATE_LIMIT_BURST", "0")]).unwrap_err();
        assert_eq!(err.problems[0].key, "http.rate_limit_burst");
        assert_eq!(config.limits.shutdown_grace, Duration::from_secs(30));
        assert!(!config.log.json);
    }

    #[test]
    fn the_example_file_is_valid_and_documents_every_key() {
        let text = include_str!("../helpline.example.toml");
        let config = load(text, &[("HELPLINE_ARI_PASSWORD", "pw")]).unwrap();
        assert!(config.ari.is_some());
        for spec in KEYS {
            let (section, name) = spec.key.split_once('.').unwrap();
            assert!(
                text.contains(&format!("[{section}]")),
                "section {section} documented"
            );
            assert!(
                text.contains(&format!("{name} =")),
                "{} documented",
                spec.key
            );
            for var in spec.env {
                assert!(text.contains(var), "{var} documented");
            }
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load(
            "[database]\nurl = \"sqlite://a.db\"\n[log]\njson = false\n",
            &[
                ("DATABASE_URL", "postgres://u:pw@db/helpline"),
                ("HELPLINE_LOG_JSON", "true"),
            ],
        )
        .unwrap();
        assert!(config.database.url.is_postgres());
        assert!(config.log.json);
    }

    #[test]
    fn helpline_database_url_wins_over_database_url() {
        let config = load(
            "",
            &[
                ("DATABASE_URL", "sqlite://other.db"),
                ("HELPLINE_DATABASE_URL", "sqlite://mine.db"),
            ],
        )
        .unwrap();
        assert_eq!(config.database.url.expose(), "sqlite://mine.db");
    }

    #[test]
    fn recordings_are_kept_a_bounded_number_of_days_after_closure_or_on_hold() {
        let day = Duration::from_secs(86_400);
        let config = load("", &[]).unwrap();
        assert_eq!(config.retention.after_satisfied, Some(day * 180));
        assert_eq!(config.retention.after_unsatisfied, Some(day * 365));
        let config = load(
            "[tickets]\nrecordings_keep_days_satisfied = 0\n",
            &[("HELPLINE_RECORDINGS_KEEP_DAYS_UNSATISFIED", "30")],
        )
        .unwrap();
        assert_eq!(config.retention.after_satisfied, None, "0 is a legal hold");
        assert_eq!(config.retention.after_unsatisfied, Some(day * 30));
        let err = load("[tickets]\nrecordings_keep_days_satisfied = 5000\n", &[]).unwrap_err();
        assert_eq!(
            err.problems[0].key,
            "tickets.recordings_keep_days_satisfied"
        );
    }

    #[test]
    fn reports_default_to_india_and_80_20_and_a_bad_zone_is_named() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.records.time_zone, chrono_tz::Asia::Kolkata);
        assert_eq!(config.records.service_level_seconds, 20);
        assert_eq!(config.records.keep, Some(Duration::from_secs(730 * 86_400)));
        let config = load(
            "[records]\ntime_zone = \"Europe/London\"\nkeep_days = 0\n",
            &[("HELPLINE_SERVICE_LEVEL_SECONDS", "30")],
        )
        .unwrap();
        assert_eq!(config.records.time_zone, chrono_tz::Europe::London);
        assert_eq!(config.records.service_level_seconds, 30);
        assert_eq!(config.records.keep, None);
        let err = load("[records]\ntime_zone = \"IST\"\n", &[]).unwrap_err();
        assert_eq!(err.problems[0].key, "records.time_zone");
        assert!(err.problems[0].message.contains("Asia/Kolkata"), "{err}");
    }

    #[test]
    fn call_backs_dial_the_trunk_unless_configured_and_a_bad_dial_string_is_named() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.callback_dial, "PJSIP/{number}@telecom-trunk");
        let config = load(
            "[centre]\ncallback_dial = \"PJSIP/0{number}@bsnl\"\n",
            &[("HELPLINE_CALLBACK_DIAL", "PJSIP/{number}@airtel")],
        )
        .unwrap();
        assert_eq!(
            config.callback_dial, "PJSIP/{number}@airtel",
            "the environment wins"
        );
        for bad in [
            "PJSIP/telecom-trunk",
            "Local/{number},1",
            "PJSIP/{number}@t$(x)",
        ] {
            let err = load(&format!("[centre]\ncallback_dial = \"{bad}\"\n"), &[]).unwrap_err();
            assert_eq!(err.problems[0].key, "centre.callback_dial", "{bad}");
        }
    }

    #[test]
    fn feedback_by_phone_is_from_the_complainant_unless_configured_otherwise() {
        use tickets::complainant::FeedbackCheck;
        let config = load("", &[]).unwrap();
        assert_eq!(
            config.feedback_check,
            FeedbackCheck::RegisteredNumberOrDigits
        );
        let config = load("[tickets]\nfeedback_from = \"registered_number\"\n", &[]).unwrap();
        assert_eq!(config.feedback_check, FeedbackCheck::RegisteredNumber);
        let err = load("", &[("HELPLINE_FEEDBACK_FROM", "everybody")]).unwrap_err();
        assert_eq!(err.problems[0].key, "tickets.feedback_from");
        assert!(
            err.problems[0]
                .message
                .contains("registered_number_or_digits")
        );
    }

    #[test]
    fn the_fallback_import_interval_defaults_to_a_minute_and_is_bounded() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.fallback.import_every, Duration::from_secs(60));
        let config = load(
            "[fallback]\nimport_seconds = 300\n",
            &[("HELPLINE_FALLBACK_IMPORT_SECONDS", "5")],
        )
        .unwrap();
        assert_eq!(config.fallback.import_every, Duration::from_secs(5));
        let err = load("[fallback]\nimport_seconds = 0\n", &[]).unwrap_err();
        assert_eq!(err.problems[0].key, "fallback.import_seconds");
    }

    #[test]
    fn outbound_defaults_and_every_problem_at_once() {
        let config = load("", &[]).unwrap();
        let o = &config.outbound;
        assert!(!o.enabled, "off until a deployment turns it on");
        assert_eq!(o.dial, "PJSIP/{number}@telecom-trunk");
        assert_eq!(o.script, "confirm");
        assert_eq!(o.dialer.retry.tries(), 3);
        assert_eq!(
            o.dialer.retry.after_last(),
            outbound::AfterLastTry::CallBack
        );
        let ist = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert!(o.dialer.window.contains(ist("2026-12-04T09:00:00+05:30")));
        assert!(!o.dialer.window.contains(ist("2026-12-04T20:00:00+05:30")));

        let config = load(
            "[outbound]\nenabled = true\nholidays = \"2026-12-25\"\ndays = \"mon, tue\"\n\
             tries = 2\nretry_after_minutes = \"30\"\nafter_last_try = \"close_unverified\"\n",
            &[("HELPLINE_OUTBOUND_MAX_CONCURRENT", "3")],
        )
        .unwrap();
        let o = &config.outbound;
        assert!(o.enabled);
        assert_eq!(o.dialer.pacing.max_concurrent(), 3);
        assert_eq!(
            o.dialer.retry.delay_after(1),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            o.dialer.retry.after_last(),
            outbound::AfterLastTry::CloseUnverified
        );
        // Friday 25 December: not a calling day (mon, tue only), and a holiday besides.
        assert!(!o.dialer.window.contains(ist("2026-12-25T10:00:00+05:30")));

        let err = load(
            "[outbound]\ndial = \"PJSIP/telecom-trunk\"\nwindow_open = \"9am\"\n\
             days = \"funday\"\nholidays = \"25/12/2026\"\ntries = 3\n\
             retry_after_minutes = \"60\"\nafter_last_try = \"satisfied\"\n",
            &[],
        )
        .unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "outbound.after_last_try",
                "outbound.days",
                "outbound.dial",
                "outbound.holidays",
                "outbound.retry_after_minutes",
                "outbound.window_open",
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_with_key_and_origin() {
        let err = load(
            "[ari]\nurl = \"ftp://x\"\nrequest_timeout_seconds = \"ten\"\n\
             [http]\nlisten = \"localhost\"\n[limits]\nmax_concurrent_calls = 0\n\
             [log]\nlevel = \"[[[\"\n[bogus]\nkey = 1\n",
            &[("HELPLINE_SHUTDOWN_GRACE_SECONDS", "soon")],
        )
        .unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ari.request_timeout_seconds",
                "ari.url",
                "bogus.key",
                "http.listen",
                "limits.max_concurrent_calls",
                "limits.shutdown_grace_seconds",
                "log.level",
            ]
        );
        let grace = err
            .problems
            .iter()
            .find(|p| p.key == "limits.shutdown_grace_seconds")
            .unwrap();
        assert_eq!(
            grace.origin,
            Some(Origin::Env("HELPLINE_SHUTDOWN_GRACE_SECONDS"))
        );
        assert!(err.to_string().contains("7 problem(s)"));
    }

    #[test]
    fn tls_that_cannot_work_is_refused_at_check_time() {
        let err = load("[ari]\nurl = \"https://pbx.example:8089\"\n", &[]).unwrap_err();
        assert_eq!(err.problems[0].key, "ari.url");
        assert!(err.problems[0].message.contains("no TLS stack"), "{err}");
        for mode in ["require", "verify-ca", "VERIFY-FULL"] {
            let url = format!("postgres://h@db.example/helpline?sslmode={mode}");
            let err = load("", &[("HELPLINE_DATABASE_URL", &url)]).unwrap_err();
            assert_eq!(err.problems[0].key, "database.url", "{mode}");
            assert!(err.problems[0].message.contains("no TLS stack"), "{err}");
        }
        for mode in ["disable", "prefer", "allow"] {
            let url = format!("postgres://h@db.example/helpline?sslmode={mode}");
            assert!(
                load("", &[("HELPLINE_DATABASE_URL", &url)]).is_ok(),
                "{mode}"
            );
        }
    }

    #[test]
    fn ari_url_requires_credentials() {
        let err = load("[ari]\nurl = \"http://127.0.0.1:8088\"\n", &[]).unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["ari.password", "ari.username"]);
    }

    #[test]
    fn secrets_never_print() {
        let config = load(
            "[ari]\nurl = \"http://127.0.0.1:8088\"\nusername = \"helpline\"\n",
            &[
                ("HELPLINE_ARI_PASSWORD", "hunter2-secret"),
                ("DATABASE_URL", "postgres://app:db-secret@db:5432/helpline"),
            ],
        )
        .unwrap();
        let shown = format!("{config:?}\n{}", config.summary());
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(!shown.contains("db-secret"), "{shown}");
        assert!(
            shown.contains("postgres://app:***@db:5432/helpline"),
            "{shown}"
        );
        assert_eq!(config.ari.unwrap().password.expose(), "hunter2-secret");
    }

    #[test]
    fn unreadable_file_is_a_problem_not_a_panic() {
        let err = RawConfig::load_with_env(Some(Path::new("/nonexistent/helpline.toml")), |_| None)
            .validate()
            .unwrap_err();
        assert!(err.problems[0].message.contains("cannot read"));
    }
}
