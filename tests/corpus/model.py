"""What a corpus sample is, and the small pure pieces every extractor shares: the level names,
the continuation-line heuristic and the reading of a stated time.

The extractors (`extract_files`, `extract_code`, `extract_specs`) build `Sample`s from the
third-party corpus; `formats.samples` gathers them. Nothing here reads the corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

# --------------------------------------------------------------------------- samples


@dataclass(frozen=True)
class Sample:
    """One log line from the corpus, with what its source states about it.

    `timestamp` is an aware UTC instant where the source states one (a zone or offset in the
    line or in the expected value, or an epoch). Where the source states only a wall-clock time
    (no zone; or a year the line does not hold, supplied by the test: "now", 1990, 0),
    `timestamp` is None and `wall_clock` holds it naive; `year_stated` then says whether its
    year comes from the line (False: compare without the year). `timestamp_unit_us` > 1 means
    the stated instant is the true one truncated to that many microseconds (Filebeat's MySQL
    expectations are cut to milliseconds while the lines hold microseconds).
    """

    family: str
    source: str
    line: bytes
    continuation: bool = False
    timestamp: datetime | None = None
    wall_clock: datetime | None = None
    year_stated: bool = True
    timestamp_unit_us: int = 1
    level: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Skip:
    """Cases of a source that did not become samples, and why (the report's footer)."""

    source: str
    count: int
    why: str


# --------------------------------------------------------------------------- levels

# edgewatch's level vocabulary (docs/ingest.md, "The document").
LEVELS = (
    "trace",
    "debug",
    "info",
    "notice",
    "warn",
    "error",
    "critical",
    "alert",
    "emergency",
    "fatal",
)

# The level names the sources state, lower-cased, onto edgewatch's vocabulary. lnav names
# (trace, debug, debug2-5, info, stats, notice, warning, error, critical, fatal); severity
# letters (glog/klog I W E F, Android logcat V D I W E F, MongoDB D I W E F), which mean the
# same in every source here; syslog severity keywords (easypost's enum: emerg, crit, err);
# java.util.logging's SEVERE (as Tomcat writes it) is an error; MySQL 8's priorities:
# Note is informational, and so is System (startup, shutdown: MySQL's own syslog sink
# writes both at LOG_INFO), as edgewatch's level table has them.
LEVEL_NAMES: dict[str, str] = {
    "trace": "trace",
    "verbose": "trace",
    "v": "trace",
    "debug": "debug",
    "debug2": "debug",
    "debug3": "debug",
    "debug4": "debug",
    "debug5": "debug",
    "d": "debug",
    "info": "info",
    "informational": "info",
    "stats": "info",
    "note": "info",
    "i": "info",
    "notice": "notice",
    "system": "info",
    "warn": "warn",
    "warning": "warn",
    "w": "warn",
    "error": "error",
    "err": "error",
    "severe": "error",
    "e": "error",
    "critical": "critical",
    "crit": "critical",
    "alert": "alert",
    "emergency": "emergency",
    "emerg": "emergency",
    "fatal": "fatal",
    "f": "fatal",
}

# Syslog severity codes 0-7 (RFC 5424 section 6.2.1) in edgewatch's names.
SYSLOG_SEVERITIES = ("emergency", "alert", "critical", "error", "warn", "notice", "info", "debug")


def level(name: str) -> str:
    """A stated level name in edgewatch's vocabulary; KeyError if the mapping lacks it (a new
    source's name should be added to LEVEL_NAMES knowingly, not guessed)."""
    return LEVEL_NAMES[name.strip().lower()]


# --------------------------------------------------------------------------- continuation lines

# Lines that cannot start an entry in any format here: stack frames, chained causes, Python's
# traceback header, and anything indented.
_CONTINUATION_STARTS = (b"at ", b"Caused by", b"...", b"Traceback")


def start_kind(line: bytes) -> str:
    """How a line starts: 'space', 'digit', 'bracket' (an opening bracket or a quote:
    [ { < ( ") or 'other' (a letter or any other sign)."""
    first = line[:1]
    if first.isspace():
        return "space"
    if first.isdigit():
        return "digit"
    if first in (b"[", b"{", b"<", b"(", b'"'):
        return "bracket"
    return "other"


def entries_lead_with_digit_or_bracket(lines: list[bytes]) -> bool:
    """Whether a file's entries start with a digit or bracket - its first line does, or most
    of its non-indented lines do - so that a line starting with a letter continues an entry.
    (A file of `Dec 13 ...` or `E0517 ...` entries says nothing about such a line.)"""
    kinds = [start_kind(line) for line in lines if start_kind(line) != "space"]
    if not kinds:
        return False
    leading = sum(kind in ("digit", "bracket") for kind in kinds)
    return kinds[0] in ("digit", "bracket") or leading * 2 > len(kinds)


def is_continuation(line: bytes, strict: bool = False) -> bool:
    """Whether `line` continues the entry before it (a shipper without multiline joining sends
    it on its own): indented, a frame or cause of a stack trace, or - in a file whose entries
    start with a digit or bracket (`strict`) - a line that starts with neither."""
    if start_kind(line) == "space" or line.startswith(_CONTINUATION_STARTS):
        return True
    return strict and start_kind(line) == "other"


def split_case(family: str, source: str, text: str, **stated: Any) -> list[Sample]:
    """A test case's input as samples. Its first line carries what the source states; each
    further line of a multi-line input is a continuation line, and the stated message, which
    then spans lines, is dropped (no one line holds it)."""
    first, *rest = text.split("\n")
    if any(more.strip() for more in rest):
        stated.pop("message", None)
    head = first.encode("utf-8", "surrogateescape")
    out = [Sample(family, source, head, continuation=is_continuation(head), **stated)]
    for k, more in enumerate(rest, start=1):
        if more.strip():
            line = more.encode("utf-8", "surrogateescape")
            out.append(Sample(family, f"{source}+{k}", line, continuation=True))
    return out


# --------------------------------------------------------------------------- stated times


class When(NamedTuple):
    """A time as a source states it: an instant, or a naive wall-clock time."""

    timestamp: datetime | None
    wall_clock: datetime | None
    year_stated: bool = True


_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s?(Z|[+-]\d\d:?\d\d)?",
)


