"""Mustache templating as Elasticsearch Watcher renders it.

Watcher renders its templates with Elasticsearch's `lang-mustache` module: the Java library
mustache.java plus Elasticsearch's own object handler, encoders and functions. This module
reproduces that behaviour over plain Python data, so that a watch written for Watcher renders
the same text here.

What a template can use:

- variables `{{ctx.payload.hits.total}}`, looked up by dotted path; a list element by index
  (`{{ctx.payload.hits.hits.0._id}}`) and a list's length (`{{ctx.payload.hits.hits.size}}`);
  a missing value renders as nothing;
- `{{{x}}}` and `{{& x}}` (never escaped), sections `{{#x}}...{{/x}}` (once per list item, once
  with a map or any other truthy value as the context, `{{.}}` being that context), inverted
  sections `{{^x}}...{{/x}}`, comments `{{! ...}}`, delimiter changes `{{=<% %>=}}`;
- Elasticsearch's functions: `{{#toJson}}ctx.payload{{/toJson}}` (the value as JSON),
  `{{#join}}ctx.payload.list{{/join}}` (items joined by ","; `{{#join delimiter=' | '}}...
  {{/join delimiter=' | '}}` for another delimiter) and `{{#url}}...{{/url}}` (the rendered
  content, form-URL-encoded).

Values print as Java prints them: `3.0` for a float, `1.0E-4` and `1.0E20` for small and large
ones, `true`/`false`, a map as `{key=value, other=[a, b]}` and, when a list itself is printed,
`{0=a, 1=b}` (Elasticsearch presents lists to mustache.java as index-keyed maps).

Where each `escape` applies in Watcher (checked against Elasticsearch's TextTemplateEngine,
EmailTemplate and WatcherSearchTemplateService):

- `"none"`: every text template of a watch - logging text, email from/to/subject and both text
  *and html* bodies, webhook and http-input host, path, params, headers and body, index action
  fields. Watcher renders them as `text/plain`. It does not HTML-escape email html bodies:
  it renders them unescaped and then strips tags outside an allow-list.
- `"json"`: search input and search transform request bodies and search templates (Watcher
  serialises the body to JSON text and renders that text as one template with Elasticsearch's
  default `application/json` media type), and a text template written with the prefix
  `__json__::` (see `split_content_type`).
- `"html"`: never used by Watcher; mustache.java's stock HTML escaping, for edgewatch's own use.

Known differences from Watcher, each where Watcher would fail or where Java objects have no
Python counterpart:

- partials `{{> name}}` and parent templates `{{< name}}...{{/name}}` render as nothing
  (Elasticsearch fails to compile them: it has no templates to include);
- a list index out of range or negative renders as nothing (Elasticsearch fails the action),
  and so does a `None` inside `{{#join}}` (Elasticsearch fails on it);
- a tag left unclosed at the end of the template is always an error (mustache.java silently
  accepts a few kinds, such as `{{& x` or `{{! x`), and so is a `{{#toJson}}` or `{{#join}}`
  whose body is not plain text;
- sections nested more than 100 deep, values nested more than 200 deep and self-containing
  values are errors rather than stack overflows;
- maps print in insertion order (Java's order for a parsed search response is unspecified);
- a `datetime` prints like Java's `ZonedDateTime.toString()` and goes into JSON like
  Elasticsearch's `strict_date_optional_time`; other unknown objects print with `str()`.

Like Watcher, a template without `{{` is returned unchanged; in one with `{{`, a carriage return
not followed by a line feed is dropped, and the line break after a section tag that stands alone
on its line is dropped, as mustache.java does.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.alerting.engine import java

Escape = Literal["none", "json", "html"]

__all__ = [
    "Escape",
    "TemplateError",
    "check",
    "render",
    "render_value",
    "split_content_type",
]

_MAX_NESTING = 100
_SHOWN_TAG = 60

# Java's String.trim() strips every char up to U+0020, not Python's notion of whitespace.
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))
# Java's \s, used by mustache.java to split a delimiter change.
_JAVA_SPACES = re.compile(r"[ \t\n\x0b\f\r]+")
# Java's "." stops at any of its line terminators, Python's only at \n.
_JOIN_DELIMITER = re.compile("join delimiter='([^\n\r\u0085\u2028\u2029]*)'")
_JSON_ESCAPES = re.compile('[\x00-\x1f"\\\\]')
_HTML_ESCAPES = re.compile("[\x00-\x0d&<>\"'=`]")
_INT_KEY = re.compile(r"[+-]?[0-9]+")
_JAVA_INT_MAX = 2**31 - 1
_URL_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


class TemplateError(ValueError):
    """A template that cannot be parsed, or a value that cannot be printed.

    `position` is the 0-based offset of the offending tag in the template (-1 when the problem
    is in the data), `line` and `column` are 1-based, `tag` is the tag as written.
    """

    def __init__(
        self, message: str, position: int = -1, line: int = 0, column: int = 0, tag: str = ""
    ) -> None:
        super().__init__(message)
        self.position = position
        self.line = line
        self.column = column
        self.tag = tag


# --- the parsed form ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Var:
    name: str
    escaped: bool


@dataclass(frozen=True, slots=True)
class _Section:
    name: str
    body: tuple[_Node, ...]
    inverted: bool


@dataclass(frozen=True, slots=True)
class _Block:
    body: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _ToJson:
    name: str


@dataclass(frozen=True, slots=True)
class _Join:
    name: str
    delimiter: str


@dataclass(frozen=True, slots=True)
class _Url:
    body: tuple[_Node, ...]


_Node = str | _Var | _Section | _Block | _ToJson | _Join | _Url


def _java_trim(text: str) -> str:
    return text.strip(_JAVA_TRIM)


def _shown(tag: str) -> str:
    return tag if len(tag) <= _SHOWN_TAG else tag[: _SHOWN_TAG - 3] + "..."


def _flush(nodes: list[_Node], out: list[str]) -> None:
    if out:
        text = "".join(out)
        out.clear()
        if nodes and isinstance(nodes[-1], str):
            nodes[-1] += text
        else:
            nodes.append(text)


class _Parser:
    """Reproduces mustache.java's single-pass parser, including its whitespace rules.

    Those rules differ from the Mustache spec, and Watcher users see their effect in multi-line
    email bodies, so they are kept as mustache.java has them:

    - a line break is dropped when the line, apart from spaces and tabs, holds only tags and
      the previous tag on it was a section tag spanning lines, or when it directly follows a
      section's opening tag;
    - the indentation before an opening tag of a multi-line section, and the indentation
      before a closing tag that starts a line, are dropped;
    - a carriage return survives only right before a line feed.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = 0

    def parse(self) -> tuple[_Node, ...]:
        return tuple(self._block(None, -1, True, "{{", "}}", 0))

    def _line_column(self, at: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, at) + 1
        return line, at - (self.text.rfind("\n", 0, at) + 1) + 1

    def _error(self, message: str, at: int, tag: str) -> TemplateError:
        line, column = self._line_column(at)
        return TemplateError(f"line {line}, column {column}: {message}", at, line, column, tag)

    def _block(
        self, tag: str | None, tag_at: int, start_of_line: bool, sm: str, em: str, depth: int
    ) -> list[_Node]:
        text = self.text
        end = len(text)
        nodes: list[_Node] = []
        out: list[str] = []
        saw_cr = False
        only_space = True
        drop_newline = tag is not None
        while self.pos < end:
            c = text[self.pos]
            self.pos += 1
            if c == "\r":
                saw_cr = True
                continue
            if c == "\n":
                self.newlines += 1
                if not (drop_newline and only_space):
                    out.append("\r\n" if saw_cr else "\n")
                _flush(nodes, out)
                drop_newline, only_space, start_of_line = False, True, True
                continue
            saw_cr = False
            if c != sm[0] or (len(sm) > 1 and text[self.pos : self.pos + 1] != sm[1]):
                only_space = only_space and c in " \t"
                out.append(c)
                continue

            at = self.pos - 1
            if len(sm) > 1:
                self.pos += 1
            command, closed = self._command(em)
            written = f"{sm[:2]}{command}{em[:2] if closed else ''}"
            shown = _shown(written)
            if not closed:
                raise self._error(f"tag {shown} is not closed with {em[:2]}", at, written)
            if not command:
                raise self._error(f"empty tag {shown}", at, written)
            kind, name = command[0], _java_trim(command[1:])

            if kind in "#^<?$":
                if depth >= _MAX_NESTING:
                    raise self._error(
                        f"{shown}: sections are nested more than {_MAX_NESTING} deep", at, written
                    )
                before = self.newlines
                body = self._block(name, at, start_of_line and only_space, sm, em, depth + 1)
                spanned_lines = self.newlines != before
                if only_space and spanned_lines:
                    out.clear()
                else:
                    _flush(nodes, out)
                node = self._section(kind, name, tuple(body), at, written, shown)
                if node is not None:
                    nodes.append(node)
                drop_newline = spanned_lines
            elif kind == "/":
                if start_of_line and only_space:
                    out.clear()
                else:
                    _flush(nodes, out)
                if tag is None:
                    raise self._error(
                        f"{shown} closes a section that was never opened", at, written
                    )
                if name != tag:
                    line, column = self._line_column(tag_at)
                    opened = _shown(f"{sm[:2]}#{tag}{em[:2]}")
                    raise self._error(
                        f"{shown} does not close the open section {opened} (opened at line "
                        f"{line}, column {column}); close that one first with "
                        + _shown(f"{sm[:2]}/{tag}{em[:2]}"),
                        at,
                        written,
                    )
                return nodes
            elif kind == "{":
                _flush(nodes, out)
                if len(em) < 2 or em[1] != "}":
                    name = name[:-1]
                elif text[self.pos : self.pos + 1] == "}":
                    self.pos += 1
                else:
                    raise self._error(f"{shown} is missing its third closing brace", at, written)
                nodes.append(_Var(name, escaped=False))
            elif kind == "&":
                _flush(nodes, out)
                nodes.append(_Var(name, escaped=False))
            elif kind == "=":
                _flush(nodes, out)
                delimiters = _JAVA_SPACES.split(name)
                if len(delimiters) != 2:
                    raise self._error(
                        f"{shown} is not a delimiter change like {{{{=<% %>=}}}}", at, written
                    )
                sm, em = delimiters
            else:
                # Partials (>), pragmas (%) and comments (!) render nothing.
                _flush(nodes, out)
                if kind not in ">%!":
                    nodes.append(_Var(_java_trim(command), escaped=True))
            start_of_line = False

        _flush(nodes, out)
        if tag is not None:
            opened = f"{sm[:2]}#{tag}{em[:2]}"
            raise self._error(
                f"section {_shown(opened)} is never closed; close it with "
                + _shown(f"{sm[:2]}/{tag}{em[:2]}"),
                tag_at,
                opened,
            )
        return nodes

    def _command(self, em: str) -> tuple[str, bool]:
        """Read a tag's content up to the end delimiter: (content, closed before the end)."""
        text = self.text
        end = len(text)
        chars: list[str] = []
        # A delimiter change may contain the end delimiter, so it runs to the next "=" first.
        in_delimiters = text[self.pos : self.pos + 1] == "="
        if in_delimiters:
            chars.append("=")
            self.pos += 1
        while self.pos < end:
            c = text[self.pos]
            self.pos += 1
            if in_delimiters:
                if c == "=":
                    in_delimiters = False
                else:
                    chars.append(c)
                continue
            if c == em[0]:
                if len(em) == 1:
                    return "".join(chars), True
                if text[self.pos : self.pos + 1] == em[1]:
                    self.pos += 1
                    return "".join(chars), True
            chars.append(c)
        return "".join(chars), False

    def _section(
        self, kind: str, name: str, body: tuple[_Node, ...], at: int, written: str, shown: str
    ) -> _Node | None:
        if kind == "^":
            return _Section(name, body, inverted=True)
        if kind in "$?":
            return _Block(body)
        if kind == "<":
            return None
        lowered = name.lower()
        delimiter = None
        if lowered == "join":
            delimiter = ","
        elif match := _JOIN_DELIMITER.fullmatch(name):
            delimiter = match.group(1)
        if lowered == "tojson" or delimiter is not None:
            if len(body) != 1 or not isinstance(body[0], str):
                raise self._error(
                    f"{shown} must contain exactly one name and nothing else, "
                    "like {{#toJson}}ctx.payload{{/toJson}}",
                    at,
                    written,
                )
            # Elasticsearch takes the body verbatim as the name, surrounding blanks included.
            if delimiter is None:
                return _ToJson(body[0])
            return _Join(body[0], delimiter)
        if lowered == "url":
            return _Url(body)
        return _Section(name, body, inverted=False)


