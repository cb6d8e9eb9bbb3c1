"""`--exit-when-idle` against the real broker: it exits 0 only once every assigned partition
is read to its end, and gives up with exit 2 and the reason when that cannot be known."""

from __future__ import annotations

import logging
import re
import time

import pytest
from elasticsearch import Elasticsearch

from pipeline.config import Config
from pipeline.ingest.service import EXIT_GAVE_UP, IngestOptions, IngestService
from pipeline.telemetry import total
from tests.fixtures.ingest import count, produce, run_ingest, with_ingest


def test_a_topic_that_does_not_exist_is_waited_for_then_given_up_with_the_reason(
    ingest_config: Config, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = with_ingest(ingest_config, idle_exit_wait_s=4.0)
    service = IngestService(
        cfg, IngestOptions(topics=(f"{unique_name}-absent",), exit_when_idle=1.0, http_port=0)
    )
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="edgewatch.ingest"):
        assert service.run() == EXIT_GAVE_UP
    assert time.monotonic() - started >= 4.0
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "giving up after waiting 4 s" in record.getMessage()
    # What librdkafka last reported: the topic not found, or the group still joining.
    assert re.search(r"kafka: .*do the (subscribed )?topics exist\?", record.getMessage())


def test_a_second_run_over_a_topic_already_read_exits_at_once(
    ingest_config: Config, topic: str, es: Elasticsearch
) -> None:
    """Nothing is read in the second run, so the consumer has no position of its own: the
    group's committed offsets say it is at the end."""
    produce(ingest_config, topic, [f"line {i}".encode() for i in range(30)])
    run_ingest(ingest_config, topic, idle=1.0)
    assert count(es, ingest_config) == 30
    started = time.monotonic()
    again = run_ingest(ingest_config, topic, idle=1.0)
    assert time.monotonic() - started < 30
    assert total(again.metrics.consumed) == 0  # nothing read twice
    assert count(es, ingest_config) == 30
