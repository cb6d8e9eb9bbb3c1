"""Kafka cut away from the service: while it is idle, while batches are in flight, and while
it runs with --exit-when-idle.

The cut is total for the service under test: its every connection to the broker, bootstrap
and after, passes the fault listener's proxy (127.0.0.1:9096 -> 9095, deploy/local/README.md),
while the test itself produces and verifies on 9092.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.faults.conftest import FaultBench
from tests.faults.corpus import committed_to_end, produce_spread
from tests.fixtures.faults import Figures, IngestProcess, Watch, indexed, record, scale, supports

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SCALE = scale()
IDLE_EXIT_S = 5.0
WAIT_LIMIT_S = 10.0  # ingest.idle_exit_wait_s of the run that must give up
GIVE_UP_SLACK_S = 10.0  # beyond limit + idle time: noticing, draining (5 s), closing the clients


def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1)
    return False


def _hold_cut(bench: FaultBench, proc: IngestProcess, seconds: float) -> float:
    """Keep Kafka cut for `seconds`, failing at once if the process exits meanwhile."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert proc.alive(), (
            f"ingest exited ({proc.proc and proc.proc.returncode}) during the "
            f"Kafka outage\n{proc.tail()}"
        )
        time.sleep(0.25)
    restored = time.monotonic()
    bench.kafka_proxy.restore()
    return restored


