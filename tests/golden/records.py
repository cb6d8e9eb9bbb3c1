"""The golden files' format: inputs (one Kafka message and the settings it is read with),
outcomes, and the canonical JSON their digests are taken of. Knows nothing of the core.

A golden file is JSON Lines. Its first line is a header:

    {"golden": <family>, "about": <what it holds>, "ingested": <the fixed ingest time>,
     "profiles": {<name>: <the ingest settings the core reads>}, "records": <count>}

and every further line one record:

    {"input": {"profile", "topic", "envelope", "format", ["dataset"], ["schema"],
               "partition", "offset", "timestamp_ms", "key" | "key_b64",
               "value" | "value_b64" | "value_repeat", ["note"]},
     "outcome": {"index", "id", "document"} | {"dead_letter": {"stage", "reason"}}}

`timestamp_ms` is the Kafka timestamp as confluent-kafka reports it (-1: none). A key or value
that is not UTF-8 is written as base64 (`key_b64`, `value_b64`); a null one as null (a
tombstone's value); a long value made of one repeated unit as `value_repeat: [unit, times]`.
`schema` is a topic's own JSON Schema, relative to the repository root. `note` says where the
input came from, for people reading a mismatch.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.ship import wrap

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DIGESTS = HERE / "corpus_digests.jsonl.gz"

# The IngestConfig settings the core reads, the ones a profile states: everything else
# (batching, Kafka, HTTP) is orchestration and cannot change a document.
PROFILE_KEYS = (
    "max_message_bytes",
    "keep_original",
    "index_mode",
    "index_prefix",
    "dataset",
    "namespace",
    "index_time_window_back_s",
    "index_time_window_ahead_s",
)

# A value this long made of one short repeated unit is written compactly (the demo's 2 MB
# poison message would otherwise be 2 MB of "x" in the file).
_REPEAT_FROM = 65_536

Outcome = dict[str, Any]

# The clock, fixed: the ingest time every document carries in event.ingested (it is the
# service's clock at the poll, the one input besides the message that a document shows), and
# the Kafka timestamp most messages carry, a few seconds before it.
INGESTED = datetime(2026, 11, 25, 10, 0, 5, 250_000, tzinfo=UTC)
KAFKA_MS = 1_795_600_800_123  # 2026-11-25T10:00:00.123Z


@dataclass(frozen=True)
class Input:
    """One Kafka message and everything the core reads it with."""

    profile: str
    settings: IngestConfig
    topic: str
    topic_config: TopicConfig
    partition: int
    offset: int
    timestamp_ms: int  # -1: the message has no timestamp
    key: bytes | None
    value: bytes | None
    ingested: datetime
    note: str = ""

    def describe(self) -> str:
        """One line for a failure report: where it is and what the value starts with."""
        value = "null" if self.value is None else repr(self.value[:160])
        if self.value is not None and len(self.value) > 160:
            value += f"... ({len(self.value)} bytes)"
        config = self.topic_config
        return (
            f"{self.topic}/{self.partition}/{self.offset} [{self.profile}, envelope "
            f"{config.envelope}, format {config.format}] {self.note}: {value}"
        )


def profile(settings: IngestConfig) -> dict[str, Any]:
    """The settings a profile records."""
    return {name: getattr(settings, name) for name in PROFILE_KEYS}


def settings_of(recorded: dict[str, Any]) -> IngestConfig:
    """The IngestConfig of a recorded profile."""
    unknown = set(recorded) - set(PROFILE_KEYS)
    assert not unknown, f"unknown profile settings {sorted(unknown)}"
    return IngestConfig(**recorded)


def _bytes_field(out: dict[str, Any], name: str, data: bytes | None) -> None:
    if data is None:
        out[name] = None
        return
    if len(data) >= _REPEAT_FROM and name == "value":
        for size in range(1, 17):
            unit = data[:size]
            if len(data) % size == 0 and unit * (len(data) // size) == data:
                try:
                    out["value_repeat"] = [unit.decode("utf-8"), len(data) // size]
                    return
                except UnicodeDecodeError:
                    break
    try:
        out[name] = data.decode("utf-8")
    except UnicodeDecodeError:
        out[f"{name}_b64"] = base64.b64encode(data).decode("ascii")


def _read_bytes(recorded: dict[str, Any], name: str) -> bytes | None:
    if f"{name}_b64" in recorded:
        return base64.b64decode(recorded[f"{name}_b64"])
    if name == "value" and "value_repeat" in recorded:
        unit, times = recorded["value_repeat"]
        return str(unit).encode("utf-8") * int(times)
    text = recorded[name]
    return None if text is None else str(text).encode("utf-8")


def encode_input(item: Input) -> dict[str, Any]:
    """An input as its record holds it."""
    config = item.topic_config
    out: dict[str, Any] = {
        "profile": item.profile,
        "topic": item.topic,
        "envelope": config.envelope,
        "format": config.format,
    }
    if config.dataset is not None:
        out["dataset"] = config.dataset
    if config.schema is not None:
        out["schema"] = config.schema.relative_to(ROOT).as_posix()
    out.update(partition=item.partition, offset=item.offset, timestamp_ms=item.timestamp_ms)
    _bytes_field(out, "key", item.key)
    _bytes_field(out, "value", item.value)
    if item.note:
        out["note"] = item.note
    return out


def decode_input(
    recorded: dict[str, Any], profiles: dict[str, IngestConfig], ingested: datetime
) -> Input:
    """The input a record holds."""
    schema = recorded.get("schema")
    config = TopicConfig(
        envelope=recorded["envelope"],
        format=recorded["format"],
        dataset=recorded.get("dataset"),
        schema=ROOT / schema if schema else None,
    )
    return Input(
        profile=recorded["profile"],
        settings=profiles[recorded["profile"]],
        topic=recorded["topic"],
        topic_config=config,
        partition=int(recorded["partition"]),
        offset=int(recorded["offset"]),
        timestamp_ms=int(recorded["timestamp_ms"]),
        key=_read_bytes(recorded, "key"),
        value=_read_bytes(recorded, "value"),
        ingested=ingested,
        note=str(recorded.get("note", "")),
    )


@dataclass(frozen=True)
class GoldenFile:
    """A golden file, read: its header and its records."""

    path: Path
    header: dict[str, Any]
    inputs: list[Input]
    outcomes: list[Outcome]


def read(path: Path) -> GoldenFile:
    """Read a golden file (header first, then the records)."""
    # Split on "\n" only: a record may hold U+2028 or U+0085, which str.splitlines() would
    # take for line ends (they are escaped when written, but a hand edit may not be).
    rows = [json.loads(row) for row in path.read_text(encoding="utf-8").split("\n") if row]
    header, records = rows[0], rows[1:]
    assert "golden" in header, f"{path}: the first line is not a golden file's header"
    count = header["records"]
    assert count == len(records), f"{path}: {len(records)} records, its header says {count}"
    ingested = datetime.fromisoformat(header["ingested"])
    profiles = {name: settings_of(values) for name, values in header["profiles"].items()}
    inputs = [decode_input(record["input"], profiles, ingested) for record in records]
    return GoldenFile(path, header, inputs, [record["outcome"] for record in records])


def dumps_line(obj: Any) -> str:
    """One JSON Lines row: UTF-8 text as is (readable diffs), keys in their own order, and
    the Unicode line separators escaped so that no tool splits a row in two."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char in ("\u2028", "\u2029", "\u0085"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def render(header: dict[str, Any], inputs: list[Input], outcomes: list[Outcome]) -> bytes:
    """A golden file's bytes: the header (with the record count), then the records."""
    rows = [dumps_line({**header, "records": len(inputs)})]
    rows += [
        dumps_line({"input": encode_input(item), "outcome": outcome})
        for item, outcome in zip(inputs, outcomes, strict=True)
    ]
    return ("\n".join(rows) + "\n").encode("utf-8")


