//! Complaint numbers: the 10-digit number a citizen keys in on a phone keypad to follow a complaint.
//!
//! Layout: `PPPPPPPPPC` — a 9-digit payload `P` (always starting with 1–9, so every number has exactly
//! ten digits and no leading zero gets lost when read aloud) and a Verhoeff check digit `C`. Verhoeff
//! catches every single wrong digit and every swap of two adjacent digits, the two commonest keypad
//! mistakes, so the IVR can refuse a mistyped number before it ever reaches the database.
//!
//! Uniqueness across engine nodes: the payload is `100_000_000 + block * BLOCK_SIZE + offset`. Blocks are
//! reserved from the database (an atomic counter row) and each node hands out numbers only from blocks
//! it holds, so two nodes sharing PostgreSQL never collide. Each node also keeps spare blocks reserved
//! ahead, recorded in an fsync'd file next to its journal, so it can keep numbering tickets while the
//! database is unreachable (see [`crate::allocator`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How many digits a complaint number has, check digit included.
pub const COMPLAINT_NUMBER_DIGITS: usize = 10;

/// The smallest payload: keeps every number ten digits long.
pub(crate) const PAYLOAD_BASE: u64 = 100_000_000;
/// One past the largest payload (nine digits).
pub(crate) const PAYLOAD_END: u64 = 1_000_000_000;

/// A validated complaint number (ten digits, last one a Verhoeff check digit).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComplaintNumber(u64);

/// Why a string is not a complaint number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintNumberError {
    #[error("a complaint number has {COMPLAINT_NUMBER_DIGITS} digits, got {0}")]
    WrongLength(usize),
    #[error("a complaint number has only digits 0-9")]
    NotDigits,
    #[error("a complaint number does not start with 0")]
    LeadingZero,
    #[error("the check digit does not match: the number was probably mistyped")]
    CheckDigit,
    #[error("payload {0} is outside the complaint number range")]
    PayloadOutOfRange(u64),
}

impl ComplaintNumber {
    /// Parses and validates a keyed-in or typed number. Spaces and dashes (as printed on an SMS
    /// receipt, `12345-67890`) are ignored.
    pub fn parse(input: &str) -> Result<Self, ComplaintNumberError> {
        let digits: Vec<u8> = input.bytes().filter(|b| *b != b' ' && *b != b'-').collect();
        if digits.iter().any(|b| !b.is_ascii_digit()) {
            return Err(ComplaintNumberError::NotDigits);
        }
        if digits.len() != COMPLAINT_NUMBER_DIGITS {
            return Err(ComplaintNumberError::WrongLength(digits.len()));
        }
        if digits[0] == b'0' {
            return Err(ComplaintNumberError::LeadingZero);
        }
        let values: Vec<u8> = digits.iter().map(|b| b - b'0').collect();
        if !verhoeff_valid(&values) {
            return Err(ComplaintNumberError::CheckDigit);
        }
        let value = values.iter().fold(0u64, |acc, d| acc * 10 + u64::from(*d));
        Ok(Self(value))
    }

    /// Builds the number for a payload (the allocator's output) by appending its check digit.
    pub fn from_payload(payload: u64) -> Result<Self, ComplaintNumberError> {
        if !(PAYLOAD_BASE..PAYLOAD_END).contains(&payload) {
            return Err(ComplaintNumberError::PayloadOutOfRange(payload));
        }
        let digits = decimal_digits(payload);
        let check = verhoeff_check_digit(&digits);
        Ok(Self(payload * 10 + u64::from(check)))
    }

    /// The payload without the check digit.
    pub fn payload(self) -> u64 {
        self.0 / 10
    }

    /// The ten digits, e.g. for `digits:` playback.
    pub fn as_digits(self) -> String {
        self.0.to_string()
    }
}

/// True when `input` is a well-formed complaint number (right length, right check digit).
/// The IVR uses this to reject a mistyped number at once.
pub fn is_valid_complaint_number(input: &str) -> bool {
    ComplaintNumber::parse(input).is_ok()
}

impl fmt::Display for ComplaintNumber {
    // Delegates to the integer's Display so width and alignment (`{:<12}`) apply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ComplaintNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComplaintNumber({})", self.0)
    }
}

