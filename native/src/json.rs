//! JSON in and out, through serde_json, with the nesting limits the reference has (orjson's):
//! a text nested deeper than 1024 levels is not read, a document deeper than 254 is not
//! written. Values are `value::Value` (objects in insertion order).

pub use crate::value::{Object, Value};
use serde::Deserialize;

/// Levels of nesting orjson reads: a deeper text is invalid JSON to it (`json.invalid`).
const READ_DEPTH: usize = 1024;
/// Levels of nesting orjson writes, the document itself being the first: a deeper document
/// is `document.not_serialisable`.
const WRITE_DEPTH: usize = 254;

/// Why a text is not read as JSON. orjson refuses the same texts: bad syntax, text that is
/// not UTF-8, lone surrogate escapes, numbers that overflow a float, nesting past 1024.
#[derive(Debug)]
pub struct Invalid;

/// The whole of `text` as one JSON value. Integers beyond 64 bits become floats, as orjson
/// reads them; floats are correctly rounded (`float_roundtrip`), as orjson reads them.
pub fn parse(text: &[u8]) -> Result<Value, Invalid> {
    // Most texts hold fewer brackets in all than the depth limits: that settles the depth.
    let brackets = memchr::memchr2_iter(b'[', b'{', text).count();
    if brackets > READ_DEPTH && too_deep(text) {
        return Err(Invalid);
    }
    let fixed = integer_minus_zero(text);
    // JSON is UTF-8 throughout: checked once, for the whole text (ASCII at vector speed),
    // serde_json then reads a `str` and checks no string again, which was a third of its
    // time.
    let text = std::str::from_utf8(fixed.as_deref().unwrap_or(text)).map_err(|_| Invalid)?;
    if brackets <= SERDE_DEPTH {
        // Within serde_json's own limit: no stack to grow, and no wrapper on every level.
        let mut reader = serde_json::Deserializer::from_str(text);
        let value = Value::deserialize(&mut reader).map_err(|_| Invalid)?;
        reader.end().map_err(|_| Invalid)?;
        return Ok(value);
    }
    read_deep(text)
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
/// float -0.0, orjson (and Python) as the integer 0; `-0.0` stays a float in both. The `-`
/// becomes a blank, which JSON allows wherever a value starts. Strings are skipped; a text
/// that is not JSON may be changed, and stays not JSON.
fn integer_minus_zero(text: &[u8]) -> Option<Vec<u8>> {
    // Most `-0` are inside strings (dates): only one after a value's opening byte may be a
    // number, and only then is the text read with its strings skipped.
    memchr::memmem::find_iter(text, b"-0")
        .find(|&i| i == 0 || matches!(text[i - 1], b'[' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'))?;
    let mut fixed: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    for (i, &c) in text.iter().enumerate() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'-' if text.get(i + 1) == Some(&b'0')
                && !matches!(text.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
                && (i == 0 || matches!(text[i - 1], b'[' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r')) =>
            {
                fixed.get_or_insert_with(|| text.to_vec())[i] = b' ';
            }
            _ => {}
        }
    }
    fixed
}

/// Whether a JSON text opens more than `READ_DEPTH` arrays and objects at once (strings
/// skipped). A text that is not JSON may be misjudged: it is refused either way.
fn too_deep(text: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &c in text {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
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

/// A document nested deeper than orjson writes: the caller makes it a dead letter.
#[derive(Debug)]
pub struct Unwritable;

/// Appends `doc` as JSON to `out`, or refuses it past `WRITE_DEPTH` levels (leaving `out`
/// as it was).
pub fn write_document(doc: &Object, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    let start = out.len();
    if write_object(doc, out, WRITE_DEPTH - 1) {
        Ok(())
    } else {
        out.truncate(start);
        Err(Unwritable)
    }
}

/// Appends `v` as JSON, however deep (for text shown to people and tests).
pub fn write_any(v: &Value, out: &mut Vec<u8>) {
    write_value(v, out, usize::MAX);
}

/// Writes `o`, whose members may nest `levels` more arrays and objects; false past that.
fn write_object(o: &Object, out: &mut Vec<u8>, levels: usize) -> bool {
    out.push(b'{');
    for (i, (k, v)) in o.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(k, out);
        out.push(b':');
        if !write_value(v, out, levels) {
            return false;
        }
    }
    out.push(b'}');
    true
}

fn write_value(v: &Value, out: &mut Vec<u8>, levels: usize) -> bool {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // serde_json's own spelling (itoa, ryu), as its serialiser writes numbers.
        Value::Number(n) => {
            serde_json::to_writer(&mut *out, n).expect("a number into a Vec");
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            if levels == 0 {
                return false;
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !write_value(item, out, levels - 1) {
                    return false;
                }
            }
            out.push(b']');
        }
        Value::Object(o) => return levels > 0 && write_object(o, out, levels - 1),
    }
    true
}

/// What a byte becomes in a JSON string: 0 itself, else the letter after `\\` (`u`: \\u00XX).
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = b'u';
        c += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `s` as a JSON string. Log text rarely needs an escape: eight bytes at a time are
/// checked for one, and runs without are copied whole.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8)
            && !needs_escape(u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
        {
            i += 8;
            continue;
        }
        let b = bytes[i];
        let escape = ESCAPE[b as usize];
        if escape != 0 {
            out.extend_from_slice(&bytes[run..i]);
            run = i + 1;
            if escape == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ]);
            } else {
                out.extend_from_slice(&[b'\\', escape]);
            }
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Whether one of eight bytes is below 0x20, a `"` or a `\\` (the usual bit tricks: a byte
/// whose top bit the subtraction sets, and which had it clear, was below the bound).
fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH;
    below(x, 0x20) | below(x ^ (ONES * b'"' as u64), 1) | below(x ^ (ONES * b'\\' as u64), 1) != 0
}

/// Python's truthiness, for the reference's `a or b`.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
    }
}

/// The object at `key` in `obj`, made (replacing any non-object there) if need be: what
/// `child = node.get(k); if not isinstance(child, dict): child = node[k] = {}` does.
pub fn child<'o>(obj: &'o mut Object, key: &str) -> &'o mut Object {
    let slot = obj.get_or_insert_with(key, || Value::Object(Object::new()));
    if !slot.is_object() {
        *slot = Value::Object(Object::new());
    }
    match slot {
        Value::Object(o) => o,
        _ => unreachable!("made an object above"),
    }
}

