"""java.lang as Watcher sees it: how Java reads and prints a watch context's values.

Watcher runs on the JVM, so where a watch turns a value into text or text into a number, Java
decides the result: a template prints `12.0` (Double.toString), a map as `{a=1, b=2}`
(String.valueOf), a date as ZonedDateTime.toString does (`2026-01-02T03:04+02:00`: seconds
and fraction only when not zero, the offset as given); a compare condition reads "5" or
" 1e3d " with Double.valueOf. Conditions, templates and durations all use these, so a value
prints and parses the same way everywhere. Pure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal

MAX_DEPTH = 200  # the deepest value printed; deeper (or a cycle) is an error

_DOUBLE = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)"
)
# Java's String.trim() and Double.valueOf strip every char up to U+0020.
_JAVA_BLANKS = "".join(chr(code) for code in range(33))


class JavaValueError(ValueError):
    """A value Java could not print: it contains itself, or is nested too deep."""


def parse_double(text: str) -> float | None:
    """`Double.valueOf(text)` (surrounding blanks and a d/f suffix allowed); None where Java
    throws NumberFormatException."""
    stripped = text.strip(_JAVA_BLANKS)
    if not _DOUBLE.fullmatch(stripped):
        return None
    body = stripped[:-1] if stripped[-1] in "fFdD" else stripped
    if body.lstrip("+-") == "NaN":
        return math.nan
    if body.lstrip("+-") == "Infinity":
        return -math.inf if body.startswith("-") else math.inf
    return float(body)


def parse_int(text: str) -> int | None:
    """Integer.parseInt: an optional sign, decimal digits of any script, 32-bit range; else None."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not all(ch.isdecimal() for ch in body):
        return None
    value = int("".join(str(unicodedata.decimal(ch)) for ch in body))
    value = -value if text.startswith("-") else value
    if not -(2**31) <= value <= 2**31 - 1:
        return None
    return value


def double_text(number: float) -> str:
    """`Double.toString`: shortest digits; plain for 1e-3 <= |x| < 1e7, else d.dddE<n>."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "-0.0" if math.copysign(1.0, number) < 0 else "0.0"
    sign = "-" if number < 0 else ""
    exact = Decimal(repr(abs(number))).as_tuple()
    raw_digits = "".join(str(digit) for digit in exact.digits)
    assert isinstance(exact.exponent, int)
    exponent = len(raw_digits) - 1 + exact.exponent
    digits = raw_digits.rstrip("0") or "0"
    if -3 <= exponent < 7:
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            return f"{sign}{whole}.{digits[exponent + 1 :] or '0'}"
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _time_text(value: dt.time) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        text += f":{value.second:02d}"
    if value.microsecond:
        micros = value.microsecond
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text


def offset_text(value: dt.datetime) -> str:
    """A datetime's offset as java.time prints it: `Z`, `+02:00`, `-05:30`."""
    # Watcher's dates are zoned; one without a zone is taken as UTC, as everywhere in edgewatch.
    offset = value.utcoffset() or dt.timedelta(0)
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return "Z"
    sign = "+" if seconds > 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def date_text(value: dt.date) -> str:
    """`ZonedDateTime.toString` (the offset as the value has it), `LocalDate.toString`."""
    if isinstance(value, dt.datetime):
        return f"{value.date().isoformat()}T{_time_text(value.time())}{offset_text(value)}"
    return value.isoformat()


class Guard:
    """The containers being printed, so that a cycle or extreme depth is an error, not a hang."""

    __slots__ = ("depth", "open")

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.depth = 0

    def enter(self, container: object) -> None:
        if id(container) in self.open:
            raise JavaValueError("a value in the context contains itself and cannot be printed")
        if self.depth >= MAX_DEPTH:
            raise JavaValueError(f"a value in the context is nested more than {MAX_DEPTH} deep")
        self.open.add(id(container))
        self.depth += 1

    def leave(self, container: object) -> None:
        self.open.discard(id(container))
        self.depth -= 1


def string_value(value: object, guard: Guard | None = None) -> str:
    """`String.valueOf(value)` for what a watch context holds: maps as `{key=value, ...}` in
    their own order (Java's HashMap order is not reproduced), lists as `[a, b]`, null inside
    collections as `null`. Raises JavaValueError for a cycle or a value nested too deep."""
    guard = guard or Guard()
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return double_text(value)
    if isinstance(value, Mapping):
        guard.enter(value)
        text = ", ".join(
            f"{string_value(k, guard)}={string_value(v, guard)}" for k, v in value.items()
        )
        guard.leave(value)
        return "{" + text + "}"
    if isinstance(value, list | tuple):
        guard.enter(value)
        text = ", ".join(string_value(item, guard) for item in value)
        guard.leave(value)
        return "[" + text + "]"
    if isinstance(value, dt.date):
        return date_text(value)
    return str(value)
