//! Officers' and reminders' queries, part of [`Store`] (migration 7). The decisions are
//! [`crate::officers`]'s; these read and write.
//!
//! - Officers: created, changed and deactivated by an administrator, each change in the account
//!   audit. A new officer adopts the tickets an earlier build assigned by free text to their
//!   name (or id) in their department; other free text stays as the name shown.
//! - Reminders: [`Store::schedule_reminders`] writes one row per ticket per milestone (the unique
//!   key: two nodes, or a restart, never write it twice) — a call for the dialer, or an SMS
//!   written to the outbox in the same transaction; the dialer's tries are claimed by
//!   compare-and-set on the tries made, each try's end and the acknowledgement on the ticket's
//!   audit trail.

use chrono::{DateTime, Utc};

use super::{
    AuditRecord, Backend, BindValue, EventDraft, Mutation, OPEN_STATUSES_SQL, Store, TICKET_SELECT,
    TicketRow, corrupt,
};
use crate::clock::{from_millis, to_millis};
use crate::error::StoreError;
use crate::model::Ticket;
use crate::number::ComplaintNumber;
use crate::officers::{
    Milestone, Officer, OfficerFields, OfficerInput, OfficerProblems, ReminderChannel,
    days_overdue, milestone, officer_for_level, recipient,
};
use crate::outbox::{Change, EventKind, TicketSummary};

