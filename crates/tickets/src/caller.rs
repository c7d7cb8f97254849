//! Caller ids as telecom trunks deliver them, turned into one form at the edge.
//!
//! Indian trunks send the same number as `+919816012345`, `919816012345`, `09816012345`,
//! `9816012345`, `+91 98160 12345`, `+91-98160-12345`, `sip:+919816012345@trunk` …, or a withheld
//! marker (`anonymous`, `restricted`, `unavailable`), or nothing. [`CallerId::from_trunk`] makes
//! every one of them either an E.164 number (`+` and 8–15 digits; Indian numbers as `+91` and the
//! 10-digit national number) or [`UNKNOWN`]. It never fails: a complaint is never refused because of
//! the number it came from. The value as delivered is kept beside it ([`CallerId::raw`]), with its
//! control characters escaped and cut to [`RAW_MAX_CHARS`], for the record.
//!
//! The rule, in one line: strip a `tel:`/`sip:` URI to its user part and drop separators
//! (space, `-`, `.`, `(`, `)`, `/`); `+` or `00` starts an international number (kept if 8–15
//! digits; `+91` needs a 10-digit national number, a `0` after it is dropped); otherwise `0` + 10
//! digits, `91` + 10 digits or 10 digits alone is Indian (`+91` + the 10 digits); anything else
//! (a local number without its STD code, letters, control characters, too long) is `unknown`.

use std::fmt;

/// The normalised number of a caller whose number is withheld, missing or unreadable.
pub const UNKNOWN: &str = "unknown";

/// How much of the value as delivered is kept (characters, after escaping).
pub const RAW_MAX_CHARS: usize = 64;

/// Longer input is not looked at (no caller id, not even as a SIP URI, is this long).
const MAX_INPUT_BYTES: usize = 256;

/// India's country code.
const INDIA: &str = "91";

/// A caller id: the normalised number and what the trunk delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    number: String,
    raw: String,
    /// Something was there, but not a number nor a withheld marker.
    unreadable: bool,
}

impl CallerId {
    /// Normalises a caller id as delivered by the trunk (see the module documentation). Never fails.
    pub fn from_trunk(raw: &str) -> CallerId {
        let (number, unreadable) = match normalise(raw) {
            Ok(Some(number)) => (number, false),
            Ok(None) => (UNKNOWN.to_owned(), false),
            Err(Unreadable) => (UNKNOWN.to_owned(), true),
        };
        CallerId {
            number,
            raw: kept_raw(raw),
            unreadable,
        }
    }

    /// `+` and 8–15 digits, or [`UNKNOWN`].
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The value as delivered (untrimmed): control characters escaped (see [`escape_control`]), at most
    /// [`RAW_MAX_CHARS`] characters.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The value as delivered, when it says more than the normalised number (it is not that number
    /// already, and not empty): what is worth storing beside it.
    pub fn raw_if_changed(&self) -> Option<&str> {
        (!self.raw.is_empty() && self.raw != self.number).then_some(self.raw.as_str())
    }

    /// Whether the number is withheld, missing or unreadable.
    pub fn is_unknown(&self) -> bool {
        self.number == UNKNOWN
    }

    /// Whether the value was neither a number nor a withheld marker (nor empty): letters, control
    /// characters, a local number without its STD code, a wrong length … (An API client is told; a
    /// call is not refused for it.)
    pub fn is_unreadable(&self) -> bool {
        self.unreadable
    }

    /// The normalised number, the raw value dropped.
    pub fn into_number(self) -> String {
        self.number
    }
}

impl fmt::Display for CallerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

