//! A JSON reader that gives what `orjson.loads` gives, or declines.
//!
//! Whenever orjson would raise, or might read a text differently (integers beyond 64 bits,
//! floats that overflow, lone surrogates, very deep nesting), this returns `Decline` and the
//! Python reference decides, including the error a dead letter carries.

use std::collections::HashMap;

use crate::value::{Fields, Key, Value};
use crate::{Decline, Maybe};

const MAX_DEPTH: usize = 256;
/// Objects with more members than this find repeated keys through a hash index.
const INDEXED_FROM: usize = 32;

/// The whole of `text` as one JSON value.
pub fn parse(text: &[u8]) -> Maybe<Value> {
    let text = std::str::from_utf8(text).map_err(|_| Decline)?;
    let mut r = Reader { s: text, b: text.as_bytes(), i: 0 };
    r.ws();
    let v = r.value(0)?;
    r.ws();
    if r.i != r.b.len() {
        return Err(Decline);
    }
    Ok(v)
}

/// `s` is the text, already checked to be UTF-8, and `b` its bytes: the reader moves over
/// bytes and cuts text only at ASCII delimiters, so slicing `s` never needs a new check.
struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Maybe<Value> {
        if depth > MAX_DEPTH {
            return Err(Decline);
        }
        match *self.b.get(self.i).ok_or(Decline)? {
            b'{' => {
                self.i += 1;
                let mut obj = Fields::new();
                let mut index: Option<HashMap<Key, usize>> = None;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Obj(obj));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err(Decline);
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(Decline);
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    if obj.len() < INDEXED_FROM {
                        obj.set(key, v);
                    } else {
                        // A repeated key keeps its first position (a dict's rule); past a few
                        // dozen members, finding it by scanning would make big objects quadratic.
                        let index = index.get_or_insert_with(|| {
                            obj.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect()
                        });
                        match index.get(key.as_str()) {
                            Some(&i) => obj.0[i].1 = v,
                            None => {
                                let key: Key = key.into();
                                index.insert(key.clone(), obj.len());
                                obj.0.push((key, v));
                            }
                        }
                    }
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Obj(obj));
                        }
                        _ => return Err(Decline),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err(Decline),
                    }
                }
            }
            b'"' => Ok(Value::Str(self.string()?)),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Decline),
        }
    }

    fn word(&mut self, w: &[u8], v: Value) -> Maybe<Value> {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(Decline)
        }
    }

    fn number(&mut self) -> Maybe<Value> {
        let start = self.i;
        let b = self.b;
        let mut i = self.i;
        if b[i] == b'-' {
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_len = i - int_start;
        if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
            return Err(Decline);
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(Decline);
            }
            i += n;
            float = true;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(Decline);
            }
            i += n;
            float = true;
        }
        self.i = i;
        // Checked ASCII above, so this slice is valid UTF-8.
        let text = &self.s[start..i];
        if float {
            let f: f64 = text.parse().map_err(|_| Decline)?;
            if !f.is_finite() {
                return Err(Decline);
            }
            Ok(Value::Float(f))
        } else {
            text.parse::<i64>().map(Value::Int).map_err(|_| Decline)
        }
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> Maybe<String> {
        let b = self.b;
        self.i += 1;
        let start = self.i;
        // The common case: no escape before the closing quote.
        while let Some(&c) = b.get(self.i) {
            match c {
                b'"' => {
                    let s = self.s[start..self.i].to_owned();
                    self.i += 1;
                    return Ok(s);
                }
                b'\\' => break,
                0..=0x1f => return Err(Decline),
                _ => self.i += 1,
            }
        }
        let mut out = String::from(&self.s[start..self.i]);
        loop {
            let run = self.i;
            while let Some(&c) = b.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.s[run..self.i]);
            match b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = *b.get(self.i + 1).ok_or(Decline)?;
                    self.i += 2;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(Decline); // a lone surrogate
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(Decline);
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(Decline);
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or(Decline)?);
                        }
                        _ => return Err(Decline),
                    }
                }
                _ => return Err(Decline),
            }
        }
    }

    fn hex4(&mut self) -> Maybe<u32> {
        let h = self.b.get(self.i..self.i + 4).ok_or(Decline)?;
        let s = std::str::from_utf8(h).map_err(|_| Decline)?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(Decline);
        }
        self.i += 4;
        u32::from_str_radix(s, 16).map_err(|_| Decline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_orjson_reads() {
        let v = parse(br#" {"a": [1, -2.5, "x\u00e9\ud83d\ude00\n"], "a": true, "b": null} "#).unwrap();
        let Value::Obj(o) = v else { panic!() };
        assert_eq!(o.0[0].0, "a");
        assert_eq!(o.0[0].1, Value::Bool(true));
        assert_eq!(o.0[1].1, Value::Null);
    }

    #[test]
    fn declines_what_it_is_unsure_of() {
        for bad in [&b"{"[..], b"01", b"1e999", b"\"\\ud800\"", b"99999999999999999999", b"[1,]", b"{} x"] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
