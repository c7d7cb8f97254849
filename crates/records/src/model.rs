//! What a call record holds: plain data, built by the call task as the call goes and handed off once.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a call ended, from the helpline's side. Stored as text (`transferred:<destination>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Outcome {
    /// The IVR served the caller with information alone (office hours, a menu of notices).
    SelfService,
    /// A complaint was filed and its number read back.
    ComplaintFiled,
    /// The caller heard a complaint's status.
    StatusHeard,
    /// The caller gave feedback on a resolved complaint.
    FeedbackGiven,
    /// Handed to another number or dialplan extension (e.g. `181`).
    Transferred(String),
    /// Handed to an agent's queue and answered there.
    ToAgent,
    /// The caller hung up in the IVR before being served.
    AbandonedInIvr,
    /// The caller hung up while waiting for an agent.
    AbandonedInQueue,
    /// The caller took the call-back offer in the queue (keeping their place) and hung up; the
    /// call-back is a call of its own.
    CallbackRequested,
    /// Served by the dialplan fallback (the engine was absent or full) and imported later.
    Fallback,
    /// The helpline failed the call (a fault, an overflow, shutdown).
    Failed,
    /// A call the helpline placed (a confirmation call …), with how it ended: `satisfied`,
    /// `reopened`, or why it reached nobody (`no_answer`, `busy`, `no_key`, `unreachable`,
    /// `failed`). Stored `outbound:<result>`.
    Outbound(String),
}

impl Outcome {
    /// Every outcome but `Transferred`'s destination, in report order.
    pub const KINDS: [&'static str; 12] = [
        "self_service",
        "complaint_filed",
        "status_heard",
        "feedback_given",
        "transferred",
        "to_agent",
        "abandoned_in_ivr",
        "abandoned_in_queue",
        "callback_requested",
        "fallback",
        "failed",
        "outbound",
    ];

    /// The outcome's kind, without a transfer's destination (what reports and metrics group by).
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::SelfService => "self_service",
            Outcome::ComplaintFiled => "complaint_filed",
            Outcome::StatusHeard => "status_heard",
            Outcome::FeedbackGiven => "feedback_given",
            Outcome::Transferred(_) => "transferred",
            Outcome::ToAgent => "to_agent",
            Outcome::AbandonedInIvr => "abandoned_in_ivr",
            Outcome::AbandonedInQueue => "abandoned_in_queue",
            Outcome::CallbackRequested => "callback_requested",
            Outcome::Fallback => "fallback",
            Outcome::Failed => "failed",
            Outcome::Outbound(_) => "outbound",
        }
    }

    /// The transfer's destination, if any.
    pub fn destination(&self) -> Option<&str> {
        match self {
            Outcome::Transferred(to) => Some(to),
            _ => None,
        }
    }

    /// Whether the helpline's IVR (or its fallback) served the call without an agent: every outcome but
    /// `to_agent`, `abandoned_in_queue`, `transferred` and `failed` (IVR containment).
    pub fn contained(&self) -> bool {
        matches!(
            self,
            Outcome::SelfService
                | Outcome::ComplaintFiled
                | Outcome::StatusHeard
                | Outcome::FeedbackGiven
                | Outcome::Fallback
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Transferred(to) => write!(f, "transferred:{to}"),
            Outcome::Outbound(result) => write!(f, "outbound:{result}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// A text that is not an outcome.
/// As stored and shown: its text (`complaint_filed`, `transferred:181`, `outbound:no_answer` …).
impl utoipa::PartialSchema for Outcome {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "How the call ended: one of the kinds (`self_service`, `complaint_filed`, \
                 `to_agent` …), `transferred:<destination>` or `outbound:<result>`",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Outcome {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a call outcome: {0:?}")]
pub struct BadOutcome(pub String);

impl FromStr for Outcome {
    type Err = BadOutcome;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "self_service" => Outcome::SelfService,
            "complaint_filed" => Outcome::ComplaintFiled,
            "status_heard" => Outcome::StatusHeard,
            "feedback_given" => Outcome::FeedbackGiven,
            "to_agent" => Outcome::ToAgent,
            "abandoned_in_ivr" => Outcome::AbandonedInIvr,
            "abandoned_in_queue" => Outcome::AbandonedInQueue,
            "callback_requested" => Outcome::CallbackRequested,
            "fallback" => Outcome::Fallback,
            "failed" => Outcome::Failed,
            other => match (
                other.strip_prefix("transferred:"),
                other.strip_prefix("outbound:"),
            ) {
                (Some(to), _) if !to.is_empty() => Outcome::Transferred(to.to_owned()),
                (_, Some(result)) if !result.is_empty() => Outcome::Outbound(result.to_owned()),
                _ => return Err(BadOutcome(other.to_owned())),
            },
        })
    }
}

impl From<Outcome> for String {
    fn from(o: Outcome) -> String {
        o.to_string()
    }
}

impl TryFrom<String> for Outcome {
    type Error = BadOutcome;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HungUpBy {
    /// The caller hung up.
    Caller,
    /// The helpline hung up (end of the script, shutdown) or handed the call on.
    Helpline,
    /// Not known (the channel vanished, e.g. while disconnected from Asterisk).
    Unknown,
}

impl HungUpBy {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            HungUpBy::Caller => "caller",
            HungUpBy::Helpline => "helpline",
            HungUpBy::Unknown => "unknown",
        }
    }

    /// Reads the stored text (anything unknown reads as `Unknown`).
    pub fn parse(s: &str) -> HungUpBy {
        match s {
            "caller" => HungUpBy::Caller,
            "helpline" => HungUpBy::Helpline,
            _ => HungUpBy::Unknown,
        }
    }
}

/// The call id of a record the fallback importer writes for a call the dialplan served alone:
/// `fallback/<Asterisk unique id>`.
pub const FALLBACK_CALL_PREFIX: &str = "fallback/";

/// What the path stores for a key of an entry kept private (the digits of a complaint number: the ticket
/// holds what it needs): `x`, which no phone can send.
pub const MASKED_KEY: char = 'x';

/// One step of the IVR path: the step's name, when it was entered, and the keys pressed in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PathStep {
    /// The script's step name.
    pub step: String,
    /// When the step was entered.
    pub at: DateTime<Utc>,
    /// Keys pressed while in the step, in order; each key of a private entry is a [`MASKED_KEY`], never
    /// the digit itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keys: String,
}

