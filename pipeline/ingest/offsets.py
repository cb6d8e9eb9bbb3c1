"""Which offsets may be committed. Pure bookkeeping, no Kafka calls.

Batches are handed to the indexer in consumption order and may finish out of order (several
bulk requests run at once). A partition's offset is committable only when every batch before
it has finished too, so the tracker releases finished batches strictly in submission order.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

TopicPartition = tuple[str, int]


@dataclass
class _Batch:
    last_offsets: dict[TopicPartition, int]
    finished: bool = False


class CommitTracker:
    """Per-partition next-offsets to commit, released in batch submission order."""

    def __init__(self) -> None:
        self._batches: OrderedDict[int, _Batch] = OrderedDict()
        self._next_id = 0
        self._ready: dict[TopicPartition, int] = {}

    def open(self, last_offsets: dict[TopicPartition, int]) -> int:
        """Register a submitted batch by its last offset per (topic, partition); get its id."""
        batch_id = self._next_id
        self._next_id += 1
        self._batches[batch_id] = _Batch(dict(last_offsets))
        return batch_id

    def done(self, batch_id: int) -> None:
        """Mark a batch finished: all of it indexed or durably dead-lettered."""
        batch = self._batches.get(batch_id)
        if batch is None:
            return
        batch.finished = True
        # Release the finished prefix; a batch still in flight holds back all after it.
        while self._batches:
            first_id, first = next(iter(self._batches.items()))
            if not first.finished:
                return
            del self._batches[first_id]
            for tp, last in first.last_offsets.items():
                self._ready[tp] = max(self._ready.get(tp, -1), last + 1)

    def take(self, only: set[TopicPartition] | None = None) -> dict[TopicPartition, int]:
        """Committable next-offsets (last processed + 1), removed from the tracker."""
        if only is None:
            ready, self._ready = self._ready, {}
            return ready
        ready = {tp: off for tp, off in self._ready.items() if tp in only}
        for tp in ready:
            del self._ready[tp]
        return ready

    def restore(self, offsets: dict[TopicPartition, int]) -> None:
        """Put back offsets whose commit failed, to leave with the next commit."""
        for tp, off in offsets.items():
            self._ready[tp] = max(self._ready.get(tp, -1), off)

    def pending(self) -> bool:
        """Offsets released and not yet taken."""
        return bool(self._ready)

    def in_flight(self) -> int:
        """Batches submitted and not yet released."""
        return len(self._batches)

    def forget(self, partitions: set[TopicPartition]) -> None:
        """Drop all state about partitions this consumer no longer owns.

        Batches still in flight for them may finish later; their documents carry
        deterministic ids, so the new owner re-indexing the same messages overwrites them.
        """
        for tp in partitions:
            self._ready.pop(tp, None)
        for batch in self._batches.values():
            for tp in partitions:
                batch.last_offsets.pop(tp, None)
