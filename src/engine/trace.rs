//! A call's record as it goes ([`CallTrace`]): what the call task saw — steps entered with their keys
//! (a private entry's digits masked), answer, recordings, tickets, services used, transfer, who hung up —
//! turned at the end into one `records::CallRecord` with the call's outcome. Pure: times are passed in.

use chrono::{DateTime, Utc};
use records::{CallRecord, FiledTicket, HungUpBy, MASKED_KEY, Outcome, PathStep};

use super::stats::CallOutcome;

/// The dialplan context the IVR's `agent` steps hand calls to (`deploy/asterisk/extensions.conf`).
pub const AGENTS_CONTEXT: &str = "agents";

/// One call's record in the making.
#[derive(Debug)]
pub struct CallTrace {
    record: CallRecord,
    status_heard: bool,
    feedback_given: bool,
    transferred: Option<(String, String)>,
    /// In a queue now, since.
    queued_since: Option<DateTime<Utc>>,
    /// An agent answered.
    connected_at: Option<DateTime<Utc>>,
    /// The caller took the call-back offer.
    callback: bool,
    /// The call centre gave the caller back to the IVR (no agent, waited the most).
    given_back: bool,
}

impl CallTrace {
    /// A call that arrived at `at` on `channel_id`.
    pub fn arrived(
        call_id: &str,
        channel_id: &str,
        node: &str,
        caller: &str,
        caller_raw: Option<&str>,
        at: DateTime<Utc>,
    ) -> CallTrace {
        let mut record =
            CallRecord::arrived(call_id, channel_id, node, caller_raw.unwrap_or(caller), at);
        record.caller = caller.to_owned();
        record.asterisk_id = call_id
            .split_once('/')
            .map(|(asterisk, _)| asterisk.to_owned());
        CallTrace {
            record,
            status_heard: false,
            feedback_given: false,
            transferred: None,
            queued_since: None,
            connected_at: None,
            callback: false,
            given_back: false,
        }
    }

    /// The IVR's path so far (an entry's digits masked).
    pub fn path(&self) -> &[PathStep] {
        &self.record.path
    }

    /// The complaint numbers filed in the call so far.
    pub fn filed(&self) -> Vec<String> {
        self.record
            .tickets
            .iter()
            .map(|t| t.number.clone())
            .collect()
    }

    /// The IVR entered `step`.
    pub fn entered(&mut self, step: &str, at: DateTime<Utc>) {
        self.record.path.push(PathStep {
            step: step.to_owned(),
            at,
            keys: String::new(),
        });
    }

    /// The caller pressed `key`; `private` while keying an entry (its digits are never kept).
    pub fn key(&mut self, key: char, private: bool) {
        if let Some(step) = self.record.path.last_mut() {
            step.keys.push(if private { MASKED_KEY } else { key });
        }
    }

    pub fn answered(&mut self, at: DateTime<Utc>) {
        self.record.answered_at.get_or_insert(at);
    }

    pub fn recording(&mut self, name: &str) {
        self.record.recordings.push(name.to_owned());
    }

    pub fn ticket(&mut self, number: &str, department: &str) {
        self.record.tickets.push(FiledTicket {
            number: number.to_owned(),
            department: department.to_owned(),
        });
    }

    pub fn status_heard(&mut self) {
        self.status_heard = true;
    }

    pub fn feedback_given(&mut self) {
        self.feedback_given = true;
    }

    /// The caller joined a call-centre queue.
    pub fn queued(&mut self, queue: &str, at: DateTime<Utc>) {
        self.record.agent.queue = Some(queue.to_owned());
        self.queued_since = Some(at);
    }

    /// An agent answered and is bridged with the caller: the wait ends.
    pub fn agent_connected(&mut self, agent: &str, at: DateTime<Utc>) {
        if let Some(since) = self.queued_since.take() {
            let waited = (at - since).num_milliseconds().max(0);
            *self.record.agent.wait_ms.get_or_insert(0) += waited;
        }
        self.record.agent.agent = Some(agent.to_owned());
        self.connected_at = Some(at);
    }

    /// The conversation with the agent ended.
    pub fn agent_ended(&mut self, at: DateTime<Utc>) {
        if let Some(since) = self.connected_at.take() {
            let talked = (at - since).num_milliseconds().max(0);
            *self.record.agent.talk_ms.get_or_insert(0) += talked;
        }
    }

    /// The call centre gave the caller back to the IVR: what follows is the IVR's again.
    pub fn given_back(&mut self, at: DateTime<Utc>) {
        self.queue_left(at);
        self.given_back = true;
    }

    /// The caller took the call-back offer (and hangs up, keeping their place).
    pub fn callback_requested(&mut self) {
        self.callback = true;
    }

    /// The caller left the queue (given back to the IVR, hung up waiting or talking).
    pub fn queue_left(&mut self, at: DateTime<Utc>) {
        if let Some(since) = self.queued_since.take() {
            let waited = (at - since).num_milliseconds().max(0);
            *self.record.agent.wait_ms.get_or_insert(0) += waited;
        }
        self.agent_ended(at);
    }

    pub fn transferred(&mut self, context: &str, extension: &str) {
        self.transferred = Some((context.to_owned(), extension.to_owned()));
    }

