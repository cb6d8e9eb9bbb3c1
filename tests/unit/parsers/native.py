"""The native core's parsers (native/, Rust), shaped as the parser tests call them.

The Python reference parsers are gone; these tests hold the only implementation through the
binding `_native.parse(name, line, reference_us)`. It answers with (field, value) pairs, a
refusal reason, or None where the port is "unsure": an unsure answer is a test failure, since
the core must now decide every line itself. The binding gives no refusal detail: tests check
reasons only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings

from pipeline.ingest import _native

Fields = dict[str, Any]

# The names `_native.parse` knows (native/src/lib.rs, fn parse).
NAMES = ("access", "container", "json", "logfmt", "plaintext", "syslog")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class ParseError(ValueError):
    """The native parser refused the line; `reason` is the stable reason metrics count."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def to_us(reference: datetime | None) -> int | None:
    """An aware datetime as the binding takes it: microseconds since the epoch."""
    if reference is None:
        return None
    assert reference.utcoffset() is not None, "a reference must be timezone-aware"
    return (reference - _EPOCH) // _MICROSECOND


def parse(name: str, line: bytes, reference: datetime | None = None) -> Fields:
    """The fields the native `name` parser reads from `line`; ParseError where it refuses."""
    result = _native.parse(name, line, to_us(reference))
    if result is None:
        raise AssertionError(f"native {name} parser is unsure of {line[:120]!r}")
    if isinstance(result, str):
        raise ParseError(result)
    assert isinstance(result, list), (name, line[:120], result)
    fields = dict(result)
    assert len(fields) == len(result), ("a key twice", name, line[:120], result)
    if "@timestamp" in fields:
        assert result[0][0] == "@timestamp", ("@timestamp not first", result)
    return fields


def detect(line: bytes) -> str:
    """The format the native dispatcher picks for `line` (a `NAMES` entry)."""
    name = _native.detect(line)
    assert name is not None, f"native detect is unsure of {line[:120]!r}"
    assert name in NAMES, name
    return name


@dataclass(frozen=True)
class Parser:
    """One native parser, called as a reference module's `parse(line, reference)` was."""

    name: str

    def parse(self, line: bytes, reference: datetime | None = None) -> Fields:
        """The fields of `line`; ParseError where the parser refuses it."""
        return parse(self.name, line, reference)


def examples(n: int) -> int:
    """`n` examples under the default profile, scaled with the loaded one (tests/conftest.py:
    HYPOTHESIS_PROFILE=deep gives 50x): a fixed max_examples would ignore the profile."""
    profile = settings.default
    assert profile is not None
    return max(1, n * profile.max_examples // 100)
