//! Fluent Bit's records (JSON lines, or the forward form `[time, record]`): the line in
//! `log`, `message`, `MESSAGE` or `msg`, the file, the host (or the Kafka key).

use std::borrow::Cow;

use super::fields::{kubernetes, stream};
use super::{Envelope, event_time, first_truthy, get_str, line_key, raw, refused};
use crate::Answer;
use crate::json::{Object, Value};

pub(super) fn unwrap<'a>(doc: &Object, value: &[u8], key: Option<&[u8]>) -> Answer<Envelope<'a>> {
    let line_key =
        line_key(doc).ok_or_else(|| refused("envelope.no_line", "fluent bit record without log/message"))?;
    let mut fields = Object::new();
    fields.insert("agent.type", Value::from("fluentbit"));
    kubernetes(&mut fields, doc.get("kubernetes"));
    stream(&mut fields, doc.get("stream"));
    if let Some(file) = get_str(doc, "filename") {
        fields.insert("log.file.path", Value::from(file));
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