/// Caller ids as trunks delivered them in the deployment (issue 9), and hostile ones, with the number
/// each is normalised to: the examples the tests on every level (this module, the ticket store, a
/// simulated call) file a complaint from.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("+919816012345", "+919816012345"),
    ("919816012345", "+919816012345"),
    ("09816012345", "+919816012345"),
    ("9816012345", "+919816012345"),
    ("+91 98160 12345", "+919816012345"),
    ("+91-98160-12345", "+919816012345"),
    ("sip:+919816012345@trunk", "+919816012345"),
    ("0177 262 1234", "+911772621234"),
    ("+44 20 7946 0958", "+442079460958"),
    ("anonymous", UNKNOWN),
    ("Restricted", UNKNOWN),
    ("unavailable", UNKNOWN),
    ("", UNKNOWN),
    ("98160\n12345\nlevel=ERROR forged", UNKNOWN),
    ("\u{1b}[2J\u{1b}[31m9816012345", UNKNOWN),
    ("98160\u{0}12345", UNKNOWN),
    ("'; DROP TABLE tickets; --", UNKNOWN),
    ("शिकायत", UNKNOWN),
];

/// Whether `number` is in the normalised form: [`UNKNOWN`], or `+` and 8–15 digits.
pub fn is_normalised(number: &str) -> bool {
    number == UNKNOWN
        || number.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Markers trunks send for a withheld or missing number.
fn is_withheld_marker(s: &str) -> bool {
    [
        "anonymous",
        "restricted",
        "unavailable",
        "unknown",
        "private",
        "withheld",
    ]
    .iter()
    .any(|m| s.eq_ignore_ascii_case(m))
}

/// The user part of a `tel:`, `sip:` or `sips:` URI (also in `<…>`, with a display name before it),
/// or `s` itself.
fn uri_user(s: &str) -> &str {
    let s = match (s.find('<'), s.rfind('>')) {
        (Some(open), Some(close)) if open < close => &s[open + 1..close],
        _ => s,
    };
    let lower_prefix = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let rest = ["sips:", "sip:", "tel:"]
        .iter()
        .find(|p| lower_prefix(p))
        .map_or(s, |p| &s[p.len()..]);
    let rest = rest.split('@').next().unwrap_or(rest);
    // `tel:+91…;phone-context=…`, `sip:+91…;user=phone@…`
    rest.split(';').next().unwrap_or(rest)
}

/// A caller id that is there but cannot be read as a number.
#[derive(Debug)]
struct Unreadable;

/// The E.164 number, `None` for a withheld or missing one.
fn normalise(raw: &str) -> Result<Option<String>, Unreadable> {
    if raw.len() > MAX_INPUT_BYTES {
        return Err(Unreadable);
    }
    let user = uri_user(raw.trim()).trim();
    if user.is_empty() || is_withheld_marker(user) {
        return Ok(None);
    }
    national_or_international(user).map(Some).ok_or(Unreadable)
}

fn national_or_international(user: &str) -> Option<String> {
    let mut plus = false;
    let mut digits = String::with_capacity(16);
    for c in user.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if !plus && digits.is_empty() => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            // Letters, control characters, a second `+`, anything else: not a number we can read.
            _ => return None,
        }
    }
    if digits.len() > 17 {
        return None;
    }
    if plus {
        return international(&digits);
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return international(rest);
    }
    if let Some(rest) = digits.strip_prefix('0') {
        return indian(rest);
    }
    if digits.len() == 12 {
        return digits.strip_prefix(INDIA).and_then(indian);
    }
    // Ten digits with no prefix: India's national format (mobile, or STD code and subscriber).
    // Anything shorter is a local number whose STD code we cannot know; anything longer, without a
    // `+`, could be any country's.
    indian(&digits)
}

