//! Every prompt a script uses, in every language it offers: text in the manifest and a WAV file
//! of the right format, with `{var}` templates, numbers and dates expanded.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;

use super::AudioContext;
use super::compile::{Ctx, MediaUses};
use crate::call::TicketStatus;
use crate::prompts::{FileStatus, digit_wav_path, prompt_wav_path};
use crate::say;
use std::time::Duration;

use crate::script::{MediaItem, MenuStep, Retry, Step, StepKind};

/// The values a `{var}` placeholder may take, as far as the script tells.
fn template_values(
    var: &str,
    steps: &[Step],
    departments: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    match var {
        "status" => values.extend(TicketStatus::ALL.iter().map(|s| s.slug().to_owned())),
        "department" => values.extend(departments.keys().cloned()),
        _ => {}
    }
    for step in steps {
        match &step.kind {
            StepKind::Menu(MenuStep {
                assign: Some((v, vals)),
                ..
            }) if v == var => {
                values.extend(vals.iter().map(|(_, value)| value.clone()));
            }
            StepKind::Set { vars, .. } => {
                values.extend(
                    vars.iter()
                        .filter(|(k, _)| k == var)
                        .map(|(_, value)| value.clone()),
                );
            }
            _ => {}
        }
    }
    values
        .into_iter()
        .filter(|v| !v.starts_with('{'))
        .map(|v| slug(&v))
        .collect()
}

fn slug(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Every prompt id a template may produce, or the first variable whose values are unknown.
fn expand_template(
    template: &str,
    steps: &[Step],
    departments: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| c + open);
        let literal = &rest[..open];
        let var = &rest[open + 1..close];
        let values = template_values(var, steps, departments);
        if values.is_empty() {
            return Err(var.to_owned());
        }
        results = results
            .iter()
            .flat_map(|prefix| values.iter().map(move |v| format!("{prefix}{literal}{v}")))
            .collect();
        rest = rest.get(close + 1..).unwrap_or("");
    }
    Ok(results.into_iter().map(|r| format!("{r}{rest}")).collect())
}

/// What is wrong with one prompt in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PromptProblem {
    NoText,
    Missing(PathBuf),
    Bad(PathBuf, String),
}

