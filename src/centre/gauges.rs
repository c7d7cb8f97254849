//! The call centre's live figures for `/metrics`: callers waiting and the oldest wait per queue,
//! agents by state. The centre's task refreshes them from the ACD's snapshot after its state
//! changed (at most every save period, off no one's path but its own); a scrape reads them
//! without asking the task. A wait keeps growing between refreshes, so the oldest wait is kept
//! as the moment it began and measured against the centre's clock when it is read.

use std::sync::{Arc, Mutex};

use super::CentreClock;

/// The agent states, as the API names them, in the order metrics list them.
pub const AGENT_STATES: [&str; 6] = [
    "logged_out",
    "available",
    "ringing",
    "on_call",
    "wrap_up",
    "paused",
];

/// One queue, now.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueGauge {
    pub queue: String,
    /// On the line: waiting, or an agent's phone ringing for them.
    pub callers: u64,
    /// Call-back slots keeping their place.
    pub callbacks: u64,
    /// The longest wait among them, in seconds (0 when nobody waits).
    pub oldest_wait_secs: u64,
    pub agents_logged_in: u64,
    pub agents_available: u64,
    /// Today's service level (0–1), once anything counted.
    pub service_level: Option<f64>,
}

/// The floor, now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Floor {
    pub queues: Vec<QueueGauge>,
    /// Agents by state, every one of [`AGENT_STATES`] (zero included).
    pub agents: Vec<(&'static str, u64)>,
}

/// What the centre last saw; the oldest wait stored as when it began.
#[derive(Debug, Default)]
struct Seen {
    floor: Floor,
    oldest_since: Vec<Option<acd::Time>>,
}

/// Shared between the centre's task (which writes) and the metrics collector (which reads).
#[derive(Debug)]
pub struct Gauges {
    seen: Mutex<Seen>,
    clock: CentreClock,
}

impl Gauges {
    pub(super) fn new(clock: CentreClock) -> Arc<Gauges> {
        Arc::new(Gauges {
            seen: Mutex::new(Seen::default()),
            clock,
        })
    }

    /// Takes the figures of `snapshot`.
    pub(super) fn refresh(&self, snapshot: &acd::Snapshot) {
        let mut seen = Seen::default();
        for q in &snapshot.queues {
            seen.oldest_since.push(
                q.oldest_wait_secs
                    .and_then(|secs| i64::try_from(secs).ok())
                    .map(|secs| snapshot.at - chrono::Duration::seconds(secs)),
            );
            seen.floor.queues.push(QueueGauge {
                queue: q.name.clone(),
                callers: u64::from(q.waiting) + u64::from(q.ringing),
                callbacks: u64::from(q.callbacks),
                oldest_wait_secs: q.oldest_wait_secs.unwrap_or(0),
                agents_logged_in: u64::from(q.agents_logged_in),
                agents_available: u64::from(q.agents_available),
                service_level: q.service_level_percent.map(|p| p / 100.0),
            });
        }
        seen.floor.agents = AGENT_STATES
            .iter()
            .map(|state| {
                let n = snapshot
                    .agents
                    .iter()
                    .filter(|a| a.state.name() == *state)
                    .count();
                (*state, n as u64)
            })
            .collect();
        // A poisoned lock only means a reader panicked; the figures are whole either way.
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = seen;
    }

    /// The figures now: the oldest waits as of this moment.
    pub fn read(&self) -> Floor {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let mut floor = seen.floor.clone();
        for (q, since) in floor.queues.iter_mut().zip(&seen.oldest_since) {
            if let Some(since) = since {
                q.oldest_wait_secs = u64::try_from((now - *since).num_seconds()).unwrap_or(0);
            }
        }
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(at: acd::Time, oldest: Option<u64>) -> acd::Snapshot {
        let text = "[queue.grievance]\nhelpline = \"1100\"\njoin_when_empty = true\n";
        let queues = Arc::new(acd::check(text, "queues.toml").expect("a valid queues file"));
        let acd = acd::Acd::new(queues, at);
        let mut s = acd.snapshot(at);
        s.queues[0].waiting = 2;
        s.queues[0].ringing = 1;
        s.queues[0].oldest_wait_secs = oldest;
        s
    }

    #[test]
    fn the_oldest_wait_grows_between_refreshes_and_every_state_is_listed() {
        let gauges = Gauges::new(CentreClock::start(1.0));
        let now = chrono::Utc::now();
        gauges.refresh(&snapshot(now - chrono::Duration::seconds(30), Some(40)));
        let floor = gauges.read();
        let q = &floor.queues[0];
        assert_eq!(
            (q.queue.as_str(), q.callers, q.callbacks),
            ("grievance", 3, 0)
        );
        // Began 70 s ago: 40 s old when the snapshot was taken 30 s ago.
        assert!((70..72).contains(&q.oldest_wait_secs), "{q:?}");
        assert_eq!(q.service_level, None);
        assert_eq!(
            floor.agents.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            AGENT_STATES
        );
        assert!(floor.agents.iter().all(|(_, n)| *n == 0));

        gauges.refresh(&snapshot(now, None));
        assert_eq!(gauges.read().queues[0].oldest_wait_secs, 0);
    }
}
