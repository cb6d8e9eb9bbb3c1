"""The real side effects of a watch execution: Elasticsearch searches and writes, the log.

`services(config)` builds the `execute.Services` the executor needs. Scripts run as Painless
through the `_scripts/painless/_execute` API of `alert.painless_url` (see painless.py).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from elasticsearch import ApiError, Elasticsearch

from pipeline.alerting import watch_http
from pipeline.alerting.batching import Batcher
from pipeline.alerting.delivery.email import HtmlPolicy
from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.engine.painless import (
    compile_error,
    compile_request,
    normalise,
    request,
)
from pipeline.alerting.engine.run import ScriptRunner, Services
from pipeline.alerting.format.scripts import Compiler, ScriptsUncheckedError
from pipeline.alerting.stored_scripts import StoredScripts, cluster_lookup
from pipeline.clients import elasticsearch as es_client
from pipeline.config import Config

_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}


def reasons(error: object) -> str:
    """What an Elasticsearch `error` object says, which its top-level message often hides:
    each root cause (with the script stack, for a script error) and what caused it; "" when
    `error` is not such an object."""
    if not isinstance(error, dict):
        return ""
    causes = []
    for cause in error.get("root_cause") or [error]:
        if isinstance(cause, dict):
            causes.append(f"{cause.get('type')}: {cause.get('reason')}")
            if cause.get("script_stack"):
                causes.append("at: " + " / ".join(str(s).strip() for s in cause["script_stack"]))
    caused_by = error.get("caused_by")
    if isinstance(caused_by, dict) and caused_by.get("reason"):
        causes.append(f"{caused_by.get('type')}: {caused_by.get('reason')}")
    return "; ".join(dict.fromkeys(causes))


def explain(err: ApiError) -> str:
    """The reasons an Elasticsearch client error carries, else its own message."""
    body = err.body if isinstance(err.body, dict) else {}
    return reasons(body.get("error")) or str(err)


def msearch_sender(es: Elasticsearch) -> Any:
    """Send several watch search requests as one `_msearch`; one result per request."""

    def send(requests: list[Mapping[str, Any]]) -> list[dict[str, Any] | Exception]:
        searches: list[Mapping[str, Any]] = []
        for wanted in requests:
            indices = wanted.get("indices") or []
            header: dict[str, Any] = {
                "index": ",".join(indices) if isinstance(indices, list) else str(indices),
                "search_type": wanted.get("search_type") or "query_then_fetch",
                **dict(wanted.get("indices_options") or {}),
            }
            body = dict(wanted.get("body") or {})
            if wanted.get("timeout"):
                body.setdefault("timeout", wanted["timeout"])
            searches += [header, body]
        response = es.options(request_timeout=120).msearch(
            searches=searches, rest_total_hits_as_int=True
        )
        out: list[dict[str, Any] | Exception] = []
        for item in response["responses"]:
            if "error" in item:
                reason = reasons(item["error"]) or str(item["error"])
                out.append(RuntimeError(f"Elasticsearch answered {item.get('status')}: {reason}"))
            else:
                out.append(dict(item))
        return out

    return send


def services(
    config: Config,
    client: Elasticsearch | None = None,
    batch_searches: bool = False,
    notify: Callable[[Notification], bool] | None = None,
    stored_script: Callable[[str], Mapping[str, Any] | None] | None = None,
) -> Services:
    """Services backed by the configured Elasticsearch and Python logging.

    With `batch_searches`, concurrent searches (rules due at the same moment) go out together
    as `_msearch` requests (batching.py); `rules run`, a single execution, has no use for it.
    `notify` stores email and webhook notifications for delivery (`Courier.submit`);
    `stored_script` finds stored scripts by id (stored_scripts.StoredScripts).
    """
    es = client or es_client.connect(config.es)

    def search(request: Mapping[str, Any]) -> dict[str, Any]:
        indices = request.get("indices") or []
        index = ",".join(indices) if isinstance(indices, list) else str(indices)
        params: dict[str, Any] = dict(request.get("indices_options") or {})
        if request.get("timeout"):
            params["timeout"] = request["timeout"]
        try:
            response = es.options(request_timeout=60).search(
                index=index or "_all",
                body=dict(request.get("body") or {}),
                search_type=request.get("search_type") or "query_then_fetch",
                # Watcher's ctx.payload.hits.total is a number, not {"value", "relation"}.
                rest_total_hits_as_int=True,
                **params,
            )
        except ApiError as err:
            raise RuntimeError(f"Elasticsearch answered {err.meta.status}: {explain(err)}") from err
        return dict(response)

    def index(name: str, docs: list[dict[str, Any]], options: Mapping[str, Any]) -> dict[str, Any]:
        op_type = str(options.get("op_type", "index"))
        operations: list[dict[str, Any]] = []
        for doc in docs:
            meta: dict[str, Any] = {"_index": doc.pop("_index", name)}
            doc_id = doc.pop("_id", None) or options.get("doc_id")
            if doc_id:
                meta["_id"] = doc_id
            operations += [{op_type: meta}, doc]
        refresh = options.get("refresh")
        response = es.bulk(operations=operations, refresh=refresh if refresh else None)
        return {"errors": response["errors"], "items": response["items"]}

    def log_text(level: str, category: str, text: str) -> None:
        name = "edgewatch.watch" + (f".{category}" if category else "")
        logging.getLogger(name).log(_LEVELS.get(level.lower(), logging.INFO), "%s", text)

    if batch_searches:
        search = Batcher(msearch_sender(es), name="msearch")
    return Services(
        search=search,
        index=index,
        log_text=log_text,
        run_script=script_runner(config),
        http=lambda request: watch_http.http_input(request, config.http),
        http_fetch=lambda request: watch_http.http_fetch(request, config.http),
        notify=notify,
        stored_script=stored_script,
        kibana_url=config.alert.kibana_url,
        html_policy=HtmlPolicy.of(config.smtp),
    )


def stored_scripts(config: Config, rules_dir: Path | None) -> StoredScripts:
    """Stored scripts from `<rules_dir>/_scripts/`, then from the configured Elasticsearch."""
    client = httpx.Client(base_url=config.es.url, timeout=30.0, **es_http_options(config))
    return StoredScripts(cluster_lookup(client), rules_dir)


def script_runner(config: Config) -> ScriptRunner:
    """Runs watch scripts through the Painless execute API at `alert.painless_url`.

    Plain HTTP rather than the Elasticsearch client: the API is the same on Elasticsearch and
    on the OpenSearch node the local stack uses for it, and the client refuses the latter.
    """
    client = _painless_client(config, 30.0)

    def run(script: Any, ctx: Mapping[str, Any], purpose: str) -> Any:
        spec = normalise(script)
        source = spec.source
        try:
            if source is None:
                stored = client.get(f"/_scripts/{spec.id}")
                if stored.status_code == 404:
                    raise RuntimeError(f"no stored script with id {spec.id!r}")
                _raise_for(stored)
                source = str(stored.json()["script"]["source"])
            response = client.post(
                "/_scripts/painless/_execute", json=request(source, ctx, spec.params)
            )
        except httpx.HTTPError as err:
            raise RuntimeError(
                f"cannot reach the Painless executor at {config.alert.painless_url} ({err}); "
                "start the local stack (make stack-up) or set EDGEWATCH_ALERT_PAINLESS_URL"
            ) from err
        _raise_for(response)
        outcome = json.loads(response.json()["result"])
        if isinstance(ctx, dict) and isinstance(outcome.get("vars"), dict):
            ctx["vars"] = outcome["vars"]  # Watcher scripts may set ctx.vars
        return outcome.get("result")

    return run


def script_compiler(config: Config, timeout: float = 10.0) -> Compiler:
    """Compiles watch scripts through the same API without running them (painless.py's
    `compile_request`): None when a script compiles, else the executor's reasons (the cause
    and the script stack). Raises ScriptsUncheckedError when the executor cannot be asked or
    answers anything but a compile verdict (down, refused credentials, no Painless)."""
    client = _painless_client(config, timeout)
    where = config.alert.painless_url

    def compile_script(source: str) -> str | None:
        try:
            response = client.post("/_scripts/painless/_execute", json=compile_request(source))
        except httpx.HTTPError as err:
            raise ScriptsUncheckedError(f"no Painless executor answers at {where} ({err})") from err
        if response.status_code < 300:
            return None
        try:
            error = response.json().get("error")
        except ValueError:
            error = None
        if (
            response.status_code == 400
            and isinstance(error, dict)
            and error.get("type") == "script_exception"
        ):
            return compile_error(error, source)
        raise ScriptsUncheckedError(
            f"the Painless executor at {where} answered HTTP {response.status_code}: "
            + (" ".join(reasons(error).split()) or response.text[:200])
        )

    return compile_script


def _painless_client(config: Config, timeout: float) -> httpx.Client:
    return httpx.Client(base_url=config.alert.painless_url, timeout=timeout, **_es_auth(config))


def _es_auth(config: Config) -> dict[str, Any]:
    """When scripts run in the configured Elasticsearch itself (the production setup), the
    same credentials and CA as for the Elasticsearch client; none for another server."""
    if config.alert.painless_url.rstrip("/") != config.es.url.rstrip("/"):
        return {}
    return es_http_options(config)


def es_http_options(config: Config) -> dict[str, Any]:
    """httpx options for the configured Elasticsearch: its credentials and CA."""
    options: dict[str, Any] = {}
    if config.es.api_key:
        options["headers"] = {"Authorization": f"ApiKey {config.es.api_key}"}
    elif config.es.username:
        options["auth"] = httpx.BasicAuth(config.es.username, config.es.password or "")
    if config.es.ca_certs:
        options["verify"] = ssl.create_default_context(cafile=str(config.es.ca_certs))
    return options


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    found = reasons(body.get("error") if isinstance(body, dict) else None)
    raise RuntimeError(found or f"HTTP {response.status_code}: {response.text[:500]}")
