//! Vector's events: the line in `message`, the file, the service, the host.

use super::fields::{kubernetes, stream};
use super::{Envelope, event_time, first_or_last, get_str, text};
use crate::Answer;
use crate::json::{Object, Value};

pub(super) fn unwrap(doc: &Object) -> Answer<Envelope<'static>> {
    let mut fields = Object::new();
    fields.insert("agent.type", Value::from("vector"));
    if let Some(file) = get_str(doc, "file") {
        fields.insert("log.file.path", Value::from(file));
    }
    if let Some(service) = get_str(doc, "service") {
        fields.insert("service.name", Value::from(service));
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
