//! One step at a time: a raw `[steps.<name>]` table into a [`StepKind`], with every problem
//! in it reported (fields the type does not take, missing ones, bad keys, references, timeouts).

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use super::compile::{
    Ctx, Defaults, MediaUses, Names, WAIT_RANGE, closest, count_field, dtmf_key, duration_field,
    is_identifier, resolve, show,
};
use super::raw::*;
use crate::script::{
    Condition, ConfirmMenu, InputStep, MediaItem, MenuStep, RecordStep, Retry, StepId, StepKind,
    TicketStep, Validators,
};

/// Builds one step's [`StepKind`], reporting problems; `None` if it cannot be built.
pub(super) struct Builder<'a, 'c, 's> {
    pub(super) ctx: &'a mut Ctx<'c>,
    pub(super) names: &'a Names<'s>,
    pub(super) defaults: &'a Defaults,
    pub(super) validators: &'a Validators,
    pub(super) languages: &'a [String],
    pub(super) departments: &'a BTreeMap<String, String>,
    pub(super) media: &'a mut MediaUses,
}

impl Builder<'_, '_, '_> {
    pub(super) fn step(&mut self, key: &S<String>, raw: &RawStep) -> Option<StepKind> {
        let kind = raw.kind.get_ref().as_str();
        let Some((_, allowed)) = STEP_FIELDS.iter().find(|(k, _)| *k == kind) else {
            let known: Vec<&str> = STEP_FIELDS.iter().map(|(k, _)| *k).collect();
            let hint = match closest(kind, known.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("step types: {}", known.join(", ")),
            };
            self.ctx
                .error(raw.kind.span(), format!("unknown step type `{kind}`"), hint);
            return None;
        };
        let present = raw.present();
        let required = STEP_REQUIRED
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[][..], |(_, r)| *r);
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !present.iter().any(|(f, _)| f == r))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            self.ctx.error(
                key.span(),
                format!("this `{kind}` step needs {}", list.join(", ")),
                format!("a `{kind}` step takes: {}", allowed.join(", ")),
            );
        }
        for (field, field_span) in present {
            if !allowed.contains(&field) {
                let hint = if kind == "agent" && matches!(field, "context" | "extension") {
                    "agents are helpline's own queues now: name a queue of queues.toml with \
                     `queue` (a `transfer` step still hands a call to the dialplan)"
                        .to_owned()
                } else {
                    format!("`{kind}` accepts: {}", allowed.join(", "))
                };
                self.ctx.error(
                    field_span,
                    format!("a `{kind}` step has no field `{field}`"),
                    hint,
                );
            }
        }
        let at = key.span();
        Some(match kind {
            "play" | "say" => StepKind::Play {
                media: self.media_list(raw.prompts.as_ref(), kind, true)?,
                barge_in: raw.barge_in.as_ref().is_none_or(|b| *b.get_ref()),
                next: self.required_ref(raw.next.as_ref())?,
            },
            "menu" => StepKind::Menu(self.menu(raw)?),
            "input" => StepKind::Input(self.input(raw, &at)?),
            "record" => StepKind::Record(self.record(raw, &at)?),
            "ticket" => {
                let department = self.required(raw.department.as_ref())?;
                self.check_department(department);
                StepKind::Ticket(TicketStep {
                    department: department.get_ref().clone(),
                    callback: raw.callback.as_ref().is_some_and(|b| *b.get_ref()),
                    next: self.required_ref(raw.next.as_ref())?,
                    on_failure: self.required_ref(raw.on_failure.as_ref())?,
                })
            }
            "lookup" => StepKind::Lookup {
                number_var: self.var_name(raw.number_var.as_ref())?,
                next: self.required_ref(raw.next.as_ref())?,
                not_found: self.required_ref(raw.not_found.as_ref())?,
                on_failure: self.required_ref(raw.on_failure.as_ref())?,
            },
            "feedback" => {
                let on_failure = self.required_ref(raw.on_failure.as_ref())?;
                StepKind::Feedback {
                    number_var: self.var_name(raw.number_var.as_ref())?,
                    satisfied_var: self.var_name(raw.satisfied_var.as_ref())?,
                    reason_var: match &raw.reason_var {
                        Some(v) => Some(self.var_name(Some(v))?),
                        None => None,
                    },
                    check_var: match &raw.check_var {
                        Some(v) => Some(self.var_name(Some(v))?),
                        None => None,
                    },
                    next: self.required_ref(raw.next.as_ref())?,
                    on_failure,
                    on_refused: match &raw.on_refused {
                        Some(r) => self.required_ref(Some(r))?,
                        None => on_failure,
                    },
                }
            }
            "agent" => {
                let queue = self.required(raw.queue.as_ref())?;
                let name = queue.get_ref();
                if name.is_empty()
                    || name.len() > 64
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b))
                {
                    self.ctx.error(
                        queue.span(),
                        format!("`{name}` is not a queue name"),
                        "a queue of queues.toml: lowercase letters, digits, `_` and `-`",
                    );
                }
                let department = raw.department.as_ref().map(|d| {
                    self.check_department(d);
                    d.get_ref().clone()
                });
                StepKind::Queue {
                    media: self.media_list(raw.prompts.as_ref(), kind, false)?,
                    queue: name.clone(),
                    department,
                    on_overflow: self.required_ref(raw.on_overflow.as_ref())?,
                }
            }
            "transfer" => {
                let context = self.required(raw.context.as_ref())?;
                let extension = self.required(raw.extension.as_ref())?;
                for f in [context, extension] {
                    if f.get_ref().is_empty()
                        || f.get_ref().chars().any(|c| c.is_whitespace() || c == ',')
                    {
                        self.ctx.error(
                            f.span(),
                            format!("`{}` is not a dialplan name", f.get_ref()),
                            "no spaces or commas; it must match extensions.conf",
                        );
                    }
                }
                StepKind::Transfer {
                    media: self.media_list(raw.prompts.as_ref(), kind, false)?,
                    context: context.get_ref().clone(),
                    extension: extension.get_ref().clone(),
                }
            }
            "set" => {
                let language = raw.language.as_ref().map(|l| {
                    if !self.languages.contains(l.get_ref()) {
                        self.ctx.error(
                            l.span(),
                            format!("language `{}` is not offered by this script", l.get_ref()),
                            format!(
                                "add it to [script] languages or use one of {}",
                                self.languages.join(", ")
                            ),
                        );
                    }
                    l.get_ref().clone()
                });
                let mut vars = Vec::new();
                for (k, v) in raw.set.iter().flat_map(|s| s.get_ref()) {
                    self.check_var(k);
                    vars.push((k.get_ref().clone(), v.get_ref().clone()));
                }
                if language.is_none() && vars.is_empty() {
                    self.ctx.warning(
                        at.clone(),
                        "this `set` step sets nothing",
                        "give it `language` or `set = { var = \"value\" }`",
                    );
                }
                StepKind::Set {
                    language,
                    vars,
                    next: self.required_ref(raw.next.as_ref())?,
                }
            }
            "branch" => {
                let cases_raw = self.required(raw.cases.as_ref())?;
                let mut cases = Vec::new();
                for case in cases_raw.get_ref() {
                    if let Some(c) = self.case(case) {
                        cases.push(c);
                    }
                }
                StepKind::Branch {
                    cases,
                    otherwise: self.required_ref(raw.otherwise.as_ref())?,
                }
            }
            "hangup" => StepKind::Hangup {
                media: self.media_list(raw.prompts.as_ref(), kind, false)?,
                reason: raw
                    .reason
                    .as_ref()
                    .map_or_else(|| "ivr finished".to_owned(), |r| r.get_ref().clone()),
            },
            _ => return None,
        })
    }

    /// A required field (its absence was reported up front, with every other missing one).
    fn required<'r, T>(&mut self, field: Option<&'r S<T>>) -> Option<&'r S<T>> {
        field
    }

    fn required_ref(&mut self, field: Option<&S<String>>) -> Option<StepId> {
        let field = self.required(field)?;
        resolve(self.ctx, self.names, field)
    }

    fn optional_ref(&mut self, field: Option<&S<String>>) -> Option<Option<StepId>> {
        match field {
            None => Some(None),
            Some(f) => resolve(self.ctx, self.names, f).map(Some),
        }
    }

    fn var_name(&mut self, field: Option<&S<String>>) -> Option<String> {
        let field = self.required(field)?;
        self.check_var(field);
        Some(field.get_ref().clone())
    }

    fn check_var(&mut self, var: &S<String>) {
        if !is_identifier(var.get_ref()) {
            self.ctx.error(
                var.span(),
                format!(
                    "variable name `{}` may only use a-z, 0-9 and _",
                    var.get_ref()
                ),
                "",
            );
        }
    }

    fn check_department(&mut self, department: &S<String>) {
        let value = department.get_ref();
        let is_var = value.starts_with('{') && value.ends_with('}') && value.len() > 2;
        if !is_var && !self.departments.contains_key(value) {
            let known: Vec<&str> = self.departments.keys().map(String::as_str).collect();
            self.ctx.error(
                department.span(),
                format!("unknown department `{value}`"),
                format!(
                    "declare it under [departments] ({}) or use \"{{var}}\"",
                    known.join(", ")
                ),
            );
        }
    }

    fn media_list(
        &mut self,
        field: Option<&S<Vec<S<String>>>>,
        kind: &str,
        required: bool,
    ) -> Option<Vec<MediaItem>> {
        match field {
            // Reported up front with the other missing fields.
            None if required => None,
            None => Some(Vec::new()),
            Some(list) => {
                if required && list.get_ref().is_empty() {
                    self.ctx.error(
                        list.span(),
                        format!("this `{kind}` step plays nothing"),
                        "list at least one prompt",
                    );
                }
                Some(self.items(list.get_ref()))
            }
        }
    }

    fn items(&mut self, list: &[S<String>]) -> Vec<MediaItem> {
        list.iter().filter_map(|item| self.item(item)).collect()
    }

    fn item(&mut self, item: &S<String>) -> Option<MediaItem> {
        let text = item.get_ref().as_str();
        let parsed = if let Some(v) = text.strip_prefix("digits:") {
            MediaItem::Digits(v.to_owned())
        } else if let Some(v) = text.strip_prefix("number:") {
            MediaItem::Number(v.to_owned())
        } else if let Some(v) = text.strip_prefix("date:") {
            MediaItem::Date(v.to_owned())
        } else if text.contains('{') || text.contains('}') {
            if !template_is_well_formed(text) {
                self.ctx.error(
                    item.span(),
                    format!("`{text}` is not a prompt template"),
                    "write placeholders as {variable}, e.g. \"status_{status}\"",
                );
                return None;
            }
            MediaItem::Template(text.to_owned())
        } else {
            MediaItem::Prompt(text.to_owned())
        };
        let name_ok = match &parsed {
            MediaItem::Prompt(id) => is_identifier(id),
            MediaItem::Digits(v) | MediaItem::Number(v) | MediaItem::Date(v) => is_identifier(v),
            MediaItem::Template(_) => true,
        };
        if !name_ok {
            self.ctx.error(item.span(), format!("`{text}` is not a prompt id or a variable"), "prompt ids and variables use a-z, 0-9 and _; variables are read with digits:, number: or date:");
            return None;
        }
        self.media.push((parsed.clone(), item.span()));
        Some(parsed)
    }

    fn retry(&mut self, raw: &RawStep) -> Option<Retry> {
        let on_exhausted = self.required_ref(raw.on_exhausted.as_ref())?;
        Some(self.retry_to(raw, on_exhausted))
    }

    /// The retry settings of a step (or the defaults), giving up to `on_exhausted`.
    fn retry_to(&mut self, raw: &RawStep, on_exhausted: StepId) -> Retry {
        let d = self.defaults;
        let invalid = raw
            .invalid_prompts
            .as_ref()
            .map_or(&d.invalid, |l| l.get_ref());
        let no_input = raw
            .no_input_prompts
            .as_ref()
            .map_or(&d.no_input, |l| l.get_ref());
        let (invalid, no_input) = (invalid.clone(), no_input.clone());
        Retry {
            timeout: duration_field(
                self.ctx,
                raw.timeout.as_ref(),
                d.timeout,
                WAIT_RANGE,
                "timeout",
            ),
            retries: count_field(self.ctx, raw.retries.as_ref(), d.retries, 0..=10, "retries"),
            invalid: self.items(&invalid),
            no_input: self.items(&no_input),
            on_exhausted,
        }
    }

    fn menu(&mut self, raw: &RawStep) -> Option<MenuStep> {
        let prompts = self.media_list(raw.prompts.as_ref(), "menu", true)?;
        let choices_raw = self.required(raw.choices.as_ref())?;
        let mut choices = Vec::new();
        let mut ok = true;
        for (key, target) in choices_raw.get_ref() {
            let key = dtmf_key(self.ctx, key);
            let target = resolve(self.ctx, self.names, target);
            match (key, target) {
                (Some(k), Some(t)) => choices.push((k, t)),
                _ => ok = false,
            }
        }
        if choices_raw.get_ref().is_empty() {
            self.ctx.error(
                choices_raw.span(),
                "a menu with no choices",
                "map keys to steps: choices = { \"1\" = \"next_step\" }",
            );
        }
        let assign = match (&raw.var, &raw.values) {
            (Some(var), Some(values)) => {
                self.check_var(var);
                let mut out = Vec::new();
                for (key, value) in values.get_ref() {
                    if let Some(k) = dtmf_key(self.ctx, key) {
                        if !choices.iter().any(|(c, _)| *c == k) && ok {
                            self.ctx.error(
                                key.span(),
                                format!("value for key `{k}`, which is not a choice of this menu"),
                                "every key in `values` must be in `choices`",
                            );
                        }
                        out.push((k, value.get_ref().clone()));
                    }
                }
                Some((var.get_ref().clone(), out))
            }
            (Some(var), None) => {
                self.ctx.error(
                    var.span(),
                    "`var` without `values`",
                    "give the value each key sets: values = { \"1\" = \"JSV\" }",
                );
                None
            }
            (None, Some(values)) => {
                self.ctx.error(
                    values.span(),
                    "`values` without `var`",
                    "name the variable the key sets: var = \"department\"",
                );
                None
            }
            (None, None) => None,
        };
        let retry = self.retry(raw)?;
        ok.then_some(MenuStep {
            prompts,
            barge_in: raw.barge_in.as_ref().is_none_or(|b| *b.get_ref()),
            choices,
            assign,
            retry,
        })
    }

    fn input(&mut self, raw: &RawStep, at: &Range<usize>) -> Option<InputStep> {
        let prompts = self.media_list(raw.prompts.as_ref(), "input", true)?;
        let var = self.var_name(raw.var.as_ref())?;
        let max_digits = count_field(self.ctx, raw.max_digits.as_ref(), 16, 1..=32, "max_digits");
        let min_digits = count_field(self.ctx, raw.min_digits.as_ref(), 1, 1..=32, "min_digits");
        if min_digits > max_digits {
            let span = raw.min_digits.as_ref().map_or(at.clone(), |f| f.span());
            self.ctx.error(
                span,
                format!("min_digits ({min_digits}) is more than max_digits ({max_digits})"),
                "no entry could ever be accepted",
            );
        }
        let end_key = raw.end_key.as_ref().and_then(|k| dtmf_key(self.ctx, k));
        if let (Some(k), true) = (end_key, end_key.is_some_and(|k| k.is_ascii_digit())) {
            let span = raw.end_key.as_ref().map_or(at.clone(), |f| f.span());
            self.ctx.error(
                span,
                format!("end_key `{k}` is a digit, so it could never be keyed in"),
                "use # or *",
            );
        }
        let validator = match &raw.validator {
            None => None,
            Some(name) => match self.validators.get(name.get_ref()) {
                Some(f) => Some((name.get_ref().clone(), f)),
                None => {
                    let known: Vec<&str> = self.validators.names().collect();
                    self.ctx.error(
                        name.span(),
                        format!("unknown validator `{}`", name.get_ref()),
                        if known.is_empty() {
                            "no validators are registered".to_owned()
                        } else {
                            format!("known validators: {}", known.join(", "))
                        },
                    );
                    None
                }
            },
        };
        let retry = self.retry(raw)?;
        let inter_digit_timeout = duration_field(
            self.ctx,
            raw.inter_digit_timeout.as_ref(),
            self.defaults.inter_digit_timeout,
            WAIT_RANGE,
            "inter_digit_timeout",
        );
        Some(InputStep {
            prompts,
            barge_in: raw.barge_in.as_ref().is_none_or(|b| *b.get_ref()),
            var,
            min_digits: min_digits as usize,
            max_digits: max_digits as usize,
            end_key,
            inter_digit_timeout,
            validator,
            retry,
            next: self.required_ref(raw.next.as_ref())?,
        })
    }

    fn record(&mut self, raw: &RawStep, at: &Range<usize>) -> Option<RecordStep> {
        let prompts = self.media_list(raw.prompts.as_ref(), "record", false)?;
        let max_duration = duration_field(
            self.ctx,
            raw.max_duration.as_ref(),
            Duration::from_secs(120),
            (Duration::from_secs(5), Duration::from_secs(600)),
            "max_duration",
        );
        let max_silence = duration_field(
            self.ctx,
            raw.max_silence.as_ref(),
            Duration::from_secs(5),
            (Duration::from_secs(1), Duration::from_secs(60)),
            "max_silence",
        );
        if max_silence >= max_duration {
            let span = raw.max_silence.as_ref().map_or(at.clone(), |f| f.span());
            self.ctx.error(
                span,
                format!(
                    "max_silence ({}) is not shorter than max_duration ({})",
                    show(max_silence),
                    show(max_duration)
                ),
                "silence must end a recording before its length limit does",
            );
        }
        let stop_key = raw.stop_key.as_ref().and_then(|k| dtmf_key(self.ctx, k));
        let next = self.required_ref(raw.next.as_ref())?;
        let confirm = match &raw.confirm_prompts {
            None => None,
            Some(list) => {
                // `retries` of a record step counts silent recordings; the confirmation menu
                // takes the default number of tries.
                let retry = Retry {
                    retries: self.defaults.retries,
                    ..self.retry_to(raw, next)
                };
                Some(ConfirmMenu {
                    prompts: self.items(list.get_ref()),
                    retry,
                })
            }
        };
        let no_speech = raw
            .no_speech_prompts
            .as_ref()
            .map(|l| self.items(l.get_ref()))
            .unwrap_or_default();
        Some(RecordStep {
            prompts,
            beep: raw.beep.as_ref().is_none_or(|b| *b.get_ref()),
            max_duration,
            max_silence,
            stop_key,
            confirm,
            no_speech,
            retries: count_field(
                self.ctx,
                raw.retries.as_ref(),
                self.defaults.retries,
                0..=10,
                "retries",
            ),
            max_attempts: count_field(
                self.ctx,
                raw.max_attempts.as_ref(),
                3,
                1..=10,
                "max_attempts",
            ),
            next,
            on_exhausted: self.required_ref(raw.on_exhausted.as_ref())?,
            hangup_ticket: self.optional_ref(raw.hangup_ticket.as_ref())?,
        })
    }

    fn case(&mut self, case: &S<RawCase>) -> Option<(Condition, StepId)> {
        let c = case.get_ref();
        let next = resolve(self.ctx, self.names, &c.next);
        let kinds = usize::from(c.office_hours.is_some())
            + usize::from(c.holiday.is_some())
            + usize::from(c.var.is_some());
        if kinds != 1 {
            self.ctx.error(
                case.span(),
                "a case needs exactly one of `office_hours`, `holiday` or `var`",
                "e.g. { office_hours = true, next = \"main_menu\" }",
            );
            return None;
        }
        let cond = if let Some(b) = &c.office_hours {
            Condition::OfficeHours(*b.get_ref())
        } else if let Some(b) = &c.holiday {
            Condition::Holiday(*b.get_ref())
        } else {
            let var = c.var.as_ref()?;
            self.check_var(var);
            match (&c.equals, &c.is_set) {
                (Some(v), None) => Condition::Equals {
                    var: var.get_ref().clone(),
                    value: v.get_ref().clone(),
                },
                (None, Some(s)) => Condition::IsSet {
                    var: var.get_ref().clone(),
                    set: *s.get_ref(),
                },
                _ => {
                    self.ctx.error(
                        case.span(),
                        "a `var` case needs exactly one of `equals` or `is_set`",
                        "",
                    );
                    return None;
                }
            }
        };
        if !matches!(cond, Condition::Equals { .. } | Condition::IsSet { .. })
            && (c.equals.is_some() || c.is_set.is_some())
        {
            self.ctx
                .error(case.span(), "`equals`/`is_set` only go with `var`", "");
        }
        Some((cond, next?))
    }
}

fn template_is_well_formed(text: &str) -> bool {
    let mut rest = text;
    let mut literal = String::new();
    while let Some(open) = rest.find('{') {
        literal.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| c + open) else {
            return false;
        };
        if !is_identifier(&rest[open + 1..close]) {
            return false;
        }
        rest = &rest[close + 1..];
    }
    literal.push_str(rest);
    !literal.contains('}')
        && literal
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_validated() {
        assert!(template_is_well_formed("status_{status}"));
        assert!(template_is_well_formed("dept_{department}_name"));
        assert!(!template_is_well_formed("status_{Status}"));
        assert!(!template_is_well_formed("status_{status"));
        assert!(!template_is_well_formed("status_}"));
    }
}
