"""A tombstone (a Kafka message whose value is null) becomes a dead letter that is a tombstone
too: null value, the original key, reason `empty` like a zero-length value, told apart by
the detail. docs/ingest.md: the dead letter's value is the original message byte for byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.actions import DeadLetter, Origin
from pipeline.ingest.deadletter import headers
from pipeline.ingest.transform import transform

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ORIGIN = Origin("edge.logs", 2, 41, int(NOW.timestamp() * 1000), b"edge-7")
# The details the core writes (native/src/poll.rs), which tell the two apart.
TOMBSTONE_DETAIL = "tombstone: the message value is null"
EMPTY_DETAIL = "the message value is empty (0 bytes)"


def test_a_tombstone_is_dead_lettered_with_a_null_value_not_an_empty_one() -> None:
    action = transform(None, ORIGIN, IngestConfig(), TopicConfig(), NOW)
    assert isinstance(action, DeadLetter)
    assert action.value is None
    assert action.origin.key == b"edge-7"  # the dead letter's key
    assert (action.stage, action.reason, action.detail) == ("decode", "empty", TOMBSTONE_DETAIL)
    assert action.size == 0
    assert action.original_size is None


def test_a_zero_length_value_keeps_its_empty_bytes_and_the_same_reason() -> None:
    action = transform(b"", ORIGIN, IngestConfig(), TopicConfig(), NOW)
    assert isinstance(action, DeadLetter)
    assert action.value == b""
    assert (action.stage, action.reason, action.detail) == ("decode", "empty", EMPTY_DETAIL)
    assert action.size == 0


@pytest.mark.parametrize(
    "topic",
    [TopicConfig(envelope="filebeat"), TopicConfig(format="json"), TopicConfig(envelope="raw")],
)
def test_a_tombstone_is_refused_before_any_envelope_or_format_is_looked_at(
    topic: TopicConfig,
) -> None:
    action = transform(None, ORIGIN, IngestConfig(max_message_bytes=1), topic, NOW)
    assert isinstance(action, DeadLetter)
    assert (action.value, action.reason) == (None, "empty")  # not "oversized", not the envelope


def test_size_is_the_value_length() -> None:
    letter = DeadLetter(ORIGIN, b"abc", "parse", "json.invalid")
    assert letter.size == 3
    assert replace(letter, value=None).size == 0


def test_a_tombstone_dead_letter_has_the_usual_headers() -> None:
    letter = transform(None, ORIGIN, IngestConfig(), TopicConfig(), NOW)
    assert isinstance(letter, DeadLetter)
    got = dict(headers(letter, NOW))
    assert got == {
        "edgewatch.stage": b"decode",
        "edgewatch.reason": b"empty",
        "edgewatch.topic": b"edge.logs",
        "edgewatch.partition": b"2",
        "edgewatch.offset": b"41",
        "edgewatch.time": b"2026-11-25T12:00:00.000000Z",
        "edgewatch.detail": TOMBSTONE_DETAIL.encode(),
    }
