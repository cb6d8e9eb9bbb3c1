"""Claims of evaluations against the real Elasticsearch: one winner per rule and scheduled time,
also when members race (pipeline/alerting/status/claims.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from pipeline.alerting.batching import Batcher
from pipeline.alerting.status.claims import Claim, ClaimStore, claim_id

T = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(es: Elasticsearch, unique_name: str) -> Iterator[ClaimStore]:
    es.indices.create(index=unique_name, mappings={"dynamic": False})
    yield ClaimStore(es, unique_name, lease=timedelta(minutes=2))
    es.indices.delete(index=unique_name)


def test_an_evaluation_is_won_once(store: ClaimStore, es: Elasticsearch) -> None:
    ticket = store.claim(Claim("spike", T, "alert-1"))
    assert ticket is not None
    assert store.claim(Claim("spike", T, "alert-2")) is None  # the same evaluation: lost
    assert store.finish(ticket)
    assert es.get(index=store.index, id=claim_id("spike"))["_source"]["done"] is True
    assert store.claim(Claim("spike", T, "alert-2")) is None  # done: lost for good
    later = store.claim(Claim("spike", T + timedelta(minutes=1), "alert-2"))
    assert later is not None
    assert store.claim(Claim("spike", T, "alert-1")) is None  # a frozen member come back: lost
    doc = es.get(index=store.index, id=claim_id("spike"))["_source"]
    assert (doc["scheduled_time"], doc["member"]) == ("2026-12-08T10:01:00.000Z", "alert-2")
    assert doc["done"] is False


def test_a_claim_left_unfinished_is_taken_over_after_the_lease(
    es: Elasticsearch, unique_name: str
) -> None:
    """A member killed between its claim and its record: once the lease is over, another
    member wins the same evaluation, and the dead one's late finish changes nothing."""
    es.indices.create(index=unique_name, mappings={"dynamic": False})
    try:
        store = ClaimStore(es, unique_name, lease=timedelta(milliseconds=300))
        dead = store.claim(Claim("spike", T, "alert-1"))
        assert dead is not None
        assert store.claim(Claim("spike", T, "alert-2")) is None  # within the lease
        time.sleep(0.4)
        taken = store.claim(Claim("spike", T, "alert-2"))
        assert taken is not None
        assert not store.finish(dead)  # the first claimant was not dead after all: too late
        assert store.finish(taken)
    finally:
        es.indices.delete(index=unique_name)


def test_claims_of_one_batch_are_decided_in_order(store: ClaimStore) -> None:
    claims = [
        Claim("spike", T, "alert-1"),
        Claim("oom", T, "alert-1"),
        Claim("spike", T + timedelta(minutes=1), "alert-1"),  # the same rule twice: in order
        Claim("spike", T, "alert-1"),
    ]
    won = [result is not None for result in store.claim_many(claims)]
    assert won == [True, True, True, False]


def test_racing_members_win_each_evaluation_exactly_once(store: ClaimStore) -> None:
    """Four members claim the same 5 evaluations of 20 rules at once, each in time order, as
    schedulers do: every evaluation is won by exactly one of them."""
    rules = [f"rule-{n}" for n in range(20)]
    times = [T + timedelta(minutes=m) for m in range(5)]
    won: Counter[tuple[str, datetime]] = Counter()
    lock = threading.Lock()

    def member(name: str) -> None:
        batcher = Batcher(store.claim_many, linger_s=0.002, name=name)
        try:
            for moment in times:
                results: dict[str, bool] = {}

                def one(rule: str, at: datetime, into: dict[str, bool]) -> None:
                    into[rule] = batcher(Claim(rule, at, name)) is not None

                threads = [
                    threading.Thread(target=one, args=(rule, moment, results)) for rule in rules
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                with lock:
                    won.update((rule, moment) for rule, ok in results.items() if ok)
        finally:
            batcher.close()

    members = [threading.Thread(target=member, args=(f"alert-{n}",)) for n in range(4)]
    for thread in members:
        thread.start()
    for thread in members:
        thread.join()
    assert set(won) == {(rule, moment) for rule in rules for moment in times}
    assert set(won.values()) == {1}
