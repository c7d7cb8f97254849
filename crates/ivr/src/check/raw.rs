//! The script file as written: raw structs that keep every value's span, and the fields each
//! step type accepts and requires.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use serde_spanned::Spanned;

pub(super) type S<T> = Spanned<T>;
pub(super) type RawMap = BTreeMap<S<String>, S<String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) script: S<RawHeader>,
    #[serde(default)]
    pub(super) defaults: RawDefaults,
    pub(super) office_hours: Option<S<RawOfficeHours>>,
    #[serde(default)]
    pub(super) departments: RawMap,
    pub(super) steps: S<BTreeMap<S<String>, S<RawStep>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeader {
    /// Free text for the administrator; not used by the IVR.
    #[serde(rename = "description")]
    pub(super) _description: Option<String>,
    pub(super) languages: S<Vec<S<String>>>,
    pub(super) default_language: Option<S<String>>,
    pub(super) start: S<String>,
    pub(super) utc_offset: Option<S<String>>,
    /// Variables whoever starts the call gives it (an outbound call's job: `complaint` …).
    #[serde(default)]
    pub(super) given: Vec<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) timeout: Option<S<String>>,
    pub(super) inter_digit_timeout: Option<S<String>>,
    pub(super) retries: Option<S<u32>>,
    pub(super) invalid_prompts: Option<Vec<S<String>>>,
    pub(super) no_input_prompts: Option<Vec<S<String>>>,
    pub(super) max_prompt: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOfficeHours {
    pub(super) days: Vec<S<String>>,
    pub(super) open: S<String>,
    pub(super) close: S<String>,
    #[serde(default)]
    pub(super) holidays: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    pub(super) office_hours: Option<S<bool>>,
    pub(super) holiday: Option<S<bool>>,
    pub(super) var: Option<S<String>>,
    pub(super) equals: Option<S<String>>,
    pub(super) is_set: Option<S<bool>>,
    pub(super) next: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    #[serde(rename = "type")]
    pub(super) kind: S<String>,
    /// Free text for the administrator; not used by the IVR.
    #[serde(rename = "description")]
    pub(super) _description: Option<String>,
    pub(super) prompts: Option<S<Vec<S<String>>>>,
    pub(super) barge_in: Option<S<bool>>,
    pub(super) next: Option<S<String>>,
    pub(super) choices: Option<S<RawMap>>,
    pub(super) var: Option<S<String>>,
    pub(super) values: Option<S<RawMap>>,
    pub(super) timeout: Option<S<String>>,
    pub(super) retries: Option<S<u32>>,
    pub(super) invalid_prompts: Option<S<Vec<S<String>>>>,
    pub(super) no_input_prompts: Option<S<Vec<S<String>>>>,
    pub(super) on_exhausted: Option<S<String>>,
    pub(super) min_digits: Option<S<u32>>,
    pub(super) max_digits: Option<S<u32>>,
    pub(super) end_key: Option<S<String>>,
    pub(super) inter_digit_timeout: Option<S<String>>,
    pub(super) validator: Option<S<String>>,
    pub(super) beep: Option<S<bool>>,
    pub(super) max_duration: Option<S<String>>,
    pub(super) max_silence: Option<S<String>>,
    pub(super) stop_key: Option<S<String>>,
    pub(super) confirm_prompts: Option<S<Vec<S<String>>>>,
    pub(super) no_speech_prompts: Option<S<Vec<S<String>>>>,
    pub(super) max_attempts: Option<S<u32>>,
    pub(super) hangup_ticket: Option<S<String>>,
    pub(super) department: Option<S<String>>,
    pub(super) callback: Option<S<bool>>,
    pub(super) on_failure: Option<S<String>>,
    pub(super) not_found: Option<S<String>>,
    pub(super) number_var: Option<S<String>>,
    pub(super) satisfied_var: Option<S<String>>,
    pub(super) reason_var: Option<S<String>>,
    pub(super) check_var: Option<S<String>>,
    pub(super) on_refused: Option<S<String>>,
    pub(super) context: Option<S<String>>,
    pub(super) extension: Option<S<String>>,
    pub(super) queue: Option<S<String>>,
    pub(super) on_overflow: Option<S<String>>,
    pub(super) language: Option<S<String>>,
    pub(super) set: Option<S<RawMap>>,
    pub(super) cases: Option<S<Vec<S<RawCase>>>>,
    pub(super) otherwise: Option<S<String>>,
    pub(super) reason: Option<S<String>>,
}