/// `d.update(other)`: a key already there keeps its position and takes the new value.
pub fn update(obj: &mut Object, other: Object) {
    for (k, v) in other {
        obj.insert(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(levels: usize) -> Vec<u8> {
        [b"{\"a\":".repeat(levels), b"1".to_vec(), b"}".repeat(levels)].concat()
    }

    #[test]
    fn reads_what_orjson_reads() {
        let v = parse(br#" {"a": [1, -2.5, "x\u00e9\ud83d\ude00\n"], "b": null, "a": true} "#).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.keys().collect::<Vec<_>>(), ["a", "b"]); // a dict's positions
        assert_eq!(obj["a"], Value::Bool(true));
        assert_eq!(parse(b"99999999999999999999").unwrap(), Value::from(1e20));
        assert_eq!(parse(b"18446744073709551615").unwrap(), Value::from(u64::MAX));
        let zeros = parse(br#"[-0, -0.0, -0e1, 1e-0, {"-0": -0}, "-0"]"#).unwrap();
        assert_eq!(zeros.to_string(), r#"[0,-0.0,-0.0,1.0,{"-0":0},"-0"]"#);
    }

    #[test]
    fn refuses_what_orjson_refuses() {
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

    #[test]
    fn writes_254_levels_and_no_more() {
        let Value::Object(doc) = parse(&deep(254)).unwrap() else { panic!() };
        assert!(write_document(&doc, &mut Vec::new()).is_ok());
        let Value::Object(doc) = parse(&deep(255)).unwrap() else { panic!() };
        assert!(write_document(&doc, &mut Vec::new()).is_err());
    }

    #[test]
    fn writes_json_that_reads_back_the_same() {
        let text = br#"{"a":"q\"\\\n\u0001\u00e9","b":[1e16,0.1,-0.0,18446744073709551615,-5],"c":{}}"#;
        let Value::Object(doc) = parse(text).unwrap() else { panic!() };
        let mut out = Vec::new();
        write_document(&doc, &mut out).unwrap();
        assert_eq!(parse(&out).unwrap(), Value::Object(doc));
    }

    #[test]
    fn strings_read_back_as_written() {
        let mut texts: Vec<String> = (0u8..128).map(|b| format!("abcdefg{}hijklmnopq", b as char)).collect();
        texts.extend(["", "\"", "é\u{1f600}\\", "0123456\n", "\u{7f}\u{80}\u{2028}"].map(String::from));
        for text in texts {
            let mut out = Vec::new();
            write_str(&text, &mut out);
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), text);
        }
    }

    #[test]
    fn a_dict_keeps_the_first_position_of_a_key() {
        let mut obj = Object::new();
        obj.insert("a", Value::from(1));
        obj.insert("b", Value::from(2));
        update(&mut obj, Object::from_iter([("a".to_owned(), Value::from(3))]));
        assert_eq!(obj.iter().next(), Some((&"a".into(), &Value::from(3))));
        child(&mut obj, "b").insert("c", Value::Null);
        assert_eq!(obj["b"], Value::from(serde_json::json!({"c": null})));
    }
}
