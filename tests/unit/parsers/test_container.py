"""The container parser (CRI and Docker json-file) against third-party vectors from the corpus.

Sources, read at test time (see the corpus's SOURCES.md): the Beats docker/CRI reader table
(transcribed from libbeat's docker_json_test.go), Fluent Bit's kubernetes filter and tail
`dockermode` test logs (real json-file lines), Fluent Bit's multiline tests (CRI and Docker
vectors in C string literals) and fluent-plugin-parser-cri's Ruby tests.

Where our answer differs from a source on purpose, `BEATS_DEVIATIONS` says why.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.parsers.contract import assert_contract
from tests.unit.parsers.native import Fields, ParseError, Parser, detect

BEATS_CASES = "formats/docker_json_file/beats-readjson/docker_cri_reader_cases.json"
K8S_LOGS = "formats/docker_json_file/fluent-bit/kubernetes_log"
TAIL = "formats/docker_json_file/fluent-bit/tail"
MULTILINE_C = "formats/kubernetes_cri/fluent-bit/multiline.c"
CRI_RB = "formats/kubernetes_cri/fluent-plugin-parser-cri/test_parser_cri.rb"

parse = Parser("container").parse


def assert_valid(fields: Fields) -> None:
    """The parser contract, and tags that are strings."""
    assert_contract(fields)
    if "tags" in fields:
        assert all(isinstance(tag, str) for tag in fields["tags"])


def iso(text: str) -> datetime:
    """An RFC 3339 time, nanoseconds cut to microseconds, as Python keeps it."""
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)", text)
    assert match is not None, text
    head, frac, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    return datetime.fromisoformat(f"{head}.{(frac or '0')[:6].ljust(6, '0')}{zone}").astimezone(UTC)


def is_partial(fields: Fields) -> bool:
    return "partial_line" in fields.get("tags", [])


def join_partials(records: list[Fields]) -> list[Fields]:
    """What a stateful shipper would do with our output: glue partial lines onto the next one
    of the same stream, keeping the first piece's timestamp (as Beats does)."""
    pending: dict[str | None, Fields] = {}
    joined: list[Fields] = []
    for record in records:
        stream = record.get("stream")
        head = pending.pop(stream, None)
        if head is not None:
            merged = {**head, "message": head["message"] + record["message"]}
            if not is_partial(record):
                del merged["tags"]
            record = merged
        if is_partial(record):
            pending[stream] = record
        else:
            joined.append(record)
    return joined


# --------------------------------------------------------------------------- hand-made lines


def test_cri_full_line() -> None:
    fields = parse(b"2016-10-06T00:17:09.669794202Z stdout F the message")
    assert fields == {
        "@timestamp": datetime(2016, 10, 6, 0, 17, 9, 669794, UTC),
        "stream": "stdout",
        "message": "the message",
    }


def test_cri_partial_line_is_tagged_not_joined() -> None:
    fields = parse(b"2016-10-06T00:17:09.669794202Z stderr P the first half ")
    assert fields["message"] == "the first half "
    assert fields["stream"] == "stderr"
    assert fields["tags"] == ["partial_line"]


@pytest.mark.parametrize(
    "line",
    [b"2016-10-06T00:17:09.669794202Z stdout F ", b"2016-10-06T00:17:09.669794202Z stdout F"],
)
def test_cri_empty_message_is_allowed(line: bytes) -> None:
    assert parse(line)["message"] == ""


def test_cri_keeps_leading_spaces_and_inner_json_verbatim() -> None:
    line = b'2020-10-10T00:10:00.333333333+02:00 stdout F   {"level":"info","msg":"x"}'
    fields = parse(line)
    assert fields["message"] == '  {"level":"info","msg":"x"}'
    assert fields["@timestamp"] == datetime(2020, 10, 9, 22, 10, 0, 333333, UTC)


def test_cri_stray_line_terminator_is_not_content() -> None:
    assert parse(b"2016-10-06T00:17:09Z stdout F text\n")["message"] == "text"


def test_cri_without_tag_is_a_whole_line() -> None:
    fields = parse(b"2017-09-12T22:32:21.212861448Z stdout some text")
    assert fields["message"] == "some text"
    assert "tags" not in fields


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"2017-09-12T22:32:21.212861448Z stdout", "cri.truncated"),
        (b"2017-09-12T22:32:21.212861448Z", "cri.truncated"),
        (b"2017-09-12T22:32:21.212861448Z stdlog F x", "cri.bad_stream"),
        (b"2017-13-12T22:32:21.212861448Z stdout F x", "cri.bad_timestamp"),
        (b"2017-09-12 22:32:21.212861448Z stdout F x", "cri.bad_timestamp"),
        (b"yesterday stdout F x", "cri.bad_timestamp"),
        (b"2017-09-12T22:32:21Z stdout F \xff", "invalid_utf8"),
        (b"", "cri.truncated"),
    ],
)
def test_cri_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as err:
        parse(line)
    assert err.value.reason == reason


