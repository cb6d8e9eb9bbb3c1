//! A document's index and its bulk entry: the action line, the document, a newline each.

use crate::json::{Object, Value, child, write_document, write_str};
use crate::time::{Stamp, put_date};
use crate::transform::{Message, Profile};
use crate::window::Side;
use crate::{Answer, Letter};

/// The index a document goes to, and where its event time lay against the index-time window
/// (`Side::Inside` for data streams, which are not dated). A data stream's document gets
/// its `data_stream` fields; a dated index named from the Kafka time (the event time lay
/// outside the window) gets that time as `kafka.timestamp`, so the document says why.
pub fn index_of(doc: &mut Object, stamp: Stamp, kafka_time: Option<Stamp>, p: &Profile) -> (String, Side) {
    if let Some(namespace) = p.namespace {
        let stream = Object::from_iter([
            ("type", Value::from("logs")),
            ("dataset", Value::from(p.dataset)),
            ("namespace", Value::from(namespace)),
        ]);
        doc.insert("data_stream", Value::Object(stream));
        return (format!("logs-{}-{}", p.dataset, namespace), Side::Inside);
    }
    let (day, side) = p.window.index_time(stamp, kafka_time);
    if side != Side::Inside {
        child(doc, "kafka").insert("timestamp", Value::from(day.iso()));
    }
    let (y, mo, d, ..) = day.fields();
    let mut date = *b"0000.00.00";
    put_date(&mut date, (y, mo, d));
    let mut index = String::with_capacity(p.index_prefix.len() + 11);
    index.push_str(p.index_prefix);
    index.push('-');
    index.push_str(std::str::from_utf8(&date).expect("ASCII digits and dots"));
    (index, side)
}

/// Appends the bulk entry of `doc` to `out`; a document nested too deep to write is a dead
/// letter, and `out` is left as it was (a whole poll's entries share one buffer).
pub fn entry(out: &mut Vec<u8>, doc: &Object, index: &str, m: &Message, op_type: &str) -> Answer<()> {
    let start = out.len();
    action_line(out, op_type, index, m);
    if write_document(doc, out).is_err() {
        out.truncate(start);
        // Elasticsearch would refuse it on every attempt: a dead letter now, not a batch
        // retried for ever.
        return Err(Letter {
            stage: "parse",
            reason: "document.not_serialisable",
            detail: "the document nests more than 254 levels".to_owned(),
        });
    }
    out.push(b'\n');
    Ok(())
}

/// `{"<op>":{"_index":"<index>","_id":"<topic>/<partition>/<offset>"}}` and a newline: the
/// `_id` makes a document written twice (after a restart) land once.
fn action_line(out: &mut Vec<u8>, op_type: &str, index: &str, m: &Message) {
    out.push(b'{');
    write_str(op_type, out);
    out.extend_from_slice(b":{\"_index\":");
    write_str(index, out);
    out.extend_from_slice(b",\"_id\":");
    // The id's text, written where it goes (no string made for it first): only the topic
    // can hold a character JSON escapes.
    write_str(m.topic, out);
    out.pop();
    let mut digits = itoa::Buffer::new();
    out.push(b'/');
    out.extend_from_slice(digits.format(m.partition).as_bytes());
    out.push(b'/');
    out.extend_from_slice(digits.format(m.offset).as_bytes());
    out.extend_from_slice(b"\"}}\n");
}
