//! Variables across the whole script: every variable read is set somewhere (a typo in
//! `digits:ticket_numer` would otherwise read nothing, silently: an error), and every department
//! a menu or `set` step can give a `ticket` step is declared in `[departments]`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::compile::{Ctx, MediaUses, closest};
use super::raw::{RawStep, S};
use crate::script::{MediaItem, Step, StepKind};

/// Set by the machine itself, whatever the script does.
const BUILT_IN: &[&str] = &[
    "caller",
    "call_id",
    "language",
    "ticket_number",
    "status",
    "department",
    "due_date",
];

/// The variables steps set, each with the values written for it (`None` for digits keyed in).
fn assigned(steps: &[Step]) -> BTreeMap<&str, Vec<Option<&str>>> {
    let mut out: BTreeMap<&str, Vec<Option<&str>>> = BTreeMap::new();
    for step in steps {
        match &step.kind {
            StepKind::Menu(menu) => {
                if let Some((var, values)) = &menu.assign {
                    out.entry(var)
                        .or_default()
                        .extend(values.iter().map(|(_, v)| Some(v.as_str())));
                }
            }
            StepKind::Input(input) => out.entry(&input.var).or_default().push(None),
            StepKind::Set { vars, .. } => {
                for (k, v) in vars {
                    out.entry(k).or_default().push(Some(v.as_str()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The variables a media item reads.
fn read_by(item: &MediaItem) -> Vec<&str> {
    match item {
        MediaItem::Prompt(_) => Vec::new(),
        MediaItem::Digits(v) | MediaItem::Number(v) | MediaItem::Date(v) => vec![v.as_str()],
        MediaItem::Template(t) => t
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(var, _)| var))
            .collect(),
    }
}

/// Reports every variable read but never set, and reports department values a ticket step
/// could file that `[departments]` does not declare.
pub(super) fn variable_checks(
    ctx: &mut Ctx<'_>,
    steps: &[Step],
    raw_steps: &[(&S<String>, &S<RawStep>)],
    media: &MediaUses,
    departments: &BTreeMap<String, String>,
    given: &[String],
) {
    let assigned = assigned(steps);
    let known: BTreeSet<&str> = assigned
        .keys()
        .copied()
        .chain(BUILT_IN.iter().copied())
        .chain(given.iter().map(String::as_str))
        .collect();
    let warn_unset = |ctx: &mut Ctx<'_>, var: &str, span: Range<usize>| {
        if !known.contains(var) {
            let hint = match closest(var, known.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "set it with an `input` or menu `var`, or a `set` step".to_owned(),
            };
            ctx.error(span, format!("variable `{var}` is never set"), hint);
        }
    };
    for (item, span) in media {
        for var in read_by(item) {
            warn_unset(ctx, var, span.clone());
        }
    }
    for (_, raw) in raw_steps {
        let raw = raw.get_ref();
        let fields = [
            &raw.number_var,
            &raw.satisfied_var,
            &raw.reason_var,
            &raw.check_var,
        ];
        for field in fields.into_iter().flatten() {
            warn_unset(ctx, field.get_ref(), field.span());
        }
        for case in raw.cases.iter().flat_map(|c| c.get_ref()) {
            if let Some(var) = &case.get_ref().var {
                warn_unset(ctx, var.get_ref(), var.span());
            }
        }
    }

    // Departments a ticket step takes from a variable.
    for (step, (_, raw)) in steps.iter().zip(raw_steps) {
        let StepKind::Ticket(ticket) = &step.kind else {
            continue;
        };
        let Some(var) = ticket
            .department
            .strip_prefix('{')
            .and_then(|d| d.strip_suffix('}'))
        else {
            continue;
        };
        let Some(field) = &raw.get_ref().department else {
            continue;
        };
        for value in assigned.get(var).into_iter().flatten() {
            match value {
                Some(code) if !departments.contains_key(*code) => ctx.error(
                    field.span(),
                    format!("`{var}` may be `{code}`, which is not a department"),
                    format!(
                        "declare it under [departments] or change the value (known: {})",
                        departments.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
                Some(_) => {}
                None => ctx.warning(
                    field.span(),
                    format!("`{var}` is keyed in by the caller, so the department is not checked"),
                    "set the department from a menu's `values` instead",
                ),
            }
        }
    }
}
