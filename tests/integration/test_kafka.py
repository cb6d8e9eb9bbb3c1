"""Produce to and consume back from the real Kafka broker."""

from __future__ import annotations

import time

from confluent_kafka import TopicPartition

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config


def test_produce_then_consume_back_with_keys_headers_and_commits(
    config: Config, topic: str
) -> None:
    producer = kafka_client.producer(config.kafka)
    sent = {f"line {i}".encode(): f"host-{i % 4}".encode() for i in range(200)}
    for line, host in sent.items():
        producer.produce(topic, value=line, key=host, headers=[("shipper", b"raw")])
    assert producer.flush(30) == 0, "messages left undelivered after 30 s"

    consumer = kafka_client.consumer(config.kafka, f"{topic}-group")
    consumer.subscribe([topic])
    received: dict[bytes, bytes] = {}
    per_partition: dict[int, list[int]] = {}
    deadline = time.monotonic() + 60
    try:
        while len(received) < len(sent) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            got, key, partition, offset = msg.value(), msg.key(), msg.partition(), msg.offset()
            assert got is not None and key is not None
            assert partition is not None and offset is not None
            assert msg.headers() == [("shipper", b"raw")]
            received[got] = key
            per_partition.setdefault(partition, []).append(offset)
        consumer.commit(asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
    finally:
        consumer.close()

    assert received == sent
    # The same key always lands on the same partition, and offsets arrive in order.
    assert all(offsets == sorted(offsets) for offsets in per_partition.values())
    assert sum(tp.offset for tp in committed) == len(sent)
