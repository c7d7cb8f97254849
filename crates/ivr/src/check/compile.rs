//! Turns a raw script into a validated [`Script`], one step at a time, reporting every problem
//! in the file with its line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{FixedOffset, NaiveDate, NaiveTime, Weekday};

use super::graph::{check_hangup_tickets, graph_checks};
use super::prompt_check::prompt_checks;
use super::raw::*;
use super::vars::variable_checks;
use super::{AudioContext, CheckReport, Diagnostic, Severity};
use crate::script::{
    Condition, ConfirmMenu, InputStep, MediaItem, MenuStep, OfficeHours, RecordStep, Retry, Script,
    Step, StepId, StepKind, TicketStep, Validators, parse_duration,
};

/// Byte offsets → line:col.
struct Locator {
    file: PathBuf,
    line_starts: Vec<usize>,
}

impl Locator {
    fn new(file: &Path, source: &str) -> Locator {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Locator {
            file: file.to_owned(),
            line_starts,
        }
    }

    fn position(&self, source: &str, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = source
            .get(start..offset.min(source.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }
}

/// Collects diagnostics for one file.
pub(super) struct Ctx<'a> {
    source: &'a str,
    loc: Locator,
    report: &'a mut CheckReport,
}

impl Ctx<'_> {
    /// Records a problem at `span`; an empty `hint` means none.
    fn push(&mut self, severity: Severity, span: Range<usize>, message: String, hint: String) {
        let (line, col) = self.loc.position(self.source, span.start);
        self.report.diagnostics.push(Diagnostic {
            file: self.loc.file.clone(),
            line,
            col,
            severity,
            message,
            hint: (!hint.is_empty()).then_some(hint),
        });
    }

    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Severity::Error, span, message.into(), hint.into());
    }

    pub(super) fn warning(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Severity::Warning, span, message.into(), hint.into());
    }
}

/// What step-building needs from the whole file.
struct Names<'a> {
    index: BTreeMap<&'a str, StepId>,
}

struct Defaults {
    timeout: Duration,
    inter_digit_timeout: Duration,
    retries: u32,
    invalid: Vec<S<String>>,
    no_input: Vec<S<String>>,
}

/// Media items and where they were written, for the prompt checks.
pub(super) type MediaUses = Vec<(MediaItem, Range<usize>)>;

/// Parses, validates and (if there was no error in this file) builds a script.
pub(crate) fn compile_script(
    path: &Path,
    source: &str,
    validators: &Validators,
    audio: Option<&AudioContext>,
    report: &mut CheckReport,
) -> Option<Script> {
    let errors_before = report.error_count();
    let mut ctx = Ctx {
        source,
        loc: Locator::new(path, source),
        report,
    };
    let raw: RawFile = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let (message, hint) = describe_toml_error(e.message());
            ctx.error(span, message, hint);
            return None;
        }
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();

    let header = raw.script.get_ref();
    let (languages, default_language, utc_offset) = script_header(&mut ctx, header);
    let (defaults, max_prompt) = script_defaults(&mut ctx, &raw.defaults);
    let office_hours = raw
        .office_hours
        .as_ref()
        .map(|oh| office_hours(&mut ctx, oh.get_ref()));

    let departments = script_departments(&mut ctx, &raw.departments);

    // Step names, in file order.
    let mut raw_steps: Vec<(&S<String>, &S<RawStep>)> = raw.steps.get_ref().iter().collect();
    raw_steps.sort_by_key(|(k, _)| k.span().start);
    if raw_steps.is_empty() {
        ctx.error(
            raw.steps.span(),
            "the script has no steps",
            "add [steps.<name>] tables",
        );
    }
    let names = Names {
        index: raw_steps
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.get_ref().as_str(), i))
            .collect(),
    };
    for (key, _) in &raw_steps {
        if !is_identifier(key.get_ref()) {
            ctx.error(
                key.span(),
                format!("step name `{}` may only use a-z, 0-9 and _", key.get_ref()),
                "",
            );
        }
    }
    let start = resolve(&mut ctx, &names, &header.start);
    let mut all_built = start.is_some();
    let start = start.unwrap_or(0);

    let mut media_uses: MediaUses = Vec::new();
    let mut steps = Vec::with_capacity(raw_steps.len());
    let mut spans = Vec::with_capacity(raw_steps.len());
    let mut b = Builder {
        ctx: &mut ctx,
        names: &names,
        defaults: &defaults,
        validators,
        languages: &languages,
        departments: &departments,
        media: &mut media_uses,
    };
    for (key, step) in &raw_steps {
        let kind = b.step(key, step.get_ref());
        all_built &= kind.is_some();
        steps.push(Step {
            name: key.get_ref().clone(),
            kind: kind.unwrap_or(StepKind::Hangup {
                media: Vec::new(),
                reason: String::new(),
            }),
        });
        spans.push(key.span());
    }
    // The graph checks need every step and reference; with one missing they would mislead.
    if !steps.is_empty() && all_built {
        graph_checks(&mut ctx, &steps, &spans, start);
        check_hangup_tickets(&mut ctx, &steps, &raw_steps);
        variable_checks(&mut ctx, &steps, &raw_steps, &media_uses, &departments);
    }
    let available = audio.map(|a| {
        prompt_checks(
            &mut ctx,
            a,
            &languages,
            &media_uses,
            &steps,
            &departments,
            header.languages.span(),
        )
    });

    if ctx.report.error_count() > errors_before {
        return None;
    }
    Some(Script {
        name,
        path: path.to_owned(),
        languages,
        default_language,
        start,
        utc_offset,
        office_hours,
        departments,
        max_prompt,
        steps,
        available_prompts: available,
    })
}

