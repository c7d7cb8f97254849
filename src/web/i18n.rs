//! The pages' words in English and Hindi: one table ([`texts`], from `texts.txt`) that the templates read on the
//! server and that every page carries for its script (`data-strings`), so a string is written once
//! and is in both languages or in neither. `{name}` in a text is filled in where it is used.
//!
//! The language is the person's choice, kept in the `helpline_lang` cookie (set by `/lang/{code}`);
//! without it, the browser's `Accept-Language` decides between the two, English by default.

use axum::http::{HeaderMap, header};

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "helpline_lang";

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Hi,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Hi];

    /// The BCP 47 code, for `lang` attributes and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hi => "hi",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "hi" => Some(Lang::Hi),
            _ => None,
        }
    }

    /// The language's name in itself, for the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Hi => "हिन्दी",
        }
    }

    /// The cookie's choice, else the first of ours in `Accept-Language`, else English.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        if let Some(lang) = super::cookie(headers, LANG_COOKIE).and_then(Lang::from_code) {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(accepted)
            .unwrap_or(Lang::En)
    }

    /// The text of `key` in this language (empty, and logged, if there is none: the tests see to
    /// it that there always is).
    pub fn t(self, key: &str) -> &'static str {
        match texts().iter().find(|text| text.key == key) {
            Some(text) => self.of(text),
            None => {
                tracing::warn!(key, "no text for this key");
                ""
            }
        }
    }

    fn of(self, text: &Text) -> &'static str {
        match self {
            Lang::En => text.en,
            Lang::Hi => text.hi,
        }
    }

    /// `key`'s text with `{name}`s filled in.
    pub fn fill(self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Every text in this language as one JSON object, for the page's script.
    pub fn json(self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = texts()
            .iter()
            .map(|text| (text.key.to_owned(), self.of(text).into()))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

/// The language of an `Accept-Language` value: the first of `hi` and `en` it names, by order of
/// preference (q-values), or English.
fn accepted(value: &str) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = Lang::from_code(primary) else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, lang)| lang)
}

/// One text in both languages.
#[derive(Debug)]
pub struct Text {
    pub key: &'static str,
    pub en: &'static str,
    pub hi: &'static str,
}

/// The table itself (`src/web/texts.txt`): `key | English | Hindi` lines, `#` comments.
const TABLE: &str = include_str!("texts.txt");

/// Every text of the pages, read once from `texts.txt` (a line without three parts is left out, and
/// the tests fail on it).
pub fn texts() -> &'static [Text] {
    static TEXTS: std::sync::OnceLock<Vec<Text>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| TABLE.lines().filter_map(parse_line).collect())
}

fn parse_line(line: &'static str) -> Option<Text> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut parts = line.split(" | ").map(str::trim);
    let (key, en, hi) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(Text { key, en, hi })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_devanagari(c: char) -> bool {
        ('\u{0900}'..='\u{097F}').contains(&c)
    }

    #[test]
    fn every_line_of_the_table_is_a_text() {
        for line in TABLE.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                assert!(
                    parse_line(line).is_some(),
                    "not `key | English | Hindi`: {line}"
                );
            }
        }
    }

    #[test]
    fn every_text_is_in_both_languages_once() {
        let mut keys = HashSet::new();
        for text in texts() {
            assert!(keys.insert(text.key), "{} twice", text.key);
            assert!(!text.en.trim().is_empty(), "{} has no English", text.key);
            assert!(
                text.hi.chars().any(is_devanagari),
                "{}'s Hindi has no Devanagari: {:?}",
                text.key,
                text.hi
            );
            assert!(
                !text.en.chars().any(is_devanagari) || text.key.starts_with("lang."),
                "{}'s English is in Devanagari",
                text.key
            );
            // The same placeholders on both sides.
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(holes(text.en), holes(text.hi), "{}", text.key);
        }
    }

    /// The keys the templates and the script name literally, each in the table.
    #[test]
    fn every_key_used_has_a_text() {
        let known: HashSet<&str> = texts().iter().map(|t| t.key).collect();
        let sources = [
            (
                "pages.rs",
                include_str!("pages.rs"),
                &["t(\"", "fill(\""][..],
            ),
            ("mod.rs", include_str!("mod.rs"), &["t(\"", "fill(\""][..]),
            ("app.js", include_str!("assets/app.js"), &["t(\""][..]),
        ];
        let mut used = 0;
        for (file, source, openers) in sources {
            for opener in openers.iter().copied() {
                for (at, _) in source.match_indices(opener) {
                    // `t(` itself, not the end of another name (`split("`, `alert("`).
                    let before = source[..at].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' {
                        continue;
                    }
                    let rest = &source[at + opener.len()..];
                    let Some((key, _)) = rest.split_once('"') else {
                        continue;
                    };
                    used += 1;
                    assert!(
                        known.contains(key),
                        "{file} uses {key:?}, which has no text"
                    );
                }
            }
        }
        assert!(used > 100, "only {used} keys found: the scan is broken");
    }

    /// The vocabularies the script names by prefix (`state.` + the API's value …).
    #[test]
    fn every_value_the_api_can_send_has_a_text() {
        let en = Lang::En;
        for reason in acd::PauseReason::ALL {
            assert!(!en.t(&format!("reason.{}", reason.as_str())).is_empty());
        }
        for status in tickets::TicketStatus::ALL {
            assert!(!en.t(&format!("status.{}", status.as_str())).is_empty());
        }
        for state in crate::centre::AGENT_STATES {
            assert!(!en.t(&format!("state.{state}")).is_empty());
        }
        for code in crate::centre::api::DISPOSITIONS {
            assert!(!en.t(&format!("disp.{code}")).is_empty(), "{code}");
        }
        for helpline in crate::centre::integrated_helplines().keys() {
            assert!(!en.t(&format!("helpline.{helpline}")).is_empty());
        }
        for role in tickets::Role::ALL {
            assert!(!en.t(&format!("role.{}", role.as_str())).is_empty());
        }
        for reason in tickets::FeedbackReason::ALL {
            assert!(!en.t(&format!("fb.{}", reason.as_str())).is_empty());
        }
        for outcome in ["reached", "no_answer", "wrong_number"] {
            let parsed: tickets::CallbackOutcome =
                serde_json::from_value(serde_json::Value::String(outcome.into())).unwrap();
            assert_eq!(parsed.as_str(), outcome);
            assert!(!en.t(&format!("callbacks.outcome.{outcome}")).is_empty());
        }
    }

    #[test]
    fn the_language_comes_from_the_cookie_then_the_browser() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::of_request(&headers), Lang::En);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "hi-IN,hi;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::of_request(&headers), Lang::Hi);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "en-GB;q=0.9, hi;q=0.4, de".parse().unwrap(),
        );
        assert_eq!(Lang::of_request(&headers), Lang::En);
        headers.insert(
            header::COOKIE,
            "helpline_session=x; helpline_lang=hi".parse().unwrap(),
        );
        assert_eq!(Lang::of_request(&headers), Lang::Hi);
        headers.insert(header::COOKIE, "helpline_lang=fr".parse().unwrap());
        assert_eq!(Lang::of_request(&headers), Lang::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            Lang::Hi.fill("note.saved", &[("number", "1234567890")]),
            "1234567890 में टिप्पणी जोड़ी गई।"
        );
        let json: serde_json::Value = serde_json::from_str(&Lang::Hi.json()).unwrap();
        assert_eq!(json["state.available"], "उपलब्ध");
    }
}
