//! How fast and how many: outbound calls never starve inbound ones.

use std::time::Duration;

/// Why pacing cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacingError {
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

/// The limits the dialer keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    max_concurrent: usize,
    per_asterisk: usize,
    interval: Duration,
    inbound_threshold: u32,
}

impl Pacing {
    /// `max_concurrent` outbound calls at once in all, `per_asterisk` on any one Asterisk,
    /// `calls_per_second` new calls a second at most, and no new call on an Asterisk carrying
    /// `inbound_threshold` inbound calls or more.
    pub fn new(
        max_concurrent: usize,
        per_asterisk: usize,
        calls_per_second: u32,
        inbound_threshold: u32,
    ) -> Result<Self, PacingError> {
        if max_concurrent == 0 {
            return Err(PacingError::Zero("max_concurrent"));
        }
        if per_asterisk == 0 {
            return Err(PacingError::Zero("per_asterisk"));
        }
        if calls_per_second == 0 {
            return Err(PacingError::Zero("calls_per_second"));
        }
        if inbound_threshold == 0 {
            return Err(PacingError::Zero("inbound_threshold"));
        }
        Ok(Pacing {
            max_concurrent,
            per_asterisk,
            interval: Duration::from_secs(1) / calls_per_second,
            inbound_threshold,
        })
    }

    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    pub fn per_asterisk(&self) -> usize {
        self.per_asterisk
    }

    /// The least time between two new calls.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn inbound_threshold(&self) -> u32 {
        self.inbound_threshold
    }
}

impl Default for Pacing {
    /// 10 at once, 10 per Asterisk, 2 a second, none while 50 citizens are on inbound calls.
    fn default() -> Self {
        Pacing {
            max_concurrent: 10,
            per_asterisk: 10,
            interval: Duration::from_millis(500),
            inbound_threshold: 50,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_limits_are_refused_by_name() {
        assert_eq!(
            Pacing::new(0, 1, 1, 1),
            Err(PacingError::Zero("max_concurrent"))
        );
        assert_eq!(
            Pacing::new(1, 0, 1, 1),
            Err(PacingError::Zero("per_asterisk"))
        );
        assert_eq!(
            Pacing::new(1, 1, 0, 1),
            Err(PacingError::Zero("calls_per_second"))
        );
        assert_eq!(
            Pacing::new(1, 1, 1, 0),
            Err(PacingError::Zero("inbound_threshold"))
        );
        let p = Pacing::new(5, 3, 4, 10).expect("valid");
        assert_eq!(p.interval(), Duration::from_millis(250));
    }
}
