//! Media: how long a playback lasts and what it sounds like. Resolves `sound:`, `digits:`, `number:`,
//! `characters:`, `tone:` and `recording:` URIs the way Asterisk does — `sound:NAME` with language `lang`
//! is `<dir>/<lang>/NAME.wav`, then `<dir>/NAME.wav`, then the same in `en` — reading real WAV files with
//! hound, and falling back to a small built-in catalogue of Asterisk core sounds with their real durations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A resolved sound: how long it lasts and where its samples come from.
#[derive(Debug, Clone)]
pub(crate) struct Sound {
    /// Length in (simulated) milliseconds.
    pub duration_ms: u64,
    /// The audio, as heard by whoever is on the other end.
    pub audio: Audio,
}

/// Where a stretch of audio comes from.
#[derive(Debug, Clone)]
pub(crate) enum Audio {
    /// 8 kHz mono samples (a real file, or a stored recording).
    Samples(Arc<Vec<i16>>),
    /// Generated speech-like audio (a built-in sound, or a simulated caller talking).
    Speech { seed: u64 },
    /// A steady tone.
    Tone { hz: f32 },
}

/// Core sounds Asterisk ships, with their real durations (ms), so traces replay without files.
const BUILTIN: &[(&str, u64)] = &[
    ("hello-world", 1400),
    ("demo-congrats", 10_050),
    ("vm-intro", 3_900),
    ("beep", 250),
    ("silence/1", 1000),
    ("tt-monkeys", 6_500),
    ("vm-goodbye", 1_100),
    ("goodbye", 800),
    ("pls-wait-connect-call", 2_100),
    ("queue-thankyou", 1_500),
    ("auth-thankyou", 900),
    ("digits/hundred", 650),
    ("digits/thousand", 750),
    ("digits/million", 700),
    ("digits/billion", 700),
    ("digits/minus", 600),
];

/// Per-digit/number word durations from Asterisk's English core sounds.
fn builtin_number_word(name: &str) -> Option<u64> {
    let word = name.strip_prefix("digits/")?;
    let n: u32 = word.parse().ok()?;
    match n {
        0..=9 => Some(834),
        10..=19 => Some(900),
        20 | 30 | 40 | 50 | 60 | 70 | 80 | 90 => Some(850),
        _ => None,
    }
}

fn builtin_letter(name: &str) -> Option<u64> {
    let letter = name.strip_prefix("letters/")?;
    (letter.len() == 1 && letter.chars().all(|c| c.is_ascii_alphabetic())).then_some(645)
}

fn builtin(name: &str) -> Option<u64> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .or_else(|| builtin_number_word(name))
        .or_else(|| builtin_letter(name))
}

/// Tones `tone:` knows (Asterisk's indications.conf names); anything else fails like `tone:beep` does.
const TONES: &[(&str, f32)] = &[
    ("dial", 425.0),
    ("ring", 425.0),
    ("busy", 425.0),
    ("congestion", 425.0),
    ("callwaiting", 425.0),
    ("dialrecall", 425.0),
    ("record", 1400.0),
    ("info", 950.0),
    ("stutter", 425.0),
];

/// What a media URI turns into.
#[derive(Debug, Clone)]
pub(crate) enum Resolved {
    /// Plays for this long.
    Plays(Sound),
    /// Plays until stopped (tones loop, like Asterisk's indications).
    Endless(Audio),
    /// Fails at once (missing file, unknown tone).
    Fails,
    /// A scheme Asterisk does not know: on an unanswered channel the playback starts and never finishes.
    UnknownScheme,
}

/// Looks sounds up and caches what it found (the load benchmark plays the same prompts thousands of times).
#[derive(Debug)]
pub(crate) struct SoundLibrary {
    dirs: Vec<PathBuf>,
    cache: HashMap<(String, String), Option<Sound>>,
}

impl SoundLibrary {
    pub fn new(dirs: Vec<PathBuf>) -> SoundLibrary {
        SoundLibrary {
            dirs,
            cache: HashMap::new(),
        }
    }

    /// Finds `name` in `lang` as Asterisk would; `None` when there is no such sound.
    pub fn sound(&mut self, name: &str, lang: &str) -> Option<Sound> {
        let key = (lang.to_owned(), name.to_owned());
        if let Some(found) = self.cache.get(&key) {
            return found.clone();
        }
        let found = self.find(name, lang);
        self.cache.insert(key, found.clone());
        found
    }

    fn find(&self, name: &str, lang: &str) -> Option<Sound> {
        if name.contains("..") || name.starts_with('/') {
            return None;
        }
        let mut langs = vec![lang];
        if lang != "en" {
            langs.push("en");
        }
        for lang in &langs {
            for dir in &self.dirs {
                for candidate in [
                    dir.join(lang).join(format!("{name}.wav")),
                    dir.join(format!("{name}.wav")),
                ] {
                    if let Some(sound) = read_wav(&candidate) {
                        return Some(sound);
                    }
                }
            }
        }
        builtin(name).map(|duration_ms| Sound {
            duration_ms,
            audio: Audio::Speech {
                seed: seed_of(name),
            },
        })
    }

