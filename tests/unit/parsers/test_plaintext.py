"""The plain-text fallback: timestamp and level sniffing, error markers, and that it never fails.

Hand-written lines cover the common application formats; the corpus supplies, read at test
time, Fluent Bit's multiline test vectors (Java, Python, Go and Ruby stack traces, as C string
literals), Vector's klog vectors, Filebeat's real syslog sample files, the container messages
of the Beats and Fluent Bit test logs, and 10,000 Apache access lines (which must all pass).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.parsers.contract import assert_contract
from tests.unit.parsers.native import Fields, ParseError, Parser

MULTILINE_C = "formats/kubernetes_cri/fluent-bit/multiline.c"
KLOG_RS = "formats/kubernetes_cri/vrl/parse_klog.rs"
KLOG_DOC = "formats/kubernetes_cri/vrl/parse_klog.doc.json"
SYSLOG_SAMPLES = "formats/syslog/beats-system-syslog-test"
APACHE = "formats/apache_combined_access/apache_logs.log"
BEATS_CASES = "formats/docker_json_file/beats-readjson/docker_cri_reader_cases.json"
K8S_LOGS = "formats/docker_json_file/fluent-bit/kubernetes_log"

REFERENCE = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)

parse = Parser("plaintext").parse


assert_valid = assert_contract


def parsed(line: str, reference: datetime | None = REFERENCE) -> Fields:
    """The fields of `line`: its message is the line after the header that was read (the
    whole line where none was)."""
    fields = parse(line.encode(), reference)
    assert_valid(fields)
    assert line.endswith(fields["message"])
    if "@timestamp" not in fields:
        assert fields["message"] == line
    return fields


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, UTC)


# --------------------------------------------------------------------------- hand-made lines

CASES: list[tuple[str, datetime | None, str | None]] = [
    # RFC 3339 / ISO 8601
    ("2024-01-02T15:04:05Z server started", utc(2024, 1, 2, 15, 4, 5), None),
    (
        "2024-01-02T15:04:05.123456789+02:00 WARN disk 91% full",
        utc(2024, 1, 2, 13, 4, 5, 123456),
        "warn",
    ),
    ("2024-01-02 15:04:05.5 -0130 ERROR boom", utc(2024, 1, 2, 16, 34, 5, 500000), "error"),
    ("2024-01-02 15:04:05 UTC [info] ok", utc(2024, 1, 2, 15, 4, 5), "info"),
    # Java (logback/log4j) and Python logging defaults
    (
        "2024-01-02 15:04:05,123 [http-nio-8080-exec-1] INFO  com.example.App - Started App",
        utc(2024, 1, 2, 15, 4, 5, 123000),
        "info",
    ),
    (
        "2024-01-02 15:04:05,123 - app.db - WARNING - slow query",
        utc(2024, 1, 2, 15, 4, 5, 123000),
        "warn",
    ),
    ("WARNING:root:disk almost full", None, "warn"),
    ("CRITICAL:app:cannot continue", None, "critical"),
    # Go's log package and nginx's error log
    ("2024/01/02 15:04:05 listening on :8080", utc(2024, 1, 2, 15, 4, 5), None),
    ("2024/01/02 15:04:05.000123 panic: runtime error", utc(2024, 1, 2, 15, 4, 5, 123), "fatal"),
    (
        "2024/01/02 15:04:05 [error] 1234#0: *5 open() failed (2: No such file or directory)",
        utc(2024, 1, 2, 15, 4, 5),
        "error",
    ),
    # BSD timestamps (year from the reference) and C asctime (Apache error log)
    (
        "Jan  2 15:04:05 web-1 sshd[123]: error: PAM: Authentication failure",
        utc(2024, 1, 2, 15, 4, 5),
        "error",
    ),
    (
        "Dec 31 23:59:59 web-1 kernel: Out of memory: Killed process 4242 (java)",
        utc(2023, 12, 31, 23, 59, 59),
        "error",
    ),
    (
        "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 43286] File does not exist",
        utc(2000, 10, 11, 14, 32, 52, 123456),
        "error",
    ),
    # klog
    (
        "E0702 08:00:01.000002    7 reflector.go:138] failed to list",
        utc(2024, 7, 2, 8, 0, 1, 2),
        "error",
    ),
    ("W1231 23:00:00.000000    1 x.go:1] year rolls back", utc(2023, 12, 31, 23, 0, 0), "warn"),
    # level spellings
    ("[ WARN ] cache miss", None, "warn"),
    ("12:00:01 [main] DEBUG c.e.Repo - select 1", None, "debug"),
    ('time="x" level=warning msg="retrying"', None, "warn"),
    ("severity: ERROR something", None, "error"),
    ("info: Microsoft.Hosting.Lifetime[0]", None, "info"),
    ("app: Warning: deprecated flag", None, "warn"),
    ("connection failed with ERR_CONNECTION_REFUSED", None, None),
    ("GET /api/INFO 200", None, None),
    ("logging.DEBUG is the default", None, None),
    ("an error occurred while reading", None, None),
    ("[lvl=2] Checking for updates", None, None),
    # error markers
    ("panic: assignment to entry in nil map", None, "fatal"),
    ("fatal error: all goroutines are asleep - deadlock!", None, "fatal"),
    ("Kernel panic - not syncing: Attempted to kill init!", None, "fatal"),
    ("Traceback (most recent call last):", None, "error"),
    ('Exception in thread "main" java.lang.IllegalStateException: boom', None, "error"),
    ("java.lang.NullPointerException", None, "error"),
    ("Caused by: java.io.IOException: Broken pipe", None, "error"),
    ("ValueError: invalid literal for int() with base 10: 'x'", None, "error"),
    ("Error: ENOENT: no such file or directory, open '/x'", None, "error"),
    ("Uncaught TypeError: x is not a function", None, "error"),
    ("Warning: OOMKilled container app", None, "warn"),
    ("container app was OOMKilled", None, "error"),
    ("[12345.678] oom-kill:constraint=CONSTRAINT_NONE,task=java,pid=42", None, "error"),
    ("ErrorHandler registered", None, None),
    ("the zoom room is booked", None, None),
    # not timestamps
    ("2024-01-02 is a date only", None, None),
    ("2024-13-02T15:04:05Z month 13", None, None),
    ("2024-01-02T15:04:05+25:00 bad zone", None, None),
    ("2024-01-02T15:04:05+0x bad zone", None, None),
    ("Feb 30 10:00:00 no such day", None, None),
    ("   ", None, None),
]


@pytest.mark.parametrize(("line", "stamp", "level"), CASES)
def test_lines(line: str, stamp: datetime | None, level: str | None) -> None:
    fields = parsed(line)
    assert fields.get("@timestamp") == stamp
    assert fields.get("log.level") == level


def test_year_less_without_reference_is_1970() -> None:
    assert parsed("Mar  4 05:06:07 h x", None)["@timestamp"] == utc(1970, 3, 4, 5, 6, 7)


def test_level_after_timestamp_wins_over_marker() -> None:
    assert parsed("2024-01-02T15:04:05Z INFO recovered: panic: x")["log.level"] == "info"


@pytest.mark.parametrize(("line", "reason"), [(b"", "empty"), (b"caf\xe9", "invalid_utf8")])
def test_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as err:
        parse(line)
    assert err.value.reason == reason


# --------------------------------------------------------------------------- corpus


def c_strings(source: str, array: str) -> list[str]:
    """The entries of `struct record_check <array>[] = {...};` in a C file, C escapes undone."""
    body = source[source.index(f"{array}[] = {{") :]
    body = body[: body.index("};")]
    entries = []
    for entry in re.findall(r"\{((?:\s*\"(?:[^\"\\]|\\.)*\")+)\s*\}", body):
        text = "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", entry))
        entries.append(re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text))
    return entries


def test_fluent_bit_stack_trace_vectors(corpus: Path) -> None:
    """Each line of each trace on its own (we parse one line at a time): the opening line and
    the exception lines get a level, frames and blank lines none."""
    source = (corpus / MULTILINE_C).read_text()
    levels: dict[str, list[tuple[str, str]]] = {}
    for array in ("java_input", "python_input", "go_input", "ruby_input", "elastic_input"):
        levels[array] = []
        for entry in c_strings(source, array):
            line = entry.removesuffix("\n")
            if not line:
                with pytest.raises(ParseError):
                    parse(line.encode())
                continue
            fields = parsed(line)
            assert "@timestamp" not in fields
            if "log.level" in fields:
                levels[array].append((line, fields["log.level"]))
    assert levels["java_input"] == [
        ('Exception in thread "main" java.lang.IllegalStateException: ..null property', "error"),
        ("Caused by: java.lang.NullPointerException", "error"),
    ]
    assert levels["python_input"] == [
        ("Traceback (most recent call last):", "error"),
        ("Exception: ('spam', 'eggs')", "error"),
    ]
    assert levels["go_input"] == [("panic: my panic", "fatal")]
    assert levels["ruby_input"] == []
    assert levels["elastic_input"] == []


def test_vrl_klog_vectors(corpus: Path) -> None:
    source = (corpus / KLOG_RS).read_text()
    lines = [
        json.loads(f'"{text}"') for text in re.findall(r'args: func_args!\[value: "(.*)"\]', source)
    ]
    doc = json.loads((corpus / KLOG_DOC).read_text())
    example = re.search(r'parse_klog!\("(.*)"\)', doc["examples"][0]["source"])
    assert example is not None
    lines.append(example[1])
    assert len(lines) == 7
    results = [parse(line.encode(), REFERENCE) for line in lines]
    for fields in results:
        assert_valid(fields)
    valid = [f for f, line in zip(results, lines, strict=True) if "hello from klog" in line]
    good = [f for f in valid if "@timestamp" in f]
    # The two valid lines, the whitespace-wrapped one, the bad id (we do not read the id) and
    # the documentation example; the bad month and unknown level letter have no timestamp.
    assert len(good) == 4
    for fields in good:
        assert fields["@timestamp"] == utc(2024, 5, 5, 17, 59, 40, 692994)
        assert fields["log.level"] == "info"
    bad = [f for f in valid if "@timestamp" not in f]
    assert [f["message"][:5] for f in bad] == ["X0505", "I0000"]


def bsd_year(month: int, day: int) -> int:
    """The year of a year-less date in a December 2016 sample file read on 10 January 2017:
    the latest that is not more than a day after the reading."""
    return 2017 if (month, day) <= (1, 11) else 2016


def test_filebeat_syslog_samples(corpus: Path) -> None:
    reference = utc(2017, 1, 10)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    stamped = 0
    for path in sorted((corpus / SYSLOG_SAMPLES).glob("*.log")):
        for line in path.read_text().splitlines():
            if not line:
                continue
            fields = parsed(line, reference)
            head = line.split(" ", 1)[0]
            bsd = re.match(r"([A-Z][a-z]{2}) +(\d+) (\d\d):(\d\d):(\d\d) ", line)
            if bsd:
                month = months.index(bsd[1]) + 1
                hms = (int(bsd[3]), int(bsd[4]), int(bsd[5]))
                want = utc(bsd_year(month, int(bsd[2])), month, int(bsd[2]), *hms)
                assert fields["@timestamp"] == want, line
                stamped += 1
            elif re.match(r"\d{4}-\d\d-\d\dT", head):
                # Python before 3.11 could not read +0400; 3.11 can, independently of us.
                want = datetime.fromisoformat(head)
                if want.tzinfo is None:
                    want = want.replace(tzinfo=UTC)
                assert fields["@timestamp"] == want.astimezone(UTC), line
                stamped += 1
            else:  # the indented continuation lines of a multi-line macOS entry
                assert "@timestamp" not in fields, line
    assert stamped == 8  # 3 macOS entries, 2 SUSE lines, 3 with a zone offset (or none)


def test_apache_access_lines_all_pass(corpus: Path) -> None:
    lines = (corpus / APACHE).read_bytes().splitlines()
    assert len(lines) == 10_000
    levels = 0
    for line in lines:
        fields = parse(line, REFERENCE)
        assert_valid(fields)
        # The time after the client address and identities is the header's: the message
        # is the request and what follows it.
        assert fields["@timestamp"].year == 2015
        assert line.decode().endswith(fields["message"])
        assert fields["message"].startswith('"')
        levels += "log.level" in fields
    assert levels < 20  # only a stray level word in a URL or user agent


def test_container_messages(corpus: Path) -> None:
    """The application lines inside the Beats CRI cases and Fluent Bit's kubernetes logs."""
    cases = json.loads((corpus / BEATS_CASES).read_text())["cases"]
    seen = {}
    for case in cases:
        for line in case["input"]:
            match = re.match(r"\S+ std\w+ (?:[FP] )?(\d{4}-.*)", line.rstrip("\n"))
            if match:
                fields = parsed(match[1])
                seen[match[1][:23]] = (fields["@timestamp"], fields.get("log.level"))
    assert seen == {
        "2017-09-12 22:32:21.212": (utc(2017, 9, 12, 22, 32, 21, 212000), "info"),
        "2017-10-12 13:32:21.212": (utc(2017, 10, 12, 13, 32, 21, 212000), "info"),
        "2017-11-12 23:32:21.212": (utc(2017, 11, 12, 23, 32, 21, 212000), "error"),
        "2017-12-12 10:32:21.212": (utc(2017, 12, 12, 10, 32, 21, 212000), "warn"),
    }
    stamped = 0
    for path in sorted((corpus / K8S_LOGS).rglob("*.log")):
        for raw in path.read_bytes().splitlines():
            message = json.loads(raw)["log"].removesuffix("\n")
            fields = parsed(message)
            if "2019-04-05T14:54:23.584269761" in message[:31]:
                assert fields["@timestamp"] == utc(2019, 4, 5, 14, 54, 23, 584269)
                stamped += 1
            else:
                assert "@timestamp" not in fields
    assert stamped == 28


