"""Commit a release in one Kafka transaction: its dead letters produced and its offsets
committed for the consumer group, both or neither.

Before this, letters were produced first and their offsets committed after: a crash, a
SIGSTOP past the session timeout or a Kafka cut between the two made the next reader write
them again. Inside a transaction (KIP-98), a reader with `isolation.level=read_committed`
sees a letter exactly when its offset is committed.

- The transactional id is `<group>.<instance_id>` for a static member, so a restarted member
  aborts at once whatever its previous life left open (`init_transactions`, called before
  the consumer joins: `prepare`); without an instance id it is `<group>.<random>`, and Kafka
  aborts a transaction a crash left open after TXN_TIMEOUT_S. Zombies (a member that lost
  its partitions) are fenced by the group generation sent with the offsets (KIP-447), not by
  the id.
- A letter too large for its dead-letter topic (the topic's `max.message.bytes`) is cut to a
  prefix the topic takes, remembering the original size in a header. The broker refuses a
  whole record batch for one such letter, so when several came back too large each is then
  produced alone (flushed on its own): only one refused on its own is cut.
- A commit that did not answer is asked again, never aborted and redone: it may have
  committed. A commit whose outcome is lost for good (the producer failed fatally meanwhile)
  is `InDoubtError`; the group's committed offsets then tell (committer.py).
- Every blocking call is given a timeout, yet librdkafka can block past it for good after a
  coordinator outage (`send_offsets_to_transaction`, librdkafka issues 5456 and 5511, open
  in 2.16). `stuck()` says when a call has not returned for STUCK_S; the committer then
  `abandon()`s this object, thread and all, and commits through a new one with the same
  transactional id, whose `init_transactions` fences the stuck producer.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer, TopicPartition

from pipeline.ingest.actions import DeadLetter
from pipeline.ingest.deadletter import dlq_topic, headers
from pipeline.ingest.offsets import Release

log = logging.getLogger("edgewatch.ingest")

# Kafka aborts a transaction left open this long. A crashed member without an instance id
# (random transactional id) holds its partitions' next reader up to this long; ours take well
# under a second, and one that outlives this (a Kafka cut) is aborted and done again.
TXN_TIMEOUT_S = 30
CALL_S = 1.0  # a blocking call waits this long before `closing` is looked at again
SLOW_CALL_S = 10.0  # a call still unanswered after this long is logged, then every as long
RETRIES_IN_COMMIT = 2  # a failed attempt is tried again at once this often, then reported
STUCK_S = 15.0  # a call given CALL_S that has not returned after this long never will
# At most this much is kept of a dead letter that the dead-letter topic refuses as too large.
TRUNCATED_BYTES = 512 * 1024
_FENCED = (KafkaError._FENCED, KafkaError.PRODUCER_FENCED)
_REFUSED = (
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
)


class CommitFailedError(Exception):
    """Nothing of the release is committed: it may (must) be committed again."""


class InDoubtError(Exception):
    """The commit's outcome is unknown (the producer failed while committing)."""


class ClosingError(Exception):
    """The service is going away; whatever the transaction left is Kafka's to finish."""


class TransactionSetupError(Exception):
    """Transactions cannot work with these settings (an ACL, a fenced id): retrying will not
    help. The message names the fix."""


def transactional_id(group: str, instance_id: str | None) -> str:
    """The producer's transactional id: stable for a static member, else unique."""
    return f"{group}.{instance_id or uuid.uuid4().hex}"


