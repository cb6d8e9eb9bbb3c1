"""Write one batch's documents into Elasticsearch durably; return its dead letters.

`BatchWriter.write` returns only when every document of the batch is acknowledged by
Elasticsearch or refused for good (then it becomes a dead letter), retrying with capped,
jittered backoff for as long as it takes (the caller pauses consumption meanwhile). The dead
letters are not written here: they leave with the batch's offsets, in one Kafka transaction
(committer.py). It gives up only when the service is stopping, by raising `AbandonedError`: the
batch's offsets are then never committed, and the messages are read again by whoever consumes
the partitions next.

Two things shape the retry loop:

- Memory. A failed request leaves reference cycles behind: elastic-transport and urllib3 keep
  the exception they raise in a local of a frame that the exception's own traceback holds
  (`err = ConnectionError(...); raise err from e`), and those frames hold the request body,
  twice (ours and the transport's serialised copy). Only the cyclic collector frees that, and
  the service tunes it to run rarely, so an outage cost two bodies per retry (issue 17). So a
  failure becomes plain data where it is caught (`bulk.Failure`), and `release` clears the
  frames of the exception chain before the except block ends: the body goes with the attempt.
- Resuming. After an outage, a writer may be sleeping up to `retry_backoff_max_s` while
  Elasticsearch answers again. Every success (any writer's request, or a probe) therefore wakes
  all writers waiting to retry, which start again from attempt 0; and while a writer would
  sleep on for more than bulk.PROBE_EVERY_S after a failure other than a 429, one probe at a
  time asks Elasticsearch, in the background, whether it is back.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.ingest import bulk
from pipeline.ingest.actions import DeadLetter, IndexAction
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.runs import Part, expand, per_topic

if TYPE_CHECKING:
    from pipeline.ingest._native import Run

log = logging.getLogger("edgewatch.ingest")

__all__ = ["AbandonedError", "Batch", "BatchWriter"]

STOP_POLL_S = 0.1  # a writer waiting to retry notices `stopping` this soon
PROBE_TIMEOUT_S = 2.0  # the request timeout of a probe
# Probed when no template is named: missing, but Elasticsearch's 404 is an answer too.
PROBE_FALLBACK_TEMPLATE = "edgewatch-probe"


class AbandonedError(Exception):
    """The service is stopping; the batch was not entirely written. Its offsets are never
    committed: whoever reads the partition next reads it again."""


@dataclass
class Batch:
    """Consecutive messages of one consumer, written together."""

    runs: list[Run] = field(default_factory=list)  # documents the native core built
    actions: list[IndexAction] = field(default_factory=list)  # single ones (tests, tools)
    letters: list[DeadLetter] = field(default_factory=list)
    last_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    # The Kafka timestamp (ms) of each partition's last message, for the status document.
    last_times: dict[tuple[str, int], int] = field(default_factory=dict)
    size_bytes: int = 0
    run_documents: int = 0
    started: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return self.run_documents + len(self.actions) + len(self.letters)

    def add_run(self, run: Run) -> None:
        """Add the documents of one native run."""
        self.runs.append(run)
        self.run_documents += len(run)
        self.size_bytes += len(run.entry)

    def parts(self) -> list[Part]:
        """What the bulk requests carry, runs first."""
        return [*self.runs, *self.actions]


class BatchWriter:
    """Sends batches; safe to call from several worker threads at once.

    `last_error`, `last_success` and `last_failure` (time.monotonic(), 0.0 for never) say how
    the last bulk request or probe went, for /readyz; `probe()` asks Elasticsearch directly.
    """

    def __init__(
        self,
        es: Elasticsearch,
        metrics: IngestMetrics,
        *,
        op_type: str,
        backoff: bulk.Backoff,
        stopping: threading.Event,
        request_timeout: float = 60.0,
        probe_template: str | None = None,
    ) -> None:
        self._es = es.options(request_timeout=request_timeout, max_retries=0)
        self._probe_es = es.options(request_timeout=PROBE_TIMEOUT_S, max_retries=0)
        self._probe_template = probe_template or PROBE_FALLBACK_TEMPLATE
        self._metrics = metrics
        self._op_type = op_type
        self._backoff = backoff
        self._stopping = stopping
        # Everything below is shared by the writer threads, the probe and /readyz.
        self._cond = threading.Condition()
        self._heard = bulk.Heard()
        self._probing = False  # a background probe is under way
        self._last_error: str | None = None
        self._last_success = 0.0
        self._last_failure = 0.0

    @property
    def last_error(self) -> str | None:
        """What went wrong last (a bulk request, a probe); None after a success."""
        with self._cond:
            return self._last_error

    @property
    def last_success(self) -> float:
        """time.monotonic() of the last successful bulk request or probe; 0.0: never."""
        with self._cond:
            return self._last_success

    @property
    def last_failure(self) -> float:
        """time.monotonic() of the last failed bulk request or probe; 0.0: never."""
        with self._cond:
            return self._last_failure

    def write(self, batch: Batch) -> list[DeadLetter]:
        """Index the batch's documents; the batch's dead letters (those it came with, then
        the documents Elasticsearch refused for good). See the module doc."""
        return [*batch.letters, *self._index(batch.parts())]

    def probe(self) -> bool:
        """Whether Elasticsearch answers one cheap request (HEAD of the index template; a
        missing template is an answer too), within PROBE_TIMEOUT_S. A yes wakes the writers
        waiting to retry after an outage. Updates last_success / last_failure / last_error."""
        try:
            self._probe_es.indices.exists_index_template(name=self._probe_template)
        except (ApiError, TransportError) as err:
            failure = failure_of(err)
            release(err)
        else:
            self._succeeded(probe=True)
            return True
        log.debug("elasticsearch probe failed (%s): %s", failure.cause, failure.text)
        self._failed(f"probe failed ({failure.cause}): {failure.text}")
        return False

    # ------------------------------------------------------------------ Elasticsearch

    def _index(self, parts: Sequence[Part]) -> list[DeadLetter]:
        pending = parts
        rejected: list[DeadLetter] = []
        attempt = 0
        while pending:
            seen = self._seen()
            started = time.monotonic()
            answer = self._send(pending)
            if isinstance(answer, bulk.Failure):
                if answer.refused:
                    # The request as a whole is refused (e.g. 413, too large): halve it until
                    # the one document to blame is alone, and dead-letter only that one.
                    return rejected + self._split(pending, answer)
                problem = f"bulk request failed ({answer.cause}): {answer.text}"
                attempt = self._retry(attempt, seen, problem, answer.cause)
                continue
            self._metrics.bulk_seconds.observe(time.monotonic() - started)
            if not answer["errors"]:  # the common case: skip looking at every item
                self._count_indexed(pending)
                self._succeeded()
                return rejected
            # Some documents failed: from here on, each is handled on its own.
            actions = expand(pending)
            outcomes = bulk.classify(answer["items"], self._op_type)
            retry: list[IndexAction] = []
            self._count_indexed([a for a, o in zip(actions, outcomes, strict=True) if o.ok])
            for action, outcome in zip(actions, outcomes, strict=True):
                if outcome.ok:
                    continue
                if outcome.retry:
                    retry.append(action)
                else:
                    rejected.append(
                        DeadLetter(
                            action.origin,
                            action.value,
                            "index",
                            outcome.reason,
                            f"HTTP {outcome.status}: {outcome.detail}",
                        )
                    )
            if retry:
                status = {o.status for o in outcomes if o.retry}
                attempt = self._retry(
                    attempt,
                    seen,
                    f"{len(retry)} documents answered {sorted(status)}",
                    "rejected_429" if status == {429} else "server_error",
                )
            else:
                self._succeeded()
            pending = retry
        return rejected

    def _send(self, parts: Sequence[Part]) -> dict[str, Any] | bulk.Failure:
        """One bulk request: the answer, or what went wrong as plain text (see release)."""
        try:
            answer: dict[str, Any] = self._es.bulk(
                operations=bulk.body(parts),  # type: ignore[arg-type]
                # Successful items then carry only their status: a much smaller answer to
                # decode for every batch.
                filter_path="errors,items.*.status,items.*.error",
            ).body
            return answer
        except (ApiError, TransportError) as err:
            failure = failure_of(err)
            release(err)
        return failure

    def _count_indexed(self, parts: Sequence[Part]) -> None:
        for topic, n in per_topic(parts).items():
            self._metrics.indexed.labels(topic).inc(n)

    def _split(self, parts: Sequence[Part], failure: bulk.Failure) -> list[DeadLetter]:
        actions = expand(parts)
        if len(actions) == 1:
            action = actions[0]
            reason = f"http_{failure.status}"
            return [DeadLetter(action.origin, action.value, "index", reason, failure.text[:500])]
        middle = len(actions) // 2
        return self._index(actions[:middle]) + self._index(actions[middle:])

    def _retry(self, attempt: int, seen: bulk.Heard, problem: str, cause: str) -> int:
        """Wait before retrying a failed bulk request; the next attempt's number: 0 when a
        success elsewhere (or a probe, after an outage) ended the wait early."""
        self._failed(problem)
        self._metrics.retries.labels(cause).inc()
        delay = self._backoff.delay(attempt)
        log.warning("elasticsearch: %s; retry %d in %.1f s", problem, attempt + 1, delay)
        # A 429 is Elasticsearch asking for less: a probe's answer says nothing new then.
        if self._sleep(delay, seen, problem, probes=cause != "rejected_429"):
            log.info("elasticsearch: answering again; retrying at once")
            return 0
        return attempt + 1

    def _sleep(self, delay: float, seen: bulk.Heard, problem: str, *, probes: bool) -> bool:
        """Sleep `delay` seconds; True as soon as `bulk.woken(seen, ...)`. While much of the sleep
        is left, a probe runs in the background every bulk.PROBE_EVERY_S. Raises AbandonedError
        within STOP_POLL_S of `stopping` being set."""
        deadline = time.monotonic() + delay
        with self._cond:
            while not bulk.woken(seen, self._heard, probes=probes):
                if self._stopping.is_set():
                    raise AbandonedError(problem)
                now = time.monotonic()
                if now >= deadline:
                    return False
                heard = max(self._last_success, self._last_failure)
                if probes and bulk.probe_due(now, deadline, heard, self._probing):
                    self._probing = True
                    threading.Thread(target=self._probe_once, name="es-probe", daemon=True).start()
                self._cond.wait(min(deadline - now, STOP_POLL_S))
        return True

    def _probe_once(self) -> None:
        try:
            self.probe()
        finally:
            with self._cond:
                self._probing = False

    def _seen(self) -> bulk.Heard:
        with self._cond:
            return self._heard

    def _succeeded(self, *, probe: bool = False) -> None:
        with self._cond:
            self._last_success = time.monotonic()
            self._last_error = None
            self._heard = self._heard.after_success(probe=probe)
            self._cond.notify_all()

    def _failed(self, problem: str) -> None:
        with self._cond:
            self._last_failure = time.monotonic()
            self._last_error = problem


def failure_of(err: ApiError | TransportError) -> bulk.Failure:
    """What went wrong, as plain data; call `release(err)` next."""
    if isinstance(err, ApiError):
        return bulk.Failure(err.meta.status, str(err)[:1000])
    # elastic-transport's str() of a refused connection is only "Connection error" (it names
    # the cause only after retries of its own); the message says what happened.
    text, detail = str(err), str(err.message)
    return bulk.Failure(None, (text if detail in text else f"{text}: {detail}")[:1000])


def release(err: BaseException) -> None:
    """Clear the frames in the tracebacks of `err` and the exceptions behind it (cause,
    context, elastic-transport's `errors`), and drop the tracebacks: what those frames held
    (the request body) is freed when the exception is, without waiting for the cyclic GC.
    Frames still running (the caller's) are left alone by traceback.clear_frames."""
    done: set[int] = set()
    todo = [err]
    while todo:
        exc = todo.pop()
        if id(exc) in done:
            continue
        done.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc.__traceback__ = None
        behind = (exc.__cause__, exc.__context__, *getattr(exc, "errors", ()))
        todo.extend(e for e in behind if isinstance(e, BaseException))
