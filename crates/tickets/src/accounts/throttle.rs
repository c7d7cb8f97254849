//! Failed-authentication throttles, sans I/O: a [`Throttle`] counts failures per key (a login
//! name, a client address) in a sliding window; `max_failures` of them lock the key for `lockout`
//! (every attempt meanwhile is refused unheard, with how long to wait), and each lockout of the
//! same key in a row doubles, up to [`MAX_LOCKOUT`]. `now` is passed in; tests need no clock.
//!
//! The counts live in this process's memory, bounded by `capacity` keys: several nodes count
//! apart, and a restart forgets (a lockout is audited in the database all the same).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The longest lockout doubling reaches.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(24 * 3600);

/// How many failures, in what time, lock a key for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; this many more are allowed in the window.
    Counted { left: u32 },
    /// This failure locked the key for the given time (the caller audits it).
    LockedNow(Duration),
}

#[derive(Debug, Clone)]
struct Entry {
    window_start: Instant,
    failures: u32,
    locked_until: Option<Instant>,
    /// Lockouts in a row (a success or a quiet window resets it).
    lockouts: u32,
}

/// Failure counts per key.
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    capacity: usize,
    entries: HashMap<String, Entry>,
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy, capacity: usize) -> Self {
        Throttle {
            policy,
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    /// `Err(wait)` while `key` is locked.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        match self.entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key`.
    pub fn fail(&mut self, key: &str, now: Instant) -> Failure {
        if !self.entries.contains_key(key) && self.entries.len() >= self.capacity {
            self.prune(now);
        }
        let policy = self.policy;
        let entry = self.entries.entry(key.to_owned()).or_insert(Entry {
            window_start: now,
            failures: 0,
            locked_until: None,
            lockouts: 0,
        });
        if let Some(until) = entry.locked_until {
            if until > now {
                return Failure::LockedNow(until - now);
            }
            entry.locked_until = None;
            entry.failures = 0;
            entry.window_start = now;
        }
        if now.duration_since(entry.window_start) > policy.window {
            // A quiet window forgives: the next lockout starts short again.
            if entry.failures < policy.max_failures {
                entry.lockouts = 0;
            }
            entry.window_start = now;
            entry.failures = 0;
        }
        entry.failures += 1;
        if entry.failures >= policy.max_failures {
            let factor = 2u32.saturating_pow(entry.lockouts.min(16));
            let lockout = policy.lockout.saturating_mul(factor).min(MAX_LOCKOUT);
            entry.locked_until = Some(now + lockout);
            entry.lockouts += 1;
            Failure::LockedNow(lockout)
        } else {
            Failure::Counted {
                left: policy.max_failures - entry.failures,
            }
        }
    }

    /// A success: `key`'s failures are forgotten.
    pub fn succeed(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Makes room: forgets keys neither locked nor inside their window; if all are, the unlocked
    /// ones; a table full of locked keys forgets the one whose lock ends first.
    fn prune(&mut self, now: Instant) {
        let window = self.policy.window;
        let locked = |e: &Entry| e.locked_until.is_some_and(|u| u > now);
        self.entries
            .retain(|_, e| locked(e) || now.duration_since(e.window_start) <= window);
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, e| locked(e));
        }
        if self.entries.len() >= self.capacity {
            let first = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.locked_until)
                .map(|(k, _)| k.clone());
            if let Some(key) = first {
                self.entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        max_failures: 3,
        window: Duration::from_secs(60),
        lockout: Duration::from_secs(300),
    };

    #[test]
    fn n_failures_lock_for_the_lockout_and_it_doubles() {
        let t0 = Instant::now();
        let mut t = Throttle::new(POLICY, 100);
        assert_eq!(t.fail("asha", t0), Failure::Counted { left: 2 });
        assert_eq!(t.fail("asha", t0), Failure::Counted { left: 1 });
        assert_eq!(t.check("asha", t0), Ok(()));
        assert_eq!(
            t.fail("asha", t0),
            Failure::LockedNow(Duration::from_secs(300))
        );
        assert_eq!(t.check("asha", t0), Err(Duration::from_secs(300)));
        assert_eq!(
            t.check("asha", t0 + Duration::from_secs(100)),
            Err(Duration::from_secs(200))
        );
        assert_eq!(t.check("ravi", t0), Ok(()), "keys are apart");
        let later = t0 + Duration::from_secs(301);
        assert_eq!(t.check("asha", later), Ok(()));
        for _ in 0..2 {
            t.fail("asha", later);
        }
        assert_eq!(
            t.fail("asha", later),
            Failure::LockedNow(Duration::from_secs(600)),
            "a second lockout in a row is twice as long"
        );
        t.succeed("asha");
        assert_eq!(t.check("asha", later), Ok(()));
        assert_eq!(t.fail("asha", later), Failure::Counted { left: 2 });
    }

    #[test]
    fn failures_outside_the_window_are_forgiven() {
        let t0 = Instant::now();
        let mut t = Throttle::new(POLICY, 100);
        t.fail("k", t0);
        t.fail("k", t0);
        let later = t0 + Duration::from_secs(61);
        assert_eq!(t.fail("k", later), Failure::Counted { left: 2 });
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_locks() {
        let t0 = Instant::now();
        let mut t = Throttle::new(POLICY, 10);
        for _ in 0..3 {
            t.fail("locked", t0);
        }
        // A thousand addresses within the lock's 300 s: the table stays at 10 and keeps the lock.
        for i in 0..1000 {
            t.fail(
                &format!("ip-{i}"),
                t0 + Duration::from_millis(61_000 + i * 200),
            );
            assert!(t.len() <= 10, "{}", t.len());
        }
        assert!(t.check("locked", t0 + Duration::from_secs(261)).is_err());
        let mut full = Throttle::new(POLICY, 2);
        for key in ["a", "b", "c"] {
            for _ in 0..3 {
                full.fail(key, t0);
            }
        }
        assert!(full.len() <= 2);
        assert!(full.check("c", t0).is_err(), "the newest lock is kept");
    }
}
