//! The ECS document: an envelope and a parsed line, nested, with what every document carries.

use crate::envelope::Envelope;
use crate::json::{Object, Str, Value, child};
use crate::parsers::Fields;
use crate::time::Stamp;

pub const ECS_VERSION: &str = "8.11.0";

/// Envelope fields a parsed line may not override: where the line was read, by which agent,
/// and the shipper's labels are the shipper's to say, not the line's text.
const ENVELOPE_ONLY: [&str; 7] =
    ["log.file.path", "log.offset", "agent.type", "agent.version", "agent.name", "agent.id", "labels"];

/// Where the message came from in Kafka.
pub struct Origin<'a> {
    pub topic: &'a str,
    pub partition: i64,
    pub offset: i64,
    pub kafka_time: Option<Stamp>,
    pub key: Option<&'a [u8]>,
}

/// What every document of one topic shares.
pub struct Tail<'a> {
    pub dataset: &'a str,
    pub line_format: &'a str,
    pub ingested: &'a str,
    pub keep_original: bool,
}

/// The nested document and its `@timestamp`: the line's time, else the shipper's, else
/// Kafka's, else the epoch.
///
/// The shipper's dotted fields are nested first, then the line's over them: a key both set
/// keeps the shipper's position and takes the line's value. No merged flat map is built.
pub fn document(envelope: Envelope, parsed: Fields, origin: &Origin, tail: &Tail) -> (Object, Stamp) {
    let host_named = envelope.fields.contains_key("host.name") || parsed.contains_key("host.name");
    let mut doc = Object::with_capacity(16);
    nest_into(&mut doc, envelope.fields);
    for (key, value) in parsed.map {
        if !envelope_only(&key) {
            nest_one(&mut doc, key, value);
        }
    }
    if let Some(host) = envelope.host.filter(|h| !h.is_empty())
        && !host_named
    {
        nest_one(&mut doc, Str::from("host.name"), Value::from(host));
    }
    let stamp = parsed.timestamp.or(envelope.timestamp).or(origin.kafka_time).unwrap_or(Stamp(0));
    document_tail(&mut doc, stamp, &envelope.line, origin, tail);
    (doc, stamp)
}

fn envelope_only(key: &str) -> bool {
    // Most keys start with none of these letters: one byte decides.
    matches!(key.as_bytes().first(), Some(b'l' | b'a')) && ENVELOPE_ONLY.contains(&key)
}

/// Dotted keys into nested objects; values that are objects stay whole.
pub fn nest(flat: Object) -> Object {
    let mut out = Object::with_capacity(flat.len());
    nest_into(&mut out, flat);
    out
}

fn nest_into(out: &mut Object, flat: Object) {
    for (key, value) in flat {
        nest_one(out, key, value);
    }
}

/// `key` is taken whole where it is not dotted: the parser's own string, not a copy.
fn nest_one(out: &mut Object, key: Str, value: Value) {
    if key == "@timestamp" || !key.as_bytes().contains(&b'.') {
        out.insert(key, value);
        return;
    }
    // Each part but the last names an object. A byte scan: `.` is ASCII, so every part is
    // whole UTF-8 (str's own splitting cost twice as much here).
    let mut node = out;
    let mut start = 0;
    for (i, &b) in key.as_bytes().iter().enumerate() {
        if b == b'.' {
            node = child(node, &key[start..i]);
            start = i + 1;
        }
    }
    node.insert(&key[start..], value);
}

/// Bytes as a text value. Bytes that are not UTF-8 stay readable: each maximal invalid
/// subpart becomes one U+FFFD (Unicode's recommended practice). Valid text, nearly all of
/// it, is checked once at vector speed and copied, never walked by the lossy decoder.
fn readable(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::from(text),
        Err(_) => Value::from(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// What every document carries: `@timestamp`, `message` (the line, unless the parser set
/// one), `event.*`, `kafka.*`, `ecs.version`.
fn document_tail(doc: &mut Object, stamp: Stamp, line: &[u8], origin: &Origin, tail: &Tail) {
    // A line that is not UTF-8 was refused by its parser; a raw decoded object has no bytes
    // to lose. Most parsers set `message` themselves: the line is read as text only when
    // it is written.
    let text = || readable(line);
    doc.insert("@timestamp", Value::from(stamp.iso()));
    if !doc.contains_key("message") {
        doc.insert("message", text());
    }
    let event = child(doc, "event");
    if tail.keep_original {
        event.insert("original", text());
    }
    event.insert("ingested", Value::from(tail.ingested));
    event.insert("dataset", Value::from(tail.dataset));
    event.insert("module", Value::from(tail.line_format));
    let mut kafka = Object::with_capacity(4);
    kafka.insert("topic", Value::from(origin.topic));
    kafka.insert("partition", Value::from(origin.partition));
    kafka.insert("offset", Value::from(origin.offset));
    if let Some(key) = origin.key {
        kafka.insert("key", readable(key));
    }
    doc.insert("kafka", Value::Object(kafka));
    let ecs = Object::from_iter([("version", Value::from(ECS_VERSION))]);
    doc.insert("ecs", Value::Object(ecs));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nest_keeps_first_positions_and_replaces_non_objects() {
        let Value::Object(flat) = Value::from(json!({"a.b": 1, "c": 2, "a.c": 3, "c.d": 4})) else {
            panic!()
        };
        let doc = nest(flat);
        assert_eq!(doc.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(Value::Object(doc), Value::from(json!({"a": {"b": 1, "c": 3}, "c": {"d": 4}})));
    }
}
