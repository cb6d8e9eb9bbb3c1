"""The access-log parser against real Apache/nginx lines from the shared corpus, the Filebeat
nginx module's expected output, Vector's VRL examples, hand-written variants and generated
near-misses."""

from __future__ import annotations

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

from tests.unit.parsers.contract import assert_contract
from tests.unit.parsers.native import Fields, ParseError, Parser, detect

APACHE = "formats/apache_combined_access/apache_logs.log"
NGINX = "formats/nginx_access/filebeat-module-test"
VRL = "formats/access_logs/vrl"

access = Parser("access")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


assert_shape = assert_contract


# --------------------------------------------------------------------------- Apache corpus


@pytest.fixture(scope="module")
def apache_lines(corpus: Path) -> list[bytes]:
    return (corpus / APACHE).read_bytes().splitlines()


@pytest.fixture(scope="module")
def apache(apache_lines: list[bytes]) -> list[Fields]:
    return [access.parse(line) for line in apache_lines]


def test_every_apache_line_parses(apache_lines: list[bytes], apache: list[Fields]) -> None:
    assert len(apache_lines) == 10_000
    assert all(detect(line) == "access" for line in apache_lines)
    for fields in apache:
        assert_shape(fields)


def test_apache_corpus_counts(apache: list[Fields]) -> None:
    def count(key: str, value: Any = None) -> int:
        return sum(1 for f in apache if key in f and (value is None or f[key] == value))

    assert count("source.ip") == 10_000
    assert count("http.request.method", "GET") == 9952
    assert count("http.request.method", "HEAD") == 42
    assert count("http.request.method", "POST") == 5
    assert count("http.request.method", "OPTIONS") == 1
    assert count("http.response.body.bytes") == 9331  # the other 669 logged `-`
    assert count("http.request.referrer") == 5927
    assert count("user_agent.original") == 9809
    assert count("url.query") == 1258
    assert count("http.version", "1.1") == 9300
    assert count("http.version", "1.0") == 700
    assert count("user.name") == 0
    assert count("log.level", "error") == 3
    assert count("log.level", "warn") == 217
    assert count("log.level", "info") == 9780


def test_apache_first_line(apache_lines: list[bytes], apache: list[Fields]) -> None:
    assert apache[0] == {
        "@timestamp": utc(2015, 5, 17, 10, 5, 3),
        "message": apache_lines[0].decode(),
        "source.address": "83.149.9.216",
        "source.ip": "83.149.9.216",
        "http.request.method": "GET",
        "url.original": "/presentations/logstash-monitorama-2013/images/kibana-search.png",
        "url.path": "/presentations/logstash-monitorama-2013/images/kibana-search.png",
        "http.version": "1.1",
        "http.response.status_code": 200,
        "http.response.body.bytes": 203023,
        "http.request.referrer": "http://semicomplete.com/presentations/logstash-monitorama-2013/",
        "user_agent.original": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36",
        "log.level": "info",
    }


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (  # query string, referrer with its own query
            32,
            {
                "url.original": "/blog/tags/puppet?flav=rss20",
                "url.path": "/blog/tags/puppet",
                "url.query": "flav=rss20",
                "http.request.referrer": "http://www.semicomplete.com/blog/tags/puppet?flav=rss20",
                "user_agent.original": "Tiny Tiny RSS/1.11 (http://tt-rss.org/)",
            },
        ),
        (  # user agent logged as "-"
            44,
            {"url.path": "/reset.css", "http.response.body.bytes": 1015},
        ),
        (  # bytes logged as "-"
            77,
            {"source.address": "218.30.103.62", "http.response.status_code": 200},
        ),
        (  # 404 with a query
            63,
            {
                "http.response.status_code": 404,
                "log.level": "warn",
                "url.query": "org/elasticsearch/action/search/SearchResponse.html",
            },
        ),
        (688, {"http.request.method": "HEAD", "url.path": "/projects/xdotool/"}),
        (  # 500 with bytes "-"
            2071,
            {
                "@timestamp": utc(2015, 5, 18, 3, 5, 34),
                "http.response.status_code": 500,
                "log.level": "error",
            },
        ),
        (
            5009,
            {
                "http.request.method": "POST",
                "http.version": "1.0",
                "url.original": "/blog/geekery/xvfb-firefox",
                "http.response.body.bytes": 10975,
            },
        ),
        (  # Apache's \xHH escapes of a non-ASCII referrer stay as written
            5851,
            {
                "http.request.referrer": r"http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-"
                r"\xec\xfb\xeb\xee.\xf0\xf4/",
            },
        ),
        (
            9158,
            {
                "http.request.method": "OPTIONS",
                "http.response.status_code": 500,
                "http.response.body.bytes": 626,
                "user_agent.original": "Microsoft Office Protocol Discovery",
            },
        ),
        (
            10_000,
            {
                "@timestamp": utc(2015, 5, 20, 21, 5, 15),
                "source.ip": "46.105.14.53",
                "user_agent.original": "UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/",
            },
        ),
    ],
)
def test_apache_spot_checks(apache: list[Fields], number: int, expected: dict[str, Any]) -> None:
    fields = apache[number - 1]
    assert {key: fields.get(key) for key in expected} == expected


