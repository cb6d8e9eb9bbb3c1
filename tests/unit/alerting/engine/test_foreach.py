"""`foreach` as Watcher's ActionWrapper runs it (x-pack/plugin/core/src/main/java/org/
elasticsearch/xpack/core/watcher/actions/ActionWrapper.java): elements, `_value`, the result's
shape, the errors, and the path read from the watch payload rather than a transformed one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _run(payload: Any, action: dict[str, Any], fakes: Fakes | None = None) -> dict[str, Any]:
    fakes = fakes or Fakes()
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": payload},
        "actions": {"each": action},
    }
    record, _ = execute("w", watch, RunOptions(execution_time=T0), fakes.services(), None)
    (result,) = record["result"]["actions"]
    out: dict[str, Any] = result
    return out


def test_elements_that_are_not_maps_are_the_payloads_value() -> None:
    """ActionWrapper.execute: a non-Map element becomes `Payload.Simple("_value", o)`; the
    result holds number_of_actions_executed, foreach (one entry per run) and max_iterations."""
    fakes = Fakes()
    result = _run(
        {"hosts": ["edge-1", 2, {"name": "edge-3"}]},
        {
            "foreach": "ctx.payload.hosts",
            "max_iterations": 5,
            "logging": {"text": "{{ctx.payload._value}}{{ctx.payload.name}}"},
        },
        fakes,
    )
    assert [t for _, _, t in fakes.logged] == ["edge-1", "2", "edge-3"]
    assert result["status"] == "success"
    assert result["number_of_actions_executed"] == 3
    assert result["foreach"] == [
        {"logging": {"logged_text": "edge-1"}},
        {"logging": {"logged_text": "2"}},
        {"logging": {"logged_text": "edge-3"}},
    ]
    assert result["max_iterations"] == 5


def test_max_iterations_defaults_to_100() -> None:
    """ActionWrapper: `max_iterations` defaults to 100."""
    result = _run({"n": list(range(150))}, {"foreach": "ctx.payload.n", "logging": {"text": "x"}})
    assert result["number_of_actions_executed"] == 100
    assert result["max_iterations"] == 100


def test_empty_null_and_not_a_collection_fail_with_watchers_messages() -> None:
    """ActionWrapper.execute's three errors (the third with its typo), each a failed action;
    ActionWrapperTests.testEmptyCollection checks the first."""
    cases = {
        "ctx.payload.empty": "foreach object [ctx.payload.empty] was an empty list, "
        "could not run any action",
        "ctx.payload.missing": "specified foreach object was null: [ctx.payload.missing]",
        "ctx.payload.map": "specified foreach object was not a an array/collection: "
        "[ctx.payload.map]",
    }
    for path, message in cases.items():
        result = _run({"empty": [], "map": {"a": 1}}, {"foreach": path, "logging": {"text": "x"}})
        assert result["status"] == "failure"
        assert result["reason"] == message


def test_the_path_is_read_from_the_watch_payload_not_the_transformed_one() -> None:
    """ActionWrapper.toMap(ctx) evaluates `foreach` on ctx.payload(), the watch's payload; an
    action transform does not change what is iterated."""
    fakes = Fakes()
    fakes.script_result = {"items": ["from transform"]}
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": {"items": ["from input"]}},
        "actions": {
            "each": {
                "transform": {"script": "return [items: ['from transform']]"},
                "foreach": "ctx.payload.items",
                "logging": {"text": "{{ctx.payload._value}}"},
            }
        },
    }
    options = RunOptions(execution_time=T0)
    execute("w", watch, options, fakes.services(scripts=True), None)
    assert [t for _, _, t in fakes.logged] == ["from input"]
