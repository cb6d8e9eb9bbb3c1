"""Fencing: each evaluation of a rule (one rule, one scheduled time) is claimed once.

Several `edgewatch alert` processes share the rules (issue 21, docs/plans/alert-ha.md). During
a hand-over two of them may both believe they own a rule, so before a scheduled run a member
claims it in Elasticsearch and runs only what it won. One document per rule,
`claim:<rule_id>` in the state index, holds the newest scheduled time claimed and by whom; a
claim wins when that time is older than its own and the write, conditional on the document's
`_seq_no`/`_primary_term` (create-only when there is none), goes through. So two members
claiming the same evaluation get one win between them, whichever order they come in, and a
member that was frozen cannot run an evaluation another has already run.

Claims of rules due together travel as one `_mget` and one `_bulk` (`ClaimStore.claim_many`,
behind a `batching.Batcher`); a write that lost a race is decided again from the document
that won it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.alerting.engine.java.dates import DateMathError, as_utc, format_date, parse_date

# A conflicting write means another member wrote the document in between; the claim is then
# decided again from what it wrote. Past this many rounds something is wrong: an error.
_ROUNDS = 5


@dataclass(frozen=True)
class Claim:
    """One evaluation a member wants to run: the rule, its scheduled time, the member."""

    rule_id: str
    scheduled_time: datetime
    member: str


def claim_id(rule_id: str) -> str:
    """The id of a rule's claim document in the state index."""
    return f"claim:{rule_id}"


def wins(stored: Mapping[str, Any] | None, claim: Claim) -> bool:
    """Whether `claim` may take the rule, given its claim document's source (None: none yet):
    only a scheduled time newer than the newest claimed one. A document whose time cannot be
    read is taken over, so that a damaged document never stops a rule for good."""
    if not stored:
        return True
    try:
        claimed = parse_date(str(stored.get("scheduled_time")))
    except DateMathError:
        return True
    return as_utc(claim.scheduled_time) > claimed


def document(claim: Claim) -> dict[str, Any]:
    """The claim document `claim` writes when it wins."""
    return {
        "rule_id": claim.rule_id,
        "scheduled_time": format_date(claim.scheduled_time),
        "member": claim.member,
        "updated": datetime.now(UTC).isoformat(),
    }


class ClaimStore:
    """Adapter: claims in the state index (`RuleStore.install` creates it)."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def claim(self, claim: Claim) -> bool:
        """Claim one evaluation; True if this member won it."""
        (result,) = self.claim_many([claim])
        if isinstance(result, Exception):
            raise result
        return result

    def claim_many(self, claims: Sequence[Claim]) -> list[bool | Exception]:
        """Claim several evaluations at once; for each, won (True), lost (False) or the error
        of that claim alone. Claims of one rule are decided in the order given."""
        results: list[bool | Exception | None] = [None] * len(claims)
        pending = list(range(len(claims)))
        for _ in range(_ROUNDS):
            if not pending:
                break
            # A rule appears once per round: its document can take one conditional write.
            this_round: dict[str, int] = {}
            later: list[int] = []
            for index in pending:
                rule_id = claims[index].rule_id
                if rule_id in this_round:
                    later.append(index)
                else:
                    this_round[rule_id] = index
            retry = self._round([(index, claims[index]) for index in this_round.values()])
            for index, outcome in retry.items():
                results[index] = outcome
            pending = sorted([i for i, o in retry.items() if o is None] + later)
        for index in pending:
            results[index] = RuntimeError(
                f"rule {claims[index].rule_id}: its claim kept changing while claiming it"
            )
        return [False if result is None else result for result in results]

    def _round(self, batch: list[tuple[int, Claim]]) -> dict[int, bool | Exception | None]:
        """One `_mget` and one `_bulk`; None for a claim whose write met another's."""
        found = self.es.mget(index=self.index, ids=[claim_id(c.rule_id) for _, c in batch])
        outcome: dict[int, bool | Exception | None] = {}
        operations: list[dict[str, Any]] = []
        writing: list[tuple[int, Claim]] = []
        for (index, claim), doc in zip(batch, found["docs"], strict=True):
            if "error" in doc:
                outcome[index] = RuntimeError(f"claim of {claim.rule_id}: {doc['error']}")
                continue
            source = doc.get("_source") if doc.get("found") else None
            if not wins(source, claim):
                outcome[index] = False
                continue
            action: dict[str, Any] = {"_index": self.index, "_id": claim_id(claim.rule_id)}
            if source is None:
                operations.append({"create": action})
            else:
                action.update(if_seq_no=doc["_seq_no"], if_primary_term=doc["_primary_term"])
                operations.append({"index": action})
            operations.append(document(claim))
            writing.append((index, claim))
        if operations:
            answer = self.es.bulk(operations=operations)
            for (index, claim), item in zip(writing, answer["items"], strict=True):
                ((_, result),) = item.items()
                status = int(result.get("status", 500))
                if status in (200, 201):
                    outcome[index] = True
                elif status == 409:
                    outcome[index] = None
                else:
                    outcome[index] = RuntimeError(
                        f"claim of {claim.rule_id}: {result.get('error')}"
                    )
        return outcome
