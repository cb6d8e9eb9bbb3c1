//! logfmt lines (`key=value key="quoted value" flag`): go-logfmt's grammar, then
//! `structured_fields`.
//!
//! The grammar only ever names ASCII bytes (`\x00-\x20`, `=`, `"`, `\`), so it is scanned
//! byte by byte on the UTF-8 text. A key may start with a letter or digit of any script
//! (Rust's `char::is_alphanumeric`, Unicode's Alphabetic and Numeric).

use super::structured::structured_fields;
use super::{Outcome, Refusal};
use crate::json::{Object, Value};
use crate::time::Stamp;

/// Whether the line opens with an identifier-like `key=`, ASCII only (`\w` below is
/// `[A-Za-z0-9_]`): detection is stricter than the parser, so prose is not taken for logfmt.
pub fn looks_like(line: &[u8]) -> bool {
    let mut i = line.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    match line.get(i) {
        Some(&c) if c.is_ascii_alphabetic() || matches!(c, b'_' | b'@' | b'.' | b'$') => i += 1,
        _ => return false,
    }
    // `[\w.@$/:-]{0,63}=`: '=' is not in the class, so only the end of the run can match,
    // and a run longer than 63 cannot.
    let run = line[i..].iter().take(64).take_while(|&&c| is_looks_key_byte(c)).count();
    run <= 63 && line.get(i + run) == Some(&b'=')
}

fn is_looks_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'@' | b'$' | b'/' | b':' | b'-')
}

/// One logfmt line. `reference` is unused: a logfmt time carries its year.
pub fn parse(line: &[u8], _reference: Option<Stamp>) -> Outcome {
    let Ok(text) = std::str::from_utf8(line) else {
        return Outcome::Refused(Refusal::utf8(line));
    };
    let Some(start) = text.bytes().position(|c| c > b' ') else {
        return Outcome::refuse("logfmt.empty", "");
    };
    let first = text.as_bytes()[start];
    // A key starts with a letter or digit (of any script), `_`, `@`, `.` or `$`.
    let key_start = if first >= 0x80 {
        text[start..].chars().next().is_some_and(char::is_alphanumeric)
    } else {
        first.is_ascii_alphanumeric() || matches!(first, b'_' | b'@' | b'.' | b'$')
    };
    if !key_start {
        return Outcome::refuse("logfmt.not_logfmt", "cannot start a key");
    }
    let (found, any_value) = match pairs(text) {
        Ok(found) => found,
        Err(refusal) => return Outcome::Refused(refusal),
    };
    if !any_value {
        return Outcome::refuse("logfmt.not_logfmt", "no key=value pair");
    }
    to_fields(found)
}

/// The pairs as an object (a repeated key keeps its first position and takes the last
/// value, as in a JSON object), then `structured_fields`.
fn to_fields(found: Pairs<'_>) -> Outcome {
    let mut pairs = Object::with_capacity(found.len());
    for (key, value) in found {
        pairs.insert(key, value);
    }
    Outcome::Parsed(structured_fields(pairs))
}

/// The four ASCII hex digits at `i` of a `\u` escape.
fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let digits = b.get(i..i + 4)?;
    digits.iter().try_fold(0u32, |acc, &c| Some(acc * 16 + (c as char).to_digit(16)?))
}

/// A line's pairs as found: keys borrowed from the line, repeats kept.
type Pairs<'a> = Vec<(&'a str, Value)>;

/// A byte that ends a key or an unquoted value: blank (<= U+0020), `=` or `"`.
fn is_stop(c: u8) -> bool {
    c <= b' ' || c == b'=' || c == b'"'
}