def _fraction_us(digits: str | None) -> int:
    """Fractional-second digits as microseconds, truncated (not rounded) past six."""
    return int((digits or "").ljust(6, "0")[:6])


def _offset(text: str) -> timedelta:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def iso_time(text: str) -> When:
    """`YYYY-MM-DD[T ]HH:MM:SS[.,frac][Z|±HH[:]MM]`: an instant with a zone, a wall-clock time
    without. ValueError if `text` is not one."""
    match = _ISO.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    naive = datetime(year, month, day, hour, minute, second, _fraction_us(match[7]))
    zone = match[8]
    if zone is None:
        return When(None, naive)
    shift = timedelta(0) if zone == "Z" else _offset(zone)
    return When((naive - shift).replace(tzinfo=UTC), None)


def epoch_time(text: str) -> datetime:
    """`seconds[.frac]` since the epoch as an aware instant (integer arithmetic: a float
    would lose microseconds)."""
    seconds, _, fraction = text.strip().partition(".")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        seconds=int(seconds), microseconds=_fraction_us(fraction)
    )


# Wall-clock layouts the grok specs state (Apache error log, Tomcat, BSD syslog); %z layouts
# give instants. Tried in order; the fraction, if any, is cut to microseconds first.
_LAYOUTS = (
    ("%a %b %d %H:%M:%S.%f %Y", True),
    ("%a %b %d %H:%M:%S %Y", True),
    ("%b %d, %Y %I:%M:%S %p", True),
    ("%d-%b-%Y %H:%M:%S.%f", True),
    ("%d/%b/%Y:%H:%M:%S.%f %z", True),
    ("%d/%b/%Y:%H:%M:%S %z", True),
    ("%Y-%m-%d %H:%M:%S.%f %z", True),
    ("%b %d %H:%M:%S", False),
)


def stated_time(text: str) -> When:
    """A time as a spec states it in text: an epoch, ISO 8601, or one of the layouts above.
    ValueError if none fits."""
    text = text.strip()
    if re.fullmatch(r"\d{9,10}(\.\d+)?", text):
        return When(epoch_time(text), None)
    try:
        return iso_time(text)
    except ValueError:
        pass
    cut = re.sub(r"(:\d\d)[.,](\d{1,6})\d*", r"\1.\2", text)
    cut = re.sub(r"  +", " ", cut)
    for layout, has_year in _LAYOUTS:
        try:
            parsed = datetime.strptime(cut, layout)
        except ValueError:
            continue
        if parsed.tzinfo is not None:
            return When(parsed.astimezone(UTC), None)
        return When(None, parsed, has_year)
    raise ValueError(f"no known layout for {text!r}")
