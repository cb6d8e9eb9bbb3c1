"""Watch scripts run as Painless on the stack's executor, with Watcher's ctx and results."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pipeline.alerting.adapters import script_compiler, script_runner
from pipeline.alerting.engine.execute import execute, new_context
from pipeline.alerting.engine.run import RunOptions, Services
from pipeline.alerting.format.scripts import ScriptsUncheckedError
from pipeline.alerting.format.validate import validate_rule
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


# The watch of Watcher's own REST test for Json in watch scripts.
JSON_WATCH: dict[str, Any] = {
    "trigger": {"schedule": {"cron": "0 0 0 1 * ? 2099"}},
    "input": {"simple": {"count": 1}},
    "condition": {
        "script": {
            "source": "String s = Json.dump(ctx.payload); Map m = Json.load(s); m.count == 1;",
            "lang": "painless",
        }
    },
    "transform": {
        "script": "String s = Json.dump(ctx.payload); Map m = Json.load(s); return ['test': m];"
    },
    "actions": {"logging": {"logging": {"text": "{{ctx.payload.test.count}}"}}},
}


def test_json_load_and_dump_in_a_watch(config: Config) -> None:
    """Watcher's Painless has Json.load / Json.dump in watch scripts; the watch of
    x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/painless/
    70_json_in_watch.yml runs unmodified and gives its expected record."""
    assert validate_rule(JSON_WATCH, "json.json") == []
    logged: list[str] = []
    services = Services(
        search=lambda request: {},
        index=lambda *args: {},
        log_text=lambda level, category, text: logged.append(text),
        run_script=script_runner(config),
    )
    options = RunOptions(execution_time=datetime(2026, 11, 25, 10, tzinfo=UTC))
    record, _ = execute("my_json_watch", JSON_WATCH, options, services)
    result = record["result"]
    assert record["state"] == "executed", record
    assert result["input"]["payload"] == {"count": 1}
    assert result["condition"] == {"type": "script", "status": "success", "met": True}
    assert result["transform"]["type"] == "script"
    assert result["transform"]["status"] == "success"
    assert result["transform"]["payload"] == {"test": {"count": 1}}
    action = result["actions"][0]
    assert (action["id"], action["type"], action["status"]) == ("logging", "logging", "success")
    assert action["logging"]["logged_text"] == "1"
    assert logged == ["1"]


def test_json_dump_and_load_as_elasticsearch_writes_and_reads(
    config: Config, ctx: dict[str, Any]
) -> None:
    """Json.dump / Json.load are org.elasticsearch.painless.api.Json (modules/lang-painless/
    src/main/java/org/elasticsearch/painless/api/Json.java): XContentBuilder's JSON, pretty as
    JsonXContentGenerator.usePrettyPrint (Jackson's DefaultPrettyPrinter, objects and arrays
    indented by two spaces), dates as XContentElasticsearchExtension's
    strict_date_optional_time_nanos; XContentParser.map() for load, Jackson's number types."""
    run = script_runner(config)
    pretty = run(
        "return Json.dump(['a': [1, 2.5, 'x' + (char) 10 + 'y'], 'b': [:], 'c': [], 'd': null],"
        " true)",
        ctx,
        "transform",
    )
    assert pretty == (
        '{\n  "a" : [\n    1,\n    2.5,\n    "x\\ny"\n  ],\n  "b" : { },\n  "c" : [ ],\n'
        '  "d" : null\n}'
    )
    compact = run(
        "return Json.dump(['when': ctx.execution_time, 'nan': Double.NaN, 'q': 'say \"hi\"'])",
        ctx,
        "transform",
    )
    # A Painless map literal is a HashMap, in Watcher too: its order is Java's hash order.
    assert compact == '{"q":"say \\"hi\\"","nan":"NaN","when":"2026-11-25T10:00:00.000Z"}'
    loaded = run(
        {
            "source": "def m = Json.load(params.text);"
            " return [m.i instanceof Integer, m.l instanceof Long,"
            " m.big instanceof BigInteger, m.d instanceof Double, m.list, m.s, m.n == null,"
            " m.t, Json.load('7'), Json.load(' \"only\" ')];",
            "params": {
                "text": '{"i": 1, "l": 12345678901, "big": 123456789012345678901234,'
                ' "d": 1.0, "list": [true, false, {}], "s": "a\\u00e9\\"\\\\", "n": null,'
                ' "t": "// not a comment, Json.load( not a call"}'
            },
        },
        ctx,
        "transform",
    )
    assert loaded == [
        True,
        True,
        True,
        True,
        [True, False, {}],
        'a\u00e9"\\',
        True,
        "// not a comment, Json.load( not a call",
        7,
        "only",
    ]
    with pytest.raises(RuntimeError, match=r"Json.load: expected a value at offset 4"):
        run("return Json.load('[1, }')", ctx, "transform")


def test_scripts_compile_without_running(config: Config) -> None:
    """Watcher compiles a watch's scripts when it is put, and a compile error is a 400 with
    its script_stack (x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/
    rest-api-spec/test/painless/40_exception.yml): the compiler says where in the script,
    and never runs it (a script that would fail at run time compiles)."""
    compile_script = script_compiler(config)
    assert compile_script("String s = Json.dump(ctx.payload); Json.load(s).count == 1;") is None
    assert compile_script("return ctx.payload.nope.deeper.still") is None
    assert compile_script("def x = 1;\nreturn x +;") == (
        "invalid sequence of tokens near [';']. (line 2, column 11: return x +;)"
    )
    # The condition 40_exception.yml puts and Watcher refuses.
    message = compile_script("FOO == 1")
    assert message is not None and message.startswith("cannot resolve symbol [FOO]")
    nowhere = script_compiler(
        replace(config, alert=replace(config.alert, painless_url="http://127.0.0.1:9"))
    )
    with pytest.raises(ScriptsUncheckedError, match="no Painless executor answers"):
        nowhere("return 1")
