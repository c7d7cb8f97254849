//! Input checks shared by the service and the API: sizes, character sets and formats, each failing
//! with the field's name and what is wrong.

use crate::caller::CallerId;
use crate::departments::is_valid_department_code;
use crate::error::TicketError;

/// Longest recording accepted (a complaint message is a few minutes at most).
pub const MAX_RECORDING_MS: u64 = 15 * 60 * 1000;

fn is_printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// The bidirectional controls that open or close an embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069): they reorder what follows them on screen, so a note or a description can show
/// one text and hold another ("Trojan Source", CVE-2021-42574) — the officer reading a ticket, a
/// CSV export opened in a spreadsheet, the audit trail, all see something else than was written.
/// Refused in free text. The marks U+200E, U+200F and U+061C (LRM, RLM, ALM) are kept: they have
/// no scope, cannot hide or reorder a run of text, and right-to-left text (Urdu, Kashmiri, and
/// English or digits inside it) needs them to display right. The joiners U+200C/U+200D (ZWNJ,
/// ZWJ) are kept too: Devanagari and the other Indic scripts need them to spell words.
pub const BIDI_CONTROLS: [char; 9] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];

fn bidi_control(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| BIDI_CONTROLS.contains(c))
}

/// Call ids / idempotency keys: 1–128 visible ASCII characters.
pub fn call_id(raw: &str) -> Result<String, TicketError> {
    if raw.is_empty() || raw.len() > 128 {
        return Err(TicketError::invalid(
            "call_id",
            format!("must be 1-128 characters, got {}", raw.len()),
        ));
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TicketError::invalid(
            "call_id",
            "only visible ASCII characters are allowed",
        ));
    }
    Ok(raw.to_owned())
}

/// Caller numbers: any form a trunk or a client sends, normalised by [`CallerId::from_trunk`] to
/// E.164 (`+919816012345`) or `unknown` (withheld or missing). Every normalised form is accepted as
/// itself. Only a value that is there but is no number at all (letters, control characters, a local
/// number without its STD code) is refused, for an API client to correct; a call's complaint never
/// gets here with one (`TicketService::create_from_call` files it under `unknown`). A search by
/// caller normalises the same way, so `?caller=09816012345` finds the tickets of `+919816012345`.
pub fn caller_number(raw: &str) -> Result<String, TicketError> {
    let caller = CallerId::from_trunk(raw);
    if caller.is_unreadable() {
        return Err(TicketError::invalid(
            "caller_number",
            format!(
                "{:?} is not a phone number (E.164 like +919816012345, a 10-digit Indian number, or anonymous)",
                caller.raw()
            ),
        ));
    }
    Ok(caller.into_number())
}

/// Language codes: 2–3 lower-case letters, optionally `-` and a 2–4 letter region (`hi`, `en-IN`).
pub fn language(raw: &str) -> Result<String, TicketError> {
    let mut parts = raw.splitn(2, '-');
    let primary = parts.next().unwrap_or_default();
    let ok_primary =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let ok_region = parts
        .next()
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !ok_primary || !ok_region {
        return Err(TicketError::invalid(
            "language",
            format!("{raw:?} is not a language code like hi or en-IN"),
        ));
    }
    Ok(raw.to_owned())
}

pub fn department_code(raw: &str) -> Result<String, TicketError> {
    if !is_valid_department_code(raw) {
        return Err(TicketError::invalid(
            "department_code",
            format!("{raw:?} is not a department code (2-6 upper-case letters)"),
        ));
    }
    Ok(raw.to_owned())
}

/// Optional free text: trimmed, empty becomes none, at most `max` characters, no control characters
/// except newlines and tabs, no bidirectional embedding, override or isolate ([`BIDI_CONTROLS`]).
pub fn optional_text(
    field: &'static str,
    raw: Option<String>,
    max: usize,
) -> Result<Option<String>, TicketError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    required_text(field, text, max).map(Some)
}

/// Required free text, same rules as [`optional_text`].
pub fn required_text(field: &'static str, raw: &str, max: usize) -> Result<String, TicketError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TicketError::invalid(field, "must not be empty"));
    }
    let len = text.chars().count();
    if len > max {
        return Err(TicketError::invalid(
            field,
            format!("{len} characters is more than the {max} allowed"),
        ));
    }
    if !is_printable(&text.replace(['\n', '\t'], " ")) {
        return Err(TicketError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    if let Some((at, c)) = bidi_control(text) {
        return Err(TicketError::invalid(
            field,
            format!(
                "the bidirectional control U+{:04X} (character {}) is not allowed: it makes text \
                 display differently from what it holds",
                u32::from(c),
                at + 1
            ),
        ));
    }
    Ok(text.to_owned())
}

/// A recording's length: at most [`MAX_RECORDING_MS`]. Zero is accepted — Asterisk reports whole
/// seconds, so a short message can say 0 — and a complaint is never refused over it.
pub fn recording_duration(ms: u64) -> Result<(), TicketError> {
    if ms > MAX_RECORDING_MS {
        return Err(TicketError::invalid(
            "recording.duration_ms",
            format!("{ms} is more than the {MAX_RECORDING_MS} allowed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_and_names_the_field_on_bad() {
        assert_eq!(caller_number(" +919816012345 ").unwrap(), "+919816012345");
        assert_eq!(caller_number("+91 98160 12345").unwrap(), "+919816012345");
        assert_eq!(caller_number("Anonymous").unwrap(), "unknown");
        assert!(
            caller_number("98-16")
                .unwrap_err()
                .to_string()
                .contains("caller_number")
        );
        assert_eq!(caller_number("unknown").unwrap(), "unknown");
        assert!(language("hi").is_ok() && language("en-IN").is_ok());
        assert!(language("Hindi").is_err());
        assert!(department_code("JSV").is_ok());
        assert!(department_code("jsv").is_err());
        assert!(call_id("").is_err() && call_id(&"x".repeat(129)).is_err());
        assert!(call_id("1700000000.42").is_ok());
        assert_eq!(
            optional_text("district", Some("  ".into()), 10).unwrap(),
            None
        );
        assert!(optional_text("district", Some("x".repeat(11)), 10).is_err());
        assert!(required_text("text", "a\u{7}b", 10).is_err());
        assert!(required_text("text", "line one\nline two", 100).is_ok());
        assert!(recording_duration(MAX_RECORDING_MS + 1).is_err() && recording_duration(0).is_ok());
    }

    #[test]
    fn bidi_embeddings_overrides_and_isolates_are_refused_marks_and_joiners_kept() {
        for c in BIDI_CONTROLS {
            let text = format!("refund {c}0001 rupees");
            let err = required_text("text", &text, 100).unwrap_err().to_string();
            assert!(
                err.contains("text") && err.contains(&format!("U+{:04X}", u32::from(c))),
                "{err}"
            );
            let err = optional_text("district", Some(text), 100).unwrap_err();
            assert!(err.to_string().contains("district"), "{err}");
        }
        // Right-to-left text with its marks, and Hindi spelled with a zero-width joiner and non-joiner.
        for fine in [
            "\u{645}\u{6CC}\u{631}\u{627} \u{200F}123\u{200F} \u{200E}ward 4\u{200E} \u{61C}",
            "\u{915}\u{94D}\u{200D}\u{937} \u{930}\u{94D}\u{200C}\u{92F}",
        ] {
            assert_eq!(required_text("text", fine, 100).unwrap(), fine);
        }
    }
}