def test_apache_absent_fields(apache: list[Fields]) -> None:
    assert "user_agent.original" not in apache[43]  # line 44: "-"
    assert "http.response.body.bytes" not in apache[76]  # line 77: -
    assert "http.request.referrer" not in apache[76]  # "-"
    assert "url.query" not in apache[0]


# --------------------------------------------------------------------------- Filebeat nginx


def test_nginx_against_filebeat_expected(corpus: Path) -> None:
    lines = (corpus / NGINX / "test.log").read_bytes().splitlines()
    expected = json.loads((corpus / NGINX / "test.log-expected.json").read_text())
    assert len(lines) == len(expected) == 7
    offset = 0
    for line, want in zip(lines, expected, strict=True):
        assert want["log.offset"] == offset  # the pairing of line and document is right
        offset += len(line) + 1
        assert detect(line) == "access"
        got = access.parse(line)
        assert_shape(got)
        stamp = datetime.fromisoformat(want["@timestamp"].replace("Z", "+00:00"))
        assert got["@timestamp"] == stamp
        for key in (
            "source.address",
            "source.ip",
            "http.request.method",
            "url.original",
            "http.version",
            "http.response.status_code",
            "http.response.body.bytes",
        ):
            assert got.get(key) == want.get(key), (line, key)
        # Filebeat keeps `-` where we leave the field out.
        for key in ("user_agent.original", "http.request.referrer", "user.name"):
            assert got.get(key, "-") == want.get(key, "-"), (line, key)


def test_nginx_forwarded_for_lists(corpus: Path) -> None:
    lines = (corpus / NGINX / "test.log").read_bytes().splitlines()
    # All private: the first entry. A public hop: the first public one (Filebeat's rule).
    assert access.parse(lines[0])["source.address"] == "10.0.0.2"
    assert access.parse(lines[2])["source.address"] == "85.181.35.98"
    quoted = access.parse(lines[4])  # "10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185
    assert quoted["source.address"] == "199.96.1.1"
    assert quoted["url.path"] == "/assets/xxxx" and quoted["url.query"] == "q=100"
    ipv6 = access.parse(lines[5])
    assert ipv6["source.ip"] == "2a03:0000:10ff:f00f:0000:0000:0:8000"


def test_nginx_empty_request(corpus: Path) -> None:
    line = (corpus / NGINX / "test.log").read_bytes().splitlines()[6]
    assert access.parse(line) == {
        "@timestamp": utc(2018, 4, 12, 7, 48, 40),
        "message": line.decode(),
        "source.address": "127.0.0.1",
        "source.ip": "127.0.0.1",
        "http.response.status_code": 400,
        "http.response.body.bytes": 0,
        "log.level": "warn",
    }


# --------------------------------------------------------------------------- Vector VRL examples

