"""Container runtime log lines: CRI (containerd, CRI-O) and Docker's json-file driver.

CRI, as the kubelet writes it under /var/log/pods:

    2016-10-06T00:17:09.669794202Z stdout F the message

(RFC 3339 timestamp with nanoseconds, `stdout`/`stderr`, tag `F` full line or `P` partial, the
container's text, possibly empty). Lines from runtimes that predate the tag (`<time> <stream>
<message>`) are accepted too; a message whose first word is a lone `F` or `P` is then read as a
tag, an ambiguity the format itself has.

Docker json-file, one object per line:

    {"log":"message\\n","stream":"stderr","time":"2019-01-02T03:04:05.123456789Z"}

The single trailing newline of `log` is the line terminator and is dropped; a `log` without
one is a partial line (Docker splits lines longer than 16 KiB).

Output: `@timestamp`, `stream`, `message` (the container's own line, unchanged apart from that
terminator) and `tags: ["partial_line"]` for partial lines. Partial lines are NOT joined: each
Kafka message is parsed on its own, with no state, so joining belongs to the shipper
(Filebeat, Fluent Bit and Vector can all do it). The message is never parsed further here,
even when it is JSON: the dispatcher re-detects it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from pipeline.ingest.parsers.common import Fields, ParseError, decode, parse_iso_timestamp

_STREAMS = frozenset({"stdout", "stderr"})
_DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs"})
_PARTIAL = "partial_line"
# `"log"` as a key with a string value; bounded, no nested quantifiers, so linear time.
_DOCKER_LOG_KEY = re.compile(rb'"log"\s{0,8}:\s{0,8}"')


def looks_like(line: bytes) -> bool:
    """True when the line has the shape of a CRI line or a Docker json-file object.

    A cheap pre-filter: a True answer still needs `parse` to confirm (an application JSON log
    with a string `log` key and other keys passes here and fails there).
    """
    head = line[:1]
    if head == b"{":
        return line.rstrip()[-1:] == b"}" and _DOCKER_LOG_KEY.search(line) is not None
    if not head.isdigit() or line[4:5] != b"-" or line[10:11] != b"T":
        return False
    space = line.find(b" ", 19, 40)
    return space > 0 and line[space + 1 : space + 7] in (b"stdout", b"stderr")


def parse(line: bytes, reference: datetime | None = None) -> Fields:
    """Parse a CRI or Docker json-file line (see the module docstring for the output)."""
    del reference  # both formats carry a full timestamp
    if line[:1] == b"{":
        return _docker(line)
    return _cri(line)


def is_docker_object(obj: dict[str, Any]) -> bool:
    """True when a decoded JSON object is a Docker json-file record: its keys are a subset of
    `log`, `stream`, `time`, `attrs` and include `log`."""
    return "log" in obj and len(obj) <= 4 and _DOCKER_KEYS.issuperset(obj)


def from_object(obj: dict[str, Any]) -> Fields:
    """The fields of an already decoded Docker json-file record (ParseError if it is not one)."""
    if not is_docker_object(obj):
        raise ParseError("docker.not_docker", "keys other than log/stream/time/attrs")
    log = obj["log"]
    if not isinstance(log, str):
        raise ParseError("docker.bad_log", "log is not a string")
    fields: Fields = {}
    if "time" in obj:
        # dockerd always writes `time`; some tools' test data leave it out, and the line is
        # still worth keeping (the caller falls back to the receive time).
        time = obj["time"]
        stamp = parse_iso_timestamp(time) if isinstance(time, str) else None
        if stamp is None:
            raise ParseError("docker.bad_time", repr(time)[:64])
        fields["@timestamp"] = stamp
    if "stream" in obj:
        stream = obj["stream"]
        if stream != "stdout" and stream != "stderr":  # a set test would fail on a dict
            raise ParseError("docker.bad_stream", repr(stream)[:64])
        fields["stream"] = stream
    if log.endswith("\n"):
        fields["message"] = log[:-1]
    else:
        fields["message"] = log
        fields["tags"] = [_PARTIAL]
    if "attrs" in obj:
        attrs = obj["attrs"]
        if not isinstance(attrs, dict):
            raise ParseError("docker.bad_attrs", "attrs is not an object")
        if attrs:
            fields["attributes"] = {"attrs": attrs}
    return fields


def _docker(line: bytes) -> Fields:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        decode(line)  # invalid UTF-8 gets its own reason
        raise ParseError("docker.invalid_json", str(err)[:120]) from None
    if not isinstance(obj, dict):
        raise ParseError("docker.not_docker", "not a JSON object")
    return from_object(obj)


def _cri(line: bytes) -> Fields:
    text = decode(line)
    # split(" ", 3) splits on single spaces only, so the message keeps its leading spaces.
    parts = text.split(" ", 3)
    if len(parts) < 3:
        raise ParseError("cri.truncated", "expected '<time> <stream> <tag> <message>'")
    stamp_text, stream = parts[0], parts[1]
    if len(stamp_text) < 20 or stamp_text[10:11] != "T":
        raise ParseError("cri.bad_timestamp", stamp_text[:40])
    stamp = parse_iso_timestamp(stamp_text)
    if stamp is None:
        raise ParseError("cri.bad_timestamp", stamp_text[:40])
    if stream not in _STREAMS:
        raise ParseError("cri.bad_stream", stream[:16])
    tag = parts[2]
    if tag == "F" or tag == "P":
        message = parts[3] if len(parts) == 4 else ""
    else:
        tag = "F"  # a runtime without tags writes whole lines only
        message = text[len(stamp_text) + len(stream) + 2 :]
    # The line should come without its terminator; if one slipped through, it is not content.
    if message.endswith("\n"):
        message = message[:-1]
    fields: Fields = {"@timestamp": stamp, "stream": stream, "message": message}
    if tag == "P":
        fields["tags"] = [_PARTIAL]
    return fields
