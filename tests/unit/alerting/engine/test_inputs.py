"""Inputs as Watcher runs and shows them: the rendered search and http requests in the result,
secrets redacted, the http payload, chain inputs with transforms, search templates.

`yml/` is Watcher's REST tests,
x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/ in
elastic/elasticsearch."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.requests import response_payload
from pipeline.alerting.engine.run import RunOptions, Services
from pipeline.redact import REDACTED
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LOG = {"log": {"logging": {"text": "x"}}}


def _run(watch: dict[str, Any], services: Services) -> dict[str, Any]:
    record, _ = execute("w", watch, RunOptions(execution_time=T0), services)
    return record


def _search_watch(request: dict[str, Any]) -> dict[str, Any]:
    return {"input": {"search": {"request": request}}, "actions": LOG}


class FakeHttp:
    """An http service answering with a canned response; records the requests."""

    def __init__(self, status: int = 200, body: str = "", headers: Any = None) -> None:
        self.answer = {"status_code": status, "headers": headers or {}, "body": body}
        self.requests: list[Mapping[str, Any]] = []

    def __call__(self, request: Mapping[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        return self.answer


def test_search_result_shows_the_rendered_request() -> None:
    """WatcherSearchTemplateRequest.toXContent (x-pack/plugin/watcher/src/main/java/org/
    elasticsearch/xpack/watcher/support/search/WatcherSearchTemplateRequest.java): search_type,
    indices as a list (a comma string split), rest_total_hits_as_int true, the rendered body;
    indices_options only when not lenientExpandOpen, no template for a body request."""
    fakes = Fakes()
    watch = _search_watch(
        {"indices": "logs-a,logs-b", "body": {"query": {"term": {"w": "{{ctx.watch_id}}"}}}}
    )
    shown = _run(watch, fakes.services())["result"]["input"]["search"]["request"]
    assert shown == {
        "search_type": "query_then_fetch",
        "indices": ["logs-a", "logs-b"],
        "rest_total_hits_as_int": True,
        "body": {"query": {"term": {"w": "w"}}},
    }
    assert fakes.searches[0]["indices"] == ["logs-a", "logs-b"]
    options = {"ignore_unavailable": False}
    watch = _search_watch({"indices": ["x"], "indices_options": options})
    shown = _run(watch, fakes.services())["result"]["input"]["search"]["request"]
    assert shown["indices_options"] == options
    default = {"ignore_unavailable": True, "expand_wildcards": "open"}
    watch = _search_watch({"indices": ["x"], "indices_options": default})
    assert (
        "indices_options"
        not in _run(watch, fakes.services())["result"]["input"]["search"]["request"]
    )


def test_http_result_shows_the_request_with_secrets_redacted() -> None:
    """yml/watcher/execute_watch/60_http_input.yml ("HTTP input redacts sensitive info"): the
    basic-auth password and an `authorization` header, whatever its case, read ::es_redacted::
    in the record's input and in result.input.http.request; the request is shown in
    HttpRequest.toXContent's form (url split, method lower case) with the status code."""
    http = FakeHttp(200, '{"timed_out": false}', {"content-type": ["application/json"]})
    request = {
        "url": "http://es.example:9200/_cluster/health?level=cluster",
        "headers": {"authorization": "Basic eF9wYWNr", "X-Site": "{{ctx.watch_id}}"},
        "auth": {"basic": {"username": "u", "password": "pw-secret"}},
    }
    watch = {"input": {"http": {"request": request}}, "actions": LOG}
    record = _run(watch, replace(Fakes().services(), http=http))
    shown = record["result"]["input"]["http"]
    assert shown["status_code"] == 200
    assert shown["request"] == {
        "host": "es.example",
        "port": 9200,
        "scheme": "http",
        "method": "get",
        "path": "/_cluster/health",
        "params": {"level": "cluster"},
        "headers": {"authorization": REDACTED, "X-Site": "w"},
        "auth": {"basic": {"username": "u", "password": REDACTED}},
    }
    assert record["input"]["http"]["request"]["auth"]["basic"]["password"] == REDACTED
    assert record["input"]["http"]["request"]["headers"]["authorization"] == REDACTED
    assert "pw-secret" not in json.dumps(record)
    # The request sent keeps its secrets.
    assert http.requests[0]["auth"]["basic"]["password"] == "pw-secret"


