//! The values a parsed line and a document are made of, with Python's dict semantics, and the
//! JSON writer that serialises a document exactly as orjson does.

use std::borrow::Cow;

use crate::time::Stamp;

/// A JSON-like value, as the Python reference holds it after `orjson.loads` or a parser.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Only ever the value of `@timestamp` in parser output (a Python `datetime`).
    Time(Stamp),
    List(Vec<Value>),
    Obj(Fields),
}

impl Value {
    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_obj(&self) -> Option<&Fields> {
        match self {
            Value::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// Python's truthiness, for the reference's `a or b`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Time(_) => true,
            Value::List(l) => !l.is_empty(),
            Value::Obj(o) => !o.is_empty(),
        }
    }
}

/// A key of a `Fields` map: the ECS names this crate writes are string literals, borrowed for
/// free; keys read from a line (a JSON object's, logfmt's) are owned.
pub type Key = Cow<'static, str>;

/// An insertion-ordered map with a Python dict's rules: setting an existing key keeps its
/// position and replaces its value. Documents are small (a dozen keys), so a vector wins.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields(pub Vec<(Key, Value)>);

impl Fields {
    pub fn new() -> Fields {
        Fields(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Fields {
        Fields(Vec::with_capacity(n))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// `d[key] = value`.
    pub fn set(&mut self, key: impl Into<Key>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// `d.pop(key, None)`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// `d.update(other)`.
    pub fn update(&mut self, other: Fields) {
        for (k, v) in other.0 {
            self.set(k, v);
        }
    }

    /// The object at `key`, made (replacing any non-object there) if need be: what
    /// `child = node.get(k); if not isinstance(child, dict): child = node[k] = {}` does.
    pub fn child(&mut self, key: impl Into<Key> + AsRef<str>) -> &mut Fields {
        let i = match self.0.iter().position(|(k, _)| k == key.as_ref()) {
            Some(i) => {
                if !matches!(self.0[i].1, Value::Obj(_)) {
                    self.0[i].1 = Value::Obj(Fields::new());
                }
                i
            }
            None => {
                self.0.push((key.into(), Value::Obj(Fields::new())));
                self.0.len() - 1
            }
        };
        match &mut self.0[i].1 {
            Value::Obj(o) => o,
            _ => unreachable!("made an object above"),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Key, Value)> {
        self.0.iter()
    }
}

// ------------------------------------------------------------------------------ writing

/// Why a value cannot be written as orjson would write it: the caller declines.
#[derive(Debug)]
pub struct Unwritable;

/// orjson's limit on nesting when writing (it refuses deeper documents).
const MAX_DEPTH: usize = 254;

/// Serialise `doc` as `orjson.dumps` would.
pub fn write_document(doc: &Fields, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    write_obj(out, doc, 1)
}

fn write_obj(out: &mut Vec<u8>, obj: &Fields, depth: usize) -> Result<(), Unwritable> {
    if depth > MAX_DEPTH {
        return Err(Unwritable);
    }
    out.push(b'{');
    for (i, (k, v)) in obj.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(out, k);
        out.push(b':');
        write_value(out, v, depth)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_value(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), Unwritable> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(n) => write_int(out, *n),
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_str(out, s),
        // A datetime anywhere but @timestamp (which the document writes as text) is not
        // something the reference serialises the same way: decline.
        Value::Time(_) => return Err(Unwritable),
        Value::List(items) => {
            if depth + 1 > MAX_DEPTH {
                return Err(Unwritable);
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Obj(o) => write_obj(out, o, depth + 1)?,
    }
    Ok(())
}

/// An integer's decimal digits, without the allocation of `to_string`.
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether any of 8 bytes is `"`, `\` or a control character (below 0x20): the usual
/// bit trick for "has a byte less than n" and "has a byte equal to c", on a whole word.
pub(crate) fn word_needs_escape(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    (below_space | has_zero(x ^ (LO * u64::from(b'"'))) | has_zero(x ^ (LO * u64::from(b'\\')))) != 0
}

/// A key as JSON. A borrowed key is one of this crate's own field names, a literal with
/// nothing to escape, so it is copied as is; the keys of parsed input are owned, and escaped.
fn write_key(out: &mut Vec<u8>, key: &Key) {
    match key {
        Cow::Borrowed(name) => {
            debug_assert!(name.bytes().all(|c| !NEEDS_ESCAPE[c as usize]), "{name:?}");
            out.reserve(name.len() + 2);
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        Cow::Owned(name) => write_str(out, name),
    }
}

/// A JSON string as orjson writes one: UTF-8 as is, `"` `\` and control characters escaped
/// (the short escapes where JSON has them, else `\u00XX`).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        // Most text needs no escape: skip it a word at a time, and look at single bytes only
        // in a word that holds one (access lines are full of quotes).
        if i + 8 <= b.len()
            && !word_needs_escape(u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes")))
        {
            i += 8;
            continue;
        }
        let c = b[i];
        i += 1;
        if !NEEDS_ESCAPE[c as usize] {
            continue;
        }
        out.extend_from_slice(&b[start..i - 1]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
        }
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// A float as orjson writes it: the shortest digits that read back the same; plain decimal
/// notation for exponents -5..=15 (always with a fraction), else `d[.ddd]e±x`; NaN and the
/// infinities as `null`.
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let mut buf = ryu::Buffer::new();
    let (digits, exp, negative) = shortest(buf.format_finite(f));
    if negative {
        out.push(b'-');
    }
    // value = 0.d1d2d3... x 10^(exp + 1), i.e. d1.d2d3... x 10^exp
    if (-5..16).contains(&exp) {
        if exp < 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend_from_slice(digits.as_bytes());
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits.as_bytes());
                out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits.as_bytes()[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits.as_bytes()[int_len..]);
            }
        }
    } else {
        out.push(digits.as_bytes()[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        out.extend_from_slice(exp.unsigned_abs().to_string().as_bytes());
    }
}

/// ryu's text as (significant digits without leading or trailing zeros, decimal exponent of
/// the first digit, sign). Zero is ("0", 0).
fn shortest(text: &str) -> (String, i32, bool) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp_part) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int_part}{frac_part}");
    let lead = all.bytes().take_while(|&c| c == b'0').count();
    if lead == all.len() {
        return ("0".to_owned(), 0, negative);
    }
    let digits = all[lead..].trim_end_matches('0').to_owned();
    // The first significant digit sits at position `lead` of int_part+frac_part; int_part's
    // last digit has exponent exp_part.
    let exp = int_part.len() as i32 - 1 - lead as i32 + exp_part;
    (digits, exp, negative)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(f: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, f);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_as_orjson_writes_them() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (123.0, "123.0"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e-4, "0.0001"),
            (1e-5, "0.00001"),
            (1e-6, "1e-6"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (1234567.125, "1234567.125"),
            (9007199254740992.0, "9007199254740992.0"),
            (f64::NAN, "null"),
        ];
        for (f, want) in cases {
            assert_eq!(float(f), want, "{f:?}");
        }
    }

    #[test]
    fn integers() {
        for n in [0, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_int(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn words_that_need_an_escape_are_found_wherever_the_byte_is() {
        for bad in [b'"', b'\\', b'\n', 0u8, 0x1f] {
            for at in 0..8 {
                let mut word = *b"abcdefgh";
                word[at] = bad;
                assert!(word_needs_escape(u64::from_le_bytes(word)), "{bad} at {at}");
            }
        }
        assert!(!word_needs_escape(u64::from_le_bytes(*b"a b/~\x7f\xc3\xa9")));
    }

    #[test]
    fn strings_escape_as_orjson_does() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\nd\u{1}é/");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001é/\"");
    }

    #[test]
    fn a_dict_keeps_the_first_position_of_a_key() {
        let mut f = Fields::new();
        f.set("a", Value::Int(1));
        f.set("b", Value::Int(2));
        f.set("a", Value::Int(3));
        assert_eq!(f.0[0], ("a".into(), Value::Int(3)));
        assert_eq!(f.len(), 2);
    }
}
