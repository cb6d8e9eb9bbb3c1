//! UTC instants with microsecond precision, and the timestamp readers the parsers share:
//! ISO 8601 text (`iso`), epoch numbers, the layouts of log-line headers (`text`), zone
//! names (`zone`) and the year of a year-less stamp (`year`).

mod iso;
pub mod text;
mod year;
pub mod zone;

pub use iso::parse_iso_timestamp;
pub use year::{FUTURE_BOUND_US, complete_year, trusted};

use jiff::SignedDuration;
use jiff::civil::DateTime;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// An instant in UTC, microseconds since 1970-01-01, within years 1..=9999: four-digit
/// years, which `@timestamp`, the index names and a Python `datetime` all hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(pub i64);

// Years 1..=9999, in microseconds since the epoch.
const MIN_MICROS: i64 = -62_135_596_800 * MICROS_PER_SECOND; // 0001-01-01T00:00:00
const MAX_MICROS: i64 = 253_402_300_800 * MICROS_PER_SECOND - 1; // 9999-12-31T23:59:59.999999
// Civil (wall-clock) arithmetic, not jiff's Timestamp: that one stops a day short of the end
// of 9999 (so that any offset can be applied), and a stamp may be its last microsecond.
const EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

impl Stamp {
    /// A wall-clock time at UTC offset `offset_s`, as an instant: None for a field out of
    /// range (a 30 February, an hour 24) and where the UTC result leaves years 1..=9999.
    #[allow(clippy::too_many_arguments)]
    pub fn from_local(
        y: i64,
        mo: i64,
        d: i64,
        h: i64,
        mi: i64,
        s: i64,
        us: i64,
        offset_s: i64,
    ) -> Option<Stamp> {
        // jiff's calendar checks the fields (a 30 February is an error); years start at 1
        // here, at -9999 in jiff.
        let fields = (
            i16::try_from(y).ok().filter(|y| *y >= 1),
            i8::try_from(mo).ok(),
            i8::try_from(d).ok(),
            i8::try_from(h).ok(),
            i8::try_from(mi).ok(),
            i8::try_from(s).ok(),
            i32::try_from(us).ok().filter(|us| (0..1_000_000).contains(us)),
        );
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(us)) = fields else {
            return None;
        };
        let local = DateTime::new(y, mo, d, h, mi, s, us * 1000).ok()?;
        let micros = local.duration_since(EPOCH).as_micros() - i128::from(offset_s) * 1_000_000;
        let micros = i64::try_from(micros).ok()?;
        (MIN_MICROS..=MAX_MICROS).contains(&micros).then_some(Stamp(micros))
    }

    /// The UTC calendar fields: (year, month, day, hour, minute, second, microsecond).
    pub fn fields(self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let dt = EPOCH
            .checked_add(SignedDuration::from_micros(self.0))
            .expect("a Stamp is within years 1-9999, and so within jiff's range");
        (
            dt.year().into(),
            dt.month().into(),
            dt.day().into(),
            dt.hour().into(),
            dt.minute().into(),
            dt.second().into(),
            (dt.subsec_nanosecond() / 1000).into(),
        )
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fraction digits: the one shape of every
    /// `@timestamp` indexed so far (and text that sorts as the times do).
    pub fn iso(self) -> String {
        let (y, mo, d, h, mi, s, us) = self.fields();
        if !(0..=9999).contains(&y) {
            return format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z");
        }
        // Digits into their places: this runs for every document, and format! cost as much
        // as the rest of building the timestamp.
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        put_date(&mut text[..10], (y, mo, d));
        put_digits(&mut text[11..13], h);
        put_digits(&mut text[14..16], mi);
        put_digits(&mut text[17..19], s);
        put_digits(&mut text[20..26], us);
        String::from_utf8(text.to_vec()).expect("ASCII digits and separators")
    }

    /// Epoch seconds as a stamp, rounded to the microsecond half to even (as epoch times have
    /// always been rounded); None for NaN, the infinities and outside years 1..=9999.
    pub fn from_epoch_seconds(seconds: f64) -> Option<Stamp> {
        if !seconds.is_finite() {
            return None;
        }
        let mut int_part = seconds.trunc();
        let mut frac = (seconds - int_part) * 1e6;
        frac = round_half_even(frac);
        if frac >= 1e6 {
            frac -= 1e6;
            int_part += 1.0;
        } else if frac < 0.0 {
            frac += 1e6;
            int_part -= 1.0;
        }
        // Beyond what i64 seconds hold (the cast below), or outside years 1..=9999: no stamp.
        if !(-9.2e18..9.2e18).contains(&int_part) {
            return None;
        }
        let secs = int_part as i64;
        let micros = secs.checked_mul(MICROS_PER_SECOND)?.checked_add(frac as i64)?;
        (MIN_MICROS..=MAX_MICROS).contains(&micros).then_some(Stamp(micros))
    }

    /// A Kafka timestamp in milliseconds; None for none (0 or below, as the Java client
    /// writes -1) or one past the calendar's range.
    pub fn from_kafka_ms(ms: i64) -> Option<Stamp> {
        if ms <= 0 {
            return None;
        }
        let micros = ms.checked_mul(1000)?;
        (MIN_MICROS..=MAX_MICROS).contains(&micros).then_some(Stamp(micros))
    }
}

