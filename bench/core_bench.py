"""The ingest core alone: events per CPU-second, per format, per envelope and mixed.

    make bench-core

No Kafka, no Elasticsearch: the messages are built in memory (confluent-kafka's own
`Message` objects) and handed to the core as the service does, one call per poll of 500,
dead letters and counts included. What it measures is the core plus its one boundary
crossing per poll, on one core. Nothing passes or fails; the last line printed is one JSON
object with the figures.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Message

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_bench import ENVELOPES, mixed_values, sample_lines, say
from pipeline.config import TopicConfig, load_config
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import Transformer

POLL = 500
TOPIC = "bench-core"


def messages(values: list[tuple[bytes, bytes]], now_ms: int) -> list[Message]:
    """confluent-kafka messages as a consumer hands them over."""
    return [
        Message(
            topic=TOPIC,
            partition=0,
            offset=i,
            key=key,
            value=value,
            timestamp=(1, now_ms),
        )
        for i, (key, value) in enumerate(values)
    ]


def rate(intake: object, polls: list[list[Message]], runs: int) -> tuple[float, float]:
    """(best, median) events per CPU-second over `runs` passes of `polls`."""
    ingested = "2026-01-01T00:00:00.000000Z"
    rates = []
    events = sum(len(p) for p in polls)
    for _ in range(runs):
        started = time.process_time()
        for poll in polls:
            start = 0
            while start < len(poll):
                offsets: dict[object, int] = {}
                _, _, _, start, _ = intake.take(  # type: ignore[attr-defined]
                    poll, start, ingested, 1 << 20, 1 << 62, offsets, {}, {}
                )
        rates.append(events / (time.process_time() - started))
    return max(rates), statistics.median(rates)


def main() -> None:
    config = load_config()
    route = Transformer(config.ingest, TopicConfig())
    if route.native is None:
        sys.exit("the native core is not built: run make venv")
    from pipeline.ingest import _native  # type: ignore[attr-defined]

    intake = _native.Intake()
    intake.route(TOPIC, route.native)
    runs = int(os.environ.get("RUNS", "5"))
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    samples = sample_lines()

    def polls_of(values: list[tuple[bytes, bytes]], count: int) -> list[list[Message]]:
        values = (values * (count // max(1, len(values)) + 1))[:count]
        msgs = messages(values, now_ms)
        return [msgs[i : i + POLL] for i in range(0, len(msgs), POLL)]

    figures: dict[str, dict[str, float]] = {}
    rows = [("mixed", "all", polls_of(mixed_values(samples, 30_000), 30_000))]
    for envelope in sorted(set(ENVELOPES)):
        for fmt, lines in samples.items():
            values = [(b"edge-1", wrap(line, envelope, "edge-1", "/x", now)) for line in lines]
            rows.append((fmt, envelope, polls_of(values, 10_000)))
    say(f"{'format':<14} {'envelope':<10} {'best ev/s':>12} {'median ev/s':>12}")
    for fmt, envelope, polls in rows:
        best, median = rate(intake, polls, runs)
        figures[f"{fmt}/{envelope}"] = {"best": round(best), "median": round(median)}
        say(f"{fmt:<14} {envelope:<10} {best:>12,.0f} {median:>12,.0f}")
    print(json.dumps({"machine": platform.processor() or platform.machine(), "figures": figures}))


if __name__ == "__main__":
    main()
