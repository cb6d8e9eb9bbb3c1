"""Run one watch once: input, condition, transform, actions, as Watcher's execute API does.

Plain Python over plain data. Everything that crosses a process boundary (searching, indexing,
HTTP inputs, Painless scripts, the log) comes in through `Services`, so the executor is unit
tested with fakes and the adapters are proven against the real stack separately.

The result is a watch record shaped like Watcher's (`GET _watcher/watch/<id>/_execute`):
`node`, `state`, `status` (the watch status after the run), `trigger_event`, `result.input`,
`result.condition`, `result.transform`, `result.actions[]` with each action's `status`
(success, failure, simulated, throttled, acknowledged, condition_failed, execution_not_needed)
and its output (`logging.logged_text`, `index.response`, ...).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC
from typing import Any

from pipeline.alerting.engine.actions import (
    resolve_keyed,
    run_actions,
)
from pipeline.alerting.engine.evaluate import condition, transform
from pipeline.alerting.engine.inputs import read_input
from pipeline.alerting.engine.java import dates
from pipeline.alerting.engine.run import ExecutionError, Run, RunOptions, Services
from pipeline.alerting.status import throttle as state
from pipeline.redact import redact_record


def new_context(watch_id: str, watch: Mapping[str, Any], options: RunOptions) -> dict[str, Any]:
    """Watcher's `ctx` at the start of an execution."""
    now = options.execution_time.astimezone(UTC)
    triggered = (options.triggered_time or now).astimezone(UTC)
    scheduled = (options.scheduled_time or triggered).astimezone(UTC)
    return {
        "watch_id": watch_id,
        "id": f"{watch_id}_{uuid.uuid4()}-{dates.format_date(now)}",
        "execution_time": dates.format_date(now),
        "trigger": {
            "scheduled_time": dates.format_date(scheduled),
            "triggered_time": dates.format_date(triggered),
        },
        "metadata": dict(watch.get("metadata") or {}),
        "payload": {},
        "vars": {},
        **({"late": dict(options.late)} if options.late is not None else {}),
    }


def trigger_event(options: RunOptions, trigger: Mapping[str, Any]) -> dict[str, Any]:
    """The record's `trigger_event`, as Watcher's trigger events write it: a manual run's
    schedule times under `manual.schedule`, a scheduled (or late-data) run's under `schedule`."""
    times = {"scheduled_time": trigger["scheduled_time"]}
    return {
        "type": options.trigger,
        "triggered_time": trigger["triggered_time"],
        **({"manual": {"schedule": times}} if options.trigger == "manual" else {"schedule": times}),
    }


def watch_state(result: Mapping[str, Any]) -> str:
    """The watch-level state of an execution (Watcher's WatchRecord.getState): no condition
    result is `failed`; a condition not met `execution_not_needed`; else `acknowledged` if
    any action was, `throttled` if any was, and `executed` otherwise."""
    met = (result.get("condition") or {}).get("met")
    if met is None:
        return "failed"
    if not met:
        return "execution_not_needed"
    statuses = {action.get("status") for action in result.get("actions") or []}
    for status in (state.ACKNOWLEDGED, state.THROTTLED):
        if status in statuses:
            return status
    return "executed"


def execute(
    watch_id: str,
    watch: Mapping[str, Any],
    options: RunOptions,
    services: Services,
    status: state.WatchState | None = None,
) -> tuple[dict[str, Any], state.WatchState]:
    """Execute a (validated) watch once; return its watch record and its new status.

    The record is the one to store and show: passwords and credential headers (of the http
    input, of webhooks) read `::es_redacted::` and URLs have no userinfo or tokens, in the
    rule's definition, the outputs and the error messages alike (pipeline/redact.py). It
    carries the status after the run (`status`, Watcher's WatchStatus), with the version of
    the stored state `status` was read from.
    """
    started = time.monotonic()
    now = options.execution_time
    actions = dict(watch.get("actions") or {})
    status = status or state.WatchState.new(list(actions), now)
    run = Run(watch_id, watch, options, services, new_context(watch_id, watch, options))
    run.result = {"execution_time": run.ctx["execution_time"]}
    try:
        run.result["input"] = read_input(run, watch.get("input") or {"none": {}})
        if options.ignore_condition:
            # As the execute API's ignore_condition: the condition is never evaluated.
            run.result["condition"] = {"type": "always", "status": "success", "met": True}
            met = True
        else:
            met = condition(run)
        status = replace(status, last_checked=now)
        if met:
            status = replace(status, last_met_condition=now)
            if watch.get("transform") and actions:  # as Watcher: only with actions to run
                run.result["transform"] = transform(run, watch["transform"], "transform")
                if run.result["transform"]["status"] == "failure":
                    # No action runs; the watch is still `executed` (20_transform.yml).
                    actions = {}
                    run.messages.append("failed to execute watch transform")
            status = run_actions(run, actions, status)
        else:
            status = replace(
                status,
                actions={k: state.on_condition_false(v, now) for k, v in status.actions.items()},
            )
            status = resolve_keyed(run, actions, status)
    except ExecutionError as err:
        run.messages.append(str(err))
    run.result["execution_duration"] = round((time.monotonic() - started) * 1000)
    outcome = watch_state(run.result)
    status = replace(status, execution_state=outcome)
    # Watcher's order (WatchRecord.toXContent).
    record: dict[str, Any] = {
        "watch_id": watch_id,
        **({"node": options.node} if options.node is not None else {}),
        "state": outcome,
        "status": status.to_dict(),
        "trigger_event": trigger_event(options, run.ctx["trigger"]),
        "input": watch.get("input", {"none": {}}),
        "condition": watch.get("condition", {"always": {}}),
        "metadata": run.ctx["metadata"],
        "result": run.result,
        "messages": run.messages,
        "vars": run.ctx["vars"],
    }
    return redact_record(record), status
