"""The ingest service: a Kafka consumer-group member that indexes log lines into Elasticsearch.

Delivery guarantee: at-least-once into Elasticsearch, with no duplicates.

- A message's offset is committed only after its batch is written: every document
  acknowledged by Elasticsearch (indexer.py). Its dead letters are produced in the same Kafka
  transaction as the offsets commit, so each is written exactly once (transaction.py).
- Batches are written by a small pool of threads, so several bulk requests are in flight while
  the next batch is parsed; offsets are still committed strictly in order (inflight.py,
  offsets.py).
- Document ids are `<topic>/<partition>/<offset>` and the index is chosen from the message
  alone (its own timestamp, never the clock), so whatever is read twice (after a crash, a
  rebalance, an abandoned batch) overwrites itself instead of adding a copy.
- While Elasticsearch is failing, the writer retries with backoff and the consumer pauses its
  partitions once all `bulk_concurrency` writers are busy and the next batch is complete:
  memory stays bounded, nothing is committed past the failure, and the group membership
  stays alive (poll keeps turning).
- Nothing the loop does waits on Kafka or Elasticsearch for long (commits are asynchronous,
  source.py): through an outage of either, metrics, /healthz and /readyz stay true.

This module is the loop; source.py is the Kafka side, intake.py turns polls into batches,
inflight.py hands them to the writers, health.py and idle.py decide readiness and idling,
status.py reports how far behind the member is.
"""

from __future__ import annotations

import faulthandler
import gc
import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from elasticsearch import Elasticsearch

from pipeline.clients import elasticsearch as es_client
from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest import bulk, stale_sources, template, template_install
from pipeline.ingest.actions import bulk_op_type
from pipeline.ingest.clock import ClockSkew
from pipeline.ingest.health import Prober, elasticsearch_problem
from pipeline.ingest.idle import IdleExit, Observation, Verdict
from pipeline.ingest.indexer import BatchWriter
from pipeline.ingest.inflight import InFlight
from pipeline.ingest.intake import Intake
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.offsets import CommitTracker
from pipeline.ingest.source import KafkaSource, SetupError
from pipeline.ingest.status import StatusReporter
from pipeline.ingest.transaction import Transactions, transactional_id
from pipeline.telemetry import Heartbeat, StatusServer, total

__all__ = ["IngestOptions", "IngestService", "SetupError"]

log = logging.getLogger("edgewatch.ingest")

COMMIT_INTERVAL_S = 1.0
PAUSE_AFTER_S = 1.0  # all writers busy this long: pause the partitions
PROGRESS_INTERVAL_S = 10.0
IDLE_CHECK_INTERVAL_S = 1.0
EXIT_GAVE_UP = 2  # --exit-when-idle waited idle_exit_wait_s for Kafka in vain
GAVE_UP_DRAIN_S = 5.0  # ... and then waits this long for what is in flight
LETTER_BACKLOG_BYTES = 64 * 1024 * 1024  # dead letters waiting for a commit: pause beyond


@dataclass(frozen=True)
class IngestOptions:
    """What the command line chooses for one run."""

    topics: tuple[str, ...] = ()
    topic_pattern: str | None = None
    group: str | None = None
    exit_when_idle: float | None = None
    http_port: int | None = None  # None: ingest.http_port from the config
    instance_id: str | None = None  # None: ingest.instance_id from the config


