"""The index-time window: a dated index is named from the event time only near the Kafka
timestamp; outside the window the Kafka timestamp names it, and the document says so
(`kafka.timestamp`) while keeping its own `@timestamp`.

The decision itself (`window.Window`), then whole messages through `transform`, each run by
the Python reference and by the native core (test_native.py compares the two at large).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeline.config import ConfigError, IngestConfig, TopicConfig, load_config
from pipeline.ingest import transform as transform_module
from pipeline.ingest.actions import IndexAction, Origin, iso
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import transform
from pipeline.ingest.window import AHEAD, BEHIND, INSIDE, Window, window_us

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "pipeline/ingest/schema/document.schema.json").read_text()
)
KAFKA = datetime(2026, 11, 25, 0, 30, 0, 123000, tzinfo=UTC)
KAFKA_MS = 1795566600123
DEFAULT = Window(window_us(7 * 86_400), window_us(86_400))
US = timedelta(microseconds=1)


def test_the_kafka_ms_is_the_kafka_time() -> None:
    assert Origin("t", 0, 0, KAFKA_MS).kafka_time == KAFKA


# ------------------------------------------------------------------------------ the decision


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), -timedelta(days=7), timedelta(days=1), -timedelta(days=3), US, -US],
)
def test_inside_the_window_bounds_included_the_event_time_decides(offset: timedelta) -> None:
    assert DEFAULT.index_time(KAFKA + offset, KAFKA) == (KAFKA + offset, INSIDE)


def test_a_microsecond_outside_it_the_kafka_time_decides() -> None:
    assert DEFAULT.index_time(KAFKA - timedelta(days=7) - US, KAFKA) == (KAFKA, BEHIND)
    assert DEFAULT.index_time(KAFKA + timedelta(days=1) + US, KAFKA) == (KAFKA, AHEAD)


def test_the_ends_of_the_calendar_are_compared_without_overflow() -> None:
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    century = window_us(100 * 365 * 86_400)
    wide = Window(century, century)
    assert wide.index_time(first, last) == (last, BEHIND)
    assert wide.index_time(last, first) == (first, AHEAD)
    assert wide.index_time(last, last - timedelta(days=1)) == (last, INSIDE)


def test_without_a_kafka_time_there_is_no_window() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert DEFAULT.index_time(epoch, None) == (epoch, INSIDE)


def test_bounds_are_whole_microseconds_from_seconds() -> None:
    assert window_us(604_800.0) == 604_800_000_000
    assert window_us(0.1) == 100_000  # not 100000.00000000001
    assert window_us(1.0000004) == 1_000_000


# ------------------------------------------------------------------------------ settings


def test_the_window_defaults_to_a_week_back_and_a_day_ahead() -> None:
    settings = IngestConfig()
    assert settings.index_time_window_back_s == 7 * 86_400
    assert settings.index_time_window_ahead_s == 86_400


@pytest.mark.parametrize("bad", ["-1", "nan", "inf", "4e9", "a week"])
def test_a_window_bound_must_be_a_sane_number_of_seconds(bad: str) -> None:
    with pytest.raises(ConfigError, match="EDGEWATCH_INGEST_INDEX_TIME_WINDOW_AHEAD_S"):
        load_config(environ={"EDGEWATCH_INGEST_INDEX_TIME_WINDOW_AHEAD_S": bad})


def test_a_window_bound_may_be_zero_or_a_fraction() -> None:
    config = load_config(
        environ={
            "EDGEWATCH_INGEST_INDEX_TIME_WINDOW_BACK_S": "0",
            "EDGEWATCH_INGEST_INDEX_TIME_WINDOW_AHEAD_S": "90.5",
        }
    )
    assert config.ingest.index_time_window_back_s == 0.0
    assert config.ingest.index_time_window_ahead_s == 90.5


# ------------------------------------------------------------------------------ whole messages


@pytest.fixture(params=["reference", "native"])
def core(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each message test runs twice: by the Python reference alone, and by the native core
    (which must then answer: these are its common shapes)."""
    saved = transform_module.NATIVE
    if request.param == "reference":
        transform_module.NATIVE = None
    elif saved is None:
        assert os.environ.get("EDGEWATCH_PURE_PYTHON"), "the native core is not built"
        pytest.skip("a pure-Python install (EDGEWATCH_PURE_PYTHON=1) has no native core")
    try:
        yield request.param
    finally:
        transform_module.NATIVE = saved


