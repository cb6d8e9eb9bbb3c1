"""Group membership for several `edgewatch alert` processes (issue 21): which rules this one owns.

Every member joins one Kafka consumer group subscribed to a control topic that nothing is ever
written to; the partitions the group coordinator assigns it are the rules it owns
(ownership.py maps a rule to its partition). Kafka's coordinator is already a proven
consensus, and Kafka is already required, so no lease protocol of our own is needed.

- cooperative-sticky: a join or a leave moves only the partitions it must, so rules that stay
  put keep running undisturbed.
- A thread of its own polls the consumer: heartbeats and rebalances go on whatever the
  scheduler is doing, and a member that stops polling is one that is really gone.
- `stop()` leaves the group (close), so the others take its partitions at once; a member that
  dies without leaving is dropped after `session.timeout.ms`.
- Partitions lost without a revocation (session expired: this member was presumed dead) are
  reported as lost like revoked ones: another member may already be running those rules.

Not yet used by the alert service.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

from pipeline.alerting.ownership import PARTITIONS, partition_of
from pipeline.clients import kafka as kafka_client
from pipeline.config import KafkaConfig

log = logging.getLogger("edgewatch.alert.group")

CONTROL_TOPIC = "edgewatch-alert-control"
POLL_S = 0.2  # how long one poll waits; also how soon `stop()` is noticed

OnChange = Callable[[set[int], set[int]], None]


def group_name(state_index: str) -> str:
    """The group of the members sharing `state_index`: the same rules and Elasticsearch state,
    so they form one group with no setting to add."""
    return f"edgewatch-alert-{state_index}"


def ensure_topic(
    config: KafkaConfig,
    topic: str = CONTROL_TOPIC,
    *,
    partitions: int = PARTITIONS,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> None:
    """Create the control topic unless it exists. Its partition count is the ownership map's
    modulus: an existing topic with another count is an error, since members would then
    disagree with the rules' partitions."""
    client = kafka_client.admin(config)
    # Metadata of every topic: asking for this one alone would let a broker with
    # auto.create.topics.enable make it, with its default partition count.
    existing = client.list_topics(timeout=timeout_s).topics.get(topic)
    if existing is None or existing.error is not None:
        future = client.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor)]
        )[topic]
        try:
            future.result(timeout=timeout_s)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            # another member created it meanwhile
        existing = client.list_topics(timeout=timeout_s).topics.get(topic)
    count = len(existing.partitions) if existing is not None else 0
    if count != partitions:
        raise ValueError(
            f"control topic {topic!r} has {count} partitions, the rules are spread over "
            f"{partitions}: delete it, or use a topic with {partitions} partitions"
        )


class AlertGroup:
    """This process's membership of the alert group and the control-topic partitions it owns.

    `on_change(gained, lost)` runs on the poll thread after each change of ownership; it must
    be quick (the thread heartbeats), and it must stop running lost rules at once."""

    def __init__(
        self,
        config: KafkaConfig,
        state_index: str,
        *,
        on_change: OnChange | None = None,
        group: str | None = None,
        topic: str = CONTROL_TOPIC,
        partitions: int = PARTITIONS,
        replication_factor: int = 1,
        session_timeout_s: float = 10.0,
        instance_id: str | None = None,
    ) -> None:
        self.config = config
        self.group = group or group_name(state_index)
        self.topic = topic
        self.partitions = partitions
        self.replication_factor = replication_factor
        self._on_change = on_change
        self._owned: frozenset[int] = frozenset()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        # Heartbeats a third of the session apart (1-3 s): two may be missed before a
        # member is dropped.
        heartbeat_ms = int(min(3.0, max(1.0, session_timeout_s / 3)) * 1000)
        self._overrides: dict[str, Any] = {
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": int(session_timeout_s * 1000),
            "heartbeat.interval.ms": heartbeat_ms,
            "enable.auto.commit": False,
        }
        if instance_id:
            # Static membership: a restarted member gets its partitions back at once.
            self._overrides["group.instance.id"] = instance_id

    def start(self) -> None:
        """Create the control topic if missing, join the group and start polling."""
        ensure_topic(
            self.config,
            self.topic,
            partitions=self.partitions,
            replication_factor=self.replication_factor,
        )
        consumer = kafka_client.consumer(self.config, self.group, **self._overrides)
        consumer.subscribe(
            [self.topic], on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._lost
        )
        self._consumer = consumer
        self._thread = threading.Thread(target=self._poll, name="alert-group", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Leave the group (others take over at once) and stop polling."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def owned_partitions(self) -> frozenset[int]:
        """The control-topic partitions this member owns now."""
        with self._lock:
            return self._owned

    def owns(self, rule_id: str) -> bool:
        """Whether the rule is this member's to run now."""
        return partition_of(rule_id, self.partitions) in self.owned_partitions()

    def _poll(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        try:
            while not self._stopping.is_set():
                # Nothing is ever written to the topic: polls only serve heartbeats and
                # rebalance callbacks.
                consumer.poll(POLL_S)
        except Exception:
            log.exception("alert group %r: polling failed", self.group)
        finally:
            # close() revokes what is owned (on_revoke runs) and leaves the group.
            try:
                consumer.close()
            except Exception:
                log.exception("alert group %r: leaving failed", self.group)
            self._change(set(), set(self._owned))

    def _mine(self, partitions: list[TopicPartition]) -> set[int]:
        return {tp.partition for tp in partitions if tp.topic == self.topic}

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Not calling incremental_assign here lets confluent-kafka do it after the callback.
        gained = self._mine(partitions) - self._owned
        self._change(gained, set())

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._change(set(), self._mine(partitions) & self._owned)

    def _lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = self._mine(partitions) & self._owned
        if lost:
            log.warning(
                "alert group %r: lost %d partitions (session expired)", self.group, len(lost)
            )
        self._change(set(), lost)

    def _change(self, gained: set[int], lost: set[int]) -> None:
        if not gained and not lost:
            return
        with self._lock:
            self._owned = (self._owned | gained) - lost
        log.info(
            "alert group %r: +%d -%d partitions, %d owned",
            self.group,
            len(gained),
            len(lost),
            len(self._owned),
        )
        if self._on_change is not None:
            try:
                self._on_change(gained, lost)
            except Exception:
                log.exception("alert group %r: on_change failed", self.group)
