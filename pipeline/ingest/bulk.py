"""Elasticsearch bulk requests as plain data: build the body, classify the answer. Pure."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from pipeline.ingest.transform import IndexAction


def body(actions: Sequence[IndexAction], op_type: str) -> bytes:
    """The NDJSON body of a bulk request. `op_type` is "index" (dated indices: a replay
    overwrites) or "create" (data streams, which only accept create: a replay gets 409)."""
    parts: list[bytes] = []
    append = parts.append
    for action in actions:
        origin = action.origin
        # The action line is `{"<op>":{"_index":"<index>","_id":"<topic>/<partition>/<offset>"}}`
        # (Origin.doc_id): its head is the same for a whole partition and day, so it is
        # serialised once, and only the offset (digits, nothing to escape) is added per document.
        append(_action_head(op_type, action.index, origin.topic, origin.partition))
        append(b'%d"}}\n' % origin.offset)
        append(action.source)  # serialised once, by transform
        append(b"\n")
    return b"".join(parts)


@lru_cache(maxsize=1024)
def _action_head(op_type: str, index: str, topic: str, partition: int) -> bytes:
    line = orjson.dumps({op_type: {"_index": index, "_id": f"{topic}/{partition}/"}})
    return line[: -len(b'"}}')]  # open at the end of the _id string, where the offset goes


def encoded_size(action: IndexAction) -> int:
    """Roughly what the action adds to a bulk body, for sizing batches by bytes."""
    return len(action.source) + 64 + len(action.index) + len(action.origin.topic)


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
