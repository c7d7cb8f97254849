//! The ticket domain: statuses and the lifecycle rules between them, sources, roles, and the records the
//! store returns. Everything here is plain data and pure functions; the store and the API enforce it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::number::ComplaintNumber;

/// Lowest and highest escalation level (L1 = the assigned officer, L4 = the top of the department).
pub const MIN_LEVEL: u8 = 1;
pub const MAX_LEVEL: u8 = 4;

/// A value that is not one of an enum's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of: {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            // `pad` (not `write_str`) so `{:<18}` and friends align tables.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownValue {
                        kind: $kind,
                        value: other.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

string_enum!(
    /// Where a ticket's lifecycle stands.
    TicketStatus, "status" {
        Registered => "registered",
        Assigned => "assigned",
        InProgress => "in_progress",
        Resolved => "resolved",
        ClosedSatisfied => "closed_satisfied",
        ClosedUnsatisfied => "closed_unsatisfied",
        Reopened => "reopened",
        ClosedUnverified => "closed_unverified",
    }
);

string_enum!(
    /// How a complaint reached the helpline.
    TicketSource, "source" {
        Ivr => "ivr",
        Agent => "agent",
        Web => "web",
        Whatsapp => "whatsapp",
    }
);

string_enum!(
    /// What an API token may do. Officers are further limited to their own department.
    Role, "role" {
        Agent => "agent",
        Supervisor => "supervisor",
        Officer => "officer",
        Admin => "admin",
        Integration => "integration",
    }
);

string_enum!(
    /// Why a citizen was not (or was) satisfied; asked by the IVR on the feedback call.
    FeedbackReason, "feedback reason" {
        NotResolved => "not_resolved",
        PartiallyResolved => "partially_resolved",
        TooSlow => "too_slow",
        OfficerBehaviour => "officer_behaviour",
        WrongDepartment => "wrong_department",
        Other => "other",
    }
);

string_enum!(
    /// Where a ticket's confirmation call stands (one per resolution; `confirmation_calls`).
    ConfirmationState, "confirmation state" {
        Pending => "pending",
        Satisfied => "satisfied",
        Reopened => "reopened",
        CallBack => "call_back",
        Unverified => "unverified",
        Cancelled => "cancelled",
    }
);

impl TicketStatus {
    /// Statuses in which the department still owes the citizen action (SLA clock running).
    pub const OPEN: &'static [TicketStatus] = &[
        TicketStatus::Registered,
        TicketStatus::Assigned,
        TicketStatus::InProgress,
        TicketStatus::Reopened,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Disposed = resolved or closed: the helpline's headline "share disposed" counts these.
    pub fn is_disposed(self) -> bool {
        matches!(
            self,
            TicketStatus::Resolved
                | TicketStatus::ClosedSatisfied
                | TicketStatus::ClosedUnsatisfied
                | TicketStatus::ClosedUnverified
        )
    }

    /// The lifecycle: which status may follow which.
    ///
    /// registered → assigned → in_progress → resolved → closed_satisfied | closed_unsatisfied,
    /// resolved | closed_unsatisfied → reopened → assigned | in_progress. Re-assigning an assigned or
    /// in-progress ticket is allowed (it keeps its status; see [`TicketStatus::after_assign`]).
    /// resolved → closed_unverified when the confirmation calls reached nobody and the policy says
    /// close (never satisfied without the citizen's word); the citizen can still have it reopened.
    pub fn can_become(self, next: TicketStatus) -> bool {
        use TicketStatus::*;
        matches!(
            (self, next),
            (Registered, Assigned)
                | (Assigned, InProgress)
                | (InProgress, Resolved)
                | (Resolved, ClosedSatisfied)
                | (Resolved, ClosedUnsatisfied)
                | (Resolved, Reopened)
                | (ClosedUnsatisfied, Reopened)
                | (Resolved, ClosedUnverified)
                | (ClosedUnverified, Reopened)
                | (Reopened, Assigned)
                | (Reopened, InProgress)
        )
    }

    /// The status after assigning an officer, or `None` if the ticket cannot be assigned now.
    pub fn after_assign(self) -> Option<TicketStatus> {
        use TicketStatus::*;
        match self {
            Registered | Reopened | Assigned => Some(Assigned),
            InProgress => Some(InProgress),
            Resolved | ClosedSatisfied | ClosedUnsatisfied | ClosedUnverified => None,
        }
    }

    /// The statuses that may follow this one, for error messages.
    pub fn next_statuses(self) -> Vec<TicketStatus> {
        TicketStatus::ALL
            .iter()
            .copied()
            .filter(|n| self.can_become(*n))
            .collect()
    }
}

/// Who did something: a token's label and role, or a system job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor(pub String);

