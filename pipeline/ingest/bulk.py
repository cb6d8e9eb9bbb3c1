"""Elasticsearch bulk requests as plain data: build the body, classify the answer. Pure."""

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
