//! ISO 8601 / RFC 3339 text as structured lines and envelopes write it (a field's whole
//! value, not a header inside a line: that is `text`).

use super::{Stamp, digits_at, micros_of, two};

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
}
