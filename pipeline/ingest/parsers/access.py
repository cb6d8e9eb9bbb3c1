"""Web server access logs: the NCSA common and combined formats written by Apache and nginx.

    host ident authuser [10/Oct/2000:13:55:36 -0700] "GET /a?b=c HTTP/1.0" 200 2326 "ref" "ua"

Handled variants:

- common format (no referrer / user agent) and combined format;
- `-` for the byte count, the referrer, the user agent and the user;
- an empty request (`"-"` or `""`, what nginx logs for a connection closed before a request);
- a malformed request line (TLS to a plain port, scanners): kept whole as `url.original`;
- Apache's `\\"` and `\\\\` escapes inside quoted fields (nginx writes `\\xHH` instead, which is
  kept as written: undoing it could yield invalid UTF-8);
- IPv6 clients, and nginx client lists built from X-Forwarded-For (`10.0.0.1, 10.0.0.2 ...`,
  optionally quoted), where, as Filebeat's nginx module does, the client is the first public
  address of the list, else its first entry;
- anything after the combined fields (nginx `$request_time`, a quoted X-Forwarded-For, ...)
  is tolerated and ignored; so is a referrer / user-agent pair that does not read as two
  quoted fields (say, an unescaped quote in the agent): the line then parses as common format.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from pipeline.ingest.parsers.common import Fields, ParseError, decode

# One pass, no nested quantifiers. The client is everything before `ident user [`: it cannot
# contain `[`, so the timestamp is the first `[` of the line and a failed match stays linear.
# ASCII mode keeps `\d` to 0-9 (int() would otherwise accept other scripts' digits).
_PATTERN = (
    r"([^\[]+?) [^ ]+ ([^ ]+) "  # client, ident (unused), user
    r"\[(\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d(?:\.\d{1,9})? [+-]\d{4})\] "
    r'"(QUOTED)" (\d{3}) (\d{1,18}|-)'  # request, status, bytes
    r'(?: "(QUOTED)" "(QUOTED)")?'  # referrer, user agent
    r"(?: .*)?"  # whatever a custom format appends
)
# A quoted field. Most lines hold no backslash at all, and for them `[^"]*` is exact and
# several times faster than the escape-aware form; the latter's alternatives start on
# different characters, so it never has two ways to read the same text.
_LINE = re.compile(_PATTERN.replace("QUOTED", r'[^"]*'), re.ASCII | re.DOTALL)
_LINE_ESCAPED = re.compile(_PATTERN.replace("QUOTED", r'(?:[^"\\]|\\.)*'), re.ASCII | re.DOTALL)

# Same prefix as _LINE up to the date, with bounded repeats: enough to tell an access line
# from JSON, syslog or logfmt without reading the whole line.
_LOOKS = re.compile(
    rb"[^\[\n]{1,512}? [^ \n]{1,256} [^ \n]{1,256} \[\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d"
)

# RFC 9110 methods are tokens; real ones are words of letters, digits, `-` and `_` (WebDAV's
# VERSION-CONTROL, SSDP's M-SEARCH). Anything else in first position is a malformed request.
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}", re.ASCII)
_VERSION = re.compile(r"HTTP/(\d{1,2}(?:\.\d{1,2})?)", re.ASCII)
_UNESCAPE = re.compile(r'\\(["\\])')
_CLIENT_SPLIT = re.compile(r'[",\s]+')

_MONTHS = {
    name: number
    for number, month in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
    for name in (month, month.title(), month.upper())
}

# Reading the zone is a few string slices, but a log has only a handful of distinct zones.
_ZONES: dict[str, timedelta] = {}


def looks_like(line: bytes) -> bool:
    """Whether the line starts like a common/combined access line (client, ident, user and a
    `[dd/Mon/yyyy:HH:MM:SS` stamp). Cheap: reads at most about a kilobyte."""
    return _LOOKS.match(line) is not None


def parse(line: bytes, reference: datetime | None = None) -> Fields:
    """Parse one access-log line into ECS fields.

    Keys: `source.address`, `source.ip` (when the client is an IP address), `user.name`,
    `@timestamp`, `http.request.method`, `url.original`, `url.path`, `url.query`,
    `http.version`, `http.response.status_code`, `http.response.body.bytes`,
    `http.request.referrer`, `user_agent.original`, `message` (the whole line) and
    `log.level` (from the status: 5xx error, 4xx warn, else info). Fields logged as `-` are
    absent. `reference` is unused: the line's stamp always has a year and a zone.

    Raises ParseError: `access.empty`, `invalid_utf8`, `access.no_match` or
    `access.bad_timestamp`.
    """
    if not line:
        raise ParseError("access.empty")
    text = decode(line)
    if "\\" in text:
        # Apache escapes `"` as `\"`, which only the escape-aware form reads; nginx with
        # `escape=none` may write a lone `\` before a closing quote, which only the plain
        # form reads. Apache's reading wins unless only nginx's finds the user agent.
        match = _LINE_ESCAPED.fullmatch(text)
        if match is None or match.group(8) is None:
            plain = _LINE.fullmatch(text)
            if plain is not None and (match is None or plain.group(8) is not None):
                match = plain
    else:
        match = _LINE.fullmatch(text)
    if match is None:
        raise ParseError("access.no_match")
    client, user, stamp, request, status, size, referrer, agent = match.groups()
    fields: Fields = {"@timestamp": _timestamp(stamp), "message": text}

    address, ip = _cached_client(client) if len(client) <= 256 else _client(client)
    if address is not None:
        fields["source.address"] = address
        if ip is not None:
            fields["source.ip"] = ip
    if user != "-":
        fields["user.name"] = _unescape(user)
    if request and request != "-":
        _request(fields, _unescape(request))
    code = int(status)
    fields["http.response.status_code"] = code
    fields["log.level"] = "error" if code >= 500 else "warn" if code >= 400 else "info"
    if size != "-":
        fields["http.response.body.bytes"] = int(size)
    if referrer and referrer != "-":
        fields["http.request.referrer"] = _unescape(referrer)
    if agent and agent != "-":
        fields["user_agent.original"] = _unescape(agent)
    return fields


# Lines of one log share their second; the stamp text is a cheap key for the whole conversion.
@lru_cache(maxsize=256)
def _timestamp(stamp: str) -> datetime:
    """`dd/Mon/yyyy:HH:MM:SS[.fff] +zzzz` (shape already checked by _LINE) as UTC."""
    month = _MONTHS.get(stamp[3:6])
    offset = _zone(stamp[-5:])
    if month is None or offset is None:
        raise ParseError("access.bad_timestamp", stamp)
    micro = int(stamp[21:-6][:6].ljust(6, "0")) if stamp[20] == "." else 0
    try:
        moment = datetime(
            int(stamp[7:11]),
            month,
            int(stamp[0:2]),
            int(stamp[12:14]),
            int(stamp[15:17]),
            int(stamp[18:20]),
            micro,
            UTC,
        )
        return moment - offset
    except (ValueError, OverflowError):
        raise ParseError("access.bad_timestamp", stamp) from None


def _zone(zone: str) -> timedelta | None:
    offset = _ZONES.get(zone)
    if offset is None:
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        if zone[0] == "-":
            offset = -offset
        _ZONES[zone] = offset
    return offset


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(r"\1", text) if "\\" in text else text


def _client(text: str) -> tuple[str | None, str | None]:
    """(source.address, source.ip) for the text before ident (one client or a list)."""
    if "," not in text and " " not in text and '"' not in text:
        if text == "-":
            return None, None
        return text, text if _is_ip(text) else None
    entries = [entry for entry in _CLIENT_SPLIT.split(text) if entry]
    if not entries:
        return None, None
    # Filebeat's rule: an X-Forwarded-For chain starts with the real client, possibly behind
    # private hops; the first public address is the best guess at who made the request.
    for entry in entries:
        try:
            if ipaddress.ip_address(entry).is_global:
                return entry, entry
        except ValueError:
            continue
    first = entries[0]
    return first, first if _is_ip(first) else None


# A log repeats its clients, and ipaddress is the slowest step of a parse. parse() goes around
# the cache for implausibly long client texts, so that the cache stays small.
_cached_client = lru_cache(maxsize=4096)(_client)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _request(fields: Fields, request: str) -> None:
    """Split `METHOD target HTTP/x.y` into its fields; anything else is kept whole."""
    method, _, rest = request.partition(" ")
    target, _, protocol = rest.rpartition(" ")
    version = _VERSION.fullmatch(protocol)
    if version is None:
        # HTTP/0.9 has no version (`GET /path`); more words than that is no request line.
        target = rest if " " not in rest else ""
    if not target or not _METHOD.fullmatch(method):
        fields["url.original"] = request
        return
    fields["http.request.method"] = method
    fields["url.original"] = target
    if version is not None:
        fields["http.version"] = version.group(1)
    if target.startswith("/"):
        path, _, query = target.partition("?")
    elif "://" in target:
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. an unbalanced `[` in the host part
            return
        path, query = parts.path, parts.query
    else:
        return  # `CONNECT host:443`, `OPTIONS *`: no path to speak of
    if path:
        fields["url.path"] = path
    if query:
        fields["url.query"] = query
