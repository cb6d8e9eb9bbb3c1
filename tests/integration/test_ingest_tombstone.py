"""A tombstone read by the ingest service, against the real Kafka broker and Elasticsearch:
its dead letter is a tombstone too (null value, the original key), beside an empty value
whose dead letter keeps its zero bytes, and the good messages around both are indexed."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from elasticsearch import Elasticsearch

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest.deadletter import read_headers
from tests.fixtures.ingest import consume_all, count, run_ingest

# The details the core writes (native/src/poll.rs), which tell the two apart.
TOMBSTONE_DETAIL = "tombstone: the message value is null"
EMPTY_DETAIL = "the message value is empty (0 bytes)"


def test_a_tombstone_is_dead_lettered_as_a_tombstone_and_its_neighbours_are_indexed(
    ingest_config: Config, es: Elasticsearch, kafka_admin: AdminClient, unique_name: str
) -> None:
    topic = unique_name
    kafka_admin.create_topics([NewTopic(topic, num_partitions=1)])[topic].result(30)
    try:
        sent: list[tuple[bytes | None, bytes]] = [
            (b"good line before", b"edge-1"),
            (None, b"edge-7"),  # the tombstone
            (b"", b"edge-8"),  # an empty value: not the same thing
            (b'{"level":"info","msg":"good line after"}', b"edge-1"),
        ]
        producer = kafka_client.producer(ingest_config.kafka, **{"linger.ms": 5})
        for value, key in sent:
            producer.produce(topic, value=value, key=key)
        assert producer.flush(30) == 0

        service = run_ingest(ingest_config, topic)

        assert count(es, ingest_config) == 2  # the good lines on either side
        letters = consume_all(ingest_config, f"{topic}.dlq", expected=2)
        assert len(letters) == 2
        by_offset = {int(read_headers(m)["edgewatch.offset"]): m for m in letters}
        assert sorted(by_offset) == [1, 2]

        tombstone = by_offset[1]
        assert tombstone.value() is None  # null, as it came: not b""
        assert tombstone.key() == b"edge-7"
        assert read_headers(tombstone) == {
            "edgewatch.stage": "decode",
            "edgewatch.reason": "empty",
            "edgewatch.detail": TOMBSTONE_DETAIL,
            "edgewatch.topic": topic,
            "edgewatch.partition": "0",
            "edgewatch.offset": "1",
            "edgewatch.time": read_headers(tombstone)["edgewatch.time"],
        }
        assert read_headers(tombstone)["edgewatch.time"].endswith("Z")

        empty = by_offset[2]
        assert empty.value() == b""
        assert empty.key() == b"edge-8"
        assert read_headers(empty)["edgewatch.reason"] == "empty"
        assert read_headers(empty)["edgewatch.detail"] == EMPTY_DETAIL

        dead = {
            (s.labels["stage"], s.labels["reason"]): s.value
            for m in service.metrics.dead_lettered.collect()
            for s in m.samples
            if s.name.endswith("_total")
        }
        assert dead == {("decode", "empty"): 2}
    finally:
        kafka_admin.delete_topics([topic, f"{topic}.dlq"])
