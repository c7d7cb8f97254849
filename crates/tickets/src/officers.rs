//! Officers and their reminders (issue 15): who a department's tickets are assigned to, level by
//! level (L1 … L4, the escalation ladder), and how each is reminded of a complaint that nears or
//! passes its SLA due time — a call on the outbound dialer or an SMS through the outbox.
//!
//! Plain data and the reminders' decisions without I/O (`now` passed in): [`milestone`] (which
//! reminder a ticket is owed now), [`recipient`] (the assigned officer, else the department's
//! nodal officer) and [`days_overdue`]. The store (`store::officers`) keeps the rows; one reminder
//! per ticket per milestone is its unique key.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::caller::CallerId;
use crate::model::{MAX_LEVEL, UnknownValue};

/// How an officer is reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderChannel {
    /// A call on the outbound dialer (`ivr-scripts/remind.toml`; 1 acknowledges).
    Call,
    /// An SMS through the outbox (`notify.sms.templates.officer_reminder`).
    Sms,
}

impl ReminderChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderChannel::Call => "call",
            ReminderChannel::Sms => "sms",
        }
    }
}

impl fmt::Display for ReminderChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for ReminderChannel {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "call" => Ok(ReminderChannel::Call),
            "sms" => Ok(ReminderChannel::Sms),
            other => Err(UnknownValue {
                kind: "reminder channel",
                value: other.to_owned(),
                expected: "call sms",
            }),
        }
    }
}

/// An officer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Officer {
    pub id: i64,
    pub name: String,
    pub department_code: String,
    /// 1 … 4: the escalation level whose tickets they hold.
    #[schema(minimum = 1, maximum = 4)]
    pub level: u8,
    /// E.164 (`+91…`), as `tickets::caller` normalises it.
    pub phone: String,
    /// The department's nodal officer: reminded of tickets nobody is assigned.
    pub nodal: bool,
    pub reminder_channel: ReminderChannel,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an administrator gives for a new officer (or a change: `None` keeps the field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerInput {
    #[schema(min_length = 1, max_length = 120)]
    pub name: Option<String>,
    pub department_code: Option<String>,
    #[schema(minimum = 1, maximum = 4)]
    pub level: Option<u8>,
    pub phone: Option<String>,
    pub nodal: Option<bool>,
    pub reminder_channel: Option<ReminderChannel>,
    pub active: Option<bool>,
}

/// Why an officer's fields are refused; every problem at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct OfficerProblems(pub Vec<String>);

/// The checked fields of an officer (a new one, or one after a change is applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerFields {
    pub name: String,
    pub department_code: String,
    pub level: u8,
    pub phone: String,
    pub nodal: bool,
    pub reminder_channel: ReminderChannel,
    pub active: bool,
}

impl OfficerFields {
    /// `input` over `base` (an existing officer's fields, or nothing for a new one), checked:
    /// a name, a department, a level 1 … 4, a phone that normalises to a real number.
    pub fn apply(base: Option<&Officer>, input: &OfficerInput) -> Result<Self, OfficerProblems> {
        let mut problems = Vec::new();
        let name = input
            .name
            .clone()
            .or_else(|| base.map(|o| o.name.clone()))
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        if let Err(err) = crate::validate::required_text("name", &name, 120) {
            problems.push(format!(
                "name: {}",
                err.to_string().trim_start_matches("invalid name: ")
            ));
        }
        let department_code = input
            .department_code
            .clone()
            .or_else(|| base.map(|o| o.department_code.clone()))
            .unwrap_or_default();
        if department_code.is_empty() {
            problems.push("department_code: a department's code (e.g. PWD)".to_owned());
        }
        let level = input.level.or(base.map(|o| o.level)).unwrap_or(0);
        if !(1..=MAX_LEVEL).contains(&level) {
            problems.push(format!("level: 1 to {MAX_LEVEL} (L1 … L{MAX_LEVEL})"));
        }
        let phone = match (&input.phone, base) {
            (Some(raw), _) => {
                let id = CallerId::from_trunk(raw);
                if id.is_unknown() {
                    problems.push(format!(
                        "phone: {:?} is not a phone number (e.g. +919816012345 or 09816012345)",
                        raw.chars().take(40).collect::<String>()
                    ));
                }
                id.into_number()
            }
            (None, Some(o)) => o.phone.clone(),
            (None, None) => {
                problems.push("phone: the officer's phone number".to_owned());
                String::new()
            }
        };
        let reminder_channel = input
            .reminder_channel
            .or(base.map(|o| o.reminder_channel))
            .unwrap_or(ReminderChannel::Call);
        if !problems.is_empty() {
            return Err(OfficerProblems(problems));
        }
        Ok(OfficerFields {
            name,
            department_code,
            level,
            phone,
            nodal: input.nodal.or(base.map(|o| o.nodal)).unwrap_or(false),
            reminder_channel,
            active: input.active.or(base.map(|o| o.active)).unwrap_or(true),
        })
    }
}

