//! The prompt manifest (`audio/prompts.toml`: prompt id → text per language), where prompt WAVs
//! live, and the per-language coverage that `helpline prompts list` shows.
//!
//! Layout (mirrors Asterisk's sounds directory, so the tree can be copied there as is):
//! `audio/<lang>/helpline/<id>.wav` is played as `sound:helpline/<id>` on a channel whose
//! language is `<lang>`; `audio/<lang>/digits/<d>.wav` serves `digits:`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::audio::check_prompt_wav;

/// The manifest's file name inside the audio directory.
pub const MANIFEST_FILE: &str = "prompts.toml";

/// Why the manifest could not be read, or a prompt cannot be played.
#[derive(Debug, Error)]
pub enum PromptError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse {
        path: PathBuf,
        message: String,
        span: Option<std::ops::Range<usize>>,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("no prompt `{id}` in the manifest{}", did_you_mean(suggestion.as_deref()))]
    UnknownPrompt {
        id: String,
        suggestion: Option<String>,
    },
    #[error("prompt `{id}` has no `{lang}` text; it exists in: {}", available.join(", "))]
    NoLanguage {
        id: String,
        lang: String,
        available: Vec<String>,
    },
    #[error("prompt `{id}` [{lang}]: {} is missing (run audio/generate.sh)", path.display())]
    FileMissing {
        id: String,
        lang: String,
        path: PathBuf,
    },
    #[error("prompt `{id}` [{lang}]: {}: {why}", path.display())]
    BadFile {
        id: String,
        lang: String,
        path: PathBuf,
        why: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    languages: Vec<String>,
    #[serde(default)]
    digits: BTreeMap<String, Vec<String>>,
    prompts: BTreeMap<String, BTreeMap<String, String>>,
}

/// The prompt texts, per id and language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The languages prompts are generated for.
    pub languages: Vec<String>,
    /// Language → the words for 0..9.
    pub digits: BTreeMap<String, Vec<String>>,
    /// Prompt id → language → text.
    pub prompts: BTreeMap<String, BTreeMap<String, String>>,
}

impl Manifest {
    /// Reads `<audio_dir>/prompts.toml`.
    pub fn load(audio_dir: &Path) -> Result<Manifest, PromptError> {
        let path = audio_dir.join(MANIFEST_FILE);
        let text = crate::check::read_regular_file(&path, crate::check::MAX_MANIFEST_BYTES)
            .map_err(|source| PromptError::Read {
                path: path.clone(),
                source,
            })?;
        Manifest::parse(&path, &text)
    }

    /// Parses manifest text (`path` is for messages).
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, PromptError> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| PromptError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
            span: e.span(),
        })?;
        let invalid = |message: String| PromptError::Invalid {
            path: path.to_owned(),
            message,
        };
        if raw.languages.is_empty() {
            return Err(invalid("`languages` is empty".to_owned()));
        }
        for (lang, words) in &raw.digits {
            if words.len() != 10 {
                return Err(invalid(format!(
                    "digits for `{lang}` has {} words; it needs the ten words for 0 to 9",
                    words.len()
                )));
            }
        }
        for (id, texts) in &raw.prompts {
            if let Some((lang, _)) = texts.iter().find(|(_, text)| text.trim().is_empty()) {
                return Err(invalid(format!("prompt `{id}` has an empty `{lang}` text")));
            }
        }
        Ok(Manifest {
            languages: raw.languages,
            digits: raw.digits,
            prompts: raw.prompts,
        })
    }

    /// The text of prompt `id` in `lang`.
    pub fn text(&self, id: &str, lang: &str) -> Option<&str> {
        self.prompts.get(id)?.get(lang).map(String::as_str)
    }
}

/// `audio/<lang>/helpline/<id>.wav`: the file `sound:helpline/<id>` plays in `lang`.
pub fn prompt_wav_path(audio_dir: &Path, id: &str, lang: &str) -> PathBuf {
    audio_dir
        .join(lang)
        .join("helpline")
        .join(format!("{id}.wav"))
}

