"""Alerts with an identity: one alert per key (a host, a service), firing until it resolves.

Watcher throttles an action as a whole, so a rule that watches every host of a fleet could only
say "something is wrong somewhere". An action with `alert_key` (an edgewatch extension) instead
keeps one alert per rendered key, as Alertmanager keeps one per label set:

- a key seen for the first time fires: one notification;
- a key still firing is notified again only after the action's throttle period (a reminder);
- a key that fired before but is absent now has resolved: with `notify_resolved`, one more
  notification says so, rendered with the last payload the key had.

The open alerts live in the action's state (throttle.py), so a restart forgets none of them.
Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline.alerting.engine.java.dates import as_utc, format_date, parse_date

FIRING = "firing"
RESOLVED = "resolved"


@dataclass(frozen=True)
class OpenAlert:
    """One key that is firing: since when, when it was last notified, its last payload."""

    key: str
    since: datetime
    notified: datetime
    item: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "since": format_date(self.since),
            "notified": format_date(self.notified),
            "item": self.item,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpenAlert:
        return cls(
            str(data["key"]),
            parse_date(str(data["since"])),
            parse_date(str(data["notified"])),
            data.get("item"),
        )


@dataclass(frozen=True)
class Notice:
    """One notification to send: the key, firing or resolved, and the payload to render."""

    key: str
    status: str
    since: datetime
    item: Any


@dataclass(frozen=True)
class Plan:
    """What one execution does for a keyed action."""

    notify: list[Notice] = field(default_factory=list)
    throttled: list[str] = field(default_factory=list)  # keys still firing, not due a reminder
    open_alerts: dict[str, OpenAlert] = field(default_factory=dict)  # the state afterwards


def plan(
    open_alerts: Mapping[str, OpenAlert],
    current: Mapping[str, Any],
    now: datetime,
    repeat_after: timedelta | None,
    notify_resolved: bool,
    latest: Mapping[str, Any] | None = None,
) -> Plan:
    """Decide the notifications of one execution.

    `current` maps each key firing now to its payload (empty when the condition is false);
    `repeat_after` is the action's throttle period (None: never remind); `latest` maps keys
    that are not firing to this run's payload for them (`resolve_with`): a resolution renders
    with the last firing payload updated by it.
    """
    now = as_utc(now)
    out = Plan()
    for key, item in current.items():
        known = open_alerts.get(key)
        if known is None:
            out.notify.append(Notice(key, FIRING, now, item))
            out.open_alerts[key] = OpenAlert(key, now, now, item)
        elif repeat_after is not None and now - known.notified >= repeat_after:
            out.notify.append(Notice(key, FIRING, known.since, item))
            out.open_alerts[key] = OpenAlert(key, known.since, now, item)
        else:
            out.throttled.append(key)
            out.open_alerts[key] = OpenAlert(key, known.since, known.notified, item)
    for key, known in open_alerts.items():
        if key not in current and notify_resolved:
            item = (latest or {}).get(key, known.item)
            if isinstance(item, Mapping) and isinstance(known.item, Mapping):
                item = {**known.item, **item}  # what the firing saw, updated by this run
            out.notify.append(Notice(key, RESOLVED, known.since, item))
    return out


def alert_context(notice: Notice, now: datetime) -> dict[str, Any]:
    """What templates see as `ctx.alert` (an edgewatch extension of Watcher's ctx)."""
    return {
        "key": notice.key,
        "status": notice.status,
        "firing": notice.status == FIRING,
        "resolved": notice.status == RESOLVED,
        "since": format_date(notice.since),
        "duration_minutes": max(0, round((as_utc(now) - notice.since).total_seconds() / 60)),
    }
