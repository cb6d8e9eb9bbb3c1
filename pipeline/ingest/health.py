"""Is ingest ready to work? Both sides, from cheap and bounded observations.

`/readyz` must be true to what an operator would find by looking: 503 through a Kafka outage
and soon after Elasticsearch stops answering, with a short reason, and 200 again once both
sides work. Nothing here sends a request of its own except `Prober`, which asks Elasticsearch
one bounded question only when nothing else has told how it is doing for a few seconds.

- Kafka: librdkafka's statistics (every few seconds: the group's state, each broker's
  connection state, which broker leads each assigned partition) and its error callback
  (all brokers down at once).
- Elasticsearch: the time of the last success and of the last failure of any bulk request
  or probe (indexer.BatchWriter keeps them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError

log = logging.getLogger("edgewatch.ingest")

PROBE_AFTER_S = 5.0  # nothing heard from Elasticsearch for this long: ask it


@dataclass(frozen=True)
class KafkaView:
    """What one statistics report says about the consumer's side."""

    at: float  # time.monotonic() when it arrived
    group_state: str  # librdkafka's cgrp.state: "up" once the coordinator is known
    join_state: str  # "steady" once the group has settled who reads what
    brokers_down: tuple[str, ...]  # leaders of assigned partitions not connected
    any_broker_up: bool
    assigned: int


def read_stats(stats: dict[str, Any], assigned: set[tuple[str, int]], now: float) -> KafkaView:
    """The consumer's side in one librdkafka statistics report (a parsed JSON object)."""
    state_by_id: dict[int, tuple[str, str]] = {}
    for name, broker in stats.get("brokers", {}).items():
        node = broker.get("nodeid", -1)
        if isinstance(node, int) and node >= 0:
            state_by_id[node] = (name, str(broker.get("state", "")))
    leaders: set[int] = set()
    for topic, info in stats.get("topics", {}).items():
        for partition, p in info.get("partitions", {}).items():
            if partition != "-1" and (topic, int(partition)) in assigned:
                leader = p.get("leader", -1)
                if isinstance(leader, int):
                    leaders.add(leader)
    down = sorted(
        state_by_id[n][0] if n in state_by_id else f"node {n}"
        for n in leaders
        if n < 0 or state_by_id.get(n, ("", ""))[1] != "UP"
    )
    group = stats.get("cgrp") or {}
    return KafkaView(
        at=now,
        group_state=str(group.get("state", "")),
        join_state=str(group.get("join_state", "")),
        brokers_down=tuple(down),
        any_broker_up=any(state == "UP" for _, state in state_by_id.values()),
        assigned=len(assigned),
    )


class KafkaHealth:
    """The consumer's side of readiness, fed by librdkafka's callbacks (on the main thread)
    and read by the status server's thread: each update replaces one immutable value."""

    def __init__(self) -> None:
        self.view: KafkaView | None = None
        self._all_down_at: float | None = None
        self._all_down_text = ""

    def on_stats(self, view: KafkaView) -> None:
        """A statistics report arrived."""
        self.view = view
        if view.any_broker_up:
            self._all_down_at = None

    def on_error(self, error: KafkaError, now: float) -> None:
        """librdkafka's error callback: all brokers down makes the side not ready at once,
        without waiting for the next statistics report."""
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self._all_down_at = now
            self._all_down_text = error.str()

    def problem(self, now: float) -> str | None:
        """None when Kafka is usable, else a short reason."""
        if self._all_down_at is not None:
            return f"kafka: all brokers down for {now - self._all_down_at:.0f} s"
        view = self.view
        if view is None:
            return "kafka: no report from the consumer yet"
        if view.group_state != "up":
            return f"kafka: group coordinator not reachable (group state {view.group_state})"
        if view.brokers_down:
            return f"kafka: partition leader(s) not connected: {', '.join(view.brokers_down)}"
        return None

    def unsettled(self) -> str | None:
        """None once the group has settled who reads what (as of the last report), else
        why not."""
        view = self.view
        if view is None:
            return "kafka: no report from the consumer yet"
        if view.join_state == "wait-metadata":
            return "kafka: no subscribed topic found (do the topics exist?)"
        if view.join_state == "init":  # librdkafka waits here too while no topic matches
            return "kafka: not joined the group yet (do the subscribed topics exist?)"
        if view.group_state != "up" or view.join_state != "steady":
            return f"kafka: the consumer group is rebalancing ({view.join_state})"
        return None


def elasticsearch_problem(
    template_ready: bool, last_success: float, last_failure: float, last_error: str | None
) -> str | None:
    """None when the last word from Elasticsearch (bulk request or probe) was a success."""
    if not template_ready:
        return "elasticsearch: index template not installed yet"
    if last_failure > last_success:
        return f"elasticsearch: {last_error or 'failing'}"
    return None


class Prober:
    """A thread that probes Elasticsearch when nothing has been heard from it for
    `after_s` (idle, or every request hanging): a blackholed node is noticed within
    seconds even when no bulk request is due, and a recovered one wakes the writers."""

    def __init__(
        self,
        probe: Callable[[], bool],
        last_heard: Callable[[], float],
        after_s: float = PROBE_AFTER_S,
    ) -> None:
        self._probe = probe
        self._last_heard = last_heard
        self._after_s = after_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="es-probe", daemon=True)

    def start(self) -> Prober:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            if time.monotonic() - self._last_heard() >= self._after_s:
                try:
                    self._probe()
                except Exception:  # never let the probe thread die; the probe logs
                    log.exception("elasticsearch probe failed unexpectedly")
