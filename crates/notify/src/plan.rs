//! Which deliveries an event causes: an SMS to the citizen when a message is configured for the
//! event's kind and the caller has a real Indian mobile number (never `unknown`, a landline or a
//! foreign number: DLT SMS reach Indian mobiles only), and a webhook to each subscriber that asked
//! for the kind. Decided once per event, when the notifier first sees it.

use std::fmt;

use tickets::outbox::OutboxEvent;

use crate::config::Config;

/// Where one delivery goes; stored as its [`Target::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Sms,
    Webhook(String),
}

impl Target {
    pub fn key(&self) -> String {
        match self {
            Target::Sms => "sms".to_owned(),
            Target::Webhook(name) => format!("webhook:{name}"),
        }
    }

    pub fn parse(key: &str) -> Option<Target> {
        match key {
            "sms" => Some(Target::Sms),
            _ => key
                .strip_prefix("webhook:")
                .filter(|n| !n.is_empty())
                .map(|n| Target::Webhook(n.to_owned())),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// An Indian mobile number as `tickets::caller` normalises it: `+91` and 10 digits from 6 to 9.
pub fn is_sms_reachable(number: &str) -> bool {
    number.strip_prefix("+91").is_some_and(|n| {
        n.len() == 10
            && n.bytes().all(|b| b.is_ascii_digit())
            && matches!(n.as_bytes()[0], b'6'..=b'9')
    })
}

/// The deliveries `event` causes under `config`.
pub fn plan(event: &OutboxEvent, config: &Config) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(sms) = &config.sms
        && sms.templates.has(event.kind)
        && is_sms_reachable(&event.caller_number)
    {
        targets.push(Target::Sms);
    }
    for subscriber in &config.webhooks {
        if subscriber.events.contains(&event.kind) {
            targets.push(Target::Webhook(subscriber.name.clone()));
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use proptest::prelude::*;
    use tickets::outbox::EventKind;

    use super::*;
    use crate::config::{Secret, SmsConfig, Subscriber};
    use crate::sms::tests::gateway;
    use crate::template::{Template, Templates, Text};

    fn event(kind: EventKind, caller: &str) -> OutboxEvent {
        OutboxEvent {
            id: "evt_1".into(),
            kind,
            ticket_number: "2611020001".into(),
            caller_number: caller.into(),
            language: "hi".into(),
            payload: "{}".into(),
            occurred_at: Utc::now(),
        }
    }

    fn config() -> Config {
        let mut templates = Templates::new("en");
        for kind in [EventKind::Registered, EventKind::Resolved] {
            templates.insert(
                kind,
                "en",
                Template {
                    text: Text::parse("Complaint {number}").unwrap(),
                    dlt_template_id: "1".into(),
                },
            );
        }
        let subscriber = |name: &str, events: Vec<EventKind>| Subscriber {
            name: name.into(),
            url: "http://127.0.0.1:1/hook".parse().unwrap(),
            events,
            secret: Secret::new("k"),
        };
        Config {
            sms: Some(SmsConfig {
                gateway: gateway(),
                sender_id: "CMHLPL".into(),
                templates,
            }),
            webhooks: vec![
                subscriber("portal", EventKind::ALL.to_vec()),
                subscriber("cpgrams", vec![EventKind::Resolved]),
            ],
            ..Config::new()
        }
    }

    #[test]
    fn an_event_goes_to_the_citizen_and_the_subscribers_that_asked() {
        let c = config();
        assert_eq!(
            plan(&event(EventKind::Registered, "+919816012345"), &c),
            vec![Target::Sms, Target::Webhook("portal".into())]
        );
        assert_eq!(
            plan(&event(EventKind::Resolved, "+919816012345"), &c),
            vec![
                Target::Sms,
                Target::Webhook("portal".into()),
                Target::Webhook("cpgrams".into())
            ]
        );
        // No message configured for escalations: webhooks only.
        assert_eq!(
            plan(&event(EventKind::Escalated, "+919816012345"), &c),
            vec![Target::Webhook("portal".into())]
        );
    }

    #[test]
    fn no_sms_without_a_real_mobile_number() {
        let c = config();
        for caller in [
            "unknown",
            "+911772812345",
            "+14155550100",
            "+9198160123",
            "9816012345",
        ] {
            assert_eq!(
                plan(&event(EventKind::Registered, caller), &c),
                vec![Target::Webhook("portal".into())],
                "{caller}"
            );
        }
    }

    proptest! {
        #[test]
        fn targets_read_back_their_keys(name in "[a-z0-9_-]{1,20}") {
            for t in [Target::Sms, Target::Webhook(name.clone())] {
                prop_assert_eq!(Target::parse(&t.key()), Some(t.clone()));
            }
        }

        #[test]
        fn only_plus91_mobiles_get_sms(digits in "[0-9]{10}") {
            let number = format!("+91{digits}");
            let mobile = matches!(digits.as_bytes()[0], b'6'..=b'9');
            prop_assert_eq!(is_sms_reachable(&number), mobile);
            prop_assert!(!is_sms_reachable(&digits));
        }
    }
}