# VRL result key -> our key, for the keys the two share.
_VRL_KEYS = {
    "host": "source.address",
    "client": "source.address",
    "remote_addr": "source.address",
    "user": "user.name",
    "remote_user": "user.name",
    "method": "http.request.method",
    "path": "url.original",
    "status": "http.response.status_code",
    "size": "http.response.body.bytes",
    "body_bytes_size": "http.response.body.bytes",
    "referrer": "http.request.referrer",
    "referer": "http.request.referrer",
    "http_referer": "http.request.referrer",
    "agent": "user_agent.original",
    "http_user_agent": "user_agent.original",
}
# Examples that are not access lines in a format we read: the Apache/nginx *error* log formats
# (another parser's job) and a common-log line with a custom ISO timestamp format.
_VRL_NOT_ACCESS = ("error", "custom timestamp format")


def _vrl_examples(corpus: Path) -> list[tuple[str, str, dict[str, Any]]]:
    examples = []
    for path in sorted((corpus / VRL).glob("*.doc.json")):
        for example in json.loads(path.read_text())["examples"]:
            source = example["source"]
            line = re.search(r"s'((?:[^'\\]|\\.)*)'", source)
            assert line is not None, source
            examples.append((example["title"], line.group(1), example["return"]))
    return examples


def test_vrl_examples(corpus: Path) -> None:
    examples = _vrl_examples(corpus)
    assert len(examples) == 9
    checked = 0
    for title, line, want in examples:
        if any(word in title for word in _VRL_NOT_ACCESS):
            with pytest.raises(ParseError):
                access.parse(line.encode())
            assert detect(line.encode()) != "access"
            continue
        got = access.parse(line.encode())
        assert_shape(got)
        assert detect(line.encode()) == "access"
        assert got["@timestamp"] == datetime.fromisoformat(want["timestamp"].replace("Z", "+00:00"))
        for theirs, ours in _VRL_KEYS.items():
            if theirs in want:
                assert got.get(ours) == want[theirs], (title, theirs)
        if "protocol" in want:
            assert "HTTP/" + got["http.version"] == want["protocol"]
        if "request" in want:  # nginx keeps the request line whole
            request = f"{got['http.request.method']} {got['url.original']} "
            assert request + "HTTP/" + got["http.version"] == want["request"]
        checked += 1
    assert checked == 6  # apache common + combined, common, nginx combined + upstreaminfo + main


def test_vrl_apache_common_exactly(corpus: Path) -> None:
    line = (
        b'127.0.0.1 bob frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'
    )
    assert any(found == line.decode() for _, found, _ in _vrl_examples(corpus))
    assert access.parse(line) == {
        "@timestamp": utc(2000, 10, 10, 20, 55, 36),
        "message": line.decode(),
        "source.address": "127.0.0.1",
        "source.ip": "127.0.0.1",
        "user.name": "frank",
        "http.request.method": "GET",
        "url.original": "/apache_pb.gif",
        "url.path": "/apache_pb.gif",
        "http.version": "1.0",
        "http.response.status_code": 200,
        "http.response.body.bytes": 2326,
        "log.level": "info",
    }


# --------------------------------------------------------------------------- variants

_STAMP = "[10/Oct/2000:13:55:36 -0700]"


