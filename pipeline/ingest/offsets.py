"""What may be committed: offsets, and the dead letters that must leave with them. Pure
bookkeeping, no Kafka calls.

Batches are handed to the indexer in consumption order and may finish out of order (several
bulk requests run at once). A partition's offset is committable only when every batch before
it has finished too, so the tracker releases finished batches strictly in submission order.

A finished batch's dead letters are released with its offsets: they are produced in the same
Kafka transaction as the offsets commit (transaction.py), so a letter is in the dead-letter
topic exactly when its offset is committed, never twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.ingest.actions import DeadLetter

TopicPartition = tuple[str, int]


@dataclass
class Release:
    """Next-offsets to commit (last processed + 1) and the dead letters of those messages,
    in offset order: what one transaction writes."""

    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    letters: list[DeadLetter] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.offsets or self.letters)

    def split(self, partitions: set[TopicPartition]) -> tuple[Release, Release]:
        """The part of this release that concerns `partitions`, and the rest."""
        inside, outside = Release(), Release()
        for tp, off in self.offsets.items():
            (inside if tp in partitions else outside).offsets[tp] = off
        for letter in self.letters:
            (inside if _partition(letter) in partitions else outside).letters.append(letter)
        return inside, outside


@dataclass
class _Batch:
    last_offsets: dict[TopicPartition, int]
    last_times: dict[TopicPartition, int] = field(default_factory=dict)
    finished: bool = False
    letters: list[DeadLetter] = field(default_factory=list)


class CommitTracker:
    """Per-partition next-offsets to commit and their dead letters, released in batch
    submission order."""

    def __init__(self) -> None:
        self._batches: OrderedDict[int, _Batch] = OrderedDict()
        self._next_id = 0
        self._ready = Release()
        self._letter_bytes = 0
        # Per partition, the Kafka timestamp (ms) of the last message released: written, with
        # everything before it (the status document's "how far behind").
        self.released_times: dict[TopicPartition, int] = {}

    def open(
        self,
        last_offsets: dict[TopicPartition, int],
        last_times: dict[TopicPartition, int] | None = None,
    ) -> int:
        """Register a submitted batch by its last offset per (topic, partition), and the Kafka
        timestamps (ms) of those messages where known; get its id."""
        batch_id = self._next_id
        self._next_id += 1
        self._batches[batch_id] = _Batch(dict(last_offsets), dict(last_times or {}))
        return batch_id

    def done(self, batch_id: int, letters: Iterable[DeadLetter] = ()) -> None:
        """Mark a batch finished: its documents indexed, `letters` to be dead-lettered."""
        batch = self._batches.get(batch_id)
        if batch is None:
            return
        batch.finished = True
        # Letters of partitions forgotten meanwhile are the new owner's to write.
        batch.letters = [x for x in letters if _partition(x) in batch.last_offsets]
        # Release the finished prefix; a batch still in flight holds back all after it.
        while self._batches:
            first_id, first = next(iter(self._batches.items()))
            if not first.finished:
                return
            del self._batches[first_id]
            for tp, last in first.last_offsets.items():
                self._ready.offsets[tp] = max(self._ready.offsets.get(tp, -1), last + 1)
            self.released_times.update(first.last_times)
            self._ready.letters.extend(first.letters)
            self._letter_bytes += sum(x.size for x in first.letters)

    def take(self, only: set[TopicPartition] | None = None) -> Release:
        """What may be committed now (of `only` these partitions), removed from the tracker."""
        if only is None:
            ready, self._ready = self._ready, Release()
        else:
            ready, self._ready = self._ready.split(only)
        self._letter_bytes = sum(x.size for x in self._ready.letters)
        return ready

    def restore(self, release: Release) -> None:
        """Put back a release whose commit failed, to leave with the next commit: its
        letters before any released since (offset order), offsets never moving back."""
        for tp, off in release.offsets.items():
            self._ready.offsets[tp] = max(self._ready.offsets.get(tp, -1), off)
        self._ready.letters[:0] = release.letters
        self._letter_bytes += sum(x.size for x in release.letters)

    def pending(self) -> bool:
        """Offsets or letters released and not yet taken."""
        return bool(self._ready)

    def letter_bytes(self) -> int:
        """The size of the released letters waiting for a commit (memory held)."""
        return self._letter_bytes

    def in_flight(self) -> int:
        """Batches submitted and not yet released."""
        return len(self._batches)

    def forget(self, partitions: set[TopicPartition]) -> None:
        """Drop all state about partitions this consumer no longer owns.

        Batches still in flight for them may finish later; their documents carry
        deterministic ids, so the new owner re-indexing the same messages overwrites them,
        and their letters (never committed by us) are the new owner's to write.
        """
        for tp in partitions:
            self._ready.offsets.pop(tp, None)
            self.released_times.pop(tp, None)
        self._ready.letters = [x for x in self._ready.letters if _partition(x) not in partitions]
        self._letter_bytes = sum(x.size for x in self._ready.letters)
        for batch in self._batches.values():
            for tp in partitions:
                batch.last_offsets.pop(tp, None)
                batch.last_times.pop(tp, None)
            batch.letters = [x for x in batch.letters if _partition(x) not in partitions]


def _partition(letter: DeadLetter) -> TopicPartition:
    return (letter.origin.topic, letter.origin.partition)
