"""JSON application logs: one JSON object per line.

Covers the shapes of the common structured loggers: logrus (`time`/`level`/`msg`), zap
(`ts` epoch seconds, `level`, `msg`, `logger`, `caller`, `stacktrace`), bunyan and pino
(numeric `level`, `time`, `pid`, `hostname`, `name`, bunyan's `v`), python-json-logger
(`asctime`/`levelname`/`name`/`message`) and ECS logging, with dotted keys (`"log.level"`) or
nested objects (`{"log": {"level": ...}}`).

Keys are mapped by `common.structured_fields`; what it does not know stays in `attributes`,
as decoded. The few shape-specific rules (pino/bunyan numeric levels, nested ECS objects,
python-json-logger names) live here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from pipeline.ingest.parsers.common import (
    Fields,
    ParseError,
    decode,
    parse_iso_timestamp,
    structured_fields,
)

# Nested ECS objects whose leaves `structured_fields` knows under a dotted name; the leaves
# are lifted out ({"log": {"level": "x"}} -> "log.level"), the rest stays nested as decoded.
_NESTED: dict[str, tuple[str, ...]] = {
    "log": ("level", "logger"),
    "service": ("name",),
    "host": ("name",),
    "process": ("pid",),
    "error": ("message", "type", "stack_trace"),
}
# String fields that ECS logging writes dotted but `structured_fields` does not map (yet).
_EXTRA_STR = ("process.thread.name",)
# Pino and bunyan numeric levels, by lower bound (custom levels fall between the standard ones).
_NUMERIC_LEVELS = ((60, "fatal"), (50, "error"), (40, "warn"), (30, "info"), (20, "debug"))


def looks_like(line: bytes) -> bool:
    """True when the line is braced like a JSON object (`{...}`, surrounding blanks allowed).

    A line that passes and then fails to decode is reported as broken JSON, so both braces are
    required: text that merely starts with `{` is left to the plain-text parser.
    """
    return line.lstrip()[:1] == b"{" and line.rstrip()[-1:] == b"}"


def parse(line: bytes, reference: datetime | None = None) -> Fields:
    """Decode one JSON object and map it to ECS fields.

    ParseError reasons: `invalid_utf8`, `json.invalid` (not JSON, including lone surrogate
    escapes, NaN, nesting deeper than 1024), `json.not_object` (valid JSON of another type).
    """
    del reference  # JSON loggers write full timestamps (or epoch numbers)
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        decode(line)  # raises for invalid UTF-8, the more useful reason
        raise ParseError("json.invalid", str(err)[:120]) from None
    if not isinstance(obj, dict):
        raise ParseError("json.not_object", type(obj).__name__)
    return from_object(obj)


def from_object(obj: dict[str, Any]) -> Fields:
    """Map an already decoded JSON object to ECS fields (never raises)."""
    pairs = _lift_nested(obj)
    numeric_level = _pino_level(obj)
    if numeric_level is not None:
        pairs = {k: v for k, v in pairs.items() if k != "level"}
    fields = structured_fields(pairs)
    if numeric_level is not None:
        fields["log.level"] = numeric_level
        if "v" in obj and "service.name" not in fields:
            _promote(fields, "name", "service.name")  # bunyan: "name" is the app
        elif "log.logger" not in fields:
            _promote(fields, "name", "log.logger")  # pino: "name" is the logger
    attributes = fields.get("attributes")
    if attributes:
        for key in _EXTRA_STR:
            if key not in fields and isinstance(attributes.get(key), str):
                fields[key] = attributes.pop(key)
        if "levelname" in obj:  # python-json-logger: LogRecord attribute names
            if "log.logger" not in fields:
                _promote(fields, "name", "log.logger")
            if "@timestamp" not in fields:
                asctime = attributes.get("asctime")
                stamp = parse_iso_timestamp(asctime) if isinstance(asctime, str) else None
                if stamp is not None:
                    del attributes["asctime"]
                    fields["@timestamp"] = stamp
    if "attributes" in fields and not fields["attributes"]:
        del fields["attributes"]
    return fields


def _lift_nested(obj: dict[str, Any]) -> dict[str, Any]:
    for key in _NESTED:  # a plain loop: most objects have none, and any() costs more
        if type(obj.get(key)) is dict:
            break
    else:
        return obj
    pairs: dict[str, Any] = {}
    for key, value in obj.items():
        leaves = _NESTED.get(key)
        if leaves is None or type(value) is not dict:
            pairs[key] = value
            continue
        rest = dict(value)
        for leaf in leaves:
            dotted = f"{key}.{leaf}"
            if leaf in rest and dotted not in obj:
                pairs[dotted] = rest.pop(leaf)
        if key == "process":  # ECS nests the thread one level deeper
            thread = rest.get("thread")
            if type(thread) is dict and "name" in thread and "process.thread.name" not in obj:
                thread = dict(thread)
                pairs["process.thread.name"] = thread.pop("name")
                if thread:
                    rest["thread"] = thread
                else:
                    del rest["thread"]
        if rest:
            pairs[key] = rest
    return pairs


def _pino_level(obj: dict[str, Any]) -> str | None:
    """The level of a pino/bunyan record, or None when the object is not one of theirs."""
    level = obj.get("level")
    if type(level) is not int or not 0 < level <= 100:
        return None
    time = obj.get("time")
    epoch_ms = type(time) is int and time > 100_000_000_000
    if not (epoch_ms or "pid" in obj or "hostname" in obj or "v" in obj):
        return None
    for bound, name in _NUMERIC_LEVELS:
        if level >= bound:
            return name
    return "trace"


def _promote(fields: Fields, key: str, target: str) -> None:
    attributes = fields.get("attributes")
    if attributes and isinstance(attributes.get(key), str):
        fields[target] = attributes.pop(key)
