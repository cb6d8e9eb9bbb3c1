"""Wrapping watch scripts for the Painless execute API (the text only; the integration tests
run them)."""

from __future__ import annotations

import pytest

from pipeline.alerting.engine.painless import (
    Script,
    compile_error,
    compile_request,
    normalise,
    request,
    wrap,
)
from pipeline.alerting.engine.painless_json import rewrite


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("return 1", Script("return 1", None, {})),
        ({"source": "x", "params": {"a": 1}}, Script("x", None, {"a": 1})),
        ({"inline": "y"}, Script("y", None, {})),  # the pre-6.x key, still in real watches
        ({"id": "stored", "lang": "painless"}, Script(None, "stored", {})),
    ],
)
def test_every_form_watcher_accepts_normalises(script: object, expected: Script) -> None:
    assert normalise(script) == expected


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"source": "1", "lang": "expression"}, "only painless"),
        ({"params": {}}, "needs `source`"),
        (42, "a string or an object"),
    ],
)
def test_unsupported_scripts_are_refused_with_the_reason(script: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise(script)


def test_a_bare_expression_is_returned_and_statements_are_kept() -> None:
    assert "return ctx.payload.hits.total > 5;" in wrap("ctx.payload.hits.total > 5")
    assert "return ctx.payload.hits.total > 5;" in wrap("ctx.payload.hits.total > 5;")
    body = "def n = ctx.payload.hits.total; return n > 5"
    assert f"def __watch(Map ctx, Map params) {{\n{body}\n}}" in wrap(body)


def test_request_passes_ctx_and_params_apart() -> None:
    body = request("return params.limit", {"payload": {}}, {"limit": 3})
    assert body["script"]["params"] == {"__ctx": {"payload": {}}, "__params": {"limit": 3}}
    assert body["script"]["lang"] == "painless"


def test_json_calls_are_rewritten_outside_strings_and_comments() -> None:
    """Watcher's Painless has Json.load / Json.dump (x-pack/plugin/watcher/src/main/resources/
    org/elasticsearch/xpack/watcher/painless_whitelist.txt); the execute API's context has not,
    so the calls go to functions prepended to the script, and only the calls."""
    source = (
        "String s = Json.dump(ctx.payload, true); Map m = Json . load (s);"
        " // Json.load(x) in a comment\n"
        "/* Json.dump(y) */ return ['t': 'Json.load(z)', 'u': \"it's Json.dump(w)\","
        " 'v': 'a\\'Json.load(q)', 'w': MyJson.load(s)];"
    )
    assert rewrite(source) == (
        "String s = __json_dump(ctx.payload, true); Map m = __json_load (s);"
        " // Json.load(x) in a comment\n"
        "/* Json.dump(y) */ return ['t': 'Json.load(z)', 'u': \"it's Json.dump(w)\","
        " 'v': 'a\\'Json.load(q)', 'w': MyJson.load(s)];"
    )
    wrapped = wrap("Json.load(params.text).count > 1")
    assert "return __json_load(params.text).count > 1;" in wrapped
    assert "def __json_load(String s)" in wrapped and "String __json_dump(def v)" in wrapped


def test_compile_only_never_calls_the_watch_script() -> None:
    """Watcher compiles scripts when the watch is put (painless/40_exception.yml): the compile
    request never calls the function holding the script."""
    body = compile_request("return 1")["script"]
    # The very script a run sends (one entry in the server's script cache), told to stop
    # before the watch's function.
    assert body["source"] == request("return 1", {}, {})["script"]["source"]
    assert body["params"] == {"__compile_only": True}
    main = body["source"].split("def __watch(Map ctx, Map params) {\nreturn 1\n}", 1)[1]
    assert main.index("if (params.__compile_only == true) { return 'compiled'; }") < main.index(
        "__watch(__ctx"
    )


def test_compile_errors_are_placed_in_the_watch_script() -> None:
    """A compile error's position (the `position.offset` of Elasticsearch's script_exception,
    painless/40_exception.yml) is turned into a line and column of the watch's own script."""
    source = "def x = 1;\nreturn x +;"
    wrapped = compile_request(source)["script"]["source"]
    error = {
        "type": "script_exception",
        "reason": "compile error",
        "position": {"offset": wrapped.rindex("+;") + 1},
        "caused_by": {
            "type": "illegal_argument_exception",
            "reason": "invalid sequence of tokens near [';'].",
            "caused_by": {"type": "no_viable_alt_exception", "reason": None},
        },
    }
    assert compile_error(error, source) == (
        "invalid sequence of tokens near [';']. (line 2, column 11: return x +;)"
    )
    assert compile_error({"reason": "compile error"}, source) == "compile error"
    # Found at the wrapper's closing brace: the end of the watch's script.
    at_end = {**error, "position": {"offset": wrapped.rindex("+;") + 3}}
    assert compile_error(at_end, source).endswith("(line 2, column 12: return x +;)")
