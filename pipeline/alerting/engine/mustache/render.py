"""Rendering a parsed template against a watch's model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pipeline.alerting.engine.java import lang
from pipeline.alerting.engine.mustache.syntax import (
    Block,
    Join,
    Node,
    Section,
    TemplateError,
    ToJson,
    Var,
    parse,
)
from pipeline.alerting.engine.mustache.values import (
    ENCODERS,
    falsy,
    items,
    lookup,
    stringify,
    to_json,
    url_encode,
)

Escape = Literal["none", "json", "html"]


# --- rendering --------------------------------------------------------------------------------


def _render(
    nodes: tuple[Node, ...], scopes: list[object], encode: Callable[[str], str], out: list[str]
) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Var):
            value = lookup(node.name, scopes)
            if value is not None:
                text = stringify(value)
                out.append(encode(text) if node.escaped else text)
        elif isinstance(node, Section):
            value = lookup(node.name, scopes)
            if node.inverted:
                if falsy(value):
                    _render(node.body, scopes, encode, out)
                continue
            for item in items(value):
                # mustache.java pushes no scope for a null list item.
                if item is None:
                    _render(node.body, scopes, encode, out)
                    continue
                scopes.append(item)
                _render(node.body, scopes, encode, out)
                scopes.pop()
        elif isinstance(node, Block):
            _render(node.body, scopes, encode, out)
        elif isinstance(node, ToJson):
            value = lookup(node.name, scopes)
            if value is None:
                continue
            if isinstance(value, list | tuple | Mapping):
                out.append(to_json(value, lang.Guard()))
            else:
                out.append(stringify(value))
        elif isinstance(node, Join):
            value = lookup(node.name, scopes)
            if isinstance(value, list | tuple):
                guard = lang.Guard()
                out.append(
                    node.delimiter.join(
                        "" if item is None else lang.string_value(item, guard) for item in value
                    )
                )
            else:
                # Elasticsearch's join hands back its rendered body: the name itself.
                out.append(node.name)
        else:
            inner: list[str] = []
            _render(node.body, scopes, encode, inner)
            out.append(url_encode("".join(inner)))


def render(template: str, ctx: Mapping[str, Any], escape: Escape = "none") -> str:
    """Render a Watcher Mustache template against `ctx`, the map names are looked up in.

    For a watch, `ctx` is Watcher's model `{"ctx": {"metadata": ..., "payload": ..., ...}}`
    (plus a template's own params). `escape` encodes what `{{name}}` inserts: "none" for
    Watcher's text templates, "json" for search request bodies and `__json__::` templates,
    "html" for edgewatch's own HTML (see the module docstring). `{{{name}}}`, `{{& name}}`,
    toJson and join output are never escaped.

    Raises TemplateError when the template does not parse or a value cannot be printed.
    """
    if "{{" not in template:
        return template
    try:
        encode = ENCODERS[escape]
    except KeyError:
        raise ValueError(f"escape must be one of {sorted(ENCODERS)}, not {escape!r}") from None
    out: list[str] = []
    try:
        _render(parse(template), [ctx], encode, out)
    except lang.JavaValueError as err:  # a value that cannot be printed: the template's error
        raise TemplateError(str(err)) from None
    return "".join(out)


def check(template: str) -> None:
    """Parse `template` without rendering it; raise TemplateError naming the faulty tag."""
    if "{{" in template:
        parse(template)


def render_value(value: Any, ctx: Mapping[str, Any], escape: Escape = "none") -> Any:
    """Render every string inside a JSON-like value; keys and non-strings stay as they are.

    Meant for templated action fields and request bodies. A Watcher search body is instead
    rendered as one JSON text, keys included: to match it exactly, render `json.dumps(body)`
    with escape="json" and parse the result.
    """
    if isinstance(value, str):
        return render(value, ctx, escape)
    if isinstance(value, Mapping):
        return {key: render_value(item, ctx, escape) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(item, ctx, escape) for item in value]
    return value


def split_content_type(template: str) -> tuple[str, Escape]:
    """Watcher's content-type prefix of a text template: `__json__::{...}` -> ("{...}", "json").

    Watcher renders a text template with JSON escaping when it starts with `__json__::`
    (Kibana writes webhook bodies so) and strips any `__<type>__::` prefix up to 12 characters
    long; everything else renders unescaped.
    """
    if not template.startswith("__"):
        return template, "none"
    marker = template.find("__::", 3)
    if marker == -1:
        return template, "none"
    body = template[marker + 4 :] if marker < 12 else template
    return body, escape_for(template[2:marker])


def escape_for(content_type: str | None) -> Escape:
    """The escaping of a mustache script's `content_type` option; none given: JSON, the
    default of Elasticsearch's mustache engine (a stored script without the option)."""
    if content_type is None:
        return "json"
    kind = content_type.lower()
    is_json = kind in ("json", "application/json") or kind.startswith("application/json;")
    return "json" if is_json else "none"
