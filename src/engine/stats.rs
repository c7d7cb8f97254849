//! The engine's counters: plain atomics updated on the call path (no locks, no allocation), read by
//! `/health`, `/metrics` (`crate::metrics` reads a snapshot at each scrape) and the demo's progress
//! line.

use std::sync::atomic::{AtomicU64, Ordering};

/// How a call handled by the engine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The IVR ran to its end and hung up (goodbye said).
    Completed,
    /// The IVR handed the call to another destination (agent, integrated helpline).
    Transferred,
    /// The caller hung up before the IVR was done.
    CallerHungUp,
    /// Ended by the engine shutting down after the grace period.
    ShutDown,
    /// The channel disappeared without a hangup we saw (lost during an ARI disconnection).
    Lost,
    /// Handed to the dialplan fallback because Asterisk kept failing a request the call needed.
    GivenUp,
}

impl CallOutcome {
    /// Every outcome, in display order.
    pub const ALL: [CallOutcome; 6] = [
        CallOutcome::Completed,
        CallOutcome::Transferred,
        CallOutcome::CallerHungUp,
        CallOutcome::ShutDown,
        CallOutcome::Lost,
        CallOutcome::GivenUp,
    ];

    /// The outcome's name in metrics and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Completed => "completed",
            CallOutcome::Transferred => "transferred",
            CallOutcome::CallerHungUp => "caller_hung_up",
            CallOutcome::ShutDown => "shut_down",
            CallOutcome::Lost => "lost",
            CallOutcome::GivenUp => "given_up",
        }
    }

    fn index(self) -> usize {
        match self {
            CallOutcome::Completed => 0,
            CallOutcome::Transferred => 1,
            CallOutcome::CallerHungUp => 2,
            CallOutcome::ShutDown => 3,
            CallOutcome::Lost => 4,
            CallOutcome::GivenUp => 5,
        }
    }
}

/// Counters shared by the supervisor, the call tasks and the HTTP server.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Calls that entered the application (`StasisStart`).
    pub calls_offered: AtomicU64,
    /// Calls sent back to the dialplan unanswered because the engine was at its cap.
    pub calls_over_capacity: AtomicU64,
    /// Calls sent back to the dialplan unanswered because the engine was shutting down.
    pub calls_refused_shutdown: AtomicU64,
    /// Calls with a task running now.
    pub calls_in_progress: AtomicU64,
    ended: [AtomicU64; 6],
    /// ARI events delivered to call tasks.
    pub events: AtomicU64,
    /// Tickets filed by calls.
    pub tickets_created: AtomicU64,
    /// Ticket filings that failed (the caller heard the failure prompt).
    pub ticket_failures: AtomicU64,
    /// Status enquiries answered.
    pub lookups: AtomicU64,
    /// Recordings fetched from Asterisk.
    pub recordings_fetched: AtomicU64,
    /// ARI requests that failed other than with "already gone".
    pub ari_errors: AtomicU64,
    /// ARI requests of calls tried again after a failure (same ids: never played or recorded twice).
    pub ari_retries: AtomicU64,
    /// Status lookups and feedback the ticket store did not answer within the deadline.
    pub desk_timeouts: AtomicU64,
    /// Recordings deleted on Asterisk: silent or replaced takes at once, complaints once filed.
    pub recordings_deleted: AtomicU64,
    /// Calls picked up from the progress an engine that died left (on their channel, or to file what
    /// their caller said before hanging up).
    pub calls_resumed: AtomicU64,
    /// Calls found waiting in the application after their StasisStart was lost with the connection,
    /// started then.
    pub calls_picked_up: AtomicU64,
    /// Times the ARI connection came back and calls were reconciled.
    pub reconnections: AtomicU64,
    /// Channels found in the application after a reconnection that no task ran (sent back or hung up).
    pub orphans_reconciled: AtomicU64,
    /// Successful script reloads.
    pub script_reloads: AtomicU64,
    /// Script reloads refused because the new script was invalid.
    pub script_reload_failures: AtomicU64,
    /// Dialplan-fallback recordings filed as tickets (and then deleted on Asterisk).
    pub fallback_imported: AtomicU64,
    /// Dialplan-fallback recordings with no speech: deleted, no ticket.
    pub fallback_skipped: AtomicU64,
    /// Dialplan-fallback recordings that could not be imported this round (left for the next one).
    pub fallback_failed: AtomicU64,
    /// From an ARI event reaching a call's task to the first action it caused (a histogram).
    pub event_to_command: crate::metrics::EventToCommand,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    pub calls_offered: u64,
    pub calls_over_capacity: u64,
    pub calls_refused_shutdown: u64,
    pub calls_in_progress: u64,
    pub calls_completed: u64,
    pub calls_transferred: u64,
    pub calls_caller_hung_up: u64,
    pub calls_shut_down: u64,
    pub calls_lost: u64,
    pub calls_given_up: u64,
    pub events: u64,
    pub tickets_created: u64,
    pub ticket_failures: u64,
    pub lookups: u64,
    pub recordings_fetched: u64,
    pub ari_errors: u64,
    pub ari_retries: u64,
    pub desk_timeouts: u64,
    pub recordings_deleted: u64,
    pub calls_resumed: u64,
    pub calls_picked_up: u64,
    pub reconnections: u64,
    pub orphans_reconciled: u64,
    pub script_reloads: u64,
    pub script_reload_failures: u64,
    pub fallback_imported: u64,
    pub fallback_skipped: u64,
    pub fallback_failed: u64,
}

