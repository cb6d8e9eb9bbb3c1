"""Watcher's Java semantics in one place (pipeline/alerting/engine/java/): Double.toString,
Double.valueOf, String.valueOf and java.time's printing, as conditions and templates both use
them."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

import pytest

from pipeline.alerting.engine.conditions import evaluate
from pipeline.alerting.engine.java import lang
from pipeline.alerting.engine.java.durations import DurationError, parse_interval, time_value_text
from pipeline.alerting.engine.mustache import TemplateError, render

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (-2.5e-10, "-2.5E-10"),
        (123.456, "123.456"),
        (-0.0, "-0.0"),
        (1e23, "1.0E23"),
        (None, "null"),
        (False, "false"),
        (12, "12"),
    ],
)
def test_string_value(value: Any, text: str) -> None:
    assert lang.string_value(value) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5.0),
        ("-5.", -5.0),
        (".5", 0.5),
        ("1e2", 100.0),
        ("2f", 2.0),
        ("\t7 ", 7.0),
        ("Infinity", float("inf")),
        ("-Infinity", float("-inf")),
        ("1_000", None),
        ("inf", None),
        ("0x10", None),
        ("", None),
        ("1e", None),
    ],
)
def test_parse_double(text: str, value: float | None) -> None:
    assert lang.parse_double(text) == value


PLUS_TWO = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # ZonedDateTime.toString: the offset as the value has it, seconds only when not zero
        # (java.time.LocalTime.toString), the fraction in groups of three digits.
        (dt.datetime(2026, 1, 2, 3, 4, tzinfo=PLUS_TWO), "2026-01-02T03:04+02:00"),
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2026-01-02T03:04:05Z"),
        (dt.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=dt.UTC), "2026-01-02T03:04:05.120Z"),
        (dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC), "2026-01-02T03:04:05.123456Z"),
        (dt.datetime(2026, 1, 2, 3, 4), "2026-01-02T03:04Z"),  # no zone: UTC, as everywhere
        (dt.date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_dates_print_as_java_time_does(value: dt.date, text: str) -> None:
    assert lang.string_value(value) == text


def test_conditions_and_templates_print_a_zoned_date_alike() -> None:
    # They disagreed before (a template kept the offset, a condition turned it to UTC).
    moment = dt.datetime(2026, 1, 2, 3, 4, tzinfo=PLUS_TWO)
    ctx = {"payload": {"when": moment}}
    assert render("{{ctx.payload.when}}", {"ctx": ctx}) == "2026-01-02T03:04+02:00"
    spec = {"compare": {"ctx.payload.when": {"eq": "2026-01-02T03:04+02:00"}}}
    assert evaluate(spec, ctx, dt.datetime(2026, 1, 2, tzinfo=dt.UTC)).met


def test_maps_and_lists_print_as_string_value_does() -> None:
    assert lang.string_value({"a": 1, "b": [1.5, None, True]}) == "{a=1, b=[1.5, null, true]}"


def test_a_value_containing_itself_is_an_error_not_a_hang() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(lang.JavaValueError, match="contains itself"):
        lang.string_value(looped)
    with pytest.raises(TemplateError, match="contains itself"):
        render("{{ctx.x}}", {"ctx": {"x": {"y": looped}}})


@pytest.mark.parametrize(
    ("period", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=5), "5s"),
        (timedelta(seconds=90), "1.5m"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(milliseconds=1999), "1.9s"),  # cut, not rounded
        (timedelta(milliseconds=61_234), "1m"),  # a fraction digit of 0 is dropped
        (timedelta(minutes=61), "1h"),
        (timedelta(days=3, hours=5), "3.2d"),
        (timedelta(microseconds=5), "5micros"),
    ],
)
def test_time_value_text(period: timedelta, text: str) -> None:
    """Durations in Watcher's messages print as TimeValue.toString(): the largest unit reached,
    one fraction digit cut from Double.toString, none when it is 0 (elasticsearch
    libs/core/src/main/java/org/elasticsearch/core/TimeValue.java, toHumanReadableString)."""
    assert time_value_text(period) == text


def test_an_interval_too_long_for_a_timedelta_is_a_duration_error() -> None:
    with pytest.raises(DurationError, match="too long"):
        parse_interval("99999999999999d")
