"""The corpus loader behind `make corpus-coverage`: its pure pieces on hand-written input, and
that it finds samples, with stated expectations, in every family of the real corpus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.corpus.extract_code import go_expr, rust_unescape
from tests.corpus.extract_files import family_of, raw_log_files
from tests.corpus.extract_specs import SPECS, ruby_expr
from tests.corpus.formats import LEVEL_NAMES, LEVELS, level, load
from tests.corpus.model import entries_lead_with_digit_or_bracket, is_continuation, stated_time

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("stated", "want"),
    [
        ("warning", "warn"),
        ("WARN", "warn"),
        ("stats", "info"),
        ("trace", "trace"),
        ("debug3", "debug"),
        ("SEVERE", "error"),
        ("I", "info"),
        ("F", "fatal"),
        ("emerg", "emergency"),
        ("System", "info"),
        ("Note", "info"),
    ],
)
def test_level_names_map_onto_edgewatch_levels(stated: str, want: str) -> None:
    assert level(stated) == want


def test_level_mapping_stays_in_the_vocabulary() -> None:
    assert set(LEVEL_NAMES.values()) <= set(LEVELS)
    with pytest.raises(KeyError):
        level("loud")  # an unknown name is added knowingly, never guessed


@pytest.mark.parametrize(
    ("line", "strict", "continues"),
    [
        (b"2024-01-02 10:00:00 ERROR boom", True, False),
        (b"\tat com.example.Main.run(Main.java:10)", False, True),
        (b"    at com.example.Main.run(Main.java:10)", False, True),
        (b"at com.example.Main.run(Main.java:10)", False, True),
        (b"Caused by: java.io.IOException: gone", False, True),
        (b"... 13 more", False, True),
        (b"Traceback (most recent call last):", False, True),
        (b"ValueError: bad input", True, True),  # a letter in a file of digit-led entries
        (b"ValueError: bad input", False, False),  # says nothing in a `Dec 13 ...` file
        (b'"10.0.0.1, 10.0.0.2" - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1"', True, False),
        (b"[2024-01-02 10:00:00] INFO up", True, False),
    ],
)
def test_continuation_heuristic(line: bytes, strict: bool, continues: bool) -> None:
    assert is_continuation(line, strict) is continues


def test_a_file_tells_how_its_entries_start() -> None:
    python_like = [b"2024-01-02 10:00:00 INFO a", b"second line of a", b"2024-01-02 10:00:01 X b"]
    assert entries_lead_with_digit_or_bracket(python_like)
    assert entries_lead_with_digit_or_bracket([b"[1] x", b"y", b"z"])  # the first line leads
    syslog_like = [b"Jan  2 10:00:00 host app: a", b"\tindented", b"Jan  2 10:00:01 host app: b"]
    assert not entries_lead_with_digit_or_bracket(syslog_like)


def test_ruby_let_expressions_are_evaluated() -> None:
    spec = (
        "let(:part) { 'tail' }\n"
        "let(:message) do 'a \\'quoted\\' ' + # a comment\n"
        '  "tab\\there " + part end\n'
        "let(:multi) do <<LINE\n"
        "first\n"
        "\tsecond\n"
        "LINE\n"
        "end\n"
    )
    env: dict[str, str] = {}
    value, _ = ruby_expr(spec, spec.index("{") + 1, env)
    assert value == "tail"
    env["part"] = value
    value, _ = ruby_expr(spec, spec.index(" do ") + 4, env)
    assert value == "a 'quoted' tab\there tail"
    value, _ = ruby_expr(spec, spec.index("<<LINE"), env)
    assert value == "first\n\tsecond\n"
    interpolated = '"#{part} x"'
    assert ruby_expr(interpolated, 0, env)[0] is None


def test_go_and_rust_literals_are_unescaped() -> None:
    consts = {"BOM": b"\xef\xbb\xbf"}
    value, _ = go_expr('[]byte("<1>1 - - - - - - " + BOM + "\\xc3\\xb1"),', 7, consts)
    assert value == b"<1>1 - - - - - - \xef\xbb\xbf\xc3\xb1"
    assert go_expr("[]byte(`raw \\n`)", 7, consts)[0] == b"raw \\n"
    assert go_expr('[]byte("x" + latin1("y"))', 7, consts)[0] is None
    assert rust_unescape('\\n  I0505 \\"x\\"') == '\n  I0505 "x"'


@pytest.mark.parametrize(
    ("text", "timestamp", "wall_clock", "year_stated"),
    [
        ("1432555199.633017", datetime(2015, 5, 25, 11, 59, 59, 633017, UTC), None, True),
        (
            "2014-11-03T18:28:32.450-0500",
            datetime(2014, 11, 3, 23, 28, 32, 450000, UTC),
            None,
            True,
        ),
        ("2014-01-09 20:03:28,269 -0800", datetime(2014, 1, 10, 4, 3, 28, 269000, UTC), None, True),
        ("Mon Aug 31 09:30:48.958285 2015", None, datetime(2015, 8, 31, 9, 30, 48, 958285), True),
        ("Jul 30, 2020 3:00:21 PM", None, datetime(2020, 7, 30, 15, 0, 21), True),
        ("31-Jul-2020 16:40:38.505", None, datetime(2020, 7, 31, 16, 40, 38, 505000), True),
        ("Dec  9 13:01:26", None, datetime(1900, 12, 9, 13, 1, 26), False),
    ],
)
def test_stated_times(
    text: str, timestamp: datetime | None, wall_clock: datetime | None, year_stated: bool
) -> None:
    when = stated_time(text)
    assert (when.timestamp, when.wall_clock, when.year_stated) == (
        timestamp,
        wall_clock,
        year_stated,
    )


def test_every_family_with_log_lines_has_samples(corpus: Path) -> None:
    loaded = load(corpus)
    formats = corpus / "formats"
    with_lines = {family_of(formats, path) for path in raw_log_files(formats)}
    with_lines |= {path.parts[-3] for path in formats.glob("*/*/lnav_format_samples.json")}
    with_lines |= {family for family, _ in SPECS} | {"syslog", "glog_klog", "kubernetes_cri"}
    found = {sample.family for sample in loaded.samples}
    assert with_lines <= found, with_lines - found
    assert "logfmt" not in found
    stamped = {s.family for s in loaded.samples if s.timestamp or s.wall_clock}
    assert len(stamped) >= 10, stamped
    assert sum(s.timestamp is not None for s in loaded.samples) >= 80
    for sample in loaded.samples:
        assert sample.line and b"\n" not in sample.line, sample.source
        assert sample.level in (None, *LEVELS), sample.source
        if sample.timestamp is not None:
            assert sample.timestamp.utcoffset() == timedelta(0), sample.source
        if sample.wall_clock is not None:
            assert sample.wall_clock.tzinfo is None and sample.timestamp is None, sample.source
        if sample.continuation:
            assert (sample.timestamp, sample.level, sample.message) == (None, None, None)
    assert all("loghub" not in sample.source for sample in loaded.samples)
