"""The ingest status document against the real Kafka broker and Elasticsearch node: behind
while a backlog is read, caught up after it, and a status index that refuses writes does not
stop the logs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.telemetry import total
from tests.fixtures.ingest import count, ingesting, produce, with_ingest

MEMBER = "status-test-0"


@pytest.fixture
def status_config(ingest_config: Config, es: Elasticsearch, unique_name: str) -> Iterator[Config]:
    """The test's ingest config writing its status to an index of its own, a static member
    (its status id is known), deleted afterwards with its template."""
    index = f"{unique_name}.status"
    yield with_ingest(ingest_config, status_index=index, instance_id=MEMBER)
    quiet = es.options(ignore_status=404)
    quiet.indices.delete(index=index)
    quiet.indices.delete_index_template(name=index)


def _status(es: Elasticsearch, cfg: Config) -> dict[str, Any] | None:
    found = es.options(ignore_status=404).get(index=cfg.ingest.status_index, id=f"ingest/{MEMBER}")
    return dict(found["_source"]) if found.meta.status == 200 else None


def _wait_for(what: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.5)
    return what()


def _age_s(stamp: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()


def test_a_backlog_shows_as_behind_then_caught_up(
    status_config: Config, es: Elasticsearch, topic: str
) -> None:
    # A backlog written ten minutes ago: until it is read, ingest is that far behind.
    ten_min_ago = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000)
    producer = kafka_client.producer(status_config.kafka, **{"linger.ms": 5})
    for i in range(6000):
        producer.produce(topic, value=b"INFO old line %d" % i, key=b"edge-1", timestamp=ten_min_ago)
    assert producer.flush(30) == 0
    # One document per bulk request, one request at a time: the backlog lasts past the first
    # status (10 s in).
    slow = with_ingest(status_config, bulk_max_docs=1, bulk_concurrency=1)
    with ingesting(slow, topic):
        behind = _wait_for(lambda: _status(es, slow), 25)
    assert behind is not None, "no status document within 25 s"
    assert behind["kind"] == "ingest"
    assert (behind["member"], behind["group"]) == (MEMBER, slow.ingest.group)
    assert behind["lag"] > 0
    assert behind["behind_s"] > 500  # the lines are ten minutes old
    assert behind["caught_up"] is False
    (entry,) = behind["topics"]
    assert entry["topic"] == topic and entry["lag"] == behind["lag"]
    assert entry["behind_s"] == behind["behind_s"]
    assert abs(_age_s(entry["last_kafka_time"]) - 600) < 60

    # At full speed it catches up, and says so.
    with ingesting(status_config, topic):
        caught_up = _wait_for(
            lambda: (s := _status(es, status_config)) and s["caught_up"] and s["lag"] == 0 and s,
            40,
        )
    assert caught_up, f"not caught up: {_status(es, status_config)}"
    assert _age_s(caught_up["@timestamp"]) < 30
    assert caught_up["behind_s"] == 0
    assert [t["topic"] for t in caught_up["topics"]] == [topic]
    assert caught_up["topics"][0]["lag"] == 0
    assert count(es, status_config) == 6000


def test_a_status_index_refusing_writes_does_not_stop_ingest(
    status_config: Config, es: Elasticsearch, topic: str
) -> None:
    index = status_config.ingest.status_index
    es.indices.create(index=index, settings={"index.blocks.write": True})
    produce(status_config, topic, [b"ERROR before %d" % i for i in range(50)])
    with ingesting(status_config, topic) as service:
        refused = _wait_for(lambda: total(service.metrics.status_write_failures) > 0, 25)
        assert refused, "the refused status write was not counted"
        produce(status_config, topic, [b"ERROR after %d" % i for i in range(50)])
        assert _wait_for(lambda: count(es, status_config) == 100, 30)
    assert _status(es, status_config) is None
