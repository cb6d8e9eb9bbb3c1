"""A rule's scripts compiled before it runs, as Watcher compiles them when a watch is put.

Watcher builds a watch's script conditions and transforms at PUT time, so a script that does
not compile is a 400 with its `script_stack` and never runs (`painless/40_exception.yml`).
edgewatch compiles through the Painless executor (`alert.painless_url`), injected here as a
`Compiler` (adapters.script_compiler), so this module stays pure: which scripts a rule has and
where, and what a compile error becomes (a `Problem` at the script's pointer).

With no executor answering, scripts are not checked, which is a note and not a problem: the
rule's schema and schedule are still checked, and its run reports a script it cannot run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pipeline.alerting.engine.painless import normalise
from pipeline.alerting.format.checks import inputs
from pipeline.alerting.format.files import Problem, pointer_token

__all__ = ["Compiler", "ScriptCheck", "ScriptsUncheckedError", "watch_scripts"]

# Compiles one script source: None when it compiles, else why not. Raises
# ScriptsUncheckedError when it cannot tell (no executor, refused credentials...).
Compiler = Callable[[str], str | None]

_CACHE_LIMIT = 10_000


class ScriptsUncheckedError(Exception):
    """The executor could not be asked; the message says which one and why."""


def watch_scripts(data: Any) -> Iterator[tuple[str, Any]]:
    """(pointer, script) of every script of a rule (a watch or an `_execute` body): the
    condition, the transform (and a chain's), each action's condition and transform, and the
    transform elements of a chain input."""
    if not isinstance(data, Mapping):
        return
    base = "/watch" if isinstance(data.get("watch"), Mapping) else ""
    watch = data["watch"] if base else data
    yield from _condition(watch.get("condition"), f"{base}/condition")
    yield from _transform(watch.get("transform"), f"{base}/transform")
    yield from _chain_input(watch.get("input"), f"{base}/input")
    actions = watch.get("actions")
    if isinstance(actions, Mapping):
        for name, action in actions.items():
            if isinstance(action, Mapping):
                at = f"{base}/actions/{pointer_token(name)}"
                yield from _condition(action.get("condition"), f"{at}/condition")
                yield from _transform(action.get("transform"), f"{at}/transform")


def _condition(node: Any, at: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping) and "script" in node:
        yield f"{at}/script", node["script"]


def _transform(node: Any, at: str) -> Iterator[tuple[str, Any]]:
    if not isinstance(node, Mapping):
        return
    if "script" in node:
        yield f"{at}/script", node["script"]
    chain = node.get("chain")
    if isinstance(chain, list):
        for index, step in enumerate(chain):
            yield from _transform(step, f"{at}/chain/{index}")


def _chain_input(node: Any, at: str) -> Iterator[tuple[str, Any]]:
    for where, one in inputs(node, at):
        if where != at:  # a chain's member: it may be a transform (the chain input's own kind)
            yield from _transform(one.get("transform"), f"{where}/transform")


class ScriptCheck:
    """Compiles rules' inline scripts, each distinct source once for the life of the check.

    The alert service keeps one across reloads, so an unchanged rule costs nothing; `edgewatch
    rules validate` makes one per run. Stored scripts (`{"id": ...}`) are compiled by the server
    that stores them and are not checked here. When the executor cannot be asked, the rest of
    that pass goes unchecked (`unchecked` says why) instead of waiting on it script by script.
    """

    def __init__(self, compiler: Compiler) -> None:
        self._compile = compiler
        self._known: dict[str, str | None] = {}
        self.unchecked: str | None = None
        self.compiled = 0

    def begin(self) -> None:
        """Start a pass (a validate run, a reload): ask the executor again."""
        self.unchecked = None

    def problems(self, data: Any, source: str) -> list[Problem]:
        """The compile errors of a rule's inline scripts, each at its script's pointer."""
        found: list[Problem] = []
        for pointer, script in watch_scripts(data):
            try:
                text = normalise(script).source
            except ValueError:
                continue  # not Painless: the schema says so
            if text is None:
                continue
            error = self._result(text)
            if error is not None:
                found.append(Problem(source, pointer, f"does not compile: {error}"))
        return found

    def _result(self, text: str) -> str | None:
        if text in self._known:
            return self._known[text]
        if self.unchecked is not None:
            return None
        try:
            error = self._compile(text)
        except ScriptsUncheckedError as err:
            self.unchecked = str(err)
            return None
        if len(self._known) >= _CACHE_LIMIT:
            self._known.clear()
        self._known[text] = error
        self.compiled += 1
        return error
