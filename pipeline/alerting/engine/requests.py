"""The requests of search and http inputs and transforms: rendered from the watch, and shown in
the execution's result as Watcher shows them (WatcherSearchTemplateRequest, HttpRequest); a
search template rendered by edgewatch itself; an http response turned into a payload. Pure.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from pipeline.alerting.engine import conditions
from pipeline.alerting.engine.java.durations import parse_duration
from pipeline.alerting.engine.mustache import TemplateError, render
from pipeline.alerting.engine.run import ExecutionError, Run, render_text, template_model
from pipeline.redact import redact_params

# Watcher's default indices options (IndicesOptions.lenientExpandOpen): not shown when used.
LENIENT_EXPAND_OPEN = {
    "expand_wildcards": "open",
    "ignore_unavailable": True,
    "allow_no_indices": True,
}
_SCHEME_PORTS = {"http": 80, "https": 443}


def search_request(run: Run, spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A search input's or transform's request: what `Services.search` sends, and the request
    as the result shows it (`search.request`). Raises ExecutionError."""
    request = spec.get("request") or {}
    indices = request.get("indices") or []
    if isinstance(indices, str):
        indices = [part for part in indices.split(",") if part]
    template = request.get("template")
    body = (
        render_template(run, template)
        if template is not None
        else render_body(run, request.get("body") or {})
    )
    search_type = str(request.get("search_type") or "query_then_fetch").lower()
    options = request.get("indices_options")
    sent = {
        "indices": list(indices),
        "body": body,
        "search_type": search_type,
        "indices_options": options,
        "timeout": spec.get("timeout"),
    }
    shown: dict[str, Any] = {
        "search_type": search_type,
        "indices": list(indices),
        "rest_total_hits_as_int": True,
        "body": body,
    }
    if options and {**LENIENT_EXPAND_OPEN, **options} != LENIENT_EXPAND_OPEN:
        shown["indices_options"] = dict(options)
    if template is not None:
        shown["template"] = template
    return sent, shown


def render_body(run: Run, body: Any) -> Any:
    """As Watcher does: the body as JSON text, rendered as one template with JSON escaping."""
    try:
        text = render(json.dumps(body), template_model(run), escape="json")
    except TemplateError as err:
        raise ExecutionError(f"search request body: {err}") from err
    return _parsed(text, "body")


def render_template(run: Run, template: Any) -> Any:
    """A search template (WatcherSearchTemplateService): inline `source` (text, or an object
    taken as its JSON text) or a stored script's by `id`, rendered with JSON escaping against
    `ctx` and then the template's `params`, which win over `ctx`, and parsed as the body.

    edgewatch renders it itself: the Elasticsearch it searches need not have lang-mustache."""
    if not isinstance(template, Mapping):
        template = {"source": template}
    source = template.get("source", template.get("inline"))
    if source is None:
        source = stored_source(run, str(template.get("id", "")))
    if not isinstance(source, str):
        source = json.dumps(source)
    model = {**template_model(run), **(template.get("params") or {})}
    try:
        text = render(source, model, escape="json")
    except TemplateError as err:
        raise ExecutionError(f"search template: {err}") from err
    return _parsed(text, "template")


def stored_source(run: Run, script_id: str) -> Any:
    """The source of the stored search template `script_id`; an error naming it if none."""
    lookup = run.services.stored_script
    found = lookup(script_id) if lookup is not None and script_id else None
    if found is None:
        raise ExecutionError(f"search template: no stored script with id [{script_id}]")
    lang = found.get("lang") or "mustache"
    if lang != "mustache":
        raise ExecutionError(
            f"search template: stored script [{script_id}] is {lang}, not mustache"
        )
    return found.get("source", "")


