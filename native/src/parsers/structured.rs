//! What the line parsers share: log levels, and the mapping of a structured line's keys
//! onto ECS fields.

use crate::json::{Object, Value};
use crate::parsers::Fields;
use crate::time::{Stamp, parse_epoch, parse_iso_timestamp};

/// A level's spelling, as written, to its normal form.
fn level_of(word: &str) -> Option<&'static str> {
    Some(match word {
        "trace" | "finest" | "finer" => "trace",
        "debug" | "dbug" | "dbg" | "fine" | "d" => "debug",
        "info" | "inf" | "information" | "informational" | "i" => "info",
        "notice" => "notice",
        "warn" | "warning" | "wrn" | "w" => "warn",
        "error" | "err" | "eror" | "severe" | "e" => "error",
        "critical" | "crit" | "crt" => "critical",
        "alert" => "alert",
        "emerg" | "emergency" => "emergency",
        "fatal" | "ftl" | "f" | "panic" => "fatal",
        _ => return None,
    })
}

/// RFC 5424 severities, by code, as log.level values.
pub const SYSLOG_SEVERITIES: [&str; 8] =
    ["emergency", "alert", "critical", "error", "warn", "notice", "info", "debug"];

/// Whitespace for trimming and splitting line text: Unicode's White_Space plus the
/// separators U+001C..U+001F (Python's `str.isspace`, hence the name), the set text has
/// always been trimmed with.
pub fn py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}')
        || ('\u{2000}'..='\u{200a}').contains(&c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// The level a text names: a known spelling, as written or trimmed and lower-cased; None
/// for a text longer than 16 characters.
pub fn level_of_text(value: &str) -> Option<&'static str> {
    if value.chars().count() > 16 {
        return None;
    }
    if let Some(level) = level_of(value) {
        return Some(level);
    }
    let stripped = value.trim_matches(py_space);
    if !stripped.is_ascii() {
        // No non-ASCII character lower-cases into the ASCII letters a level is spelt with
        // (U+212A, the Kelvin sign, becomes "k", which no level has).
        return None;
    }
    level_of(&stripped.to_ascii_lowercase())
}

/// The level a value names: a text as `level_of_text` reads it, an integer 0..=7 as its
/// syslog severity.
pub fn normalise_level(value: &Value) -> Option<&'static str> {
    match value {
        // An integer beyond 64 bits is a float here, and no severity.
        Value::Number(n) if !n.is_f64() => {
            n.as_u64().and_then(|i| SYSLOG_SEVERITIES.get(usize::try_from(i).ok()?).copied())
        }
        Value::String(s) => level_of_text(s),
        _ => None,
    }
}

/// A structured line's well-known keys and the ECS field each feeds.
fn target_of(key: &str) -> Option<&'static str> {
    Some(match key {
        "@timestamp" | "timestamp" | "time" | "ts" | "t" | "datetime" | "date" => "@timestamp",
        "level" | "lvl" | "severity" | "loglevel" | "log.level" | "levelname" => "log.level",
        "msg" | "message" => "message",
        "logger" | "logger_name" | "log.logger" => "log.logger",
        "service" | "service.name" | "app" | "application" => "service.name",
        "host" | "hostname" | "host.name" => "host.name",
        "pid" | "process.pid" => "process.pid",
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
    let mut fields = Fields { map: Object::with_capacity(pairs.len().min(8) + 1), timestamp: None };
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

/// The event time of a `@timestamp` key: text as ISO 8601, a number as epoch seconds or
/// milliseconds.
fn event_time(value: &Value) -> Option<Stamp> {
    match value {
        Value::String(s) => parse_iso_timestamp(s),
        Value::Number(n) => n.as_f64().and_then(parse_epoch),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level_of_text(" WARNING "), Some("warn"));
        assert_eq!(level_of_text("Err"), Some("error"));
        assert_eq!(level_of_text("verbose"), None);
        assert_eq!(normalise_level(&Value::from(3)), Some("error"));
        assert_eq!(normalise_level(&Value::from(-3)), None);
        assert_eq!(normalise_level(&Value::Bool(true)), None);
    }
}
