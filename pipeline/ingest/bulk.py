"""Elasticsearch bulk requests as plain data: build the body, classify the answer, pace the
retries (indexer.py does the sending and the waiting). Pure."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.ingest.runs import Part


def body(parts: Sequence[Part]) -> bytes:
    """The NDJSON body of a bulk request: each part's entry (the action line and document of
    one document, or of a native run's documents), one after the other."""
    return b"".join([part.entry for part in parts])


@dataclass(frozen=True)
class ItemOutcome:
    """How Elasticsearch answered one document of a bulk request."""

    status: int
    ok: bool  # indexed (or already there)
    retry: bool  # worth sending again (429, 5xx)
    reason: str = ""  # ES error type when neither
    detail: str = ""


def classify(items: Sequence[dict[str, Any]], op_type: str) -> list[ItemOutcome]:
    """Per-item outcomes of a bulk response, in request order."""
    out = []
    for item in items:
        result: dict[str, Any] = item.get(op_type) or next(iter(item.values()), {})
        status = int(result.get("status", 0))
        if 200 <= status < 300 or (status == 409 and op_type == "create"):
            out.append(ItemOutcome(status, ok=True, retry=False))
        elif status == 429 or status >= 500 or status == 0:
            out.append(ItemOutcome(status, ok=False, retry=True, reason=_error_type(result)))
        else:
            error = result.get("error") or {}
            detail = error.get("reason", "") if isinstance(error, dict) else str(error)
            caused = error.get("caused_by") if isinstance(error, dict) else None
            if isinstance(caused, dict) and caused.get("reason"):
                detail = f"{detail}: {caused['reason']}"
            out.append(ItemOutcome(status, False, False, _error_type(result), str(detail)))
    return out


def _error_type(result: dict[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, dict) and isinstance(error.get("type"), str):
        return str(error["type"])
    return f"http_{result.get('status', 0)}"


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter (AWS's "full jitter" variant)."""

    base_s: float = 0.2
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        return (rng or random).uniform(0, ceiling)


@dataclass(frozen=True)
class Failure:
    """A failed request as plain data: what the writer keeps instead of the exception,
    whose traceback would hold the request body (indexer.py)."""

    status: int | None  # the HTTP status; None: no answer (refused, reset, timed out)
    text: str

    @property
    def cause(self) -> str:
        """The `cause` label of the retries metric."""
        if self.status == 429:
            return "rejected_429"
        if self.status is not None and self.status >= 500:
            return "server_error"
        return "connection"

    @property
    def refused(self) -> bool:
        """The request itself is refused (4xx but 429): sending it again cannot help."""
        return self.status is not None and 400 <= self.status < 500 and self.status != 429


# While a writer waits longer after a failure without an answer, Elasticsearch is asked
# this often whether it is back.
PROBE_EVERY_S = 2.0


@dataclass(frozen=True)
class Heard:
    """How many times Elasticsearch has answered well: bulk requests and probes. A writer
    notes it before each attempt and, waiting to retry, wakes when it changes."""

    written: int = 0
    answered: int = 0

    def after_success(self, *, probe: bool) -> Heard:
        if probe:
            return Heard(self.written, self.answered + 1)
        return Heard(self.written + 1, self.answered)


def woken(seen: Heard, now: Heard, *, probes: bool) -> bool:
    """Whether a writer that noted `seen` should stop waiting: some bulk request succeeded
    since, or, if probes count for it (not after a 429), a probe did."""
    return now.written != seen.written or (probes and now.answered != seen.answered)


def probe_due(now: float, deadline: float, last_heard: float, probing: bool) -> bool:
    """Whether a writer waiting until `deadline` should start a probe: none under way, the
    wait has more than PROBE_EVERY_S left, and nothing was heard from Elasticsearch for that
    long (`last_heard`: the last success or failure, of any request or probe)."""
    return not probing and deadline - now > PROBE_EVERY_S and now - last_heard >= PROBE_EVERY_S