/// The WAV to preview for `helpline prompts play ID --lang LANG`: the prompt must be in the
/// manifest with text in `lang`, and its file must exist in the right format.
pub fn find_prompt(
    audio_dir: &Path,
    manifest: &Manifest,
    id: &str,
    lang: &str,
) -> Result<PathBuf, PromptError> {
    let Some(texts) = manifest.prompts.get(id) else {
        let suggestion = manifest
            .prompts
            .keys()
            .filter(|k| k.contains(id) || id.contains(k.as_str()))
            .min_by_key(|k| k.len().abs_diff(id.len()))
            .cloned();
        return Err(PromptError::UnknownPrompt {
            id: id.to_owned(),
            suggestion,
        });
    };
    if !texts.contains_key(lang) {
        return Err(PromptError::NoLanguage {
            id: id.to_owned(),
            lang: lang.to_owned(),
            available: texts.keys().cloned().collect(),
        });
    }
    let path = prompt_wav_path(audio_dir, id, lang);
    match FileStatus::of(&path) {
        FileStatus::Ok => Ok(path),
        FileStatus::Missing => Err(PromptError::FileMissing {
            id: id.to_owned(),
            lang: lang.to_owned(),
            path,
        }),
        FileStatus::Bad(why) => Err(PromptError::BadFile {
            id: id.to_owned(),
            lang: lang.to_owned(),
            path,
            why,
        }),
    }
}

/// `audio/<lang>/digits/<digit>.wav`: what `digits:` plays in `lang`.
pub fn digit_wav_path(audio_dir: &Path, digit: u8, lang: &str) -> PathBuf {
    audio_dir
        .join(lang)
        .join("digits")
        .join(format!("{digit}.wav"))
}

/// The state of one prompt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    Ok,
    Missing,
    /// The file exists but is not PCM 16-bit mono 8/16 kHz (or not a WAV): why.
    Bad(String),
}

impl FileStatus {
    /// Checks the file at `path`.
    pub fn of(path: &Path) -> FileStatus {
        if !path.is_file() {
            return FileStatus::Missing;
        }
        match check_prompt_wav(path) {
            Ok(()) => FileStatus::Ok,
            Err(e) => FileStatus::Bad(e.to_string()),
        }
    }
}

/// One prompt's coverage: per language, whether there is text and a good file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    pub id: String,
    /// In the order of [`Coverage::languages`]: (has text in the manifest, file status).
    pub per_language: Vec<(bool, FileStatus)>,
}

/// What `helpline prompts list` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub languages: Vec<String>,
    pub rows: Vec<CoverageRow>,
}

impl Coverage {
    /// Coverage of every manifest prompt, plus the digit files, in every manifest language.
    pub fn of(audio_dir: &Path, manifest: &Manifest) -> Coverage {
        let mut rows: Vec<CoverageRow> = manifest
            .prompts
            .iter()
            .map(|(id, texts)| CoverageRow {
                id: id.clone(),
                per_language: manifest
                    .languages
                    .iter()
                    .map(|lang| {
                        let path = prompt_wav_path(audio_dir, id, lang);
                        (texts.contains_key(lang), FileStatus::of(&path))
                    })
                    .collect(),
            })
            .collect();
        for digit in 0..10u8 {
            rows.push(CoverageRow {
                id: format!("digits/{digit}"),
                per_language: manifest
                    .languages
                    .iter()
                    .map(|lang| {
                        let has_text = manifest
                            .digits
                            .get(lang)
                            .is_some_and(|words| words.len() > usize::from(digit));
                        (
                            has_text,
                            FileStatus::of(&digit_wav_path(audio_dir, digit, lang)),
                        )
                    })
                    .collect(),
            });
        }
        Coverage {
            languages: manifest.languages.clone(),
            rows,
        }
    }

