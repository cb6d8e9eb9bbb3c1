//! A whole poll at once: every message one `consume()` returned, transformed in one call.
//!
//! Called once per message from Python, the core spent nearly as long in the call and the
//! objects around it (the origin, the action, the entry's own bytes) as on the document. Here
//! the messages are read, their entries written back to back into one buffer (a `Run`, one
//! bulk request's fragment), with the GIL released while the documents are built, so the bulk
//! writers' threads run meanwhile. Dead letters come back by position with their stage,
//! reason and detail, Kafka errors by position; the offsets and counts of the whole poll are
//! recorded here. A topic the core has not been told of stops the call before its first
//! message: the caller routes it and calls again.

use std::collections::HashMap;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::clock::Maxima;
use crate::transform::{Message, transform_into};
use crate::window::Side;
use crate::{Letter, Settings, side_name};

// The details of the dead letters of messages without content (reason `empty` for both).
const TOMBSTONE_DETAIL: &str = "tombstone: the message value is null";
const EMPTY_DETAIL: &str = "the message value is empty (0 bytes)";

enum Route {
    Native(Py<Settings>),
    /// Counted and committed, never indexed (the service's own dead-letter topics).
    Skip,
}

/// The documents this core built from (part of) one poll: their bulk entries back to back.
#[pyclass(frozen, module = "pipeline.ingest._native")]
pub struct Run {
    entry: Py<PyBytes>,
    /// Where each document's entry ends in `entry`.
    ends: Vec<usize>,
    /// The message each entry was built from, in the same order.
    messages: Py<PyList>,
    /// Documents per topic.
    counts: Vec<(Py<PyString>, usize)>,
    /// Per host, the offset of its newest line's time from its receive time (`clock.rs`).
    clocks: Vec<(String, i64)>,
}

#[pymethods]
impl Run {
    /// The entries, one after the other: a piece of a bulk body as it is.
    #[getter]
    fn entry(&self, py: Python<'_>) -> Py<PyBytes> {
        self.entry.clone_ref(py)
    }

    fn __len__(&self) -> usize {
        self.ends.len()
    }

    /// Documents per topic.
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (topic, n) in &self.counts {
            dict.set_item(topic.bind(py), n)?;
        }
        Ok(dict)
    }

    /// Per host with a line that carried its own time: the largest offset of such a line's
    /// time from its receive time, in microseconds (positive: ahead), as (host, offset).
    fn clock_offsets(&self) -> Vec<(String, i64)> {
        self.clocks.clone()
    }

    /// (message, entry) per document, in order: for the rare batch Elasticsearch answers
    /// with errors, whose documents are then handled one by one.
    fn documents<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let entry = self.entry.bind(py).as_bytes();
        let messages = self.messages.bind(py);
        let out = PyList::empty(py);
        let mut start = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            out.append((messages.get_item(i)?, PyBytes::new(py, &entry[start..end])))?;
            start = end;
        }
        Ok(out)
    }
}

/// One message as read from its confluent-kafka object.
struct Read<'py> {
    position: usize,
    topic: Bound<'py, PyString>,
    partition: i64,
    offset: i64,
    value: Option<Bound<'py, PyBytes>>,
    /// Dead before any work: a tombstone, an empty or an oversized value.
    unusable: Option<Letter>,
    key: Option<Bound<'py, PyBytes>>,
    timestamp_ms: Option<i64>,
}

/// A dead letter of a poll: (position, stage, reason, detail).
type LetterAt = (usize, &'static str, &'static str, String);

/// What `take` returns: the run, its dead letters, the positions of Kafka errors, where to
/// go on, and the topic not routed yet that stopped it.
type Taken<'py> = (Run, Vec<LetterAt>, Vec<usize>, usize, Option<Bound<'py, PyString>>);

/// What became of one message in the detached pass.
#[derive(PartialEq, Eq)]
enum Fate {
    /// With where its event time lay (the index-time window).
    Built(Side),
    Letter(Letter),
    Skipped,
}

/// Per topic, how its messages are transformed.
#[pyclass(module = "pipeline.ingest._native")]
#[derive(Default)]
pub struct Intake {
    routes: HashMap<String, Route>,
}

#[pymethods]
impl Intake {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// This core transforms the topic's messages, with the topic's `Settings`.
    fn route(&mut self, topic: String, settings: Py<Settings>) {
        self.routes.insert(topic, Route::Native(settings));
    }

    /// The topic's messages are counted and committed, never indexed.
    fn skip(&mut self, topic: String) {
        self.routes.insert(topic, Route::Skip);
    }

