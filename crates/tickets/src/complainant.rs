//! Who may give feedback on a complaint by phone. A complaint is closed only once its citizen confirms
//! it, and officers are judged by those confirmations, so "satisfied" must not come from anyone who
//! happens to know a complaint number: it is taken from the number the complaint was registered from,
//! or — configurable — from another phone after the caller keys that number's last digits.
//!
//! Pure decisions, no I/O: [`judge`] is given the policy, the registered number and the claim.

use std::fmt;
use std::str::FromStr;

/// How many trailing digits of the registered number a caller on another phone keys.
pub const CHECK_DIGITS: usize = 4;

/// The policy for feedback by phone (`tickets.feedback_from` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedbackCheck {
    /// Only from the number the complaint was registered from.
    RegisteredNumber,
    /// From that number, or from another after keying its last [`CHECK_DIGITS`] digits.
    #[default]
    RegisteredNumberOrDigits,
    /// From anyone who knows the complaint number (not for production: satisfaction can be forged).
    Anyone,
}

impl FeedbackCheck {
    /// Every policy, by its config name.
    pub const ALL: [FeedbackCheck; 3] = [
        FeedbackCheck::RegisteredNumber,
        FeedbackCheck::RegisteredNumberOrDigits,
        FeedbackCheck::Anyone,
    ];

    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackCheck::RegisteredNumber => "registered_number",
            FeedbackCheck::RegisteredNumberOrDigits => "registered_number_or_digits",
            FeedbackCheck::Anyone => "anyone",
        }
    }
}

impl fmt::Display for FeedbackCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FeedbackCheck {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeedbackCheck::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FeedbackCheck::ALL.iter().map(|c| c.as_str()).collect();
                format!("`{s}` is not one of {}", names.join(", "))
            })
    }
}

/// What a caller offers as proof that a complaint is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    /// The calling number, as the engine normalised it (`unknown` when the trunk sent none).
    pub caller: &'a str,
    /// Digits the caller keyed (the registered number's last digits), if asked.
    pub digits: Option<&'a str>,
}

/// The decision on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The feedback counts; how the caller was recognised (for the audit trail).
    Accepted(&'static str),
    /// Refused; why (for the audit trail and the log, never the caller's digits).
    Refused(&'static str),
}

/// Whether `claim` may give feedback on a complaint registered from `registered`.
pub fn judge(check: FeedbackCheck, registered: &str, claim: Claim<'_>) -> Verdict {
    if check == FeedbackCheck::Anyone {
        return Verdict::Accepted("policy: anyone");
    }
    if same_number(registered, claim.caller) {
        return Verdict::Accepted("registered number");
    }
    match (check, claim.digits) {
        (FeedbackCheck::RegisteredNumberOrDigits, Some(digits)) => {
            if last_digits_match(registered, digits) {
                Verdict::Accepted("last digits of the registered number")
            } else {
                Verdict::Refused("wrong digits of the registered number")
            }
        }
        (FeedbackCheck::RegisteredNumberOrDigits, None) => {
            Verdict::Refused("another number, digits not yet given")
        }
        _ => Verdict::Refused("not the registered number"),
    }
}

/// The digits of a phone number as stored or delivered, in any of the forms trunks use.
fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// Two numbers are the same subscriber: the same last ten digits (an Indian number with or without
/// `+91`/`0`), or the same digits altogether for shorter ones. An unknown or empty number is nobody.
pub fn same_number(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    if a.len() < 6 || b.len() < 6 {
        return false;
    }
    let tail = |d: &str| d[d.len().saturating_sub(10)..].to_owned();
    if a.len() >= 10 && b.len() >= 10 {
        tail(&a) == tail(&b)
    } else {
        a == b
    }
}

/// The caller keyed exactly the registered number's last [`CHECK_DIGITS`] digits.
fn last_digits_match(registered: &str, keyed: &str) -> bool {
    let registered = digits(registered);
    keyed.len() == CHECK_DIGITS
        && keyed.bytes().all(|b| b.is_ascii_digit())
        && registered.len() >= 6
        && registered.ends_with(keyed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTERED: &str = "+919816012345";

    fn claim<'a>(caller: &'a str, digits: Option<&'a str>) -> Claim<'a> {
        Claim { caller, digits }
    }

    #[test]
    fn the_registered_number_in_any_trunk_form_is_the_complainant() {
        for caller in [
            "+919816012345",
            "919816012345",
            "09816012345",
            "9816012345",
            "+91 98160 12345",
            "+91-98160-12345",
        ] {
            for check in FeedbackCheck::ALL {
                assert!(
                    matches!(
                        judge(check, REGISTERED, claim(caller, None)),
                        Verdict::Accepted(_)
                    ),
                    "{caller} under {check}"
                );
            }
        }
    }

    #[test]
    fn another_phone_is_refused_unless_it_keys_the_last_four_digits() {
        let other = "+919800000001";
        let strict = FeedbackCheck::RegisteredNumber;
        let usual = FeedbackCheck::RegisteredNumberOrDigits;
        assert!(matches!(
            judge(strict, REGISTERED, claim(other, None)),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            judge(strict, REGISTERED, claim(other, Some("2345"))),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            judge(usual, REGISTERED, claim(other, None)),
            Verdict::Refused(_)
        ));
        assert_eq!(
            judge(usual, REGISTERED, claim(other, Some("2345"))),
            Verdict::Accepted("last digits of the registered number")
        );
        for wrong in ["2344", "345", "12345", "23a5", ""] {
            assert!(
                matches!(
                    judge(usual, REGISTERED, claim(other, Some(wrong))),
                    Verdict::Refused(_)
                ),
                "{wrong:?}"
            );
        }
        assert!(matches!(
            judge(FeedbackCheck::Anyone, REGISTERED, claim(other, None)),
            Verdict::Accepted(_)
        ));
    }

    #[test]
    fn an_unknown_caller_or_complaint_number_matches_nobody() {
        let usual = FeedbackCheck::RegisteredNumberOrDigits;
        assert!(matches!(
            judge(usual, REGISTERED, claim("unknown", None)),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            judge(usual, REGISTERED, claim("", None)),
            Verdict::Refused(_)
        ));
        // A complaint registered from a withheld number can only be closed by an officer or agent.
        assert!(matches!(
            judge(usual, "unknown", claim("unknown", None)),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            judge(usual, "anonymous", claim("+919800000001", Some("0001"))),
            Verdict::Refused(_)
        ));
    }

    #[test]
    fn policies_round_trip_through_their_config_names() {
        for check in FeedbackCheck::ALL {
            assert_eq!(check.as_str().parse::<FeedbackCheck>(), Ok(check));
        }
        assert!(
            "everyone"
                .parse::<FeedbackCheck>()
                .unwrap_err()
                .contains("registered_number")
        );
    }
}
