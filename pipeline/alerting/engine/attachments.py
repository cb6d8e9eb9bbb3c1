"""Email attachments as Watcher builds them (notification/email/attachment/*): `data` (the
whole `{ctx: ...}` model as YAML or JSON), `http` (what a rendered request answers), and the
action's `attach_data`.

They are built while the watch runs, not when the courier sends: the bytes go into the stored
notification, so a retry sends the same bytes and no request (nor its credentials) is kept;
and, as in Watcher, an attachment that cannot be had fails the email action, in the watch
record of that execution.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.alerting.engine.run import ExecutionError, Run, only_one

FORMATS = {"yaml": "application/yaml", "json": "application/json"}
HTTP_FIELDS = ("request", "content_type", "inline")


def build(run: Run, body: Mapping[str, Any], render_request: Any) -> list[dict[str, Any]]:
    """The attachments of an email action, each `{name, content_type, inline, data}` (data in
    base64), in the action's order with `attach_data` first; raises ExecutionError.

    `render_request` renders an http request template (the webhook's rendering)."""
    out: list[dict[str, Any]] = []
    attach_data = body.get("attach_data")
    if attach_data:
        spec = attach_data if isinstance(attach_data, Mapping) else {}
        out.append(data_attachment(run, "data", spec))
    for name, spec in (body.get("attachments") or {}).items():
        kind, settings = only_one(spec, f"attachment [{name}]")
        if kind == "data":
            out.append(data_attachment(run, str(name), settings))
        elif kind == "http":
            out.append(http_attachment(run, str(name), settings, render_request))
        else:
            raise ExecutionError(f"attachment [{name}]: type [{kind}] is not supported")
    return out


def data_attachment(run: Run, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """DataAttachment: the model templates see, as YAML (the default) or JSON."""
    fmt = str(spec.get("format") or "yaml").lower()
    if fmt not in FORMATS:
        raise ExecutionError(f"unknown data attachment format [{fmt}]")
    # Written as XContent writes the model: dates in the record's format, not java.time's.
    model = {"ctx": run.ctx}
    if fmt == "json":
        raw = json.dumps(model, ensure_ascii=False, default=str).encode()
    else:
        text = yaml.safe_dump(model, sort_keys=False, allow_unicode=True, explicit_start=True)
        raw = text.encode()
    return _attachment(name, FORMATS[fmt], False, raw)


def http_attachment(
    run: Run, name: str, spec: Mapping[str, Any], render_request: Any
) -> dict[str, Any]:
    """HttpEmailAttachementParser: the rendered request's 2xx answer with a body, typed by
    `content_type` or the answer's Content-Type; anything else fails with Watcher's message."""
    unknown = [key for key in spec if key not in HTTP_FIELDS]
    if unknown:
        raise ExecutionError(
            f"Unknown field name [{unknown[0]}] in http request attachment configuration"
        )
    if not isinstance(spec.get("request"), Mapping):
        raise ExecutionError(f"attachment [{name}]: an http attachment needs a [request]")
    if run.services.http_fetch is None:
        raise ExecutionError(f"attachment [{name}]: no HTTP client is configured for this run")
    request = render_request(run, spec["request"])
    try:
        status, content_type, raw = run.services.http_fetch(request)
    except ExecutionError:
        raise
    except Exception as err:
        raise ExecutionError(f"Watch[{run.watch_id}] attachment[{name}] {err}") from err
    if not 200 <= status < 300 or not raw:
        what = "HTTP error status" if not 200 <= status < 300 else "HTTP empty response body"
        host, port, method, path = _where(request)
        raise ExecutionError(
            f"Watch[{run.watch_id}] attachment[{name}] {what} host[{host}], port[{port}], "
            f"method[{method}], path[{path}], status[{status}]"
        )
    chosen = spec.get("content_type") or content_type or "application/octet-stream"
    return _attachment(name, str(chosen), bool(spec.get("inline", False)), raw)


def _where(request: Mapping[str, Any]) -> tuple[str, int | str, str, str]:
    """host, port, method and path of a request, as Watcher's messages name them."""
    method = str(request.get("method") or "get").upper()
    if request.get("url"):
        parts = urlsplit(str(request["url"]))
        default = 443 if parts.scheme == "https" else 80
        return parts.hostname or "", parts.port or default, method, parts.path
    port = request.get("port", 443 if request.get("scheme") == "https" else 80)
    return str(request.get("host", "")), port, method, str(request.get("path", ""))


def _attachment(name: str, content_type: str, inline: bool, raw: bytes) -> dict[str, Any]:
    return {
        "name": name,
        "content_type": content_type,
        "inline": inline,
        "data": base64.b64encode(raw).decode(),
    }
