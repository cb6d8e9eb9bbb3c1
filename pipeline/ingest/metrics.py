"""The ingest service's Prometheus metrics, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.config import IngestConfig
from pipeline.ingest.clock import ClockSkew, beyond


class IngestMetrics:
    """Every metric the ingest service exports (names prefixed `edgewatch_ingest_`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.consumed = Counter(
            "edgewatch_ingest_consumed", "Messages read from Kafka", ["topic"], registry=r
        )
        self.indexed = Counter(
            "edgewatch_ingest_indexed",
            "Documents Elasticsearch acknowledged",
            ["topic"],
            registry=r,
        )
        self.outside_window = Counter(
            "edgewatch_ingest_index_time_outside_window",
            "Documents whose event time lay outside the index-time window around their Kafka"
            " timestamp (side: behind or ahead), so the Kafka timestamp named their dated index",
            ["topic", "side"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "edgewatch_ingest_dead_lettered",
            "Messages sent to the dead-letter topic",
            ["topic", "stage", "reason"],
            registry=r,
        )
        self.retries = Counter(
            "edgewatch_ingest_bulk_retries",
            "Bulk requests (or parts) sent again after a retriable failure",
            ["cause"],
            registry=r,
        )
        self.commits = Counter(
            "edgewatch_ingest_commits",
            "Commits (offsets and their dead letters, one Kafka transaction) that succeeded",
            registry=r,
        )
        self.commit_failures = Counter(
            "edgewatch_ingest_commit_failures",
            "Commits that failed (nothing of them visible); what they held leaves with the next",
            registry=r,
        )
        self.lag = Gauge(
            "edgewatch_ingest_consumer_lag",
            "Messages behind the partition's high watermark",
            ["topic", "partition"],
            registry=r,
        )
        self.clock_offset = Gauge(
            "edgewatch_host_clock_offset_seconds",
            "The hosts whose clocks are furthest off (ingest.clock_hosts_shown of them): the"
            " median offset of their newest line's time from its receive time, positive ahead",
            ["host"],
            registry=r,
        )
        self.clocks_drifting = Gauge(
            "edgewatch_hosts_clock_drifting",
            "Hosts whose clock is off by more than ingest.clock_drift_bound_s",
            registry=r,
        )
        self.status_write_failures = Counter(
            "edgewatch_ingest_status_write_failures",
            "Status documents (ingest.status_index) Elasticsearch did not take, per interval",
            registry=r,
        )
        self.paused = Gauge(
            "edgewatch_ingest_paused",
            "1 while consumption is paused for backpressure (Elasticsearch slow or down)",
            registry=r,
        )
        self.in_flight = Gauge(
            "edgewatch_ingest_batches_in_flight",
            "Bulk batches submitted, not yet done",
            registry=r,
        )
        self.batch_size = Histogram(
            "edgewatch_ingest_batch_documents",
            "Messages per batch",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
            registry=r,
        )
        self.bulk_seconds = Histogram(
            "edgewatch_ingest_bulk_seconds",
            "Latency of one bulk request to Elasticsearch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )

    def publish_clocks(self, clocks: ClockSkew, settings: IngestConfig) -> list[tuple[str, float]]:
        """The hosts whose clocks are furthest off, and how many drift beyond the bound (a
        bounded set of host labels: the top ones only); returns those drifting, (host,
        offset) furthest first, for the status document."""
        ranked = clocks.ranked()  # the medians, once for all
        self.clock_offset.clear()
        for host, offset in ranked[: settings.clock_hosts_shown]:
            self.clock_offset.labels(host).set(offset)
        drifting = beyond(ranked, settings.clock_drift_bound_s)
        self.clocks_drifting.set(len(drifting))
        return drifting