def test_docker_full_and_partial_lines() -> None:
    full = parse(b'{"log":"done\\n","stream":"stdout","time":"2019-01-02T03:04:05.123456789Z"}')
    assert full == {
        "@timestamp": datetime(2019, 1, 2, 3, 4, 5, 123456, UTC),
        "stream": "stdout",
        "message": "done",
    }
    part = parse(b'{"log":"half","stream":"stderr","time":"2019-01-02T03:04:05Z"}')
    assert part["message"] == "half"
    assert part["tags"] == ["partial_line"]


def test_docker_strips_only_one_newline_and_keeps_inner_json() -> None:
    line = b'{"log":"{\\"a\\":1}\\n\\n","stream":"stdout","time":"2019-01-02T03:04:05Z"}'
    assert parse(line)["message"] == '{"a":1}\n'


def test_docker_key_order_does_not_matter() -> None:
    line = b'{"time":"2019-01-02T03:04:05Z","stream":"stdout","log":"x\\n"}'
    assert detect(line) == "container"
    assert parse(line)["message"] == "x"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"log":"x\\n","level":"info"}', "docker.not_docker"),
        (b'{"stream":"stdout","time":"2019-01-02T03:04:05Z"}', "docker.not_docker"),
        (b'{"log":1,"stream":"stdout"}', "docker.bad_log"),
        (b'{"log":"x","stream":"stdlog"}', "docker.bad_stream"),
        (b'{"log":"x","stream":{}}', "docker.bad_stream"),
        (b'{"log":"x","stream":["stdout"]}', "docker.bad_stream"),
        (b'{"log":"x","time":"yesterday"}', "docker.bad_time"),
        (b'{"log":"x","time":12}', "docker.bad_time"),
        (b'{"log":"x","attrs":[1]}', "docker.bad_attrs"),
        (b'{"log":"x\\n"', "docker.invalid_json"),
        (b'{"log":"\\ud800"}', "docker.invalid_json"),
        (b'{"log":"\xff"}', "invalid_utf8"),
        (b'["log"]', "cri.truncated"),
    ],
)
def test_docker_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as err:
        parse(line)
    assert err.value.reason == reason


def test_docker_objects_as_lines() -> None:
    """The reference's is_docker_object / from_object (for an envelope that decoded the line
    already) are not in the binding: the same objects as lines go through detect and parse."""
    record = {"log": "x\n", "stream": "stdout", "time": "2019-01-02T03:04:05Z"}
    line = json.dumps(record).encode()
    assert detect(line) == "container"
    assert parse(line)["message"] == "x"
    ecs = json.dumps({"log": {"level": "info"}, "message": "ecs"}).encode()
    assert detect(ecs) == "json"


@pytest.mark.parametrize(
    "line",
    [
        b"2016-10-06T00:17:09.669794202Z stdout F x",
        b"2016-10-06T00:17:09+00:00 stderr P x",
        b'{"log":"x\\n","stream":"stdout","time":"2019-01-02T03:04:05Z"}',
        b'{"log": "x"}',
    ],
)
def test_container_lines_are_detected(line: bytes) -> None:
    assert detect(line) == "container"


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"2016-10-06 00:17:09 INFO started",
        b"2016-10-06T00:17:09Z host app[1]: started",
        b'{"@timestamp":"2024-01-02T03:04:05Z","log":{"level":"info"},"message":"ecs"}',
        b'{"level":"info","msg":"logrus"}',
        b"plain text",
        b'{"log":"x"} trailing',
    ],
)
def test_other_lines_are_not_detected_as_container(line: bytes) -> None:
    assert detect(line) != "container"


# --------------------------------------------------------------------------- Beats table

# Cases whose Beats answer depends on reader options we do not have, or that we answer
# differently on purpose. Each maps to what we return instead.
BEATS_DEVIATIONS = {
    # Beats needs `time` for the event; we keep the line and let the caller use the receive
    # time (Fluent Bit's own dockermode test logs have no `time` either).
    "Missing time": "accepted without @timestamp",
    # Beats can force one format; our parser picks by the first byte, so these succeed.
    "Force CRI with JSON logs": "accepted without @timestamp",
    "Force JSON with CRI logs": "parsed as an untagged CRI line",
}


