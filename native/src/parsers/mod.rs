//! Line parsers, one module per format, and the dispatcher.
//!
//! Each module has:
//!
//! ```text
//! pub fn looks_like(line: &[u8]) -> bool
//! pub fn parse(line: &[u8], reference: Option<Stamp>) -> Outcome
//! ```
//!
//! `Outcome::Parsed` holds the line's fields, its event time apart; `Refused` says why the
//! line is not of that format (a reason users see on the dead letter, and a detail).

use crate::json::{Object, Value, update};
use crate::time::{self, Stamp};
use crate::{Answer, Letter};

pub mod access;
pub mod container;
pub mod header;
pub mod json_line;
pub mod level;
pub mod logfmt;
pub mod plaintext;
pub mod structured;
pub mod syslog;

/// A parser's fields: dotted ECS names (and `attributes`) with JSON values, and the event
/// time apart, typed (it becomes the document's `@timestamp`).
#[derive(Debug, Default, PartialEq)]
pub struct Fields {
    pub map: Object,
    pub timestamp: Option<Stamp>,
    /// The line's own time where it lay more than a day after its receive time, and was
    /// therefore dropped from `timestamp`.
    pub ahead: Option<Stamp>,
}

impl Fields {
    pub fn with_capacity(n: usize) -> Fields {
        Fields { map: Object::with_capacity(n), timestamp: None, ahead: None }
    }

    /// Whether `key` is set, `@timestamp` (the event time) included.
    pub fn contains_key(&self, key: &str) -> bool {
        if key == "@timestamp" { self.timestamp.is_some() } else { self.map.contains_key(key) }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// Sets `key` (in its place, if already set), for any key but `@timestamp`.
    pub fn set(&mut self, key: &str, value: Value) {
        debug_assert_ne!(key, "@timestamp");
        self.map.insert(key, value);
    }

    /// Removes `key`, keeping the others' order, for any key but `@timestamp`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.map.shift_remove(key)
    }
}

#[cfg(test)]
impl Fields {
    /// The fields as (key, value) pairs, `@timestamp` first as its ISO text.
    pub fn items(&self) -> Vec<(String, Value)> {
        let stamp = self.timestamp.map(|t| ("@timestamp".to_owned(), Value::from(t.iso())));
        stamp.into_iter().chain(self.map.iter().map(|(k, v)| (k.to_string(), v.clone()))).collect()
    }

    /// The keys, `@timestamp` first.
    pub fn keys(&self) -> Vec<String> {
        self.items().into_iter().map(|(k, _)| k).collect()
    }
}

impl From<Object> for Fields {
    fn from(map: Object) -> Fields {
        Fields { map, timestamp: None, ahead: None }
    }
}

/// Why a parser refused a line: a reason (short and stable: metrics count it), which the
/// dead letter carries, and a detail for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub detail: String,
}

impl Refusal {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal { reason, detail: detail.into() }
    }

    /// Not UTF-8: `invalid_utf8`, with the byte where the valid text stops (`byte <n>`).
    pub fn utf8(line: &[u8]) -> Refusal {
        let at = std::str::from_utf8(line).err().map_or(0, |e| e.valid_up_to());
        Refusal::new("invalid_utf8", format!("byte {at}"))
    }

    /// The dead letter: stage `decode` for undecodable bytes, `parse` for everything else.
    /// The stage goes by the reason's exact name, so `syslog.invalid_utf8` is `parse`, the
    /// stage syslog's dead letters have always had.
    pub fn letter(self) -> Letter {
        let stage = if self.reason == "invalid_utf8" { "decode" } else { "parse" };
        Letter { stage, reason: self.reason, detail: self.detail }
    }
}

/// What a parser made of a line.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Parsed(Fields),
    /// Not this format: why.
    Refused(Refusal),
}

impl Outcome {
    /// A refusal with this reason and detail.
    pub fn refuse(reason: &'static str, detail: impl Into<String>) -> Outcome {
        Outcome::Refused(Refusal::new(reason, detail))
    }

    /// The reason of a refusal (None when parsed).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Outcome::Refused(r) => Some(r.reason),
            _ => None,
        }
    }
}

/// The format of a line, for format "auto": the first whose `looks_like` accepts it, the
/// most distinctive shapes first. A line opening with `{"` is JSON even if cut short, so that
/// broken JSON is a dead letter, not plaintext; any other line is plaintext.
pub fn detect(line: &[u8]) -> &'static str {
    if container::looks_like(line) {
        return "container";
    }
    if json_line::looks_like(line) {
        return "json";
    }
    if syslog::looks_like(line) {
        return "syslog";
    }
    if access::looks_like(line) {
        return "access";
    }
    if logfmt::looks_like(line) {
        return "logfmt";
    }
    let start = line.iter().position(|c| !is_bytes_space(*c)).unwrap_or(line.len());
    if line[start..].starts_with(b"{\"") { "json" } else { "plaintext" }
}

