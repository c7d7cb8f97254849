//! The confirmation calls as the dialer's [`Jobs`]: the ticket store's pending `confirmation_calls`
//! (one per resolution, written with the change to `resolved`) become jobs of kind `confirmation`
//! running the script `confirm` in the complaint's language; the citizen's answer (`satisfied` 1 or
//! 2, `reason`) and every try's end go back to the store, with the ticket's change and audit entry.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use outbound::{AfterLastTry, Cause, Job, JobId, JobKind};
use tickets::store::GiveUp;
use tickets::{Confirmation, FeedbackReason, TicketService};

use super::Jobs;

/// The kind of a confirmation call's job.
pub const KIND: &str = "confirmation";

/// The confirmation calls of a ticket store.
#[derive(Debug, Clone)]
pub struct ConfirmationJobs {
    tickets: TicketService,
    /// The script they run.
    script: String,
    /// The helpline's time zone: the date of resolution the citizen hears.
    time_zone: Tz,
    /// How long after the resolution the first try may go out.
    first_after: Duration,
}

impl ConfirmationJobs {
    pub fn new(
        tickets: TicketService,
        script: String,
        time_zone: Tz,
        first_after: Duration,
    ) -> Self {
        ConfirmationJobs {
            tickets,
            script,
            time_zone,
            first_after,
        }
    }

    fn job(&self, c: Confirmation) -> Job {
        let first = c.resolved_at
            + chrono::Duration::from_std(self.first_after).unwrap_or(chrono::Duration::zero());
        let not_before = if c.attempts == 0 {
            c.next_attempt_at.max(first)
        } else {
            c.next_attempt_at
        };
        let resolved_on = c
            .resolved_at
            .with_timezone(&self.time_zone)
            .format("%Y-%m-%d")
            .to_string();
        let mut job = Job::new(
            job_id(c.id),
            JobKind::new(KIND),
            c.caller_number,
            not_before,
        );
        job.script = self.script.clone();
        job.language = c.language;
        job.attempts = c.attempts;
        job.variables = vec![
            ("complaint".to_owned(), c.number.to_string()),
            ("department".to_owned(), c.department_code),
            ("resolved_on".to_owned(), resolved_on),
        ];
        job
    }
}

/// The job id of confirmation call `id`.
pub fn job_id(id: i64) -> JobId {
    JobId::new(format!("confirm-{id}"))
}

fn row_of(id: &JobId) -> Result<i64, String> {
    id.as_str()
        .strip_prefix("confirm-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{id} is not a confirmation call's job"))
}

/// What the citizen's keys say: `Some(true)` satisfied, `Some(false)` not (with the reason, if one
/// was given), `None` no answer.
pub fn verdict(call: &ivr::Call) -> Option<(bool, Option<FeedbackReason>)> {
    match call.var("satisfied") {
        Some("1") => Some((true, None)),
        Some("2") => Some((false, call.var("reason").and_then(|r| r.parse().ok()))),
        _ => None,
    }
}

impl Jobs for ConfirmationJobs {
    async fn due(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, String> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let rows = self
            .tickets
            .store()
            .due_confirmations(before, limit)
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|c| self.job(c)).collect())
    }

    async fn dialling(&self, job: &Job, attempt: u32, now: DateTime<Utc>) -> Result<(), String> {
        self.tickets
            .store()
            .confirmation_dialling(row_of(&job.id)?, attempt, now)
            .await
            .map_err(|e| e.to_string())
    }

    async fn answered(
        &self,
        job: &Job,
        attempt: u32,
        call: &ivr::Call,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, String> {
        let Some((satisfied, reason)) = verdict(call) else {
            return Ok(None);
        };
        match self
            .tickets
            .store()
            .confirmation_verdict(row_of(&job.id)?, attempt, satisfied, reason, now)
            .await
        {
            Ok(_) => Ok(Some(
                if satisfied { "satisfied" } else { "reopened" }.to_owned(),
            )),
            // The ticket changed meanwhile (an agent closed it …): nothing more to ask.
            Err(tickets::StoreError::NotAllowedNow(why)) => Ok(Some(format!("not_applied: {why}"))),
            Err(err) => Err(err.to_string()),
        }
    }

    async fn not_reached(
        &self,
        id: &JobId,
        attempt: u32,
        cause: &Cause,
        next_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        self.tickets
            .store()
            .confirmation_not_reached(row_of(id)?, attempt, cause.as_str(), next_at, now)
            .await
            .map_err(|e| e.to_string())
    }

    async fn given_up(
        &self,
        id: &JobId,
        attempts: u32,
        cause: &Cause,
        then: AfterLastTry,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let then = match then {
            AfterLastTry::CallBack => GiveUp::CallBack,
            AfterLastTry::CloseUnverified => GiveUp::CloseUnverified,
        };
        self.tickets
            .store()
            .confirmation_given_up(row_of(id)?, attempts, cause.as_str(), then, now)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