@functools.lru_cache(maxsize=512)
def _parse(template: str) -> tuple[_Node, ...]:
    return _Parser(template).parse()


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


def _lookup(name: str, scopes: list[object]) -> object:
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


def _items(value: object) -> Sequence[object]:
    """What a section iterates over: nothing for falsy values, each item of a list, else once."""
    if value is None or value is False or value == "":
        return ()
    if isinstance(value, list | tuple):
        return value
    return (value,)


def _falsy(value: object) -> bool:
    """mustache.java's truth for inverted sections: 0 and {} are true, "" and [] are false."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


# --- printing values as Java does --------------------------------------------------------------


def _stringify(value: object) -> str:
    """How `{{name}}` prints a looked-up value: a list shows as Elasticsearch's index map."""
    guard = java.Guard()
    if isinstance(value, list | tuple):
        guard.enter(value)
        text = ", ".join(
            f"{index}={java.string_value(item, guard)}" for index, item in enumerate(value)
        )
        return "{" + text + "}"
    return java.string_value(value, guard)


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


def _url_encode(text: str) -> str:
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
    return f"{value.date().isoformat()}T{clock}{java.offset_text(value)}"


def _to_json(value: object, guard: java.Guard) -> str:
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
        text = java.double_text(value)
        # Jackson quotes the numbers JSON cannot express.
        return f'"{text}"' if math.isnan(value) or math.isinf(value) else text
    if isinstance(value, Mapping):
        guard.enter(value)
        text = ",".join(
            f'"{_json_escape(java.string_value(k, guard))}":{_to_json(v, guard)}'
            for k, v in value.items()
        )
        guard.leave(value)
        return "{" + text + "}"
    if isinstance(value, list | tuple):
        guard.enter(value)
        text = ",".join(_to_json(item, guard) for item in value)
        guard.leave(value)
        return "[" + text + "]"
    if isinstance(value, dt.date):
        return f'"{_json_datetime(value)}"'
    return f'"{_json_escape(str(value))}"'