def _index(
    value: bytes, core: str, kafka_ms: int | None = KAFKA_MS, **settings: Any
) -> IndexAction:
    origin = Origin("edge.logs", 0, 7, kafka_ms, b"edge-1")
    action = transform(value, origin, IngestConfig(**settings), TopicConfig(), KAFKA)
    assert isinstance(action, IndexAction), action
    assert action.native == (core == "native")
    jsonschema.validate(action.doc, SCHEMA)
    return action


@pytest.mark.parametrize(
    ("line", "stamp", "side"),
    [
        (b'{"ts":"1970-01-01T00:00:00Z","msg":"m"}', "1970-01-01T00:00:00.000000Z", BEHIND),
        (b"ts=9999-12-31T23:59:59Z level=info msg=m", "9999-12-31T23:59:59.000000Z", AHEAD),
        (b"<13>1 2026-11-17T00:30:00.122999Z h a - - - m", "2026-11-17T00:30:00.122999Z", BEHIND),
        (b"2026-11-26 00:30:00.124 ERROR m", "2026-11-26T00:30:00.124000Z", AHEAD),
    ],
)
def test_a_line_dated_outside_the_window_goes_to_the_kafka_day(
    core: str, line: bytes, stamp: str, side: str
) -> None:
    action = _index(line, core)
    assert action.index == "edgewatch-logs-2026.11.25"
    assert action.outside_window == side
    assert action.doc["@timestamp"] == stamp  # as the line says
    assert action.doc["kafka"]["timestamp"] == iso(KAFKA)  # what named the index


@pytest.mark.parametrize(
    ("line", "index"),
    [
        (b'{"ts":"2026-11-18T00:30:00.123Z","msg":"m"}', "edgewatch-logs-2026.11.18"),
        (b'{"ts":"2026-11-24T23:00:00Z","msg":"m"}', "edgewatch-logs-2026.11.24"),
        (b'{"ts":"2026-11-26T00:30:00.123Z","msg":"m"}', "edgewatch-logs-2026.11.26"),
    ],
)
def test_a_line_dated_inside_it_goes_to_its_own_day(core: str, line: bytes, index: str) -> None:
    action = _index(line, core)
    assert (action.index, action.outside_window) == (index, INSIDE)
    assert "timestamp" not in action.doc["kafka"]


def test_the_shippers_time_is_held_to_the_window_too(core: str) -> None:
    shipped = wrap(
        b"no time in this line", "filebeat", "edge-2", "/x", datetime(9999, 1, 1, tzinfo=UTC)
    )
    action = _index(shipped, core)
    assert action.index == "edgewatch-logs-2026.11.25"
    assert action.doc["@timestamp"] == "9999-01-01T00:00:00.000000Z"


def test_the_window_is_configurable(core: str) -> None:
    line = b'{"ts":"2026-11-24T22:30:00Z","msg":"two hours before its Kafka time"}'
    assert _index(line, core).index == "edgewatch-logs-2026.11.24"
    narrow = _index(line, core, index_time_window_back_s=3600)
    assert (narrow.index, narrow.outside_window) == ("edgewatch-logs-2026.11.25", BEHIND)


def test_data_streams_are_not_dated_and_not_affected(core: str) -> None:
    action = _index(b'{"ts":"1970-01-01T00:00:00Z","msg":"m"}', core, index_mode="data_stream")
    assert (action.index, action.outside_window) == ("logs-edge-default", INSIDE)
    assert "timestamp" not in action.doc["kafka"]


def test_a_message_without_a_kafka_timestamp_keeps_its_event_day(core: str) -> None:
    action = _index(b'{"ts":"2020-02-29T12:00:00Z","msg":"m"}', core, kafka_ms=None)
    assert (action.index, action.outside_window) == ("edgewatch-logs-2020.02.29", INSIDE)