def test_http_payload_keeps_status_and_headers_with_extract() -> None:
    """yml/watcher/execute_watch/60_http_input.yml ("HTTP input supports extracting of
    keys"): with extract, only those keys plus _status_code and _headers (values as lists)."""
    http = FakeHttp(200, '{"timed_out": false, "cluster_name": "c", "status": "green"}')
    http.answer["headers"] = {"content-type": ["application/json"]}
    watch = {
        "input": {
            "http": {"request": {"url": "http://h:1/"}, "extract": ["timed_out", "cluster_name"]}
        },
        "actions": LOG,
    }
    payload = _run(watch, replace(Fakes().services(), http=http))["result"]["input"]["payload"]
    assert payload == {
        "timed_out": False,
        "cluster_name": "c",
        "_status_code": 200,
        "_headers": {"content-type": ["application/json"]},
    }


def test_http_payload_shapes() -> None:
    """ExecutableHttpInput.doExecute (x-pack/plugin/watcher/src/main/java/org/elasticsearch/
    xpack/watcher/input/http/ExecutableHttpInput.java): a non-2xx is no failure; a JSON array
    is {"data": [..]}; text is {"_value": text}; response_content_type decides the parsing;
    an empty body gives only _status_code (and _headers when there are any)."""
    assert response_payload(503, {}, '{"down": true}') == {"down": True, "_status_code": 503}
    assert response_payload(200, {}, "[1, 2]") == {"data": [1, 2], "_status_code": 200}
    text_type = {"content-type": ["text/plain"]}
    assert response_payload(200, text_type, "ok") == {
        "_value": "ok",
        "_status_code": 200,
        "_headers": text_type,
    }
    assert response_payload(200, text_type, '{"a": 1}', "json")["a"] == 1
    assert response_payload(200, {}, '{"a": 1}', "text")["_value"] == '{"a": 1}'
    assert response_payload(204, {}, "") == {"_status_code": 204}


def test_http_input_non_2xx_is_success() -> None:
    """ExecutableHttpInput has no status check: a 404 is a successful input whose payload has
    _status_code 404 (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/
    input/http/ExecutableHttpInput.java)."""
    http = FakeHttp(404, '{"error": "nope"}')
    watch = {"input": {"http": {"request": {"url": "http://h:1/"}}}, "actions": LOG}
    result = _run(watch, replace(Fakes().services(), http=http))["result"]["input"]
    assert result["status"] == "success"
    assert result["payload"]["_status_code"] == 404
    assert result["http"]["status_code"] == 404


def test_chain_input_with_transform_element() -> None:
    """yml/painless/60_chain_input_with_transform.yml: a chain's `transform` element sees
    the earlier inputs as ctx.payload.<name>; its result is that step's payload; the result
    shows each step (ExecutableChainInput, ChainInput.Result)."""
    services = Fakes().services(scripts=True)
    seen: list[Any] = []

    def script(script: Any, ctx: Mapping[str, Any], purpose: str) -> Any:
        seen.append(json.loads(json.dumps(ctx["payload"])))
        return {"foo": ctx["payload"]["first"]["foo"] + " baz"}

    watch = {
        "input": {
            "chain": {
                "inputs": [
                    {"first": {"simple": {"foo": "bar"}}},
                    {
                        "second": {
                            "transform": {
                                "script": "return [ 'foo' : ctx.payload.first.foo + ' baz' ]"
                            }
                        }
                    },
                ]
            }
        },
        "actions": LOG,
    }
    result = _run(watch, replace(services, run_script=script))["result"]["input"]
    assert seen == [{"first": {"foo": "bar"}}]
    assert result["payload"] == {"first": {"foo": "bar"}, "second": {"foo": "bar baz"}}
    assert result["chain"]["second"] == {
        "type": "transform",
        "status": "success",
        "payload": {"foo": "bar baz"},
    }


