"""Inputs and transforms against the real stack, as Watcher runs and shows them: search
templates rendered by edgewatch and sent to an Elasticsearch without lang-mustache, a failing
search transform, the http input's payload, redaction and request Content-Type, and the
webhook's Content-Type.

`yml/` is Watcher's REST tests,
x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/ in
elastic/elasticsearch."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.alerting import adapters, outbound_http, watch_http
from pipeline.alerting.delivery import webhook
from pipeline.alerting.delivery.notifications import Notification, notification_id
from pipeline.alerting.delivery.senders import send_webhook
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions, Services
from pipeline.config import Config, WebhookConfig
from pipeline.redact import REDACTED
from tests.fixtures.http_receiver import HttpReceiver

LOG = {"log": {"logging": {"text": "{{ctx.payload.hits.total}}"}}}


def _seed(es: Elasticsearch, index: str) -> None:
    docs = [{"level": "error", "host": "edge-1"}, {"level": "info", "host": "edge-2"}] * 2
    operations: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        operations += [{"index": {"_index": index, "_id": str(i)}}, doc]
    assert not es.bulk(operations=operations, refresh=True)["errors"]


def _execute(watch: dict[str, Any], services: Services) -> dict[str, Any]:
    record, _ = execute("requests", watch, RunOptions(execution_time=datetime.now(UTC)), services)
    return record


def test_search_template_runs_against_elasticsearch(
    config: Config, es: Elasticsearch, index_name: str
) -> None:
    """WatcherSearchTemplateService.renderTemplate and yml/mustache/30_search_input.yml: a
    search input's template (inline, and a stored one by id) with params is rendered and its
    hits come back; the result shows the rendered body and the template. The test
    Elasticsearch has no lang-mustache: edgewatch renders the template itself."""
    _seed(es, index_name)
    # As the yml test's stored template: an object source, stored as its JSON text.
    must = {"bool": {"must": [{"term": {"level": "{{level}}"}}]}}
    stored = {"by-level": {"lang": "mustache", "source": json.dumps({"query": must})}}
    services = replace(adapters.services(config, client=es), stored_script=stored.get)
    inline = {
        "source": '{"query": {"term": {"host.keyword": "{{host}}"}}, "size": {{size}}}',
        "params": {"host": "edge-1", "size": 1},
    }
    for template, total in ((inline, 2), ({"id": "by-level", "params": {"level": "info"}}, 2)):
        watch = {
            "input": {"search": {"request": {"indices": [index_name], "template": template}}},
            "condition": {"compare": {"ctx.payload.hits.total": {"gt": 0}}},
            "actions": LOG,
        }
        record = _execute(watch, services)
        result = record["result"]["input"]
        assert record["state"] == "executed", record
        assert result["payload"]["hits"]["total"] == total
        assert result["search"]["request"]["template"] == template
        assert "query" in result["search"]["request"]["body"]
    assert result["search"]["request"]["body"]["query"]["bool"]["must"][0]["term"] == {
        "level": "info"
    }
    assert len(result["payload"]["hits"]["hits"]) == 2  # the stored one has no size
    record = _execute(
        {
            "input": {"search": {"request": {"indices": [index_name], "template": {"id": "gone"}}}},
            "actions": LOG,
        },
        services,
    )
    assert record["state"] == "failed"
    assert "[gone]" in record["result"]["input"]["reason"]


def test_failing_search_transform_against_elasticsearch(
    config: Config, es: Elasticsearch, index_name: str
) -> None:
    """yml/watcher/execute_watch/20_transform.yml ("failed search transform"): an unknown
    query fails the transform (reason from Elasticsearch, search.request shown), no action
    runs, the watch is executed with "failed to execute watch transform"."""
    _seed(es, index_name)
    watch = {
        "input": {"simple": {"x": 1}},
        "transform": {
            "search": {
                "request": {"indices": [index_name], "body": {"query": {"does_not_exist": {}}}}
            }
        },
        "actions": LOG,
    }
    record = _execute(watch, adapters.services(config, client=es))
    transform = record["result"]["transform"]
    assert record["state"] == "executed"
    assert record["messages"] == ["failed to execute watch transform"]
    assert record["result"]["input"]["status"] == "success"
    assert record["result"]["actions"] == []
    assert transform["status"] == "failure"
    assert "does_not_exist" in transform["reason"]
    assert transform["error"]["type"] == "parsing_exception"
    assert transform["search"]["request"]["indices"] == [index_name]


def test_http_input_payload_redaction_and_content_type(
    config: Config, http_receiver: HttpReceiver
) -> None:
    """yml/watcher/execute_watch/60_http_input.yml: _status_code and _headers in the payload,
    the password and authorization header redacted in the record's input and result;
    ExecutableHttpInput: a 500 is no failure, a JSON array is {"data": [...]},
    response_content_type text gives {"_value": body}; HttpClient: a
    JSON body without Content-Type goes as application/json, a text body as text/plain."""
    http = replace(config.http, allowed_hosts=("127.0.0.1",))
    services = replace(
        adapters.services(config), http=lambda request: watch_http.http_input(request, http)
    )
    http_receiver.respond_next(
        500, body=b'[{"queue": 1}]', headers={"Content-Type": "application/json"}
    )
    http_receiver.respond_next(200, body=b"all good")
    request = {
        "url": f"{http_receiver.url}/status",
        "method": "post",
        "headers": {"Authorization": "Bearer abcdefgh123"},
        "auth": {"basic": {"username": "u", "password": "pw-s3cret"}},
        "body": '{"site": "{{ctx.watch_id}}"}',
    }
    record = _execute({"input": {"http": {"request": request}}, "actions": LOG}, services)
    result = record["result"]["input"]
    assert result["status"] == "success"
    assert result["payload"]["data"] == [{"queue": 1}]
    assert result["payload"]["_status_code"] == 500
    assert "application/json" in result["payload"]["_headers"]["content-type"]
    assert result["http"]["status_code"] == 500
    shown = result["http"]["request"]
    assert shown["method"] == "post" and shown["path"] == "/status"
    assert shown["body"] == '{"site": "requests"}'
    assert shown["headers"]["Authorization"] == REDACTED
    assert shown["auth"]["basic"]["password"] == REDACTED
    assert record["input"]["http"]["request"]["auth"]["basic"]["password"] == REDACTED
    assert "pw-s3cret" not in json.dumps(record)
    text = {**request, "body": "plain {{ctx.watch_id}}"}
    # The receiver always says application/json: response_content_type decides.
    spec = {"request": text, "response_content_type": "text"}
    record = _execute({"input": {"http": spec}, "actions": LOG}, services)
    assert record["result"]["input"]["payload"]["_value"] == "all good"
    sent = http_receiver.wait_for(2)
    assert sent[0].headers["content-type"] == "application/json"
    assert json.loads(sent[0].body) == {"site": "requests"}
    assert sent[1].headers["content-type"] == "text/plain; charset=UTF-8"


def test_webhook_body_content_type_is_sniffed(http_receiver: HttpReceiver) -> None:
    """HttpClient (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/common/
    http/HttpClient.java): a webhook body without Content-Type goes as application/json when
    it is JSON, text/plain otherwise; the rule's own Content-Type wins."""

    def send(body: str, headers: dict[str, str]) -> None:
        n_id = notification_id("hooks", "h", body)
        rendered = {"url": f"{http_receiver.url}/hook", "method": "post", "body": body}
        note = Notification(
            id=n_id,
            rule_id="hooks",
            action_id="h",
            type="webhook",
            created=datetime.now(UTC),
            content=webhook.content({**rendered, "headers": headers}, {}),
        )

        async def go() -> str:
            async with outbound_http.async_client(("127.0.0.1",)) as client:
                return await send_webhook(note, WebhookConfig(), client)

        assert asyncio.run(go()) == "HTTP 200"

    send('{"text": "disk full"}', {})
    send("disk full", {})
    send("a,b", {"content-type": "text/csv"})
    got = [r.headers["content-type"] for r in http_receiver.wait_for(3)]
    assert got == ["application/json", "text/plain; charset=UTF-8", "text/csv"]
