//! Filebeat's events: the line in `message`, the file and offset under `log`, the agent,
//! the host object, custom `fields` and `labels`.

use super::fields::{kubernetes, labels, stream};
use super::{Envelope, event_time, get_str, host_object, is_int, refused, text};
use crate::Answer;
use crate::json::{Object, Value};

pub(super) fn unwrap(doc: &Object) -> Answer<Envelope<'static>> {
    if !doc.contains_key("message") {
        return Err(refused("envelope.no_line", "filebeat event without message"));
    }
    let mut fields = Object::new();
    if let Some(log) = doc.get("log").and_then(Value::as_object) {
        if let Some(path) = log.get("file").and_then(Value::as_object).and_then(|f| get_str(f, "path")) {
            fields.insert("log.file.path", Value::from(path));
        }
        if let Some(offset) = log.get("offset").filter(|v| is_int(v)) {
            fields.insert("log.offset", offset.clone());
        }
    }
    if let Some(agent) = doc.get("agent").and_then(Value::as_object) {
        for (name, field) in
            [("type", "agent.type"), ("version", "agent.version"), ("name", "agent.name"), ("id", "agent.id")]
        {
            if let Some(v) = get_str(agent, name) {
                fields.insert(field, Value::from(v));
            }
        }
    }
    if let Some(name) = doc.get("service").and_then(Value::as_object).and_then(|s| get_str(s, "name")) {
        fields.insert("service.name", Value::from(name));
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
