//! Reading JSON through serde_json, with the nesting limit and number rules documents have
//! always had: a text nested deeper than 1024 levels is not read, integers beyond 64 bits
//! become floats, floats are correctly rounded, `-0` is the integer 0.

use serde::Deserialize;

use super::Value;

/// Levels of nesting read: a deeper text is invalid JSON (`json.invalid`). Lines have always
/// been read to this depth; the limit bounds the reader's stack.
const READ_DEPTH: usize = 1024;

/// Why a text is not read as JSON: bad syntax, text that is not UTF-8, lone surrogate
/// escapes, numbers that overflow a float, nesting past 1024.
#[derive(Debug)]
pub struct Invalid;

/// The whole of `text` as one JSON value. Integers beyond 64 bits become floats, as documents
/// have always held them; floats are correctly rounded (`float_roundtrip`), so a float
/// written back reads as it was.
pub fn parse(text: &[u8]) -> Result<Value, Invalid> {
    let fixed = integer_minus_zero(text);
    let bytes = fixed.as_deref().unwrap_or(text);
    // JSON is UTF-8 throughout: checked once, for the whole text (ASCII at vector speed),
    // serde_json then reads a `str` and checks no string again, which was a third of its
    // time.
    let text = std::str::from_utf8(bytes).map_err(|_| Invalid)?;
    // Within serde_json's own nesting limit (nearly every text): no stack to grow, and no
    // wrapper on every level. Only a text it refuses is looked at again, for its depth.
    let mut reader = serde_json::Deserializer::from_str(text);
    let within = Value::deserialize(&mut reader).and_then(|value| reader.end().map(|()| value));
    if let Ok(value) = within {
        return Ok(value);
    }
    match brackets(bytes) {
        n if n <= SERDE_DEPTH => Err(Invalid),
        n if n > READ_DEPTH && too_deep(bytes) => Err(Invalid),
        _ => read_deep(text),
    }
}

/// The arrays and objects a text opens, strings included: more than a depth limit, or the
/// text cannot be that deep.
fn brackets(text: &[u8]) -> usize {
    text.iter().filter(|&&c| c == b'[' || c == b'{').count()
}

/// serde_json's own nesting limit.
const SERDE_DEPTH: usize = 128;

fn read_deep(text: &str) -> Result<Value, Invalid> {
    let mut reader = serde_json::Deserializer::from_str(text);
    // serde_json's own limit is 128; `too_deep` has bounded the depth at 1024 instead. That
    // many levels of recursion may not fit the stack of the thread that polls (2 MiB for
    // Rust's test threads, less for some Python threads): serde_stacker moves the rest of
    // the reading onto a new stack when little is left.
    reader.disable_recursion_limit();
    let value = Value::deserialize(serde_stacker::Deserializer::new(&mut reader)).map_err(|_| Invalid)?;
    reader.end().map_err(|_| Invalid)?;
    Ok(value)
}

/// `text` with each integer `-0` written `0`, if it has one. serde_json reads `-0` as the
/// float -0.0; here it is the integer 0, as documents have always held it (`-0.0` stays a
/// float). The `-` becomes a blank, which JSON allows wherever a value starts. Strings are
/// skipped; a text that is not JSON may be changed, and stays not JSON.
fn integer_minus_zero(text: &[u8]) -> Option<Vec<u8>> {
    // Most `-0` are inside strings (dates): only one where a value may start may be a
    // number, and only then is the text read with its strings skipped.
    memchr::memmem::find_iter(text, b"-0").find(|&i| value_may_start(text, i))?;
    let mut fixed: Option<Vec<u8>> = None;
    for (i, c) in outside_strings(text) {
        if c == b'-'
            && text.get(i + 1) == Some(&b'0')
            && !matches!(text.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
            && value_may_start(text, i)
        {
            fixed.get_or_insert_with(|| text.to_vec())[i] = b' ';
        }
    }
    fixed
}

/// Whether a value may start at `i`: first in the text, or after an opening bracket, a
/// separator or a blank.
fn value_may_start(text: &[u8], i: usize) -> bool {
    i == 0 || matches!(text[i - 1], b'[' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether a JSON text opens more than `READ_DEPTH` arrays and objects at once (strings
/// skipped). A text that is not JSON may be misjudged: it is refused either way.
fn too_deep(text: &[u8]) -> bool {
    let mut depth = 0usize;
    for (_, c) in outside_strings(text) {
        match c {
            b'[' | b'{' => {
                depth += 1;
                if depth > READ_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The bytes of a JSON text outside its strings, with their positions (the quotes left
/// out). A text that is not JSON is scanned all the same.
fn outside_strings(text: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.iter().enumerate().filter_map(move |(i, &c)| {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            return None;
        }
        if c == b'"' {
            in_string = true;
            return None;
        }
        Some((i, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(levels: usize) -> Vec<u8> {
        [b"{\"a\":".repeat(levels), b"1".to_vec(), b"}".repeat(levels)].concat()
    }

    #[test]
    fn reads_json_with_its_number_and_key_rules() {
        let v = parse(br#" {"a": [1, -2.5, "x\u00e9\ud83d\ude00\n"], "b": null, "a": true} "#).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.keys().collect::<Vec<_>>(), ["a", "b"]); // first position, last value
        assert_eq!(obj["a"], Value::Bool(true));
        assert_eq!(parse(b"99999999999999999999").unwrap(), Value::from(1e20));
        assert_eq!(parse(b"18446744073709551615").unwrap(), Value::from(u64::MAX));
        let zeros = parse(br#"[-0, -0.0, -0e1, 1e-0, {"-0": -0}, "-0"]"#).unwrap();
        assert_eq!(zeros.to_string(), r#"[0,-0.0,-0.0,1.0,{"-0":0},"-0"]"#);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [&b"{"[..], b"01", b"1e999", b"\"\\ud800\"", b"[1,]", b"{} x", b"\xff", b"\"\x01\""] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn reads_1024_levels_and_no_more() {
        assert!(parse(&deep(1024)).is_ok());
        assert!(parse(&deep(1025)).is_err());
        // Brackets inside strings do not count.
        let text = format!("[\"{}\"]", "[".repeat(2000));
        assert!(parse(text.as_bytes()).is_ok());
    }
}
