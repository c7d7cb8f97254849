//! Turns a raw script file into a validated [`Script`]: the header, defaults, office hours and
//! departments here, each step in `steps`, then the whole-script checks; every problem is
//! reported with its line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{FixedOffset, NaiveDate, NaiveTime, Weekday};

use super::file::group;
use super::graph::{check_hangup_tickets, graph_checks};
use super::prompt_check::{prompt_checks, prompt_length_checks};
use super::raw::*;
use super::steps::Builder;
use super::vars::variable_checks;
use super::{AudioContext, CheckReport, Diagnostic, MAX_SCRIPT_BYTES, MAX_STEPS, Severity};
use crate::script::{
    MediaItem, OfficeHours, Script, Step, StepId, StepKind, Validators, parse_duration,
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
pub(super) struct Names<'a> {
    pub(super) index: BTreeMap<&'a str, StepId>,
}

pub(super) struct Defaults {
    pub(super) timeout: Duration,
    pub(super) inter_digit_timeout: Duration,
    pub(super) retries: u32,
    pub(super) invalid: Vec<S<String>>,
    pub(super) no_input: Vec<S<String>>,
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
    // Checked here too (the loader refuses a large file unread): text handed in directly.
    let size = u64::try_from(source.len()).unwrap_or(u64::MAX);
    if size > MAX_SCRIPT_BYTES {
        ctx.error(
            0..0,
            format!(
                "the script is {} bytes, more than the {} allowed",
                group(size),
                group(MAX_SCRIPT_BYTES)
            ),
            "split it, or look for a generated or runaway file",
        );
        return None;
    }
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
    let mut given: Vec<String> = Vec::new();
    for var in &header.given {
        if !is_identifier(var.get_ref()) {
            ctx.error(
                var.span(),
                format!(
                    "variable name `{}` may only use a-z, 0-9 and _",
                    var.get_ref()
                ),
                "",
            );
        } else if given.contains(var.get_ref()) {
            ctx.error(
                var.span(),
                format!("`{}` is given twice", var.get_ref()),
                "",
            );
        } else {
            given.push(var.get_ref().clone());
        }
    }

    // Step names, in file order.
    let mut raw_steps: Vec<(&S<String>, &S<RawStep>)> = raw.steps.get_ref().iter().collect();
    raw_steps.sort_by_key(|(k, _)| k.span().start);
    if raw_steps.len() > MAX_STEPS {
        ctx.error(
            raw.steps.span(),
            format!(
                "the script has {} steps, more than the {} allowed",
                group(raw_steps.len() as u64),
                group(MAX_STEPS as u64)
            ),
            "split it into several scripts, or look for a generated or runaway file",
        );
        return None;
    }
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
        variable_checks(
            &mut ctx,
            &steps,
            &raw_steps,
            &media_uses,
            &departments,
            &given,
        );
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
    if let Some(audio) = audio {
        prompt_length_checks(&mut ctx, audio, &languages, &steps, &spans, max_prompt);
    }

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
        given,
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
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let hint = match closest(field, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "see ivr-scripts/README.md for the fields each table accepts".to_owned(),
        };
        return (format!("unknown field `{field}`"), hint);
    }
    let hint = if message.contains("duplicate key") {
        "each key may appear once in a table; remove or rename one of them"
    } else {
        ""
    };
    (format!("invalid script: {message}"), hint.to_owned())
}

pub(super) const WAIT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(60));

pub(super) fn duration_field(
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

pub(super) fn show(d: Duration) -> String {
    if d.as_millis().is_multiple_of(60_000) && d.as_secs() >= 60 {
        format!("{}m", d.as_secs() / 60)
    } else if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

pub(super) fn count_field(
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

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_language_code(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase())
}

pub(super) fn resolve(
    ctx: &mut Ctx<'_>,
    names: &Names<'_>,
    reference: &S<String>,
) -> Option<StepId> {
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

pub(super) fn dtmf_key(ctx: &mut Ctx<'_>, key: &S<String>) -> Option<char> {
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
    fn offsets_parse() {
        assert_eq!(parse_offset("+05:30"), FixedOffset::east_opt(19800));
        assert_eq!(parse_offset("-03:00"), FixedOffset::east_opt(-10800));
        assert_eq!(parse_offset("05:30"), None);
        assert_eq!(parse_offset("+25:00"), None);
    }
}
