"""Looking names up in a template's data and printing what is found, as Elasticsearch does."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence

from pipeline.alerting.engine.java import lang

_JSON_ESCAPES = re.compile('[\x00-\x1f"\\\\]')
_HTML_ESCAPES = re.compile("[\x00-\x0d&<>\"'=`]")
_INT_KEY = re.compile(r"[+-]?[0-9]+")
_JAVA_INT_MAX = 2**31 - 1
_URL_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


# --- looking values up ------------------------------------------------------------------------

_MISSING = object()


def _member(scope: object, key: str) -> object:
    """One step of a lookup, as Elasticsearch's object handler takes it; _MISSING if absent.

    Maps answer their keys; lists answer `size` and in-range indexes of non-null items (Java's
    `containsKey` on Elasticsearch's list view); nothing else has members.
    """
    if isinstance(scope, Mapping):
        return scope.get(key, _MISSING)
    if isinstance(scope, list | tuple):
        if key == "size":
            return len(scope)
        if _INT_KEY.fullmatch(key):
            index = int(key)
            if 0 <= index < len(scope) and index <= _JAVA_INT_MAX and scope[index] is not None:
                return scope[index]
    return _MISSING


def lookup(name: str, scopes: list[object]) -> object:
    """The value `name` refers to, or None; mustache.java's scope and dot rules.

    Scopes are tried innermost first. In each, the whole name is tried as one key, then as a
    dotted path: if a step before the last is missing, the next scope is tried; once every
    step before the last is found, that scope decides (a missing last step means missing).
    """
    if name == ".":
        return scopes[-1] if scopes else None
    for scope in reversed(scopes):
        if scope is None:
            continue
        value = _member(scope, name)
        if value is not _MISSING:
            return value
        if "." not in name:
            continue
        *path, last = name.split(".")
        current: object = scope
        for step in path:
            current = _member(current, step)
            if current is _MISSING or current is None:
                break
        if current is _MISSING:
            continue
        if current is None:
            return None
        value = _member(current, last)
        return None if value is _MISSING else value
    return None


def items(value: object) -> Sequence[object]:
    """What a section iterates over: nothing for falsy values, each item of a list, else once."""
    if value is None or value is False or value == "":
        return ()
    if isinstance(value, list | tuple):
        return value
    return (value,)


def falsy(value: object) -> bool:
    """mustache.java's truth for inverted sections: 0 and {} are true, "" and [] are false."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


# --- printing values as Java does --------------------------------------------------------------


def stringify(value: object) -> str:
    """How `{{name}}` prints a looked-up value: a list shows as Elasticsearch's index map."""
    guard = lang.Guard()
    if isinstance(value, list | tuple):
        guard.enter(value)
        text = ", ".join(
            f"{index}={lang.string_value(item, guard)}" for index, item in enumerate(value)
        )
        return "{" + text + "}"
    return lang.string_value(value, guard)


# --- JSON, URL and HTML encodings ------------------------------------------------------------

_JSON_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_HTML_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _json_char(match: re.Match[str]) -> str:
    char = match.group()
    return _JSON_SHORT.get(char) or f"\\u{ord(char):04X}"


def _json_escape(text: str) -> str:
    """Jackson's quoteAsString: the inside of a JSON string, non-ASCII left as it is."""
    return _JSON_ESCAPES.sub(_json_char, text)


def _html_char(match: re.Match[str]) -> str:
    char = match.group()
    return _HTML_NAMED.get(char) or f"&#{ord(char)};"


def _html_escape(text: str) -> str:
    """mustache.java's HtmlEscaper: & < > " ' = ` and control characters up to CR."""
    return _HTML_ESCAPES.sub(_html_char, text)


def url_encode(text: str) -> str:
    """Java's URLEncoder.encode(text, UTF-8): form encoding, space as "+", "~" encoded."""
    encoded = text.encode("utf-8", errors="replace")
    return "".join(
        chr(byte) if byte in _URL_SAFE else "+" if byte == 0x20 else f"%{byte:02X}"
        for byte in encoded
    )


def _json_datetime(value: dt.date) -> str:
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    micros = value.microsecond
    fraction = f"{micros // 1000:03d}" if micros % 1000 == 0 else f"{micros:06d}"
    clock = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{fraction}"
    return f"{value.date().isoformat()}T{clock}{lang.offset_text(value)}"


def to_json(value: object, guard: lang.Guard) -> str:
    """Compact JSON as Elasticsearch's XContentBuilder writes it."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{_json_escape(value)}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = lang.double_text(value)
        # Jackson quotes the numbers JSON cannot express.
        return f'"{text}"' if math.isnan(value) or math.isinf(value) else text
    if isinstance(value, Mapping):
        guard.enter(value)
        text = ",".join(
            f'"{_json_escape(lang.string_value(k, guard))}":{to_json(v, guard)}'
            for k, v in value.items()
        )
        guard.leave(value)
        return "{" + text + "}"
    if isinstance(value, list | tuple):
        guard.enter(value)
        text = ",".join(to_json(item, guard) for item in value)
        guard.leave(value)
        return "[" + text + "]"
    if isinstance(value, dt.date):
        return f'"{_json_datetime(value)}"'
    return f'"{_json_escape(str(value))}"'


def _identity(text: str) -> str:
    return text


ENCODERS: dict[str, Callable[[str], str]] = {
    "none": _identity,
    "json": _json_escape,
    "html": _html_escape,
}
