"""Watcher's time values: throttle periods, timeouts and interval schedules. Pure."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Final

from pipeline.alerting.engine.java import lang

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


class DurationError(ValueError):
    """A time value Watcher would reject."""


def parse_duration(text: str) -> timedelta:
    """A Watcher time value such as `500ms`, `10s`, `1.5m`, `1h`, `1d`, `2w` or `0`.

    Units are case-insensitive and the number may have decimals; the result is truncated to
    whole milliseconds as Watcher does. Used for throttle periods and timeouts.
    """
    if not isinstance(text, str):
        raise DurationError(f"a duration must be a string like 5m, got {text!r}")
    lowered = text.strip().lower()
    if lowered == "0":
        return timedelta(0)
    for suffix, factor in _DURATION_UNITS:
        # "ms" comes first in the table, so "5ms" never reads as seconds or minutes.
        if lowered.endswith(suffix):
            number = lang.parse_double(lowered[: -len(suffix)])
            if number is None or math.isnan(number):
                raise DurationError(f"cannot read {text!r} as a duration like 30s, 5m or 1h")
            millis = number * factor
            if millis < 0:
                raise DurationError(f"duration {text!r} is negative")
            if math.isinf(millis) or millis > timedelta.max.total_seconds() * 1000:
                raise DurationError(f"duration {text!r} is too long")
            return timedelta(milliseconds=math.trunc(millis))
    raise DurationError(f"duration {text!r} has no unit (ms, s, m, h, d or w)")


def parse_interval(value: object) -> timedelta:
    """An `interval` schedule's period: `30s`, `5m`, `1h`, `1d`, `2w` or a number of seconds.

    Whole numbers only (Watcher rejects `1.5m` here) and at least one second.
    """
    if isinstance(value, bool):
        raise DurationError(f"interval must be like 30s or 5m, got {value!r}")
    if isinstance(value, int | float):
        seconds = math.trunc(value)
    elif isinstance(value, str) and (match := _INTERVAL.fullmatch(value)):
        seconds = int(match.group(1)) * _INTERVAL_UNITS[match.group(2)]
    else:
        raise DurationError(f"interval must be like 30s, 5m, 1h, 1d or 2w, got {value!r}")
    if seconds < 1:
        raise DurationError(f"interval {value!r} is shorter than one second")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise DurationError(f"interval {value!r} is too long") from None


# Nanoseconds per unit, largest first, as TimeValue picks the unit it prints a duration in.
_TIME_VALUE_UNITS: Final = (
    ("d", 86_400 * 10**9),
    ("h", 3_600 * 10**9),
    ("m", 60 * 10**9),
    ("s", 10**9),
    ("ms", 10**6),
    ("micros", 10**3),
)


def time_value_text(period: timedelta) -> str:
    """A duration as Elasticsearch's `TimeValue.toString()` prints it in messages: `5s`, `1.5m`,
    `500ms`, `0s`.

    The largest unit the duration reaches, the value as `Double.toString` prints it, its
    fraction cut (not rounded) to one digit and dropped when that digit is 0 (libs/core
    org/elasticsearch/core/TimeValue.java, toHumanReadableString(1)).
    """
    nanos = period // timedelta(microseconds=1) * 1000
    if nanos < 0:
        return str(nanos)
    if nanos == 0:
        return "0s"
    value, suffix = float(nanos), "nanos"
    for unit, size in _TIME_VALUE_UNITS:
        if nanos >= size:
            value, suffix = nanos / size, unit
            break
    text = lang.double_text(value)
    whole, _, rest = text.partition(".")
    fraction, exponent, power = rest.partition("E")
    digit = fraction[:1] if not exponent else fraction
    digit = digit.rstrip("0")
    body = f"{whole}.{digit}" if digit else whole
    return f"{body}{exponent}{power}{suffix}"
