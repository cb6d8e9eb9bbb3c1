"""Quartz cron expressions as Watcher's fork of Quartz evaluates them; pure.

    seconds minutes hours day-of-month month day-of-week [year]

with `*`, `?`, `,`, `-` (ranges may wrap, `22-2`), `/` steps, names (JAN-DEC, SUN-SAT, case
insensitive), `L`, `L-n`, `LW`, `nW` in day-of-month, `L`, `nL`, `n#k` in day-of-week (1 is
Sunday). Exactly one of day-of-month and day-of-week must be `?`. Times are wall-clock times;
the zone is the schedule's business (schedule.py).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

# Quartz gives up on a cron expression that has not fired by this year.
_LAST_YEAR: Final = 2999

MONTHS: Final = (
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
DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTH_NAMES: Final = (
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
DAY_NAMES: Final = (
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


class ScheduleError(ValueError):
    """A schedule, cron expression or timezone that Watcher would reject."""


def _ordinal(token: str, field: int) -> int:
    if token.isdigit():
        return int(token)
    names: tuple[tuple[str, ...], ...] = ()
    if field == _MONTH:
        names = (MONTHS, MONTH_NAMES)
    elif field == _DOW:
        names = (DAYS, DAY_NAMES)
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
