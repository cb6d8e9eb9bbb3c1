//! Plain text: any line as `message`, with the leading timestamp (ISO 8601, Go, BSD,
//! asctime, klog) and the level word or error marker it can sniff.
//!
//! Every pattern is ASCII, so the UTF-8 bytes are read directly: an ASCII pattern cannot
//! match inside a multi-byte character, and a neighbouring non-ASCII character is never a
//! word character. The limits count characters (the 64-character head, the 160-character
//! level window), and the head's leading whitespace is Unicode's (`py_space`). Each pattern
//! is matched by hand, its alternatives tried in a fixed order (given at each), the first
//! that leads to a match winning.

use super::Fields;
use super::structured::{level_of_text, py_space};
use super::{Outcome, Refusal};
use crate::json::Value;
use crate::time::{Stamp, complete_year};

/// Where a timestamp may start: leading blanks and an opening bracket (characters).
const HEAD: usize = 64;
/// How far after the timestamp a level word is looked for (characters).
const WINDOW: usize = 160;

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];

/// The capitalised level words, in the order they are tried at one position (a word before
/// its prefix: `WARNING` before `WARN`), with the level each names.
const UPPER: [(&[u8], &str); 21] = [
    (b"TRACE", "trace"),
    (b"DEBUG", "debug"),
    (b"INFO", "info"),
    (b"NOTICE", "notice"),
    (b"WARNING", "warn"),
    (b"WARN", "warn"),
    (b"ERROR", "error"),
    (b"ERR", "error"),
    (b"CRITICAL", "critical"),
    (b"CRIT", "critical"),
    (b"FATAL", "fatal"),
    (b"SEVERE", "error"),
    (b"ALERT", "alert"),
    (b"EMERGENCY", "emergency"),
    (b"EMERG", "emergency"),
    (b"PANIC", "fatal"),
    (b"DBG", "debug"),
    (b"INF", "info"),
    (b"WRN", "warn"),
    (b"EROR", "error"),
    (b"FTL", "fatal"),
];

/// The level words that count when a `:` follows (`error: ...`), in the order tried.
const COLONED: [&str; 20] = [
    "trace", "debug", "info", "notice", "warning", "warn", "error", "critical", "fatal", "panic", "Trace",
    "Debug", "Info", "Notice", "Warning", "Warn", "Error", "Critical", "Fatal", "Panic",
];

/// Any non-empty line.
pub fn looks_like(line: &[u8]) -> bool {
    !line.is_empty()
}

/// One line of text: refused only when empty or not UTF-8.
pub fn parse(line: &[u8], reference: Option<Stamp>) -> Outcome {
    if line.is_empty() {
        return Outcome::refuse("empty", "empty line");
    }
    let Ok(text) = std::str::from_utf8(line) else { return Outcome::Refused(Refusal::utf8(line)) };
    Outcome::Parsed(parse_text(text, reference))
}

fn parse_text(text: &str, reference: Option<Stamp>) -> Fields {
    let ascii = text.is_ascii();
    let (stamp, end, mut level) = timestamp(text, ascii, reference);
    let b = text.as_bytes();
    let window_end = if ascii { b.len().min(end + WINDOW) } else { advance_chars(text, end, WINDOW) };
    let mut start = end;
    while start < window_end && matches!(b[start], b' ' | b'\t') {
        start += 1;
    }
    let rest = &text[start..window_end];
    if level.is_none() {
        level = level_word(rest.as_bytes());
    }
    if level.is_none() {
        level = marker(text, rest);
    }
    let mut fields = Fields::with_capacity(3);
    fields.set("message", Value::from(text));
    if let Some(stamp) = stamp {
        fields.timestamp = Some(stamp);
    }
    if let Some(level) = level {
        fields.set("log.level", Value::from(level));
    }
    fields
}

/// The byte index `count` characters after byte index `from` (or the end).
fn advance_chars(text: &str, from: usize, count: usize) -> usize {
    text[from..].char_indices().nth(count).map_or(text.len(), |(i, _)| from + i)
}

// ----------------------------------------------------------------------------- timestamps

