//! One webhook try: the event's body exactly as stored, `POST`ed with its `Idempotency-Key` (the
//! event id), the event kind, the delivery id and the HMAC signature header ([`crate::sign`]).
//! Delivered only on a 2xx.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tickets::outbox::OutboxEvent;

use crate::config::Subscriber;
use crate::sign;
use crate::sms::{Sent, classify, clip, describe};

/// The idempotency key's header: the event id, the same on every try and to every subscriber.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The event kind's header, e.g. `ticket.resolved`.
pub const EVENT_HEADER: &str = "Helpline-Event";
/// The delivery's header (its row id, for a subscriber's support requests).
pub const DELIVERY_HEADER: &str = "Helpline-Delivery";

/// Posts `event` to `subscriber`, signed at `now`: one try within `timeout`.
pub async fn send(
    http: &reqwest::Client,
    subscriber: &Subscriber,
    event: &OutboxEvent,
    delivery_id: i64,
    now: DateTime<Utc>,
    timeout: Duration,
) -> Sent {
    let body = event.payload.as_bytes();
    let signature = sign::header(subscriber.secret.expose().as_bytes(), body, now);
    let request = http
        .post(subscriber.url.clone())
        .header("content-type", "application/json")
        .header(IDEMPOTENCY_HEADER, event.id.as_str())
        .header(EVENT_HEADER, event.kind.as_str())
        .header(DELIVERY_HEADER, delivery_id.to_string())
        .header(sign::SIGNATURE_HEADER, signature)
        .body(event.payload.clone())
        .timeout(timeout);
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => {
            return Sent::Failed {
                error: format!("webhook {}: {}", subscriber.name, describe(&e)),
                permanent: false,
            };
        }
    };
    let status = answer.status().as_u16();
    match classify(status) {
        None => Sent::Delivered(format!("HTTP {status}")),
        Some(permanent) => {
            let body = answer.text().await.unwrap_or_default();
            Sent::Failed {
                error: format!("webhook {} HTTP {status}: {}", subscriber.name, clip(&body)),
                permanent,
            }
        }
    }
}
