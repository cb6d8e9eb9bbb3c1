"""The input phase of a watch execution: none, simple, search, http and chain inputs, rendered as
Watcher renders them, and `extract`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.alerting.engine import conditions
from pipeline.alerting.engine.mustache import render, render_value
from pipeline.alerting.engine.run import ExecutionError, Run, check_time, only_one, template_model


def read_input(run: Run, spec: Mapping[str, Any]) -> dict[str, Any]:
    if run.options.alternative_input is not None:
        run.ctx["payload"] = dict(run.options.alternative_input)
        return {"type": "simple", "status": "success", "payload": run.ctx["payload"]}
    check_time(run, "input")
    kind, body = only_one(spec, "input")
    try:
        payload = input_payload(run, kind, body)
    except ExecutionError as err:
        run.result["input"] = {"type": kind, "status": "failure", "reason": str(err)}
        raise
    run.ctx["payload"] = payload
    return {"type": kind, "status": "success", "payload": payload}


def input_payload(run: Run, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "none":
        return {}
    if kind == "simple":
        return dict(body)
    if kind == "search":
        return extract(search(run, body), body.get("extract"))
    if kind == "http":
        if run.services.http is None:
            raise ExecutionError("http input: no HTTP client configured")
        request = render_value(dict(body.get("request") or {}), template_model(run))
        return extract(run.services.http(request), body.get("extract"))
    if kind == "chain":
        combined: dict[str, Any] = {}
        for entry in body.get("inputs") or []:
            name, inner = only_one(entry, "chain input")
            inner_kind, inner_body = only_one(inner, f"chain input {name}")
            combined[name] = input_payload(run, inner_kind, inner_body)
            # Later inputs of the chain see earlier ones as ctx.payload.<name>.
            run.ctx["payload"] = combined
        return combined
    raise ExecutionError(f"input type {kind!r} is not supported")


def search(run: Run, body: Mapping[str, Any]) -> dict[str, Any]:
    request = dict(body.get("request") or {})
    if "template" in request:
        raise ExecutionError(
            "search input: request.template (search templates) is not supported yet; "
            "put the query in request.body"
        )
    rendered = {
        "indices": request.get("indices", []),
        "body": render_body(run, request.get("body") or {}),
        "search_type": request.get("search_type", "query_then_fetch"),
        "indices_options": request.get("indices_options"),
        "timeout": body.get("timeout"),
    }
    try:
        return run.services.search(rendered)
    except ExecutionError:
        raise
    except Exception as err:  # the adapter's own errors, reported in the record
        raise ExecutionError(f"search input failed: {err}") from err


def render_body(run: Run, body: Any) -> Any:
    """As Watcher does: the body as JSON text, rendered as one template with JSON escaping."""
    text = render(json.dumps(body), template_model(run), escape="json")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ExecutionError(f"search request body is not JSON once rendered: {err}") from err


def extract(payload: dict[str, Any], keys: Any) -> dict[str, Any]:
    """Watcher's `extract`: keep only these (dotted) paths of the payload."""
    if not keys:
        return payload
    out: dict[str, Any] = {}
    for key in keys:
        value = conditions.eval_path(key, payload)
        if value is None:
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