def test_chain_input_goes_on_after_a_failing_input() -> None:
    """ExecutableChainInput (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/
    watcher/input/chain/ExecutableChainInput.java): a failed input's payload is Payload.EMPTY,
    stored as {}; the chain goes on and succeeds. The failed step shows as Input.Result's
    failure (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/input/
    Input.java): `error`, and the request once rendered."""

    def failing(request: Mapping[str, Any]) -> dict[str, Any]:
        raise RuntimeError("Elasticsearch answered 400: parsing_exception: unknown query")

    watch = {
        "input": {
            "chain": {
                "inputs": [
                    {"broken": {"search": {"request": {"indices": ["x"]}}}},
                    {"fixed": {"simple": {"ok": 1}}},
                ]
            }
        },
        "actions": LOG,
    }
    record = _run(watch, replace(Fakes().services(), search=failing))
    result = record["result"]["input"]
    assert record["state"] == "executed"
    assert result["status"] == "success"
    assert result["payload"] == {"broken": {}, "fixed": {"ok": 1}}
    broken = result["chain"]["broken"]
    assert broken["status"] == "failure"
    assert "unknown query" in broken["reason"]
    # Input.Result's failure: `error` with the Elasticsearch exception type.
    assert broken["error"] == {"type": "parsing_exception", "reason": broken["reason"]}
    assert broken["search"]["request"]["indices"] == ["x"]


def _template_watch(template: Any) -> dict[str, Any]:
    return _search_watch({"indices": ["logs"], "template": template})


def test_search_template_source_and_params_win_over_ctx() -> None:
    """WatcherSearchTemplateService.renderTemplate (x-pack/plugin/watcher/src/main/java/org/
    elasticsearch/xpack/watcher/support/search/WatcherSearchTemplateService.java): the model
    is ctx, then the template's params on top (params win); rendered with JSON escaping and
    parsed as the body. yml/mustache/30_search_input.yml: the result shows the rendered body
    and the original template."""
    fakes = Fakes()
    template = {
        "source": '{"size": {{num}}, "query": {"match": {"m": "{{ctx.watch_id}} {{text}}"}}}',
        "params": {"num": 3, "text": 'say "hi"', "ctx": {"watch_id": "param"}},
    }
    shown = _run(_template_watch(template), fakes.services())["result"]["input"]["search"]
    body = {"size": 3, "query": {"match": {"m": 'param say "hi"'}}}
    assert fakes.searches[0]["body"] == body
    assert shown["request"]["body"] == body
    assert shown["request"]["template"] == template
    # An object source is its JSON text.
    obj = {"source": {"size": "{{num}}"}, "params": {"num": 2}}
    _run(_template_watch(obj), fakes.services())
    assert fakes.searches[-1]["body"] == {"size": "2"}


def test_search_template_by_stored_id() -> None:
    """yml/mustache/30_search_input.yml: `template.id` names a stored search template, whose
    source is rendered with the params; an unknown id is an input failure naming it."""
    fakes = Fakes()
    stored = {"tmpl": {"lang": "mustache", "source": '{"size": {{num}}}'}}
    services = replace(fakes.services(), stored_script=stored.get)
    record = _run(_template_watch({"id": "tmpl", "params": {"num": 7}}), services)
    assert fakes.searches[0]["body"] == {"size": 7}
    assert record["result"]["input"]["search"]["request"]["template"]["id"] == "tmpl"
    missing = _run(_template_watch({"id": "nope"}), services)
    assert missing["state"] == "failed"
    assert "[nope]" in missing["result"]["input"]["reason"]
    stored["script"] = {"lang": "painless", "source": "return 1"}
    wrong = _run(_template_watch({"id": "script"}), services)
    assert "[script] is painless, not mustache" in wrong["result"]["input"]["reason"]


