"""Outbound requests that log data cannot steer (docs/security.md, "Outbound requests").

Each test sends real requests to real HTTP receivers on loopback (tests/fixtures/
http_receiver.py), through the courier and the outbox in the local Elasticsearch where a
notification's recorded outcome is the point: SSRF targets are refused and recorded as failed
with the reason, the receivers behind them see nothing, and an allowed request in the same run
still arrives.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import tracemalloc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import trustme
from elasticsearch import Elasticsearch

from pipeline.alerting import adapters, outbound_http, watch_http
from pipeline.alerting.delivery import webhook
from pipeline.alerting.delivery.courier import Courier
from pipeline.alerting.delivery.notifications import WEBHOOK, Notification, notification_id
from pipeline.alerting.delivery.outbox import Outbox
from pipeline.alerting.delivery.senders import DeliveryError, send_webhook
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import ExecutionError, RunOptions
from pipeline.alerting.outbound import OutboundRefusedError
from pipeline.config import Config, WebhookConfig
from tests.fixtures.http_receiver import HttpReceiver, serve

pytestmark = pytest.mark.integration

INJECTION = '", "admin": true, "x": "'
MIB = 1024 * 1024


def _notification(url: str, name: str, **action: Any) -> Notification:
    rendered = {"url": url, "method": "post", **action}
    n_id = notification_id("outbound", name, "2026-11-25T10:00:00Z")
    return Notification(
        id=n_id,
        rule_id="outbound",
        action_id=name,
        type=WEBHOOK,
        created=datetime.now(UTC),
        content=webhook.content(rendered, {"id": n_id}),
    )


@contextmanager
def _courier(config: Config, es: Elasticsearch) -> Iterator[Courier]:
    courier = Courier(config, Outbox(es, config.alert.outbox_index), scan_interval_s=0.5).start()
    try:
        yield courier
    finally:
        courier.stop()


def _deliver(config: Config, es: Elasticsearch, *notes: Notification) -> dict[str, dict[str, Any]]:
    """Send through the courier; the outbox document of each notification, by action id."""
    with _courier(config, es) as courier:
        for n in notes:
            courier.submit(n)
        states = courier.wait([n.id for n in notes], timeout=30)
    assert "pending" not in states.values(), states
    outbox = Outbox(es, config.alert.outbox_index)
    return {n.action_id: outbox.get(n.id) or {} for n in notes}


def _with_http(config: Config, *allowed: str, **webhook_settings: Any) -> Config:
    return replace(
        config,
        http=replace(config.http, allowed_hosts=allowed),
        webhook=replace(config.webhook, **webhook_settings),
    )


def test_ssrf_to_loopback_metadata_and_ipv6_loopback_is_refused_and_recorded(
    alert_config: Config,
    es: Elasticsearch,
    http_receiver: HttpReceiver,
    http_receiver_v6: HttpReceiver,
) -> None:
    internal_port = http_receiver.url.rsplit(":", 1)[1]
    with serve() as hook:
        # The default (every public host) plus one receiver named explicitly, port included.
        config = _with_http(alert_config, "*", hook.url.removeprefix("http://"))
        attacks = {
            "loopback": f"{http_receiver.url}/admin",
            "localhost-name": f"http://localhost:{internal_port}/admin",  # DNS -> 127.0.0.1
            "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "ipv6-loopback": f"{http_receiver_v6.url}/admin",
        }
        notes = [_notification(url, name) for name, url in attacks.items()]
        docs = _deliver(config, es, *notes, _notification(f"{hook.url}/in", "allowed"))

    for name in attacks:
        doc = docs[name]
        assert doc["state"] == "failed", (name, doc)
        assert doc["attempts"] == 1, "a refusal is permanent, never retried"
        reason = doc["last_error"]
        assert "outbound request refused" in reason and "[http] allowed_hosts" in reason
    assert "127.0.0.1" in docs["loopback"]["last_error"]
    assert "loopback" in docs["loopback"]["last_error"]
    assert "localhost" in docs["localhost-name"]["last_error"]
    assert "(address 127.0.0.1)" in docs["localhost-name"]["last_error"]
    assert "169.254.169.254" in docs["metadata"]["last_error"]
    assert "metadata" in docs["metadata"]["last_error"]
    assert "[::1]" in docs["ipv6-loopback"]["last_error"]
    assert http_receiver.requests == [] and http_receiver_v6.requests == []
    assert docs["allowed"]["state"] == "sent"
    assert [r.path for r in hook.requests] == ["/in"]


def test_http_input_ssrf_is_a_recorded_input_failure(
    alert_config: Config, es: Elasticsearch, http_receiver: HttpReceiver
) -> None:
    with serve() as allowed:
        config = _with_http(alert_config, "*", allowed.url.removeprefix("http://"))
        services = adapters.services(config, client=es)
        now = datetime.now(UTC)
        records = {}
        for name, url in (("attack", http_receiver.url), ("allowed", allowed.url)):
            watch = {
                "trigger": {"schedule": {"interval": "1m"}},
                "input": {"http": {"request": {"url": f"{url}/status"}}},
                "condition": {"always": {}},
            }
            records[name], _ = execute(name, watch, RunOptions(execution_time=now), services)
    attack = records["attack"]
    assert attack["state"] == "failed"
    assert attack["result"]["input"]["status"] == "failure"
    assert "outbound request refused" in attack["result"]["input"]["reason"]
    assert "127.0.0.1" in attack["result"]["input"]["reason"]
    assert http_receiver.requests == []
    assert records["allowed"]["result"]["input"]["payload"]["ok"] is True
    assert len(allowed.requests) == 1


def _seed(es: Elasticsearch, index: str, docs: list[dict[str, Any]]) -> None:
    operations: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        operations += [{"index": {"_index": index, "_id": str(i)}}, doc]
    assert not es.bulk(operations=operations, refresh=True)["errors"]


def _run_rule(
    config: Config, es: Elasticsearch, index: str, actions: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """One execution of a rule over the log lines in `index`, its notifications delivered;
    the outbox document of each action's notification, by action id."""
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"search": {"request": {"indices": [index], "body": {"sort": [{"seq": "asc"}]}}}},
        "condition": {"always": {}},
        "actions": dict(actions),
    }
    with _courier(config, es) as courier:
        services = adapters.services(config, client=es, notify=courier.submit)
        record, _ = execute(
            "from-logs", watch, RunOptions(execution_time=datetime.now(UTC)), services
        )
        ids = {a["id"]: a["webhook"]["id"] for a in record["result"]["actions"]}
        states = courier.wait(ids.values(), timeout=30)
    assert "pending" not in states.values(), (record, states)
    outbox = Outbox(es, config.alert.outbox_index)
    return {action: outbox.get(n_id) or {} for action, n_id in ids.items()}


