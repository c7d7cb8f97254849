//! Service steps (`ticket`, `lookup`, `feedback`): the request, the reply, and the ticket owed
//! to a caller who hung up after recording speech.

use std::time::Instant;

use super::state::{CallState, Phase};
use super::{Action, TicketDraft, TicketStatusView};
use crate::script::{Script, StepKind, TicketStep};

impl CallState {
    /// After a hangup: file the ticket owed to a caller whose recording held speech.
    pub(super) fn run_owed_ticket(&mut self, script: &Script, out: &mut Vec<Action>) -> bool {
        let Some(step) = self.owed_ticket.take() else {
            return false;
        };
        if self.recording.is_none() {
            return false;
        }
        let StepKind::Ticket(ticket) = &script.steps[step].kind else {
            return false;
        };
        self.step = step;
        self.request_ticket(ticket, out);
        true
    }

    pub(super) fn request_ticket(&mut self, ticket: &TicketStep, out: &mut Vec<Action>) {
        self.phase = Phase::AwaitTicket;
        self.deadline = None;
        self.tickets_requested += 1;
        // One complaint, one key: its recording (unique in the call), or else this request of the call.
        let idempotency_key = match &self.recording {
            Some(r) => r.name.clone(),
            None => format!("{}/ticket-{}", self.ctx.call_id, self.tickets_requested),
        };
        out.push(Action::CreateTicket(TicketDraft {
            idempotency_key,
            call_id: self.ctx.call_id.clone(),
            caller: self.ctx.caller.clone(),
            caller_raw: self.ctx.caller_raw.clone(),
            department: self.expand(&ticket.department),
            language: self.language.clone(),
            recording: self.recording.clone(),
            callback_requested: ticket.callback,
            caller_hung_up: self.hung_up,
        }));
    }

    pub(super) fn on_lookup(
        &mut self,
        script: &Script,
        found: Option<TicketStatusView>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let StepKind::Lookup {
            next, not_found, ..
        } = &script.steps[self.step].kind
        else {
            return;
        };
        match found {
            Some(view) => {
                self.set_var("status", view.status.slug().to_owned());
                self.set_var("department", view.department);
                self.set_var(
                    "due_date",
                    view.due.map(|d| d.to_string()).unwrap_or_default(),
                );
                self.goto(script, *next, now, out);
            }
            None => self.goto(script, *not_found, now, out),
        }
    }

    /// The store refused the feedback (not the complainant): on to the step's `on_refused`.
    pub(super) fn on_feedback_refused(
        &mut self,
        script: &Script,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.hung_up {
            self.finish();
            return;
        }
        if let StepKind::Feedback { on_refused, .. } = &script.steps[self.step].kind {
            self.goto(script, *on_refused, now, out);
        }
    }

    /// A ticket/lookup/feedback reply: on to `next` or `on_failure`.
    pub(super) fn after_service(
        &mut self,
        script: &Script,
        ok: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.hung_up {
            self.finish();
            return;
        }
        let target = match &script.steps[self.step].kind {
            StepKind::Ticket(t) => {
                if ok {
                    t.next
                } else {
                    t.on_failure
                }
            }
            StepKind::Lookup {
                next, on_failure, ..
            }
            | StepKind::Feedback {
                next, on_failure, ..
            } => {
                if ok {
                    *next
                } else {
                    *on_failure
                }
            }
            _ => return,
        };
        self.goto(script, target, now, out);
    }
}