/// `x` rounded to the nearest integer, a tie to the even one.
fn round_half_even(x: f64) -> f64 {
    let rounded = x.round();
    if (x - rounded).abs() == 0.5 { 2.0 * (x / 2.0).round() } else { rounded }
}

/// Epoch seconds, or milliseconds / microseconds / nanoseconds guessed by magnitude: 1e11
/// seconds is past the year 5000, so a larger number is taken for a finer unit.
pub fn parse_epoch(value: f64) -> Option<Stamp> {
    if value.is_nan() {
        return None;
    }
    let mut seconds = value;
    for _ in 0..3 {
        if seconds.abs() < 1e11 {
            break;
        }
        seconds /= 1000.0;
    }
    Stamp::from_epoch_seconds(seconds)
}

pub(crate) fn two(b: &[u8], i: usize) -> Option<i64> {
    let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
    (x.is_ascii_digit() && y.is_ascii_digit()).then(|| ((x - b'0') * 10 + (y - b'0')) as i64)
}

pub(crate) fn digits_at(b: &[u8], i: usize, n: usize) -> Option<i64> {
    let part = b.get(i..i + n)?;
    part.iter()
        .all(u8::is_ascii_digit)
        .then(|| part.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

/// Microseconds of a fraction's digits: the first six, padded with zeros.
pub(crate) fn micros_of(frac: &[u8]) -> i64 {
    let mut us = 0;
    for i in 0..6 {
        us = us * 10 + frac.get(i).map_or(0, |c| (c - b'0') as i64);
    }
    us
}

/// `YYYY?MM?DD` into `slot` (10 bytes), the separators as they are there.
pub fn put_date(slot: &mut [u8], (y, mo, d): (i64, i64, i64)) {
    put_digits(&mut slot[..4], y);
    put_digits(&mut slot[5..7], mo);
    put_digits(&mut slot[8..10], d);
}

/// `n` (0 <= n < 10^slot.len()) as the slot's width of decimal digits, zero-padded. The
/// divisor is the constant 10: multiplications, not divisions.
fn put_digits(slot: &mut [u8], mut n: i64) {
    debug_assert!(n >= 0);
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_rounding() {
        assert_eq!(parse_epoch(1764064800.123).map(Stamp::iso), Some("2025-11-25T10:00:00.123000Z".into()));
        assert_eq!(parse_epoch(1764064800123.0).map(Stamp::iso), Some("2025-11-25T10:00:00.123000Z".into()));
        assert_eq!(parse_epoch(-1.5).map(Stamp::iso), Some("1969-12-31T23:59:58.500000Z".into()));
        assert_eq!(parse_epoch(f64::INFINITY), None);
    }
}
