"""The JSON application-log parser: the usual structured loggers' shapes, and broken input.

The logger samples are written here in each library's documented default shape; the inner
JSON lines of Fluent Bit's kubernetes-filter test logs and fluent-plugin-parser-cri's JSON
vector are read from the shared corpus at test time.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.parsers.contract import assert_contract
from tests.unit.parsers.native import Fields, ParseError, Parser, detect

K8S_LOGS = "formats/docker_json_file/fluent-bit/kubernetes_log"
CRI_RB = "formats/kubernetes_cri/fluent-plugin-parser-cri/test_parser_cri.rb"

parse = Parser("json").parse


assert_valid = assert_contract


def parsed(line: str) -> Fields:
    fields = parse(line.encode())
    assert_valid(fields)
    return fields


# --------------------------------------------------------------------------- loggers


def test_logrus() -> None:
    line = (
        '{"animal":"walrus","level":"warning","msg":"The group\'s number increased '
        'tremendously!","number":122,"omg":true,"time":"2014-03-10T19:57:38.562471297-04:00"}'
    )
    assert parsed(line) == {
        "log.level": "warn",
        "message": "The group's number increased tremendously!",
        "@timestamp": datetime(2014, 3, 10, 23, 57, 38, 562471, UTC),
        "attributes": {"animal": "walrus", "number": 122, "omg": True},
    }


def test_zap_production() -> None:
    line = (
        '{"level":"error","ts":1704207845.1234567,"logger":"http","caller":"server/main.go:42",'
        '"msg":"request failed","url":"/api","attempt":3,"error":"context deadline exceeded",'
        '"stacktrace":"main.main\\n\\t/app/server/main.go:42\\nruntime.main"}'
    )
    fields = parsed(line)
    assert fields["log.level"] == "error"
    assert fields["@timestamp"] == datetime(2024, 1, 2, 15, 4, 5, 123457, UTC)
    assert fields["log.logger"] == "http"
    assert fields["message"] == "request failed"
    assert fields["error.message"] == "context deadline exceeded"
    assert fields["error.stack_trace"] == "main.main\n\t/app/server/main.go:42\nruntime.main"
    assert fields["attributes"] == {"caller": "server/main.go:42", "url": "/api", "attempt": 3}


@pytest.mark.parametrize(
    ("level", "expected"),
    [(10, "trace"), (20, "debug"), (30, "info"), (40, "warn"), (50, "error"), (60, "fatal")],
)
def test_pino_numeric_levels(level: int, expected: str) -> None:
    line = f'{{"level":{level},"time":1531171074631,"pid":657,"hostname":"box","msg":"hello"}}'
    fields = parsed(line)
    assert fields["log.level"] == expected
    assert fields["@timestamp"] == datetime(2018, 7, 9, 21, 17, 54, 631000, UTC)
    assert fields["process.pid"] == 657
    assert fields["host.name"] == "box"
    assert "attributes" not in fields


def test_pino_custom_level_falls_to_the_standard_one_below() -> None:
    assert parsed('{"level":35,"time":1531171074631,"msg":"x"}')["log.level"] == "info"


def test_pino_name_is_the_logger() -> None:
    line = '{"level":30,"time":1531171074631,"pid":1,"hostname":"h","name":"db","msg":"x"}'
    assert parsed(line)["log.logger"] == "db"


def test_bunyan() -> None:
    line = (
        '{"name":"myapp","hostname":"banana.local","pid":40161,"level":50,"msg":"boom",'
        '"time":"2013-01-04T18:46:23.851Z","v":0}'
    )
    assert parsed(line) == {
        "service.name": "myapp",
        "host.name": "banana.local",
        "process.pid": 40161,
        "log.level": "error",
        "message": "boom",
        "@timestamp": datetime(2013, 1, 4, 18, 46, 23, 851000, UTC),
        "attributes": {"v": 0},
    }


def test_numeric_level_without_pino_marks_is_a_syslog_severity() -> None:
    assert parsed('{"level":3,"msg":"x"}')["log.level"] == "error"
    fields = parsed('{"level":30,"msg":"x"}')
    assert "log.level" not in fields
    assert fields["attributes"] == {"level": 30}


def test_python_json_logger() -> None:
    line = (
        '{"asctime": "2024-01-02 15:04:05,123", "levelname": "ERROR", "name": "app.db", '
        '"message": "connection lost", "exc_info": "Traceback (most recent call last):\\n  ..."}'
    )
    assert parsed(line) == {
        "@timestamp": datetime(2024, 1, 2, 15, 4, 5, 123000, UTC),
        "log.level": "error",
        "log.logger": "app.db",
        "message": "connection lost",
        "attributes": {"exc_info": "Traceback (most recent call last):\n  ..."},
    }


def test_name_is_not_a_logger_outside_python_and_pino_shapes() -> None:
    assert parsed('{"msg":"x","name":"Alice"}')["attributes"] == {"name": "Alice"}


def test_ecs_logging_dotted() -> None:
    line = (
        '{"@timestamp":"2024-01-02T15:04:05.123Z","log.level":"WARN","message":"slow query",'
        '"ecs.version":"1.2.0","service.name":"orders","process.thread.name":"main",'
        '"log.logger":"com.example.Db","error.type":"java.sql.SQLTimeoutException"}'
    )
    assert parsed(line) == {
        "@timestamp": datetime(2024, 1, 2, 15, 4, 5, 123000, UTC),
        "log.level": "warn",
        "message": "slow query",
        "service.name": "orders",
        "process.thread.name": "main",
        "log.logger": "com.example.Db",
        "error.type": "java.sql.SQLTimeoutException",
        "attributes": {"ecs.version": "1.2.0"},
    }


def test_ecs_logging_nested_objects_are_lifted() -> None:
    line = (
        '{"@timestamp":"2024-01-02T15:04:05Z","message":"m",'
        '"log":{"level":"info","logger":"a.B","origin":{"file":{"line":3}}},'
        '"service":{"name":"orders","version":"1.0"},"host":{"name":"web-1"},'
        '"process":{"pid":42,"thread":{"name":"worker-1","id":7}},'
        '"error":{"type":"E","message":"bad","stack_trace":"at x"}}'
    )
    fields = parsed(line)
    assert fields["log.level"] == "info"
    assert fields["log.logger"] == "a.B"
    assert fields["service.name"] == "orders"
    assert fields["host.name"] == "web-1"
    assert fields["process.pid"] == 42
    assert fields["process.thread.name"] == "worker-1"
    assert fields["error.type"] == "E"
    assert fields["error.message"] == "bad"
    assert fields["error.stack_trace"] == "at x"
    assert fields["attributes"] == {
        "log": {"origin": {"file": {"line": 3}}},
        "service": {"version": "1.0"},
        "process": {"thread": {"id": 7}},
    }


def test_dotted_key_wins_over_nested_one() -> None:
    fields = parsed('{"log.level":"error","log":{"level":"info"},"msg":"x"}')
    assert fields["log.level"] == "error"
    assert fields["attributes"] == {"log": {"level": "info"}}


def test_wrong_shaped_known_keys_stay_in_attributes() -> None:
    fields = parsed('{"level":"loud","time":"soon","msg":["a"],"pid":-1}')
    assert fields == {
        "attributes": {"level": "loud", "time": "soon", "msg": ["a"], "pid": -1},
    }


def test_a_pid_of_non_ascii_digits_stays_in_attributes() -> None:
    # "¹" passes str.isdigit() but not int(); it once escaped the parser as a ValueError.
    assert parsed('{"msg":"x","pid":"¹"}') == {"message": "x", "attributes": {"pid": "¹"}}


def test_inner_objects_are_kept_as_decoded() -> None:
    fields = parsed('{"msg":"x","req":{"id":1,"tags":["a",null,1.5,false]}}')
    assert fields["attributes"] == {"req": {"id": 1, "tags": ["a", None, 1.5, False]}}


def test_empty_object() -> None:
    assert parsed("{}") == {}


def test_a_nested_level_is_lifted_alike_every_time() -> None:
    """The reference's from_object once mutated its input while lifting `log.level`; the
    binding takes bytes, so the same object read twice must give the same fields."""
    line = '{"log":{"level":"info","x":1},"levelname":"I","name":"n"}'
    expected = {
        "log.level": "info",
        "log.logger": "n",
        "attributes": {"log": {"x": 1}, "levelname": "I"},
    }
    assert parsed(line) == expected
    assert parsed(line) == expected


def test_surrounding_blanks_are_accepted() -> None:
    assert parsed(' {"msg":"x"}\r')["message"] == "x"


# --------------------------------------------------------------------------- rejects


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "json.invalid"),
        (b"{", "json.invalid"),
        (b'{"a":1,}', "json.invalid"),
        (b"{'a':1}", "json.invalid"),
        (b'{"a":NaN}', "json.invalid"),
        (b'{"a":"\\ud800"}', "json.invalid"),
        (b'{"a":"x\ny"}', "json.invalid"),
        (b'{"a":' * 2000 + b"1" + b"}" * 2000, "json.invalid"),
        (b'{"a":"\xff"}', "invalid_utf8"),
        (b'{"a":"\xed\xa0\x80"}', "invalid_utf8"),
        (b"[1,2]", "json.not_object"),
        (b'"text"', "json.not_object"),
        (b"42", "json.not_object"),
        (b"null", "json.not_object"),
    ],
)
def test_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as err:
        parse(line)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"msg":"x"}', True),
        (b'  {"msg":"x"}  ', True),
        (b"{broken}", True),
        (b"{this is not JSON nor CRI", False),
        (b"[1]", False),
        (b"plain", False),
        (b"", False),
    ],
)
def test_detected_as_json(line: bytes, expected: bool) -> None:
    assert (detect(line) == "json") is expected


# --------------------------------------------------------------------------- corpus


def test_fluent_bit_inner_json_lines(corpus: Path) -> None:
    """The `log` of Fluent Bit's kubernetes-filter test lines, as the dispatcher would hand it
    on: valid JSON maps, the deliberately broken ones (`...]`) are rejected."""
    seen: dict[str, int] = {"ok": 0, "invalid": 0}
    for path in sorted((corpus / K8S_LOGS).rglob("*.log")):
        for raw in path.read_bytes().splitlines():
            inner = json.loads(raw)["log"].removesuffix("\n")
            if not inner.startswith("{"):
                continue
            expected: dict[str, Any] | None
            try:
                expected = json.loads(inner)
            except ValueError:
                expected = None
            result: Fields | ParseError
            try:
                result = parse(inner.encode())
            except ParseError as err:
                result = err
            if isinstance(result, ParseError):
                assert expected is None, (path, result)
                assert result.reason == "json.invalid"
                seen["invalid"] += 1
                continue
            fields = result
            assert expected is not None
            assert_valid(fields)
            if "time" in expected:
                assert fields["@timestamp"] == datetime(2019, 4, 5, 14, 54, 23, 584269, UTC)
                assert fields["message"] == expected["message"]
            else:
                assert fields["attributes"] == expected
            seen["ok"] += 1
    # Two of the four broken ones have a raw newline inside a string (the "merge-log-trim" tests).
    assert seen == {"ok": 7, "invalid": 4}


def test_fluent_plugin_parser_cri_json_payload(corpus: Path) -> None:
    source = (corpus / CRI_RB).read_text()
    payload = re.search(r"stdout F (\{[^']*\})'", source)
    assert payload is not None
    fields = parsed(payload.group(1))
    assert fields["@timestamp"] == datetime(2020, 11, 11, 0, 11, 0, 111111, UTC)
    assert fields["attributes"] == {"foo": "bar", "num": 100}


# --------------------------------------------------------------------------- robustness

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["info", "WARN", "2024-01-02T15:04:05Z", "1704207845", "ERROR"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(
    [
        "level",
        "msg",
        "message",
        "time",
        "ts",
        "@timestamp",
        "pid",
        "hostname",
        "v",
        "name",
        "log",
        "service",
        "host",
        "process",
        "error",
        "levelname",
        "asctime",
        "log.level",
        "process.thread.name",
        "thread",
        "logger",
        "x",
    ]
)


def check(line: bytes) -> None:
    try:
        fields = parse(line)
    except ParseError:
        return
    assert_valid(fields)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(line: bytes) -> None:
    detect(line)
    check(line)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(KEYS | st.text(max_size=6), JSON_VALUES, max_size=8))
def test_arbitrary_objects(record: dict[str, Any]) -> None:
    line = json.dumps(record).encode()
    fields = parse(line)
    assert_valid(fields)
    # The reference compared this with from_object (the envelope's already-decoded path), which
    # the binding does not expose: the fields must depend on the object, not on its spelling.
    respelled = json.dumps(record, ensure_ascii=False, indent=1).encode()
    assert fields == parse(respelled)


FRAGMENTS = [b"{", b"}", b"[", b"]", b'"level"', b'"msg"', b":", b",", b"30", b'"x"', b"\xff"]
FRAGMENTS += [b"\\", b'"\\ud800"', b"1e999", b"-", b"null", b" ", b'"log"', b'{"level":']


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16).map(b"".join))
def test_near_miss_lines(line: bytes) -> None:
    detect(line)
    check(line)


@pytest.mark.parametrize(
    "line",
    [b"[" * 1_000_000, b'{"a":"' + b"x" * 2_000_000 + b'"}', b"{" + b" " * 1_000_000],
)
def test_large_inputs_stay_fast(line: bytes) -> None:
    start = time.perf_counter()
    detect(line)
    check(line)
    assert time.perf_counter() - start < 0.5
