//! One Kafka message through the stages, in the order of the data: envelope, line parser,
//! the topic's schema, the ECS document, then its index and bulk entry (`bulk`). The answer
//! is the entry, or the dead letter of the first stage that refused the message.

use crate::bulk::{entry, index_of};
use crate::ecs::{Origin, Tail, document};
use crate::envelope::unwrap;
use crate::json::{Object, Str, Value};
use crate::parsers;
use crate::time::Stamp;
use crate::window::{Side, Window};
use crate::{Answer, Letter};

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
    /// The ingest time, already formatted as `@timestamp` is (`Stamp::iso`).
    pub ingested: &'a str,
    /// The ingest time as an instant: no line's time may lie more than a day after it
    /// (`parsers::trust`). Our own clock, where the shipper's and Kafka's are the host's.
    pub ingested_at: Option<Stamp>,
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
    /// For dated indices: where the event time may name the index.
    pub window: Window,
    /// The topic's own JSON Schema, which its JSON lines must match.
    pub schema: Option<&'a jsonschema::Validator>,
}

/// What a message became, besides its bulk entry: its index, where its event time lay, and
/// how far the line's own time lay from its receive time (microseconds, positive ahead),
/// with the host it came from: one sample of that host's clock (`clock.rs`).
#[derive(Debug)]
pub struct Built {
    pub index: String,
    pub side: Side,
    pub clock: Option<(Str, i64)>,
}

/// (index name, bulk entry, where the event time lay) for one message, in a buffer of its own.
#[cfg(test)]
pub fn transform(m: &Message, p: &Profile) -> Answer<(String, Vec<u8>, Side)> {
    let mut entry = Vec::with_capacity(m.value.len() * 2 + 512);
    let built = transform_into(m, p, &mut entry)?;
    Ok((built.index, entry, built.side))
}

/// Appends the message's bulk entry to `out` and returns its index name, where its event
/// time lay (`Side::Inside` for data streams, which are not dated) and its clock sample. Without a document,
/// `out` is left as it was: a whole poll's entries share one buffer (`poll`).
///
/// A panic in any stage (a bug) becomes this message's dead letter, reason `core.panic`:
/// one odd line must never stop the service, and the letter keeps the line for a bug report.
pub fn transform_into(m: &Message, p: &Profile, out: &mut Vec<u8>) -> Answer<Built> {
    guarded(out, |out| stages(m, p, out))
}

/// `work` on `out`; a panic in it is a dead letter, and `out` is left as it was.
fn guarded<T>(out: &mut Vec<u8>, work: impl FnOnce(&mut Vec<u8>) -> Answer<T>) -> Answer<T> {
    let start = out.len();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut *out))).unwrap_or_else(|panic| {
        out.truncate(start);
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Letter {
            stage: "parse",
            reason: "core.panic",
            detail: format!("the ingest core failed: {detail}"),
        })
    })
}

fn stages(m: &Message, p: &Profile, out: &mut Vec<u8>) -> Answer<Built> {
    let mut envelope = unwrap(m.value, m.key, p.envelope)?;
    let kafka_time = m.timestamp_ms.and_then(Stamp::from_kafka_ms);
    let reference = envelope.timestamp.or(kafka_time);
    let decoded = envelope.decoded.take();
    let (line_format, fields) = if p.line_format == "auto" {
        parsers::parse_line(&envelope.line, reference, decoded)?
    } else {
        parsers::parse_fixed(p.line_format, &envelope.line, reference, decoded)?
    };
    let fields = parsers::trust(fields, p.ingested_at);
    if let Some(schema) = p.schema
        && line_format == "json"
    {
        check(schema, &envelope.line)?;
    }
    let origin = Origin { topic: m.topic, partition: m.partition, offset: m.offset, kafka_time, key: m.key };
    let tail = Tail { dataset: p.dataset, line_format, ingested: p.ingested, keep_original: p.keep_original };
    let ahead = fields.ahead;
    // The line's own time, believed or not: a clock days ahead is a clock to report.
    let own = fields.timestamp.or(ahead);
    let (mut doc, stamp) = document(envelope, fields, &origin, &tail);
    let (index, side) = index_of(&mut doc, stamp, kafka_time, p);
    // A time dropped for lying days ahead counts where the window counts lines ahead.
    let side = if ahead.is_some() { Side::Ahead } else { side };
    entry(out, &doc, &index, m, p.op_type)?;
    // The host is looked up only for a line with a time of its own.
    let clock =
        own.zip(reference).and_then(|(own, reference)| Some((host_of(&doc)?.clone(), own.0 - reference.0)));
    Ok(Built { index, side, clock })
}

