//! `parsers/json_line.py`, ported: one JSON object per line, decoded by `crate::json` (what
//! `orjson.loads` gives), mapped by `common.structured_fields` plus the pino / bunyan /
//! python-json-logger / nested-ECS rules of the reference.
//!
//! Declined (left to Python):
//! - whatever `json::parse` declines and is still JSON by grammar (integers beyond 64 bits,
//!   infinite floats, lone surrogate escapes, deep nesting); text that breaks the grammar or
//!   is not UTF-8 is refused, as orjson refuses it;
//! - lines with more than `MAX_MEMBERS` colons, objects with more members (the shared
//!   `Fields` map makes those quadratic);
//! - whatever `structured_fields` declines (odd timestamps). A float `msg`, which it
//!   declines, is written here as Python's `str()` writes it first.

use super::{Outcome, is_bytes_space};
use crate::common::structured_fields;
use crate::json;
use crate::time::{Stamp, parse_iso_timestamp};
use crate::value::{Fields, Value};
use crate::{Decline, Maybe};

/// Object members beyond which a line is left to Python (see `parse`).
const MAX_MEMBERS: usize = 2000;

/// `json_line.looks_like`: braced like an object once `bytes.strip()` blanks are set aside.
pub fn looks_like(line: &[u8]) -> Maybe<bool> {
    let first = line.iter().position(|&c| !is_bytes_space(c));
    let last = line.iter().rposition(|&c| !is_bytes_space(c));
    Ok(matches!((first, last), (Some(f), Some(l)) if line[f] == b'{' && line[l] == b'}'))
}

/// `json_line.parse`. `reference` is unused, as in the reference.
pub fn parse(line: &[u8], _reference: Option<Stamp>) -> Outcome {
    // Each ':' may be an object member, and the shared map is a vector that `json::parse`
    // and `structured_fields` search on every insert: a line with thousands of members would
    // take quadratic time, so it is left to Python.
    if line.iter().filter(|&&c| c == b':').count() > MAX_MEMBERS {
        return Outcome::Unsure;
    }
    match json::parse(line) {
        Ok(Value::Obj(obj)) => from_object(obj),
        Ok(_) => Outcome::Refused, // json.not_object
        Err(Decline) if json::certainly_invalid(line) => Outcome::Refused, // json.invalid / invalid_utf8
        Err(Decline) => Outcome::Unsure,
    }
}

/// `json_line.from_object`: an already decoded JSON object line.
pub fn from_object(obj: Fields) -> Outcome {
    if obj.len() > MAX_MEMBERS {
        return Outcome::Unsure; // see `parse`
    }
    match map_object(obj) {
        Ok(fields) => Outcome::Parsed(fields),
        Err(Decline) => Outcome::Unsure,
    }
}

fn map_object(obj: Fields) -> Maybe<Fields> {
    // What the reference asks of the original object, read before it is taken apart.
    let numeric_level = pino_level(&obj);
    let bunyan = obj.contains_key("v");
    let python_json_logger = obj.contains_key("levelname");

    let mut pairs = lift_nested(obj);
    if numeric_level.is_some() {
        pairs.remove("level");
    }
    message_as_text(&mut pairs)?;
    let mut fields = structured_fields(pairs)?;
    if let Some(level) = numeric_level {
        fields.set("log.level", Value::str(level));
        if bunyan && !fields.contains_key("service.name") {
            promote(&mut fields, "name", "service.name"); // bunyan: "name" is the app
        } else if !fields.contains_key("log.logger") {
            promote(&mut fields, "name", "log.logger"); // pino: "name" is the logger
        }
    }
    if fields.get("attributes").is_some_and(Value::truthy) {
        // `_EXTRA_STR`
        if !fields.contains_key("process.thread.name") {
            promote(&mut fields, "process.thread.name", "process.thread.name");
        }
        if python_json_logger {
            if !fields.contains_key("log.logger") {
                promote(&mut fields, "name", "log.logger");
            }
            if !fields.contains_key("@timestamp") {
                lift_asctime(&mut fields)?;
            }
        }
    }
    if fields.get("attributes").is_some_and(|a| !a.truthy()) {
        fields.remove("attributes");
    }
    Ok(fields)
}

/// `_convert` makes `str(value)` of a number `message`; `structured_fields` declines a
/// float, so the one it would convert (the first `msg` / `message` with a text or number
/// value: later ones go to `attributes` as they are) is made text here.
fn message_as_text(pairs: &mut Fields) -> Maybe<()> {
    let first = pairs.0.iter_mut().find(|(k, v)| {
        matches!(k.as_ref(), "msg" | "message")
            && matches!(v, Value::Str(_) | Value::Int(_) | Value::Float(_))
    });
    if let Some((_, value)) = first
        && let Value::Float(f) = *value
    {
        *value = Value::Str(py_float_str(f).ok_or(Decline)?);
    }
    Ok(())
}

