"""Each host's clock error, estimated from the times its lines carry.

The native core samples, per poll and per host, how far the host's newest line time lay from
its receive time (native/src/clock.rs): that newest line was written moments before it was
sent, even at the end of a backfill after hours offline, so the sample is the clock error
plus a short delay. One poll can still be all backlog (a host that sends its hour offline in
several polls), so the estimate is the median of the last `window` samples: robust to the
few polls of a backfill, and to a single odd line.

The receive time is the shipper's own timestamp where the envelope carries one, else the
Kafka timestamp: a host whose logs are written in local time without a zone shows its zone's
offset here, which is the point (its `@timestamp`s are off by as much). docs/ingest.md says
which receive time each shipper gives.

Plain data and plain functions: the service feeds `observe` and publishes `top`.
"""

from __future__ import annotations

import statistics
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

_MICROS = 1_000_000


@dataclass
class ClockSkew:
    """Per host, the median of its last `window` per-poll clock samples (seconds, positive:
    the host's clock is ahead). At most `max_hosts` hosts are kept, the least recently seen
    dropped first, so that a flood of host names cannot grow it without bound."""

    window: int = 31
    max_hosts: int = 10_000
    _samples: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def observe(self, offsets: Iterable[tuple[str, int]]) -> None:
        """One poll's samples: (host, offset in microseconds)."""
        for host, offset_us in offsets:
            samples = self._samples.get(host)
            if samples is None:
                samples = self._samples[host] = deque(maxlen=self.window)
                if len(self._samples) > self.max_hosts:
                    self._samples.popitem(last=False)
            else:
                self._samples.move_to_end(host)
            samples.append(offset_us / _MICROS)

    def offset(self, host: str) -> float | None:
        """The host's estimated clock error in seconds; None for a host not seen."""
        samples = self._samples.get(host)
        return statistics.median(samples) if samples else None

    def ranked(self) -> list[tuple[str, float]]:
        """Every host's estimate, (host, offset), the clocks furthest off (either way) first."""
        estimates = ((host, statistics.median(s)) for host, s in self._samples.items())
        return sorted(estimates, key=lambda pair: (-abs(pair[1]), pair[0]))

    def __len__(self) -> int:
        return len(self._samples)


def beyond(ranked: list[tuple[str, float]], bound_s: float) -> list[tuple[str, float]]:
    """Of `ranked` (host, offset) estimates, those off by more than `bound_s`, in order."""
    return [(h, o) for h, o in ranked if abs(o) > bound_s]
