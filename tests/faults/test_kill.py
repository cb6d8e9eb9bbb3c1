"""The service killed (SIGKILL) over and over, frozen (SIGSTOP), and restarted.

Delivery rests on two things no crash can break: an offset is committed only after its batch
is acknowledged, and every write is idempotent by offset (a document's `_id`, a dead letter's
edgewatch.partition/offset). So whatever a kill interrupts is read and written again, and the
check is by offsets: every good offset exactly one document, every poison offset exactly one
dead letter, however often the process died in between.
"""

from __future__ import annotations

import random
import signal
import statistics
import time
from typing import Any

import pytest

from tests.faults.conftest import FaultBench
from tests.faults.corpus import SMALL_MAX_MESSAGE, committed_to_end, produce_spread
from tests.fixtures.faults import Figures, IngestProcess, Watch, consumed, record, scale, supports

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SCALE = scale()
SESSION_TIMEOUT_S = 10.0  # the service's session.timeout.ms
STATIC_RESTART_WITHIN_S = 6.0  # well under the session timeout a dynamic member waits out
STORM_ES_DELAY_S = 0.25  # per chunk each way, through the Elasticsearch proxy


def _dead_lettered(m: dict[str, float]) -> float:
    return m.get("edgewatch_ingest_dead_lettered_total", 0.0)


def _membership(bench: FaultBench) -> dict[str, str]:
    """Static membership when the service offers it (ingest.instance_id): restarts then need
    no rebalance. Without it the storm still runs, each restart waiting out the session."""
    return {"instance_id": f"{bench.name}-0"} if supports("instance_id") else {}


@pytest.mark.timeout(SCALE.timeout(SCALE.storm_kills * (SESSION_TIMEOUT_S + 8) + 120))
def test_sigkill_storm_with_poison_spread(bench: FaultBench) -> None:
    """SIGKILL `storm_kills` times, each time once this life has written dead letters and read
    a random part of its share of the topic (so kills land mid-stream, while dead letters are
    produced and before their offsets are committed), restarting at once; then a last run
    with --exit-when-idle.
    Promise: every good offset exactly one document, every poison offset exactly one dead
    letter; the last run exits 0."""
    cfg = bench.config
    produced = bench.topic()
    produce_spread(cfg, produced, SCALE.storm_events, every=50)
    # Unhindered, a life reads its whole share between two looks at its metrics, and the
    # kills stop landing mid-stream. Slowed, each bulk request takes some 0.5 s longer: a
    # life reads about 12k events a second, and there are more batches in flight to kill.
    bench.es_proxy.delay(STORM_ES_DELAY_S)
    env: dict[str, Any] = {"max_message_bytes": SMALL_MAX_MESSAGE, **_membership(bench)}
    rng = random.Random(17)
    started = time.monotonic()
    watches: list[Watch] = []
    restarts: list[float] = []
    at_kill: list[int] = []
    # Each life reads at most a share of the topic before its kill, so every kill lands
    # mid-stream: a random part of its share, and at least one dead letter written.
    share = SCALE.storm_events // (SCALE.storm_kills + 1)

    def all_done() -> bool:
        return committed_to_end(cfg, produced, bench.name)

    for _ in range(SCALE.storm_kills):
        # A life may overshoot its share before the kill lands (metrics are polled, ingest
        # is fast): once everything is committed there is nothing left to kill mid-stream.
        if all_done():
            break
        proc = bench.ingest(produced, **env).start()
        watches.append(Watch(proc))
        restarts.append(proc.wait_for(lambda m: consumed(m) > 0 or all_done(), 120))
        target = rng.uniform(0.2, 0.8) * share

        def far_enough(m: dict[str, float], target: float = target) -> bool:
            # ... or the rest of the topic was shorter than the target, and is done.
            return _dead_lettered(m) > 0 and (consumed(m) >= target or all_done())

        proc.wait_for(far_enough, 120)
        last = proc.metrics() or {}
        proc.signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
        at_kill.append(int(_dead_lettered(last)))
    final = bench.ingest(produced, exit_when_idle=5, **env).start()
    watches.append(Watch(final))
    code = final.wait(timeout=SCALE.timeout(SCALE.storm_events / 5000))
    for watch in watches:
        watch.stop()

    figures = Figures(
        "sigkill_storm" + ("_static" if env.get("instance_id") else ""),
        produced.events,
        watches[0].rss_first(),
        max(w.rss_peak() for w in watches),
        watches[-1].rss_last(),
        None,
        time.monotonic() - started,
        {
            "kills": len(at_kill),
            "poison": len(produced.poison),
            "dead_letters_at_kills": at_kill,
            "restart_s_mean": round(statistics.mean(restarts[1:] or [0.0]), 1),
            "exit": code,
        },
    )
    record(figures, SCALE.name)
    assert code == 0, final.tail()
    assert len(at_kill) == SCALE.storm_kills, f"only {len(at_kill)} lives were killed mid-stream"
    bench.verify(produced)


