"""logfmt lines: `level=info msg="hello \\"world\\"" took=3ms cached`.

The grammar is go-logfmt's (github.com/go-logfmt/logfmt), the de facto reference:

- pairs are separated by any run of characters <= U+0020 (space, tab, control characters);
- a key is a run of characters other than those, `=` and `"`; it may not contain U+FFFD;
- `key=value` with an unquoted value (which may not contain `=` or `"`), `key="quoted"` with
  JSON-style escapes (`\\"`, `\\\\`, `\\/`, `\\'`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t`,
  `\\uXXXX`), `key=` (empty value) or a bare `key`;
- a closing quote ends the pair, so `a="x"b=y` is two pairs.

Values are strings (quoted ones unescaped, nothing converted): `key=` and `key=""` give `""`,
and a bare key gives `True` (as kr/logfmt, logfmt-python and Vector do), so a flag stays
distinguishable from an empty value.
A key that appears twice keeps its last value. Well-known keys (`level`, `msg`, `ts`, ...) become
ECS fields through `structured_fields`; the rest goes to `attributes`.

On top of the grammar, `parse` refuses lines that are not clearly logfmt, so free text is left
to the plain-text parser: the line must start with a key (a letter, digit, `_`, `@`, `.` or `$`)
and hold at least one `key=` pair; `hello world` is not logfmt with two flags.
"""

from __future__ import annotations

import re
from datetime import datetime

from pipeline.ingest.parsers.common import Fields, ParseError, decode, structured_fields

Value = str | bool

# One pair per match; the loop in `pairs` checks what follows. No nested quantifiers: the
# quoted value is `(?:[^"\\]|\\.)*`, whose alternatives start on different characters. A line
# without a backslash cannot hold an escape, and `[^"]*` reads it twice as fast.
_PAIR_PATTERN = r'[\x00-\x20]*([^\x00-\x20="]+)(?:(=)(?:"(QUOTED)"|([^\x00-\x20="]*)))?'
_PAIR = re.compile(_PAIR_PATTERN.replace("QUOTED", r'(?:[^"\\]|\\.)*'), re.DOTALL)
_PAIR_PLAIN = re.compile(_PAIR_PATTERN.replace("QUOTED", r'[^"]*'), re.DOTALL)
_BLANK = "".join(map(chr, range(0x21)))
_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(.))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "'": "'",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
# The first key of a line: where free text, JSON, brackets and quotes are told apart.
_KEY_START = re.compile(r"[\w@.$]")
# Cheap detection: the line opens with `key=` (a short identifier-like key).
_LOOKS = re.compile(rb"[ \t]*[A-Za-z_@.$][\w.@$/:-]{0,63}=")


def looks_like(line: bytes) -> bool:
    """Whether the line opens with an identifier-like `key=`: cheap, reads a few bytes."""
    return _LOOKS.match(line) is not None


def parse(line: bytes, reference: datetime | None = None) -> Fields:
    """Parse one logfmt line into ECS fields (via `structured_fields`); see the module doc.

    Raises ParseError: `logfmt.empty`, `invalid_utf8`, `logfmt.not_logfmt` (starts with
    something that cannot begin a key, or has no `key=` pair), or a grammar error from `pairs`.
    `reference` is unused: logfmt timestamps, when there are any, are RFC 3339 or epoch.
    """
    text = decode(line)
    start = text.lstrip(_BLANK)
    if not start:
        raise ParseError("logfmt.empty")
    if _KEY_START.match(start) is None:
        raise ParseError("logfmt.not_logfmt", "cannot start a key")
    found = pairs(text)
    if all(value is True for _, value in found):
        raise ParseError("logfmt.not_logfmt", "no key=value pair")
    return structured_fields(dict(found))


def pairs(text: str) -> list[tuple[str, Value]]:
    """The key/value pairs of one logfmt record, in order and with repeats, as go-logfmt
    reads them (a bare key's value is True). Blank input gives [].

    Raises ParseError: `logfmt.unexpected_equals`, `logfmt.unexpected_quote`,
    `logfmt.unterminated_quote`, `logfmt.invalid_quoted_value` or `logfmt.invalid_key`.
    """
    found: list[tuple[str, Value]] = []
    pos, end = 0, len(text)
    match_pair = (_PAIR if "\\" in text else _PAIR_PLAIN).match
    while pos < end:
        match = match_pair(text, pos)
        if match is None:
            rest = text[pos:].lstrip(_BLANK)
            if not rest:
                break
            raise _unexpected(rest[0], end - len(rest))
        key, equals, quoted, plain = match.groups()
        if "\ufffd" in key:
            raise ParseError("logfmt.invalid_key", f"at {match.start(1)}")
        pos = match.end()
        if quoted is not None:
            # A closing quote ends the pair by itself: the next key may follow at once.
            found.append((key, _unquote(quoted) if "\\" in quoted else quoted))
            continue
        if pos < end and text[pos] > " ":
            if equals and not plain and text[pos] == '"':
                raise ParseError("logfmt.unterminated_quote", f"at {pos}")
            raise _unexpected(text[pos], pos)
        found.append((key, plain if equals else True))
    return found


def _unexpected(char: str, pos: int) -> ParseError:
    if char == "=":
        return ParseError("logfmt.unexpected_equals", f"at {pos}")
    return ParseError("logfmt.unexpected_quote", f"at {pos}")


def _unquote(quoted: str) -> str:
    return _ESCAPE.sub(_replace_escape, quoted)


def _replace_escape(match: re.Match[str]) -> str:
    high, low, code, simple = match.groups()
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if code is not None:
        point = int(code, 16)
        # A lone surrogate cannot be encoded; encoding/json substitutes U+FFFD too.
        return "\ufffd" if 0xD800 <= point <= 0xDFFF else chr(point)
    replacement = _SIMPLE_ESCAPES.get(simple)
    if replacement is None:
        raise ParseError("logfmt.invalid_quoted_value", f"escape \\{simple}")
    return replacement