def line_with(
    client: str = "1.2.3.4",
    request: str = "GET /a?b=c HTTP/1.1",
    status: str = "200",
    size: str = "12",
    tail: str = ' "-" "curl/8"',
    stamp: str = _STAMP,
) -> bytes:
    return f'{client} - - {stamp} "{request}" {status} {size}{tail}'.encode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (line_with(client="2001:db8::1"), {"source.ip": "2001:db8::1"}),
        (line_with(client="fe80::1%eth0"), {"source.ip": "fe80::1%eth0"}),
        (
            line_with(client="www.example.com"),
            {"source.address": "www.example.com", "source.ip": None},
        ),
        (line_with(client="10.0.0.1, 10.0.0.2"), {"source.address": "10.0.0.1"}),
        (line_with(client="10.0.0.1, 8.8.8.8 10.0.0.3"), {"source.address": "8.8.8.8"}),
        (line_with(client="-"), {"source.address": None, "source.ip": None}),
        (line_with(tail=""), {"user_agent.original": None, "http.response.body.bytes": 12}),
        (line_with(size="-"), {"http.response.body.bytes": None}),
        (line_with(tail=' "-" "-" 0.005'), {"http.response.status_code": 200}),
        (line_with(tail=' "-" "ua" "1.2.3.4, 10.10.1.1"'), {"user_agent.original": "ua"}),
        (
            line_with(tail=' "http://r/" "a \\"quoted\\" ua"'),
            {"user_agent.original": 'a "quoted" ua'},
        ),
        (line_with(tail=' "-" "back\\\\slash"'), {"user_agent.original": "back\\slash"}),
        (
            line_with(tail=' "-" "nginx \\x22hex\\x22"'),
            {"user_agent.original": r"nginx \x22hex\x22"},
        ),
        (  # ambiguous; Apache's escaping wins
            line_with(tail=' "-" "x\\" \\"y"'),
            {"user_agent.original": 'x" "y'},
        ),
        (  # nginx `escape=none`: a literal backslash before the closing quote
            line_with(tail=' "-" "ua\\"'),
            {"user_agent.original": "ua\\"},
        ),
        (line_with(request="-"), {"url.original": None, "http.request.method": None}),
        (line_with(request=""), {"url.original": None, "http.request.method": None}),
        (
            line_with(request="GET /"),  # HTTP/0.9
            {"http.request.method": "GET", "url.path": "/", "http.version": None},
        ),
        (
            line_with(request=r"\x16\x03\x01\x00\xa5\x01"),  # TLS hello on a plain port
            {"url.original": r"\x16\x03\x01\x00\xa5\x01", "http.request.method": None},
        ),
        (
            line_with(request="garbage in the request line"),
            {"url.original": "garbage in the request line", "url.path": None},
        ),
        (
            line_with(request='GET /a\\"b HTTP/1.1'),
            {"url.original": '/a"b', "url.path": '/a"b'},
        ),
        (
            line_with(request="GET http://example.com/p?q=1 HTTP/1.1"),  # proxy request
            {"url.original": "http://example.com/p?q=1", "url.path": "/p", "url.query": "q=1"},
        ),
        (
            line_with(request="CONNECT example.com:443 HTTP/1.1"),
            {"url.original": "example.com:443", "url.path": None, "http.request.method": "CONNECT"},
        ),
        (line_with(request="GET /a? HTTP/2.0"), {"url.query": None, "http.version": "2.0"}),
        (line_with(status="503"), {"log.level": "error"}),
        (line_with(status="499"), {"log.level": "warn"}),
        (line_with(status="302"), {"log.level": "info"}),
        (
            line_with(stamp="[29/Feb/2024:23:30:00 -0130]"),
            {"@timestamp": utc(2024, 3, 1, 1, 0, 0)},
        ),
        (
            line_with(stamp="[01/jan/2024:00:00:00.250 +0100]"),
            {"@timestamp": utc(2023, 12, 31, 23, 0, 0, 250_000)},
        ),
    ],
)
def test_variants(line: bytes, expected: dict[str, Any]) -> None:
    fields = access.parse(line)
    assert_shape(fields)
    assert {key: fields.get(key) for key in expected} == expected
    assert fields["message"] == line.decode()


def test_user_name() -> None:
    fields = access.parse(b'::1 - alice [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1')
    assert fields["user.name"] == "alice"
    assert fields["source.ip"] == "::1"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "access.empty"),
        (b"\xff\xfe", "invalid_utf8"),
        (line_with().replace(b"/a?b", b"/\xc3\x28"), "invalid_utf8"),
        (b"hello world", "access.no_match"),
        (b'{"a": 1}', "access.no_match"),
        (line_with(status="20"), "access.no_match"),
        (line_with(status="abc"), "access.no_match"),
        (line_with(size="1" * 19), "access.no_match"),
        (line_with(request='GET "x" HTTP/1.1'), "access.no_match"),
        (line_with(stamp="[2000-10-10T20:55:36Z]"), "access.no_match"),
        (line_with(stamp="[10/Oct/2000:13:55:36]"), "access.no_match"),
        (line_with(stamp="[31/Feb/2000:13:55:36 +0000]"), "access.bad_timestamp"),
        (line_with(stamp="[10/Foo/2000:13:55:36 +0000]"), "access.bad_timestamp"),
        (line_with(stamp="[10/Oct/2000:25:55:36 +0000]"), "access.bad_timestamp"),
        (line_with(stamp="[10/Oct/2000:13:55:36 +2500]"), "access.bad_timestamp"),
        (line_with(stamp="[01/Jan/0001:00:00:00 +0100]"), "access.bad_timestamp"),
        (line_with(stamp="[10/Oct/0000:13:55:36 +0000]"), "access.bad_timestamp"),
        (line_with(stamp="[10/Oct/2000:13:55:36 +0000"), "access.no_match"),
        (line_with(stamp="[\u0661\u0660/Oct/2000:13:55:36 +0000]"), "access.no_match"),
    ],
)
def test_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        access.parse(line)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"hello world",
        b'{"level":"info"}',
        b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
        b"level=info msg=hi",
        b"2024-01-01T00:00:00Z INFO started",
    ],
)
def test_other_formats_are_not_detected_as_access(line: bytes) -> None:
    assert detect(line) != "access"


