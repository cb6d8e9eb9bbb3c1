"""The logfmt parser against the test vectors of go-logfmt, logfmt-python, Vector (VRL) and
Fluent Bit from the shared corpus, read from those files at test time, plus generated
near-misses."""

from __future__ import annotations

import ast
import contextlib
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.go_literal import go_unquote
from tests.unit.parsers.contract import assert_contract
from tests.unit.parsers.native import Fields, ParseError, Parser, detect

GO = "formats/logfmt/go-logfmt/decode_test.go"
PYTHON = "formats/logfmt/jkakar-logfmt-python/tests/test_parser.py"
VRL = "formats/logfmt/vrl/parse_logfmt.doc.json"
FLUENT_BIT = "formats/logfmt/fluent-bit/parser_logfmt.c"

logfmt = Parser("logfmt")
# A pair put before a record, so that `parse` shows the record's own pairs: the line then
# starts with a key and holds a `key=` pair whatever the record is (see `pairs`).
PROBE = "edgewatch.probe"


def assert_shape(fields: Fields) -> None:
    assert_contract(fields)
    for key, value in fields.get("attributes", {}).items():
        assert isinstance(key, str) and isinstance(value, str | bool)


def pairs(text: str) -> dict[str, str | bool]:
    """The pairs of one logfmt record (none of them a well-known key), as the native parser
    reads them: the reference's `pairs` is not in the binding, so the record goes through
    `parse` behind a probe pair. A bare key's value is True; a key that appears twice keeps
    its last value (`parse` cannot show repeats). Raises ParseError as `parse` does."""
    fields = logfmt.parse(f"{PROBE}=1 {text}".encode())
    attributes = dict(fields.pop("attributes"))
    assert not fields, ("well-known keys in a pairs vector", fields)
    assert attributes.pop(PROBE) == "1"
    return attributes


def as_go(found: dict[str, str | bool]) -> dict[str, str | None]:
    """Our pairs as go-logfmt reports them: an empty value and a bare key are both nil."""
    return {key: None if value in ("", True) else str(value) for key, value in found.items()}


# --------------------------------------------------------------------------- Go source reading

_GO_LITERAL = r'"(?:[^"\\\n]|\\.)*"|`[^`]*`'


def go_string(literal: str) -> bytes:
    """A Go string literal's bytes (`\x80` is a raw byte in Go, not U+0080)."""
    if literal.startswith("`"):
        return literal[1:-1].encode()
    return go_unquote(literal[1:-1])


def go_function(source: str, name: str) -> str:
    start = source.index(f"func {name}(")
    return source[start : source.index("\n}\n", start)]


def go_data(entry: str) -> bytes:
    repeat = re.search(rf"data:\s*strings\.Repeat\(({_GO_LITERAL}),\s*(\d+)\)", entry)
    if repeat:
        return go_string(repeat.group(1)) * int(repeat.group(2))
    data = re.search(rf"data:\s*({_GO_LITERAL})", entry)
    assert data is not None, entry
    return go_string(data.group(1))


def go_want(text: str) -> list[list[tuple[str, str | None]] | None]:
    """`[][]kv{{{[]byte("k"), nil}}, nil}` as records of (key, value) pairs."""
    stack: list[list[Any]] = [[]]
    for token in re.finditer(rf"\{{|\}}|nil|\[\]byte\(({_GO_LITERAL})\)", text):
        if token.group() == "{":
            stack.append([])
        elif token.group() == "}":
            done = stack.pop()
            stack[-1].append(done)
        elif token.group() == "nil":
            stack[-1].append(None)
        else:
            stack[-1].append(go_string(token.group(1)).decode())
    (value,) = stack[0]
    if value is None:  # `want: nil`
        return []
    return [None if record is None else [tuple(kv) for kv in record] for record in value]


