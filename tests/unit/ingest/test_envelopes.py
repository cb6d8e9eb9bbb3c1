"""Envelope detection and unwrapping, with the shapes each shipper documents: whole messages
through the native core (`transform`), read off the document it makes (`agent.type` names
the shipper, `event.original` is the line, `host.name` the host, `@timestamp` the shipper's
time for a line without one of its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.actions import DeadLetter, IndexAction, Origin, iso
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import Transformer, transform

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
EPOCH = "1970-01-01T00:00:00.000000Z"  # the timestamp of last resort

# A Filebeat 8 event as output.kafka with codec.json writes it (filestream input).
FILEBEAT = {
    "@timestamp": "2026-11-25T10:00:01.123Z",
    "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.19.0"},
    "log": {"offset": 1234, "file": {"path": "/var/log/pump/app.log"}},
    "message": "pump 3 pressure low",
    "input": {"type": "filestream"},
    "fields": {"site": "plant-7"},
    "host": {"name": "edge-17", "hostname": "edge-17"},
    "agent": {"type": "filebeat", "version": "8.19.0", "name": "edge-17"},
    "ecs": {"version": "8.0.0"},
}
# Fluent Bit's kafka output, Format json, default Timestamp_Key/Timestamp_Format (double).
FLUENTBIT = {"@timestamp": 1795557601.5, "log": "pump 3 pressure low\n", "hostname": "edge-18"}
# Vector's kafka sink with encoding.codec = "json", file source.
VECTOR = {
    "file": "/var/log/pump/app.log",
    "host": "edge-19",
    "message": "pump 3 pressure low",
    "source_type": "file",
    "timestamp": "2026-11-25T10:00:03.000000001Z",
}


def _action(
    value: bytes, key: bytes | None = None, envelope: str = "auto", kafka_ms: int | None = None
) -> IndexAction | DeadLetter:
    """What the core makes of one message; without a Kafka timestamp by default, so that a
    time in the document came from the message itself."""
    origin = Origin("edge.logs", 0, 0, kafka_ms, key)
    return transform(value, origin, IngestConfig(), TopicConfig(envelope=envelope), NOW)


def _doc(value: bytes, key: bytes | None = None, envelope: str = "auto") -> dict[str, Any]:
    action = _action(value, key, envelope)
    assert isinstance(action, IndexAction), action
    return action.doc


def _shipper(doc: dict[str, Any]) -> str:
    """The shipper the core detected: `agent.type`, absent for a raw line."""
    return str(doc.get("agent", {}).get("type", "raw"))


def test_filebeat_event_is_unwrapped_with_its_metadata() -> None:
    doc = _doc(orjson.dumps(FILEBEAT), b"ignored")
    assert _shipper(doc) == "filebeat"
    assert doc["event"]["original"] == "pump 3 pressure low"
    assert doc["host"]["name"] == "edge-17"
    assert doc["@timestamp"] == "2026-11-25T10:00:01.123000Z"
    assert doc["log"]["file"]["path"] == "/var/log/pump/app.log"
    assert doc["log"]["offset"] == 1234
    assert doc["labels"] == {"site": "plant-7"}


def test_fluentbit_record_drops_the_tail_newline_and_reads_epoch_time() -> None:
    doc = _doc(orjson.dumps(FLUENTBIT))
    assert _shipper(doc) == "fluentbit"
    assert doc["event"]["original"] == "pump 3 pressure low"
    assert doc["host"]["name"] == "edge-18"
    assert doc["@timestamp"] == iso(datetime.fromtimestamp(1795557601.5, UTC))


def test_fluentbit_stream_other_than_stdout_or_stderr_is_left_out() -> None:
    # Found by the JSON-shape fuzz test: `"stream": ""` made a document outside the schema.
    for stream in ("", "journal", 3, ["stdout"]):
        doc = _doc(orjson.dumps({**FLUENTBIT, "stream": stream}))
        assert "stream" not in doc, stream
    doc = _doc(orjson.dumps({**FLUENTBIT, "stream": "stderr"}))
    assert doc["stream"] == "stderr"


def test_container_stream_is_kept_from_every_shipper() -> None:
    """The shippers' container inputs (deploy/shippers/) report which stream a line came on."""
    for shipper, event in (("filebeat", FILEBEAT), ("fluentbit", FLUENTBIT), ("vector", VECTOR)):
        doc = _doc(orjson.dumps({**event, "stream": "stderr"}))
        assert (_shipper(doc), doc["stream"]) == (shipper, "stderr")


