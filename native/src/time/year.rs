//! The year of a year-less stamp (BSD syslog, klog, logcat), and the bound on how far ahead
//! of its receive time a line's time is believed.
//!
//! Logs do not come from the future: a line written before it was received carries a time at
//! or before its receive time, give or take a clock that runs a little ahead. So a year-less
//! stamp takes the latest year that does not put it more than `FUTURE_BOUND_US` after the
//! receive time: a December line received on 2 January belongs to the year before, and a line
//! of 1 January 00:00:10 received at 23:59:50 on 31 December (its clock ten seconds ahead) to
//! the year after. "Nearest the receive time" would be wrong for a node that was offline for
//! more than six months, or for a March line read in October.

use super::Stamp;

/// How far after its receive time a line's time may lie: one day, in microseconds. Beyond
/// it, the line's time is not believed (`trusted`).
pub const FUTURE_BOUND_US: i64 = 86_400 * 1_000_000;

/// A year-less wall-clock time (`clock` = hour, minute, second, microsecond) at UTC offset
/// `offset_s`, in the latest year that does not put it more than a day after `reference`
/// (years `reference`'s + 1 down to - 4, for a 29 February). `hint`, a year the same line
/// states elsewhere (an epoch or a dated field before the stamp), is taken as it is. None
/// where no candidate year has the date.
pub fn complete_year_at(
    (month, day): (i64, i64),
    clock: (i64, i64, i64, i64),
    offset_s: i64,
    reference: Option<Stamp>,
    hint: Option<i64>,
) -> Option<Stamp> {
    let (h, mi, s, us) = clock;
    let at = |y: i64| Stamp::from_local(y, month, day, h, mi, s, us, offset_s);
    if let Some(y) = hint {
        return at(y);
    }
    // Without a receive time, 1970: a year no one takes for the real one.
    let Some(reference) = reference else { return at(1970) };
    let year = reference.fields().0;
    let latest = reference.0.saturating_add(FUTURE_BOUND_US);
    // A date the year lacks (29 February) or a year outside 1..=9999 is no candidate; a leap
    // day is looked for in up to four years back.
    (year - 4..=year + 1).rev().filter_map(at).find(|stamp| stamp.0 <= latest)
}

/// `complete_year_at` for a stamp in UTC with no hint.
pub fn complete_year(
    month: i64,
    day: i64,
    clock: (i64, i64, i64, i64),
    reference: Option<Stamp>,
) -> Option<Stamp> {
    complete_year_at((month, day), clock, 0, reference, None)
}

/// The line's time, unless it lies more than a day after `reference` (its receive time):
/// such a time is a clock set wrong or a date that is not the event's, never the event time.
pub fn trusted(stamp: Stamp, reference: Option<Stamp>) -> Option<Stamp> {
    match reference {
        Some(r) if stamp.0 > r.0.saturating_add(FUTURE_BOUND_US) => None,
        _ => Some(stamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Stamp {
        Stamp::from_local(y, mo, d, h, mi, s, 0, 0).unwrap()
    }

    #[test]
    fn new_year_rollover() {
        // A December line received in January belongs to the year before.
        let got = complete_year(12, 31, (23, 59, 0, 0), Some(at(2027, 1, 2, 0, 10, 0)));
        assert_eq!(got, Some(at(2026, 12, 31, 23, 59, 0)));
        // A clock a little ahead across midnight on 31 December: the year after.
        let got = complete_year(1, 1, (0, 0, 10, 0), Some(at(2026, 12, 31, 23, 59, 50)));
        assert_eq!(got, Some(at(2027, 1, 1, 0, 0, 10)));
    }

    #[test]
    fn never_more_than_a_day_ahead() {
        // Received on 1 March, a line of 1 August is last year's, not five months ahead.
        let got = complete_year(8, 1, (12, 0, 0, 0), Some(at(2026, 3, 1, 0, 0, 0)));
        assert_eq!(got, Some(at(2025, 8, 1, 12, 0, 0)));
        let got = complete_year(3, 1, (23, 0, 0, 0), Some(at(2026, 3, 1, 0, 0, 0)));
        assert_eq!(got, Some(at(2026, 3, 1, 23, 0, 0)));
    }

    #[test]
    fn leap_day_and_hint() {
        let got = complete_year(2, 29, (1, 0, 0, 0), Some(at(2027, 6, 1, 0, 0, 0)));
        assert_eq!(got, Some(at(2024, 2, 29, 1, 0, 0)));
        let got = complete_year_at((11, 10), (0, 0, 0, 0), 0, Some(at(2026, 1, 1, 0, 0, 0)), Some(2005));
        assert_eq!(got, Some(at(2005, 11, 10, 0, 0, 0)));
        let got = complete_year_at((11, 10), (1, 0, 0, 0), 3600, Some(at(2026, 12, 1, 0, 0, 0)), None);
        assert_eq!(got, Some(at(2026, 11, 10, 0, 0, 0)));
    }

    #[test]
    fn trust() {
        let now = at(2026, 12, 7, 12, 0, 0);
        assert_eq!(trusted(at(2026, 12, 8, 12, 0, 0), Some(now)), Some(at(2026, 12, 8, 12, 0, 0)));
        assert_eq!(trusted(at(2026, 12, 8, 12, 0, 1), Some(now)), None);
        assert_eq!(trusted(at(2036, 1, 1, 0, 0, 0), None), Some(at(2036, 1, 1, 0, 0, 0)));
    }
}
