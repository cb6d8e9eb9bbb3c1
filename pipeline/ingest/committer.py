"""Commits for the ingest loop: what the tracker released (offsets and dead letters) goes to
Kafka in one transaction at a time (transaction.py), on a thread of its own, so a Kafka
outage never blocks the loop: metrics, health and the heartbeat keep going.

- One commit in flight; what the tracker releases meanwhile leaves with the next one.
- A commit that failed goes back to the tracker (its letters before any released since),
  except what concerns partitions revoked or lost since it started, even if they came back
  since: whoever owns them now reads those messages again from the last committed offset and
  writes their letters; putting them back too would write them twice.
- On revoke, when idle and at shutdown, `commit_now` waits for the answer, bounded.
- A commit whose librdkafka call never returns (transaction.py, `stuck`) is left behind on its
  daemon thread; the next goes through a fresh producer, and what the stuck one held is
  settled as if it had failed (or, if it was committing, by the group's offsets).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for

from confluent_kafka import Consumer, KafkaException, TopicPartition

from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.offsets import CommitTracker, Release
from pipeline.ingest.transaction import (
    STUCK_S,
    ClosingError,
    CommitFailedError,
    InDoubtError,
    Transactions,
    TransactionSetupError,
)

log = logging.getLogger("edgewatch.ingest")

TopicPartitionKey = tuple[str, int]
LANDED_TIMEOUT_S = 5.0  # asking the group's offsets after a commit in doubt


class Committer:
    """Main thread only (the transaction itself runs on the committer's thread)."""

    def __init__(
        self,
        transactions: Transactions,
        tracker: CommitTracker,
        consumer: Consumer,
        metrics: IngestMetrics,
        assigned: Callable[[], set[TopicPartitionKey]],
        closing: threading.Event,
    ) -> None:
        self.transactions = transactions
        self.tracker = tracker
        self.consumer = consumer
        self.metrics = metrics
        self._assigned = assigned
        self._closing = closing
        self._flight: tuple[Release, Future[None]] | None = None
        self.committed: dict[TopicPartitionKey, int] = {}  # highest committed, per partition
        self._gone: set[TopicPartitionKey] = set()  # let go of since the flight started
        self.problem: str | None = None  # a setting that cannot work: the service stops
        self.last_error: str | None = None  # why the last commit failed; None after a success

    def in_flight(self) -> Release | None:
        """The release being committed, if any."""
        return self._flight[0] if self._flight is not None else None

    def prepare(self) -> None:
        """Initialise the transactional producer in the background, as the first commit: call
        before the consumer joins the group (transaction.Transactions.prepare says why)."""
        if self._flight is None:
            self._flight = (Release(), _in_thread(self.transactions.prepare, Release(), None))

    def prepared(self) -> bool:
        """Whether `prepare` has finished, one way or another (a failure is the next commit's
        to retry; a call that hung was left behind)."""
        self._settle()
        return self._flight is None or bool(self._flight[0])

    def commit(self) -> None:
        """Settle the commit in flight if it finished; start the next if none is in flight.
        Never waits."""
        self._settle()
        if self._flight is not None or self.problem is not None:
            return
        release = self.tracker.take()
        if not release:
            return
        group = self.consumer.consumer_group_metadata()
        self._gone = set()
        self._flight = (release, _in_thread(self.transactions.commit, release, group))

    def commit_now(self, timeout: float) -> bool:
        """Commit everything released and wait, at most `timeout` seconds; True when nothing
        is left uncommitted."""
        deadline = time.monotonic() + timeout
        for _ in range(2):  # the commit in flight, then one with what it left
            self._wait(deadline)
            self.commit()
        self._wait(deadline)
        return self._flight is None and not self.tracker.pending()

    def forget(self, partitions: set[TopicPartitionKey]) -> None:
        """Partitions revoked or lost: what the commit in flight holds of them is not ours
        to put back if it fails."""
        self._gone |= partitions
        for tp in partitions:
            self.committed.pop(tp, None)

    def close(self) -> None:
        """Stop: a commit still under way is left to Kafka (the transaction is aborted or,
        when it was committing, completed: either way atomic)."""
        self._closing.set()
        self.transactions.close()

    # ------------------------------------------------------------------ answers

    def _wait(self, deadline: float) -> None:
        if self._flight is not None:
            wait_for([self._flight[1]], max(0.0, deadline - time.monotonic()))
        self._settle()

    def _settle(self) -> None:
        if self._flight is None:
            return
        if not self._flight[1].done():
            if self.transactions.stuck(time.monotonic()):
                self._leave_stuck()
            return
        release, future = self._flight
        self._flight = None
        error = future.exception()
        if error is None or (isinstance(error, InDoubtError) and self._landed(release)):
            self._succeeded(release)
        elif isinstance(error, TransactionSetupError):
            self.problem = str(error)
        elif isinstance(error, ClosingError):
            pass  # the service is stopping: whatever is left is read again next time
        elif isinstance(error, CommitFailedError | InDoubtError | KafkaException):
            self._failed(release, str(error))
        else:
            raise error

    def _leave_stuck(self) -> None:
        assert self._flight is not None
        release, _future = self._flight
        self._flight = None
        stuck, self.transactions = self.transactions, self.transactions.abandon()
        log.error(
            "kafka: a transactional call has not returned for %.0f s (a librdkafka bug after "
            "coordinator outages); going on with a new producer",
            STUCK_S,
        )
        if stuck.committing and self._landed(release):
            self._succeeded(release)
        else:
            self._failed(release, "the producer hung")

    def _succeeded(self, release: Release) -> None:
        if not release:
            return  # prepare()
        for tp, off in release.offsets.items():
            self.committed[tp] = max(self.committed.get(tp, -1), off)
        for letter in release.letters:
            self.metrics.dead_lettered.labels(
                letter.origin.topic, letter.stage, letter.reason
            ).inc()
        self.metrics.commits.inc()
        if self.last_error is not None:
            log.info("kafka: committing again")
        self.last_error = None

    def _failed(self, release: Release, why: str) -> None:
        mine, _theirs = release.split(self._assigned() - self._gone)
        # Never move an offset back behind one a later commit made (none can, with one commit
        # at a time; cheap to be sure).
        mine.offsets = {
            tp: off for tp, off in mine.offsets.items() if off > self.committed.get(tp, -1)
        }
        self.tracker.restore(mine)
        self.last_error = why
        self.metrics.commit_failures.inc()
        log.warning("kafka: commit failed (%s); retrying with the next one", why)

    def _landed(self, release: Release) -> bool:
        """After a commit in doubt: whether the group's committed offsets show it landed
        (offsets and letters are one transaction, so they tell for the letters too). When
        Kafka does not say, assume not: writing a letter twice beats losing it."""
        parts = [TopicPartition(t, p) for t, p in release.offsets]
        if not parts:
            return False
        try:
            found = self.consumer.committed(parts, timeout=LANDED_TIMEOUT_S)
        except KafkaException:
            return False
        return all(tp.offset >= release.offsets[(tp.topic, tp.partition)] for tp in found)


def _in_thread(
    work: Callable[[Release, object], None], release: Release, group: object
) -> Future[None]:
    """Run `work` on a daemon thread of its own (one that may never return must not hold up
    the next commit, or the process's exit)."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            work(release, group)
        except BaseException as err:  # handed to the main thread, which decides
            future.set_exception(err)
        else:
            future.set_result(None)

    threading.Thread(target=run, name="commit", daemon=True).start()
    return future