@pytest.mark.parametrize("body", ['{"size": 1}', None])
def test_search_body_without_template_has_no_template_key(body: str | None) -> None:
    """WatcherSearchTemplateRequest.toXContent writes `template` only when one was used."""
    request: dict[str, Any] = {"indices": ["x"]}
    if body:
        request["body"] = json.loads(body)
    shown = _run(_search_watch(request), Fakes().services())["result"]["input"]["search"]
    assert "template" not in shown["request"]


def test_http_request_fields_are_text_templates() -> None:
    """HttpRequestTemplate.render (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/
    watcher/common/http/HttpRequestTemplate.java): path, params, headers and body are text
    templates, a body may be {source, params}; the rendered body is what the result shows;
    timeouts show in milliseconds (HttpRequest.toXContent)."""
    http = FakeHttp(200, "{}")
    request = {
        "scheme": "HTTPS",
        "host": "h",
        "port": 8443,
        "method": "POST",
        "path": "/q/{{ctx.watch_id}}",
        "body": {"source": "{{who}} at {{ctx.watch_id}}", "params": {"who": "me"}},
        "read_timeout": "5s",
        "connection_timeout_in_millis": 2000,
    }
    watch = {"input": {"http": {"request": request}}, "actions": LOG}
    shown = _run(watch, replace(Fakes().services(), http=http))["result"]["input"]["http"]
    assert shown["request"] == {
        "host": "h",
        "port": 8443,
        "scheme": "https",
        "method": "post",
        "path": "/q/w",
        "body": "me at w",
        "connection_timeout_in_millis": 2000,
        "read_timeout_millis": 5000,
    }
    assert http.requests[0]["body"] == "me at w"


def test_a_search_template_that_does_not_render_is_an_input_failure() -> None:
    """WatcherSearchTemplateService: a template that does not render, or not to JSON, fails
    the search input (the watch is `failed`), naming what went wrong."""
    record = _run(_template_watch({"source": "{{#x}}"}), Fakes().services())
    assert record["state"] == "failed"
    assert record["result"]["input"]["status"] == "failure"
    record = _run(_template_watch({"source": "not json {{ctx.watch_id}}"}), Fakes().services())
    assert "not JSON once rendered" in record["result"]["input"]["reason"]


def test_dates_in_templates_print_as_java_time() -> None:
    """yml/mustache/30_search_input.yml: with scheduled_time 2015-01-04T00:00:00 the rendered
    search body reads "2015-01-04T00:00Z||-3d" (ctx dates are ZonedDateTimes in Watcher's
    model, printed by ZonedDateTime.toString); text templates print them the same way, while
    the record keeps its own format (2015-01-04T00:00:05.250Z)."""
    fakes = Fakes()
    body = {"query": {"range": {"date": {"gte": "{{ctx.trigger.scheduled_time}}||-3d"}}}}
    watch = {
        "input": {"search": {"request": {"indices": ["idx"], "body": body}}},
        "actions": {"log": {"logging": {"text": "{{ctx.execution_time}}"}}},
    }
    at = datetime(2015, 1, 4, 0, 0, 5, 250000, tzinfo=UTC)
    options = RunOptions(execution_time=at, scheduled_time=datetime(2015, 1, 4, tzinfo=UTC))
    record, _ = execute("w", watch, options, fakes.services())
    shown = record["result"]["input"]["search"]["request"]["body"]
    assert shown["query"]["range"]["date"]["gte"] == "2015-01-04T00:00Z||-3d"
    assert record["result"]["actions"][0]["logging"]["logged_text"] == "2015-01-04T00:00:05.250Z"
    assert record["result"]["execution_time"] == "2015-01-04T00:00:05.250Z"
