"""A failed bulk request must not outlive its attempt (issue 17): with the cyclic GC off, as
good as the service's rare collections, a writer retrying a multi-MB batch against an
Elasticsearch that refuses connections, drops them or answers 503 keeps no garbage and no
memory per attempt.

Before the fix each refused attempt left ~92 objects in reference cycles (elastic-transport's
and urllib3's `err = ...; raise err from e`) holding two copies of the body: 20 attempts with a
4 MB body kept 160 MB until a collection.

Also here, as it is the other way a request fails: a request refused as a whole (413) is
halved until the document to blame is alone, and only that one is dead-lettered.
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace

import pytest

from pipeline.clients.elasticsearch import connect
from pipeline.config import Config
from pipeline.ingest import bulk
from pipeline.ingest.actions import IndexAction, Origin, index_action
from pipeline.ingest.indexer import AbandonedError, Batch, BatchWriter
from pipeline.ingest.metrics import IngestMetrics
from tests.fixtures.http_receiver import HttpReceiver

ATTEMPTS = 20
DOCUMENTS = 800  # of about 5 kB: a 4 MB body


def actions(n: int, size: int = 5000) -> list[IndexAction]:
    return [
        index_action(
            Origin("edge.logs", 0, offset, 0),
            "ew-test-memory",
            b'{"message":"%s"}' % (b"x" * size),
            b"raw",
        )
        for offset in range(n)
    ]


class StopAfter(logging.Handler):
    """Sets `stopping` at the writer's `attempts`-th retry warning: the service stopping."""

    def __init__(self, stopping: threading.Event, attempts: int) -> None:
        super().__init__(logging.WARNING)
        self.stopping = stopping
        self.attempts = attempts
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retry" in record.getMessage():
            self.seen += 1
            if self.seen >= self.attempts:
                self.stopping.set()


@pytest.fixture
def stop_after() -> Iterator[StopAfter]:
    handler = StopAfter(threading.Event(), ATTEMPTS)
    logger = logging.getLogger("edgewatch.ingest")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def writer_for(config: Config, url: str, stopping: threading.Event) -> BatchWriter:
    return BatchWriter(
        connect(replace(config.es, url=url)),
        IngestMetrics(),
        op_type="index",
        backoff=bulk.Backoff(base_s=0.001, cap_s=0.001),
        stopping=stopping,
        request_timeout=5,
    )


def retry_until_stopped(writer: BatchWriter, stop_after: StopAfter) -> tuple[int, int]:
    """Write a 4 MB batch until abandoned; (garbage objects, bytes still allocated)."""
    batch = Batch(actions=actions(DOCUMENTS))
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(AbandonedError):
            writer.write(batch)
        held = tracemalloc.get_traced_memory()[0] - before
        garbage = gc.collect()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert stop_after.seen == ATTEMPTS
    return garbage, held


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connections_leave_nothing_behind(config: Config, stop_after: StopAfter) -> None:
    writer = writer_for(config, f"http://127.0.0.1:{refused_port()}", stop_after.stopping)
    garbage, held = retry_until_stopped(writer, stop_after)
    # Before the fix: ~1840 objects and ~160 MB.
    assert garbage < ATTEMPTS
    assert held < 1_000_000
    assert writer.last_error is not None and "connection" in writer.last_error


def test_dropped_connections_leave_nothing_behind(config: Config, stop_after: StopAfter) -> None:
    """What a proxy in front of a dead node does: accept, then close unanswered."""
    listener = socket.create_server(("127.0.0.1", 0))

    def drop() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=drop, daemon=True).start()
    try:
        writer = writer_for(
            config, f"http://127.0.0.1:{listener.getsockname()[1]}", stop_after.stopping
        )
        garbage, held = retry_until_stopped(writer, stop_after)
    finally:
        listener.close()
    assert garbage < ATTEMPTS  # before the fix: ~1620
    assert held < 1_000_000


@pytest.mark.parametrize("status", [503, 429])
def test_error_answers_leave_nothing_behind(
    config: Config, stop_after: StopAfter, http_receiver: HttpReceiver, status: int
) -> None:
    http_receiver.respond_next(
        status,
        count=ATTEMPTS,
        body=b'{"error":{"root_cause":[{"type":"busy","reason":"busy"}],"type":"busy",'
        b'"reason":"busy"},"status":%d}' % status,
    )
    writer = writer_for(config, http_receiver.url, stop_after.stopping)
    garbage, held = retry_until_stopped(writer, stop_after)
    received = sum(len(r.body) for r in http_receiver.requests)  # the receiver keeps them
    assert len(http_receiver.requests) == ATTEMPTS
    assert garbage < ATTEMPTS
    assert held - received < 1_000_000
    assert writer.last_error is not None and f"{status}" in writer.last_error


def test_a_request_refused_as_a_whole_dead_letters_only_the_document_to_blame(
    config: Config, http_receiver: HttpReceiver
) -> None:
    es_ok = {"X-Elastic-Product": "Elasticsearch"}
    # 4 documents, the first too large: [0-3] 413, [0-1] 413, [0] 413, [1] ok, [2-3] ok.
    http_receiver.respond_next(413, count=3, body=b'{"error":"content too long"}')
    http_receiver.respond_next(200, count=2, body=b'{"errors":false}', headers=es_ok)
    writer = writer_for(config, http_receiver.url, threading.Event())
    parts = actions(4, size=10)
    letters = writer._index(parts)
    assert [(letter.origin.offset, letter.reason) for letter in letters] == [(0, "http_413")]
    assert "content too long" in letters[0].detail
    sizes = [r.body.count(b"\n") // 2 for r in http_receiver.requests]
    assert sizes == [4, 2, 1, 1, 2]
