//! The notifier's validated configuration: the SMS gateway and its templates, the webhook
//! subscribers, the retry policy and the worker's pacing. The raw form (TOML, environment) and its
//! checks, every problem at once, live with the node's config (`src/config.rs`); these types
//! cannot hold an invalid value. Secrets are [`Secret`]s: never printed.

use std::fmt;
use std::time::Duration;

use tickets::outbox::EventKind;
use url::Url;

use crate::retry::RetryPolicy;
use crate::sms::SmsGateway;
use crate::template::Templates;

/// A credential: compared and sent, never printed (`Debug` shows `[redacted]`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for sending.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// SMS to citizens.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    pub gateway: SmsGateway,
    /// The DLT-registered sender id (header), e.g. `CMHLPL`.
    pub sender_id: String,
    pub templates: Templates,
}

/// One webhook subscriber.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Its name: the delivery's target is `webhook:<name>`.
    pub name: String,
    pub url: Url,
    /// The event kinds it receives.
    pub events: Vec<EventKind>,
    /// The HMAC-SHA256 key of its signatures.
    pub secret: Secret,
}

/// Everything the notifier needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub sms: Option<SmsConfig>,
    pub webhooks: Vec<Subscriber>,
    pub retry: RetryPolicy,
    /// How often the worker looks for new events and due deliveries.
    pub poll_every: Duration,
    /// How long a claimed delivery is this node's: longer than a try can take (the request's
    /// timeout and recording its outcome), so a lease never runs out under a live try.
    pub lease: Duration,
    /// Most tries in flight at once.
    pub concurrency: usize,
    /// Each request's whole time limit.
    pub request_timeout: Duration,
    /// On stop, how long tries in flight may go on; those still going are left leased and tried
    /// again once the lease runs out.
    pub drain: Duration,
}

impl Config {
    /// No SMS, no webhooks; the worker's defaults.
    pub fn new() -> Config {
        Config {
            sms: None,
            webhooks: Vec::new(),
            retry: RetryPolicy::default(),
            poll_every: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            concurrency: 16,
            request_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(15),
        }
    }

    /// Whether anything is configured to be delivered at all.
    pub fn delivers_anything(&self) -> bool {
        self.sms.is_some() || !self.webhooks.is_empty()
    }

    pub fn subscriber(&self, name: &str) -> Option<&Subscriber> {
        self.webhooks.iter().find(|s| s.name == name)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.expose(), "hunter2");
    }
}
