"""Commit bookkeeping: nothing is committable past a batch still in flight."""

from __future__ import annotations

from pipeline.ingest.offsets import CommitTracker

A0, A1 = ("a", 0), ("a", 1)


def test_out_of_order_completion_releases_in_submission_order() -> None:
    tracker = CommitTracker()
    first = tracker.open({A0: 9, A1: 4})
    second = tracker.open({A0: 19})
    third = tracker.open({A1: 8})
    tracker.done(second)
    tracker.done(third)
    assert tracker.take() == {}  # the first batch still holds everything back
    tracker.done(first)
    assert tracker.take() == {A0: 20, A1: 9}
    assert tracker.in_flight() == 0


def test_take_only_some_partitions_leaves_the_others() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 1, A1: 2}))
    assert tracker.take({A1}) == {A1: 3}
    assert tracker.take() == {A0: 2}


def test_forgotten_partitions_are_never_committed() -> None:
    tracker = CommitTracker()
    batch = tracker.open({A0: 5, A1: 6})
    tracker.forget({A0})
    tracker.done(batch)
    assert tracker.take() == {A1: 7}


def test_unknown_and_repeated_done_are_harmless() -> None:
    tracker = CommitTracker()
    batch = tracker.open({A0: 1})
    tracker.done(batch)
    tracker.done(batch)
    tracker.done(42)
    assert tracker.take() == {A0: 2}


def test_a_failed_commit_is_restored_and_leaves_with_the_next_one() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 9}))
    failed = tracker.take()
    tracker.done(tracker.open({A1: 3}))
    tracker.restore(failed)
    assert tracker.pending()
    assert tracker.take() == {A0: 10, A1: 4}
    assert not tracker.pending()


def test_restoring_never_moves_an_offset_released_later_back() -> None:
    tracker = CommitTracker()
    tracker.done(tracker.open({A0: 9}))
    failed = tracker.take()
    tracker.done(tracker.open({A0: 19}))
    tracker.restore(failed)
    assert tracker.take() == {A0: 20}
