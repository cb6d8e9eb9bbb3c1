"""Holding silence rules while ingest is behind or stopped (hold.py): the decision only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.alerting import hold

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TEN = timedelta(minutes=10)


def _status(age_s: float, behind_s: float, member: str = "ingest-a") -> dict[str, Any]:
    return {
        "@timestamp": (NOW - timedelta(seconds=age_s)).isoformat(),
        "kind": "ingest",
        "member": member,
        "behind_s": behind_s,
        "topics": [{"topic": "edge-logs", "behind_s": behind_s, "lag": 5000}],
    }


def test_threshold_from_metadata() -> None:
    assert hold.threshold({"hold_while_ingest_behind": True, "silent_after": "10m"}) == TEN
    assert hold.threshold({"hold_while_ingest_behind": True}) == timedelta(minutes=1)
    assert hold.threshold({"hold_while_ingest_behind": "3m"}) == timedelta(minutes=3)
    assert hold.threshold({"hold_while_ingest_behind": False}) is None
    assert hold.threshold({}) is None
    assert hold.threshold(None) is None


def test_no_status_at_all_holds_nothing() -> None:
    assert hold.hold_reason(TEN, [], NOW) is None


def test_fresh_and_caught_up_runs() -> None:
    assert hold.hold_reason(TEN, [_status(5, 0.5)], NOW) is None
    assert hold.hold_reason(TEN, [_status(5, 9 * 60)], NOW) is None


def test_behind_more_than_the_threshold_holds_and_names_the_topic() -> None:
    reason = hold.hold_reason(TEN, [_status(5, 12 * 60)], NOW)
    assert reason is not None
    assert "ingest is 12 min behind on topic edge-logs" in reason


def test_a_silent_ingest_holds() -> None:
    reason = hold.hold_reason(TEN, [_status(90, 0)], NOW)
    assert reason is not None
    assert "ingest has not reported for 90 s" in reason
    assert "ingest-a" in reason


def test_a_gone_member_does_not_hold_while_another_reports() -> None:
    statuses = [_status(3600, 50 * 60, "old"), _status(4, 1, "new")]
    assert hold.hold_reason(TEN, statuses, NOW) is None


def test_held_record_carries_the_reason() -> None:
    record = hold.held_record("silent-node", {"metadata": {"x": 1}}, NOW, NOW, "held: why")
    assert record["state"] == "held"
    assert record["messages"] == ["held: why"]
    assert record["trigger_event"]["schedule"]["scheduled_time"] == "2026-12-07T12:00:00.000Z"
