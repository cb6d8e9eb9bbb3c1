"""Elasticsearch refused, blackholed and slow, for a while (minutes at the large scale).

The promise (docs/ingest.md, "Faults, and what ingest promises under them"): nothing is lost
and nothing doubled; memory stays bounded, because consumption pauses once the writers' batches
and one more are held; /healthz stays 200 (the main loop keeps turning); /readyz answers 503
within 15 s of Elasticsearch failing, even when it fails by never answering, and 200 again
once it is back; and work resumes within seconds of its return (sleeping writers are woken).
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import FaultBench
from tests.faults.corpus import SMALL_MAX_MESSAGE, produce_spread
from tests.fixtures.faults import Watch, indexed, record, scale

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SCALE = scale()
READY_503_WITHIN_S = 15.0
RESUME_WITHIN_S = 15.0
SLOW_DELAY_S = 2.0


def break_es(bench: FaultBench, fault: str) -> None:
    if fault == "refused":
        bench.es_proxy.refuse()  # new connections reset ...
        bench.es_proxy.cut()  # ... and the pooled ones dropped
    elif fault == "blackholed":
        bench.es_proxy.blackhole()
    else:
        bench.es_proxy.delay(SLOW_DELAY_S)


@pytest.mark.timeout(SCALE.timeout(SCALE.es_outage_s + 60))
@pytest.mark.parametrize("fault", ["refused", "blackholed", "slow"])
def test_elasticsearch_outage(bench: FaultBench, fault: str) -> None:
    """Elasticsearch refused / blackholed / slow for `es_outage_s`, with a backlog and more
    arriving meanwhile: every good offset indexed once, every poison offset dead-lettered once
    (the index-time ones after the return), RSS within `rss_slack_mb` of its level before,
    /healthz always 200, /readyz 503 during a refusal or blackhole (not required while merely
    slow: requests still succeed) and 200 after, and indexing resumes within 15 s."""
    cfg, outage = bench.config, SCALE.es_outage_s
    produced = bench.topic()
    half = SCALE.outage_events // 2
    produce_spread(cfg, produced, half)
    started = time.monotonic()
    proc = bench.ingest(produced, exit_when_idle=5, max_message_bytes=SMALL_MAX_MESSAGE).start()
    watch = Watch(proc)
    proc.wait_for(lambda m: indexed(m) > 0, 60)

    fault_at = time.monotonic()
    break_es(bench, fault)
    produce_spread(cfg, produced, SCALE.outage_events - half, start=half)
    while time.monotonic() < fault_at + outage:
        if not proc.alive():
            # Merely slow, requests still succeed: the run may catch up and exit meanwhile.
            assert fault == "slow", proc.tail()
            break
        time.sleep(0.5)
    restored_at = time.monotonic()
    bench.es_proxy.restore()
    code = proc.wait(timeout=max(120.0, outage))
    watch.stop()

    first_503 = watch.first_ready(fault_at, 503, "elasticsearch")
    ready_503_s = None if first_503 is None else round(first_503.t - fault_at, 1)
    figures = watch.figures(
        f"es_{fault}",
        produced.events,
        fault_at=fault_at,
        back_at=restored_at if fault != "slow" else None,
        started=started,
        extra={"outage_s": outage, "readyz_503_after_s": ready_503_s, "exit": code},
    )
    record(figures, SCALE.name)
    print(watch.timeline(fault=fault_at, restored=restored_at))

    assert code == 0, proc.tail()
    bench.verify(produced)
    assert not watch.unhealthy(), f"/healthz not 200: {watch.unhealthy()[:3]}"
    assert watch.rss_peak() <= watch.rss_at(fault_at) + SCALE.rss_slack_mb, figures.line()
    if fault == "slow":
        return
    assert ready_503_s is not None and ready_503_s <= READY_503_WITHIN_S, (
        f"/readyz did not answer 503 within {READY_503_WITHIN_S:.0f} s of Elasticsearch "
        f"being {fault} (first 503 after {ready_503_s} s)"
    )
    assert watch.first_ready(restored_at, 200) is not None, "/readyz never 200 again"
    resume = figures.resume_s
    assert resume is not None and resume <= RESUME_WITHIN_S, (
        f"indexing resumed {resume} s after Elasticsearch returned (limit {RESUME_WITHIN_S} s)"
    )