def _identity(text: str) -> str:
    return text


_ENCODERS: dict[str, Callable[[str], str]] = {
    "none": _identity,
    "json": _json_escape,
    "html": _html_escape,
}


# --- rendering --------------------------------------------------------------------------------


def _render(
    nodes: tuple[_Node, ...], scopes: list[object], encode: Callable[[str], str], out: list[str]
) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Var):
            value = _lookup(node.name, scopes)
            if value is not None:
                text = _stringify(value)
                out.append(encode(text) if node.escaped else text)
        elif isinstance(node, _Section):
            value = _lookup(node.name, scopes)
            if node.inverted:
                if _falsy(value):
                    _render(node.body, scopes, encode, out)
                continue
            for item in _items(value):
                # mustache.java pushes no scope for a null list item.
                if item is None:
                    _render(node.body, scopes, encode, out)
                    continue
                scopes.append(item)
                _render(node.body, scopes, encode, out)
                scopes.pop()
        elif isinstance(node, _Block):
            _render(node.body, scopes, encode, out)
        elif isinstance(node, _ToJson):
            value = _lookup(node.name, scopes)
            if value is None:
                continue
            if isinstance(value, list | tuple | Mapping):
                out.append(_to_json(value, java.Guard()))
            else:
                out.append(_stringify(value))
        elif isinstance(node, _Join):
            value = _lookup(node.name, scopes)
            if isinstance(value, list | tuple):
                guard = java.Guard()
                out.append(
                    node.delimiter.join(
                        "" if item is None else java.string_value(item, guard) for item in value
                    )
                )
            else:
                # Elasticsearch's join hands back its rendered body: the name itself.
                out.append(node.name)
        else:
            inner: list[str] = []
            _render(node.body, scopes, encode, inner)
            out.append(_url_encode("".join(inner)))