def test_a_host_templated_from_log_data_is_refused(
    alert_config: Config, es: Elasticsearch, unique_name: str, http_receiver: HttpReceiver
) -> None:
    with serve() as hook:
        config = _with_http(alert_config, hook.url.removeprefix("http://"))
        index = f"{unique_name}-logs"
        # A log line whose field is rendered into the URL: the attacker names an internal host.
        _seed(
            es,
            index,
            [
                {"seq": 1, "source": {"address": http_receiver.url.removeprefix("http://")}},
                {"seq": 2, "source": {"address": hook.url.removeprefix("http://")}},
            ],
        )
        actions = {
            f"hit{i}": {
                "webhook": {
                    "url": f"http://{{{{ctx.payload.hits.hits.{i}._source.source.address}}}}/x",
                    "method": "post",
                    "body": "{{ctx.watch_id}}",
                }
            }
            for i in (0, 1)
        }
        by_action = _run_rule(config, es, index, actions)
    refused = by_action["hit0"]
    assert refused["state"] == "failed" and refused["attempts"] == 1
    assert "outbound request refused" in refused["last_error"]
    assert http_receiver.url.removeprefix("http://") in refused["last_error"]
    assert http_receiver.requests == []
    assert by_action["hit1"]["state"] == "sent" and len(hook.requests) == 1