class IngestService:
    """One consumer-group member. `run()` blocks until stopped (signal, idle exit, `stop()`)."""

    def __init__(self, config: Config, options: IngestOptions) -> None:
        if not options.topics and not options.topic_pattern:
            raise ValueError("give at least one topic or a topic pattern")
        self.config = config
        self.settings = config.ingest
        self.options = options
        self.metrics = IngestMetrics()
        self.heartbeat = Heartbeat()
        self._stop = threading.Event()  # leave the loop, finish what is in flight
        self._abandon = threading.Event()  # give up on what is in flight
        self._tracker = CommitTracker()
        self._template_ready = False
        self._es: Elasticsearch = es_client.connect(config.es)
        # Sees both Kafka clients' errors: a setting that cannot work (a wrong password, CA
        # or protocol) stops the service with one clear error instead of endless reconnects.
        self._kafka_watch = kafka_client.ErrorWatch(config.kafka)
        self._closing = threading.Event()  # the committer's transaction lets go
        self._writer = BatchWriter(
            self._es,
            self.metrics,
            op_type=bulk_op_type(self.settings),
            backoff=bulk.Backoff(cap_s=self.settings.retry_backoff_max_s),
            stopping=self._abandon,
            request_timeout=max(30.0, config.es.request_timeout),
            probe_template=template.template_name(self.settings),
        )
        self._batches = InFlight(self.settings, self._writer, self.metrics, self._tracker)
        self._source: KafkaSource | None = None
        self._intake: Intake | None = None
        self.clocks = ClockSkew()
        self._reporter = StatusReporter(self._es, self.settings, self.metrics)
        self._status: StatusServer | None = None
        self._prober = Prober(self._writer.probe, self._last_heard_from_es)

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Ask the service to finish: flush, commit and return from `run()`."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the service gracefully; SIGUSR1 prints every thread's
        stack to stderr (what is it waiting on?) and lets it run on."""
        faulthandler.register(signal.SIGUSR1, all_threads=True)

        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info(
                "received %s: flushing and committing before exit", signal.Signals(signum).name
            )
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self) -> int:
        """Consume until stopped; return the process exit code."""
        port = self.settings.http_port if self.options.http_port is None else self.options.http_port
        if port:
            self._status = StatusServer(
                self.metrics.registry,
                self.heartbeat,
                self.ready_problem,
                host=self.settings.http_host,
                port=port,
            ).start()
            log.info(
                "metrics and health on http://%s:%d/metrics, /healthz, /readyz",
                self.settings.http_host,
                self._status.port,
            )
        try:
            # First: the topics' settings (their schemas) stop the service at once if wrong.
            self._intake = Intake(self.settings, self._batches, self._message_error)
            if not template_install.install(self._es, self.config, self._stop):
                return 0
            self._template_ready = True
            self._prober.start()
            source = self._source = self._make_source()
            # Batches keep tens of thousands of small dicts alive, none of them in reference
            # cycles: at the default threshold the cyclic collector rescans them constantly
            # and finds nothing. Collect far less often (measured: ~15% more events/s).
            gc.freeze()
            gc.set_threshold(100_000, 50, 100)
            code = self._loop(source)
            # Given up on Kafka: what waits on it (dead letters) will not get through now.
            self._shutdown(source, GAVE_UP_DRAIN_S if code == EXIT_GAVE_UP else None)
            return code
        finally:
            self._prober.stop()
            self._batches.shutdown()
            if self._status is not None:
                self._status.stop()

    # ------------------------------------------------------------------ setup

    def _make_source(self) -> KafkaSource:
        group = self.options.group or self.settings.group
        instance_id = self.options.instance_id or self.settings.instance_id
        transactions = Transactions(
            self._producer,
            transactional_id(group, instance_id),
            dlq_suffix=self.settings.dlq_suffix,
            closing=self._closing,
        )
        source = KafkaSource(
            self.config,
            group,
            instance_id,
            self.metrics,
            self._tracker,
            self._kafka_watch,
            before_revoke=self._before_revoke,
            before_lost=self._before_lost,
            transactions=transactions,
            closing=self._closing,
        )
        subscription = source.subscribe(self.options.topics, self.options.topic_pattern)
        log.info(
            "consuming %s as group %s%s from %s",
            ", ".join(subscription),
            group,
            f" (static member {instance_id})" if instance_id else "",
            self.config.kafka.bootstrap,
        )
        stale = stale_sources()
        if stale:
            log.warning(
                "%s changed after the native ingest core was built: those edits do not run "
                "until it is rebuilt (make venv)",
                ", ".join(stale),
            )
        return source

    def _message_error(self, error: KafkaError) -> None:
        """An error consume() returned in place of a message (the source's to judge)."""
        assert self._source is not None
        self._source.message_error(error)

    def _producer(self, overrides: dict[str, Any]) -> Producer:
        """The dead-letter producer (transaction.py adds its transactional settings). Dead
        letters can be as large as anything the source topic accepted; the broker has the
        last word, and a refusal there leads to truncation (transaction.truncate)."""
        return kafka_client.producer(
            self.config.kafka,
            self._kafka_watch,
            **{"linger.ms": 20, "message.max.bytes": 100 * 1024 * 1024, **overrides},
        )

    # ------------------------------------------------------------------ the loop

    def _loop(self, source: KafkaSource) -> int:
        """Read, build, write and commit until stopped; the exit code."""
        assert self._intake is not None
        intake, batches, consumer = self._intake, self._batches, source.consumer
        idle = IdleExit(self.settings.idle_exit_wait_s)
        idle_since = time.monotonic()
        next_commit = idle_since + COMMIT_INTERVAL_S
        next_progress = idle_since + PROGRESS_INTERVAL_S
        next_idle_check = idle_since
        while not self._stop.is_set():
            self.heartbeat.beat()
            source.check()
            if batches.full() and batches.complete():
                # The next batch is built and every writer is busy: usually one finishes
                # within a bulk request's time. Building that batch while the writers were
                # busy keeps a request waiting for Elasticsearch the moment one returns.
                batches.reap(wait=PAUSE_AFTER_S)
                if not batches.full():
                    batches.submit()
            # Still busy: Elasticsearch is slow or failing. Pause the partitions so memory
            # stays bounded (the writers' batches plus one), and keep polling so the group
            # keeps us.
            # So do dead letters piling up while commits fail (a dead-letter partition's
            # leader away while the log topics are read on).
            hold = (batches.full() and batches.complete()) or (
                self._tracker.letter_bytes() > LETTER_BACKLOG_BYTES
            )
            source.hold(hold)
            if hold:
                messages: list[Message] = consumer.consume(num_messages=1, timeout=0.05)
            else:
                room = self.settings.bulk_max_docs - len(batches.open)
                wait = 0.05 if batches.open else 0.25
                messages = consumer.consume(max(1, min(1000, room)), wait)
            now = time.monotonic()
            if messages or source.paused:
                # Quiet means nothing arrived while we were free to read, not while paused
                # (batches still being written are the idle check's business: idle.py)...
                idle_since = now
            # ...and not while the group was still handing out partitions.
            idle_since = max(idle_since, source.assigned_at)
            intake.take(messages, datetime.now(UTC))
            intake.hand_over(self.metrics, self.clocks)
            if not batches.full() and (batches.lingered(now) or batches.complete()):
                batches.submit()
            batches.reap()
            if now >= next_commit:
                source.commit()
                next_commit = now + COMMIT_INTERVAL_S
            if now >= next_progress:
                drifting = self.metrics.publish_clocks(self.clocks, self.settings)
                self._reporter.report(source, drifting)  # status.py: the alert side reads it
                self._progress()
                next_progress = now + PROGRESS_INTERVAL_S
            if self.options.exit_when_idle is not None and now >= next_idle_check:
                next_idle_check = now + IDLE_CHECK_INTERVAL_S
                quiet = now - idle_since >= self.options.exit_when_idle
                code = self._idle_exit(source, idle, now, quiet)
                if code is not None:
                    return code
        return 0

    def _idle_exit(
        self, source: KafkaSource, idle: IdleExit, now: float, quiet: bool
    ) -> int | None:
        """--exit-when-idle: the exit code once caught up (or given up), else None."""
        drained = not self._batches.open and not len(self._batches)
        problem = source.health.problem(now) if quiet else None
        seen = Observation(
            quiet=quiet,
            drained=drained,
            kafka_problem=problem,
            group_unsettled=source.health.unsettled(),
            assigned=len(source.assigned),
            # Asked of the broker only when everything else says idle: a bounded request.
            behind=source.behind() if quiet and drained and problem is None else {},
        )
        verdict = idle.check(now, seen)
        if verdict is Verdict.EXIT:
            if not source.commit_now():
                return None  # not everything committed: not done yet
            log.info(
                "caught up (every assigned partition read to its end), no message for "
                "%.0f s and everything committed: exiting",
                self.options.exit_when_idle,
            )
            return 0
        if verdict is Verdict.FAIL:
            log.error(
                "giving up after waiting %.0f s (ingest.idle_exit_wait_s) to catch up: %s. "
                "What was read and written is committed; run again once Kafka is reachable",
                self.settings.idle_exit_wait_s,
                idle.reason,
            )
            return EXIT_GAVE_UP
        return None

    def _before_revoke(self) -> None:
        """A rebalance takes partitions away: write what was read first (bounded)."""
        self._batches.drain(self.settings.shutdown_timeout_s, self._abandon, for_good=False)

    def _before_lost(self) -> None:
        """Partitions lost (the session expired): hand the open batch to the writers first,
        so the tracker knows it and drops the lost partitions' offsets and dead letters from
        it. Kept open, it would commit them later, under the new assignment, after the next
        owner (maybe us again) started reading them anew: their letters twice."""
        if self._batches.open:
            self._batches.submit()

    def _shutdown(self, source: KafkaSource, drain_s: float | None = None) -> None:
        log.info("stopping: writing what was read, then committing")
        timeout = self.settings.shutdown_timeout_s if drain_s is None else drain_s
        self._batches.drain(timeout, self._abandon, for_good=True)
        if not source.commit_now(timeout=min(10.0, timeout)):
            log.warning(
                "the last offsets could not be committed: those messages will be read again"
            )
        source.close()
        self._progress()

    # ------------------------------------------------------------------ observability

    @property
    def template_installed(self) -> bool:
        """True once the index template is in place (ingest waits for it before consuming)."""
        return self._template_ready

    def _last_heard_from_es(self) -> float:
        return max(self._writer.last_success, self._writer.last_failure)

    def ready_problem(self) -> str | None:
        """None when ready to work, else why not (what /readyz answers): Elasticsearch's
        side, then Kafka's."""
        writer = self._writer
        problem = elasticsearch_problem(
            self._template_ready, writer.last_success, writer.last_failure, writer.last_error
        )
        if problem is not None:
            return problem
        if self._source is None:
            return "kafka: consumer not started"
        return self._source.health.problem(time.monotonic())

    def _progress(self) -> None:
        log.info(
            "consumed %d, indexed %d, dead-lettered %d, %d batch(es) in flight%s",
            total(self.metrics.consumed),
            total(self.metrics.indexed),
            total(self.metrics.dead_lettered),
            len(self._batches),
            self._pause_note(),
        )

    def _pause_note(self) -> str:
        committer = self._source.committer if self._source else None
        if committer is not None and committer.last_error:
            return f"; commits failing: {committer.last_error}"
        if self._writer.last_error and self._writer.last_failure > self._writer.last_success:
            return f"; PAUSED, Elasticsearch failing: {self._writer.last_error}"
        problem = self._source.health.problem(time.monotonic()) if self._source else None
        if problem:
            return f"; {problem}"
        if self._source and self._source.paused:
            return "; paused while bulk requests finish"
        stalled = self._source.not_fetching() if self._source else None
        return f"; {stalled}" if stalled else ""
