//! Timestamps as log-writing software prints them in a line's header: the layouts of ISO
//! 8601 and its variants, Java and Python logging, Go, klog/glog, Android logcat, BSD syslog
//! and asctime, access logs, Redis, Hadoop's two-digit years, compact and dotted dates, and
//! epoch numbers. docs/ingest.md lists each layout with an example.
//!
//! A layout is recognised by its first bytes (a digit run's length and the separator after
//! it, a level letter, a day or month name), so at most one or two readers run at any place a
//! timestamp may start: `header` tries every token start of a line's header, and a general
//! strptime (jiff's `strtime`, which also reads neither `,` fractions nor zone names) tried
//! layout by layout at each of them would cost more than the rest of the line's parsing.
//! jiff's calendar still checks every date (`Stamp::from_local`).

use super::year::complete_year_at;
use super::zone::{self, ends_stamp, ends_word};
use super::{Stamp, digits_at, micros_of, two};

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];

/// A timestamp found in a line: the instant, where its text ends, and the level a klog or
/// glog stamp's first letter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub stamp: Stamp,
    pub end: usize,
    pub level: Option<&'static str>,
}

/// What a year-less stamp is completed with: the receive time, and a year the same line
/// states elsewhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    pub reference: Option<Stamp>,
    pub hint: Option<i64>,
}

/// A date: (year, None for a layout without one; month; day).
type Date = (Option<i64>, i64, i64);
/// A wall clock: (hour, minute, second, microsecond).
type Clock = (i64, i64, i64, i64);

/// A timestamp with a date and a time starting at `p`, in any layout this module knows
/// (epoch numbers apart: `epoch_at`); None where none starts there or its date does not
/// exist.
pub fn at(b: &[u8], p: usize, cx: Context) -> Option<Found> {
    let first = *b.get(p)?;
    if first.is_ascii_digit() {
        let n = b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
        let (date, q) = numeric_date(b, p, n)?;
        return finish(b, date, q, cx, None);
    }
    if matches!(first, b'I' | b'W' | b'E' | b'F')
        && let Some(found) = klog(b, p, cx)
    {
        return Some(found);
    }
    if first.is_ascii_uppercase() {
        return named(b, p, cx);
    }
    if first == b'@' {
        return tai64n(b, p);
    }
    None
}

/// The year of a date without a time at `p` (`2005.06.03 `, `2024-01-02]`): a hint for a
/// year-less stamp later in the same header.
pub fn year_at(b: &[u8], p: usize) -> Option<i64> {
    let sep = *b.get(p + 4)?;
    let ok = matches!(sep, b'-' | b'/' | b'.')
        && b.get(p + 7) == Some(&sep)
        && two(b, p + 5).is_some_and(|m| (1..=12).contains(&m))
        && two(b, p + 8).is_some_and(|d| (1..=31).contains(&d))
        && ends_word(b.get(p + 10).copied());
    ok.then(|| digits_at(b, p, 4)).flatten()
}

/// Epoch seconds (10 digits, a fraction allowed), milliseconds (13), microseconds (16) or
/// nanoseconds (19) as a whole token at `p`, from 2001-09-09 (10^9 s) on; longer or shorter
/// numbers are ids and counters, not times.
pub fn epoch_at(b: &[u8], p: usize) -> Option<Found> {
    let n = b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
    let whole = digits_at(b, p, n.min(18))?;
    let (mut seconds, mut micros, mut end) = match n {
        10 => (whole, 0, p + n),
        13 => (whole / 1000, whole % 1000 * 1000, p + n),
        16 => (whole / 1_000_000, whole % 1_000_000, p + n),
        19 => (digits_at(b, p, 10)?, digits_at(b, p + 10, 6)?, p + n),
        _ => return None,
    };
    if n == 10 && b.get(end) == Some(&b'.') {
        let f = b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if (1..=9).contains(&f) {
            micros = micros_of(&b[end + 1..end + 1 + f]);
            end += 1 + f;
        }
    }
    if !token_ends(b.get(end).copied()) || seconds < 1_000_000_000 {
        return None;
    }
    if micros >= 1_000_000 {
        seconds += 1;
        micros -= 1_000_000;
    }
    Some(Found { stamp: Stamp(seconds.checked_mul(1_000_000)? + micros), end, level: None })
}