/// The leading timestamp: (timestamp, where the text after it starts, klog level).
fn timestamp(
    text: &str,
    ascii: bool,
    reference: Option<Stamp>,
) -> (Option<Stamp>, usize, Option<&'static str>) {
    const NONE: (Option<Stamp>, usize, Option<&str>) = (None, 0, None);
    let b = text.as_bytes();
    // Leading whitespace within the first HEAD characters; `pos` in bytes, `chars` in
    // characters.
    let (mut pos, mut chars) = (0, 0);
    if ascii {
        while chars < HEAD && pos < b.len() && py_space(b[pos] as char) {
            pos += 1;
            chars += 1;
        }
    } else {
        for c in text.chars() {
            if chars >= HEAD || !py_space(c) {
                break;
            }
            pos += c.len_utf8();
            chars += 1;
        }
    }
    let bracket = chars < HEAD && b.get(pos) == Some(&b'[');
    if bracket {
        pos += 1;
        chars += 1;
    }
    if chars >= HEAD || pos >= b.len() {
        return NONE;
    }
    // A non-ASCII first character (even another script's digit or letter) never starts a
    // match of the ASCII patterns.
    let first = b[pos];
    let next_is_digit = chars + 1 < HEAD && b.get(pos + 1).is_some_and(u8::is_ascii_digit);
    let (stamp, mut end, level) = if first.is_ascii_digit() {
        match iso(b, pos) {
            Some((stamp, end)) => (stamp, end, None),
            None => return NONE,
        }
    } else if matches!(first, b'I' | b'W' | b'E' | b'F') && next_is_digit {
        match klog(b, pos, reference) {
            Some((stamp, end)) => {
                let level = match first {
                    b'I' => "info",
                    b'W' => "warn",
                    b'E' => "error",
                    _ => "fatal",
                };
                (stamp, end, Some(level))
            }
            None => return NONE,
        }
    } else if first.is_ascii_alphabetic() {
        match bsd(b, pos, reference) {
            Some((stamp, end)) => (stamp, end, None),
            None => return NONE,
        }
    } else {
        return NONE;
    };
    let Some(stamp) = stamp else { return NONE };
    if bracket && b.get(end) == Some(&b']') {
        end += 1;
    }
    (Some(stamp), end, level)
}

fn two(b: &[u8], i: usize) -> Option<i64> {
    match (b.get(i), b.get(i + 1)) {
        (Some(x @ b'0'..=b'9'), Some(y @ b'0'..=b'9')) => Some(((x - b'0') * 10 + (y - b'0')) as i64),
        _ => None,
    }
}

fn digits(b: &[u8], i: usize, n: usize) -> Option<i64> {
    let part = b.get(i..i + n)?;
    part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |acc, &c| acc * 10 + (c - b'0') as i64))
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `(?![\w:])` at `i`: no word character or `:` there, so a timestamp may end.
fn boundary(b: &[u8], i: usize) -> bool {
    b.get(i).is_none_or(|&c| !is_word(c) && c != b':')
}

/// An ASCII blank: space, tab, LF, CR, VT or FF.
fn is_re_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The first six fraction digits, padded with zeros.
fn micros(frac: &[u8]) -> i64 {
    (0..6).fold(0, |acc, i| acc * 10 + frac.get(i).map_or(0, |c| (c - b'0') as i64))
}

