//! Officers' reminder calls as the dialer's [`Jobs`]: the ticket store's pending call reminders
//! (written by the reminders job when a ticket nears or passes its due time) become jobs of kind
//! `reminder` running the script `remind` in the complaint's language, with the complaint number,
//! the department and the days overdue; the officer's 1 (`ack`) is recorded on the ticket's audit
//! trail; a try that reaches nobody is tried again per `reminders.tries`, then given up and logged.
//!
//! [`Both`] puts them on the SAME dialer as the confirmation calls: one pacing, one window, one
//! share of the trunk, inbound still first.

use chrono::{DateTime, Utc};
use outbound::{AfterLastTry, Cause, Job, JobId, JobKind};
use tickets::{Reminder, TicketService};

use super::Jobs;

/// The kind of a reminder call's job.
pub const KIND: &str = "reminder";

/// The reminder calls of a ticket store.
#[derive(Debug, Clone)]
pub struct ReminderJobs {
    tickets: TicketService,
    /// The script they run.
    script: String,
}

impl ReminderJobs {
    pub fn new(tickets: TicketService, script: String) -> Self {
        ReminderJobs { tickets, script }
    }

    fn job(&self, r: Reminder, now: DateTime<Utc>) -> Job {
        let mut job = Job::new(
            job_id(r.id),
            JobKind::new(KIND),
            r.officer_phone,
            r.next_attempt_at,
        );
        job.script = self.script.clone();
        job.language = r.language;
        job.attempts = r.attempts;
        job.variables = vec![
            ("complaint".to_owned(), r.number.to_string()),
            ("department".to_owned(), r.department_code),
            ("milestone".to_owned(), r.milestone.as_str().to_owned()),
            (
                "days_overdue".to_owned(),
                tickets::officers::days_overdue(r.due_at, now).to_string(),
            ),
        ];
        job
    }
}

/// The job id of reminder `id`.
pub fn job_id(id: i64) -> JobId {
    JobId::new(format!("remind-{id}"))
}

fn row_of(id: &JobId) -> Result<i64, String> {
    id.as_str()
        .strip_prefix("remind-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{id} is not a reminder's job"))
}

/// Whether the officer acknowledged (pressed 1).
pub fn acknowledged(call: &ivr::Call) -> bool {
    call.var("ack") == Some("1")
}

