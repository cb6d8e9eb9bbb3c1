"""The condition phase and the transforms of a watch execution: compare, array_compare, always,
never and script conditions; search, script and chain transforms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.alerting.engine import conditions
from pipeline.alerting.engine.inputs import search
from pipeline.alerting.engine.run import ExecutionError, Run, call_script, check_time, only_one


def condition(run: Run) -> bool:
    check_time(run, "condition")
    spec = run.watch.get("condition") or {"always": {}}
    return evaluate(run, spec, "condition")


def evaluate(
    run: Run, spec: Mapping[str, Any], where: str, target: dict[str, Any] | None = None
) -> bool:
    kind, body = only_one(spec, where)
    out = run.result if target is None else target
    if kind == "script":
        value = call_script(run, body, where)
        out["condition"] = {"type": "script", "status": "success", "met": bool(value)}
        return bool(value)
    try:
        outcome = conditions.evaluate(spec, run.ctx, run.options.execution_time)
    except conditions.ConditionError as err:
        out["condition"] = {"type": kind, "status": "failure", "reason": str(err)}
        raise ExecutionError(f"{where}: {err}") from err
    out["condition"] = {"type": outcome.type, "status": "success", "met": outcome.met}
    if outcome.resolved_values:
        out["condition"][outcome.type] = {"resolved_values": dict(outcome.resolved_values)}
    return outcome.met


def transform(run: Run, spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    check_time(run, where)
    kind, body = only_one(spec, where)
    if kind == "search":
        payload = search(run, body)
    elif kind == "script":
        value = call_script(run, body, where)
        # As in Watcher: a map becomes the payload, anything else is wrapped as `_value`.
        payload = dict(value) if isinstance(value, Mapping) else {"_value": value}
    elif kind == "chain":
        for step in body if isinstance(body, list) else []:
            transform(run, step, where)
        payload = run.ctx["payload"]
    else:
        raise ExecutionError(f"{where}: transform type {kind!r} is not supported")
    run.ctx["payload"] = payload
    return {"type": kind, "status": "success", "payload": payload}
