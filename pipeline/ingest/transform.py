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
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.envelopes import EnvelopeError, unwrap
from pipeline.ingest.fastpath import filebeat_json
from pipeline.ingest.normalise import Origin, document, iso
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


# Not frozen, unlike DeadLetter: one is made per indexed message, and a frozen dataclass's
# __init__ (object.__setattr__ per field) costs twice as much. Nothing changes one once made.
@dataclass(slots=True)
class IndexAction:
    """A document ready for Elasticsearch. Make one with `index_action`."""

    origin: Origin
    index: str
    # The document's whole entry in a bulk request, its action line and the document,
    # serialised once, here: a batch then holds one bytes object per event instead of a dozen
    # small dicts (less memory, far less work for the cyclic GC), and the bulk body is a join.
    entry: bytes
    value: bytes  # the Kafka message as received, dead-lettered if Elasticsearch refuses it
    native: bool = False  # built by the native core (else by the Python reference)
    # window.BEHIND or window.AHEAD when the event time was outside the index-time window
    # and the Kafka timestamp named the index (counted in a metric); else "".
    outside_window: str = ""

    @property
    def source(self) -> bytes:
        """The document alone, cut from the entry on every access (tests, tools)."""
        return self.entry[self.entry.index(b"\n") + 1 : -1]

    @property
    def doc(self) -> dict[str, Any]:
        """The document as a dict, decoded on every access (tests, tools)."""
        doc: dict[str, Any] = orjson.loads(self.source)
        return doc


def bulk_op_type(settings: IngestConfig) -> str:
    """The bulk action every document is sent with: "index" into dated indices (a replay
    overwrites), "create" into data streams (they take nothing else; a replay gets 409)."""
    return "create" if settings.index_mode == "data_stream" else "index"


def index_action(
    origin: Origin, index: str, source: bytes, value: bytes, op_type: str = "index"
) -> IndexAction:
    """The action for a document serialised as `source`, sent as `op_type` (bulk_op_type)."""
    return IndexAction(origin, index, action_line(op_type, index, origin) + source + b"\n", value)


def action_line(op_type: str, index: str, origin: Origin) -> bytes:
    """`{"<op>":{"_index":"<index>","_id":"<topic>/<partition>/<offset>"}}` and a newline."""
    return _action_head(op_type, index, origin.topic, origin.partition) + b'%d"}}\n' % origin.offset


@lru_cache(maxsize=1024)
def _action_head(op_type: str, index: str, topic: str, partition: int) -> bytes:
    # The same for a whole partition and day: serialised once, up to the `_id`'s offset.
    line = orjson.dumps({op_type: {"_index": index, "_id": f"{topic}/{partition}/"}})
    return line[: -len(b'"}}')]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that will not be indexed, and why."""

    origin: Origin
    # The message's value as received, produced to the dead-letter topic as is: None for a
    # tombstone (a message with a null value), which stays a tombstone there.
    value: bytes | None
    stage: str  # decode | parse | validate | index
    reason: str  # short and stable, e.g. "oversized", "json.invalid", "mapper_parsing_exception"
    detail: str = ""
    original_size: int | None = None  # set when `value` had to be truncated
    native: bool = False  # decided by the native core (for its tests and figures)

    @property
    def size(self) -> int:
        """The value's length in bytes, 0 for a tombstone (batch size accounting)."""
        return 0 if self.value is None else len(self.value)


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
