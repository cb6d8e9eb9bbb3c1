"""When a `--exit-when-idle` run may end: caught up by the high watermarks, never merely
because nothing arrived (a Kafka outage looks the same). Plain data."""

from __future__ import annotations

from dataclasses import replace

from pipeline.ingest.idle import IdleExit, Observation, Verdict

CAUGHT_UP = Observation(
    quiet=True,
    drained=True,
    kafka_problem=None,
    group_unsettled=None,
    assigned=2,
    behind={("t", 0): 0, ("t", 1): 0},
)


def test_caught_up_exits() -> None:
    assert IdleExit(wait_max_s=60).check(10.0, CAUGHT_UP) is Verdict.EXIT


def test_busy_goes_on_and_resets_the_wait() -> None:
    idle = IdleExit(wait_max_s=60)
    outage = replace(CAUGHT_UP, kafka_problem="kafka: all brokers down for 3 s", behind=None)
    assert idle.check(0.0, outage) is Verdict.GO_ON
    assert idle.check(1.0, replace(CAUGHT_UP, quiet=False)) is Verdict.GO_ON
    assert idle.waiting_since is None
    assert idle.check(59.0, outage) is Verdict.GO_ON  # the wait started again at 59
    assert idle.check(118.0, outage) is Verdict.GO_ON
    assert idle.check(119.0, outage) is Verdict.FAIL


def test_a_kafka_outage_is_waited_out_then_given_up_with_its_reason() -> None:
    idle = IdleExit(wait_max_s=30)
    outage = replace(CAUGHT_UP, kafka_problem="kafka: all brokers down for 1 s", behind=None)
    assert idle.check(100.0, outage) is Verdict.GO_ON
    assert idle.check(129.9, outage) is Verdict.GO_ON
    assert idle.check(130.0, outage) is Verdict.FAIL
    assert idle.reason == "kafka: all brokers down for 1 s"


def test_an_outage_that_ends_in_time_lets_the_run_finish() -> None:
    idle = IdleExit(wait_max_s=30)
    assert idle.check(0.0, replace(CAUGHT_UP, kafka_problem="kafka: x")) is Verdict.GO_ON
    assert idle.check(20.0, CAUGHT_UP) is Verdict.EXIT


def test_messages_left_unread_are_not_idle() -> None:
    idle = IdleExit(wait_max_s=30)
    behind = replace(CAUGHT_UP, behind={("t", 0): 0, ("t", 1): 700})
    assert idle.check(0.0, behind) is Verdict.GO_ON
    assert idle.check(30.0, behind) is Verdict.FAIL
    assert idle.reason == "700 messages not read yet (t[1])"


def test_end_offsets_unknown_are_not_idle() -> None:
    idle = IdleExit(wait_max_s=30)
    assert idle.check(0.0, replace(CAUGHT_UP, behind=None)) is Verdict.GO_ON
    assert "end offsets" in idle.reason


def test_an_unsettled_group_is_not_idle() -> None:
    idle = IdleExit(wait_max_s=30)
    unsettled = replace(CAUGHT_UP, group_unsettled="kafka: no subscribed topic found")
    assert idle.check(0.0, unsettled) is Verdict.GO_ON
    assert idle.check(31.0, unsettled) is Verdict.FAIL
    assert idle.reason == "kafka: no subscribed topic found"


def test_a_settled_group_that_gave_us_nothing_is_idle() -> None:
    nothing = replace(CAUGHT_UP, assigned=0, behind={})
    assert IdleExit(wait_max_s=30).check(0.0, nothing) is Verdict.EXIT


def test_batches_stuck_on_kafka_count_toward_the_wait() -> None:
    """Dead letters that Kafka cannot take keep batches in flight: that is waiting on Kafka
    too, not work in progress."""
    idle = IdleExit(wait_max_s=10)
    stuck = replace(CAUGHT_UP, drained=False, kafka_problem="kafka: all brokers down for 1 s")
    assert idle.check(0.0, stuck) is Verdict.GO_ON
    assert idle.check(10.0, stuck) is Verdict.FAIL


def test_batches_being_written_to_elasticsearch_are_work_in_progress() -> None:
    idle = IdleExit(wait_max_s=10)
    writing = replace(CAUGHT_UP, drained=False)
    assert idle.check(0.0, writing) is Verdict.GO_ON
    assert idle.check(100.0, writing) is Verdict.GO_ON
    assert idle.waiting_since is None
