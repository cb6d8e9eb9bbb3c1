"""librdkafka's reconnect log, summarised (pipeline/clients/kafka_logs.py) and the filter that
applies it (ErrorWatch), on plain data with a clock of the test's own.

The lines are librdkafka's own, as a client pointed at a closed port and the secured local
stack logged them."""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.clients import kafka as kafka_client
from pipeline.clients.kafka_logs import Summary, Throttle, kind_of
from pipeline.config import KafkaConfig

REFUSED = (
    "FAIL [edgewatch#consumer-1] [thrd:127.0.0.1:9092/1]: 127.0.0.1:9092/1: Connect to "
    "ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT)"
)
BOOTSTRAP_REFUSED = (
    "FAIL [edgewatch#consumer-1] [thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect "
    "to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
)
DISCONNECTED = (
    "FAIL [edgewatch#consumer-1] [thrd:127.0.0.1:9092/1]: 127.0.0.1:9092/1: Disconnected "
    "(after 59932ms in state UP)"
)
TIMED_OUT = (
    "REQTMOUT [edgewatch#producer-2] [thrd:127.0.0.1:9092/1]: 127.0.0.1:9092/1: Timed out "
    "ProduceRequest in flight (after 60003ms, timeout #0)"
)
PID = (
    "GETPID [edgewatch#producer-1] [thrd:main]: Failed to acquire idempotence PID from broker "
    "127.0.0.1:9092/1: Broker: Coordinator load in progress: retrying"
)
SASL = (
    "FAIL [edgewatch#producer-1] [thrd:sasl_ssl://broker:9094/bootstrap]: "
    "sasl_ssl://broker:9094/bootstrap: SSL handshake failed: connection reset (after 3ms in "
    "state SSL_HANDSHAKE)"
)
INFO, ERROR = logging.INFO, logging.ERROR


# ---------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("line", "facility", "broker"),
    [
        (REFUSED, "FAIL", "127.0.0.1:9092/1"),
        (BOOTSTRAP_REFUSED, "FAIL", "127.0.0.1:1/bootstrap"),
        (TIMED_OUT, "REQTMOUT", "127.0.0.1:9092/1"),
        (PID, "GETPID", "127.0.0.1:9092/1"),  # named inside the text, from the main thread
        (SASL, "FAIL", "sasl_ssl://broker:9094/bootstrap"),
        ("CONFWARN [c] [thrd:app]: Configuration property x is ignored", "CONFWARN", ""),
        ("no facility, no broker", "", ""),
    ],
)
def test_a_kind_is_the_facility_the_broker_and_the_problem(
    line: str, facility: str, broker: str
) -> None:
    kind = kind_of(line)
    assert (kind.facility, kind.broker) == (facility, broker)
    assert kind.shape and not any(c.isdigit() for c in kind.shape)


def test_the_same_problem_is_one_kind_whatever_the_address_and_timings() -> None:
    again = REFUSED.replace("ipv4#127.0.0.1:9092", "ipv6#[::1]:9092").replace("0ms", "12ms")
    assert kind_of(again) == kind_of(REFUSED)
    from_the_producer = REFUSED.replace("consumer-1", "producer-2")
    assert kind_of(from_the_producer) == kind_of(REFUSED)


@pytest.mark.parametrize(
    "other",
    [
        DISCONNECTED,  # another problem with the same broker
        TIMED_OUT,  # another facility
        REFUSED.replace("127.0.0.1:9092/1", "127.0.0.1:9093/2"),  # another broker
        REFUSED.replace("Connection refused", "Connection timed out"),
        REFUSED.replace("state CONNECT", "state APIVERSION_QUERY"),
    ],
)
def test_different_problems_are_different_kinds(other: str) -> None:
    assert kind_of(other) != kind_of(REFUSED)


# ---------------------------------------------------------------------------- the throttle


def _outage(throttle: Throttle, start: float, stop: float, rate: float = 19.0) -> list[object]:
    """REFUSED `rate` times a second from start to stop: what the throttle lets out."""
    out: list[object] = []
    n = 0
    while (now := start + n / rate) < stop:
        verdict = throttle.offer(REFUSED.replace("0ms", f"{n}ms"), ERROR, now)
        out.extend(verdict.summaries)
        if verdict.show:
            out.append(now)
        n += 1
    return out


def test_an_outage_is_its_first_line_then_one_count_per_window() -> None:
    throttle = Throttle(30.0)
    out = _outage(throttle, 0.0, 65.0)  # 1235 lines
    assert out[0] == 0.0  # the first line, shown as is
    assert [type(o) for o in out] == [float, Summary, Summary]
    first, second = out[1], out[2]
    assert isinstance(first, Summary) and isinstance(second, Summary)
    assert first.count == 30 * 19 - 1 and second.count == 30 * 19
    assert first.first == second.first == REFUSED  # the line shown
    assert first.level == ERROR
    assert first.text == f"569 more like this in the last 30 s: {REFUSED}"
    # The repeats stop at 65 s (the connection came back): the window ends at 90 s.
    assert throttle.next_due() == 90.0
    (last,) = throttle.expire(90.0)
    assert (last.count, round(last.span_s)) == (5 * 19, 30)
    # A window without repeats forgets the kind: the next line is a first again.
    assert throttle.next_due() is None
    assert throttle.expire(120.0) == []
    assert throttle.offer(REFUSED, ERROR, 121.0).show


