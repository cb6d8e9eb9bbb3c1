"""Many rules' requests as few round trips: their searches as `_msearch`, their claims as one
`_mget` and one `_bulk`.

Rules on the same schedule come due together (a thousand 1-minute rules all fire on the
minute), and each needs one search. A `Batcher` is a drop-in for a one-request service (the
`search` service, a claim): each caller's request waits a few milliseconds in a queue, and one
background thread sends whatever has gathered in one batch, then hands every caller its own
response (or its own error). Nothing about a rule changes: only the number of round trips does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Request = TypeVar("Request")
Response = TypeVar("Response")
# One response per request, in order: the response, or the exception for that request alone.
SendBatch = Callable[[list[Request]], list[Response | Exception]]


class Batcher(Generic[Request, Response]):
    """Coalesces concurrent `batcher(request)` calls into batches for `send`."""

    def __init__(
        self,
        send: SendBatch[Request, Response],
        max_batch: int = 200,
        linger_s: float = 0.01,
        name: str = "batcher",
    ) -> None:
        self._send = send
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._queue: queue.Queue[tuple[Request, Future[Response]] | None] = queue.Queue()
        self.batches = 0  # how many batches were sent (for the benchmark)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def __call__(self, request: Request) -> Response:
        future: Future[Response] = Future()
        self._queue.put((request, future))
        return future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # Wait a moment for the other rules of this tick, then take all that came.
            deadline = threading.Event()
            deadline.wait(self._linger_s)
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            self._dispatch(batch)

    def _dispatch(self, batch: list[tuple[Request, Future[Response]]]) -> None:
        self.batches += 1
        try:
            results = self._send([request for request, _ in batch])
        except Exception as err:  # the whole request failed: every caller gets the error
            for _, future in batch:
                future.set_exception(err)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
