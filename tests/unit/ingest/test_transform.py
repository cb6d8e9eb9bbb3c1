"""From Kafka message to document or dead letter, and the document's JSON Schema.

The schema test is the proof the service relies on to skip a per-event JSON Schema check:
every document built from the real corpus and from generated input conforms.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.actions import DeadLetter, IndexAction, Origin
from pipeline.ingest.intake import Intake
from pipeline.ingest.ship import wrap
from pipeline.ingest.source import SetupError
from pipeline.ingest.transform import transform

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "pipeline/ingest/schema/document.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SETTINGS = IngestConfig()
AUTO = TopicConfig()

# Line-per-log files of the shared corpus: every line of them must become a valid document.
CORPUS_LOGS = [
    "formats/apache_combined_access/apache_logs.log",
    "formats/nginx_access/filebeat-module-test/test.log",
    "formats/syslog/beats-system-syslog-test",
    "formats/docker_json_file/fluent-bit/kubernetes_log",
    "formats/docker_json_file/fluent-bit/tail",
]


def _origin(offset: int = 0) -> Origin:
    return Origin("edge.logs", 0, offset, int(NOW.timestamp() * 1000), b"edge-1")


def _run(value: bytes, topic: TopicConfig = AUTO, **overrides: Any) -> IndexAction | DeadLetter:
    settings_ = IngestConfig(**overrides) if overrides else SETTINGS
    return transform(value, _origin(), settings_, topic, NOW)


def _valid(action: IndexAction | DeadLetter) -> dict[str, Any]:
    assert isinstance(action, IndexAction), action
    errors = sorted(VALIDATOR.iter_errors(action.doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    return action.doc


def test_json_app_line_becomes_an_ecs_document_in_a_dated_index() -> None:
    action = _run(b'{"ts":"2026-11-24T23:59:59Z","level":"ERROR","msg":"disk full","disk":"sda"}')
    doc = _valid(action)
    assert isinstance(action, IndexAction)
    assert action.index == "edgewatch-logs-2026.11.24"  # the line's day, not today
    assert action.origin.doc_id == "edge.logs/0/0"
    assert doc["@timestamp"] == "2026-11-24T23:59:59.000000Z"
    assert doc["log"]["level"] == "error"
    assert doc["message"] == "disk full"
    assert doc["host"]["name"] == "edge-1"  # from the Kafka key
    assert doc["attributes"] == {"disk": "sda"}
    assert doc["kafka"] == {"topic": "edge.logs", "partition": 0, "offset": 0, "key": "edge-1"}
    assert doc["event"]["module"] == "json"


def test_timestamp_falls_back_from_line_to_shipper_to_kafka() -> None:
    shipped = wrap(
        b"no time in this line", "vector", "edge-2", "/x", datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert _valid(_run(shipped))["@timestamp"] == "2026-01-02T00:00:00.000000Z"
    assert _valid(_run(b"no time here either"))["@timestamp"] == "2026-11-25T12:00:00.000000Z"


def test_event_original_is_configurable() -> None:
    assert "original" in _valid(_run(b"hello"))["event"]
    assert "original" not in _valid(_run(b"hello", keep_original=False))["event"]


def test_data_stream_mode_names_the_stream_the_ecs_way() -> None:
    action = _run(b"hello", index_mode="data_stream", dataset="edge", namespace="plant7")
    assert isinstance(action, IndexAction)
    assert action.index == "logs-edge-plant7"
    assert _valid(action)["data_stream"] == {
        "type": "logs",
        "dataset": "edge",
        "namespace": "plant7",
    }


@pytest.mark.parametrize(
    ("value", "stage", "reason"),
    [
        (b"", "decode", "empty"),
        (b"x" * 2000, "decode", "oversized"),
        (b"\xff\xfe not utf-8", "decode", "invalid_utf8"),
        (b'{"level": "error", "msg": "truncated', "parse", None),
    ],
)
def test_poison_messages_become_dead_letters_with_stage_and_reason(
    value: bytes, stage: str, reason: str | None
) -> None:
    action = _run(value, max_message_bytes=1000)
    assert isinstance(action, DeadLetter)
    assert action.stage == stage
    assert action.value == value  # the original bytes, untouched
    if reason:
        assert action.reason == reason
    else:
        assert action.reason.startswith("json.")


@pytest.mark.parametrize(
    "value",
    [
        b'{"time":"0001-01-01T00:00:00+01:00","msg":"x"}',
        b"0001-01-01T00:00:00+01:00 stdout F hi",
        b"9999-12-31 23:59:59 -0100 ERROR boom",
        b"<13>1 0001-01-01T00:00:00+01:00 host app - - - x",
        b"<13>Jan  1 00:00:00 9999-12-31T23:59:59-01:00 x",
    ],
)
def test_a_timestamp_beyond_year_1_or_9999_in_utc_is_no_timestamp(value: bytes) -> None:
    """Such a zone moves the time out of datetime's range: astimezone raised OverflowError,
    which escaped transform and stopped the service on that message, again at every restart."""
    _valid(_run(value))


def test_fixed_envelope_that_does_not_match_is_a_decode_dead_letter() -> None:
    action = _run(b"plain line", TopicConfig(envelope="filebeat"))
    assert isinstance(action, DeadLetter)
    assert (action.stage, action.reason) == ("decode", "envelope.not_json")


def test_malformed_json_inside_a_filebeat_envelope_is_a_parse_dead_letter() -> None:
    value = wrap(b'{"level":"error","msg":', "filebeat", "edge-3", "/x", NOW)
    action = _run(value)
    assert isinstance(action, DeadLetter)
    assert action.stage == "parse"
    assert action.value == value


def test_user_schema_rejects_go_to_dead_letters_with_the_reason(tmp_path: Path) -> None:
    schema = tmp_path / "app.schema.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "required": ["order_id"],
                "properties": {"order_id": {"type": "integer"}},
            }
        )
    )
    topic = TopicConfig(schema=schema)
    good = transform(b'{"order_id": 7, "msg": "paid"}', _origin(), SETTINGS, topic, NOW)
    bad = transform(b'{"order_id": "7", "msg": "paid"}', _origin(), SETTINGS, topic, NOW)
    _valid(good)
    assert isinstance(bad, DeadLetter)
    assert (bad.stage, bad.reason) == ("validate", "schema")
    assert "order_id" in bad.detail


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"type": "object", "required": 7}', "not a JSON Schema"),
        ('{"type": ', "not a JSON Schema"),
        (None, "No such file"),
    ],
)
def test_a_topic_schema_that_is_no_json_schema_stops_the_service_at_start(
    tmp_path: Path, text: str | None, problem: str
) -> None:
    """Not a dead letter per message, nor an error at the topic's first message: the
    service refuses to start, naming the setting and the file."""
    schema = tmp_path / "orders.schema.json"
    if text is not None:
        schema.write_text(text)
    settings = IngestConfig(topics={"orders": TopicConfig(schema=schema)})
    with pytest.raises(SetupError) as caught:
        Intake(settings, None, print)  # type: ignore[arg-type]
    assert f'ingest.topics."orders".schema = "{schema}"' in str(caught.value)
    assert problem in str(caught.value)


def test_every_corpus_line_becomes_a_valid_document(corpus: Path) -> None:
    lines = 0
    formats: set[str] = set()
    for entry in CORPUS_LOGS:
        path = corpus / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix not in (".log", "") or "LICENSE" in file.name:
                continue
            for offset, line in enumerate(file.read_bytes().splitlines()):
                if not line.strip():
                    continue
                action = transform(line, _origin(offset), SETTINGS, AUTO, NOW)
                if isinstance(action, DeadLetter):
                    # Only lines that are broken on purpose in their source test suites.
                    assert action.stage in ("decode", "parse"), (file, line)
                    continue
                doc = _valid(action)
                formats.add(doc["event"]["module"])
                lines += 1
    assert lines > 10_000
    assert {"access", "syslog", "container"} <= formats


_fragments = st.sampled_from(
    [
        b"{",
        b"}",
        b'"level":',
        b'"error"',
        b",",
        b"<34>",
        b"1 ",
        b"2026-11-25T10:00:00Z ",
        b"Nov 25 10:00:00 ",
        b"host ",
        b"app[12]: ",
        b"- - ",
        b"[10/Oct/2000:13:55:36 -0700] ",
        b'"GET / HTTP/1.1" ',
        b"200 ",
        b"key=value ",
        b'msg="x y" ',
        b"stdout F ",
        b"ERROR ",
        b'{"log":"x\\n","stream":"stdout","time":"2026-11-25T10:00:00Z"}',
        b"\xff",
        b"\n",
        b"-",
        b"0001-01-01T00:00:00+01:00 ",
        b"9999-12-31T23:59:59-01:00",
    ]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), st.lists(_fragments, max_size=12).map(b"".join)))
def test_any_input_gives_a_valid_document_or_a_dead_letter(value: bytes) -> None:
    action = transform(value, _origin(), SETTINGS, AUTO, NOW)
    if isinstance(action, IndexAction):
        _valid(action)
        assert orjson.dumps(action.doc)  # serialisable as the bulk body needs
    else:
        assert action.stage in ("decode", "parse")


@given(st.sampled_from(["filebeat", "fluentbit", "vector"]), st.text(max_size=80))
def test_any_shipped_line_gives_a_valid_document_or_a_dead_letter(envelope: str, text: str) -> None:
    value = wrap(text.encode("utf-8", "surrogatepass"), envelope, "edge-4", "/x", NOW)
    action = transform(value, _origin(), SETTINGS, AUTO, NOW)
    if isinstance(action, IndexAction):
        _valid(action)


# Any JSON value, for the places where a shipper's event or an application's JSON line may
# hold something else than what the field usually holds.
_json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_line_keys = st.sampled_from(
    ["level", "lvl", "severity", "msg", "message", "time", "ts", "@timestamp", "timestamp",
     "pid", "host", "hostname", "service", "logger", "error", "status", "log.level",
     "host.name", "http", "url", "trace_id", "caller", "thread", "stream", "log", "tags"]
)  # fmt: skip
_shipper_keys = st.sampled_from(
    ["@timestamp", "host", "agent", "log", "fields", "labels", "kubernetes", "service",
     "stream", "filename", "hostname", "source_type", "input", "ecs", "tags", "time", "file"]
)  # fmt: skip
_json_line = st.dictionaries(_line_keys, _json_value, max_size=6)


@st.composite
def _shipped_json(draw: st.DrawFn) -> bytes:
    """A shipper's event (or a bare JSON line) with arbitrary values in its usual fields."""
    kind = draw(st.sampled_from(["line", "filebeat", "vector", "fluentbit", "forward"]))
    line: Any = draw(
        _json_line.map(lambda obj: orjson.dumps(obj).decode()) | st.text(max_size=40) | _json_value
    )
    if kind == "line":
        return orjson.dumps(draw(_json_line))
    event: dict[str, Any] = draw(st.dictionaries(_shipper_keys, _json_value, max_size=6))
    if kind == "filebeat":
        event["@metadata"] = {"beat": "filebeat", "version": draw(_json_value)}
        event["message"] = line
    elif kind == "vector":
        event["source_type"] = "file"
        event["message"] = line
    elif kind == "fluentbit":
        event["@timestamp"] = draw(st.floats(0, 4e9) | st.text(max_size=30) | _json_value)
        event["log"] = line
    else:  # Fluent Bit's forward form: [time, record]
        return orjson.dumps([draw(st.floats(0, 4e9) | st.integers(0, 2**40)), event])
    return orjson.dumps(event)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_shipped_json())
