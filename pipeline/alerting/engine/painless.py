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
  serializer in Painless, since the API would otherwise answer Java's toString().

Scripts are never evaluated in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# JSON text for any value Painless can hand back: maps, lists, strings, numbers, booleans,
# null; anything else (dates, ...) as its string form. Escapes are written with char codes:
# Painless string literals only know the escapes \\ and \'.
_SERIALIZER = """
String __q(String s) {
  StringBuilder b = new StringBuilder();
  b.append((char) 34);
  for (int i = 0; i < s.length(); i++) {
    char c = s.charAt(i);
    if (c == (char) 34 || c == (char) 92) { b.append((char) 92).append(c); }
    else if (c < (char) 32) {
      String h = Integer.toHexString((int) c);
      b.append((char) 92).append('u');
      for (int k = h.length(); k < 4; k++) { b.append('0'); }
      b.append(h);
    }
    else { b.append(c); }
  }
  return b.append((char) 34).toString();
}
String __j(def v) {
  if (v == null) { return 'null'; }
  if (v instanceof Map) {
    StringBuilder b = new StringBuilder('{');
    boolean first = true;
    for (def e : v.entrySet()) {
      if (!first) { b.append(','); }
      first = false;
      b.append(__q(String.valueOf(e.getKey()))).append(':').append(__j(e.getValue()));
    }
    return b.append('}').toString();
  }
  if (v instanceof Collection || v instanceof Object[]) {
    List items = v instanceof Collection ? new ArrayList(v) : Arrays.asList(v);
    StringBuilder b = new StringBuilder('[');
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) { b.append(','); }
      b.append(__j(items.get(i)));
    }
    return b.append(']').toString();
  }
  if (v instanceof Boolean) { return String.valueOf(v); }
  if (v instanceof Number) {
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) { return 'null'; }
    }
    return String.valueOf(v);
  }
  return __q(String.valueOf(v));
}
ZonedDateTime __time(def v) {
  return v instanceof String ? ZonedDateTime.parse(v) : v;
}
"""

_MAIN = """
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


def wrap(source: str) -> str:
    """The execute-API script that runs `source` with Watcher's ctx and params in scope."""
    body = source.strip()
    if "return" not in body and ";" not in body.rstrip(";"):
        body = f"return {body.rstrip(';')};"
    return f"{_SERIALIZER}\ndef __watch(Map ctx, Map params) {{\n{body}\n}}\n{_MAIN}"


def request(source: str, ctx: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The body of POST _scripts/painless/_execute for a watch script."""
    return {
        "script": {
            "lang": "painless",
            "source": wrap(source),
            "params": {"__ctx": dict(ctx), "__params": dict(params)},
        }
    }
