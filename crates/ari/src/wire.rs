//! Helpers shared by the models and events: the macros that declare wire structs (so each struct can list its
//! JSON fields for the conformance test), string enums with an `Unknown` catch-all, and ARI's timestamp format.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One JSON field of a wire struct, as the conformance test sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireField {
    /// The JSON key.
    pub name: &'static str,
    /// Whether the struct accepts the key being absent.
    pub optional: bool,
}

/// A struct that mirrors one model of the ARI spec (`Channel`, `StasisStart`, …).
pub trait WireModel {
    /// The model's name in the Swagger files.
    const WIRE_NAME: &'static str;
    /// The JSON fields this struct reads.
    fn wire_fields() -> Vec<WireField>;
}

pub(crate) fn field_is_optional(ty: &str, attrs: &str) -> bool {
    ty.trim_start().starts_with("Option") || attrs.contains("default")
}

/// Reads a JSON string and hands it to `convert` without copying it first (borrowed when the input allows).
pub(crate) fn deserialize_str<'de, D, T>(
    d: D,
    convert: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct StrVisitor<F>(F);
    impl<'de, T, F: FnOnce(&str) -> Result<T, String>> serde::de::Visitor<'de> for StrVisitor<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(StrVisitor(convert))
}

/// Declares a struct that mirrors an ARI model, with serde derives and a [`WireModel`] impl.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident as $wire:tt {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        impl $crate::wire::WireModel for $name {
            const WIRE_NAME: &'static str = $wire;
            fn wire_fields() -> Vec<$crate::wire::WireField> {
                vec![$( $crate::wire::WireField {
                    name: stringify!($field),
                    optional: $crate::wire::field_is_optional(
                        stringify!($ty),
                        stringify!($($fmeta)*),
                    ),
                } ),*]
            }
        }
    };
}
pub(crate) use wire_struct;

/// Declares a string enum as ARI sends it, with an `Unknown(String)` catch-all so that a value added by a
/// later Asterisk never breaks parsing.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this client does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// Every value this client knows, as ARI spells it.
            pub const KNOWN: &'static [&'static str] = &[$($text),*];

            /// The value as ARI spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unknown(other) => other,
                }
            }

            /// Reads a value as ARI spells it; unknown text becomes `Unknown`.
            pub fn from_wire(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::wire::deserialize_str(d, |text| Ok(Self::from_wire(text)))
            }
        }
    };
}
pub(crate) use wire_enum;

/// Declares a closed enum of request parameter values (`reason=busy`, `ifExists=fail` …): the client only sends
/// values listed here, and the conformance test checks each against the spec's `allowableValues`.
macro_rules! param_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, as ARI spells it.
            pub const WIRE_VALUES: &'static [&'static str] = &[$($text),*];

            /// The value as ARI spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use param_enum;

/// An ARI timestamp. Asterisk writes `2026-11-29T02:59:43.256+0000` (no colon in the offset, so not
/// RFC 3339); RFC 3339 is accepted too.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Timestamp {
    /// Parses Asterisk's format or RFC 3339.
    pub fn parse(text: &str) -> Result<Self, chrono::ParseError> {
        if let Some(t) = parse_asterisk_fast(text.as_bytes()) {
            return Ok(Self(t));
        }
        DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| DateTime::parse_from_rfc3339(text))
            .map(Self)
    }
}

/// Every event carries two timestamps, so Asterisk's exact layout `YYYY-MM-DDTHH:MM:SS.mmm+HHMM` is read
/// digit by digit; anything else (or an impossible date) goes to chrono's general parser.
fn parse_asterisk_fast(b: &[u8]) -> Option<DateTime<FixedOffset>> {
    use chrono::{NaiveDate, NaiveTime, TimeZone};
    if b.len() != 28
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time =
        NaiveTime::from_hms_milli_opt(num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?)?;
    let sign = match b[23] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = FixedOffset::east_opt(sign * (num(24..26)? * 3600 + num(26..28)? * 60) as i32)?;
    offset.from_local_datetime(&date.and_time(time)).single()
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.3f%z"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_str(d, |text| {
            Self::parse(text).map_err(|e| format!("bad timestamp {text:?}: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_formats() {
        let t = Timestamp::parse("2026-11-29T02:59:43.256+0000").unwrap();
        assert_eq!(t.to_string(), "2026-11-29T02:59:43.256+0000");
        let r = Timestamp::parse("2026-11-29T02:59:43.256+00:00").unwrap();
        assert_eq!(t, r);
        assert!(Timestamp::parse("yesterday").is_err());
        // The fast path agrees with chrono's parser, including negative offsets and odd layouts.
        for text in [
            "2026-11-29T02:59:43.256+0000",
            "2026-11-29T23:59:59.999+0530",
            "2026-02-28T00:00:00.000-0330",
        ] {
            let slow = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").unwrap();
            assert_eq!(parse_asterisk_fast(text.as_bytes()), Some(slow), "{text}");
        }
        assert_eq!(parse_asterisk_fast(b"2026-02-30T00:00:00.000+0000"), None);
        assert!(Timestamp::parse("2026-02-30T00:00:00.000+0000").is_err());
        assert!(Timestamp::parse("2026-11-29T02:59:43.256789+0000").is_ok());
    }
}
