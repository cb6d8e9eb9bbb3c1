"""What the fault cases produce, and the one check they all end with.

`produce_spread` writes good lines of every common format with poison spread through them,
remembering only where each poison message landed (partition, offset): on a fresh topic every
other offset below the high watermark is a good one. `verify` then reads back every document
of the test's index family (by `_id`, which is `<topic>/<partition>/<offset>`) and every dead
letter of `<topic>.dlq` (by its edgewatch.partition/offset headers) and lists what is wrong:
every good offset must be exactly one document, every poison offset at least one dead letter
of the expected stage (exactly one is issue 17's promise still open: the count of repeats is
printed), and nothing else may be there.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition
from elasticsearch import Elasticsearch

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest.deadletter import read_headers


@dataclass(frozen=True)
class Poison:
    """A kind of bad message: how to make one, and where ingest must dead-letter it."""

    make: Callable[[int], bytes | None]
    stage: str
    reason: str | None  # None: any (Elasticsearch's own error type)


# Each is a real failure, by the stage that catches it. `oversized` needs the service run with
# ingest.max_message_bytes below OVERSIZED (the cases set it, see SMALL_MAX_MESSAGE).
SMALL_MAX_MESSAGE = 16_384
OVERSIZED = 20_000
POISON: dict[str, Poison] = {
    "invalid_utf8": Poison(lambda i: b"bad \xff\xfe utf-8 %d" % i, "decode", "invalid_utf8"),
    "broken_json": Poison(
        lambda i: b'{"level":"error","msg": broken %d}' % i, "parse", "json.invalid"
    ),
    "empty": Poison(lambda i: b"", "decode", "empty"),
    "tombstone": Poison(lambda i: None, "decode", "empty"),
    "oversized": Poison(lambda i: b"%d " % i + b"x" * OVERSIZED, "decode", "oversized"),
    # Elasticsearch refuses these at index time: a field name it cannot take, and a field that
    # is an object and a number in the same document (dynamic `attributes.*`).
    "empty_field_name": Poison(lambda i: b'{"msg":"poison %d","":1}' % i, "index", None),
    "type_conflict": Poison(
        lambda i: b'{"msg":"poison %d","conflict.x":1,"conflict":%d}' % (i, i), "index", None
    ),
    # JSON nested deeper than the serialiser takes (but not than the parser does).
    "deep_nesting": Poison(
        lambda i: b'{"msg":"deep %d","a":' % i + b"[" * 300 + b"]" * 300 + b"}",
        "parse",
        "document.not_serialisable",
    ),
}
# Larger than a small dead-letter topic takes (tests/faults/test_poison.py): a broken line
# under ingest.max_message_bytes (dead-lettered at `parse`), and a message above it (`decode`).
BIG = {
    "big_broken_json": Poison(
        lambda i: b'{"msg":"%d ' % i + b"y" * 100_000 + b'" broken}', "parse", "json.invalid"
    ),
    "huge_oversized": Poison(lambda i: b"%d " % i + b"z" * 300_000, "decode", "oversized"),
}
POISON.update(BIG)
SPREAD = tuple(kind for kind in POISON if kind not in BIG)  # what produce_spread mixes in

_GOOD = (
    b'{"level":"info","msg":"line %d","n":7}',
    b'ts=2026-01-01T00:00:00Z level=warn msg="line %d" pump=3',
    b"<165>1 2026-01-01T00:00:00Z edge-9 pumpd 4242 ID47 - line %d",
    b'10.1.2.3 - - [25/Nov/2026:10:00:00 +0000] "GET /api/valves?id=%d HTTP/1.1" 503 12 "-" "c"',
    b"2026-01-01 00:00:00 ERROR pump failed, line %d",
)


def good(i: int) -> bytes:
    return _GOOD[i % len(_GOOD)] % i


@dataclass
class Produced:
    """Where a test's messages landed."""

    topic: str
    poison: dict[tuple[int, int], str] = field(default_factory=dict)  # (p, o) -> kind
    high: dict[int, int] = field(default_factory=dict)  # partition -> high watermark
    # The poison messages' values, when asked for (keep_values): to compare dead letters.
    values: dict[tuple[int, int], bytes | None] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(self.high.values())

    @property
    def good_count(self) -> int:
        return self.events - len(self.poison)


