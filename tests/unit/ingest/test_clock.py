"""Each host's clock error: the core's per-poll samples (the newest line's offset from its
receive time, per host) and the median over a window that a backfill cannot move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Message

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest import _native
from pipeline.ingest.actions import iso
from pipeline.ingest.clock import ClockSkew, beyond
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.transform import core_settings

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MS = int(RECEIVED.timestamp() * 1000)


def _message(offset: int, line: str) -> Message:
    return Message(
        topic="edge.logs", partition=0, offset=offset, value=line.encode(), timestamp=(1, MS)
    )


def _samples(lines: list[str]) -> list[tuple[str, int]]:
    intake = _native.Intake()
    intake.route("edge.logs", core_settings(IngestConfig(), TopicConfig()))
    poll = [_message(i, line) for i, line in enumerate(lines)]
    run, *_ = intake.take(poll, 0, iso(RECEIVED), 1 << 20, 1 << 62, {}, {}, {})
    return sorted(run.clock_offsets())


def test_the_core_samples_each_hosts_newest_line() -> None:
    lines = [
        # edge-07 backfills an hour, its newest line two seconds old
        "<13>1 2026-12-07T11:00:00Z edge-07 app - - - old",
        "<13>1 2026-12-07T11:59:58Z edge-07 app - - - new",
        # edge-08's clock is ten minutes ahead, and days ahead on one line (not believed
        # as its @timestamp, still a sample of its clock)
        "<13>1 2026-12-07T12:10:00Z edge-08 app - - - ahead",
        "<13>1 2026-12-09T12:00:00Z edge-09 app - - - days ahead",
        # no time of its own: no sample
        '{"host": "edge-10", "msg": "no time"}',
    ]
    assert _samples(lines) == [
        ("edge-07", -2_000_000),
        ("edge-08", 600_000_000),
        ("edge-09", 2 * 86_400_000_000),
    ]


def test_a_backfill_does_not_move_the_estimate() -> None:
    clocks = ClockSkew(window=31)
    for _ in range(28):
        clocks.observe([("edge-07", -1_500_000), ("edge-08", 600_000_000)])
    for _ in range(3):  # three polls that are all backlog: an hour old
        clocks.observe([("edge-07", -3_600_000_000)])
    assert clocks.offset("edge-07") == pytest.approx(-1.5)
    assert clocks.offset("edge-08") == pytest.approx(600)
    assert clocks.offset("edge-99") is None
    assert beyond(clocks.ranked(), 120) == [("edge-08", 600.0)]
    assert clocks.ranked()[:1] == [("edge-08", 600.0)]


def test_the_hosts_kept_are_bounded() -> None:
    clocks = ClockSkew(max_hosts=3)
    for host in ["a", "b", "c", "a", "d"]:  # "b" is the least recently seen when "d" comes
        clocks.observe([(host, 0)])
    assert len(clocks) == 3
    assert clocks.offset("b") is None
    assert clocks.offset("a") == 0


def test_metrics_show_the_top_hosts_only() -> None:
    clocks = ClockSkew()
    clocks.observe([(f"edge-{i:02}", i * 60_000_000) for i in range(30)])
    metrics = IngestMetrics()
    metrics.publish_clocks(clocks, IngestConfig(clock_hosts_shown=5, clock_drift_bound_s=600))
    shown = {s.labels["host"]: s.value for s in next(iter(metrics.clock_offset.collect())).samples}
    assert shown == {f"edge-{i:02}": i * 60.0 for i in range(25, 30)}
    assert metrics.clocks_drifting._value.get() == 19  # 11 min .. 29 min ahead
    assert timedelta(seconds=shown["edge-29"]) == timedelta(minutes=29)
