"""What edgewatch makes of a corpus sample, judged against what its source states: the one
comparison that `bench/time_coverage.py` reports and `test_stated.py` holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.ingest import _native
from tests.corpus.model import Sample

DEFAULT_REFERENCE = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SHIPPED_AFTER = timedelta(minutes=5)
# A line's own time more than a week past its receive time is wrong (clock drift and zone
# mistakes are hours, days at worst; a backlog is older, never newer): the mark of a year-less
# line completed into the next year.
FUTURE = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def reference_for(sample: Sample) -> datetime:
    """The receive time to parse `sample` with: shortly after its stated time, so that year
    completion has the year the source meant; else the fixed default."""
    if sample.timestamp is not None:
        return sample.timestamp + SHIPPED_AFTER
    if sample.wall_clock is not None and sample.year_stated:
        return sample.wall_clock.replace(tzinfo=UTC) + SHIPPED_AFTER
    return DEFAULT_REFERENCE


@dataclass(frozen=True)
class Outcome:
    """What edgewatch made of one sample, and whether it matches what the source states
    (None: the source states nothing to compare)."""

    sample: Sample
    timestamp: datetime | None
    level: str | None
    message: str | None
    refused: str | None
    timestamp_ok: bool | None
    level_ok: bool | None
    message_ok: bool | None
    future: bool


def timestamp_matches(sample: Sample, got: datetime | None) -> bool | None:
    """Whether `got` is the stated time: the stated instant (cut to its unit), or the stated
    wall-clock time read as UTC (without the year if the line has none)."""
    if sample.timestamp is not None:
        if got is None:
            return False
        unit = sample.timestamp_unit_us
        us = (got - _EPOCH) // timedelta(microseconds=1)
        return _EPOCH + timedelta(microseconds=us - us % unit) == sample.timestamp
    if sample.wall_clock is not None:
        if got is None:
            return False
        naive = got.astimezone(UTC).replace(tzinfo=None)
        want = sample.wall_clock
        if sample.year_stated:
            return naive == want
        fields = ("month", "day", "hour", "minute", "second", "microsecond")
        return all(getattr(naive, f) == getattr(want, f) for f in fields)
    return None


def run(sample: Sample) -> Outcome:
    """Parse one sample with the native dispatcher and compare with what is stated."""
    reference = reference_for(sample)
    reference_us = (reference - _EPOCH) // timedelta(microseconds=1)
    result = _native.parse("auto", sample.line, reference_us)
    refused = result if isinstance(result, str) else ("unsure" if result is None else None)
    fields: dict[str, Any] = dict(result) if isinstance(result, list) else {}
    got_ts = fields.get("@timestamp")
    got_level = fields.get("log.level")
    got_message = fields.get("message")
    return Outcome(
        sample=sample,
        timestamp=got_ts,
        level=got_level,
        message=got_message,
        refused=refused,
        timestamp_ok=timestamp_matches(sample, got_ts),
        level_ok=None if sample.level is None else got_level == sample.level,
        message_ok=None if sample.message is None else got_message == sample.message,
        future=got_ts is not None and got_ts > reference + FUTURE,
    )