/// The document's `host.name`, where it is text.
fn host_of(doc: &Object) -> Option<&Str> {
    match doc.get("host")? {
        Value::Object(host) => match host.get("name")? {
            Value::String(name) if !name.is_empty() => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// A JSON line against its topic's schema: the first violation, as a dead letter. Read once
/// more, as serde_json's value (what jsonschema validates); only topics with a schema pay.
fn check(schema: &jsonschema::Validator, line: &[u8]) -> Answer<()> {
    let letter = |detail: String| Letter { stage: "validate", reason: "schema", detail };
    let object: serde_json::Value = serde_json::from_slice(line).map_err(|e| letter(e.to_string()))?;
    match schema.iter_errors(&object).next() {
        None => Ok(()),
        Some(error) => Err(letter(format!("{error} (at {})", error.instance_path()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400 * 1_000_000;
    const KAFKA_MS: i64 = 1_764_064_800_123; // 2025-11-25T10:00:00.123Z

    fn dated(value: &[u8], window: Window) -> (String, String, Side) {
        let message =
            Message { value, key: None, topic: "t", partition: 0, offset: 1, timestamp_ms: Some(KAFKA_MS) };
        let profile = Profile {
            ingested: "2025-11-25T10:00:01.000000Z",
            ingested_at: Some(Stamp(1_764_064_801_000_000)),
            dataset: "edge",
            keep_original: false,
            envelope: "raw",
            line_format: "auto",
            index_prefix: "edgewatch-logs",
            namespace: None,
            op_type: "index",
            window,
            schema: None,
        };
        let (index, entry, side) = transform(&message, &profile).expect("a common shape");
        (index, String::from_utf8(entry).expect("JSON is UTF-8"), side)
    }

    const WEEK_AND_DAY: Window = Window { back_us: 7 * DAY, ahead_us: DAY };

    #[test]
    fn a_panic_is_the_messages_dead_letter() {
        let mut out = b"earlier entries\n".to_vec();
        let answer: Answer<()> = guarded(&mut out, |out| {
            out.extend_from_slice(b"half an entry");
            panic!("a bug");
        });
        let letter = answer.expect_err("a dead letter");
        assert_eq!((letter.stage, letter.reason), ("parse", "core.panic"));
        assert!(letter.detail.contains("a bug"), "{}", letter.detail);
        assert_eq!(out, b"earlier entries\n");
    }

    #[test]
    fn a_line_dated_9999_is_indexed_on_its_kafka_day_and_not_believed() {
        let (index, entry, side) = dated(br#"{"ts":"9999-12-31T23:59:59Z","msg":"m"}"#, WEEK_AND_DAY);
        assert_eq!((index.as_str(), side), ("edgewatch-logs-2025.11.25", Side::Ahead));
        // More than a day ahead of its receipt: the receive time, and a tag that says why.
        assert!(entry.contains(r#""@timestamp":"2025-11-25T10:00:00.123000Z""#), "{entry}");
        assert!(entry.contains(r#""tags":["timestamp_in_future"]"#), "{entry}");
    }

    #[test]
    fn a_line_dated_1970_is_too() {
        let (index, _, side) = dated(br#"{"ts":"1970-01-01T00:00:00Z","msg":"m"}"#, WEEK_AND_DAY);
        assert_eq!((index.as_str(), side), ("edgewatch-logs-2025.11.25", Side::Behind));
    }

    #[test]
    fn a_line_dated_within_the_window_names_its_own_day() {
        let (index, entry, side) = dated(br#"{"ts":"2025-11-19T00:00:00Z","msg":"m"}"#, WEEK_AND_DAY);
        assert_eq!((index.as_str(), side), ("edgewatch-logs-2025.11.19", Side::Inside));
        assert!(!entry.contains(r#""timestamp""#), "{entry}");
    }
}

/// Any bytes, in any envelope and format: an entry of two JSON lines, or a dead letter with
/// a reason; never a panic. `PROPTEST_CASES` sets the budget (`make fuzz-deep` raises it).
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const ENVELOPES: [&str; 5] = ["auto", "raw", "filebeat", "fluentbit", "vector"];
    const FORMATS: [&str; 7] = ["auto", "json", "logfmt", "syslog", "access", "container", "plaintext"];

    /// Bytes that look like log lines and envelopes often enough to reach past the first check.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "[ -~\t\u{e9}\u{2028}]{0,200}".prop_map(String::into_bytes),
            ("[a-z@_.]{1,12}", "[ -~]{0,40}")
                .prop_map(|(k, v)| format!("{{\"{k}\":{v:?},\"message\":{v:?}}}").into_bytes()),
            "[<0-9>A-Za-z :.\\-\\[\\]=\"]{0,120}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #[test]
        fn every_message_gets_an_answer(
            value in value(),
            key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
            envelope in 0..ENVELOPES.len(),
            format in 0..FORMATS.len(),
            timestamp_ms in proptest::option::of(any::<i64>()),
        ) {
            let message = Message { value: &value, key: key.as_deref(), topic: "t", partition: 0, offset: 7, timestamp_ms };
            let profile = Profile {
                ingested: "2025-11-25T10:00:01.000000Z",
                ingested_at: Some(Stamp(1_764_064_801_000_000)),
                dataset: "edge",
                keep_original: true,
                envelope: ENVELOPES[envelope],
                line_format: FORMATS[format],
                index_prefix: "edgewatch-logs",
                namespace: None,
                op_type: "index",
                window: Window { back_us: 7 * 86_400_000_000, ahead_us: 86_400_000_000 },
                schema: None,
            };
            let mut out = Vec::new();
            match transform_into(&message, &profile, &mut out) {
                Ok(built) => {
                    prop_assert!(built.index.starts_with("edgewatch-logs-"));
                    let text = std::str::from_utf8(&out).expect("JSON is UTF-8");
                    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
                    prop_assert_eq!(lines.len(), 2);
                    for line in lines {
                        prop_assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "{}", line);
                    }
                }
                Err(letter) => {
                    prop_assert!(out.is_empty());
                    prop_assert!(!letter.reason.is_empty() && letter.reason != "core.panic", "{:?}", letter);
                }
            }
        }
    }
}