    /// Transforms `messages[start:]` until the entries and dead letters reach `budget` bytes
    /// (at least one message), or until a message of a topic not routed yet. Returns the
    /// run, the dead letters as (position, stage, reason, detail), the positions of Kafka
    /// errors, the position to go on from, and the topic not routed yet that stopped the
    /// call (None if none did). The offset of every message taken except errors is recorded
    /// in `last_offsets`, and its topic counted in `consumed`; each document whose index the
    /// Kafka timestamp named (event time outside the window) is counted in `outside`, by
    /// (topic, "behind" or "ahead"). With `last_times`, each partition's last message's Kafka
    /// timestamp (ms) is recorded there too, where it has one (ingest's status document).
    #[pyo3(signature = (messages, start, ingested, max_message_bytes, budget, last_offsets,
                        consumed, outside, last_times=None, /))]
    #[allow(clippy::too_many_arguments)]
    fn take<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyList>,
        start: usize,
        ingested: &str,
        max_message_bytes: usize,
        budget: i64,
        last_offsets: &Bound<'py, PyDict>,
        consumed: &Bound<'py, PyDict>,
        outside: &Bound<'py, PyDict>,
        last_times: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Taken<'py>> {
        let mut errors = Vec::new();
        let mut reads = Vec::with_capacity(messages.len().saturating_sub(start));
        for position in start..messages.len() {
            let message = messages.get_item(position)?;
            match read(&message, position, max_message_bytes)? {
                Some(one) => reads.push(one),
                None => errors.push(position),
            }
        }
        // Borrowed views for the pass without the GIL; `reads` keeps the objects alive.
        let mut jobs = Vec::with_capacity(reads.len());
        for r in &reads {
            let route = self.routes.get(r.topic.to_str()?);
            let message = Message {
                value: r.value.as_ref().map_or(&[][..], |v| v.as_bytes()),
                key: r.key.as_ref().map(|k| k.as_bytes()),
                topic: r.topic.to_str()?,
                partition: r.partition,
                offset: r.offset,
                timestamp_ms: r.timestamp_ms,
            };
            jobs.push((message, route, r.unusable.as_ref()));
        }
        let budget = usize::try_from(budget).unwrap_or(0).max(1);
        let (buffer, ends, fates, clocks) = py.detach(|| build(&jobs, ingested, budget));
        let taken = fates.len();
        let stop = reads.get(taken).map_or(messages.len(), |r| r.position);
        // Stopped short of the budget: at a topic not routed yet.
        let unrouted = reads
            .get(taken)
            .filter(|r| !self.routes.contains_key(r.topic.to_str().unwrap_or("")))
            .map(|r| r.topic.clone());
        let errors: Vec<usize> = errors.into_iter().filter(|&p| p < stop).collect();
        let mut letters = Vec::new();
        let built = PyList::empty(py);
        let mut counts: Vec<(Py<PyString>, usize)> = Vec::new();
        let mut seen: Vec<(Py<PyString>, usize)> = Vec::new();
        let mut outside_window: Vec<(Py<PyString>, Side, usize)> = Vec::new();
        let mut partitions: Vec<(&Bound<'py, PyString>, i64, i64, Option<i64>)> = Vec::new();
        for (r, fate) in reads.iter().zip(fates) {
            tally(py, &mut seen, &r.topic);
            match partitions.iter_mut().find(|(t, p, ..)| *p == r.partition && same(t, &r.topic)) {
                Some(last) => (last.2, last.3) = (r.offset, r.timestamp_ms),
                None => partitions.push((&r.topic, r.partition, r.offset, r.timestamp_ms)),
            }
            match fate {
                Fate::Built(side) => {
                    built.append(messages.get_item(r.position)?)?;
                    tally(py, &mut counts, &r.topic);
                    if side != Side::Inside {
                        tally_outside(py, &mut outside_window, &r.topic, side);
                    }
                }
                Fate::Letter(l) => letters.push((r.position, l.stage, l.reason, l.detail)),
                Fate::Skipped => {}
            }
        }
        for (topic, partition, offset, timestamp_ms) in partitions {
            last_offsets.set_item((topic, partition), offset)?;
            // Kafka's "no timestamp" is -1 (pre-0.10 message formats): nothing to record.
            if let (Some(times), Some(ms)) = (last_times, timestamp_ms.filter(|&ms| ms > 0)) {
                times.set_item((topic, partition), ms)?;
            }
        }
        for (topic, n) in seen {
            let before: usize = match consumed.get_item(&topic)? {
                Some(v) => v.extract()?,
                None => 0,
            };
            consumed.set_item(topic, before + n)?;
        }
        for (topic, side, n) in outside_window {
            let key = (topic, side_name(py, side));
            let before: usize = match outside.get_item(&key)? {
                Some(v) => v.extract()?,
                None => 0,
            };
            outside.set_item(key, before + n)?;
        }
        let run = Run {
            entry: PyBytes::new(py, &buffer).unbind(),
            ends,
            messages: built.unbind(),
            counts,
            clocks: clocks.into_pairs(),
        };
        Ok((run, letters, errors, stop, unrouted))
    }
}

