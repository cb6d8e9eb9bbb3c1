"""Late data: which event-time windows of a rule received data after they were judged.

Edge nodes buffer their logs while offline and send them when they come back. Ingest indexes
each line at the time it was written (`@timestamp`) and records when it arrived
(`event.ingested`), so a rule that judged "the last 5 minutes" at 10:05 never saw the lines
written at 10:02 that arrived at 10:40. A rule that opts in with `metadata.late_data` is
judged once more for each window that such data reached:

- after each scheduled run at T, one `size: 0` search finds the documents that arrived since
  the last look (up to T - settle, so that they are searchable) but were written in
  [T - lookback, T - window), grouped by `@timestamp` into windows of the rule's length
  (`arrivals_request`, `windows`);
- each window found runs the watch again, unmodified, with `scheduled_time` = the window's
  end, so the watch's own `{{ctx.trigger.scheduled_time}}||-5m` ranges cover that window,
  and with `ctx.late` (`late_context`) so its notification can say "received 52 minutes late";
- a key (an `alert_key`, or the action itself) notified for an event time is not notified
  again for a window within its throttle period of that time (`LateState`, `skipped`), so
  more late data reaching a window that already fired stays quiet.

Everything here is pure: plain data in, plain data out. The scheduler (late_runs.py) does the
searching, running and storing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.alerting.engine.java.dates import as_utc, format_date, parse_date
from pipeline.alerting.engine.java.durations import parse_duration

DEFAULT_LOOKBACK = timedelta(hours=24)
DEFAULT_MAX_WINDOWS = 12
DEFAULT_SETTLE = timedelta(seconds=30)


@dataclass(frozen=True)
class LateSpec:
    """A rule's `metadata.late_data`: its window, how far back late data is judged, and at
    most how many windows one run judges again."""

    window: timedelta
    lookback: timedelta = DEFAULT_LOOKBACK
    max_windows: int = DEFAULT_MAX_WINDOWS
    # Arrivals are looked at once they are this old: `event.ingested` is stamped when ingest
    # reads a batch, and the batch becomes searchable a bulk request and a refresh later.
    settle: timedelta = DEFAULT_SETTLE


@dataclass(frozen=True)
class LateWindow:
    """One event-time window that late documents reached: [start, end), and how many."""

    start: datetime
    end: datetime
    received: int


@dataclass(frozen=True)
class LateState:
    """What the scheduler keeps per rule between runs (stored beside the rule's state).

    `checked_until`: arrivals up to this moment were looked at. `notified`: per action and
    key (`action/key`; `action/` for an action without `alert_key`), the event times it was
    notified for, so a late window close to one of them stays quiet.
    """

    checked_until: datetime | None = None
    notified: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_until": format_date(self.checked_until) if self.checked_until else None,
            "notified": {k: [format_date(t) for t in v] for k, v in self.notified.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LateState:
        if not data:
            return cls()
        until = data.get("checked_until")
        return cls(
            parse_date(str(until)) if until else None,
            {
                str(k): tuple(parse_date(str(t)) for t in v)
                for k, v in (data.get("notified") or {}).items()
            },
        )


def parse_spec(metadata: Mapping[str, Any] | None) -> LateSpec | None:
    """The rule's `metadata.late_data`, or None when the rule did not opt in.

    The rule file's schema has checked the shape; a bad duration raises DurationError.
    """
    spec = (metadata or {}).get("late_data")
    if not isinstance(spec, Mapping):
        return None
    return LateSpec(
        window=parse_duration(str(spec["window"])),
        lookback=parse_duration(str(spec.get("lookback", "24h"))),
        max_windows=int(spec.get("max_windows", DEFAULT_MAX_WINDOWS)),
        settle=parse_duration(str(spec.get("settle", "30s"))),
    )


def arrivals_until(spec: LateSpec, scheduled: datetime) -> datetime:
    """The newest arrival time a run scheduled at `scheduled` looks at."""
    return as_utc(scheduled) - spec.settle


def arrivals_request(
    indices: list[str], spec: LateSpec, since: datetime, scheduled: datetime
) -> dict[str, Any]:
    """The search (as the search adapter takes it) for documents that arrived in
    (since, scheduled - settle] but were written in windows that closed before
    `scheduled` - window (the run at `scheduled` judged the later ones itself)."""
    until = arrivals_until(spec, scheduled)
    millis = int(spec.window.total_seconds() * 1000)
    body = {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    {
                        "range": {
                            "event.ingested": {"gt": format_date(since), "lte": format_date(until)}
                        }
                    },
                    {
                        "range": {
                            "@timestamp": {
                                "gte": format_date(scheduled - spec.lookback),
                                "lt": format_date(scheduled - spec.window),
                            }
                        }
                    },
                ]
            }
        },
        "aggs": {
            "windows": {
                "date_histogram": {
                    "field": "@timestamp",
                    "fixed_interval": f"{millis}ms",
                    "min_doc_count": 1,
                }
            }
        },
    }
    return {
        "indices": list(indices),
        "body": body,
        "search_type": "query_then_fetch",
        "indices_options": {"ignore_unavailable": True, "allow_no_indices": True},
        "timeout": None,
    }


def windows(response: Mapping[str, Any], spec: LateSpec) -> tuple[list[LateWindow], int]:
    """The windows late data reached, oldest first and at most `max_windows`, and how many
    more there were (judged never: a later run looks at later arrivals only)."""
    buckets = ((response.get("aggregations") or {}).get("windows") or {}).get("buckets") or []
    found = []
    for bucket in buckets:
        count = int(bucket.get("doc_count") or 0)
        if count <= 0:
            continue
        start = datetime.fromtimestamp(int(bucket["key"]) / 1000, UTC)
        found.append(LateWindow(start, start + spec.window, count))
    found.sort(key=lambda w: w.start)
    return found[: spec.max_windows], max(0, len(found) - spec.max_windows)


def late_context(window: LateWindow, now: datetime) -> dict[str, Any]:
    """What templates see as `ctx.late` (an edgewatch extension, beside `ctx.alert`)."""
    delay = as_utc(now) - window.end
    return {
        "window_from": format_date(window.start),
        "window_to": format_date(window.end),
        "received": window.received,
        "delay_minutes": max(0, round(delay.total_seconds() / 60)),
    }


def skipped(
    state: LateState, window: LateWindow, periods: Mapping[str, timedelta]
) -> frozenset[str]:
    """The `action/key`s not to notify for `window`: notified for an event time less than
    the action's period (its throttle period, at least the window) from the window's end."""
    out = set()
    for name, times in state.notified.items():
        period = periods.get(name.split("/", 1)[0], window.end - window.start)
        if any(abs(t - window.end) < period for t in times):
            out.add(name)
    return frozenset(out)


def notified_keys(record: Mapping[str, Any]) -> list[str]:
    """The `action/key`s a watch record notified (a firing, not a resolution)."""
    out = []
    for action in (record.get("result") or {}).get("actions") or []:
        if action.get("status") != "success":
            continue
        alerts = action.get("alerts")
        if alerts is None:
            out.append(f"{action['id']}/")
            continue
        out += [f"{action['id']}/{a['key']}" for a in alerts if a.get("alert_status") == "firing"]
    return out


def remember(
    state: LateState, keys: Iterable[str], event_time: datetime, now: datetime, spec: LateSpec
) -> LateState:
    """`state` with `keys` notified at `event_time`, forgetting times older than the lookback."""
    horizon = as_utc(now) - spec.lookback - spec.window
    notified = {k: [t for t in v if t >= horizon] for k, v in state.notified.items()}
    for key in keys:
        notified.setdefault(key, []).append(as_utc(event_time))
    return LateState(
        state.checked_until,
        {k: tuple(sorted(v)) for k, v in notified.items() if v},
    )
