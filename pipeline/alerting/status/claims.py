"""Fencing: each evaluation of a rule (one rule, one scheduled time) is claimed once.

Several `edgewatch alert` processes share the rules (issue 21, docs/plans/alert-ha.md). During
a hand-over two of them may both believe they own a rule, so before a scheduled run a member
claims it in Elasticsearch and runs only what it won. One document per rule,
`claim:<rule_id>` in the state index, holds the newest scheduled time claimed and by whom; a
claim wins when that time is older than its own and the write, conditional on the document's
`_seq_no`/`_primary_term` (create-only when there is none), goes through. So two members
claiming the same evaluation get one win between them, whichever order they come in, and a
member that was frozen cannot run an evaluation another has already run.

A member that dies between its claim and the end of the run would leave the evaluation
claimed but never run. So a claim is finished (`done`) once the run is recorded, and a claim
of the same scheduled time takes over one that is not done and older than the lease: its
claimant is presumed dead, and the evaluation runs again (the lease must exceed the longest
run, `alert.execution_timeout_s`, or a slow live run would be run twice).

Claims of rules due together travel as one `_mget` and one `_bulk` (`ClaimStore.claim_many`,
behind a `batching.Batcher`); a write that lost a race is decided again from the document
that won it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from elasticsearch import ConflictError, Elasticsearch

from pipeline.alerting.engine.java.dates import DateMathError, as_utc, format_date, parse_date

# What a round decided besides a ticket or an error.
LOST: Final = "lost"
RETRY: Final = "retry"
# A conflicting write means another member wrote the document in between; the claim is then
# decided again from what it wrote. Past this many rounds something is wrong: an error.
_ROUNDS = 5


@dataclass(frozen=True)
class Claim:
    """One evaluation a member wants to run: the rule, its scheduled time, the member."""

    rule_id: str
    scheduled_time: datetime
    member: str


@dataclass(frozen=True)
class Ticket:
    """A won claim: what `finish` needs to mark it done, if nobody took it over meanwhile."""

    claim: Claim
    seq_no: int
    primary_term: int


def claim_id(rule_id: str) -> str:
    """The id of a rule's claim document in the state index."""
    return f"claim:{rule_id}"


def wins(stored: Mapping[str, Any] | None, claim: Claim, now: datetime, lease: timedelta) -> bool:
    """Whether `claim` may take the rule at `now`, given its claim document's source (None:
    none yet): a scheduled time newer than the newest claimed one, or the same one when that
    claim is not done and older than `lease` (its member is presumed dead). A document that
    cannot be read is taken over, so that a damaged document never stops a rule for good."""
    if not stored:
        return True
    try:
        claimed = parse_date(str(stored.get("scheduled_time")))
        claimed_at = parse_date(str(stored.get("claimed_at")))
    except DateMathError:
        return True
    mine = as_utc(claim.scheduled_time)
    if mine != claimed:
        return mine > claimed
    return not stored.get("done") and as_utc(now) - claimed_at > lease


def document(claim: Claim, now: datetime, done: bool = False) -> dict[str, Any]:
    """The claim document `claim` writes when it wins at `now` (and when it is done)."""
    return {
        "rule_id": claim.rule_id,
        "scheduled_time": format_date(claim.scheduled_time),
        "member": claim.member,
        "claimed_at": format_date(now),
        "done": done,
    }


class ClaimStore:
    """Adapter: claims in the state index (`RuleStore.install` creates it)."""

    def __init__(self, es: Elasticsearch, index: str, lease: timedelta) -> None:
        self.es = es
        self.index = index
        self.lease = lease

    def claim(self, claim: Claim) -> Ticket | None:
        """Claim one evaluation; its ticket if this member won it, else None."""
        (result,) = self.claim_many([claim])
        if isinstance(result, Exception):
            raise result
        return result

    def finish(self, ticket: Ticket) -> bool:
        """Mark a won claim done (its run is recorded); False if another member took it over
        meanwhile (this run outlived the lease)."""
        try:
            self.es.index(
                index=self.index,
                id=claim_id(ticket.claim.rule_id),
                document=document(ticket.claim, datetime.now(UTC), done=True),
                if_seq_no=ticket.seq_no,
                if_primary_term=ticket.primary_term,
            )
        except ConflictError:
            return False
        return True

    def claim_many(self, claims: Sequence[Claim]) -> list[Ticket | Exception | None]:
        """Claim several evaluations at once; for each, a ticket (won), None (lost) or the
        error of that claim alone. Claims of one rule are decided in the order given."""
        results: list[Ticket | Exception | None] = [None] * len(claims)
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
                results[index] = None if isinstance(outcome, str) else outcome
            pending = sorted([i for i, o in retry.items() if o is RETRY] + later)
        for index in pending:
            results[index] = RuntimeError(
                f"rule {claims[index].rule_id}: its claim kept changing while claiming it"
            )
        return results

    def _round(self, batch: list[tuple[int, Claim]]) -> dict[int, Ticket | Exception | str]:
        """One `_mget` and one `_bulk`: for each claim a ticket, LOST, an error, or RETRY when
        its write met another's (decided again next round)."""
        found = self.es.mget(index=self.index, ids=[claim_id(c.rule_id) for _, c in batch])
        now = datetime.now(UTC)
        outcome: dict[int, Ticket | Exception | str] = {}
        operations: list[dict[str, Any]] = []
        writing: list[tuple[int, Claim]] = []
        for (index, claim), doc in zip(batch, found["docs"], strict=True):
            if "error" in doc:
                outcome[index] = RuntimeError(f"claim of {claim.rule_id}: {doc['error']}")
                continue
            source = doc.get("_source") if doc.get("found") else None
            if not wins(source, claim, now, self.lease):
                outcome[index] = LOST
                continue
            action: dict[str, Any] = {"_index": self.index, "_id": claim_id(claim.rule_id)}
            if source is None:
                operations.append({"create": action})
            else:
                action.update(if_seq_no=doc["_seq_no"], if_primary_term=doc["_primary_term"])
                operations.append({"index": action})
            operations.append(document(claim, now))
            writing.append((index, claim))
        if operations:
            answer = self.es.bulk(operations=operations)
            for (index, claim), item in zip(writing, answer["items"], strict=True):
                ((_, result),) = item.items()
                status = int(result.get("status", 500))
                if status in (200, 201):
                    outcome[index] = Ticket(
                        claim, int(result["_seq_no"]), int(result["_primary_term"])
                    )
                elif status == 409:
                    outcome[index] = RETRY
                else:
                    outcome[index] = RuntimeError(
                        f"claim of {claim.rule_id}: {result.get('error')}"
                    )
        return outcome
