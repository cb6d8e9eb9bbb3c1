"""Failing transforms as Watcher records them, at watch level and action level.

`yml/` is Watcher's REST tests,
x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/ in
elastic/elasticsearch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import ExecutionError, RunOptions, Services
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LOG = {"log": {"logging": {"text": "{{ctx.payload.x}}"}}}


def _run(watch: dict[str, Any], services: Services) -> dict[str, Any]:
    record, _ = execute("w", watch, RunOptions(execution_time=T0), services)
    return record


def _failing_search(request: Mapping[str, Any]) -> dict[str, Any]:
    raise RuntimeError("Elasticsearch answered 400: parsing_exception: unknown query [nope]")


def _failing_script(script: Any, ctx: Mapping[str, Any], purpose: str) -> Any:
    raise ExecutionError(f"{purpose}: script failed: illegal_argument_exception: boom")


def test_failing_watch_search_transform() -> None:
    """yml/watcher/execute_watch/20_transform.yml ("Test execute watch api with failed search
    transform"): the transform result is {type: search, status: failure, reason, error,
    search.request}; no action runs (actions []); the watch is `executed` with the message
    "failed to execute watch transform"; the input is not reported as failed."""
    watch = {
        "input": {"simple": {"x": 1}},
        "transform": {"search": {"request": {"indices": ["i"], "body": {"query": {"nope": {}}}}}},
        "actions": LOG,
    }
    fakes = Fakes()
    record = _run(watch, replace(fakes.services(), search=_failing_search))
    result = record["result"]
    assert record["state"] == "executed"
    assert record["messages"] == ["failed to execute watch transform"]
    assert result["input"]["status"] == "success"
    assert result["actions"] == []
    assert fakes.logged == []
    transform = result["transform"]
    assert transform["type"] == "search" and transform["status"] == "failure"
    assert "unknown query [nope]" in transform["reason"]
    assert transform["error"]["type"] == "parsing_exception"
    assert transform["search"]["request"]["body"] == {"query": {"nope": {}}}


def test_failing_watch_script_transform() -> None:
    """ExecutableScriptTransform (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/
    watcher/transform/script/ExecutableScriptTransform.java) catches every exception into a
    failure result {type: script, status: failure, reason, error}."""
    watch = {"input": {"simple": {"x": 1}}, "transform": {"script": "boom"}, "actions": LOG}
    services = replace(Fakes().services(), run_script=_failing_script)
    record = _run(watch, services)
    assert record["state"] == "executed"
    transform = record["result"]["transform"]
    assert transform["status"] == "failure"
    assert transform["error"] == {
        "type": "illegal_argument_exception",
        "reason": transform["reason"],
    }
    assert record["result"]["actions"] == []


def test_watch_transform_runs_only_with_actions() -> None:
    """ExecutionService.executeInner (x-pack/plugin/watcher/src/main/java/org/elasticsearch/
    xpack/watcher/execution/ExecutionService.java) runs the watch transform only when the
    condition is met and the watch has actions."""
    watch = {"input": {"simple": {"x": 1}}, "transform": {"script": "boom"}, "actions": {}}
    record = _run(watch, replace(Fakes().services(), run_script=_failing_script))
    assert "transform" not in record["result"]
    assert record["messages"] == []


def test_failing_action_transform() -> None:
    """ActionWrapper.execute (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/
    watcher/actions/ActionWrapper.java): a failed action transform makes the action
    {status: failure, reason: "Failed to transform payload", transform: {..failure..}};
    yml/painless/40_exception.yml checks actions.0.transform.status failure; the watch stays
    executed and the other actions run."""
    watch = {
        "input": {"simple": {"x": 1}},
        "actions": {
            "bad": {"transform": {"script": "boom"}, "logging": {"text": "never"}},
            "good": {"logging": {"text": "{{ctx.payload.x}}"}},
        },
    }
    fakes = Fakes()
    record = _run(watch, replace(fakes.services(), run_script=_failing_script))
    assert record["state"] == "executed"
    bad, good = record["result"]["actions"]
    assert bad["status"] == "failure"
    assert bad["reason"] == "Failed to transform payload"
    assert bad["transform"]["status"] == "failure"
    assert bad["transform"]["type"] == "script"
    assert "boom" in bad["transform"]["reason"]
    assert good["status"] == "success"
    assert [text for _, _, text in fakes.logged] == ["1"]
