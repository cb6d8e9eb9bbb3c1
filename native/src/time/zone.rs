//! The zone after a timestamp in a log line: `Z`, a numeric offset, or a name.
//!
//! Names are abbreviations, which are not unique world-wide (IST is India, Ireland and
//! Israel; BST is British summer and Bangladesh): only the ones that name one offset in
//! practice are read, each as the fixed offset it names. Any other name is left in the
//! message and the time is read as UTC, as a time without a zone is.

use super::two;

/// Zone abbreviations and their offsets in minutes east of UTC. docs/ingest.md lists them.
const NAMES: [(&[u8], i64); 22] = [
    (b"UTC", 0),
    (b"GMT", 0),
    (b"WET", 0),
    (b"WEST", 60),
    (b"CET", 60),
    (b"CEST", 120),
    (b"MET", 60),
    (b"MEST", 120),
    (b"EET", 120),
    (b"EEST", 180),
    (b"MSK", 180),
    (b"EST", -300),
    (b"EDT", -240),
    (b"CST", -360),
    (b"CDT", -300),
    (b"MST", -420),
    (b"MDT", -360),
    (b"PST", -480),
    (b"PDT", -420),
    (b"JST", 540),
    (b"KST", 540),
    (b"AEST", 600),
];

/// Whether `c` may follow a timestamp: not a letter, digit, `_` or `:`, so that `10:00:00Zulu`
/// or `+0100abc` are not read as a zone.
pub fn ends_word(c: Option<u8>) -> bool {
    c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b':'))
}

/// Whether a timestamp may end at `end`: where a word ends, or at a `:` that separates it
/// from a word (`2025-01-01 00:00:00.123:INFO:text`), not from more digits of a time.
pub fn ends_stamp(b: &[u8], end: usize) -> bool {
    ends_word(b.get(end).copied())
        || (b.get(end) == Some(&b':') && !b.get(end + 1).is_some_and(u8::is_ascii_digit))
}

/// A zone starting exactly at `q`: (offset in seconds east of UTC, where it ends). A numeric
/// offset of a day or more is no zone.
pub fn read(b: &[u8], q: usize) -> Option<(i64, usize)> {
    match b.get(q)? {
        b'Z' | b'z' if ends_word(b.get(q + 1).copied()) => Some((0, q + 1)),
        b'+' | b'-' => offset(b, q),
        b'A'..=b'Z' => {
            let n = b[q..].iter().take_while(|c| c.is_ascii_uppercase()).count();
            let name = &b[q..q + n];
            let (_, minutes) = NAMES.iter().find(|(known, _)| *known == name)?;
            // UTC+02:00, GMT-5: the name, then an offset from it.
            if (name == b"UTC" || name == b"GMT")
                && let Some((seconds, end)) = offset(b, q + n)
            {
                return Some((seconds, end));
            }
            ends_word(b.get(q + n).copied()).then_some((minutes * 60, q + n))
        }
        _ => None,
    }
}

/// `[+-]hh`, `[+-]hhmm` or `[+-]hh:mm` at `q`, the longest form that ends a word.
fn offset(b: &[u8], q: usize) -> Option<(i64, usize)> {
    let sign = match b.get(q)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = two(b, q + 1)?;
    let forms = [
        (b.get(q + 3) == Some(&b':')).then(|| two(b, q + 4).map(|m| (m, q + 6))).flatten(),
        two(b, q + 3).map(|m| (m, q + 5)),
        Some((0, q + 3)),
    ];
    let (minutes, end) = forms.into_iter().flatten().find(|(_, end)| ends_word(b.get(*end).copied()))?;
    (hours < 24 && minutes < 60).then_some((sign * (hours * 3600 + minutes * 60), end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let z = |t: &str| read(t.as_bytes(), 0);
        assert_eq!(z("Z rest"), Some((0, 1)));
        assert_eq!(z("+02:00]"), Some((7200, 6)));
        assert_eq!(z("-0530 x"), Some((-19800, 5)));
        assert_eq!(z("+09"), Some((32400, 3)));
        assert_eq!(z("+2400"), None);
        assert_eq!(z("CEST:"), None);
        assert_eq!(z("CEST ["), Some((7200, 4)));
        assert_eq!(z("UTC+1:00"), Some((0, 3))); // one-digit hours are no offset: UTC alone
        assert_eq!(z("GMT-05:00 x"), Some((-18000, 9)));
        assert_eq!(z("IST x"), None);
        assert_eq!(z("Zulu"), None);
    }
}
