//! UTC instants with microsecond precision, and the timestamp readers the parsers share:
//! ISO 8601 text, epoch numbers, year-less stamps.

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

fn two(b: &[u8], i: usize) -> Option<i64> {
    let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
    (x.is_ascii_digit() && y.is_ascii_digit()).then(|| ((x - b'0') * 10 + (y - b'0')) as i64)
}

fn digits_at(b: &[u8], i: usize, n: usize) -> Option<i64> {
    let part = b.get(i..i + n)?;
    part.iter()
        .all(u8::is_ascii_digit)
        .then(|| part.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

/// Microseconds of a fraction's digits: the first six, padded with zeros.
fn micros_of(frac: &[u8]) -> i64 {
    let mut us = 0;
    for i in 0..6 {
        us = us * 10 + frac.get(i).map_or(0, |c| (c - b'0') as i64);
    }
    us
}

/// An ISO 8601 / RFC 3339 time of up to 40 characters, with a `T` or a blank between date
/// and time, seconds and a fraction (`.` or `,`) optional, `Z` or a `+hh[:mm]` offset or
/// none (UTC); None for anything else. ASCII blanks and the separators U+001C..U+001F around
/// it are trimmed. ASCII digits only: a time written in another script's digits is no time.
pub fn parse_iso_timestamp(text: &str) -> Option<Stamp> {
    let t = text.trim_matches(|c: char| {
        c.is_ascii_whitespace() || ('\x0b'..='\x0c').contains(&c) || ('\x1c'..='\x1f').contains(&c)
    });
    let b = t.as_bytes();
    if text.len() > 40 || !t.is_ascii() || b.iter().any(|&c| c < 0x20 || c == 0x7f) {
        return None;
    }
    if b.len() >= 20
        && b[10] == b'T'
        && b[b.len() - 1] == b'Z'
        && let Some(canonical) = canonical_utc(b)
    {
        return canonical;
    }
    iso_match(b)
        .and_then(|(y, mo, d, h, mi, s, us, offset)| Stamp::from_local(y, mo, d, h, mi, s, us, offset))
}

/// `YYYY-MM-DDTHH:MM:SS[(.|,)f{1,9}]Z`: Some(result) for that shape, None for any other.
fn canonical_utc(b: &[u8]) -> Option<Option<Stamp>> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits_at(b, 0, 4)?, two(b, 5)?, two(b, 8)?);
    let (h, mi, s) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    let us = match b.len() {
        20 => 0,
        n if (22..=30).contains(&n) && (b[19] == b'.' || b[19] == b',') => {
            let frac = &b[20..n - 1];
            if !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            micros_of(frac)
        }
        _ => return None,
    };
    Some(Stamp::from_local(y, mo, d, h, mi, s, us, 0))
}

type Local = (i64, i64, i64, i64, i64, i64, i64, i64);

/// The fields of the general shape (`parse_iso_timestamp`) and the zone's offset in seconds;
/// None for any other shape, or an offset of a day or more.
fn iso_match(b: &[u8]) -> Option<Local> {
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let (y, mo, d) = (digits_at(b, 0, 4)?, two(b, 5)?, two(b, 8)?);
    let (h, mi) = (two(b, 11)?, two(b, 14)?);
    let mut i = 16;
    let mut s = 0;
    let mut us = 0;
    if b.get(i) == Some(&b':') && two(b, i + 1).is_some() {
        s = two(b, i + 1)?;
        i += 3;
        if matches!(b.get(i), Some(b'.') | Some(b',')) {
            let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if (1..=9).contains(&n) {
                us = micros_of(&b[i + 1..i + 1 + n]);
                i += 1 + n;
            }
        }
    }
    if matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
        i += 1;
    }
    let mut offset = 0;
    match b.get(i) {
        None => {}
        Some(b'Z' | b'z') => i += 1,
        Some(&sign @ (b'+' | b'-')) => {
            let hh = two(b, i + 1)?;
            i += 3;
            let mut mm = 0;
            if b.get(i) == Some(&b':') {
                if let Some(v) = two(b, i + 1) {
                    mm = v;
                    i += 3;
                }
            } else if let Some(v) = two(b, i) {
                mm = v;
                i += 2;
            }
            let total = hh * 3600 + mm * 60;
            if total >= 24 * 3600 {
                return None;
            }
            offset = if sign == b'-' { -total } else { total };
        }
        Some(_) => return None,
    }
    if i != b.len() {
        return None;
    }
    Some((y, mo, d, h, mi, s, us, offset))
}

/// A year-less time in the year (the year of `reference`, or the one before or after) that
/// puts it nearest `reference`; nearest the epoch without one.
pub fn complete_year(
    month: i64,
    day: i64,
    clock: (i64, i64, i64, i64),
    reference: Option<Stamp>,
) -> Option<Stamp> {
    let reference = reference.unwrap_or(Stamp(0));
    let year = reference.fields().0;
    let (h, mi, s, us) = clock;
    let mut best: Option<Stamp> = None;
    for y in [year - 1, year, year + 1] {
        // A date the year lacks (29 February) or a year outside 1..=9999 is no candidate.
        let Some(candidate) = Stamp::from_local(y, month, day, h, mi, s, us, 0) else { continue };
        if best.is_none_or(|b| (candidate.0 - reference.0).abs() < (b.0 - reference.0).abs()) {
            best = Some(candidate);
        }
    }
    best
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
    fn iso_forms() {
        let iso = |t: &str| parse_iso_timestamp(t).map(Stamp::iso);
        assert_eq!(iso("2026-11-25T10:00:00.123Z"), Some("2026-11-25T10:00:00.123000Z".into()));
        assert_eq!(iso("2026-11-25 10:00:00,5+01:00"), Some("2026-11-25T09:00:00.500000Z".into()));
        assert_eq!(iso("2026-11-25T10:00"), Some("2026-11-25T10:00:00.000000Z".into()));
        assert_eq!(iso("2026-11-25T10:00:00 -0530"), Some("2026-11-25T15:30:00.000000Z".into()));
        assert_eq!(iso("2026-02-30T10:00:00"), None);
        assert_eq!(iso("2026-11-25T10:00:00+24:00"), None);
        assert_eq!(iso("yesterday"), None);
        assert_eq!(iso("2026-11-25T10:00:00.1234567890Z"), None); // ten digits of fraction
        assert_eq!(iso(" 2026-11-25T10:00:00Z\n"), Some("2026-11-25T10:00:00.000000Z".into()));
        assert_eq!(iso("２０２６-11-25T10:00:00Z"), None);
        assert_eq!(iso("0001-01-01T00:00:00+05:30"), None); // before year 1 in UTC
    }

    #[test]
    fn epoch_rounding() {
        assert_eq!(parse_epoch(1764064800.123).map(Stamp::iso), Some("2025-11-25T10:00:00.123000Z".into()));
        assert_eq!(parse_epoch(1764064800123.0).map(Stamp::iso), Some("2025-11-25T10:00:00.123000Z".into()));
        assert_eq!(parse_epoch(-1.5).map(Stamp::iso), Some("1969-12-31T23:59:58.500000Z".into()));
        assert_eq!(parse_epoch(f64::INFINITY), None);
    }
}
