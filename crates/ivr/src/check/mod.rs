//! `helpline check`: reads script files into raw, span-carrying structs and turns them into
//! validated [`Script`]s, reporting every problem at once as `file:line:col: error|warning:
//! message` with a hint.
//!
//! What it finds: TOML errors (including duplicate keys), unknown step types and fields, missing
//! fields, unknown step references, unreachable steps, loops with no way out, loops that never
//! wait for the caller, impossible timeouts and counts (a step's prompts playing longer than
//! `max_prompt` included), bad DTMF keys, unknown validators and languages, variables read but
//! never set, undeclared departments, and prompts missing from the manifest or from disk in any
//! language the script offers, or whose file is not PCM 16-bit mono 8/16 kHz.
//!
//! Inside: `raw` (the file as written), `compile` (the file into a [`Script`]), `steps` (each
//! step), `graph` (reachability and loops), `vars` (variables and departments), `prompt_check`
//! (prompts and their files).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::prompts::{FileStatus, Manifest};
use crate::script::{Script, Validators};

mod compile;
mod file;
mod graph;
mod prompt_check;
mod raw;
mod steps;
mod vars;

pub(crate) use compile::compile_script;
pub use file::{open_regular_file, read_regular_file};

/// The largest script file read (the 1100 script is about 9 KB): past it the file is refused
/// unread, so a huge file cannot make a loader (or a SIGHUP reload) take the memory it asks for.
pub const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;
/// The most steps a script may have (the 1100 script has 41). The checks are linear in the
/// script's size; the cap keeps the work and the report of a generated script small.
pub const MAX_STEPS: usize = 2_000;
/// The largest prompt manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// How bad a problem is: errors refuse the script, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {severity}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found, in file and line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
    /// How many script files were read.
    pub files_checked: usize,
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    fn sort(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            (&a.file, a.line, a.col, a.severity, &a.message)
                .cmp(&(&b.file, b.line, b.col, b.severity, &b.message))
        });
        self.diagnostics.dedup();
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        writeln!(
            f,
            "{} error(s), {} warning(s) in {} script(s)",
            self.error_count(),
            self.warning_count(),
            self.files_checked
        )
    }
}

impl std::error::Error for CheckReport {}

/// Checks every `*.toml` in `scripts_dir` against the prompts in `audio_dir`.
pub fn check_dir(scripts_dir: &Path, audio_dir: &Path, validators: &Validators) -> CheckReport {
    check_and_compile(scripts_dir, audio_dir, validators).1
}

/// Checks a directory and returns the scripts that compiled (only trustworthy without errors).
pub(crate) fn check_and_compile(
    scripts_dir: &Path,
    audio_dir: &Path,
    validators: &Validators,
) -> (Vec<Script>, CheckReport) {
    let mut report = CheckReport::default();
    let mut scripts = Vec::new();
    let files = match script_files(scripts_dir) {
        Ok(files) => files,
        Err(message) => {
            report.diagnostics.push(Diagnostic {
                file: scripts_dir.to_owned(),
                line: 1,
                col: 1,
                severity: Severity::Error,
                message,
                hint: Some("pass the directory holding the *.toml scripts".to_owned()),
            });
            return (scripts, report);
        }
    };
    let audio = AudioContext::new(audio_dir);
    for path in files {
        report.files_checked += 1;
        match read_regular_file(&path, MAX_SCRIPT_BYTES) {
            Ok(source) => {
                if let Some(s) =
                    compile_script(&path, &source, validators, Some(&audio), &mut report)
                {
                    scripts.push(s);
                }
            }
            Err(e) => report.diagnostics.push(Diagnostic {
                file: path.clone(),
                line: 1,
                col: 1,
                severity: Severity::Error,
                message: format!("cannot read the script: {e}"),
                hint: None,
            }),
        }
    }
    if report.files_checked == 0 {
        report.diagnostics.push(Diagnostic {
            file: scripts_dir.to_owned(),
            line: 1,
            col: 1,
            severity: Severity::Error,
            message: "no *.toml scripts in this directory".to_owned(),
            hint: Some("the helpline needs at least 1100.toml".to_owned()),
        });
    }
    report.sort();
    (scripts, report)
}

fn script_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read the scripts directory: {e}"))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        // Everything named *.toml but a directory: a FIFO or device is refused when read, loudly,
        // rather than skipped.
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.is_dir())
        .collect();
    files.sort();
    Ok(files)
}

/// The prompt manifest and file checks, cached across scripts.
pub(crate) struct AudioContext {
    dir: PathBuf,
    manifest: Result<Manifest, String>,
    files: RefCell<BTreeMap<PathBuf, FileStatus>>,
    durations: RefCell<BTreeMap<PathBuf, Option<Duration>>>,
}

impl AudioContext {
    pub(crate) fn new(dir: &Path) -> AudioContext {
        AudioContext {
            dir: dir.to_owned(),
            manifest: Manifest::load(dir).map_err(|e| e.to_string()),
            files: RefCell::new(BTreeMap::new()),
            durations: RefCell::new(BTreeMap::new()),
        }
    }

    /// How long a prompt file plays; `None` if it cannot be read (reported elsewhere).
    fn duration(&self, path: PathBuf) -> Option<Duration> {
        *self
            .durations
            .borrow_mut()
            .entry(path.clone())
            .or_insert_with(|| crate::audio::wav_duration(&path).ok())
    }

    fn status(&self, path: PathBuf) -> FileStatus {
        self.files
            .borrow_mut()
            .entry(path.clone())
            .or_insert_with(|| FileStatus::of(&path))
            .clone()
    }
}
