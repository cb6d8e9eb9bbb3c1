"""Line parsers, one module per format, and the dispatcher that picks one.

Each module has `parse(line, reference) -> Fields` (raising only ParseError) and a cheap
`looks_like(line) -> bool`; see `common.py` for the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipeline.ingest.parsers import access, container, json_line, logfmt, plaintext, syslog
from pipeline.ingest.parsers.common import Fields, ParseError

Parse = Callable[[bytes, datetime | None], Fields]

PARSERS: dict[str, Parse] = {
    "json": json_line.parse,
    "logfmt": logfmt.parse,
    "syslog": syslog.parse,
    "access": access.parse,
    "container": container.parse,
    "plaintext": plaintext.parse,
}

# Auto-detection order: the most specific signatures first. Container lines come before JSON
# because Docker's json-file line is itself a JSON object; plain text takes whatever is left.
_DETECT: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("container", container.looks_like),
    ("json", json_line.looks_like),
    ("syslog", syslog.looks_like),
    ("access", access.looks_like),
    ("logfmt", logfmt.looks_like),
)
# Formats whose lines are worth a dead letter when they fail: a line that starts like JSON but
# is not JSON is broken output, whereas a line that merely starts like syslog is still a line.
_STRICT = frozenset({"json"})


def detect(line: bytes) -> str:
    """The format a line most likely has (a PARSERS key)."""
    for name, looks_like in _DETECT:
        if looks_like(line):
            return name
    if line.lstrip()[:2] == b'{"':
        return "json"  # starts like a JSON object but is not one: truncated or broken output
    return "plaintext"


def parse_line(
    line: bytes,
    fmt: str = "auto",
    reference: datetime | None = None,
    decoded: dict[str, Any] | None = None,
) -> tuple[str, Fields]:
    """Parse one line as `fmt` (or the detected format); return (format, fields).

    `decoded` is the line already decoded as a JSON object, when the envelope had to decode it.
    Raises ParseError if the line is not in the fixed format, or if auto-detection picked a
    strict format that then failed.
    """
    if fmt != "auto":
        return fmt, _run(fmt, line, reference, decoded)
    name = "json" if decoded is not None else detect(line)
    if decoded is not None and container.is_docker_object(decoded):
        name = "container"
    try:
        fields = _run(name, line, reference, decoded)
    except ParseError:
        if name in _STRICT:
            raise
        name, fields = "plaintext", plaintext.parse(line, reference)
    if name == "container":
        fields = _inner(fields, reference)
    return name, fields


def _run(
    name: str, line: bytes, reference: datetime | None, decoded: dict[str, Any] | None
) -> Fields:
    # The envelope may have decoded the line already: a Docker json-file line shipped as is,
    # or an application's JSON log. Decoding it twice would cost a third of the parse time.
    if name == "container" and decoded is not None:
        return container.from_object(decoded)
    if name == "json" and decoded is not None:
        return json_line.from_object(decoded)
    return PARSERS[name](line, reference)


def _inner(outer: Fields, reference: datetime | None) -> Fields:
    """A container line wraps the application's own line: parse that too, when it is
    structured, keeping the runtime's timestamp and stream where the app gives none."""
    message = outer.get("message")
    if not isinstance(message, str) or not message:
        return outer
    raw = message.encode("utf-8", "surrogatepass")
    name = detect(raw)
    if name in ("container", "plaintext"):
        inner = plaintext.parse(raw, reference)
    else:
        try:
            inner = PARSERS[name](raw, reference)
        except ParseError:
            return outer
    merged = {**outer, **inner}
    if "@timestamp" in outer and "@timestamp" not in inner:
        merged["@timestamp"] = outer["@timestamp"]
    if "tags" in outer:
        merged["tags"] = list(outer["tags"]) + [
            t for t in inner.get("tags", []) if t not in outer["tags"]
        ]
    return merged
