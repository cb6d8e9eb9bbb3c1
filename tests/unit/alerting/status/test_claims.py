"""Which claim takes a rule's evaluation (pipeline/alerting/status/claims.py), without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.alerting.status.claims import Claim, document, wins

pytestmark = pytest.mark.unit

T = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def test_a_claim_wins_only_a_newer_scheduled_time() -> None:
    claim = Claim("spike", T, "alert-1")
    assert wins(None, claim)
    assert wins({"scheduled_time": "2026-12-08T09:59:00.000Z"}, claim)
    assert not wins({"scheduled_time": "2026-12-08T10:00:00.000Z"}, claim)  # run already
    assert not wins({"scheduled_time": "2026-12-08T10:01:00.000Z"}, claim)  # a later one ran


def test_a_damaged_claim_document_is_taken_over() -> None:
    assert wins({"scheduled_time": "soon"}, Claim("spike", T, "alert-1"))
    assert wins({}, Claim("spike", T, "alert-1"))


def test_the_document_names_the_time_and_the_member() -> None:
    doc = document(Claim("spike", T + timedelta(milliseconds=5), "alert-2"))
    assert doc["scheduled_time"] == "2026-12-08T10:00:00.005Z"
    assert (doc["rule_id"], doc["member"]) == ("spike", "alert-2")