/// The pairs in order, with repeats, a bare key's value being `true`, and whether any pair
/// had `=`; or the grammar error, its position counted in characters (as an editor shows it).
fn pairs(text: &str) -> Result<(Pairs<'_>, bool), Refusal> {
    let at = |pos: usize| format!("at {}", text[..pos].chars().count());
    let unexpected = |pos: usize| {
        let reason =
            if text.as_bytes()[pos] == b'=' { "logfmt.unexpected_equals" } else { "logfmt.unexpected_quote" };
        Refusal::new(reason, at(pos))
    };
    let b = text.as_bytes();
    let end = b.len();
    let mut found = Vec::new();
    let mut any_value = false;
    let mut pos = 0;
    loop {
        while pos < end && b[pos] <= b' ' {
            pos += 1;
        }
        if pos == end {
            break;
        }
        if b[pos] == b'=' || b[pos] == b'"' {
            return Err(unexpected(pos));
        }
        let key_start = pos;
        while pos < end && !is_stop(b[pos]) {
            pos += 1;
        }
        // Slicing is safe: every stop byte is ASCII, so both ends are character boundaries.
        let key = &text[key_start..pos];
        if key.contains('\u{fffd}') {
            return Err(Refusal::new("logfmt.invalid_key", at(key_start)));
        }
        if b.get(pos) != Some(&b'=') {
            // A bare key: it ends at a blank or the end; a quote right after it is an error.
            if pos < end && b[pos] > b' ' {
                return Err(unexpected(pos));
            }
            found.push((key, Value::Bool(true)));
            continue;
        }
        pos += 1;
        any_value = true;
        if b.get(pos) == Some(&b'"') {
            // `"(?:[^"\\]|\\.)*"`: a backslash takes the next byte whatever it is (a
            // multi-byte character's other bytes are neither `"` nor `\`).
            let mut j = pos + 1;
            let close = loop {
                match b.get(j) {
                    None => break None,
                    Some(b'"') => break Some(j),
                    Some(b'\\') if j + 1 < end => j += 2,
                    Some(b'\\') => break None,
                    Some(_) => j += 1,
                }
            };
            // Unclosed: an unterminated quote, reported where it opens.
            let close = close.ok_or_else(|| Refusal::new("logfmt.unterminated_quote", at(pos)))?;
            let quoted = &text[pos + 1..close];
            let value = if quoted.contains('\\') { unquote(quoted)? } else { quoted.to_owned() };
            found.push((key, Value::from(value)));
            // A closing quote ends the pair by itself: the next key may follow at once.
            pos = close + 1;
            continue;
        }
        let value_start = pos;
        while pos < end && !is_stop(b[pos]) {
            pos += 1;
        }
        if pos < end && b[pos] > b' ' {
            return Err(unexpected(pos)); // `=` or `"` right after a value
        }
        found.push((key, Value::from(&text[value_start..pos])));
    }
    Ok((found, any_value))
}

