"""Samples from test code that holds log lines with their expected parse: Vector's (VRL)
glog and klog tests and docs, influxdata/go-syslog's RFC 3164 and RFC 5424 machine tests,
and EasyPost's RFC 5424 parser vectors.

Each source kind has its own extraction; what cannot be read reliably is counted as a `Skip`
with the reason, never guessed. Vectors meant to be invalid are not samples.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.corpus.model import SYSLOG_SEVERITIES, Sample, Skip, iso_time, level, split_case
from tests.go_literal import go_unquote

VRL = (
    ("glog_klog", "formats/glog_klog/vrl/parse_glog"),
    ("kubernetes_cri", "formats/kubernetes_cri/vrl/parse_klog"),
)
GO_SYSLOG = "formats/syslog/influxdata-go-syslog/{}/machine_test.go"
EASYPOST = "formats/syslog/easypost-syslog-rfc5424-parser/tests/test_message_parser.py"

Found = tuple[list[Sample], list[Skip]]


def line_no(text: str, pos: int) -> int:
    """The 1-based line of `text` that holds position `pos`."""
    return text.count("\n", 0, pos) + 1


# --------------------------------------------------------------------------- VRL (Rust)

_RUST_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def rust_unescape(text: str) -> str:
    """The value of a Rust string literal's body (the escapes Vector's tests use)."""
    return re.sub(r"\\(.)", lambda m: _RUST_ESCAPES.get(m[1], m[0]), text)


_VRL_CASE = re.compile(
    r'(\w+) \{\s*args: func_args!\[value: "((?:[^"\\]|\\.)*)"\],'
    r"\s*want: (Ok|Err)\((.*?)\),\s*tdef:",
    re.S,
)


def _vrl_stated(line: str, stamp: str, level_name: str, message: str) -> dict[str, Any]:
    """VRL's expected values as Sample fields. Its timestamps are UTC; one whose year the line
    does not hold (klog: the test's current year) is a wall-clock time without year."""
    stated: dict[str, Any] = {"level": level(level_name), "message": message}
    if "{}" in stamp or stamp[:4] not in line:
        wall = iso_time(stamp.replace("{}", "2000").rstrip("Z")).wall_clock
        stated.update(wall_clock=wall, year_stated=False)
    else:
        stated["timestamp"] = iso_time(stamp).timestamp
    return stated


def vrl_samples(root: Path) -> Found:
    """Vector's parse_glog / parse_klog test vectors and documentation examples."""
    samples: list[Sample] = []
    skips: list[Skip] = []
    for family, stem in VRL:
        seen: set[str] = set()
        rs = f"{stem}.rs"
        text = (root / rs).read_text()
        for case in _VRL_CASE.finditer(text):
            name, value, outcome, want = case.groups()
            line = rust_unescape(value)
            if outcome == "Err":
                skips.append(Skip(rs, 1, "vectors meant to be invalid (want: Err)"))
                continue
            if line != line.strip():
                skips.append(Skip(rs, 1, "input wrapped in newlines and spaces, not a line"))
                continue
            stamp = re.search(r'parse_from_rfc3339\((?:&format!\()?"([^"]+)"', want)
            lvl = re.search(r'"level" => "(\w+)"', want)
            msg = re.search(r'"message" => "((?:[^"\\]|\\.)*)"', want)
            if not (stamp and lvl and msg):
                skips.append(Skip(rs, 1, f"case {name}: expected values not literal"))
                continue
            stated = _vrl_stated(line, stamp[1], lvl[1], rust_unescape(msg[1]))
            samples.append(
                Sample(family, f"{rs}:{line_no(text, case.start())}", line.encode(), **stated)
            )
            seen.add(line)
        doc = f"{stem}.doc.json"
        for index, example in enumerate(json.loads((root / doc).read_text())["examples"]):
            call = re.fullmatch(r'\w+!\("((?:[^"\\]|\\.)*)"\)', example["source"].strip())
            if not call:
                skips.append(Skip(doc, 1, "example source is not one call on a literal"))
                continue
            line = json.loads(f'"{call[1]}"')
            if line in seen:
                skips.append(Skip(doc, 1, "same line as a test vector"))
                continue
            got = example["return"]
            stated = _vrl_stated(line, got["timestamp"], got["level"], got["message"])
            samples.append(Sample(family, f"{doc}#{index}", line.encode(), **stated))
    return samples, skips


# --------------------------------------------------------------------------- go-syslog (Go)


def go_string(body: str, raw: bool) -> bytes:
    """The bytes of a Go string literal's body: raw (backquoted) bodies as they are,
    interpreted ones with their escapes undone (tests/go_literal.py)."""
    return body.encode() if raw else go_unquote(body)


_GO_TERM = re.compile(r'\s*(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`|(\w+)(?=\s*(?:\+|\)|,|$)))')


def go_expr(text: str, pos: int, consts: dict[str, bytes]) -> tuple[bytes | None, int]:
    """The value of the Go string expression at `pos` (literals and known constants joined
    with +) and where it ends; None for anything else (a function call, an unknown name)."""
    value = b""
    while True:
        term = _GO_TERM.match(text, pos)
        if not term:
            return None, pos
        if term[3] is not None:
            if term[3] not in consts:
                return None, term.end()
            value += consts[term[3]]
        else:
            value += go_string(term[1] if term[1] is not None else term[2], term[2] is not None)
        pos = term.end()
        plus = re.match(r"\s*\+", text[pos:])
        if not plus:
            return value, pos
        pos += plus.end()


_GO_QUOTED = {
    '"': re.compile(r'"(?:[^"\\\n]|\\.)*"'),
    "`": re.compile(r"`[^`]*`"),
    "'": re.compile(r"'(?:[^'\\]|\\.)*'"),
}


def go_cases(text: str, start: int) -> Iterator[tuple[int, str]]:
    """(offset, text) of each `{...}` element of the composite literal opening at `start`:
    braces are counted outside strings and comments."""
    depth, i, begin = 0, start, 0
    while i < len(text):
        ch = text[i]
        if ch in _GO_QUOTED:
            quoted = _GO_QUOTED[ch].match(text, i)
            assert quoted, f"unclosed {ch} at {line_no(text, i)}"
            i = quoted.end()
            continue
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if ch == "{":
            depth += 1
            if depth == 2:
                begin = i
        elif ch == "}":
            depth -= 1
            if depth == 1:
                yield begin, text[begin : i + 1]
            if depth == 0:
                return
        i += 1


def _go_fields(case: str, consts: dict[str, bytes]) -> dict[str, Any]:
    """The expected timestamp, severity and message a go-syslog case states (either form:
    rfc5424's setters, rfc3164's struct fields)."""
    fields: dict[str, Any] = {}
    stamp = re.search(r'SetTimestamp\("([^"]+)"\)', case)
    stamp3164 = re.search(r'Timestamp:\s*syslogtesting\.TimeParse\(time\.Stamp, "([^"]+)"\)', case)
    if stamp:
        fields["timestamp"] = iso_time(stamp[1]).timestamp
    elif stamp3164:
        # time.Stamp has no year and no zone: Go leaves the year 0, so it is not stated.
        wall = datetime.strptime(re.sub(r"\s+", " ", stamp3164[1]), "%b %d %H:%M:%S")
        fields.update(wall_clock=wall, year_stated=False)
    priority = re.search(r"SetPriority\((\d+)\)", case)
    severity = re.search(r"Severity:\s*syslogtesting\.Uint8Address\((\d+)\)", case)
    if priority or severity:
        code = int(priority[1]) % 8 if priority else int(severity[1])  # type: ignore[index]
        fields["level"] = SYSLOG_SEVERITIES[code]
    message = re.search(r"(?:SetMessage\(|Message:\s*syslogtesting\.StringAddress\()", case)
    if message:
        value, _ = go_expr(case, message.end(), consts)
        if value is not None:
            fields["message"] = value.decode("utf-8", "replace")
    return fields


def go_syslog_samples(root: Path) -> Found:
    """go-syslog's valid RFC 3164 / RFC 5424 machine vectors that state a timestamp."""
    samples: list[Sample] = []
    skips: list[Skip] = []
    for kind in ("rfc3164", "rfc5424"):
        rel = GO_SYSLOG.format(kind)
        text = (root / rel).read_text()
        consts = {
            m[1]: go_string(m[2], False) for m in re.finditer(r'const (\w+) = "([^"]*)"', text)
        }
        table = re.search(r"var testCases = \[\]testCase\{", text)
        assert table, rel
        for offset, case in go_cases(text, table.end() - 1):
            opened = re.search(r"(?:input:\s*)?\[\]byte\(", case)
            # On a line of its own: the input may hold the words too.
            valid = re.search(r"^\s*(?:valid:\s*)?(true|false),\s*$", case, re.M)
            if not (opened and valid):
                skips.append(Skip(rel, 1, "case without a literal input"))
                continue
            if valid[1] == "false":
                skips.append(Skip(rel, 1, "vectors meant to be invalid (valid: false)"))
                continue
            value, _ = go_expr(case, opened.end(), consts)
            if value is None:
                skips.append(Skip(rel, 1, "input built by a function call (isoLatin1String)"))
                continue
            fields = _go_fields(case, consts)
            if "level" not in fields or not ({"timestamp", "wall_clock"} & fields.keys()):
                skips.append(Skip(rel, 1, "valid but states no timestamp (NILVALUE '-')"))
                continue
            source = f"{rel}:{line_no(text, offset)}"
            samples += split_case(
                "syslog", source, value.decode("utf-8", "surrogateescape"), **fields
            )
    return samples, skips


# --------------------------------------------------------------------------- EasyPost (Python)

# The fields of the spec's Expected namedtuple, in order (its positional arguments).
_EXPECTED = [
    "severity",
    "facility",
    "version",
    "timestamp",
    "hostname",
    "appname",
    "procid",
    "msgid",
    "msg",
    "sd",
]


def easypost_samples(root: Path) -> Found:
    """EasyPost's PARSE_VECTORS (read with `ast`, never run): line -> severity, timestamp,
    msg."""
    text = (root / EASYPOST).read_text()
    samples: list[Sample] = []
    skips: list[Skip] = []
    vectors = next(
        node.value
        for node in ast.parse(text).body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "PARSE_VECTORS" for t in node.targets)
    )
    assert isinstance(vectors, ast.Tuple)
    for vector in vectors.elts:
        assert isinstance(vector, ast.Tuple) and isinstance(vector.elts[1], ast.Call)
        line = ast.literal_eval(vector.elts[0])
        call = vector.elts[1]
        args = dict(zip(_EXPECTED, call.args, strict=False))
        args.update({k.arg: k.value for k in call.keywords if k.arg})
        pri = re.match(r"<(\d+)>", line)
        if pri is None or int(pri[1]) > 191:
            skips.append(Skip(EASYPOST, 1, "PRI above 191 (the source calls it malformed)"))
            continue
        severity = args["severity"]
        assert isinstance(severity, ast.Attribute)
        fields: dict[str, Any] = {"level": level(severity.attr)}
        stamp = ast.literal_eval(args["timestamp"])
        if stamp != "-":
            fields["timestamp"] = iso_time(stamp).timestamp
        msg = ast.literal_eval(args["msg"])
        if msg is not None:
            fields["message"] = msg
        samples += split_case("syslog", f"{EASYPOST}:{vector.lineno}", line, **fields)
    return samples, skips