def test_vector_event_is_unwrapped() -> None:
    doc = _doc(orjson.dumps(VECTOR))
    assert _shipper(doc) == "vector"
    assert (doc["event"]["original"], doc["host"]["name"]) == ("pump 3 pressure low", "edge-19")
    assert doc["log"]["file"]["path"] == "/var/log/pump/app.log"
    assert doc["@timestamp"] == "2026-11-25T10:00:03.000000Z"


def test_raw_line_takes_host_from_key() -> None:
    doc = _doc(b"<13>Nov 25 10:00:00 edge-20 app: hi", b"edge-20")
    assert (_shipper(doc), doc["host"]["name"]) == ("raw", "edge-20")


def test_json_app_log_without_shipper_marks_is_raw() -> None:
    line = b'{"level":"info","msg":"started","@timestamp":"2026-11-25T10:00:00Z"}'
    doc = _doc(line)
    assert _shipper(doc) == "raw"
    assert doc["event"]["original"] == line.decode()
    assert (doc["event"]["module"], doc["message"]) == ("json", "started")


def test_broken_json_in_auto_mode_is_left_for_the_parser() -> None:
    action = _action(b'{"level":"info", "msg": ')
    assert isinstance(action, DeadLetter)
    assert (action.stage, action.reason) == ("parse", "json.invalid")  # not an envelope's


@pytest.mark.parametrize(
    ("value", "envelope", "reason"),
    [
        (b"plain line", "filebeat", "envelope.not_json"),
        (b'{"message": ', "vector", "envelope.invalid_json"),
        (b"[1, 2, 3]", "filebeat", "envelope.not_object"),
        (b'{"@metadata": {"beat": "filebeat"}}', "filebeat", "envelope.no_line"),
        (b'{"@timestamp": 1.0, "log": 3}', "fluentbit", "envelope.no_line"),
    ],
)
def test_fixed_envelope_mismatch_is_an_envelope_error(
    value: bytes, envelope: str, reason: str
) -> None:
    action = _action(value, envelope=envelope)
    assert isinstance(action, DeadLetter)
    assert (action.stage, action.reason) == ("decode", reason)


def test_fluent_bit_forward_style_array_and_kubernetes_metadata(corpus: Path) -> None:
    """Real Fluent Bit records after its kubernetes filter, from Fluent Bit's own test data."""
    outputs = sorted((corpus / "formats/docker_json_file/fluent-bit/kubernetes_out").rglob("*.out"))
    assert len(outputs) > 10
    run = Transformer(IngestConfig(), TopicConfig())
    unwrapped = record_time = 0
    for path in outputs:
        for raw in path.read_bytes().splitlines():
            if not raw.strip():
                continue
            record = orjson.loads(raw)
            if not any(k in record[1] for k in ("log", "message", "MESSAGE", "msg")):
                continue  # records whose line the filter moved elsewhere (merge_log)
            action = run(raw, Origin("edge.logs", 0, 0, None), NOW)
            unwrapped += 1
            if isinstance(action, DeadLetter):
                # Unwrapped, and the line itself refused (invalid JSON lines, on purpose).
                assert action.stage == "parse", (path, action)
                continue
            doc = action.doc
            assert _shipper(doc) == "fluentbit", path
            assert doc["@timestamp"] != EPOCH, path  # no Kafka time: a time was read
            record_time += doc["@timestamp"] == iso(datetime.fromtimestamp(record[0], UTC))
            assert doc["kubernetes"]["pod"]["name"] == record[1]["kubernetes"]["pod_name"]
    assert unwrapped > 10
    assert record_time > 0.8 * unwrapped  # the rest: lines with a time of their own


@pytest.mark.parametrize("envelope", ["raw", "filebeat", "fluentbit", "vector"])
def test_what_ship_wraps_unwraps_to_the_same_line(envelope: str) -> None:
    line = 'level=error msg="valve \\"7\\" stuck" héllo'.encode()
    kafka_ms = int(NOW.timestamp() * 1000) + 60_000  # a minute after the shipper's time
    value = wrap(line, envelope, "edge-1", "/var/log/x.log", NOW)
    action = _action(value, b"edge-1", "auto", kafka_ms)
    assert isinstance(action, IndexAction), action
    doc = action.doc
    assert doc["event"]["original"] == line.decode()
    assert doc["host"]["name"] == "edge-1"
    assert _shipper(doc) == envelope
    if envelope != "raw":
        assert doc["@timestamp"] == iso(NOW)


@given(st.binary(max_size=300), st.sampled_from(["auto", "filebeat", "fluentbit", "vector"]))
def test_any_value_in_any_envelope_is_a_document_or_a_dead_letter(
    value: bytes, envelope: str
) -> None:
    action = _action(value, envelope=envelope)
    if isinstance(action, DeadLetter):
        assert action.stage in ("decode", "parse"), action
    else:
        assert isinstance(action.doc["event"]["original"], str)