def canonical(outcome: Outcome) -> str:
    """The canonical JSON of an outcome: sorted keys, no whitespace, text as is. Two outcomes
    are JSON-equal when these are equal: key order and number spelling do not count, but the
    type does (1 is not 1.0 and neither is true: Elasticsearch maps them differently)."""
    return json.dumps(outcome, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(outcome: Outcome) -> str:
    """SHA-256 (hex) of the canonical JSON of an outcome."""
    return hashlib.sha256(canonical(outcome).encode("utf-8", "surrogatepass")).hexdigest()


# ------------------------------------------------------------------------------ the corpus

# What a corpus line becomes: a message on this topic, its line number as the offset, wrapped
# in one of the shippers' envelopes in turn (so the corpus also passes through every envelope,
# at one digest per line), read with the default settings.
CORPUS_TOPIC = "corpus"
CORPUS_ENVELOPES = ("raw", "filebeat", "fluentbit", "vector")
CORPUS_HOST = "edge-07"
CORPUS_PATH = "/var/log/x.log"


def corpus_input(relative: str, number: int, line: bytes) -> Input:
    """The message line `number` (from 1) of the corpus file at `relative` becomes."""
    envelope = CORPUS_ENVELOPES[number % len(CORPUS_ENVELOPES)]
    return Input(
        profile="default",
        settings=IngestConfig(),
        topic=CORPUS_TOPIC,
        topic_config=TopicConfig(),
        partition=0,
        offset=number,
        timestamp_ms=KAFKA_MS,
        key=CORPUS_HOST.encode(),
        value=wrap(line, envelope, CORPUS_HOST, CORPUS_PATH, INGESTED),
        ingested=INGESTED,
        note=f"{relative}:{number} ({envelope})",
    )


def corpus_files(corpus: Path) -> list[Path]:
    """The corpus's format samples, in a fixed order."""
    return sorted(p for p in (corpus / "formats").rglob("*") if p.is_file())


def corpus_lines(data: bytes) -> list[bytes]:
    """A corpus file's lines as the other corpus tests split them (bytes.splitlines: \\n,
    \\r\\n and \\r end a line); line N is item N-1."""
    return data.splitlines()


def iter_digest_files(path: Path = DIGESTS) -> Iterator[dict[str, Any]]:
    """The digest file's rows: {"path", "sha256" (the file's bytes), "lines": [digest...]}."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in handle:
            if row.strip():
                yield json.loads(row)
