"""BatchWriter's retry decisions without servers: when a waiting writer wakes, when a probe is
due, what a failure is, and that `release` frees what a failed request's frames held."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.ingest import bulk
from pipeline.ingest.bulk import PROBE_EVERY_S, Failure, Heard, probe_due, woken
from pipeline.ingest.indexer import STOP_POLL_S, AbandonedError, BatchWriter, release
from pipeline.ingest.metrics import IngestMetrics

# ------------------------------------------------------------------ pure decisions


def test_a_bulk_success_wakes_every_waiting_writer() -> None:
    seen = Heard(written=3, answered=7)
    now = seen.after_success(probe=False)
    assert woken(seen, now, probes=True)
    assert woken(seen, now, probes=False)


def test_a_probe_success_wakes_only_writers_that_count_probes() -> None:
    seen = Heard(written=3, answered=7)
    now = seen.after_success(probe=True)
    assert now == Heard(written=3, answered=8)
    assert woken(seen, now, probes=True)
    assert not woken(seen, now, probes=False)  # after a 429: only a write says "go on"


def test_nothing_heard_wakes_nobody() -> None:
    seen = Heard(written=3, answered=7)
    assert not woken(seen, seen, probes=True)


def test_a_probe_is_due_only_for_a_long_wait_after_a_quiet_spell() -> None:
    now = 1000.0
    # 30 s left, nothing heard for PROBE_EVERY_S, none under way: probe.
    assert probe_due(now, now + 30, now - PROBE_EVERY_S, probing=False)
    # One under way: never a second.
    assert not probe_due(now, now + 30, now - 10, probing=True)
    # Heard from Elasticsearch (a failure, a probe) less than PROBE_EVERY_S ago: not yet.
    assert not probe_due(now, now + 30, now - PROBE_EVERY_S / 2, probing=False)
    # The wait ends within PROBE_EVERY_S anyway: the retry itself will ask.
    assert not probe_due(now, now + PROBE_EVERY_S, now - 10, probing=False)


@pytest.mark.parametrize(
    ("status", "cause", "refused"),
    [
        (None, "connection", False),
        (429, "rejected_429", False),
        (500, "server_error", False),
        (503, "server_error", False),
        (413, "connection", True),
        (400, "connection", True),
    ],
)
def test_failure_cause_and_whether_resending_can_help(
    status: int | None, cause: str, refused: bool
) -> None:
    failure = Failure(status, "text")
    assert failure.cause == cause
    assert failure.refused is refused


# ------------------------------------------------------------------ release


class Payload:
    """Stands in for a request body (bytes cannot be weakly referenced)."""


def _fail_like_elastic_transport(payload: Payload) -> None:
    # The shape of elastic_transport's urllib3 node: the raised exception is also a local of
    # a frame in its own traceback, a reference cycle that holds `payload`.
    try:
        raise OSError("connection refused")
    except OSError as e:
        err = ConnectionError(str(e))
        raise err from e


@pytest.fixture
def gc_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("gc_off")
def test_without_release_a_failed_call_holds_its_locals_until_the_cyclic_gc() -> None:
    payload = Payload()
    alive = weakref.ref(payload)
    with contextlib.suppress(ConnectionError):
        _fail_like_elastic_transport(payload)
    del payload
    assert alive() is not None  # the cycle keeps the frame, and the frame the payload
    gc.collect()
    assert alive() is None


@pytest.mark.usefixtures("gc_off")
def test_release_frees_a_failed_calls_locals_at_once() -> None:
    payload = Payload()
    alive = weakref.ref(payload)
    with pytest.raises(ConnectionError) as caught:
        _fail_like_elastic_transport(payload)
    del payload
    release(caught.value)
    assert alive() is None  # gone at once, though the exception itself is still held
    assert caught.value.__traceback__ is None
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.__traceback__ is None


# ------------------------------------------------------------------ waiting to retry


@pytest.fixture
def stopping() -> threading.Event:
    return threading.Event()


@pytest.fixture
def writer(stopping: threading.Event) -> BatchWriter:
    # The client connects lazily; nothing here sends a request.
    return BatchWriter(
        Elasticsearch("http://127.0.0.1:9"),
        IngestMetrics(),
        op_type="index",
        backoff=bulk.Backoff(base_s=0.001, cap_s=0.001),
        stopping=stopping,
    )


def _sleep_in_thread(writer: BatchWriter, delay: float, probes: bool) -> dict[str, Any]:
    """Start `writer._sleep` in a thread; the dict gets `woken` (or `error`) and `took`."""
    out: dict[str, Any] = {}
    # As after a failed request: so no probe is due for PROBE_EVERY_S (none is sent here).
    writer._failed("refused")
    seen = writer._seen()

    def run() -> None:
        started = time.monotonic()
        try:
            out["woken"] = writer._sleep(delay, seen, "refused", probes=probes)
        except AbandonedError as err:
            out["error"] = err
        out["took"] = time.monotonic() - started

    out["thread"] = threading.Thread(target=run, daemon=True)
    out["thread"].start()
    time.sleep(0.2)  # it is waiting now
    return out


def test_a_success_elsewhere_wakes_a_long_wait_at_once(writer: BatchWriter) -> None:
    sleeper = _sleep_in_thread(writer, 30.0, probes=False)
    writer._succeeded()
    sleeper["thread"].join(2)
    assert sleeper["woken"] is True
    assert sleeper["took"] < 1.0


def test_a_probes_success_wakes_only_a_wait_that_counts_probes(writer: BatchWriter) -> None:
    counts = _sleep_in_thread(writer, 30.0, probes=True)
    ignores = _sleep_in_thread(writer, 1.0, probes=False)
    writer._succeeded(probe=True)
    counts["thread"].join(2)
    ignores["thread"].join(3)
    assert counts["woken"] is True and counts["took"] < 1.5
    assert ignores["woken"] is False and ignores["took"] >= 1.0


def test_a_stop_abandons_a_long_wait_within_a_fraction_of_a_second(
    writer: BatchWriter, stopping: threading.Event
) -> None:
    sleeper = _sleep_in_thread(writer, 30.0, probes=False)
    stopped = time.monotonic()
    stopping.set()
    sleeper["thread"].join(2)
    assert isinstance(sleeper["error"], AbandonedError)
    assert time.monotonic() - stopped < STOP_POLL_S + 0.3


def test_a_wait_ends_by_itself_when_nobody_succeeds(writer: BatchWriter) -> None:
    sleeper = _sleep_in_thread(writer, 0.5, probes=False)
    sleeper["thread"].join(2)
    assert sleeper["woken"] is False
    assert 0.5 <= sleeper["took"] < 1.0


def test_a_success_during_the_attempt_means_retrying_at_once_from_attempt_0(
    writer: BatchWriter,
) -> None:
    seen = writer._seen()  # noted before the attempt
    writer._succeeded()  # another writer's request succeeded meanwhile
    started = time.monotonic()
    assert writer._retry(7, seen, "refused", "connection") == 0
    assert time.monotonic() - started < 0.1


def test_without_a_success_the_attempt_count_grows(writer: BatchWriter) -> None:
    assert writer._retry(7, writer._seen(), "refused", "connection") == 8


def test_last_success_last_failure_and_last_error(writer: BatchWriter) -> None:
    assert (writer.last_success, writer.last_failure, writer.last_error) == (0.0, 0.0, None)
    writer._failed("bulk request failed (connection): refused")
    assert writer.last_failure > 0.0 and writer.last_success == 0.0
    assert writer.last_error == "bulk request failed (connection): refused"
    writer._succeeded(probe=True)
    assert writer.last_success >= writer.last_failure
    assert writer.last_error is None
