"""Turn an envelope and a parsed line into the Elasticsearch document (Elastic Common Schema).

Pure: the caller passes the Kafka origin and the ingest time. The result always conforms to
`schema/document.schema.json`; the unit tests prove it over the shared corpus and over
hypothesis inputs, so the service does not pay for a JSON Schema check per event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pipeline.ingest.actions import Origin, iso
from pipeline.ingest.envelopes import Envelope
from pipeline.ingest.parsers.common import Fields

ECS_VERSION = "8.11.0"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the timestamp of last resort

# Envelope fields a parsed line may not override: they describe the transport, not the line.
ENVELOPE_ONLY = frozenset(
    {
        "log.file.path",
        "log.offset",
        "agent.type",
        "agent.version",
        "agent.name",
        "agent.id",
        "labels",
    }
)


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
    if ENVELOPE_ONLY.isdisjoint(parsed):  # the usual case: one merge in C
        flat: Fields = {**envelope.fields, **parsed}
    else:
        flat = dict(envelope.fields)
        for key, value in parsed.items():
            if key not in ENVELOPE_ONLY:
                flat[key] = value
    if "host.name" not in flat and envelope.host:
        flat["host.name"] = envelope.host
    flat.pop("@timestamp", None)
    doc = nest(flat)
    stamp = parsed.get("@timestamp") or envelope.timestamp or origin.kafka_time or EPOCH
    text = envelope.line.decode("utf-8", "replace")
    document_tail(doc, stamp, text, origin, dataset, line_format, ingested, keep_original)
    return doc, stamp


def document_tail(
    doc: dict[str, Any],
    stamp: datetime,
    text: str,
    origin: Origin,
    dataset: str,
    line_format: str,
    ingested: datetime,
    keep_original: bool,
) -> None:
    """Add what every document has to the nested fields of the line and its shipper:
    `@timestamp`, `message` (when the line gave none), `event.*`, `kafka.*`, `ecs.version`.
    `text` is the line as text."""
    # These are built as objects directly: nesting them key by key was the single most
    # expensive step of building a document.
    doc["@timestamp"] = iso(stamp)
    if "message" not in doc:
        doc["message"] = text
    event = doc.get("event")
    if not isinstance(event, dict):
        event = doc["event"] = {}
    if keep_original:
        event["original"] = text
    event["ingested"] = iso_cached(ingested)
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


def nest(flat: Fields) -> dict[str, Any]:
    """{"a.b": 1, "a.c": 2} -> {"a": {"b": 1, "c": 2}}; values that are dicts stay whole."""
    return nest_into({}, flat)


def nest_into(out: dict[str, Any], flat: Fields) -> dict[str, Any]:
    """`nest`, into an existing nested document: the same as nesting its flat form followed
    by `flat` in one go. Returns `out`."""
    paths = _PATHS
    for key, value in flat.items():
        path = paths.get(key)
        if path is None:
            path = _path(key)
        parents, leaf = path
        node = out
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return out


# Split dotted keys once, into the parent objects and the leaf: the set of keys is small and
# fixed, and nesting is the hottest part of building a document. A key that stays as it is
# has no parents. (No sentinel object compared with `is`: compiled, tuples are values.)
_PATHS: dict[str, tuple[tuple[str, ...], str]] = {}


def _path(key: str) -> tuple[tuple[str, ...], str]:
    if key == "@timestamp" or "." not in key:
        path: tuple[tuple[str, ...], str] = ((), key)
    else:
        *parents, leaf = key.split(".")
        path = (tuple(parents), leaf)
    if len(_PATHS) < 4096:
        _PATHS[key] = path
    return path


@lru_cache(maxsize=4)
def iso_cached(stamp: datetime) -> str:
    """`iso`, cached: the ingest time is the same for every message of one poll."""
    return iso(stamp)