def test_a_line_after_a_long_quiet_comes_after_the_late_summary() -> None:
    throttle = Throttle(30.0)
    assert throttle.offer(REFUSED, ERROR, 0.0).show
    assert not throttle.offer(REFUSED, ERROR, 1.0).show
    verdict = throttle.offer(REFUSED, ERROR, 500.0)  # no timer ended the window
    assert verdict.show
    (summary,) = verdict.summaries
    assert summary.count == 1
    assert summary.text.startswith("1 more like this in the last 500 s: FAIL")


def test_each_kind_has_its_own_window() -> None:
    throttle = Throttle(30.0)
    shown = [throttle.offer(line, ERROR, 1.0).show for line in (REFUSED, DISCONNECTED, PID)]
    assert shown == [True, True, True]
    assert not throttle.offer(REFUSED, ERROR, 2.0).show
    assert not throttle.offer(PID, ERROR, 3.0).show
    summaries = throttle.flush(10.0)
    assert sorted(s.first for s in summaries) == sorted([REFUSED, PID])
    assert throttle.next_due() is None


def test_kinds_beyond_the_cap_are_shown_not_counted() -> None:
    throttle = Throttle(30.0, max_kinds=2)
    lines = [REFUSED.replace("9092/1", f"{9092 + i}/{i}") for i in range(4)]
    assert all(throttle.offer(line, ERROR, 0.0).show for line in lines)
    assert not throttle.offer(lines[0], ERROR, 1.0).show  # tracked
    assert throttle.offer(lines[3], ERROR, 1.0).show  # over the cap: never hidden


def test_a_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Throttle(0)


# ---------------------------------------------------------------------------- properties

WINDOW = 30.0
EPSILON = 1e-6
KINDS = 3
# Gaps between lines: bursts, and the edges of one and two windows.
_gaps = st.one_of(
    st.sampled_from([0.0, 0.05, 1.0, 29.9, 30.0, 30.1, 59.9, 60.0, 60.1, 90.0]),
    st.floats(0, 100, allow_nan=False),
)
_streams = st.lists(st.tuples(st.integers(0, KINDS - 1), _gaps), max_size=120)


def _line(kind: int, n: int) -> str:
    broker = f"edge-{kind}.example:9092/{kind}"
    return (
        f"FAIL [edgewatch#consumer-1] [thrd:{broker}]: {broker}: Connect to "
        f"ipv4#10.0.0.{n % 7}:9092 failed: Connection refused (after {n}ms in state CONNECT)"
    )


def _kind(line: str) -> int:
    return int(kind_of(line).broker.rsplit("/", 1)[1])


class Run:
    """A stream of (kind, gap) through a throttle: each line's fate, and what was written
    (time, kind, count: 1 for a line shown, else the count of a summary). With `at`, the
    stream holds (kind, time) instead: the very clock readings of another run."""

    def __init__(self, stream: list[tuple[int, float]], *, timer: bool, at: bool = False) -> None:
        throttle = Throttle(WINDOW)
        self.times: dict[int, list[float]] = defaultdict(list)
        self.shown: list[bool] = []
        self.written: list[tuple[float, int, int]] = []
        self.shown_times: list[tuple[float, int]] = []
        self.summary_times: list[tuple[float, int]] = []
        now = 0.0
        for n, (kind, gap) in enumerate(stream):
            now = gap if at else now + gap
            while timer and (due := throttle.next_due()) is not None and due <= now:
                self._summaries(throttle.expire(due), due)
            verdict = throttle.offer(_line(kind, n), INFO, now)
            self._summaries(list(verdict.summaries), now)
            self.shown.append(verdict.show)
            self.times[kind].append(now)
            if verdict.show:
                self.written.append((now, kind, 1))
                self.shown_times.append((now, kind))
        self.flushed = throttle.flush(now)

    def _summaries(self, summaries: list[Summary], now: float) -> None:
        for s in summaries:
            self.written.append((now, _kind(s.first), s.count))
            self.summary_times.append((now, _kind(s.first)))


@given(_streams, st.booleans())
def test_every_line_is_either_shown_or_counted_once(
    stream: list[tuple[int, float]], timer: bool
) -> None:
    run = Run(stream, timer=timer)
    assert sum(count for _, _, count in run.written) + sum(s.count for s in run.flushed) == len(
        stream
    )


@given(_streams)
def test_the_timer_changes_when_counts_are_written_never_what_is_shown(
    stream: list[tuple[int, float]],
) -> None:
    assert Run(stream, timer=True).shown == Run(stream, timer=False).shown


