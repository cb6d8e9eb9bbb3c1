//! A JSON reader that gives what `orjson.loads` gives, or declines.
//!
//! Whenever orjson would raise, or might read a text differently (integers beyond 64 bits,
//! floats that overflow, lone surrogates, very deep nesting), this returns `Decline` and the
//! Python reference decides, including the error a dead letter carries.

use std::collections::HashMap;

use crate::value::{Fields, Key, Value, word_needs_escape};
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

/// Keys common enough in shippers' envelopes and application logs to be worth recognising.
fn known_key(raw: &[u8]) -> Option<&'static str> {
    Some(match raw {
        b"@timestamp" => "@timestamp",
        b"@metadata" => "@metadata",
        b"agent" => "agent",
        b"beat" => "beat",
        b"caller" => "caller",
        b"container" => "container",
        b"ecs" => "ecs",
        b"ephemeral_id" => "ephemeral_id",
        b"error" => "error",
        b"fields" => "fields",
        b"file" => "file",
        b"filename" => "filename",
        b"host" => "host",
        b"hostname" => "hostname",
        b"id" => "id",
        b"input" => "input",
        b"kubernetes" => "kubernetes",
        b"labels" => "labels",
        b"level" => "level",
        b"log" => "log",
        b"logger" => "logger",
        b"message" => "message",
        b"msg" => "msg",
        b"name" => "name",
        b"offset" => "offset",
        b"path" => "path",
        b"service" => "service",
        b"severity" => "severity",
        b"source_type" => "source_type",
        b"status" => "status",
        b"stream" => "stream",
        b"time" => "time",
        b"timestamp" => "timestamp",
        b"ts" => "ts",
        b"type" => "type",
        b"version" => "version",
        _ => return None,
    })
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
                    let key = self.key()?;
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
                        match index.get(key.as_ref()) {
                            Some(&i) => obj.0[i].1 = v,
                            None => {
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
    /// An object's key: the names shippers and applications repeat in every message come
    /// back as this crate's own literals (no allocation, and written without an escape scan);
    /// any other key is read as a string.
    fn key(&mut self) -> Maybe<Key> {
        let start = self.i + 1;
        let rest = self.b.get(start..).ok_or(Decline)?;
        let end = rest.iter().position(|&c| c == b'"' || c == b'\\').ok_or(Decline)?;
        if rest[end] == b'"'
            && let Some(name) = known_key(&rest[..end])
        {
            self.i = start + end + 1;
            return Ok(Key::Borrowed(name));
        }
        Ok(Key::Owned(self.string()?))
    }

    fn string(&mut self) -> Maybe<String> {
        let b = self.b;
        self.i += 1;
        let start = self.i;
        // The common case: no escape before the closing quote. Skip plain text a word at a
        // time (the bytes that end the fast path are those a JSON writer escapes).
        while self.i + 8 <= b.len()
            && !word_needs_escape(u64::from_le_bytes(b[self.i..self.i + 8].try_into().expect("8")))
        {
            self.i += 8;
        }
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
        let code = hex4(self.b, self.i).ok_or(Decline)?;
        self.i += 4;
        Ok(code)
    }
}

/// The four ASCII hex digits at `i` of a `\u` escape (JSON's, and logfmt's quoted values').
pub fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let digits = b.get(i..i + 4)?;
    digits.iter().try_fold(0u32, |acc, &c| Some(acc * 16 + (c as char).to_digit(16)?))
}

/// Whether orjson certainly refuses `line`: not UTF-8, or not JSON by the RFC 8259 grammar,
/// which a parser then reports as its own refusal. Only syntax is checked, so what `parse`
/// declines for other reasons (big integers, infinite floats, lone surrogates, depth) is not
/// called invalid here. Meant for after `parse` has declined, so its speed matters little.
pub fn certainly_invalid(line: &[u8]) -> bool {
    std::str::from_utf8(line).is_err() || !Grammar { b: line, i: 0 }.document()
}

/// An RFC 8259 recogniser with an explicit stack, so that no nesting depth can overflow ours.
struct Grammar<'a> {
    b: &'a [u8],
    i: usize,
}

impl Grammar<'_> {
    fn document(&mut self) -> bool {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value starts here.
            self.ws();
            match self.b.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                    } else {
                        if !self.member_key() {
                            return false;
                        }
                        open.push(b'}');
                        continue;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                    } else {
                        open.push(b']');
                        continue;
                    }
                }
                Some(b'"') => {
                    if !self.string() {
                        return false;
                    }
                }
                Some(b't') => {
                    if !self.word(b"true") {
                        return false;
                    }
                }
                Some(b'f') => {
                    if !self.word(b"false") {
                        return false;
                    }
                }
                Some(b'n') => {
                    if !self.word(b"null") {
                        return false;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    if !self.number() {
                        return false;
                    }
                }
                _ => return false,
            }
            // A value ended: close what it ends, until a comma asks for the next value.
            loop {
                self.ws();
                let Some(&close) = open.last() else {
                    return self.i == self.b.len();
                };
                match self.b.get(self.i) {
                    Some(b',') => {
                        self.i += 1;
                        if close == b'}' && !self.member_key() {
                            return false;
                        }
                        break;
                    }
                    Some(&c) if c == close => {
                        self.i += 1;
                        open.pop();
                    }
                    _ => return false,
                }
            }
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// `"key" :` of an object member.
    fn member_key(&mut self) -> bool {
        self.ws();
        if self.b.get(self.i) != Some(&b'"') || !self.string() {
            return false;
        }
        self.ws();
        if self.b.get(self.i) != Some(&b':') {
            return false;
        }
        self.i += 1;
        true
    }

    fn word(&mut self, w: &[u8]) -> bool {
        let ok = self.b[self.i..].starts_with(w);
        self.i += w.len();
        ok
    }

    fn digits(&mut self) -> usize {
        let n = self.b[self.i..].iter().take_while(|c| c.is_ascii_digit()).count();
        self.i += n;
        n
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; what follows is the caller's.
    fn number(&mut self) -> bool {
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return false;
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    /// A string from its opening quote: escapes by syntax only (any `\uXXXX` passes).
    fn string(&mut self) -> bool {
        self.i += 1;
        loop {
            match self.b.get(self.i) {
                None | Some(0..=0x1f) => return false,
                Some(b'"') => {
                    self.i += 1;
                    return true;
                }
                Some(b'\\') => match self.b.get(self.i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                    Some(b'u') => {
                        let hex = self.b.get(self.i + 2..self.i + 6);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        self.i += 6;
                    }
                    _ => return false,
                },
                Some(_) => self.i += 1,
            }
        }
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