impl FromStr for ComplaintNumber {
    type Err = ComplaintNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ComplaintNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ComplaintNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

fn decimal_digits(mut value: u64) -> Vec<u8> {
    let mut digits = Vec::with_capacity(COMPLAINT_NUMBER_DIGITS);
    loop {
        digits.push((value % 10) as u8);
        value /= 10;
        if value == 0 {
            break;
        }
    }
    digits.reverse();
    digits
}

// Verhoeff tables: multiplication in the dihedral group D5, the position permutation, and inverses.
const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

fn verhoeff_check_digit(digits: &[u8]) -> u8 {
    let c = digits.iter().rev().enumerate().fold(0u8, |c, (i, d)| {
        VERHOEFF_D[usize::from(c)][usize::from(VERHOEFF_P[(i + 1) % 8][usize::from(*d)])]
    });
    VERHOEFF_INV[usize::from(c)]
}

fn verhoeff_valid(digits: &[u8]) -> bool {
    digits.iter().rev().enumerate().fold(0u8, |c, (i, d)| {
        VERHOEFF_D[usize::from(c)][usize::from(VERHOEFF_P[i % 8][usize::from(*d)])]
    }) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_verhoeff_vector() {
        // The textbook example: 236 has check digit 3.
        assert_eq!(verhoeff_check_digit(&[2, 3, 6]), 3);
        assert!(verhoeff_valid(&[2, 3, 6, 3]));
    }

    #[test]
    fn round_trips_and_has_ten_digits() {
        for payload in [PAYLOAD_BASE, 123_456_789, PAYLOAD_END - 1] {
            let n = ComplaintNumber::from_payload(payload).unwrap();
            assert_eq!(n.as_digits().len(), 10);
            assert_eq!(n.payload(), payload);
            assert_eq!(ComplaintNumber::parse(&n.to_string()).unwrap(), n);
            assert!(is_valid_complaint_number(&n.to_string()));
        }
    }

    #[test]
    fn display_honours_width() {
        let n = ComplaintNumber::from_payload(123_456_789).unwrap();
        let digits = n.to_string();
        assert_eq!(format!("[{n:<12}]"), format!("[{digits}  ]"));
        assert_eq!(format!("[{n:>12}]"), format!("[  {digits}]"));
    }

    #[test]
    fn catches_every_single_digit_error_and_adjacent_swap() {
        for payload in (PAYLOAD_BASE..PAYLOAD_BASE + 2_000).chain(987_654_000..987_654_300) {
            let good = ComplaintNumber::from_payload(payload).unwrap().as_digits();
            let bytes = good.as_bytes();
            for pos in 0..bytes.len() {
                for d in b'0'..=b'9' {
                    if d == bytes[pos] {
                        continue;
                    }
                    let mut typo = bytes.to_vec();
                    typo[pos] = d;
                    let typo = String::from_utf8(typo).unwrap();
                    assert!(
                        !is_valid_complaint_number(&typo),
                        "{good} -> {typo} accepted"
                    );
                }
            }
            for pos in 0..bytes.len() - 1 {
                if bytes[pos] == bytes[pos + 1] {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(pos, pos + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert!(
                    !is_valid_complaint_number(&swapped),
                    "{good} -> {swapped} accepted"
                );
            }
        }
    }

    #[test]
    fn rejects_malformed_input_with_a_reason() {
        assert_eq!(
            ComplaintNumber::parse("12345"),
            Err(ComplaintNumberError::WrongLength(5))
        );
        assert_eq!(
            ComplaintNumber::parse("12345678a0"),
            Err(ComplaintNumberError::NotDigits)
        );
        assert_eq!(
            ComplaintNumber::parse("0123456789"),
            Err(ComplaintNumberError::LeadingZero)
        );
        assert_eq!(
            ComplaintNumber::parse(""),
            Err(ComplaintNumberError::WrongLength(0))
        );
        let good = ComplaintNumber::from_payload(123_456_789)
            .unwrap()
            .to_string();
        let dashed = format!("{}-{}", &good[..5], &good[5..]);
        assert_eq!(ComplaintNumber::parse(&dashed).unwrap().to_string(), good);
        assert!(ComplaintNumber::from_payload(99).is_err());
    }

    #[test]
    fn serde_uses_the_digit_string() {
        let n = ComplaintNumber::from_payload(123_456_789).unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, format!("\"{n}\""));
        let back: ComplaintNumber = serde_json::from_str(&json).unwrap();
        assert_eq!(back, n);
        let mut typo = n.as_digits().into_bytes();
        typo.swap(2, 3);
        let typo = format!("\"{}\"", String::from_utf8(typo).unwrap());
        assert!(serde_json::from_str::<ComplaintNumber>(&typo).is_err());
    }
}
