//! RFC 5424's STRUCTURED-DATA: `[id name="value" ...]` elements into an object of objects,
//! each PARAM-VALUE with its `\"`, `\]`, `\\` escapes undone.

use super::{Step, clip, refuse};
use crate::json::{Object, Value};

/// RFC 5424's SD-NAME characters: printable ASCII but `=`, space, `]`, `"`.
fn sd_name_char(c: u8) -> bool {
    (0x21..=0x7e).contains(&c) && !matches!(c, b'=' | b']' | b'"')
}

/// `[id name="value" ...]...` from the start of `tail`; the data and the offset just after
/// it.
pub(super) fn structured_data(tail: &str) -> Step<(Object, usize)> {
    let b = tail.as_bytes();
    let mut data = Object::new();
    let mut pos = 0;
    while b.get(pos) == Some(&b'[') {
        let id_len = b[pos + 1..].iter().take(32).take_while(|&&c| sd_name_char(c)).count();
        if id_len == 0 {
            return Err(refuse("syslog.bad_structured_data", clip(&tail[pos..], 16)));
        }
        let sd_id = &tail[pos + 1..pos + 1 + id_len];
        if data.contains_key(sd_id) {
            // RFC 5424 6.3.2: an SD-ID must not occur twice
            return Err(refuse("syslog.bad_structured_data", format!("duplicate {sd_id}")));
        }
        pos += 1 + id_len;
        let mut params = Object::new();
        while let Some((name, value, end)) = sd_param(tail, pos) {
            params.insert(name, Value::from(value));
            pos = end;
        }
        if b.get(pos) != Some(&b']') {
            return Err(refuse("syslog.bad_structured_data", clip(&tail[pos..], 16)));
        }
        data.insert(sd_id, Value::Object(params));
        pos += 1;
    }
    Ok((data, pos))
}

/// One SD-PARAM at `pos`: ` +NAME *= *"VALUE"`, with VALUE unescaped.
fn sd_param(tail: &str, pos: usize) -> Option<(&str, String, usize)> {
    let b = tail.as_bytes();
    let skip_spaces = |mut i: usize| {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut i = skip_spaces(pos);
    if i == pos {
        return None;
    }
    let name_len = b[i..].iter().take(32).take_while(|&&c| sd_name_char(c)).count();
    if name_len == 0 {
        return None;
    }
    let name = &tail[i..i + name_len];
    i = skip_spaces(i + name_len);
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i = skip_spaces(i + 1);
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    let mut escaped = false;
    loop {
        match *b.get(j)? {
            b'"' => break,
            b']' => return None,
            // A backslash and whatever byte follows, a newline too (a UTF-8 lead byte's
            // continuation bytes are plain value characters after it).
            b'\\' => {
                b.get(j + 1)?;
                escaped = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
    let raw = &tail[start..j];
    let value = if escaped { sd_unescape(raw) } else { raw.to_owned() };
    Some((name, value, j + 1))
}

/// RFC 5424's PARAM-VALUE escapes: `\\`, `\"` and `\]` lose their backslash; any other
/// backslash stays.
fn sd_unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'\\' | b'"' | b']')) {
            out.push(b[i + 1]);
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    // Only ASCII bytes were removed, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}
