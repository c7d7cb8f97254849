//! Retention: call records and queue events hold callers' numbers (personal data, India's DPDP Act,
//! 2023), so they are deleted a configured time after the call. One task, a round at start and then every
//! interval; a round that fails (the database away) is logged and the next one tries again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::error::RecordsError;
use crate::store::RecordStore;

/// How often retention runs when not told otherwise.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(3600);

/// Deletes what ended more than `keep` before `now`; returns (records, events) deleted.
pub async fn apply(
    store: &RecordStore,
    keep: Duration,
    now: DateTime<Utc>,
) -> Result<(u64, u64), RecordsError> {
    let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    match now.checked_sub_signed(keep) {
        Some(cutoff) => store.purge_before(cutoff).await,
        None => Ok((0, 0)),
    }
}

/// Runs [`apply`] at once and then every `every` until `stop`.
pub fn spawn(
    store: RecordStore,
    keep: Duration,
    every: Duration,
    now: impl Fn() -> DateTime<Utc> + Send + 'static,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match apply(&store, keep, now()).await {
                Ok((0, 0)) => {}
                Ok((records, events)) => {
                    info!(records, events, "call records past their retention deleted");
                }
                Err(err) => warn!(%err, "call records retention failed; next round tries again"),
            }
        }
    })
}
