//! `transform.py`, ported: one Kafka message to its bulk entry, or `Decline` for everything
//! the reference must decide (dead letters among them). The entry is what
//! `transform.index_action` makes: the action line, the document, a newline each.

use crate::document::{Origin, Tail, document};
use crate::envelope::unwrap;
use crate::parsers;
use crate::time::{Stamp, push_date};
use crate::value::{Fields, Value, write_document, write_int, write_str};
use crate::{Decline, Maybe};

/// One Kafka message, already checked to be non-empty and within the size limit.
pub struct Message<'a> {
    pub value: &'a [u8],
    pub key: Option<&'a [u8]>,
    pub topic: &'a str,
    pub partition: i64,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
}

/// The settings of the message's topic that shape its document.
pub struct Profile<'a> {
    /// The ingest time, already formatted (`normalise.iso`).
    pub ingested: &'a str,
    pub dataset: &'a str,
    pub keep_original: bool,
    pub envelope: &'a str,
    pub line_format: &'a str,
    /// For dated indices: `<prefix>-YYYY.MM.DD`.
    pub index_prefix: &'a str,
    /// For data streams: `logs-<dataset>-<namespace>`.
    pub namespace: Option<&'a str>,
    /// The bulk action: "index", or "create" for data streams.
    pub op_type: &'a str,
}

/// (index name, bulk entry) for one message.
pub fn transform(m: &Message, p: &Profile) -> Maybe<(String, Vec<u8>)> {
    let mut entry = Vec::with_capacity(m.value.len() * 2 + 512);
    let index = transform_into(m, p, &mut entry)?;
    Ok((index, entry))
}

/// Appends the message's bulk entry to `out` and returns its index name. On `Decline`, `out`
/// is left as it was: a whole poll's entries share one buffer (`poll`).
pub fn transform_into(m: &Message, p: &Profile, out: &mut Vec<u8>) -> Maybe<String> {
    let mut envelope = unwrap(m.value, m.key, p.envelope)?;
    let kafka_time = match m.timestamp_ms {
        Some(ms) => Stamp::from_kafka_ms(ms)?,
        None => None,
    };
    let reference = envelope.timestamp.or(kafka_time);
    let decoded = envelope.decoded.take();
    let (line_format, fields) = if p.line_format == "auto" {
        parsers::parse_line(&envelope.line, reference, decoded)?
    } else {
        (
            fixed_format(p.line_format)?,
            parsers::parse_fixed(p.line_format, &envelope.line, reference, decoded)?,
        )
    };
    let origin = Origin { topic: m.topic, partition: m.partition, offset: m.offset, kafka_time, key: m.key };
    let tail = Tail { dataset: p.dataset, line_format, ingested: p.ingested, keep_original: p.keep_original };
    let (mut doc, stamp) = document(envelope, fields, &origin, &tail)?;
    let index = match p.namespace {
        Some(namespace) => {
            let mut stream = Fields::with_capacity(3);
            stream.set("type", Value::str("logs"));
            stream.set("dataset", Value::str(p.dataset));
            stream.set("namespace", Value::str(namespace));
            doc.set("data_stream", Value::Obj(stream));
            format!("logs-{}-{}", p.dataset, namespace)
        }
        None => {
            let (y, mo, d, ..) = stamp.fields();
            if !(1000..=9999).contains(&y) {
                return Err(Decline); // strftime's %Y does not pad years before 1000
            }
            let mut index = String::with_capacity(p.index_prefix.len() + 11);
            index.push_str(p.index_prefix);
            index.push('-');
            push_date(&mut index, (y, mo, d), '.');
            index
        }
    };
    let start = out.len();
    action_line(out, p.op_type, &index, m);
    if write_document(&doc, out).is_err() {
        out.truncate(start);
        return Err(Decline);
    }
    out.push(b'\n');
    Ok(index)
}

/// `transform.action_line`: `{"<op>":{"_index":"<index>","_id":"<topic>/<partition>/<offset>"}}`
/// and a newline.
fn action_line(out: &mut Vec<u8>, op_type: &str, index: &str, m: &Message) {
    out.extend_from_slice(b"{");
    write_str(out, op_type);
    out.extend_from_slice(b":{\"_index\":");
    write_str(out, index);
    out.extend_from_slice(b",\"_id\":");
    // The topic as a JSON string, left open for the partition and offset (digits only).
    write_str(out, m.topic);
    out.pop();
    out.push(b'/');
    write_int(out, m.partition);
    out.push(b'/');
    write_int(out, m.offset);
    out.extend_from_slice(b"\"}}\n");
}

fn fixed_format(name: &str) -> Maybe<&'static str> {
    ["json", "logfmt", "syslog", "access", "container", "plaintext"]
        .into_iter()
        .find(|f| *f == name)
        .ok_or(Decline)
}
