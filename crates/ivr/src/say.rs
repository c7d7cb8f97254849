//! Numbers and dates spoken from our own prompts, the same way in every language.
//!
//! Asterisk's `say.c` does not speak Hindi numbers or dates properly, so the IVR composes them
//! from prompts it ships: `num_0` … `num_99` (each a whole word: Hindi numbers below 100 are
//! irregular), `num_hundred`, `num_thousand`, `num_lakh`, and `month_1` … `month_12`.
//! A number is read in the Indian system: 1,23,456 = एक लाख तेईस हज़ार चार सौ छप्पन.

// Numbers here are grouped the Indian way (1_00_000 = one lakh), as the readings are.
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{Datelike, NaiveDate};

/// Every prompt [`number`] and [`date`] may use (`check` verifies they exist).
pub fn prompt_ids() -> Vec<String> {
    let mut ids: Vec<String> = (0..100).map(|n| format!("num_{n}")).collect();
    ids.extend(["num_hundred", "num_thousand", "num_lakh"].map(str::to_owned));
    ids.extend((1..=12).map(|m| format!("month_{m}")));
    ids
}

/// The prompts that read `n` (up to 99,99,999; larger numbers are read digit by digit).
pub fn number(n: u32) -> Vec<String> {
    if n >= 1_00_00_000 {
        return n.to_string().chars().map(|d| format!("num_{d}")).collect();
    }
    let mut out = Vec::new();
    let lakhs = n / 1_00_000;
    let thousands = (n / 1000) % 100;
    let hundreds = (n / 100) % 10;
    let rest = n % 100;
    if lakhs > 0 {
        out.push(format!("num_{lakhs}"));
        out.push("num_lakh".to_owned());
    }
    if thousands > 0 {
        out.push(format!("num_{thousands}"));
        out.push("num_thousand".to_owned());
    }
    if hundreds > 0 {
        out.push(format!("num_{hundreds}"));
        out.push("num_hundred".to_owned());
    }
    if rest > 0 || out.is_empty() {
        out.push(format!("num_{rest}"));
    }
    out
}

/// The prompts that read a date: day, month name, year.
pub fn date(d: NaiveDate) -> Vec<String> {
    let mut out = number(d.day());
    out.push(format!("month_{}", d.month()));
    out.extend(number(u32::try_from(d.year()).unwrap_or(0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_the_indian_system() {
        let cases: &[(u32, &[&str])] = &[
            (0, &["num_0"]),
            (7, &["num_7"]),
            (99, &["num_99"]),
            (100, &["num_1", "num_hundred"]),
            (305, &["num_3", "num_hundred", "num_5"]),
            (2026, &["num_2", "num_thousand", "num_26"]),
            (
                123_456,
                &[
                    "num_1",
                    "num_lakh",
                    "num_23",
                    "num_thousand",
                    "num_4",
                    "num_hundred",
                    "num_56",
                ],
            ),
            (
                123_456_789,
                &[
                    "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
                ],
            ),
        ];
        for (n, want) in cases {
            assert_eq!(number(*n), want.to_vec(), "{n}");
        }
    }

    #[test]
    fn dates_read_day_month_year() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 9).unwrap();
        assert_eq!(
            date(d),
            ["num_9", "month_12", "num_2", "num_thousand", "num_26"]
        );
    }

    #[test]
    fn every_prompt_used_is_listed() {
        let ids = prompt_ids();
        for n in [0, 5, 99, 100, 1000, 54_321, 99_99_999] {
            for p in number(n) {
                assert!(ids.contains(&p), "{p}");
            }
        }
    }
}