def produce_spread(
    cfg: Config,
    produced: Produced,
    events: int,
    every: int = 50,
    kinds: tuple[str, ...] = SPREAD,
    start: int = 0,
    keep_values: bool = False,
) -> Produced:
    """Produce `events` messages, one in `every` a poison of the next kind; add to `produced`
    and refresh its high watermarks. Keys rotate over 16 edge nodes (all partitions)."""
    producer = kafka_client.producer(
        cfg.kafka, **{"linger.ms": 20, "batch.num.messages": 10000, "queue.buffering.max.ms": 20}
    )
    rotation = itertools.cycle(kinds)
    failures: list[KafkaError] = []

    def landed(kind: str, value: bytes | None) -> Callable[[KafkaError | None, Message], None]:
        def done(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                failures.append(err)
                return
            where = (msg.partition() or 0, msg.offset() or 0)
            produced.poison[where] = kind
            if keep_values:
                produced.values[where] = value

        return done

    for i in range(start, start + events):
        key = b"edge-%d" % (i % 16)
        while True:
            try:
                if i % every == every - 1:
                    kind = next(rotation)
                    value = POISON[kind].make(i)
                    producer.produce(
                        produced.topic, value=value, key=key, on_delivery=landed(kind, value)
                    )
                else:
                    producer.produce(produced.topic, value=good(i), key=key)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0, "Kafka did not acknowledge every message"
    assert not failures, failures[:3]
    produced.high = high_watermarks(cfg, produced.topic)
    return produced


def high_watermarks(cfg: Config, topic: str) -> dict[int, int]:
    reader = kafka_client.consumer(cfg.kafka, f"{topic}-watermarks")
    try:
        parts = reader.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: reader.get_watermark_offsets(TopicPartition(topic, p), 10)[1] for p in parts}
    finally:
        reader.close()


def committed_to_end(cfg: Config, produced: Produced, group: str) -> bool:
    """Whether `group` has committed every partition of the topic up to its high watermark:
    everything produced so far is written (a counter of the service cannot tell, since what is
    read again after a fault counts twice). Asks without joining the group, and without
    waiting for a transaction still open (read_committed would: one a SIGKILL left open stays
    so until the next life's producer fences it, or for the 30 s transaction timeout)."""
    reader = kafka_client.consumer(cfg.kafka, group, **{"isolation.level": "read_uncommitted"})
    try:
        parts = [TopicPartition(produced.topic, p) for p in produced.high]
        done = reader.committed(parts, timeout=10)
    finally:
        reader.close()
    return all(tp.offset >= produced.high[tp.partition] for tp in done)


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    stage: str
    reason: str
    truncated_from: int | None
    value: bytes


def dead_letters(cfg: Config, topic: str, suffix: str = ".dlq") -> list[Letter]:
    """Every message of the dead-letter topic, read from the beginning to its end."""
    dlq = f"{topic}{suffix}"
    high = high_watermarks(cfg, dlq) if _exists(cfg, dlq) else {}
    if not any(high.values()):
        return []
    # Only committed transactions, as every reader of dead letters must (docs/ingest.md); the
    # end is the partition's end-of-file event: the high watermark counts transaction markers,
    # which are never delivered.
    consumer: Consumer = kafka_client.consumer(
        cfg.kafka,
        f"{dlq}-verify",
        **{"isolation.level": "read_committed", "enable.partition.eof": True},
    )
    consumer.assign([TopicPartition(dlq, p, OFFSET_BEGINNING) for p in high])
    letters: list[Letter] = []
    left = set(high)
    try:
        while left:
            messages = consumer.consume(1000, 5)
            assert messages, f"dead-letter topic {dlq} ended early; partitions left {left}"
            for msg in messages:
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        left.discard(msg.partition() or 0)
                    continue
                h = read_headers(msg)
                assert h["edgewatch.topic"] == topic
                cut = h.get("edgewatch.truncated_from")
                letters.append(
                    Letter(
                        int(h["edgewatch.partition"]),
                        int(h["edgewatch.offset"]),
                        h["edgewatch.stage"],
                        h["edgewatch.reason"],
                        int(cut) if cut else None,
                        msg.value() or b"",
                    )
                )
    finally:
        consumer.close()
    return letters