/// `[script]`: the languages (valid, without repeats), the default language and the UTC offset.
fn script_header(ctx: &mut Ctx<'_>, header: &RawHeader) -> (Vec<String>, String, FixedOffset) {
    let mut languages: Vec<String> = Vec::new();
    for lang in header.languages.get_ref() {
        if !is_language_code(lang.get_ref()) {
            ctx.error(
                lang.span(),
                format!("`{}` is not a language code", lang.get_ref()),
                "use ISO 639-1 codes such as \"hi\" and \"en\"",
            );
        } else if languages.contains(lang.get_ref()) {
            ctx.error(
                lang.span(),
                format!("language `{}` is listed twice", lang.get_ref()),
                "",
            );
        } else {
            languages.push(lang.get_ref().clone());
        }
    }
    if header.languages.get_ref().is_empty() {
        ctx.error(
            header.languages.span(),
            "the script offers no language",
            "list at least one, e.g. languages = [\"hi\", \"en\"]",
        );
    }
    let default_language = match &header.default_language {
        Some(d) if !languages.contains(d.get_ref()) => {
            ctx.error(
                d.span(),
                format!(
                    "default language `{}` is not one of the script's languages",
                    d.get_ref()
                ),
                format!("choose one of {}", languages.join(", ")),
            );
            d.get_ref().clone()
        }
        Some(d) => d.get_ref().clone(),
        None => languages.first().cloned().unwrap_or_default(),
    };
    let utc_offset = match &header.utc_offset {
        None => FixedOffset::east_opt(5 * 3600 + 1800).expect("+05:30 is a valid offset"),
        Some(text) => match parse_offset(text.get_ref()) {
            Some(o) => o,
            None => {
                ctx.error(
                    text.span(),
                    format!("`{}` is not a UTC offset", text.get_ref()),
                    "write it as \"+05:30\"",
                );
                FixedOffset::east_opt(0).expect("zero is a valid offset")
            }
        },
    };

    (languages, default_language, utc_offset)
}

/// `[defaults]`: retry settings for every step, and the prompt guard (`max_prompt`).
fn script_defaults(ctx: &mut Ctx<'_>, d: &RawDefaults) -> (Defaults, Duration) {
    let defaults = Defaults {
        timeout: duration_field(
            ctx,
            d.timeout.as_ref(),
            Duration::from_secs(5),
            WAIT_RANGE,
            "timeout",
        ),
        inter_digit_timeout: duration_field(
            ctx,
            d.inter_digit_timeout.as_ref(),
            Duration::from_secs(3),
            WAIT_RANGE,
            "inter_digit_timeout",
        ),
        retries: count_field(ctx, d.retries.as_ref(), 2, 0..=10, "retries"),
        invalid: d.invalid_prompts.clone().unwrap_or_default(),
        no_input: d.no_input_prompts.clone().unwrap_or_default(),
    };
    let max_prompt = duration_field(
        ctx,
        d.max_prompt.as_ref(),
        Duration::from_secs(120),
        (Duration::from_secs(10), Duration::from_secs(1800)),
        "max_prompt",
    );

    (defaults, max_prompt)
}