def _parsed(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ExecutionError(f"search request {what} is not JSON once rendered: {err}") from err


def http_request(run: Run, spec: Mapping[str, Any]) -> dict[str, Any]:
    """An http input's request rendered and put in Watcher's form (HttpRequestTemplate): url,
    host, path and body, and each param and header value, are text templates; a `url` is
    split into scheme, host, port, path and params; the method is lower case."""
    rendered = dict(spec)
    try:
        for name in ("url", "host", "path", "body"):
            if rendered.get(name) is not None:
                rendered[name] = render_text(run, rendered[name])
        for table in ("params", "headers"):
            if rendered.get(table):
                rendered[table] = {k: render_text(run, v) for k, v in rendered[table].items()}
    except TemplateError as err:
        raise ExecutionError(f"http input: {err}") from err
    url = rendered.pop("url", None)
    if url:
        parts = urllib.parse.urlsplit(str(url))
        scheme = parts.scheme.lower() or "http"
        rendered["scheme"] = scheme
        rendered["host"] = parts.hostname or ""
        rendered["port"] = parts.port or _SCHEME_PORTS.get(scheme, 80)
        if parts.path:
            rendered["path"] = parts.path
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        if query:
            rendered["params"] = {**query, **(rendered.get("params") or {})}
    # Timeouts as HttpRequest keeps them, in milliseconds, whichever form the rule used.
    for name, millis in (
        ("connection_timeout", "connection_timeout_in_millis"),
        ("read_timeout", "read_timeout_millis"),
    ):
        if rendered.get(name) is not None and rendered.get(millis) is None:
            rendered[millis] = int(parse_duration(str(rendered[name])).total_seconds() * 1000)
        rendered.pop(name, None)
    rendered["scheme"] = str(rendered.get("scheme") or "http").lower()
    rendered["method"] = str(rendered.get("method") or "get").lower()
    if rendered.get("port") is None:
        rendered["port"] = _SCHEME_PORTS.get(rendered["scheme"], 80)
    return rendered


def shown_http(request: Mapping[str, Any]) -> dict[str, Any]:
    """The http request as Watcher's result shows it (HttpRequest.toXContent's order); the
    record's redaction (pipeline/redact.py) hides its password and Authorization header, and
    here the params named like secrets, which a URL's query turned into (as in the url itself,
    edgewatch hides `?api_key=` values; Watcher shows them)."""
    shown = {k: request[k] for k in ("host", "port", "scheme", "method") if k in request}
    for key in (
        "path",
        "params",
        "headers",
        "auth",
        "body",
        "connection_timeout_in_millis",
        "read_timeout_millis",
        "proxy",
    ):
        if request.get(key) not in (None, "", {}):
            shown[key] = request[key]
    if isinstance(shown.get("params"), Mapping):
        shown["params"] = redact_params(shown["params"])
    return shown


# Media types Watcher parses an http input's answer as (XContentType); YAML, SMILE and CBOR
# are not read by edgewatch (see docs/rules.md).
_JSON_TYPE = re.compile(r"^\s*application/(?:[\w.+-]+\+)?json\b|^\s*json\s*$", re.IGNORECASE)


def response_payload(
    status: int,
    headers: Mapping[str, list[str]],
    text: str,
    response_content_type: str | None = None,
    keys: Any = None,
) -> dict[str, Any]:
    """An http input's payload (ExecutableHttpInput): the body parsed by `response_content_type`,
    else the answer's JSON Content-Type, else by sniffing it; a JSON array as `{"data": [..]}`,
    text as `{"_value": text}`; `extract` applied; then `_status_code` and `_headers` always."""
    wanted = (response_content_type or "").strip().lower()
    declared = next((v[0] for k, v in headers.items() if k.lower() == "content-type" and v), "")
    payload: dict[str, Any] = {}
    if text.strip():
        as_json = (
            wanted == "json"
            if wanted
            else bool(_JSON_TYPE.match(declared)) or text.lstrip()[:1] in ("{", "[")
        )
        if wanted == "text" or not as_json:
            payload = {"_value": text}
        else:
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as err:
                raise ExecutionError(
                    f"http input: could not parse response body [{text[:200]}] it does not"
                    f" appear to be [json]: {err}"
                ) from err
            payload = parsed if isinstance(parsed, dict) else {"data": parsed}
    payload = extract(payload, keys)
    payload["_status_code"] = status
    if headers:
        payload["_headers"] = {k: list(v) for k, v in headers.items()}
    return payload


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


def run_search(run: Run, sent: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Send a rendered search request; the adapter's errors become the step's ExecutionError."""
    try:
        return run.services.search(sent)
    except ExecutionError:
        raise
    except Exception as err:  # the adapter's own errors, reported in the record
        raise ExecutionError(f"{where}: {err}") from err


def run_http(run: Run, request: Mapping[str, Any]) -> dict[str, Any]:
    """Send a rendered http request; the answer as `{status_code, headers, body}`."""
    if run.services.http is None:
        raise ExecutionError("http input: no HTTP client configured")
    return run.services.http(request)
