"""Alert rules (Elasticsearch Watcher watches) against `schema/watch.schema.json`. Pure.

The schema is the single source of truth for the rule format; this module only turns its
errors into messages a person can act on, each one anchored at a JSON pointer:

    rules/disk.json: /actions/notify/slack: action type 'slack' is not supported by edgewatch ...
    rules/disk.json: /trigger/schedule/interval: '5 minutes' is not an interval like 30s, 5m ...

The schema carries a few `x-edgewatch-*` annotations that only this module reads:

- `x-edgewatch-expected`: what a value should look like, in words (used for pattern, enum
  and type errors, and when no alternative of an anyOf fits);
- `x-edgewatch-kind`: what the keys of an object are (an "action type", a "comparison
  operator"), for unknown-key and exactly-one messages;
- `x-edgewatch-unsupported`: the whole message for a Watcher feature edgewatch rejects.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from pipeline.alerting.format.files import Problem, pointer_token

__all__ = ["schema_problems", "watch_schema"]

SCHEMA_FILE = "schema/watch.schema.json"

_EXPECTED = "x-edgewatch-expected"
_KIND = "x-edgewatch-kind"
_UNSUPPORTED = "x-edgewatch-unsupported"
_MAX_SHOWN = 60

# A "missing the X type" complaint next to an unknown key is noise: the unknown key is almost
# always the misspelt type, so only the unknown key is reported.
_UNKNOWN, _MISSING_CHOICE, _OTHER = "unknown", "missing-choice", "other"


@functools.cache
def watch_schema() -> Mapping[str, Any]:
    """The watch JSON Schema (draft 2020-12), loaded once."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    schema = watch_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_problems(data: object, source: str) -> list[Problem]:
    """What the schema finds wrong with one decoded rule, in words, at JSON pointers."""
    found: list[tuple[tuple[str, ...], str, str]] = []
    for error in _validator().iter_errors(data):
        found.extend(_explain(error))
    unknown_parents = {path[:-1] for path, _, category in found if category == _UNKNOWN}
    problems: list[Problem] = []
    for path, message, category in sorted(found, key=lambda item: item[0]):
        if category == _MISSING_CHOICE and path in unknown_parents:
            continue
        problem = Problem(source, _pointer(path), message)
        if problem not in problems:
            problems.append(problem)
    return problems


# --------------------------------------------------------------------------- error messages