@pytest.mark.timeout(SCALE.timeout(SCALE.kafka_cut_s + 60))
@pytest.mark.parametrize("when", ["idle", "mid_batch"])
def test_kafka_cut(bench: FaultBench, when: str) -> None:
    """Kafka cut for `kafka_cut_s`, with everything read (idle) or with bulk requests in flight
    (Elasticsearch slowed to 0.5 s each way so batches are), more messages arriving meanwhile.
    Promise: /healthz 200 throughout (the main loop never freezes on Kafka); /readyz 503 during
    the cut with a reason naming Kafka, 200 after; then every offset exactly once."""
    cfg = bench.config
    produced = bench.topic()
    first = SCALE.outage_events // 2 if when == "idle" else SCALE.outage_events
    produce_spread(cfg, produced, first)
    started = time.monotonic()
    if when == "mid_batch":
        bench.es_proxy.delay(0.5)
    proc = bench.ingest(produced, bulk_max_docs=500).start()
    watch = Watch(proc)
    if when == "idle":
        assert _until(lambda: committed_to_end(cfg, produced, bench.name), 120), proc.tail()
        time.sleep(2)
    else:
        proc.wait_for(lambda m: indexed(m) >= first // 10, 120)
    cut_at = time.monotonic()
    bench.kafka_proxy.cut()
    produce_spread(cfg, produced, SCALE.outage_events // 2, start=first)
    restored_at = _hold_cut(bench, proc, SCALE.kafka_cut_s)
    bench.es_proxy.restore()
    stalled = not _until(
        lambda: committed_to_end(cfg, produced, bench.name),
        SCALE.timeout(SCALE.outage_events / 5000),
    )
    proc.signal(signal.SIGTERM)
    code = proc.wait(60)
    watch.stop()
    kafka_503 = watch.first_ready(cut_at, 503, "kafka")
    figures = watch.figures(
        f"kafka_cut_{when}",
        produced.events,
        fault_at=cut_at,
        back_at=restored_at,
        started=started,
        extra={
            "cut_s": SCALE.kafka_cut_s,
            "readyz_503_after_s": kafka_503 and round(kafka_503.t - cut_at, 1),
            "exit": code,
        },
    )
    record(figures, SCALE.name)
    print(watch.timeline(cut=cut_at, restored=restored_at))
    assert not stalled, f"not everything committed after Kafka returned\n{proc.tail()}"
    assert code == 0, proc.tail()
    bench.verify(produced)
    assert not watch.unhealthy(), f"/healthz not 200: {watch.unhealthy()[:3]}"
    assert kafka_503 is not None and kafka_503.t < restored_at, (
        "/readyz never answered 503 naming Kafka during the cut\n" + watch.timeline()
    )
    assert watch.first_ready(restored_at, 200) is not None, "/readyz never 200 again"


@pytest.mark.timeout(SCALE.timeout(SCALE.kafka_cut_s * 4 + 120))
def test_exit_when_idle_waits_out_a_kafka_outage(bench: FaultBench) -> None:
    """--exit-when-idle 5, and Kafka cut mid-run for `kafka_cut_s` while more messages arrive:
    no message for 5 s is not idleness when Kafka cannot be asked. Promise: the process does
    not exit while Kafka is unreachable; once it is back, it reads everything and exits 0."""
    cfg = bench.config
    produced = bench.topic()
    produce_spread(cfg, produced, SCALE.outage_events // 2)
    limit = SCALE.kafka_cut_s * 3 + 60
    wait = {"idle_exit_wait_s": limit} if supports("idle_exit_wait_s") else {}
    started = time.monotonic()
    proc = bench.ingest(produced, exit_when_idle=IDLE_EXIT_S, **wait).start()
    watch = Watch(proc)
    proc.wait_for(lambda m: indexed(m) > 0, 60)
    cut_at = time.monotonic()
    bench.kafka_proxy.cut()
    produce_spread(cfg, produced, SCALE.outage_events // 2, start=SCALE.outage_events)
    try:
        restored_at = _hold_cut(bench, proc, SCALE.kafka_cut_s)
    finally:
        bench.kafka_proxy.restore()
    try:
        code: int | None = proc.wait(limit + SCALE.timeout(SCALE.outage_events / 5000))
    except subprocess.TimeoutExpired:
        code = None
    watch.stop()
    figures = watch.figures(
        "idle_exit_outage",
        produced.events,
        fault_at=cut_at,
        back_at=restored_at,
        started=started,
        extra={"cut_s": SCALE.kafka_cut_s, "exit": code},
    )
    record(figures, SCALE.name)
    assert code == 0, proc.tail()
    bench.verify(produced)


@pytest.mark.timeout(SCALE.timeout(WAIT_LIMIT_S + 150))
@pytest.mark.parametrize("when", ["before_start", "mid_run"])
def test_exit_when_idle_gives_up_after_the_wait_limit(bench: FaultBench, when: str) -> None:
    """--exit-when-idle 5 with ingest.idle_exit_wait_s = 10, and Kafka cut for good, before
    the start or mid-run (batches with dead letters then in flight). Promise: the process
    exits with code 2 (not 0: the topic is not read) within the limit plus a few seconds,
    saying on stderr that Kafka cannot be reached; what it did write is committed, and a
    later run reads the rest, every offset exactly once."""
    if not supports("idle_exit_wait_s"):
        pytest.fail("ingest.idle_exit_wait_s is not in the configuration yet")
    cfg = bench.config
    produced = bench.topic()
    produce_spread(cfg, produced, SCALE.outage_events // 2)
    started = time.monotonic()
    proc = bench.ingest(produced, exit_when_idle=IDLE_EXIT_S, idle_exit_wait_s=WAIT_LIMIT_S)
    if when == "before_start":
        bench.kafka_proxy.cut()
        proc.start()
    else:
        proc.start().wait_for(lambda m: indexed(m) > 0, 60)
        bench.kafka_proxy.cut()
        produce_spread(cfg, produced, SCALE.outage_events // 2, start=SCALE.outage_events)
    cut_at = time.monotonic()
    try:
        code: int | None = proc.wait(WAIT_LIMIT_S + IDLE_EXIT_S + 120)  # to measure it
    except subprocess.TimeoutExpired:
        code = None
    gave_up_s = time.monotonic() - cut_at
    bench.kafka_proxy.restore()
    record(
        Figures(
            f"idle_exit_gives_up_{when}",
            produced.events,
            duration_s=time.monotonic() - started,
            extra={
                "wait_limit_s": WAIT_LIMIT_S,
                "exited_after_s": round(gave_up_s, 1),
                "exit": code,
            },
        ),
        SCALE.name,
    )
    assert code == 2, f"exit code {code} ({gave_up_s:.0f} s after the cut)\n{proc.tail()}"
    assert gave_up_s <= WAIT_LIMIT_S + IDLE_EXIT_S + GIVE_UP_SLACK_S, (
        f"exited {gave_up_s:.0f} s after the cut; the limit is {WAIT_LIMIT_S:.0f} s\n" + proc.tail()
    )
    errors = [line for line in proc.stderr().splitlines() if " ERROR " in line]
    assert any(_KAFKA_UNREACHABLE.search(line) for line in errors), proc.tail()
    proc.kill()
    rest = bench.ingest(produced, exit_when_idle=IDLE_EXIT_S).start()
    assert rest.wait(SCALE.timeout(SCALE.outage_events / 5000)) == 0, rest.tail()
    bench.verify(produced)


# What "Kafka cannot be reached" may look like in the service's own words.
_KAFKA_UNREACHABLE = re.compile(
    r"kafka.{0,200}(unreachable|not reachable|cannot be reached|brokers? down|reachable)",
    re.IGNORECASE,
)