/// `[departments]`: code → name; codes are upper-case letters.
fn script_departments(ctx: &mut Ctx<'_>, raw: &RawMap) -> BTreeMap<String, String> {
    let mut departments = BTreeMap::new();
    for (code, dept_name) in raw {
        if !code.get_ref().chars().all(|c| c.is_ascii_uppercase()) || code.get_ref().is_empty() {
            ctx.error(
                code.span(),
                format!(
                    "department code `{}` must be upper-case letters",
                    code.get_ref()
                ),
                "e.g. JSV = \"Water supply\"",
            );
        }
        departments.insert(code.get_ref().clone(), dept_name.get_ref().clone());
    }
    departments
}

/// A TOML/serde error message made short, with a hint: the long "expected one of" list of an
/// unknown field becomes a suggestion of the closest known field.
fn describe_toml_error(message: &str) -> (String, String) {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let hint = match closest(field, known.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "see ivr-scripts/README.md for the fields each table accepts".to_owned(),
            };
            return (format!("unknown field `{field}`"), hint);
        }
    }
    let hint = if message.contains("duplicate key") {
        "each key may appear once in a table; remove or rename one of them"
    } else {
        ""
    };
    (format!("invalid script: {message}"), hint.to_owned())
}

const WAIT_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

fn duration_field(
    ctx: &mut Ctx<'_>,
    field: Option<&S<String>>,
    default: Duration,
    (min, max): (Duration, Duration),
    what: &str,
) -> Duration {
    let Some(field) = field else { return default };
    match parse_duration(field.get_ref()) {
        None => {
            ctx.error(
                field.span(),
                format!("`{}` is not a duration", field.get_ref()),
                "write a whole number with a unit: \"500ms\", \"5s\", \"2m\"",
            );
            default
        }
        Some(d) if d < min || d > max => {
            ctx.error(
                field.span(),
                format!(
                    "impossible {what} `{}`: must be between {} and {}",
                    field.get_ref(),
                    show(min),
                    show(max)
                ),
                if d < min {
                    "a caller cannot react that fast"
                } else {
                    "the caller would hear dead air that long"
                },
            );
            default
        }
        Some(d) => d,
    }
}