    /// Every sound name the library can find (files and built-ins), with the languages it exists in.
    pub fn list(&self) -> Vec<(String, Vec<String>)> {
        let mut found: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            Default::default();
        for (name, _) in BUILTIN {
            found
                .entry((*name).to_owned())
                .or_default()
                .insert("en".to_owned());
        }
        for dir in &self.dirs {
            let Ok(langs) = std::fs::read_dir(dir) else {
                continue;
            };
            for lang in langs.flatten() {
                if lang.path().is_dir() {
                    let lang_name = lang.file_name().to_string_lossy().into_owned();
                    collect_wavs(&lang.path(), "", &lang_name, &mut found, 0);
                }
            }
        }
        found
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect()
    }

    /// Resolves one media URI in `lang`. `stored` finds a stored recording's file.
    pub fn resolve(
        &mut self,
        uri: &str,
        lang: &str,
        stored: impl Fn(&str) -> Option<PathBuf>,
    ) -> Resolved {
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Resolved::UnknownScheme;
        };
        match scheme {
            "sound" => match self.sound(rest, lang) {
                Some(sound) => Resolved::Plays(sound),
                None => Resolved::Fails,
            },
            "recording" => match stored(rest).and_then(|p| read_wav(&p)) {
                Some(sound) => Resolved::Plays(sound),
                None => Resolved::Fails,
            },
            "digits" => self.words(rest.chars().filter_map(digit_word).collect(), lang),
            "characters" => self.words(rest.chars().filter_map(character_word).collect(), lang),
            "number" => match rest.trim().parse::<i64>() {
                Ok(n) => self.words(number_words(n), lang),
                Err(_) => Resolved::Fails,
            },
            "tone" => {
                let name = rest.split(';').next().unwrap_or_default();
                match TONES.iter().find(|(t, _)| *t == name) {
                    Some((_, hz)) => Resolved::Endless(Audio::Tone { hz: *hz }),
                    None => Resolved::Fails,
                }
            }
            _ => Resolved::UnknownScheme,
        }
    }

    /// A sequence of sound files played back to back (`digits:`, `number:`, `characters:`).
    fn words(&mut self, words: Vec<String>, lang: &str) -> Resolved {
        if words.is_empty() {
            return Resolved::Fails;
        }
        let mut total = 0;
        for word in &words {
            match self.sound(word, lang) {
                Some(sound) => total += sound.duration_ms,
                None => return Resolved::Fails,
            }
        }
        Resolved::Plays(Sound {
            duration_ms: total,
            audio: Audio::Speech {
                seed: seed_of(&words.concat()),
            },
        })
    }
}

fn collect_wavs(
    dir: &Path,
    prefix: &str,
    lang: &str,
    found: &mut std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    depth: usize,
) {
    if depth > 4 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            collect_wavs(&path, &format!("{prefix}{file}/"), lang, found, depth + 1);
        } else if let Some(stem) = file.strip_suffix(".wav") {
            found
                .entry(format!("{prefix}{stem}"))
                .or_default()
                .insert(lang.to_owned());
        }
    }
}

fn digit_word(c: char) -> Option<String> {
    match c {
        '0'..='9' => Some(format!("digits/{c}")),
        '*' => Some("digits/star".to_owned()),
        '#' => Some("digits/pound".to_owned()),
        _ => None,
    }
    .filter(|w| builtin(w).is_some() || c.is_ascii_digit())
}

fn character_word(c: char) -> Option<String> {
    if c.is_ascii_alphabetic() {
        Some(format!("letters/{}", c.to_ascii_lowercase()))
    } else {
        digit_word(c)
    }
}

/// The words Asterisk's English `SayNumber` uses for `n`.
pub(crate) fn number_words(n: i64) -> Vec<String> {
    let mut words = Vec::new();
    if n < 0 {
        words.push("digits/minus".to_owned());
    }
    words.extend(unsigned_number_words(n.unsigned_abs()));
    words
}

fn unsigned_number_words(mut n: u64) -> Vec<String> {
    let mut words = Vec::new();
    if n == 0 {
        words.push("digits/0".to_owned());
        return words;
    }
    for (unit, word) in [
        (1_000_000_000, "digits/billion"),
        (1_000_000, "digits/million"),
        (1_000, "digits/thousand"),
    ] {
        if n >= unit {
            words.extend(unsigned_number_words(n / unit));
            words.push(word.to_owned());
            n %= unit;
        }
    }
    if n >= 100 {
        words.push(format!("digits/{}", n / 100));
        words.push("digits/hundred".to_owned());
        n %= 100;
    }
    if n >= 20 {
        words.push(format!("digits/{}", n / 10 * 10));
        n %= 10;
    }
    if n > 0 {
        words.push(format!("digits/{n}"));
    }
    words
}