def _exists(cfg: Config, topic: str) -> bool:
    admin = kafka_client.admin(cfg.kafka)
    return topic in admin.list_topics(timeout=10).topics


def document_offsets(es: Elasticsearch, prefix: str) -> Counter[tuple[str, int, int]]:
    """How many documents each (topic, partition, offset) has in the index family."""
    pattern = f"{prefix}-*"
    es.indices.refresh(index=pattern, allow_no_indices=True)
    found: Counter[tuple[str, int, int]] = Counter()
    page = es.search(
        index=pattern,
        scroll="2m",
        size=10000,
        source=False,
        sort=["_doc"],
        allow_no_indices=True,
    )
    scroll_id = page.get("_scroll_id")
    try:
        while page["hits"]["hits"]:
            for hit in page["hits"]["hits"]:
                topic, partition, offset = hit["_id"].rsplit("/", 2)
                found[(topic, int(partition), int(offset))] += 1
            page = es.scroll(scroll_id=scroll_id, scroll="2m")
            scroll_id = page.get("_scroll_id")
    finally:
        if scroll_id:
            es.options(ignore_status=404).clear_scroll(scroll_id=scroll_id)
    return found


def verify(es: Elasticsearch, cfg: Config, produced: Produced, prefix: str) -> list[Letter]:
    """Assert by offsets that every good message is exactly one document and every poison
    message exactly one dead letter (read as read_committed: what aborted transactions wrote
    is not there); return the dead letters."""
    docs = document_offsets(es, prefix)
    letters = dead_letters(cfg, produced.topic)
    problems: list[str] = []
    stray = [key for key in docs if key[0] != produced.topic]
    doubled = [key for key, n in docs.items() if n > 1]
    poison_indexed = [k for k in docs if (k[1], k[2]) in produced.poison]
    missing = [
        (p, o)
        for p, high in produced.high.items()
        for o in range(high)
        if (p, o) not in produced.poison and (produced.topic, p, o) not in docs
    ]
    letter_count = Counter((x.partition, x.offset) for x in letters)
    unlettered = [k for k in produced.poison if k not in letter_count]
    letter_twice = [k for k, n in letter_count.items() if n > 1]
    letter_stray = [k for k in letter_count if k not in produced.poison]
    wrong_stage = [
        (x.partition, x.offset, produced.poison[(x.partition, x.offset)], x.stage, x.reason)
        for x in letters
        if (x.partition, x.offset) in produced.poison
        and not _expected(POISON[produced.poison[(x.partition, x.offset)]], x)
    ]
    for name, items in (
        ("good offsets without a document", missing),
        ("offsets with more than one document", doubled),
        ("documents of another topic", stray),
        ("poison offsets indexed as documents", poison_indexed),
        ("poison offsets without a dead letter", unlettered),
        ("poison offsets dead-lettered more than once", letter_twice),
        ("dead letters of good offsets", letter_stray),
        ("dead letters with the wrong stage/reason", wrong_stage),
    ):
        if items:
            problems.append(f"{len(items)} {name}, e.g. {sorted(items)[:5]}")
    summary = (
        f"{produced.events} offsets ({len(produced.poison)} poison): {sum(docs.values())} "
        f"documents, {len(letters)} dead letters"
    )
    print(summary)
    assert not problems, summary + "\n" + "\n".join(problems)
    return letters


def _expected(poison: Poison, letter: Letter) -> bool:
    return letter.stage == poison.stage and poison.reason in (None, letter.reason)
