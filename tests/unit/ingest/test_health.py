"""/readyz decisions from librdkafka's statistics and error callbacks, and from the times
of Elasticsearch's last success and failure. Plain data, no servers."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError

from pipeline.ingest.health import KafkaHealth, elasticsearch_problem, read_stats

ASSIGNED = {("edge.logs", 0), ("edge.logs", 1)}


def stats(
    *,
    group: str = "up",
    join: str = "steady",
    broker: str = "UP",
    leaders: tuple[int, int] = (1, 1),
) -> dict[str, Any]:
    """A librdkafka statistics report, cut to the keys health.py reads (the shape was taken
    from a real consumer of the local broker)."""
    return {
        "brokers": {
            "127.0.0.1:9092/1": {"nodeid": 1, "state": broker, "source": "learned"},
            "GroupCoordinator": {"nodeid": -1, "state": "UP", "source": "logical"},
        },
        "cgrp": {"state": group, "join_state": join, "assignment_size": 2},
        "topics": {
            "edge.logs": {
                "partitions": {
                    "0": {"leader": leaders[0], "consumer_lag": 0},
                    "1": {"leader": leaders[1], "consumer_lag": 3},
                    "-1": {"leader": -1},
                }
            }
        },
    }


def health_after(report: dict[str, Any]) -> KafkaHealth:
    health = KafkaHealth()
    health.on_stats(read_stats(report, ASSIGNED, now=100.0))
    return health


def test_a_settled_group_with_connected_leaders_is_ready() -> None:
    health = health_after(stats())
    assert health.problem(101.0) is None
    assert health.unsettled() is None


def test_nothing_reported_yet_is_not_ready() -> None:
    assert KafkaHealth().problem(1.0) == "kafka: no report from the consumer yet"


def test_a_leader_not_connected_is_named() -> None:
    problem = health_after(stats(broker="CONNECT")).problem(101.0)
    assert problem == "kafka: partition leader(s) not connected: 127.0.0.1:9092/1"


def test_a_partition_without_leader_is_not_ready() -> None:
    problem = health_after(stats(leaders=(1, -1))).problem(101.0)
    assert problem is not None and "node -1" in problem


def test_lost_coordinator_is_not_ready() -> None:
    problem = health_after(stats(group="wait-coord")).problem(101.0)
    assert problem == "kafka: group coordinator not reachable (group state wait-coord)"


def test_all_brokers_down_is_not_ready_at_once_and_clears_when_one_is_up() -> None:
    health = health_after(stats())
    health.on_error(KafkaError(KafkaError._ALL_BROKERS_DOWN, "2/2 brokers are down"), now=110.0)
    assert health.problem(125.0) == "kafka: all brokers down for 15 s"
    health.on_stats(read_stats(stats(broker="DOWN"), ASSIGNED, now=126.0))
    assert health.problem(127.0) == "kafka: all brokers down for 17 s"
    health.on_stats(read_stats(stats(), ASSIGNED, now=128.0))
    assert health.problem(129.0) is None


def test_other_errors_leave_readiness_to_the_statistics() -> None:
    health = health_after(stats())
    health.on_error(KafkaError(KafkaError._TRANSPORT, "connection refused"), now=110.0)
    assert health.problem(111.0) is None


def test_unassigned_partitions_leaders_do_not_count() -> None:
    report = stats(broker="DOWN")
    view = read_stats(report, set(), now=1.0)
    assert view.brokers_down == ()
    assert view.assigned == 0


def test_the_group_waiting_for_its_topics_says_so() -> None:
    health = health_after(stats(join="wait-metadata"))
    assert health.unsettled() == "kafka: no subscribed topic found (do the topics exist?)"
    assert health_after(stats(join="init")).unsettled() == (
        "kafka: not joined the group yet (do the subscribed topics exist?)"
    )
    assert health_after(stats(join="wait-sync")).unsettled() == (
        "kafka: the consumer group is rebalancing (wait-sync)"
    )


def test_elasticsearch_is_ready_when_its_last_word_was_a_success() -> None:
    assert elasticsearch_problem(True, last_success=5.0, last_failure=4.0, last_error="x") is None
    assert elasticsearch_problem(True, last_success=0.0, last_failure=0.0, last_error=None) is None


def test_elasticsearch_failing_since_its_last_success_is_not_ready() -> None:
    problem = elasticsearch_problem(True, 4.0, 5.0, "bulk request failed (connection)")
    assert problem == "elasticsearch: bulk request failed (connection)"


def test_no_template_yet_is_not_ready() -> None:
    assert elasticsearch_problem(False, 5.0, 0.0, None) == (
        "elasticsearch: index template not installed yet"
    )
