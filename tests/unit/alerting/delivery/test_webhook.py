"""Webhook notifications (webhook.py): the stored request, its signature and headers."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerting.delivery import webhook
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from tests.unit.alerting.fakes import Fakes

DOC: dict[str, Any] = {"rule_id": "spike", "status": "firing", "payload": {"n": 1}}
CTX: dict[str, Any] = {
    "watch_id": "fleet/error-spike",
    "id": "fleet/error-spike_123-2026-11-25T10:00:00.000Z",
    "execution_time": "2026-11-25T10:00:01.000Z",
    "trigger": {
        "scheduled_time": "2026-11-25T10:00:00.000Z",
        "triggered_time": "2026-11-25T10:00:01.000Z",
    },
    "metadata": {"team": "edge"},
    "payload": {"hits": {"total": 120}},
    "vars": {},
}


def _content(**rendered: Any) -> dict[str, Any]:
    return webhook.content(rendered, DOC)


def test_url_with_params_appends_a_query() -> None:
    stored = _content(url="https://hooks.example/alert", params={"q": "a b", "n": "1"})
    assert stored["url"] == "https://hooks.example/alert?q=a+b&n=1"
    joined = _content(url="https://hooks.example/alert?x=1", params={"y": "2"})
    assert joined["url"] == "https://hooks.example/alert?x=1&y=2"
    assert _content(url="https://hooks.example/a")["url"] == "https://hooks.example/a"


def test_host_port_path_params() -> None:
    stored = _content(
        scheme="HTTPS", host="hooks.example", port=8443, path="v1/alert", params={"k": "v&w"}
    )
    assert stored["url"] == "https://hooks.example:8443/v1/alert?k=v%26w"
    plain = _content(host="10.0.0.5", port=9000)
    assert plain["url"] == "http://10.0.0.5:9000"
    slash = _content(host="h", port=80, path="/x/y")
    assert slash["url"] == "http://h:80/x/y"


def test_no_method_and_no_body_posts_the_alert_document_as_json() -> None:
    stored = _content(url="http://h/x")
    assert stored["method"] == "POST"
    assert json.loads(stored["body"]) == DOC
    assert stored["headers"] == {"Content-Type": "application/json"}


def test_a_body_without_a_method_uses_watchers_default_get() -> None:
    stored = _content(url="http://h/x", body="hello")
    assert (stored["method"], stored["body"], stored["headers"]) == ("GET", "hello", {})


def test_an_empty_body_given_is_kept_and_not_replaced_by_the_document() -> None:
    stored = _content(url="http://h/x", method="post", body="")
    assert (stored["method"], stored["body"]) == ("POST", "")
    assert "Content-Type" not in stored["headers"]


def test_explicit_get_without_a_body_sends_an_empty_body() -> None:
    stored = _content(url="http://h/x", method="get")
    assert (stored["method"], stored["body"], stored["headers"]) == ("GET", "", {})


def test_explicit_put_without_a_body_sends_the_document() -> None:
    stored = _content(url="http://h/x", method="PUT")
    assert stored["method"] == "PUT"
    assert json.loads(stored["body"]) == DOC


def test_rule_headers_are_kept_and_a_rule_content_type_wins() -> None:
    stored = _content(
        url="http://h/x",
        method="post",
        headers={"X-Team": "edge", "Content-Type": "application/vnd.alert+json", "N": 5},
    )
    assert stored["headers"] == {
        "X-Team": "edge",
        "Content-Type": "application/vnd.alert+json",
        "N": "5",
    }


def test_basic_auth_username_only_and_default_timeouts() -> None:
    stored = _content(url="http://h/x", auth={"basic": {"username": "alerts"}})
    assert stored["username"] == "alerts"
    assert "password" not in json.dumps(stored)
    assert stored["connect_timeout_s"] == webhook.DEFAULT_TIMEOUT_S
    assert stored["read_timeout_s"] == webhook.DEFAULT_TIMEOUT_S
    assert _content(url="http://h/x")["username"] is None


def test_timeouts_from_time_values_and_millis() -> None:
    stored = _content(url="http://h/x", connection_timeout="1500ms", read_timeout="2m")
    assert (stored["connect_timeout_s"], stored["read_timeout_s"]) == (1.5, 120.0)
    millis = _content(url="http://h/x", connection_timeout_in_millis=250, read_timeout_millis=30000)
    assert (millis["connect_timeout_s"], millis["read_timeout_s"]) == (0.25, 30.0)
    # The millis form wins when both are given.
    both = _content(url="http://h/x", read_timeout="1s", read_timeout_millis=5000)
    assert both["read_timeout_s"] == 5.0


def test_stored_content_is_json_data() -> None:
    stored = _content(url="http://h/x", params={"a": "1"})
    assert json.loads(json.dumps(stored)) == stored


def test_signature_matches_an_independent_hmac() -> None:
    body = '{"rule_id":"spike","text":"naïve ✓"}'.encode()
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert webhook.signature("s3cret", body) == "sha256=" + expected


def test_request_headers_add_the_idempotency_key_and_the_signature() -> None:
    stored = _content(url="http://h/x", headers={"X-Team": "edge"})
    headers = webhook.request_headers(stored, "abc123", "s3cret", "X-Edgewatch-Signature")
    body = stored["body"].encode()
    assert headers == {
        "X-Team": "edge",
        "Content-Type": "application/json",
        "Idempotency-Key": "abc123",
        "X-Edgewatch-Signature": "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest(),
    }
    # The stored headers are not changed in place.
    assert "Idempotency-Key" not in stored["headers"]


def test_no_signature_without_a_secret() -> None:
    stored = _content(url="http://h/x")
    for secret in (None, ""):
        headers = webhook.request_headers(stored, "abc123", secret, "X-Sig")
        assert headers["Idempotency-Key"] == "abc123"
        assert "X-Sig" not in headers


def test_default_body_is_the_alert_document() -> None:
    doc = webhook.default_body("n1", CTX, "notify", None)
    assert doc == {
        "$schema": webhook.BODY_SCHEMA_ID,
        "id": "n1",
        "rule_id": "fleet/error-spike",
        "action_id": "notify",
        "execution_id": CTX["id"],
        "status": "firing",
        "alert_key": None,
        "scheduled_time": "2026-11-25T10:00:00.000Z",
        "execution_time": "2026-11-25T10:00:01.000Z",
        "metadata": {"team": "edge"},
        "payload": {"hits": {"total": 120}},
    }
    keyed = webhook.default_body("n2", CTX, "notify", {"key": "edge-3", "status": "resolved"})
    assert (keyed["alert_key"], keyed["status"]) == ("edge-3", "resolved")


def test_default_body_without_metadata_has_an_empty_object() -> None:
    ctx = {k: v for k, v in CTX.items() if k != "metadata"}
    assert webhook.default_body("n", ctx, "a", None)["metadata"] == {}


@given(body=st.text(), secret=st.text(min_size=1))
def test_any_body_and_secret_sign_verifiably_and_stably(body: str, secret: str) -> None:
    stored: Mapping[str, Any] = _content(url="http://h/x", method="post", body=body)
    first = webhook.request_headers(stored, "id", secret, "X-Sig")["X-Sig"]
    again = webhook.request_headers(stored, "id", secret, "X-Sig")["X-Sig"]
    assert first == again
    # What a receiver does: HMAC the raw body bytes it got and compare in constant time.
    raw = body.encode()
    mine = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(first, mine)


@given(params=st.dictionaries(st.text(min_size=1), st.text(), max_size=4))
def test_params_round_trip_through_the_url(params: dict[str, str]) -> None:
    stored = _content(host="h", port=80, path="p", params=params)
    query = urllib.parse.urlsplit(stored["url"]).query
    assert dict(urllib.parse.parse_qsl(query, keep_blank_values=True)) == params


# ----------------------------------------------------------- JSON-looking bodies (escaping)

INJECTION = '", "admin": true, "x": "'


def _rendered_body(body: Any, payload: Any, headers: dict[str, str] | None = None) -> str:
    """The body of the webhook notification a one-action watch stores for `payload`."""
    fakes = Fakes(payload)
    hook: dict[str, Any] = {"url": "https://hooks.example/x", "method": "post", "body": body}
    if headers:
        hook["headers"] = headers
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"search": {"request": {"indices": ["logs"], "body": {}}}},
        "actions": {"hook": {"webhook": hook}},
    }
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    options = RunOptions(execution_time=at, trigger="manual")
    execute("spike", watch, options, fakes.services(outbox=True))
    (n,) = fakes.notified
    return str(n.content["body"])


def test_json_looking_templates_are_recognised() -> None:
    for text in ('{"a": "{{x}}"}', '  {\n  "a": 1}', "{}", '[{"a": 1}]', '["{{x}}"]', "[]"):
        assert webhook.looks_like_json(text), text
    for text in ("{{x}}", "{{{x}}}", "[ALERT] {{x}}", "{{#toJson}}ctx{{/toJson}}", "hi {"):
        assert not webhook.looks_like_json(text), text
    assert webhook.looks_like_json("{{x}}", {"Content-Type": "application/json"})
    assert webhook.looks_like_json("{{x}}", {"content-type": "application/vnd.api+json"})
    assert not webhook.looks_like_json("{{x}}", {"Content-Type": "text/plain"})


def test_json_body_marks_only_unprefixed_json_bodies() -> None:
    action = {"url": "u", "body": '{"a": "{{x}}"}'}
    assert webhook.json_body(action)["body"] == '__json__::{"a": "{{x}}"}'
    assert webhook.json_body({"url": "u", "body": "{{x}} errors"})["body"] == "{{x}} errors"
    kept = {"url": "u", "body": '__text__::{"a": "{{x}}"}'}  # an explicit opt-out
    assert webhook.json_body(kept) == kept
    prefixed = {"url": "u", "body": '__json__::{"a": 1}'}
    assert webhook.json_body(prefixed) == prefixed
    with_params = {"url": "u", "body": {"source": '{"a": "{{p}}"}', "params": {"p": 1}}}
    assert webhook.json_body(with_params)["body"] == {
        "source": '__json__::{"a": "{{p}}"}',
        "params": {"p": 1},
    }
    assert webhook.json_body({"url": "u"}) == {"url": "u"}


def test_log_text_cannot_add_keys_to_a_json_looking_body() -> None:
    payload = {"hits": {"hits": [{"_source": {"message": INJECTION + "\n\\"}}]}}
    body = _rendered_body('{"text": "{{ctx.payload.hits.hits.0._source.message}}"}', payload)
    assert json.loads(body) == {"text": INJECTION + "\n\\"}


def test_to_json_bodies_still_render_as_json() -> None:
    payload = {"hits": {"total": 3, "hits": [{"_source": {"message": INJECTION}}]}}
    body = _rendered_body('{"payload": {{#toJson}}ctx.payload{{/toJson}}}', payload)
    assert json.loads(body) == {"payload": payload}
    whole = _rendered_body("{{#toJson}}ctx.payload{{/toJson}}", payload)
    assert json.loads(whole) == payload


def test_plain_text_bodies_are_not_escaped() -> None:
    payload = {"hits": {"total": 3, "hits": [{"_source": {"message": 'say "hi"'}}]}}
    text = "[ALERT] {{ctx.payload.hits.hits.0._source.message}}"
    assert _rendered_body(text, payload) == '[ALERT] say "hi"'
    # With a JSON Content-Type, the body is JSON text even if it does not start like it.
    quoted = _rendered_body(
        '"{{ctx.payload.hits.hits.0._source.message}}"',
        payload,
        {"Content-Type": "application/json"},
    )
    assert json.loads(quoted) == 'say "hi"'
