"""Concurrent searches coalesce into batches; each caller gets its own answer or error."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from pipeline.alerting.batching import Batcher


def test_concurrent_requests_share_batches_and_get_their_own_results() -> None:
    sent: list[int] = []

    def send(requests: list[Mapping[str, Any]]) -> list[dict[str, Any] | Exception]:
        sent.append(len(requests))
        return [
            ValueError(f"bad {r['n']}") if r["n"] == 7 else {"n": r["n"] * 10} for r in requests
        ]

    searcher = Batcher(send, max_batch=50, linger_s=0.05)
    results: dict[int, object] = {}

    def ask(n: int) -> None:
        try:
            results[n] = searcher({"n": n})
        except ValueError as err:
            results[n] = str(err)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    searcher.close()
    assert results[3] == {"n": 30}
    assert results[7] == "bad 7"  # one request's error reaches only its caller
    assert sum(sent) == 20
    assert len(sent) < 20  # batched: fewer round trips than requests


def test_a_failed_batch_fails_every_caller_in_it() -> None:
    def send(requests: list[Mapping[str, Any]]) -> list[dict[str, Any] | Exception]:
        raise ConnectionError("elasticsearch down")

    searcher = Batcher(send, linger_s=0.0)
    with pytest.raises(ConnectionError, match="down"):
        searcher({"n": 1})
    searcher.close()
