"""Alert group membership against the real Kafka (pipeline/alerting/group.py): every control
partition owned by exactly one live member, handed over when a member leaves or dies."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from pipeline.alerting.group import AlertGroup, ensure_topic, group_name
from pipeline.alerting.ownership import PARTITIONS
from pipeline.config import Config

ALL = frozenset(range(PARTITIONS))


@dataclass
class Names:
    topic: str
    group: str
    members: list[AlertGroup] = field(default_factory=list)


@pytest.fixture
def names(kafka_admin: AdminClient, unique_name: str) -> Iterator[Names]:
    """A control topic and a group of the test's own; members stopped, both deleted after."""
    made = Names(topic=unique_name, group=f"{unique_name}-group")
    yield made
    for member in made.members:
        member.stop()
    kafka_admin.delete_topics([made.topic])[made.topic].result(timeout=30)
    for future in kafka_admin.delete_consumer_groups([made.group]).values():
        with contextlib.suppress(KafkaException):  # a group Kafka already forgot is fine
            future.result(timeout=30)


def member(config: Config, names: Names, **kwargs: object) -> AlertGroup:
    made = AlertGroup(
        config.kafka,
        config.alert.state_index,
        group=names.group,
        topic=names.topic,
        **kwargs,  # type: ignore[arg-type]
    )
    names.members.append(made)
    return made


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Seconds until `check()` holds; fails the test after `timeout_s`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout_s:
            pytest.fail(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - start


def test_group_name_derives_from_the_state_index(config: Config) -> None:
    assert group_name("edgewatch-rules-state") == "edgewatch-alert-edgewatch-rules-state"
    made = AlertGroup(config.kafka, "my-state")
    assert made.group == "edgewatch-alert-my-state"
    assert made.topic == "edgewatch-alert-control"


def test_one_member_owns_every_partition(config: Config, names: Names) -> None:
    changes: list[tuple[set[int], set[int]]] = []
    alone = member(config, names, on_change=lambda g, lost: changes.append((g, lost)))
    alone.start()
    wait_for(lambda: alone.owned_partitions() == ALL, 30, "one member owns all 64")
    assert changes == [(set(ALL), set())]
    assert alone.owns("disk-full") and alone.owns("any-rule-at-all")
    alone.stop()
    assert alone.owned_partitions() == frozenset()
    assert changes[-1] == (set(), set(ALL))


def test_two_members_split_and_the_survivor_takes_over_a_leave(
    config: Config, names: Names
) -> None:
    first, second = member(config, names), member(config, names)
    first.start()
    wait_for(lambda: first.owned_partitions() == ALL, 30, "the first member owns all")
    second.start()

    def split() -> bool:
        a, b = first.owned_partitions(), second.owned_partitions()
        return bool(a) and bool(b) and not a & b and a | b == ALL

    wait_for(split, 30, "two members split the partitions")
    a, b = first.owned_partitions(), second.owned_partitions()
    assert abs(len(a) - len(b)) <= 1, (len(a), len(b))
    rules = [f"rule-{n}" for n in range(500)]
    assert all(first.owns(r) != second.owns(r) for r in rules)  # each rule one owner

    started = time.monotonic()
    first.stop()
    took = wait_for(lambda: second.owned_partitions() == ALL, 15, "the survivor owns all")
    print(f"hand-over after a clean leave: {time.monotonic() - started:.2f} s")
    assert took < 10
    assert first.owned_partitions() == frozenset()


_MEMBER = """
import sys, time
from pipeline.alerting.group import AlertGroup
from pipeline.config import load_config
config = load_config()
group = AlertGroup(config.kafka, "unused", group=sys.argv[1], topic=sys.argv[2],
                   session_timeout_s=6.0)
group.start()
last = None
while True:
    owned = len(group.owned_partitions())
    if owned != last:
        print(f"owned {owned}", flush=True)
        last = owned
    time.sleep(0.05)
"""


def test_a_killed_member_is_dropped_after_the_session_timeout(config: Config, names: Names) -> None:
    ensure_topic(config.kafka, names.topic)  # before two processes race to create it
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEMBER, names.group, names.topic],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": "."},
    )
    owned_there = [0]

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            owned_there[0] = int(line.split()[1])

    threading.Thread(target=read, daemon=True).start()
    try:
        wait_for(lambda: owned_there[0] == PARTITIONS, 30, "the other process owns all")
        survivor = member(config, names, session_timeout_s=6.0)
        survivor.start()
        wait_for(
            lambda: (
                len(survivor.owned_partitions()) + owned_there[0] == PARTITIONS
                and 0 < owned_there[0] < PARTITIONS
            ),
            30,
            "the two processes split the partitions",
        )
        killed = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        detection = wait_for(
            lambda: survivor.owned_partitions() == ALL, 20, "the survivor owns all after a kill"
        )
        print(f"a SIGKILLed member's partitions taken over after {detection:.2f} s")
        # Not before the 6 s session has run out, counted from the last heartbeat (2 s apart).
        assert time.monotonic() - killed >= 6.0 - 2.0 - 0.5
        assert detection <= 15.0  # the target
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_control_topic_with_replication_factor_one(
    config: Config, names: Names, kafka_admin: AdminClient
) -> None:
    ensure_topic(config.kafka, names.topic, replication_factor=1)
    ensure_topic(config.kafka, names.topic)  # already there: nothing to do
    topic = kafka_admin.list_topics(topic=names.topic, timeout=10).topics[names.topic]
    assert len(topic.partitions) == PARTITIONS
    assert all(len(p.replicas) == 1 for p in topic.partitions.values())
    with pytest.raises(ValueError, match="has 64 partitions"):
        ensure_topic(config.kafka, names.topic, partitions=32)
    alone = member(config, names, replication_factor=1)
    alone.start()
    wait_for(lambda: alone.owned_partitions() == ALL, 30, "a member on the rf=1 topic owns all")
