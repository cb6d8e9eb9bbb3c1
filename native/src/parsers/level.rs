//! Log levels: the one table of every spelling the parsers read, and its ECS `log.level`
//! values. docs/ingest.md lists the table; the line parsers read spellings from it (a
//! structured `level` value, a word in a text header, a letter where the format has one).

use crate::json::Value;
use crate::parsers::structured::py_space;

/// A level's spelling, lower case, to its ECS value. The single letters are glog's,
/// logcat's and MongoDB's; `log` is PostgreSQL's ordinary message, `note` and `system`
/// MySQL's, `config` java.util.logging's.
fn level_of(word: &str) -> Option<&'static str> {
    Some(match word {
        "trace" | "finest" | "finer" | "verbose" | "v" => "trace",
        "debug" | "dbug" | "dbg" | "fine" | "d" => "debug",
        "info" | "inf" | "information" | "informational" | "i" | "log" | "note" | "system" | "config" => {
            "info"
        }
        "notice" => "notice",
        "warn" | "warning" | "wrn" | "w" => "warn",
        "error" | "err" | "eror" | "severe" | "e" => "error",
        "critical" | "crit" | "crt" => "critical",
        "alert" => "alert",
        "emerg" | "emergency" => "emergency",
        "fatal" | "ftl" | "f" | "panic" => "fatal",
        _ => return None,
    })
}

/// A level word in a text line's header (`INFO`, `Warning`, `[notice]`, `error:`), spelt
/// with ASCII letters and as the formats that print it do: upper case or capitalised, or
/// lower case where `marked` (in brackets or before a colon: a bare `info` in a sentence is
/// no level). A numbered `TRACE1`..`TRACE8` (Apache) or `DEBUG1`..`DEBUG5` (PostgreSQL) is
/// its word. Single letters are no level word here (`letter`).
pub fn header_word(word: &[u8], marked: bool) -> Option<&'static str> {
    let word = match word {
        [head @ .., b'1'..=b'9'] if head.len() == 5 => head,
        w => w,
    };
    if !(3..=13).contains(&word.len()) || !word.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let upper = word.iter().all(u8::is_ascii_uppercase);
    let capitalised = word[0].is_ascii_uppercase() && word[1..].iter().all(u8::is_ascii_lowercase);
    let lower = word.iter().all(u8::is_ascii_lowercase);
    if !(upper || capitalised || (lower && marked)) {
        return None;
    }
    let mut buf = [0u8; 13];
    let lowered = &mut buf[..word.len()];
    lowered.copy_from_slice(word);
    lowered.make_ascii_lowercase();
    // `LOG`, `NOTE`, `SYSTEM` and `CONFIG` are levels only where marked (`LOG:`, `[Note]`):
    // bare, they are words of a message.
    let level = level_of(std::str::from_utf8(lowered).ok()?)?;
    let plain_word = matches!(&lowered[..], b"log" | b"note" | b"system" | b"config");
    (marked || !plain_word).then_some(level)
}

/// The level a message opens with, where a syslog line has no priority to say it
/// (`sshd[1]: error: ...`, `app: [warn] ...`, `app: ERROR ...`): a level word before a colon,
/// in brackets, or upper case. "Error handling ..." is no level.
pub fn opening_word(message: &str) -> Option<&'static str> {
    let b = message.as_bytes();
    let end = b.iter().position(|c| *c == b' ').unwrap_or(b.len());
    let token = &b[..end];
    if let Some(word) = token.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]")) {
        return header_word(word, true);
    }
    match token.strip_suffix(b":") {
        Some(word) => header_word(word, true),
        None if token.iter().all(|c| !c.is_ascii_lowercase()) => header_word(token, false),
        None => None,
    }
}

/// A one-letter level, where the format puts one (logcat's `V D I W E F A`, MongoDB's and
/// glog's `I W E F D`): A, Android's "assert", is fatal.
pub fn letter(c: u8) -> Option<&'static str> {
    match c {
        b'A' => Some("fatal"),
        b'V' | b'D' | b'I' | b'W' | b'E' | b'F' => {
            level_of(std::str::from_utf8(&[c.to_ascii_lowercase()]).ok()?)
        }
        _ => None,
    }
}

/// RFC 5424 severities, by code, as log.level values.
pub const SYSLOG_SEVERITIES: [&str; 8] =
    ["emergency", "alert", "critical", "error", "warn", "notice", "info", "debug"];

/// The level a text names: a known spelling, as written or trimmed and lower-cased; None
/// for a text longer than 16 characters.
pub fn level_of_text(value: &str) -> Option<&'static str> {
    if value.chars().count() > 16 {
        return None;
    }
    if let Some(level) = level_of(value) {
        return Some(level);
    }
    let stripped = value.trim_matches(py_space);
    if !stripped.is_ascii() {
        // No non-ASCII character lower-cases into the ASCII letters a level is spelt with
        // (U+212A, the Kelvin sign, becomes "k", which no level has).
        return None;
    }
    level_of(&stripped.to_ascii_lowercase())
}

/// The level a value names: a text as `level_of_text` reads it, an integer 0..=7 (or one
/// such digit as text) as its syslog severity.
pub fn normalise_level(value: &Value) -> Option<&'static str> {
    match value {
        // An integer beyond 64 bits is a float here, and no severity.
        Value::Number(n) if !n.is_f64() => {
            n.as_u64().and_then(|i| SYSLOG_SEVERITIES.get(usize::try_from(i).ok()?).copied())
        }
        // The journal's `PRIORITY` is a syslog severity as text ("6").
        Value::String(s) if s.len() == 1 && s.as_bytes()[0].is_ascii_digit() => {
            SYSLOG_SEVERITIES.get(usize::from(s.as_bytes()[0] - b'0')).copied()
        }
        Value::String(s) => level_of_text(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level_of_text(" WARNING "), Some("warn"));
        assert_eq!(level_of_text("Err"), Some("error"));
        assert_eq!(level_of_text("verbose"), Some("trace"));
        assert_eq!(level_of_text("chatty"), None);
        assert_eq!(normalise_level(&Value::from(3)), Some("error"));
        assert_eq!(normalise_level(&Value::from(-3)), None);
        assert_eq!(normalise_level(&Value::Bool(true)), None);
    }

    #[test]
    fn header_words() {
        assert_eq!(header_word(b"WARN", false), Some("warn"));
        assert_eq!(header_word(b"Info", false), Some("info"));
        assert_eq!(header_word(b"info", false), None);
        assert_eq!(header_word(b"notice", true), Some("notice"));
        assert_eq!(header_word(b"TRACE3", true), Some("trace"));
        assert_eq!(header_word(b"DEBUG1", false), Some("debug"));
        assert_eq!(header_word(b"LOG", false), None);
        assert_eq!(header_word(b"LOG", true), Some("info"));
        assert_eq!(header_word(b"I", true), None);
        assert_eq!(header_word(b"iNFO", true), None);
        assert_eq!(letter(b'A'), Some("fatal"));
        assert_eq!(letter(b'V'), Some("trace"));
        assert_eq!(letter(b'X'), None);
        assert_eq!(opening_word("error: PAM failure"), Some("error"));
        assert_eq!(opening_word("[warn] slow"), Some("warn"));
        assert_eq!(opening_word("FATAL x"), Some("fatal"));
        assert_eq!(opening_word("Error handling request"), None);
        assert_eq!(opening_word("error handling request"), None);
    }
}