impl Actor {
    pub fn system(job: &str) -> Self {
        Actor(format!("system:{job}"))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A department tickets are routed to, with its SLA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Department {
    #[schema(pattern = "^[A-Z]{2,6}$")]
    pub code: String,
    pub name: String,
    pub name_hi: String,
    /// Days an officer has at each level before the ticket is escalated one level.
    pub sla_days: u32,
}

/// The evidence of a voice complaint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingInfo {
    /// File name inside the recordings directory (derived from the complaint number).
    pub file_name: String,
    pub duration_ms: u64,
    /// Lower-case hex SHA-256 of the audio file's bytes.
    pub sha256: String,
    pub bytes: u64,
}

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    #[schema(value_type = String, pattern = "^[1-9][0-9]{9}$")]
    pub number: ComplaintNumber,
    pub call_id: Option<String>,
    pub source: TicketSource,
    pub caller_number: String,
    /// The caller id as delivered (a trunk's `+91 98160-12345`, `anonymous` …), when normalising changed
    /// it: kept for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_raw: Option<String>,
    pub language: String,
    pub department_code: String,
    pub department_name: String,
    pub category: Option<String>,
    pub district: Option<String>,
    pub description: Option<String>,
    pub recording: Option<RecordingInfo>,
    pub after_hours: bool,
    pub status: TicketStatus,
    #[schema(minimum = 1, maximum = 4)]
    pub level: u8,
    /// The name shown for whom it is assigned to: the officer's name, or the free text an
    /// earlier build stored where no officer matches it.
    pub assigned_to: Option<String>,
    /// The officer it is assigned to (`officers.id`), when assigned by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer_id: Option<i64>,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub feedback_satisfied: Option<bool>,
    pub feedback_reason: Option<FeedbackReason>,
    pub reopen_count: u32,
    /// The API client that filed it (`user:ID`, `integration:NAME`, `token:ID`; `None`: the
    /// engine). Not shown: it decides what an integration may read.
    #[serde(skip)]
    #[schema(ignore)]
    pub filed_by: Option<String>,
}

impl Ticket {
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.due_at < now
    }
}

/// One entry of a ticket's audit trail: who changed what, when, from what to what, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub reason: Option<String>,
}

/// A note an officer, agent or supervisor added to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Note {
    pub at: DateTime<Utc>,
    pub author: String,
    pub text: String,
}

/// Filters for listing tickets. Every field narrows the result; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub department_code: Option<String>,
    pub level: Option<u8>,
    pub caller_number: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Only tickets still open whose due date has passed at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only tickets filed after hours (flagged for a call-back: `Some(true)`), or only the others.
    pub after_hours: Option<bool>,
    /// Only after-hours complaints still open whose call-back nobody has marked done (the agents'
    /// call-back list).
    pub callback_due: bool,
}

/// How an agent's call-back to an after-hours complainant ended, when they mark it done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOutcome {
    /// The agent spoke to the citizen.
    Reached,
    /// Tried, and given up: nobody answered.
    NoAnswer,
    /// The number is not the complainant's.
    WrongNumber,
}

impl CallbackOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackOutcome::Reached => "reached",
            CallbackOutcome::NoAnswer => "no_answer",
            CallbackOutcome::WrongNumber => "wrong_number",
        }
    }
}

/// Page selection for lists (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 50,
            offset: 0,
        }
    }
}

/// Counts behind the helpline's headline figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketStats {
    pub total: u64,
    pub by_status: Vec<(TicketStatus, u64)>,
    pub by_level: Vec<(u8, u64)>,
    pub overdue: u64,
    /// Resolved or closed, over all tickets.
    pub disposed_share: f64,
    /// Closed satisfied over all closed with feedback.
    pub satisfied_share: f64,
    /// Closed satisfied over all tickets: "disposed to the citizen's satisfaction".
    pub disposed_satisfied_share: f64,
}

/// The helpline's headline figures for a set of tickets, from its per-status counts. The one place
/// the shares are computed: [`TicketStats`] and [`DepartmentFigures`] both take them from here.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HeadlineFigures {
    pub total: u64,
    /// Resolved or closed.
    pub disposed: u64,
    pub closed_satisfied: u64,
    pub closed_unsatisfied: u64,
    /// `disposed / total`.
    pub disposed_share: f64,
    /// `closed_satisfied / (closed_satisfied + closed_unsatisfied)`.
    pub satisfied_share: f64,
    /// `closed_satisfied / total`: "disposed to the citizen's satisfaction".
    pub disposed_satisfied_share: f64,
}

impl HeadlineFigures {
    /// Figures from `(status, count)` pairs; a status may appear more than once (counts add up) or
    /// not at all (zero). A share whose denominator is zero is 0.0.
    pub fn from_status_counts(counts: &[(TicketStatus, u64)]) -> HeadlineFigures {
        let count_where = |wanted: &dyn Fn(TicketStatus) -> bool| -> u64 {
            counts
                .iter()
                .filter(|(status, _)| wanted(*status))
                .map(|(_, n)| *n)
                .sum()
        };
        let total = count_where(&|_| true);
        let disposed = count_where(&|s| s.is_disposed());
        let closed_satisfied = count_where(&|s| s == TicketStatus::ClosedSatisfied);
        let closed_unsatisfied = count_where(&|s| s == TicketStatus::ClosedUnsatisfied);
        HeadlineFigures {
            total,
            disposed,
            closed_satisfied,
            closed_unsatisfied,
            disposed_share: share(disposed, total),
            satisfied_share: share(closed_satisfied, closed_satisfied + closed_unsatisfied),
            disposed_satisfied_share: share(closed_satisfied, total),
        }
    }
}

