"""Ack and throttle state machines and the active flag, as Watcher's ActionStatus, throttlers
and WatchStatus define them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerting.engine.java.durations import DurationError
from pipeline.alerting.status.throttle import (
    ACKABLE,
    ACKED,
    ACKNOWLEDGED,
    AWAITS_SUCCESSFUL_EXECUTION,
    DEFAULT_THROTTLE_PERIOD,
    EXECUTE,
    EXECUTION_NOT_NEEDED,
    THROTTLED,
    ActionState,
    StateError,
    WatchState,
    ack,
    ack_actions,
    activate,
    after_execution,
    after_throttle,
    deactivate,
    decide,
    on_condition_false,
    on_watch_checked,
    should_run,
    throttle_period,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PERIOD = timedelta(minutes=15)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_ack_lifecycle() -> None:
    state = ActionState.new(T0)
    assert state.ack.state == AWAITS_SUCCESSFUL_EXECUTION
    assert ack(state, at(1)) == state  # nothing to ack before a successful run
    assert decide(state, True, at(1), PERIOD) == decide(state, True, at(1), PERIOD)
    assert decide(state, True, at(1), PERIOD).execute is True

    state = after_execution(state, at(1), succeeded=True)
    assert state.ack.state == ACKABLE and state.ack.timestamp == at(1)
    state = ack(state, at(2))
    assert state.ack.state == ACKED and state.ack.timestamp == at(2)

    still_throttled = decide(state, True, at(100), PERIOD)
    assert (still_throttled.execute, still_throttled.status) == (False, THROTTLED)
    acked = decide(state, True, at(1000), PERIOD)
    assert (acked.execute, acked.status) == (False, ACKNOWLEDGED)
    assert "2026-11-25T10:00:02.000Z" in acked.reason

    state = on_condition_false(state, at(2000))
    assert state.ack.state == AWAITS_SUCCESSFUL_EXECUTION and state.ack.timestamp == at(2000)
    assert decide(state, True, at(2001), PERIOD).execute is True


def test_throttle_reasons_are_watchers_texts() -> None:
    """The reasons a throttled or acknowledged action gives are Watcher's (x-pack/plugin/
    watcher/src/main/java/org/elasticsearch/xpack/watcher/actions/throttler/PeriodThrottler.java
    and AckThrottler.java, whose unit test expects "action [_action] was acked at [..]")."""
    state = after_execution(ActionState.new(T0), at(0), succeeded=True)
    throttled = decide(state, True, at(90), PERIOD, "notify")
    assert throttled.reason == (
        "throttling interval is set to [15m] but time elapsed since last execution is [1.5m]"
    )
    acked = decide(ack(state, at(1)), True, at(1000), PERIOD, "notify")
    assert acked.reason == "action [notify] was acked at [2026-11-25T10:00:01.000Z]"


def test_watch_condition_not_met_runs_nothing() -> None:
    decision = decide(ActionState.new(T0), False, at(1), PERIOD)
    assert (decision.execute, decision.status) == (False, EXECUTION_NOT_NEEDED)


def test_period_throttle_counts_from_the_last_successful_run_inclusive() -> None:
    state = after_execution(ActionState.new(T0), at(0), succeeded=True)
    assert decide(state, True, at(900), PERIOD).status == THROTTLED  # exactly the period
    assert decide(state, True, at(900.001), PERIOD).status == EXECUTE
    failed = after_execution(state, at(950), succeeded=False, reason="smtp down")
    assert failed.last_successful_execution == state.last_successful_execution
    assert failed.last_execution is not None and failed.last_execution.reason == "smtp down"
    assert failed.ack.state == ACKABLE
    # A failed run does not start a new throttle period.
    assert decide(failed, True, at(960), PERIOD).status == EXECUTE


def test_failure_before_any_success_keeps_awaiting() -> None:
    state = after_execution(ActionState.new(T0), at(1), succeeded=False, reason="boom")
    assert state.ack.state == AWAITS_SUCCESSFUL_EXECUTION
    assert state.last_successful_execution is None
    assert decide(state, True, at(2), PERIOD).execute is True


def test_success_does_not_undo_an_ack() -> None:
    # Only awaits_successful_execution moves to ackable on success.
    state = ack(after_execution(ActionState.new(T0), at(1), succeeded=True), at(2))
    assert after_execution(state, at(3), succeeded=True).ack.state == ACKED


def test_throttle_is_recorded() -> None:
    state = after_throttle(ActionState.new(T0), at(5), "too soon")
    assert state.last_throttle is not None and state.last_throttle.reason == "too soon"
    assert state.ack.state == AWAITS_SUCCESSFUL_EXECUTION


@pytest.mark.parametrize(
    ("action", "watch", "expected"),
    [
        ({}, {}, DEFAULT_THROTTLE_PERIOD),
        ({}, {"throttle_period": "15m"}, timedelta(minutes=15)),
        ({"throttle_period": "2m"}, {"throttle_period": "15m"}, timedelta(minutes=2)),
        ({"throttle_period_in_millis": 900000}, {}, timedelta(minutes=15)),
        ({}, {"throttle_period_in_millis": 0}, timedelta(0)),
        ({"throttle_period": "1.5h"}, {}, timedelta(minutes=90)),
    ],
)
def test_throttle_period_resolution(
    action: dict[str, Any], watch: dict[str, Any], expected: timedelta
) -> None:
    assert throttle_period(action, watch) == expected


def test_throttle_period_errors() -> None:
    with pytest.raises(DurationError):
        throttle_period({"throttle_period": "soon"}, {})
    with pytest.raises(DurationError):
        throttle_period({"throttle_period_in_millis": -1}, {})


def test_watch_level_condition_false_resets_every_action() -> None:
    watch = WatchState.new(["log", "mail"], T0)
    watch = WatchState(
        watch.active,
        watch.state_timestamp,
        {
            "log": ack(after_execution(watch.actions["log"], at(1), True), at(2)),
            "mail": after_execution(watch.actions["mail"], at(1), True),
        },
    )
    checked = on_watch_checked(watch, True, at(3))
    assert checked.last_met_condition == at(3) and checked.actions == watch.actions
    reset = on_watch_checked(checked, False, at(4))
    assert reset.last_checked == at(4) and reset.last_met_condition == at(3)
    assert {s.ack.state for s in reset.actions.values()} == {AWAITS_SUCCESSFUL_EXECUTION}


def test_ack_actions_api() -> None:
    watch = WatchState.new(["log", "mail"], T0)
    actions = {name: after_execution(s, at(1), True) for name, s in watch.actions.items()}
    watch = WatchState(True, T0, actions)
    one = ack_actions(watch, at(2), ["log"])
    assert one.actions["log"].ack.state == ACKED and one.actions["mail"].ack.state == ACKABLE
    assert {s.ack.state for s in ack_actions(watch, at(2)).actions.values()} == {ACKED}
    with pytest.raises(StateError, match="nope"):
        ack_actions(watch, at(2), ["nope"])


def test_active_flag() -> None:
    """Activate/deactivate set `state {active, timestamp: now}` every time, even when the flag
    does not change (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/
    transport/actions/TransportActivateWatchAction.java writes it with the time of each call)."""
    watch = WatchState.new(["log"], T0)
    assert should_run(watch)
    off = deactivate(watch, at(5))
    assert not should_run(off) and off.state_timestamp == at(5)
    again = deactivate(off, at(6))
    assert not again.active and again.state_timestamp == at(6)
    on = activate(off, at(7))
    assert should_run(on) and on.state_timestamp == at(7)
    assert activate(on, at(8)).state_timestamp == at(8)
    assert not should_run(WatchState.new([], T0, active=False))


def test_round_trip_through_watcher_json() -> None:
    state = after_execution(ActionState.new(T0), at(1.5), True)
    state = after_execution(state, at(3600), False, "connection refused")
    state = after_throttle(ack(state, at(3601)), at(3602), "acked")
    data = state.to_dict()
    assert data == {
        "ack": {"timestamp": "2026-11-25T11:00:01.000Z", "state": "acked"},
        "last_execution": {
            "timestamp": "2026-11-25T11:00:00.000Z",
            "successful": False,
            "reason": "connection refused",
        },
        "last_successful_execution": {"timestamp": "2026-11-25T10:00:01.500Z", "successful": True},
        "last_throttle": {"timestamp": "2026-11-25T11:00:02.000Z", "reason": "acked"},
    }
    assert ActionState.from_dict(data) == state
    watch = on_watch_checked(WatchState(False, T0, {"log": state}), True, at(9))
    assert WatchState.from_dict(watch.to_dict()) == watch
    assert watch.to_dict()["state"] == {"active": False, "timestamp": "2026-11-25T10:00:00.000Z"}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"ack": {"timestamp": "2026-11-25T10:00:00Z", "state": "sleeping"}},
        {"ack": {"timestamp": "yesterday", "state": "acked"}},
        {"ack": {"timestamp": "2026-11-25T10:00:00Z", "state": "acked"}, "last_execution": {}},
    ],
)
def test_from_dict_errors(data: dict[str, Any]) -> None:
    with pytest.raises(StateError):
        ActionState.from_dict(data)


_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["run", "run", "run", "ack", "condition_false"]),
        st.booleans(),  # watch condition met / run succeeded
        st.integers(0, 600),  # seconds since the previous event
    ),
    max_size=60,
)


@given(_EVENTS, st.integers(0, 1800))
def test_never_runs_acked_or_twice_within_the_throttle_period(
    events: list[tuple[str, bool, int]], period_seconds: int
) -> None:
    period = timedelta(seconds=period_seconds)
    state = ActionState.new(T0)
    now = T0
    last_success: datetime | None = None
    for kind, flag, gap in events:
        now += timedelta(seconds=gap)
        if kind == "ack":
            state = ack(state, now)
        elif kind == "condition_false":
            state = on_condition_false(state, now)
            assert decide(state, False, now, period).execute is False
        else:
            decision = decide(state, True, now, period)
            if state.ack.state == ACKED:
                assert decision.execute is False
            if last_success is not None and now - last_success <= period:
                assert decision.execute is False
            if decision.execute:
                state = after_execution(state, now, succeeded=flag)
                if flag:
                    last_success = now
                    assert state.ack.state in (ACKABLE, ACKED)
            elif decision.status == THROTTLED:
                state = after_throttle(state, now, decision.reason)
        assert ActionState.from_dict(state.to_dict()) == state