/// JSON-style escapes (and `\'`); a lone surrogate becomes U+FFFD; any other escape is an
/// error (`logfmt.invalid_quoted_value`). Every backslash in `quoted` is followed by a
/// character: the scanner took them in pairs.
fn unquote(quoted: &str) -> Result<String, Refusal> {
    let invalid =
        |escape: u8| Refusal::new("logfmt.invalid_quoted_value", format!("escape \\{}", char::from(escape)));
    let b = quoted.as_bytes();
    let mut out = String::with_capacity(quoted.len());
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&quoted[run..i]);
        let escape = *b.get(i + 1).ok_or_else(|| invalid(b'\\'))?;
        if escape == b'u' {
            // A `\u` without four hex digits is an unknown escape, reported as `\u`.
            let code = hex4(b, i + 2).ok_or_else(|| invalid(b'u'))?;
            let low = if (0xD800..0xDC00).contains(&code) && b.get(i + 6..i + 8) == Some(b"\\u") {
                hex4(b, i + 8).filter(|low| (0xDC00..0xE000).contains(low))
            } else {
                None
            };
            if let Some(low) = low {
                let point = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                out.push(char::from_u32(point).ok_or_else(|| invalid(b'u'))?);
                i += 12;
            } else {
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                i += 6;
            }
        } else {
            out.push(match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'\'' => '\'',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                _ => return Err(invalid(escape)),
            });
            i += 2;
        }
        run = i;
    }
    out.push_str(&quoted[run..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> crate::parsers::Fields {
        match parse(line.as_bytes(), None) {
            Outcome::Parsed(f) => f,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn well_known_keys_and_attributes() {
        let f = fields(
            r#"ts=2024-01-02T03:04:05.123+01:00 level=WARNING msg="disk \"sda\" 91% full" pid=42 caller=m.go:88 retry"#,
        );
        assert_eq!(f.keys(), ["@timestamp", "log.level", "message", "process.pid", "attributes"]);
        assert_eq!(f.timestamp.map(|t| t.iso()).as_deref(), Some("2024-01-02T02:04:05.123000Z"));
        assert_eq!(f.get("log.level"), Some(&Value::from("warn")));
        assert_eq!(f.get("message"), Some(&Value::from("disk \"sda\" 91% full")));
        assert_eq!(f.get("process.pid"), Some(&Value::from(42)));
        let attrs = f.get("attributes").and_then(Value::as_object).unwrap();
        assert_eq!(attrs.get("caller"), Some(&Value::from("m.go:88")));
        assert_eq!(attrs.get("retry"), Some(&Value::Bool(true)));
    }

    #[test]
    fn repeats_keep_the_first_position_and_the_last_value() {
        let f = fields(r#"a=1 b="x"c=2 a"#);
        let attrs = f.get("attributes").and_then(Value::as_object).unwrap();
        let items: Vec<_> = attrs.iter().collect();
        assert_eq!(items[0], (&"a".into(), &Value::Bool(true)));
        assert_eq!(items[2], (&"c".into(), &Value::from("2")));
    }

    #[test]
    fn escapes() {
        let f = fields(r#"k="\u00e9\ud83d\ude00\ud800\/\t""#);
        let attrs = f.get("attributes").and_then(Value::as_object).unwrap();
        assert_eq!(attrs.get("k"), Some(&Value::from("é😀\u{fffd}/\t")));
    }

    #[test]
    fn refusals() {
        for (line, reason) in [
            ("", "logfmt.empty"),
            ("  \t", "logfmt.empty"),
            ("hello world", "logfmt.not_logfmt"),
            ("{\"a\":1}", "logfmt.not_logfmt"),
            ("a=\"open", "logfmt.unterminated_quote"),
            ("a==b", "logfmt.unexpected_equals"),
            ("a=b\"c", "logfmt.unexpected_quote"),
            ("k=\"\\x\"", "logfmt.invalid_quoted_value"),
            ("k=\"\\u12\"", "logfmt.invalid_quoted_value"),
            ("x=1 =2", "logfmt.unexpected_equals"),
            ("\u{fffd}=1", "logfmt.not_logfmt"),
        ] {
            assert_eq!(parse(line.as_bytes(), None).reason(), Some(reason), "{line:?}");
        }
        assert_eq!(parse(b"a=\xff", None).reason(), Some("invalid_utf8"));
        assert_eq!(parse("€=1".as_bytes(), None).reason(), Some("logfmt.not_logfmt"));
        assert!(matches!(parse("é=1".as_bytes(), None), Outcome::Parsed(_)));
        assert!(matches!(parse("é=1".as_bytes(), None), Outcome::Parsed(_)));
        assert!(matches!(parse(b"ts=0001-01-01T00:00+01:00 a=1", None), Outcome::Parsed(_)));
    }

    #[test]
    fn looks() {
        assert!(looks_like(b" \tlevel=info"));
        assert!(looks_like(b"a/b:c-d.e@f$=1"));
        assert!(!looks_like(b"1a=1"));
        assert!(!looks_like(b"hello world"));
        let long = format!("a{}=1", "b".repeat(63));
        assert!(looks_like(long.as_bytes()));
        let longer = format!("a{}=1", "b".repeat(64));
        assert!(!looks_like(longer.as_bytes()));
    }
}
