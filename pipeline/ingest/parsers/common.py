"""What every line parser shares: the result type, the error type and small pure helpers.

The contract of a parser module (`pipeline/ingest/parsers/<format>.py`):

    def parse(line: bytes, reference: datetime | None = None) -> Fields

- `line` is one log line without its trailing newline, as bytes (it may be invalid UTF-8).
- `reference` is when the line was received (shipper or Kafka timestamp). Parsers use it only to
  complete timestamps that lack a year (RFC 3164) or a date; it is never "now": parsers do no I/O
  and read no clock, so they can be fuzzed and give the same answer twice.
- The result maps Elastic Common Schema field names, dotted (`"log.level"`), to values. Only the
  keys listed in FIELDS may appear. `@timestamp` is a timezone-aware UTC `datetime`; a line whose
  timestamp carries no zone is taken as UTC.
- Anything that is not this format raises `ParseError`; nothing else may escape, whatever the
  input, and no input may make a parser hang (no backtracking-prone regexes on unbounded input).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

Fields = dict[str, Any]

# Every key a parser may put in its result, with the Python type of its value. The normalised
# document's JSON Schema (pipeline/ingest/schema/) is the authority on the final shape; this
# is the parser-side half of the same contract.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "@timestamp": datetime,
    "message": str,
    "log.level": str,
    "log.logger": str,
    "host.name": str,
    "service.name": str,
    "process.name": str,
    "process.pid": int,
    "process.thread.name": str,
    "error.type": str,
    "error.message": str,
    "error.stack_trace": str,
    "log.syslog.priority": int,
    "log.syslog.facility.code": int,
    "log.syslog.facility.name": str,
    "log.syslog.severity.code": int,
    "log.syslog.severity.name": str,
    "log.syslog.version": str,
    "log.syslog.hostname": str,
    "log.syslog.appname": str,
    "log.syslog.procid": str,
    "log.syslog.msgid": str,
    "log.syslog.structured_data": dict,  # {sd-id: {param: value}}
    "source.ip": str,  # only when the text is an IP address
    "source.address": str,  # the client as written (IP or host name)
    "user.name": str,
    "http.request.method": str,
    "http.request.referrer": str,
    "http.version": str,
    "http.response.status_code": int,
    "http.response.body.bytes": int,
    "url.original": str,
    "url.path": str,
    "url.query": str,
    "user_agent.original": str,
    "event.duration": int,  # nanoseconds
    "stream": str,  # "stdout" / "stderr" for container lines
    "tags": list,  # list[str]; e.g. "partial_line" for a CRI/docker partial line
    "attributes": dict,  # other key/values of a structured (JSON, logfmt) line, as parsed
}


class ParseError(ValueError):
    """The line is not in the parser's format. `reason` is short and stable (for metrics)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def decode(line: bytes) -> str:
    """The line as text; invalid UTF-8 is a ParseError, not a silent replacement."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParseError("invalid_utf8", f"byte {err.start}") from None


# --------------------------------------------------------------------------- levels

_LEVELS = {
    "trace": "trace",
    "finest": "trace",
    "finer": "trace",
    "debug": "debug",
    "dbug": "debug",
    "dbg": "debug",
    "fine": "debug",
    "d": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "informational": "info",
    "i": "info",
    "notice": "notice",
    "warn": "warn",
    "warning": "warn",
    "wrn": "warn",
    "w": "warn",
    "error": "error",
    "err": "error",
    "eror": "error",
    "severe": "error",
    "e": "error",
    "critical": "critical",
    "crit": "critical",
    "crt": "critical",
    "alert": "alert",
    "emerg": "emergency",
    "emergency": "emergency",
    "fatal": "fatal",
    "ftl": "fatal",
    "f": "fatal",
    "panic": "fatal",
}
# RFC 5424 severities, by code, as log.level values.
SYSLOG_SEVERITIES = ("emergency", "alert", "critical", "error", "warn", "notice", "info", "debug")
_SEVERITY_NUMBERS = {str(i): name for i, name in enumerate(SYSLOG_SEVERITIES)}


def normalise_level(value: object) -> str | None:
    """A log level as one of: trace debug info notice warn error critical alert emergency fatal.

    Accepts the usual spellings in any case ("WARNING", "Err", "E", "panic") and syslog
    severity numbers; returns None for anything else (the caller then keeps no level).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _SEVERITY_NUMBERS.get(str(value))
    if not isinstance(value, str) or len(value) > 16:
        return None
    # Digit strings are not read as syslog severities: "lvl=2" means different things to
    # different loggers. Only an integer is. Most levels are written as listed: look them up
    # as they are before paying for strip() and lower().
    return _LEVELS.get(value) or _LEVELS.get(value.strip().lower())


# --------------------------------------------------------------------------- timestamps

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?"
    r"\s?(Z|z|[+-]\d\d(?::?\d\d)?)?$"
)


