"""The parser contract every parser test checks its results against (see parsers/common.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipeline.ingest.parsers.common import FIELDS


def assert_contract(fields: Any) -> None:
    """A dict of known keys only, each value of its listed type, `@timestamp` in UTC."""
    assert isinstance(fields, dict)
    for key, value in fields.items():
        assert key in FIELDS, key
        assert isinstance(value, FIELDS[key]), (key, value)
    if "@timestamp" in fields:
        assert fields["@timestamp"].utcoffset() == timedelta(0)
