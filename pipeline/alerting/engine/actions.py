"""The action phase of a watch execution: per action its throttle and ack (Watcher's rules), its
own condition, transform and foreach, and for an action with `alert_key` one alert per key
(firing, reminded, resolved)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pipeline.alerting.engine import conditions
from pipeline.alerting.engine.evaluate import evaluate, transform
from pipeline.alerting.engine.java import dates
from pipeline.alerting.engine.outputs import perform, run_action
from pipeline.alerting.engine.run import (
    DEFAULT_MAX_ITERATIONS,
    LATE_SKIP,
    SUPPORTED_ACTIONS,
    ExecutionError,
    Run,
    action_mode,
    action_type,
    check_time,
    is_simulated,
    render_text,
    skips_throttling,
)
from pipeline.alerting.status import alerts as firing
from pipeline.alerting.status import throttle as state

MANUALLY_SKIPPED = "manually skipped"  # the reason of an action run in mode `skip`


def run_actions(run: Run, actions: Mapping[str, Any], status: state.WatchState) -> state.WatchState:
    now = run.options.execution_time
    results: list[dict[str, Any]] = []
    new_states = dict(status.actions)
    for action_id, spec in actions.items():
        current = new_states.get(action_id) or state.ActionState.new(now)
        result: dict[str, Any] = {"id": action_id, "type": action_type(spec)}
        if action_mode(run.options, action_id) == "skip":
            # Watcher's `skip` mode: a throttled result, recorded as a throttle.
            result.update(status=state.THROTTLED, reason=MANUALLY_SKIPPED)
            new_states[action_id] = state.after_throttle(current, now, MANUALLY_SKIPPED)
            results.append(result)
            continue
        if spec.get("alert_key"):
            new_states[action_id] = keyed_action(run, action_id, spec, current, result)
            results.append(result)
            continue
        if f"{action_id}/" in run.options.skip_keys:
            result.update(status=state.THROTTLED, reason=LATE_SKIP)
            results.append(result)
            continue
        if run.options.record_state and not skips_throttling(run, action_id):
            decision = state.decide(
                current, True, now, state.throttle_period(spec, run.watch), action_id
            )
            if not decision.execute:
                result.update(status=decision.status, reason=decision.reason)
                if decision.status == state.THROTTLED:
                    current = state.after_throttle(current, now, decision.reason)
                new_states[action_id] = current
                results.append(result)
                continue
        saved_payload = run.ctx["payload"]
        try:
            succeeded = one_action(run, action_id, spec, result)
        finally:
            run.ctx["payload"] = saved_payload
        if result.get("status") == "condition_failed":
            current = state.on_condition_false(current, now)
        else:
            # A simulated action counts as a successful one (ActionStatus.update).
            current = state.after_execution(current, now, succeeded, result.get("reason"))
        new_states[action_id] = current
        results.append(result)
    run.result["actions"] = results
    return replace(status, actions=new_states)


def one_action(run: Run, action_id: str, spec: Mapping[str, Any], result: dict[str, Any]) -> bool:
    kind = result["type"]
    try:
        items = action_items(run, action_id, spec, result)
        if items is None:
            result["status"] = "condition_failed"
            result["reason"] = "the action's condition was not met"
            return False
        if kind not in SUPPORTED_ACTIONS:
            raise ExecutionError(f"action type {kind!r} is not supported yet")
        outputs, statuses = [], []
        for number, item in enumerate(items):
            run.ctx["payload"] = item
            # One firing of a plain action: this scheduled run (and foreach element).
            firing_name = f"{run.ctx['trigger']['scheduled_time']}#{number}"
            out, status = perform(run, action_id, kind, spec[kind], firing_name)
            outputs.append(out)
            statuses.append(status)
        if spec.get("foreach"):
            result["number_of_actions_executed"] = len(items)
            result["foreach"] = [{kind: out} for out in outputs]
            result["max_iterations"] = max_iterations(spec)
        else:
            result[kind] = outputs[0]
        # Mixed statuses over the elements are a partial failure, as in ActionWrapper.
        result["status"] = statuses[0] if len(set(statuses)) == 1 else "partial_failure"
        return bool(result["status"] in ("success", "simulated"))
    except ExecutionError as err:
        result["status"] = "failure"
        result["reason"] = str(err)
        return False


def max_iterations(spec: Mapping[str, Any]) -> int:
    return int(spec.get("max_iterations", DEFAULT_MAX_ITERATIONS))


def action_items(
    run: Run, action_id: str, spec: Mapping[str, Any], result: dict[str, Any], keyed: bool = False
) -> list[Any] | None:
    """An action's own condition, transform and foreach: the payloads it runs for, or None
    when its condition is not met. Raises ExecutionError. For a keyed action an empty
    foreach list is no key firing, not an error."""
    check_time(run, f"actions.{action_id}")
    if spec.get("condition"):
        scratch: dict[str, Any] = {}
        met = evaluate(run, spec["condition"], f"actions.{action_id}.condition", scratch)
        result["condition"] = scratch["condition"]
        if not met:
            return None
    # ActionWrapper evaluates `foreach` against the ctx's payload, not the transformed one.
    watch_ctx = dict(run.ctx)
    if spec.get("transform"):
        result["transform"] = transform(run, spec["transform"], f"actions.{action_id}.transform")
        if result["transform"]["status"] == "failure":  # as Watcher's ActionWrapper says it
            raise ExecutionError("Failed to transform payload")
    if not spec.get("foreach"):
        return [run.ctx["payload"]]
    return foreach_items(watch_ctx, str(spec["foreach"]), max_iterations(spec), keyed)


def foreach_items(
    ctx: Mapping[str, Any], path: str, limit: int, empty_ok: bool = False
) -> list[Any]:
    """The payloads of the elements `foreach` names, up to `limit` (ActionWrapper: a map is
    the payload, anything else is its `_value`); Watcher's errors when there are none."""
    found = conditions.resolve_path(ctx, path)
    if found is None and empty_ok:
        found = []  # edgewatch's keyed alerts: nothing there, so no key is firing
    if found is None:
        raise ExecutionError(f"specified foreach object was null: [{path}]")
    if not isinstance(found, list):
        # Sic: Watcher's message says "a an".
        raise ExecutionError(f"specified foreach object was not a an array/collection: [{path}]")
    if not found and not empty_ok:
        raise ExecutionError(f"foreach object [{path}] was an empty list, could not run any action")
    return [item if isinstance(item, Mapping) else {"_value": item} for item in found[:limit]]