/// A ticket filed in the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FiledTicket {
    /// The complaint number read to the caller.
    pub number: String,
    /// The department it was filed with.
    pub department: String,
}

/// The fields an ACD fills once agents exist; all empty for calls the IVR alone served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentLeg {
    pub queue: Option<String>,
    /// Time in the queue before an agent answered (or the caller gave up).
    pub wait_ms: Option<i64>,
    pub agent: Option<String>,
    pub talk_ms: Option<i64>,
    pub wrapup_ms: Option<i64>,
    pub disposition: Option<String>,
}

/// One call's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRecord {
    /// `<asterisk id>/<channel id>` (the ticket's call id), or the channel id alone.
    pub call_id: String,
    /// The Asterisk box that took the call, when it said.
    pub asterisk_id: Option<String>,
    pub channel_id: String,
    /// The helpline node that ran the call.
    pub node: String,
    /// The caller's number, normalised (the same form tickets hold).
    pub caller: String,
    /// The caller id as Asterisk gave it.
    pub caller_raw: String,
    /// The number dialled (e.g. `1100`), when known.
    pub dialled: Option<String>,
    /// The language the caller chose (or the script's default).
    pub language: Option<String>,
    pub arrived_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// The IVR path in order.
    pub path: Vec<PathStep>,
    pub tickets: Vec<FiledTicket>,
    /// Names of the recordings made in the call.
    pub recordings: Vec<String>,
    /// Why the channel ended, in Asterisk's or the engine's words (e.g. `normal`, `shutdown`).
    pub hangup_cause: Option<String>,
    pub hung_up_by: HungUpBy,
    #[serde(default)]
    pub agent: AgentLeg,
}

impl CallRecord {
    /// A record for a call that has just arrived, to be filled as it goes.
    pub fn arrived(
        call_id: impl Into<String>,
        channel_id: impl Into<String>,
        node: impl Into<String>,
        caller_raw: impl Into<String>,
        at: DateTime<Utc>,
    ) -> CallRecord {
        let caller_raw = caller_raw.into();
        CallRecord {
            call_id: call_id.into(),
            asterisk_id: None,
            channel_id: channel_id.into(),
            node: node.into(),
            caller: caller_raw.clone(),
            caller_raw,
            dialled: None,
            language: None,
            arrived_at: at,
            answered_at: None,
            ended_at: at,
            outcome: Outcome::AbandonedInIvr,
            path: Vec::new(),
            tickets: Vec::new(),
            recordings: Vec::new(),
            hangup_cause: None,
            hung_up_by: HungUpBy::Unknown,
            agent: AgentLeg::default(),
        }
    }

    /// Milliseconds from arrival to end.
    pub fn duration_ms(&self) -> i64 {
        (self.ended_at - self.arrived_at).num_milliseconds().max(0)
    }
}

/// Shows only the last four digits of a number (`******1234`), for roles without a need for the caller's
/// identity. Numbers of four characters or fewer are masked whole.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep = chars.len() - 4;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { *c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_what_they_write() {
        let all = [
            Outcome::SelfService,
            Outcome::ComplaintFiled,
            Outcome::StatusHeard,
            Outcome::FeedbackGiven,
            Outcome::Transferred("181".into()),
            Outcome::ToAgent,
            Outcome::AbandonedInIvr,
            Outcome::AbandonedInQueue,
            Outcome::CallbackRequested,
            Outcome::Fallback,
            Outcome::Failed,
        ];
        for outcome in all {
            let text = outcome.to_string();
            assert_eq!(text.parse::<Outcome>(), Ok(outcome.clone()), "{text}");
            assert!(Outcome::KINDS.contains(&outcome.kind()));
        }
        assert_eq!(
            Outcome::Transferred("181".into()).to_string(),
            "transferred:181"
        );
        assert!("transferred:".parse::<Outcome>().is_err());
        assert!("answered".parse::<Outcome>().is_err());
    }

    #[test]
    fn masking_keeps_the_last_four_digits() {
        assert_eq!(mask_number("+919876543210"), "*********3210");
        assert_eq!(mask_number("1234"), "****");
        assert_eq!(mask_number(""), "");
    }
}
