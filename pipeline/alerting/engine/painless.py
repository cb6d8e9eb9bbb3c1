"""Watcher scripts, run as Painless in an Elasticsearch-compatible server. Pure part.

Watcher runs a script with `ctx` (the execution context) and the script's `params` in scope,
and uses what it returns: a boolean for a condition, the new payload for a transform. The
`_scripts/painless/_execute` API, which Elasticsearch has (and OpenSearch, which the local
stack uses for it), runs a script with `params` only and returns its result as a string.

`wrap()` turns a watch script into one the execute API can run with Watcher's semantics:

- the watch script becomes the body of a function `__watch(Map ctx, Map params)`, so `ctx`
  and `params` mean what they mean in Watcher, and `return` works; a script that is a single
  bare expression (`ctx.payload.hits.total > 5`) is returned, as Watcher's scripts return
  their last expression;
- the ctx's times are turned back into ZonedDateTime, as Watcher gives them to scripts;
- the result (and ctx.vars, which scripts may set) comes back as JSON text, written by a small
  serializer in Painless, since the API would otherwise answer Java's toString();
- `Json.load` / `Json.dump`, which Watcher adds to Painless, are rewritten into calls of
  functions prepended to the script (painless_json.py).

`compile_request()` asks the same API to compile a script without running it: the same wrapped
script, told by a parameter to return before it calls the watch's function.

Scripts are never evaluated in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.alerting.engine.painless_json import LIBRARY, rewrite

# Watcher gives scripts ctx's times as ZonedDateTime; they travel as ISO text.
_TIME = """
ZonedDateTime __time(def v) {
  return v instanceof String ? ZonedDateTime.parse(v) : v;
}
"""

_MAIN = """
if (params.__compile_only == true) { return 'compiled'; }
Map __ctx = params.__ctx;
__ctx.execution_time = __time(__ctx.execution_time);
if (__ctx.trigger != null) {
  __ctx.trigger.scheduled_time = __time(__ctx.trigger.scheduled_time);
  __ctx.trigger.triggered_time = __time(__ctx.trigger.triggered_time);
}
def __result = __watch(__ctx, params.__params);
return __j(['result': __result, 'vars': __ctx.vars]);
"""


@dataclass(frozen=True)
class Script:
    """A watch script in its normal form: source (inline) or id (stored), and params."""

    source: str | None
    id: str | None
    params: Mapping[str, Any]
    lang: str = "painless"


def normalise(script: Any) -> Script:
    """Watcher accepts a bare string, or an object with `source`, `inline` (the old name) or
    `id`, plus `lang` and `params`."""
    if isinstance(script, str):
        return Script(script, None, {})
    if not isinstance(script, Mapping):
        raise ValueError(f"a script is a string or an object, not {type(script).__name__}")
    source = script.get("source", script.get("inline"))
    params = script.get("params") or {}
    lang = str(script.get("lang", "painless"))
    if lang != "painless":
        raise ValueError(f"script language {lang!r} is not supported (only painless)")
    if source is None and script.get("id") is None:
        raise ValueError("a script needs `source` (or `inline`) or `id`")
    return Script(
        str(source) if source is not None else None,
        str(script["id"]) if script.get("id") is not None else None,
        dict(params),
        lang,
    )


_HEAD = f"{LIBRARY}{_TIME}\ndef __watch(Map ctx, Map params) {{\n"


def _body(source: str) -> str:
    body = rewrite(source.strip())
    if "return" not in body and ";" not in body.rstrip(";"):
        body = f"return {body.rstrip(';')};"
    return body


def wrap(source: str) -> str:
    """The execute-API script that runs `source` with Watcher's ctx and params in scope."""
    return f"{_HEAD}{_body(source)}\n}}\n{_MAIN}"


def compile_error(error: Mapping[str, Any], source: str) -> str:
    """What the executor's `script_exception` for `compile_request(source)` says, placed in
    `source` (line, column and that line) rather than in the wrapped script it compiled.

    Positions after a rewritten `Json.` call are off by the rewrite (two characters each).
    """
    reason, cause = str(error.get("reason") or "compile error"), error.get("caused_by")
    while isinstance(cause, Mapping):
        reason = str(cause.get("reason") or reason)
        cause = cause.get("caused_by")
    position = error.get("position")
    offset = position.get("offset") if isinstance(position, Mapping) else None
    body = _body(source)
    # An error found at the wrapper's closing brace is one at the end of the script.
    if not isinstance(offset, int) or not 0 <= offset - len(_HEAD) <= len(body) + 2:
        return reason
    before = body[: min(offset - len(_HEAD), len(body))]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    text = body.splitlines()[line - 1].strip() if body.strip() else ""
    return f"{reason} (line {line}, column {column}: {text})"


def compile_request(source: str) -> dict[str, Any]:
    """The body of POST _scripts/painless/_execute that compiles a watch script, not runs it.

    Watcher compiles a watch's scripts when the watch is put (ExecutableScriptTransform,
    ScriptCondition), so a script that cannot compile never runs; the answer is a 400
    `script_exception` "compile error" with its `script_stack`, or `{"result": "compiled"}`.

    The source is exactly the one `request()` runs, with a parameter that returns before the
    watch's function is called: Elasticsearch's script cache (keyed by source, not params)
    then holds one compiled script for both, so checking costs none of the server's script
    compilation budget beyond what the run needs (`script.max_compilations_rate`).
    """
    return {
        "script": {"lang": "painless", "source": wrap(source), "params": {"__compile_only": True}}
    }


def request(source: str, ctx: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The body of POST _scripts/painless/_execute for a watch script."""
    return {
        "script": {
            "lang": "painless",
            "source": wrap(source),
            "params": {"__ctx": dict(ctx), "__params": dict(params)},
        }
    }