# --------------------------------------------------------------------------- robustness

FRAGMENTS = [
    "2024-01-02",
    "T",
    " ",
    "15:04:05",
    ".123",
    ",",
    "Z",
    "+02:00",
    "-0130",
    "+99",
    "2024/01/02",
    "Jan",
    "Feb 30",
    "  2 ",
    "I0102",
    "E1399",
    "[",
    "]",
    ":",
    ": ",
    "level=",
    "ERROR",
    "error:",
    "warn",
    "panic:",
    "Exception",
    "java.lang.",
    "Traceback (most recent call last):",
    "OOM",
    "\t",
    "\n",
    "é",
    "\u2028",
    "٣",
    "Mon ",
    " 2000",
]


def check(line: bytes) -> None:
    result: Fields | ParseError
    try:
        result = parse(line, REFERENCE)
    except ParseError as err:
        result = err
    if isinstance(result, ParseError):
        assert result.reason in ("empty", "invalid_utf8")
        return
    fields = result
    assert_valid(fields)
    assert fields["message"] == line.decode()


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(line: bytes) -> None:
    check(line)


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=1, max_size=200))  # hypothesis leaves out lone surrogates
def test_any_text_is_accepted(text: str) -> None:
    line = text.encode()
    fields = parse(line, REFERENCE)
    assert_valid(fields)
    assert fields["message"] == text


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_near_miss_lines(text: str) -> None:
    check(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "a." * 500_000,
        "[" * 1_000_000,
        ": " * 500_000,
        "level=" * 200_000,
        "Exception" * 100_000,
        "OOM oom" * 100_000,
        "2024-01-02T15:04:05" + "9" * 1_000_000,
        " " * 1_000_000 + "x",
        "java.lang." * 100_000 + "Exception",
        "[" + "a:" * 500_000,
    ],
)
def test_large_inputs_stay_fast(text: str) -> None:
    start = time.perf_counter()
    check(text.encode())
    assert time.perf_counter() - start < 0.5


def test_zone_offsets_are_applied() -> None:
    fields = parsed("2024-01-02T00:30:00-05:30 x")
    east = timezone(timedelta(hours=-5, minutes=-30))
    assert fields["@timestamp"] == datetime(2024, 1, 2, 0, 30, tzinfo=east)
