"""The rule schema accepts Watcher's chain-input transforms and search templates.

`yml/` is Watcher's REST tests,
x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/ in
elastic/elasticsearch."""

from __future__ import annotations

from typing import Any

from pipeline.alerting.format.validate import validate_rule


def _watch(input_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": input_spec,
        "actions": {"log": {"logging": {"text": "x"}}},
    }


def test_chain_input_accepts_a_transform_step() -> None:
    """yml/painless/60_chain_input_with_transform.yml: a chain element may be
    {"<name>": {"transform": {"script": ...}}} (TransformInput in the chain's inputs)."""
    chain = {
        "chain": {
            "inputs": [
                {"first": {"simple": {"foo": "bar"}}},
                {"second": {"transform": {"script": "return ['foo': 'x']"}}},
            ]
        }
    }
    assert validate_rule(_watch(chain), "w.json") == []
    bad: dict[str, Any] = {"chain": {"inputs": [{"second": {"transform": {"bogus": {}}}}]}}
    problems = validate_rule(_watch(bad), "w.json")
    assert [p.pointer for p in problems] == ["/input/chain/inputs/0/second/transform/bogus"]


def test_search_request_accepts_templates() -> None:
    """yml/mustache/30_search_input.yml and WatcherSearchTemplateRequest: `template` with an
    inline source (text or object) or a stored id, and params."""
    for template in (
        {"source": '{"size": {{n}}}', "params": {"n": 1}},
        {"source": {"size": "{{n}}"}, "params": {"n": 1}},
        {"id": "stored", "params": {"n": 1}},
    ):
        spec = {"search": {"request": {"indices": ["x"], "template": template}}}
        assert validate_rule(_watch(spec), "w.json") == [], template
    bad = {"search": {"request": {"indices": ["x"], "template": {"sauce": "x"}}}}
    assert validate_rule(_watch(bad), "w.json") != []
