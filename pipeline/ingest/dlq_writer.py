"""Write a batch's dead letters to Kafka, durably: each acknowledged by the broker.

The producer is idempotent and waits for every replica (clients/kafka.py); this adds what
the broker cannot decide for us:

- A letter too large for its dead-letter topic (the topic's `max.message.bytes`) is cut to a
  prefix the topic takes, remembering the original size in a header, instead of being retried
  for ever. The broker refuses a whole record batch for one such letter, so every letter
  that came back too large is first tried alone: only one refused on its own is cut.
- Anything else (Kafka unreachable, not acknowledged in time) is retried with backoff until
  it is acknowledged or the service stops; waits check `stopping` often, so a stop never
  waits out a 30 s flush.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from pipeline.ingest import bulk
from pipeline.ingest.deadletter import dlq_topic, headers
from pipeline.ingest.transform import DeadLetter

log = logging.getLogger("edgewatch.ingest")

FLUSH_S = 30.0  # a round of letters not acknowledged within this long is sent again
_SLICE_S = 0.5  # ... and `stopping` is looked at this often meanwhile
# At most this much is kept of a dead letter that the dead-letter topic refuses as too large.
TRUNCATED_BYTES = 512 * 1024

DeliveryCallback = Callable[[KafkaError | None, Message | None], None]
Failed = list[tuple[DeadLetter, KafkaError]]


class AbandonedError(Exception):
    """The service is stopping; the batch (its documents or its letters) was not entirely
    written. Its offsets are never committed: whoever reads the partition next reads it
    again."""


class DeadLetterWriter:
    """Produces dead letters; safe to call from several writer threads at once."""

    def __init__(
        self,
        producer: Producer,
        *,
        dlq_suffix: str,
        backoff: bulk.Backoff,
        stopping: threading.Event,
        report: Callable[[str], None],
    ) -> None:
        self._producer = producer
        self._dlq_suffix = dlq_suffix
        self._backoff = backoff
        self._stopping = stopping
        self._report = report  # what went wrong, for /readyz, the metrics, the progress line

    def write(self, letters: list[DeadLetter]) -> None:
        """Return once every letter is acknowledged; raise Abandoned if stopped first."""
        pending = letters
        attempt = 0
        while pending:
            failed = self._round(pending)
            if not failed:
                return
            too_large = [letter for letter, err in failed if _too_large(err)]
            if len(too_large) > 1:  # maybe refused for one of them: each on its own
                failed = [f for f in failed if not _too_large(f[1])]
                failed += [f for letter in too_large for f in self._round([letter])]
            pending = [truncate(letter) if _too_large(err) else letter for letter, err in failed]
            if all(_too_large(err) for _, err in failed):
                continue
            problem = f"{len(failed)} dead letters not acknowledged ({failed[0][1].str()})"
            self._report(problem)
            delay = self._backoff.delay(attempt)
            log.warning("kafka: %s; retry %d in %.1f s", problem, attempt + 1, delay)
            if self._stopping.wait(delay):
                raise AbandonedError(problem)
            attempt += 1

    def _round(self, letters: list[DeadLetter]) -> Failed:
        """Produce the letters and wait for the broker's answers; the failures."""
        failed: Failed = []
        now = datetime.now(UTC)
        for letter in letters:
            self._produce(letter, now, partial(_record_failure, failed, letter))
        deadline = time.monotonic() + FLUSH_S
        remaining = self._producer.flush(_SLICE_S)
        while remaining and time.monotonic() < deadline:
            if self._stopping.is_set():
                raise AbandonedError(f"{remaining} dead letters not acknowledged yet")
            remaining = self._producer.flush(_SLICE_S)
        if remaining:
            # Not even an answer: this whole round is sent again. (Whatever of it did land
            # is then there twice: the idempotent producer dedups only its own retries.)
            return [(letter, KafkaError(KafkaError._TIMED_OUT)) for letter in letters]
        return failed

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


def truncate(letter: DeadLetter) -> DeadLetter:
    """The letter cut to at most TRUNCATED_BYTES, and to half its size each time the topic
    still refuses it, remembering the original size in a header."""
    if letter.value is None:  # a tombstone: nothing to cut
        return letter
    keep = min(TRUNCATED_BYTES, len(letter.value) // 2)
    return replace(
        letter,
        value=letter.value[:keep],
        original_size=letter.original_size or len(letter.value),
    )


def _too_large(err: KafkaError) -> bool:
    return bool(err.code() == KafkaError.MSG_SIZE_TOO_LARGE)


def _record_failure(
    failed: Failed, letter: DeadLetter, err: KafkaError | None, _msg: Message | None
) -> None:
    if err is not None:
        failed.append((letter, err))
