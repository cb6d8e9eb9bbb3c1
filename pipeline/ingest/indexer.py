"""Write one batch durably: documents into Elasticsearch, dead letters into Kafka.

`BatchWriter.write` returns only when every message of the batch is either acknowledged by
Elasticsearch or acknowledged by Kafka as a dead letter, retrying with capped, jittered backoff
for as long as it takes (the caller pauses consumption meanwhile). It gives up only when the
service is stopping, by raising `AbandonedError`: the batch's offsets are then never committed, and
the messages are read again by whoever consumes the partitions next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.ingest import bulk
from pipeline.ingest.deadletter import dlq_topic, headers
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.runs import Part, expand, per_topic
from pipeline.ingest.transform import DeadLetter, IndexAction

if TYPE_CHECKING:
    from pipeline.ingest._native import Run

log = logging.getLogger("edgewatch.ingest")


class AbandonedError(Exception):
    """The service is stopping; the batch was not (entirely) written."""


@dataclass
class Batch:
    """Consecutive messages of one consumer, written together."""

    runs: list[Run] = field(default_factory=list)  # documents the native core built
    actions: list[IndexAction] = field(default_factory=list)  # ... and the Python path
    letters: list[DeadLetter] = field(default_factory=list)
    last_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    size_bytes: int = 0
    run_documents: int = 0
    started: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return self.run_documents + len(self.actions) + len(self.letters)

    def add_run(self, run: Run) -> None:
        """Add the documents of one native run."""
        self.runs.append(run)
        self.run_documents += len(run)
        self.size_bytes += len(run.entry)

    def parts(self) -> list[Part]:
        """What the bulk requests carry, runs first."""
        return [*self.runs, *self.actions]


class BatchWriter:
    """Sends batches; safe to call from several worker threads at once."""

    def __init__(
        self,
        es: Elasticsearch,
        producer: Producer,
        metrics: IngestMetrics,
        *,
        op_type: str,
        dlq_suffix: str,
        backoff: bulk.Backoff,
        stopping: threading.Event,
        request_timeout: float = 60.0,
    ) -> None:
        self._es = es.options(request_timeout=request_timeout, max_retries=0)
        self._producer = producer
        self._metrics = metrics
        self._op_type = op_type
        self._dlq_suffix = dlq_suffix
        self._backoff = backoff
        self._stopping = stopping
        self.last_error: str | None = None  # for /readyz

    def write(self, batch: Batch) -> None:
        """Index the batch's documents and dead-letter what must be; see the module doc."""
        letters = list(batch.letters)
        letters.extend(self._index(batch.parts()))
        self._dead_letter(letters)
        for letter in letters:
            self._metrics.dead_lettered.labels(
                letter.origin.topic, letter.stage, letter.reason
            ).inc()

    # ------------------------------------------------------------------ Elasticsearch

    def _index(self, parts: Sequence[Part]) -> list[DeadLetter]:
        pending = parts
        rejected: list[DeadLetter] = []
        attempt = 0
        while pending:
            started = time.monotonic()
            try:
                response = self._es.bulk(
                    operations=bulk.body(pending),  # type: ignore[arg-type]
                    # Successful items then carry only their status: a much smaller answer
                    # to decode for every batch.
                    filter_path="errors,items.*.status,items.*.error",
                )
            except ApiError as err:
                if 400 <= err.meta.status < 500 and err.meta.status != 429:
                    # The request as a whole is refused (e.g. 413, too large): halve it until
                    # the one document to blame is alone, and dead-letter only that one.
                    return rejected + self._split(pending, err)
                self._wait(attempt, f"bulk request failed ({_cause(err)}): {err}", _cause(err))
                attempt += 1
                continue
            except TransportError as err:
                cause = _cause(err)
                self._wait(attempt, f"bulk request failed ({cause}): {err}", cause)
                attempt += 1
                continue
            self._metrics.bulk_seconds.observe(time.monotonic() - started)
            if not response["errors"]:  # the common case: skip looking at every item
                self._count_indexed(pending)
                self.last_error = None
                return rejected
            # Some documents failed: from here on, each is handled on its own.
            actions = expand(pending)
            outcomes = bulk.classify(response["items"], self._op_type)
            retry: list[IndexAction] = []
            self._count_indexed([a for a, o in zip(actions, outcomes, strict=True) if o.ok])
            for action, outcome in zip(actions, outcomes, strict=True):
                if outcome.ok:
                    continue
                if outcome.retry:
                    retry.append(action)
                else:
                    rejected.append(
                        DeadLetter(
                            action.origin,
                            action.value,
                            "index",
                            outcome.reason,
                            f"HTTP {outcome.status}: {outcome.detail}",
                        )
                    )
            if retry:
                status = {o.status for o in outcomes if o.retry}
                self._wait(
                    attempt,
                    f"{len(retry)} documents answered {sorted(status)}",
                    "rejected_429" if status == {429} else "server_error",
                )
                attempt += 1
            else:
                self.last_error = None
            pending = retry
        return rejected

    def _count_indexed(self, parts: Sequence[Part]) -> None:
        for topic, n in per_topic(parts).items():
            self._metrics.indexed.labels(topic).inc(n)

    def _split(self, parts: Sequence[Part], err: ApiError) -> list[DeadLetter]:
        actions = expand(parts)
        if len(actions) == 1:
            action = actions[0]
            reason = _cause(err) if err.meta.status >= 500 else f"http_{err.meta.status}"
            return [DeadLetter(action.origin, action.value, "index", reason, str(err)[:500])]
        middle = len(actions) // 2
        return self._index(actions[:middle]) + self._index(actions[middle:])

    def _wait(self, attempt: int, problem: str, cause: str) -> None:
        self.last_error = problem
        self._metrics.retries.labels(cause).inc()
        delay = self._backoff.delay(attempt)
        log.warning("elasticsearch: %s; retry %d in %.1f s", problem, attempt + 1, delay)
        if self._stopping.wait(delay):
            raise AbandonedError(problem)

    # ------------------------------------------------------------------ dead letters

    def _dead_letter(self, letters: list[DeadLetter]) -> None:
        pending = letters
        attempt = 0
        while pending:
            failed: list[tuple[DeadLetter, KafkaError]] = []
            now = datetime.now(UTC)
            for letter in pending:
                self._produce(letter, now, partial(_record_failure, failed, letter))
            remaining = self._producer.flush(30)
            if remaining:
                # Not even an answer: treat all of this round as failed (the idempotent
                # producer makes the resend safe for the ones that did land).
                failed = [(letter, KafkaError(KafkaError._TIMED_OUT)) for letter in pending]
            if not failed:
                return
            # A letter too large for the dead-letter topic is cut, not retried forever: its
            # headers say so, and the size it had.
            pending = [
                truncate(letter) if err.code() == KafkaError.MSG_SIZE_TOO_LARGE else letter
                for letter, err in failed
            ]
            if all(err.code() == KafkaError.MSG_SIZE_TOO_LARGE for _, err in failed):
                continue
            self._wait(
                attempt,
                f"{len(failed)} dead letters not acknowledged by Kafka ({failed[0][1].str()})",
                "dead_letter",
            )
            attempt += 1

    def _produce(self, letter: DeadLetter, now: datetime, on_delivery: DeliveryCallback) -> None:
        while True:
            try:
                self._producer.produce(
                    dlq_topic(letter.origin.topic, self._dlq_suffix),
                    value=letter.value,
                    key=letter.origin.key,
                    headers=headers(letter, now),
                    on_delivery=on_delivery,
                )
                return
            except BufferError:  # local queue full: let it drain
                self._producer.poll(0.5)
            except KafkaException as err:  # refused before sending, e.g. too large
                on_delivery(err.args[0], None)
                return


DeliveryCallback = Callable[[KafkaError | None, Message | None], None]

# At most this much is kept of a dead letter that the dead-letter topic refuses as too large.
TRUNCATED_BYTES = 512 * 1024


def truncate(letter: DeadLetter) -> DeadLetter:
    """The letter cut to at most TRUNCATED_BYTES, and to half its size each time the topic
    still refuses it, remembering the original size in a header."""
    keep = min(TRUNCATED_BYTES, len(letter.value) // 2)
    return replace(
        letter,
        value=letter.value[:keep],
        original_size=letter.original_size or len(letter.value),
    )


def _record_failure(
    failed: list[tuple[DeadLetter, KafkaError]],
    letter: DeadLetter,
    err: KafkaError | None,
    _msg: Message | None,
) -> None:
    if err is not None:
        failed.append((letter, err))


def _cause(err: Exception) -> str:
    status = getattr(getattr(err, "meta", None), "status", None)
    if status == 429:
        return "rejected_429"
    if isinstance(status, int) and status >= 500:
        return "server_error"
    return "connection"
