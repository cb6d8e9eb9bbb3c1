"""Dated indices from hostile timestamps (docs/security.md): whoever writes log lines
chooses their dates, and must not choose which indices exist.

2,000 lines dated anywhere from 1970 to 9999, in every line format and shipper envelope,
go through the real ingest service into the local Kafka and Elasticsearch. They land in the
index of the day Kafka received them (at most 3 indices: the run may cross midnight), keep the date
they claim as `@timestamp`, carry the Kafka timestamp that named their index, and are
counted by side in the metric.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch
from prometheus_client import Counter

from pipeline.config import Config
from pipeline.ingest.ship import wrap
from tests.fixtures.ingest import count, produce, run_ingest

pytestmark = pytest.mark.integration

LINES = 2000
FIRST = datetime(1970, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
ENVELOPES = ("raw", "filebeat", "fluentbit", "vector")

# One line per format that reads a date from the line, each given the date it claims.
FORMATS: tuple[Callable[[datetime, int], bytes], ...] = (
    lambda t, i: (
        b'{"ts":"%s","level":"info","msg":"hostile %d"}'
        % (t.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), i)
    ),
    lambda t, i: b'ts=%s level=warn msg="hostile %d"' % (t.isoformat().encode(), i),
    lambda t, i: (
        b"<13>1 %s edge-9 pumpd - - - hostile %d" % (t.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), i)
    ),
    lambda t, i: b"%s ERROR hostile %d" % (t.strftime("%Y-%m-%d %H:%M:%S").encode(), i),
    lambda t, i: (
        b'10.0.0.1 - - [%s] "GET /hostile/%d HTTP/1.1" 200 5 "-" "x"'
        % (t.strftime("%d/%b/%Y:%H:%M:%S +0000").encode(), i)
    ),
    lambda t, i: b"%s stdout F hostile %d" % (t.strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode(), i),
)


def _hostile_dates(now: datetime, rng: random.Random) -> list[datetime]:
    """Both ends of the range, then half the dates spread over the past since 1970, half
    over the future until 9999; none within 10 days of `now` (those would rightly name
    their own day's index)."""
    dates = [FIRST, LAST]
    margin = timedelta(days=10)
    past = int((now - margin - FIRST).total_seconds())
    future = int((LAST - now - margin).total_seconds())
    while len(dates) < LINES:
        if len(dates) % 2:
            dates.append(FIRST + timedelta(seconds=rng.randrange(past)))
        else:
            dates.append(LAST - timedelta(seconds=rng.randrange(future)))
    return dates


def _messages(dates: list[datetime], rng: random.Random) -> list[bytes]:
    """Each date in a line of some format in some envelope; one in ten given by the
    shipper instead, for a line without a date."""
    values = []
    for i, date in enumerate(dates):
        envelope = ENVELOPES[i % len(ENVELOPES)]
        if envelope != "raw" and rng.random() < 0.1:
            values.append(wrap(b"hostile %d, no date" % i, envelope, "edge-3", "/x", date))
        else:
            line = FORMATS[i % len(FORMATS)](date, i)
            values.append(wrap(line, envelope, "edge-3", "/var/log/app.log", date))
    return values


def _by(label: str, counter: Counter) -> dict[str, float]:
    """A counter's totals by one label."""
    totals: dict[str, float] = {}
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = sample.labels[label]
                totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def test_2000_lines_dated_1970_to_9999_land_in_at_most_3_indices(
    ingest_config: Config, es: Elasticsearch, topic: str
) -> None:
    cfg = ingest_config
    rng = random.Random(19709999)
    received_from = datetime.now(UTC)
    dates = _hostile_dates(received_from, rng)
    produce(cfg, topic, _messages(dates, rng))
    received_to = datetime.now(UTC)
    service = run_ingest(cfg, topic)

    assert count(es, cfg) == LINES  # every line indexed, none lost to the defence
    prefix = cfg.ingest.index_prefix
    indices = set(es.indices.get(index=f"{prefix}-*"))
    # Only the days Kafka received the lines on: the run may cross midnight (UTC).
    kafka_days = {f"{prefix}-{day:%Y.%m.%d}" for day in (received_from, received_to)}
    assert len(indices) <= 3
    assert indices <= kafka_days, indices - kafka_days

    # A document dated in the past kept its claimed time and says what named its index
    # instead. A line dated more than a day after its ingest is not believed: tagged, its
    # time the receive time (the shipper's, here as hostile as the line's, or Kafka's).
    es.indices.refresh(index=f"{prefix}-*")
    marked = {"exists": {"field": "kafka.timestamp"}}
    tagged = {"term": {"tags": "timestamp_in_future"}}
    either = {"bool": {"should": [marked, tagged]}}
    assert es.count(index=f"{prefix}-*", query=either)["count"] == LINES
    assert es.count(index=f"{prefix}-*", query=tagged)["count"] > 0.4 * LINES
    stamp = FIRST.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    hits = es.search(index=f"{prefix}-*", query={"term": {"@timestamp": stamp}})["hits"]
    assert hits["total"]["value"] >= 1, stamp
    for hit in hits["hits"]:
        assert hit["_index"] in kafka_days
        assert hit["_source"]["@timestamp"] == stamp
        kafka_time = datetime.fromisoformat(hit["_source"]["kafka"]["timestamp"])
        assert received_from - timedelta(seconds=1) <= kafka_time <= received_to
    # Whatever is dated ahead names no index of its own, and says so.
    future = {"range": {"@timestamp": {"gt": received_to + timedelta(days=1)}}}
    unmarked = {"bool": {"filter": [future], "must_not": [marked]}}
    assert es.count(index=f"{prefix}-*", query=unmarked)["count"] == 0

    # Counted, by side.
    sides = _by("side", service.metrics.outside_window)
    assert sum(sides.values()) == LINES
    assert sides["behind"] > 0.3 * LINES and sides["ahead"] > 0.3 * LINES, sides
