"""Pure: which control-topic partition a rule belongs to, and so which member owns it.

Several `edgewatch alert` processes share the rules (issue 21): each is assigned partitions of
the control topic by Kafka's group coordinator (group.py), and a rule belongs to the member
holding its partition. Every member must compute the same partition for a rule, in every run
and every Python version, so the hash is blake2b of the id's UTF-8 bytes: Python's `hash()` of
a string changes with each process (PYTHONHASHSEED) and would give each member its own map.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Set

PARTITIONS = 64


def partition_of(rule_id: str, partitions: int = PARTITIONS) -> int:
    """The control-topic partition of `rule_id`, in `range(partitions)`, the same everywhere."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    digest = hashlib.blake2b(rule_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def owned(
    rule_ids: Iterable[str], partitions_owned: Set[int], partitions: int = PARTITIONS
) -> set[str]:
    """The rules among `rule_ids` whose partition is one of `partitions_owned`."""
    return {rule for rule in rule_ids if partition_of(rule, partitions) in partitions_owned}