/// Python's `str()` of a float (its repr): the shortest digits that read back the same (as
/// ryu finds them), positional for decimal exponents -4..=15 (with `.0` when integral), else
/// `d[.ddd]e±XX`. None for NaN and the infinities, which JSON cannot hold.
fn py_float_str(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f);
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp_text) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let exp_part: i32 = exp_text.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int_part}{frac_part}");
    let lead = all.bytes().take_while(|&c| c == b'0').count();
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if lead == all.len() {
        out.push_str("0.0");
        return Some(out);
    }
    let digits = all[lead..].trim_end_matches('0');
    // The first significant digit's power of ten.
    let exp = int_part.len() as i32 - 1 - lead as i32 + exp_part;
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs()));
    }
    Some(out)
}

/// python-json-logger: `asctime` becomes `@timestamp` when it reads as ISO 8601.
fn lift_asctime(fields: &mut Fields) -> Maybe<()> {
    let Some(Value::Obj(attributes)) = fields.get_mut("attributes") else {
        return Ok(());
    };
    let Some(Value::Str(asctime)) = attributes.get("asctime") else {
        return Ok(());
    };
    if let Some(stamp) = parse_iso_timestamp(asctime)? {
        attributes.remove("asctime");
        fields.set("@timestamp", Value::Time(stamp));
    }
    Ok(())
}

/// `_promote`: a text attribute moved to an ECS field (appended, as a new dict key is).
fn promote(fields: &mut Fields, key: &str, target: &'static str) {
    let Some(Value::Obj(attributes)) = fields.get_mut("attributes") else {
        return;
    };
    if !matches!(attributes.get(key), Some(Value::Str(_))) {
        return;
    }
    if let Some(value) = attributes.remove(key) {
        fields.set(target, value);
    }
}

/// `_NESTED`: the ECS objects whose leaves `structured_fields` knows under a dotted name.
fn nested_leaves(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "log" => &["level", "logger"],
        "service" => &["name"],
        "host" => &["name"],
        "process" => &["pid"],
        "error" => &["message", "type", "stack_trace"],
        _ => return None,
    })
}

/// Every dotted name `lift_nested` may make; a key of the original object with one of
/// these names wins over the nested leaf.
const DOTTED: [&str; 9] = [
    "log.level",
    "log.logger",
    "service.name",
    "host.name",
    "process.pid",
    "error.message",
    "error.type",
    "error.stack_trace",
    "process.thread.name",
];

/// `_lift_nested`: `{"log": {"level": x}}` -> `"log.level": x`, what is left staying nested.
fn lift_nested(obj: Fields) -> Fields {
    let nested = obj.iter().any(|(k, v)| matches!(v, Value::Obj(_)) && nested_leaves(k).is_some());
    if !nested {
        return obj;
    }
    let mut written = [false; DOTTED.len()];
    for (key, _) in obj.iter() {
        if let Some(i) = DOTTED.iter().position(|d| d == key) {
            written[i] = true;
        }
    }
    let in_obj = |dotted: &str| DOTTED.iter().position(|d| *d == dotted).is_some_and(|i| written[i]);
    // Keys stay distinct, so pushing is `pairs[key] = value`: the object's keys are
    // distinct, and a dotted name is only made when the object lacks it.
    let mut pairs = Fields::with_capacity(obj.len() + 4);
    for (key, value) in obj.0 {
        let (leaves, mut rest) = match (nested_leaves(&key), value) {
            (Some(leaves), Value::Obj(rest)) => (leaves, rest),
            (_, value) => {
                pairs.0.push((key, value));
                continue;
            }
        };
        for leaf in leaves {
            if !rest.contains_key(leaf) {
                continue;
            }
            let dotted = format!("{key}.{leaf}");
            if !in_obj(&dotted)
                && let Some(v) = rest.remove(leaf)
            {
                pairs.0.push((dotted.into(), v));
            }
        }
        if key == "process" && !in_obj("process.thread.name") {
            // ECS nests the thread one level deeper.
            if let Some(Value::Obj(thread)) = rest.get_mut("thread")
                && let Some(name) = thread.remove("name")
            {
                let now_empty = thread.is_empty();
                pairs.0.push(("process.thread.name".into(), name));
                if now_empty {
                    rest.remove("thread");
                }
            }
        }
        if !rest.is_empty() {
            pairs.0.push((key, Value::Obj(rest)));
        }
    }
    pairs
}