/// An ASCII blank: space, tab, LF, CR, VT or FF.
pub fn is_bytes_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn run(name: &str, line: &[u8], reference: Option<Stamp>, decoded: Option<Object>) -> Outcome {
    match (name, decoded) {
        ("container", Some(obj)) => container::from_object(&obj),
        ("json", Some(obj)) => json_line::from_object(obj),
        ("json", None) => json_line::parse(line, reference),
        ("logfmt", _) => logfmt::parse(line, reference),
        ("syslog", _) => syslog::parse(line, reference),
        ("access", _) => access::parse(line, reference),
        ("container", None) => container::parse(line, reference),
        ("plaintext", _) => plaintext::parse(line, reference),
        _ => unreachable!("`detect` and `parse_fixed` name known formats only, not {name:?}"),
    }
}

/// Format "auto": (format, fields); a dead letter where the line's parser refuses it (only
/// the JSON parser is strict here: every other refusal falls back to plaintext).
pub fn parse_line(
    line: &[u8],
    reference: Option<Stamp>,
    decoded: Option<Object>,
) -> Answer<(&'static str, Fields)> {
    let mut name = if decoded.is_some() { "json" } else { detect(line) };
    if decoded.as_ref().is_some_and(container::is_docker_object) {
        name = "container";
    }
    let fields = match run(name, line, reference, decoded) {
        Outcome::Parsed(f) => f,
        Outcome::Refused(refusal) if name == "json" => return Err(refusal.letter()),
        Outcome::Refused(_) => {
            name = "plaintext";
            match plaintext::parse(line, reference) {
                Outcome::Parsed(f) => f,
                Outcome::Refused(refusal) => return Err(refusal.letter()),
            }
        }
    };
    if name == "container" {
        return Ok((name, inner(fields, reference)));
    }
    Ok((name, fields))
}

/// The tag of a line whose own time lay more than a day after its receive time, and was
/// therefore not taken as its `@timestamp` (`time::trusted`).
pub const AHEAD_TAG: &str = "timestamp_in_future";

/// `fields` with a time more than a day after `now` (the ingest time) dropped and the line
/// tagged `AHEAD_TAG`: the document's `@timestamp` is then the receive time.
pub fn trust(mut fields: Fields, now: Option<Stamp>) -> Fields {
    let Some(stamp) = fields.timestamp else { return fields };
    if time::trusted(stamp, now).is_some() {
        return fields;
    }
    fields.timestamp = None;
    fields.ahead = Some(stamp);
    let tag = Value::from(AHEAD_TAG);
    match fields.map.get_mut("tags") {
        Some(Value::Array(tags)) => tags.push(tag),
        _ => fields.set("tags", Value::Array(vec![tag])),
    }
    fields
}

/// The line formats a topic may name (`auto` apart).
const FORMATS: [&str; 6] = ["json", "logfmt", "syslog", "access", "container", "plaintext"];

/// A line in the format its topic names: (the format, its fields), or a dead letter; a name
/// that is no format is one too (`format.unknown`), though the configuration allows none.
pub fn parse_fixed(
    name: &str,
    line: &[u8],
    reference: Option<Stamp>,
    decoded: Option<Object>,
) -> Answer<(&'static str, Fields)> {
    let Some(name) = FORMATS.into_iter().find(|f| *f == name) else {
        return Err(Refusal::new("format.unknown", format!("no line format {name:?}")).letter());
    };
    match run(name, line, reference, decoded) {
        Outcome::Parsed(f) => Ok((name, f)),
        Outcome::Refused(refusal) => Err(refusal.letter()),
    }
}

/// The application's own line inside a container line, parsed and merged over the
/// container's fields (its tags added to the container's).
fn inner(outer: Fields, reference: Option<Stamp>) -> Fields {
    let message = match outer.get("message") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => return outer,
    };
    let raw = message.as_bytes();
    let name = detect(raw);
    let parsed = if name == "container" || name == "plaintext" {
        plaintext::parse(raw, reference)
    } else {
        run(name, raw, reference, None)
    };
    let inner = match parsed {
        Outcome::Parsed(f) => f,
        // The plaintext parser refuses only an empty or undecodable line, which a container
        // line's message is not.
        Outcome::Refused(_) => return outer,
    };
    let outer_tags = outer.get("tags").cloned();
    let inner_tags = inner.get("tags").cloned();
    let mut merged = outer;
    update(&mut merged.map, inner.map);
    merged.timestamp = inner.timestamp.or(merged.timestamp);
    if let Some(Value::Array(first)) = outer_tags {
        let mut tags = first.clone();
        if let Some(Value::Array(more)) = inner_tags {
            tags.extend(more.into_iter().filter(|t| !first.contains(t)));
        }
        merged.set("tags", Value::Array(tags));
    }
    merged
}
