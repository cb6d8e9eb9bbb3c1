"""When a watch runs: Watcher's `trigger.schedule` as a pure `Schedule` with `next_after(t)`.

Every calendar schedule (hourly, daily, weekly, monthly, yearly) is turned into Quartz cron
expressions exactly as Watcher does (e.g. `daily: {at: "17:00"}` is `0 0 17 * * ?`), and the
cron expressions are evaluated by `CronExpression`, written here after Quartz's documented
rules as Watcher's fork of it applies them:

    seconds minutes hours day-of-month month day-of-week [year]

with `*`, `?`, `,`, `-` (ranges may wrap, `22-2`), `/` steps, names (JAN-DEC, SUN-SAT, case
insensitive), `L`, `L-n`, `LW`, `nW` in day-of-month, `L`, `nL`, `n#k` in day-of-week (1 is
Sunday). Exactly one of day-of-month and day-of-week must be `?`.

Times are UTC unless the schedule names a `timezone` (Watcher allows it for every schedule but
`interval`); then the wall-clock fields are read in that zone. A wall time skipped by a DST jump
fires when the clock has jumped (02:30 becomes 03:30), a repeated wall time fires once, at its
first occurrence.

An `interval` schedule fires every interval counted from an anchor. Watcher anchors it at the
moment the watch was registered on the node, which is not pure; here the anchor is passed in
(default: the Unix epoch, so `5m` fires on every whole five minutes).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Final

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]

from pipeline.alerting.engine import java

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Quartz gives up on a cron expression that has not fired by this year.
_LAST_YEAR: Final = 2999

_MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTH_NAMES: Final = (
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
)
_DAY_NAMES: Final = (
    "SUNDAY",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
)

_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW, _YEAR = range(7)
_FIELD_NAMES: Final = ("second", "minute", "hour", "day-of-month", "month", "day-of-week", "year")
_BOUNDS: Final = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, _LAST_YEAR))
# The largest step Quartz accepts per field, and the modulus a wrapping range turns around at.
_MAX_STEP: Final = (59, 59, 23, 31, 12, 7, _LAST_YEAR)
_WRAP: Final = (60, 60, 24, 31, 12, 7, 0)

_DURATION_UNITS: Final = (
    ("ms", 1),
    ("s", 1000),
    ("m", 60 * 1000),
    ("h", 60 * 60 * 1000),
    ("d", 24 * 60 * 60 * 1000),
    ("w", 7 * 24 * 60 * 60 * 1000),
)
_INTERVAL_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_INTERVAL = re.compile(r"([+-]?[0-9]+)([smhdw])")
_OFFSET_ZONE = re.compile(
    r"(?:GMT|UTC|UT)?([+-])([0-9]{1,2})(?::?([0-9]{2}))?(?::?([0-9]{2}))?", re.IGNORECASE
)


class ScheduleError(ValueError):
    """A schedule, cron expression, interval or duration that Watcher would reject."""


# --------------------------------------------------------------------------- durations


def parse_duration(text: str) -> timedelta:
    """A Watcher time value such as `500ms`, `10s`, `1.5m`, `1h`, `1d`, `2w` or `0`.

    Units are case-insensitive and the number may have decimals; the result is truncated to
    whole milliseconds as Watcher does. Used for throttle periods and timeouts.
    """
    if not isinstance(text, str):
        raise ScheduleError(f"a duration must be a string like 5m, got {text!r}")
    lowered = text.strip().lower()
    if lowered == "0":
        return timedelta(0)
    for suffix, factor in _DURATION_UNITS:
        # "ms" comes first in the table, so "5ms" never reads as seconds or minutes.
        if lowered.endswith(suffix):
            number = java.parse_double(lowered[: -len(suffix)])
            if number is None or math.isnan(number):
                raise ScheduleError(f"cannot read {text!r} as a duration like 30s, 5m or 1h")
            millis = number * factor
            if millis < 0:
                raise ScheduleError(f"duration {text!r} is negative")
            if math.isinf(millis) or millis > timedelta.max.total_seconds() * 1000:
                raise ScheduleError(f"duration {text!r} is too long")
            return timedelta(milliseconds=math.trunc(millis))
    raise ScheduleError(f"duration {text!r} has no unit (ms, s, m, h, d or w)")


def parse_interval(value: object) -> timedelta:
    """An `interval` schedule's period: `30s`, `5m`, `1h`, `1d`, `2w` or a number of seconds.

    Whole numbers only (Watcher rejects `1.5m` here) and at least one second.
    """
    if isinstance(value, bool):
        raise ScheduleError(f"interval must be like 30s or 5m, got {value!r}")
    if isinstance(value, int | float):
        seconds = math.trunc(value)
    elif isinstance(value, str) and (match := _INTERVAL.fullmatch(value)):
        seconds = int(match.group(1)) * _INTERVAL_UNITS[match.group(2)]
    else:
        raise ScheduleError(f"interval must be like 30s, 5m, 1h, 1d or 2w, got {value!r}")
    if seconds < 1:
        raise ScheduleError(f"interval {value!r} is shorter than one second")
    return timedelta(seconds=seconds)


# --------------------------------------------------------------------------- cron


def _ordinal(token: str, field: int) -> int:
    if token.isdigit():
        return int(token)
    names: tuple[tuple[str, ...], ...] = ()
    if field == _MONTH:
        names = (_MONTHS, _MONTH_NAMES)
    elif field == _DOW:
        names = (_DAYS, _DAY_NAMES)
    for table in names:
        if token in table:
            return table.index(token) + 1
    raise ScheduleError(f"{token!r} is not a valid {_FIELD_NAMES[field]} value")


def _checked(value: int, field: int) -> int:
    low, high = _BOUNDS[field]
    if not low <= value <= high:
        raise ScheduleError(f"{_FIELD_NAMES[field]} values must be between {low} and {high}")
    return value


def _expand(item: str, field: int) -> set[int]:
    low, high = _BOUNDS[field]
    body, slash, step_text = item.partition("/")
    if slash:
        if not step_text.isdigit():
            raise ScheduleError(f"'/' must be followed by a number in {item!r}")
        step = int(step_text)
        if step > _MAX_STEP[field]:
            raise ScheduleError(f"step {step} is too large for {_FIELD_NAMES[field]}")
    else:
        step = 1
    if body in ("*", ""):
        if not slash and body == "":
            raise ScheduleError(f"empty {_FIELD_NAMES[field]} value")
        # Quartz treats "*/0" as "*".
        return set(range(low, high + 1, step or 1))
    start_text, dash, stop_text = body.partition("-")
    start = _checked(_ordinal(start_text, field), field)
    if dash:
        stop = _checked(_ordinal(stop_text, field), field)
    elif slash:
        stop = high
    else:
        return {start}
    if step == 0:
        # Quartz keeps only the start value for "n/0" and "n-m/0".
        return {start}
    if stop >= start:
        return set(range(start, stop + 1, step))
    modulus = _WRAP[field]
    if not modulus:
        raise ScheduleError("a year range must not run backwards")
    values = set()
    for value in range(start, stop + modulus + 1, step):
        wrapped = value % modulus
        # One-based fields (days, months) wrap to their maximum, not to 0.
        values.add(modulus if wrapped == 0 and low == 1 else wrapped)
    return values


def _field_values(text: str, field: int) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        values |= _expand(item, field)
    return values


def _nearest_weekday(day: int, year: int, month: int) -> int:
    last = _last_day(year, month)
    weekday = _quartz_dow(date(year, month, day))
    if weekday == 7:
        return day + 2 if day == 1 else day - 1
    if weekday == 1:
        return day - 2 if day == last else day + 1
    return day


def _last_day(year: int, month: int) -> int:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - timedelta(days=1)).day


def _quartz_dow(day: date) -> int:
    # Quartz numbers weekdays 1 (Sunday) to 7 (Saturday).
    return day.isoweekday() % 7 + 1


@dataclass(frozen=True)
class CronExpression:
    """A parsed Quartz cron expression; `next_local` finds the next matching wall-clock time."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int] | None
    # Day of month: "days" (dom_values), "last" (L-dom_offset, W if dom_weekday),
    # "weekday" (nearest weekday to dom_values' only day), or "none" for '?'.
    dom_mode: str
    dom_values: frozenset[int]
    dom_offset: int
    dom_weekday: bool
    # Day of week: "days" (dow_values), "last" (last dow_values' day), "nth", or "none".
    dow_mode: str
    dow_values: frozenset[int]
    dow_nth: int

    @classmethod
    def parse(cls, expression: str) -> CronExpression:
        """Parse a Quartz cron expression; raises `ScheduleError` where Watcher would reject it."""
        fields = expression.upper().split()
        if len(fields) not in (6, 7):
            raise ScheduleError(
                f"cron expression {expression!r} must have 6 or 7 fields "
                "(seconds minutes hours day-of-month month day-of-week [year])"
            )
        try:
            return cls._build(expression, fields)
        except ScheduleError as exc:
            raise ScheduleError(f"invalid cron expression {expression!r}: {exc}") from None

    @classmethod
    def _build(cls, expression: str, fields: list[str]) -> CronExpression:
        for index, text in enumerate(fields):
            if "?" in text and (index not in (_DOM, _DOW) or text != "?"):
                raise ScheduleError("'?' may only stand alone in day-of-month or day-of-week")
        dom_text, dow_text = fields[_DOM], fields[_DOW]
        if (dom_text == "?") == (dow_text == "?"):
            raise ScheduleError(
                "exactly one of day-of-month and day-of-week must be '?' "
                "(specifying both is not supported)"
            )
        dom_mode, dom_values, dom_offset, dom_weekday = cls._parse_dom(dom_text)
        dow_mode, dow_values, dow_nth = cls._parse_dow(dow_text)
        years = None
        if len(fields) == 7 and fields[_YEAR] != "*":
            years = frozenset(_field_values(fields[_YEAR], _YEAR))
        return cls(
            expression=expression,
            seconds=tuple(sorted(_field_values(fields[_SECOND], _SECOND))),
            minutes=tuple(sorted(_field_values(fields[_MINUTE], _MINUTE))),
            hours=tuple(sorted(_field_values(fields[_HOUR], _HOUR))),
            months=frozenset(_field_values(fields[_MONTH], _MONTH)),
            years=years,
            dom_mode=dom_mode,
            dom_values=frozenset(dom_values),
            dom_offset=dom_offset,
            dom_weekday=dom_weekday,
            dow_mode=dow_mode,
            dow_values=frozenset(dow_values),
            dow_nth=dow_nth,
        )

    @staticmethod
    def _parse_dom(text: str) -> tuple[str, set[int], int, bool]:
        if text == "?":
            return "none", set(), 0, False
        if "L" in text or "W" in text:
            if "," in text:
                raise ScheduleError("'L' and 'W' cannot be combined with other days of the month")
            match = re.fullmatch(r"L(?:-([0-9]+))?(W)?", text)
            if match:
                offset = int(match.group(1) or 0)
                if offset > 30:
                    raise ScheduleError("the offset from the last day must be at most 30")
                return "last", set(), offset, bool(match.group(2))
            match = re.fullmatch(r"([0-9]+)W", text)
            if match:
                return "weekday", {_checked(int(match.group(1)), _DOM)}, 0, True
            raise ScheduleError(f"cannot read day-of-month {text!r}")
        return "days", _field_values(text, _DOM), 0, False

    @staticmethod
    def _parse_dow(text: str) -> tuple[str, set[int], int]:
        if text == "?":
            return "none", set(), 0
        if text == "L":
            return "days", {7}, 0
        if "L" in text or "#" in text:
            if "," in text:
                raise ScheduleError("'L' and '#' cannot be combined with other days of the week")
            match = re.fullmatch(r"([0-9]+|[A-Z]{3})(?:(L)|#([0-9]+))", text)
            if not match:
                raise ScheduleError(f"cannot read day-of-week {text!r}")
            day = _checked(_ordinal(match.group(1), _DOW), _DOW)
            if match.group(2):
                return "last", {day}, 0
            nth = int(match.group(3))
            if not 1 <= nth <= 5:
                raise ScheduleError("a number between 1 and 5 must follow '#'")
            return "nth", {day}, nth
        return "days", _field_values(text, _DOW), 0

    def _day_matches(self, day: date) -> bool:
        if self.dom_mode == "days":
            return day.day in self.dom_values
        if self.dom_mode == "last":
            target = _last_day(day.year, day.month) - self.dom_offset
            if target < 1:
                return False
            if self.dom_weekday:
                target = _nearest_weekday(target, day.year, day.month)
            return day.day == target
        if self.dom_mode == "weekday":
            (wanted,) = self.dom_values
            if wanted > _last_day(day.year, day.month):
                return False
            return day.day == _nearest_weekday(wanted, day.year, day.month)
        weekday = _quartz_dow(day)
        if weekday not in self.dow_values:
            return False
        if self.dow_mode == "last":
            return day.day + 7 > _last_day(day.year, day.month)
        if self.dow_mode == "nth":
            return (day.day - 1) // 7 + 1 == self.dow_nth
        return True

    def _first_time(self, earliest: time) -> time | None:
        hours, minutes, seconds = self.hours, self.minutes, self.seconds
        for hour in hours[bisect.bisect_left(hours, earliest.hour) :]:
            same_hour = hour == earliest.hour
            first_minute = earliest.minute if same_hour else 0
            for minute in minutes[bisect.bisect_left(minutes, first_minute) :]:
                first_second = earliest.second if same_hour and minute == earliest.minute else 0
                index = bisect.bisect_left(seconds, first_second)
                if index < len(seconds):
                    return time(hour, minute, seconds[index])
        return None

    def next_local(self, earliest: datetime) -> datetime | None:
        """The first naive wall-clock time at or after `earliest` (naive) that matches."""
        day, clock = earliest.date(), earliest.time()
        while day.year <= _LAST_YEAR:
            if self.years is not None and day.year not in self.years:
                later = [year for year in self.years if year > day.year]
                if not later:
                    return None
                day, clock = date(min(later), 1, 1), time(0)
                continue
            if day.month not in self.months:
                day = (
                    date(day.year + 1, 1, 1)
                    if day.month == 12
                    else date(day.year, day.month + 1, 1)
                )
                clock = time(0)
                continue
            if self._day_matches(day):
                found = self._first_time(clock)
                if found is not None:
                    return datetime.combine(day, found)
            if day == date.max:
                return None
            day, clock = day + timedelta(days=1), time(0)
        return None


