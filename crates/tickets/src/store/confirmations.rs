//! Confirmation calls' queries, part of [`Store`] (migration 6): one row per resolution of a
//! ticket, written with the change to `resolved` (`change_status`), cancelled with any other way
//! out of it, and moved along by the outbound dialer — each try's end on the ticket's audit trail,
//! the citizen's verdict and the policy after the last try in the same transaction as the ticket
//! change they make.

use chrono::{DateTime, Utc};

use super::{
    AuditRecord, Backend, BindValue, ConfirmationWrite, DAY_MS, EventDraft, Mutation, Store,
    corrupt,
};
use crate::clock::{from_millis, to_millis};
use crate::error::StoreError;
use crate::model::{ConfirmationState, FeedbackReason, MAX_LEVEL, Page, Ticket, TicketStatus};
use crate::number::ComplaintNumber;

/// Who the audit trail names for the dialer's changes.
const ACTOR: &str = "system:confirmation";

/// A confirmation call with what the dialer (and an agent calling back) needs of its ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Confirmation {
    #[serde(skip)]
    #[schema(ignore)]
    pub id: i64,
    #[schema(value_type = String, pattern = "^[1-9][0-9]{9}$")]
    pub number: ComplaintNumber,
    /// Which resolution of the ticket it confirms (1 + the ticket's reopenings then).
    pub round: u32,
    pub state: ConfirmationState,
    /// Tries made so far.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    /// Why the latest try did not reach the citizen.
    pub last_cause: Option<String>,
    pub resolved_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The complainant's number (E.164, or `unknown`).
    pub caller_number: String,
    pub language: String,
    pub department_code: String,
    pub department_name: String,
}

#[derive(Debug, sqlx::FromRow)]
struct ConfirmationRow {
    id: i64,
    number: String,
    round: i64,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_cause: Option<String>,
    resolved_at: i64,
    updated_at: i64,
    caller_number: String,
    language: String,
    department_code: String,
    department_name: String,
}

impl ConfirmationRow {
    fn into_confirmation(self) -> Result<Confirmation, StoreError> {
        Ok(Confirmation {
            id: self.id,
            number: self
                .number
                .parse()
                .map_err(|_| corrupt(format!("confirmation {}: bad number", self.id)))?,
            round: u32::try_from(self.round)
                .map_err(|_| corrupt(format!("confirmation {}: bad round", self.id)))?,
            state: self
                .state
                .parse()
                .map_err(|e| corrupt(format!("confirmation {}: {e}", self.id)))?,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| corrupt(format!("confirmation {}: bad attempts", self.id)))?,
            next_attempt_at: from_millis(self.next_attempt_at),
            last_cause: self.last_cause,
            resolved_at: from_millis(self.resolved_at),
            updated_at: from_millis(self.updated_at),
            caller_number: self.caller_number,
            language: self.language,
            department_code: self.department_code,
            department_name: self.department_name,
        })
    }
}

const SELECT: &str = "SELECT c.id, t.number, c.round, c.state, c.attempts, c.next_attempt_at, \
    c.last_cause, c.resolved_at, c.updated_at, t.caller_number, t.language, t.department_code, \
    d.name AS department_name \
    FROM confirmation_calls c JOIN tickets t ON t.id = c.ticket_id \
    JOIN departments d ON d.code = t.department_code";

fn rows(rows: Vec<ConfirmationRow>) -> Result<Vec<Confirmation>, StoreError> {
    rows.into_iter()
        .map(ConfirmationRow::into_confirmation)
        .collect()
}

/// How the dialer's last try ended, for the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// Leave the ticket resolved, on an agent's call-back list.
    CallBack,
    /// Close it `closed_unverified`.
    CloseUnverified,
}

