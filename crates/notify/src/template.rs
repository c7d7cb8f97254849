//! SMS texts: a template per event kind and language, with the DLT template id Indian operators
//! require for it (TRAI's commercial-communication rules: a message must match a registered
//! template). Placeholders are `{number}`, `{department}`, `{status}`, `{level}` and `{days_overdue}`
//! (whole days past the due time: an officer's reminder); `{{` and `}}`
//! are braces. A template is checked when it is configured, so rendering cannot fail.

use std::collections::BTreeMap;
use std::fmt;

use tickets::TicketStatus;
use tickets::outbox::EventKind;

/// A value a template can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Number,
    Department,
    Status,
    Level,
    DaysOverdue,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        match name {
            "number" => Some(Field::Number),
            "department" => Some(Field::Department),
            "status" => Some(Field::Status),
            "level" => Some(Field::Level),
            "days_overdue" => Some(Field::DaysOverdue),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// Why a template's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "unknown placeholder {{{0}}}; use {{number}}, {{department}}, {{status}}, {{level}} or {{days_overdue}}"
    )]
    UnknownField(String),
    #[error("a `{{` is not closed (write `{{{{` for a brace)")]
    Unclosed,
    #[error("a `}}` without its `{{` (write `}}}}` for a brace)")]
    StrayClose,
    #[error("the text is empty")]
    Empty,
}

/// A checked text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    parts: Vec<Part>,
}

impl Text {
    pub fn parse(source: &str) -> Result<Text, TemplateError> {
        if source.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(TemplateError::StrayClose),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(TemplateError::Unclosed),
                        }
                    }
                    let field = Field::parse(name.trim())
                        .ok_or_else(|| TemplateError::UnknownField(name.clone()))?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Field(field));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Text { parts })
    }

    pub fn render(&self, values: &Values<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(Field::Number) => out.push_str(values.number),
                Part::Field(Field::Department) => out.push_str(values.department),
                Part::Field(Field::Status) => out.push_str(values.status),
                Part::Field(Field::Level) => out.push_str(&values.level.to_string()),
                Part::Field(Field::DaysOverdue) => {
                    out.push_str(&values.days_overdue.to_string());
                }
            }
        }
        out
    }
}

/// What a template is filled with, already in the message's language.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub number: &'a str,
    pub department: &'a str,
    pub status: &'a str,
    pub level: u8,
    /// Whole days past the ticket's due time when the event happened (0 before it).
    pub days_overdue: i64,
}

/// One language's message for one event kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub text: Text,
    /// The template's id in the operator's DLT registry.
    pub dlt_template_id: String,
}

/// Every configured message: per event kind, per language (`hi`, `en` …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates {
    by_kind: BTreeMap<&'static str, BTreeMap<String, Template>>,
    /// The language used when a complaint's has no template of its kind.
    default_language: String,
}

impl Templates {
    pub fn new(default_language: impl Into<String>) -> Templates {
        Templates {
            by_kind: BTreeMap::new(),
            default_language: default_language.into(),
        }
    }

    pub fn insert(&mut self, kind: EventKind, language: impl Into<String>, template: Template) {
        self.by_kind
            .entry(kind.as_str())
            .or_default()
            .insert(language.into(), template);
    }

    /// Whether an event of `kind` has a message at all.
    pub fn has(&self, kind: EventKind) -> bool {
        self.by_kind
            .get(kind.as_str())
            .is_some_and(|l| !l.is_empty())
    }

    /// The message of `kind` in `language`, else in the default language; with the language chosen.
    pub fn pick(&self, kind: EventKind, language: &str) -> Option<(&str, &Template)> {
        let languages = self.by_kind.get(kind.as_str())?;
        languages
            .get_key_value(language)
            .or_else(|| languages.get_key_value(&self.default_language))
            .map(|(l, t)| (l.as_str(), t))
    }

    pub fn default_language(&self) -> &str {
        &self.default_language
    }

