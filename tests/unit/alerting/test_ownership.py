"""The rule -> partition map every member computes alike (pipeline/alerting/ownership.py)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerting.ownership import PARTITIONS, owned, partition_of


@given(st.text(), st.integers(min_value=1, max_value=1000))
def test_partition_in_range_and_stable(rule_id: str, partitions: int) -> None:
    first = partition_of(rule_id, partitions)
    assert 0 <= first < partitions
    assert partition_of(rule_id, partitions) == first


def test_same_partition_in_another_process() -> None:
    # hash() of a str differs between processes; the map must not.
    ids = [f"rule-{n}" for n in range(50)]
    code = (
        "from pipeline.alerting.ownership import partition_of;"
        f"print([partition_of(i) for i in {ids!r}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "12345", "PYTHONPATH": "."},
    ).stdout
    assert out.strip() == str([partition_of(i) for i in ids])


def test_known_value_pinned() -> None:
    # A change of the hash would move every rule to another member mid-upgrade.
    assert [partition_of(f"r{n}") for n in range(3)] == [37, 48, 42]


def test_spread_of_10000_ids_over_64_partitions_is_even() -> None:
    counts = Counter(partition_of(f"watch-{n:05d}") for n in range(10_000))
    assert set(counts) == set(range(PARTITIONS))
    expected = 10_000 / PARTITIONS  # 156.25; a binomial's sd is ~12
    assert min(counts.values()) > expected * 0.7
    assert max(counts.values()) < expected * 1.3


@given(st.sets(st.text(max_size=20), max_size=50), st.sets(st.integers(0, PARTITIONS - 1)))
def test_owned_is_the_rules_of_the_owned_partitions(rule_ids: set[str], mine: set[int]) -> None:
    got = owned(rule_ids, mine)
    assert got == {r for r in rule_ids if partition_of(r) in mine}
    rest = owned(rule_ids, set(range(PARTITIONS)) - mine)
    assert got | rest == rule_ids and not got & rest


def test_partitions_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        partition_of("x", 0)
