//! Logging set-up: one `tracing` subscriber for the whole process, human-readable text or JSON lines, with
//! the filter from the config (`log.level`) or `RUST_LOG` when that is set, plus
//! [`ari::SECRET_SAFE_LOG_DIRECTIVES`] so that no level prints a credential.
//!
//! **Every field is escaped, in one place.** Values from outside (caller ids, channel names, ARI error
//! texts, API input) go into log fields as they are; a newline or an ANSI sequence in one must not forge a
//! log line or repaint a terminal. tracing-subscriber (0.3.23) escapes ESC, BEL, BS, FF, DEL and C1 only in
//! the message, and nothing in other fields or in span fields (`caller = %value` is written raw), and
//! never `\n` or `\r`. The text format therefore formats every field, of events and spans alike, through
//! [`EscapedFields`]; the JSON format needs nothing more (serde_json escapes every control character in
//! a string). Colours are used only when stderr is a terminal.

use std::fmt;
use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::{DefaultFields, FormatFields, Writer};
use tracing_subscriber::util::SubscriberInitExt;

/// The log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Text,
    /// One JSON object per line, for journald/Loki.
    Json,
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `level`. Calling it twice (tests) keeps
/// the first subscriber.
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    // A second init (tests, `demo` after `serve` in one process) is harmless: the first one stays.
    let _ = subscriber(filter, format, ansi, std::io::stderr).try_init();
}

/// The subscriber [`init`] installs, writing to `writer`.
pub(crate) fn subscriber<W>(
    filter: EnvFilter,
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Whatever level the operator asks for, never the lines that would print an ARI credential.
    let filter = ari::SECRET_SAFE_LOG_DIRECTIVES
        .iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, EnvFilter::add_directive);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.fmt_fields(EscapedFields::default()).finish()),
        LogFormat::Json => Box::new(builder.json().with_current_span(true).finish()),
    }
}

/// tracing-subscriber's own field formatting (`name=value …`), with every control character in what it
/// writes escaped by [`tickets::caller::escape_control`] (`\n`, `\r`, `\u{1b}` …; Devanagari stays
/// readable): whatever a field holds, a log line stays one line with no terminal sequence in it.
#[derive(Debug, Default)]
pub struct EscapedFields(DefaultFields);

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut escaping = EscapingWriter(&mut writer);
        self.0.format_fields(Writer::new(&mut escaping), fields)
    }
}

/// Escapes control characters on their way to the inner writer.
struct EscapingWriter<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for EscapingWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        tickets::caller::escape_control(s, self.0)
    }
}

/// What a test subscriber wrote, for tests that look at log lines.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Capture {
    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().expect("capture lock").clone();
        String::from_utf8(bytes).expect("log output is UTF-8")
    }
}

#[cfg(test)]
impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl<'w> MakeWriter<'w> for Capture {
    type Writer = Capture;
    fn make_writer(&'w self) -> Capture {
        self.clone()
    }
}

/// The production subscriber at `trace`, without colours, writing into a [`Capture`].
#[cfg(test)]
pub(crate) fn capture(format: LogFormat) -> (Box<dyn Subscriber + Send + Sync>, Capture) {
    let capture = Capture::default();
    let subscriber = subscriber(EnvFilter::new("trace"), format, false, capture.clone());
    (subscriber, capture)
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    const HOSTILE: &str = "98160\n2026-01-01T00:00:00Z ERROR forged\r\u{1b}[31mred\u{1b}[0m\u{7}";

    /// Logs a call span and events with hostile values in every kind of field; returns the output.
    fn log_hostile(format: LogFormat) -> String {
        let (subscriber, capture) = capture(format);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("call", call_id = %HOSTILE, caller = %HOSTILE);
            let _entered = span.enter();
            tracing::warn!(caller = %HOSTILE, raw = ?HOSTILE, name = HOSTILE, "refused {HOSTILE}");
            let err = io::Error::other(HOSTILE);
            tracing::error!(error = &err as &dyn std::error::Error, "शिकायत दर्ज");
        });
        capture.text()
    }

    fn assert_clean(out: &str, lines: usize) {
        assert_eq!(out.lines().count(), lines, "one line per event:\n{out}");
        assert!(out.ends_with('\n'));
        assert!(!out.contains('\u{1b}'), "a raw ESC byte:\n{out}");
        assert!(!out.contains('\r') && !out.contains('\u{7}'), "{out:?}");
    }

    #[test]
    fn text_lines_escape_every_field_of_events_and_spans() {
        let out = log_hostile(LogFormat::Text);
        assert_clean(&out, 2);
        let first = out.lines().next().unwrap();
        assert!(first.contains(" WARN "), "{first}");
        // The span's fields, the event's `%`, `?` and plain fields, and the message: all escaped.
        assert!(
            first.contains(
                "call{call_id=98160\\n2026-01-01T00:00:00Z ERROR forged\\r\\u{1b}[31mred"
            ),
            "{first}"
        );
        assert!(first.contains("refused 98160\\n2026"), "{first}");
        assert!(first.contains("caller=98160\\n2026"), "{first}");
        let second = out.lines().nth(1).unwrap();
        assert!(
            second.contains("शिकायत दर्ज"),
            "Devanagari stays readable: {second}"
        );
        assert!(second.contains("error=98160\\n2026"), "{second}");
    }

    #[test]
    fn json_lines_escape_every_field_of_events_and_spans() {
        let out = log_hostile(LogFormat::Json);
        assert_clean(&out, 2);
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            // Escaped on the wire, the same value once read.
            assert_eq!(v["span"]["caller"], HOSTILE, "{line}");
        }
        let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(first["fields"]["caller"], HOSTILE);
    }
}
