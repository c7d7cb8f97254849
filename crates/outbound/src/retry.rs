//! How often a call is tried and what is done after the last try.

use std::time::Duration;

/// What happens to a job whose last try did not reach anyone. Never "satisfied": an unanswered
/// confirmation call is not a citizen's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AfterLastTry {
    /// Put it on an agent's call-back list: a person calls.
    CallBack,
    /// Close it as not verified (`closed_unverified` for a confirmation).
    CloseUnverified,
}

impl AfterLastTry {
    /// The name used in configuration and records.
    pub fn as_str(self) -> &'static str {
        match self {
            AfterLastTry::CallBack => "call_back",
            AfterLastTry::CloseUnverified => "close_unverified",
        }
    }
}

impl std::str::FromStr for AfterLastTry {
    type Err = RetryError;
    fn from_str(s: &str) -> Result<Self, RetryError> {
        match s {
            "call_back" => Ok(AfterLastTry::CallBack),
            "close_unverified" => Ok(AfterLastTry::CloseUnverified),
            other => Err(RetryError::UnknownPolicy(other.to_owned())),
        }
    }
}

/// Why a retry policy cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryError {
    #[error("a job needs at least one try")]
    NoTries,
    #[error("{tries} tries need {needed} delay(s) between them, {given} given")]
    MissingDelays {
        tries: u32,
        needed: usize,
        given: usize,
    },
    #[error("the delay before try {0} is zero")]
    ZeroDelay(u32),
    #[error("unknown policy after the last try {0:?}; expected call_back or close_unverified")]
    UnknownPolicy(String),
}

/// Tries and the delays between them: try `n + 1` comes `delays[n - 1]` after try `n` ended (then
/// waits for the calling window to open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    tries: u32,
    delays: Vec<Duration>,
    after_last: AfterLastTry,
}

impl RetryPolicy {
    /// `tries` in all, `delays` between them (one fewer than the tries; more are refused as a
    /// mistake only when too few).
    pub fn new(
        tries: u32,
        delays: Vec<Duration>,
        after_last: AfterLastTry,
    ) -> Result<Self, RetryError> {
        if tries == 0 {
            return Err(RetryError::NoTries);
        }
        let needed = usize::try_from(tries - 1).unwrap_or(usize::MAX);
        if delays.len() < needed {
            return Err(RetryError::MissingDelays {
                tries,
                needed,
                given: delays.len(),
            });
        }
        if let Some(n) = delays.iter().take(needed).position(Duration::is_zero) {
            return Err(RetryError::ZeroDelay(
                u32::try_from(n).unwrap_or(u32::MAX).saturating_add(2),
            ));
        }
        let mut delays = delays;
        delays.truncate(needed);
        Ok(RetryPolicy {
            tries,
            delays,
            after_last,
        })
    }

    pub fn tries(&self) -> u32 {
        self.tries
    }

    pub fn after_last(&self) -> AfterLastTry {
        self.after_last
    }

    /// The wait after try `made` (1-based) before the next, or `None` when it was the last.
    pub fn delay_after(&self, made: u32) -> Option<Duration> {
        if made >= self.tries || made == 0 {
            return None;
        }
        self.delays.get(usize::try_from(made - 1).ok()?).copied()
    }
}

impl Default for RetryPolicy {
    /// Three tries over two days (4 h, then 44 h later), then an agent's call-back list.
    fn default() -> Self {
        RetryPolicy {
            tries: 3,
            delays: vec![
                Duration::from_secs(4 * 3600),
                Duration::from_secs(44 * 3600),
            ],
            after_last: AfterLastTry::CallBack,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_follow_each_try_but_the_last() {
        let p = RetryPolicy::new(
            3,
            vec![Duration::from_secs(60), Duration::from_secs(120)],
            AfterLastTry::CloseUnverified,
        )
        .expect("valid");
        assert_eq!(p.delay_after(1), Some(Duration::from_secs(60)));
        assert_eq!(p.delay_after(2), Some(Duration::from_secs(120)));
        assert_eq!(p.delay_after(3), None);
        assert_eq!(p.after_last(), AfterLastTry::CloseUnverified);
    }

    #[test]
    fn bad_policies_are_refused() {
        assert_eq!(
            RetryPolicy::new(0, vec![], AfterLastTry::CallBack),
            Err(RetryError::NoTries)
        );
        assert_eq!(
            RetryPolicy::new(3, vec![Duration::from_secs(1)], AfterLastTry::CallBack),
            Err(RetryError::MissingDelays {
                tries: 3,
                needed: 2,
                given: 1
            })
        );
        assert_eq!(
            RetryPolicy::new(2, vec![Duration::ZERO], AfterLastTry::CallBack),
            Err(RetryError::ZeroDelay(2))
        );
        assert!("close_unverified".parse::<AfterLastTry>().is_ok());
        assert!(matches!(
            "satisfied".parse::<AfterLastTry>(),
            Err(RetryError::UnknownPolicy(_))
        ));
    }

    #[test]
    fn one_try_needs_no_delay() {
        let p = RetryPolicy::new(1, vec![], AfterLastTry::CallBack).expect("valid");
        assert_eq!(p.delay_after(1), None);
    }
}
