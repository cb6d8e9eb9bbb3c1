"""Wrapping watch scripts for the Painless execute API (the text only; the integration tests
run them)."""

from __future__ import annotations

import pytest

from pipeline.alerting.engine.painless import Script, normalise, request, wrap


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