/// A reminder's moment: before the due time, or past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    Nearing,
    Overdue,
}

impl Milestone {
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Nearing => "nearing",
            Milestone::Overdue => "overdue",
        }
    }
}

impl FromStr for Milestone {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s {
            "nearing" => Ok(Milestone::Nearing),
            "overdue" => Ok(Milestone::Overdue),
            other => Err(UnknownValue {
                kind: "reminder milestone",
                value: other.to_owned(),
                expected: "nearing overdue",
            }),
        }
    }
}

/// When officers are reminded (`[reminders]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderPolicy {
    /// Off: no reminder is scheduled.
    pub enabled: bool,
    /// How long before the due time the "nearing" reminder is owed; zero: only once overdue.
    pub before: Duration,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        ReminderPolicy {
            enabled: false,
            before: Duration::from_secs(24 * 3600),
        }
    }
}

/// The milestone a ticket due at `due_at` has reached at `now`, the latest one: `Overdue` once the
/// due time passed, `Nearing` within `before` of it, else none. A ticket already reminded of
/// `Nearing` is owed `Overdue` later; one first seen overdue is owed `Overdue` only (a nearing
/// reminder after the fact says nothing new).
pub fn milestone(due_at: DateTime<Utc>, now: DateTime<Utc>, before: Duration) -> Option<Milestone> {
    if now >= due_at {
        return Some(Milestone::Overdue);
    }
    let before = chrono::Duration::from_std(before).unwrap_or(chrono::Duration::MAX);
    if before > chrono::Duration::zero() && due_at.signed_duration_since(now) <= before {
        Some(Milestone::Nearing)
    } else {
        None
    }
}

/// Whole days past `due_at` at `now` (0 before it, and during the first day after).
pub fn days_overdue(due_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    now.signed_duration_since(due_at).num_days().max(0)
}

/// Who is reminded: the assigned officer while active, else the department's active nodal
/// officer (the lowest id when there are several), else nobody.
pub fn recipient<'a>(
    assigned: Option<&'a Officer>,
    department: &'a [Officer],
    department_code: &str,
) -> Option<&'a Officer> {
    assigned.filter(|o| o.active).or_else(|| {
        department
            .iter()
            .filter(|o| o.active && o.nodal && o.department_code == department_code)
            .min_by_key(|o| o.id)
    })
}