/// An officer's change in the account audit, on an open transaction.
macro_rules! audit_officer {
    ($tx:expr, $at:expr, $actor:expr, $action:expr, $id:expr, $detail:expr) => {{
        sqlx::query(
            "INSERT INTO account_audit (at, actor, action, subject, detail) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($at)
        .bind($actor.to_owned())
        .bind($action.to_owned())
        .bind(format!("officer:{}", $id))
        .bind($detail)
        .execute(&mut *$tx)
        .await
    }};
}

/// Who the audit trail names for the reminders' changes.
const ACTOR: &str = "system:reminder";

#[derive(Debug, sqlx::FromRow)]
struct OfficerRow {
    id: i64,
    name: String,
    department_code: String,
    level: i64,
    phone: String,
    nodal: i64,
    reminder_channel: String,
    active: i64,
    created_at: i64,
    updated_at: i64,
}

impl OfficerRow {
    fn into_officer(self) -> Result<Officer, StoreError> {
        Ok(Officer {
            id: self.id,
            level: u8::try_from(self.level)
                .map_err(|_| corrupt(format!("officer {}: level {}", self.id, self.level)))?,
            reminder_channel: self
                .reminder_channel
                .parse()
                .map_err(|e| corrupt(format!("officer {}: {e}", self.id)))?,
            name: self.name,
            department_code: self.department_code,
            phone: self.phone,
            nodal: self.nodal != 0,
            active: self.active != 0,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}

const OFFICER_SELECT: &str = "SELECT id, name, department_code, level, phone, nodal, \
    reminder_channel, active, created_at, updated_at FROM officers";

fn officers(rows: Vec<OfficerRow>) -> Result<Vec<Officer>, StoreError> {
    rows.into_iter().map(OfficerRow::into_officer).collect()
}

/// What may go wrong changing an officer.
#[derive(Debug, thiserror::Error)]
pub enum OfficerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(#[from] OfficerProblems),
    #[error("no officer {0}")]
    NotFound(i64),
}

impl From<sqlx::Error> for OfficerError {
    fn from(err: sqlx::Error) -> Self {
        OfficerError::Store(StoreError::from(err))
    }
}

/// A reminder with what the dialer (or a report) needs of its ticket and officer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reminder {
    pub id: i64,
    pub number: ComplaintNumber,
    pub milestone: Milestone,
    /// The ticket's due time the reminder is about.
    pub due_at: DateTime<Utc>,
    pub officer_id: i64,
    pub officer_name: String,
    pub officer_phone: String,
    pub channel: ReminderChannel,
    /// `pending`, `acknowledged`, `sent`, `given_up`, `cancelled`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_cause: Option<String>,
    pub language: String,
    pub department_code: String,
    pub department_name: String,
}

#[derive(Debug, sqlx::FromRow)]
struct ReminderRow {
    id: i64,
    number: String,
    milestone: String,
    due_at: i64,
    officer_id: i64,
    officer_name: String,
    officer_phone: String,
    channel: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_cause: Option<String>,
    language: String,
    department_code: String,
    department_name: String,
}

impl ReminderRow {
    fn into_reminder(self) -> Result<Reminder, StoreError> {
        let bad = |what: String| corrupt(format!("reminder {}: {what}", self.id));
        Ok(Reminder {
            id: self.id,
            number: self
                .number
                .parse()
                .map_err(|_| bad("bad number".to_owned()))?,
            milestone: self.milestone.parse().map_err(|e| bad(format!("{e}")))?,
            due_at: from_millis(self.due_at),
            officer_id: self.officer_id,
            channel: self.channel.parse().map_err(|e| bad(format!("{e}")))?,
            attempts: u32::try_from(self.attempts).map_err(|_| bad("attempts".to_owned()))?,
            next_attempt_at: from_millis(self.next_attempt_at),
            officer_name: self.officer_name,
            officer_phone: self.officer_phone,
            state: self.state,
            last_cause: self.last_cause,
            language: self.language,
            department_code: self.department_code,
            department_name: self.department_name,
        })
    }
}

const REMINDER_SELECT: &str = "SELECT r.id, t.number, r.milestone, r.due_at, r.officer_id, \
    o.name AS officer_name, o.phone AS officer_phone, r.channel, r.state, r.attempts, \
    r.next_attempt_at, r.last_cause, t.language, t.department_code, d.name AS department_name \
    FROM officer_reminders r JOIN tickets t ON t.id = r.ticket_id \
    JOIN officers o ON o.id = r.officer_id JOIN departments d ON d.code = t.department_code";

/// What a pass of [`Store::schedule_reminders`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scheduled {
    /// Reminder calls for the dialer.
    pub calls: usize,
    /// SMS reminders handed to the outbox.
    pub sms: usize,
}

impl Store {
    /// Every officer (of one department, if given), by department, level and id.
    pub async fn officers(&self, department: Option<&str>) -> Result<Vec<Officer>, StoreError> {
        let sql = format!(
            "{OFFICER_SELECT} WHERE ($1 IS NULL OR department_code = $1) \
             ORDER BY department_code, level, id"
        );
        let department = department.map(str::to_owned);
        let rows: Vec<OfficerRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(department)
                .fetch_all(pool)
                .await?
        });
        officers(rows)
    }

    /// One officer by id.
    pub async fn officer(&self, id: i64) -> Result<Option<Officer>, StoreError> {
        let sql = format!("{OFFICER_SELECT} WHERE id = $1");
        let row: Option<OfficerRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(OfficerRow::into_officer).transpose()
    }

    /// A new officer, in the account audit, adopting the tickets of their department assigned by
    /// free text to their name or id (an earlier build's `assigned_to`), all in one transaction.
    pub async fn create_officer(
        &self,
        input: &OfficerInput,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Officer, OfficerError> {
        let f = OfficerFields::apply(None, input)?;
        if self.department(&f.department_code).await?.is_none() {
            return Err(StoreError::UnknownDepartment(f.department_code).into());
        }
        let at = to_millis(now);
        let id: i64 = on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO officers (name, department_code, level, phone, nodal, \
                 reminder_channel, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
            )
            .bind(&f.name)
            .bind(&f.department_code)
            .bind(i64::from(f.level))
            .bind(&f.phone)
            .bind(i64::from(f.nodal))
            .bind(f.reminder_channel.as_str())
            .bind(i64::from(f.active))
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let adopted = sqlx::query(
                "UPDATE tickets SET officer_id = $1 WHERE officer_id IS NULL \
                 AND department_code = $2 AND (assigned_to = $3 OR assigned_to = $4)",
            )
            .bind(id)
            .bind(&f.department_code)
            .bind(&f.name)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            audit_officer!(tx, at, actor, "officer_created", id, describe(&f, adopted))?;
            id
        }))?;
        self.officer(id).await?.ok_or(OfficerError::NotFound(id))
    }

    /// Changes an officer's fields (those `input` names), in the account audit.
    pub async fn update_officer(
        &self,
        id: i64,
        input: &OfficerInput,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Officer, OfficerError> {
        let current = self.officer(id).await?.ok_or(OfficerError::NotFound(id))?;
        let f = OfficerFields::apply(Some(&current), input)?;
        if f.department_code != current.department_code
            && self.department(&f.department_code).await?.is_none()
        {
            return Err(StoreError::UnknownDepartment(f.department_code).into());
        }
        let at = to_millis(now);
        let action = if current.active && !f.active {
            "officer_deactivated"
        } else {
            "officer_updated"
        };
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            sqlx::query(
                "UPDATE officers SET name = $1, department_code = $2, level = $3, phone = $4, \
                 nodal = $5, reminder_channel = $6, active = $7, updated_at = $8 WHERE id = $9",
            )
            .bind(&f.name)
            .bind(&f.department_code)
            .bind(i64::from(f.level))
            .bind(&f.phone)
            .bind(i64::from(f.nodal))
            .bind(f.reminder_channel.as_str())
            .bind(i64::from(f.active))
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit_officer!(tx, at, actor, action, id, describe(&f, 0))?;
        }))?;
        self.officer(id).await?.ok_or(OfficerError::NotFound(id))
    }

    /// Deactivates an officer: no longer assigned, escalated to or reminded (their tickets keep
    /// their name; the nodal officer is reminded of them).
    pub async fn deactivate_officer(
        &self,
        id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Officer, OfficerError> {
        let input = OfficerInput {
            active: Some(false),
            ..OfficerInput::default()
        };
        self.update_officer(id, &input, actor, now).await
    }

    /// Assigns the ticket to officer `officer_id` (active, of the ticket's department): their id
    /// on the ticket, their name shown.
    pub async fn assign_officer(
        &self,
        number: ComplaintNumber,
        officer_id: i64,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Ticket, StoreError> {
        let officer = self
            .officer(officer_id)
            .await?
            .filter(|o| o.active)
            .ok_or_else(|| StoreError::NotAllowedNow(format!("no active officer {officer_id}")))?;
        let ticket = self
            .ticket(number)
            .await?
            .ok_or(StoreError::TicketNotFound(number))?;
        if ticket.department_code != officer.department_code {
            return Err(StoreError::NotAllowedNow(format!(
                "officer {officer_id} is of department {}; the ticket is {}",
                officer.department_code, ticket.department_code
            )));
        }
        self.assign_to(number, Some(officer.id), &officer.name, actor, reason, now)
            .await
    }

    /// The department's active officers, for an escalation to pick the next level's.
    pub(super) async fn active_officers_of(
        &self,
        department: &str,
    ) -> Result<Vec<Officer>, StoreError> {
        Ok(self
            .officers(Some(department))
            .await?
            .into_iter()
            .filter(|o| o.active)
            .collect())
    }

    /// Writes the reminders owed at `now` (a milestone within `before` of the due time, or
    /// past it) for open tickets someone can be reminded of: a call row for the dialer, or an SMS
    /// row with its outbox event. Safe on several nodes at once: a reminder another wrote is
    /// skipped (the unique key), its event with it.
    pub async fn schedule_reminders(
        &self,
        now: DateTime<Utc>,
        before: std::time::Duration,
    ) -> Result<Scheduled, StoreError> {
        let now_ms = to_millis(now);
        let horizon = now
            + chrono::Duration::from_std(before).unwrap_or_else(|_| chrono::Duration::days(3650));
        let mut done = Scheduled::default();
        loop {
            // Tickets owed a milestone they have no reminder of, with someone to remind.
            let sql = format!(
                "{TICKET_SELECT} WHERE t.status IN {OPEN_STATUSES_SQL} AND t.due_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM officer_reminders r WHERE r.ticket_id = t.id \
                   AND r.due_at = t.due_at \
                   AND r.milestone = CASE WHEN t.due_at <= $2 THEN 'overdue' ELSE 'nearing' END) \
                 AND EXISTS (SELECT 1 FROM officers o WHERE o.active = 1 AND (o.id = t.officer_id \
                   OR (o.nodal = 1 AND o.department_code = t.department_code))) \
                 ORDER BY t.due_at, t.id LIMIT 200"
            );
            let rows: Vec<TicketRow> = on_pool!(self, |pool| {
                sqlx::query_as(&sql)
                    .bind(to_millis(horizon))
                    .bind(now_ms)
                    .fetch_all(pool)
                    .await?
            });
            if rows.is_empty() {
                break;
            }
            let active: Vec<Officer> = self
                .officers(None)
                .await?
                .into_iter()
                .filter(|o| o.active)
                .collect();
            let mut owed = Vec::with_capacity(rows.len());
            for row in rows {
                let (ticket_id, officer_id, ticket) = row.into_ticket_with_officer()?;
                let Some(milestone) = milestone(ticket.due_at, now, before) else {
                    continue;
                };
                let assigned = officer_id.and_then(|id| active.iter().find(|o| o.id == id));
                let Some(to) = recipient(assigned, &active, &ticket.department_code) else {
                    continue;
                };
                owed.push((ticket_id, ticket, milestone, to.clone()));
            }
            if owed.is_empty() {
                break;
            }
            let written = on_pool!(self, |pool| transaction!(pool, None, |tx| {
                let mut written = Scheduled::default();
                for (ticket_id, ticket, milestone, to) in &owed {
                    let state = match to.reminder_channel {
                        ReminderChannel::Call => "pending",
                        ReminderChannel::Sms => "sent",
                    };
                    let inserted = sqlx::query(
                        "INSERT INTO officer_reminders (ticket_id, milestone, due_at, officer_id, \
                         channel, state, next_attempt_at, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) \
                         ON CONFLICT (ticket_id, milestone, due_at) DO NOTHING",
                    )
                    .bind(*ticket_id)
                    .bind(milestone.as_str())
                    .bind(to_millis(ticket.due_at))
                    .bind(to.id)
                    .bind(to.reminder_channel.as_str())
                    .bind(state)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if inserted != 1 {
                        continue;
                    }
                    let days = days_overdue(ticket.due_at, now);
                    let what = match milestone {
                        Milestone::Nearing => format!("due {}", ticket.due_at.to_rfc3339()),
                        Milestone::Overdue => format!("{days} day(s) overdue"),
                    };
                    if to.reminder_channel == ReminderChannel::Sms {
                        let change = Change {
                            from: None,
                            to: milestone.as_str().to_owned(),
                            reason: Some(format!("reminder to officer {}: {what}", to.id)),
                        };
                        let event = EventDraft::new(
                            EventKind::OfficerReminder,
                            TicketSummary::of(ticket),
                            &to.phone,
                            change,
                            now_ms,
                        )?;
                        insert_event!(tx, *ticket_id, &event)?;
                        written.sms += 1;
                    } else {
                        written.calls += 1;
                    }
                    let entry = AuditRecord {
                        at_ms: now_ms,
                        actor: ACTOR.to_owned(),
                        action: "reminder",
                        from_value: None,
                        to_value: Some(milestone.as_str().to_owned()),
                        reason: Some(format!(
                            "{} to officer {} ({}): {what}",
                            match to.reminder_channel {
                                ReminderChannel::Call => "a call",
                                ReminderChannel::Sms => "an SMS",
                            },
                            to.id,
                            to.name
                        )),
                    };
                    insert_audit!(tx, *ticket_id, &entry)?;
                }
                written
            }))?;
            done.calls += written.calls;
            done.sms += written.sms;
            if written.calls + written.sms == 0 {
                // Another node wrote every one we saw; the next pass sees them written.
                break;
            }
        }
        Ok(done)
    }

    /// Reminder calls due by `before` (pending, their ticket still open), the earliest first.
    pub async fn due_reminder_calls(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminder>, StoreError> {
        let sql = format!(
            "{REMINDER_SELECT} WHERE r.state = 'pending' AND r.channel = 'call' \
             AND r.next_attempt_at <= $1 AND t.status IN {OPEN_STATUSES_SQL} \
             ORDER BY r.next_attempt_at, r.id LIMIT $2"
        );
        let rows: Vec<ReminderRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(to_millis(before))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(ReminderRow::into_reminder).collect()
    }

    /// Every reminder of a ticket, the oldest first.
    pub async fn reminders_of(&self, number: ComplaintNumber) -> Result<Vec<Reminder>, StoreError> {
        let sql = format!("{REMINDER_SELECT} WHERE t.number = $1 ORDER BY r.id");
        let rows: Vec<ReminderRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(number.to_string())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(ReminderRow::into_reminder).collect()
    }

    /// Try `attempt` of reminder `id` is about to be dialled: claimed by compare-and-set on the
    /// tries made (another node that read it too finds it claimed), refused once the ticket is
    /// closed (the reminder is then cancelled).
    pub async fn reminder_dialling(
        &self,
        id: i64,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = to_millis(now);
        let claimed = on_pool!(self, |pool| {
            sqlx::query(&format!(
                "UPDATE officer_reminders SET attempts = $1, updated_at = $2 \
                 WHERE id = $3 AND state = 'pending' AND attempts = $4 \
                 AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = officer_reminders.ticket_id \
                   AND t.status IN {OPEN_STATUSES_SQL})"
            ))
            .bind(i64::from(attempt))
            .bind(at)
            .bind(id)
            .bind(i64::from(attempt.saturating_sub(1)))
            .execute(pool)
            .await?
            .rows_affected()
        });
        if claimed == 1 {
            return Ok(());
        }
        // Closed meanwhile: nothing to remind of.
        let _cancelled: u64 = on_pool!(self, |pool| {
            sqlx::query(&format!(
                "UPDATE officer_reminders SET state = 'cancelled', updated_at = $1 \
                 WHERE id = $2 AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM tickets t \
                   WHERE t.id = officer_reminders.ticket_id AND t.status IN {OPEN_STATUSES_SQL})"
            ))
            .bind(at)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Err(StoreError::NotAllowedNow(format!(
            "reminder {id} try {attempt} is not to be dialled (claimed, done or its ticket closed)"
        )))
    }

    /// The officer pressed 1 on try `attempt`: acknowledged, on the ticket's audit trail.
    pub async fn reminder_acknowledged(
        &self,
        id: i64,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish_reminder(id, "acknowledged", attempt, None, now, |r| AuditRecord {
            at_ms: to_millis(now),
            actor: format!("officer:{}", r.officer_id),
            action: "reminder_acknowledged",
            from_value: None,
            to_value: Some(r.milestone.as_str().to_owned()),
            reason: Some(format!(
                "{} acknowledged the {} reminder on call try {attempt}",
                r.officer_name,
                r.milestone.as_str()
            )),
        })
        .await
    }

    /// Try `attempt` did not reach the officer (`cause`); the next is due at `next_at`.
    pub async fn reminder_not_reached(
        &self,
        id: i64,
        attempt: u32,
        cause: &str,
        next_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = to_millis(now);
        let reminder = self.reminder(id).await?;
        let entry = AuditRecord {
            at_ms: at,
            actor: ACTOR.to_owned(),
            action: "reminder_call",
            from_value: None,
            to_value: Some(cause.to_owned()),
            reason: Some(format!(
                "try {attempt} did not reach officer {} ({}); next try at {}",
                reminder.officer_id,
                reminder.officer_name,
                next_at.to_rfc3339()
            )),
        };
        self.on_pending_reminder(
            id,
            "attempts = $1, last_cause = $2, next_attempt_at = $3, updated_at = $4",
            vec![
                BindValue::Int(Some(i64::from(attempt))),
                BindValue::Text(Some(cause.to_owned())),
                BindValue::Int(Some(to_millis(next_at))),
                BindValue::Int(Some(at)),
            ],
            &entry,
        )
        .await
    }

    /// The last try (`attempts` in all) did not reach the officer: given up, on the audit trail.
    pub async fn reminder_given_up(
        &self,
        id: i64,
        attempts: u32,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish_reminder(id, "given_up", attempts, Some(cause), now, |r| {
            AuditRecord {
                at_ms: to_millis(now),
                actor: ACTOR.to_owned(),
                action: "reminder_call",
                from_value: None,
                to_value: Some("given_up".to_owned()),
                reason: Some(format!(
                    "{attempts} tries reached nobody (the last: {cause}): officer {} ({}) not reminded",
                    r.officer_id, r.officer_name
                )),
            }
        })
        .await
    }

    async fn reminder(&self, id: i64) -> Result<Reminder, StoreError> {
        let sql = format!("{REMINDER_SELECT} WHERE r.id = $1");
        let row: Option<ReminderRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(ReminderRow::into_reminder)
            .transpose()?
            .ok_or_else(|| StoreError::NotAllowedNow(format!("no reminder {id}")))
    }

    /// A pending reminder ends in `state`, with its audit entry, in one transaction.
    async fn finish_reminder(
        &self,
        id: i64,
        state: &str,
        attempts: u32,
        cause: Option<&str>,
        now: DateTime<Utc>,
        entry: impl FnOnce(&Reminder) -> AuditRecord,
    ) -> Result<(), StoreError> {
        let reminder = self.reminder(id).await?;
        self.on_pending_reminder(
            id,
            "state = $1, attempts = $2, last_cause = COALESCE($3, last_cause), updated_at = $4",
            vec![
                BindValue::Text(Some(state.to_owned())),
                BindValue::Int(Some(i64::from(attempts))),
                BindValue::Text(cause.map(str::to_owned)),
                BindValue::Int(Some(to_millis(now))),
            ],
            &entry(&reminder),
        )
        .await
    }

    /// Sets `set` (its binds `$1` … `$n`) on reminder `id` while it is pending, and writes
    /// `entry` on its ticket's audit trail, in one transaction; refused once it is not pending.
    async fn on_pending_reminder(
        &self,
        id: i64,
        set: &str,
        binds: Vec<BindValue>,
        entry: &AuditRecord,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE officer_reminders SET {set} WHERE id = ${} AND state = 'pending' \
             RETURNING ticket_id",
            binds.len() + 1
        );
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let ticket: Option<(i64,)> = bind_all!(sqlx::query_as(&sql), binds.clone())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((ticket_id,)) = ticket else {
                return Err(StoreError::NotAllowedNow(format!(
                    "reminder {id} is no longer pending"
                )));
            };
            insert_audit!(tx, ticket_id, entry)?;
        }))
    }
}

