"""Envelope detection and unwrapping, with the shapes each shipper documents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.envelopes import EnvelopeError, unwrap
from pipeline.ingest.ship import wrap

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


def test_filebeat_event_is_unwrapped_with_its_metadata() -> None:
    env = unwrap(orjson.dumps(FILEBEAT), b"ignored", "auto")
    assert env.shipper == "filebeat"
    assert env.line == b"pump 3 pressure low"
    assert env.host == "edge-17"
    assert env.timestamp == datetime(2026, 11, 25, 10, 0, 1, 123000, UTC)
    assert env.fields["log.file.path"] == "/var/log/pump/app.log"
    assert env.fields["log.offset"] == 1234
    assert env.fields["labels"] == {"site": "plant-7"}


def test_fluentbit_record_drops_the_tail_newline_and_reads_epoch_time() -> None:
    env = unwrap(orjson.dumps(FLUENTBIT), None, "auto")
    assert env.shipper == "fluentbit"
    assert env.line == b"pump 3 pressure low"
    assert env.host == "edge-18"
    assert env.timestamp == datetime.fromtimestamp(1795557601.5, UTC)


def test_fluentbit_stream_other_than_stdout_or_stderr_is_left_out() -> None:
    # Found by the JSON-shape fuzz test: `"stream": ""` made a document outside the schema.
    for stream in ("", "journal", 3, ["stdout"]):
        env = unwrap(orjson.dumps({**FLUENTBIT, "stream": stream}), None, "auto")
        assert "stream" not in env.fields, stream
    env = unwrap(orjson.dumps({**FLUENTBIT, "stream": "stderr"}), None, "auto")
    assert env.fields["stream"] == "stderr"


def test_container_stream_is_kept_from_every_shipper() -> None:
    """The shippers' container inputs (deploy/shippers/) report which stream a line came on."""
    for shipper, event in (("filebeat", FILEBEAT), ("fluentbit", FLUENTBIT), ("vector", VECTOR)):
        env = unwrap(orjson.dumps({**event, "stream": "stderr"}), None, "auto")
        assert (env.shipper, env.fields["stream"]) == (shipper, "stderr")


def test_vector_event_is_unwrapped() -> None:
    env = unwrap(orjson.dumps(VECTOR), None, "auto")
    assert (env.shipper, env.line, env.host) == ("vector", b"pump 3 pressure low", "edge-19")
    assert env.fields["log.file.path"] == "/var/log/pump/app.log"


def test_raw_line_takes_host_from_key() -> None:
    env = unwrap(b"<13>Nov 25 10:00:00 edge-20 app: hi", b"edge-20", "auto")
    assert (env.shipper, env.host, env.decoded) == ("raw", "edge-20", None)


def test_json_app_log_without_shipper_marks_is_raw_and_decoded_once() -> None:
    line = b'{"level":"info","msg":"started","@timestamp":"2026-11-25T10:00:00Z"}'
    env = unwrap(line, None, "auto")
    assert env.shipper == "raw"
    assert env.line == line
    assert env.decoded == {"level": "info", "msg": "started", "@timestamp": "2026-11-25T10:00:00Z"}


def test_broken_json_in_auto_mode_is_left_for_the_parser() -> None:
    env = unwrap(b'{"level":"info", "msg": ', None, "auto")
    assert env.shipper == "raw"
    assert env.decoded is None


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
    with pytest.raises(EnvelopeError) as caught:
        unwrap(value, None, envelope)
    assert caught.value.reason == reason


def test_fluent_bit_forward_style_array_and_kubernetes_metadata(corpus: Path) -> None:
    """Real Fluent Bit records after its kubernetes filter, from Fluent Bit's own test data."""
    outputs = sorted((corpus / "formats/docker_json_file/fluent-bit/kubernetes_out").rglob("*.out"))
    assert len(outputs) > 10
    unwrapped = 0
    for path in outputs:
        for raw in path.read_bytes().splitlines():
            if not raw.strip():
                continue
            record = orjson.loads(raw)
            if not any(k in record[1] for k in ("log", "message", "MESSAGE", "msg")):
                continue  # records whose line the filter moved elsewhere (merge_log)
            env = unwrap(raw, None, "auto")
            assert env.shipper == "fluentbit", path
            assert env.timestamp is not None
            assert env.fields["kubernetes.pod.name"] == record[1]["kubernetes"]["pod_name"]
            unwrapped += 1
    assert unwrapped > 10


@pytest.mark.parametrize("envelope", ["raw", "filebeat", "fluentbit", "vector"])
def test_what_ship_wraps_unwraps_to_the_same_line(envelope: str) -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    line = 'level=error msg="valve \\"7\\" stuck" héllo'.encode()
    env = unwrap(wrap(line, envelope, "edge-1", "/var/log/x.log", now), b"edge-1", "auto")
    assert env.line == line
    assert env.host == "edge-1"
    assert env.shipper == envelope
    if envelope != "raw":
        assert env.timestamp == now


@given(st.binary(max_size=300), st.sampled_from(["auto", "filebeat", "fluentbit", "vector"]))
def test_unwrap_never_raises_anything_but_envelope_error(value: bytes, envelope: str) -> None:
    try:
        env = unwrap(value, None, envelope)
    except EnvelopeError:
        return
    assert isinstance(env.line, bytes)
