"""Fixtures of the fault suite: the proxies, a per-test `FaultBench`, and the figures table.

Every case works in topics, indices and a consumer group of its own (`unique_name`), talks to
the shared stack only through its own proxies, and cleans up after itself.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from elasticsearch import Elasticsearch

from pipeline.config import Config
from tests.faults.corpus import SMALL_MAX_MESSAGE, Produced, verify
from tests.fixtures.faults import (
    KAFKA_FAULTS_ADVERTISED_PORT,
    KAFKA_FAULTS_PORT,
    ROWS,
    IngestProcess,
    Scale,
    scale,
)
from tests.fixtures.stack import delete_indices
from tests.fixtures.tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def fault_scale() -> Scale:
    return scale()


@pytest.fixture
def kafka_proxy(kafka_admin: AdminClient) -> Iterator[TcpProxy]:
    """The proxy on the broker's fault listener: 127.0.0.1:9096 -> 9095. Everything the
    service under test says to Kafka goes through it (deploy/local/README.md)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", KAFKA_FAULTS_PORT)) != 0:
            pytest.fail(
                f"the local Kafka has no fault listener on 127.0.0.1:{KAFKA_FAULTS_PORT}: it was"
                " started before deploy/local/stack_servers.py had one. Restart it once:"
                " make stack-down stack-up"
            )
    proxy = TcpProxy(("127.0.0.1", KAFKA_FAULTS_PORT), port=KAFKA_FAULTS_ADVERTISED_PORT)
    try:
        yield proxy
    finally:
        proxy.close()


@dataclass
class FaultBench:
    """One case's world: names, clients, proxies, and the processes it started."""

    name: str
    config: Config
    es: Elasticsearch
    admin: AdminClient
    es_proxy: TcpProxy
    kafka_proxy: TcpProxy
    logs: Path
    topics: list[str] = field(default_factory=list)
    processes: list[IngestProcess] = field(default_factory=list)

    def topic(
        self, partitions: int = 3, suffix: str = "", dlq: dict[str, str] | None = None
    ) -> Produced:
        """A fresh topic (and, with `dlq` settings, its dead-letter topic made beforehand)."""
        name = self.name + suffix
        new = [NewTopic(name, num_partitions=partitions)]
        if dlq is not None:
            new.append(NewTopic(f"{name}.dlq", num_partitions=1, config=dlq))
        for future in self.admin.create_topics(new).values():
            future.result(timeout=30)
        self.topics += [name, f"{name}.dlq"]
        return Produced(name)

    def ingest(
        self, produced: Produced, exit_when_idle: float | None = None, **env: Any
    ) -> IngestProcess:
        """An ingest process for `produced.topic`, its settings as EDGEWATCH_INGEST_<KEY>
        (max_message_bytes below the corpus's `oversized` poison unless given)."""
        process = IngestProcess(
            topic=produced.topic,
            prefix=self.name,
            es_url=self.es_proxy.url,
            log_dir=self.logs,
            env={
                f"EDGEWATCH_INGEST_{k.upper()}": str(v)
                for k, v in {"max_message_bytes": SMALL_MAX_MESSAGE, **env}.items()
            },
            exit_when_idle=exit_when_idle,
        )
        self.processes.append(process)
        return process

    def verify(self, produced: Produced) -> Any:
        return verify(self.es, self.config, produced, self.name)

    def close(self) -> None:
        for process in self.processes:
            process.kill()
        self.kafka_proxy.restore()
        self.es_proxy.restore()
        delete_indices(self.es, f"{self.name}-*")
        self.es.options(ignore_status=404).indices.delete_index_template(name=self.name)
        if self.topics:
            for future in self.admin.delete_topics(self.topics).values():
                with contextlib.suppress(KafkaException):  # a .dlq never created
                    future.result(timeout=30)


@pytest.fixture
def bench(
    unique_name: str,
    config: Config,
    es: Elasticsearch,
    kafka_admin: AdminClient,
    es_proxy: TcpProxy,
    kafka_proxy: TcpProxy,
    tmp_path: Path,
) -> Iterator[FaultBench]:
    world = FaultBench(
        unique_name, config, es, kafka_admin, es_proxy, kafka_proxy, tmp_path / "logs"
    )
    try:
        yield world
    finally:
        world.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ROWS:
        terminalreporter.section("fault figures (also in .edgewatch/faults/results.jsonl)")
        for row in ROWS:
            terminalreporter.write_line(row.line())
