"""Watcher's `compare`, `array_compare`, `always` and `never` conditions, as pure functions.

The semantics follow Elasticsearch's x-pack Watcher (CompareCondition, ArrayCompareCondition,
LenientCompare, ObjectPath, JavaDateMathParser), including its quirks, because a watch written
for Watcher must decide the same way here:

- A path is split on dots and walked through maps (by key) and lists (by index); a missing key
  or a non-numeric list segment gives None. A list index outside the list is an error in Watcher
  (an exception, so the watch fails), and is a `ConditionError` here.
- The configured value may be a date math expression `<{now-5m}>` (resolved against the
  execution time that the caller passes in) or a path reference `{{ctx.payload.x}}`; both must
  be the whole string.
- The *configured* value decides the kind of comparison: a number compares numerically (a
  string from the context is parsed as a Java double, otherwise the comparison is "not equal"),
  a string compares the context value's Java string form by UTF-16 code units, a date compares
  dates (a string is parsed as an ISO date or epoch millis, a number is epoch millis). Anything
  else (booleans, null, lists, maps) is only ever equal or not equal.
- `eq` is true only for "equal"; `not_eq` is true for "not equal" *and* for "not comparable";
  `gt`, `gte`, `lt`, `lte` are false when the values are not comparable.

The context handed to these functions is Watcher's `ctx` (payload, metadata, trigger,
execution_time, ...); paths are resolved against `{"ctx": ctx}`, so they start with `ctx.`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pipeline.alerting.engine.java import lang
from pipeline.alerting.engine.java.dates import (
    DateMathError,
    as_utc,
    date_math,
    format_date,
    parse_date,
)

OPERATORS: Final = ("eq", "not_eq", "gt", "gte", "lt", "lte")
# eq and not_eq accept lists and maps as the configured value; the ordering ones do not.
_STRUCTURE_OPERATORS: Final = frozenset({"eq", "not_eq"})
QUANTIFIERS: Final = ("some", "all")

# Java's `.` stops at every line terminator, not only at \n.
_NOT_EOL = "[^\n\r\u0085\u2028\u2029]"
_DATE_MATH_VALUE = re.compile(rf"<\{{({_NOT_EOL}+)\}}>")
_PATH_VALUE = re.compile(rf"\{{\{{({_NOT_EOL}+)\}}\}}")


class ConditionError(ValueError):
    """A condition that cannot be parsed or evaluated (Watcher fails the watch for these)."""


@dataclass(frozen=True)
class CompareResult:
    """The outcome of a condition: `met`, plus the values it looked at.

    `resolved_values` mirrors Watcher's `result.condition.compare.resolved_values` (or
    `array_compare`): the compared path and its value, a `{{path}}` reference and its value,
    or a date math expression and the date it resolved to (formatted as Elasticsearch does).
    """

    type: str
    met: bool
    resolved_values: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- paths


def _java_split_dots(path: str) -> list[str]:
    # String.split drops trailing empty parts, so "a.b." is ["a", "b"] and "." is [].
    parts = path.split(".")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def eval_path(path: str, data: Any) -> Any:
    """Walk a dotted path through `data` the way Watcher's ObjectPath does.

    Maps are entered by key, lists by a numeric segment; a missing key, a non-numeric list
    segment or a scalar in the way gives None. An empty path gives `data` itself. A list
    index outside the list raises `ConditionError`, as Watcher raises there.
    """
    current = data
    for part in _java_split_dots(path) if path else []:
        if current is None:
            return None
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, Sequence) and not isinstance(current, str | bytes):
            index = lang.parse_int(part)
            if index is None:
                return None
            if not 0 <= index < len(current):
                raise ConditionError(
                    f"path {path!r}: index {index} is outside a list of {len(current)} elements"
                )
            current = current[index]
        else:
            return None
    return current


def resolve_path(ctx: Mapping[str, Any], path: str) -> Any:
    """The value at `path` (e.g. `ctx.payload.hits.hits.0._source.x`) of the execution context.

    `ctx` is Watcher's execution context (payload, metadata, trigger, ...); the path is resolved
    against `{"ctx": ctx}` as Watcher does, so a path not starting with `ctx.` gives None.
    """
    return eval_path(path, {"ctx": ctx})


# --------------------------------------------------------------------------- comparison


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_double(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _java_equals(left: Any, right: Any) -> bool:
    # Objects.equals on parsed JSON: types must agree (1 is not 1.0, true is not 1), lists and
    # maps compare element-wise, and Double.equals holds for NaN == NaN but not 0.0 == -0.0.
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, float) or isinstance(right, float):
        if not (isinstance(left, float) and isinstance(right, float)):
            return False
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return left == right and math.copysign(1.0, left) == math.copysign(1.0, right)
    if isinstance(left, int) or isinstance(right, int):
        return isinstance(left, int) and isinstance(right, int) and left == right
    if isinstance(left, str) or isinstance(right, str):
        return isinstance(left, str) and isinstance(right, str) and left == right
    if isinstance(left, datetime) or isinstance(right, datetime):
        return isinstance(left, datetime) and isinstance(right, datetime) and left == right
    if isinstance(left, Mapping) or isinstance(right, Mapping):
        if not (isinstance(left, Mapping) and isinstance(right, Mapping)):
            return False
        if set(left) != set(right):
            return False
        return all(_java_equals(left[key], right[key]) for key in left)
    if isinstance(left, Sequence) and isinstance(right, Sequence):
        if len(left) != len(right):
            return False
        return all(_java_equals(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _sign(difference: float) -> int:
    return (difference > 0) - (difference < 0)


def _utf16_order(left: str, right: str) -> int:
    # String.compareTo orders by UTF-16 code units, which differs from code points above U+FFFF.
    a = left.encode("utf-16-be", "surrogatepass")
    b = right.encode("utf-16-be", "surrogatepass")
    return (a > b) - (a < b)


def lenient_compare(actual: Any, configured: Any) -> int | None:
    """Watcher's LenientCompare: -1, 0 or 1, or None when the values are not comparable.

    The configured value (second argument) decides how the actual value is read; see the
    module docstring.
    """
    if _java_equals(actual, configured):
        return 0
    if actual is None or configured is None:
        return None
    for value in (actual, configured):
        if isinstance(value, float) and math.isnan(value):
            return None
    if _is_number(configured):
        if _is_number(actual):
            left = _as_double(actual)
        else:
            parsed = lang.parse_double(lang.string_value(actual))
            if parsed is None:
                return None
            left = parsed
        right = _as_double(configured)
        # Java's `>` and `<` are both false for NaN, which makes a parsed "NaN" compare equal.
        return 1 if left > right else -1 if left < right else 0
    if isinstance(configured, str):
        return _utf16_order(lang.string_value(actual), configured)
    if isinstance(configured, datetime):
        if isinstance(actual, datetime):
            left_date = as_utc(actual)
        elif isinstance(actual, str):
            try:
                left_date = parse_date(actual)
            except DateMathError:
                return None
        elif _is_number(actual):
            try:
                left_date = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
                    milliseconds=math.trunc(actual)
                )
            except (OverflowError, ValueError):
                return None
        else:
            return None
        right_date = as_utc(configured)
        return (left_date > right_date) - (left_date < right_date)
    # Booleans, lists and maps: equality was checked above; Watcher orders nothing else.
    return None


def _op_holds(op: str, order: int | None) -> bool:
    if op == "not_eq":
        return order is None or order != 0
    if order is None:
        return False
    return {
        "eq": order == 0,
        "gt": order > 0,
        "gte": order >= 0,
        "lt": order < 0,
        "lte": order <= 0,
    }[op]


# --------------------------------------------------------------------------- conditions


def _resolve_configured(
    configured: Any, ctx: Mapping[str, Any], now: datetime, resolved: dict[str, Any]
) -> Any:
    if not isinstance(configured, str):
        return configured
    match = _DATE_MATH_VALUE.fullmatch(configured)
    if match is not None:
        try:
            moment = date_math(match.group(1), now)
        except DateMathError as err:
            raise ConditionError(str(err)) from None
        resolved[match.group(1)] = format_date(moment)
        return moment
    match = _PATH_VALUE.fullmatch(configured)
    if match is not None:
        value = resolve_path(ctx, match.group(1))
        resolved[match.group(1)] = value
        return value
    return configured


def _resolve_op(name: str, where: str) -> str:
    # Watcher resolves operator names case-insensitively (Op.valueOf(name.toUpperCase())).
    op = name.lower()
    if op not in OPERATORS:
        raise ConditionError(f"{where}: unknown comparison operator {name!r}")
    return op


def _check_value(op: str, value: Any, where: str) -> None:
    if op not in _STRUCTURE_OPERATORS and isinstance(value, Mapping | list | tuple):
        raise ConditionError(
            f"{where}: the value compared with {op} must be a number, string, boolean or null"
        )


def _only_entry(mapping: Any, what: str) -> tuple[str, Any]:
    if not isinstance(mapping, Mapping) or len(mapping) != 1:
        raise ConditionError(f"expected an object with exactly one {what}, got {mapping!r}")
    key, value = next(iter(mapping.items()))
    return str(key), value


def _body(condition: Mapping[str, Any], kind: str) -> Any:
    # Accept both {"compare": {...}} and the inner {...}.
    if set(condition) == {kind}:
        return condition[kind]
    return condition


def compare(
    condition: Mapping[str, Any], ctx: Mapping[str, Any], now: datetime | None = None
) -> CompareResult:
    """Evaluate `{"compare": {"<path>": {"<op>": <value>}}}` against the execution context.

    `now` is the time `<{now...}>` date math resolves against (Watcher reads its clock at that
    moment; the engine passes the execution time). It is required only when the value is date
    math. Raises `ConditionError` for a malformed condition or a failing path.
    """
    path, spec = _only_entry(_body(condition, "compare"), "compared path")
    op_name, value = _only_entry(spec, "comparison operator")
    op = _resolve_op(op_name, path)
    _check_value(op, value, path)
    resolved: dict[str, Any] = {}
    configured = _resolve_configured(value, ctx, _need_now(now, value), resolved)
    actual = resolve_path(ctx, path)
    resolved[path] = actual
    return CompareResult("compare", _op_holds(op, lenient_compare(actual, configured)), resolved)


def _need_now(now: datetime | None, value: Any) -> datetime:
    if now is not None:
        return now
    if isinstance(value, str) and _DATE_MATH_VALUE.fullmatch(value):
        raise ConditionError(f"date math value {value!r} needs the execution time (now)")
    return datetime(1970, 1, 1, tzinfo=UTC)


def array_compare(
    condition: Mapping[str, Any], ctx: Mapping[str, Any], now: datetime | None = None
) -> CompareResult:
    """Evaluate `{"array_compare": {"<array path>": {"path": p, "<op>": {"value": v, ...}}}}`.

    Each element's value at `path` (default: the element itself) is compared with `value`;
    `quantifier` "some" (the default) needs one match, "all" needs every element to match. An
    empty or missing array is false for "some" and true for "all". A path that resolves to
    something other than a list raises `ConditionError`, as Watcher fails there.
    """
    array_path, spec = _only_entry(_body(condition, "array_compare"), "compared array path")
    if not isinstance(spec, Mapping):
        raise ConditionError(f"{array_path}: expected an object, got {spec!r}")
    element_path = ""
    op: str | None = None
    value: Any = None
    quantifier = "some"
    for key, item in spec.items():
        if key == "path":
            element_path = str(item)
            continue
        op = _resolve_op(str(key), array_path)
        if not isinstance(item, Mapping):
            raise ConditionError(f"{array_path}: expected an object for {key}, got {item!r}")
        for option, option_value in item.items():
            if option == "value":
                _check_value(op, option_value, array_path)
                value = option_value
            elif option == "quantifier":
                quantifier = str(option_value).lower()
                if quantifier not in QUANTIFIERS:
                    raise ConditionError(f"{array_path}: unknown quantifier {option_value!r}")
            else:
                raise ConditionError(f"{array_path}: unexpected field {option!r} in {key}")
    if op is None:
        raise ConditionError(f"{array_path}: no comparison operator")
    resolved: dict[str, Any] = {}
    configured = _resolve_configured(value, ctx, _need_now(now, value), resolved)
    found = resolve_path(ctx, array_path)
    if found is not None and (not isinstance(found, Sequence) or isinstance(found, str | bytes)):
        raise ConditionError(f"array path {array_path} did not resolve to an array: {found!r}")
    elements = list(found or [])
    values = [eval_path(element_path, element) for element in elements]
    resolved[array_path] = elements
    matches = (_op_holds(op, lenient_compare(item, configured)) for item in values)
    met = all(matches) if quantifier == "all" else any(matches)
    return CompareResult("array_compare", met, resolved)


def evaluate(
    condition: Mapping[str, Any] | None, ctx: Mapping[str, Any], now: datetime | None = None
) -> CompareResult:
    """Evaluate a watch or action condition of type always, never, compare or array_compare.

    A missing condition is `always`, Watcher's default. Script conditions are not handled here
    and raise `ConditionError`.
    """
    if not condition:
        return CompareResult("always", True)
    kind, _ = _only_entry(condition, "condition type")
    if kind == "always":
        return CompareResult("always", True)
    if kind == "never":
        return CompareResult("never", False)
    if kind == "compare":
        return compare(condition, ctx, now)
    if kind == "array_compare":
        return array_compare(condition, ctx, now)
    raise ConditionError(f"condition type {kind!r} is not evaluated by this module")
