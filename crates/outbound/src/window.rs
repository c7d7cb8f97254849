//! The calling window: the hours of the day, in the helpline's time zone, in which citizens may be
//! called, the week days it applies to, and the holidays on which nobody is called.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Why a window cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// The window must open before it closes (one stretch of a day; no window across midnight).
    #[error(
        "the calling window opens at {opens} but closes at {closes}: it must open before it closes"
    )]
    Empty { opens: NaiveTime, closes: NaiveTime },
    /// No week day left to call on.
    #[error("the calling window has no week day to call on")]
    NoDays,
}

/// When calls may be placed: `[opens, closes)` local time on the allowed week days, not on holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallingWindow {
    tz: Tz,
    opens: NaiveTime,
    closes: NaiveTime,
    days: BTreeSet<u32>,
    holidays: BTreeSet<NaiveDate>,
}

impl CallingWindow {
    /// Every day from `opens` (included) to `closes` (excluded), local time in `tz`.
    pub fn new(tz: Tz, opens: NaiveTime, closes: NaiveTime) -> Result<Self, WindowError> {
        if opens >= closes {
            return Err(WindowError::Empty { opens, closes });
        }
        Ok(CallingWindow {
            tz,
            opens,
            closes,
            days: (0..7).collect(),
            holidays: BTreeSet::new(),
        })
    }

    /// Only on these week days.
    pub fn on_days(mut self, days: impl IntoIterator<Item = Weekday>) -> Result<Self, WindowError> {
        self.days = days.into_iter().map(|d| d.num_days_from_monday()).collect();
        if self.days.is_empty() {
            return Err(WindowError::NoDays);
        }
        Ok(self)
    }