/// `_pino_level`: the level of a pino / bunyan record, or None when it is not one of theirs.
fn pino_level(obj: &Fields) -> Option<&'static str> {
    let Some(&Value::Int(level)) = obj.get("level") else {
        return None;
    };
    if !(1..=100).contains(&level) {
        return None;
    }
    let epoch_ms = matches!(obj.get("time"), Some(&Value::Int(t)) if t > 100_000_000_000);
    if !(epoch_ms || obj.contains_key("pid") || obj.contains_key("hostname") || obj.contains_key("v")) {
        return None;
    }
    Some(match level {
        60.. => "fatal",
        50.. => "error",
        40.. => "warn",
        30.. => "info",
        20.. => "debug",
        _ => "trace",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Fields {
        match parse(line.as_bytes(), None) {
            Outcome::Parsed(f) => f,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn keys(f: &Fields) -> Vec<&str> {
        f.iter().map(|(k, _)| k.as_ref()).collect()
    }

    #[test]
    fn logrus_line() {
        let f = fields(
            r#"{"time":"2026-11-25T10:00:00.123Z","level":"warning","msg":"slow","path":"/x","status":200}"#,
        );
        assert_eq!(keys(&f), ["@timestamp", "log.level", "message", "attributes"]);
        assert_eq!(f.get("log.level"), Some(&Value::str("warn")));
        let attrs = f.get("attributes").and_then(Value::as_obj).unwrap();
        assert_eq!(attrs.get("status"), Some(&Value::Int(200)));
    }

    #[test]
    fn pino_and_bunyan_levels() {
        let f = fields(r#"{"level":30,"time":1764064800123,"pid":7,"hostname":"h","name":"api","msg":"hi"}"#);
        // "name" was the last attribute: the emptied attributes go.
        assert_eq!(
            keys(&f),
            ["@timestamp", "process.pid", "host.name", "message", "log.level", "log.logger"]
        );
        assert_eq!(f.get("log.logger"), Some(&Value::str("api")));
        let f = fields(
            r#"{"name":"app","hostname":"h","pid":1,"level":55,"msg":"x","time":"2026-01-01T00:00:00Z","v":0}"#,
        );
        assert_eq!(f.get("service.name"), Some(&Value::str("app")));
        assert_eq!(f.get("log.level"), Some(&Value::str("error")));
    }

    #[test]
    fn nested_ecs() {
        let f = fields(
            r#"{"@timestamp":"2026-01-01T00:00:00Z","log":{"level":"info","origin":{"file":"a"}},"process":{"pid":3,"thread":{"name":"main"}},"message":"m"}"#,
        );
        assert_eq!(
            keys(&f),
            ["@timestamp", "log.level", "process.pid", "process.thread.name", "message", "attributes"]
        );
        let attrs = f.get("attributes").and_then(Value::as_obj).unwrap();
        assert_eq!(keys(attrs), ["log"]);
    }

    #[test]
    fn python_json_logger() {
        let f =
            fields(r#"{"asctime":"2026-01-01 10:00:00,5","levelname":"INFO","name":"app.db","message":"m"}"#);
        assert_eq!(keys(&f), ["log.level", "message", "log.logger", "@timestamp"]);
    }

    #[test]
    fn refusals_and_declines() {
        for line in [
            &b"[1]"[..],
            b"\"x\"",
            b"{",
            b"{\"a\":01}",
            b"{\"a\":1,}",
            b"{\"a\":\"\xff\"}",
            b"",
            b"{} x",
            b"{'a':1}",
        ] {
            assert_eq!(parse(line, None), Outcome::Refused, "{}", String::from_utf8_lossy(line));
        }
        for line in [
            &b"{\"a\":1e999}"[..],
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":99999999999999999999}",
            b"{\"ts\":\"0001-01-01T00:00+01:00\"}",
        ] {
            assert_eq!(parse(line, None), Outcome::Unsure, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn float_messages_as_python_writes_them() {
        let cases = [
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123.0, "123.0"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_str(f).as_deref(), Some(want), "{f:?}");
        }
        let f = fields(r#"{"msg":2.5,"message":1.5}"#);
        assert_eq!(keys(&f), ["message", "attributes"]);
        assert_eq!(f.get("message"), Some(&Value::str("2.5")));
    }

    #[test]
    fn looks() {
        assert_eq!(looks_like(b" {\"a\":1} \n"), Ok(true));
        assert_eq!(looks_like(b"{"), Ok(false));
        assert_eq!(looks_like(b"{x"), Ok(false));
        assert_eq!(looks_like(b""), Ok(false));
    }
}
