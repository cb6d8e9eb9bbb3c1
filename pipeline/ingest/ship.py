"""`edgewatch ship`: produce log files into Kafka the way an edge shipper would.

For demos, replays and benchmarks. Each line is wrapped in the chosen shipper's envelope
(the shapes the native core unwraps) and keyed by host, so a host's lines stay in order
on one partition.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO

import orjson
from confluent_kafka import Producer

from pipeline.ingest.actions import iso


def wrap(line: bytes, envelope: str, host: str, path: str, now: datetime) -> bytes:
    """One line in a shipper's envelope (pure)."""
    if envelope == "raw":
        return line
    text = line.decode("utf-8", "replace")
    if envelope == "filebeat":
        return orjson.dumps(
            {
                "@timestamp": iso(now),
                "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.19.0"},
                "message": text,
                "log": {"file": {"path": path}, "offset": 0},
                "input": {"type": "filestream"},
                "host": {"name": host},
                "agent": {"type": "filebeat", "version": "8.19.0", "name": host},
                "ecs": {"version": "8.0.0"},
            }
        )
    if envelope == "fluentbit":
        return orjson.dumps(
            {"@timestamp": now.timestamp(), "log": text, "hostname": host, "filename": path}
        )
    if envelope == "vector":
        return orjson.dumps(
            {
                "message": text,
                "timestamp": iso(now),
                "host": host,
                "source_type": "file",
                "file": path,
            }
        )
    raise ValueError(f"unknown envelope {envelope!r}")


def lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream, without line endings; blank lines skipped."""
    for raw in stream:
        line = raw.rstrip(b"\r\n")
        if line:
            yield line


def ship(
    producer: Producer,
    topic: str,
    source: Iterable[tuple[str, bytes]],
    envelope: str,
    host: str | None,
    clock: Callable[[], datetime],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Produce (path, line) pairs; return how many were acknowledged by Kafka.

    Raises RuntimeError naming the first delivery failure if any message was not delivered.
    """
    host = host or socket.gethostname()
    failures: list[str] = []
    delivered = 0

    def on_delivery(err: object, _msg: object) -> None:
        nonlocal delivered
        if err is None:
            delivered += 1
        elif not failures:
            failures.append(str(err))

    count = 0
    for path, line in source:
        value = wrap(line, envelope, host, path, clock())
        while True:
            try:
                producer.produce(topic, value=value, key=host.encode(), on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        count += 1
        if count % 1000 == 0:
            producer.poll(0)
            if on_progress:
                on_progress(1000)
    if on_progress and count % 1000:
        on_progress(count % 1000)
    remaining = producer.flush(60)
    if failures or remaining:
        raise RuntimeError(
            f"{count - delivered} of {count} lines not delivered to {topic}: "
            f"{failures[0] if failures else 'timed out waiting for the broker'}"
        )
    return delivered