macro_rules! present_fields {
    ($step:expr, $($field:ident),*) => {{
        let mut out: Vec<(&'static str, Range<usize>)> = Vec::new();
        $( if let Some(v) = &$step.$field { out.push((stringify!($field), v.span())); } )*
        out
    }};
}

impl RawStep {
    pub(super) fn present(&self) -> Vec<(&'static str, Range<usize>)> {
        present_fields!(
            self,
            prompts,
            barge_in,
            next,
            choices,
            var,
            values,
            timeout,
            retries,
            invalid_prompts,
            no_input_prompts,
            on_exhausted,
            min_digits,
            max_digits,
            end_key,
            inter_digit_timeout,
            validator,
            beep,
            max_duration,
            max_silence,
            stop_key,
            confirm_prompts,
            no_speech_prompts,
            max_attempts,
            hangup_ticket,
            department,
            callback,
            on_failure,
            not_found,
            number_var,
            satisfied_var,
            reason_var,
            check_var,
            on_refused,
            context,
            extension,
            queue,
            on_overflow,
            language,
            set,
            cases,
            otherwise,
            reason
        )
    }
}

/// The fields each step type accepts (besides `type` and `description`).
pub(super) const STEP_FIELDS: &[(&str, &[&str])] = &[
    ("play", &["prompts", "barge_in", "next"]),
    ("say", &["prompts", "barge_in", "next"]),
    (
        "menu",
        &[
            "prompts",
            "barge_in",
            "choices",
            "var",
            "values",
            "timeout",
            "retries",
            "invalid_prompts",
            "no_input_prompts",
            "on_exhausted",
        ],
    ),
    (
        "input",
        &[
            "prompts",
            "barge_in",
            "var",
            "min_digits",
            "max_digits",
            "end_key",
            "timeout",
            "inter_digit_timeout",
            "validator",
            "retries",
            "invalid_prompts",
            "no_input_prompts",
            "on_exhausted",
            "next",
        ],
    ),
    (
        "record",
        &[
            "prompts",
            "beep",
            "max_duration",
            "max_silence",
            "stop_key",
            "confirm_prompts",
            "timeout",
            "invalid_prompts",
            "no_input_prompts",
            "no_speech_prompts",
            "retries",
            "max_attempts",
            "next",
            "on_exhausted",
            "hangup_ticket",
        ],
    ),
    ("ticket", &["department", "callback", "next", "on_failure"]),
    ("lookup", &["number_var", "next", "not_found", "on_failure"]),
    (
        "feedback",
        &[
            "number_var",
            "satisfied_var",
            "reason_var",
            "check_var",
            "next",
            "on_failure",
            "on_refused",
        ],
    ),
    ("transfer", &["prompts", "context", "extension"]),
    ("agent", &["prompts", "queue", "department", "on_overflow"]),
    ("set", &["language", "set", "next"]),
    ("branch", &["cases", "otherwise"]),
    ("hangup", &["prompts", "reason"]),
];

/// The fields each step type cannot do without.
pub(super) const STEP_REQUIRED: &[(&str, &[&str])] = &[
    ("play", &["prompts", "next"]),
    ("say", &["prompts", "next"]),
    ("menu", &["prompts", "choices", "on_exhausted"]),
    ("input", &["prompts", "var", "on_exhausted", "next"]),
    ("record", &["next", "on_exhausted"]),
    ("ticket", &["department", "next", "on_failure"]),
    ("lookup", &["number_var", "next", "not_found", "on_failure"]),
    (
        "feedback",
        &["number_var", "satisfied_var", "next", "on_failure"],
    ),
    ("transfer", &["context", "extension"]),
    ("agent", &["queue", "on_overflow"]),
    ("set", &["next"]),
    ("branch", &["cases", "otherwise"]),
    ("hangup", &[]),
];