def keyed_action(
    run: Run,
    action_id: str,
    spec: Mapping[str, Any],
    current: state.ActionState,
    result: dict[str, Any],
) -> state.ActionState:
    """An action with `alert_key`: one alert per key, reminders, resolutions (status/alerts.py)."""
    now = run.options.execution_time
    acked = current.ack.state == state.ACKED
    if run.options.record_state and acked and not skips_throttling(run, action_id):
        result.update(status=state.ACKNOWLEDGED, reason="the action is acknowledged")
        return current
    saved_payload = run.ctx["payload"]
    firing_now: dict[str, Any] = {}
    try:
        # A false action condition means no key is firing: the open ones resolve.
        for item in action_items(run, action_id, spec, result, keyed=True) or []:
            run.ctx["payload"] = item
            key = render_text(run, spec["alert_key"])
            if f"{action_id}/{key}" in run.options.skip_keys:
                result.setdefault("late_skipped_keys", []).append(key)
                continue
            firing_now.setdefault(key, item)
        latest = latest_items(run, spec)
    except ExecutionError as err:
        run.ctx["payload"] = saved_payload
        result.update(status="failure", reason=str(err))
        return state.after_execution(current, now, False, str(err))
    return send_notices(run, action_id, spec, current, firing_now, result, saved_payload, latest)


