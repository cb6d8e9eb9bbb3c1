//! `normalise.py`, ported: an envelope and a parsed line into the nested ECS document.

use crate::envelope::Envelope;
use crate::time::Stamp;
use std::borrow::Cow;

use crate::value::{Fields, Key, Value};
use crate::{Decline, Maybe};

pub const ECS_VERSION: &str = "8.11.0";

/// Envelope fields a parsed line may not override (`normalise.ENVELOPE_ONLY`).
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

/// `normalise.document`: the nested document and its `@timestamp`.
///
/// The reference merges the shipper's and the line's dotted fields into one dict, then nests
/// it. Nesting the shipper's fields, then the line's, gives the same document (a key set
/// twice keeps its first position either way) without the merge's searches.
pub fn document(envelope: Envelope, parsed: Fields, origin: &Origin, tail: &Tail) -> Maybe<(Fields, Stamp)> {
    let line_stamp = match parsed.get("@timestamp") {
        None => None,
        Some(Value::Time(t)) => Some(*t),
        Some(_) => return Err(Decline),
    };
    let host_named = envelope.fields.contains_key("host.name") || parsed.contains_key("host.name");
    let mut doc = Fields::with_capacity(16);
    nest_into(&mut doc, envelope.fields);
    for (key, value) in parsed.0 {
        if key != "@timestamp" && !envelope_only(&key) {
            nest_one(&mut doc, key, value);
        }
    }
    if let Some(host) = envelope.host.filter(|h| !h.is_empty())
        && !host_named
    {
        nest_one(&mut doc, "host.name".into(), Value::Str(host));
    }
    let stamp = line_stamp.or(envelope.timestamp).or(origin.kafka_time).unwrap_or(Stamp(0));
    let text = std::str::from_utf8(&envelope.line).map_err(|_| Decline)?;
    document_tail(&mut doc, stamp, text, origin, tail)?;
    Ok((doc, stamp))
}

fn envelope_only(key: &str) -> bool {
    // Most keys start with none of these letters: one byte decides.
    matches!(key.as_bytes().first(), Some(b'l' | b'a')) && ENVELOPE_ONLY.contains(&key)
}

/// `normalise.nest`: dotted keys into nested objects; values that are objects stay whole.
pub fn nest(flat: Fields) -> Fields {
    let mut out = Fields::with_capacity(flat.len());
    nest_into(&mut out, flat);
    out
}

fn nest_into(out: &mut Fields, flat: Fields) {
    for (key, value) in flat.0 {
        nest_one(out, key, value);
    }
}

fn nest_one(out: &mut Fields, key: Key, value: Value) {
    if key == "@timestamp" || !key.contains('.') {
        out.set(key, value);
        return;
    }
    match key {
        // An ECS name written by this crate: its parts are literals too, borrowed for free.
        Cow::Borrowed(name) => nest_path(out, name.split('.'), value),
        Cow::Owned(name) => nest_path(out, name.split('.').map(str::to_owned), value),
    }
}

fn nest_path<P: Into<Key> + AsRef<str>>(
    out: &mut Fields,
    mut parts: impl DoubleEndedIterator<Item = P>,
    value: Value,
) {
    let leaf = parts.next_back().expect("split yields at least one part");
    let mut node = out;
    for part in parts {
        node = node.child(part);
    }
    node.set(leaf, value);
}

/// `normalise.document_tail`: `@timestamp`, `message`, `event.*`, `kafka.*`, `ecs.version`.
fn document_tail(doc: &mut Fields, stamp: Stamp, text: &str, origin: &Origin, tail: &Tail) -> Maybe<()> {
    doc.set("@timestamp", Value::Str(stamp.iso()));
    if !doc.contains_key("message") {
        doc.set("message", Value::str(text));
    }
    let event = doc.child("event");
    if tail.keep_original {
        event.set("original", Value::str(text));
    }
    event.set("ingested", Value::str(tail.ingested));
    event.set("dataset", Value::str(tail.dataset));
    event.set("module", Value::str(tail.line_format));
    let mut kafka = Fields::with_capacity(4);
    kafka.set("topic", Value::str(origin.topic));
    kafka.set("partition", Value::Int(origin.partition));
    kafka.set("offset", Value::Int(origin.offset));
    if let Some(key) = origin.key {
        // The reference decodes with errors="replace"; invalid keys are left to it.
        kafka.set("key", Value::str(std::str::from_utf8(key).map_err(|_| Decline)?));
    }
    doc.set("kafka", Value::Obj(kafka));
    let mut ecs = Fields::with_capacity(1);
    ecs.set("version", Value::str(ECS_VERSION));
    doc.set("ecs", Value::Obj(ecs));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nest_keeps_first_positions_and_replaces_non_objects() {
        let mut flat = Fields::new();
        flat.set("a.b", Value::Int(1));
        flat.set("c", Value::Int(2));
        flat.set("a.c", Value::Int(3));
        flat.set("c.d", Value::Int(4));
        let doc = nest(flat);
        let keys: Vec<&str> = doc.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["a", "c"]);
        assert_eq!(doc.get("c").and_then(Value::as_obj).and_then(|c| c.get("d")), Some(&Value::Int(4)));
    }
}
