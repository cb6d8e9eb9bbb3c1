"""Run one watch once: input, condition, transform, actions, as Watcher's execute API does.

Plain Python over plain data. Everything that crosses a process boundary (searching, indexing,
HTTP inputs, Painless scripts, the log) comes in through `Services`, so the executor is unit
tested with fakes and the adapters are proven against the real stack separately.

The result is a watch record shaped like Watcher's (`GET _watcher/watch/<id>/_execute`):
`state`, `trigger_event`, `result.input`, `result.condition`, `result.transform`,
`result.actions[]` with each action's `status` (success, failure, simulated, throttled,
acknowledged, condition_failed, execution_not_needed) and its output (`logging.logged_text`,
`index.response`, ...).
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
    scheduled = (options.scheduled_time or now).astimezone(UTC)
    return {
        "watch_id": watch_id,
        "id": f"{watch_id}_{uuid.uuid4()}-{dates.format_date(now)}",
        "execution_time": dates.format_date(now),
        "trigger": {
            "scheduled_time": dates.format_date(scheduled),
            "triggered_time": dates.format_date(now),
        },
        "metadata": dict(watch.get("metadata") or {}),
        "payload": {},
        "vars": {},
        **({"late": dict(options.late)} if options.late is not None else {}),
    }


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
    rule's definition, the outputs and the error messages alike (pipeline/redact.py).
    """
    started = time.monotonic()
    now = options.execution_time
    actions = dict(watch.get("actions") or {})
    status = status or state.WatchState.new(list(actions), now)
    run = Run(watch_id, watch, options, services, new_context(watch_id, watch, options))
    run.result = {"execution_time": run.ctx["execution_time"]}
    record: dict[str, Any] = {
        "watch_id": watch_id,
        "trigger_event": {
            "type": options.trigger,
            "triggered_time": run.ctx["trigger"]["triggered_time"],
            "manual" if options.trigger == "manual" else "schedule": {
                "scheduled_time": run.ctx["trigger"]["scheduled_time"]
            },
        },
        "input": watch.get("input", {"none": {}}),
        "condition": watch.get("condition", {"always": {}}),
        "metadata": run.ctx["metadata"],
    }
    try:
        run.result["input"] = read_input(run, watch.get("input") or {"none": {}})
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
            record["state"] = "executed"
        else:
            status = replace(
                status,
                actions={k: state.on_condition_false(v, now) for k, v in status.actions.items()},
            )
            status = resolve_keyed(run, actions, status)
            record["state"] = "execution_not_needed"
    except ExecutionError as err:
        record["state"] = "failed"
        run.messages.append(str(err))
    run.result["execution_duration"] = round((time.monotonic() - started) * 1000)
    record["result"] = run.result
    record["messages"] = run.messages
    record["vars"] = run.ctx["vars"]
    return redact_record(record), status