/// An international number (after `+` or `00`): its country code and subscriber, 8–15 digits.
fn international(digits: &str) -> Option<String> {
    if let Some(national) = digits.strip_prefix(INDIA) {
        // `+91 (0)177 …`: the trunk prefix written after the country code.
        return indian(national.strip_prefix('0').unwrap_or(national));
    }
    let ok = (8..=15).contains(&digits.len()) && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

/// A 10-digit Indian national number (a mobile, or an STD code and a subscriber number).
fn indian(national: &str) -> Option<String> {
    let ok = national.len() == 10
        && !national.starts_with('0')
        && national.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+{INDIA}{national}"))
}

fn kept_raw(raw: &str) -> String {
    // Escaping only lengthens, so the first RAW_MAX_CHARS characters are all that can be kept.
    let head = raw
        .char_indices()
        .nth(RAW_MAX_CHARS)
        .map_or(raw, |(cut, _)| &raw[..cut]);
    let escaped = Escaped(head).to_string();
    match escaped.char_indices().nth(RAW_MAX_CHARS) {
        Some((cut, _)) => escaped[..cut].to_owned(),
        None => escaped,
    }
}

/// Whether `c` must not reach a log line or a terminal as it is: control characters (C0, DEL, C1),
/// the Unicode line and paragraph separators, and the bidirectional overrides and isolates (which
/// can make a line read differently from what it holds). Devanagari and its joiners pass.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes `s` with every character of [`needs_escape`] written as an escape (`\n`, `\r`, `\t`,
/// `\u{1b}`, …), so the result is one line and shows no terminal sequence. Backslashes are left as
/// they are (a value's own `\n` reads like an escaped newline, but cannot break the line), so text
/// already escaped (a `Debug` string) is not escaped twice.
pub fn escape_control(s: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if !needs_escape(c) {
            continue;
        }
        out.write_str(&s[start..i])?;
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c => write!(out, "\\u{{{:x}}}", u32::from(c))?,
        }
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..])
}

