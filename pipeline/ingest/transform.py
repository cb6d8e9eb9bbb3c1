"""A topic's settings as the native core takes them, and one message through the core.

The native core (`_native`, built from native/) decides what every message becomes: its
envelope, line format, document, index and dead letters, empty, oversized and tombstone
messages included. The service hands it whole polls (intake.py); `Transformer` hands it one
message at a time, through the very same call (`_native.Intake.take`), for tests, tools and
benchmarks.

Stages, in order, each with its own dead-letter `stage` value: decode (size, envelope,
UTF-8), parse (the line format), validate (a topic's own JSON Schema). The fourth stage,
index, happens later, in the indexer.
"""

from __future__ import annotations

from datetime import datetime

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_NOT_AVAILABLE, Message

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest import _native
from pipeline.ingest.actions import DeadLetter, IndexAction, Origin, bulk_op_type, iso
from pipeline.ingest.runs import expand

# A size budget no poll reaches: take every message offered.
UNBOUNDED = 1 << 62


def window_us(seconds: float) -> int:
    """An index-time window bound from its setting (seconds), in the whole microseconds the
    core compares with."""
    return round(seconds * 1_000_000)


def core_settings(settings: IngestConfig, topic: TopicConfig) -> _native.Settings:
    """The native core's settings for one topic, made once per topic. Raises OSError when
    the topic's JSON Schema file cannot be read, ValueError when it is not a JSON Schema."""
    data_stream = settings.index_mode == "data_stream"
    return _native.Settings(
        topic.dataset or settings.dataset,
        settings.keep_original,
        topic.envelope,
        topic.format,
        settings.index_prefix,
        settings.namespace if data_stream else None,
        bulk_op_type(settings),
        window_us(settings.index_time_window_back_s),
        window_us(settings.index_time_window_ahead_s),
        topic.schema.read_text(encoding="utf-8") if topic.schema else None,
    )


class Transformer:
    """One message at a time through the native core, with one topic's settings (whatever
    topic the messages name). Never raises for any message."""

    def __init__(self, settings: IngestConfig, topic: TopicConfig) -> None:
        self.max_message_bytes = settings.max_message_bytes
        self.core = core_settings(settings, topic)
        self._intake = _native.Intake()

    def __call__(
        self, value: bytes | None, origin: Origin, ingested: datetime
    ) -> IndexAction | DeadLetter:
        """What becomes of one message: the poll of one message the service would take."""
        # confluent-kafka reports a message without a timestamp as (NOT_AVAILABLE, -1).
        stamp = origin.timestamp_ms
        message = Message(
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            key=origin.key,
            value=value,
            timestamp=(TIMESTAMP_NOT_AVAILABLE, -1)
            if stamp is None
            else (TIMESTAMP_CREATE_TIME, stamp),
        )
        outside: dict[tuple[str, str], int] = {}
        while True:
            run, letters, _errors, _after, unrouted = self._intake.take(
                [message], 0, iso(ingested), self.max_message_bytes, UNBOUNDED, {}, {}, outside
            )
            if unrouted is None:
                break
            self._intake.route(unrouted, self.core)
        if letters:
            ((_position, stage, reason, detail),) = letters
            return DeadLetter(origin, value, stage, reason, detail)
        (action,) = expand([run])
        action.origin = origin
        action.outside_window = next(side for _topic, side in outside) if outside else ""
        return action


def transform(
    value: bytes | None,
    origin: Origin,
    settings: IngestConfig,
    topic: TopicConfig,
    ingested: datetime,
) -> IndexAction | DeadLetter:
    """What becomes of one message read from a topic with these settings. Never raises for
    any message (a topic's schema that is not a JSON Schema raises ValueError)."""
    return Transformer(settings, topic)(value, origin, ingested)