def test_configured_credentials_are_not_sent_to_another_host(
    alert_config: Config, http_receiver: HttpReceiver
) -> None:
    owner = http_receiver
    with serve() as other:
        owner_host = owner.url.removeprefix("http://")
        settings = WebhookConfig(username=None, password="s3cret", credential_hosts=(owner_host,))
        login = base64.b64encode(b"edgewatch:s3cret").decode()
        # The owner answers its second request with a redirect to the other host.
        owner.respond_next(200)
        owner.respond_next(302, headers={"Location": f"{other.url}/stolen"})

        async def send(url: str) -> str:
            async with outbound_http.async_client(("127.0.0.1",)) as client:
                note = _notification(url, url, auth={"basic": {"username": "edgewatch"}})
                return await send_webhook(note, settings, client)

        assert asyncio.run(send(f"{owner.url}/hook")) == "HTTP 200"
        with pytest.raises(DeliveryError) as refused:
            asyncio.run(send(f"{other.url}/hook"))
        with pytest.raises(DeliveryError) as redirected:
            asyncio.run(send(f"{owner.url}/moved"))

        # The http input's password from the config follows the same rule.
        http = replace(
            alert_config.http,
            allowed_hosts=("127.0.0.1",),
            input_password="in-s3cret",
            input_credential_hosts=(owner_host,),
        )
        basic = {"auth": {"basic": {"username": "reader"}}}
        answer = watch_http.http_input({"url": f"{owner.url}/in", **basic}, http)
        assert json.loads(answer["body"])["ok"] is True
        with pytest.raises(ExecutionError, match=r"http\.input_credential_hosts"):
            watch_http.http_input({"url": f"{other.url}/in", **basic}, http)
        other_requests = list(other.requests)

    assert owner.requests[0].headers["authorization"] == f"Basic {login}"
    assert not refused.value.failure.retryable
    assert "webhook.credential_hosts" in refused.value.failure.reason
    assert "s3cret" not in refused.value.failure.reason
    assert "HTTP 302" in redirected.value.failure.reason  # answered, not followed
    reader = base64.b64encode(b"reader:in-s3cret").decode()
    assert owner.requests[-1].headers["authorization"] == f"Basic {reader}"
    assert other_requests == [], "nothing at all reached the other host"


def test_a_64_mib_answer_is_abandoned_at_the_cap(
    alert_config: Config, http_receiver: HttpReceiver
) -> None:
    cap = alert_config.http.max_response_bytes
    assert cap == 10 * MIB  # the default, as Watcher's
    http = replace(alert_config.http, allowed_hosts=("127.0.0.1",))

    async def send(path: str) -> str:
        async with outbound_http.async_client(http.allowed_hosts) as client:
            return await send_webhook(
                _notification(f"{http_receiver.url}{path}", path), WebhookConfig(), client, cap
            )

    http_receiver.respond_next(200, stream_bytes=64 * MIB)
    tracemalloc.start()
    try:
        with pytest.raises(DeliveryError) as webhook_error:
            asyncio.run(send("/big"))
        _, webhook_peak = tracemalloc.get_traced_memory()
        webhook_streamed = http_receiver.streamed

        http_receiver.streamed = 0
        http_receiver.respond_next(200, stream_bytes=64 * MIB)
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        with pytest.raises(ExecutionError, match="max_response_bytes") as input_error:
            watch_http.http_input({"url": f"{http_receiver.url}/big"}, http)
        _, input_peak = tracemalloc.get_traced_memory()
        input_peak -= before
        input_streamed = http_receiver.streamed
    finally:
        tracemalloc.stop()

    failure = webhook_error.value.failure
    assert not failure.retryable
    assert "max_response_bytes" in failure.reason and "closed the connection" in failure.reason
    assert "closed the connection" in str(input_error.value)
    for peak, streamed in ((webhook_peak, webhook_streamed), (input_peak, input_streamed)):
        # Memory held stayed near the cap; the server could write only what the socket
        # buffers took after the reader hung up, far from the 64 MiB it meant to send.
        assert peak < cap + 4 * MIB, peak
        assert cap <= streamed < 32 * MIB, streamed
    # The same client still delivers an ordinary answer.
    assert asyncio.run(send("/small")) == "HTTP 200"


