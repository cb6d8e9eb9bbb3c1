//! The access stamp, `dd/Mon/yyyy:HH:MM:SS[.f{1,9}] +zzzz`: its shape, which `looks_like`
//! and the matcher check, and its value in UTC.

use super::line::number;
use crate::time::Stamp;

/// `\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d` at the start of `d` (20 bytes).
pub(super) fn date_shape(d: &[u8]) -> bool {
    let Some(d) = d.get(..20) else { return false };
    let digit = |i: usize| d[i].is_ascii_digit();
    digit(0)
        && digit(1)
        && d[2] == b'/'
        && d[3..6].iter().all(u8::is_ascii_alphabetic)
        && d[6] == b'/'
        && (7..11).all(digit)
        && d[11] == b':'
        && digit(12)
        && digit(13)
        && d[14] == b':'
        && digit(15)
        && digit(16)
        && d[17] == b':'
        && digit(18)
        && digit(19)
}

/// `dd/Mon/yyyy:HH:MM:SS[.f{1,9}] +zzzz` (shape checked by the matcher) in UTC; None for
/// `access.bad_timestamp`.
pub(super) fn timestamp(s: &[u8]) -> Option<Stamp> {
    const MONTHS: [&[u8; 3]; 12] =
        [b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"];
    let name = &s[3..6];
    // A month name may be lower case, title case or upper case, nothing in between.
    let month = MONTHS.iter().position(|m| {
        let lower = name == &m[..];
        let title = name[0] == m[0].to_ascii_uppercase() && name[1..] == m[1..];
        let upper = name.iter().zip(m.iter()).all(|(&c, &l)| c == l.to_ascii_uppercase());
        lower || title || upper
    })? as i64
        + 1;
    let zone = &s[s.len() - 5..];
    let (zh, zm) = (number(&zone[1..3]), number(&zone[3..5]));
    if zh > 23 || zm > 59 {
        return None;
    }
    let offset = (zh * 3600 + zm * 60) * if zone[0] == b'-' { -1 } else { 1 };
    let micro = if s[20] == b'.' {
        let frac = &s[21..s.len() - 6];
        let frac = &frac[..frac.len().min(6)];
        number(frac) * 10i64.pow((6 - frac.len()) as u32)
    } else {
        0
    };
    let (day, year) = (number(&s[0..2]), number(&s[7..11]));
    let (hour, minute, second) = (number(&s[12..14]), number(&s[15..17]), number(&s[18..20]));
    // None (a field out of range, or a UTC time outside years 1..=9999) is
    // access.bad_timestamp.
    Stamp::from_local(year, month, day, hour, minute, second, micro, offset)
}