def _explain(error: ValidationError) -> list[tuple[tuple[str, ...], str, str]]:
    """(path, message, category) for one schema error, descending into anyOf/oneOf."""
    path = tuple(str(part) for part in error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    keyword = str(error.validator)
    value: Any = error.validator_value

    if keyword == "additionalProperties" and schema.get("additionalProperties") is False:
        return _unknown_keys(path, schema, instance)
    if keyword == "not" and _UNSUPPORTED in schema:
        return [(path, str(schema[_UNSUPPORTED]), _OTHER)]
    if keyword in ("oneOf", "anyOf"):
        branches = list(value)
        if all(_only_required(branch) for branch in branches):
            return _required_choice(path, schema, instance, branches, keyword)
        return _alternatives(error, path, schema, branches)
    if keyword == "required" and isinstance(instance, Mapping):
        missing = [key for key in value if key not in instance]
        return [(path, f"missing required key {key!r}", _OTHER) for key in missing]
    if keyword in ("minProperties", "maxProperties") and _KIND in schema:
        return [_count_message(path, schema, instance, keyword)]
    return [(path, _simple_message(keyword, value, schema, instance), _OTHER)]


def _unknown_keys(
    path: tuple[str, ...], schema: Mapping[str, Any], instance: Any
) -> list[tuple[tuple[str, ...], str, str]]:
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    # Only where every key is a choice (input, condition...) is an unknown key a misspelt type.
    kind = schema.get(_KIND, "key") if schema.get("maxProperties") == 1 else "key"
    allowed = _offered(known)
    hint = f" (expected one of: {', '.join(allowed)})" if allowed else " (no keys are allowed here)"
    return [
        (
            (*path, str(key)),
            f"unknown {kind} {_show(key)}{hint}",
            _UNKNOWN,
        )
        for key in instance
        if key not in known and not any(p.search(str(key)) for p in patterns)
    ]


def _offered(properties: Mapping[str, Any]) -> list[str]:
    """Keys worth suggesting: not deprecated, not rejected as unsupported, not `$schema`."""
    return [
        key
        for key, sub in properties.items()
        if isinstance(sub, Mapping)
        and not sub.get("deprecated")
        and _UNSUPPORTED not in sub
        and not key.startswith("$")
    ]


def _only_required(branch: Any) -> bool:
    return isinstance(branch, Mapping) and set(branch) == {"required"}


def _required_choice(
    path: tuple[str, ...],
    schema: Mapping[str, Any],
    instance: Any,
    branches: list[Mapping[str, Any]],
    keyword: str,
) -> list[tuple[tuple[str, ...], str, str]]:
    if not isinstance(instance, Mapping):
        return []  # the type error of the same object says it better
    sets = [list(branch["required"]) for branch in branches]
    if keyword == "oneOf" and all(len(keys) == 1 for keys in sets):
        keys = [keys[0] for keys in sets]
        present = [key for key in keys if key in instance]
        kind = schema.get(_KIND, "key")
        if len(present) > 1:
            return [
                (path, f"more than one {kind}: {', '.join(present)} (expected exactly one)", _OTHER)
            ]
        offered = [key for key in _offered(schema.get("properties", {})) if key in keys]
        return [
            (path, f"missing the {kind}: expected one of: {', '.join(offered)}", _MISSING_CHOICE)
        ]
    # anyOf of required sets: name what the closest alternative still lacks.
    started = [keys for keys in sets if any(key in instance for key in keys)]
    if started:
        closest = min(started, key=lambda keys: sum(key not in instance for key in keys))
        return [
            (path, f"missing required key {key!r}", _OTHER)
            for key in closest
            if key not in instance
        ]
    options = ", or ".join(" and ".join(keys) for keys in sets)
    return [(path, f"missing required keys: give {options}", _OTHER)]


def _count_message(
    path: tuple[str, ...], schema: Mapping[str, Any], instance: Any, keyword: str
) -> tuple[tuple[str, ...], str, str]:
    kind = schema[_KIND]
    if keyword == "maxProperties":
        names = ", ".join(str(key) for key in instance)
        return path, f"more than one {kind}: {names} (expected exactly one)", _OTHER
    offered = _offered(schema.get("properties", {}))
    if offered:
        return path, f"missing the {kind}: expected one of: {', '.join(offered)}", _MISSING_CHOICE
    return path, f"missing the {kind}", _MISSING_CHOICE


def _alternatives(
    error: ValidationError,
    path: tuple[str, ...],
    schema: Mapping[str, Any],
    branches: list[Any],
) -> list[tuple[tuple[str, ...], str, str]]:
    """Explain a failed anyOf/oneOf through the alternative the value was meant to be."""
    by_branch: dict[int, list[ValidationError]] = {i: [] for i in range(len(branches))}
    for sub in error.context or []:
        by_branch[int(sub.relative_schema_path[0])].append(sub)
    instance = error.instance
    # An alternative of another JSON type is not what the author meant.
    fitting = [
        i
        for i, subs in by_branch.items()
        if not any(s.validator == "type" and not s.relative_path for s in subs)
    ]
    expected = schema.get(_EXPECTED)
    if not fitting:
        wanted = expected or _join_or(_type_names_of_all(branches))
        return [(path, f"expected {wanted}, got {_type_name(instance)}", _OTHER)]
    if len(fitting) > 1 and isinstance(instance, Mapping):
        overlap = {i: _key_overlap(branches[i], instance) for i in fitting}
        best = max(overlap.values())
        fitting = [i for i in fitting if overlap[i] == best]
    if len(fitting) > 1 and expected:
        return [(path, f"expected {expected}", _OTHER)]
    chosen = min(fitting, key=lambda i: len(by_branch[i]))
    out: list[tuple[tuple[str, ...], str, str]] = []
    for sub in by_branch[chosen]:
        out.extend(_explain(sub))
    return out


def _deref(schema: Any) -> Mapping[str, Any]:
    # Every $ref in the schema is local ("#/$defs/<name>"), so no resolver is needed.
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and seen < 20:
        schema = watch_schema()["$defs"][str(schema["$ref"]).rsplit("/", 1)[-1]]
        seen += 1
    return schema if isinstance(schema, Mapping) else {}


def _property_names(schema: Any) -> set[str]:
    target = _deref(schema)
    names = set(target.get("properties", {}))
    for keyword in ("anyOf", "oneOf"):
        for branch in target.get(keyword, []):
            names |= _property_names(branch)
    return names


def _key_overlap(branch: Any, instance: Mapping[str, Any]) -> int:
    return len(_property_names(branch) & set(instance))


def _type_names_of_all(branches: list[Any]) -> list[str]:
    names: list[str] = []
    for branch in branches:
        target = _deref(branch)
        declared = target.get("type")
        types = [declared] if isinstance(declared, str) else list(declared or [])
        for keyword in ("anyOf", "oneOf"):
            types.extend(_type_names_of_all(target.get(keyword, [])))
        for name in types:
            if name not in names:
                names.append(name)
    return names


def _simple_message(keyword: str, value: Any, schema: Mapping[str, Any], instance: Any) -> str:
    expected = schema.get(_EXPECTED)
    if keyword == "type":
        types = [value] if isinstance(value, str) else list(value)
        return f"expected {expected or _join_or(types)}, got {_type_name(instance)}"
    if keyword == "pattern":
        if expected:
            return f"{_show(instance)} is not {expected}"
        return f"{_show(instance)} does not match the pattern {value}"
    if keyword == "enum":
        if expected:
            return f"{_show(instance)} is not {expected}"
        return f"{_show(instance)} is not one of: {', '.join(_show(v) for v in value)}"
    if keyword == "const":
        return f"expected {_show(value)}, got {_show(instance)}"
    if keyword == "minimum":
        return f"{_show(instance)} is less than the minimum, {value}"
    if keyword == "maximum":
        return f"{_show(instance)} is more than the maximum, {value}"
    if keyword == "minItems":
        return f"expected at least {value} item{'s' if value != 1 else ''}, got {len(instance)}"
    if keyword == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters"
    if keyword == "maxProperties":
        return f"expected at most {value} key{'s' if value != 1 else ''}, got {len(instance)}"
    if keyword == "minProperties":
        return f"expected at least {value} key{'s' if value != 1 else ''}, got {len(instance)}"
    if keyword == "additionalProperties":
        return "unexpected key"
    return f"invalid value ({keyword})"


_ARTICLES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _join_or(types: Sequence[str]) -> str:
    words = [_ARTICLES.get(t, t) for t in types]
    if len(words) <= 1:
        return "".join(words) or "another value"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _show(value: object) -> str:
    """A value as it appears in a message: strings quoted, JSON spellings for the rest."""
    if isinstance(value, str):
        text = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."
        return repr(text)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _type_name(value)


def _pointer(path: Sequence[str]) -> str:
    return "".join("/" + pointer_token(part) for part in path)
