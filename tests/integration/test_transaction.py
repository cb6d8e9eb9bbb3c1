"""The dead-letter transaction (pipeline/ingest/transaction.py) against the real broker: what
exactly-once dead letters rest on.

- A commit writes its letters and its offsets together, and a read_committed reader sees both.
- A member that lost its partitions (a zombie: its group generation is gone) cannot commit:
  the transaction is refused as a whole and none of its letters is ever visible (KIP-447).
- Letters too large for the dead-letter topic are cut, and only they, even when the broker
  refused them in one record batch with small ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest.actions import DeadLetter, Origin
from pipeline.ingest.deadletter import read_headers
from pipeline.ingest.offsets import Release
from pipeline.ingest.transaction import CommitFailedError, Transactions

pytestmark = pytest.mark.integration


@pytest.fixture
def source(kafka_admin: AdminClient, unique_name: str) -> Iterator[str]:
    """A one-partition topic and its dead-letter topic, which takes at most 200 kB."""
    dlq = NewTopic(f"{unique_name}.dlq", num_partitions=1, config={"max.message.bytes": "200000"})
    for future in kafka_admin.create_topics([NewTopic(unique_name, 1), dlq]).values():
        future.result(30)
    yield unique_name
    kafka_admin.delete_topics([unique_name, f"{unique_name}.dlq"])


def member(config: Config, group: str, topic: str) -> Consumer:
    """A consumer that has joined `group` and holds `topic`'s partition."""
    consumer = kafka_client.consumer(
        config.kafka, group, **{"partition.assignment.strategy": "cooperative-sticky"}
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(0.2)
    assert consumer.assignment(), "the consumer never got its partition"
    return consumer


def transactions(config: Config, group: str) -> Transactions:
    return Transactions(
        lambda extra: kafka_client.producer(config.kafka, **{"linger.ms": 20, **extra}),
        f"{group}.test",
        dlq_suffix=".dlq",
        closing=threading.Event(),
    )


def letter(topic: str, offset: int, size: int = 100) -> DeadLetter:
    return DeadLetter(
        Origin(topic, 0, offset, None, b"edge-1"), b"x" * size, "parse", "json.invalid"
    )


def letters_in(config: Config, dlq: str) -> list[tuple[int, int, str | None]]:
    """(offset, size, truncated_from) of every committed letter, read as read_committed."""
    reader = kafka_client.consumer(
        config.kafka,
        f"{dlq}-reader",
        **{"isolation.level": "read_committed", "enable.partition.eof": True},
    )
    reader.assign([TopicPartition(dlq, 0, OFFSET_BEGINNING)])
    out: list[tuple[int, int, str | None]] = []
    try:
        while True:
            msg = reader.poll(10)
            assert msg is not None, f"no end-of-partition event from {dlq}"
            error = msg.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error
                return out
            h = read_headers(msg)
            out.append(
                (
                    int(h["edgewatch.offset"]),
                    len(msg.value() or b""),
                    h.get("edgewatch.truncated_from"),
                )
            )
    finally:
        reader.close()


def committed(config: Config, group: str, topic: str) -> int:
    reader = kafka_client.consumer(config.kafka, group)
    try:
        (tp,) = reader.committed([TopicPartition(topic, 0)], timeout=10)
        return int(tp.offset)
    finally:
        reader.close()


def test_letters_and_offsets_are_committed_together(config: Config, source: str) -> None:
    group = f"{source}-g"
    consumer = member(config, group, source)
    try:
        txns = transactions(config, group)
        txns.commit(
            Release({(source, 0): 5}, [letter(source, 1), letter(source, 3)]),
            consumer.consumer_group_metadata(),
        )
        assert [x[0] for x in letters_in(config, f"{source}.dlq")] == [1, 3]
        assert committed(config, group, source) == 5
    finally:
        consumer.close()


def test_a_zombie_member_cannot_commit_and_none_of_its_letters_is_seen(
    config: Config, source: str
) -> None:
    """A member whose generation ended (here: it left and another took the partition) holds
    a stale group metadata; its transaction must fail as a whole."""
    group = f"{source}-g"
    zombie = member(config, group, source)
    stale = zombie.consumer_group_metadata()
    zombie.close()  # leaves the group: its generation is over
    heir = member(config, group, source)
    try:
        txns = transactions(config, group)
        with pytest.raises(CommitFailedError):
            txns.commit(Release({(source, 0): 9}, [letter(source, 7)]), stale)
        assert letters_in(config, f"{source}.dlq") == []
        assert committed(config, group, source) < 0  # nothing committed
        # The heir commits the same message's letter: the only one there is.
        txns.commit(Release({(source, 0): 9}, [letter(source, 7)]), heir.consumer_group_metadata())
        assert [x[0] for x in letters_in(config, f"{source}.dlq")] == [7]
    finally:
        heir.close()


def test_only_the_letters_too_large_for_the_topic_are_cut(config: Config, source: str) -> None:
    group = f"{source}-g"
    consumer = member(config, group, source)
    try:
        big = {3, 9, 15}
        release = Release(
            {(source, 0): 20},
            [letter(source, i, 300_000 if i in big else 100) for i in range(20)],
        )
        transactions(config, group).commit(release, consumer.consumer_group_metadata())
        seen = letters_in(config, f"{source}.dlq")
        assert [x[0] for x in seen] == list(range(20))  # each once, in order
        cut = {offset: (size, was) for offset, size, was in seen if was is not None}
        assert set(cut) == big
        assert all(size <= 200_000 and was == "300000" for size, was in cut.values())
        assert all(size == 100 for offset, size, was in seen if offset not in big)
    finally:
        consumer.close()