/// Checks every prompt the script uses in every language; returns the prompt ids available in
/// all languages (for templates at run time).
pub(super) fn prompt_checks(
    ctx: &mut Ctx<'_>,
    audio: &AudioContext,
    languages: &[String],
    uses: &MediaUses,
    steps: &[Step],
    departments: &BTreeMap<String, String>,
    header_span: Range<usize>,
) -> BTreeSet<String> {
    let manifest = match &audio.manifest {
        Ok(m) => m,
        Err(e) => {
            ctx.error(
                header_span,
                format!("the prompt manifest cannot be used: {e}"),
                "the audio directory needs prompts.toml (see audio/README.md)",
            );
            return BTreeSet::new();
        }
    };
    // A language the manifest does not generate at all is one problem, not one per prompt.
    let missing_languages: Vec<&String> = languages
        .iter()
        .filter(|l| !manifest.languages.contains(l))
        .collect();
    if !missing_languages.is_empty() {
        let list: Vec<&str> = missing_languages.iter().map(|l| l.as_str()).collect();
        ctx.error(
            header_span,
            format!("the prompt manifest has no prompts in {}", list.join(", ")),
            format!(
                "add the language to `languages` in audio/prompts.toml with a text for every \
                 prompt (it has: {})",
                manifest.languages.join(", ")
            ),
        );
        return BTreeSet::new();
    }
    let mut available: BTreeSet<String> = manifest.prompts.keys().cloned().collect();
    let mut needs_digits: Option<Range<usize>> = None;
    let mut checked: BTreeSet<String> = BTreeSet::new();
    for (item, span) in uses {
        let (label, ids): (Option<String>, Vec<String>) = match item {
            MediaItem::Prompt(id) => (None, vec![id.clone()]),
            MediaItem::Template(t) => match expand_template(t, steps, departments) {
                Ok(ids) => (Some(format!("`{t}`")), ids),
                Err(var) => {
                    ctx.warning(
                        span.clone(),
                        format!(
                            "cannot tell which prompts `{t}` needs: no known values for `{{{var}}}`"
                        ),
                        "set the variable with a menu `values` or a `set` step so check can \
                         verify the prompts",
                    );
                    continue;
                }
            },
            MediaItem::Number(v) => (Some(format!("`number:{v}`")), say::prompt_ids()),
            MediaItem::Date(v) => (Some(format!("`date:{v}`")), say::prompt_ids()),
            MediaItem::Digits(_) => {
                needs_digits.get_or_insert(span.clone());
                continue;
            }
        };
        // One report per prompt and script: at the first place it is used.
        let mut problems: Vec<(String, String, PromptProblem)> = Vec::new();
        for id in ids.into_iter().filter(|id| checked.insert(id.clone())) {
            for lang in languages {
                let problem = if manifest.text(&id, lang).is_none() {
                    Some(PromptProblem::NoText)
                } else {
                    let path = prompt_wav_path(&audio.dir, &id, lang);
                    match audio.status(path.clone()) {
                        FileStatus::Ok => None,
                        FileStatus::Missing => Some(PromptProblem::Missing(path)),
                        FileStatus::Bad(why) => Some(PromptProblem::Bad(path, why)),
                    }
                };
                if let Some(problem) = problem {
                    available.remove(&id);
                    problems.push((id.clone(), lang.clone(), problem));
                }
            }
        }
        report_prompt_problems(ctx, span, label.as_deref(), &problems);
    }
    if let Some(span) = needs_digits {
        let mut missing = Vec::new();
        for lang in languages {
            for digit in 0..10u8 {
                let path = digit_wav_path(&audio.dir, digit, lang);
                match audio.status(path.clone()) {
                    FileStatus::Ok => {}
                    FileStatus::Missing => missing.push(path.display().to_string()),
                    FileStatus::Bad(why) => ctx.error(
                        span.clone(),
                        format!("digits: {} is {why}", path.display()),
                        "regenerate it with audio/generate.sh",
                    ),
                }
            }
        }
        if !missing.is_empty() {
            ctx.error(
                span,
                format!(
                    "`digits:` needs digit files that are missing: {}",
                    abridged(&missing)
                ),
                "run audio/generate.sh",
            );
        }
    }
    // Only prompts with a good file in every language can be played by a template.
    available.retain(|id| {
        languages
            .iter()
            .all(|lang| audio.status(prompt_wav_path(&audio.dir, id, lang)) == FileStatus::Ok)
    });
    available
}

