"""Which claim takes a rule's evaluation (pipeline/alerting/status/claims.py), without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.alerting.status.claims import Claim, document, wins

pytestmark = pytest.mark.unit

T = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def _stored(minute: int, done: bool = True, claimed_at: datetime = T) -> dict[str, object]:
    return document(Claim("spike", T + timedelta(minutes=minute), "alert-1"), claimed_at, done)


def test_a_claim_wins_only_a_newer_scheduled_time() -> None:
    claim = Claim("spike", T, "alert-2")
    now = T + timedelta(seconds=1)
    assert wins(None, claim, now, LEASE)
    assert wins(_stored(-1), claim, now, LEASE)
    assert not wins(_stored(0), claim, now, LEASE)  # run already
    assert not wins(_stored(1), claim, now, LEASE)  # a later one ran
    assert not wins(_stored(1, done=False, claimed_at=T - LEASE * 9), claim, now, LEASE)


def test_a_claim_not_done_within_the_lease_is_taken_over() -> None:
    """Its member died between claiming and recording the run: the evaluation runs again."""
    claim = Claim("spike", T, "alert-2")
    stored = _stored(0, done=False)
    assert not wins(stored, claim, T + LEASE, LEASE)  # it may still be running
    assert wins(stored, claim, T + LEASE + timedelta(milliseconds=1), LEASE)
    assert not wins(_stored(0, done=True), claim, T + LEASE * 9, LEASE)


def test_a_damaged_claim_document_is_taken_over() -> None:
    assert wins({"scheduled_time": "soon"}, Claim("spike", T, "alert-1"), T, LEASE)
    assert wins({}, Claim("spike", T, "alert-1"), T, LEASE)


def test_the_document_names_the_time_and_the_member() -> None:
    doc = document(Claim("spike", T + timedelta(milliseconds=5), "alert-2"), T)
    assert doc["scheduled_time"] == "2026-12-08T10:00:00.005Z"
    assert (doc["rule_id"], doc["member"], doc["done"]) == ("spike", "alert-2", False)
