//! When a failed delivery is tried again: exponential backoff from `first_delay`, capped at
//! `max_delay`, with "equal jitter" (half the delay fixed, half random) so deliveries that failed
//! together — a receiver down — do not all come back at the same instant; dead after
//! `max_attempts` tries, or at once for a failure that no retry can mend.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The schedule of tries of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub max_attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 10 tries over about 2.5 hours: 10 s, 20 s, 40 s … capped at 1 h.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
        }
    }
}

/// What follows a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAt(DateTime<Utc>),
    /// No more tries: a dead letter, for an administrator to look at.
    Dead,
}

impl RetryPolicy {
    /// The wait before the try after `attempts` tries, for `jitter` in `[0, 1)`: between half the
    /// backoff (jitter 0) and all of it.
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let backoff = self
            .first_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let half = backoff / 2;
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        half + (backoff - half).mul_f64(jitter)
    }

    /// After the `attempts`-th try failed at `now`: when to try again, or dead. A `permanent`
    /// failure (the receiver refused the request itself) is dead at once.
    pub fn after_failure(
        &self,
        attempts: u32,
        permanent: bool,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Next {
        if permanent || attempts >= self.max_attempts {
            return Next::Dead;
        }
        let delay = self.delay(attempts, jitter);
        match chrono::Duration::from_std(delay) {
            Ok(d) => Next::RetryAt(now + d),
            Err(_) => Next::Dead,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T05:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn the_schedule_doubles_up_to_the_cap_then_dies() {
        let policy = RetryPolicy {
            max_attempts: 4,
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(30),
        };
        assert_eq!(policy.delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(
            policy.delay(1, 0.999_999),
            Duration::from_secs(10) - Duration::from_micros(5)
        );
        assert_eq!(policy.delay(2, 0.0), Duration::from_secs(10));
        assert_eq!(
            policy.delay(3, 0.0),
            Duration::from_secs(15),
            "capped at 30 s"
        );
        assert_eq!(
            policy.after_failure(1, false, now(), 0.0),
            Next::RetryAt(now() + chrono::Duration::seconds(5))
        );
        assert_eq!(policy.after_failure(4, false, now(), 0.0), Next::Dead);
        assert_eq!(policy.after_failure(1, true, now(), 0.0), Next::Dead);
    }

    proptest! {
        #[test]
        fn delays_stay_within_half_and_all_of_the_capped_backoff(
            attempts in 1u32..200,
            jitter in 0.0f64..1.0,
            first_ms in 1u64..100_000,
            max_ms in 1u64..10_000_000,
        ) {
            let policy = RetryPolicy {
                max_attempts: 1000,
                first_delay: Duration::from_millis(first_ms),
                max_delay: Duration::from_millis(max_ms),
            };
            let delay = policy.delay(attempts, jitter);
            let exponent = (attempts - 1).min(30);
            let backoff = Duration::from_millis(first_ms)
                .saturating_mul(1u32 << exponent)
                .min(Duration::from_millis(max_ms));
            prop_assert!(delay <= backoff);
            prop_assert!(delay >= backoff / 2);
            // Later tries never wait less (same jitter).
            prop_assert!(policy.delay(attempts + 1, jitter) >= delay);
        }

        #[test]
        fn a_delivery_is_dead_exactly_after_its_last_try(
            max_attempts in 1u32..50,
            attempts in 1u32..60,
            jitter in 0.0f64..1.0,
        ) {
            let policy = RetryPolicy { max_attempts, ..RetryPolicy::default() };
            let next = policy.after_failure(attempts, false, now(), jitter);
            if attempts >= max_attempts {
                prop_assert_eq!(next, Next::Dead);
            } else {
                let later = matches!(next, Next::RetryAt(at) if at > now());
                prop_assert!(later);
            }
        }
    }
}
