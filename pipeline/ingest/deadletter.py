"""Dead-letter records: the original bytes, plus headers that say what went wrong and where.

Headers (all UTF-8 text), so `kafka-console-consumer --property print.headers=true` or any
client shows them without a schema:

    edgewatch.stage      decode | parse | validate | index
    edgewatch.reason     short, stable cause (also the metric label), e.g. json.invalid
    edgewatch.detail     the longer explanation, when there is one (truncated to 1 KiB)
    edgewatch.topic      original topic
    edgewatch.partition  original partition
    edgewatch.offset     original offset
    edgewatch.time       when edgewatch dead-lettered it, ISO 8601 UTC
    edgewatch.truncated_from  the original size, when the dead-letter topic refused the whole
                         message as too large and only its first 512 KiB are kept

The original key is kept as the dead letter's key, and the original value as its value, so a
fixed message can be replayed as is. A tombstone (a message whose value is null, as log
compaction uses to delete a key) stays a tombstone: its dead letter has a null value, not an
empty one, stage `decode` and reason `empty`, the reason a zero-length value gets too; the
detail tells them apart ("tombstone: the message value is null").
"""

from __future__ import annotations

from datetime import datetime

from confluent_kafka import Message

from pipeline.ingest.actions import DeadLetter, iso

_MAX_DETAIL = 1024


def read_headers(message: Message) -> dict[str, str]:
    """A consumed message's headers as text (what `headers` wrote), for tools and tests."""
    return {
        str(key): value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        for key, value in list(message.headers() or [])
    }


def dlq_topic(topic: str, suffix: str) -> str:
    """The dead-letter topic for a source topic (default `<topic>.dlq`)."""
    return f"{topic}{suffix}"


def headers(letter: DeadLetter, now: datetime) -> list[tuple[str, str | bytes | None]]:
    """The Kafka headers of a dead letter."""
    origin = letter.origin
    out: list[tuple[str, str | bytes | None]] = [
        ("edgewatch.stage", letter.stage.encode()),
        ("edgewatch.reason", letter.reason.encode()),
        ("edgewatch.topic", origin.topic.encode()),
        ("edgewatch.partition", str(origin.partition).encode()),
        ("edgewatch.offset", str(origin.offset).encode()),
        ("edgewatch.time", iso(now).encode()),
    ]
    if letter.original_size is not None:
        out.append(("edgewatch.truncated_from", str(letter.original_size).encode()))
    if letter.detail:
        out.append(("edgewatch.detail", letter.detail[:_MAX_DETAIL].encode("utf-8", "replace")))
    return out
