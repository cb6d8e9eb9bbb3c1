"""librdkafka's reconnect log while a broker is unreachable, through ErrorWatch: a client
pointed at a closed local port logs about 19 lines a second of its own; edgewatch.kafka shows
the first, and a count of the rest at the end of each window (pipeline/clients/kafka_logs.py).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from confluent_kafka import Consumer, Producer

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config, KafkaConfig
from tests.fixtures.smtp import free_port

SUMMARY = re.compile(r"(\d+) more like this in the last ([\d.]+) s: FAIL \[.*Connection refused")


def _consumer(config: KafkaConfig, watch: kafka_client.ErrorWatch) -> Consumer:
    consumer = kafka_client.consumer(config, "edgewatch-unreachable", watch)
    consumer.subscribe(["edgewatch-unreachable"])
    return consumer


def _producer(config: KafkaConfig, watch: kafka_client.ErrorWatch) -> Producer:
    producer = kafka_client.producer(config, watch)
    producer.produce("edgewatch-unreachable", value=b"x")
    return producer


def _poll(client: Consumer | Producer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.poll(0.1)


def _kafka_lines(caplog: pytest.LogCaptureFixture, config: KafkaConfig) -> list[str]:
    """This test's client's lines: another test's watch may still log a summary now."""
    lines = (r.getMessage() for r in caplog.records if r.name == "edgewatch.kafka")
    return [line for line in lines if config.bootstrap in line]


@pytest.mark.parametrize("make", [_consumer, _producer], ids=["consumer", "producer"])
def test_an_unreachable_broker_logs_a_handful_of_lines_not_dozens(
    config: Config,
    caplog: pytest.LogCaptureFixture,
    make: Callable[[KafkaConfig, kafka_client.ErrorWatch], Consumer | Producer],
) -> None:
    closed = replace(config.kafka, bootstrap=f"127.0.0.1:{free_port()}")
    watch = kafka_client.ErrorWatch(closed)
    with caplog.at_level(logging.INFO, logger="edgewatch.kafka"):
        client = make(closed, watch)
        try:
            _poll(client, 3.0)
            shown = _kafka_lines(caplog, closed)
            watch.flush()  # as when the client goes away: the count of what was not shown
            summaries = _kafka_lines(caplog, closed)[len(shown) :]
        finally:
            if isinstance(client, Consumer):
                client.close()
            watch.flush()  # (no timer left to log into a later test)
    assert 1 <= len(shown) <= 4, shown
    assert "Connection refused" in shown[0]
    assert watch.problem is None  # an outage, not a setting
    (summary,) = summaries
    found = SUMMARY.match(summary)
    assert found, summary
    assert int(found[1]) >= 10  # librdkafka kept trying: 7 (producer) to 19 times a second
    assert 2 <= float(found[2]) <= 4


def test_while_the_outage_lasts_one_count_per_window(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    closed = replace(config.kafka, bootstrap=f"127.0.0.1:{free_port()}")
    watch = kafka_client.ErrorWatch(closed, window_s=1.0)
    with caplog.at_level(logging.INFO, logger="edgewatch.kafka"):
        consumer = _consumer(closed, watch)
        try:
            _poll(consumer, 3.5)
            watch.flush()
            lines = _kafka_lines(caplog, closed)
        finally:
            consumer.close()
            watch.flush()
    assert "Connection refused" in lines[0] and not SUMMARY.match(lines[0])
    matches = [SUMMARY.match(line) for line in lines[1:]]
    counts = [m for m in matches if m]
    # A window that passed with no repeat (reconnects late on a loaded machine) ends the
    # kind: its next line is shown again as a first line. Rare, and only that line.
    again = [line for line, m in zip(lines[1:], matches, strict=True) if not m]
    assert len(again) <= 1 and all("Connection refused" in line for line in again), lines
    assert 2 <= len(counts) <= 5, lines  # one per second, and the last part at flush
    assert sum(int(c[1]) for c in counts) >= 40
