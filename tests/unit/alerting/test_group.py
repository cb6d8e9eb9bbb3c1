"""AlertGroup's bookkeeping of its callbacks, without a broker (pipeline/alerting/group.py)."""

from __future__ import annotations

from typing import Any

from confluent_kafka import TopicPartition

from pipeline.alerting.group import AlertGroup
from pipeline.config import KafkaConfig


def test_revoked_and_lost_partitions_are_both_losses() -> None:
    changes: list[tuple[set[int], set[int]]] = []
    group = AlertGroup(
        KafkaConfig(), "state", topic="ctl", on_change=lambda g, lost: changes.append((g, lost))
    )
    consumer: Any = None  # the callbacks do not use it
    group._assigned(consumer, [TopicPartition("ctl", p) for p in range(4)])
    group._assigned(consumer, [TopicPartition("other", 9)])  # not the control topic: ignored
    group._revoked(consumer, [TopicPartition("ctl", 0)])
    group._revoked(consumer, [])  # cooperative rebalances revoke nothing too
    group._lost(consumer, [TopicPartition("ctl", 1), TopicPartition("ctl", 2)])
    assert changes == [({0, 1, 2, 3}, set()), (set(), {0}), (set(), {1, 2})]
    assert group.owned_partitions() == frozenset({3})


def test_a_failing_callback_does_not_stop_the_bookkeeping() -> None:
    def boom(gained: set[int], lost: set[int]) -> None:
        raise RuntimeError("scheduler busy")

    group = AlertGroup(KafkaConfig(), "state", topic="ctl", on_change=boom)
    group._assigned(None, [TopicPartition("ctl", 5)])  # type: ignore[arg-type]
    assert group.owned_partitions() == frozenset({5})


def test_heartbeat_a_third_of_the_session_within_one_to_three_seconds() -> None:
    for session_s, heartbeat_ms in ((6.0, 2000), (10.0, 3000), (45.0, 3000), (2.0, 1000)):
        overrides = AlertGroup(KafkaConfig(), "s", session_timeout_s=session_s)._overrides
        assert overrides["heartbeat.interval.ms"] == heartbeat_ms
        assert overrides["session.timeout.ms"] == int(session_s * 1000)
        assert overrides["partition.assignment.strategy"] == "cooperative-sticky"
        assert overrides["enable.auto.commit"] is False
