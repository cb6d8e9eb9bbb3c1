"""The open batch and the batches being written.

The main loop fills one open batch; `submit` hands it to a pool of `bulk_concurrency` writer
threads (indexer.BatchWriter) and opens the next. Batches may finish out of order; the commit
tracker (offsets.py) releases their offsets strictly in submission order, so what is committed
was always written, together with everything before it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor

from pipeline.config import IngestConfig
from pipeline.ingest.actions import DeadLetter
from pipeline.ingest.indexer import AbandonedError, Batch, BatchWriter
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.offsets import CommitTracker

log = logging.getLogger("edgewatch.ingest")

# Once abandoned, writers let go within this long (a request under way may not: its batch is
# then left to finish or fail on its own, and is never committed either way).
ABANDON_WAIT_S = 5.0


class InFlight:
    """The open batch, the writers' futures and the commit tracker. Main thread only."""

    def __init__(
        self,
        settings: IngestConfig,
        writer: BatchWriter,
        metrics: IngestMetrics,
        tracker: CommitTracker,
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.metrics = metrics
        self.tracker = tracker
        self.open = Batch()
        self._futures: deque[tuple[int, Future[list[DeadLetter]]]] = deque()
        self._pool = ThreadPoolExecutor(
            max_workers=settings.bulk_concurrency, thread_name_prefix="bulk"
        )

    def __len__(self) -> int:
        """Batches being written."""
        return len(self._futures)

    def full(self) -> bool:
        """Every writer is busy."""
        return len(self._futures) >= self.settings.bulk_concurrency

    def complete(self) -> bool:
        """The open batch has reached its size limit (documents or bytes)."""
        batch = self.open
        return (
            len(batch) >= self.settings.bulk_max_docs
            or batch.size_bytes >= self.settings.bulk_max_bytes
        )

    def lingered(self, now: float) -> bool:
        """The open batch's first message has waited `linger_ms`."""
        return bool(self.open) and now - self.open.started >= self.settings.linger_ms / 1000

    def submit(self) -> None:
        """Hand the open batch to a writer and open the next."""
        batch, self.open = self.open, Batch()
        self.metrics.batch_size.observe(len(batch))
        batch_id = self.tracker.open(batch.last_offsets, batch.last_times)
        self._futures.append((batch_id, self._pool.submit(self.writer.write, batch)))
        self.metrics.in_flight.set(len(self._futures))

    def reap(self, wait: float = 0.0) -> None:
        """Release finished batches to the commit tracker (they may finish out of order);
        `wait`: block up to this long for one to finish first."""
        if wait and self._futures:
            futures.wait([f for _, f in self._futures], wait, futures.FIRST_COMPLETED)
        for batch_id, future in list(self._futures):
            if future.done():
                self._futures.remove((batch_id, future))
                error = future.exception()
                if isinstance(error, AbandonedError):
                    continue  # never committed: read again after restart or rebalance
                if error is not None:
                    raise error
                self.tracker.done(batch_id, future.result())
        self.metrics.in_flight.set(len(self._futures))

    def drain(self, timeout: float, abandon: threading.Event, *, for_good: bool) -> None:
        """Write the open batch and wait (bounded) for everything in flight. What is still
        unwritten after `timeout` is abandoned (never committed, read again later): the
        writers see `abandon` set, for good when the service stops, else (a rebalance) only
        until they have let go, so later batches go on."""
        if self.open:
            self.submit()
        deadline = time.monotonic() + timeout
        while self._futures and time.monotonic() < deadline:
            self.reap(wait=0.2)
        if not self._futures:
            return
        log.warning(
            "%d batches still unwritten after %.0f s; abandoning them (they will be read again)",
            len(self._futures),
            timeout,
        )
        abandon.set()
        deadline = time.monotonic() + ABANDON_WAIT_S
        for batch_id, future in list(self._futures):
            try:
                letters = future.result(timeout=max(0.0, deadline - time.monotonic()))
                self.tracker.done(batch_id, letters)
            except Exception:  # AbandonedError, or the request timing out
                pass
        self._futures.clear()
        self.metrics.in_flight.set(0)
        if not for_good:
            abandon.clear()

    def shutdown(self) -> None:
        """Stop the writer threads without waiting (what is left is abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
