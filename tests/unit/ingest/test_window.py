"""The index-time window: a dated index is named from the event time only near the Kafka
timestamp; outside the window the Kafka timestamp names it, and the document says so
(`kafka.timestamp`) while keeping its own `@timestamp`.

Whole messages through the native core (`transform`): the decision at the window's bounds,
to the microsecond, then the settings, then lines of every format.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeline.config import ConfigError, IngestConfig, TopicConfig, load_config
from pipeline.ingest.actions import IndexAction, Origin, iso
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import transform, window_us

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "pipeline/ingest/schema/document.schema.json").read_text()
)
KAFKA = datetime(2026, 11, 25, 0, 30, 0, 123000, tzinfo=UTC)
KAFKA_MS = 1795566600123
US = timedelta(microseconds=1)
BEHIND, AHEAD, INSIDE = "behind", "ahead", ""
CENTURY_S = 100 * 365 * 86_400.0


def _index(
    value: bytes, kafka_ms: int | None = KAFKA_MS, *, received: datetime = KAFKA, **settings: Any
) -> IndexAction:
    """The action for `value`, ingested at `received` (no line's time may lie more than a
    day after it)."""
    origin = Origin("edge.logs", 0, 7, kafka_ms, b"edge-1")
    action = transform(value, origin, IngestConfig(**settings), TopicConfig(), received)
    assert isinstance(action, IndexAction), action
    jsonschema.validate(action.doc, SCHEMA)
    return action


def _dated(stamp: datetime) -> bytes:
    """A JSON line dated `stamp` to the microsecond."""
    return b'{"ts":"%s","msg":"m"}' % iso(stamp).encode()


def _verdict(action: IndexAction) -> tuple[str, str]:
    return action.index, action.outside_window


def test_the_kafka_ms_is_the_kafka_time() -> None:
    action = _index(_dated(KAFKA - timedelta(days=30)))
    assert action.doc["kafka"]["timestamp"] == "2026-11-25T00:30:00.123000Z"


# ------------------------------------------------------------------------------ the decision


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), -timedelta(days=7), timedelta(days=1), -timedelta(days=3), US, -US],
)
def test_inside_the_window_bounds_included_the_event_time_decides(offset: timedelta) -> None:
    action = _index(_dated(KAFKA + offset))
    assert _verdict(action) == (f"edgewatch-logs-{KAFKA + offset:%Y.%m.%d}", INSIDE)
    assert action.doc["@timestamp"] == iso(KAFKA + offset)
    assert "timestamp" not in action.doc["kafka"]


def test_a_microsecond_outside_it_the_kafka_time_decides() -> None:
    kafka_day = "edgewatch-logs-2026.11.25"
    assert _verdict(_index(_dated(KAFKA - timedelta(days=7) - US))) == (kafka_day, BEHIND)
    assert _verdict(_index(_dated(KAFKA + timedelta(days=1) + US))) == (kafka_day, AHEAD)


def test_the_ends_of_the_calendar_are_compared_without_overflow() -> None:
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    last_ms = int((last - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    wide: dict[str, Any] = {
        "index_time_window_back_s": CENTURY_S,
        "index_time_window_ahead_s": CENTURY_S,
    }
    behind = _index(_dated(first), last_ms, **wide)
    assert _verdict(behind) == ("edgewatch-logs-9999.12.31", BEHIND)
    assert behind.doc["kafka"]["timestamp"] == iso(last)
    # Ingested at the calendar's end, so that a line dated there is believed.
    ahead = _index(_dated(last), 1, received=last, **wide)  # the Kafka time 1 ms after the epoch
    assert _verdict(ahead) == ("edgewatch-logs-1970.01.01", AHEAD)
    day_before = _index(_dated(last), last_ms - 86_400_000, received=last, **wide)
    assert _verdict(day_before) == ("edgewatch-logs-9999.12.31", INSIDE)


def test_without_a_kafka_time_there_is_no_window() -> None:
    action = _index(_dated(datetime(1970, 1, 1, tzinfo=UTC)), kafka_ms=None)
    assert _verdict(action) == ("edgewatch-logs-1970.01.01", INSIDE)


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


@pytest.mark.parametrize(
    ("line", "stamp", "side"),
    [
        (b'{"ts":"1970-01-01T00:00:00Z","msg":"m"}', "1970-01-01T00:00:00.000000Z", BEHIND),
        (b"<13>1 2026-11-17T00:30:00.122999Z h a - - - m", "2026-11-17T00:30:00.122999Z", BEHIND),
    ],
)
def test_a_line_dated_outside_the_window_goes_to_the_kafka_day(
    line: bytes, stamp: str, side: str
) -> None:
    action = _index(line)
    assert action.index == "edgewatch-logs-2026.11.25"
    assert action.outside_window == side
    assert action.doc["@timestamp"] == stamp  # as the line says
    assert action.doc["kafka"]["timestamp"] == iso(KAFKA)  # what named the index


@pytest.mark.parametrize(
    "line", [b"ts=9999-12-31T23:59:59Z level=info msg=m", b"2026-11-26 00:30:00.124 ERROR m"]
)
def test_a_line_dated_more_than_a_day_ahead_is_not_believed(line: bytes) -> None:
    """Beyond the default window's ahead side lies the bound every line's time is held to: a
    day after its receive time. The document's time is then the Kafka time, tagged."""
    action = _index(line)
    assert (action.index, action.outside_window) == ("edgewatch-logs-2026.11.25", AHEAD)
    assert action.doc["@timestamp"] == iso(KAFKA)
    assert action.doc["tags"] == ["timestamp_in_future"]


