"""The poison corpus: every kind of bad message ingest knows, spread through good ones, and
dead letters too large for their own topic.

A dead letter is the original message, byte for byte, so it can be as large as anything the
source topic accepted; the dead-letter topic may take less (its `max.message.bytes`). Then,
and only then, the letter is cut (halved until the topic takes it) and says so in
`edgewatch.truncated_from`: a refused dead letter must not stop the partition behind it.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import FaultBench
from tests.faults.corpus import BIG, POISON, produce_spread
from tests.fixtures.faults import Figures, record, scale

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SCALE = scale()
DLQ_CAP = 64 * 1024  # the dead-letter topic's max.message.bytes
MAX_MESSAGE = 256 * 1024  # ingest.max_message_bytes: above the cap, below huge_oversized


@pytest.mark.timeout(SCALE.timeout(60))
def test_poison_corpus_and_dead_letters_larger_than_their_topic(bench: FaultBench) -> None:
    """Every poison kind (invalid UTF-8, broken JSON, empty, tombstone, nesting too deep,
    an empty field name and a type conflict that Elasticsearch refuses, a 100 KB broken line,
    a 300 KB message over ingest.max_message_bytes), one in ten of 3,000 messages, with the
    dead-letter topic made beforehand with max.message.bytes = 64 KiB. Promise: every good
    offset one document, every poison offset one dead letter with its stage and reason;
    letters the topic takes are the original bytes, the two large kinds are cut to a prefix
    the topic takes, with edgewatch.truncated_from = the original size; exit 0."""
    produced = bench.topic(dlq={"max.message.bytes": str(DLQ_CAP)})
    kinds = tuple(k for k in POISON if k != "oversized")  # 20 KB is no longer too large here
    produce_spread(bench.config, produced, 3000, every=10, kinds=kinds, keep_values=True)
    started = time.monotonic()
    proc = bench.ingest(produced, exit_when_idle=3, max_message_bytes=MAX_MESSAGE).start()
    code = proc.wait(SCALE.timeout(30))
    letters = bench.verify(produced) if code == 0 else []
    truncated = [x for x in letters if x.truncated_from is not None]
    record(
        Figures(
            "poison_corpus",
            produced.events,
            duration_s=time.monotonic() - started,
            extra={"poison": len(produced.poison), "truncated": len(truncated), "exit": code},
        ),
        SCALE.name,
    )
    assert code == 0, proc.tail()
    for letter in letters:
        where = (letter.partition, letter.offset)
        original = produced.values[where] or b""
        if produced.poison[where] in BIG:
            assert letter.truncated_from == len(original), (where, letter.truncated_from)
            assert 0 < len(letter.value) < DLQ_CAP
            assert original.startswith(letter.value)
        else:
            assert letter.truncated_from is None, where
            assert letter.value == original, where  # byte for byte
    assert {produced.poison[(x.partition, x.offset)] for x in truncated} == set(BIG)
