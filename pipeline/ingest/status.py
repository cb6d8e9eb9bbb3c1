"""The ingest status document: how far behind this member is, and which hosts' clocks drift.

Every member writes, every progress interval (10 s), to `ingest.status_index`:

- `ingest/<member>`: its lag in messages, how many seconds behind it is (now minus the Kafka
  time of the last message written on its furthest-behind partition that still has lag), per
  topic and overall, and whether that is under a minute (`caught_up`);
- `clock/<host>` for each host whose clock is off by more than `ingest.clock_drift_bound_s`.

When ingest falls behind or stops, every edge host looks silent: the alert side holds its
no-data rules while the newest status says ingest is behind, or is older than a minute, and
the ingest-behind and host-clock-drift rules read these documents
(schema/status.schema.json).

`documents` is pure; `StatusReporter` gathers its input from the Kafka source and writes the
result on a thread of its own, so that a slow or refusing Elasticsearch never holds up the
loop. A failed write is counted and logged at most once a minute: it never stops ingest.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.config import IngestConfig
from pipeline.ingest.metrics import IngestMetrics

if TYPE_CHECKING:
    from pipeline.ingest.source import KafkaSource

log = logging.getLogger("edgewatch.ingest")

TopicPartition = tuple[str, int]
CAUGHT_UP_S = 60.0  # behind less than this: caught up (the alert side's hold uses the same)
WRITE_TIMEOUT_S = 5.0  # well inside the interval: one write in flight at a time
LOG_EVERY_S = 60.0  # a failing write is logged at most this often


@dataclass(frozen=True)
class Progress:
    """What one member knows of its partitions, as plain data.

    `lags`: messages behind per partition (librdkafka's statistics; a partition not reported
    yet counts 0). `written_ms`: the Kafka timestamp (ms) of the last message written per
    partition, with everything before it. `assigned_at`: when the partitions were last handed
    to this member: a partition with lag and nothing written since counts as behind from then.
    """

    member: str
    group: str
    assigned: Set[TopicPartition]
    lags: Mapping[TopicPartition, int]
    written_ms: Mapping[TopicPartition, int]
    assigned_at: datetime | None = None


@dataclass(frozen=True)
class StatusDoc:
    """One document of the status index: its `_id` and its body."""

    id: str
    body: dict[str, Any]


def documents(
    now: datetime,
    progress: Progress,
    drifting: Sequence[tuple[str, float]],
    bound_s: float,
) -> list[StatusDoc]:
    """The member's status document, then one per drifting host ((host, offset_s) pairs)."""
    stamp = iso_ms(now)
    topics = [
        _topic(now, topic, parts, progress) for topic, parts in _by_topic(progress.assigned).items()
    ]
    behind = max((t["behind_s"] for t in topics), default=0.0)
    out = [
        StatusDoc(
            f"ingest/{progress.member}",
            {
                "@timestamp": stamp,
                "kind": "ingest",
                "member": progress.member,
                "group": progress.group,
                "lag": sum(t["lag"] for t in topics),
                "behind_s": behind,
                "topics": topics,
                "caught_up": behind < CAUGHT_UP_S,
                "behind": spoken(behind),
            },
        )
    ]
    for host, offset in drifting:
        body = {
            "@timestamp": stamp,
            "kind": "clock",
            "member": progress.member,
            "host": {"name": host},
            "offset_s": float(offset),
            "bound_s": float(bound_s),
        }
        out.append(StatusDoc(f"clock/{host}", body))
    return out


def _by_topic(assigned: Set[TopicPartition]) -> dict[str, list[int]]:
    parts: dict[str, list[int]] = {}
    for topic, partition in sorted(assigned):
        parts.setdefault(topic, []).append(partition)
    return parts


