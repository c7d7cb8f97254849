//! `menu` and `input` steps: keys taken from the type-ahead buffer, digits collected and
//! validated, and the shared retry rule (prompt again, or give up to `on_exhausted`).

use std::time::Instant;

use super::state::{CallState, Phase};
use super::{Action, pop_front};
use crate::script::{ConfirmMenu, InputStep, MediaItem, MenuStep, Retry, Script, StepKind};

/// What a step asks the caller again on a retry: its prompts, whether keys cut them short, and
/// its retry rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ask<'a> {
    pub(super) prompts: &'a [MediaItem],
    pub(super) barge_in: bool,
    pub(super) retry: &'a Retry,
}

impl<'a> Ask<'a> {
    pub(super) fn menu(menu: &'a MenuStep) -> Self {
        Ask {
            prompts: &menu.prompts,
            barge_in: menu.barge_in,
            retry: &menu.retry,
        }
    }

    pub(super) fn input(input: &'a InputStep) -> Self {
        Ask {
            prompts: &input.prompts,
            barge_in: input.barge_in,
            retry: &input.retry,
        }
    }

    /// A recording's "1 keep, 2 again, 3 listen" menu: always cut short by a key.
    pub(super) fn confirm(confirm: &'a ConfirmMenu) -> Self {
        Ask {
            prompts: &confirm.prompts,
            barge_in: true,
            retry: &confirm.retry,
        }
    }
}

impl CallState {
    /// Handles the first type-ahead key for a menu; false if there was none.
    pub(super) fn consume_menu(
        &mut self,
        script: &Script,
        menu: &MenuStep,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        if self.playing.is_some() {
            return false;
        }
        let Some(key) = pop_front(&mut self.typeahead) else {
            return false;
        };
        self.deadline = None;
        match menu.choices.iter().find(|(k, _)| *k == key) {
            Some((_, next)) => {
                if let Some((var, values)) = &menu.assign
                    && let Some((_, v)) = values.iter().find(|(k, _)| *k == key)
                {
                    self.set_var(var, v.clone());
                }
                self.goto(script, *next, now, out);
            }
            None => self.retry(script, Ask::menu(menu), true, now, out),
        }
        true
    }

    /// Takes type-ahead keys into the digits being collected; false if none were waiting.
    pub(super) fn consume_input(
        &mut self,
        script: &Script,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        if self.playing.is_some() || self.typeahead.is_empty() {
            return false;
        }
        let StepKind::Input(input) = &script.steps[self.step].kind else {
            return false;
        };
        while let Some(key) = pop_front(&mut self.typeahead) {
            let Phase::Input { digits } = &mut self.phase else {
                return true;
            };
            if Some(key) == input.end_key {
                self.finish_input(script, now, out);
                return true;
            }
            if !key.is_ascii_digit() {
                self.retry(script, Ask::input(input), true, now, out);
                return true;
            }
            digits.push(key);
            if digits.len() >= input.max_digits {
                match input.end_key {
                    // Already typed: drop it here.
                    Some(end) if self.typeahead.starts_with(end) => {
                        pop_front(&mut self.typeahead);
                    }
                    end => self.swallow_key = end,
                }
                self.finish_input(script, now, out);
                return true;
            }
        }
        self.deadline = Some(now + input.inter_digit_timeout);
        true
    }

    pub(super) fn finish_input(&mut self, script: &Script, now: Instant, out: &mut Vec<Action>) {
        let StepKind::Input(input) = &script.steps[self.step].kind else {
            return;
        };
        let Phase::Input { digits } = &mut self.phase else {
            return;
        };
        let digits = std::mem::take(digits);
        let valid = digits.len() >= input.min_digits
            && digits.len() <= input.max_digits
            && input.validator.as_ref().is_none_or(|(_, f)| f(&digits));
        if valid {
            self.set_var(&input.var, digits);
            self.goto(script, input.next, now, out);
        } else {
            self.retry(script, Ask::input(input), true, now, out);
        }
    }

    /// A wrong key (`invalid`) or a timeout: prompt again, or give up to `on_exhausted`.
    pub(super) fn retry(
        &mut self,
        script: &Script,
        ask: Ask<'_>,
        invalid: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Ask {
            prompts,
            barge_in,
            retry,
        } = ask;
        // Keys typed after a wrong one were typed by a confused caller: drop them.
        self.typeahead.clear();
        self.deadline = None;
        if let Phase::Input { digits } = &mut self.phase {
            digits.clear();
        }
        self.attempts += 1;
        if self.attempts > retry.retries {
            self.goto(script, retry.on_exhausted, now, out);
            return;
        }
        let mut media = self.render(
            script,
            if invalid {
                &retry.invalid
            } else {
                &retry.no_input
            },
        );
        media.extend(self.render(script, prompts));
        self.play(script, media, barge_in, now, out);
    }
}