    /// Prompts complete in `lang` (text and a good file), and the total.
    pub fn complete_in(&self, lang: &str) -> (usize, usize) {
        let Some(i) = self.languages.iter().position(|l| l == lang) else {
            return (0, self.rows.len());
        };
        let done = self
            .rows
            .iter()
            .filter(|r| {
                r.per_language
                    .get(i)
                    .is_some_and(|(t, s)| *t && *s == FileStatus::Ok)
            })
            .count();
        (done, self.rows.len())
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        write!(f, "{:width$}", "id")?;
        for lang in &self.languages {
            write!(f, "  {lang:<8}")?;
        }
        writeln!(f)?;
        let mut problems = Vec::new();
        for row in &self.rows {
            write!(f, "{:width$}", row.id)?;
            for (lang, (has_text, status)) in self.languages.iter().zip(&row.per_language) {
                let cell = match (has_text, status) {
                    (true, FileStatus::Ok) => "ok",
                    (false, FileStatus::Ok) => "no-text",
                    (_, FileStatus::Missing) => "MISSING",
                    (_, FileStatus::Bad(why)) => {
                        problems.push(format!("{} [{lang}]: {why}", row.id));
                        "BAD"
                    }
                };
                write!(f, "  {cell:<8}")?;
            }
            writeln!(f)?;
        }
        for lang in &self.languages {
            let (done, total) = self.complete_in(lang);
            writeln!(f, "{lang}: {done}/{total} complete")?;
        }
        for p in problems {
            writeln!(f, "bad file: {p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_mirror_asterisk_sounds() {
        let base = Path::new("/srv/audio");
        assert_eq!(
            prompt_wav_path(base, "welcome", "hi"),
            Path::new("/srv/audio/hi/helpline/welcome.wav")
        );
        assert_eq!(
            digit_wav_path(base, 7, "en"),
            Path::new("/srv/audio/en/digits/7.wav")
        );
    }

    #[test]
    fn manifest_parse_errors_carry_a_span() {
        let err = Manifest::parse(
            Path::new("p.toml"),
            "languages = [\"hi\"]\n[prompts]\nx = 1\n",
        )
        .unwrap_err();
        match err {
            PromptError::Parse { span, .. } => assert!(span.is_some()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_shipped_prompts_are_found_with_clear_errors_otherwise() {
        let audio = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../audio");
        let manifest = Manifest::load(&audio).unwrap();
        let path = find_prompt(&audio, &manifest, "welcome", "hi").unwrap();
        assert!(path.ends_with("hi/helpline/welcome.wav"));
        let err = find_prompt(&audio, &manifest, "welcom", "hi").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no prompt `welcom` in the manifest (did you mean `welcome`?)"
        );
        let err = find_prompt(&audio, &manifest, "welcome", "ta").unwrap_err();
        assert_eq!(
            err.to_string(),
            "prompt `welcome` has no `ta` text; it exists in: en, hi"
        );
    }

    #[test]
    fn manifest_contents_are_validated() {
        let cases = [
            ("languages = []\n[prompts]\n", "`languages` is empty"),
            (
                "languages = [\"hi\"]\n[digits]\nhi = [\"एक\"]\n[prompts]\n",
                "digits for `hi` has 1 words",
            ),
            (
                "languages = [\"hi\"]\n[prompts.welcome]\nhi = \"  \"\n",
                "prompt `welcome` has an empty `hi` text",
            ),
        ];
        for (text, want) in cases {
            let err = Manifest::parse(Path::new("p.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn coverage_reports_missing_files() {
        let dir = std::env::temp_dir().join(format!("ivr-cov-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = Manifest::parse(
            Path::new("p.toml"),
            "languages = [\"hi\", \"en\"]\n[prompts.welcome]\nhi = \"नमस्ते\"\n",
        )
        .unwrap();
        let cov = Coverage::of(&dir, &manifest);
        assert_eq!(cov.rows[0].id, "welcome");
        assert_eq!(
            cov.rows[0].per_language,
            vec![(true, FileStatus::Missing), (false, FileStatus::Missing)]
        );
        assert_eq!(cov.complete_in("hi"), (0, 11));
        let text = cov.to_string();
        assert!(
            text.contains("welcome") && text.contains("MISSING"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