/// The officer a ticket of `department_code` escalated to `level` goes to: the level's active
/// officer (its nodal one first, then the lowest id), or `None` (the assignment stays).
pub fn officer_for_level<'a>(
    officers: &'a [Officer],
    department_code: &str,
    level: u8,
) -> Option<&'a Officer> {
    officers
        .iter()
        .filter(|o| o.active && o.department_code == department_code && o.level == level)
        .min_by_key(|o| (!o.nodal, o.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn officer(id: i64, level: u8, nodal: bool, active: bool) -> Officer {
        Officer {
            id,
            name: format!("Officer {id}"),
            department_code: "PWD".into(),
            level,
            phone: "+919816012345".into(),
            nodal,
            reminder_channel: ReminderChannel::Call,
            active,
            created_at: at("2026-12-01T00:00:00Z"),
            updated_at: at("2026-12-01T00:00:00Z"),
        }
    }

    #[test]
    fn a_ticket_is_owed_the_latest_milestone_it_reached() {
        let due = at("2026-12-05T10:00:00Z");
        let day = Duration::from_secs(86_400);
        let check = |now: &str, before: Duration, expected: Option<Milestone>| {
            assert_eq!(milestone(due, at(now), before), expected, "at {now}");
        };
        check("2026-12-03T10:00:00Z", day, None);
        check("2026-12-04T09:59:59Z", day, None);
        check("2026-12-04T10:00:00Z", day, Some(Milestone::Nearing));
        check("2026-12-05T09:59:59Z", day, Some(Milestone::Nearing));
        check("2026-12-05T10:00:00Z", day, Some(Milestone::Overdue));
        check("2026-12-09T10:00:00Z", day, Some(Milestone::Overdue));
        // No lead time: only once overdue.
        check("2026-12-05T09:59:59Z", Duration::ZERO, None);
        check(
            "2026-12-05T10:00:01Z",
            Duration::ZERO,
            Some(Milestone::Overdue),
        );
    }

    #[test]
    fn days_overdue_count_whole_days_past_the_due_time() {
        let due = at("2026-12-05T10:00:00Z");
        assert_eq!(days_overdue(due, at("2026-12-04T10:00:00Z")), 0);
        assert_eq!(days_overdue(due, at("2026-12-06T09:59:59Z")), 0);
        assert_eq!(days_overdue(due, at("2026-12-06T10:00:00Z")), 1);
        assert_eq!(days_overdue(due, at("2026-12-08T11:00:00Z")), 3);
    }

    #[test]
    fn the_assigned_officer_is_reminded_else_the_nodal_one() {
        let dept = vec![
            officer(1, 1, false, true),
            officer(3, 2, true, true),
            officer(2, 1, true, false),
        ];
        let assigned = officer(1, 1, false, true);
        assert_eq!(
            recipient(Some(&assigned), &dept, "PWD").map(|o| o.id),
            Some(1)
        );
        // Nobody assigned, or the assigned officer deactivated: the active nodal officer.
        assert_eq!(recipient(None, &dept, "PWD").map(|o| o.id), Some(3));
        let gone = officer(1, 1, false, false);
        assert_eq!(recipient(Some(&gone), &dept, "PWD").map(|o| o.id), Some(3));
        // No nodal officer in the department: nobody.
        assert_eq!(recipient(None, &dept, "HLT"), None);
        assert_eq!(recipient(None, &dept[..1], "PWD"), None);
    }

    #[test]
    fn escalation_picks_the_next_levels_officer_nodal_first() {
        let dept = vec![
            officer(5, 2, false, true),
            officer(4, 2, true, true),
            officer(2, 3, false, false),
        ];
        assert_eq!(officer_for_level(&dept, "PWD", 2).map(|o| o.id), Some(4));
        // An inactive officer is never picked; a level without one keeps the assignment.
        assert_eq!(officer_for_level(&dept, "PWD", 3), None);
        assert_eq!(officer_for_level(&dept, "HLT", 2), None);
    }

    #[test]
    fn officer_fields_are_checked_all_at_once_and_phones_normalised() {
        let input = OfficerInput {
            name: Some("  R. Sharma ".into()),
            department_code: Some("PWD".into()),
            level: Some(2),
            phone: Some("098160 12345".into()),
            ..OfficerInput::default()
        };
        let fields = OfficerFields::apply(None, &input).unwrap();
        assert_eq!(fields.name, "R. Sharma");
        assert_eq!(fields.phone, "+919816012345");
        assert_eq!(fields.reminder_channel, ReminderChannel::Call);
        assert!(fields.active && !fields.nodal);

        let bad = OfficerInput {
            name: Some(" ".into()),
            level: Some(5),
            phone: Some("anonymous".into()),
            ..OfficerInput::default()
        };
        let problems = OfficerFields::apply(None, &bad).unwrap_err().0;
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("phone:")));

        // A change keeps what it does not name.
        let existing = officer(9, 1, false, true);
        let change = OfficerInput {
            reminder_channel: Some(ReminderChannel::Sms),
            ..OfficerInput::default()
        };
        let fields = OfficerFields::apply(Some(&existing), &change).unwrap();
        assert_eq!(fields.reminder_channel, ReminderChannel::Sms);
        assert_eq!((fields.level, fields.phone.as_str()), (1, "+919816012345"));
    }

    #[test]
    fn names_read_back() {
        for c in [ReminderChannel::Call, ReminderChannel::Sms] {
            assert_eq!(c.as_str().parse::<ReminderChannel>(), Ok(c));
        }
        for m in [Milestone::Nearing, Milestone::Overdue] {
            assert_eq!(m.as_str().parse::<Milestone>(), Ok(m));
        }
        assert!("fax".parse::<ReminderChannel>().is_err());
    }
}
