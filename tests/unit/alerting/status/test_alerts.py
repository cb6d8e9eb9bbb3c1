"""Keyed alerts (firing.py): which keys fire, remind, stay quiet or resolve, and the state after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.alerting.status.alerts import (
    FIRING,
    RESOLVED,
    Notice,
    OpenAlert,
    alert_context,
    plan,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PERIOD = timedelta(minutes=10)


def _item(host: str, errors: int = 1) -> dict[str, Any]:
    return {"key": host, "doc_count": errors}


def test_a_new_key_fires_once_and_opens_an_alert() -> None:
    out = plan({}, {"a": _item("a")}, T0, PERIOD, notify_resolved=False)
    assert out.notify == [Notice("a", FIRING, T0, _item("a"))]
    assert out.throttled == []
    assert out.open_alerts == {"a": OpenAlert("a", T0, T0, _item("a"))}


def test_a_key_still_firing_within_the_period_is_throttled_and_keeps_its_times() -> None:
    opened = {"a": OpenAlert("a", T0, T0, _item("a", 1))}
    at = T0 + PERIOD - timedelta(seconds=1)
    out = plan(opened, {"a": _item("a", 7)}, at, PERIOD, notify_resolved=True)
    assert out.notify == []
    assert out.throttled == ["a"]
    # Times stay; the payload is the newest one, so a later resolution shows it.
    assert out.open_alerts == {"a": OpenAlert("a", T0, T0, _item("a", 7))}


def test_a_reminder_after_the_period_keeps_since_and_moves_notified() -> None:
    opened = {"a": OpenAlert("a", T0, T0, _item("a", 1))}
    at = T0 + PERIOD
    out = plan(opened, {"a": _item("a", 9)}, at, PERIOD, notify_resolved=False)
    assert out.notify == [Notice("a", FIRING, T0, _item("a", 9))]
    assert out.throttled == []
    assert out.open_alerts == {"a": OpenAlert("a", T0, at, _item("a", 9))}


def test_without_a_repeat_period_a_firing_key_is_never_reminded() -> None:
    opened = {"a": OpenAlert("a", T0, T0, _item("a"))}
    out = plan(opened, {"a": _item("a")}, T0 + timedelta(days=30), None, notify_resolved=False)
    assert out.notify == []
    assert out.throttled == ["a"]
    assert out.open_alerts["a"].notified == T0


def test_a_zero_period_reminds_on_every_execution() -> None:
    opened = {"a": OpenAlert("a", T0, T0, _item("a"))}
    out = plan(opened, {"a": _item("a")}, T0, timedelta(0), notify_resolved=False)
    assert [n.key for n in out.notify] == ["a"]


def test_a_key_gone_resolves_silently_without_notify_resolved() -> None:
    opened = {"a": OpenAlert("a", T0, T0, _item("a"))}
    out = plan(opened, {}, T0 + timedelta(minutes=1), PERIOD, notify_resolved=False)
    assert out.notify == []
    assert out.throttled == []
    assert out.open_alerts == {}


def test_a_key_gone_sends_one_resolved_notice_with_its_last_item() -> None:
    opened = {
        "a": OpenAlert("a", T0, T0, _item("a", 42)),
        "b": OpenAlert("b", T0, T0, _item("b")),
    }
    at = T0 + timedelta(minutes=3)
    out = plan(opened, {"b": _item("b", 2)}, at, PERIOD, notify_resolved=True)
    assert out.notify == [Notice("a", RESOLVED, T0, _item("a", 42))]
    assert out.throttled == ["b"]
    assert set(out.open_alerts) == {"b"}


def test_plan_does_not_change_the_given_state() -> None:
    opened = {"a": OpenAlert("a", T0, T0, _item("a"))}
    before = dict(opened)
    plan(opened, {"b": _item("b")}, T0 + PERIOD, PERIOD, notify_resolved=True)
    assert opened == before


def test_a_naive_now_counts_as_utc() -> None:
    out = plan({}, {"a": 1}, datetime(2026, 11, 25, 10, 0), PERIOD, notify_resolved=False)
    assert out.open_alerts["a"].since == T0
    assert out.open_alerts["a"].since.tzinfo is not None


def test_a_scenario_over_time() -> None:
    """a and b fire, b is reminded, a resolves, a fires again as a new alert."""
    alerts: dict[str, OpenAlert] = {}

    def step(at: datetime, current: dict[str, Any]) -> list[tuple[str, str, datetime]]:
        nonlocal alerts
        out = plan(alerts, current, at, PERIOD, notify_resolved=True)
        alerts = dict(out.open_alerts)
        return [(n.key, n.status, n.since) for n in out.notify]

    t1, t2, t3, t4, t5 = (T0 + timedelta(minutes=m) for m in (0, 5, 10, 12, 25))
    assert step(t1, {"a": 1, "b": 1}) == [("a", FIRING, t1), ("b", FIRING, t1)]
    assert {k: (a.since, a.notified) for k, a in alerts.items()} == {
        "a": (t1, t1),
        "b": (t1, t1),
    }
    assert step(t2, {"a": 2, "b": 2}) == []  # both throttled
    assert step(t3, {"b": 3}) == [("b", FIRING, t1), ("a", RESOLVED, t1)]
    assert {k: (a.since, a.notified, a.item) for k, a in alerts.items()} == {"b": (t1, t3, 3)}
    assert step(t4, {"a": 4, "b": 4}) == [("a", FIRING, t4)]  # a again: a new alert
    assert alerts["a"].since == t4 and alerts["b"].notified == t3
    assert step(t5, {}) == [("a", RESOLVED, t4), ("b", RESOLVED, t1)]
    assert alerts == {}


def test_open_alert_round_trips_through_its_dict() -> None:
    alert = OpenAlert("edge-3", T0, T0 + PERIOD, {"doc_count": 5, "key": "edge-3"})
    data = alert.to_dict()
    assert data == {
        "key": "edge-3",
        "since": "2026-11-25T10:00:00.000Z",
        "notified": "2026-11-25T10:10:00.000Z",
        "item": {"doc_count": 5, "key": "edge-3"},
    }
    assert OpenAlert.from_dict(data) == alert


def test_alert_context_for_templates() -> None:
    firing_ctx = alert_context(Notice("a", FIRING, T0, None), T0 + timedelta(minutes=90))
    assert firing_ctx == {
        "key": "a",
        "status": "firing",
        "firing": True,
        "resolved": False,
        "since": "2026-11-25T10:00:00.000Z",
        "duration_minutes": 90,
    }
    resolved = alert_context(Notice("a", RESOLVED, T0, None), T0 - timedelta(minutes=1))
    assert (resolved["resolved"], resolved["firing"], resolved["duration_minutes"]) == (
        True,
        False,
        0,
    )