@given(_streams, st.booleans())
def test_a_repeat_within_a_window_is_hidden_and_a_line_after_two_quiet_windows_shown(
    stream: list[tuple[int, float]], timer: bool
) -> None:
    run = Run(stream, timer=timer)
    now = 0.0
    last: dict[int, float] = {}
    for (kind, gap), shown in zip(stream, run.shown, strict=True):
        now += gap
        # (EPSILON: a gap of exactly one window may come out either side of it in floats)
        if kind in last and now < last[kind] + WINDOW - EPSILON:
            assert not shown
        if kind not in last or now > last[kind] + 2 * WINDOW + EPSILON:
            assert shown
        last[kind] = now


@given(_streams, st.booleans())
def test_at_most_two_lines_per_kind_in_any_window(
    stream: list[tuple[int, float]], timer: bool
) -> None:
    run = Run(stream, timer=timer)
    for kind in range(KINDS):
        times = [t for t, k, _ in run.written if k == kind]
        for i, t in enumerate(times):
            assert sum(1 for u in times[i:] if u < t + WINDOW - EPSILON) <= 2


@given(_streams)
def test_kinds_do_not_change_each_others_fate(stream: list[tuple[int, float]]) -> None:
    run = Run(stream, timer=False)
    # Kind 0 alone, at the same clock readings, the other kinds' lines left out. (Summing the
    # gaps again in another grouping can move a reading by one rounding step, across a window's
    # end: hypothesis found such a stream.)
    alone, fates, now = [], [], 0.0
    for (kind, gap), shown in zip(stream, run.shown, strict=True):
        now += gap
        if kind == 0:
            alone.append((0, now))
            fates.append(shown)
    assert Run(alone, timer=False, at=True).shown == fates


@given(_streams)
def test_with_the_timer_counts_are_written_at_the_end_of_their_window(
    stream: list[tuple[int, float]],
) -> None:
    run = Run(stream, timer=True)
    for at, kind in run.summary_times:
        first_shown = max(t for t, k in run.shown_times if k == kind and t <= at)
        windows = (at - first_shown) / WINDOW
        assert windows >= 1 - 1e-9
        assert abs(windows - round(windows)) < 1e-6


# ---------------------------------------------------------------------------- ErrorWatch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(line: str, level: int = ERROR) -> logging.LogRecord:
    return logging.LogRecord("edgewatch.kafka", level, "", 0, line, None, None)


def test_error_watch_shows_the_first_line_and_summarises_the_repeats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    watch = kafka_client.ErrorWatch(KafkaConfig(), clock=clock, timers=False)
    with caplog.at_level(logging.INFO, logger="edgewatch.kafka"):
        assert watch.filter(_record(REFUSED)) is True
        for n in range(1, 57):  # three seconds of them
            clock.now = 1000.0 + n / 19
            assert watch.filter(_record(REFUSED)) is False
        assert watch.filter(_record(TIMED_OUT)) is True  # another kind
        assert caplog.records == []  # (a record the filter lets through is logged by the caller)
        clock.now = 1029.9
        watch.expire()
        assert caplog.records == []
        clock.now = 1030.0
        watch.expire()
    (summary,) = caplog.records
    assert summary.name == "edgewatch.kafka" and summary.levelno == ERROR
    assert summary.getMessage() == f"56 more like this in the last 30 s: {REFUSED}"


def test_error_watch_flush_writes_what_is_pending(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    watch = kafka_client.ErrorWatch(KafkaConfig(), clock=clock, timers=False)
    with caplog.at_level(logging.INFO, logger="edgewatch.kafka"):
        watch.filter(_record(REFUSED))
        clock.now += 2
        watch.filter(_record(REFUSED))
        watch.flush()
        watch.flush()  # nothing twice
    assert [r.getMessage() for r in caplog.records] == [
        f"1 more like this in the last 2 s: {REFUSED}"
    ]


def test_error_watch_shows_every_debug_line() -> None:
    watch = kafka_client.ErrorWatch(KafkaConfig(), timers=False)
    logging.getLogger("edgewatch.kafka").setLevel(logging.DEBUG)
    try:
        assert all(watch.filter(_record(REFUSED, logging.DEBUG)) for _ in range(5))
    finally:
        logging.getLogger("edgewatch.kafka").setLevel(logging.NOTSET)


def test_error_watch_ends_a_window_with_its_timer(caplog: pytest.LogCaptureFixture) -> None:
    watch = kafka_client.ErrorWatch(KafkaConfig(), window_s=0.2)
    with caplog.at_level(logging.INFO, logger="edgewatch.kafka"):
        assert watch.filter(_record(REFUSED)) is True
        assert watch.filter(_record(REFUSED)) is False
        for _ in range(100):  # no further line comes: the timer writes the count
            if caplog.records:
                break
            time.sleep(0.02)
    try:
        (summary,) = caplog.records
        assert re.fullmatch(r"1 more like this in the last 0\.\d s: (.*)", summary.getMessage())
        assert summary.getMessage().endswith(REFUSED)
    finally:
        watch.flush()


@pytest.mark.parametrize(
    ("span", "shown"), [(0.2, "0.2"), (0.96, "1"), (30.004, "30"), (1_209_600.0, "1209600")]
)
def test_a_summary_says_how_long_it_counted(span: float, shown: str) -> None:
    summary = Summary(ERROR, 3, span, "FAIL x")
    assert summary.text == f"3 more like this in the last {shown} s: FAIL x"
