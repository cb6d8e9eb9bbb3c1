"""Whatever the bytes, the native binding answers: it never raises, and it is never unsure.

The per-format tests reach the core through the shim (native.py); these call the binding
itself, so a wrong shape (not a list of pairs, not a str) cannot hide behind the shim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest import _native
from tests.unit.parsers.contract import assert_contract
from tests.unit.parsers.native import NAMES, Fields, ParseError, examples, parse, to_us

REFERENCES = st.none() | st.datetimes(timezones=st.just(UTC)).map(to_us)


def assert_answer(name: str, line: bytes, result: object) -> None:
    """A refusal reason (str) or a list of unique (field, value) pairs within the contract,
    `@timestamp` (when there is one) first; None (the port being unsure) is a failure."""
    assert result is not None, f"native {name} parser is unsure of {line!r}"
    if isinstance(result, str):
        assert result, (name, line)
        return
    assert isinstance(result, list), (name, line, result)
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in result), result
    keys = [key for key, _ in result]
    assert len(set(keys)) == len(keys), result
    assert "@timestamp" not in keys[1:], result
    assert_contract(dict(result))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(60), deadline=None)
@given(line=st.binary(), reference=REFERENCES)
def test_any_bytes_get_an_answer(name: str, line: bytes, reference: int | None) -> None:
    assert_answer(name, line, _native.parse(name, line, reference))


@settings(max_examples=examples(100), deadline=None)
@given(st.binary())
def test_any_bytes_are_detected(line: bytes) -> None:
    assert _native.detect(line) in NAMES


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "reference", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)]
)
def test_extreme_references(name: str, reference: datetime) -> None:
    """Year completion near datetime's limits must not overflow (a December line read in
    year 1, a January line read in 9999)."""
    for line in (b"Dec 31 23:59:59 h a: x", b"Jan  1 00:00:00 h a: x", b"<13>Jan  1 00:00:00 h"):
        assert_answer(name, line, _native.parse(name, line, to_us(reference)))


# Lines the native port once answered with None ("unsure"), one or two per kind, with the
# Python reference's answer (read off it before its deletion): a refusal reason or the fields.
UNSURE: list[tuple[str, bytes, str | Fields]] = [
    # logfmt: a line whose first key starts with a non-ASCII letter.
    ("logfmt", "ƒ=".encode(), {"attributes": {"ƒ": ""}}),
    ("logfmt", "ƒ=1 a=2".encode(), {"attributes": {"ƒ": "1", "a": "2"}}),
    ("logfmt", 'ƒ"'.encode(), "logfmt.unexpected_quote"),
    # syslog: an RFC 3339 time followed by something other than a space.
    ("syslog", b"2024-02-29T12:00:00Z\n", {"@timestamp": datetime(2024, 2, 29, 12, tzinfo=UTC)}),
    ("syslog", b"2019-06-14T10:40:20\xc3\xa9", "syslog.bad_timestamp"),
    ("syslog", b"2024-02-29T12:00:00Z2024-02-29T12:00:00Z", "syslog.bad_timestamp"),
    # CRI: the time followed by a tab or newline instead of a space.
    ("container", b"2016-10-06T00:17:09.669794202Z\n  ", "cri.bad_stream"),
    ("container", b"2016-02-30T00:17:09Z\t  ", "cri.bad_timestamp"),
    # A JSON time string holding a control character (str.strip() removes U+001C-U+001F).
    ("container", b'{"log": "", "time": "\\u001f"}', "docker.bad_time"),
    ("json", b'{"time": "\\u001f"}', {"attributes": {"time": "\x1f"}}),
    (
        "json",
        b'{"time": " 2024-01-02T03:04:05Z\\u001f"}',
        {"@timestamp": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)},
    ),
]


@pytest.mark.parametrize(("name", "line", "expected"), UNSURE)
def test_lines_the_port_was_unsure_of(name: str, line: bytes, expected: str | Fields) -> None:
    """Found by the fragment property tests; pinned here so they fail every run, not by luck."""
    if isinstance(expected, str):
        with pytest.raises(ParseError) as caught:
            parse(name, line)
        assert caught.value.reason == expected
    else:
        assert parse(name, line) == expected


# Pieces of headers: every layout's date and time parts, zones, levels, brackets, numbers.
_PARTS = (
    "2026-12-07",
    "2027-01-01",
    "9999-12-31",
    "26/12/07",
    "12-31",
    "12.31",
    "31/Dec/2026",
    "31",
    "Dec",
    "2026",
    "Wed",
    "I1231",
    "E20271231",
    "20271231",
    "271231",
    "23:59:59",
    "00:00:01",
    "T",
    ":",
    ".123456",
    ",5",
    ":789",
    "Z",
    "+14:00",
    "-1200",
    "PST",
    "JST",
    "AM",
    "PM",
    "1798761600",
    "1798761600123",
    "[",
    "]",
    "|",
    "-",
    "INFO",
    "error:",
    "W",
    "1234",
    "@4000000069712300000000",
)
_HEAD_PARTS = st.sampled_from([*_PARTS, " ", "  "])
_HEADERS = st.lists(_HEAD_PARTS, max_size=12).map("".join)
_RECEIPTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=examples(300), deadline=None)
@given(head=_HEADERS, tail=st.text(max_size=20), received=_RECEIPTS)
def test_no_line_is_dated_more_than_a_day_after_its_receipt(
    head: str, tail: str, received: datetime
) -> None:
    """Whatever its header says, a line's time is never more than a day after the time it
    was received (the reference): a year-less time takes an earlier year, a dated one is
    dropped (and tagged) as the document's `@timestamp`."""
    line = (head + tail).encode()
    result = _native.parse("auto", line, to_us(received))
    if isinstance(result, list) and result and result[0][0] == "@timestamp":
        assert result[0][1] <= received + timedelta(days=1), line
