"""The input phase of a watch execution: none, simple, search, http and chain inputs (a chain
may hold transforms too), each result showing its request as Watcher shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.alerting.engine import requests
from pipeline.alerting.engine.evaluate import failure_result, transform
from pipeline.alerting.engine.run import ExecutionError, Run, check_time, only_one


def read_input(run: Run, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The watch's input result (`alternative_input` in its place when given); a failed input
    is recorded in the result and raised as ExecutionError."""
    if run.options.alternative_input is not None:
        run.ctx["payload"] = dict(run.options.alternative_input)
        return {"type": "simple", "status": "success", "payload": run.ctx["payload"]}
    check_time(run, "input")
    kind, body = only_one(spec, "input")
    result = input_result(run, kind, body)
    if result["status"] == "failure":
        run.result["input"] = result
        raise ExecutionError(result["reason"])
    run.ctx["payload"] = result["payload"]
    return result


def input_result(run: Run, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One input's result as Watcher's Input.Result shows it: `{type, status, payload}` plus
    the request it sent (`search.request`, `http.request`/`status_code`); a failure has
    `reason` and `error` (and the request when it was rendered) in place of the payload."""
    shown: dict[str, Any] = {}
    try:
        payload = input_payload(run, kind, body, shown)
    except ExecutionError as err:
        return failure_result(kind, str(err), shown)
    return {"type": kind, "status": "success", "payload": payload, **shown}


def input_payload(
    run: Run, kind: str, body: Mapping[str, Any], shown: dict[str, Any]
) -> dict[str, Any]:
    """The payload of one input; what the result shows of its request goes into `shown`."""
    if kind == "none":
        return {}
    if kind == "simple":
        return dict(body)
    if kind == "search":
        sent, request = requests.search_request(run, body)
        shown["search"] = {"request": request}
        found = requests.run_search(run, sent, "search input")
        return requests.extract(found, body.get("extract"))
    if kind == "http":
        rendered = requests.http_request(run, body.get("request") or {})
        shown["http"] = {"request": requests.shown_http(rendered)}
        answer = requests.run_http(run, rendered)
        shown["http"]["status_code"] = answer["status_code"]
        return requests.response_payload(
            answer["status_code"],
            answer.get("headers") or {},
            str(answer.get("body") or ""),
            body.get("response_content_type"),
            body.get("extract"),
        )
    if kind == "chain":
        return chain(run, body, shown)
    raise ExecutionError(f"input type {kind!r} is not supported")


def chain(run: Run, body: Mapping[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """Watcher's chain input (ExecutableChainInput): each input, or transform, sees the
    payloads before it as `ctx.payload.<name>`; an input that fails adds `{}` and the chain
    goes on, a transform that fails fails the chain."""
    combined: dict[str, Any] = {}
    results: dict[str, Any] = {}
    shown["chain"] = results
    for entry in body.get("inputs") or []:
        name, inner = only_one(entry, "chain input")
        inner_kind, inner_body = only_one(inner, f"chain input {name}")
        run.ctx["payload"] = dict(combined)
        if inner_kind == "transform":
            step = transform(run, inner_body, f"chain input {name}")
            results[name] = {**step, "type": "transform"}
            if step["status"] == "failure":
                raise ExecutionError(f"chain input {name}: {step['reason']}")
        else:
            step = input_result(run, inner_kind, inner_body)
            results[name] = step
        combined[name] = step.get("payload", {}) if step["status"] == "success" else {}
    run.ctx["payload"] = combined
    return combined