def test_json_looking_webhook_body_keeps_log_text_one_string(
    alert_config: Config, es: Elasticsearch, unique_name: str, http_receiver: HttpReceiver
) -> None:
    config = _with_http(alert_config, "127.0.0.1")
    index = f"{unique_name}-logs"
    _seed(es, index, [{"seq": 1, "message": INJECTION}])
    url = f"{http_receiver.url}/chat"
    actions = {
        "chat": {
            "webhook": {
                "url": url,
                "method": "post",
                "body": '{"text": "{{ctx.payload.hits.hits.0._source.message}}", "level": "warn"}',
            }
        },
        # A body that relies on toJson keeps working.
        "raw": {
            "webhook": {
                "url": url,
                "method": "post",
                "body": '{"hit": {{#toJson}}ctx.payload.hits.hits.0._source{{/toJson}}}',
            }
        },
    }
    _run_rule(config, es, index, actions)
    bodies = sorted((json.loads(r.body) for r in http_receiver.requests), key=lambda b: "hit" in b)
    assert bodies[0] == {"text": INJECTION, "level": "warn"}
    assert "admin" not in bodies[0]
    assert bodies[1] == {"hit": {"seq": 1, "message": INJECTION}}


def test_each_connection_goes_to_the_address_its_check_resolved(
    http_receiver: HttpReceiver,
) -> None:
    port = int(http_receiver.url.rsplit(":", 1)[1])
    # A rebinding DNS: the name points at the allowed receiver, then inside.
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    asked: list[str] = []

    def rebinding(host: str, _port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    with outbound_http.client(("*", "127.0.0.1"), resolver=rebinding) as client:
        assert client.get(f"http://hook.test:{port}/a").status_code == 200
        # The receiver closes each connection (HTTP/1.0): the next request resolves again,
        # is checked against that answer and refused before any connection is made.
        with pytest.raises(OutboundRefusedError, match=r"address 10\.0\.0\.1"):
            client.get(f"http://hook.test:{port}/b")
    assert asked == ["hook.test", "hook.test"]  # once per connection: check and connect agree
    # The name stays in the Host header (and would in TLS SNI and verification).
    assert [r.headers["host"] for r in http_receiver.requests] == [f"hook.test:{port}"]


def test_tls_is_verified_against_the_name_while_connecting_to_the_checked_address() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hook.test").configure_cert(server_context)
    # An HTTPS receiver whose certificate names hook.test only.
    with serve(tls=server_context) as receiver:
        port = int(receiver.url.rsplit(":", 1)[1])
        client_context = ssl.create_default_context()
        ca.configure_trust(client_context)

        def loopback(_host: str, _port: int) -> list[str]:
            return ["127.0.0.1"]

        allowed = ("hook.test", "other.test")
        with outbound_http.client(allowed, resolver=loopback, verify=client_context) as client:
            assert client.get(f"https://hook.test:{port}/ok").status_code == 200
            # Same address, another name: the certificate does not name it, so no request.
            with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
                client.get(f"https://other.test:{port}/no")
        paths = [r.path for r in receiver.requests]
    assert paths == ["/ok"]
