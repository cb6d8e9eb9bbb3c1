"""compare / array_compare / always / never and date math, against Watcher's documented and
coded behaviour and against every compare condition of the shared watch corpus."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerting.engine.conditions import (
    ConditionError,
    array_compare,
    compare,
    evaluate,
    lenient_compare,
    resolve_path,
)
from pipeline.alerting.engine.java.dates import DateMathError, date_math, format_date, parse_date

NOW = datetime(2026, 11, 25, 10, 7, 33, 123456, tzinfo=UTC)


def utc(year: int, month: int, day: int, *clock: int) -> datetime:
    hour, minute, second, micro = (*clock, 0, 0, 0, 0)[:4]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --------------------------------------------------------------------------- paths

CTX: dict[str, Any] = {
    "payload": {
        "hits": {"total": 2, "hits": [{"_source": {"x": 1}}, {"_source": {"x": 7}}]},
        "aggregations": {"max": {"value": 4.5}},
        "a.b": "dotted key",
    },
    "metadata": {"threshold": 3},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("ctx.payload.hits.total", 2),
        ("ctx.payload.hits.hits.0._source.x", 1),
        ("ctx.payload.hits.hits.1._source.x", 7),
        ("ctx.payload.hits.hits.+1._source.x", 7),
        ("ctx.payload.missing.deeper", None),
        ("ctx.payload.hits.hits.first", None),
        ("ctx.payload.hits.total.value", None),
        ("ctx.payload.a.b", None),
        ("payload.hits.total", None),
        ("ctx.metadata.threshold.", 3),
        ("ctx.payload.hits.hits.99999999999", None),
    ],
)
def test_resolve_path(path: str, expected: Any) -> None:
    assert resolve_path(CTX, path) == expected


def test_resolve_empty_path_is_the_model() -> None:
    assert resolve_path(CTX, "") == {"ctx": CTX}


@pytest.mark.parametrize("path", ["ctx.payload.hits.hits.2._source.x", "ctx.payload.hits.hits.-1"])
def test_resolve_index_outside_the_list_fails_as_in_watcher(path: str) -> None:
    with pytest.raises(ConditionError, match="outside a list of 2"):
        resolve_path(CTX, path)


# --------------------------------------------------------------------------- date math


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("now", "2026-11-25T10:07:33.123Z"),
        ("now-5m", "2026-11-25T10:02:33.123Z"),
        ("now-5m/d", "2026-11-25T00:00:00.000Z"),
        ("now+1h", "2026-11-25T11:07:33.123Z"),
        ("now-1H", "2026-11-25T09:07:33.123Z"),
        ("now/h", "2026-11-25T10:00:00.000Z"),
        ("now/m", "2026-11-25T10:07:00.000Z"),
        ("now/s", "2026-11-25T10:07:33.000Z"),
        ("now-10s", "2026-11-25T10:07:23.123Z"),
        ("now/w", "2026-11-23T00:00:00.000Z"),
        ("now-2w", "2026-11-11T10:07:33.123Z"),
        ("now/M", "2026-11-01T00:00:00.000Z"),
        ("now+1M", "2026-12-25T10:07:33.123Z"),
        ("now/y", "2026-01-01T00:00:00.000Z"),
        ("now-1y/y", "2025-01-01T00:00:00.000Z"),
        ("now-1d/d+8h", "2026-11-24T08:00:00.000Z"),
        ("now-d", "2026-11-24T10:07:33.123Z"),
        ("now/1d", "2026-11-25T00:00:00.000Z"),
        ("2026-11-25T10:00:00Z||-5m", "2026-11-25T09:55:00.000Z"),
        ("2026-11-25T10:00:00.000Z||/h", "2026-11-25T10:00:00.000Z"),
        ("2026-01-31||+1M", "2026-02-28T00:00:00.000Z"),
        ("2024-02-29||+1y", "2025-02-28T00:00:00.000Z"),
        ("2026-11-25T12:00:00+02:00||", "2026-11-25T10:00:00.000Z"),
        ("2026-11-25", "2026-11-25T00:00:00.000Z"),
        ("1764064800000||+1s", "2025-11-25T10:00:01.000Z"),
    ],
)
def test_date_math(expr: str, expected: str) -> None:
    assert format_date(date_math(expr, NOW)) == expected


def test_date_math_of_a_rendered_scheduled_time() -> None:
    # `{{ctx.trigger.scheduled_time}}||-5m` as a search body renders it.
    rendered = "2026-11-25T10:00:00.000Z||-5m"
    assert date_math(rendered, NOW) == utc(2026, 11, 25, 9, 55)


@pytest.mark.parametrize(
    "expr",
    [
        "now-",
        "now-5",
        "now*5m",
        "now-5x",
        "now/2d",
        "nowx",
        "tomorrow",
        "2026-13-01||+1d",
        "now-99999999999d",
        "now+9000y",
        "2026-11-25T10:00:00+19:00",
    ],
)
def test_date_math_errors(expr: str) -> None:
    with pytest.raises(DateMathError):
        date_math(expr, NOW)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2900, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(0, 10_000),
    st.sampled_from("wdhHms"),
)
def test_date_math_add_subtract_round_trip(now: datetime, amount: int, unit: str) -> None:
    base = date_math("now", now)
    there = date_math(f"now+{amount}{unit}", now)
    back = date_math(f"{format_date(there)}||-{amount}{unit}", now)
    assert back == base
    assert date_math(f"now/{unit}", now) <= base


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2900, 1, 1), timezones=st.just(UTC)
    )
)
def test_date_math_rounding_is_idempotent(now: datetime) -> None:
    for unit in "yMwdhms":
        once = date_math(f"now/{unit}", now)
        assert date_math(f"{format_date(once)}||/{unit}", now) == once


@given(st.text(max_size=30))
def test_date_math_only_raises_value_errors(expr: str) -> None:
    try:
        result = date_math(expr, NOW)
    except DateMathError:
        return
    assert result.tzinfo is not None


@given(st.text(alphabet="now+-/0123456789yMwdhHms|TZ:.", max_size=20))
def test_date_math_only_raises_value_errors_near_the_grammar(expr: str) -> None:
    with contextlib.suppress(DateMathError):
        date_math(expr, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026", utc(2026, 1, 1)),
        ("2026-11", utc(2026, 11, 1)),
        ("2026-11-25T10", utc(2026, 11, 25, 10)),
        ("2026-11-25T10:05", utc(2026, 11, 25, 10, 5)),
        ("2026-11-25T10:05:07.5", utc(2026, 11, 25, 10, 5, 7, 500000)),
        ("2026-11-25T10:05:07-0130", utc(2026, 11, 25, 11, 35, 7)),
        ("0", utc(1970, 1, 1)),
        ("12500", utc(1970, 1, 1, 0, 0, 12, 500000)),
        # Four digits read as a year first, as strict_date_optional_time||epoch_millis does.
        ("1500", utc(1500, 1, 1)),
    ],
)
def test_parse_date(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


# --------------------------------------------------------------------------- lenient compare


@pytest.mark.parametrize(
    ("actual", "configured", "expected"),
    [
        (5, 5, 0),
        (5, 5.0, 0),
        (6, 5, 1),
        (4.5, 5, -1),
        ("5", 5, 0),
        (" 6 ", 5, 1),
        ("5.5d", 5, 1),
        ("1e3", 999, 1),
        ("NaN", 5, 0),  # Java's NaN comparisons are all false, so the order comes out 0
        ("five", 5, None),
        (True, 1, None),
        ([5], 5, None),
        (None, 5, None),
        (None, None, 0),
        (5, None, None),
        (float("nan"), 5, None),
        (5, "5", 0),
        (5.0, "5", 1),  # Double.toString(5.0) is "5.0"
        (10, "9", -1),  # strings compare lexicographically
        (True, "true", 0),
        ("abc", "abd", -1),
        ("\U0001f600", "\uffff", -1),  # UTF-16 code units, not code points
        ([1, 2], "[1, 2]", 0),
        ({"a": 1}, "{a=1}", 0),
        (True, True, 0),
        (True, False, None),
        ("true", True, None),
        ([1, 2], [1, 2], 0),
        ([1, 2], [1.0, 2.0], None),
        ({"a": [1]}, {"a": [1]}, 0),
        ({"a": 1}, {"a": 2}, None),
        ("2026-11-25T10:00:00Z", utc(2026, 11, 25, 9), 1),
        ("2026-11-25", utc(2026, 11, 25), 0),
        ("not a date", utc(2026, 11, 25), None),
        (1764064800000, utc(2025, 11, 25, 10), 0),
        (utc(2026, 1, 1), utc(2025, 1, 1), 1),
        (utc(2026, 11, 25, 10), "2026-11-25T10:00Z", 0),  # ZonedDateTime.toString
        (True, utc(2026, 1, 1), None),
    ],
)
def test_lenient_compare(actual: Any, configured: Any, expected: int | None) -> None:
    assert lenient_compare(actual, configured) == expected


# --------------------------------------------------------------------------- compare


def hits(total: Any) -> dict[str, Any]:
    return {"payload": {"hits": {"total": total}}}


@pytest.mark.parametrize(
    ("op", "value", "total", "met"),
    [
        ("gt", 0, 1, True),
        ("gt", 0, 0, False),
        ("gte", 5, 5, True),
        ("lt", 5, 5, False),
        ("lte", 5, 5, True),
        ("eq", 5, 5, True),
        ("not_eq", 5, 5, False),
        ("eq", 5, None, False),
        ("not_eq", 5, None, True),  # not comparable counts as not equal
        ("gt", 0, None, False),
        ("lt", 0, None, False),
        ("gt", 0, "3", True),
        ("gt", 0, "three", False),
        ("not_eq", 0, "three", True),
        ("eq", None, None, True),
        ("GT", 0, 1, True),
    ],
)
def test_compare_ops(op: str, value: Any, total: Any, met: bool) -> None:
    result = compare({"compare": {"ctx.payload.hits.total": {op: value}}}, hits(total))
    assert result.met is met
    assert result.resolved_values == {"ctx.payload.hits.total": total}
    assert result.type == "compare"


def test_compare_with_path_reference() -> None:
    ctx = {"payload": {"hits": {"total": 7}}, "metadata": {"threshold": 5}}
    condition = {"compare": {"ctx.payload.hits.total": {"gt": "{{ctx.metadata.threshold}}"}}}
    result = compare(condition, ctx)
    assert result.met is True
    assert result.resolved_values == {"ctx.metadata.threshold": 5, "ctx.payload.hits.total": 7}


def test_compare_path_reference_must_be_the_whole_value() -> None:
    ctx = {"payload": {"x": "a {{ctx.metadata.y}}"}, "metadata": {"y": 1}}
    result = compare({"ctx.payload.x": {"eq": "a {{ctx.metadata.y}}"}}, ctx)
    assert result.met is True
    assert result.resolved_values == {"ctx.payload.x": "a {{ctx.metadata.y}}"}


def test_compare_with_date_math_from_the_docs() -> None:
    # Watcher's documentation: {"ctx.execution_time": {"gte": "<{now-5m}>"}} style.
    ctx = {"payload": {"aggregations": {"latest": {"value_as_string": "2026-11-25T10:05:00Z"}}}}
    condition = {
        "compare": {"ctx.payload.aggregations.latest.value_as_string": {"gte": "<{now-5m}>"}}
    }
    result = compare(condition, ctx, NOW)
    assert result.met is True
    assert result.resolved_values == {
        "now-5m": "2026-11-25T10:02:33.123Z",
        "ctx.payload.aggregations.latest.value_as_string": "2026-11-25T10:05:00Z",
    }
    assert compare(condition, ctx, NOW + timedelta(minutes=3)).met is False


def test_compare_date_math_with_epoch_millis_and_rounding() -> None:
    ctx = {"payload": {"last_seen": int(utc(2026, 11, 25, 0, 0, 1).timestamp() * 1000)}}
    assert compare({"ctx.payload.last_seen": {"gte": "<{now/d}>"}}, ctx, NOW).met is True
    assert compare({"ctx.payload.last_seen": {"gte": "<{now/h}>"}}, ctx, NOW).met is False


def test_compare_date_math_needs_now() -> None:
    with pytest.raises(ConditionError, match="execution time"):
        compare({"ctx.payload.t": {"gte": "<{now-5m}>"}}, {"payload": {}})


@pytest.mark.parametrize(
    "condition",
    [
        {"compare": {}},
        {"compare": {"a": {}, "b": {}}},
        {"compare": {"ctx.payload.x": {"gt": 1, "lt": 2}}},
        {"compare": {"ctx.payload.x": {"between": 1}}},
        {"compare": {"ctx.payload.x": {"gt": [1]}}},
        {"compare": {"ctx.payload.x": {"lt": {"a": 1}}}},
    ],
)
def test_compare_rejects_malformed(condition: dict[str, Any]) -> None:
    with pytest.raises(ConditionError):
        compare(condition, {"payload": {}})


def test_compare_eq_accepts_structures() -> None:
    ctx = {"payload": {"tags": ["a", "b"]}}
    assert compare({"ctx.payload.tags": {"eq": ["a", "b"]}}, ctx).met is True
    assert compare({"ctx.payload.tags": {"not_eq": ["a"]}}, ctx).met is True


# --------------------------------------------------------------------------- array_compare


def buckets(*counts: Any) -> dict[str, Any]:
    return {"payload": {"aggregations": {"top": {"buckets": [{"doc_count": c} for c in counts]}}}}


def array_condition(op: str, value: Any, quantifier: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"value": value}
    if quantifier is not None:
        spec["quantifier"] = quantifier
    path = "ctx.payload.aggregations.top.buckets"
    return {"array_compare": {path: {"path": "doc_count", op: spec}}}


def test_array_compare_from_the_docs() -> None:
    # Watcher's documentation example: some bucket has doc_count >= 25.
    condition = array_condition("gte", 25, "some")
    result = array_compare(condition, buckets(10, 30))
    assert result.met is True
    assert result.type == "array_compare"
    assert result.resolved_values == {
        "ctx.payload.aggregations.top.buckets": [{"doc_count": 10}, {"doc_count": 30}]
    }
    assert array_compare(condition, buckets(10, 20)).met is False


@pytest.mark.parametrize(
    ("quantifier", "counts", "met"),
    [
        (None, (1, 30), True),  # some is the default
        ("some", (), False),
        ("all", (), True),
        ("all", (30, 31), True),
        ("all", (30, 3), False),
        ("ALL", (30, None), False),
    ],
)
def test_array_compare_quantifiers(
    quantifier: str | None, counts: tuple[Any, ...], met: bool
) -> None:
    assert array_compare(array_condition("gte", 25, quantifier), buckets(*counts)).met is met


def test_array_compare_missing_array_is_empty() -> None:
    condition = array_condition("gte", 25, "all")
    result = array_compare(condition, {"payload": {}})
    assert result.met is True
    assert result.resolved_values == {"ctx.payload.aggregations.top.buckets": []}


def test_array_compare_without_element_path_compares_the_elements() -> None:
    condition = {"array_compare": {"ctx.payload.codes": {"eq": {"value": 500}}}}
    assert array_compare(condition, {"payload": {"codes": [200, 500]}}).met is True
    assert array_compare(condition, {"payload": {"codes": [200, 404]}}).met is False


def test_array_compare_value_may_reference_the_context() -> None:
    ctx = buckets(3, 9)
    ctx["metadata"] = {"limit": 8}
    condition = array_condition("gt", "{{ctx.metadata.limit}}")
    result = array_compare(condition, ctx)
    assert result.met is True
    assert result.resolved_values["ctx.metadata.limit"] == 8


def test_array_compare_not_an_array_fails() -> None:
    with pytest.raises(ConditionError, match="did not resolve to an array"):
        array_compare(
            array_condition("gt", 1), {"payload": {"aggregations": {"top": {"buckets": 5}}}}
        )


@pytest.mark.parametrize(
    "spec",
    [{"path": "x"}, {"gt": 5}, {"gt": {"value": 1, "quantifier": "most"}}, {"gt": {"valu": 1}}],
)
def test_array_compare_rejects_malformed(spec: dict[str, Any]) -> None:
    with pytest.raises(ConditionError):
        array_compare({"array_compare": {"ctx.payload.a": spec}}, {"payload": {"a": []}})


# --------------------------------------------------------------------------- evaluate


def test_always_never_and_default() -> None:
    assert evaluate({"always": {}}, {}).met is True
    assert evaluate({"never": {}}, {}).met is False
    assert evaluate(None, {}).met is True
    with pytest.raises(ConditionError, match="script"):
        evaluate({"script": {"source": "return true"}}, {})


# --------------------------------------------------------------------------- corpus


def corpus_conditions(corpus: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    def walk(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("compare", "array_compare") and isinstance(value, dict):
                    yield key, value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for path in sorted((corpus / "watches").rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # Kibana console syntax; its .strict.json twin is read instead
        for kind, body in walk(data):
            yield str(path.relative_to(corpus)), kind, body


def payload_at(path: str, value: Any) -> dict[str, Any]:
    parts = path.split(".")
    assert parts[0] == "ctx"
    node: Any = value
    for part in reversed(parts[1:]):
        node = {part: node}
    return dict(node)


def test_every_corpus_compare_condition(corpus: Path) -> None:
    seen = 0
    for source, kind, body in corpus_conditions(corpus):
        assert kind == "compare", source  # the corpus has no array_compare
        ((path, spec),) = body.items()
        ((op, threshold),) = spec.items()
        assert op == "gt" and isinstance(threshold, int), source
        above = compare({kind: body}, payload_at(path, threshold + 1), NOW)
        at = compare({kind: body}, payload_at(path, threshold), NOW)
        as_string = compare({kind: body}, payload_at(path, str(threshold + 3)), NOW)
        # ES 7+ without rest_total_hits_as_int gives an object: Watcher cannot order it.
        as_object = compare({kind: body}, payload_at(path, {"value": 9, "relation": "eq"}), NOW)
        missing = compare({kind: body}, {"payload": {}}, NOW)
        assert (above.met, at.met, as_string.met, as_object.met, missing.met) == (
            True,
            False,
            True,
            False,
            False,
        ), source
        assert above.resolved_values == {path: threshold + 1}
        seen += 1
    assert seen == 19  # every parseable watch file with a compare condition
