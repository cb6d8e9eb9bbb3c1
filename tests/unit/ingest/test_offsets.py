"""Commit bookkeeping: nothing is committable past a batch still in flight, and dead letters
leave with the offsets of their messages, in offset order."""

from __future__ import annotations

import pytest

from pipeline.ingest.actions import DeadLetter, Origin
from pipeline.ingest.offsets import CommitTracker, Release

pytestmark = pytest.mark.unit

A0, A1 = ("a", 0), ("a", 1)


def test_out_of_order_completion_releases_in_submission_order() -> None:
    tracker = CommitTracker()
    first = tracker.open({A0: 9, A1: 4})
    second = tracker.open({A0: 19})
    third = tracker.open({A1: 8})
    tracker.done(second)
    tracker.done(third)
    assert tracker.take().offsets == {}  # the first batch still holds everything back
    tracker.done(first)
    assert tracker.take().offsets == {A0: 20, A1: 9}
    assert tracker.in_flight() == 0


def test_take_only_some_partitions_leaves_the_others() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 1, A1: 2}))
    assert tracker.take({A1}).offsets == {A1: 3}
    assert tracker.take().offsets == {A0: 2}


def test_forgotten_partitions_are_never_committed() -> None:
    tracker = CommitTracker()
    batch = tracker.open({A0: 5, A1: 6})
    tracker.forget({A0})
    tracker.done(batch)
    assert tracker.take().offsets == {A1: 7}


def test_unknown_and_repeated_done_are_harmless() -> None:
    tracker = CommitTracker()
    batch = tracker.open({A0: 1})
    tracker.done(batch)
    tracker.done(batch)
    tracker.done(42)
    assert tracker.take().offsets == {A0: 2}


def test_a_failed_commit_is_restored_and_leaves_with_the_next_one() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 9}))
    failed = tracker.take()
    tracker.done(tracker.open({A1: 3}))
    tracker.restore(failed)
    assert tracker.pending()
    assert tracker.take().offsets == {A0: 10, A1: 4}
    assert not tracker.pending()


def test_restoring_never_moves_an_offset_released_later_back() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 9}))
    failed = tracker.take()
    tracker.done(tracker.open({A0: 19}))
    tracker.restore(failed)
    assert tracker.take().offsets == {A0: 20}


def letter(tp: tuple[str, int], offset: int, value: bytes | None = b"x") -> DeadLetter:
    return DeadLetter(Origin(tp[0], tp[1], offset, None, None), value, "parse", "json.invalid")


def test_letters_are_released_with_their_batch_in_submission_order() -> None:
    tracker = CommitTracker()
    first = tracker.open({A0: 9})
    second = tracker.open({A0: 19})
    tracker.done(second, [letter(A0, 12)])
    assert not tracker.take()  # held back with the offsets
    tracker.done(first, [letter(A0, 3), letter(A0, 7)])
    assert tracker.letter_bytes() == 3
    release = tracker.take()
    assert release.offsets == {A0: 20}
    assert [x.origin.offset for x in release.letters] == [3, 7, 12]
    assert tracker.letter_bytes() == 0


def test_a_failed_commit_puts_its_letters_back_before_later_ones() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 9}), [letter(A0, 4)])
    failed = tracker.take()
    tracker.done(tracker.open({A0: 19}), [letter(A0, 15)])
    tracker.restore(failed)
    release = tracker.take()
    assert release.offsets == {A0: 20}
    assert [x.origin.offset for x in release.letters] == [4, 15]


def test_letters_of_forgotten_partitions_are_left_to_the_new_owner() -> None:
    tracker = CommitTracker()
    batch = tracker.open({A0: 5, A1: 6})
    tracker.done(tracker.open({A0: 1}), [letter(A0, 1)])  # waits behind `batch`
    tracker.forget({A0})
    tracker.done(batch, [letter(A0, 2), letter(A1, 3)])
    release = tracker.take()
    assert release.offsets == {A1: 7}
    assert [x.origin.partition for x in release.letters] == [1]


def test_take_only_some_partitions_splits_the_letters_too() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 1, A1: 2}), [letter(A0, 1), letter(A1, 2, None)])
    mine = tracker.take({A1})
    assert mine == Release({A1: 3}, [letter(A1, 2, None)])
    assert tracker.take() == Release({A0: 2}, [letter(A0, 1)])
