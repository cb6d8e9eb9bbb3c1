//! `envelopes.py`, ported: find the log line in what an edge shipper published.
//!
//! An EnvelopeError of the reference is a dead letter here too (stage `decode`, the same
//! reason).

use std::borrow::Cow;

use crate::json::{self, Object, Value, truthy, update};
use crate::time::{Stamp, parse_epoch, parse_iso_timestamp};
use crate::{Answer, Letter};

/// The reference's EnvelopeError, as a dead letter.
fn refused(reason: &'static str, detail: impl Into<String>) -> Letter {
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

/// `envelopes.unwrap` for envelope "auto" or a shipper's name.
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
            record.insert("@timestamp".to_owned(), stamp);
            return fluentbit(&record, value, key);
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
        "filebeat" => filebeat(&doc),
        "vector" => vector(&doc),
        "fluentbit" => fluentbit(&doc, value, key),
        _ => {
            let mut env = raw(value, key);
            env.decoded = Some(doc);
            Ok(env)
        }
    }
}

/// Python's `isinstance(v, int)`, which a bool passes (an integer beyond 64 bits is a
/// float here, as orjson reads it).
fn is_int(v: &Value) -> bool {
    v.is_boolean() || v.as_number().is_some_and(|n| !n.is_f64())
}

fn get_str<'d>(doc: &'d Object, key: &str) -> Option<&'d str> {
    doc.get(key).and_then(Value::as_str)
}

/// `doc.get(a) or doc.get(b) or ...`: the first truthy value.
fn first_truthy<'d>(doc: &'d Object, keys: &[&str]) -> Option<&'d Value> {
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

fn raw<'a>(value: &'a [u8], key: Option<&[u8]>) -> Envelope<'a> {
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

fn text(v: Option<&Value>) -> Answer<Cow<'static, [u8]>> {
    match v {
        Some(Value::String(s)) => Ok(Cow::Owned(s.as_bytes().to_vec())),
        _ => Err(refused("envelope.no_line", "the line field is not a string")),
    }
}

/// `event_time`: a shipper's timestamp field as UTC.
fn event_time(v: Option<&Value>) -> Option<Stamp> {
    match v {
        Some(Value::String(s)) => parse_iso_timestamp(s),
        Some(Value::Number(n)) => n.as_f64().and_then(parse_epoch),
        _ => None,
    }
}

/// `host.get("name") or host.get("hostname")` of a host object, kept if text.
fn host_object(doc: &Object) -> Option<String> {
    let host = doc.get("host")?.as_object()?;
    first_or_last(host, &["name", "hostname"])
}

/// Python's `a or b` over values, then `isinstance(result, str)`: the first truthy value,
/// else the last one looked at.
fn first_or_last(doc: &Object, keys: &[&str]) -> Option<String> {
    let found = first_truthy(doc, keys).or_else(|| doc.get(keys[keys.len() - 1]));
    found.and_then(Value::as_str).map(str::to_owned)
}

fn filebeat(doc: &Object) -> Answer<Envelope<'static>> {
    if !doc.contains_key("message") {
        return Err(refused("envelope.no_line", "filebeat event without message"));
    }
    let mut fields = Object::new();
    if let Some(log) = doc.get("log").and_then(Value::as_object) {
        if let Some(path) = log.get("file").and_then(Value::as_object).and_then(|f| get_str(f, "path")) {
            fields.insert("log.file.path".to_owned(), Value::from(path));
        }
        if let Some(offset) = log.get("offset").filter(|v| is_int(v)) {
            fields.insert("log.offset".to_owned(), offset.clone());
        }
    }
    if let Some(agent) = doc.get("agent").and_then(Value::as_object) {
        for (name, field) in
            [("type", "agent.type"), ("version", "agent.version"), ("name", "agent.name"), ("id", "agent.id")]
        {
            if let Some(v) = get_str(agent, name) {
                fields.insert(field.to_owned(), Value::from(v));
            }
        }
    }
    if let Some(name) = doc.get("service").and_then(Value::as_object).and_then(|s| get_str(s, "name")) {
        fields.insert("service.name".to_owned(), Value::from(name));
    }
    labels(&mut fields, doc.get("fields"));
    labels(&mut fields, doc.get("labels"));
    kubernetes(&mut fields, doc.get("kubernetes"));
    stream(&mut fields, doc.get("stream"));
    Ok(Envelope {
        line: text(doc.get("message"))?,
        timestamp: event_time(doc.get("@timestamp")),
        host: host_object(doc),
        fields,
        decoded: None,
    })
}

