//! JSON lines: one JSON object per line, read by `crate::json`, mapped by
//! `structured_fields` plus the pino / bunyan / python-json-logger / nested-ECS rules.

use super::Fields;
use super::structured::structured_fields;
use super::{Outcome, Refusal, is_bytes_space};
use crate::json::{self, Object, Value, truthy};
use crate::time::{Stamp, parse_iso_timestamp};

/// Braced like an object once ASCII blanks at either end are set aside.
pub fn looks_like(line: &[u8]) -> bool {
    let first = line.iter().position(|&c| !is_bytes_space(c));
    let last = line.iter().rposition(|&c| !is_bytes_space(c));
    matches!((first, last), (Some(f), Some(l)) if line[f] == b'{' && line[l] == b'}')
}

/// One JSON line. `reference` is unused: JSON loggers write full timestamps or epochs.
pub fn parse(line: &[u8], _reference: Option<Stamp>) -> Outcome {
    match json::parse(line) {
        Ok(Value::Object(obj)) => from_object(obj),
        Ok(other) => Outcome::refuse("json.not_object", python_type(&other)),
        // Invalid UTF-8 is the more useful reason: it says what to fix at the sender.
        Err(_) if std::str::from_utf8(line).is_err() => Outcome::Refused(Refusal::utf8(line)),
        Err(_) => Outcome::refuse("json.invalid", "not valid JSON"),
    }
}

/// The detail of `json.not_object`: the value's type, by the names dead letters have always
/// given (`NoneType`, `bool`, `float`, `int`, `str`, `list`).
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// An already decoded JSON object line.
pub fn from_object(obj: Object) -> Outcome {
    Outcome::Parsed(map_object(obj))
}

fn map_object(obj: Object) -> Fields {
    // What the rules below ask of the original object, read before it is taken apart.
    let numeric_level = pino_level(&obj);
    let bunyan = obj.contains_key("v");
    let python_json_logger = obj.contains_key("levelname");

    let mut pairs = lift_nested(obj);
    if numeric_level.is_some() {
        pairs.shift_remove("level");
    }
    let mut fields = structured_fields(pairs);
    if let Some(level) = numeric_level {
        fields.set("log.level", Value::from(level));
        if bunyan && !fields.contains_key("service.name") {
            promote(&mut fields, "name", "service.name"); // bunyan: "name" is the app
        } else if !fields.contains_key("log.logger") {
            promote(&mut fields, "name", "log.logger"); // pino: "name" is the logger
        }
    }
    if fields.get("attributes").is_some_and(truthy) {
        // A text field ECS logging writes dotted that `structured_fields` does not map.
        if !fields.contains_key("process.thread.name") {
            promote(&mut fields, "process.thread.name", "process.thread.name");
        }
        if python_json_logger {
            if !fields.contains_key("log.logger") {
                promote(&mut fields, "name", "log.logger");
            }
            if !fields.contains_key("@timestamp") {
                lift_asctime(&mut fields);
            }
        }
    }
    if fields.get("attributes").is_some_and(|a| !truthy(a)) {
        fields.remove("attributes");
    }
    fields
}

/// python-json-logger: `asctime` becomes `@timestamp` when it reads as ISO 8601.
fn lift_asctime(fields: &mut Fields) {
    let Some(Value::Object(attributes)) = fields.map.get_mut("attributes") else {
        return;
    };
    let Some(Value::String(asctime)) = attributes.get("asctime") else {
        return;
    };
    if let Some(stamp) = parse_iso_timestamp(asctime) {
        attributes.shift_remove("asctime");
        fields.timestamp = Some(stamp);
    }
}

/// A text attribute moved to an ECS field (appended after the fields already set).
fn promote(fields: &mut Fields, key: &str, target: &'static str) {
    let Some(Value::Object(attributes)) = fields.map.get_mut("attributes") else {
        return;
    };
    if !matches!(attributes.get(key), Some(Value::String(_))) {
        return;
    }
    if let Some(value) = attributes.shift_remove(key) {
        fields.set(target, value);
    }
}

/// The nested ECS objects whose leaves `structured_fields` knows under a dotted name.
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

/// `{"log": {"level": x}}` -> `"log.level": x`, what is left staying nested.
fn lift_nested(obj: Object) -> Object {
    let nested = obj.iter().any(|(k, v)| v.is_object() && nested_leaves(k).is_some());
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
    // Keys stay distinct: the object's keys are distinct, and a dotted name is only made
    // when the object lacks it.
    let mut pairs = Object::with_capacity(obj.len() + 4);
    for (key, value) in obj {
        let (leaves, mut rest) = match (nested_leaves(&key), value) {
            (Some(leaves), Value::Object(rest)) => (leaves, rest),
            (_, value) => {
                pairs.insert(key, value);
                continue;
            }
        };
        for leaf in leaves {
            if !rest.contains_key(leaf) {
                continue;
            }
            let dotted = format!("{key}.{leaf}");
            if !in_obj(&dotted)
                && let Some(v) = rest.shift_remove(leaf)
            {
                pairs.insert(dotted, v);
            }
        }
        if key == "process" && !in_obj("process.thread.name") {
            // ECS nests the thread one level deeper.
            if let Some(Value::Object(thread)) = rest.get_mut("thread")
                && let Some(name) = thread.shift_remove("name")
            {
                let now_empty = thread.is_empty();
                pairs.insert("process.thread.name", name);
                if now_empty {
                    rest.shift_remove("thread");
                }
            }
        }
        if !rest.is_empty() {
            pairs.insert(key, Value::Object(rest));
        }
    }
    pairs
}

