"""The production path, as the golden tests see it: inputs in, outcomes out.

This is the only module of tests/golden/ that knows how the ingest core is called. Today that
is `intake.Intake.take`, what the service does with each poll: the native core builds what it
can of the poll into runs of bulk entries, and the topic's `Transformer` (the Python path)
takes what it declines, one message at a time. A stand-in for the in-flight batches keeps
what Intake puts in the open batch instead of writing it. When the Rust core replaces both,
this module changes and nothing else here does: the golden files say what must come out, not
how.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from confluent_kafka import KafkaError, Message

from pipeline.ingest.indexer import Batch
from pipeline.ingest.intake import Intake
from pipeline.ingest.runs import expand
from pipeline.ingest.transform import DeadLetter, IndexAction
from tests.golden.records import Input, Outcome, profile

# Messages per poll after a topic's first: the service asks consume() for up to
# bulk_max_docs (2000) at a time; a few hundred exercise the same code in smaller pieces.
POLL = 256


class _Batches:
    """What Intake needs of InFlight: an open batch, and writers that are never busy. A
    submitted batch is kept, not written."""

    def __init__(self) -> None:
        self.open = Batch()
        self.submitted: list[Batch] = []

    def full(self) -> bool:
        return False

    def complete(self) -> bool:
        return False

    def submit(self) -> None:
        self.submitted.append(self.open)
        self.open = Batch()

    def take_all(self) -> list[Batch]:
        batches = [*self.submitted, self.open]
        self.submitted, self.open = [], Batch()
        return batches


def _kafka_error(error: KafkaError) -> None:
    raise AssertionError(f"no input is a Kafka error, got {error}")


def _message(item: Input) -> Message:
    # confluent-kafka reports a message without a timestamp as (TIMESTAMP_NOT_AVAILABLE, -1).
    stamp = (0, -1) if item.timestamp_ms < 0 else (1, item.timestamp_ms)
    return Message(
        topic=item.topic,
        partition=item.partition,
        offset=item.offset,
        key=item.key,
        value=item.value,
        timestamp=stamp,
    )


def _indexed(action: IndexAction) -> Outcome:
    head, _, _ = action.entry.partition(b"\n")
    ((_op, meta),) = json.loads(head).items()
    # json, not orjson: it reads any integer exactly, whatever its size.
    return {"index": meta["_index"], "id": meta["_id"], "document": json.loads(action.source)}


def _dead(letter: DeadLetter) -> Outcome:
    return {"dead_letter": {"stage": letter.stage, "reason": letter.reason}}


# The makers `outcomes` counts: documents the native core built (a whole poll's run, or one
# message when the Python path offered it once more), and what the native core declined and
# the Python path built instead. Every dead letter is a decline today (the native core makes
# none yet).
NATIVE, PYTHON_DOCUMENT, PYTHON_LETTER = "native", "python document", "python dead letter"


def _maker(outcome: IndexAction | DeadLetter) -> str:
    if isinstance(outcome, DeadLetter):
        return PYTHON_LETTER
    return NATIVE if outcome.native else PYTHON_DOCUMENT


def _polls(inputs: Sequence[Input]) -> Iterator[tuple[Any, list[int]]]:
    """Positions of the inputs grouped into polls: consecutive inputs read with the same
    settings on the same topic, without two of the same (topic, partition, offset) (outcomes
    are matched to inputs by that). A topic's first poll is its first message alone: the
    service meets a topic that way (the native core declines a topic it has not been told
    of, and the Python path tells it), and later polls then go through the native core's
    whole-poll path."""
    key: Any = None
    poll: list[int] = []
    seen: set[tuple[str, int, int]] = set()
    started: set[Any] = set()
    for position, item in enumerate(inputs):
        item_key = (tuple(profile(item.settings).items()), item.topic, item.topic_config)
        origin = (item.topic, item.partition, item.offset)
        if poll and (item_key != key or origin in seen or len(poll) >= POLL):
            yield key, poll
            poll, seen = [], set()
        key = item_key
        poll.append(position)
        seen.add(origin)
        if item_key not in started:
            started.add(item_key)
            yield key, poll
            poll, seen = [], set()
    if poll:
        yield key, poll


def outcomes(inputs: Sequence[Input], built: Counter[str] | None = None) -> list[Outcome]:
    """The outcome of each input through the path the service takes today, in input order:
    the document as Elasticsearch would receive it (its index, its `_id`, the document as
    parsed JSON) or the dead letter's stage and reason. Inputs are taken as polls (see
    `_polls`); every input must have an outcome.

    `built`, if given, counts who made each outcome (see `_maker`): issue 18 drives the
    Python path's share, the native core's declines, to 0."""
    intakes: dict[Any, tuple[Intake, _Batches]] = {}
    results: list[Outcome | None] = [None] * len(inputs)
    for key, positions in _polls(inputs):
        first = inputs[positions[0]]
        if key not in intakes:
            settings = replace(
                first.settings, topics={first.topic: first.topic_config}, native_core=True
            )
            batches = _Batches()
            intakes[key] = (Intake(settings, batches, _kafka_error), batches)  # type: ignore[arg-type]
        intake, batches = intakes[key]
        intake.take([_message(inputs[p]) for p in positions], first.ingested)
        made: dict[tuple[str, int, int], Outcome] = {}
        for batch in batches.take_all():
            for action in [*expand(batch.runs), *batch.actions]:
                made[(action.origin.topic, action.origin.partition, action.origin.offset)] = (
                    _indexed(action)
                )
                if built is not None:
                    built[_maker(action)] += 1
            for letter in batch.letters:
                made[(letter.origin.topic, letter.origin.partition, letter.origin.offset)] = _dead(
                    letter
                )
                if built is not None:
                    built[_maker(letter)] += 1
        for p in positions:
            item = inputs[p]
            outcome = made.pop((item.topic, item.partition, item.offset), None)
            assert outcome is not None, f"no outcome for {item.describe()}"
            results[p] = outcome
        assert not made, f"outcomes for no input: {sorted(made)}"
    return [outcome for outcome in results if outcome is not None]