/// Reads one confluent-kafka message; None for a Kafka error (the caller's to report).
fn read<'py>(
    message: &Bound<'py, PyAny>,
    position: usize,
    max_message_bytes: usize,
) -> PyResult<Option<Read<'py>>> {
    let py = message.py();
    if !message.call_method0(intern!(py, "error"))?.is_none() {
        return Ok(None);
    }
    let value = message.call_method0(intern!(py, "value"))?.cast_into::<PyBytes>().ok();
    let unusable = match value.as_ref().map(|v| v.as_bytes().len()) {
        None => Some((TOMBSTONE_DETAIL.to_owned(), "empty")),
        Some(0) => Some((EMPTY_DETAIL.to_owned(), "empty")),
        Some(n) if n > max_message_bytes => {
            Some((format!("{n} bytes > ingest.max_message_bytes {max_message_bytes}"), "oversized"))
        }
        Some(_) => None,
    }
    .map(|(detail, reason)| Letter { stage: "decode", reason, detail });
    let key = message.call_method0(intern!(py, "key"))?.cast_into::<PyBytes>().ok();
    let timestamp = message.call_method0(intern!(py, "timestamp"))?;
    Ok(Some(Read {
        position,
        topic: message.call_method0(intern!(py, "topic"))?.cast_into::<PyString>()?,
        partition: message.call_method0(intern!(py, "partition"))?.extract()?,
        offset: message.call_method0(intern!(py, "offset"))?.extract()?,
        value,
        unusable,
        key,
        timestamp_ms: timestamp.get_item(1)?.extract()?,
    }))
}

/// Adds one to `topic`'s count (a poll holds very few topics: a list beats a map).
fn tally(py: Python<'_>, counts: &mut Vec<(Py<PyString>, usize)>, topic: &Bound<'_, PyString>) {
    match counts.iter_mut().find(|(t, _)| same(t.bind(py), topic)) {
        Some(count) => count.1 += 1,
        None => counts.push((topic.clone().unbind(), 1)),
    }
}

/// Adds one to the count of `topic`'s documents outside the window on `side` (rare).
fn tally_outside(
    py: Python<'_>,
    counts: &mut Vec<(Py<PyString>, Side, usize)>,
    topic: &Bound<'_, PyString>,
    side: Side,
) {
    match counts.iter_mut().find(|(t, s, _)| *s == side && same(t.bind(py), topic)) {
        Some(count) => count.2 += 1,
        None => counts.push((topic.clone().unbind(), side, 1)),
    }
}

/// The same topic name (usually the very same object).
fn same(a: &Bound<'_, PyString>, b: &Bound<'_, PyString>) -> bool {
    a.is(b) || a.to_str().ok() == b.to_str().ok()
}

type Job<'a> = (Message<'a>, Option<&'a Route>, Option<&'a Letter>);

/// The documents of `jobs`, in order, until `budget` bytes or a job without a route:
/// (entries, their ends, each taken job's fate, the hosts' clock samples). Runs without the
/// GIL.
fn build(jobs: &[Job<'_>], ingested: &str, budget: usize) -> (Vec<u8>, Vec<usize>, Vec<Fate>, Maxima) {
    // Room for every entry at once: a document is about its line twice over plus a few
    // hundred bytes of ECS and Kafka fields, and the action line. Growing a poll's buffer
    // copied it whole, most polls more than once.
    let mut buffer = Vec::with_capacity(jobs.iter().map(|(m, ..)| m.value.len() * 2 + 512).sum());
    let mut ends = Vec::with_capacity(jobs.len());
    let mut fates = Vec::with_capacity(jobs.len());
    let mut other_bytes = 0; // of dead letters
    let mut clocks = Maxima::default();
    let ingested_at = crate::time::parse_iso_timestamp(ingested);
    for (message, route, unusable) in jobs {
        let fate = match (route, unusable) {
            (None, _) => break, // a topic not routed yet: the caller routes it
            (Some(Route::Skip), _) => Fate::Skipped,
            (Some(Route::Native(_)), Some(letter)) => Fate::Letter((*letter).clone()),
            (Some(Route::Native(settings)), None) => {
                match transform_into(message, &settings.get().profile(ingested, ingested_at), &mut buffer) {
                    Ok(built) => {
                        ends.push(buffer.len());
                        if let Some((host, offset)) = built.clock {
                            clocks.add(host, offset);
                        }
                        Fate::Built(built.side)
                    }
                    Err(letter) => Fate::Letter(letter),
                }
            }
        };
        if matches!(fate, Fate::Letter(_)) {
            other_bytes += message.value.len();
        }
        fates.push(fate);
        if buffer.len() + other_bytes >= budget {
            break;
        }
    }
    (buffer, ends, fates, clocks)
}