impl StatsSnapshot {
    /// Calls whose task has ended, whatever the outcome.
    pub fn calls_ended(&self) -> u64 {
        self.calls_completed
            + self.calls_transferred
            + self.calls_caller_hung_up
            + self.calls_shut_down
            + self.calls_lost
            + self.calls_given_up
    }

    /// The number of ended calls with this outcome.
    pub fn ended(&self, outcome: CallOutcome) -> u64 {
        match outcome {
            CallOutcome::Completed => self.calls_completed,
            CallOutcome::Transferred => self.calls_transferred,
            CallOutcome::CallerHungUp => self.calls_caller_hung_up,
            CallOutcome::ShutDown => self.calls_shut_down,
            CallOutcome::Lost => self.calls_lost,
            CallOutcome::GivenUp => self.calls_given_up,
        }
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl EngineStats {
    /// Records the end of a call task.
    pub(crate) fn call_ended(&self, outcome: CallOutcome) {
        bump(&self.ended[outcome.index()]);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            calls_offered: get(&self.calls_offered),
            calls_over_capacity: get(&self.calls_over_capacity),
            calls_refused_shutdown: get(&self.calls_refused_shutdown),
            calls_in_progress: get(&self.calls_in_progress),
            calls_completed: get(&self.ended[CallOutcome::Completed.index()]),
            calls_transferred: get(&self.ended[CallOutcome::Transferred.index()]),
            calls_caller_hung_up: get(&self.ended[CallOutcome::CallerHungUp.index()]),
            calls_shut_down: get(&self.ended[CallOutcome::ShutDown.index()]),
            calls_lost: get(&self.ended[CallOutcome::Lost.index()]),
            calls_given_up: get(&self.ended[CallOutcome::GivenUp.index()]),
            events: get(&self.events),
            tickets_created: get(&self.tickets_created),
            ticket_failures: get(&self.ticket_failures),
            lookups: get(&self.lookups),
            recordings_fetched: get(&self.recordings_fetched),
            ari_errors: get(&self.ari_errors),
            ari_retries: get(&self.ari_retries),
            desk_timeouts: get(&self.desk_timeouts),
            recordings_deleted: get(&self.recordings_deleted),
            calls_resumed: get(&self.calls_resumed),
            calls_picked_up: get(&self.calls_picked_up),
            reconnections: get(&self.reconnections),
            orphans_reconciled: get(&self.orphans_reconciled),
            script_reloads: get(&self.script_reloads),
            script_reload_failures: get(&self.script_reload_failures),
            fallback_imported: get(&self.fallback_imported),
            fallback_skipped: get(&self.fallback_skipped),
            fallback_failed: get(&self.fallback_failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_separately() {
        let stats = EngineStats::default();
        stats.call_ended(CallOutcome::Completed);
        stats.call_ended(CallOutcome::Completed);
        stats.call_ended(CallOutcome::CallerHungUp);
        bump(&stats.tickets_created);
        let snap = stats.snapshot();
        assert_eq!(snap.calls_completed, 2);
        assert_eq!(snap.calls_caller_hung_up, 1);
        assert_eq!(snap.ended(CallOutcome::Completed), 2);
        assert_eq!(snap.ended(CallOutcome::Lost), 0);
        assert_eq!(snap.calls_ended(), 3);
        assert_eq!(snap.tickets_created, 1);
    }
}