/// The readings of `(?:[.,](\d{1,9}))?` at `q` that can still lead to a match, the fraction
/// first: (fraction digits, position after). Fewer digits than the run holds leave a digit
/// next, which nothing after the fraction accepts, so they are skipped.
fn fractions(b: &[u8], q: usize) -> impl Iterator<Item = (&[u8], usize)> {
    let full = match b.get(q) {
        Some(b'.' | b',') => {
            let n = b[q + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            (1..=9).contains(&n).then(|| (&b[q + 1..q + 1 + n], q + 1 + n))
        }
        _ => None,
    };
    full.into_iter().chain(std::iter::once((&b[..0], q)))
}

/// A timestamp's zone: UTC, or (sign, hours, minutes).
#[derive(Clone, Copy)]
enum Zone {
    Utc,
    Offset(i64, i64, i64),
}

/// An ISO 8601 / Go timestamp at `p`: None where there is none; else (the stamp, None for
/// fields out of range; where it ends).
fn iso(b: &[u8], p: usize) -> Option<(Option<Stamp>, usize)> {
    let year = digits(b, p, 4)?;
    let sep = match b.get(p + 4) {
        Some(&c @ (b'-' | b'/')) => c,
        _ => return None,
    };
    let fixed = (|| {
        let month = two(b, p + 5)?;
        (b.get(p + 7) == Some(&sep)).then_some(())?;
        let day = two(b, p + 8)?;
        matches!(b.get(p + 10), Some(b'T' | b' ')).then_some(())?;
        let hour = two(b, p + 11)?;
        (b.get(p + 13) == Some(&b':')).then_some(())?;
        let minute = two(b, p + 14)?;
        (b.get(p + 16) == Some(&b':')).then_some(())?;
        let second = two(b, p + 17)?;
        Some((month, day, hour, minute, second))
    })();
    let (month, day, hour, minute, second) = fixed?;
    for (frac, q) in fractions(b, p + 19) {
        let Some((zone, end)) = iso_zone(b, q) else { continue };
        let offset = match zone {
            Zone::Utc => 0,
            Zone::Offset(sign, hours, minutes) => {
                if hours >= 24 || minutes >= 60 {
                    return Some((None, end));
                }
                sign * (hours * 3600 + minutes * 60)
            }
        };
        let stamp = Stamp::from_local(year, month, day, hour, minute, second, micros(frac), offset);
        return Some((stamp, end));
    }
    None
}

/// The zone at `q` and where it ends: the first of the forms below, in their order, after
/// which `boundary` holds.
fn iso_zone(b: &[u8], q: usize) -> Option<(Zone, usize)> {
    let at = |i: usize| b.get(i).copied();
    let sign = |c: Option<u8>| match c {
        Some(b'+') => Some(1),
        Some(b'-') => Some(-1),
        _ => None,
    };
    // ([Zz])
    if matches!(at(q), Some(b'Z' | b'z')) && boundary(b, q + 1) {
        return Some((Zone::Utc, q + 1));
    }
    // ([+-]\d\d(?::?\d\d)?), its optional minutes tried longest first
    if let (Some(s), Some(hours)) = (sign(at(q)), two(b, q + 1)) {
        let mut options = [None, None, Some((0, q + 3))];
        if at(q + 3) == Some(b':') {
            options[0] = two(b, q + 4).map(|m| (m, q + 6));
        }
        options[1] = two(b, q + 3).map(|m| (m, q + 5));
        for (minutes, end) in options.into_iter().flatten() {
            if boundary(b, end) {
                return Some((Zone::Offset(s, hours, minutes), end));
            }
        }
    }
    let spaced = at(q).is_some_and(is_re_space);
    // \s([+-]\d\d:?\d\d)
    if spaced && let (Some(s), Some(hours)) = (sign(at(q + 1)), two(b, q + 2)) {
        let minutes = if at(q + 4) == Some(b':') {
            two(b, q + 5).map(|m| (m, q + 7))
        } else {
            two(b, q + 4).map(|m| (m, q + 6))
        };
        if let Some((minutes, end)) = minutes
            && boundary(b, end)
        {
            return Some((Zone::Offset(s, hours, minutes), end));
        }
    }
    // \s?(UTC|GMT), with the blank first
    let named = |i: usize| matches!(b.get(i..i + 3), Some(b"UTC" | b"GMT"));
    if spaced && named(q + 1) && boundary(b, q + 4) {
        return Some((Zone::Utc, q + 4));
    }
    if named(q) && boundary(b, q + 3) {
        return Some((Zone::Utc, q + 3));
    }
    // no zone
    boundary(b, q).then_some((Zone::Utc, q))
}

/// A klog stamp (`Lmmdd hh:mm:ss.uuuuuu `, L the level letter) at `p`, its year completed:
/// None where there is none; else (the stamp, None where no year fits the date; its end).
fn klog(b: &[u8], p: usize, reference: Option<Stamp>) -> Option<(Option<Stamp>, usize)> {
    let month = two(b, p + 1)?;
    let day = two(b, p + 3)?;
    (b.get(p + 5) == Some(&b' ')).then_some(())?;
    let hour = two(b, p + 6)?;
    (b.get(p + 8) == Some(&b':')).then_some(())?;
    let minute = two(b, p + 9)?;
    (b.get(p + 11) == Some(&b':')).then_some(())?;
    let second = two(b, p + 12)?;
    (b.get(p + 14) == Some(&b'.')).then_some(())?;
    let micro = digits(b, p + 15, 6)?;
    (b.get(p + 21) == Some(&b' ')).then_some(())?;
    Some((complete_year(month, day, (hour, minute, second, micro), reference), p + 22))
}

/// A BSD or asctime stamp (`[Day[,] ]Mon d[,] hh:mm:ss[.f] [yyyy]`) at `p`, a missing year
/// completed: None where there is none; else (the stamp, None for a date that does not
/// exist; where it ends).
fn bsd(b: &[u8], p: usize, reference: Option<Stamp>) -> Option<(Option<Stamp>, usize)> {
    // `(?:(?:Mon|...|Sun),? )?`: with the day name first; without it the month would have to
    // start where the day name does, which no month name can.
    let three = |i: usize| b.get(i..i + 3);
    let mut start = p;
    if three(p).is_some_and(|w| DAYS.iter().any(|d| d[..] == *w)) {
        let mut i = p + 3;
        if b.get(i) == Some(&b',') {
            i += 1;
        }
        if b.get(i) == Some(&b' ') {
            start = i + 1;
        }
    }
    let month = three(start).and_then(|w| MONTHS.iter().position(|m| m[..] == *w))?;
    let mut i = start + 3;
    // ` {1,2}(\d{1,2}),? `: every backtracking choice other than the longest runs leaves a
    // blank or digit where the next part needs the other.
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&n) {
        return None;
    }
    let day = digits(b, i, n).unwrap_or_default();
    i += n;
    if b.get(i) == Some(&b',') {
        i += 1;
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let clock = (|| {
        let hour = two(b, i + 1)?;
        (b.get(i + 3) == Some(&b':')).then_some(())?;
        let minute = two(b, i + 4)?;
        (b.get(i + 6) == Some(&b':')).then_some(())?;
        Some((hour, minute, two(b, i + 7)?))
    })();
    let (hour, minute, second) = clock?;
    for (frac, q) in fractions(b, i + 9) {
        // `(?: (\d{4})(?!\d))?(?![\w:])`: with the year first, then without.
        let year = (b.get(q) == Some(&b' ') && !b.get(q + 5).is_some_and(u8::is_ascii_digit))
            .then(|| digits(b, q + 1, 4))
            .flatten()
            .filter(|_| boundary(b, q + 5));
        let end = match year {
            Some(_) => q + 5,
            None if boundary(b, q) => q,
            None => continue,
        };
        let clock = (hour, minute, second, micros(frac));
        let month = month as i64 + 1;
        let stamp = match year {
            None => complete_year(month, day, clock, reference),
            Some(y) => Stamp::from_local(y, month, day, clock.0, clock.1, clock.2, clock.3, 0),
        };
        return Some((stamp, end));
    }
    None
}

// ----------------------------------------------------------------------------- levels

// Bytes worth a closer look, by kind (what opens a capitalised or keyed level word; a byte
// of each marker): scanning for these skips the rest quickly.
const UPPER_FIRST: u8 = 1;
const KEY_FIRST: u8 = 2;
const MARKER_BYTE: u8 = 4;
static FIRST: [u8; 256] = {
    let mut t = [0; 256];
    let upper = b"ACDEFINPSTW";
    let mut i = 0;
    while i < upper.len() {
        t[upper[i] as usize] |= UPPER_FIRST;
        i += 1;
    }
    t[b'l' as usize] |= KEY_FIRST;
    t[b's' as usize] |= KEY_FIRST;
    let marker = b"pkxO";
    let mut i = 0;
    while i < marker.len() {
        t[marker[i] as usize] |= MARKER_BYTE;
        i += 1;
    }
    t
};

/// The first index in `from..limit` of `b` holding a byte of `kind`.
fn next_with(b: &[u8], from: usize, limit: usize, kind: u8) -> Option<usize> {
    b.get(from..limit)?.iter().position(|&c| FIRST[c as usize] & kind != 0).map(|i| from + i)
}

/// A level word glued to this on its left is not one.
fn glued_before(c: u8) -> bool {
    is_word(c) || matches!(c, b'.' | b'/' | b'-')
}

/// A level word glued to this on its right is not one.
fn glued_after(c: u8) -> bool {
    is_word(c) || matches!(c, b'/' | b'-')
}

/// A candidate at `start..end` of `rest` that is part of a longer word.
fn glued(rest: &[u8], start: usize, end: usize) -> bool {
    (start > 0 && glued_before(rest[start - 1])) || rest.get(end).is_some_and(|&c| glued_after(c))
}

fn ascii_text(b: &[u8]) -> &str {
    // Callers pass runs of ASCII letters only.
    std::str::from_utf8(b).unwrap_or_default()
}

/// The level of the leftmost level word in `rest`: bracketed (`[warn]`), capitalised
/// (`WARN`) or keyed (`level=warn`); a coloned one (`error:`) before it wins outright.
fn level_word(rest: &[u8]) -> Option<&'static str> {
    let mut limit = rest.len();
    let mut found = None;
    // Bracketed. A match cannot contain a second `[`, so trying each `[` in turn visits
    // every candidate.
    let mut i = 0;
    while let Some(at) = rest[i..limit].iter().position(|&c| c == b'[') {
        let s = i + at;
        i = s + 1;
        if let Some((word, end)) = bracketed(rest, s, limit) {
            if let Some(level) = level_of_text(ascii_text(word)) {
                limit = s;
                found = Some(level);
                break;
            }
            i = end;
        }
    }
    // Capitalised, before any bracketed one found.
    let mut s = 0;
    while let Some(at) = next_with(rest, s, limit, UPPER_FIRST) {
        s = at;
        let Some((len, level)) = upper(&rest[s..limit]) else {
            s += 1;
            continue;
        };
        if glued(rest, s, s + len) {
            s += len;
            continue;
        }
        limit = s;
        found = Some(level);
        break;
    }
    // Keyed, before any found so far.
    let mut s = 0;
    while let Some(at) = next_with(rest, s, limit, KEY_FIRST) {
        s = at;
        let Some((word_start, end)) = keyed(rest, s, limit) else {
            s += 1;
            continue;
        };
        if !glued(rest, s, end)
            && let Some(level) = level_of_text(ascii_text(&rest[word_start..end]))
        {
            limit = s;
            found = Some(level);
            break;
        }
        s = end;
    }
    // Coloned, at the start and after each ": " before the limit; it wins outright.
    let mut start = 0;
    while start < limit {
        if let Some(word) = coloned(&rest[start..]) {
            return level_of_text(word);
        }
        match rest[start..limit].windows(2).position(|w| w == b": ") {
            Some(at) => start += at + 2,
            None => break,
        }
    }
    found
}

