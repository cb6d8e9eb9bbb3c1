//! What the line parsers share (`parsers/common.py`): log levels and the mapping of a
//! structured line's keys onto ECS fields.

use crate::time::{parse_epoch, parse_iso_timestamp};
use crate::value::{Fields, Value};
use crate::{Decline, Maybe};

/// `_LEVELS`: a spelling, as written, to its normal form.
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

/// Python's str.isspace for one character (what strip() removes).
pub fn py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}')
        || ('\u{2000}'..='\u{200a}').contains(&c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// `normalise_level` for a text value.
pub fn level_of_text(value: &str) -> Maybe<Option<&'static str>> {
    if value.chars().count() > 16 {
        return Ok(None);
    }
    if let Some(level) = level_of(value) {
        return Ok(Some(level));
    }
    let stripped = value.trim_matches(py_space);
    if !stripped.is_ascii() {
        // No non-ASCII character lower-cases into the ASCII letters a level is spelt with
        // (U+212A, the Kelvin sign, becomes "k", which no level has).
        return Ok(None);
    }
    Ok(level_of(&stripped.to_ascii_lowercase()))
}

/// `normalise_level` for any value.
pub fn normalise_level(value: &Value) -> Maybe<Option<&'static str>> {
    match value {
        Value::Int(n) => Ok(usize::try_from(*n).ok().and_then(|i| SYSLOG_SEVERITIES.get(i).copied())),
        Value::Str(s) => level_of_text(s),
        _ => Ok(None),
    }
}

/// `_KEY_MAP`: a structured line's well-known keys and the ECS field each feeds.
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

/// `structured_fields`: a JSON object's or logfmt line's pairs as ECS fields, the rest in
/// `attributes`. The pairs' keys are unique (a `Fields`), and so is each target once
/// claimed, so both maps are built by pushing.
pub fn structured_fields(pairs: Fields) -> Maybe<Fields> {
    let mut fields = Fields::with_capacity(pairs.len().min(8) + 1);
    let mut rest = Fields::new();
    for (key, value) in pairs.0 {
        let target = match target_of(&key) {
            Some(t) if !fields.contains_key(t) => t,
            _ => {
                rest.0.push((key, value));
                continue;
            }
        };
        match convert(target, value)? {
            Ok(converted) => fields.0.push((target.into(), converted)),
            Err(kept) => rest.0.push((key, kept)),
        }
    }
    if !rest.is_empty() {
        fields.0.push(("attributes".into(), Value::Obj(rest)));
    }
    Ok(fields)
}

/// `_convert`: Ok(what a well-known key's value becomes), or Err(the value, unchanged) for
/// `attributes`; the outer Err declines.
fn convert(target: &str, value: Value) -> Maybe<Result<Value, Value>> {
    let converted = match (target, &value) {
        ("@timestamp", Value::Str(s)) => parse_iso_timestamp(s)?.map(Value::Time),
        ("@timestamp", Value::Int(n)) => parse_epoch(*n as f64).map(Value::Time),
        ("@timestamp", Value::Float(f)) => parse_epoch(*f).map(Value::Time),
        ("@timestamp", _) => None,
        ("log.level", v) => normalise_level(v)?.map(Value::str),
        ("process.pid", Value::Int(n)) => (0..1 << 31).contains(n).then_some(Value::Int(*n)),
        ("process.pid", Value::Str(s)) => {
            let ok = !s.is_empty() && s.len() < 10 && s.bytes().all(|c| c.is_ascii_digit());
            if ok { Some(Value::Int(s.parse().map_err(|_| Decline)?)) } else { None }
        }
        ("process.pid", _) => None,
        (_, Value::Str(_)) => return Ok(Ok(value)),
        ("message", Value::Int(n)) => Some(Value::Str(n.to_string())),
        // str() of a float is Python's repr, which this port does not reproduce.
        ("message", Value::Float(_)) => return Err(Decline),
        _ => None,
    };
    Ok(converted.ok_or(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level_of_text(" WARNING "), Ok(Some("warn")));
        assert_eq!(level_of_text("Err"), Ok(Some("error")));
        assert_eq!(level_of_text("verbose"), Ok(None));
        assert_eq!(normalise_level(&Value::Int(3)), Ok(Some("error")));
        assert_eq!(normalise_level(&Value::Bool(true)), Ok(None));
    }
}