impl TicketRow {
    /// The ticket's row id, officer id and the ticket.
    fn into_ticket_with_officer(self) -> Result<(i64, Option<i64>, Ticket), StoreError> {
        let officer_id = self.officer_id;
        let (id, _, ticket) = self.into_ticket()?;
        Ok((id, officer_id, ticket))
    }
}

/// The new officer for a ticket escalated to `level`, as columns to set with the escalation
/// (none when the level has no active officer: the assignment stays).
pub(super) fn escalation_assignment(
    officers: &[Officer],
    ticket: &Ticket,
    level: u8,
    m: &mut Mutation,
) {
    if let Some(next) = officer_for_level(officers, &ticket.department_code, level) {
        m.set.push(("officer_id", BindValue::Int(Some(next.id))));
        m.set
            .push(("assigned_to", BindValue::Text(Some(next.name.clone()))));
    }
}

/// The SQL an escalation's `UPDATE tickets` sets the officer with: the next level's active officer
/// of the department (nodal first, then the lowest id), or the one it had. `$L` is the new level.
pub(super) fn escalation_officer_sql(level: &str) -> String {
    let pick = format!(
        "(SELECT o.id FROM officers o WHERE o.department_code = tickets.department_code \
         AND o.level = {level} AND o.active = 1 ORDER BY o.nodal DESC, o.id LIMIT 1)"
    );
    format!(
        "officer_id = COALESCE({pick}, officer_id), assigned_to = COALESCE((SELECT o.name FROM \
         officers o WHERE o.id = {pick}), assigned_to)"
    )
}

fn describe(f: &OfficerFields, adopted: u64) -> String {
    let mut text = format!(
        "{} ({}, L{}, {}, reminded by {}{}{})",
        f.name,
        f.department_code,
        f.level,
        f.phone,
        f.reminder_channel,
        if f.nodal { ", nodal" } else { "" },
        if f.active { "" } else { ", inactive" }
    );
    if adopted > 0 {
        text.push_str(&format!(
            "; adopted {adopted} ticket(s) assigned to the name"
        ));
    }
    text
}