/// The coloned level word (followed by `:`) at the start of `b`, if any.
fn coloned(b: &[u8]) -> Option<&'static str> {
    if !matches!(
        b.first()?.to_ascii_lowercase(),
        b'c' | b'd' | b'e' | b'f' | b'i' | b'n' | b'p' | b't' | b'w'
    ) {
        return None;
    }
    COLONED.iter().find(|w| b.starts_with(w.as_bytes()) && b.get(w.len()) == Some(&b':')).copied()
}

/// A bracketed word (`\[ ?(?:[\w.-]{1,32}:)?([A-Za-z]{1,11}) {0,3}\]`, e.g. `[core:warn]`) at
/// `s`, within `limit`: (the letters, match end).
fn bracketed(rest: &[u8], s: usize, limit: usize) -> Option<(&[u8], usize)> {
    let b = &rest[..limit];
    let mut i = s + 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    // The tail: letters, up to three blanks, `]`. A shorter letter run would leave a letter
    // where a blank or `]` must be, so only the whole run can match.
    let tail = |j: usize| {
        let n = b[j..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        if !(1..=11).contains(&n) {
            return None;
        }
        let blanks = b[j + n..].iter().take_while(|&&c| c == b' ').count();
        (blanks <= 3 && b.get(j + n + blanks) == Some(&b']')).then(|| (&b[j..j + n], j + n + blanks + 1))
    };
    // With the `name:` prefix first: `:` is outside [\w.-], so the prefix can only be the
    // whole run of those characters, and only if a `:` ends it.
    let run = b[i..].iter().take_while(|&&c| is_word(c) || c == b'.' || c == b'-').count();
    if (1..=32).contains(&run)
        && b.get(i + run) == Some(&b':')
        && let Some(found) = tail(i + run + 1)
    {
        return Some(found);
    }
    tail(i)
}

/// The capitalised level word at the start of `b`, if any: (length, level).
fn upper(b: &[u8]) -> Option<(usize, &'static str)> {
    // Every alternative opens with one of these and another capital.
    if !matches!(b.first(), Some(b'A' | b'C' | b'D' | b'E' | b'F' | b'I' | b'N' | b'P' | b'S' | b'T' | b'W'))
        || !b.get(1).is_some_and(u8::is_ascii_uppercase)
    {
        return None;
    }
    UPPER.iter().find(|(w, _)| b.starts_with(w)).map(|&(w, level)| (w.len(), level))
}

/// A keyed level (`level`, `lvl`, `loglevel` or `severity`, then `=` or `:`, a space on
/// either side and a quote allowed) at `s`, within `limit`: (where the word starts, match end).
fn keyed(rest: &[u8], s: usize, limit: usize) -> Option<(usize, usize)> {
    if !matches!(rest.get(s), Some(b'l' | b's')) {
        return None;
    }
    let b = &rest[..limit];
    let tail = &b[s..];
    let key = [&b"level"[..], b"lvl", b"loglevel", b"severity"].into_iter().find(|k| tail.starts_with(k))?;
    let mut i = s + key.len();
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    if !matches!(b.get(i), Some(b'=' | b':')) {
        return None;
    }
    i += 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    if b.get(i) == Some(&b'"') {
        i += 1;
    }
    // `[A-Za-z]{1,11}` ends the pattern, so the greedy longest prefix of the run is it.
    let n = b[i..].iter().take(11).take_while(|c| c.is_ascii_alphabetic()).count();
    (n > 0).then_some((i, i + n))
}

// ----------------------------------------------------------------------------- markers

/// A level implied by an error marker: a Go fatal error or a kernel panic is `fatal`; a
/// traceback, an exception or running out of memory is `error`.
fn marker(text: &str, rest: &str) -> Option<&'static str> {
    if rest.starts_with("fatal error:") {
        return Some("fatal");
    }
    // Which markers occur anywhere in the text, in one pass. Each is found through one of
    // its rarer bytes (p, k, x, O) and checked from where it starts.
    let (mut panic, mut traceback, mut oom_seen) = (false, false, false);
    let b = text.as_bytes();
    let from = |at: usize, back: usize, marker: &[u8]| at >= back && b[at - back..].starts_with(marker);
    let mut i = 0;
    while let Some(at) = next_with(b, i, b.len(), MARKER_BYTE) {
        i = at + 1;
        match b[at] {
            b'p' => panic |= from(at, 6, b"ernel panic"),
            b'k' => {
                traceback |= from(at, 8, b"Traceback (most recent call last):");
                oom_seen |= at >= 4 && oom_at(b, at - 4);
            }
            b'x' => traceback |= from(at, 1, b"Exception in thread "),
            _ => oom_seen |= oom_at(b, at),
        }
        if panic {
            return Some("fatal");
        }
    }
    if traceback || exception(rest.as_bytes()) || oom_seen {
        return Some("error");
    }
    None
}

