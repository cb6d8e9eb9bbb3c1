"""Webhook notifications: render a webhook action into a request, and sign it. Pure.

Watcher's webhook action names the target either as `url` or as scheme/host/port/path/params.
Secrets never come from the rule: basic-auth passwords and the HMAC key come from the
configuration at send time. Every request carries `Idempotency-Key: <notification id>`, the
same on every retry of one firing, so a receiver can drop repeats; with `webhook.hmac_secret`
set it also carries `<signature_header>: sha256=<hex HMAC-SHA256 of the body>`.

When the rule gives no body, the body is edgewatch's alert document, described by
`schema/webhook-body.schema.json`.

A body template that looks like JSON (an object or array, or sent with a JSON Content-Type)
renders with JSON escaping (`json_body`), so log text inserted by `{{...}}` stays inside its
string and cannot add keys. Watcher escapes only templates written with `__json__::`;
edgewatch does it by default. `{{{...}}}`, `{{#toJson}}` and `{{#join}}` insert their output
as it is, and a `__text__::` prefix renders the whole body unescaped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from pipeline.alerting.engine.java.durations import parse_duration
from pipeline.alerting.engine.mustache import split_content_type

BODY_SCHEMA_ID = "https://edgewatch.dev/schema/webhook-body.schema.json"
DEFAULT_TIMEOUT_S = 10.0


def content(rendered: Mapping[str, Any], default_body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of one webhook call from a rendered Watcher webhook action."""
    # Watcher's default method is GET; a rule that gives neither method nor body gets
    # edgewatch's alert document POSTed, the useful default for a notification.
    explicit = rendered.get("method")
    method = str(explicit or ("get" if "body" in rendered else "post")).upper()
    if rendered.get("url"):
        url = str(rendered["url"])
        if rendered.get("params"):
            joiner = "&" if urllib.parse.urlsplit(url).query else "?"
            url += joiner + urllib.parse.urlencode(rendered["params"])
    else:
        scheme = str(rendered.get("scheme") or "http").lower()
        path = str(rendered.get("path") or "")
        if path and not path.startswith("/"):
            path = "/" + path
        query = urllib.parse.urlencode(rendered.get("params") or {})
        url = f"{scheme}://{rendered['host']}:{rendered['port']}{path}" + (
            f"?{query}" if query else ""
        )
    headers = {str(k): str(v) for k, v in (rendered.get("headers") or {}).items()}
    if "body" in rendered:
        body = str(rendered["body"])
    elif method in ("POST", "PUT"):
        body = json.dumps(default_body, separators=(",", ":"), default=str)
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    else:
        body = ""
    auth = (rendered.get("auth") or {}).get("basic") or {}
    return {
        "method": method,
        "url": url,
        "headers": headers,
        "body": body,
        "username": auth.get("username"),
        "connect_timeout_s": _seconds(
            rendered, "connection_timeout", "connection_timeout_in_millis"
        ),
        "read_timeout_s": _seconds(rendered, "read_timeout", "read_timeout_millis"),
    }


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of the exact body bytes sent."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request_headers(
    stored: Mapping[str, Any],
    notification_id: str,
    hmac_secret: str | None,
    signature_header: str,
) -> dict[str, str]:
    """The headers to send: the rule's, plus the idempotency key and the signature."""
    headers = dict(stored.get("headers") or {})
    headers["Idempotency-Key"] = notification_id
    if hmac_secret:
        headers[signature_header] = signature(hmac_secret, str(stored.get("body", "")).encode())
    return headers


def default_body(
    notification_id: str,
    ctx: Mapping[str, Any],
    action_id: str,
    alert: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """edgewatch's alert document (see schema/webhook-body.schema.json)."""
    return {
        "$schema": BODY_SCHEMA_ID,
        "id": notification_id,
        "rule_id": ctx["watch_id"],
        "action_id": action_id,
        "execution_id": ctx["id"],
        "status": (alert or {}).get("status", "firing"),
        "alert_key": (alert or {}).get("key"),
        "scheduled_time": ctx["trigger"]["scheduled_time"],
        "execution_time": ctx["execution_time"],
        "metadata": ctx.get("metadata") or {},
        "payload": ctx.get("payload"),
    }


# An object's first key or `}`, or an array's first element (not a `{{` tag): text that
# happens to start with a brace or a bracket ("[ALERT] {{x}}", "{{x}}") is not JSON.
_JSON_START = re.compile(r'\s*(?:\{\s*["}]|\[\s*(?:["\[\]]|\{(?!\{)))')


def looks_like_json(template: str, headers: Mapping[str, Any] | None = None) -> bool:
    """True for a body template that is JSON text, or is sent with a JSON Content-Type."""
    for name, value in (headers or {}).items():
        if str(name).lower() == "content-type" and "json" in str(value).lower():
            return True
    return _JSON_START.match(template) is not None


def json_body(action: Mapping[str, Any]) -> Mapping[str, Any]:
    """The webhook action with its body template marked `__json__::` when it looks like
    JSON and carries no content-type prefix of its own, so it renders with JSON escaping."""
    body = action.get("body")
    source = body.get("source", body.get("inline")) if isinstance(body, Mapping) else body
    if not isinstance(source, str) or split_content_type(source)[0] != source:
        return action
    if not looks_like_json(source, action.get("headers")):
        return action
    marked: Any = "__json__::" + source
    if isinstance(body, Mapping):
        key = "source" if "source" in body else "inline"
        marked = {**body, key: marked}
    return {**action, "body": marked}


def _seconds(rendered: Mapping[str, Any], key: str, millis_key: str) -> float:
    if rendered.get(millis_key) is not None:
        return float(rendered[millis_key]) / 1000
    if rendered.get(key) is not None:
        return parse_duration(str(rendered[key])).total_seconds()
    return DEFAULT_TIMEOUT_S
