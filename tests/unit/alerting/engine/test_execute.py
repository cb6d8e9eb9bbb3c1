"""The watch executor over fake services: inputs, conditions, transforms, actions, state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions, Services
from pipeline.alerting.status import throttle as state
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _spike_watch(**extra: Any) -> dict[str, Any]:
    watch: dict[str, Any] = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {
            "search": {
                "request": {
                    "indices": ["edgewatch-logs-*"],
                    "body": {
                        "query": {
                            "range": {"@timestamp": {"gte": "{{ctx.trigger.scheduled_time}}||-5m"}}
                        }
                    },
                }
            }
        },
        "condition": {"compare": {"ctx.payload.hits.total": {"gt": 100}}},
        "actions": {
            "log": {
                "logging": {
                    "text": "{{ctx.payload.hits.total}} errors on "
                    "{{ctx.payload.hits.hits.0._source.host.name}}"
                }
            }
        },
    }
    watch.update(extra)
    return watch


def _response(total: int) -> dict[str, Any]:
    return {"hits": {"total": total, "hits": [{"_source": {"host": {"name": "edge-3"}}}]}}


def _run(
    watch: dict[str, Any], fakes: Fakes, at: datetime = T0, **options: Any
) -> tuple[dict[str, Any], state.WatchState]:
    status = options.pop("status", None)
    scripts = options.pop("scripts", False)
    return execute(
        "spike", watch, RunOptions(execution_time=at, **options), fakes.services(scripts), status
    )


def test_search_is_rendered_condition_met_and_text_logged() -> None:
    fakes = Fakes(_response(120))
    record, _ = _run(_spike_watch(), fakes)
    assert record["state"] == "executed"
    gte = fakes.searches[0]["body"]["query"]["range"]["@timestamp"]["gte"]
    # ZonedDateTime.toString, as yml/mustache/30_search_input.yml; Elasticsearch does the math.
    assert gte == "2026-11-25T10:00Z||-5m"
    assert record["result"]["condition"] == {
        "type": "compare",
        "status": "success",
        "met": True,
        "compare": {"resolved_values": {"ctx.payload.hits.total": 120}},
    }
    (action,) = record["result"]["actions"]
    assert action["status"] == "success"
    assert action["logging"]["logged_text"] == "120 errors on edge-3"
    assert fakes.logged == [("info", "", "120 errors on edge-3")]


def test_condition_not_met_runs_nothing() -> None:
    fakes = Fakes(_response(7))
    record, _ = _run(_spike_watch(), fakes)
    assert record["state"] == "execution_not_needed"
    assert "actions" not in record["result"]
    assert fakes.logged == []


def test_ignore_condition_and_alternative_input_and_simulation() -> None:
    fakes = Fakes()
    record, _ = _run(
        _spike_watch(),
        fakes,
        ignore_condition=True,
        alternative_input={"hits": {"total": 3, "hits": []}},
        simulate_actions=frozenset({"_all"}),
    )
    assert fakes.searches == []  # the alternative input replaces the search
    assert record["result"]["condition"]["met"] is True
    (action,) = record["result"]["actions"]
    assert (action["status"], action["logging"]["logged_text"]) == ("simulated", "3 errors on ")
    assert fakes.logged == []


def test_throttle_period_then_ack_then_reset_by_a_false_condition() -> None:
    fakes = Fakes(_response(500))
    watch = _spike_watch(throttle_period="10m")
    _, status = _run(watch, fakes)
    assert len(fakes.logged) == 1

    record, status = _run(watch, fakes, at=T0 + timedelta(minutes=5), status=status)
    assert record["result"]["actions"][0]["status"] == "throttled"
    assert len(fakes.logged) == 1  # not twice for one firing

    status = replace_action(status, "log", state.ack(status.actions["log"], T0))
    record, status = _run(watch, fakes, at=T0 + timedelta(minutes=30), status=status)
    assert record["result"]["actions"][0]["status"] == "acknowledged"

    fakes.response = _response(1)
    _, status = _run(watch, fakes, at=T0 + timedelta(minutes=31), status=status)
    assert status.actions["log"].ack.state == state.AWAITS_SUCCESSFUL_EXECUTION
    fakes.response = _response(900)
    record, _ = _run(watch, fakes, at=T0 + timedelta(minutes=45), status=status)
    assert record["result"]["actions"][0]["status"] == "success"
    assert len(fakes.logged) == 2


def replace_action(
    status: state.WatchState, action_id: str, new: state.ActionState
) -> state.WatchState:
    from dataclasses import replace

    return replace(status, actions={**status.actions, action_id: new})


def test_foreach_runs_the_action_per_item_up_to_max_iterations() -> None:
    fakes = Fakes({"hits": {"total": 3, "hits": [{"_id": "a"}, {"_id": "b"}, {"_id": "c"}]}})
    watch = _spike_watch(
        condition={"always": {}},
        actions={
            "each": {
                "foreach": "ctx.payload.hits.hits",
                "max_iterations": 2,
                "logging": {"text": "doc {{ctx.payload._id}}"},
            }
        },
    )
    record, _ = _run(watch, fakes)
    (action,) = record["result"]["actions"]
    assert action["number_of_actions_executed"] == 2
    assert [t for _, _, t in fakes.logged] == ["doc a", "doc b"]


def test_action_condition_and_index_action() -> None:
    fakes = Fakes(_response(150))
    watch = _spike_watch(
        actions={
            "only_huge": {
                "condition": {"compare": {"ctx.payload.hits.total": {"gte": 1000}}},
                "logging": {"text": "huge"},
            },
            "archive": {
                "index": {"index": "alerts-{{ctx.watch_id}}", "execution_time_field": "fired_at"}
            },
        }
    )
    record, status = _run(watch, fakes)
    by_id = {a["id"]: a for a in record["result"]["actions"]}
    assert by_id["only_huge"]["status"] == "condition_failed"
    assert by_id["archive"]["status"] == "success"
    ((index, docs),) = fakes.indexed
    assert index == "alerts-spike"
    assert docs[0]["fired_at"] == "2026-11-25T10:00:00.000Z"
    assert status.actions["archive"].ack.state == state.ACKABLE


def test_script_steps_fail_clearly_without_a_runner_and_use_it_when_there_is_one() -> None:
    watch = _spike_watch(condition={"script": {"source": "return ctx.payload.hits.total > 5"}})
    fakes = Fakes(_response(9))
    record, _ = _run(watch, fakes)
    assert record["state"] == "failed"
    assert "scripts need Painless" in record["messages"][0]

    fakes.script_result = True
    record, _ = _run(watch, fakes, scripts=True)
    assert record["result"]["condition"]["met"] is True

    fakes.script_result = 42  # a transform that returns a non-map is wrapped as _value
    record, _ = _run(
        _spike_watch(transform={"script": "return 42"}), Fakes(_response(500)), scripts=True
    )
    assert record["result"]["transform"]["payload"] == {"_value": None}


def test_search_failure_is_a_failed_record_with_the_reason() -> None:
    fakes = Fakes()

    def broken(_request: Mapping[str, Any]) -> dict[str, Any]:
        raise RuntimeError("Elasticsearch answered 400: parsing_exception: bad query")

    services = fakes.services()
    services = Services(broken, services.index, services.log_text)
    record, _ = execute("spike", _spike_watch(), RunOptions(execution_time=T0), services)
    assert record["state"] == "failed"
    assert record["result"]["input"]["status"] == "failure"
    assert "bad query" in record["messages"][0]