/// Reports the problems of one media item: per prompt for a plain prompt, grouped for an item
/// that stands for many prompts (`label`: a template, `number:`, `date:`).
fn report_prompt_problems(
    ctx: &mut Ctx<'_>,
    span: &Range<usize>,
    label: Option<&str>,
    problems: &[(String, String, PromptProblem)],
) {
    let no_text: Vec<(&str, &str)> = problems
        .iter()
        .filter(|(_, _, p)| *p == PromptProblem::NoText)
        .map(|(id, lang, _)| (id.as_str(), lang.as_str()))
        .collect();
    let missing: Vec<String> = problems
        .iter()
        .filter_map(|(_, _, p)| match p {
            PromptProblem::Missing(path) => Some(path.display().to_string()),
            _ => None,
        })
        .collect();
    let generate = "run audio/generate.sh";
    match label {
        None => {
            if let Some((id, _)) = no_text.first() {
                let langs: Vec<&str> = no_text.iter().map(|(_, l)| *l).collect();
                ctx.error(
                    span.clone(),
                    format!(
                        "prompt `{id}` has no text in the manifest for {}",
                        langs.join(", ")
                    ),
                    format!(
                        "add {} under [prompts.{id}] in audio/prompts.toml, then {generate}",
                        langs
                            .iter()
                            .map(|l| format!("{l} = \"…\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            for path in &missing {
                ctx.error(
                    span.clone(),
                    format!("prompt file {path} is missing"),
                    generate,
                );
            }
        }
        Some(label) => {
            if !no_text.is_empty() {
                let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                for (id, lang) in &no_text {
                    by_id.entry(id).or_default().push(lang);
                }
                let listed: Vec<String> = by_id
                    .iter()
                    .map(|(id, langs)| format!("{id} [{}]", langs.join(", ")))
                    .collect();
                ctx.error(
                    span.clone(),
                    format!(
                        "{label} needs prompts with no text in the manifest: {}",
                        abridged(&listed)
                    ),
                    format!("add them to audio/prompts.toml, then {generate}"),
                );
            }
            if !missing.is_empty() {
                ctx.error(
                    span.clone(),
                    format!(
                        "{label} needs prompt files that are missing: {}",
                        abridged(&missing)
                    ),
                    generate,
                );
            }
        }
    }
    for (id, lang, problem) in problems {
        if let PromptProblem::Bad(path, why) = problem {
            ctx.error(
                span.clone(),
                format!("prompt `{id}` [{lang}]: {} is {why}", path.display()),
                "regenerate it with audio/generate.sh (sox … -r 8000 -c 1 -b 16)",
            );
        }
    }
}

/// The first few items of a list, and how many more there are.
fn abridged(items: &[String]) -> String {
    const SHOWN: usize = 4;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

/// A prompt alone, and after the "invalid" and the "no input" prompts (a retry).
fn with_retries<'a>(prompts: &'a [MediaItem], retry: &'a Retry) -> Vec<Vec<&'a MediaItem>> {
    vec![
        prompts.iter().collect(),
        retry.invalid.iter().chain(prompts).collect(),
        retry.no_input.iter().chain(prompts).collect(),
    ]
}

/// The playbacks a step can start, as lists of media items played as one.
fn playbacks(step: &Step) -> Vec<Vec<&MediaItem>> {
    match &step.kind {
        StepKind::Play { media, .. }
        | StepKind::Transfer { media, .. }
        | StepKind::Queue { media, .. }
        | StepKind::Hangup { media, .. } => vec![media.iter().collect()],
        StepKind::Menu(menu) => with_retries(&menu.prompts, &menu.retry),
        StepKind::Input(input) => with_retries(&input.prompts, &input.retry),
        StepKind::Record(rec) => {
            let mut out = vec![
                rec.prompts.iter().collect::<Vec<_>>(),
                rec.no_speech.iter().chain(&rec.prompts).collect(),
            ];
            if let Some(confirm) = &rec.confirm {
                out.extend(with_retries(&confirm.prompts, &confirm.retry));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// A playback longer than `max_prompt` would be cut by the guard meant for playbacks that never
/// end: an impossible timeout. Only plain prompts are counted (variables vary).
pub(super) fn prompt_length_checks(
    ctx: &mut Ctx<'_>,
    audio: &AudioContext,
    languages: &[String],
    steps: &[Step],
    spans: &[Range<usize>],
    max_prompt: Duration,
) {
    for (step, span) in steps.iter().zip(spans) {
        for lang in languages {
            let longest = playbacks(step)
                .iter()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| match item {
                            MediaItem::Prompt(id) => {
                                audio.duration(prompt_wav_path(&audio.dir, id, lang))
                            }
                            _ => None,
                        })
                        .sum::<Duration>()
                })
                .max()
                .unwrap_or_default();
            if longest > max_prompt {
                ctx.error(
                    span.clone(),
                    format!(
                        "step `{}` plays for {:.1}s in {lang}, longer than max_prompt ({:.1}s)",
                        step.name,
                        longest.as_secs_f64(),
                        max_prompt.as_secs_f64()
                    ),
                    "the guard for playbacks that never end would cut it: raise [defaults] \
                     max_prompt or shorten the prompts",
                );
                break;
            }
        }
    }
}