# --------------------------------------------------------------------------- schedules


class Schedule(ABC):
    """When a watch fires."""

    @abstractmethod
    def next_after(self, t: datetime) -> datetime | None:
        """The first fire time strictly after `t` (aware UTC), or None if it never fires again.

        A naive `t` is taken as UTC.
        """


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class IntervalSchedule(Schedule):
    """Fires at `anchor + k * interval` for every whole k."""

    interval: timedelta
    anchor: datetime = EPOCH

    def next_after(self, t: datetime) -> datetime:
        """The first `anchor + k * interval` strictly after `t`."""
        anchor = _utc(self.anchor)
        elapsed = _utc(t) - anchor
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
        start = _utc(t).replace(microsecond=0) + timedelta(seconds=1)
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


def _zone(name: object) -> tzinfo:
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
        raise ScheduleError(f"unknown timezone {name!r}")
    return zoneinfo.ZoneInfo(canonical)


@functools.cache
def _zone_names() -> dict[str, str]:
    # Watcher looks zone ids up case-insensitively.
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _as_list(value: object) -> list[Any]:
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
        hours = [_small_int(h, 0, 23, "hour") for h in _as_list(value.get("hour", 0))]
        minutes = [_small_int(m, 0, 59, "minute") for m in _as_list(value.get("minute", 0))]
        return hours or [0], minutes or [0]
    raise ScheduleError(f"time {value!r} must look like HH:mm, noon or midnight")