    /// The call's record: ended at `at` with the call task's `outcome`, in `language`. The outcome says
    /// what the call achieved first (a complaint filed, a hand-over, a service), then how it ended.
    pub fn finish(
        mut self,
        outcome: CallOutcome,
        caller_hung_up: bool,
        language: &str,
        at: DateTime<Utc>,
    ) -> CallRecord {
        let record = &mut self.record;
        record.ended_at = at;
        record.language = (!language.is_empty()).then(|| language.to_owned());
        record.hangup_cause = Some(outcome.as_str().to_owned());
        record.hung_up_by = match outcome {
            CallOutcome::Lost => HungUpBy::Unknown,
            _ if caller_hung_up => HungUpBy::Caller,
            _ => HungUpBy::Helpline,
        };
        let queued = record.agent.queue.is_some();
        record.outcome = if !record.tickets.is_empty() {
            Outcome::ComplaintFiled
        } else if record.agent.agent.is_some() {
            Outcome::ToAgent
        } else if self.callback {
            Outcome::CallbackRequested
        } else if queued && !self.given_back && caller_hung_up {
            Outcome::AbandonedInQueue
        } else if let Some((context, extension)) = &self.transferred {
            if context == AGENTS_CONTEXT {
                Outcome::ToAgent
            } else {
                Outcome::Transferred(extension.clone())
            }
        } else if self.feedback_given {
            Outcome::FeedbackGiven
        } else if self.status_heard {
            Outcome::StatusHeard
        } else {
            match outcome {
                CallOutcome::Completed => Outcome::SelfService,
                CallOutcome::CallerHungUp => Outcome::AbandonedInIvr,
                CallOutcome::Transferred => Outcome::Transferred("unknown".to_owned()),
                CallOutcome::ShutDown | CallOutcome::Lost | CallOutcome::GivenUp => Outcome::Failed,
            }
        };
        self.record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000 + i64::from(s), 0).unwrap()
    }

    fn trace() -> CallTrace {
        CallTrace::arrived(
            "02:fc/1796.1",
            "1796.1",
            "node-a",
            "+919816012345",
            Some("09816012345"),
            at(0),
        )
    }

    #[test]
    fn a_complaint_call_keeps_its_path_with_private_digits_masked() {
        let mut t = trace();
        t.answered(at(1));
        t.entered("main_menu", at(2));
        t.key('3', false);
        t.entered("feedback_number", at(4));
        for k in "1234567890".chars() {
            t.key(k, true);
        }
        t.entered("record_complaint", at(20));
        t.recording("ivr-x-record_complaint-1");
        t.ticket("1000000009", "REV");
        let r = t.finish(CallOutcome::Completed, false, "en", at(60));
        assert_eq!(r.outcome, Outcome::ComplaintFiled);
        assert_eq!(
            (r.caller.as_str(), r.caller_raw.as_str()),
            ("+919816012345", "09816012345")
        );
        assert_eq!(r.asterisk_id.as_deref(), Some("02:fc"));
        assert_eq!(r.path[0].keys, "3");
        assert_eq!(
            r.path[1].keys, "xxxxxxxxxx",
            "no digit of a complaint number is kept"
        );
        assert_eq!(r.answered_at, Some(at(1)));
        assert_eq!(r.duration_ms(), 60_000);
        assert_eq!(r.hung_up_by, HungUpBy::Helpline);
        assert_eq!(r.language.as_deref(), Some("en"));
    }

    #[test]
    fn the_outcome_says_what_the_call_achieved_then_how_it_ended() {
        let ended = |f: &dyn Fn(&mut CallTrace), outcome, caller| {
            let mut t = trace();
            f(&mut t);
            t.finish(outcome, caller, "hi", at(30))
        };
        let agent = ended(
            &|t| t.transferred("agents", "queue"),
            CallOutcome::Transferred,
            false,
        );
        assert_eq!(agent.outcome, Outcome::ToAgent);
        let women = ended(
            &|t| t.transferred("integrated-helplines", "181"),
            CallOutcome::Transferred,
            false,
        );
        assert_eq!(women.outcome, Outcome::Transferred("181".into()));
        assert_eq!(
            ended(&|t| t.status_heard(), CallOutcome::Completed, false).outcome,
            Outcome::StatusHeard
        );
        assert_eq!(
            ended(&|t| t.feedback_given(), CallOutcome::CallerHungUp, true).outcome,
            Outcome::FeedbackGiven
        );
        let gave_up = ended(&|_| {}, CallOutcome::CallerHungUp, true);
        assert_eq!(
            (gave_up.outcome, gave_up.hung_up_by),
            (Outcome::AbandonedInIvr, HungUpBy::Caller)
        );
        assert_eq!(
            ended(&|_| {}, CallOutcome::Completed, false).outcome,
            Outcome::SelfService
        );
        for failed in [
            CallOutcome::GivenUp,
            CallOutcome::ShutDown,
            CallOutcome::Lost,
        ] {
            assert_eq!(
                ended(&|_| {}, failed, false).outcome,
                Outcome::Failed,
                "{failed:?}"
            );
        }
        assert_eq!(
            ended(&|_| {}, CallOutcome::Lost, false).hung_up_by,
            HungUpBy::Unknown
        );
    }
}
