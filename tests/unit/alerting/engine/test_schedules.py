"""Schedules: Watcher's documented examples, Quartz cron rules, time zones, the corpus'
schedules, and a brute-force check of `next_after` on random instants."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.alerting.engine.java.durations import DurationError, parse_duration, parse_interval
from pipeline.alerting.engine.schedules.calendar import calendar_crons
from pipeline.alerting.engine.schedules.cron import CronExpression, ScheduleError
from pipeline.alerting.engine.schedules.schedule import (
    CronSchedule,
    IntervalSchedule,
    parse_schedule,
)
from pipeline.alerting.engine.schedules.trigger import WatchTrigger

# A Wednesday.
T0 = datetime(2026, 11, 25, 10, 7, 33, 250000, tzinfo=UTC)


def utc(year: int, month: int, day: int, *clock: int) -> datetime:
    hour, minute, second, micro = (*clock, 0, 0, 0, 0)[:4]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def fires(schedule: dict[str, Any], start: datetime, count: int) -> list[datetime]:
    parsed = parse_schedule(schedule)
    found: list[datetime] = []
    moment = start
    for _ in range(count):
        following = parsed.next_after(moment)
        assert following is not None
        found.append(following)
        moment = following
    return found


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("500ms", 500),
        ("10s", 10_000),
        ("5m", 300_000),
        ("1h", 3_600_000),
        ("1d", 86_400_000),
        ("2w", 1_209_600_000),
        ("1.5m", 90_000),
        ("0.5s", 500),
        ("0", 0),
        ("15M", 900_000),
        ("2.5ms", 2),
        (" 7S ", 7_000),
    ],
)
def test_parse_duration(text: str, millis: int) -> None:
    assert parse_duration(text) == timedelta(milliseconds=millis)


@pytest.mark.parametrize("text", ["5", "-1", "-5s", "5 minutes", "m", "1y", "", "NaNs"])
def test_parse_duration_errors(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("10s", 10), ("5m", 300), ("1h", 3600), ("1d", 86400), ("2w", 1_209_600), (82, 82)],
)
def test_parse_interval(value: Any, seconds: int) -> None:
    assert parse_interval(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["1.5m", "500ms", "0s", "-5s", "5", 0, True, "5 m"])
def test_parse_interval_errors(value: Any) -> None:
    with pytest.raises(DurationError):
        parse_interval(value)


# --------------------------------------------------------------------------- interval


def test_interval_counts_from_the_anchor() -> None:
    schedule = parse_schedule({"interval": "5m"})
    assert schedule.next_after(T0) == utc(2026, 11, 25, 10, 10)
    assert schedule.next_after(utc(2026, 11, 25, 10, 10)) == utc(2026, 11, 25, 10, 15)
    anchored = parse_schedule({"interval": "5m"}, anchor=utc(2026, 11, 25, 10, 1, 30))
    assert anchored.next_after(T0) == utc(2026, 11, 25, 10, 11, 30)
    # Watcher's first run comes one interval after the watch was registered.
    assert anchored.next_after(utc(2026, 11, 25, 10, 1, 30)) == utc(2026, 11, 25, 10, 6, 30)


def test_interval_rejects_a_timezone() -> None:
    with pytest.raises(ScheduleError, match="timezone"):
        parse_schedule({"interval": "5m", "timezone": "Europe/Berlin"})


# --------------------------------------------------------------------------- calendar schedules


@pytest.mark.parametrize(
    ("kind", "spec", "crons"),
    [
        ("hourly", {"minute": 30}, ["0 30 * * * ?"]),
        ("hourly", {"minute": [0, 15, 30, 45]}, ["0 0,15,30,45 * * * ?"]),
        ("hourly", {}, ["0 0 * * * ?"]),
        ("daily", {"at": "17:00"}, ["0 0 17 * * ?"]),
        ("daily", {}, ["0 0 0 * * ?"]),
        (
            "daily",
            {"at": ["midnight", "noon", "17:00"]},
            ["0 0 0 * * ?", "0 0 12 * * ?", "0 0 17 * * ?"],
        ),
        ("daily", {"at": {"hour": [0, 12, 17], "minute": [0, 30]}}, ["0 0,30 0,12,17 * * ?"]),
        ("weekly", {"on": "friday", "at": "17:00"}, ["0 0 17 ? * 6"]),
        (
            "weekly",
            [{"on": "tuesday", "at": "noon"}, {"on": "friday", "at": "17:00"}],
            ["0 0 12 ? * 3", "0 0 17 ? * 6"],
        ),
        (
            "weekly",
            {"on": ["tuesday", "friday"], "at": ["noon", "17:00"]},
            ["0 0 12 ? * 3,6", "0 0 17 ? * 3,6"],
        ),
        ("weekly", {}, ["0 0 0 ? * 2"]),
        ("monthly", {"on": 10, "at": "noon"}, ["0 0 12 10 * ?"]),
        (
            "monthly",
            {"on": [10, 20], "at": ["midnight", "noon"]},
            ["0 0 0 10,20 * ?", "0 0 12 10,20 * ?"],
        ),
        ("monthly", {"on": "last_day", "at": "6:00"}, ["0 0 6 L * ?"]),
        ("yearly", {"in": "january", "on": 10, "at": "noon"}, ["0 0 12 10 1 ?"]),
        (
            "yearly",
            {"in": ["jan", "dec"], "on": [10, 20], "at": ["midnight", "noon"]},
            ["0 0 0 10,20 1,12 ?", "0 0 12 10,20 1,12 ?"],
        ),
        ("yearly", {}, ["0 0 0 1 1 ?"]),
    ],
)
def test_calendar_crons_as_watcher_builds_them(kind: str, spec: Any, crons: list[str]) -> None:
    assert calendar_crons(kind, spec) == crons


def test_documented_calendar_examples_fire_when_documented() -> None:
    assert fires({"hourly": {"minute": 30}}, T0, 2) == [
        utc(2026, 11, 25, 10, 30),
        utc(2026, 11, 25, 11, 30),
    ]
    assert fires({"daily": {"at": ["midnight", "noon", "17:00"]}}, T0, 3) == [
        utc(2026, 11, 25, 12),
        utc(2026, 11, 25, 17),
        utc(2026, 11, 26, 0),
    ]
    assert fires({"weekly": {"on": ["tuesday", "friday"], "at": ["noon", "17:00"]}}, T0, 3) == [
        utc(2026, 11, 27, 12),
        utc(2026, 11, 27, 17),
        utc(2026, 12, 1, 12),
    ]
    assert fires({"monthly": {"on": [10, 20], "at": "noon"}}, T0, 2) == [
        utc(2026, 12, 10, 12),
        utc(2026, 12, 20, 12),
    ]
    assert fires({"yearly": {"in": "january", "on": 10, "at": "noon"}}, T0, 2) == [
        utc(2027, 1, 10, 12),
        utc(2028, 1, 10, 12),
    ]
    assert fires({"monthly": {"on": "last_day", "at": "noon"}}, utc(2027, 1, 31, 13), 2) == [
        utc(2027, 2, 28, 12),
        utc(2027, 3, 31, 12),
    ]


@pytest.mark.parametrize(
    "schedule",
    [
        {"daily": {"at": "25:00"}},
        {"daily": {"at": "7:5"}},
        {"daily": {"at": {"hour": 24}}},
        {"weekly": {"on": "funday"}},
        {"yearly": {"in": "smarch"}},
        {"monthly": {"on": [1, "last_day"]}},  # Quartz refuses L in a list
        {"hourly": {"minute": 60}},
        {"daily": {}, "hourly": {}},
        {"fortnightly": {}},
        {"cron": "0 0 12 * * ?", "timezone": "Mars/Olympus"},
    ],
)
def test_rejected_schedules(schedule: dict[str, Any]) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(schedule)


# --------------------------------------------------------------------------- cron


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("0 0 12 * * ?", T0, [utc(2026, 11, 25, 12), utc(2026, 11, 26, 12)]),
        ("0 0/5 * * * ?", T0, [utc(2026, 11, 25, 10, 10), utc(2026, 11, 25, 10, 15)]),
        ("*/20 * * * * ?", T0, [utc(2026, 11, 25, 10, 7, 40), utc(2026, 11, 25, 10, 8)]),
        ("/20 * * * * ?", T0, [utc(2026, 11, 25, 10, 7, 40), utc(2026, 11, 25, 10, 8)]),
        ("0 15 10 ? * MON-FRI", T0, [utc(2026, 11, 25, 10, 15), utc(2026, 11, 26, 10, 15)]),
        ("0 0 9 ? * SAT,SUN", T0, [utc(2026, 11, 28, 9), utc(2026, 11, 29, 9)]),
        ("0 0 22-2 * * ?", T0, [utc(2026, 11, 25, 22), utc(2026, 11, 25, 23)]),
        ("0 0 0 ? * FRI-MON", T0, [utc(2026, 11, 27), utc(2026, 11, 28)]),
        ("0 0 0 1 NOV-FEB ?", T0, [utc(2026, 12, 1), utc(2027, 1, 1)]),
        ("0 0 12 L * ?", T0, [utc(2026, 11, 30, 12), utc(2026, 12, 31, 12)]),
        ("0 0 12 L-2 * ?", T0, [utc(2026, 11, 28, 12), utc(2026, 12, 29, 12)]),
        ("0 0 12 LW * ?", utc(2027, 1, 1), [utc(2027, 1, 29, 12), utc(2027, 2, 26, 12)]),
        # 2027-05-15 is a Saturday -> Friday 14th; 2027-08-15 a Sunday -> Monday 16th.
        ("0 0 8 15W * ?", utc(2027, 5, 1), [utc(2027, 5, 14, 8), utc(2027, 6, 15, 8)]),
        ("0 0 8 15W * ?", utc(2027, 8, 1), [utc(2027, 8, 16, 8), utc(2027, 9, 15, 8)]),
        # 2027-05-01 is a Saturday: 1W does not jump back into April.
        ("0 0 8 1W * ?", utc(2027, 4, 20), [utc(2027, 5, 3, 8), utc(2027, 6, 1, 8)]),
        ("0 0 10 ? * 6#3", T0, [utc(2026, 12, 18, 10), utc(2027, 1, 15, 10)]),
        ("0 0 10 ? * FRI#3", T0, [utc(2026, 12, 18, 10), utc(2027, 1, 15, 10)]),
        ("0 0 10 ? * 2#5", T0, [utc(2026, 11, 30, 10), utc(2027, 3, 29, 10)]),
        ("0 0 10 ? * 6L", T0, [utc(2026, 11, 27, 10), utc(2026, 12, 25, 10)]),
        ("0 0 10 ? * L", T0, [utc(2026, 11, 28, 10), utc(2026, 12, 5, 10)]),
        ("0 0 0 29 2 ?", T0, [utc(2028, 2, 29), utc(2032, 2, 29)]),
        ("0 0 0 31 * ?", T0, [utc(2026, 12, 31), utc(2027, 1, 31)]),
        ("0 30 6 1 1 ? 2027-2028", T0, [utc(2027, 1, 1, 6, 30), utc(2028, 1, 1, 6, 30)]),
        ("0 0 12 ? * wed", T0, [utc(2026, 11, 25, 12), utc(2026, 12, 2, 12)]),
        ("0 0 12 ? * MONDAY", T0, [utc(2026, 11, 30, 12), utc(2026, 12, 7, 12)]),
        ("0 0 12 1/10 * ?", T0, [utc(2026, 12, 1, 12), utc(2026, 12, 11, 12)]),
        ("0 0 0 */0 * ?", T0, [utc(2026, 11, 26), utc(2026, 11, 27)]),
    ],
)
def test_cron(expression: str, start: datetime, expected: list[datetime]) -> None:
    assert fires({"cron": expression}, start, len(expected)) == expected


def test_documented_cron_list() -> None:
    schedule = {"cron": ["0 0/2 * ? * MON-FRI", "0 1-59/2 * ? * SAT-SUN"]}
    friday_night = utc(2026, 11, 27, 23, 58, 30)
    assert fires(schedule, friday_night, 3) == [
        utc(2026, 11, 28, 0, 1),
        utc(2026, 11, 28, 0, 3),
        utc(2026, 11, 28, 0, 5),
    ]


def test_cron_that_never_fires_again() -> None:
    assert parse_schedule({"cron": "0 0 0 1 1 ? 2020"}).next_after(T0) is None
    assert parse_schedule({"cron": "0 0 0 30 2 ?"}).next_after(T0) is None


@pytest.mark.parametrize(
    "expression",
    [
        "0 6,18 * * * SAT-SUN",  # the docs' own time zone example: both day fields set
        "0 0 12 ? * ?",
        "0 0 12 * *",
        "0 0 12 * * ? 2027 extra",
        "60 0 12 * * ?",
        "0 0 24 * * ?",
        "0 0 12 0 * ?",
        "0 0 12 ? 13 *",
        "0 0 12 ? * 8",
        "0 0 12 ? * 2#6",
        "0 0 12 ? * 2#1,3#2",
        "0 0 12 L,15 * ?",
        "0 0 12 L-31 * ?",
        "0 0 12 ? * 6L,2",
        "*/61 * * * * ?",
        "0 0 ? * * *",
        "0 0 12 ? * FUN",
        "0 0 12 32W * ?",
    ],
)
def test_invalid_cron(expression: str) -> None:
    with pytest.raises(ScheduleError, match="cron"):
        CronExpression.parse(expression)


# --------------------------------------------------------------------------- time zones


def test_documented_time_zone_examples() -> None:
    galapagos = {"timezone": "Pacific/Galapagos", "daily": {"at": {"hour": [6, 18], "minute": 0}}}
    # Galapagos is UTC-6: 06:00 and 18:00 there are 12:00 and 00:00 UTC.
    assert fires(galapagos, T0, 2) == [utc(2026, 11, 25, 12), utc(2026, 11, 26, 0)]
    tokyo = {"timezone": "Asia/Tokyo", "monthly": {"on": [15], "at": ["6:00", "18:00"]}}
    assert fires(tokyo, T0, 2) == [utc(2026, 12, 14, 21), utc(2026, 12, 15, 9)]
    lower_case = {"timezone": "america/los_angeles", "cron": "0 0 6,18 ? * SAT-SUN"}
    assert fires(lower_case, T0, 2) == [utc(2026, 11, 28, 14), utc(2026, 11, 29, 2)]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("+1", utc(2026, 11, 26, 1)),
        ("GMT+01:00", utc(2026, 11, 26, 1)),
        ("-05:30", utc(2026, 11, 25, 13, 30)),
        ("UTC", utc(2026, 11, 26, 2)),
    ],
)
def test_offset_time_zones(zone: str, expected: datetime) -> None:
    schedule = {"timezone": zone, "daily": {"at": "2:00"}}
    if zone == "-05:30":
        schedule = {"timezone": zone, "daily": {"at": "8:00"}}
    assert fires(schedule, T0, 1) == [expected]


def test_dst_gap_fires_when_the_clock_has_jumped() -> None:
    # Europe/Berlin skips 02:00-03:00 on 2026-03-29: 02:30 fires at 03:30 CEST (01:30 UTC).
    schedule = {"timezone": "Europe/Berlin", "daily": {"at": "02:30"}}
    assert fires(schedule, utc(2026, 3, 27, 12), 3) == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]


def test_dst_gap_does_not_hide_an_earlier_real_time() -> None:
    # 02:50 does not exist (-> 03:50 CEST) but 03:10 does and comes first.
    schedule = {"timezone": "Europe/Berlin", "cron": "0 10,50 2,3 * * ?"}
    assert fires(schedule, utc(2026, 3, 29, 0, 30), 3) == [
        utc(2026, 3, 29, 1, 10),
        utc(2026, 3, 29, 1, 50),
        utc(2026, 3, 30, 0, 10),
    ]


def test_dst_repeated_hour_fires_once() -> None:
    # Europe/Berlin repeats 02:00-03:00 on 2026-10-25; 02:30 fires at its first occurrence.
    schedule = {"timezone": "Europe/Berlin", "daily": {"at": "02:30"}}
    assert fires(schedule, utc(2026, 10, 24, 12), 2) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]
    every_minute = parse_schedule({"timezone": "Europe/Berlin", "cron": "0 * * * * ?"})
    # In the second 02:xx hour (01:xx UTC) the already-fired wall times are skipped.
    assert every_minute.next_after(utc(2026, 10, 25, 1, 15)) == utc(2026, 10, 25, 2, 0)


# --------------------------------------------------------------------------- corpus


def test_every_corpus_schedule(corpus: Path) -> None:
    seen: dict[str, int] = {}
    for path in sorted((corpus / "watches").rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        watch = data.get("watch", data) if isinstance(data, dict) else None
        if not isinstance(watch, dict) or "trigger" not in watch:
            continue
        raw = watch["trigger"]["schedule"]
        schedule = parse_schedule(raw)
        following = schedule.next_after(T0)
        assert following is not None and following > T0, path
        if "interval" in raw:
            step = parse_interval(raw["interval"])
            assert isinstance(schedule, IntervalSchedule) and schedule.interval == step
            assert following - T0 <= step
        else:
            assert isinstance(schedule, CronSchedule)
            hour, minute = (int(part) for part in raw["daily"]["at"].split(":"))
            assert following == utc(2026, 11, 26, hour, minute), path
        kind = next(iter(raw))
        seen[kind] = seen.get(kind, 0) + 1
    assert seen == {"interval": 40, "daily": 5}


# --------------------------------------------------------------------------- properties

_CRON_PARTS = st.tuples(
    st.sets(st.integers(0, 59), min_size=1, max_size=4),
    st.sets(st.integers(0, 59), min_size=1, max_size=4),
    st.sets(st.integers(0, 23), min_size=1, max_size=4),
    st.sets(st.integers(1, 7), min_size=1, max_size=3),
)


def _matches(parts: tuple[set[int], set[int], set[int], set[int]], moment: datetime) -> bool:
    seconds, minutes, hours, weekdays = parts
    return (
        moment.second in seconds
        and moment.minute in minutes
        and moment.hour in hours
        and moment.isoweekday() % 7 + 1 in weekdays
        and moment.microsecond == 0
    )


def _cron_text(parts: tuple[set[int], set[int], set[int], set[int]]) -> str:
    return (
        " ".join(",".join(str(v) for v in sorted(p)) for p in parts[:3])
        + " ? * "
        + ",".join(str(v) for v in sorted(parts[3]))
    )


_INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(_CRON_PARTS, _INSTANTS)
def test_cron_next_after_is_the_first_match(
    parts: tuple[set[int], set[int], set[int], set[int]], start: datetime
) -> None:
    schedule = parse_schedule({"cron": _cron_text(parts)})
    following = schedule.next_after(start)
    assert following is not None and following > start
    assert _matches(parts, following)
    # No matching second in between: walk the matching (hour, minute) slots of each day.
    moment = start.replace(microsecond=0)
    while moment < following:
        if moment > start:
            assert not _matches(parts, moment), moment
        if moment.hour not in parts[2] or moment.isoweekday() % 7 + 1 not in parts[3]:
            moment = moment.replace(minute=0, second=0) + timedelta(hours=1)
        elif moment.minute not in parts[1]:
            moment = moment.replace(second=0) + timedelta(minutes=1)
        else:
            moment += timedelta(seconds=1)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            {"cron": "0 0/7 * * * ?"},
            {"cron": ["0 0 12 ? * MON-FRI", "30 15 3 L * ?"]},
            {"cron": "0 0 10 15W * ?"},
            {"cron": "0 0 10 ? * 3#2"},
            {"hourly": {"minute": [5, 50]}},
            {"daily": {"at": ["02:30", "noon"]}, "timezone": "Europe/Berlin"},
            {"weekly": {"on": ["sun", "wed"], "at": "01:30"}, "timezone": "America/New_York"},
            {"monthly": {"on": ["last_day"], "at": "23:59"}, "timezone": "Australia/Lord_Howe"},
            {"yearly": {"in": ["feb", "mar"], "on": 29, "at": "midnight"}},
            {"interval": "82s"},
        ]
    ),
    _INSTANTS,
)
def test_next_after_strictly_increases(schedule: dict[str, Any], start: datetime) -> None:
    parsed = parse_schedule(schedule)
    moment = start
    for _ in range(12):
        following = parsed.next_after(moment)
        assert following is not None and following > moment
        assert following.tzinfo is not None
        moment = following


@settings(max_examples=40, deadline=None)
@given(_INSTANTS)
def test_daily_in_a_zone_fires_at_that_wall_time_or_after_a_gap(start: datetime) -> None:
    zone = ZoneInfo("America/New_York")
    schedule = parse_schedule({"daily": {"at": "02:30"}, "timezone": "America/New_York"})
    following = schedule.next_after(start)
    assert following is not None
    local = following.astimezone(zone)
    assert (local.hour, local.minute) in ((2, 30), (3, 30))
    assert timedelta(0) < following - start <= timedelta(days=1, hours=1)


# --------------------------------------------------------------------------- APScheduler


def test_watch_trigger_delegates_and_does_not_catch_up() -> None:
    trigger = WatchTrigger(parse_schedule({"cron": "0 0/5 * * * ?"}))
    assert trigger.get_next_fire_time(None, T0) == utc(2026, 11, 25, 10, 10)
    # A late scheduler (previous fire 10:10, now 10:31) gets the next time after now.
    late = trigger.get_next_fire_time(utc(2026, 11, 25, 10, 10), utc(2026, 11, 25, 10, 31))
    assert late == utc(2026, 11, 25, 10, 35)
    on_time = trigger.get_next_fire_time(utc(2026, 11, 25, 10, 10), utc(2026, 11, 25, 10, 10))
    assert on_time == utc(2026, 11, 25, 10, 15)
    copy = pickle.loads(pickle.dumps(trigger))
    assert copy.get_next_fire_time(None, T0) == utc(2026, 11, 25, 10, 10)
    assert "WatchTrigger" in repr(trigger)


def test_watch_trigger_runs_in_apscheduler() -> None:
    from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
        BackgroundScheduler,
    )

    scheduler = BackgroundScheduler(timezone=UTC)
    job = scheduler.add_job(print, WatchTrigger(parse_schedule({"interval": "1h"})))
    scheduler.start(paused=True)
    try:
        assert job.next_run_time is not None
        assert job.next_run_time.minute == 0 and job.next_run_time.second == 0
    finally:
        scheduler.shutdown(wait=False)
