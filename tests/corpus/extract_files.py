"""Samples from the corpus's log files and transcriptions: raw log files (one sample a line),
lnav's format samples, the `*.expected-transcription.json` files and Filebeat's nginx
expected output, attached to the lines they name.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.corpus.model import (
    Sample,
    Skip,
    entries_lead_with_digit_or_bracket,
    is_continuation,
    iso_time,
    level,
)

# Raw log files, by name. Docker json-file logs (`*.log` under docker_json_file/) are lines as
# the runtime wrote them, so they count too.
RAW_NAMES = ("*.log", "logfile_*", "test.log", "*.0", "*.1", "python-example.0")
# 10,000 lines of one format would drown every other family in the totals.
CAPS = {"apache_combined_access/apache_logs.log": 1000}
# Families whose sources the brief leaves out (go-logfmt, jkakar, Fluent Bit's logfmt test).
SKIPPED_FAMILIES = ("logfmt",)

NGINX_EXPECTED = "nginx_access/filebeat-module-test/test.log-expected.json"
TRANSCRIPTION = ".expected-transcription.json"


def family_of(formats: Path, path: Path) -> str:
    """The folder under formats/ that holds `path`."""
    return path.relative_to(formats).parts[0]


def raw_log_files(formats: Path) -> list[Path]:
    """Every raw log file under formats/, sorted, outside the skipped families."""
    found = []
    for path in sorted(formats.rglob("*")):
        if not path.is_file() or family_of(formats, path) in SKIPPED_FAMILIES:
            continue
        if any(fnmatch.fnmatch(path.name, name) for name in RAW_NAMES):
            found.append(path)
    return found


def file_lines(path: Path, cap: int | None = None) -> list[tuple[int, int, bytes]]:
    """(1-based line number, byte offset, line) for each non-empty line of `path`, without
    its newline; at most `cap` lines."""
    out = []
    offset = 0
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if cap is not None and number > cap:
            break
        if line.strip():
            out.append((number, offset, line))
        offset += len(line) + 1
    return out


def raw_samples(root: Path) -> Iterator[Sample]:
    """One sample per non-empty line of every raw log file, continuation lines marked."""
    formats = root / "formats"
    for path in raw_log_files(formats):
        rel = path.relative_to(formats).as_posix()
        lines = file_lines(path, CAPS.get(rel))
        strict = entries_lead_with_digit_or_bracket([line for _, _, line in lines])
        for number, _, line in lines:
            yield Sample(
                family=family_of(formats, path),
                source=f"formats/{rel}:{number}",
                line=line,
                continuation=is_continuation(line, strict),
            )


def lnav_samples(root: Path) -> Iterator[Sample]:
    """lnav's format samples: the line, and its level where lnav states one. A sample of
    several lines gives its first as the entry and the others as continuation lines."""
    formats = root / "formats"
    for path in sorted(formats.glob("*/*/lnav_format_samples.json")):
        rel = path.relative_to(root).as_posix()
        family = family_of(formats, path)
        for index, case in enumerate(json.loads(path.read_text())["samples"]):
            first, *rest = case["line"].split("\n")
            stated = case.get("level")
            yield Sample(
                family=family,
                source=f"{rel}#{index}",
                line=first.encode(),
                continuation=is_continuation(first.encode()),
                level=level(stated) if stated else None,
            )
            for k, more in enumerate(rest, start=1):
                if more.strip():
                    yield Sample(family, f"{rel}#{index}+{k}", more.encode(), continuation=True)


# --------------------------------------------------------------------------- expectations


def _plaso_time(event: dict[str, Any], line: bytes) -> dict[str, Any]:
    """Plaso's `date_time` is the line's wall-clock time (its note: the offset is not
    applied, and a line without a year got the test's assumed 1990). The line's own year and
    offset, where it has them, make it a wall-clock time with year or an instant."""
    wall = datetime.fromisoformat(event["date_time"])
    text = line.decode()
    if not text.startswith(f"{wall.year:04d}-"):
        return {"wall_clock": wall, "year_stated": False}
    head = text.split(" ", 3)  # date, time, maybe the offset
    zone = head[2] if len(head) > 2 and head[2][:1] in "+-" and head[2][1:].isdigit() else None
    if zone is None:
        return {"wall_clock": wall}
    stated = iso_time(f"{event['date_time']}{zone}")
    return {"timestamp": stated.timestamp}


def _expectations(rel: str, event: dict[str, Any], line: bytes) -> dict[str, Any]:
    """A transcribed event's timestamp, level and message as Sample fields."""
    fields: dict[str, Any] = {}
    if "@timestamp" in event:
        fields["timestamp"] = iso_time(event["@timestamp"]).timestamp
        if rel.startswith("mysql_error/"):
            # Its note: "@timestamp truncated to milliseconds by Filebeat".
            fields["timestamp_unit_us"] = 1000
    elif "date_time" in event:
        fields.update(_plaso_time(event, line))
    stated_level = event.get("log.level") or event.get("priority")
    if stated_level:
        fields["level"] = level(stated_level)
    if event.get("message") is not None:
        fields["message"] = event["message"]
    return fields


def attach_transcriptions(root: Path, samples: list[Sample]) -> tuple[list[Sample], list[Skip]]:
    """`samples` with the expected values of each `*.expected-transcription.json` attached to
    the line it names ('line' = 1-based line number in the log beside it), and Filebeat's
    nginx expected @timestamp attached by `log.offset`."""
    formats = root / "formats"
    by_source = {sample.source: i for i, sample in enumerate(samples)}
    out = list(samples)
    skips: list[Skip] = []
    for path in sorted(formats.rglob(f"*{TRANSCRIPTION}")):
        log = path.with_name(path.name.removesuffix(TRANSCRIPTION))
        rel = log.relative_to(formats).as_posix()
        for event in json.loads(path.read_text())["events"]:
            index = by_source.get(f"formats/{rel}:{event['line']}")
            if index is None:
                skips.append(Skip(path.relative_to(root).as_posix(), 1, "names no line"))
                continue
            out[index] = replace(out[index], **_expectations(rel, event, out[index].line))
    expected = formats / NGINX_EXPECTED
    log = expected.with_name("test.log")
    rel = log.relative_to(formats).as_posix()
    at_offset = {offset: number for number, offset, _ in file_lines(log)}
    for event in json.loads(expected.read_text()):
        index = by_source.get(f"formats/{rel}:{at_offset.get(event['log.offset'])}")
        if index is None:
            skips.append(Skip(f"formats/{NGINX_EXPECTED}", 1, "offset starts no line"))
            continue
        stamp = iso_time(event["@timestamp"]).timestamp
        out[index] = replace(out[index], timestamp=stamp)
    return out, skips
