"""Rule-engine benchmark: many rules on a 1-minute schedule against an index of many events.

    make bench-rules                 # RULES=1000 EVENTS=1000000 CYCLES=2
    RULES=200 EVENTS=100000 make bench-rules
    LATE=1 make bench-rules          # each rule with metadata.late_data (one more search a run)

1. Indexes EVENTS log documents (50 hosts, 8 services, mixed levels, spread over the last
   hour) straight into Elasticsearch.
2. Writes RULES rule files: each counts one host's (or service's) errors of the last 5 minutes,
   compares with a threshold, and logs (throttled for an hour), as a fleet would configure them.
3. Runs the alert service for CYCLES minutes and measures: evaluations per second over the
   run, Elasticsearch queries per cycle, the service's CPU share, and lateness (start of an
   execution minus its scheduled time) p50 / p99.

The last line printed is one JSON object with the figures. Nothing here passes or fails.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.alerting.batching import Batcher
from pipeline.alerting.service import AlertService
from pipeline.clients import elasticsearch as es_client
from pipeline.config import load_config
from pipeline.telemetry import total

LEVELS = ["info"] * 8 + ["warn", "error"]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def index_events(es: Any, index: str, count: int) -> float:
    es.indices.create(
        index=index,
        mappings={
            "properties": {
                "@timestamp": {"type": "date"},
                "host": {"properties": {"name": {"type": "keyword"}}},
                "service": {"properties": {"name": {"type": "keyword"}}},
                "log": {"properties": {"level": {"type": "keyword"}}},
                "message": {"type": "text"},
            }
        },
        settings={"number_of_replicas": 0, "refresh_interval": "-1"},
    )
    now = datetime.now(UTC)
    batch = 5000

    def body(start: int) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for i in range(start, min(start + batch, count)):
            stamp = now - timedelta(seconds=(i * 3600 // max(count, 1)))
            ops.append({"index": {"_index": index}})
            ops.append(
                {
                    "@timestamp": stamp.isoformat(),
                    "host": {"name": f"edge-{i % 50:02d}"},
                    "service": {"name": f"svc-{i % 8}"},
                    "log": {"level": LEVELS[i % 10]},
                    "message": f"event {i}",
                }
            )
        return ops

    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda s: es.bulk(operations=body(s)), range(0, count, batch)))
    es.indices.put_settings(index=index, settings={"refresh_interval": "1s"})
    es.indices.refresh(index=index)
    return time.monotonic() - started


def write_rules(folder: Path, index: str, count: int, late: bool = False) -> None:
    for i in range(count):
        field, value = (
            ("host.name", f"edge-{i % 50:02d}") if i % 2 else ("service.name", f"svc-{i % 8}")
        )
        rule = {
            "trigger": {"schedule": {"interval": "1m"}},
            "metadata": {
                "threshold": 50 + i % 100,
                **({"late_data": {"window": "5m"}} if late else {}),
            },
            "input": {
                "search": {
                    "request": {
                        "indices": [index],
                        "body": {
                            "size": 0,
                            "query": {
                                "bool": {
                                    "filter": [
                                        {"term": {field: value}},
                                        {"term": {"log.level": "error"}},
                                        {
                                            "range": {
                                                "@timestamp": {
                                                    "gte": "{{ctx.trigger.scheduled_time}}||-5m"
                                                }
                                            }
                                        },
                                    ]
                                }
                            },
                        },
                    }
                }
            },
            "condition": {
                "compare": {"ctx.payload.hits.total": {"gt": "{{ctx.metadata.threshold}}"}}
            },
            "throttle_period": "1h",
            "actions": {"log": {"logging": {"text": f"{value}: {{{{ctx.payload.hits.total}}}}"}}},
        }
        (folder / f"rule-{i:05d}.json").write_text(json.dumps(rule))


def main() -> None:
    rules = int(os.environ.get("RULES", "1000"))
    events = int(os.environ.get("EVENTS", "1000000"))
    cycles = int(os.environ.get("CYCLES", "2"))
    late = os.environ.get("LATE", "0") not in ("", "0")  # each rule judges late data again
    run_id = uuid.uuid4().hex[:8]
    base = load_config()
    cfg = replace(
        base,
        alert=replace(
            base.alert,
            state_index=f"benchrules-{run_id}-state",
            history_prefix=f"benchrules-{run_id}-history",
            reload_interval_s=30.0,
        ),
        log_level="warning",
    )
    es = es_client.connect(cfg.es).options(request_timeout=120)
    index = f"benchrules-{run_id}-logs"
    say(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    say(f"indexing {events:,} events into {index}")
    took = index_events(es, index, events)
    say(f"  {took:.1f} s ({events / took:,.0f}/s)")

    folder = Path(tempfile.mkdtemp(prefix="benchrules-"))
    write_rules(folder, index, rules, late)
    service = AlertService(cfg, folder, http_port=0)
    searches = [0]
    real = service.services

    def counting_search(request: Any) -> dict[str, Any]:
        searches[0] += 1
        return real.search(request)

    service.services = replace(real, search=counting_search)
    say(
        f"running {rules} rules (1-minute interval{', late_data' if late else ''}) "
        f"for {cycles} cycle(s)"
    )
    runner = threading.Thread(target=service.run)
    cpu0, wall0 = time.process_time(), time.monotonic()
    runner.start()
    # The rules fire on whole minutes: run until `cycles` minute marks have passed.
    now = datetime.now(UTC)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=cycles, seconds=50)
    time.sleep(max(0.0, (end - now).total_seconds()))
    service.stop()
    runner.join(120)
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0

    executions = total(service.metrics.executions)
    history = _history(es, cfg.alert.history_prefix)
    lateness = sorted(h["lateness_ms"] for h in history if h.get("lateness_ms") is not None)
    # Per cycle (one scheduled minute): from the scheduled time to the end of its last
    # execution. All rules of a cycle are due at once, so this is how fast the engine works
    # through a full set.
    spans: dict[str, float] = {}
    counts: dict[str, int] = {}
    for h in history:
        scheduled = h["trigger"]["scheduled_time"]
        end = datetime.fromisoformat(
            h["trigger"]["triggered_time"].replace("Z", "+00:00")
        ) + timedelta(milliseconds=h.get("duration_ms") or 0)
        start = datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
        spans[scheduled] = max(spans.get(scheduled, 0.0), (end - start).total_seconds())
        counts[scheduled] = counts.get(scheduled, 0) + 1
    busy = sum(spans.values())
    if not lateness:
        say("  no execution was recorded: see the log above for why (figures below are empty)")
    p50 = statistics.median(lateness) if lateness else float("nan")
    p99 = lateness[max(0, int(len(lateness) * 0.99) - 1)] if lateness else float("nan")
    requests = real.search.batches if isinstance(real.search, Batcher) else searches[0]
    say(
        f"  {int(executions)} executions in {len(spans)} cycle(s), {searches[0]} searches "
        f"in {requests} request(s); "
        f"cycles took {', '.join(f'{s:.1f} s' for s in spans.values())}"
    )

    for pattern in (f"benchrules-{run_id}-*",):
        names = es.indices.get(index=pattern, allow_no_indices=True)
        if names:
            es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=cfg.alert.history_prefix)

    print(
        json.dumps(
            {
                "rules": rules,
                "events": events,
                "cycles": cycles,
                "late_data": late,
                "executions": int(executions),
                "evaluations_per_s": round(sum(counts.values()) / busy, 1) if busy else None,
                "searches_per_cycle": round(searches[0] / max(cycles, 1)),
                "es_queries_per_cycle": round(requests / max(cycles, 1)),
                "scheduler_cpu_pct": round(100 * cpu / wall, 1),
                "lateness_p50_ms": None if math.isnan(p50) else round(p50),
                "lateness_p99_ms": None if math.isnan(p99) else round(p99),
                "cores": os.cpu_count(),
            }
        )
    )


def _history(es: Any, prefix: str) -> list[dict[str, Any]]:
    es.indices.refresh(index=f"{prefix}-*", allow_no_indices=True)
    found = es.search(
        index=f"{prefix}-*",
        size=10000,
        allow_no_indices=True,
        source_includes=["lateness_ms", "duration_ms", "trigger"],
    )
    return [hit["_source"] for hit in found["hits"]["hits"]]


if __name__ == "__main__":
    main()
