"""What the native ingest core's answers become in Python: a document to index (`IndexAction`)
or a dead letter (`DeadLetter`), each with the `Origin` of its Kafka message. Pure.

The core (`_native`, built from native/) decides what every message becomes; the rest of the
service only carries these values: the bulk writer sends actions, the commit path produces
dead letters with their headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from pipeline.config import IngestConfig


class Origin(NamedTuple):
    """Where a message came from in Kafka. (A named tuple: one is made per message, and it is
    built in half the time of a frozen dataclass.)"""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None  # the Kafka message timestamp
    key: bytes | None = None

    @property
    def doc_id(self) -> str:
        """The document `_id`: a replay of the same message overwrites instead of adding."""
        return f"{self.topic}/{self.partition}/{self.offset}"


def origin_of(message: Any) -> Origin:
    """Where a confluent-kafka message (not an error) came from."""
    return Origin(
        message.topic(),
        message.partition(),
        message.offset(),
        message.timestamp()[1],
        message.key(),
    )


def iso(stamp: datetime) -> str:
    """UTC ISO 8601 with microseconds and a Z, as Elasticsearch's date type reads it."""
    if stamp.tzinfo is not UTC:
        stamp = stamp.astimezone(UTC)
    # What isoformat(timespec="microseconds") writes for the naive time, plus "Z", at half
    # the cost (no naive copy of the datetime, no keyword parsing).
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031 (an f-string takes 2x)
        stamp.year,
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
        stamp.microsecond,
    )


# Not frozen, unlike DeadLetter: nothing changes one once made, and a frozen dataclass's
# __init__ (object.__setattr__ per field) costs twice as much.
@dataclass(slots=True)
class IndexAction:
    """A document ready for Elasticsearch: one of a native run's documents (`runs.expand`),
    or one made with `index_action`."""

    origin: Origin
    index: str
    # The document's whole entry in a bulk request, its action line and the document, as the
    # core wrote them: the bulk body is a join of entries.
    entry: bytes
    value: bytes  # the Kafka message as received, dead-lettered if Elasticsearch refuses it
    # "behind" or "ahead" when the event time was outside the index-time window and the
    # Kafka timestamp named the index; else "". (Set by `transform`: a run counts these
    # per poll instead, in `Intake.outside`.)
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
    """The action for a document serialised as `source`, sent as `op_type` (bulk_op_type):
    for tests and tools that write documents of their own through the bulk writer."""
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

    @property
    def size(self) -> int:
        """The value's length in bytes, 0 for a tombstone (batch size accounting)."""
        return 0 if self.value is None else len(self.value)
