"""The fallback parser: any other line of text, kept whole as `message`.

It never fails on non-empty valid UTF-8. On top of the message it sniffs, cheaply:

- a leading timestamp (optionally in `[...]`): RFC 3339 / ISO 8601 with `T` or a space, `.` or
  `,` fraction and an optional zone (`2024-01-02T15:04:05.123Z`, Java's
  `2024-01-02 15:04:05,123`), Go's `2024/01/02 15:04:05.000000`, BSD `Jan  2 15:04:05` (the
  year completed from `reference`), C `asctime` with year (`Wed Oct 11 14:32:52 2000`, as in
  Apache's error log) and klog (`I0102 15:04:05.123456`, whose first letter is the level);
- a level word just after it: upper-case `ERROR`/`WARN`/..., any case in brackets (`[error]`,
  `[core:warn]`), `level=...`, or `error:`/`panic:` at the start or after `: `;
- failing that, well-known error markers: a Go `fatal error:`, `Kernel panic` (fatal), Python's
  `Traceback (most recent call last):`, Java's `Exception in thread` and `Caused by:`, an
  exception class name opening the line (`java.lang.IllegalStateException: ...`,
  `ValueError: ...`), the Linux OOM killer (`Out of memory: Killed process`, `oom-kill`) and
  Kubernetes' `OOMKilled` (all error).

A zone-less timestamp is UTC. Only a bounded head of the line is matched against patterns; the
marker scan over the whole line is plain substring search, so no line can make this slow.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta, timezone

from pipeline.ingest.parsers.common import (
    Fields,
    ParseError,
    complete_year,
    decode,
    normalise_level,
    to_utc,
)

_HEAD = 64  # where a timestamp may start: leading blanks and an opening bracket
_WINDOW = 160  # how far after the timestamp a level word is looked for

_ISO = re.compile(
    r"(\d{4})([-/])(\d\d)\2(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    r"(?:([Zz])|([+-]\d\d(?::?\d\d)?)|\s([+-]\d\d:?\d\d)|\s?(UTC|GMT))?(?![\w:])",
    re.ASCII,
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_BSD = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}),? "
    r"(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?: (\d{4})(?!\d))?(?![\w:])",
    re.ASCII,
)
_KLOG = re.compile(r"([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) ", re.ASCII)
_KLOG_LEVELS = {"I": "info", "W": "warn", "E": "error", "F": "fatal"}

# Level candidates: the leftmost one whose word normalise_level accepts wins ("[main]" is
# skipped). One pattern per kind, each opening with a literal so the engine skips ahead to
# candidates, and each run only when a substring test says it can match: a single combined
# pattern costs several microseconds on a line that has no level at all.
_BRACKETED = re.compile(r"\[ ?(?:[\w.-]{1,32}:)?([A-Za-z]{1,11}) {0,3}\]", re.ASCII)  # [core:warn]
_KEYED = re.compile(  # level=warn, severity: ERROR
    r"l(?:evel|vl|oglevel) ?[=:] ?\"?([A-Za-z]{1,11})|severity ?[=:] ?\"?([A-Za-z]{1,11})", re.ASCII
)
_UPPER = re.compile(
    r"TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT"
    r"|EMERGENCY|EMERG|PANIC|DBG|INF|WRN|EROR|FTL",
    re.ASCII,
)
_COLONED = re.compile(  # error: / Warning: / panic:, checked only where a "tag: " allows it
    r"(trace|debug|info|notice|warning|warn|error|critical|fatal|panic"
    r"|Trace|Debug|Info|Notice|Warning|Warn|Error|Critical|Fatal|Panic):",
    re.ASCII,
)
_WORD_CHARS = frozenset(string.ascii_letters + string.digits + "_")
# Not a level word when glued to these: INFO_FILE, /api/INFO, x.DEBUG, WARN-ish.
_BEFORE_WORD = _WORD_CHARS | frozenset("./-")
_AFTER_WORD = _WORD_CHARS | frozenset("/-")
# A thrown exception's first line: an optionally dotted class name ending in Exception/Error
# and then ':' or the end (java.lang.NullPointerException, ValueError: ..., Error: ...).
_EXCEPTION = re.compile(
    r"(?:Caused by: |Uncaught |Unhandled )?(?:[A-Za-z_$][\w$]{0,80}\.){0,16}[\w$]{0,80}"
    r"(?:Exception|Error|Throwable)(?::|$)",
    re.ASCII,
)
_OOM = re.compile(r"\bOOM|\boom[-_]kill|Out of memory", re.ASCII)


def looks_like(line: bytes) -> bool:
    """Always True for a non-empty line: plain text is what is left when nothing else fits."""
    return bool(line)


def parse(line: bytes, reference: datetime | None = None) -> Fields:
    """The line as `message`, with `@timestamp` and `log.level` when they can be sniffed.

    ParseError only for an empty line (`empty`) or invalid UTF-8 (`invalid_utf8`).
    `reference` completes year-less timestamps (BSD, klog); without it they land in 1970.
    """
    if not line:
        raise ParseError("empty", "empty line")
    text = decode(line)
    fields: Fields = {"message": text}
    stamp, end, level = _timestamp(text, reference)
    if stamp is not None:
        fields["@timestamp"] = stamp
    rest = text[end : end + _WINDOW].lstrip(" \t")
    if level is None:
        level = _level_word(rest)
    if level is None:
        level = _marker(text, rest)
    if level is not None:
        fields["log.level"] = level
    return fields


def _timestamp(text: str, reference: datetime | None) -> tuple[datetime | None, int, str | None]:
    """(timestamp, where the text after it starts, klog level) for a leading timestamp."""
    head = text[:_HEAD]
    pos = len(head) - len(head.lstrip())
    bracket = head[pos : pos + 1] == "["
    pos += bracket
    first = head[pos : pos + 1]
    stamp: datetime | None = None
    level: str | None = None
    end = 0
    if first.isdigit():
        match = _ISO.match(text, pos)
        if match is not None:
            stamp, end = _from_iso(match), match.end()
    elif first in ("I", "W", "E", "F") and head[pos + 1 : pos + 2].isdigit():
        match = _KLOG.match(text, pos)
        if match is not None:
            lvl, month, day, hour, minute, second, micro = match.groups()
            clock = (int(hour), int(minute), int(second), int(micro))
            stamp = complete_year(int(month), int(day), clock, reference)
            if stamp is not None:
                level, end = _KLOG_LEVELS[lvl], match.end()
    elif first.isalpha():
        match = _BSD.match(text, pos)
        if match is not None:
            stamp, end = _from_bsd(match, reference), match.end()
    if stamp is None:
        return None, 0, None
    if bracket and text[end : end + 1] == "]":
        end += 1
    return stamp, end, level


def _from_iso(match: re.Match[str]) -> datetime | None:
    year, _, month, day, hour, minute, second, frac, _z, offset, spaced, _utc = match.groups()
    tz = UTC
    offset = offset or spaced
    if offset:
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours >= 24 or minutes >= 60:
            return None
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), _micro(frac), tz
        )
    except ValueError:  # 31 February, hour 25, leap second 60
        return None
    return to_utc(stamp)


def _from_bsd(match: re.Match[str], reference: datetime | None) -> datetime | None:
    month_name, day, hour, minute, second, frac, year = match.groups()
    month = _MONTHS[month_name]
    clock = (int(hour), int(minute), int(second), _micro(frac))
    if year is None:
        return complete_year(month, int(day), clock, reference)
    try:
        return datetime(int(year), month, int(day), *clock, tzinfo=UTC)
    except ValueError:
        return None


def _micro(frac: str | None) -> int:
    return int(frac[:6].ljust(6, "0")) if frac else 0


def _level_word(rest: str) -> str | None:
    """The level named by the leftmost level word in `rest` (the text after the timestamp)."""
    limit, found = len(rest), None
    if "[" in rest:
        for match in _BRACKETED.finditer(rest, 0, limit):
            level = normalise_level(match.group(1).rpartition(":")[2])
            if level is not None:
                limit, found = match.start(), level
                break
    for match in _UPPER.finditer(rest, 0, limit):
        start, end = match.span()
        if (start and rest[start - 1] in _BEFORE_WORD) or rest[end : end + 1] in _AFTER_WORD:
            continue
        level = normalise_level(match.group())
        if level is not None:
            limit, found = start, level
            break
    keyed = "level" in rest or "lvl" in rest or "severity" in rest
    if keyed and ("=" in rest or ":" in rest):
        for match in _KEYED.finditer(rest, 0, limit):
            start, end = match.span()
            if (start and rest[start - 1] in _BEFORE_WORD) or rest[end : end + 1] in _AFTER_WORD:
                continue
            level = normalise_level(match.group(match.lastindex or 0))
            if level is not None:
                limit, found = start, level
                break
    if ":" in rest:
        start = 0
        while 0 <= start < limit:
            coloned = _COLONED.match(rest, start)
            if coloned is not None:
                return normalise_level(coloned.group(1))
            start = rest.find(": ", start, limit)
            start = start + 2 if start >= 0 else -1
    return found


def _marker(text: str, rest: str) -> str | None:
    """A level implied by an error marker, for lines that state none."""
    if rest.startswith("fatal error:") or "ernel panic" in text:
        return "fatal"
    if "Traceback (most recent call last):" in text or "Exception in thread " in text:
        return "error"
    if ("Exception" in rest or "Error" in rest or "Throwable" in rest) and _EXCEPTION.match(rest):
        return "error"
    if ("OOM" in text or "oom" in text or "Out of memory" in text) and _OOM.search(text):
        return "error"
    return None