def latest_items(run: Run, spec: Mapping[str, Any]) -> dict[str, Any]:
    """`resolve_with`: this run's items by key, for resolution notices to render with (a
    recovery can then say what happened since, not only what the last firing saw)."""
    if not spec.get("resolve_with"):
        return {}
    found = conditions.resolve_path(run.ctx, str(spec["resolve_with"]))
    out: dict[str, Any] = {}
    for item in found if isinstance(found, list) else []:
        run.ctx["payload"] = item
        out.setdefault(render_text(run, spec["alert_key"]), item)
    return out


def send_notices(
    run: Run,
    action_id: str,
    spec: Mapping[str, Any],
    current: state.ActionState,
    firing_now: Mapping[str, Any],
    result: dict[str, Any],
    saved_payload: Any,
    latest: Mapping[str, Any] | None = None,
) -> state.ActionState:
    now = run.options.execution_time
    known = current.open_alerts if run.options.record_state else {}
    repeat = state.explicit_throttle_period(spec, run.watch)
    resolve = bool(spec.get("notify_resolved"))
    plan = firing.plan(known, firing_now, now, repeat, resolve, latest)
    kind = result["type"]
    notices: list[dict[str, Any]] = []
    failed: str | None = None
    open_alerts = dict(plan.open_alerts)
    try:
        for notice in plan.notify:
            run.ctx["payload"] = notice.item
            # One firing of a keyed alert: its key, when it started, and which notice.
            name = f"{notice.key}|{dates.format_date(notice.since)}|{notice.status}"
            if run.options.late is not None:
                # A late window is notified once, whatever time its run happens at.
                name = f"{notice.key}|late {run.ctx['trigger']['scheduled_time']}"
            elif notice.status == firing.FIRING and notice.since != dates.as_utc(now):
                name += f"|reminder {dates.format_date(now)}"
            try:
                out = run_action(run, action_id, kind, spec[kind], name, notice)
            except ExecutionError as err:
                failed = str(err)
                # Not stored: tried again next run. A new alert stays new, a reminder and a
                # resolution keep the alert open as it was.
                if notice.key in current.open_alerts:
                    open_alerts[notice.key] = current.open_alerts[notice.key]
                else:
                    open_alerts.pop(notice.key, None)
                continue
            notices.append({"key": notice.key, "alert_status": notice.status, kind: out})
    finally:
        run.ctx["payload"] = saved_payload
    result["alerts"] = notices
    if plan.throttled:
        result["throttled_keys"] = plan.throttled
    if failed is not None:
        result.update(status="failure", reason=failed)
    elif notices:
        result["status"] = "simulated" if is_simulated(run, action_id) else "success"
    elif plan.throttled:
        result.update(status=state.THROTTLED, reason="every firing key was notified recently")
    else:
        result.update(status=state.EXECUTION_NOT_NEEDED, reason="no key is firing")
    if result["status"] == "simulated" or not run.options.record_state:
        return current
    after = current
    fired = any(n["alert_status"] == firing.FIRING for n in notices)
    if fired or failed is not None:
        # Resolutions alone leave the ack state as the false condition set it.
        after = state.after_execution(current, now, failed is None, failed)
    return replace(after, open_alerts=open_alerts)


def resolve_keyed(
    run: Run, actions: Mapping[str, Any], status: state.WatchState
) -> state.WatchState:
    """The watch condition is false: every open alert of a keyed action has resolved."""
    results = []
    new_states = dict(status.actions)
    for action_id, spec in actions.items():
        current = new_states.get(action_id)
        if not spec.get("alert_key") or current is None or not current.open_alerts:
            continue
        result: dict[str, Any] = {"id": action_id, "type": action_type(spec)}
        new_states[action_id] = send_notices(
            run, action_id, spec, current, {}, result, run.ctx["payload"]
        )
        results.append(result)
    if results:
        run.result["actions"] = results
    return replace(status, actions=new_states)
