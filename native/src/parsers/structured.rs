//! The mapping of a structured line's keys onto ECS fields, and the whitespace the line
//! parsers trim with.

use crate::json::{Object, Value};
use crate::parsers::Fields;
use crate::parsers::level::normalise_level;
use crate::time::{Stamp, parse_epoch, parse_iso_timestamp};

/// Whitespace for trimming and splitting line text: Unicode's White_Space plus the
/// separators U+001C..U+001F (Python's `str.isspace`, hence the name), the set text has
/// always been trimmed with.
pub fn py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}')
        || ('\u{2000}'..='\u{200a}').contains(&c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// A structured line's well-known keys and the ECS field each feeds.
fn target_of(key: &str) -> Option<&'static str> {
    Some(match key {
        // `__REALTIME_TIMESTAMP`, `PRIORITY`, `MESSAGE`, `_HOSTNAME`, `SYSLOG_IDENTIFIER` and
        // `_PID`: systemd's journal export (`journalctl -o json`); `s`: MongoDB's severity (a
        // value that names no level stays in `attributes`).
        "@timestamp" | "timestamp" | "time" | "ts" | "t" | "datetime" | "date" | "__REALTIME_TIMESTAMP" => {
            "@timestamp"
        }
        "level" | "lvl" | "severity" | "loglevel" | "log.level" | "levelname" | "PRIORITY" | "s" => {
            "log.level"
        }
        "msg" | "message" | "MESSAGE" => "message",
        "logger" | "logger_name" | "log.logger" => "log.logger",
        "service" | "service.name" | "app" | "application" | "SYSLOG_IDENTIFIER" => "service.name",
        "host" | "hostname" | "host.name" | "_HOSTNAME" => "host.name",
        "pid" | "process.pid" | "_PID" => "process.pid",
        "thread" | "process.thread.name" | "thread_name" => "process.thread.name",
        "error" | "err" | "error.message" => "error.message",
        "exception" | "stack_trace" | "stacktrace" | "error.stack_trace" => "error.stack_trace",
        "error.type" => "error.type",
        _ => return None,
    })
}

/// A JSON object's or logfmt line's pairs as ECS fields, the rest in `attributes`. The
/// pairs' keys are unique; the first key to claim a target has it, later ones stay in
/// `attributes`.
pub fn structured_fields(pairs: Object) -> Fields {
    let mut fields =
        Fields { map: Object::with_capacity(pairs.len().min(8) + 1), timestamp: None, ahead: None };
    let mut rest = Object::new();
    for (key, value) in pairs {
        let target = match target_of(&key) {
            Some(t) if !fields.contains_key(t) => t,
            _ => {
                rest.insert(key, value);
                continue;
            }
        };
        if target == "@timestamp" {
            match event_time(&value) {
                Some(stamp) => fields.timestamp = Some(stamp),
                None => {
                    rest.insert(key, value);
                }
            }
            continue;
        }
        match convert(target, value) {
            Ok(converted) => fields.set(target, converted),
            Err(kept) => {
                rest.insert(key, kept);
            }
        }
    }
    if !rest.is_empty() {
        fields.set("attributes", Value::Object(rest));
    }
    fields
}

/// The event time of a `@timestamp` key: text as ISO 8601, a number (or a text of digits,
/// as the journal writes its microseconds) as epoch seconds, milliseconds or microseconds,
/// and MongoDB's extended JSON (`{"$date": "..."}`, `{"$date": {"$numberLong": "..."}}`).
fn event_time(value: &Value) -> Option<Stamp> {
    match value {
        // Ten digits or more: seconds from 2001 on, or finer units (a `ts=1` is no time).
        Value::String(s) if (10..=19).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit()) => {
            s.parse::<f64>().ok().and_then(parse_epoch)
        }
        Value::String(s) => parse_iso_timestamp(s),
        Value::Number(n) => n.as_f64().and_then(parse_epoch),
        Value::Object(o) if o.len() == 1 => match o.get("$date").or_else(|| o.get("$numberLong"))? {
            Value::String(s) if o.contains_key("$numberLong") => s.parse::<f64>().ok().and_then(parse_epoch),
            inner => event_time(inner),
        },
        _ => None,
    }
}

/// What a well-known key's value becomes (any target but `@timestamp`): Ok(the ECS value),
/// or Err(the value, unchanged) for `attributes`.
fn convert(target: &str, value: Value) -> Result<Value, Value> {
    let converted = match (target, &value) {
        ("log.level", v) => normalise_level(v).map(Value::from),
        // Below 2^31, as every pid is; an integer beyond 64 bits was read as a float, and
        // is refused.
        ("process.pid", Value::Number(n)) if !n.is_f64() => {
            n.as_u64().filter(|&pid| pid < 1 << 31).map(Value::from)
        }
        ("process.pid", Value::String(s)) => {
            let ok = !s.is_empty() && s.len() < 10 && s.bytes().all(|c| c.is_ascii_digit());
            if ok { s.parse::<u64>().ok().map(Value::from) } else { None }
        }
        ("process.pid", _) => None,
        (_, Value::String(_)) => return Ok(value),
        // A number's JSON text (a float as serde_json writes it: `1e16`).
        ("message", Value::Number(n)) => Some(Value::from(n.to_string())),
        _ => None,
    };
    converted.ok_or(value)
}