    /// The languages with a message of `kind`.
    pub fn languages(&self, kind: EventKind) -> Vec<&str> {
        self.by_kind
            .get(kind.as_str())
            .map(|l| l.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// A status as a citizen reads it, in Hindi (`hi`) or English (anything else).
pub fn status_label(status: TicketStatus, language: &str) -> &'static str {
    use TicketStatus::*;
    if language == "hi" {
        match status {
            Registered => "दर्ज",
            Assigned => "अधिकारी को सौंपी गई",
            InProgress => "कार्यवाही जारी",
            Resolved => "निराकृत",
            ClosedSatisfied => "संतुष्टि के साथ बंद",
            ClosedUnsatisfied => "असंतुष्टि के साथ बंद",
            ClosedUnverified => "पुष्टि के बिना बंद",
            Reopened => "पुनः खोली गई",
        }
    } else {
        match status {
            Registered => "registered",
            Assigned => "assigned to an officer",
            InProgress => "in progress",
            Resolved => "resolved",
            ClosedSatisfied => "closed (satisfied)",
            ClosedUnsatisfied => "closed (not satisfied)",
            ClosedUnverified => "closed (not confirmed)",
            Reopened => "reopened",
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(t) => f.write_str(&t.replace('{', "{{").replace('}', "}}"))?,
                Part::Field(Field::Number) => f.write_str("{number}")?,
                Part::Field(Field::Department) => f.write_str("{department}")?,
                Part::Field(Field::Status) => f.write_str("{status}")?,
                Part::Field(Field::Level) => f.write_str("{level}")?,
                Part::Field(Field::DaysOverdue) => f.write_str("{days_overdue}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const VALUES: Values<'static> = Values {
        number: "2611020001",
        department: "जल शक्ति विभाग",
        status: "निराकृत",
        level: 2,
        days_overdue: 3,
    };

    #[test]
    fn fields_are_filled_in_hindi_and_braces_escaped() {
        let text =
            Text::parse("शिकायत {number} ({department}) {status} — L{level} {{ok}}").unwrap();
        assert_eq!(
            text.render(&VALUES),
            "शिकायत 2611020001 (जल शक्ति विभाग) निराकृत — L2 {ok}"
        );
        let reminder = Text::parse("Complaint {number} is {days_overdue} day(s) overdue").unwrap();
        assert_eq!(
            reminder.render(&VALUES),
            "Complaint 2611020001 is 3 day(s) overdue"
        );
        assert_eq!(
            reminder.to_string(),
            "Complaint {number} is {days_overdue} day(s) overdue"
        );
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        assert_eq!(
            Text::parse("Dear {name}"),
            Err(TemplateError::UnknownField("name".into()))
        );
        assert_eq!(
            Text::parse("complaint {number"),
            Err(TemplateError::Unclosed)
        );
        assert_eq!(
            Text::parse("complaint number}"),
            Err(TemplateError::StrayClose)
        );
        assert_eq!(Text::parse("  "), Err(TemplateError::Empty));
    }

    #[test]
    fn the_complaints_language_is_picked_else_the_default() {
        let mut templates = Templates::new("en");
        let t = |s: &str, id: &str| Template {
            text: Text::parse(s).unwrap(),
            dlt_template_id: id.into(),
        };
        templates.insert(EventKind::Registered, "hi", t("शिकायत {number}", "1107-hi"));
        templates.insert(
            EventKind::Registered,
            "en",
            t("Complaint {number}", "1107-en"),
        );
        let (lang, hi) = templates.pick(EventKind::Registered, "hi").unwrap();
        assert_eq!((lang, hi.dlt_template_id.as_str()), ("hi", "1107-hi"));
        let (lang, other) = templates.pick(EventKind::Registered, "pa").unwrap();
        assert_eq!((lang, other.dlt_template_id.as_str()), ("en", "1107-en"));
        assert!(templates.pick(EventKind::Escalated, "hi").is_none());
        assert!(!templates.has(EventKind::Escalated));
        assert_eq!(status_label(TicketStatus::Resolved, "hi"), "निराकृत");
        assert_eq!(status_label(TicketStatus::Resolved, "en"), "resolved");
    }

    proptest! {
        /// Plain text (braces doubled) renders as itself; a parsed template prints back to a
        /// source that parses to the same template.
        #[test]
        fn text_round_trips(plain in "\\PC{0,40}") {
            prop_assume!(!plain.trim().is_empty());
            let source = plain.replace('{', "{{").replace('}', "}}");
            let text = Text::parse(&source).unwrap();
            prop_assert_eq!(text.render(&VALUES), plain.clone());
            let with_field = format!("{source}{{number}}{source}");
            let parsed = Text::parse(&with_field).unwrap();
            prop_assert_eq!(Text::parse(&parsed.to_string()).unwrap(), parsed.clone());
            prop_assert_eq!(parsed.render(&VALUES), format!("{plain}2611020001{plain}"));
        }
    }
}
