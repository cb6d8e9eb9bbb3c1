"""The condition phase and the transforms of a watch execution: compare, array_compare, always,
never and script conditions; search, script and chain transforms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeline.alerting.engine import conditions, requests
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
    """Run a transform; its result as Watcher's Transform.Result shows it. A failing transform
    does not raise: its result is `{type, status: "failure", reason, error}` (plus the search
    request, once rendered), and the caller decides what a failure stops."""
    check_time(run, where)
    kind, body = only_one(spec, where)
    shown: dict[str, Any] = {}
    try:
        payload = transform_payload(run, kind, body, where, shown)
    except ExecutionError as err:
        return failure_result(kind, str(err), shown)
    run.ctx["payload"] = payload
    return {"type": kind, "status": "success", "payload": payload, **shown}


def transform_payload(
    run: Run, kind: str, body: Any, where: str, shown: dict[str, Any]
) -> dict[str, Any]:
    """The payload one transform gives; what the result shows of it goes into `shown`."""
    if kind == "search":
        sent, request = requests.search_request(run, body)
        shown["search"] = {"request": request}
        return requests.run_search(run, sent, f"{where}: search")
    if kind == "script":
        value = call_script(run, body, where)
        # As in Watcher: a map becomes the payload, anything else is wrapped as `_value`.
        return dict(value) if isinstance(value, Mapping) else {"_value": value}
    if kind == "chain":
        results: list[dict[str, Any]] = []
        shown["chain"] = results
        for step in body if isinstance(body, list) else []:
            results.append(transform(run, step, where))
            if results[-1]["status"] == "failure":
                raise ExecutionError(results[-1]["reason"])
        return dict(run.ctx["payload"])
    raise ExecutionError(f"{where}: transform type {kind!r} is not supported")


# The Elasticsearch error type an adapter's message names ("parsing_exception: unknown ...").
_ERROR_TYPE = re.compile(r"\b([a-z_]+_exception)\b")


def failure_result(kind: str, reason: str, shown: Mapping[str, Any]) -> dict[str, Any]:
    """A failed input or transform as Watcher's result shows it: `{type, status: "failure",
    reason, error}` plus what was shown of its request. (Watcher's Input.Result has `error`
    only; `reason` is kept for edgewatch's readers.)"""
    return {
        "type": kind,
        "status": "failure",
        "reason": reason,
        "error": error_object(reason),
        **shown,
    }


def error_object(reason: str) -> dict[str, Any]:
    """Watcher's `error` of a failed step, `{type, reason}`: the Elasticsearch exception type
    the reason names, else `exception`."""
    found = _ERROR_TYPE.search(reason)
    return {"type": found.group(1) if found else "exception", "reason": reason}
