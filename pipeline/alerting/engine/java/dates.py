"""Elasticsearch dates as Watcher reads, computes and writes them: parsing, date math, formatting.

Pure. Every datetime returned is aware and in UTC, as Watcher works in UTC throughout.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pipeline.alerting.engine.java import lang

_ISO_DATE = re.compile(
    r"(?P<year>[0-9]{4})"
    r"(?:-(?P<month>[0-9]{2})"
    r"(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2})"
    r"(?::(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,9}))?)?)?"
    r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)?)?"
)
_EPOCH_MILLIS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class DateMathError(ValueError):
    """A date or a date math expression Elasticsearch would reject."""


def as_utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime is taken as UTC (Watcher works in UTC throughout)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(text: str) -> datetime:
    """Parse a date as Elasticsearch's default `strict_date_optional_time||epoch_millis`.

    A date without a zone is UTC; the result is an aware UTC datetime. Raises `DateMathError`.
    """
    match = _ISO_DATE.fullmatch(text)
    if match is not None:
        parts = match.groupdict()
        fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
        try:
            moment = datetime(
                int(parts["year"]),
                int(parts["month"] or 1),
                int(parts["day"] or 1),
                int(parts["hour"] or 0),
                int(parts["minute"] or 0),
                int(parts["second"] or 0),
                int(fraction),
                tzinfo=UTC,
            )
        except ValueError as exc:
            raise DateMathError(f"cannot parse date {text!r}: {exc}") from None
        zone = parts["zone"]
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 18 or minutes > 59:
                raise DateMathError(f"cannot parse date {text!r}: bad zone offset {zone}")
            moment -= sign * timedelta(hours=hours, minutes=minutes)
        return moment
    if _EPOCH_MILLIS.fullmatch(text):
        try:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=float(text))
        except OverflowError:
            raise DateMathError(f"epoch millis {text!r} are out of range") from None
    raise DateMathError(f"cannot parse date {text!r}: expected an ISO 8601 date or epoch millis")


def format_date(moment: datetime) -> str:
    """Format as Elasticsearch writes dates in Watcher records: `2026-11-25T10:00:00.000Z`."""
    utc = as_utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (datetime(year, month + 1, 1) - datetime(year, month, 1)).days


def _plus_months(moment: datetime, months: int) -> datetime:
    # java.time clamps the day to the end of a shorter month (Jan 31 + 1M = Feb 28/29).
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise DateMathError(f"date math leaves the supported years: year {year}")
    day = min(moment.day, _days_in_month(year, month))
    return moment.replace(year=year, month=month, day=day)


def _apply_math(math_text: str, moment: datetime) -> datetime:
    i = 0
    while i < len(math_text):
        operator = math_text[i]
        i += 1
        if operator not in "+-/":
            raise DateMathError(
                f"operator {operator!r} is not supported in date math {math_text!r}"
            )
        if i >= len(math_text):
            raise DateMathError(f"truncated date math {math_text!r}")
        start = i
        while i < len(math_text) and math_text[i].isdecimal():
            i += 1
        if i > start:
            if i >= len(math_text):
                raise DateMathError(f"truncated date math {math_text!r}")
            number = lang.parse_int(math_text[start:i])
            if number is None:
                raise DateMathError(f"number out of range in date math {math_text!r}")
        else:
            number = 1
        if operator == "/" and number != 1:
            raise DateMathError(f"rounding '/' takes a single unit, not {number}: {math_text!r}")
        unit = math_text[i]
        i += 1
        sign = -1 if operator == "-" else 1
        try:
            moment = _one_step(moment, operator == "/", sign * number, unit, math_text)
        except OverflowError:
            raise DateMathError(f"date math {math_text!r} leaves the supported years") from None
    return moment


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _one_step(moment: datetime, rounding: bool, amount: int, unit: str, text: str) -> datetime:
    if unit == "y":
        if rounding:
            return _midnight(moment.replace(month=1, day=1))
        return _plus_months(moment, 12 * amount)
    if unit == "M":
        return _midnight(moment.replace(day=1)) if rounding else _plus_months(moment, amount)
    if unit == "w":
        if rounding:
            return _midnight(moment - timedelta(days=moment.weekday()))
        return moment + timedelta(weeks=amount)
    if unit == "d":
        return _midnight(moment) if rounding else moment + timedelta(days=amount)
    if unit in ("h", "H"):
        if rounding:
            return moment.replace(minute=0, second=0, microsecond=0)
        return moment + timedelta(hours=amount)
    if unit == "m":
        if rounding:
            return moment.replace(second=0, microsecond=0)
        return moment + timedelta(minutes=amount)
    if unit == "s":
        return moment.replace(microsecond=0) if rounding else moment + timedelta(seconds=amount)
    raise DateMathError(f"unit {unit!r} is not supported in date math {text!r}")


def date_math(expr: str, now: datetime) -> datetime:
    """Resolve Elasticsearch date math: `now-5m`, `now/d`, `now+1h/h`, `2026-11-25T10:00:00Z||-5m`.

    Units are y, M, w, d, h (or H), m, s; `+n`/`-n` add or subtract (n defaults to 1), `/unit`
    rounds down to the start of that unit (weeks start on Monday). Arithmetic and rounding are
    done in UTC, as Watcher does. `now` is truncated to milliseconds, as Elasticsearch reads it;
    a naive `now` is taken as UTC. A text without `now` and `||` is just a date. The result is
    an aware UTC datetime. Bad input raises `DateMathError` (a `ValueError`).
    """
    if expr.startswith("now"):
        base = as_utc(now)
        base = base.replace(microsecond=base.microsecond // 1000 * 1000)
        return _apply_math(expr[3:], base)
    anchor, separator, math_text = expr.partition("||")
    if not separator:
        return parse_date(expr)
    return _apply_math(math_text, parse_date(anchor))
