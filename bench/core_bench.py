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
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_bench import (
    ENVELOPES,
    core_intake,
    mixed_values,
    polls_of,
    rate,
    sample_lines,
    say,
)
from pipeline.config import TopicConfig, load_config
from pipeline.ingest.ship import wrap

TOPIC = "bench-core"


def main() -> None:
    config = load_config()
    intake = core_intake(config.ingest, TOPIC, TopicConfig())
    runs = int(os.environ.get("RUNS", "5"))
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    samples = sample_lines()

    figures: dict[str, dict[str, float]] = {}
    rows = [("mixed", "all", polls_of(TOPIC, mixed_values(samples, 30_000), 30_000, now_ms))]
    for envelope in sorted(set(ENVELOPES)):
        for fmt, lines in samples.items():
            values = [(b"edge-1", wrap(line, envelope, "edge-1", "/x", now)) for line in lines]
            rows.append((fmt, envelope, polls_of(TOPIC, values, 10_000, now_ms)))
    say(f"{'format':<14} {'envelope':<10} {'best ev/s':>12} {'median ev/s':>12}")
    for fmt, envelope, polls in rows:
        best, median = rate(intake, polls, runs)
        figures[f"{fmt}/{envelope}"] = {"best": round(best), "median": round(median)}
        say(f"{fmt:<14} {envelope:<10} {best:>12,.0f} {median:>12,.0f}")
    print(json.dumps({"machine": platform.processor() or platform.machine(), "figures": figures}))


if __name__ == "__main__":
    main()
