"""Webhook notifications (webhook.py): the stored request, its signature and headers."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerting import webhook

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