/// Whether `rest` opens with an exception's name (`java.io.IOException: ...`), maybe after
/// `Caused by: `, `Uncaught ` or `Unhandled `.
fn exception(rest: &[u8]) -> bool {
    for prefix in [&b"Caused by: "[..], b"Uncaught ", b"Unhandled "] {
        if let Some(tail) = rest.strip_prefix(prefix)
            && dotted_exception(tail)
        {
            return true;
        }
    }
    dotted_exception(rest)
}

/// `(?:[A-Za-z_$][\w$]{0,80}\.){0,16}[\w$]{0,80}(?:Exception|Error|Throwable)(?::|$)` at the
/// start of `s`. Nothing in it matches `.` but the separators and nothing matches `:` or a
/// line end but its last part, so a match spans exactly the leading run of `[\w$.]`: check
/// what ends the run, then the pieces between the dots.
fn dotted_exception(s: &[u8]) -> bool {
    let name_char = |c: &u8| is_word(*c) || *c == b'$';
    let e = s.iter().take_while(|c| name_char(c) || **c == b'.').count();
    // `$`: the end, or just before a newline that ends the text.
    let ends = e == s.len() || s[e] == b':' || (e + 1 == s.len() && s[e] == b'\n');
    if !ends {
        return false;
    }
    let mut pieces = s[..e].split(|&c| c == b'.');
    let Some(last) = pieces.next_back() else { return false };
    let mut count = 0;
    for piece in pieces {
        count += 1;
        let first_ok = piece.first().is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'$');
        if count > 16 || !first_ok || piece.len() > 81 {
            return false;
        }
    }
    [&b"Exception"[..], b"Error", b"Throwable"]
        .iter()
        .any(|k| last.ends_with(k) && last.len() - k.len() <= 80)
}

