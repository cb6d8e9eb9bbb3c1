"""When a watch fires: Watcher's `trigger.schedule` as a pure `Schedule` with `next_after(t)`.

Times are UTC unless the schedule names a `timezone` (Watcher allows it for every schedule but
`interval`); then the wall-clock fields are read in that zone. A wall time skipped by a DST jump
fires when the clock has jumped (02:30 becomes 03:30), a repeated wall time fires once, at its
first occurrence.

An `interval` schedule fires every interval counted from an anchor. Watcher anchors it at the
moment the watch was registered on the node, which is not pure; here the anchor is passed in
(default: the Unix epoch, so `5m` fires on every whole five minutes).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final

from pipeline.alerting.engine.java.dates import as_utc
from pipeline.alerting.engine.java.durations import DurationError, parse_interval
from pipeline.alerting.engine.schedules.calendar import as_list, calendar_crons
from pipeline.alerting.engine.schedules.cron import CronExpression, ScheduleError

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET_ZONE = re.compile(
    r"(?:GMT|UTC|UT)?([+-])([0-9]{1,2})(?::?([0-9]{2}))?(?::?([0-9]{2}))?", re.IGNORECASE
)


class Schedule(ABC):
    """When a watch fires."""

    @abstractmethod
    def next_after(self, t: datetime) -> datetime | None:
        """The first fire time strictly after `t` (aware UTC), or None if it never fires again.

        A naive `t` is taken as UTC.
        """


@dataclass(frozen=True)
class IntervalSchedule(Schedule):
    """Fires at `anchor + k * interval` for every whole k."""

    interval: timedelta
    anchor: datetime = EPOCH

    def next_after(self, t: datetime) -> datetime:
        """The first `anchor + k * interval` strictly after `t`."""
        anchor = as_utc(self.anchor)
        elapsed = as_utc(t) - anchor
        return anchor + (elapsed // self.interval + 1) * self.interval


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """Fires whenever one of its cron expressions matches, read in `zone`."""

    crons: tuple[CronExpression, ...]
    zone: tzinfo = UTC

    def next_after(self, t: datetime) -> datetime | None:
        """The earliest fire time of any of the expressions strictly after `t`.

        Cron works in whole seconds: the result is at least the next whole second after `t`.
        """
        start = as_utc(t).replace(microsecond=0) + timedelta(seconds=1)
        found = [moment for cron in self.crons if (moment := self._next(cron, start))]
        return min(found) if found else None

    def _next(self, cron: CronExpression, start: datetime) -> datetime | None:
        wall = start.astimezone(self.zone).replace(tzinfo=None, fold=0)
        best: datetime | None = None
        while True:
            local = cron.next_local(wall)
            if local is None:
                return best
            moment = local.replace(tzinfo=self.zone).astimezone(UTC)
            skipped = moment.astimezone(self.zone).replace(tzinfo=None) != local
            if moment >= start and (best is None or moment < best):
                best = moment
            # Inside a DST gap a wall time maps past later wall times, and in a repeated hour
            # the first occurrence may already be past: keep looking until neither applies.
            if best is not None and not skipped:
                return best
            wall = local + timedelta(seconds=1)


def parse_zone(name: object) -> tzinfo:
    """A schedule's `timezone`: a zone id (case-insensitive, as Watcher reads it) or an offset.

    Raises `ScheduleError` for a zone Watcher would refuse ("invalid timezone").
    """
    if not isinstance(name, str) or not name:
        raise ScheduleError(f"timezone must be a name like Europe/Berlin, got {name!r}")
    if name.upper() in ("Z", "UTC", "GMT", "UT"):
        return UTC
    match = _OFFSET_ZONE.fullmatch(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes, seconds = (int(part or 0) for part in match.group(2, 3, 4))
        offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        if offset > timedelta(hours=18):
            raise ScheduleError(f"timezone offset {name!r} is beyond 18 hours")
        return timezone(sign * offset)
    canonical = _zone_names().get(name.lower())
    if canonical is None:
        raise ScheduleError(
            f"unknown timezone {name!r} (expected a zone id like Europe/Berlin or an offset"
            " like +02:00)"
        )
    return zoneinfo.ZoneInfo(canonical)


@functools.cache
def _zone_names() -> dict[str, str]:
    # Watcher looks zone ids up case-insensitively.
    return {name.lower(): name for name in zoneinfo.available_timezones()}


_KINDS: Final = ("interval", "cron", "hourly", "daily", "weekly", "monthly", "yearly")


def parse_schedule(schedule: Mapping[str, Any], anchor: datetime | None = None) -> Schedule:
    """Build the `Schedule` of a watch's `trigger.schedule` object.

    `anchor` is where an interval schedule counts from (default: the Unix epoch). Raises
    `ScheduleError` for a schedule Watcher would reject.
    """
    if set(schedule) == {"schedule"} and isinstance(schedule["schedule"], Mapping):
        schedule = schedule["schedule"]
    kinds = [key for key in schedule if key != "timezone"]
    if len(kinds) != 1 or kinds[0] not in _KINDS:
        raise ScheduleError(f"a schedule needs exactly one of {', '.join(_KINDS)}: {kinds}")
    kind = kinds[0]
    if kind == "interval":
        if "timezone" in schedule:
            raise ScheduleError("timezone is not supported for an interval schedule")
        try:
            interval = parse_interval(schedule[kind])
        except DurationError as err:
            raise ScheduleError(str(err)) from None
        return IntervalSchedule(interval, as_utc(anchor or EPOCH))
    zone = parse_zone(schedule["timezone"]) if "timezone" in schedule else UTC
    if kind == "cron":
        expressions = as_list(schedule[kind])
        if not expressions or not all(isinstance(e, str) for e in expressions):
            raise ScheduleError("cron must be an expression or a list of expressions")
    else:
        expressions = calendar_crons(kind, schedule[kind])
    crons = tuple(CronExpression.parse(text) for text in dict.fromkeys(expressions))
    return CronSchedule(crons, zone)