def test_a_narrower_ahead_side_still_keeps_the_lines_time() -> None:
    action = _index(b"2026-11-25 02:30:00 ERROR m", index_time_window_ahead_s=3600)
    assert (action.index, action.outside_window) == ("edgewatch-logs-2026.11.25", AHEAD)
    assert action.doc["@timestamp"] == "2026-11-25T02:30:00.000000Z"
    assert action.doc["kafka"]["timestamp"] == iso(KAFKA)


@pytest.mark.parametrize(
    ("line", "index"),
    [
        (b'{"ts":"2026-11-18T00:30:00.123Z","msg":"m"}', "edgewatch-logs-2026.11.18"),
        (b'{"ts":"2026-11-24T23:00:00Z","msg":"m"}', "edgewatch-logs-2026.11.24"),
        (b'{"ts":"2026-11-26T00:30:00.123Z","msg":"m"}', "edgewatch-logs-2026.11.26"),
    ],
)
def test_a_line_dated_inside_it_goes_to_its_own_day(line: bytes, index: str) -> None:
    action = _index(line)
    assert (action.index, action.outside_window) == (index, INSIDE)
    assert "timestamp" not in action.doc["kafka"]


def test_the_shippers_time_is_held_to_the_window_too() -> None:
    shipped = wrap(
        b"no time in this line", "filebeat", "edge-2", "/x", datetime(9999, 1, 1, tzinfo=UTC)
    )
    action = _index(shipped)
    assert action.index == "edgewatch-logs-2026.11.25"
    assert action.doc["@timestamp"] == "9999-01-01T00:00:00.000000Z"


def test_the_window_is_configurable() -> None:
    line = b'{"ts":"2026-11-24T22:30:00Z","msg":"two hours before its Kafka time"}'
    assert _index(line).index == "edgewatch-logs-2026.11.24"
    narrow = _index(line, index_time_window_back_s=3600)
    assert (narrow.index, narrow.outside_window) == ("edgewatch-logs-2026.11.25", BEHIND)


def test_data_streams_are_not_dated_and_not_affected() -> None:
    action = _index(b'{"ts":"1970-01-01T00:00:00Z","msg":"m"}', index_mode="data_stream")
    assert (action.index, action.outside_window) == ("logs-edge-default", INSIDE)
    assert "timestamp" not in action.doc["kafka"]


def test_a_message_without_a_kafka_timestamp_keeps_its_event_day() -> None:
    action = _index(b'{"ts":"2020-02-29T12:00:00Z","msg":"m"}', kafka_ms=None)
    assert (action.index, action.outside_window) == ("edgewatch-logs-2020.02.29", INSIDE)