fn vector(doc: &Object) -> Answer<Envelope<'static>> {
    let mut fields = Object::new();
    fields.insert("agent.type".to_owned(), Value::from("vector"));
    if let Some(file) = get_str(doc, "file") {
        fields.insert("log.file.path".to_owned(), Value::from(file));
    }
    if let Some(service) = get_str(doc, "service") {
        fields.insert("service.name".to_owned(), Value::from(service));
    }
    kubernetes(&mut fields, doc.get("kubernetes"));
    stream(&mut fields, doc.get("stream"));
    Ok(Envelope {
        line: text(doc.get("message"))?,
        timestamp: event_time(doc.get("timestamp")),
        host: first_or_last(doc, &["host", "hostname"]),
        fields,
        decoded: None,
    })
}

fn fluentbit<'a>(doc: &Object, value: &[u8], key: Option<&[u8]>) -> Answer<Envelope<'a>> {
    let line_key =
        line_key(doc).ok_or_else(|| refused("envelope.no_line", "fluent bit record without log/message"))?;
    let mut fields = Object::new();
    fields.insert("agent.type".to_owned(), Value::from("fluentbit"));
    kubernetes(&mut fields, doc.get("kubernetes"));
    stream(&mut fields, doc.get("stream"));
    if let Some(file) = get_str(doc, "filename") {
        fields.insert("log.file.path".to_owned(), Value::from(file));
    }
    let host = match first_truthy(doc, &["hostname", "host", "_HOSTNAME"]).or_else(|| doc.get("_HOSTNAME")) {
        Some(Value::String(h)) => Some(h.to_string()),
        _ => raw(value, key).host,
    };
    let mut line = get_str(doc, line_key).unwrap_or_default();
    if line_key == "log" {
        line = line.strip_suffix('\n').unwrap_or(line);
    }
    Ok(Envelope {
        line: Cow::Owned(line.as_bytes().to_vec()),
        timestamp: event_time(doc.get("@timestamp")),
        host,
        fields,
        decoded: None,
    })
}

fn line_key(doc: &Object) -> Option<&'static str> {
    ["log", "message", "MESSAGE", "msg"].into_iter().find(|k| get_str(doc, k).is_some())
}

/// `_labels`: a shipper's custom fields as text labels.
fn labels(fields: &mut Object, custom: Option<&Value>) {
    let Some(Value::Object(custom)) = custom else { return };
    let mut found = Object::new();
    for (k, v) in custom.iter() {
        let text = match v {
            Value::String(s) => s.to_string(),
            // serde_json's spelling of a float (`1e16`, where Python's str() wrote `1e+16`).
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => (if *b { "True" } else { "False" }).to_owned(),
            _ => continue,
        };
        found.insert(k.clone(), Value::from(text));
    }
    if found.is_empty() {
        return;
    }
    match fields.get_mut("labels") {
        Some(Value::Object(existing)) => update(existing, found),
        // Labels that are not an object are replaced: `labels.*` are text fields.
        _ => {
            fields.insert("labels", Value::Object(found));
        }
    }
}

fn stream(fields: &mut Object, v: Option<&Value>) {
    if let Some(Value::String(s)) = v
        && (s == "stdout" || s == "stderr")
    {
        fields.insert("stream".to_owned(), Value::from(s.as_str()));
    }
}

fn kubernetes(fields: &mut Object, meta: Option<&Value>) {
    let Some(Value::Object(meta)) = meta else { return };
    for (source, target) in [
        ("pod_name", "kubernetes.pod.name"),
        ("namespace_name", "kubernetes.namespace"),
        ("container_name", "kubernetes.container.name"),
        ("host", "kubernetes.node.name"),
    ] {
        if let Some(v) = get_str(meta, source) {
            fields.insert(target.to_owned(), Value::from(v));
        }
    }
    if let Some(name) = meta.get("pod").and_then(Value::as_object).and_then(|p| get_str(p, "name")) {
        fields.insert("kubernetes.pod.name".to_owned(), Value::from(name));
    }
    if let Some(ns) = get_str(meta, "namespace") {
        fields.insert("kubernetes.namespace".to_owned(), Value::from(ns));
    }
}
