"""A rule's scripts compiled before it runs (format/scripts.py), with a fake compiler; the
integration tests compile through the stack's Painless executor."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pipeline.alerting.format.loader import load_rules
from pipeline.alerting.format.scripts import ScriptCheck, ScriptsUncheckedError, watch_scripts
from pipeline.alerting.format.validate import Problem, validate_paths

WATCH: dict[str, Any] = {
    "trigger": {"schedule": {"interval": "5m"}},
    "input": {
        "chain": {
            "inputs": [
                {"first": {"simple": {"a": 1}}},
                {"second": {"transform": {"script": "return ['b': 2]"}}},
            ]
        }
    },
    "condition": {"script": {"source": "BROKEN condition", "lang": "painless"}},
    "transform": {"chain": [{"script": "return ctx.payload"}, {"script": {"inline": "BROKEN"}}]},
    "actions": {
        "a/b": {
            "condition": {"script": {"id": "stored-one"}},
            "transform": {"script": "BROKEN action"},
            "logging": {"text": "x"},
        }
    },
}


class FakeCompiler:
    """Says a source does not compile when it holds BROKEN; counts its calls."""

    def __init__(self, down: bool = False) -> None:
        self.calls: list[str] = []
        self.down = down

    def __call__(self, source: str) -> str | None:
        self.calls.append(source)
        if self.down:
            raise ScriptsUncheckedError("no Painless executor answers at http://nowhere")
        return "compile error: cannot resolve symbol [BROKEN]" if "BROKEN" in source else None


def test_every_script_of_a_watch_is_found_at_its_pointer() -> None:
    """Watcher compiles the script condition, script transforms (a chain's too), the actions'
    conditions and transforms, and a chain input's transform elements when the watch is put:
    x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/transform/script/
    ExecutableScriptTransform.java, .../condition/ScriptCondition.java,
    .../input/transform/TransformInput.java (painless/60_chain_input_with_transform.yml)."""
    assert [pointer for pointer, _ in watch_scripts(WATCH)] == [
        "/condition/script",
        "/transform/chain/0/script",
        "/transform/chain/1/script",
        "/input/chain/inputs/1/second/transform/script",
        "/actions/a~1b/condition/script",
        "/actions/a~1b/transform/script",
    ]
    assert next(p for p, _ in watch_scripts({"watch": WATCH})) == "/watch/condition/script"


def test_compile_errors_are_problems_at_the_script() -> None:
    """A script that does not compile makes the put fail with its script_stack
    (x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/painless/
    40_exception.yml); here it is a problem of the rule at the script's pointer. Stored
    scripts (`id`) are left to the server that stores them."""
    compiler = FakeCompiler()
    check = ScriptCheck(compiler)
    message = "does not compile: compile error: cannot resolve symbol [BROKEN]"
    assert check.problems(WATCH, "rule.json") == [
        Problem("rule.json", "/condition/script", message),
        Problem("rule.json", "/transform/chain/1/script", message),
        Problem("rule.json", "/actions/a~1b/transform/script", message),
    ]
    assert len(compiler.calls) == 5 and check.compiled == 5
    # Each source is compiled once for the life of the check (the alert service's reloads).
    check.problems(copy.deepcopy(WATCH), "again.json")
    assert len(compiler.calls) == 5


def test_without_an_executor_scripts_go_unchecked_once() -> None:
    """No executor is a note, not a problem: the rule's other checks still stand and the
    pass does not ask again script by script."""
    compiler = FakeCompiler(down=True)
    check = ScriptCheck(compiler)
    assert check.problems(WATCH, "rule.json") == []
    assert check.unchecked == "no Painless executor answers at http://nowhere"
    assert len(compiler.calls) == 1
    check.begin()
    assert check.unchecked is None
    check.problems(WATCH, "rule.json")
    assert len(compiler.calls) == 2


def write(folder: Path, name: str, watch: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(watch))
    return path


def test_validate_and_the_loader_refuse_a_rule_that_does_not_compile(tmp_path: Path) -> None:
    """`edgewatch rules validate` and the alert service's loader refuse the rule before it runs,
    as Watcher refuses it at PUT (painless/40_exception.yml), and load the others."""
    bad_watch = copy.deepcopy(WATCH)
    # (Chain inputs with transform elements are another part of the rule format.)
    bad_watch["input"] = {"simple": {}}
    good = copy.deepcopy(bad_watch)
    good["condition"] = {"script": "return true"}
    good["transform"] = {"script": "return ctx.payload"}
    good["actions"] = {"log": {"logging": {"text": "x"}}}
    write(tmp_path, "good.json", good)
    bad = write(tmp_path, "bad.json", bad_watch)
    check = ScriptCheck(FakeCompiler())
    checked, problems = validate_paths([tmp_path], scripts=check)
    assert checked == 2
    assert {(p.file, p.pointer) for p in problems} == {
        (str(bad), "/condition/script"),
        (str(bad), "/transform/chain/1/script"),
        (str(bad), "/actions/a~1b/transform/script"),
    }
    loaded = load_rules(tmp_path, scripts=check)
    assert list(loaded.rules) == ["good"]
    assert {p.pointer for p in loaded.problems} == {p.pointer for p in problems}
    # Without a check (no executor wanted), scripts are not compiled at all.
    assert list(load_rules(tmp_path).rules) == ["bad", "good"]
