"""Which of librdkafka's log lines to show: the first of a kind, then a count. Pure.

While a broker is unreachable, librdkafka logs every reconnect attempt, about 19 lines a
second per client and broker. `Throttle` shows the first line of a kind as is and counts,
without showing them, its repeats within `window_s` of it; when that window ends, one line
says how many there were: "N more like this in the last 30 s: <the first line>". While the
repeats go on, a new window follows at once, so a long outage costs one line per window; a
window without repeats forgets the kind, and its next line is shown as a first again.

A kind is the line's facility (librdkafka's FAIL, REQTMOUT, ...), the broker it is about
(`127.0.0.1:9092/1`, `sasl_ssl://broker:9094/bootstrap`) and the shape of its text (digits and
addresses blanked), so different problems, or the same problem with different brokers, are
never merged into one count.

A window ends when the next line after it is offered, or at `expire(now)`:
`pipeline.clients.kafka.ErrorWatch` calls that from a timer at `next_due()`, since librdkafka
logs nothing when a connection comes back and the repeats merely stop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

WINDOW_S = 30.0
# At most this many kinds are tracked at once; a line of a further kind is shown, not counted.
MAX_KINDS = 256
_MAX_SHAPE = 160

# How confluent-kafka hands a librdkafka line to Python logging: "%s [%s] %s" with the
# facility, the client's name and the text.
_RECORD = re.compile(r"(?P<facility>[A-Za-z0-9_]+) \[(?P<client>[^\]]*)\] (?P<text>.*)", re.S)
_THREAD = re.compile(r"\[thrd:(?P<thread>[^\]]*)\]: ")
# What opens the text: a broker's name (host:port/id, proto://host:port/id, or the name of
# the thread, e.g. GroupCoordinator), then ": ".
_OPENING = re.compile(r"(?P<name>\S+?): ")
# A broker's name anywhere, e.g. "... from broker 127.0.0.1:9092/1: ...".
_BROKER_ANYWHERE = re.compile(r"(?:[a-z_]+://)?[\w.\-\[\]:]+:\d+/(?:\d+|bootstrap)")
_ADDRESS = re.compile(r"ipv[46]#\S+")
_DIGITS = re.compile(r"\d+")


class Kind(NamedTuple):
    """What makes two log lines the same problem."""

    facility: str
    broker: str
    shape: str


def kind_of(message: str) -> Kind:
    """The kind of one formatted librdkafka log line ("FAIL [client] [thrd:...]: text")."""
    record = _RECORD.fullmatch(message)
    facility, text = (record["facility"], record["text"]) if record else ("", message)
    thread = ""
    opening = _THREAD.match(text)
    if opening:
        thread, text = opening["thread"], text[opening.end() :]
    broker = ""
    first = _OPENING.match(text)
    if first and ("/" in first["name"] or first["name"] == thread):
        broker, text = first["name"], text[first.end() :]
    elif "/" in thread:  # a broker's own thread is named after it
        broker = thread
    else:
        anywhere = _BROKER_ANYWHERE.search(text)
        broker = anywhere[0] if anywhere else ""
    shape = _DIGITS.sub("#", _ADDRESS.sub("ipv#", text))[:_MAX_SHAPE]
    return Kind(facility, broker, shape)


@dataclass(frozen=True)
class Summary:
    """The repeats of one kind that were counted and not shown."""

    level: int  # the logging level of the first line
    count: int
    span_s: float  # from the first line to when this summary is made
    first: str  # the line that was shown

    @property
    def text(self) -> str:
        span = f"{self.span_s:.0f}" if self.span_s >= 0.95 else f"{self.span_s:.1f}"
        return f"{self.count} more like this in the last {span} s: {self.first}"


@dataclass(frozen=True)
class Verdict:
    """Whether to show the line offered, and the summaries of windows it found ended (to be
    logged before it)."""

    show: bool
    summaries: tuple[Summary, ...] = ()


@dataclass
class _Window:
    first: str
    level: int
    start: float  # of this window: when `first` was shown, or when the window before ended
    repeats: int = 0


class Throttle:
    """The decision, over plain data: lines with the time they arrived (a monotonic clock, in
    seconds, never going back). Not thread-safe: the caller holds a lock."""

    def __init__(self, window_s: float = WINDOW_S, max_kinds: int = MAX_KINDS) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self.max_kinds = max_kinds
        self._windows: dict[Kind, _Window] = {}

    def offer(self, message: str, level: int, now: float) -> Verdict:
        """One log line at `now`: show it, or count it as a repeat."""
        summaries = tuple(self.expire(now))
        kind = kind_of(message)
        window = self._windows.get(kind)
        if window is not None:  # open: expire() ended every window that is over
            window.repeats += 1
            return Verdict(False, summaries)
        if len(self._windows) < self.max_kinds:
            self._windows[kind] = _Window(message, level, now)
        return Verdict(True, summaries)

    def expire(self, now: float) -> list[Summary]:
        """End the windows that are over by `now`: a summary of each that counted repeats,
        which then goes on in a new window; the others forget their kind."""
        out: list[tuple[float, Summary]] = []
        for kind, window in list(self._windows.items()):
            end = window.start + self.window_s
            while end <= now:
                if not window.repeats:
                    del self._windows[kind]
                    break
                out.append((end, self._summary(window, now)))
                window.start, window.repeats = end, 0
                end += self.window_s
        return [summary for _, summary in sorted(out, key=lambda pair: pair[0])]

    def flush(self, now: float) -> list[Summary]:
        """End every window now (the client is going away): the summaries of all repeats
        counted so far. Every kind is forgotten."""
        out = [self._summary(w, now) for w in self._windows.values() if w.repeats]
        self._windows.clear()
        return out

    def next_due(self) -> float | None:
        """When the first window holding repeats ends; None if none does."""
        ends = [w.start + self.window_s for w in self._windows.values() if w.repeats]
        return min(ends, default=None)

    def _summary(self, window: _Window, now: float) -> Summary:
        return Summary(window.level, window.repeats, now - window.start, window.first)
