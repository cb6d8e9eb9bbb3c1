"""Turn an envelope and a parsed line into the Elasticsearch document (Elastic Common Schema).

Pure: the caller passes the Kafka origin and the ingest time. The result always conforms to
`schema/document.schema.json`; the unit tests prove it over the shared corpus and over
hypothesis inputs, so the service does not pay for a JSON Schema check per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pipeline.ingest.envelopes import Envelope
from pipeline.ingest.parsers.common import Fields

ECS_VERSION = "8.11.0"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Envelope fields a parsed line may not override: they describe the transport, not the line.
_ENVELOPE_ONLY = (
    "log.file.path",
    "log.offset",
    "agent.type",
    "agent.version",
    "agent.name",
    "agent.id",
    "labels",
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a message came from in Kafka."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None  # the Kafka message timestamp
    key: bytes | None = None

    @property
    def kafka_time(self) -> datetime | None:
        """The Kafka message timestamp, if the message has one."""
        if self.timestamp_ms is None or self.timestamp_ms <= 0:
            return None
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    @property
    def doc_id(self) -> str:
        """The document `_id`: a replay of the same message overwrites instead of adding."""
        return f"{self.topic}/{self.partition}/{self.offset}"


def document(
    envelope: Envelope,
    parsed: Fields,
    origin: Origin,
    *,
    dataset: str,
    line_format: str,
    ingested: datetime,
    keep_original: bool = True,
) -> tuple[dict[str, Any], datetime]:
    """The nested ECS document and its `@timestamp` (for picking a dated index).

    Precedence: a field from the line wins over the shipper's, which wins over Kafka's. The
    timestamp is the line's, else the shipper's, else the Kafka message's: never the clock, so
    a replay puts a message in the same index as the first time.
    """
    flat: Fields = dict(envelope.fields) if envelope.fields else {}
    for key, value in parsed.items():
        if key not in _ENVELOPE_ONLY:
            flat[key] = value
    if "host.name" not in flat and envelope.host:
        flat["host.name"] = envelope.host
    flat.pop("@timestamp", None)
    doc = nest(flat)

    # The fields every document has are built as objects directly: nesting them key by key
    # was the single most expensive step of building a document.
    stamp = parsed.get("@timestamp") or envelope.timestamp or origin.kafka_time or _EPOCH
    doc["@timestamp"] = iso(stamp)
    text = envelope.line.decode("utf-8", "replace")
    if "message" not in doc:
        doc["message"] = text
    event = doc.get("event")
    if not isinstance(event, dict):
        event = doc["event"] = {}
    if keep_original:
        event["original"] = text
    event["ingested"] = _iso_cached(ingested)
    event["dataset"] = dataset
    event["module"] = line_format
    kafka: dict[str, Any] = {
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
    }
    if origin.key is not None:
        kafka["key"] = origin.key.decode("utf-8", "replace")
    doc["kafka"] = kafka
    doc["ecs"] = {"version": ECS_VERSION}
    return doc, stamp


def nest(flat: Fields) -> dict[str, Any]:
    """{"a.b": 1, "a.c": 2} -> {"a": {"b": 1, "c": 2}}; values that are dicts stay whole."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = _PATHS.get(key)
        if parts is None:
            parts = _path(key)
        if not parts:
            out[key] = value
            continue
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


# Split dotted keys once: the set of keys is small and fixed, and nesting is the hottest
# part of building a document.
_PATHS: dict[str, tuple[str, ...]] = {}


def _path(key: str) -> tuple[str, ...]:
    parts = () if key == "@timestamp" or "." not in key else tuple(key.split("."))
    if len(_PATHS) < 4096:
        _PATHS[key] = parts
    return parts


def iso(stamp: datetime) -> str:
    """UTC ISO 8601 with microseconds and a Z, as Elasticsearch's date type reads it."""
    if stamp.tzinfo is not UTC:
        stamp = stamp.astimezone(UTC)
    return stamp.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@lru_cache(maxsize=4)
def _iso_cached(stamp: datetime) -> str:
    # The ingest time is the same for every message of one poll: format it once.
    return iso(stamp)
