"""Samples from logstash-patterns-core's grok specs (RSpec, Ruby): the message strings each
spec feeds grok, with the timestamp, level and header-less message it expects where the spec
states them as literals.

A spec is read, never run: `let(:message)` (and `let(:valueN)`) definitions are evaluated as
far as they are string literals, heredocs, and other `let`s joined with `+`; the expectations
are taken from the spec text between one message's definition and the next. Patterns that
match part of a line (a class name, a timestamp, a query) give no samples.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.corpus.model import Sample, Skip, level, split_case, stated_time

SPECS = (
    ("java_log4j_logback", "java"),
    ("apache_error", "httpd"),
    ("redis", "redis"),
    ("mongodb_legacy_text", "mongodb"),
    ("embedded_and_epoch_timestamps", "bro"),
    ("embedded_and_epoch_timestamps", "squid"),
    ("embedded_and_epoch_timestamps", "haproxy"),
)
SPEC = "formats/{}/logstash-patterns-core/spec/patterns/{}_spec.rb"

# Grok patterns whose specs feed a piece of a line, not a line.
FRAGMENT_PATTERNS = {
    "JAVACLASS": "a Java class name",
    "JAVAFILE": "a Java file name",
    "TOMCAT_DATESTAMP": "a Tomcat timestamp",
    "REDISTIMESTAMP": "a Redis timestamp",
    "MONGO_SLOWQUERY": "the message part of a MongoDB line",
}
# The `let`s that hold the input grok is fed; other lets (`command`) are parts of them.
_INPUT_LET = re.compile(r"message|value\d*")

_DESCRIBE = re.compile(r"^describe(?:_pattern)?\s+[\"'](\w+)[\"']", re.M)
_LET = re.compile(r"\blet\(:(\w+)\)\s*(\{|do\b)")
_RUBY_ESCAPES = {"n": "\n", "t": "\t", "s": " ", "e": "\x1b", "0": "\0", "r": "\r"}


def ruby_single(body: str) -> str:
    """The value of a single-quoted Ruby literal's body: only \\\\ and \\' are escapes."""
    return re.sub(r"\\([\\'])", r"\1", body)


_DOUBLE_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(.))", re.S)


def _unescape(m: re.Match[str]) -> str:
    if m[1] or m[2]:
        return chr(int(m[1] or m[2], 16))
    return _RUBY_ESCAPES.get(m[3], m[3])


def ruby_double(body: str) -> str | None:
    """The value of a double-quoted Ruby literal's (or plain heredoc's) body; None if it
    interpolates (#{...}), which a reading cannot evaluate."""
    if "#{" in body:
        return None
    return _DOUBLE_ESCAPE.sub(_unescape, body)


_TERM = re.compile(
    r"""(?:\s|\#[^\n]*)*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|<<([-~]?)([A-Z_]+)|(\w+))""",
    re.S,
)


def ruby_expr(text: str, pos: int, env: dict[str, str]) -> tuple[str | None, int]:
    """The string value of the Ruby expression at `pos` and where it ends: literals, heredocs
    and known `let` names joined with +. None where a part cannot be read."""
    value: str | None = ""
    resume = None  # a heredoc's body follows its line: the expression resumes there
    while True:
        term = _TERM.match(text, pos)
        if not term:
            return None, pos
        single, double, squiggle, tag, name = term.groups()
        pos = term.end()
        part: str | None
        if single is not None:
            part = ruby_single(single)
        elif double is not None:
            part = ruby_double(double)
        elif tag is not None:
            body_start = text.index("\n", pos) + 1
            end = re.compile(rf"^[ \t]*{tag}$" if squiggle else rf"^{tag}$", re.M).search(
                text, body_start
            )
            if end is None:
                return None, pos
            body = text[body_start : end.start()]
            if squiggle == "~":
                return None, pos  # squiggly heredocs strip indentation: not used here
            part = ruby_double(body)
            resume = end.end()
        else:
            part = env.get(name)
        if part is None or value is None:
            value = None
        else:
            value += part
        plus = re.match(r"[ \t]*\+", text[pos:])
        if not plus:
            return value, max(pos, resume or 0)
        pos += plus.end()


def _blank_comments(text: str) -> str:
    """`text` with its whole-line comments blanked (positions kept): a commented-out describe
    block holds lets too. No heredoc body in these specs has a line starting with #."""
    return re.sub(r"(?m)^[ \t]*#.*$", lambda m: " " * len(m[0]), text)


def _literal(text: str) -> str | None:
    """The value of the quoted literal at the start of `text`, if it is one."""
    m = re.match(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""", text)
    if not m:
        return None
    return ruby_single(m[1]) if m[1] is not None else ruby_double(m[2])


def _stated(scope: str, name: str, env: dict[str, str]) -> dict[str, Any]:
    """The timestamp, level and header-less message a spec states for the input `name`, in
    the text `scope` that follows its definition."""
    fields: dict[str, Any] = {}
    stamp = re.search(r"""["']timestamp["']\s*=>\s*""", scope)
    if stamp and (text := _literal(scope[stamp.end() :])) is not None:
        when = stated_time(text)
        if when.timestamp is not None:
            fields["timestamp"] = when.timestamp
        else:
            fields.update(wall_clock=when.wall_clock, year_stated=when.year_stated)
    lvl = re.search(r"""["'](?:level|loglevel|severity)["']\s*=>\s*""", scope)
    if lvl and (text := _literal(scope[lvl.end() :])) is not None:
        fields["level"] = level(text)
    msg = re.search(
        rf"""(?:["']message["']\s*=>\s*|\[["']message["']\]\)\.to\s+eql\s+)\[\s*{name}\s*,""",
        scope,
    )
    if msg:
        value, end = ruby_expr(scope, msg.end(), env)
        if value is not None and re.match(r"\s*\]", scope[end:]):
            fields["message"] = value
    return fields


def spec_samples(root: Path) -> tuple[list[Sample], list[Skip]]:
    """The lines every listed grok spec feeds, with what it states about them."""
    samples: list[Sample] = []
    skips: list[Skip] = []
    for family, name in SPECS:
        rel = SPEC.format(family, name)
        text = _blank_comments((root / rel).read_text())
        seen: set[str] = set()
        heads = list(_DESCRIBE.finditer(text))
        for i, head in enumerate(heads):
            section_end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            lets = list(_LET.finditer(text, head.end(), section_end))
            inputs = [let for let in lets if _INPUT_LET.fullmatch(let[1])]
            if head[1] in FRAGMENT_PATTERNS:
                why = f"{head[1]} cases feed {FRAGMENT_PATTERNS[head[1]]}, not a line"
                skips.append(Skip(rel, len(inputs) or 1, why))
                continue
            env: dict[str, str] = {}
            for let in lets:
                value, end = ruby_expr(text, let.end(), env)
                if value is not None:
                    env[let[1]] = value
                if let not in inputs:
                    continue
                if value is None:
                    skips.append(Skip(rel, 1, "input not a literal (interpolated)"))
                    continue
                if value in seen:
                    skips.append(Skip(rel, 1, "same line as an earlier case of the spec"))
                    continue
                seen.add(value)
                later = [n.start() for n in inputs if n.start() > let.start()]
                scope = text[end : later[0] if later else section_end]
                fields = _stated(scope, let[1], env)
                source = f"{rel}:{text.count(chr(10), 0, let.start()) + 1}"
                samples += split_case(family, source, value, **fields)
    return samples, skips