/// `part / whole`, or 0.0 when there is nothing to divide.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// One department's headline figures, as supervisors read them ("disposal and satisfaction rates per
/// department"). Shares are defined as in [`HeadlineFigures`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartmentFigures {
    pub code: String,
    pub name: String,
    pub total: u64,
    /// Resolved or closed.
    pub disposed: u64,
    pub closed_satisfied: u64,
    pub closed_unsatisfied: u64,
    /// Open tickets past their due date.
    pub overdue: u64,
    pub disposed_share: f64,
    /// Closed satisfied over all closed.
    pub satisfied_share: f64,
    /// Closed satisfied over all tickets.
    pub disposed_satisfied_share: f64,
}

impl DepartmentFigures {
    /// A department's row from its per-status counts and overdue count.
    pub fn new(
        code: String,
        name: String,
        counts: &[(TicketStatus, u64)],
        overdue: u64,
    ) -> DepartmentFigures {
        let h = HeadlineFigures::from_status_counts(counts);
        DepartmentFigures {
            code,
            name,
            total: h.total,
            disposed: h.disposed,
            closed_satisfied: h.closed_satisfied,
            closed_unsatisfied: h.closed_unsatisfied,
            overdue,
            disposed_share: h.disposed_share,
            satisfied_share: h.satisfied_share,
            disposed_satisfied_share: h.disposed_satisfied_share,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_allows_the_documented_path_only() {
        use TicketStatus::*;
        let path = [Registered, Assigned, InProgress, Resolved, ClosedSatisfied];
        for w in path.windows(2) {
            assert!(w[0].can_become(w[1]), "{} -> {}", w[0], w[1]);
        }
        assert!(!Registered.can_become(Resolved));
        assert!(!ClosedSatisfied.can_become(Reopened));
        assert!(!InProgress.can_become(ClosedSatisfied));
        assert_eq!(
            Resolved.next_statuses(),
            vec![
                ClosedSatisfied,
                ClosedUnsatisfied,
                Reopened,
                ClosedUnverified
            ]
        );
        assert!(Resolved.can_become(ClosedUnverified));
        assert!(ClosedUnverified.can_become(Reopened));
        assert!(!ClosedUnverified.can_become(ClosedSatisfied));
        assert!(ClosedUnverified.is_disposed() && !ClosedUnverified.is_open());
        assert_eq!(Resolved.after_assign(), None);
        assert_eq!(Reopened.after_assign(), Some(Assigned));
    }

    #[test]
    fn enums_parse_their_names_and_explain_unknown_ones() {
        for s in TicketStatus::ALL {
            assert_eq!(s.as_str().parse::<TicketStatus>().unwrap(), *s);
        }
        let err = "closed".parse::<TicketStatus>().unwrap_err();
        assert!(err.to_string().contains("closed_satisfied"), "{err}");
        assert_eq!("officer".parse::<Role>().unwrap(), Role::Officer);
        assert_eq!(
            serde_json::to_string(&TicketStatus::InProgress).unwrap(),
            "\"in_progress\""
        );
    }

    #[test]
    fn display_honours_width_and_alignment() {
        assert_eq!(
            format!("[{:<18}]", TicketStatus::Resolved),
            "[resolved          ]"
        );
        assert_eq!(format!("[{:>8}]", Role::Agent), "[   agent]");
        assert_eq!(format!("[{:^7}]", TicketSource::Web), "[  web  ]");
        assert_eq!(format!("[{:.3}]", FeedbackReason::TooSlow), "[too]");
        assert_eq!(format!("[{:<12}]", Actor::system("sla")), "[system:sla  ]");
        assert_eq!(TicketStatus::InProgress.to_string(), "in_progress");
    }

    #[test]
    fn headline_figures_share_out_the_status_counts() {
        use TicketStatus::*;
        let h = HeadlineFigures::from_status_counts(&[
            (Registered, 2),
            (InProgress, 1),
            (Resolved, 1),
            (ClosedSatisfied, 3),
            (ClosedUnsatisfied, 1),
            (Reopened, 2),
        ]);
        assert_eq!(
            (
                h.total,
                h.disposed,
                h.closed_satisfied,
                h.closed_unsatisfied
            ),
            (10, 5, 3, 1)
        );
        assert_eq!(
            (
                h.disposed_share,
                h.satisfied_share,
                h.disposed_satisfied_share
            ),
            (0.5, 0.75, 0.3)
        );
        let none = HeadlineFigures::from_status_counts(&[(Registered, 4)]);
        assert_eq!(
            (
                none.disposed_share,
                none.satisfied_share,
                none.disposed_satisfied_share
            ),
            (0.0, 0.0, 0.0),
            "no closed tickets: the shares are zero, not NaN"
        );
        let row = DepartmentFigures::new("JSV".into(), "Jal Shakti".into(), &[(Resolved, 2)], 1);
        assert_eq!((row.total, row.disposed, row.overdue), (2, 2, 1));
        assert_eq!(row.disposed_share, 1.0);
    }
}
