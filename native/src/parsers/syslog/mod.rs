//! Syslog lines: RFC 5424, RFC 3164 (BSD) and its variants, the RFC 6587 octet-counting
//! prefix, structured data (with its `\"`, `\]`, `\\` escapes), and the priority / facility /
//! severity fields.
//!
//! Each part of the grammar is a sequence of disjoint character classes, so each is read in
//! one left-to-right scan, with bounded lengths. Digits are ASCII: a version or a date
//! written in another script's digits is `syslog.bad_timestamp`.
//!
//! This file holds the entry points (`looks_like`, `parse`), the octet-count frame, the
//! choice between the two formats, and what the format files share: the refusal helpers,
//! month names, digit runs, the pid. `priority` reads `<PRI>`, `rfc5424` and `rfc3164` their
//! formats, `structured_data` RFC 5424's SD-ELEMENTs.

mod priority;
mod rfc3164;
mod rfc5424;
mod structured_data;

use super::Fields;
use super::{Outcome, Refusal};
use crate::json::Value;
use crate::time::Stamp;
use priority::priority;
use rfc3164::parse_3164;
use rfc5424::parse_5424;

pub(super) const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Why a line is refused: it ends the parse.
pub(super) type Stop = Refusal;

pub(super) fn refuse(reason: &'static str, detail: impl Into<String>) -> Stop {
    Refusal::new(reason, detail)
}

/// At most `n` characters of `text`, as a refusal's detail.
pub(super) fn clip(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

pub(super) type Step<T> = Result<T, Stop>;

/// Whether the line opens like syslog: `<` and a digit, a month name and a space, or an
/// octet count and ` <`.
pub fn looks_like(line: &[u8]) -> bool {
    let Some(&first) = line.first() else { return false };
    if first == b'<' {
        return line.get(1).is_some_and(u8::is_ascii_digit);
    }
    if line.len() >= 4 && line[3] == b' ' && MONTHS.iter().any(|m| line[..3] == m[..]) {
        return true;
    }
    if first.is_ascii_digit() {
        // " <" wholly within bytes 1..8, after 1..=6 digits.
        let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
        return (1..=6).contains(&digits) && line.get(digits..digits + 2) == Some(b" <");
    }
    false
}

/// One syslog line: RFC 5424 when a version follows the priority, else RFC 3164.
pub fn parse(line: &[u8], reference: Option<Stamp>) -> Outcome {
    match parse_text(line, reference) {
        Ok(fields) => Outcome::Parsed(fields),
        Err(refusal) => Outcome::Refused(refusal),
    }
}

fn parse_text(line: &[u8], reference: Option<Stamp>) -> Step<Fields> {
    if line.is_empty() {
        return Err(refuse("syslog.empty", ""));
    }
    let Ok(mut text) = std::str::from_utf8(line) else {
        // A reason of its own, not `invalid_utf8`: syslog's dead letter has stage `parse`.
        return Err(Refusal { reason: "syslog.invalid_utf8", ..Refusal::utf8(line) });
    };
    // A non-ASCII first digit cannot start an (ASCII-only) octet count: only ASCII matters.
    if text.as_bytes()[0].is_ascii_digit() {
        text = strip_octet_count(text)?;
    }
    let mut fields = Fields::with_capacity(16);
    let mut rest = text;
    if text.as_bytes()[0] == b'<' {
        rest = priority(text, &mut fields)?;
        // `<PRI>digits ` is RFC 5424's VERSION; `<PRI>2024-...` is a 3164 line with an ISO date.
        match rest.as_bytes().first() {
            Some(c) if c.is_ascii_digit() && !iso_date_start(rest) => {
                parse_5424(rest, &mut fields)?;
                return Ok(fields);
            }
            // Digits are ASCII: a version or a date in another script's digits is a bad
            // timestamp.
            Some(c) if !c.is_ascii() => return Err(refuse("syslog.bad_timestamp", clip(rest, 20))),
            _ => {}
        }
    }
    parse_3164(rest, &mut fields, reference)?;
    Ok(fields)
}

/// Four ASCII digits and a `-`: the start of an ISO date.
pub(super) fn iso_date_start(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Drops `123 ` before `<` when the count fits the line (it may include the LF / CRLF the
/// line reader removed).
fn strip_octet_count(text: &str) -> Step<&str> {
    let b = text.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    // At most seven digits, then a space and `<`.
    if digits > 7 || b.get(digits) != Some(&b' ') || b.get(digits + 1) != Some(&b'<') {
        return Ok(text);
    }
    // At most seven ASCII digits: always a number.
    let count: usize = text[..digits].parse().unwrap_or(usize::MAX);
    let body = &text[digits + 1..];
    match count.checked_sub(body.len()) {
        Some(excess) if excess <= 2 => Ok(body),
        _ => Err(refuse("syslog.bad_frame", "octet count does not match the line")),
    }
}

/// Sets `key` in the fields.
pub(super) fn push(fields: &mut Fields, key: &'static str, value: Value) {
    fields.set(key, value);
}

/// A procid of one to nine ASCII digits as a pid (always below 2^31, as every pid is); None
/// for any other.
pub(super) fn small_int(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() >= 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

pub(super) fn digit_run(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter()
        .all(u8::is_ascii_digit)
        .then(|| part.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn parsed(line: &str, reference: Option<Stamp>) -> Fields {
        match parse(line.as_bytes(), reference) {
            Outcome::Parsed(f) => f,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    pub(super) fn text(fields: &Fields, key: &str) -> Option<String> {
        fields.items().into_iter().find(|(k, _)| k == key).map(|(_, v)| match v {
            Value::String(s) => s.into(),
            Value::Number(n) => n.to_string(),
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn refusals() {
        for (line, reason) in [
            (&b""[..], "syslog.empty"),
            (b"<192>1 - - - - - -", "syslog.bad_priority"),
            (b"<013>1 - - - - - -", "syslog.bad_priority"),
            (b"\xff", "syslog.invalid_utf8"),
            (b"hello", "syslog.bad_timestamp"),
            (b"<13>1 - h a p m x", "syslog.bad_structured_data"),
            ("<13>\u{e9} x".as_bytes(), "syslog.bad_timestamp"),
        ] {
            assert_eq!(parse(line, None).reason(), Some(reason), "{line:?}");
        }
        // Arabic-Indic digits of a date: digits are ASCII, so no timestamp.
        let arabic_digits = "<13>\u{662}\u{660}\u{662}\u{664}-01-01 x";
        assert_eq!(parse(arabic_digits.as_bytes(), None).reason(), Some("syslog.bad_timestamp"));
        // Leaving years 1..=9999 on the way to UTC: a bad timestamp.
        let overflow = b"<13>1 0001-01-01T00:00:00+01:00 - - - - -";
        assert_eq!(parse(overflow, None).reason(), Some("syslog.bad_timestamp"));
    }

    #[test]
    fn looks_like_shapes() {
        assert!(looks_like(b"<13>1"));
        assert!(looks_like(b"Jan  1"));
        assert!(looks_like(b"123456 <13>"));
        assert!(!looks_like(b"1234567 <13>"));
        assert!(!looks_like(b"<x"));
        assert!(!looks_like(b"2024-01-01 x"));
    }
}