def render(template: str, ctx: Mapping[str, Any], escape: Escape = "none") -> str:
    """Render a Watcher Mustache template against `ctx`, the map names are looked up in.

    For a watch, `ctx` is Watcher's model `{"ctx": {"metadata": ..., "payload": ..., ...}}`
    (plus a template's own params). `escape` encodes what `{{name}}` inserts: "none" for
    Watcher's text templates, "json" for search request bodies and `__json__::` templates,
    "html" for edgewatch's own HTML (see the module docstring). `{{{name}}}`, `{{& name}}`,
    toJson and join output are never escaped.

    Raises TemplateError when the template does not parse or a value cannot be printed.
    """
    if "{{" not in template:
        return template
    try:
        encode = _ENCODERS[escape]
    except KeyError:
        raise ValueError(f"escape must be one of {sorted(_ENCODERS)}, not {escape!r}") from None
    out: list[str] = []
    try:
        _render(_parse(template), [ctx], encode, out)
    except java.JavaValueError as err:  # a value that cannot be printed: the template's error
        raise TemplateError(str(err)) from None
    return "".join(out)


def check(template: str) -> None:
    """Parse `template` without rendering it; raise TemplateError naming the faulty tag."""
    if "{{" in template:
        _parse(template)


def render_value(value: Any, ctx: Mapping[str, Any], escape: Escape = "none") -> Any:
    """Render every string inside a JSON-like value; keys and non-strings stay as they are.

    Meant for templated action fields and request bodies. A Watcher search body is instead
    rendered as one JSON text, keys included: to match it exactly, render `json.dumps(body)`
    with escape="json" and parse the result.
    """
    if isinstance(value, str):
        return render(value, ctx, escape)
    if isinstance(value, Mapping):
        return {key: render_value(item, ctx, escape) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(item, ctx, escape) for item in value]
    return value


def split_content_type(template: str) -> tuple[str, Escape]:
    """Watcher's content-type prefix of a text template: `__json__::{...}` -> ("{...}", "json").

    Watcher renders a text template with JSON escaping when it starts with `__json__::`
    (Kibana writes webhook bodies so) and strips any `__<type>__::` prefix up to 12 characters
    long; everything else renders unescaped.
    """
    if not template.startswith("__"):
        return template, "none"
    marker = template.find("__::", 3)
    if marker == -1:
        return template, "none"
    content_type = template[2:marker].lower()
    is_json = content_type in ("json", "application/json") or content_type.startswith(
        "application/json;"
    )
    body = template[marker + 4 :] if marker < 12 else template
    return body, "json" if is_json else "none"
