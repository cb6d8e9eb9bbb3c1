"""BatchWriter through an Elasticsearch outage, against the real local node behind a TcpProxy:
a writer deep in its backoff resumes within seconds once the node answers again (a probe
every PROBE_EVERY_S ends the wait), and `probe()` itself is cheap and bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import cast
from urllib.parse import urlsplit

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients.elasticsearch import connect
from pipeline.config import Config
from pipeline.ingest import bulk
from pipeline.ingest.actions import Origin, index_action
from pipeline.ingest.bulk import PROBE_EVERY_S
from pipeline.ingest.indexer import PROBE_TIMEOUT_S, Batch, BatchWriter
from pipeline.ingest.metrics import IngestMetrics
from tests.fixtures.secure import SecureStack
from tests.fixtures.stack import delete_indices
from tests.fixtures.tcp_proxy import TcpProxy


class CapBackoff:
    """Always the cap: what a writer deep into an outage waits (retry_backoff_max_s)."""

    def __init__(self, cap_s: float) -> None:
        self.cap_s = cap_s

    def delay(self, attempt: int) -> float:
        return self.cap_s


@pytest.fixture
def proxy(config: Config) -> Iterator[TcpProxy]:
    """A breakable proxy in front of the node the configuration names."""
    where = urlsplit(config.es.url)
    proxy = TcpProxy((where.hostname or "127.0.0.1", where.port or 9200))
    try:
        yield proxy
    finally:
        proxy.close()


def writer_for(config: Config, url: str, stopping: threading.Event, backoff: object) -> BatchWriter:
    return BatchWriter(
        connect(replace(config.es, url=url)),
        IngestMetrics(),
        op_type="index",
        backoff=cast(bulk.Backoff, backoff),
        stopping=stopping,
        request_timeout=10,
    )


def test_a_writer_in_a_30_s_backoff_resumes_within_seconds(
    config: Config, es: Elasticsearch, proxy: TcpProxy, unique_name: str
) -> None:
    stopping = threading.Event()
    writer = writer_for(config, proxy.url, stopping, CapBackoff(30.0))
    batch = Batch(
        actions=[
            index_action(Origin("edge.logs", 0, n, 0), unique_name, b'{"n":%d}' % n, b"raw")
            for n in range(50)
        ]
    )
    proxy.cut()
    done = threading.Event()

    def write() -> None:
        writer.write(batch)
        done.set()

    thread = threading.Thread(target=write, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while writer.last_failure == 0.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert writer.last_error is not None and writer.last_error.startswith("bulk request")
        # Now sleeping 30 s. A probe, PROBE_EVERY_S later, fails too and wakes nobody.
        time.sleep(PROBE_EVERY_S + 1.0)
        assert writer.last_error is not None and writer.last_error.startswith("probe failed")
        assert not done.is_set()

        restored = time.monotonic()
        proxy.restore()
        assert done.wait(PROBE_EVERY_S + PROBE_TIMEOUT_S + 2), "still waiting out its backoff"
        took = time.monotonic() - restored
        es.indices.refresh(index=unique_name)
        assert es.count(index=unique_name)["count"] == 50
    finally:
        stopping.set()
        thread.join(5)
        delete_indices(es, unique_name)
    assert took < 6, f"resumed {took:.1f} s after Elasticsearch came back"
    assert writer.last_success >= restored and writer.last_error is None


def test_probe_answers_and_is_bounded(config: Config, proxy: TcpProxy) -> None:
    writer = writer_for(config, proxy.url, threading.Event(), bulk.Backoff())
    assert writer.probe() is True
    assert writer.last_success > 0.0 and writer.last_failure == 0.0

    proxy.cut()
    assert writer.probe() is False
    assert writer.last_failure > writer.last_success
    assert writer.last_error is not None and "connection" in writer.last_error

    proxy.blackhole()  # accepted, never answered: only the probe's own timeout ends it
    started = time.monotonic()
    assert writer.probe() is False
    assert time.monotonic() - started < PROBE_TIMEOUT_S + 1.0

    proxy.restore()
    assert writer.probe() is True
    assert writer.last_success > writer.last_failure and writer.last_error is None


def test_probe_works_with_the_ingest_roles_privileges(secure_stack: SecureStack) -> None:
    cfg = secure_stack.config(secure_stack.es_env("edgewatch-ingest"))
    writer = BatchWriter(
        connect(cfg.es),
        IngestMetrics(),
        op_type="index",
        backoff=bulk.Backoff(),
        stopping=threading.Event(),
        probe_template="edgewatch-logs",
    )
    assert writer.probe() is True, writer.last_error
