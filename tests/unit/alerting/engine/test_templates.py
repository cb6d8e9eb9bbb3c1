"""Text templates as Watcher renders them (TextTemplate, TextTemplateEngine): inline strings,
`{source, params}`, object sources, and stored scripts by `id`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.alerting.engine.execute import new_context
from pipeline.alerting.engine.run import ExecutionError, Run, RunOptions, render_text
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

STORED: dict[str, dict[str, Any]] = {
    "color_alert": {"lang": "mustache", "source": "{{color}} alert"},
    "quoted": {"lang": "mustache", "source": "{{ctx.payload.msg}}"},
    "plain": {
        "lang": "mustache",
        "source": "{{ctx.payload.msg}}",
        "options": {"content_type": "text/plain"},
    },
    "script": {"lang": "painless", "source": "return 1"},
}


def _stored(script_id: str) -> Mapping[str, Any] | None:
    return STORED.get(script_id)


def _run(payload: Mapping[str, Any] | None = None) -> Run:
    options = RunOptions(execution_time=T0)
    services = replace(Fakes().services(), stored_script=_stored)
    ctx = new_context("w", {}, options)
    ctx["payload"] = dict(payload or {})
    return Run("w", {}, options, services, ctx)


def test_a_stored_template_renders_with_its_params() -> None:
    """x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/mustache/
    60_template_with_params.yml: stored `{{color}} alert` with params color=yellow logs
    `yellow alert`."""
    run = _run()
    assert render_text(run, {"id": "color_alert", "params": {"color": "yellow"}}) == "yellow alert"


def test_ctx_wins_over_a_param_named_ctx() -> None:
    """TextTemplateEngine.render: the params first, then the `{ctx: ...}` model over them
    (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/common/text/
    TextTemplateEngine.java)."""
    run = _run({"n": 3})
    template = {"source": "{{ctx.payload.n}} {{extra}}", "params": {"ctx": {}, "extra": "x"}}
    assert render_text(run, template) == "3 x"


def test_a_stored_script_renders_json_escaped_unless_its_content_type_says_otherwise() -> None:
    """A stored script keeps its own options (TextTemplateEngine sets a content type only for
    inline ones), and Elasticsearch's mustache engine escapes for JSON by default
    (modules/lang-mustache/.../MustacheScriptEngine.java createMustacheFactory)."""
    run = _run({"msg": 'say "hi"'})
    assert render_text(run, {"id": "quoted"}) == 'say \\"hi\\"'
    assert render_text(run, {"id": "plain"}) == 'say "hi"'
    assert render_text(run, {"source": "{{ctx.payload.msg}}"}) == 'say "hi"'


def test_an_unknown_id_is_an_error_naming_it_never_an_empty_text() -> None:
    """Elasticsearch's ScriptService fails a missing stored script with `unable to find script
    [id] in cluster state` (server/src/main/java/org/elasticsearch/script/ScriptService.java);
    Watcher's action then fails with that reason."""
    with pytest.raises(ExecutionError, match=r"unable to find script \[nope\]"):
        render_text(_run(), {"id": "nope"})


def test_a_painless_stored_script_is_refused_as_a_text_template() -> None:
    """TextTemplateEngine compiles a stored script in Watcher's template context, which only
    the mustache engine serves: a painless script cannot be a text template."""
    with pytest.raises(ExecutionError, match=r"\[painless\].*mustache"):
        render_text(_run(), {"id": "script"})


def test_an_object_source_is_compact_json_text_rendered_as_plain_text() -> None:
    """Script.parse turns an object `source` into JSON text; TextTemplateEngine then renders
    an inline template as text/plain (no JSON escaping): docs/plans section 10."""
    run = _run({"msg": 'a "b"'})
    template = {"source": {"text": "{{ctx.payload.msg}}", "n": 1}}
    assert render_text(run, template) == '{"text":"a "b"","n":1}'
