"""One Kafka message in, one action out: a document to index or a dead letter. Pure.

The Python here and in the modules it calls is the reference: it defines every document and
every dead letter. The native core (`_native`, Rust, built from native/) answers first for the
shapes it covers, with the reference's bytes exactly (tests/unit/ingest/test_native.py), and
declines everything else, errors included. Of what it declines, a Filebeat event carrying a
JSON line is built by `fastpath` when it is plainly one; the rest goes the general way.

A dated index is named from the document's time only near its Kafka timestamp (window.py),
so a line cannot pick its index by the date it claims.

Stages, in order, each with its own dead-letter `stage` value:
decode (size, envelope, UTF-8), parse (the line format), validate (a topic's own JSON Schema).
The fourth stage, index, happens later, in the indexer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.actions import (
    DeadLetter,
    IndexAction,
    Origin,
    bulk_op_type,
    index_action,
    iso,
)
from pipeline.ingest.envelopes import EnvelopeError, unwrap
from pipeline.ingest.fastpath import filebeat_json
from pipeline.ingest.normalise import document
from pipeline.ingest.parsers import parse_line
from pipeline.ingest.parsers.common import ParseError
from pipeline.ingest.window import Window, window_us

# A compiled user schema: returns None if the object conforms, else what is wrong.
Validator = Callable[[dict[str, Any]], str | None]


def _native_core() -> Any:
    """The Rust core, or None in a pure-Python install (EDGEWATCH_PURE_PYTHON=1)."""
    try:
        from pipeline.ingest import _native
    except ImportError:
        return None
    return _native


# Module state, not a constant: the reference tests set it to None to run the Python alone.
NATIVE: Any = _native_core()


Action = IndexAction | DeadLetter

# A message without content is dead-lettered at the decode stage with reason "empty", whether
# its value is null (a tombstone, which stays one in the dead-letter topic) or zero bytes.
TOMBSTONE_DETAIL = "tombstone: the message value is null"
EMPTY_DETAIL = "the message value is empty (0 bytes)"


def transform(
    value: bytes | None,
    origin: Origin,
    settings: IngestConfig,
    topic: TopicConfig,
    ingested: datetime,
    validator: Validator | None = None,
) -> Action:
    """Decide what becomes of one message. Never raises for any input."""
    return Transformer(settings, topic, validator)(value, origin, ingested)


class Transformer:
    """`transform` for the messages of one topic: the settings it reads are looked up once,
    here, instead of for every message (the ingest loop keeps one per topic)."""

    def __init__(
        self, settings: IngestConfig, topic: TopicConfig, validator: Validator | None = None
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.validator = validator
        self.max_message_bytes = settings.max_message_bytes
        self.dataset = topic.dataset or settings.dataset
        self.keep_original = settings.keep_original
        self.data_stream = settings.index_mode == "data_stream"
        self.op_type = bulk_op_type(settings)
        self.envelope = topic.envelope
        self.format = topic.format
        self.index_prefix = settings.index_prefix
        self.namespace = settings.namespace if self.data_stream else None
        self.window = Window(
            window_us(settings.index_time_window_back_s),
            window_us(settings.index_time_window_ahead_s),
        )
        # The native core's copy of these settings, or None: read NATIVE at construction,
        # not import, because the reference tests switch the native core off.
        self.native: Any = (
            NATIVE.Settings(
                self.dataset,
                self.keep_original,
                self.envelope,
                self.format,
                self.index_prefix,
                self.namespace,
                self.op_type,
                self.window.back_us,
                self.window.ahead_us,
                topic.schema.read_text(encoding="utf-8") if topic.schema else None,
            )
            if NATIVE is not None and settings.native_core
            else None
        )
        self._ingested: datetime | None = None
        self._ingested_iso = ""

    def __call__(self, value: bytes | None, origin: Origin, ingested: datetime) -> Action:
        """Decide what becomes of one message. Never raises for any input."""
        if value is None:
            # A tombstone: dead-lettered as one (null value, same key), with the reason of an
            # empty value; the detail tells the two apart.
            return DeadLetter(origin, None, "decode", "empty", TOMBSTONE_DETAIL)
        raw = value
        if len(raw) > self.max_message_bytes:
            return DeadLetter(
                origin,
                raw,
                "decode",
                "oversized",
                f"{len(raw)} bytes > ingest.max_message_bytes {self.max_message_bytes}",
            )
        if not raw:
            return DeadLetter(origin, raw, "decode", "empty", EMPTY_DETAIL)
        if self.native is not None:
            if ingested is not self._ingested:  # the same for every message of one poll
                self._ingested, self._ingested_iso = ingested, iso(ingested)
            topic, partition, offset, stamp, key = origin  # (unpacking is the cheap way)
            try:
                made = self.native.transform(
                    raw, key, topic, partition, offset, stamp, self._ingested_iso
                )
            except NATIVE.Refused as refused:
                stage, reason, detail = refused.args
                return DeadLetter(origin, raw, stage, reason, detail, native=True)
            if made is not None:
                index, entry, outside = made
                return IndexAction(origin, index, entry, raw, True, outside)
        return self._reference(raw, origin, ingested)

    def _reference(self, raw: bytes, origin: Origin, ingested: datetime) -> Action:
        """The Python reference: everything the native core declines, and the only path
        when it is off, absent, or the topic has its own schema."""
        settings, topic, validator = self.settings, self.topic, self.validator
        dataset = self.dataset
        event = None
        built = None
        if raw[:1] == b"{" and validator is None and topic.envelope in _FAST_ENVELOPES:
            # A JSON object: decode it once, for the fast path and, if that declines, for
            # unwrap.
            try:
                event = orjson.loads(raw)
            except orjson.JSONDecodeError:
                event = None  # unwrap decides what a broken value is
            if topic.format in _FAST_FORMATS and event is not None:
                built = filebeat_json(
                    event,
                    origin,
                    dataset=dataset,
                    ingested=ingested,
                    keep_original=self.keep_original,
                )
        if built is not None:
            doc, stamp = built
        else:
            general = _general(raw, event, origin, settings, topic, dataset, ingested, validator)
            if isinstance(general, DeadLetter):
                return general
            doc, stamp = general
        outside = ""
        if self.data_stream:
            doc["data_stream"] = {
                "type": "logs",
                "dataset": dataset,
                "namespace": settings.namespace,
            }
            index = f"logs-{dataset}-{settings.namespace}"
        else:
            day, outside = self.window.index_time(stamp, origin.kafka_time)
            if outside:
                # Said on the document, where no line can put it (`kafka` is all ours): the
                # time its index was named from, which its @timestamp is not.
                doc["kafka"]["timestamp"] = iso(day)
            index = dated_index(settings.index_prefix, day.date())
        try:
            source = orjson.dumps(doc)
        except orjson.JSONEncodeError as err:
            # orjson reads JSON nested up to 1024 deep but writes at most 254 levels: such a
            # line would otherwise fail later, in the bulk writer, on every attempt.
            return DeadLetter(origin, raw, "parse", "document.not_serialisable", str(err))
        action = index_action(origin, index, source, raw, self.op_type)
        action.outside_window = outside
        return action


# Where fastpath.filebeat_json may answer: it builds Filebeat events carrying JSON lines.
_FAST_ENVELOPES = frozenset({"auto", "filebeat"})
_FAST_FORMATS = frozenset({"auto", "json"})


def _general(
    raw: bytes,
    event: Any,
    origin: Origin,
    settings: IngestConfig,
    topic: TopicConfig,
    dataset: str,
    ingested: datetime,
    validator: Validator | None,
) -> tuple[dict[str, Any], datetime] | DeadLetter:
    """Every shape: unwrap the envelope, parse the line, normalise. `event` is the value
    already decoded as JSON, or None."""
    try:
        envelope = unwrap(raw, origin.key, topic.envelope, event)
    except EnvelopeError as refused:  # (distinct names: compiled, one name has one type)
        return DeadLetter(origin, raw, "decode", refused.reason, refused.detail)
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
    return document(
        envelope,
        fields,
        origin,
        dataset=dataset,
        line_format=fmt,
        ingested=ingested,
        keep_original=settings.keep_original,
    )


@lru_cache(maxsize=256)
def dated_index(prefix: str, day: date) -> str:
    """`<prefix>-YYYY.MM.DD`. Cached: strftime costs more than the rest of naming an index,
    and a stream's messages fall on very few days."""
    return f"{prefix}-{day:%Y.%m.%d}"
