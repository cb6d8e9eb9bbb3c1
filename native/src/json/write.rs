//! Writing a document as JSON: compact, strings escaped only where JSON requires, at most
//! 254 levels deep (what Elasticsearch's parser and every earlier build accepted).

use super::{Object, Value};

/// Levels of nesting written, the document itself being the first: a deeper document is
/// `document.not_serialisable`.
const WRITE_DEPTH: usize = 254;

/// A document nested deeper than `WRITE_DEPTH`: the caller makes it a dead letter.
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

/// Appends `s` as a JSON string. Log text rarely needs an escape: a scan eight bytes at a
/// time (`needs_escape`) says whether any does, and a text without one is copied whole.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if needs_escape(bytes) {
        write_escaped(bytes, out);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Whether any byte is a control character, `"` or `\\`: word-at-a-time tests (a byte
/// below 0x20; a byte equal to one of the two), exact for the word as a whole. Bytes may be
/// read twice (the last eight of a long text; two overlapping halves of a text of four to
/// seven bytes), which changes nothing; a text of up to three bytes is padded with spaces,
/// which need no escape.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let word_needs = |w: u64| {
        let (quote, backslash) = (w ^ (ONES * 0x22), w ^ (ONES * 0x5c));
        let below_space = w.wrapping_sub(ONES * 0x20) & !w;
        (below_space | (quote.wrapping_sub(ONES) & !quote) | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGHS
            != 0
    };
    let n = bytes.len();
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let half = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes")));
    match n {
        0..=3 => word_needs(bytes.iter().fold(ONES * 0x20, |w, &b| (w << 8) | u64::from(b))),
        4..=7 => word_needs(half(0) | half(n - 4) << 32),
        _ => (0..n / 8).any(|i| word_needs(word(i * 8))) || word_needs(word(n - 8)),
    }
}

fn write_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[b as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
    }
    out.extend_from_slice(&bytes[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn deep(levels: usize) -> Vec<u8> {
        [b"{\"a\":".repeat(levels), b"1".to_vec(), b"}".repeat(levels)].concat()
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

    proptest::proptest! {
        /// The word-at-a-time scan agrees with a byte-by-byte one, at every length and
        /// wherever the byte to escape lies.
        #[test]
        fn needs_escape_agrees_with_a_byte_scan(
            bytes in proptest::collection::vec(proptest::prop_oneof![0x20u8..0x7f, proptest::prelude::any::<u8>()], 0..40),
        ) {
            let naive = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(needs_escape(&bytes), naive);
        }
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
}
