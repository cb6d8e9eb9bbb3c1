"""Watcher's calendar schedules (hourly, daily, weekly, monthly, yearly) as Quartz cron texts.

Each is turned into cron expressions exactly as Watcher does (e.g. `daily: {at: "17:00"}` is
`0 0 17 * * ?`); cron.py evaluates them. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.alerting.engine.schedules.cron import (
    DAY_NAMES,
    DAYS,
    MONTH_NAMES,
    MONTHS,
    ScheduleError,
)


def as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _small_int(value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, bool):
        raise ScheduleError(f"invalid {what} {value!r}")
    if isinstance(value, int | float):
        number = math.trunc(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        number = int(value)
    else:
        raise ScheduleError(f"invalid {what} {value!r}")
    if not low <= number <= high:
        raise ScheduleError(f"invalid {what} {value!r}: must be between {low} and {high}")
    return number


def _day_times(value: object) -> tuple[list[int], list[int]]:
    """Hours and minutes of one `at` entry: "HH:mm", noon, midnight or {hour, minute}."""
    if value == "noon":
        return [12], [0]
    if value == "midnight":
        return [0], [0]
    if isinstance(value, str):
        match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", value)
        if not match:
            raise ScheduleError(f"time {value!r} must look like HH:mm, noon or midnight")
        return [_small_int(match.group(1), 0, 23, "hour")], [
            _small_int(match.group(2), 0, 59, "minute")
        ]
    if isinstance(value, Mapping):
        hours = [_small_int(h, 0, 23, "hour") for h in as_list(value.get("hour", 0))]
        minutes = [_small_int(m, 0, 59, "minute") for m in as_list(value.get("minute", 0))]
        return hours or [0], minutes or [0]
    raise ScheduleError(f"time {value!r} must look like HH:mm, noon or midnight")


def _times(entry: Mapping[str, Any]) -> list[tuple[list[int], list[int]]]:
    raw = entry.get("at", entry.get("time", "midnight"))
    return [_day_times(item) for item in as_list(raw)] or [([0], [0])]


def _join(values: Iterable[int]) -> str:
    return ",".join(str(value) for value in values)


def _named(value: object, names: Sequence[str], long_names: Sequence[str], what: str) -> int:
    if isinstance(value, str) and not value.strip().lstrip("+-").isdigit():
        upper = value.strip().upper()
        for table in (names, long_names):
            if upper in table:
                return list(table).index(upper) + 1
        raise ScheduleError(f"invalid {what} {value!r}")
    return _small_int(value, 1, len(names), what)


def _month_day(value: object) -> int:
    if isinstance(value, str) and value.strip().lower() in ("last_day", "first_day"):
        return 32 if value.strip().lower() == "last_day" else 1
    # Watcher stores the last day as 32 and writes it as L.
    return _small_int(value, 1, 32, "day of the month")


def _entries(value: object) -> list[Mapping[str, Any]]:
    entries = as_list(value)
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ScheduleError(f"expected an object, got {entry!r}")
    return entries


def _days_text(days: Iterable[int]) -> str:
    return ",".join("L" if day == 32 else str(day) for day in sorted(set(days)))


def calendar_crons(kind: str, spec: object) -> list[str]:
    """The Quartz cron expressions Watcher derives from an hourly/daily/... schedule."""
    crons: list[str] = []
    if kind == "hourly":
        entry = spec if isinstance(spec, Mapping) else {}
        minutes = [_small_int(m, 0, 59, "minute") for m in as_list(entry.get("minute", 0))]
        return [f"0 {_join(sorted(set(minutes or [0])))} * * * ?"]
    for entry in _entries(spec if spec is not None else {}):
        for hours, minutes in _times(entry):
            clock = f"0 {_join(minutes)} {_join(hours)}"
            if kind == "daily":
                crons.append(f"{clock} * * ?")
            elif kind == "weekly":
                raw = entry.get("on", entry.get("day", "monday"))
                days = [_named(d, DAYS, DAY_NAMES, "day of the week") for d in as_list(raw)]
                crons.append(f"{clock} ? * {_join(sorted(set(days)))}")
            elif kind == "monthly":
                raw = entry.get("on", entry.get("day", 1))
                crons.append(f"{clock} {_days_text(_month_day(d) for d in as_list(raw))} * ?")
            elif kind == "yearly":
                raw_months = entry.get("in", entry.get("month", "january"))
                months = [_named(m, MONTHS, MONTH_NAMES, "month") for m in as_list(raw_months)]
                raw = entry.get("on", entry.get("day", 1))
                month_days = _days_text(_month_day(d) for d in as_list(raw))
                crons.append(f"{clock} {month_days} {_join(sorted(set(months)))} ?")
            else:
                raise ScheduleError(f"unknown schedule type {kind!r}")
    return crons