def _times(entry: Mapping[str, Any]) -> list[tuple[list[int], list[int]]]:
    raw = entry.get("at", entry.get("time", "midnight"))
    return [_day_times(item) for item in _as_list(raw)] or [([0], [0])]


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
    entries = _as_list(value)
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
        minutes = [_small_int(m, 0, 59, "minute") for m in _as_list(entry.get("minute", 0))]
        return [f"0 {_join(sorted(set(minutes or [0])))} * * * ?"]
    for entry in _entries(spec if spec is not None else {}):
        for hours, minutes in _times(entry):
            clock = f"0 {_join(minutes)} {_join(hours)}"
            if kind == "daily":
                crons.append(f"{clock} * * ?")
            elif kind == "weekly":
                raw = entry.get("on", entry.get("day", "monday"))
                days = [_named(d, _DAYS, _DAY_NAMES, "day of the week") for d in _as_list(raw)]
                crons.append(f"{clock} ? * {_join(sorted(set(days)))}")
            elif kind == "monthly":
                raw = entry.get("on", entry.get("day", 1))
                crons.append(f"{clock} {_days_text(_month_day(d) for d in _as_list(raw))} * ?")
            elif kind == "yearly":
                raw_months = entry.get("in", entry.get("month", "january"))
                months = [_named(m, _MONTHS, _MONTH_NAMES, "month") for m in _as_list(raw_months)]
                raw = entry.get("on", entry.get("day", 1))
                month_days = _days_text(_month_day(d) for d in _as_list(raw))
                crons.append(f"{clock} {month_days} {_join(sorted(set(months)))} ?")
            else:
                raise ScheduleError(f"unknown schedule type {kind!r}")
    return crons


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
        return IntervalSchedule(parse_interval(schedule[kind]), _utc(anchor or EPOCH))
    zone = _zone(schedule["timezone"]) if "timezone" in schedule else UTC
    if kind == "cron":
        expressions = _as_list(schedule[kind])
        if not expressions or not all(isinstance(e, str) for e in expressions):
            raise ScheduleError("cron must be an expression or a list of expressions")
    else:
        expressions = calendar_crons(kind, schedule[kind])
    crons = tuple(CronExpression.parse(text) for text in dict.fromkeys(expressions))
    return CronSchedule(crons, zone)


class WatchTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler 3 trigger that fires a job on a watch's `Schedule`.

    Like Watcher, a late scheduler does not catch up on missed fire times: after a run, the next
    fire time is the first one after both the previous fire time and now.
    """

    __slots__ = ("schedule",)

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The next fire time after `previous_fire_time` (if any) and `now`."""
        base = now if previous_fire_time is None else max(_utc(previous_fire_time), _utc(now))
        return self.schedule.next_after(base)

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "schedule": self.schedule}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.schedule = state["schedule"]

    def __repr__(self) -> str:
        return f"<WatchTrigger {self.schedule!r}>"
