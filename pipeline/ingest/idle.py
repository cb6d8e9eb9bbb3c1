"""When a run with `--exit-when-idle` may end. Pure.

"Idle" is not "nothing arrived lately": during a Kafka outage nothing arrives either. A run
is caught up only when the consumer holds its partitions and has read each to its end (the
high watermark, asked of the broker) and everything read is written. When that cannot be
known (Kafka unreachable, the group not settled) or is not true while nothing arrives, the run
waits, at most `wait_max_s`, then fails with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    """What the loop does next."""

    GO_ON = "go on"  # not idle, or waiting within the limit
    EXIT = "exit"  # caught up: commit and exit 0
    FAIL = "fail"  # waited too long: exit non-zero with the reason


@dataclass(frozen=True)
class Observation:
    """The facts one idle check rests on."""

    quiet: bool  # no message for the idle time, while free to read
    drained: bool  # no open batch, nothing being written
    kafka_problem: str | None  # KafkaHealth.problem()
    group_unsettled: str | None  # KafkaHealth.unsettled(): why the group is not settled
    assigned: int  # partitions held
    # Per partition, messages between our position and the high watermark; None when the
    # broker could not be asked.
    behind: dict[tuple[str, int], int] | None


@dataclass
class IdleExit:
    """Decides, check after check, whether a replay has caught up."""

    wait_max_s: float
    waiting_since: float | None = None
    reason: str = ""

    def check(self, now: float, seen: Observation) -> Verdict:
        """The verdict for this observation, taken at `now` (monotonic seconds)."""
        if not seen.quiet or (not seen.drained and seen.kafka_problem is None):
            # Busy (reading, or writing to Elasticsearch, however long that takes): no
            # question of idling yet. But batches stuck on Kafka (dead letters) while nothing
            # arrives are waiting on Kafka like the rest.
            self.waiting_since = None
            return Verdict.GO_ON
        blocked = self._blocker(seen)
        if blocked is None:
            return Verdict.EXIT if seen.drained else Verdict.GO_ON
        if self.waiting_since is None:
            self.waiting_since = now
        self.reason = blocked
        return Verdict.FAIL if now - self.waiting_since >= self.wait_max_s else Verdict.GO_ON

    def _blocker(self, seen: Observation) -> str | None:
        """Why the run cannot be called caught up, or None when it can."""
        if seen.kafka_problem is not None:
            return seen.kafka_problem
        if seen.group_unsettled is not None:
            return seen.group_unsettled
        if seen.assigned == 0:
            return None  # the group gave us nothing: other members read it all, or no topic
        if seen.behind is None:
            return "kafka: the end offsets of the assigned partitions could not be read"
        behind = {tp: n for tp, n in seen.behind.items() if n > 0}
        if behind:
            left = sum(behind.values())
            names = ", ".join(f"{t}[{p}]" for t, p in sorted(behind)[:5])
            return f"{left} messages not read yet ({names})"
        return None