/// Shows a value from outside (a caller id, a channel name, an error text) with its control
/// characters escaped (see [`escape_control`]).
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape_control(self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(raw: &str, expected: &str) {
        let id = CallerId::from_trunk(raw);
        assert_eq!(id.number(), expected, "caller id {raw:?}");
    }

    #[test]
    fn the_examples_normalise_as_documented() {
        for (raw, expected) in EXAMPLES {
            check(raw, expected);
        }
    }

    #[test]
    fn indian_mobiles_in_every_form_become_e164() {
        for raw in [
            "+919816012345",
            "919816012345",
            "09816012345",
            "9816012345",
            "+91 98160 12345",
            "+91-98160-12345",
            "+91.98160.12345",
            "(+91) 98160-12345",
            "+91 (0) 98160 12345",
            "0091 98160 12345",
            "098160 12345",
            " +919816012345\t",
            "tel:+919816012345",
            "tel:+91-98160-12345;phone-context=+91",
            "sip:+919816012345@trunk",
            "SIP:09816012345@10.0.0.1:5060",
            "sips:919816012345@trunk.example;user=phone",
            "\"Ramesh\" <sip:+919816012345@trunk>",
        ] {
            check(raw, "+919816012345");
        }
    }

    #[test]
    fn indian_landlines_with_their_std_code_become_e164() {
        check("0177 262 1234", "+911772621234");
        check("0177-2621234", "+911772621234");
        check("+91 177 262 1234", "+911772621234");
        check("+91 (0177) 262 1234", "+911772621234");
        check("011 2345 6789", "+911123456789");
        check("1772621234", "+911772621234");
        // Whitespace around the number (a trunk's trailing CRLF) is not part of it.
        check("9816012345\r\n", "+919816012345");
    }

    #[test]
    fn other_countries_are_kept_in_e164() {
        check("+44 20 7946 0958", "+442079460958");
        check("0044 20 7946 0958", "+442079460958");
        check("+1 (202) 555-0100", "+12025550100");
        check("+977-1-4411111", "+97714411111");
    }

    #[test]
    fn withheld_and_empty_are_unknown() {
        for raw in [
            "",
            "   ",
            "anonymous",
            "Anonymous",
            "RESTRICTED",
            "unavailable",
            "unknown",
            "sip:anonymous@anonymous.invalid",
            "<sip:anonymous@trunk>",
        ] {
            check(raw, UNKNOWN);
            assert!(!CallerId::from_trunk(raw).is_unreadable(), "{raw:?}");
        }
    }

    #[test]
    fn unreadable_and_hostile_are_unknown() {
        for raw in [
            "2621234",
            "98160",
            "+91",
            "+91 98160 1234",
            "+91 98160 123456",
            "0",
            "00",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "447911123456",
            "98160abc45",
            "call me",
            "९८१६०१२३४५",
            "+91 98160\n12345",
            "\u{1b}[31m9816012345",
            "98160\u{0}12345",
            "9816012345\u{202e}",
            "++919816012345",
            "91+9816012345",
            &"9".repeat(300),
            &format!("{}9816012345", " ".repeat(300)),
        ] {
            check(raw, UNKNOWN);
            assert!(CallerId::from_trunk(raw).is_unreadable(), "{raw:?}");
        }
    }

    #[test]
    fn the_raw_value_is_kept_escaped_and_cut() {
        let id = CallerId::from_trunk("+91 98160 12345");
        assert_eq!(id.raw(), "+91 98160 12345");
        assert_eq!(id.raw_if_changed(), Some("+91 98160 12345"));
        assert_eq!(CallerId::from_trunk("+919816012345").raw_if_changed(), None);
        assert_eq!(CallerId::from_trunk("").raw_if_changed(), None);
        assert_eq!(
            CallerId::from_trunk("anonymous").raw_if_changed(),
            Some("anonymous")
        );
        let hostile = CallerId::from_trunk("98160\n12345\u{1b}[31m\\x");
        assert_eq!(hostile.raw(), "98160\\n12345\\u{1b}[31m\\x");
        assert!(hostile.is_unknown());
        let long = CallerId::from_trunk(&"9".repeat(1000));
        assert_eq!(long.raw().chars().count(), RAW_MAX_CHARS);
        let hindi = CallerId::from_trunk(&"राम".repeat(40));
        assert_eq!(hindi.raw().chars().count(), RAW_MAX_CHARS);
        assert!(hindi.raw().starts_with("राम"));
    }

    #[test]
    fn escaping_keeps_devanagari_and_makes_one_line() {
        let shown =
            Escaped("शिकायत\r\n\u{1b}[2J\u{7}\u{9b}\u{2028}\u{202e}end\u{200d}").to_string();
        assert_eq!(
            shown,
            "शिकायत\\r\\n\\u{1b}[2J\\u{7}\\u{9b}\\u{2028}\\u{202e}end\u{200d}"
        );
        assert!(!shown.chars().any(needs_escape));
    }

    proptest! {
        #[test]
        fn never_panics_and_always_gives_the_normal_form(raw in any::<String>()) {
            let id = CallerId::from_trunk(&raw);
            prop_assert!(is_normalised(id.number()), "{:?} gave {:?}", raw, id.number());
            prop_assert!(id.raw().chars().count() <= RAW_MAX_CHARS);
            prop_assert!(!id.raw().chars().any(needs_escape));
            let again = CallerId::from_trunk(id.number());
            prop_assert_eq!(again.number(), id.number());
        }

        #[test]
        fn phone_like_input_gives_the_normal_form_and_is_idempotent(
            raw in r"(tel:|sip:)?[+]?[0-9 ().-]{0,24}(@trunk)?"
        ) {
            let once = CallerId::from_trunk(&raw);
            prop_assert!(is_normalised(once.number()), "{:?} gave {:?}", raw, once.number());
            let twice = CallerId::from_trunk(once.number());
            prop_assert_eq!(twice.number(), once.number());
        }

        #[test]
        fn any_indian_number_in_any_dress_normalises_to_one_form(
            national in r"[1-9][0-9]{9}",
            prefix in prop::sample::select(vec!["", "0", "91", "+91", "+91 ", "0091", "+91-0", "tel:+91", "sip:0"]),
            separator in prop::sample::select(vec!["", " ", "-", "."]),
        ) {
            let (a, b) = national.split_at(5);
            let raw = format!("{prefix}{a}{separator}{b}");
            let id = CallerId::from_trunk(&raw);
            prop_assert_eq!(id.number(), format!("+91{national}"));
            let again = CallerId::from_trunk(id.number());
            prop_assert_eq!(again.number(), id.number());
        }

        #[test]
        fn escaped_text_is_one_line_without_control_characters(s in any::<String>()) {
            let shown = Escaped(&s).to_string();
            prop_assert!(!shown.chars().any(needs_escape));
        }
    }
}
