//! edgewatch's native ingest core: every Kafka message to a bulk entry or a dead letter.
//!
//! Every message gets one or the other: a document, or a dead letter whose stage and reason
//! say why (the detail is for people). `tests/golden` pins what each message of the corpus,
//! the damaged lines and every settings profile becomes; the property tests under
//! `tests/unit/parsers` feed arbitrary bytes to every parser.
//!
//! Layout, one job per module, in the order of the data: `envelope` (the shipper's wrapping),
//! `parsers/*` (the line), `ecs` (the nested document), `window` (which time names a dated
//! index), `bulk` (index name and entry bytes), `transform` (one message through these);
//! `json` (the value model, reading, writing) and `time` (instants, timestamp text) serve
//! them. `poll` takes a whole poll's messages at once; this file converts between Python and
//! Rust for the rest.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

mod alloc;
pub mod bulk;
pub mod clock;
pub mod ecs;
pub mod envelope;
pub mod json;
pub mod parsers;
pub mod poll;
pub mod time;
pub mod transform;
pub mod window;

// Only Rust's own allocations use it: see `alloc`.
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

/// A dead letter's stage, reason and detail: why a message has no document. Stage and
/// reason are short and stable (metrics and alerts count them); the detail is for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub stage: &'static str,
    pub reason: &'static str,
    pub detail: String,
}

/// A document, or the dead letter instead.
pub type Answer<T> = Result<T, Letter>;

use json::Value;
use time::Stamp;
use window::{Side, Window};

/// The settings of one topic whose messages this core transforms, owned (what
/// `transform.Profile` borrows). Made once per topic by `transform.Transformer`, which calls
/// `transform` per message; the same object routes the topic in `poll::Intake`.
#[pyclass(frozen, module = "pipeline.ingest._native")]
pub struct Settings {
    dataset: String,
    keep_original: bool,
    envelope: String,
    line_format: String,
    index_prefix: String,
    namespace: Option<String>,
    op_type: String,
    window: Window,
    schema: Option<jsonschema::Validator>,
}

impl Settings {
    pub fn profile<'a>(&'a self, ingested: &'a str, ingested_at: Option<Stamp>) -> transform::Profile<'a> {
        transform::Profile {
            ingested,
            ingested_at,
            dataset: &self.dataset,
            keep_original: self.keep_original,
            envelope: &self.envelope,
            line_format: &self.line_format,
            index_prefix: &self.index_prefix,
            namespace: self.namespace.as_deref(),
            op_type: &self.op_type,
            window: self.window,
            schema: self.schema.as_ref(),
        }
    }
}

#[pymethods]
impl Settings {
    #[new]
    /// The window's bounds come in whole microseconds (the caller converts the configured
    /// seconds once), the unit `window` compares in;
    /// `schema` is the text of the topic's own JSON Schema (ValueError if it is not one).
    #[pyo3(signature = (dataset, keep_original, envelope, line_format, index_prefix, namespace,
                        op_type, window_back_us, window_ahead_us, schema=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dataset: String,
        keep_original: bool,
        envelope: String,
        line_format: String,
        index_prefix: String,
        namespace: Option<String>,
        op_type: String,
        window_back_us: i64,
        window_ahead_us: i64,
        schema: Option<&str>,
    ) -> PyResult<Self> {
        let window = Window { back_us: window_back_us, ahead_us: window_ahead_us };
        let schema = schema.map(compile_schema).transpose()?;
        Ok(Settings {
            dataset,
            keep_original,
            envelope,
            line_format,
            index_prefix,
            namespace,
            op_type,
            window,
            schema,
        })
    }
}

/// A topic's JSON Schema, compiled once (draft from its `$schema`, 2020-12 without one).
fn compile_schema(text: &str) -> PyResult<jsonschema::Validator> {
    let invalid = |e: String| pyo3::exceptions::PyValueError::new_err(format!("not a JSON Schema: {e}"));
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    jsonschema::validator_for(&value).map_err(|e| invalid(e.to_string()))
}

/// `Side::name` as a Python string made once (this runs per message).
fn side_name(py: Python<'_>, side: Side) -> Bound<'_, PyString> {
    match side {
        Side::Inside => intern!(py, "").clone(),
        Side::Behind => intern!(py, "behind").clone(),
        Side::Ahead => intern!(py, "ahead").clone(),
    }
}

/// A stamp as a Python datetime in UTC, for `parse` (its `@timestamp`).
fn datetime_py<'py>(py: Python<'py>, t: Stamp) -> PyResult<Bound<'py, PyAny>> {
    let datetime = py.import("datetime")?;
    let utc = datetime.getattr("UTC")?;
    let (y, mo, d, h, mi, s, us) = t.fields();
    datetime.getattr("datetime")?.call1((y, mo, d, h, mi, s, us, utc))
}

fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, v) in o.iter() {
                dict.set_item(k.as_str(), to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// For tests: one parser on one line (`auto`: the format a topic with format "auto" picks,
/// and its parser). Its (field, value) pairs in order, `@timestamp` first
/// (as a datetime); or the reason it refuses the line.
#[pyfunction]
#[pyo3(signature = (name, line, reference_us=None))]
fn parse<'py>(
    py: Python<'py>,
    name: &str,
    line: &[u8],
    reference_us: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let reference = reference_us.map(Stamp);
    let outcome = match name {
        // As ingest does, with `reference` as both the receive and the ingest time.
        "auto" => match parsers::parse_line(line, reference, None) {
            Ok((_, fields)) => parsers::Outcome::Parsed(parsers::trust(fields, reference)),
            Err(letter) => parsers::Outcome::Refused(parsers::Refusal::new(letter.reason, letter.detail)),
        },
        "access" => parsers::access::parse(line, reference),
        "container" => parsers::container::parse(line, reference),
        "json" => parsers::json_line::parse(line, reference),
        "logfmt" => parsers::logfmt::parse(line, reference),
        "plaintext" => parsers::plaintext::parse(line, reference),
        "syslog" => parsers::syslog::parse(line, reference),
        _ => return Err(pyo3::exceptions::PyValueError::new_err(format!("no parser {name}"))),
    };
    match outcome {
        parsers::Outcome::Parsed(fields) => {
            let list = PyList::empty(py);
            if let Some(t) = fields.timestamp {
                list.append(("@timestamp", datetime_py(py, t)?))?;
            }
            for (k, v) in fields.map.iter() {
                list.append((k.as_str(), to_py(py, v)?))?;
            }
            Ok(list.into_any())
        }
        parsers::Outcome::Refused(refusal) => Ok(refusal.reason.into_pyobject(py)?.into_any()),
    }
}

/// For tests: the format `parsers.detect` picks.
#[pyfunction]
fn detect(line: &[u8]) -> &'static str {
    parsers::detect(line)
}

/// For tests: a JSON text as the core reads it (`json::parse`), or None where it is not read.
#[pyfunction]
fn loads<'py>(py: Python<'py>, text: &[u8]) -> PyResult<Option<Bound<'py, PyAny>>> {
    match json::parse(text) {
        Ok(v) => Ok(Some(to_py(py, &v)?)),
        Err(json::Invalid) => Ok(None),
    }
}

/// For tests: a float as a document holds it (JSON `null` for NaN and the infinities).
#[pyfunction]
fn dumps_float(f: f64) -> String {
    json::Value::from(f).to_string()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Settings>()?;
    m.add_class::<poll::Intake>()?;
    m.add_class::<poll::Run>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    m.add_function(wrap_pyfunction!(loads, m)?)?;
    m.add_function(wrap_pyfunction!(dumps_float, m)?)?;
    Ok(())
}
