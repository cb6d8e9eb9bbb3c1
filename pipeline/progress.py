"""A one-line progress display for long CLI work (shipping, replays, backfills)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts items and redraws `label: N items, R/s` on one terminal line, at most every
    `interval` seconds. On a non-terminal stream it prints a line every 10 intervals instead,
    so CI logs stay readable."""

    def __init__(
        self, label: str, unit: str = "lines", stream: TextIO | None = None, interval: float = 0.5
    ) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.count = 0
        self._tty = self.stream.isatty()
        self._interval = interval if self._tty else interval * 10
        self._started = time.monotonic()
        self._drawn = self._started

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self._drawn >= self._interval:
            self._draw(now)

    def close(self) -> float:
        """Draw the final figures; return the elapsed seconds."""
        now = time.monotonic()
        self._draw(now)
        if self._tty:
            self.stream.write("\n")
        return now - self._started

    def _draw(self, now: float) -> None:
        self._drawn = now
        elapsed = max(now - self._started, 1e-9)
        text = f"{self.label}: {self.count:,} {self.unit}, {self.count / elapsed:,.0f}/s"
        self.stream.write(f"\r{text}\x1b[K" if self._tty else f"{text}\n")
        self.stream.flush()