def records(data: bytes) -> list[bytes]:
    """Lines as Go's bufio.Scanner splits them (a final newline ends, not starts, a line)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def go_scan_vectors(corpus: Path) -> list[tuple[bytes, list[Any]]]:
    body = go_function((corpus / GO).read_text(), "TestDecoder_scan")
    vectors = []
    for entry in re.split(r"\n\t\t\},?\n", body.split("}{", 1)[1]):
        if "data:" not in entry:
            continue
        want = entry[entry.index("want:") + len("want:") :]
        vectors.append((go_data(entry), go_want(want)))
    return vectors


def go_syntax_vectors(corpus: Path) -> list[tuple[bytes, str, int]]:
    body = go_function((corpus / GO).read_text(), "TestDecoder_SyntaxError")
    found = re.findall(
        rf"data:\s*({_GO_LITERAL}),.*?Msg:\s*({_GO_LITERAL}),\s*Line:\s*(\d+)", body, re.DOTALL
    )
    return [(go_string(data), go_string(msg).decode(), int(line)) for data, msg, line in found]


# --------------------------------------------------------------------------- go-logfmt


def test_go_scan_vectors(corpus: Path) -> None:
    vectors = go_scan_vectors(corpus)
    assert len(vectors) == 15
    for data, want in vectors:
        got = [as_go(pairs(record.decode())) for record in records(data)]
        assert got == [dict(record or []) for record in want], data


_GO_MESSAGES = {
    "unexpected '='": "logfmt.unexpected_equals",
    "unexpected '\"'": "logfmt.unexpected_quote",
    "unterminated quoted value": "logfmt.unterminated_quote",
    "invalid quoted value": "logfmt.invalid_quoted_value",
    "invalid key": "logfmt.invalid_key",
}


def test_go_syntax_error_vectors(corpus: Path) -> None:
    vectors = go_syntax_vectors(corpus)
    assert len(vectors) == 14
    for data, message, line_number in vectors:
        lines = records(data)
        for ok in lines[: line_number - 1]:
            assert pairs(ok.decode())
        bad = lines[line_number - 1]
        with pytest.raises(ParseError) as caught:
            logfmt.parse(bad)
        try:
            text = bad.decode()
        except UnicodeDecodeError:
            # Go reads bytes and calls a key with a bad byte invalid; we refuse the line first.
            assert message == "invalid key" and caught.value.reason == "invalid_utf8"
            continue
        with pytest.raises(ParseError) as caught:
            pairs(text)
        assert caught.value.reason == _GO_MESSAGES[message], data


def test_go_decode_encode_round_trip(corpus: Path) -> None:
    body = go_function((corpus / GO).read_text(), "TestDecoder_decode_encode")
    table = body[: body.index("for _, test := range tests")]
    literals = [go_string(lit) for lit in re.findall(_GO_LITERAL, table)]
    assert len(literals) == 10
    for given_text, encoded in zip(literals[::2], literals[1::2], strict=True):
        given_pairs = [as_go(pairs(r.decode())) for r in records(given_text) if r.strip()]
        encoded_pairs = [as_go(pairs(r.decode())) for r in records(encoded) if r.strip()]
        assert given_pairs == encoded_pairs


def test_go_mixed_line_parses() -> None:
    fields = logfmt.parse('a=1 b="bar" ƒ=2h3s r="esc\\t" d x=sf   '.encode())
    assert fields == {
        "attributes": {"a": "1", "b": "bar", "ƒ": "2h3s", "r": "esc\t", "d": True, "x": "sf"}
    }


# --------------------------------------------------------------------------- logfmt-python

# logfmt-python reads free text as flags; we leave such lines to the plain-text parser.
_NOT_LOGFMT = {
    "test_empty_log_line": "logfmt.empty",
    "test_whitespace_only_log_line": "logfmt.empty",
    "test_key_without_value": "logfmt.not_logfmt",
    "test_key_without_value_and_whitespace": "logfmt.not_logfmt",
    "test_multiple_single_keys": "logfmt.not_logfmt",
}


def python_vectors(corpus: Path) -> list[tuple[str, str, dict[str, Any]]]:
    vectors = []
    for node in ast.walk(ast.parse((corpus / PYTHON).read_text())):
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
        line = next(c for c in calls if getattr(c.func, "id", "") == "parse_line")
        check = next(c for c in calls if getattr(c.func, "attr", "") == "assertEqual")
        vectors.append((node.name, ast.literal_eval(line.args[0]), ast.literal_eval(check.args[1])))
    return vectors


def test_logfmt_python_vectors(corpus: Path) -> None:
    vectors = python_vectors(corpus)
    assert len(vectors) == 15
    parsed = 0
    for name, line, want in vectors:
        assert pairs(line) == want, name
        if name in _NOT_LOGFMT:
            with pytest.raises(ParseError) as caught:
                logfmt.parse(line.encode())
            assert caught.value.reason == _NOT_LOGFMT[name]
            continue
        fields = logfmt.parse(line.encode())
        assert_shape(fields)
        assert fields == {"attributes": want}, name  # none of their keys is well known
        parsed += 1
    assert parsed == 10


# --------------------------------------------------------------------------- Vector, Fluent Bit


def test_vrl_examples(corpus: Path) -> None:
    examples = json.loads((corpus / VRL).read_text())["examples"]
    assert len(examples) == 3
    for example in examples:
        literal = re.search(r'parse_logfmt!\(\s*("(?:[^"\\]|\\.)*")', example["source"])
        assert literal is not None
        line = json.loads(literal.group(1))
        if "msg" in example["return"]:  # well-known keys: test_vrl_kafka_example_fields
            assert line == VRL_KAFKA_LINE
        else:
            assert pairs(line) == example["return"]
        assert detect(line.encode()) == "logfmt"
        fields = logfmt.parse(line.encode())
        assert_shape(fields)


VRL_KAFKA_LINE = (
    '@timestamp="Sun Jan 10 16:47:39 EST 2021" level=info msg="Stopping all fetchers" '
    "tag#production=stopping_fetchers id=ConsumerFetcherManager-1382721708341 "
    "module=kafka.consumer.ConsumerFetcherManager"
)


def test_vrl_kafka_example_fields() -> None:
    assert logfmt.parse(VRL_KAFKA_LINE.encode()) == {
        "log.level": "info",
        "message": "Stopping all fetchers",
        # Not an RFC 3339 time: kept as written rather than guessed at.
        "attributes": {
            "@timestamp": "Sun Jan 10 16:47:39 EST 2021",
            "tag#production": "stopping_fetchers",
            "id": "ConsumerFetcherManager-1382721708341",
            "module": "kafka.consumer.ConsumerFetcherManager",
        },
    }


def test_fluent_bit_basic(corpus: Path) -> None:
    source = (corpus / FLUENT_BIT).read_text()
    body = source[source.index("test_basic(") :]
    line = re.search(r'char \*input = ("(?:[^"\\]|\\.)*")', body)
    strs = re.search(r"expected_strs\[\] = \{([^}]*)\}", body)
    assert line is not None and strs is not None
    flat = [json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', strs.group(1))]
    want = dict(zip(flat[::2], flat[1::2], strict=True))
    assert want == {"str": "text", "int": "100", "double": "1.23", "bool": "true"}
    assert logfmt.parse(json.loads(line.group(1)).encode()) == {"attributes": want}


# --------------------------------------------------------------------------- our own cases


def test_well_known_keys() -> None:
    line = (
        b'ts=2024-01-02T03:04:05.123+01:00 level=WARNING msg="disk \\"sda\\" 91% full" '
        b"logger=disk.monitor pid=42 err=ENOSPC caller=monitor.go:88 retry"
    )
    assert detect(line) == "logfmt"
    assert logfmt.parse(line) == {
        "@timestamp": datetime(2024, 1, 2, 2, 4, 5, 123000, tzinfo=UTC),
        "log.level": "warn",
        "message": 'disk "sda" 91% full',
        "log.logger": "disk.monitor",
        "process.pid": 42,
        "error.message": "ENOSPC",
        "attributes": {"caller": "monitor.go:88", "retry": True},
    }


@pytest.mark.parametrize(
    ("line", "want"),
    [
        ("a=1 a=2", [("a", "1"), ("a", "2")]),
        ('a="" b=', [("a", ""), ("b", "")]),
        ('a="x"b=y', [("a", "x"), ("b", "y")]),
        ("a=1\tb=2\x1fc=3", [("a", "1"), ("b", "2"), ("c", "3")]),
        ('a="\\u00e9\\ud83d\\ude00\\ud800"', [("a", "é😀\ufffd")]),
        ('a="\\/\\b\\f\\r\\n\\\'"', [("a", "/\b\f\r\n'")]),
        ('a="x=y z"', [("a", "x=y z")]),
        ("a=\u00a0b", [("a", "\u00a0b")]),  # only ASCII blanks separate, as in Go
        (
            "key.with.dots=1 @x=2 $y=3 -z=4",
            [("key.with.dots", "1"), ("@x", "2"), ("$y", "3"), ("-z", "4")],
        ),
    ],
)
def test_pairs(line: str, want: list[tuple[str, str | bool]]) -> None:
    assert pairs(line) == dict(want)


def test_last_value_wins() -> None:
    assert logfmt.parse(b"a=1 a=2") == {"attributes": {"a": "2"}}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "logfmt.empty"),
        (b" \t ", "logfmt.empty"),
        (b"\xc3\x28=1", "invalid_utf8"),
        (b"hello world", "logfmt.not_logfmt"),
        (b"hello", "logfmt.not_logfmt"),
        (b'{"a": 1}', "logfmt.not_logfmt"),
        (b"[info] a=1", "logfmt.not_logfmt"),
        (b'"a"=1', "logfmt.not_logfmt"),
        (b"=1", "logfmt.not_logfmt"),
        (b"<34>Oct 11 22:14:15 host a=1", "logfmt.not_logfmt"),
        (b'a="1', "logfmt.unterminated_quote"),
        (b'a=1 b="x\\"', "logfmt.unterminated_quote"),
        (b'a="\\x41"', "logfmt.invalid_quoted_value"),
        (b'a="\\u12"', "logfmt.invalid_quoted_value"),
        (b"a==1", "logfmt.unexpected_equals"),
        (b"a=1 =2", "logfmt.unexpected_equals"),
        (b'a=1 b"=2', "logfmt.unexpected_quote"),
        (b'a=x"y"', "logfmt.unexpected_quote"),
        ("a=1 b\ufffd=2".encode(), "logfmt.invalid_key"),
    ],
)
def test_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        logfmt.parse(line)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"level=info msg=hi", True),
        (b"  ts=1 a=b", True),
        (b"@timestamp=x", True),
        (b"hello world", False),
        (b"hello world a=1", False),
        (b'{"level":"info"}', False),
        (b"=x", False),
        (b"", False),
        (b'1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1', False),
    ],
)
def test_detected_as_logfmt(line: bytes, expected: bool) -> None:
    assert (detect(line) == "logfmt") is expected


def test_adversarial_lines_stay_fast() -> None:
    lines = [
        b"a=" + b'"' + b"\\" * 100_001,
        b'a="' + b'\\"' * 50_000,
        b"a=b " * 25_000,
        b"a " * 50_000 + b"=",
        b"a=" + b"x" * 100_000 + b'"',
        b'a="' + b"\\u" * 50_000 + b'"',
    ]
    for line in lines:
        start = time.perf_counter()
        with contextlib.suppress(ParseError):
            logfmt.parse(line)
        detect(line)
        assert time.perf_counter() - start < 0.5, line[:40]


# --------------------------------------------------------------------------- generated


def _check(line: bytes) -> None:
    fields: Fields | None = None
    try:
        fields = logfmt.parse(line)
    except ParseError as err:
        reason = err.reason
    if fields is None:
        assert reason.startswith("logfmt.") or reason == "invalid_utf8"
        return
    assert_shape(fields)


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(line: bytes) -> None:
    _check(line)
    detect(line)  # asserts a known name, never unsure


_FRAGMENTS = st.sampled_from(
    [
        "a",
        "level",
        "msg",
        "ts",
        "pid",
        "time",
        "=",
        "==",
        '"',
        '""',
        "\\",
        '\\"',
        "\\u",
        "\\ud83d",
        "\\ude00",
        "\\n",
        "info",
        "ERROR",
        "2024-01-02T03:04:05Z",
        "1700000000",
        "99999999999",
        " ",
        "\t",
        "\x00",
        "\n",
        "\ufffd",
        "ƒ",
        "@",
        "[",
        "{",
        "x y",
    ]
)


@settings(max_examples=1000)
@given(st.lists(_FRAGMENTS, max_size=20).map("".join))
def test_fragment_lines(text: str) -> None:
    _check(text.encode())


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.text(
                # UTF-8 only: the line goes to `parse` as bytes, which hold no lone surrogate.
                alphabet=st.characters(
                    min_codepoint=0x21, exclude_characters='="\ufffd', codec="utf-8"
                ),
                min_size=1,
            ),
            st.text(max_size=20),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_quoted_values_round_trip(items: list[tuple[str, str]]) -> None:
    # "x" before each key: no well-known key starts with it, so every pair stays an attribute.
    items = [("x" + key, value) for key, value in items]
    line = " ".join(f"{key}={json.dumps(value)}" for key, value in items)
    assert pairs(line) == dict(items)