/// Whether `c` ends a token: a blank, a closing bracket, `|`, `,`, `;` or the line's end.
fn token_ends(c: Option<u8>) -> bool {
    c.is_none_or(|c| matches!(c, b' ' | b'\t' | b']' | b')' | b'>' | b'|' | b',' | b';'))
}

/// The date of a layout that starts with a run of `n` digits at `p`, and where its time
/// starts.
fn numeric_date(b: &[u8], p: usize, n: usize) -> Option<(Date, usize)> {
    let at = |i: usize| b.get(i).copied();
    match n {
        // 2024-01-02 / 2024/01/02 / 2024.01.02, then T, blank, -, _ or : and the time.
        4 => {
            let sep = at(p + 4).filter(|c| matches!(c, b'-' | b'/' | b'.'))?;
            (at(p + 7) == Some(sep)).then_some(())?;
            let date = (Some(digits_at(b, p, 4)?), two(b, p + 5)?, two(b, p + 8)?);
            matches!(at(p + 10), Some(b'T' | b' ' | b'-' | b'_' | b':')).then_some((date, p + 11))
        }
        // 20171223-22:15:29:606, 20240102T150405, 20240102.150405,123
        8 => {
            matches!(at(p + 8), Some(b'-' | b'T' | b' ' | b'.' | b':')).then_some(())?;
            let date = (Some(digits_at(b, p, 4)?), two(b, p + 4)?, two(b, p + 6)?);
            Some((date, p + 9))
        }
        // Hadoop's 081109 203615 (yyMMdd HHmmss).
        6 => {
            (at(p + 6) == Some(b' ')).then_some(())?;
            let date = (Some(two_digit_year(two(b, p)?)), two(b, p + 2)?, two(b, p + 4)?);
            Some((date, p + 7))
        }
        1 | 2 => short_date(b, p, n),
        _ => None,
    }
}

/// Dates that start with one or two digits: `yy/MM/dd` (Spark), `MM-dd` (logcat), `MM.dd`
/// (`[10.30 16:49:06]`), `dd/Mon/yyyy:` (access logs, HAProxy), `dd-Mon-yyyy` (Tomcat) and
/// `dd Mon yyyy` (Redis; `dd Mon` before Redis 3).
fn short_date(b: &[u8], p: usize, n: usize) -> Option<(Date, usize)> {
    let at = |i: usize| b.get(i).copied();
    let first = digits_at(b, p, n)?;
    let sep = at(p + n)?;
    if let Some(month) = month_at(b, p + n + 1) {
        // dd/Mon/yyyy:hh, dd-Mon-yyyy hh, dd Mon yyyy hh
        let q = p + n + 4;
        (matches!(sep, b'/' | b'-' | b' ') && at(q) == Some(sep)).then_some(())?;
        // Old Redis: `14 Nov 07:07:41.367`, no year.
        if sep == b' ' && two(b, q + 1).is_some() && at(q + 3) == Some(b':') {
            return Some(((None, month, first), q + 1));
        }
        let year = digits_at(b, q + 1, 4)?;
        let joint = if sep == b'/' { b':' } else { b' ' };
        return (at(q + 5) == Some(joint)).then_some(((Some(year), month, first), q + 6));
    }
    if n != 2 {
        return None;
    }
    match sep {
        b'/' if at(p + 5) == Some(b'/') && at(p + 8) == Some(b' ') => {
            Some(((Some(two_digit_year(first)), two(b, p + 3)?, two(b, p + 6)?), p + 9))
        }
        b'-' | b'.' if at(p + 5) == Some(b' ') => Some(((None, first, two(b, p + 3)?), p + 6)),
        _ => None,
    }
}

/// A two-digit year as strptime's `%y` reads it: 69..=99 are 1969..=1999, the rest 20xx.
fn two_digit_year(yy: i64) -> i64 {
    if yy >= 69 { 1900 + yy } else { 2000 + yy }
}

/// The month (1..=12) whose English abbreviation starts at `i`.
fn month_at(b: &[u8], i: usize) -> Option<i64> {
    let word = b.get(i..i + 3)?;
    MONTHS.iter().position(|m| m[..] == *word).map(|m| m as i64 + 1)
}

