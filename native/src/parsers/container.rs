//! Container runtime lines: CRI (`<time> <stream> <tag> <message>`) and Docker json-file
//! objects (`{"log": ..., "stream": ..., "time": ...}`).
//!
//! A Docker line that `json::parse` does not read is `docker.invalid_json`.

use super::{Fields, Outcome, Refusal};
use crate::json::{self, Object, Value};
use crate::time::{Stamp, parse_iso_timestamp};

const PARTIAL: &str = "partial_line";

/// The shape of a CRI line or of a Docker json-file object.
pub fn looks_like(line: &[u8]) -> bool {
    match line.first() {
        Some(b'{') => {
            let end = line.iter().rposition(|&c| !super::is_bytes_space(c));
            end.is_some_and(|i| line[i] == b'}') && has_log_key(line)
        }
        Some(c) if c.is_ascii_digit() => {
            line.get(4) == Some(&b'-') && line.get(10) == Some(&b'T') && stream_after_stamp(line)
        }
        _ => false,
    }
}

/// The first space within bytes 19..40 (after the timestamp) followed by `stdout` or
/// `stderr`.
fn stream_after_stamp(line: &[u8]) -> bool {
    let window = line.get(19..line.len().min(40)).unwrap_or_default();
    let Some(space) = window.iter().position(|&c| c == b' ') else { return false };
    let after = &line[19 + space + 1..];
    let word = &after[..after.len().min(6)];
    word == b"stdout" || word == b"stderr"
}

