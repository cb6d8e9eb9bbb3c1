"""One Kafka message in, one action out: a document to index or a dead letter. Pure.

Stages, in order, each with its own dead-letter `stage` value:
decode (size, envelope, UTF-8), parse (the line format), validate (a topic's own JSON Schema).
The fourth stage, index, happens later, in the indexer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.envelopes import EnvelopeError, unwrap
from pipeline.ingest.normalise import Origin, document
from pipeline.ingest.parsers import parse_line
from pipeline.ingest.parsers.common import ParseError

# A compiled user schema: returns None if the object conforms, else what is wrong.
Validator = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class IndexAction:
    """A document ready for Elasticsearch."""

    origin: Origin
    index: str
    doc: dict[str, Any]
    value: bytes  # the Kafka message as received, dead-lettered if Elasticsearch refuses it


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that will not be indexed, and why."""

    origin: Origin
    value: bytes
    stage: str  # decode | parse | validate | index
    reason: str  # short and stable, e.g. "oversized", "json.invalid", "mapper_parsing_exception"
    detail: str = ""
    original_size: int | None = None  # set when `value` had to be truncated


Action = IndexAction | DeadLetter


def transform(
    value: bytes | None,
    origin: Origin,
    settings: IngestConfig,
    topic: TopicConfig,
    ingested: datetime,
    validator: Validator | None = None,
) -> Action:
    """Decide what becomes of one message. Never raises for any input."""
    raw = value or b""
    if len(raw) > settings.max_message_bytes:
        return DeadLetter(
            origin,
            raw,
            "decode",
            "oversized",
            f"{len(raw)} bytes > ingest.max_message_bytes {settings.max_message_bytes}",
        )
    if not raw:
        return DeadLetter(origin, raw, "decode", "empty", "the message has no value")
    try:
        envelope = unwrap(raw, origin.key, topic.envelope)
    except EnvelopeError as err:
        return DeadLetter(origin, raw, "decode", err.reason, err.detail)
    reference = envelope.timestamp or origin.kafka_time
    try:
        fmt, fields = parse_line(envelope.line, topic.format, reference, envelope.decoded)
    except ParseError as err:
        stage = "decode" if err.reason == "invalid_utf8" else "parse"
        return DeadLetter(origin, raw, stage, err.reason, err.detail)
    if validator is not None and fmt == "json":
        problem = validator(envelope.decoded or orjson.loads(envelope.line))
        if problem is not None:
            return DeadLetter(origin, raw, "validate", "schema", problem)
    dataset = topic.dataset or settings.dataset
    doc, stamp = document(
        envelope,
        fields,
        origin,
        dataset=dataset,
        line_format=fmt,
        ingested=ingested,
        keep_original=settings.keep_original,
    )
    if settings.index_mode == "data_stream":
        doc["data_stream"] = {"type": "logs", "dataset": dataset, "namespace": settings.namespace}
        index = f"logs-{dataset}-{settings.namespace}"
    else:
        index = f"{settings.index_prefix}-{stamp:%Y.%m.%d}"
    return IndexAction(origin, index, doc, raw)
