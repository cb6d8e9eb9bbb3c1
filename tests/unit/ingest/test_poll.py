"""A whole poll through the native core (`_native.Intake.take`) ends as each of its messages
would one at a time (`transform.Transformer`, a poll of one): the same entries and dead
letters, Kafka errors by position, a topic not routed yet stopping the call until it is,
every offset and count recorded once, a batch's size kept.

And `runs.expand` turns a run back into the actions the one-at-a-time path makes, for the
batches Elasticsearch answers with errors.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest import _native
from pipeline.ingest.actions import DeadLetter, IndexAction, iso, origin_of
from pipeline.ingest.runs import expand, per_topic
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import Transformer, core_settings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CONFIG = IngestConfig(max_message_bytes=4096)
TOPICS = {
    "edge.logs": TopicConfig(),
    "pumps": TopicConfig(dataset="pumps", envelope="filebeat"),
}
UNBOUNDED = 1 << 62


def _intake() -> _native.Intake:
    intake = _native.Intake()
    for name, topic in TOPICS.items():
        intake.route(name, core_settings(CONFIG, topic))
    intake.skip("edge.logs.dlq")
    return intake


def _poll(corpus: Path, count: int, seed: int) -> list[Message]:
    """Messages as one consume() returns them: several topics and partitions, envelopes of
    every kind, broken and empty and oversized values, a Kafka error."""
    rng = random.Random(seed)
    lines = [
        line
        for file in sorted((corpus / "formats").rglob("*"))
        if file.is_file()
        for line in file.read_bytes().splitlines()
    ]
    offsets: dict[tuple[str, int], int] = {}
    poll = []
    for _ in range(count):
        topic = rng.choice(["edge.logs", "edge.logs", "pumps", "edge.logs.dlq", "unrouted"])
        partition = rng.randrange(3)
        offset = offsets[(topic, partition)] = offsets.get((topic, partition), 100) + 1
        envelope = "filebeat" if topic == "pumps" else rng.choice(["raw", "fluentbit", "vector"])
        value: bytes | None = wrap(rng.choice(lines), envelope, "edge-07", "/var/log/x", NOW)
        odd = rng.randrange(40)
        if odd == 0:
            value = None
        elif odd == 1:
            value = b"{" + (value or b"")  # broken JSON
        elif odd == 2:
            value = b"x" * 5000  # oversized
        elif odd == 3:
            poll.append(Message(topic=topic, partition=partition, error=_eof()))
            continue
        poll.append(
            Message(
                topic=topic,
                partition=partition,
                offset=offset,
                key=rng.choice([b"edge-07", None]),
                value=value,
                timestamp=(1, 1764064800123),
            )
        )
    return poll


def _eof() -> KafkaError:
    return KafkaError(KafkaError._PARTITION_EOF)


_ONE_AT_A_TIME = {name: Transformer(CONFIG, topic) for name, topic in TOPICS.items()}
_DEFAULT = Transformer(CONFIG, TopicConfig())


def _one_at_a_time(message: Message) -> Any:
    """What the per-message path makes of a message (None: it is not transformed)."""
    topic = message.topic() or ""
    if message.error() is not None or topic == "edge.logs.dlq":
        return None
    return _ONE_AT_A_TIME.get(topic, _DEFAULT)(message.value(), origin_of(message), NOW)


def _take_all(
    intake: _native.Intake, poll: list[Message], budget: int
) -> tuple[list[Any], list[Any], list[int], Any]:
    runs, letters, errors = [], [], []
    last_offsets: dict[tuple[str, int], int] = {}
    consumed: dict[str, int] = {}
    outside: dict[tuple[str, str], int] = {}
    start = 0
    while start < len(poll):
        run, dead, more, after, unrouted = intake.take(
            poll,
            start,
            iso(NOW),
            CONFIG.max_message_bytes,
            budget,
            last_offsets,
            consumed,
            outside,
        )
        assert after > start or unrouted is not None  # progress, or a topic to route first
        assert all(start <= i < after for i in more)
        assert all(start <= i < after for i, *_ in dead)
        runs.append(run)
        letters.extend(dead)
        errors.extend(more)
        if unrouted is not None:
            # As the service does: route the topic (here with default settings), go on.
            assert unrouted == poll[after].topic() and unrouted not in TOPICS
            intake.route(unrouted, core_settings(CONFIG, TopicConfig()))
        start = after
    return runs, letters, errors, (last_offsets, consumed, outside)


@pytest.mark.parametrize("budget", [UNBOUNDED, 20_000, 0])
def test_a_poll_is_taken_as_each_message_would_be(corpus: Path, budget: int) -> None:
    poll = _poll(corpus, 600, seed=budget % 97)
    runs, letters, errors, (last_offsets, consumed, outside) = _take_all(_intake(), poll, budget)

    built = [action for run in runs for action in expand([run])]
    expected_built, expected_letters, expected_errors = [], [], []
    expected_outside: dict[tuple[str, str], int] = {}
    for position, message in enumerate(poll):
        topic = message.topic()
        one = _one_at_a_time(message)
        if isinstance(one, IndexAction):
            if one.outside_window:
                key = (one.origin.topic, one.outside_window)
                expected_outside[key] = expected_outside.get(key, 0) + 1
            # A run counts the window's verdicts per poll (above); its documents carry
            # them only in their bytes (kafka.timestamp), which are compared here.
            expected_built.append(replace(one, outside_window=""))
        elif isinstance(one, DeadLetter):
            expected_letters.append((position, one.stage, one.reason, one.detail))
        elif message.error() is not None:
            expected_errors.append(position)
        else:
            assert topic == "edge.logs.dlq" and one is None
    assert built == expected_built
    assert letters == expected_letters
    assert errors == expected_errors
    # The corpus's own dates lie all over the calendar, the Kafka timestamp on one day.
    assert outside == expected_outside
    assert sum(outside.values()) > 0.1 * len(built)
    indexed = sum(m.topic() != "edge.logs.dlq" and m.error() is None for m in poll)
    assert len(built) > 0.7 * indexed  # most lines are documents, the rest dead letters

    # Every offset but the errors', once; the last one per partition.
    good = [m for m in poll if m.error() is None]
    want_offsets: dict[Any, Any] = {}
    want_consumed: dict[Any, int] = {}
    for m in good:
        want_offsets[(m.topic(), m.partition())] = m.offset()
        want_consumed[m.topic()] = want_consumed.get(m.topic(), 0) + 1
    assert last_offsets == want_offsets
    assert consumed == want_consumed
    assert sum(per_topic(runs).values()) == len(built)
    assert per_topic(runs)["pumps"] == sum(a.origin.topic == "pumps" for a in built)


def test_a_run_stops_at_the_budget(corpus: Path) -> None:
    poll = [m for m in _poll(corpus, 300, seed=5) if m.topic() == "edge.logs"]
    intake = _intake()
    run, _letters, _errors, after, _ = intake.take(poll, 0, iso(NOW), 4096, 10_000, {}, {}, {})
    assert 0 < after < len(poll)
    # The last message taken crossed the budget; the one before it had not.
    assert len(run.entry) >= 10_000 - 5000
    whole, *_ = intake.take(poll, 0, iso(NOW), 4096, UNBOUNDED, {}, {}, {})
    assert whole.entry.startswith(run.entry)


def test_a_run_is_one_piece_of_a_bulk_body(corpus: Path) -> None:
    poll = [m for m in _poll(corpus, 200, seed=3) if m.topic() == "edge.logs"]
    run, *_ = _intake().take(poll, 0, iso(NOW), 4096, UNBOUNDED, {}, {}, {})
    actions = expand([run])
    assert run.entry == b"".join(a.entry for a in actions)
    assert len(run) == len(actions)
    assert all(a.index.startswith("edgewatch-") for a in actions)


def test_an_empty_poll_and_a_poll_of_errors() -> None:
    intake = _intake()
    run, letters, errors, after, unrouted = intake.take(
        [], 0, iso(NOW), 4096, UNBOUNDED, {}, {}, {}
    )
    assert (len(run), run.entry, letters, errors, after, unrouted) == (0, b"", [], [], 0, None)
    failed = [Message(topic="edge.logs", partition=0, error=_eof()) for _ in range(3)]
    offsets: dict[tuple[str, int], int] = {}
    run, letters, positions, after, unrouted = intake.take(
        failed, 0, iso(NOW), 4096, UNBOUNDED, offsets, {}, {}
    )
    assert (len(run), letters, positions, after, unrouted, offsets) == (
        0,
        [],
        [0, 1, 2],
        3,
        None,
        {},
    )