    /// Never on these dates (local).
    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(holidays);
        self
    }

    /// The time zone the window is read in.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    fn day_allowed(&self, date: NaiveDate) -> bool {
        self.days.contains(&date.weekday().num_days_from_monday()) && !self.holidays.contains(&date)
    }

    /// Whether a call may start at `now`.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz);
        let time = local.time();
        self.day_allowed(local.date_naive()) && self.opens <= time && time < self.closes
    }

    /// The first instant at or after `now` when a call may start (`now` itself inside the window).
    pub fn next_open(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.contains(now) {
            return now;
        }
        let today = now.with_timezone(&self.tz).date_naive();
        // Holidays are finite and at least one week day is allowed: the window opens within a week
        // past the last holiday.
        let bound = u64::try_from(self.holidays.len())
            .unwrap_or(u64::MAX)
            .saturating_add(8);
        for offset in 0..=bound {
            let Some(date) = today.checked_add_days(Days::new(offset)) else {
                break;
            };
            if !self.day_allowed(date) {
                continue;
            }
            if let Some(opening) = self.local(date, self.opens)
                && opening > now
            {
                return opening;
            }
            // Today, past the opening: inside the window already (handled above) or past its close.
        }
        // Unreachable with a valid window; the far future rather than a panic.
        DateTime::<Utc>::MAX_UTC
    }

    /// A local date and time as an instant; in a time-zone gap (a clock put forward) the first
    /// instant after it.
    fn local(&self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        let naive = date.and_time(time);
        match self.tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => Some(t.to_utc()),
            chrono::LocalResult::Ambiguous(first, _) => Some(first.to_utc()),
            chrono::LocalResult::None => (1..=180).find_map(|minutes| {
                self.tz
                    .from_local_datetime(&(naive + chrono::Duration::minutes(minutes)))
                    .earliest()
                    .map(|t| t.to_utc())
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Kolkata;
    use proptest::prelude::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid instant")
            .to_utc()
    }

    fn ist_9_to_20() -> CallingWindow {
        CallingWindow::new(Kolkata, time(9, 0), time(20, 0)).expect("valid window")
    }

    #[test]
    fn inside_and_outside_the_hours_in_ist() {
        let w = ist_9_to_20();
        assert!(w.contains(at("2026-12-04T09:00:00+05:30")));
        assert!(w.contains(at("2026-12-04T19:59:59+05:30")));
        assert!(!w.contains(at("2026-12-04T20:00:00+05:30")));
        assert!(!w.contains(at("2026-12-04T08:59:59+05:30")));
        // 03:00 UTC is 08:30 IST: closed, though 03:00 is "inside" 09–20 nowhere.
        assert!(!w.contains(at("2026-12-04T03:00:00Z")));
        assert!(w.contains(at("2026-12-04T03:30:00Z")));
    }

    #[test]
    fn next_open_is_the_same_morning_or_the_next() {
        let w = ist_9_to_20();
        assert_eq!(
            w.next_open(at("2026-12-04T07:15:00+05:30")),
            at("2026-12-04T09:00:00+05:30")
        );
        assert_eq!(
            w.next_open(at("2026-12-04T21:00:00+05:30")),
            at("2026-12-05T09:00:00+05:30")
        );
        let inside = at("2026-12-04T12:00:00+05:30");
        assert_eq!(w.next_open(inside), inside);
    }

    #[test]
    fn holidays_and_week_days_are_skipped() {
        let holiday = NaiveDate::from_ymd_opt(2026, 12, 25).expect("date");
        let w = ist_9_to_20()
            .on_days([
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
            ])
            .expect("days")
            .with_holidays([holiday]);
        // Thursday 24 December, evening → Friday 25 is a holiday → Saturday 26.
        assert_eq!(
            w.next_open(at("2026-12-24T20:30:00+05:30")),
            at("2026-12-26T09:00:00+05:30")
        );
        assert!(!w.contains(at("2026-12-25T12:00:00+05:30")));
        // Saturday evening → Sunday is not a calling day → Monday 28.
        assert_eq!(
            w.next_open(at("2026-12-26T20:00:00+05:30")),
            at("2026-12-28T09:00:00+05:30")
        );
    }

    #[test]
    fn bad_windows_are_refused() {
        assert_eq!(
            CallingWindow::new(Kolkata, time(20, 0), time(9, 0)),
            Err(WindowError::Empty {
                opens: time(20, 0),
                closes: time(9, 0)
            })
        );
        assert_eq!(
            ist_9_to_20().on_days([]).map(|_| ()),
            Err(WindowError::NoDays)
        );
    }

    #[test]
    fn a_clock_put_forward_still_opens() {
        // London, 29 March 2026: 01:00 → 02:00. A window opening at 01:30 opens at 02:00 BST.
        let w = CallingWindow::new(chrono_tz::Europe::London, time(1, 30), time(3, 0)).expect("w");
        assert_eq!(
            w.next_open(at("2026-03-29T00:30:00Z")),
            at("2026-03-29T01:00:00Z")
        );
    }

    proptest! {
        /// `next_open` is never before `now`, is inside the window, and nothing between is.
        #[test]
        fn next_open_is_the_first_open_instant(
            secs in 0i64..(3 * 365 * 86_400),
            opens in 0u32..23,
            len in 1u32..12,
            holiday_offsets in proptest::collection::vec(0u64..30, 0..6),
        ) {
            let base = at("2026-01-01T00:00:00Z");
            let now = base + chrono::Duration::seconds(secs);
            let closes = (opens + len).min(23);
            let today = now.with_timezone(&Kolkata).date_naive();
            let holidays = holiday_offsets.iter().filter_map(|d| today.checked_add_days(Days::new(*d)));
            let w = CallingWindow::new(Kolkata, time(opens, 0), time(closes, 59))
                .expect("valid")
                .with_holidays(holidays);
            let open = w.next_open(now);
            prop_assert!(open >= now);
            prop_assert!(w.contains(open), "{open} not in the window");
            // A minute before the opening (if after now) is still closed.
            let before = open - chrono::Duration::minutes(1);
            if before >= now {
                prop_assert!(!w.contains(before), "{before} was already open");
            }
        }
    }
}
