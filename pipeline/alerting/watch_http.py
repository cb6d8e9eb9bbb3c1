"""Adapter: a watch's own HTTP requests (the http input, email `http` attachments), sent once.

Both are Watcher HttpRequest templates, already rendered; both go the same way: only where
`http.allowed_hosts` allows (outbound.py, outbound_http.py), with Watcher's timeouts, with a
Content-Type for a body that has none (as Watcher's HttpClient gives one), and with the rule's
`auth.basic` username taking `http.input_password` for `http.input_credential_hosts` only. The
answer is read up to `http.max_response_bytes`. What differs is only what each makes of the
answer, so there is one `send` and two thin readers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.alerting import outbound, outbound_http
from pipeline.alerting.engine.java.durations import parse_duration
from pipeline.alerting.engine.run import ExecutionError
from pipeline.alerting.outbound import OutboundRefusedError
from pipeline.config import HttpConfig

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Answer:
    """What a server answered: status, headers (names lower case, values as lists), body."""

    status_code: int
    headers: dict[str, list[str]]
    raw: bytes
    text: str


def send(request: Mapping[str, Any], http: HttpConfig) -> Answer:
    """Send one rendered Watcher HTTP request; raise OutboundRefusedError for a host or a
    credential that may not be used, httpx.HTTPError or ResponseTooLargeError for a failure."""
    url = str(request.get("url") or "")
    if not url:
        scheme = request.get("scheme", "http")
        path = str(request.get("path", "")).lstrip("/")
        url = f"{scheme}://{request['host']}:{request['port']}/{path}"
    auth = _input_auth(request, http, outbound.target(url))
    timeout = httpx.Timeout(
        _timeout(request, "read_timeout", "read_timeout_millis"),
        connect=_timeout(request, "connection_timeout", "connection_timeout_in_millis"),
    )
    body = request.get("body")
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    client = outbound_http.shared_client(http.allowed_hosts)
    with client.stream(
        str(request.get("method", "get")).upper(),
        url,
        params=request.get("params") or None,
        headers={**outbound_http.IDENTITY, **outbound_http.with_content_type(headers, body)},
        content=body,
        auth=auth,
        timeout=timeout,
    ) as response:
        raw = outbound_http.read_capped(response, http.max_response_bytes)
    answer_headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        answer_headers.setdefault(name.lower(), []).append(value)
    return Answer(response.status_code, answer_headers, raw, outbound_http.text_of(response, raw))


def http_input(request: Mapping[str, Any], http: HttpConfig | None = None) -> dict[str, Any]:
    """Watcher's http input: the answer as `{"status_code", "headers": {name: [values]},
    "body": text}`, which the engine turns into the payload (engine/requests.response_payload).
    A refused or failed request raises ExecutionError: the execution records the input as
    failed."""
    try:
        answer = send(request, http or HttpConfig())
    except (OutboundRefusedError, outbound_http.ResponseTooLargeError) as err:
        raise ExecutionError(f"http input: {err}") from err
    except httpx.HTTPError as err:
        where = request.get("url") or request.get("host")
        raise ExecutionError(f"http input: {where}: {err}") from err
    return {"status_code": answer.status_code, "headers": answer.headers, "body": answer.text}


def http_fetch(
    request: Mapping[str, Any], http: HttpConfig | None = None
) -> tuple[int, str | None, bytes]:
    """An email `http` attachment's request: the status, the Content-Type and the body bytes;
    a refused or failed request raises (engine/attachments.py words the error as Watcher)."""
    answer = send(request, http or HttpConfig())
    content_type = answer.headers.get("content-type")
    return answer.status_code, content_type[0] if content_type else None, answer.raw


def _timeout(request: Mapping[str, Any], name: str, millis: str) -> float:
    """A request's timeout in seconds, from either of Watcher's forms; 10 s by default."""
    if request.get(millis) is not None:
        return float(request[millis]) / 1000
    value = request.get(name)
    return DEFAULT_TIMEOUT_S if value is None else parse_duration(str(value)).total_seconds()


def _input_auth(
    request: Mapping[str, Any], http: HttpConfig, target: outbound.Target
) -> tuple[str, str] | None:
    """The rule's basic auth; without a password in the rule, `http.input_password`, which
    goes only to `http.input_credential_hosts` (a request elsewhere fails, naming it)."""
    basic = (request.get("auth") or {}).get("basic")
    if not isinstance(basic, Mapping):
        return None
    username = str(basic.get("username", ""))
    if basic.get("password") or not http.input_password:
        return (username, str(basic.get("password") or ""))
    if not outbound.credentials_allowed(outbound.parse_all(http.input_credential_hosts), target):
        raise OutboundRefusedError(
            f"{target.hostport} asks for basic auth without a password in the rule, but it is"
            " not in http.input_credential_hosts (EDGEWATCH_HTTP_INPUT_CREDENTIAL_HOSTS), so"
            " http.input_password was not sent; add the host there if it is the password's"
        )
    return (username, http.input_password)
