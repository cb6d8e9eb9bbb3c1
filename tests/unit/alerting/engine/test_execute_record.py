"""The watch record as Watcher's execute API gives it: the status after the run, the trigger
event, the watch-level state, action modes and ignore_condition."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.alerting.engine.execute import execute, watch_state
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.status import throttle as state
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
T0_TEXT = "2026-11-25T10:00:00.000Z"


def _watch(total: int = 5, **actions: Any) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": {"total": total}},
        "condition": {"compare": {"ctx.payload.total": {"gt": 3}}},
        "actions": actions or {"log": {"logging": {"text": "{{ctx.payload.total}}"}}},
    }


def _run(
    watch: dict[str, Any],
    fakes: Fakes | None = None,
    status: state.WatchState | None = None,
    at: datetime = T0,
    **options: Any,
) -> tuple[dict[str, Any], state.WatchState]:
    services = (fakes or Fakes()).services(outbox=True)
    return execute("w", watch, RunOptions(execution_time=at, **options), services, status)


LOG = {"logging": {"text": "hi"}}


# --------------------------------------------------------------------------- status


def test_the_record_carries_the_status_after_the_run() -> None:
    """`watch_record.status` is WatchStatus after the run: state, last_checked,
    last_met_condition, per action ack/last_execution/last_successful_execution,
    execution_state and version (-1 when not stored); the record starts with watch_id, node,
    state, status, trigger_event (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/
    core/watcher/watch/WatchStatus.java, .../core/watcher/history/WatchRecord.java;
    yml/watcher/execute_watch/50_action_mode.yml matches status.execution_state)."""
    record, status = _run(_watch(), node="alert-1")
    assert list(record)[:5] == ["watch_id", "node", "state", "status", "trigger_event"]
    assert record["node"] == "alert-1"
    assert record["status"] == {
        "state": {"active": True, "timestamp": T0_TEXT},
        "last_checked": T0_TEXT,
        "last_met_condition": T0_TEXT,
        "actions": {
            "log": {
                "ack": {"timestamp": T0_TEXT, "state": "ackable"},
                "last_execution": {"timestamp": T0_TEXT, "successful": True},
                "last_successful_execution": {"timestamp": T0_TEXT, "successful": True},
            }
        },
        "execution_state": "executed",
        "version": -1,
    }
    assert status.execution_state == "executed"


def test_the_status_keeps_the_version_it_was_read_with() -> None:
    """`status.version` is the version of the stored document the status came from
    (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/watch/
    WatchStatus.java; TransportExecuteWatchAction sets it from the .watches document)."""
    stored = replace(state.WatchState.new(["log"], T0), version=7)
    record, _ = _run(_watch(), status=stored, at=T0 + timedelta(minutes=1))
    assert record["status"]["version"] == 7


def test_an_unmet_condition_resets_acks_and_sets_last_checked_only() -> None:
    """WatchStatus.onCheck: not met sets last_checked only and puts every action back to
    awaits_successful_execution (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/
    watcher/watch/WatchStatus.java; yml/watcher/ack_watch/40_reset_ack_after_unmet_action_
    condition.yml)."""
    _, status = _run(_watch())
    status = state.ack_actions(status, T0 + timedelta(seconds=1))
    later = T0 + timedelta(minutes=1)
    record, _ = _run(_watch(total=1), status=status, at=later)
    assert record["status"]["last_checked"] == "2026-11-25T10:01:00.000Z"
    assert record["status"]["last_met_condition"] == T0_TEXT
    ack = record["status"]["actions"]["log"]["ack"]
    assert ack == {"timestamp": "2026-11-25T10:01:00.000Z", "state": "awaits_successful_execution"}
    assert record["status"]["execution_state"] == "execution_not_needed"


def test_a_simulated_action_counts_as_successful() -> None:
    """ActionStatus.update treats SIMULATED like SUCCESS: last_execution,
    last_successful_execution, and awaits_successful_execution -> ackable
    (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/actions/
    ActionStatus.java)."""
    record, _ = _run(_watch(), action_modes={"log": "simulate"})
    assert record["result"]["actions"][0]["status"] == "simulated"
    action = record["status"]["actions"]["log"]
    assert action["ack"]["state"] == "ackable"
    assert action["last_successful_execution"] == {"timestamp": T0_TEXT, "successful": True}


def test_an_input_failure_leaves_last_checked_unset() -> None:
    """An input failure aborts before the condition: state `failed`, no last_checked
    (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/execution/
    ExecutionService.java abortFailedExecution; WatchRecord.getState)."""
    watch = _watch() | {"input": {"search": {"request": {"indices": ["x"], "body": {}}}}}
    fakes = Fakes()

    def broken(_request: Any) -> dict[str, Any]:
        raise RuntimeError("no such index")

    services = replace(fakes.services(), search=broken)
    record, _ = execute("w", watch, RunOptions(execution_time=T0), services)
    assert record["state"] == "failed"
    assert record["status"]["execution_state"] == "failed"
    assert "last_checked" not in record["status"]


# --------------------------------------------------------------------------- trigger event


def test_a_manual_trigger_event_has_watchers_shape() -> None:
    """A manual run's trigger_event: `{type: manual, triggered_time, manual: {schedule:
    {scheduled_time}}}`; scheduled defaults to triggered, which defaults to the execution time;
    ctx.trigger follows trigger_data, ctx.execution_time the execution (x-pack/plugin/watcher/
    src/main/java/org/elasticsearch/xpack/watcher/trigger/manual/ManualTriggerEvent.java,
    .../trigger/schedule/ScheduleTriggerEngine.java simulateEvent)."""
    record, _ = _run(_watch())
    assert record["trigger_event"] == {
        "type": "manual",
        "triggered_time": T0_TEXT,
        "manual": {"schedule": {"scheduled_time": T0_TEXT}},
    }
    triggered = T0 - timedelta(minutes=5)
    record, _ = _run(
        _watch(log={"logging": {"text": "{{ctx.trigger.scheduled_time}}"}}),
        triggered_time=triggered,
    )
    assert record["trigger_event"]["triggered_time"] == "2026-11-25T09:55:00.000Z"
    assert record["trigger_event"]["manual"]["schedule"]["scheduled_time"] == (
        "2026-11-25T09:55:00.000Z"
    )
    assert record["result"]["execution_time"] == T0_TEXT
    record, _ = _run(_watch(), triggered_time=triggered, scheduled_time=T0 - timedelta(hours=1))
    assert record["trigger_event"]["manual"]["schedule"]["scheduled_time"] == (
        "2026-11-25T09:00:00.000Z"
    )


def test_a_scheduled_trigger_event_has_watchers_shape() -> None:
    """A scheduled run's trigger_event: `{type: schedule, triggered_time, schedule:
    {scheduled_time}}` (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/
    trigger/schedule/ScheduleTriggerEvent.java)."""
    scheduled = T0 - timedelta(seconds=2)
    record, _ = _run(_watch(), trigger="schedule", scheduled_time=scheduled)
    assert record["trigger_event"] == {
        "type": "schedule",
        "triggered_time": T0_TEXT,
        "schedule": {"scheduled_time": "2026-11-25T09:59:58.000Z"},
    }


# --------------------------------------------------------------------------- watch state


@pytest.mark.parametrize(
    ("condition", "statuses", "expected"),
    [
        (None, [], "failed"),
        ({"met": False}, [], "execution_not_needed"),
        ({"met": True}, ["success", "throttled", "acknowledged"], "acknowledged"),
        ({"met": True}, ["success", "throttled"], "throttled"),
        ({"met": True}, ["failure", "simulated", "condition_failed"], "executed"),
        ({"met": True}, [], "executed"),
    ],
)
def test_watch_state_follows_watch_record_get_state(
    condition: dict[str, Any] | None, statuses: list[str], expected: str
) -> None:
    """WatchRecord.getState: no condition result -> failed; not met -> execution_not_needed;
    met -> acknowledged if any action was, else throttled if any was, else executed
    (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/history/
    WatchRecord.java)."""
    result: dict[str, Any] = {"actions": [{"status": s} for s in statuses]}
    if condition is not None:
        result["condition"] = condition
    assert watch_state(result) == expected


def test_an_acked_action_makes_the_watch_acknowledged() -> None:
    """A met condition whose action is acked gives state `acknowledged`
    (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/history/
    WatchRecord.java getState)."""
    _, status = _run(_watch())
    status = state.ack_actions(status, T0)
    record, _ = _run(_watch(), status=status, at=T0 + timedelta(hours=1))
    assert record["result"]["actions"][0]["status"] == "acknowledged"
    assert record["state"] == "acknowledged"


def test_a_throttled_action_makes_the_watch_throttled() -> None:
    """Within the throttle period the action is throttled and so is the watch
    (yml/watcher/execute_watch/30_throttled.yml: `watch_record.state: throttled`)."""
    _, status = _run(_watch())
    record, _ = _run(_watch(), status=status, at=T0 + timedelta(seconds=2))
    assert record["state"] == "throttled"
    assert record["status"]["actions"]["log"]["last_throttle"]["timestamp"] == (
        "2026-11-25T10:00:02.000Z"
    )


# --------------------------------------------------------------------------- action modes


def test_all_wins_over_an_action_mode() -> None:
    """`_all` is looked up first and wins over per-action modes (x-pack/plugin/watcher/src/
    main/java/org/elasticsearch/xpack/watcher/execution/ManualExecutionContext.java
    simulateAction; yml/watcher/execute_watch/50_action_mode.yml)."""
    fakes = Fakes()
    record, _ = _run(_watch(), fakes, action_modes={"_all": "simulate", "log": "execute"})
    assert record["result"]["actions"][0]["status"] == "simulated"
    assert fakes.logged == []


def test_skip_gives_a_throttled_result_manually_skipped() -> None:
    """`skip`: `{status: throttled, reason: "manually skipped"}` and watch state throttled;
    with `_all` set to another mode a per-action skip is not honoured (x-pack/plugin/watcher/
    src/main/java/org/elasticsearch/xpack/watcher/execution/ManualExecutionContext.java)."""
    fakes = Fakes()
    record, status = _run(_watch(log=LOG, other=LOG), fakes, action_modes={"log": "skip"})
    by_id = {a["id"]: a for a in record["result"]["actions"]}
    assert by_id["log"] == {
        "id": "log",
        "type": "logging",
        "status": "throttled",
        "reason": "manually skipped",
    }
    assert by_id["other"]["status"] == "success"
    assert record["state"] == "throttled"
    assert status.actions["log"].last_throttle == state.Throttle(T0, "manually skipped")
    record, _ = _run(_watch(), action_modes={"_all": "execute", "log": "skip"})
    assert record["result"]["actions"][0]["status"] == "success"
    record, _ = _run(_watch(), action_modes={"_all": "skip"})
    assert record["result"]["actions"][0]["reason"] == "manually skipped"


def test_simulate_still_throttles_and_force_modes_skip_throttle_and_ack() -> None:
    """`simulate` and `execute` go through the throttlers (period and ack); `force_simulate`
    and `force_execute` skip them (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/
    core/watcher/execution/ActionExecutionMode.java force(); ActionWrapper.execute checks
    ctx.skipThrottling before the throttler)."""
    _, status = _run(_watch())
    soon = T0 + timedelta(seconds=1)
    for mode, expected in (
        ("simulate", "throttled"),
        ("execute", "throttled"),
        ("force_simulate", "simulated"),
        ("force_execute", "success"),
    ):
        record, _ = _run(_watch(), status=status, at=soon, action_modes={"log": mode})
        assert record["result"]["actions"][0]["status"] == expected, mode
    acked = state.ack_actions(status, soon)
    later = T0 + timedelta(hours=1)
    for mode, expected in (
        ("simulate", "acknowledged"),
        ("force_simulate", "simulated"),
        ("force_execute", "success"),
    ):
        record, _ = _run(_watch(), status=acked, at=later, action_modes={"_all": mode})
        assert record["result"]["actions"][0]["status"] == expected, mode


def test_force_execute_again_for_one_trigger_stores_one_notification() -> None:
    """A forced re-run of the same trigger names its notification as the first run did, so the
    outbox keeps one and nothing is sent twice (force_execute skips throttling:
    x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/execution/
    ActionExecutionMode.java)."""
    fakes = Fakes()
    hook = {"webhook": {"url": "https://hooks.example/alert", "body": "{{ctx.payload.total}}"}}
    watch = _watch(hook=hook)
    _, status = _run(watch, fakes, trigger="schedule")
    _run(watch, fakes, status=status, trigger="schedule", action_modes={"hook": "force_execute"})
    assert len(fakes.notified) == 2
    assert len(fakes.stored) == 1


# --------------------------------------------------------------------------- ignore_condition


def test_ignore_condition_never_evaluates_the_condition() -> None:
    """ignore_condition: result.condition is `{type: always, status: success, met: true}`, the
    record's condition is still the watch's own, and last_met_condition is set
    (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/transport/actions/
    TransportExecuteWatchAction.java withCondition(InternalAlwaysCondition.RESULT_INSTANCE))."""
    fakes = Fakes()
    watch = _watch(total=1) | {"condition": {"script": {"source": "return false"}}}
    # A script condition would need Painless (no script runner here): it must not be run.
    record, _ = _run(watch, fakes, ignore_condition=True)
    assert record["result"]["condition"] == {"type": "always", "status": "success", "met": True}
    assert record["condition"] == {"script": {"source": "return false"}}
    assert record["state"] == "executed"
    assert record["status"]["last_met_condition"] == T0_TEXT
    assert fakes.scripts == []