def beats_cases(corpus: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((corpus / BEATS_CASES).read_text())["cases"]
    return cases


def run_beats_case(case: dict[str, Any]) -> Fields | ParseError:
    """Our answer to a Beats case: parse each line, keep the case's stream, join partial
    lines when the case asks for it (as the Beats reader would), return the first record."""
    records: list[Fields] = []
    for text in case["input"]:
        try:
            records.append(parse(text.encode()))
        except ParseError as err:
            return err
    if case["stream"] != "all":
        records = [r for r in records if r.get("stream") == case["stream"]]
    if case["partial"]:
        records = join_partials(records)
    return records[0]


def test_beats_table_is_all_there(corpus: Path) -> None:
    assert len(beats_cases(corpus)) == 21


def test_beats_docker_cri_reader_cases(corpus: Path) -> None:
    checked = 0
    for case in beats_cases(corpus):
        name, expected = case["name"], case["expected"]
        got = run_beats_case(case)
        if name in BEATS_DEVIATIONS:
            assert isinstance(got, dict), name
            assert got["stream"] == "stdout"
            if BEATS_DEVIATIONS[name].startswith("accepted"):
                assert "@timestamp" not in got
                assert got["message"] == "1:M 09 Nov 13:27:36.276 # User requested shutdown..."
            else:
                assert got["message"].endswith("Invalidating dataplane cache")
            continue
        if expected["error"]:
            assert isinstance(got, ParseError), name
            continue
        assert isinstance(got, dict), (name, got)
        assert_valid(got)
        # Beats keeps the docker line terminator in the content; we drop it (see module doc).
        assert got["message"] == expected["content"].removesuffix("\n"), name
        assert got["stream"] == expected["fields"]["stream"], name
        assert got["@timestamp"] == iso(expected["ts"]), name
        if "docker" in expected["fields"]:
            assert got["attributes"] == {"attrs": expected["fields"]["docker"]["attrs"]}
        checked += 1
    assert checked == 14  # + 4 expected errors + 3 deviations = 21


def test_beats_partial_disabled_keeps_the_fragment_tagged(corpus: Path) -> None:
    case = next(c for c in beats_cases(corpus) if c["name"] == "Split lines with partial disabled")
    first = parse(case["input"][0].encode())
    assert first["message"] == case["expected"]["content"]
    assert first["tags"] == ["partial_line"]


# --------------------------------------------------------------------------- Fluent Bit logs


def docker_lines(folder: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(folder.rglob("*.log")):
        for line in path.read_bytes().splitlines():
            if line:
                yield path, line


def test_fluent_bit_kubernetes_logs_all_parse(corpus: Path) -> None:
    count = 0
    for path, line in docker_lines(corpus / K8S_LOGS):
        record = json.loads(line)  # the independent reading we compare with
        assert detect(line) == "container", path
        fields = parse(line)
        assert_valid(fields)
        assert fields["message"] == record["log"].removesuffix("\n"), path
        assert fields["stream"] == record["stream"], path
        assert fields["@timestamp"] == iso(record["time"]), path
        # One file's line has no terminator (core_uat-myapp-12345): a partial line to us.
        assert is_partial(fields) == (not record["log"].endswith("\n")), path
        count += 1
    assert count >= 90


def test_fluent_bit_inner_json_is_left_as_text(corpus: Path) -> None:
    path = corpus / K8S_LOGS / "options" / "options_merge-log-enabled_json.log"
    fields = parse(path.read_bytes().strip())
    assert fields["message"] == '{"text":"Simple text"}'
    assert "attributes" not in fields


def test_fluent_bit_dockermode_lines_and_joins(corpus: Path) -> None:
    for log in sorted((corpus / TAIL / "log").glob("dockermode*.log")):
        records = []
        for line in log.read_bytes().splitlines():
            fields = parse(line)
            assert_valid(fields)
            assert "@timestamp" not in fields and "stream" not in fields
            records.append(fields)
        if log.name in ("dockermode.log", "dockermode_splitted_line.log"):
            # These two need only partial-line joining (the others use a multiline regex).
            out = (corpus / TAIL / "out" / log.name).with_suffix(".out")
            want = [json.loads(x)["log"].removesuffix("\n") for x in out.read_text().splitlines()]
            assert [r["message"] for r in join_partials(records)] == want


# --------------------------------------------------------------------------- Fluent Bit C vectors


def c_strings(source: str, array: str) -> list[str]:
    """The string literals of `struct record_check <array>[] = {...};` in a C file, each entry
    being adjacent literals concatenated, with C escapes undone."""
    body = source[source.index(f"{array}[] = {{") :]
    body = body[: body.index("};")]
    entries = []
    for entry in re.findall(r"\{((?:\s*\"(?:[^\"\\]|\\.)*\")+)\s*\}", body):
        parts = re.findall(r"\"((?:[^\"\\]|\\.)*)\"", entry)
        text = "".join(parts)
        entries.append(re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text))
    return entries


def test_fluent_bit_cri_vectors(corpus: Path) -> None:
    source = (corpus / MULTILINE_C).read_text()
    records = [parse(line.encode()) for line in c_strings(source, "cri_input")]
    for record in records:
        assert_valid(record)
        assert record["@timestamp"].year == 2019
    assert sum(is_partial(r) for r in records) == 8
    joined = sorted(r["message"] for r in join_partials(records))
    assert joined == sorted(c_strings(source, "cri_output"))


def test_fluent_bit_docker_cri_chain(corpus: Path) -> None:
    source = (corpus / MULTILINE_C).read_text()
    got = [parse(line.encode())["message"] for line in c_strings(source, "docker_cri_chain_input")]
    assert got == c_strings(source, "docker_cri_chain_output")


def test_fluent_bit_mixed_vectors(corpus: Path) -> None:
    """Valid lines parse; two docker lines carry a raw newline inside a JSON string (a C `\\n`
    where the file means `\\\\n`), which no JSON decoder accepts and dockerd never writes."""
    source = (corpus / MULTILINE_C).read_text()
    lines = c_strings(source, "docker_input") + c_strings(source, "container_mix_input")
    rejected = []
    for line in lines:
        try:
            fields = parse(line.encode())
        except ParseError as err:
            rejected.append((line, err.reason))
            continue
        assert_valid(fields)
        assert fields["message"] and "\n" not in fields["message"]
    assert sorted(r for _, r in rejected) == ["cri.bad_timestamp"] + ["docker.invalid_json"] * 2
    assert all("\n" in line for line, reason in rejected if reason == "docker.invalid_json")


# --------------------------------------------------------------------------- fluentd plugin


def test_fluent_plugin_parser_cri_vectors(corpus: Path) -> None:
    source = (corpus / CRI_RB).read_text()
    logs = re.findall(r"log = '([^']*)'", source)
    records = re.findall(r"r = (\{[^\n]*\})", source)
    times = re.findall(r"event_time\('([^']*)'", source)
    assert len(logs) == len(records) == len(times) == 5
    for log, record_text, stamp in zip(logs, records, times, strict=True):
        fields = parse(log.encode())
        assert_valid(fields)
        record = dict(re.findall(r"'(\w+)' => '([^']*)'", record_text))
        if "message" in record:
            assert fields["message"] == record["message"]
            assert fields["stream"] == record["stream"]
            assert fields["@timestamp"] == iso(stamp)
        else:  # the plugin's inner JSON parser ran; we hand the JSON on as text
            assert fields["message"].startswith('{"foo":"bar"')


# --------------------------------------------------------------------------- robustness

FRAGMENTS = [
    b"2016-10-06T00:17:09.669794202Z",
    b"2016-10-06T00:17:09+25:00",
    b"2016-02-30T00:17:09Z",
    b"9999-99-99T99:99:99Z",
    b" ",
    b"  ",
    b"stdout",
    b"stderr",
    b"F",
    b"P",
    b"x",
    b"\xff",
    b"\n",
    b"\t",
    b"{",
    b"}",
    b'"log"',
    b'"stream"',
    b'"time"',
    b'"attrs"',
    b":",
    b",",
    b'"x\\n"',
    b'"2019-01-02T03:04:05Z"',
    b"null",
    b"[]",
    b"{}",
    b"1e999",
    b'"\\ud800"',
]


def check(line: bytes) -> None:
    try:
        fields = parse(line)
    except ParseError:
        return
    assert_valid(fields)
    assert isinstance(fields["message"], str)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(line: bytes) -> None:
    detect(line)
    check(line)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map(b"".join))
def test_near_miss_lines(line: bytes) -> None:
    detect(line)
    check(line)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["log", "stream", "time", "attrs", "other"]),
        st.one_of(
            st.text(max_size=20),
            st.integers(),
            st.none(),
            st.sampled_from(["stdout", "stderr", "2019-01-02T03:04:05Z", "x\n"]),
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
        ),
    )
)
def test_docker_shaped_objects(record: dict[str, Any]) -> None:
    check(json.dumps(record).encode())


@pytest.mark.parametrize(
    "line",
    [
        b"{" * 100_000,
        b'{"log":"' + b"\\u0000" * 100_000 + b'"}',
        b"2016-10-06T00:17:09Z stdout F " + b" " * 1_000_000,
        b"2016-10-06T00:17:09Z" + b" " * 1_000_000,
        b'{"log"' + b" " * 1_000_000 + b"}",
    ],
)
def test_large_inputs_stay_fast(line: bytes) -> None:
    start = time.perf_counter()
    detect(line)
    check(line)
    assert time.perf_counter() - start < 0.5