impl Store {
    /// Pending confirmation calls due by `before`, the earliest first, at most `limit`.
    pub async fn due_confirmations(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Confirmation>, StoreError> {
        let sql = format!(
            "{SELECT} WHERE c.state = 'pending' AND c.next_attempt_at <= $1 \
             ORDER BY c.next_attempt_at, c.id LIMIT $2"
        );
        let found: Vec<ConfirmationRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(to_millis(before))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows(found)
    }

    /// Confirmation calls in `state` (e.g. [`ConfirmationState::CallBack`]: an agent's list),
    /// the oldest change first.
    pub async fn confirmations_in_state(
        &self,
        state: ConfirmationState,
        page: Page,
    ) -> Result<Vec<Confirmation>, StoreError> {
        let (limit, offset) = super::page_binds(page);
        let sql =
            format!("{SELECT} WHERE c.state = $1 ORDER BY c.updated_at, c.id LIMIT $2 OFFSET $3");
        let found: Vec<ConfirmationRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(state.as_str())
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?
        });
        rows(found)
    }

    /// A page of the confirmation calls in `state` (of one department, if given), the oldest
    /// change first, and how many there are in all.
    pub async fn confirmations_page(
        &self,
        state: ConfirmationState,
        department: Option<&str>,
        page: Page,
    ) -> Result<(Vec<Confirmation>, u64), StoreError> {
        let (limit, offset) = super::page_binds(page);
        let dept = "($2 IS NULL OR t.department_code = $2)";
        let sql = format!(
            "{SELECT} WHERE c.state = $1 AND {dept} ORDER BY c.updated_at, c.id LIMIT $3 OFFSET $4"
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM confirmation_calls c JOIN tickets t ON t.id = c.ticket_id \
             WHERE c.state = $1 AND {dept}"
        );
        let department = department.map(str::to_owned);
        let (found, total): (Vec<ConfirmationRow>, i64) = on_pool!(self, |pool| {
            let found = sqlx::query_as(&sql)
                .bind(state.as_str())
                .bind(department.clone())
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let (total,): (i64,) = sqlx::query_as(&count_sql)
                .bind(state.as_str())
                .bind(department.clone())
                .fetch_one(pool)
                .await?;
            (found, total)
        });
        Ok((rows(found)?, super::count_from_sql(total)))
    }

    /// Every confirmation call of a ticket, the first resolution first.
    pub async fn confirmations_of(
        &self,
        number: ComplaintNumber,
    ) -> Result<Vec<Confirmation>, StoreError> {
        let sql = format!("{SELECT} WHERE t.number = $1 ORDER BY c.round");
        let found: Vec<ConfirmationRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(number.to_string())
                .fetch_all(pool)
                .await?
        });
        rows(found)
    }

    /// One confirmation call by id.
    pub async fn confirmation(&self, id: i64) -> Result<Option<Confirmation>, StoreError> {
        let sql = format!("{SELECT} WHERE c.id = $1");
        let found: Option<ConfirmationRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        found.map(ConfirmationRow::into_confirmation).transpose()
    }

    /// Try `attempt` is being dialled: counted before the call goes out, so an engine that dies
    /// during it does not try more often than the policy allows.
    pub async fn confirmation_dialling(
        &self,
        id: i64,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let affected = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE confirmation_calls SET attempts = $1, updated_at = $2 \
                 WHERE id = $3 AND state = 'pending'",
            )
            .bind(i64::from(attempt))
            .bind(to_millis(now))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if affected == 1 {
            Ok(())
        } else {
            Err(StoreError::NotAllowedNow(format!(
                "confirmation call {id} is no longer pending"
            )))
        }
    }

    /// Try `attempt` did not reach the citizen (`cause`); the next is due at `next_at`. On the
    /// ticket's audit trail with the row's change, in one transaction.
    pub async fn confirmation_not_reached(
        &self,
        id: i64,
        attempt: u32,
        cause: &str,
        next_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at_ms = to_millis(now);
        let entry = AuditRecord {
            at_ms,
            actor: ACTOR.to_owned(),
            action: "confirmation_call",
            from_value: None,
            to_value: Some(cause.to_owned()),
            reason: Some(format!(
                "try {attempt} did not reach the citizen; next try at {}",
                next_at.to_rfc3339()
            )),
        };
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let ticket: Option<(i64,)> = sqlx::query_as(
                "UPDATE confirmation_calls SET attempts = $1, last_cause = $2, next_attempt_at = $3, \
                 updated_at = $4 WHERE id = $5 AND state = 'pending' RETURNING ticket_id",
            )
            .bind(i64::from(attempt))
            .bind(cause)
            .bind(to_millis(next_at))
            .bind(at_ms)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((ticket_id,)) = ticket else {
                return Err(StoreError::NotAllowedNow(format!(
                    "confirmation call {id} is no longer pending"
                )));
            };
            insert_audit!(tx, ticket_id, &entry)?;
        }))
    }

    /// The last try (`attempts` in all) did not reach the citizen: the policy, with the ticket's
    /// change (closed unverified) or its place on the call-back list, in one transaction.
    pub async fn confirmation_given_up(
        &self,
        id: i64,
        attempts: u32,
        cause: &str,
        then: GiveUp,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let confirmation = self
            .confirmation(id)
            .await?
            .ok_or_else(|| StoreError::NotAllowedNow(format!("no confirmation call {id}")))?;
        let at_ms = to_millis(now);
        self.mutate(
            confirmation.number,
            |t| {
                let mut m = Mutation::default();
                let reason = format!("{attempts} tries reached nobody (the last: {cause})");
                let state = match then {
                    GiveUp::CallBack => {
                        m.audit.push(AuditRecord {
                            at_ms,
                            actor: ACTOR.to_owned(),
                            action: "confirmation_call",
                            from_value: None,
                            to_value: Some("call_back".to_owned()),
                            reason: Some(format!("{reason}: on the agents' call-back list")),
                        });
                        ConfirmationState::CallBack
                    }
                    GiveUp::CloseUnverified => {
                        if !t.status.can_become(TicketStatus::ClosedUnverified) {
                            return Err(super::invalid_transition(
                                t.status,
                                TicketStatus::ClosedUnverified,
                            ));
                        }
                        m.set.push((
                            "status",
                            BindValue::Text(Some(TicketStatus::ClosedUnverified.to_string())),
                        ));
                        m.events.push(EventDraft::status(
                            t,
                            TicketStatus::ClosedUnverified,
                            Some(&reason),
                            at_ms,
                        )?);
                        m.audit.push(AuditRecord {
                            at_ms,
                            actor: ACTOR.to_owned(),
                            action: "status",
                            from_value: Some(t.status.to_string()),
                            to_value: Some(TicketStatus::ClosedUnverified.to_string()),
                            reason: Some(reason),
                        });
                        ConfirmationState::Unverified
                    }
                };
                m.confirmation = Some(ConfirmationWrite::Finish {
                    id,
                    state,
                    attempts: i64::from(attempts),
                    cause: Some(cause.to_owned()),
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }

    /// The citizen answered try `attempt`: satisfied closes the ticket `closed_satisfied` (as
    /// feedback by phone does); not satisfied reopens it and escalates it one level (its SLA clock
    /// restarted; the next level's officer takes it, as with any escalation), with the reason. One
    /// transaction with the row's end.
    pub async fn confirmation_verdict(
        &self,
        id: i64,
        attempt: u32,
        satisfied: bool,
        reason: Option<FeedbackReason>,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let confirmation = self
            .confirmation(id)
            .await?
            .ok_or_else(|| StoreError::NotAllowedNow(format!("no confirmation call {id}")))?;
        let sla_days = self
            .department(&confirmation.department_code)
            .await?
            .map(|d| d.sla_days)
            .ok_or_else(|| StoreError::UnknownDepartment(confirmation.department_code.clone()))?;
        let officers = self
            .active_officers_of(&confirmation.department_code)
            .await?;
        let at_ms = to_millis(now);
        self.mutate(
            confirmation.number,
            |t| {
                let to = if satisfied {
                    TicketStatus::ClosedSatisfied
                } else {
                    TicketStatus::Reopened
                };
                if t.status != TicketStatus::Resolved {
                    return Err(StoreError::NotAllowedNow(format!(
                        "the confirmation's verdict applies to a resolved ticket; this one is {}",
                        t.status
                    )));
                }
                let said = reason.map(|r| r.to_string());
                let mut m = Mutation::default();
                m.events
                    .push(EventDraft::status(t, to, said.as_deref(), at_ms)?);
                m.set
                    .push(("status", BindValue::Text(Some(to.to_string()))));
                m.set.push((
                    "feedback_satisfied",
                    BindValue::Int(Some(i64::from(satisfied))),
                ));
                m.set
                    .push(("feedback_reason", BindValue::Text(said.clone())));
                m.audit.push(AuditRecord {
                    at_ms,
                    actor: ACTOR.to_owned(),
                    action: "feedback",
                    from_value: Some(t.status.to_string()),
                    to_value: Some(to.to_string()),
                    reason: Some(match &said {
                        Some(r) => format!("on confirmation call try {attempt}: {r}"),
                        None => format!("on confirmation call try {attempt}"),
                    }),
                });
                if !satisfied {
                    m.set.push((
                        "reopen_count",
                        BindValue::Int(Some(i64::from(t.reopen_count) + 1)),
                    ));
                    m.set.push((
                        "due_at",
                        BindValue::Int(Some(at_ms + i64::from(sla_days) * DAY_MS)),
                    ));
                    let why = format!(
                        "the citizen is not satisfied ({})",
                        said.as_deref().unwrap_or("no reason given")
                    );
                    if t.level < MAX_LEVEL {
                        let due_ms = at_ms + i64::from(sla_days) * DAY_MS;
                        m.events
                            .push(EventDraft::escalated(t, due_ms, &why, at_ms)?);
                        m.set
                            .push(("level", BindValue::Int(Some(i64::from(t.level) + 1))));
                        super::officers::escalation_assignment(&officers, t, t.level + 1, &mut m);
                        m.audit.push(AuditRecord {
                            at_ms,
                            actor: ACTOR.to_owned(),
                            action: "escalated",
                            from_value: Some(format!("L{}", t.level)),
                            to_value: Some(format!("L{}", t.level + 1)),
                            reason: Some(why),
                        });
                    } else {
                        m.audit.push(AuditRecord {
                            at_ms,
                            actor: ACTOR.to_owned(),
                            action: "note",
                            from_value: None,
                            to_value: None,
                            reason: Some(format!("{why}; already at the top level L{MAX_LEVEL}")),
                        });
                    }
                }
                m.confirmation = Some(ConfirmationWrite::Finish {
                    id,
                    state: if satisfied {
                        ConfirmationState::Satisfied
                    } else {
                        ConfirmationState::Reopened
                    },
                    attempts: i64::from(attempt),
                    cause: None,
                });
                Ok(m)
            },
            at_ms,
        )
        .await
    }
}