impl Jobs for ReminderJobs {
    async fn due(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, String> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let rows = self
            .tickets
            .store()
            .due_reminder_calls(before, limit)
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|r| self.job(r, before)).collect())
    }

    async fn dialling(&self, job: &Job, attempt: u32, now: DateTime<Utc>) -> Result<(), String> {
        self.tickets
            .store()
            .reminder_dialling(row_of(&job.id)?, attempt, now)
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
        if !acknowledged(call) {
            return Ok(None);
        }
        match self
            .tickets
            .store()
            .reminder_acknowledged(row_of(&job.id)?, attempt, now)
            .await
        {
            Ok(()) => Ok(Some("acknowledged".to_owned())),
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
            .reminder_not_reached(row_of(id)?, attempt, cause.as_str(), next_at, now)
            .await
            .map_err(|e| e.to_string())
    }

    async fn given_up(
        &self,
        id: &JobId,
        attempts: u32,
        cause: &Cause,
        _then: AfterLastTry,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        tracing::info!(job = %id, attempts, cause = cause.as_str(), "officer's reminder given up");
        self.tickets
            .store()
            .reminder_given_up(row_of(id)?, attempts, cause.as_str(), now)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Two owners of jobs on one dialer: each job goes back to the owner whose id prefix it has
/// (`confirm-…` the first, `remind-…` the second, when there is one). The due jobs of both are
/// taken in turns, so a burst of one kind does not keep the other waiting for the dialer's room.
#[derive(Debug, Clone)]
pub struct Both<A, B> {
    pub first: A,
    pub second: Option<B>,
}

impl<A: Jobs, B: Jobs> Both<A, B> {
    fn is_second(&self, id: &JobId) -> bool {
        self.second.is_some() && id.as_str().starts_with("remind-")
    }
}

/// `a` and `b` taken in turns, at most `limit`.
pub fn interleave(a: Vec<Job>, b: Vec<Job>, limit: usize) -> Vec<Job> {
    let mut out = Vec::with_capacity(limit.min(a.len() + b.len()));
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    while out.len() < limit {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => {
                out.extend(x);
                if out.len() < limit {
                    out.extend(y);
                }
            }
        }
    }
    out
}

impl<A: Jobs, B: Jobs> Jobs for Both<A, B> {
    async fn due(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, String> {
        let first = self.first.due(before, limit).await;
        let second = match &self.second {
            Some(second) => second.due(before, limit).await,
            None => Ok(Vec::new()),
        };
        match (first, second) {
            (Ok(a), Ok(b)) => Ok(interleave(a, b, limit)),
            (Ok(a), Err(e)) => {
                tracing::warn!(err = %e, "outbound: due reminders could not be read");
                Ok(a)
            }
            (Err(e), Ok(b)) if !b.is_empty() => {
                tracing::warn!(err = %e, "outbound: due confirmation calls could not be read");
                Ok(b)
            }
            (Err(e), _) => Err(e),
        }
    }

    async fn dialling(&self, job: &Job, attempt: u32, now: DateTime<Utc>) -> Result<(), String> {
        match &self.second {
            Some(second) if self.is_second(&job.id) => second.dialling(job, attempt, now).await,
            _ => self.first.dialling(job, attempt, now).await,
        }
    }

    async fn answered(
        &self,
        job: &Job,
        attempt: u32,
        call: &ivr::Call,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, String> {
        match &self.second {
            Some(second) if self.is_second(&job.id) => {
                second.answered(job, attempt, call, now).await
            }
            _ => self.first.answered(job, attempt, call, now).await,
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
        match &self.second {
            Some(second) if self.is_second(id) => {
                second.not_reached(id, attempt, cause, next_at, now).await
            }
            _ => {
                self.first
                    .not_reached(id, attempt, cause, next_at, now)
                    .await
            }
        }
    }

    async fn given_up(
        &self,
        id: &JobId,
        attempts: u32,
        cause: &Cause,
        then: AfterLastTry,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        match &self.second {
            Some(second) if self.is_second(id) => {
                second.given_up(id, attempts, cause, then, now).await
            }
            _ => self.first.given_up(id, attempts, cause, then, now).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(prefix: &str, n: usize) -> Vec<Job> {
        let now: DateTime<Utc> = "2026-12-04T05:00:00Z".parse().unwrap_or_default();
        (0..n)
            .map(|i| {
                Job::new(
                    JobId::new(format!("{prefix}-{i}")),
                    JobKind::new(KIND),
                    "+919816012345",
                    now,
                )
            })
            .collect()
    }

    fn ids(jobs: &[Job]) -> Vec<&str> {
        jobs.iter().map(|j| j.id.as_str()).collect()
    }

    #[test]
    fn due_jobs_of_two_owners_are_taken_in_turns() {
        let got = interleave(jobs("confirm", 3), jobs("remind", 1), 10);
        assert_eq!(
            ids(&got),
            ["confirm-0", "remind-0", "confirm-1", "confirm-2"]
        );
        // A burst of one kind leaves room for the other.
        let got = interleave(jobs("confirm", 500), jobs("remind", 2), 3);
        assert_eq!(ids(&got), ["confirm-0", "remind-0", "confirm-1"]);
        assert!(interleave(Vec::new(), Vec::new(), 5).is_empty());
    }

    #[test]
    fn reminder_job_ids_read_back() {
        assert_eq!(row_of(&job_id(42)), Ok(42));
        assert!(row_of(&JobId::new("confirm-42")).is_err());
    }
}