def parse_iso_timestamp(text: str) -> datetime | None:
    """An RFC 3339 / ISO 8601 date-time (`T` or space, `.` or `,` fraction up to ns, `Z`,
    `+hh:mm`, `+hhmm`, `+hh` or no zone = UTC) as an aware UTC datetime, else None."""
    if len(text) > 40:
        return None
    if len(text) >= 20 and text[10] == "T" and text[-1] == "Z":
        # Fast path for the common RFC 3339 UTC form; the regex below handles the rest.
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            pass
    match = _ISO.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = UTC
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            return None
        tz = timezone(sign * offset)
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
        )
    except ValueError:
        return None
    return to_utc(stamp)


def to_utc(stamp: datetime) -> datetime | None:
    """`stamp` in UTC, or None where that falls outside datetime's years 1-9999 (say
    0001-01-01T00:00:00+01:00): astimezone raises OverflowError there, which no parser may
    let escape."""
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        return None


def parse_epoch(value: float | int) -> datetime | None:
    """Seconds (or ms / us / ns, guessed by magnitude) since the epoch as an aware UTC datetime."""
    if isinstance(value, bool) or value != value:  # NaN
        return None
    seconds = float(value)
    for _ in range(3):
        if abs(seconds) < 1e11:
            break
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def complete_year(
    month: int, day: int, clock: tuple[int, int, int, int], reference: datetime | None
) -> datetime | None:
    """A year-less timestamp (RFC 3164 `Jan  2 15:04:05`) placed in the year that puts it
    nearest to `reference` (so a December line read in January lands in the previous year).
    Without a reference the year is 1970: the parser must stay pure."""
    hour, minute, second, micro = clock
    ref = reference.astimezone(UTC) if reference else datetime(1970, 1, 1, tzinfo=UTC)
    best: datetime | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            candidate = datetime(year, month, day, hour, minute, second, micro, UTC)
        except ValueError:  # 29 February in a common year
            continue
        if best is None or abs(candidate - ref) < abs(best - ref):
            best = candidate
    return best


# --------------------------------------------------------------------------- structured lines

# Well-known keys of JSON and logfmt application logs, and the ECS field each one feeds.
_KEY_MAP = {
    "@timestamp": "@timestamp",
    "timestamp": "@timestamp",
    "time": "@timestamp",
    "ts": "@timestamp",
    "t": "@timestamp",
    "datetime": "@timestamp",
    "date": "@timestamp",
    "level": "log.level",
    "lvl": "log.level",
    "severity": "log.level",
    "loglevel": "log.level",
    "log.level": "log.level",
    "levelname": "log.level",
    "msg": "message",
    "message": "message",
    "logger": "log.logger",
    "logger_name": "log.logger",
    "log.logger": "log.logger",
    "service": "service.name",
    "service.name": "service.name",
    "app": "service.name",
    "application": "service.name",
    "host": "host.name",
    "hostname": "host.name",
    "host.name": "host.name",
    "pid": "process.pid",
    "process.pid": "process.pid",
    "thread": "process.thread.name",
    "process.thread.name": "process.thread.name",
    "thread_name": "process.thread.name",
    "error": "error.message",
    "err": "error.message",
    "error.message": "error.message",
    "exception": "error.stack_trace",
    "stack_trace": "error.stack_trace",
    "stacktrace": "error.stack_trace",
    "error.stack_trace": "error.stack_trace",
    "error.type": "error.type",
}


def structured_fields(pairs: dict[str, Any]) -> Fields:
    """Map a JSON object or logfmt pairs onto ECS fields; everything else goes to `attributes`.

    A well-known key whose value has the wrong shape (a `level` that is not a level, a `time`
    that is not a time) is kept in `attributes` rather than dropped.
    """
    fields: Fields = {}
    rest: dict[str, Any] = {}
    key_map = _KEY_MAP
    for key, value in pairs.items():
        target = key_map.get(key)  # None for any key that is not a known string
        if target is None or target in fields:
            rest[key] = value
        elif type(value) is str and target in _TEXT_TARGETS:
            fields[target] = value  # what _convert returns for these, without the call
        else:
            converted = _convert(target, value)
            if converted is None:
                rest[key] = value
            else:
                fields[target] = converted
    if rest:
        fields["attributes"] = rest
    return fields


# Targets that `_convert` takes as they are when the value is a string.
_TEXT_TARGETS = frozenset(_KEY_MAP.values()) - {"@timestamp", "log.level", "process.pid"}


def _convert(target: str, value: Any) -> Any:
    if target == "@timestamp":
        if isinstance(value, str):
            return parse_iso_timestamp(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parse_epoch(value)
        return None
    if target == "log.level":
        return normalise_level(value)
    if target == "process.pid":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
            return value
        # isdigit() alone also accepts digits int() refuses, such as "¹".
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
            return int(value)
        return None
    if isinstance(value, str):
        return value
    if target == "message" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