def test_any_json_shape_gives_a_valid_document_or_a_dead_letter(value: bytes) -> None:
    action = transform(value, _origin(), SETTINGS, AUTO, NOW)
    if isinstance(action, IndexAction):
        _valid(action)
    else:
        assert action.stage in ("decode", "parse"), action


def test_a_lines_dotted_ecs_fields_become_objects() -> None:
    line = b'{"log.level":"warn","host.name":"h1","msg":"m","a.b":1}'
    doc = _valid(_run(line))
    assert (doc["log"], doc["host"], doc["message"]) == ({"level": "warn"}, {"name": "h1"}, "m")
    assert doc["attributes"] == {"a.b": 1}  # the line's own fields keep their names


def test_a_line_too_deep_to_serialise_is_a_parse_dead_letter() -> None:
    # orjson decodes up to 1024 levels but encodes at most 254: without this check the bulk
    # writer would fail on the batch forever.
    value = b'{"a":' * 300 + b"1" + b"}" * 300
    action = _run(value)
    assert isinstance(action, DeadLetter)
    assert (action.stage, action.reason) == ("parse", "document.not_serialisable")
    assert action.value == value


@pytest.mark.parametrize("kafka_ms", [253_402_300_800_000, 2**62, 0, -1, None])
def test_a_kafka_timestamp_after_the_year_9999_counts_as_none(kafka_ms: int | None) -> None:
    """A producer may set any CreateTime (from 10000-01-01 on here): reading it must not
    stop the service on that message. It counts as none, as 0 and -1 (not available) do."""
    action = transform(b"no time", Origin("t", 0, 0, kafka_ms), SETTINGS, AUTO, NOW)
    assert isinstance(action, IndexAction)
    assert action.index == "edgewatch-logs-1970.01.01"  # the timestamp of last resort
    assert action.doc["@timestamp"] == "1970-01-01T00:00:00.000000Z"
