//! Envelopes: find the log line in what an edge shipper published, and what the shipper
//! knew about it (host, file, time, labels). One module per shipper; `fields` holds what
//! they share. A value that is not the envelope its topic names is a dead letter of stage
//! `decode`.

mod fields;
mod filebeat;
mod fluentbit;
mod vector;

use std::borrow::Cow;

use crate::json::{self, Object, Value, truthy};
use crate::time::{Stamp, parse_epoch, parse_iso_timestamp};
use crate::{Answer, Letter};

/// A value that is not its envelope, as a dead letter.
pub(super) fn refused(reason: &'static str, detail: impl Into<String>) -> Letter {
    Letter { stage: "decode", reason, detail: detail.into() }
}

/// A log line and what its shipper knew about it.
pub struct Envelope<'a> {
    pub line: Cow<'a, [u8]>,
    pub timestamp: Option<Stamp>,
    pub host: Option<String>,
    /// Extra ECS fields from the shipper, dotted.
    pub fields: Object,
    /// The whole value as a decoded JSON object, when it is one but not an envelope.
    pub decoded: Option<Object>,
}

/// The envelope of a Kafka value, for envelope "auto" (detected) or a shipper's name.
pub fn unwrap<'a>(value: &'a [u8], key: Option<&[u8]>, envelope: &str) -> Answer<Envelope<'a>> {
    if envelope == "raw" {
        return Ok(raw(value, key));
    }
    if !matches!(envelope, "auto" | "filebeat" | "fluentbit" | "vector") {
        return Err(refused("envelope.unknown", envelope));
    }
    let object = || format!("a {envelope} envelope is a JSON object");
    let head = value.first().copied();
    if head != Some(b'{') && head != Some(b'[') {
        return if envelope == "auto" {
            Ok(raw(value, key))
        } else {
            Err(refused("envelope.not_json", object()))
        };
    }
    let doc = match json::parse(value) {
        Ok(doc) => doc,
        // e.g. a truncated JSON app log: a raw line, whose parser says why.
        Err(_) if envelope == "auto" => return Ok(raw(value, key)),
        Err(_) => return Err(refused("envelope.invalid_json", "not valid JSON")),
    };
    let doc = match doc {
        Value::Array(mut items)
            if items.len() == 2
                && items[1].is_object()
                && matches!(envelope, "auto" | "fluentbit")
                && items[0].is_number() =>
        {
            let Some(Value::Object(mut record)) = items.pop() else { unreachable!("checked above") };
            let stamp = items.pop().unwrap_or(Value::Null);
            record.insert("@timestamp", stamp);
            return fluentbit::unwrap(&record, value, key);
        }
        Value::Object(doc) => doc,
        _ => {
            return if envelope == "auto" {
                Ok(raw(value, key))
            } else {
                Err(refused("envelope.not_object", object()))
            };
        }
    };
    let shipper = if envelope == "auto" { detect(&doc) } else { envelope };
    match shipper {
        "filebeat" => filebeat::unwrap(&doc),
        "vector" => vector::unwrap(&doc),
        "fluentbit" => fluentbit::unwrap(&doc, value, key),
        _ => {
            let mut env = raw(value, key);
            env.decoded = Some(doc);
            Ok(env)
        }
    }
}

/// Whether a value is kept as `log.offset`: an integer, or a bool, as always; an integer
/// beyond 64 bits was read as a float and is not.
pub(super) fn is_int(v: &Value) -> bool {
    v.is_boolean() || v.as_number().is_some_and(|n| !n.is_f64())
}

pub(super) fn get_str<'d>(doc: &'d Object, key: &str) -> Option<&'d str> {
    doc.get(key).and_then(Value::as_str)
}

/// The first of `keys` whose value is truthy (`json::truthy`): an empty or zero value counts
/// as absent, and the next key is tried.
pub(super) fn first_truthy<'d>(doc: &'d Object, keys: &[&str]) -> Option<&'d Value> {
    keys.iter().filter_map(|k| doc.get(k)).find(|v| truthy(v))
}

fn detect(doc: &Object) -> &'static str {
    if doc.get("@metadata").and_then(Value::as_object).is_some_and(|m| m.contains_key("beat")) {
        return "filebeat";
    }
    let agent_is_filebeat = doc
        .get("agent")
        .and_then(Value::as_object)
        .is_some_and(|a| a.get("type") == Some(&Value::from("filebeat")));
    if agent_is_filebeat && doc.contains_key("message") {
        return "filebeat";
    }
    if get_str(doc, "source_type").is_some() && doc.contains_key("message") {
        return "vector";
    }
    if let Some(stamp) = doc.get("@timestamp")
        && *stamp != Value::Null
        && line_key(doc).is_some()
        && (stamp.is_number() || doc.contains_key("log") || doc.contains_key("MESSAGE"))
    {
        return "fluentbit";
    }
    "raw"
}

pub(super) fn raw<'a>(value: &'a [u8], key: Option<&[u8]>) -> Envelope<'a> {
    Envelope {
        line: Cow::Borrowed(value),
        timestamp: None,
        host: key_host(key),
        fields: Object::new(),
        decoded: None,
    }
}

/// The Kafka key as a host name, when it is short, non-empty UTF-8.
fn key_host(key: Option<&[u8]>) -> Option<String> {
    let key = key.filter(|k| !k.is_empty() && k.len() <= 255)?;
    std::str::from_utf8(key).ok().map(str::to_owned)
}

pub(super) fn text(v: Option<&Value>) -> Answer<Cow<'static, [u8]>> {
    match v {
        Some(Value::String(s)) => Ok(Cow::Owned(s.as_bytes().to_vec())),
        _ => Err(refused("envelope.no_line", "the line field is not a string")),
    }
}

/// A shipper's timestamp field as UTC: ISO 8601 text, or epoch seconds or milliseconds.
pub(super) fn event_time(v: Option<&Value>) -> Option<Stamp> {
    match v {
        Some(Value::String(s)) => parse_iso_timestamp(s),
        Some(Value::Number(n)) => n.as_f64().and_then(parse_epoch),
        _ => None,
    }
}

/// A host object's `name`, else its `hostname`, kept if text.
pub(super) fn host_object(doc: &Object) -> Option<String> {
    let host = doc.get("host")?.as_object()?;
    first_or_last(host, &["name", "hostname"])
}

/// The first truthy value of `keys`, else the last key's value; kept if text.
pub(super) fn first_or_last(doc: &Object, keys: &[&str]) -> Option<String> {
    let found = first_truthy(doc, keys).or_else(|| doc.get(keys[keys.len() - 1]));
    found.and_then(Value::as_str).map(str::to_owned)
}

pub(super) fn line_key(doc: &Object) -> Option<&'static str> {
    ["log", "message", "MESSAGE", "msg"].into_iter().find(|k| get_str(doc, k).is_some())
}