/// Reads a WAV file's samples as 8 kHz mono; `None` when it is missing or not a WAV.
pub(crate) fn read_wav(path: &Path) -> Option<Sound> {
    let mut reader = hound::WavReader::open(path).ok()?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let raw: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader.samples::<i16>().filter_map(Result::ok).collect(),
        (hound::SampleFormat::Int, 8) => reader
            .samples::<i8>()
            .filter_map(Result::ok)
            .map(|s| i16::from(s) << 8)
            .collect(),
        (hound::SampleFormat::Int, bits) if bits > 16 => reader
            .samples::<i32>()
            .filter_map(Result::ok)
            .map(|s| (s >> (bits - 16)) as i16)
            .collect(),
        (hound::SampleFormat::Float, _) => reader
            .samples::<f32>()
            .filter_map(Result::ok)
            .map(|s| (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16)
            .collect(),
        _ => return None,
    };
    let mono: Vec<i16> = raw.chunks(channels).map(|frame| frame[0]).collect();
    let rate = spec.sample_rate.max(1);
    let samples = if rate == 8000 {
        mono
    } else {
        // Nearest-sample resampling: the simulator needs the length and a recognisable signal, not fidelity.
        let out_len = (mono.len() as u64 * 8000 / u64::from(rate)) as usize;
        (0..out_len)
            .map(|i| mono[(i as u64 * u64::from(rate) / 8000) as usize])
            .collect()
    };
    let duration_ms = samples.len() as u64 * 1000 / 8000;
    Some(Sound {
        duration_ms,
        audio: Audio::Samples(Arc::new(samples)),
    })
}

/// A stable seed from a name, so the same sound always "sounds" the same.
pub(crate) fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_stored(_: &str) -> Option<PathBuf> {
        None
    }

    #[test]
    fn builtin_catalogue_matches_the_traces() {
        let mut lib = SoundLibrary::new(Vec::new());
        let Resolved::Plays(s) = lib.resolve("sound:hello-world", "en", no_stored) else {
            panic!("hello-world must play")
        };
        assert_eq!(s.duration_ms, 1400);
        let Resolved::Plays(d) = lib.resolve("digits:20261129", "en", no_stored) else {
            panic!("digits must play")
        };
        assert!(
            (6_500..=6_900).contains(&d.duration_ms),
            "{}",
            d.duration_ms
        );
        let Resolved::Plays(n) = lib.resolve("number:42", "en", no_stored) else {
            panic!("number must play")
        };
        assert!(
            (1_600..=1_800).contains(&n.duration_ms),
            "{}",
            n.duration_ms
        );
        let Resolved::Plays(c) = lib.resolve("characters:HP", "en", no_stored) else {
            panic!("characters must play")
        };
        assert!(
            (1_200..=1_400).contains(&c.duration_ms),
            "{}",
            c.duration_ms
        );
        assert!(matches!(
            lib.resolve("tone:beep", "en", no_stored),
            Resolved::Fails
        ));
        assert!(matches!(
            lib.resolve("tone:ring", "en", no_stored),
            Resolved::Endless(_)
        ));
        assert!(matches!(
            lib.resolve("sound:no-such-prompt", "en", no_stored),
            Resolved::Fails
        ));
        assert!(matches!(
            lib.resolve("bogus:thing", "en", no_stored),
            Resolved::UnknownScheme
        ));
    }

    #[test]
    fn number_words_follow_english_say_number() {
        assert_eq!(number_words(42), ["digits/40", "digits/2"]);
        assert_eq!(number_words(7), ["digits/7"]);
        assert_eq!(number_words(-3), ["digits/minus", "digits/3"]);
        // The extremes neither overflow nor panic.
        assert!(number_words(i64::MIN).len() > 5);
        assert_eq!(
            number_words(1205),
            [
                "digits/1",
                "digits/thousand",
                "digits/2",
                "digits/hundred",
                "digits/5"
            ]
        );
    }

    #[test]
    fn files_are_found_by_language_then_plain_then_english() {
        let dir = std::env::temp_dir().join(format!("ari-sim-media-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("hi/helpline")).unwrap();
        std::fs::create_dir_all(dir.join("en/helpline")).unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        for (path, len) in [
            ("hi/helpline/welcome.wav", 16_000),
            ("en/helpline/bye.wav", 4_000),
        ] {
            let mut w = hound::WavWriter::create(dir.join(path), spec).unwrap();
            for i in 0..len {
                w.write_sample((i % 100) as i16).unwrap();
            }
            w.finalize().unwrap();
        }
        let mut lib = SoundLibrary::new(vec![dir.clone()]);
        assert_eq!(
            lib.sound("helpline/welcome", "hi").unwrap().duration_ms,
            2000
        );
        assert_eq!(lib.sound("helpline/bye", "hi").unwrap().duration_ms, 500);
        assert!(lib.sound("helpline/welcome", "en").is_none());
        let names: Vec<String> = lib.list().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"helpline/welcome".to_owned()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
