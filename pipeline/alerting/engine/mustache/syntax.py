"""Mustache syntax: the parsed form of a template and mustache.java's parser that builds it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_MAX_NESTING = 100
_SHOWN_TAG = 60

# Java's String.trim() strips every char up to U+0020, not Python's notion of whitespace.
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))
# Java's \s, used by mustache.java to split a delimiter change.
_JAVA_SPACES = re.compile(r"[ \t\n\x0b\f\r]+")
# Java's "." stops at any of its line terminators, Python's only at \n.
_JOIN_DELIMITER = re.compile("join delimiter='([^\n\r\u0085\u2028\u2029]*)'")


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
class Var:
    name: str
    escaped: bool


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    body: tuple[Node, ...]
    inverted: bool


@dataclass(frozen=True, slots=True)
class Block:
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ToJson:
    name: str


@dataclass(frozen=True, slots=True)
class Join:
    name: str
    delimiter: str


@dataclass(frozen=True, slots=True)
class Url:
    body: tuple[Node, ...]


Node = str | Var | Section | Block | ToJson | Join | Url


def _java_trim(text: str) -> str:
    return text.strip(_JAVA_TRIM)


def _shown(tag: str) -> str:
    return tag if len(tag) <= _SHOWN_TAG else tag[: _SHOWN_TAG - 3] + "..."


def _flush(nodes: list[Node], out: list[str]) -> None:
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

    def parse(self) -> tuple[Node, ...]:
        return tuple(self._block(None, -1, True, "{{", "}}", 0))

    def _line_column(self, at: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, at) + 1
        return line, at - (self.text.rfind("\n", 0, at) + 1) + 1

    def _error(self, message: str, at: int, tag: str) -> TemplateError:
        line, column = self._line_column(at)
        return TemplateError(f"line {line}, column {column}: {message}", at, line, column, tag)

    def _block(
        self, tag: str | None, tag_at: int, start_of_line: bool, sm: str, em: str, depth: int
    ) -> list[Node]:
        text = self.text
        end = len(text)
        nodes: list[Node] = []
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
                nodes.append(Var(name, escaped=False))
            elif kind == "&":
                _flush(nodes, out)
                nodes.append(Var(name, escaped=False))
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
                    nodes.append(Var(_java_trim(command), escaped=True))
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
        self, kind: str, name: str, body: tuple[Node, ...], at: int, written: str, shown: str
    ) -> Node | None:
        if kind == "^":
            return Section(name, body, inverted=True)
        if kind in "$?":
            return Block(body)
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
                return ToJson(body[0])
            return Join(body[0], delimiter)
        if lowered == "url":
            return Url(body)
        return Section(name, body, inverted=False)


@functools.lru_cache(maxsize=512)
def parse(template: str) -> tuple[Node, ...]:
    return _Parser(template).parse()