/// The level of a pino / bunyan record, or None when it is not one of theirs.
fn pino_level(obj: &Object) -> Option<&'static str> {
    // Integers only: pino and bunyan write integer levels and times. An integer beyond 64
    // bits was read as a float: neither a level (at most 100) nor a time in milliseconds.
    let level = obj.get("level").and_then(Value::as_number).filter(|n| !n.is_f64())?.as_i64()?;
    if !(1..=100).contains(&level) {
        return None;
    }
    let epoch_ms = obj
        .get("time")
        .and_then(Value::as_number)
        .is_some_and(|t| !t.is_f64() && t.as_u64().is_some_and(|t| t > 100_000_000_000));
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

    fn keys(f: &Fields) -> Vec<String> {
        f.keys()
    }

    #[test]
    fn logrus_line() {
        let f = fields(
            r#"{"time":"2026-11-25T10:00:00.123Z","level":"warning","msg":"slow","path":"/x","status":200}"#,
        );
        assert_eq!(keys(&f), ["@timestamp", "log.level", "message", "attributes"]);
        assert_eq!(f.get("log.level"), Some(&Value::from("warn")));
        let attrs = f.get("attributes").and_then(Value::as_object).unwrap();
        assert_eq!(attrs.get("status"), Some(&Value::from(200)));
    }

    #[test]
    fn pino_and_bunyan_levels() {
        let f = fields(r#"{"level":30,"time":1764064800123,"pid":7,"hostname":"h","name":"api","msg":"hi"}"#);
        // "name" was the last attribute: the emptied attributes go.
        assert_eq!(
            keys(&f),
            ["@timestamp", "process.pid", "host.name", "message", "log.level", "log.logger"]
        );
        assert_eq!(f.get("log.logger"), Some(&Value::from("api")));
        let f = fields(
            r#"{"name":"app","hostname":"h","pid":1,"level":55,"msg":"x","time":"2026-01-01T00:00:00Z","v":0}"#,
        );
        assert_eq!(f.get("service.name"), Some(&Value::from("app")));
        assert_eq!(f.get("log.level"), Some(&Value::from("error")));
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
        let attrs = f.get("attributes").and_then(Value::as_object).unwrap();
        assert_eq!(attrs.keys().collect::<Vec<_>>(), ["log"]);
    }

    #[test]
    fn python_json_logger() {
        let f =
            fields(r#"{"asctime":"2026-01-01 10:00:00,5","levelname":"INFO","name":"app.db","message":"m"}"#);
        assert_eq!(keys(&f), ["@timestamp", "log.level", "message", "log.logger"]);
    }

    #[test]
    fn refusals() {
        for (line, reason) in [
            (&b"[1]"[..], "json.not_object"),
            (b"\"x\"", "json.not_object"),
            (b"{", "json.invalid"),
            (b"{\"a\":01}", "json.invalid"),
            (b"{\"a\":1,}", "json.invalid"),
            (b"{\"a\":\"\xff\"}", "invalid_utf8"),
            (b"", "json.invalid"),
            (b"{} x", "json.invalid"),
            (b"{'a':1}", "json.invalid"),
            (b"{\"a\":1e999}", "json.invalid"), // a number that overflows a float
            (b"{\"a\":\"\\ud800\"}", "json.invalid"), // and a lone surrogate
        ] {
            assert_eq!(parse(line, None).reason(), Some(reason), "{}", String::from_utf8_lossy(line));
        }
        let Outcome::Parsed(f) = parse(b"{\"a\":99999999999999999999}", None) else { panic!() };
        assert_eq!(f.get("attributes"), Some(&Value::from(serde_json::json!({"a": 1e20}))));
        // A time that leaves years 1..=9999 once in UTC is no time: an attribute.
        let Outcome::Parsed(f) = parse(b"{\"ts\":\"0001-01-01T00:00+01:00\"}", None) else { panic!() };
        assert_eq!(
            f.get("attributes"),
            Some(&Value::from(serde_json::json!({"ts": "0001-01-01T00:00+01:00"})))
        );
    }

    #[test]
    fn a_number_message_becomes_its_json_text() {
        let f = fields(r#"{"msg":2.5,"message":1.5}"#);
        assert_eq!(keys(&f), ["message", "attributes"]);
        assert_eq!(f.get("message"), Some(&Value::from("2.5")));
        let text = serde_json::Number::from_f64(1e16).unwrap().to_string();
        assert_eq!(fields(r#"{"msg":1e16}"#).get("message"), Some(&Value::from(text)));
    }

    #[test]
    fn looks() {
        assert!(looks_like(b" {\"a\":1} \n"));
        assert!(!looks_like(b"{"));
        assert!(!looks_like(b"{x"));
        assert!(!looks_like(b""));
    }
}