def _topic(now: datetime, topic: str, partitions: list[int], progress: Progress) -> dict[str, Any]:
    """One topic's entry: lag, seconds behind (its furthest-behind partition with lag) and
    the Kafka time of the newest message written on it."""
    lag = 0
    behind = 0.0
    written = []
    for partition in partitions:
        tp = (topic, partition)
        ms = progress.written_ms.get(tp)
        if ms is not None:
            written.append(ms)
        part_lag = max(0, progress.lags.get(tp, 0))
        lag += part_lag
        if not part_lag:
            continue
        since = _from_ms(ms) if ms is not None else progress.assigned_at
        if since is not None:
            # A Kafka time ahead of our clock (a producer's CreateTime) is not "ahead".
            behind = max(behind, (now - since).total_seconds())
    return {
        "topic": topic,
        "lag": lag,
        "behind_s": round(behind, 3),
        "last_kafka_time": iso_ms(_from_ms(max(written))) if written else None,
    }


def iso_ms(stamp: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def spoken(seconds: float) -> str:
    """A duration as an alert email says it: `45 s`, `12 min`, `3 h 5 min`."""
    whole = int(seconds)
    if whole < 120:
        return f"{whole} s"
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def member_name(instance_id: str | None) -> str:
    """This process's name in the status: its static member id, else the host's name.

    Stable across restarts on purpose: a restarted member overwrites its own document, so
    an old one left behind always means a member that is not running (the ingest-behind
    rule alerts on it; delete the document of a member retired for good). Two members on
    one host need an instance id each.
    """
    return instance_id or socket.gethostname()


class StatusReporter:
    """Writes the status documents; main thread only (the write runs on a thread of its own,
    one at a time: an interval whose predecessor is still writing is skipped)."""

    def __init__(self, es: Elasticsearch, settings: IngestConfig, metrics: IngestMetrics) -> None:
        self._es = es.options(request_timeout=WRITE_TIMEOUT_S, max_retries=0)
        self.index = settings.status_index
        self.bound_s = settings.clock_drift_bound_s
        self._metrics = metrics
        self._flight: threading.Thread | None = None
        self._lock = threading.Lock()  # failures are counted from both threads
        self._logged_at = -LOG_EVERY_S  # monotonic; the first failure is logged
        self._unlogged = 0  # failures since the last one logged

    def report(self, source: KafkaSource, drifting: Sequence[tuple[str, float]]) -> None:
        """Write this interval's documents, unless the last write is still under way."""
        if self._flight is not None and self._flight.is_alive():
            self._failed("the previous status write has not finished")
            return
        now = datetime.now(UTC)
        assigned_at = None
        if source.assigned_at:  # monotonic -> wall time
            assigned_at = now - timedelta(seconds=time.monotonic() - source.assigned_at)
        progress = Progress(
            member=member_name(source.instance_id),
            group=source.group,
            assigned=frozenset(source.assigned),
            lags=dict(source.lags),
            written_ms=dict(source.tracker.released_times),
            assigned_at=assigned_at,
        )
        docs = documents(now, progress, drifting, self.bound_s)
        self._flight = threading.Thread(
            target=self._write, args=(docs,), name="status", daemon=True
        )
        self._flight.start()

    def wait(self, timeout: float) -> None:
        """Wait, at most `timeout` seconds, for the write under way (tests, tools)."""
        if self._flight is not None:
            self._flight.join(timeout)

    def _write(self, docs: list[StatusDoc]) -> None:
        operations: list[dict[str, Any]] = []
        for doc in docs:
            operations += [{"index": {"_index": self.index, "_id": doc.id}}, doc.body]
        try:
            answer = self._es.bulk(operations=operations)
        except (ApiError, TransportError) as err:
            self._failed(f"{type(err).__name__}: {err.message}")
            return
        if answer["errors"]:
            errors = [i["index"]["error"] for i in answer["items"] if "error" in i["index"]]
            first = errors[0] if errors else {}
            self._failed(f"{len(errors)} of {len(docs)} refused: {first.get('reason', first)}")

    def _failed(self, why: str) -> None:
        """Count a failed interval; log it unless one was logged within the last minute."""
        self._metrics.status_write_failures.inc()
        now = time.monotonic()
        with self._lock:
            if now - self._logged_at < LOG_EVERY_S:
                self._unlogged += 1
                return
            unlogged, self._logged_at, self._unlogged = self._unlogged, now, 0
        more = f" (and {unlogged} more since the last report)" if unlogged else ""
        log.warning(
            "could not write the ingest status to %s: %s%s; ingest goes on, but the alert "
            "side will see the status grow old",
            self.index,
            why,
            more,
        )