/// Whether an out-of-memory marker (`\bOOM|\boom[-_]kill|Out of memory`) starts at `i` of
/// `text`.
fn oom_at(text: &[u8], i: usize) -> bool {
    let tail = &text[i..];
    let starts_word = i == 0 || !is_word(text[i - 1]);
    (starts_word
        && (tail.starts_with(b"OOM") || tail.starts_with(b"oom-kill") || tail.starts_with(b"oom_kill")))
        || tail.starts_with(b"Out of memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, reference: Option<Stamp>) -> Vec<(String, String)> {
        let Outcome::Parsed(f) = parse(line.as_bytes(), reference) else { panic!("{line}") };
        f.items()
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.into(),
                    other => format!("{other:?}"),
                };
                (k, v)
            })
            .collect()
    }

    fn level(line: &str) -> Option<String> {
        fields(line, None).into_iter().find(|(k, _)| k == "log.level").map(|(_, v)| v)
    }

    fn stamp(line: &str, reference: Option<Stamp>) -> Option<String> {
        fields(line, reference).into_iter().find(|(k, _)| k == "@timestamp").map(|(_, v)| v)
    }

    #[test]
    fn timestamps() {
        let s = |line| stamp(line, None);
        assert_eq!(s("2026-11-25 10:00:00,123 ERROR x").as_deref(), Some("2026-11-25T10:00:00.123000Z"));
        assert_eq!(s("[2026-11-25T10:00:00+01:00] x").as_deref(), Some("2026-11-25T09:00:00.000000Z"));
        assert_eq!(s("2026/11/25 10:00:00.000001 x").as_deref(), Some("2026-11-25T10:00:00.000001Z"));
        assert_eq!(s("2026-11-25 10:00:00 -0530 x").as_deref(), Some("2026-11-25T15:30:00.000000Z"));
        assert_eq!(s("2026-11-25 10:00:00.5:x").as_deref(), Some("2026-11-25T10:00:00.000000Z"));
        assert_eq!(s("2026-11-25 10:00:00x"), None);
        assert_eq!(s("2026-02-30 10:00:00 x"), None);
        assert_eq!(s("Wed Oct 11 14:32:52 2000 x").as_deref(), Some("2000-10-11T14:32:52.000000Z"));
        assert_eq!(s("Oct 11 14:32:52 2000x").as_deref(), Some("1969-10-11T14:32:52.000000Z"));
        let reference = Some(Stamp(1_767_227_400_000_000)); // 2026-01-01T00:30:00Z
        assert_eq!(
            stamp("Dec 31 23:59:59 host x", reference).as_deref(),
            Some("2025-12-31T23:59:59.000000Z")
        );
        assert_eq!(
            stamp("I1231 23:59:59.123456 1 x.go] y", reference).as_deref(),
            Some("2025-12-31T23:59:59.123456Z")
        );
    }

    #[test]
    fn levels() {
        assert_eq!(level("2026-11-25 10:00:01,456 INFO  [main] c.e.Pump - done").as_deref(), Some("info"));
        assert_eq!(level("[core:warn] something").as_deref(), Some("warn"));
        assert_eq!(level("x level=debug y").as_deref(), Some("debug"));
        assert_eq!(level("a INFO_FILE b"), None);
        assert_eq!(level("main: error: boom WARN").as_deref(), Some("error"));
        assert_eq!(level("E0102 15:04:05.123456 1 x.go] y").as_deref(), Some("error"));
        assert_eq!(level("panic: runtime error: index out of range").as_deref(), Some("fatal"));
    }

    #[test]
    fn markers() {
        assert_eq!(level("fatal error: all goroutines are asleep").as_deref(), Some("fatal"));
        assert_eq!(level("Traceback (most recent call last):").as_deref(), Some("error"));
        assert_eq!(level("java.lang.IllegalStateException: bad").as_deref(), Some("error"));
        assert_eq!(level("Caused by: java.io.IOException").as_deref(), Some("error"));
        assert_eq!(level("\tat java.lang.Thread.run(Thread.java:750)"), None);
        assert_eq!(level("Memory cgroup out of memory: oom_kill_process").as_deref(), Some("error"));
        assert_eq!(level("zoom_kill"), None);
    }

    #[test]
    fn refusals() {
        assert_eq!(parse(b"", None).reason(), Some("empty"));
        assert_eq!(parse(b"\xff", None).reason(), Some("invalid_utf8"));
    }
}