/// The time at `q` after a date, its zone, and the stamp.
fn finish(b: &[u8], date: Date, q: usize, cx: Context, level: Option<&'static str>) -> Option<Found> {
    // BGL writes 2005-06-03-15.42.50.675872: dots between the fields after a `-`.
    let dots = b.get(q - 1) == Some(&b'-') && b.get(q + 2) == Some(&b'.');
    let (clock, end) = clock(b, q, dots).or_else(|| compact_clock(b, q))?;
    let (offset, end) = zone_after(b, end)?;
    if !ends_stamp(b, end) {
        return None;
    }
    stamp(date, clock, offset, end, cx, level)
}

/// The instant, once the end of the text is known to end a word.
fn stamp(
    (year, month, day): Date,
    clock: Clock,
    offset: i64,
    end: usize,
    cx: Context,
    level: Option<&'static str>,
) -> Option<Found> {
    let stamp = match year {
        Some(y) => Stamp::from_local(y, month, day, clock.0, clock.1, clock.2, clock.3, offset)?,
        None => complete_year_at((month, day), clock, offset, cx.reference, cx.hint)?,
    };
    Some(Found { stamp, end, level })
}

/// `h[h]:mm:ss` (or with dots), a fraction after `.`, `,` or `:` (three digits), and `AM` or
/// `PM`, ending a word: the clock and where it ends.
fn clock(b: &[u8], q: usize, dots: bool) -> Option<(Clock, usize)> {
    let sep = if dots { b'.' } else { b':' };
    let h_len = if b.get(q + 1).is_some_and(u8::is_ascii_digit) { 2 } else { 1 };
    let mut hour = digits_at(b, q, h_len)?;
    let i = q + h_len;
    (b.get(i) == Some(&sep) && b.get(i + 3) == Some(&sep)).then_some(())?;
    let (minute, second) = (two(b, i + 1)?, two(b, i + 4)?);
    let mut end = i + 6;
    let mut micros = 0;
    let run = |from: usize| b[from.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    match b.get(end) {
        Some(b'.' | b',') if (1..=9).contains(&run(end + 1)) => {
            let n = run(end + 1);
            micros = micros_of(&b[end + 1..end + 1 + n]);
            end += 1 + n;
        }
        Some(b':') if !dots && run(end + 1) == 3 => {
            micros = micros_of(&b[end + 1..end + 4]);
            end += 4;
        }
        _ => {}
    }
    let meridiem = |i: usize| match b.get(i..i + 2) {
        Some(b"AM" | b"am") => Some(0),
        Some(b"PM" | b"pm") => Some(12),
        _ => None,
    };
    let spaced = usize::from(b.get(end) == Some(&b' '));
    if let Some(add) = meridiem(end + spaced)
        && ends_word(b.get(end + spaced + 2).copied())
    {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = hour % 12 + add;
        end += spaced + 2;
    }
    Some(((hour, minute, second, micros), end))
}

/// `HHMMSS` and an optional `,mmm` / `.mmm` fraction (compact layouts).
fn compact_clock(b: &[u8], q: usize) -> Option<(Clock, usize)> {
    if b[q.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count() != 6 {
        return None;
    }
    let mut end = q + 6;
    let mut micros = 0;
    if matches!(b.get(end), Some(b'.' | b',')) {
        let n = b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if (1..=9).contains(&n) {
            micros = micros_of(&b[end + 1..end + 1 + n]);
            end += 1 + n;
        }
    }
    Some(((two(b, q)?, two(b, q + 2)?, two(b, q + 4)?, micros), end))
}

/// The zone right after the time or after one blank (UTC where none is written), and where
/// the timestamp ends; None where an offset that is none follows the time.
fn zone_after(b: &[u8], end: usize) -> Option<(i64, usize)> {
    if let Some(found) = zone::read(b, end) {
        return Some(found);
    }
    // An offset that is none (`+25:00`, ` +0x`) leaves no time, not a time in UTC.
    let signed =
        |i: usize| matches!(b.get(i), Some(b'+' | b'-')) && b.get(i + 1).is_some_and(u8::is_ascii_digit);
    if signed(end) {
        return None;
    }
    if b.get(end) == Some(&b' ') {
        if let Some(found) = zone::read(b, end + 1) {
            return Some(found);
        }
        if signed(end + 1) {
            return None;
        }
    }
    Some((0, end))
}

/// klog and glog: `Lmmdd hh:mm:ss.uuuuuu` (year-less) or `Lyyyymmdd hh:mm:ss.uuuuuu`, `L`
/// the level letter (I, W, E, F).
fn klog(b: &[u8], p: usize, cx: Context) -> Option<Found> {
    let n = b[p + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let date = match n {
        4 => (None, two(b, p + 1)?, two(b, p + 3)?),
        8 => (Some(digits_at(b, p + 1, 4)?), two(b, p + 5)?, two(b, p + 7)?),
        _ => return None,
    };
    (b.get(p + 1 + n) == Some(&b' ')).then_some(())?;
    let (clock, end) = clock(b, p + 2 + n, false)?;
    if !ends_stamp(b, end) {
        return None;
    }
    let level = match b[p] {
        b'I' => "info",
        b'W' => "warn",
        b'E' => "error",
        _ => "fatal",
    };
    stamp(date, clock, 0, end, cx, Some(level))
}

/// Layouts that start with a day or month name: BSD syslog (`Jan  2 15:04:05`), asctime and
/// Apache's error log (`Wed Jan 02 15:04:05[.f] 2024`), `date`'s `Wed Jan  2 15:04:05 UTC
/// 2024`, Tomcat / java.util.logging's `Jan 2, 2024 3:04:05 PM`.
fn named(b: &[u8], p: usize, cx: Context) -> Option<Found> {
    let mut i = p;
    if b.get(p..p + 3).is_some_and(|w| DAYS.iter().any(|d| d[..] == *w)) {
        i = p + 3 + usize::from(b.get(p + 3) == Some(&b','));
        (b.get(i) == Some(&b' ')).then_some(())?;
        i += 1;
    }
    let month = month_at(b, i)?;
    i += 3;
    (b.get(i) == Some(&b' ')).then_some(())?;
    i += 1 + usize::from(b.get(i + 1) == Some(&b' '));
    let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let day = (1..=2).contains(&n).then(|| digits_at(b, i, n)).flatten()?;
    i += n;
    // `Jan 2, 2024 3:04:05 PM` and `Jan 2 2024 15:04:05`: the year before the time.
    let mut year = None;
    let comma = usize::from(b.get(i) == Some(&b','));
    if b.get(i + comma) == Some(&b' ')
        && b.get(i + comma + 5) == Some(&b' ')
        && let Some(y) = digits_at(b, i + comma + 1, 4)
    {
        year = Some(y);
        i += comma + 5;
    } else {
        i += comma;
    }
    (b.get(i) == Some(&b' ')).then_some(())?;
    let (clock, mut end) = clock(b, i + 1, false)?;
    let (offset, e) = zone_after(b, end)?;
    end = e;
    // asctime: the year after the time (and after a zone name, as `date` prints it).
    if year.is_none()
        && b.get(end) == Some(&b' ')
        && let Some(y) = digits_at(b, end + 1, 4)
        && ends_word(b.get(end + 5).copied())
    {
        year = Some(y);
        end += 5;
    }
    if !ends_stamp(b, end) {
        return None;
    }
    stamp((year, month, day), clock, offset, end, cx, None)
}

/// TAI64N (daemontools' multilog): `@` and 24 hex digits, TAI seconds offset by 2^62 + 10
/// and nanoseconds; read, as `tai64nlocal` does, without leap seconds.
fn tai64n(b: &[u8], p: usize) -> Option<Found> {
    let hex = b.get(p + 1..p + 25)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) || !token_ends(b.get(p + 25).copied()) {
        return None;
    }
    let text = std::str::from_utf8(hex).ok()?;
    let label = u64::from_str_radix(&text[..16], 16).ok()?;
    let nanos = i64::from_str_radix(&text[16..], 16).ok()?;
    let seconds = i64::try_from(label.checked_sub((1 << 62) + 10)?).ok()?;
    let micros = seconds.checked_mul(1_000_000)?.checked_add(nanos / 1000)?;
    Stamp::from_epoch_seconds(micros as f64 / 1e6)?;
    Some(Found { stamp: Stamp(micros), end: p + 25, level: None })
}
