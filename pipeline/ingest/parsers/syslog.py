"""Syslog lines: RFC 5424, RFC 3164 (BSD) and the variants seen in real files and relays.

Accepted shapes (one line, without its trailing newline):

- RFC 5424: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`, `-` for NILVALUE,
  structured data `[id name="value" ...]...` with `\\"`, `\\]`, `\\\\` escapes, optional BOM before
  MSG. The header is checked as the RFC says (field lengths, printable ASCII, single spaces,
  mandatory zone in the timestamp); deliberate leniencies: up to 9 fraction digits in the
  timestamp, spaces around `=` and between SD parameters.
- RFC 3164: `[<PRI>]TIMESTAMP [HOSTNAME] [TAG[\\[PID\\]]:] MSG`, where TIMESTAMP is the BSD
  `Mmm dd hh:mm:ss` (year completed from `reference`, optional fraction) or an RFC 3339 /
  ISO 8601 date-time (rsyslog's high-precision format); PRI is optional so that plain
  /var/log/syslog files parse. A TAG without PID needs its colon; `tag[pid]` may omit it.
- An RFC 6587 octet-counting prefix (`123 <PRI>...`) is dropped when its count fits the line.

Multi-line entries must be joined upstream; the embedded newlines then stay in `message`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from pipeline.ingest.parsers.common import (
    SYSLOG_SEVERITIES,
    Fields,
    ParseError,
    complete_year,
    parse_iso_timestamp,
    to_utc,
)

__all__ = ["FACILITIES", "SEVERITIES", "looks_like", "parse"]

# RFC 5424 table 1, with the keywords rsyslog / syslog-ng / Filebeat use for them.
FACILITIES = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
)
# RFC 5424 table 2 names as ECS / Filebeat spell log.syslog.severity.name; log.level gets the
# project's normalised spelling from SYSLOG_SEVERITIES instead.
SEVERITIES = (
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
)

_MONTHS = {
    "Jan": 1,
    "Feb": 2,
    "Mar": 3,
    "Apr": 4,
    "May": 5,
    "Jun": 6,
    "Jul": 7,
    "Aug": 8,
    "Sep": 9,
    "Oct": 10,
    "Nov": 11,
    "Dec": 12,
}
_MONTH_PREFIXES = frozenset(name.encode() + b" " for name in _MONTHS)

# Every pattern below is a sequence of disjoint character classes, so a failing match is
# linear in the input: nothing can backtrack into an earlier repetition.
_TS_5424 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|([+-])(\d\d):(\d\d))\Z",
    re.ASCII,
)
_TS_BSD = re.compile(
    r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?", re.ASCII
)
# SD-NAME: printable US-ASCII except `=`, space, `]` and `"` (RFC 5424 section 6).
_SD_ID = re.compile(r"\[([!#-<>-\\^-~]{1,32})")
_SD_PARAM = re.compile(r' +([!#-<>-\\^-~]{1,32}) *= *"((?:[^"\\\]]|\\.)*)"', re.DOTALL)
_SD_ESCAPE = re.compile(r'\\([\\"\]])')
# A 3164 TAG: `name[pid]` with optional colon, or `name:`; the colon-less `name` alone is not
# a tag, since "host free text" must keep its first word in the message.
_TAG = re.compile(r"([^\s:\[\]]{1,64})(?:\[([^\s\[\]]{1,128})\](?:: ?| |\Z)|:(?: |\Z))")

_BOM = "\ufeff"
_NIL = "-"
_OFFSETS: dict[str, timezone] = {}


def looks_like(line: bytes) -> bool:
    """A cheap guess that `line` is syslog: `<digit`, a BSD month then a space, or an
    octet-count prefix before `<`. ISO-timestamped lines without PRI are not claimed here:
    too many application formats start the same way."""
    first = line[:1]
    if first == b"<":
        return line[1:2].isdigit()
    if line[:4] in _MONTH_PREFIXES:
        return True
    if first.isdigit():
        space = line.find(b" <", 1, 8)
        return space > 0 and line[:space].isdigit()
    return False


def parse(line: bytes, reference: datetime | None = None) -> Fields:
    """Parse one syslog line (RFC 5424 or RFC 3164 and common variants) into ECS fields.

    `reference` (when the line was received) only completes the year of BSD timestamps.
    Raises ParseError with a `syslog.*` reason for anything that is not syslog.
    """
    if not line:
        raise ParseError("syslog.empty")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParseError("syslog.invalid_utf8", f"byte {err.start}") from None

    if text[0].isdigit():
        text = _strip_octet_count(text)

    fields: Fields = {}
    rest = text
    if text[0] == "<":
        rest = _priority(text, fields)
        # `<PRI>digits ` is RFC 5424's VERSION; `<PRI>2024-...` is a 3164 line with an ISO date.
        if rest[:1].isdigit() and not (rest[4:5] == "-" and rest[:4].isdigit()):
            _parse_5424(rest, fields)
            return fields
    _parse_3164(rest, fields, reference)
    return fields


def _strip_octet_count(text: str) -> str:
    space = text.find(" ", 1, 8)
    if (
        space < 0
        or not (text[:space].isdigit() and text[:space].isascii())
        or text[space + 1 : space + 2] != "<"
    ):
        return text
    body = text[space + 1 :]
    # The count is in octets and may include the LF / CRLF the line reader removed.
    excess = int(text[:space]) - len(body.encode("utf-8"))
    if not 0 <= excess <= 2:
        raise ParseError("syslog.bad_frame", "octet count does not match the line")
    return body


def _priority(text: str, fields: Fields) -> str:
    end = text.find(">", 1, 5)
    digits = text[1:end] if end > 0 else ""
    if not (digits.isdigit() and digits.isascii()) or (digits[0] == "0" and len(digits) > 1):
        raise ParseError("syslog.bad_priority", text[:5])
    pri = int(digits)
    if pri > 191:
        raise ParseError("syslog.bad_priority", digits)
    facility, severity = divmod(pri, 8)
    fields["log.syslog.priority"] = pri
    fields["log.syslog.facility.code"] = facility
    fields["log.syslog.facility.name"] = FACILITIES[facility]
    fields["log.syslog.severity.code"] = severity
    fields["log.syslog.severity.name"] = SEVERITIES[severity]
    fields["log.level"] = SYSLOG_SEVERITIES[severity]
    return text[end + 1 :]


# --------------------------------------------------------------------------- RFC 5424


def _parse_5424(rest: str, fields: Fields) -> None:
    parts = rest.split(" ", 6)
    version = parts[0]
    if not (version.isdigit() and version.isascii() and len(version) <= 3) or version[0] == "0":
        raise ParseError("syslog.bad_version", version[:8])
    fields["log.syslog.version"] = version
    # Checked before the field count so that a cut-off line reports its first bad field.
    if len(parts) > 1 and parts[1] != _NIL:
        fields["@timestamp"] = _timestamp_5424(parts[1])
    if len(parts) < 7:
        raise ParseError("syslog.bad_header", "truncated RFC 5424 header")
    _, _, hostname, appname, procid, msgid, tail = parts
    if hostname != _NIL:
        fields["log.syslog.hostname"] = fields["host.name"] = _header(hostname, 255)
    if appname != _NIL:
        fields["log.syslog.appname"] = _header(appname, 48)
        fields["service.name"] = fields["process.name"] = appname
    if procid != _NIL:
        fields["log.syslog.procid"] = _header(procid, 128)
        if procid.isdigit() and len(procid) < 10:
            fields["process.pid"] = int(procid)
    if msgid != _NIL:
        fields["log.syslog.msgid"] = _header(msgid, 32)

    if tail[:1] == "[":
        data, pos = _structured_data(tail)
        fields["log.syslog.structured_data"] = data
    elif tail[:1] == _NIL:
        pos = 1
    else:
        raise ParseError("syslog.bad_structured_data", tail[:16])
    if pos < len(tail):
        if tail[pos] != " ":
            raise ParseError("syslog.bad_structured_data", "no space before MSG")
        message = tail[pos + 1 :]
        if message[:1] == _BOM:
            message = message[1:]
        if message:
            fields["message"] = message


def _header(value: str, limit: int) -> str:
    # Empty means two spaces in a row; isprintable() rejects the newlines RFC 5424 forbids here.
    if not value or len(value) > limit or not (value.isascii() and value.isprintable()):
        raise ParseError("syslog.bad_header", value[:32])
    return value


def _timestamp_5424(stamp: str) -> datetime:
    match = _TS_5424.match(stamp)
    if match is None:
        raise ParseError("syslog.bad_timestamp", stamp[:40])
    year, month, day, hour, minute, second, frac, sign, off_h, off_m = match.groups()
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    tz = UTC
    if sign:
        key = sign + off_h + off_m
        tz = _OFFSETS.get(key) or _offset(key, sign, int(off_h), int(off_m))
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError:
        raise ParseError("syslog.bad_timestamp", stamp[:40]) from None
    if tz is UTC:
        return value
    utc = to_utc(value)
    if utc is None:  # beyond year 1 or 9999 once in UTC
        raise ParseError("syslog.bad_timestamp", stamp[:40])
    return utc


def _offset(key: str, sign: str, hours: int, minutes: int) -> timezone:
    if hours > 23 or minutes > 59:
        raise ParseError("syslog.bad_timestamp", f"offset {key}")
    delta = timedelta(hours=hours, minutes=minutes)
    tz = timezone(-delta if sign == "-" else delta)
    _OFFSETS[key] = tz  # at most 2 * 24 * 60 distinct keys, so the cache stays small
    return tz


def _structured_data(tail: str) -> tuple[dict[str, dict[str, str]], int]:
    data: dict[str, dict[str, str]] = {}
    pos = 0
    end = len(tail)
    while pos < end and tail[pos] == "[":
        match = _SD_ID.match(tail, pos)
        if match is None:
            raise ParseError("syslog.bad_structured_data", tail[pos : pos + 16])
        sd_id = match.group(1)
        if sd_id in data:  # RFC 5424 6.3.2: an SD-ID must not occur twice
            raise ParseError("syslog.bad_structured_data", f"duplicate {sd_id}")
        params: dict[str, str] = {}
        pos = match.end()
        while (match := _SD_PARAM.match(tail, pos)) is not None:
            name, value = match.groups()
            if "\\" in value:
                value = _SD_ESCAPE.sub(r"\1", value)
            params[name] = value
            pos = match.end()
        if tail[pos : pos + 1] != "]":
            raise ParseError("syslog.bad_structured_data", tail[pos : pos + 16])
        data[sd_id] = params
        pos += 1
    return data, pos


# --------------------------------------------------------------------------- RFC 3164


def _parse_3164(rest: str, fields: Fields, reference: datetime | None) -> None:
    stamp, pos = _timestamp_3164(rest, reference)
    fields["@timestamp"] = stamp
    if pos < len(rest):
        if rest[pos] != " ":
            raise ParseError("syslog.bad_timestamp", rest[:32])
        pos += 1
    body = rest[pos:].lstrip(" ")

    tag = _TAG.match(body)
    if tag is None and not body.startswith(("---", "last message repeated ")):
        space = body.find(" ")
        host = body if space < 0 else body[:space]
        # A first word that cannot be a host name is message text from a host-less sender.
        if host and len(host) <= 255 and host.isascii() and host.isprintable():
            fields["log.syslog.hostname"] = fields["host.name"] = host
            body = "" if space < 0 else body[space + 1 :]
            tag = _TAG.match(body)
    if tag is not None:
        name, procid = tag.groups()
        fields["log.syslog.appname"] = fields["service.name"] = fields["process.name"] = name
        if procid is not None:
            fields["log.syslog.procid"] = procid
            if procid.isdigit() and procid.isascii() and len(procid) < 10:
                fields["process.pid"] = int(procid)
        body = body[tag.end() :]
    if body:
        fields["message"] = body


def _timestamp_3164(rest: str, reference: datetime | None) -> tuple[datetime, int]:
    match = _TS_BSD.match(rest)
    if match is not None:
        name, day, hour, minute, second, frac = match.groups()
        month = _MONTHS.get(name)
        micro = int(frac.ljust(6, "0")) if frac else 0
        stamp = None
        if month is not None:
            clock = (int(hour), int(minute), int(second), micro)
            stamp = complete_year(month, int(day), clock, reference)
        if stamp is None:
            raise ParseError("syslog.bad_timestamp", rest[:20])
        return stamp, match.end()
    if rest[4:5] == "-" and rest[:4].isdigit():
        space = rest.find(" ")
        token = rest if space < 0 else rest[:space]
        # rsyslog's RFC 3339 stamp takes the stricter, faster 5424 path; others the general one.
        iso = _timestamp_5424(token) if _TS_5424.match(token) else parse_iso_timestamp(token)
        if iso is None:
            raise ParseError("syslog.bad_timestamp", token[:40])
        return iso, len(token)
    raise ParseError("syslog.bad_timestamp", rest[:20])