/// An ASCII blank: space, tab, LF, CR, VT or FF.
fn is_re_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `"log"\s{0,8}:\s{0,8}"` anywhere in the line (ASCII blanks).
fn has_log_key(line: &[u8]) -> bool {
    // At most 8 blanks on either side of the colon: a longer run leaves a blank where the
    // pattern needs `:` or `"`, whichever way the quantifier backtracks.
    let blanks = |from: usize| line[from..].iter().take_while(|&&c| is_re_space(c)).count();
    let mut from = 0;
    while let Some(at) = find(&line[from..], b"\"log\"") {
        let mut i = from + at + 5;
        let n = blanks(i);
        i += n;
        if n <= 8 && line.get(i) == Some(&b':') {
            i += 1;
            let n = blanks(i);
            if n <= 8 && line.get(i + n) == Some(&b'"') {
                return true;
            }
        }
        from += at + 1;
    }
    false
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A Docker json-file object (a line opening with `{`), or a CRI line.
pub fn parse(line: &[u8], _reference: Option<Stamp>) -> Outcome {
    if line.first() == Some(&b'{') { docker(line) } else { cri(line) }
}

/// A Docker json-file record: keys a subset of log/stream/time/attrs, with `log`.
pub fn is_docker_object(obj: &Object) -> bool {
    obj.contains_key("log")
        && obj.len() <= 4
        && obj.keys().all(|k| matches!(k.as_str(), "log" | "stream" | "time" | "attrs"))
}

/// An already decoded Docker json-file record.
pub fn from_object(obj: &Object) -> Outcome {
    if !is_docker_object(obj) {
        return Outcome::refuse("docker.not_docker", "keys other than log/stream/time/attrs");
    }
    record(obj.clone())
}

fn docker(line: &[u8]) -> Outcome {
    match json::parse(line) {
        Ok(Value::Object(obj)) if is_docker_object(&obj) => record(obj),
        Ok(Value::Object(_)) => Outcome::refuse("docker.not_docker", "keys other than log/stream/time/attrs"),
        Ok(_) => Outcome::refuse("docker.not_docker", "not a JSON object"),
        // Invalid UTF-8 has its own reason: it says what to fix at the sender.
        Err(_) if std::str::from_utf8(line).is_err() => Outcome::Refused(Refusal::utf8(line)),
        Err(_) => Outcome::refuse("docker.invalid_json", "not valid JSON"),
    }
}

/// The fields of a Docker record whose keys have been checked.
fn record(obj: Object) -> Outcome {
    let (mut log, mut time, mut stream, mut attrs) = (None, None, None, None);
    for (key, value) in obj {
        match key.as_str() {
            "log" => log = Some(value),
            "time" => time = Some(value),
            "stream" => stream = Some(value),
            _ => attrs = Some(value),
        }
    }
    let Some(Value::String(mut log)) = log else {
        return Outcome::refuse("docker.bad_log", "log is not a string");
    };
    let mut fields = Fields::with_capacity(5);
    if let Some(time) = time {
        let stamp = match &time {
            Value::String(text) => parse_iso_timestamp(text),
            _ => None,
        };
        let Some(stamp) = stamp else { return Outcome::refuse("docker.bad_time", clip(&time, 64)) };
        fields.timestamp = Some(stamp);
    }
    if let Some(stream) = stream {
        if !matches!(&stream, Value::String(s) if s == "stdout" || s == "stderr") {
            return Outcome::refuse("docker.bad_stream", clip(&stream, 64));
        }
        fields.set("stream", stream);
    }
    let partial = !log.ends_with('\n');
    if !partial {
        log.pop();
    }
    fields.set("message", Value::String(log));
    if partial {
        fields.set("tags", Value::Array(vec![Value::from(PARTIAL)]));
    }
    match attrs {
        None => {}
        Some(Value::Object(attrs)) if attrs.is_empty() => {}
        Some(Value::Object(attrs)) => {
            let wrapped = Object::from_iter([("attrs", Value::Object(attrs))]);
            fields.set("attributes", Value::Object(wrapped));
        }
        Some(_) => return Outcome::refuse("docker.bad_attrs", "attrs is not an object"),
    }
    Outcome::Parsed(fields)
}

/// A value as JSON text, at most `n` characters: a refusal's detail.
fn clip(v: &Value, n: usize) -> String {
    v.to_string().chars().take(n).collect()
}

fn cri(line: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(line) else { return Outcome::Refused(Refusal::utf8(line)) };
    cri_text(text)
}

fn cri_text(text: &str) -> Outcome {
    // `split(" ", 3)`: single spaces only, so the message keeps its leading blanks.
    let mut parts = text.splitn(4, ' ');
    let stamp_text = parts.next().unwrap_or_default();
    let (Some(stream), Some(tag)) = (parts.next(), parts.next()) else {
        return Outcome::refuse("cri.truncated", "expected '<time> <stream> <tag> <message>'");
    };
    let rest = parts.next();
    // The shape is measured in characters (a non-ASCII stamp is refused either way).
    let shaped = if stamp_text.is_ascii() {
        stamp_text.len() >= 20 && stamp_text.as_bytes()[10] == b'T'
    } else {
        stamp_text.chars().count() >= 20 && stamp_text.chars().nth(10) == Some('T')
    };
    let bad_timestamp =
        || Outcome::refuse("cri.bad_timestamp", stamp_text.chars().take(40).collect::<String>());
    if !shaped {
        return bad_timestamp();
    }
    let Some(stamp) = parse_iso_timestamp(stamp_text) else { return bad_timestamp() };
    if stream != "stdout" && stream != "stderr" {
        return Outcome::refuse("cri.bad_stream", stream.chars().take(16).collect::<String>());
    }
    let partial = tag == "P";
    let message = if tag == "F" || partial {
        rest.unwrap_or_default()
    } else {
        // A runtime without tags writes whole lines only: the "tag" is the message's start.
        &text[stamp_text.len() + stream.len() + 2..]
    };
    let message = message.strip_suffix('\n').unwrap_or(message);
    let mut fields = Fields::with_capacity(4);
    fields.timestamp = Some(stamp);
    fields.set("stream", Value::from(stream));
    fields.set("message", Value::from(message));
    if partial {
        fields.set("tags", Value::Array(vec![Value::from(PARTIAL)]));
    }
    Outcome::Parsed(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &[u8]) -> Vec<(String, Value)> {
        match parse(line, None) {
            Outcome::Parsed(f) => f.items(),
            other => panic!("{other:?} for {}", String::from_utf8_lossy(line)),
        }
    }

    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn cri_lines() {
        let f = parsed(b"2016-10-06T00:17:09.669794202Z stdout F  the message");
        assert_eq!(f[0].0, "@timestamp");
        assert_eq!(text(&f[0].1), "2016-10-06T00:17:09.669794Z");
        assert_eq!(f[1].1, Value::from("stdout"));
        assert_eq!(f[2].1, Value::from(" the message"));
        assert_eq!(f.len(), 3);
        let f = parsed(b"2016-10-06T00:17:09.669794202Z stderr P part");
        assert_eq!(f[3], ("tags".into(), Value::Array(vec![Value::from("partial_line")])));
        let f = parsed(b"2016-10-06T00:17:09Z stdout no tag here");
        assert_eq!(f[2].1, Value::from("no tag here"));
        assert_eq!(parse(b"2016-10-06T00:17:09Z stdin F x", None).reason(), Some("cri.bad_stream"));
        assert_eq!(parse(b"hello world", None).reason(), Some("cri.truncated"));
        assert!(looks_like(b"2016-10-06T00:17:09.669794202Z stdout F x"));
        assert!(!looks_like(b"2016-10-06 00:17:09 stdout F x"));
    }

    #[test]
    fn docker_lines() {
        let line = br#"{"log":"hello\n","stream":"stderr","time":"2019-01-02T03:04:05.123456789Z"}"#;
        assert!(looks_like(line));
        let f = parsed(line);
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["@timestamp", "stream", "message"]);
        assert_eq!(f[2].1, Value::from("hello"));
        let f = parsed(br#"{"log":"part","attrs":{"a":"b"}}"#);
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["message", "tags", "attributes"]);
        assert_eq!(parse(br#"{"log":"x","level":"info"}"#, None).reason(), Some("docker.not_docker"));
        assert_eq!(parse(br#"{"log":1}"#, None).reason(), Some("docker.bad_log"));
        assert_eq!(parse(br#"{"log":"x","stream":"stdin"}"#, None).reason(), Some("docker.bad_stream"));
        assert_eq!(parse(b"{\"log\":\"\xff\"}", None).reason(), Some("invalid_utf8"));
        assert_eq!(parse(br#"{"log":"x""#, None).reason(), Some("docker.invalid_json"));
        assert!(looks_like(b"{\"log\" \t :  \"x\"}  "));
        assert!(!looks_like(br#"{"log":1}"#));
    }
}
