"""The ingest status documents: lag, seconds behind, caught up, drifting clocks, their shape
(schema/status.schema.json) and mapping; a refusing Elasticsearch is counted and logged at
most once a minute."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from elasticsearch import ConnectionError as ESConnectionError

from pipeline.config import IngestConfig
from pipeline.ingest import status
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.offsets import CommitTracker
from pipeline.ingest.source import partition_lag
from pipeline.ingest.status import Progress, StatusDoc, StatusReporter, documents
from pipeline.ingest.template import status_mappings, status_template_body

pytestmark = pytest.mark.unit

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "pipeline/ingest/schema/status.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
NOW = datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC)
A0, A1, B0 = ("edge.logs", 0), ("edge.logs", 1), ("edge.syslog", 0)


def _ms(ago_s: float) -> int:
    """The Kafka timestamp (ms) of a message written `ago_s` seconds before NOW."""
    return int((NOW - timedelta(seconds=ago_s)).timestamp() * 1000)


def _progress(**changes: Any) -> Progress:
    fields: dict[str, Any] = {
        "member": "ingest-0",
        "group": "edgewatch-ingest",
        "assigned": {A0, A1, B0},
        "lags": {},
        "written_ms": {},
        "assigned_at": None,
    }
    return Progress(**{**fields, **changes})


def _ingest(progress: Progress, drifting: list[tuple[str, float]] | None = None) -> StatusDoc:
    docs = documents(NOW, progress, drifting or [], 120.0)
    for doc in docs:
        VALIDATOR.validate(doc.body)
    return docs[0]


def test_caught_up_member_has_no_lag_and_is_not_behind() -> None:
    doc = _ingest(_progress(written_ms={A0: _ms(5), A1: _ms(3), B0: _ms(400)}))
    assert doc.id == "ingest/ingest-0"
    assert doc.body == {
        "@timestamp": "2026-12-07T12:00:00.123Z",
        "kind": "ingest",
        "member": "ingest-0",
        "group": "edgewatch-ingest",
        "lag": 0,
        "behind_s": 0.0,
        "topics": [
            {
                "topic": "edge.logs",
                "lag": 0,
                "behind_s": 0.0,
                "last_kafka_time": "2026-12-07T11:59:57.123Z",  # the newest of its partitions
            },
            {
                "topic": "edge.syslog",
                "lag": 0,
                "behind_s": 0.0,  # quiet for minutes, but nothing left to read
                "last_kafka_time": "2026-12-07T11:53:20.123Z",
            },
        ],
        "caught_up": True,
        "behind": "0 s",
    }


def test_behind_counts_from_the_oldest_partition_with_lag() -> None:
    doc = _ingest(
        _progress(
            lags={A0: 500, A1: 20, B0: 0},
            written_ms={A0: _ms(30), A1: _ms(900), B0: _ms(2000)},
        )
    )
    logs, syslog = doc.body["topics"]
    assert (logs["lag"], logs["behind_s"]) == (520, 900.0)
    assert logs["last_kafka_time"] == "2026-12-07T11:59:30.123Z"
    assert (syslog["lag"], syslog["behind_s"]) == (0, 0.0)  # no lag: not behind, however old
    assert doc.body["lag"] == 520
    assert doc.body["behind_s"] == 900.0  # the worst topic
    assert doc.body["caught_up"] is False


def test_a_partition_without_lag_does_not_make_its_topic_behind() -> None:
    doc = _ingest(_progress(lags={A0: 0, A1: 3}, written_ms={A0: _ms(3600), A1: _ms(12)}))
    assert doc.body["topics"][0]["behind_s"] == 12.0
    assert doc.body["caught_up"] is True  # under a minute


@pytest.mark.parametrize(("ago_s", "caught_up"), [(59.9, True), (60.0, False), (61, False)])
def test_caught_up_means_less_than_a_minute_behind(ago_s: float, caught_up: bool) -> None:
    doc = _ingest(_progress(assigned={A0}, lags={A0: 1}, written_ms={A0: _ms(ago_s)}))
    assert doc.body["behind_s"] == pytest.approx(ago_s, abs=0.001)
    assert doc.body["caught_up"] is caught_up


def test_lag_with_nothing_written_yet_counts_from_the_assignment() -> None:
    doc = _ingest(
        _progress(assigned={A0}, lags={A0: 10_000}, assigned_at=NOW - timedelta(seconds=90))
    )
    (topic,) = doc.body["topics"]
    assert topic == {"topic": "edge.logs", "lag": 10_000, "behind_s": 90.0, "last_kafka_time": None}
    assert doc.body["caught_up"] is False


def test_a_kafka_time_ahead_of_the_clock_is_not_behind() -> None:
    doc = _ingest(_progress(assigned={A0}, lags={A0: 2}, written_ms={A0: _ms(-30)}))
    assert doc.body["behind_s"] == 0.0


def test_nothing_assigned_is_an_empty_caught_up_status() -> None:
    doc = _ingest(_progress(assigned=set()))
    assert (doc.body["lag"], doc.body["behind_s"], doc.body["topics"]) == (0, 0.0, [])
    assert doc.body["caught_up"] is True


def test_one_document_per_drifting_host() -> None:
    docs = documents(NOW, _progress(), [("edge-7", -600.5), ("edge-2", 180.0)], 120.0)
    assert [d.id for d in docs] == ["ingest/ingest-0", "clock/edge-7", "clock/edge-2"]
    assert docs[1].body == {
        "@timestamp": "2026-12-07T12:00:00.123Z",
        "kind": "clock",
        "member": "ingest-0",
        "host": {"name": "edge-7"},
        "offset_s": -600.5,
        "bound_s": 120.0,
    }
    for doc in docs:
        VALIDATOR.validate(doc.body)


def test_timestamps_are_utc_with_milliseconds() -> None:
    plus_two = datetime(2026, 12, 7, 16, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert status.iso_ms(plus_two) == "2026-12-07T14:00:00.999Z"
    assert status.iso_ms(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"


def test_the_member_is_the_instance_id_else_the_host_name() -> None:
    assert status.member_name("ingest-3") == "ingest-3"
    assert status.member_name(None) == socket.gethostname()  # the same after a restart


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (45.7, "45 s"), (720, "12 min"), (11100, "3 h 5 min")]
)
def test_behind_is_spoken_for_emails(seconds: float, text: str) -> None:
    assert status.spoken(seconds) == text


def test_the_template_maps_every_field_of_the_schema() -> None:
    def fields(schema: dict[str, Any], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for name, spec in schema.get("properties", {}).items():
            nested = spec.get("items", spec)
            inner = fields(nested, f"{prefix}{name}.")
            out |= inner or {prefix + name}
        return out

    def mapped(mapping: dict[str, Any], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for name, spec in mapping["properties"].items():
            out |= mapped(spec, f"{prefix}{name}.") if "properties" in spec else {prefix + name}
        return out

    in_schema = fields(SCHEMA["$defs"]["ingest"]) | fields(SCHEMA["$defs"]["clock"])
    assert in_schema == mapped(status_mappings())
    body = status_template_body(IngestConfig(status_index="ew-status"))
    assert body["index_patterns"] == ["ew-status"]
    assert body["priority"] > 200  # above the log indices' template


def test_the_tracker_keeps_the_kafka_time_of_each_partitions_last_written_message() -> None:
    tracker = CommitTracker()
    first = tracker.open({A0: 9, A1: 4}, {A0: 1000, A1: 2000})
    second = tracker.open({A0: 19}, {A0: 3000})
    tracker.done(second)
    assert tracker.released_times == {}  # the first batch holds it back
    tracker.done(first)
    assert tracker.released_times == {A0: 3000, A1: 2000}
    tracker.forget({A1})
    assert tracker.released_times == {A0: 3000}


class _RefusingES:
    """Stands in for the Elasticsearch client: every bulk request fails to connect."""

    def __init__(self) -> None:
        self.calls = 0

    def options(self, **_: object) -> _RefusingES:
        return self

    def bulk(self, **_: object) -> None:
        self.calls += 1
        raise ESConnectionError("connection refused")


def test_failed_writes_are_counted_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("pipeline.ingest.status.time.monotonic", lambda: clock[0])
    metrics = IngestMetrics()
    es = _RefusingES()
    reporter = StatusReporter(es, IngestConfig(), metrics)  # type: ignore[arg-type]
    docs = documents(NOW, _progress(), [], 120.0)
    with caplog.at_level(logging.WARNING, logger="edgewatch.ingest"):
        for _ in range(6):  # a minute of intervals
            reporter._write(docs)
            clock[0] += 10
        reporter._write(docs)
    assert es.calls == 7
    assert metrics.status_write_failures._value.get() == 7
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert "edgewatch-status" in warnings[0] and "connection refused" in warnings[0]
    assert "and 5 more" in warnings[1]


@pytest.mark.parametrize(
    ("stats", "committed", "lag"),
    [
        # What librdkafka reports under our transactional commits: consumer_lag -1.
        ({"consumer_lag": -1, "ls_offset": 1000, "committed_offset": -1001}, 400, 600),
        ({"ls_offset": 1000, "hi_offset": 1200, "committed_offset": 900}, None, 100),
        ({"ls_offset": 1000, "committed_offset": -1001, "lo_offset": 10}, None, 990),
        ({"ls_offset": -1, "hi_offset": 50, "committed_offset": 20}, None, 30),
        ({"ls_offset": 1000, "committed_offset": -1001, "lo_offset": -1}, None, None),
        ({"ls_offset": -1, "hi_offset": -1}, 5, None),
        ({"ls_offset": 10}, 12, 0),  # committed past a stale end: not negative
    ],
)
def test_lag_counts_from_what_was_committed(
    stats: dict[str, int], committed: int | None, lag: int | None
) -> None:
    assert partition_lag(stats, committed) == lag