def test_adversarial_lines_stay_fast() -> None:
    lines = [
        b"a " * 50_000,
        b"a" * 100_000,
        b"1.2.3.4 - - " + b"[" * 50_000,
        line_with(request="\\" * 50_001),
        line_with(tail=' "' + "\\x" * 50_000),
        line_with(request='\\"' * 50_000 + "x"),
        b" " * 100_000 + b"[10/Oct/2000:13:55:36 +0000]",
    ]
    for line in lines:
        start = time.perf_counter()
        with contextlib.suppress(ParseError):
            access.parse(line)
        detect(line)
        assert time.perf_counter() - start < 0.5, line[:40]


# --------------------------------------------------------------------------- generated


def _check(line: bytes) -> None:
    fields: Fields | None = None
    try:
        fields = access.parse(line)
    except ParseError as err:
        reason = err.reason
    if fields is None:
        assert reason.startswith("access.") or reason == "invalid_utf8"
        return
    assert_shape(fields)
    assert isinstance(fields["message"], str)


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(line: bytes) -> None:
    _check(line)
    detect(line)  # asserts a known name, never unsure


_FRAGMENTS = st.sampled_from(
    [
        "1.2.3.4",
        "::1",
        "10.0.0.1,",
        '"10.0.0.1, 8.8.8.8"',
        "host.example",
        "-",
        " ",
        "  ",
        "alice",
        "[10/Oct/2000:13:55:36 -0700]",
        "[31/Dec/9999:23:59:59 -2359]",
        "[01/Jan/0001:00:00:00 +2359]",
        "[99/Foo/2000:99:99:99 +9999]",
        "[",
        "]",
        '"',
        '""',
        '"-"',
        '"GET / HTTP/1.1"',
        '"GET /a?b=c HTTP/1.0"',
        '"\\x16\\x03"',
        '"GET http://[::1/ HTTP/1.1"',
        "\\",
        '\\"',
        "200",
        "404",
        "503",
        "000",
        "999",
        "2326",
        "99999999999999999999",
        "0.005",
        '"Mozilla/5.0"',
        "\u00e9",
        "\u0663",
        "\x00",
        "\t",
        "\n",
    ]
)


@settings(max_examples=1000)
@given(st.lists(_FRAGMENTS, max_size=16).map("".join))
def test_fragment_lines(text: str) -> None:
    _check(text.encode())


@settings(max_examples=500)
@given(
    client=st.sampled_from(["1.2.3.4", "2001:db8::2", "a, b", '"x, 9.9.9.9" y', "-", "h"]),
    user=st.sampled_from(["-", "bob", "\\"]),
    request=st.text(alphabet=st.sampled_from('GET /?a=b HTTP/1.0\\"x-\x7f\u00e9'), max_size=30),
    status=st.integers(0, 999).map(lambda n: f"{n:03d}"),
    size=st.sampled_from(["-", "0", "123456789012345678"]),
    tail=st.sampled_from(["", ' "-" "-"', ' "r" "u" x', ' "r"', ' "\\" "\\\\"']),
)
def test_near_miss_lines(
    client: str, user: str, request: str, status: str, size: str, tail: str
) -> None:
    line = f'{client} - {user} {_STAMP} "{request}" {status} {size}{tail}'.encode()
    _check(line)