fn show(d: Duration) -> String {
    if d.as_millis() % 60_000 == 0 && d.as_secs() >= 60 {
        format!("{}m", d.as_secs() / 60)
    } else if d.as_millis() % 1000 == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn count_field(
    ctx: &mut Ctx<'_>,
    field: Option<&S<u32>>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
) -> u32 {
    let Some(field) = field else { return default };
    let v = *field.get_ref();
    if range.contains(&v) {
        v
    } else {
        ctx.error(
            field.span(),
            format!(
                "{what} = {v} is out of range {}..={}",
                range.start(),
                range.end()
            ),
            "",
        );
        default
    }
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn office_hours(ctx: &mut Ctx<'_>, raw: &RawOfficeHours) -> OfficeHours {
    let mut days = Vec::new();
    for day in &raw.days {
        match day.get_ref().parse::<Weekday>() {
            Ok(d) => days.push(d),
            Err(_) => ctx.error(
                day.span(),
                format!("`{}` is not a day of the week", day.get_ref()),
                "use mon, tue, wed, thu, fri, sat, sun",
            ),
        }
    }
    let mut time = |t: &S<String>| match NaiveTime::parse_from_str(t.get_ref(), "%H:%M") {
        Ok(time) => time,
        Err(_) => {
            ctx.error(
                t.span(),
                format!("`{}` is not a time of day", t.get_ref()),
                "write it as \"09:30\"",
            );
            NaiveTime::MIN
        }
    };
    let open = time(&raw.open);
    let close = time(&raw.close);
    if open >= close {
        ctx.error(
            raw.close.span(),
            "office hours close before they open",
            "close must be later than open on the same day",
        );
    }
    let mut holidays = BTreeSet::new();
    for h in &raw.holidays {
        match NaiveDate::parse_from_str(h.get_ref(), "%Y-%m-%d") {
            Ok(d) => {
                if !holidays.insert(d) {
                    ctx.warning(
                        h.span(),
                        format!("holiday {} is listed twice", h.get_ref()),
                        "",
                    );
                }
            }
            Err(_) => ctx.error(
                h.span(),
                format!("`{}` is not a date", h.get_ref()),
                "write it as \"2026-01-26\"",
            ),
        }
    }
    OfficeHours {
        days,
        open,
        close,
        holidays,
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_language_code(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase())
}

fn resolve(ctx: &mut Ctx<'_>, names: &Names<'_>, reference: &S<String>) -> Option<StepId> {
    let name = reference.get_ref();
    if let Some(&id) = names.index.get(name.as_str()) {
        return Some(id);
    }
    let hint = match closest(name, names.index.keys().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "define it as [steps.<name>]".to_owned(),
    };
    ctx.error(reference.span(), format!("unknown step `{name}`"), hint);
    None
}

/// The most similar name, if any is close enough to be a likely typo.
pub(super) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

fn dtmf_key(ctx: &mut Ctx<'_>, key: &S<String>) -> Option<char> {
    let mut chars = key.get_ref().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => Some(c),
        _ => {
            ctx.error(
                key.span(),
                format!("`{}` is not a phone key", key.get_ref()),
                "use one of 0-9, * or #",
            );
            None
        }
    }
}

/// Builds one step's [`StepKind`], reporting problems; `None` if it cannot be built.
struct Builder<'a, 'c, 's> {
    ctx: &'a mut Ctx<'c>,
    names: &'a Names<'s>,
    defaults: &'a Defaults,
    validators: &'a Validators,
    languages: &'a [String],
    departments: &'a BTreeMap<String, String>,
    media: &'a mut MediaUses,
}

impl Builder<'_, '_, '_> {
    fn step(&mut self, key: &S<String>, raw: &RawStep) -> Option<StepKind> {
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
                self.ctx.error(
                    field_span,
                    format!("a `{kind}` step has no field `{field}`"),
                    format!("`{kind}` accepts: {}", allowed.join(", ")),
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
            "feedback" => StepKind::Feedback {
                number_var: self.var_name(raw.number_var.as_ref())?,
                satisfied_var: self.var_name(raw.satisfied_var.as_ref())?,
                reason_var: match &raw.reason_var {
                    Some(v) => Some(self.var_name(Some(v))?),
                    None => None,
                },
                next: self.required_ref(raw.next.as_ref())?,
                on_failure: self.required_ref(raw.on_failure.as_ref())?,
            },
            "transfer" | "agent" => {
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
    fn locator_counts_lines_and_characters() {
        let src = "a = 1\nदो = 2\nc";
        let loc = Locator::new(Path::new("x"), src);
        assert_eq!(loc.position(src, 0), (1, 1));
        assert_eq!(loc.position(src, 6), (2, 1));
        let after = src.find(" = 2").unwrap();
        assert_eq!(loc.position(src, after), (2, 3));
        assert_eq!(loc.position(src, src.len() - 1), (3, 1));
    }

    #[test]
    fn typos_get_suggestions() {
        let names = ["main_menu", "goodbye", "record_complaint"];
        assert_eq!(
            closest("main_manu", names.iter().copied()),
            Some("main_menu")
        );
        assert_eq!(closest("zzz", names.iter().copied()), None);
    }

    #[test]
    fn templates_are_validated() {
        assert!(template_is_well_formed("status_{status}"));
        assert!(template_is_well_formed("dept_{department}_name"));
        assert!(!template_is_well_formed("status_{Status}"));
        assert!(!template_is_well_formed("status_{status"));
        assert!(!template_is_well_formed("status_}"));
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("+05:30"), FixedOffset::east_opt(19800));
        assert_eq!(parse_offset("-03:00"), FixedOffset::east_opt(-10800));
        assert_eq!(parse_offset("05:30"), None);
        assert_eq!(parse_offset("+25:00"), None);
    }
}