class Transactions:
    """One transactional producer; one transaction at a time, from one thread."""

    def __init__(
        self,
        make_producer: Callable[[dict[str, Any]], Producer],
        txn_id: str,
        *,
        dlq_suffix: str,
        closing: threading.Event,
    ) -> None:
        self._make = make_producer
        self.txn_id = txn_id
        self._dlq_suffix = dlq_suffix
        self._closing = closing
        self._producer: Producer | None = None
        self._abandoned = False
        self._in_call_since: float | None = None  # a librdkafka call under way since then
        self.committing = False  # commit_transaction was called: the outcome may be "yes"

    def commit(self, release: Release, group: object) -> None:
        """Produce the release's letters and commit its offsets for `group` (the consumer's
        group metadata) atomically. Letters refused as too large are cut in `release`.
        Raises CommitFailedError, InDoubtError, ClosingError or TransactionSetupError."""
        self.committing = False
        solo: set[int] = set()
        again = 0  # attempts in a row that failed for another reason than size
        while True:
            producer = self._ready()
            failed = self._attempt(producer, release, group, solo)
            if not failed:
                return
            for err in failed.values():
                if err.code() in _REFUSED:
                    raise TransactionSetupError(_refused_message(self.txn_id, err))
            too_large = [i for i, err in failed.items() if i >= 0 and _too_large(err)]
            if not too_large:
                # After a refused record batch, librdkafka fails the next transaction's first
                # letter once more (skipped sequence numbers: its abort bumps the epoch).
                again += 1
                if again <= RETRIES_IN_COMMIT:
                    continue
                first = next(iter(failed.values()))
                raise CommitFailedError(f"{len(failed)} dead letters not written ({first.str()})")
            again = 0
            if len(too_large) == 1 or set(too_large) <= solo:  # refused on its own: cut it
                for i in too_large:
                    release.letters[i] = truncate(release.letters[i])
                    solo.add(i)  # ... and keep it alone while it is cut further
            else:  # maybe refused for one of them: each on its own next time
                solo.update(too_large)

    def prepare(self, _release: Release, _group: object) -> None:
        """Initialise transactions now (the signature of `commit`, to run where it runs): this
        aborts at once what an earlier process with this id left open, whose offsets would
        otherwise hold up this consumer's first fetch until Kafka times that transaction out."""
        self._ready()

    def close(self) -> None:
        """Let go of the producer (an open transaction is aborted by Kafka, or by the next
        process with this id)."""
        self._producer = None

    def stuck(self, now: float) -> bool:
        """A librdkafka call has not returned for STUCK_S (see the module doc)."""
        since = self._in_call_since
        return since is not None and now - since > STUCK_S

    def abandon(self) -> Transactions:
        """Give up on this object (its thread stops at its next chance, and never commits
        after this); a fresh one with the same transactional id, to commit through."""
        self._abandoned = True
        return Transactions(
            self._make, self.txn_id, dlq_suffix=self._dlq_suffix, closing=self._closing
        )

    # ------------------------------------------------------------------ one attempt

    def _attempt(
        self, producer: Producer, release: Release, group: object, solo: set[int]
    ) -> dict[int, KafkaError]:
        """One transaction; the letters that failed (index: error) when it was aborted."""
        failed: dict[int, KafkaError] = {}
        self._call(producer.begin_transaction)
        try:
            now = datetime.now(UTC)
            for i, letter in enumerate(release.letters):
                if i in solo:  # a record batch of its own: send what came before first
                    self._flush(producer)
                self._produce(producer, letter, now, partial(_note, failed, i))
                if i in solo:
                    self._flush(producer)
                if failed:
                    raise KafkaException(next(iter(failed.values())))
            # Every letter's answer before the offsets go: a refused one is named here.
            self._flush(producer)
            if failed:
                raise KafkaException(next(iter(failed.values())))
            if release.offsets:
                offsets = [TopicPartition(t, p, o) for (t, p), o in release.offsets.items()]
                self._call(producer.send_offsets_to_transaction, offsets, group, CALL_S)
        except KafkaException as err:
            self._abort(producer, err.args[0])
            return failed or {-1: err.args[0]}
        self._check_closing()  # an abandoned object must not commit
        self.committing = True
        try:
            self._call(producer.commit_transaction, CALL_S, committing=True)
        except KafkaException as err:
            self._abort(producer, err.args[0])
            return failed or {-1: err.args[0]}
        return {}

    def _produce(
        self,
        producer: Producer,
        letter: DeadLetter,
        now: datetime,
        on_delivery: Callable[[KafkaError | None, Message | None], None],
    ) -> None:
        while True:
            try:
                producer.produce(
                    dlq_topic(letter.origin.topic, self._dlq_suffix),
                    value=letter.value,
                    key=letter.origin.key,
                    headers=headers(letter, now),
                    on_delivery=on_delivery,
                )
                return
            except BufferError:  # local queue full: let it drain
                producer.poll(CALL_S)
                self._check_closing()
            except KafkaException as err:
                if err.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                    raise
                on_delivery(err.args[0], None)  # refused before sending: larger than ours
                return

    def _flush(self, producer: Producer) -> None:
        started = time.monotonic()
        next_note = started + SLOW_CALL_S
        while remaining := self._timed(producer.flush, CALL_S):
            self._check_closing()
            if time.monotonic() >= next_note:
                next_note += SLOW_CALL_S
                waited = time.monotonic() - started
                log.warning("kafka: %d dead letters unacknowledged for %.0f s", remaining, waited)

    # ------------------------------------------------------------------ the producer's states

    def _ready(self) -> Producer:
        """The producer, its transactions initialised (which aborts what an earlier producer
        with this id left open, or completes its commit)."""
        if self._producer is None:
            producer = self._make(
                {"transactional.id": self.txn_id, "transaction.timeout.ms": TXN_TIMEOUT_S * 1000}
            )
            self._call(producer.init_transactions, CALL_S)
            self._producer = producer
        return self._producer

    def _call(self, method: Callable[..., Any], *args: Any, committing: bool = False) -> None:
        """Call a blocking transactional method, again while it times out (the documented
        way to wait longer), until it answers. Fatal errors end this producer."""
        started = time.monotonic()
        next_note = started + SLOW_CALL_S
        while True:
            try:
                self._timed(method, *args)
                return
            except KafkaException as err:
                error: KafkaError = err.args[0]
                if time.monotonic() >= next_note:
                    next_note += SLOW_CALL_S
                    log.warning(
                        "kafka: %s unanswered for %.0f s (%s); still trying",
                        method.__name__,
                        time.monotonic() - started,
                        error.str(),
                    )
                if error.code() in _REFUSED:
                    self._producer = None
                    raise TransactionSetupError(_refused_message(self.txn_id, error)) from None
                if error.fatal():
                    self._producer = None
                    self._fatal(error, committing)
                if not error.retriable() or error.txn_requires_abort():
                    raise
            self._check_closing(committing)

    def _abort(self, producer: Producer, why: KafkaError) -> None:
        log.debug("kafka: aborting a transaction: %s", why.str())
        if self._producer is not producer:
            return  # failed fatally: the next producer's init_transactions aborts it
        self._call(producer.abort_transaction, CALL_S)

    def _fatal(self, error: KafkaError, committing: bool) -> None:
        if error.code() in _FENCED:
            raise TransactionSetupError(
                f"Kafka fenced the dead-letter producer (transactional id {self.txn_id!r}): "
                "another ingest process runs with the same ingest.instance_id; give each its "
                "own (EDGEWATCH_INGEST_INSTANCE_ID, --instance-id)"
            )
        log.warning("kafka: the dead-letter producer failed (%s); starting a new one", error.str())
        if committing:
            raise InDoubtError(error.str())
        raise CommitFailedError(error.str())

    def _timed(self, method: Callable[..., Any], *args: Any) -> Any:
        """Call a librdkafka method, watched by `stuck`."""
        self._in_call_since = time.monotonic()
        try:
            return method(*args)
        finally:
            self._in_call_since = None

    def _check_closing(self, committing: bool = False) -> None:
        if self._closing.is_set() or self._abandoned:
            raise ClosingError("the commit was under way" if committing else "stopping")


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


def _refused_message(txn_id: str, error: KafkaError) -> str:
    if error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
        grant = "WRITE and DESCRIBE on the dead-letter topics (<topic>.dlq)"
    elif error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
        grant = "READ on the consumer group"
    else:
        grant = f"WRITE and DESCRIBE on TransactionalId {txn_id.rsplit('.', 1)[0]}. (prefixed)"
    return (
        f"Kafka refused the dead-letter transaction ({error.str()}): grant {grant} to "
        "ingest's user, as docs/operations.md lists"
    )


def _too_large(err: KafkaError) -> bool:
    return bool(err.code() == KafkaError.MSG_SIZE_TOO_LARGE)


def _note(
    failed: dict[int, KafkaError], index: int, err: KafkaError | None, _msg: Message | None
) -> None:
    if err is not None:
        failed[index] = err