@pytest.mark.timeout(SCALE.timeout((SCALE.restarts + 1) * (SESSION_TIMEOUT_S + 8) + 60))
@pytest.mark.parametrize("membership", ["dynamic", "static"])
def test_restart_time_with_and_without_static_membership(
    bench: FaultBench, membership: str
) -> None:
    """Killed and restarted at once, `restarts` times, with a backlog: the time from the
    restart to the first message consumed. Dynamic (the service before ingest.instance_id):
    the group waits for the dead member's session to expire (~10 s) before reassigning.
    Static (ingest.instance_id, group.instance.id): the restarted member takes its
    partitions back without waiting. Promise for static: each restart under 6 s. Then a
    last run drains the topic, and every offset is checked exactly once."""
    if membership == "static" and not supports("instance_id"):
        pytest.fail("ingest.instance_id (static membership) is not in the configuration yet")
    cfg = bench.config
    produced = bench.topic()
    produce_spread(cfg, produced, 20_000, every=1000)
    env: dict[str, Any] = {"instance_id": f"{bench.name}-0"} if membership == "static" else {}
    started = time.monotonic()
    times: list[float] = []
    processes: list[IngestProcess] = []
    for _ in range(SCALE.restarts + 1):
        proc = bench.ingest(produced, **env).start()
        processes.append(proc)
        times.append(proc.wait_for(lambda m: consumed(m) > 0, 120))
        proc.kill()
    final = bench.ingest(produced, exit_when_idle=5, **env).start()
    code = final.wait(timeout=300)
    figures = Figures(
        f"restart_{membership}",
        produced.events,
        resume_s=round(statistics.mean(times[1:]), 1),
        duration_s=time.monotonic() - started,
        extra={"cold_start_s": round(times[0], 1), "restarts_s": [round(t, 1) for t in times[1:]]},
    )
    record(figures, SCALE.name)
    assert code == 0, final.tail()
    bench.verify(produced)
    if membership == "static":
        assert max(times[1:]) <= STATIC_RESTART_WITHIN_S, (times, processes[-1].tail())


@pytest.mark.timeout(SCALE.timeout(SCALE.stop_s + 60))
def test_sigstop_longer_than_the_session_then_sigcont(bench: FaultBench) -> None:
    """Frozen by SIGSTOP for longer than the session timeout, then thawed: the group has
    dropped the member meanwhile, so it finds its partitions lost, forgets what it had not
    committed, rejoins and reads that again. Promise: nothing lost or doubled, exit 0 at the
    end; /healthz cannot answer while frozen (nothing can) and answers 200 again after;
    indexing resumes."""
    cfg = bench.config
    produced = bench.topic()
    produce_spread(cfg, produced, SCALE.outage_events, every=50)
    started = time.monotonic()
    proc = bench.ingest(produced, exit_when_idle=5, max_message_bytes=SMALL_MAX_MESSAGE)
    proc.start()
    watch = Watch(proc)
    proc.wait_for(lambda m: m.get("edgewatch_ingest_indexed_total", 0) > 0, 60)
    stopped_at = time.monotonic()
    proc.signal(signal.SIGSTOP)
    time.sleep(SCALE.stop_s)
    proc.signal(signal.SIGCONT)
    thawed_at = time.monotonic()
    code = proc.wait(timeout=SCALE.timeout(SCALE.outage_events / 5000))
    watch.stop()
    figures = watch.figures(
        "sigstop",
        produced.events,
        fault_at=stopped_at,
        back_at=thawed_at,
        started=started,
        extra={"stopped_s": SCALE.stop_s, "exit": code},
    )
    record(figures, SCALE.name)
    print(watch.timeline(stopped=stopped_at, thawed=thawed_at))
    assert code == 0, proc.tail()
    bench.verify(produced)
    awake = [s for s in watch.answering() if not stopped_at <= s.t <= thawed_at + 2]
    assert all(s.healthz == 200 for s in awake[:-1]), watch.timeline()
    assert any(s.healthz == 200 for s in awake if s.t > thawed_at), "/healthz never back"
