"""Watch scripts run as Painless on the stack's executor, with Watcher's ctx and results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pipeline.alerting.adapters import script_runner
from pipeline.alerting.engine.execute import new_context
from pipeline.alerting.engine.run import RunOptions
from pipeline.config import Config


@pytest.fixture
def ctx() -> dict[str, Any]:
    context = new_context(
        "w",
        {"metadata": {"limit": 2}},
        RunOptions(execution_time=datetime(2026, 11, 25, 10, tzinfo=UTC)),
    )
    context["payload"] = {
        "hits": {
            "total": 3,
            "hits": [
                {"_source": {"host": "edge-1"}},
                {"_source": {"host": 'edge "2"\n'}},
            ],
        }
    }
    return context


def test_condition_transform_vars_and_times(config: Config, ctx: dict[str, Any]) -> None:
    run = script_runner(config)
    assert run("ctx.payload.hits.total > ctx.metadata.limit", ctx, "condition") is True
    assert (
        run(
            {"source": "return ctx.payload.hits.total > params.max", "params": {"max": 9}},
            ctx,
            "condition",
        )
        is False
    )
    result = run(
        "ctx.vars.seen = ctx.payload.hits.hits.size();"
        "return ['hosts': ctx.payload.hits.hits.collect(h -> h._source.host),"
        " 'hour_before': ctx.execution_time.minusHours(1).getHour(), 'ratio': 1.5];",
        ctx,
        "transform",
    )
    assert result == {"hosts": ["edge-1", 'edge "2"\n'], "hour_before": 9, "ratio": 1.5}
    assert ctx["vars"] == {"seen": 2}


def test_stored_scripts_by_id(config: Config, ctx: dict[str, Any], unique_name: str) -> None:
    body = {"script": {"lang": "painless", "source": "return params.greeting + ' ' + ctx.watch_id"}}
    put = httpx.put(f"{config.alert.painless_url}/_scripts/{unique_name}", json=body)
    assert put.status_code == 200, put.text
    run = script_runner(config)
    assert run({"id": unique_name, "params": {"greeting": "hi"}}, ctx, "transform") == "hi w"
    with pytest.raises(RuntimeError, match="no stored script with id 'missing-script'"):
        run({"id": "missing-script"}, ctx, "transform")


def test_script_errors_say_what_and_where(config: Config, ctx: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError) as caught:
        script_runner(config)("return ctx.payload.nope.deeper", ctx, "condition")
    assert "null_pointer_exception" in str(caught.value) or "NullPointer" in str(caught.value)
    with pytest.raises(RuntimeError, match="compile error"):
        script_runner(config)("return (", ctx, "condition")
