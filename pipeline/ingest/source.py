"""The Kafka side of ingest: group membership, pausing, offset commits, and what librdkafka
reports about the connection.

- Static membership (`ingest.instance_id`, librdkafka's `group.instance.id`) and the
  cooperative-sticky assignor: a member restarted within the session timeout gets its own
  partitions back at once, and a rolling restart moves nothing.
- Offsets are committed with their dead letters in Kafka transactions, one at a time, on a
  thread of their own (committer.py, transaction.py): a Kafka outage never blocks the loop.
- On revoke and at shutdown the commit waits for its answer, bounded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest.committer import Committer
from pipeline.ingest.health import KafkaHealth, read_stats
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.offsets import CommitTracker
from pipeline.ingest.transaction import Transactions

log = logging.getLogger("edgewatch.ingest")

TopicPartitionKey = tuple[str, int]
WATERMARK_TIMEOUT_S = 1.0
_AUTHORIZATION_ERRORS = (
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
)


class SetupError(Exception):
    """The service cannot start (or go on) for a reason only the operator can fix."""


class KafkaSource:
    """One consumer-group member's consumer. Main thread only, except `health`, which the
    status server reads."""

    def __init__(
        self,
        config: Config,
        group: str,
        instance_id: str | None,
        metrics: IngestMetrics,
        tracker: CommitTracker,
        watch: kafka_client.ErrorWatch,
        before_revoke: Callable[[], None],
        before_lost: Callable[[], None],
        transactions: Transactions,
        closing: threading.Event,
    ) -> None:
        self.config = config
        self.settings = config.ingest
        self.group = group
        self.instance_id = instance_id
        self.metrics = metrics
        self.tracker = tracker
        self.watch = watch
        self.health = KafkaHealth()
        self.assigned: set[TopicPartitionKey] = set()
        self.assigned_at = 0.0
        self.closing = False
        self._before_revoke = before_revoke
        self._before_lost = before_lost
        self._paused: set[TopicPartitionKey] = set()
        self._subscription: list[str] | None = None  # to join with, once prepared
        self._fresh: set[TopicPartitionKey] = set()  # assigned since the last hold()
        self.fetch_states: dict[str, int] = {}  # assigned partitions per fetch state
        # Messages not yet written and committed, per assigned partition (`partition_lag`).
        self.lags: dict[TopicPartitionKey, int] = {}
        self.fenced: str | None = None  # why Kafka shut this member out, if it did
        self.consumer = kafka_client.consumer(
            config.kafka, group, watch, **self._overrides(instance_id)
        )
        self.committer = Committer(
            transactions, tracker, self.consumer, metrics, lambda: self.assigned, closing
        )

    def _overrides(self, instance_id: str | None) -> dict[str, Any]:
        session_s = self.settings.session_timeout_s
        if session_s is None:
            # A static member is expected back after a restart: wait for it that long.
            session_s = 45.0 if instance_id else 10.0
        out: dict[str, Any] = {
            "enable.auto.offset.store": False,
            "statistics.interval.ms": 2000,
            "stats_cb": self._on_stats,
            "error_cb": self._on_error,
            # Stable offsets only (KIP-447): a partition whose previous owner's commit is
            # still open is started once that transaction is over, so its letters are not
            # written twice. A restarted static member never waits for its own previous life:
            # it joins only after its producer's initialisation ended that (`_join`; joining
            # earlier, a restart after a SIGKILL mid-commit sat for minutes in the fault suite).
            "isolation.level": "read_committed",
            "session.timeout.ms": int(session_s * 1000),
            "heartbeat.interval.ms": 1000,
            "fetch.max.bytes": 16 * 1024 * 1024,
            "partition.assignment.strategy": "cooperative-sticky",
        }
        if instance_id:
            out["group.instance.id"] = instance_id
        return out

    def subscribe(self, topics: tuple[str, ...], pattern: str | None) -> list[str]:
        """The subscription to the topics and the pattern, as librdkafka will see it. The
        consumer joins the group once the transactional producer is initialised (`check`)."""
        self.committer.prepare()
        subscription = list(topics)
        if pattern:
            subscription.append("^" + pattern.removeprefix("^"))
        self._subscription = subscription
        return subscription

    def _join(self) -> None:
        """Join the group, once the producer's initialisation has finished. For a static
        member that initialisation settles whatever its previous life's transaction left
        (committed or aborted, and the group's offsets written): joining before it, the
        consumer could start from offsets that transaction was about to move on, and write
        its dead letters again."""
        if self._subscription is None or not self.committer.prepared():
            return
        self.consumer.subscribe(
            self._subscription,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        self._subscription = None

    # ------------------------------------------------------------------ errors

    def _on_error(self, error: KafkaError) -> None:
        self.watch(error)
        self.health.on_error(error, time.monotonic())
        if error.code() == KafkaError.FENCED_INSTANCE_ID:
            self.fenced = (
                f"another process joined group {self.group!r} with instance id "
                f"{self.instance_id!r}, and Kafka fenced this one: give each ingest process "
                "its own ingest.instance_id (EDGEWATCH_INGEST_INSTANCE_ID, --instance-id)"
            )

    def check(self) -> None:
        """Join the group when it is time (`_join`); raise SetupError if Kafka said something
        retrying cannot fix."""
        self._join()
        if self.fenced is not None:
            raise SetupError(self.fenced)
        if self.watch.problem is not None:
            raise SetupError(self.watch.problem.message)
        if self.committer.problem is not None:
            raise SetupError(self.committer.problem)

    def message_error(self, error: KafkaError) -> None:
        """An error consume() returned in place of a message."""
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise KafkaException(error)
        if error.code() in _AUTHORIZATION_ERRORS:
            # Retrying cannot help: the user lacks an ACL. Say which, and where the list is.
            raise SetupError(
                f"Kafka refused user {self.config.kafka.sasl_username or 'ANONYMOUS'!r}: "
                f"{error.str()}. Grant the ACLs docs/operations.md lists for ingest (READ on "
                f"the log topics and the group {self.group!r}, WRITE on "
                f"<topic>{self.settings.dlq_suffix})"
            )
        log.warning("kafka: %s", error)

    # ------------------------------------------------------------------ backpressure

    def hold(self, hold: bool) -> None:
        """Pause every assigned partition (`hold`), or resume them. Partitions assigned
        since the last call are paused or resumed explicitly either way: librdkafka keeps a
        partition's pause through a revoke or loss and a later assignment back to us."""
        fresh, self._fresh = self._fresh & self.assigned, set()
        if hold:
            new = self.assigned - self._paused
            if new:
                self.consumer.pause([TopicPartition(t, p) for t, p in new])
                self._paused |= new
        else:
            mine = (self._paused & self.assigned) | fresh
            if mine:
                self.consumer.resume([TopicPartition(t, p) for t, p in mine])
            self._paused.clear()
        self.metrics.paused.set(1 if self._paused else 0)

    @property
    def paused(self) -> bool:
        return bool(self._paused)

    # ------------------------------------------------------------------ commits

    def commit(self) -> None:
        """Commit what the tracker released (committer.py); never waits."""
        self.committer.commit()

    def commit_now(self, timeout: float = 10.0) -> bool:
        """Commit what the tracker released and wait, at most `timeout` seconds; True when
        nothing is left uncommitted."""
        return self.committer.commit_now(timeout)

    # ------------------------------------------------------------------ caught up?

    def behind(self) -> dict[TopicPartitionKey, int] | None:
        """Per assigned partition, messages between our position and the high watermark,
        asked of the broker (bounded); None when it does not answer."""
        tps = [TopicPartition(t, p) for t, p in sorted(self.assigned)]
        if not tps:
            return {}
        out = {}
        try:
            positions = self.consumer.position(tps)
            for tp in positions:
                low, high = self.consumer.get_watermark_offsets(
                    tp, timeout=WATERMARK_TIMEOUT_S, cached=False
                )
                key = (tp.topic, tp.partition)
                at = tp.offset
                if at < 0:  # nothing read since assignment: where the group left off
                    at = self.committer.committed.get(key, -1)
                if at < 0:
                    (committed,) = self.consumer.committed([tp], timeout=WATERMARK_TIMEOUT_S)
                    at = committed.offset if committed.offset >= 0 else low
                out[key] = max(0, high - at)
        except KafkaException:
            return None
        return out

    # ------------------------------------------------------------------ rebalances

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assigned.update((tp.topic, tp.partition) for tp in partitions)
        self._fresh.update((tp.topic, tp.partition) for tp in partitions)
        self.assigned_at = time.monotonic()
        log.info("assigned %s", _names(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        if not revoked:
            return  # cooperative rebalancing calls this with nothing to give up
        log.info("revoked %s: writing and committing what was read", _names(partitions))
        # While closing, the service has written and committed what it could already.
        if not self.closing:
            self._before_revoke()
            if not self.committer.commit_now(min(10.0, self.settings.shutdown_timeout_s)):
                log.warning("the last commit did not go through: those messages are read again")
        self._let_go(revoked)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning(
            "lost %s (session expired): their uncommitted messages will be read again",
            _names(partitions),
        )
        self._before_lost()
        self._let_go({(tp.topic, tp.partition) for tp in partitions})

    def _let_go(self, partitions: set[TopicPartitionKey]) -> None:
        self.tracker.forget(partitions)
        self.committer.forget(partitions)
        self.assigned -= partitions
        self._paused -= partitions
        for topic, partition in partitions:
            self.lags.pop((topic, partition), None)
            with contextlib.suppress(KeyError):  # never reported
                self.metrics.lag.remove(topic, str(partition))

    # ------------------------------------------------------------------ statistics

    def _on_stats(self, stats_json: str) -> None:
        stats = json.loads(stats_json)
        fetching: Counter[str] = Counter()
        self.health.on_stats(read_stats(stats, self.assigned, time.monotonic()))
        for topic, info in stats.get("topics", {}).items():
            for partition, p in info.get("partitions", {}).items():
                key = (topic, int(partition)) if partition != "-1" else None
                if key is None or key not in self.assigned:
                    continue
                lag = partition_lag(p, self.committer.committed.get(key))
                if lag is not None:
                    self.metrics.lag.labels(topic, partition).set(lag)
                    self.lags[key] = lag
                fetching[p.get("fetch_state", "?")] += 1
        self.fetch_states = dict(fetching)

    def not_fetching(self) -> str | None:
        """librdkafka's fetch states of the assigned partitions when some are not `active`
        (e.g. still asking for their committed offsets), for the progress line; else None."""
        states = self.fetch_states
        if not states or set(states) == {"active"}:
            return None
        return "fetch states " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))

    def close(self) -> None:
        """Leave the group (a static member does not: it is expected back)."""
        self.closing = True  # the revoke during close() must not wait for anything again
        self.consumer.close()
        self.committer.close()


def partition_lag(stats: dict[str, Any], committed: int | None) -> int | None:
    """Messages of one partition not yet written and committed: from its end (librdkafka's
    statistics) to `committed`, the next offset this member committed, else the group's
    offset found at assignment, else (a group that never committed, reading from the
    earliest) the partition's start; None while those are unknown.

    Not librdkafka's `consumer_lag`: that counts from offsets the consumer itself commits, and
    ours go through the producer's transaction with the dead letters, which it never sees
    (it stays -1, or at the offset found at assignment)."""
    end = int(stats.get("ls_offset", -1))  # read_committed: the last stable offset
    if end < 0:
        end = int(stats.get("hi_offset", -1))
    done = committed if committed is not None else int(stats.get("committed_offset", -1))
    if done < 0:
        done = int(stats.get("lo_offset", -1))
    if end < 0 or done < 0:
        return None
    return max(0, end - done)


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
