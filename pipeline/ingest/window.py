"""Which time names a document's dated index. Pure.

A document's `@timestamp` is whatever its line (or shipper) says, and anyone who can write a
log line can write any date into it: 1970, 9999, a different day per line. Dated indices
named from that time alone let one line create an index, and a few thousand lines create a
few thousand, each with its shards and mappings, until the cluster refuses to make more.

So the index is named from the event time only while it lies within a window around the
Kafka message timestamp (by default 7 days before it to 1 day after it: late and backfilled
lines, skewed edge clocks); outside it the Kafka timestamp names the index. The document
keeps its `@timestamp` either way. A message without a Kafka timestamp (only message
formats before Kafka 0.10 lack one) has no window: its event time decides, as before.

Both bounds are whole microseconds, so the native core (native/src/window.rs) takes the
very same numbers and decides exactly as this module does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# What `index_time` says about a document whose event time was outside the window.
BEHIND = "behind"  # older than the window: a backlog, a replayed archive, or a forged date
AHEAD = "ahead"  # newer than the window: a clock running fast, or a forged date
INSIDE = ""

MICROSECONDS = 1_000_000


def window_us(seconds: float) -> int:
    """A window bound from its setting (seconds), in whole microseconds: the one form both
    cores compare with, so no float rounding can make them disagree."""
    return round(seconds * MICROSECONDS)


class Window:
    """The window of one topic's settings, as timedeltas for comparing datetimes."""

    def __init__(self, back_us: int, ahead_us: int) -> None:
        self.back_us = back_us
        self.ahead_us = ahead_us
        self.back = timedelta(microseconds=back_us)
        self.ahead = timedelta(microseconds=ahead_us)

    def index_time(self, stamp: datetime, kafka_time: datetime | None) -> tuple[datetime, str]:
        """The time whose day names the index, and INSIDE, BEHIND or AHEAD.

        The bounds belong to the window. The difference of two datetimes is compared, never
        `kafka_time +- bound`: that sum leaves datetime's range near years 1 and 9999.
        """
        if kafka_time is None:
            return stamp, INSIDE
        delta = stamp - kafka_time
        if delta < -self.back:
            return kafka_time, BEHIND
        if delta > self.ahead:
            return kafka_time, AHEAD
        return stamp, INSIDE
