"""A batch's parts as the indexer sends them: runs from the native core, single actions.

The native core transforms a whole poll in one call (`_native.Intake.take`) and hands back a
run: the documents it built, their bulk entries already back to back. A single
`IndexAction` (a run's document on its own, or one a test or tool made) is a part too. Both
kinds have `.entry`, their piece of the bulk body, so a request is one join either way.

Only when Elasticsearch answers a request with errors must its documents be told apart:
`expand` then turns each run back into one `IndexAction` per document, in request order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

import orjson

from pipeline.ingest.actions import IndexAction, origin_of

if TYPE_CHECKING:
    from pipeline.ingest._native import Run

Part = Union[IndexAction, "Run"]


def expand(parts: Sequence[Part]) -> list[IndexAction]:
    """One action per document, in the order the parts' entries are sent."""
    out: list[IndexAction] = []
    for part in parts:
        if isinstance(part, IndexAction):
            out.append(part)
            continue
        for message, entry in part.documents():
            index = next(iter(orjson.loads(entry[: entry.index(b"\n")]).values()))["_index"]
            out.append(IndexAction(origin_of(message), index, entry, message.value()))
    return out


def per_topic(parts: Sequence[Part]) -> Counter[str]:
    """Documents per topic."""
    counts: Counter[str] = Counter()
    actions = []
    for part in parts:
        if isinstance(part, IndexAction):
            actions.append(part.origin.topic)
        else:
            counts.update(part.counts())
    counts.update(actions)
    return counts
