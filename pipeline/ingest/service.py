"""The ingest service: a Kafka consumer-group member that indexes log lines into Elasticsearch.

Delivery guarantee: at-least-once into Elasticsearch, with no duplicates.

- A message's offset is committed only after its batch is written: every document
  acknowledged by Elasticsearch, every dead letter acknowledged by Kafka (indexer.py).
- Batches are written by a small pool of threads, so several bulk requests are in flight while
  the next batch is parsed; offsets are still committed strictly in order (offsets.py).
- Document ids are `<topic>/<partition>/<offset>` and the index is chosen from the message
  alone (its own timestamp, never the clock), so whatever is read twice (after a crash, a
  rebalance, an abandoned batch) overwrites itself instead of adding a copy.
- While Elasticsearch is failing, the writer retries with backoff and the consumer pauses its
  partitions once all `bulk_concurrency` writers are busy and the next batch is complete:
  memory stays bounded, nothing is committed past the failure, and the group membership
  stays alive (poll keeps turning).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import signal
import threading
import time
from collections import deque
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.clients import elasticsearch as es_client
from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest import bulk, core_build, stale_sources, template, transform
from pipeline.ingest.indexer import AbandonedError, Batch, BatchWriter
from pipeline.ingest.metrics import IngestMetrics
from pipeline.ingest.normalise import iso
from pipeline.ingest.offsets import CommitTracker
from pipeline.ingest.runs import origin_of
from pipeline.ingest.transform import (
    DeadLetter,
    IndexAction,
    Transformer,
    Validator,
    bulk_op_type,
)
from pipeline.telemetry import Heartbeat, StatusServer, total

log = logging.getLogger("edgewatch.ingest")

COMMIT_INTERVAL_S = 1.0
PAUSE_AFTER_S = 1.0  # all writers busy this long: pause the partitions
PROGRESS_INTERVAL_S = 10.0
_AUTHORIZATION_ERRORS = (
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
)


class SetupError(Exception):
    """The service cannot start for a reason only the operator can fix."""


@dataclass(frozen=True)
class IngestOptions:
    """What the command line chooses for one run."""

    topics: tuple[str, ...] = ()
    topic_pattern: str | None = None
    group: str | None = None
    exit_when_idle: float | None = None
    http_port: int | None = None  # None: ingest.http_port from the config


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
        self._futures: deque[tuple[int, Future[None]]] = deque()
        self._batch = Batch()
        self._assigned: set[tuple[str, int]] = set()
        self._paused = False
        self._closing = False
        self._assigned_at = 0.0
        self._template_ready = False
        # Per topic, how its messages are transformed; None for our own dead-letter topics.
        self._routes: dict[str, Transformer | None] = {}
        self._consumed: dict[str, int] = {}  # per poll, added to the metric in one go
        # Per poll too: documents whose event time lay outside the index-time window, by
        # (topic, side); the native core counts its own in `take`.
        self._outside: dict[tuple[str, str], int] = {}
        # The native core's view of the routes: it takes whole polls (None: per message).
        native = transform.NATIVE if self.settings.native_core else None
        self._intake: Any = native.Intake() if native is not None else None
        self._es: Elasticsearch = es_client.connect(config.es)
        # Sees both Kafka clients' errors: a setting that cannot work (a wrong password, CA
        # or protocol) stops the service with one clear error instead of endless reconnects.
        self._kafka_watch = kafka_client.ErrorWatch(config.kafka)
        # Dead letters can be as large as anything the source topic accepted; the broker has
        # the last word, and a refusal there leads to truncation (indexer.truncate).
        self._producer = kafka_client.producer(
            config.kafka,
            self._kafka_watch,
            **{"linger.ms": 20, "message.max.bytes": 100 * 1024 * 1024},
        )
        self._writer = BatchWriter(
            self._es,
            self._producer,
            self.metrics,
            op_type=bulk_op_type(self.settings),
            dlq_suffix=self.settings.dlq_suffix,
            backoff=bulk.Backoff(cap_s=self.settings.retry_backoff_max_s),
            stopping=self._abandon,
            request_timeout=max(30.0, config.es.request_timeout),
        )
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.bulk_concurrency, thread_name_prefix="bulk"
        )
        self._consumer: Consumer | None = None
        self._status: StatusServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Ask the service to finish: flush, commit and return from `run()`."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the service gracefully."""

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
            self._install_template()
            if self._stop.is_set():
                return 0
            self._consumer = self._make_consumer()
            # Batches keep tens of thousands of small dicts alive, none of them in reference
            # cycles: at the default threshold the cyclic collector rescans them constantly
            # and finds nothing. Collect far less often (measured: ~15% more events/s).
            gc.freeze()
            gc.set_threshold(100_000, 50, 100)
            self._loop()
            self._shutdown()
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            if self._status is not None:
                self._status.stop()
        return 0

    # ------------------------------------------------------------------ setup

    def _install_template(self) -> None:
        attempt = 0
        backoff = bulk.Backoff(cap_s=self.settings.retry_backoff_max_s)
        while not self._stop.is_set():
            es = self._es.options(request_timeout=10, max_retries=0)
            try:
                policy = template.ilm_policy(self.settings)
                if policy is not None:  # before the template that names it
                    self._put_policy(es, policy)
                es.indices.put_index_template(
                    name=template.template_name(self.settings),
                    **template.template_body(self.settings),
                )
                self._template_ready = True
                log.info(
                    "index template %s installed for %s",
                    template.template_name(self.settings),
                    template.index_pattern(self.settings),
                )
                return
            except ApiError as err:
                advice = es_client.explain(err, self.config.es)
                if advice:
                    raise SetupError(advice) from err
                if err.meta.status < 500 and err.meta.status != 429:
                    raise SetupError(
                        f"Elasticsearch refused the index template "
                        f"{template.template_name(self.settings)}: {err.message} "
                        f"({err.body}). Choose an ingest.index_prefix whose indices no other "
                        "template of the same priority matches, or remove that template."
                    ) from err
                delay = backoff.delay(attempt)
                log.warning(
                    "cannot install the index template (%s); retrying in %.1f s", err, delay
                )
                attempt += 1
                self._stop.wait(delay)
            except TransportError as err:
                advice = es_client.explain(err, self.config.es)
                if advice:  # a wrong CA or scheme: retrying cannot help
                    raise SetupError(advice) from err
                delay = backoff.delay(attempt)
                log.warning(
                    "cannot install the index template (%s); Elasticsearch at %s "
                    "unreachable? retrying in %.1f s",
                    err,
                    self.config.es.url,
                    delay,
                )
                attempt += 1
                self._stop.wait(delay)

    def _put_policy(self, es: Elasticsearch, policy: dict[str, Any]) -> None:
        name = template.template_name(self.settings)
        try:
            es.ilm.put_lifecycle(name=name, policy=policy)
        except ApiError as err:
            if err.meta.status < 500 and err.meta.status != 429:
                raise SetupError(
                    f"Elasticsearch refused the ILM policy {name}: {err.message} ({err.body}). "
                    "ILM needs Elasticsearch's default distribution; without it, unset "
                    "ingest.ilm_delete_after_days and delete old indices yourself."
                ) from err
            raise
        log.info("ILM policy %s installed: %s", name, policy["phases"])

    def _make_consumer(self) -> Consumer:
        group = self.options.group or self.settings.group
        consumer = kafka_client.consumer(
            self.config.kafka,
            group,
            self._kafka_watch,
            **{
                "enable.auto.offset.store": False,
                "statistics.interval.ms": 5000,
                "stats_cb": self._on_stats,
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 1000,
                "fetch.max.bytes": 16 * 1024 * 1024,
            },
        )
        subscription = list(self.options.topics)
        if self.options.topic_pattern:
            subscription.append("^" + self.options.topic_pattern.removeprefix("^"))
        consumer.subscribe(
            subscription,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info(
            "consuming %s as group %s from %s; ingest core %s",
            ", ".join(subscription),
            group,
            self.config.kafka.bootstrap,
            core_build(),
        )
        stale = stale_sources()
        if stale:
            log.warning(
                "%s changed after the ingest core was compiled: those edits do not run until "
                "it is rebuilt (make venv)",
                ", ".join(stale),
            )
        return consumer

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        idle_since = time.monotonic()
        started = idle_since
        next_commit = idle_since + COMMIT_INTERVAL_S
        next_progress = idle_since + PROGRESS_INTERVAL_S
        ever_assigned = False
        while not self._stop.is_set():
            self.heartbeat.beat()
            if self._kafka_watch.problem is not None:
                raise SetupError(self._kafka_watch.problem.message)
            if self._full() and self._batch_complete():
                # The next batch is built and every writer is busy: usually one finishes
                # within a bulk request's time. Building that batch while the writers were
                # busy keeps a request waiting for Elasticsearch the moment one returns.
                self._reap(wait=PAUSE_AFTER_S)
                if not self._full():
                    self._submit()
            # Still busy: Elasticsearch is slow or failing. Pause the partitions so memory
            # stays bounded (the writers' batches plus one), and keep polling so the group
            # keeps us.
            hold = self._full() and self._batch_complete()
            self._backpressure(consumer, hold)
            if hold:
                messages: list[Message] = consumer.consume(num_messages=1, timeout=0.05)
            else:
                room = self.settings.bulk_max_docs - len(self._batch)
                messages = consumer.consume(max(1, min(1000, room)), 0.05 if self._batch else 0.25)
            now = time.monotonic()
            if messages or self._futures or self._paused:
                # Idle means nothing arrived while we were free to read, not while paused.
                idle_since = now
            # ...and not while the group was still handing out partitions.
            idle_since = max(idle_since, self._assigned_at)
            received = datetime.now(UTC)
            self._take(messages, received)
            if self._consumed:
                for topic, n in self._consumed.items():
                    self.metrics.consumed.labels(topic).inc(n)
                self._consumed.clear()
            if self._outside:
                for (topic, side), n in self._outside.items():
                    self.metrics.outside_window.labels(topic, side).inc(n)
                self._outside.clear()
            if (
                self._batch
                and not self._full()
                and (
                    now - self._batch.started >= self.settings.linger_ms / 1000
                    or self._batch_complete()
                )
            ):
                self._submit()
            self._reap()
            if now >= next_commit:
                self._commit()
                next_commit = now + COMMIT_INTERVAL_S
            if now >= next_progress:
                self._progress()
                next_progress = now + PROGRESS_INTERVAL_S
            ever_assigned = ever_assigned or bool(self._assigned)
            if self.options.exit_when_idle is not None:
                quiet = now - idle_since >= self.options.exit_when_idle
                drained = not self._batch and not self._futures
                waited_long = now - started >= max(self.options.exit_when_idle, 30.0)
                if quiet and drained and (ever_assigned or waited_long):
                    self._commit()
                    log.info(
                        "no message for %.0f s and everything committed: exiting",
                        self.options.exit_when_idle,
                    )
                    return

    def _take(self, messages: list[Message], received: datetime) -> None:
        """Transform what one consume() call returned into the open batch.

        The native core takes the whole poll in one call, up to the room left in the batch,
        and records every offset and count itself; what it declines (errors, dead letters,
        rare shapes, topics with their own schema) then takes the Python path, message by
        message. One call per poll instead of per message: 5.5 -> 3.3 us per event here.
        """
        intake = self._intake
        if intake is None:
            self._take_each(messages, received)
            return
        ingested = iso(received)
        max_message, max_bytes = self.settings.max_message_bytes, self.settings.bulk_max_bytes
        start = 0
        while start < len(messages):
            batch = self._batch
            # No writer free: this batch cannot leave yet, so its size limit cannot be kept.
            room = max_bytes - batch.size_bytes if not self._full() else _UNBOUNDED
            run, declined, start = intake.take(
                messages,
                start,
                ingested,
                max_message,
                room,
                batch.last_offsets,
                self._consumed,
                self._outside,
            )
            if len(run):
                batch.add_run(run)
            if declined:
                self._take_each([messages[i] for i in declined], received, counted=True)
            if self._batch_complete() and not self._full():
                self._submit()

    def _take_each(
        self, messages: list[Message], received: datetime, counted: bool = False
    ) -> None:
        """Transform messages one at a time into the open batch. `counted`: their offsets
        and counts are already recorded (by the native core's `take`), and they all belong
        in the open batch. (What `take` declined is offered to the native core once more,
        one message at a time: it declined the first poll of a topic only because it did
        not know the topic yet. The rest is rare: dead letters and odd shapes.)

        This loop ran once per event before the native core took whole polls, and still
        does without it: it keeps what it needs in locals, and each topic's settings are
        worked out once, in its Transformer (7.2 us per event before, 6.2 after).
        """
        batch = self._batch
        actions, last_offsets, size = batch.actions, batch.last_offsets, batch.size_bytes
        consumed, routes = self._consumed, self._routes
        max_bytes = self.settings.bulk_max_bytes
        for message in messages:
            error = message.error()
            if error is not None:
                self._kafka_error(error)
                continue
            origin = origin_of(message)
            topic = origin.topic
            if not counted:
                consumed[topic] = consumed.get(topic, 0) + 1
                last_offsets[(topic, origin.partition)] = origin.offset
            route = routes[topic] if topic in routes else self._route(topic)
            if route is None:
                continue  # our own dead-letter topic, matched by a pattern: never re-ingest
            action = route(message.value(), origin, received)
            if type(action) is IndexAction:
                actions.append(action)
                size += len(action.entry)
                if action.outside_window:  # rare: the Kafka timestamp named its index
                    key = (topic, action.outside_window)
                    self._outside[key] = self._outside.get(key, 0) + 1
            else:
                assert isinstance(action, DeadLetter)
                batch.letters.append(action)
                size += len(action.value)
            # Counted by documents the consume() call cannot overshoot (the loop asks for at
            # most the room left); by bytes it can, so that is checked here.
            if size >= max_bytes and not counted and not self._full():
                batch.size_bytes = size
                self._submit()
                batch = self._batch
                actions, last_offsets, size = batch.actions, batch.last_offsets, batch.size_bytes
        batch.size_bytes = size

    def _kafka_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise KafkaException(error)
        if error.code() in _AUTHORIZATION_ERRORS:
            # Retrying cannot help: the user lacks an ACL. Say which, and where the list is.
            raise SetupError(
                f"Kafka refused user {self.config.kafka.sasl_username or 'ANONYMOUS'!r}: "
                f"{error.str()}. Grant the ACLs docs/operations.md lists for ingest (READ on "
                f"the log topics and the group {self.options.group or self.settings.group!r},"
                f" WRITE on <topic>{self.settings.dlq_suffix})"
            )
        log.warning("kafka: %s", error)

    def _route(self, topic: str) -> Transformer | None:
        """How this topic's messages are transformed, worked out once per topic."""
        route = None
        if not topic.endswith(self.settings.dlq_suffix):
            config = self.settings.topic(topic)
            validator = compile_schema(config.schema) if config.schema else None
            route = Transformer(self.settings, config, validator)
        self._routes[topic] = route
        if self._intake is not None:
            if route is None:
                self._intake.skip(topic)
            elif route.native is not None:
                self._intake.route(topic, route.native)
        return route

    def _submit(self) -> None:
        batch, self._batch = self._batch, Batch()
        self.metrics.batch_size.observe(len(batch))
        native = sum(map(_built_natively, batch.actions))  # (a C loop: it runs per document)
        self.metrics.built.labels("native").inc(batch.run_documents + native)
        self.metrics.built.labels("python").inc(len(batch.actions) - native)
        batch_id = self._tracker.open(batch.last_offsets)
        self._futures.append((batch_id, self._pool.submit(self._writer.write, batch)))
        self.metrics.in_flight.set(len(self._futures))

    def _reap(self, wait: float = 0.0) -> None:
        """Release finished batches to the commit tracker (they may finish out of order)."""
        if wait and self._futures:
            futures.wait([f for _, f in self._futures], wait, futures.FIRST_COMPLETED)
        for batch_id, future in list(self._futures):
            if future.done():
                self._futures.remove((batch_id, future))
                error = future.exception()
                if isinstance(error, AbandonedError):
                    continue  # never committed: read again after restart or rebalance
                if error is not None:
                    raise error
                self._tracker.done(batch_id)
        self.metrics.in_flight.set(len(self._futures))

    def _full(self) -> bool:
        return len(self._futures) >= self.settings.bulk_concurrency

    def _batch_complete(self) -> bool:
        batch = self._batch
        return (
            len(batch) >= self.settings.bulk_max_docs
            or batch.size_bytes >= self.settings.bulk_max_bytes
        )

    def _backpressure(self, consumer: Consumer, hold: bool) -> None:
        if hold and not self._paused and self._assigned:
            consumer.pause([TopicPartition(t, p) for t, p in self._assigned])
            self._paused = True
            self.metrics.paused.set(1)
        elif not hold and self._paused:
            consumer.resume([TopicPartition(t, p) for t, p in self._assigned])
            self._paused = False
            self.metrics.paused.set(0)

    def _commit(self, only: set[tuple[str, int]] | None = None) -> None:
        offsets = self._tracker.take(only)
        if not offsets or self._consumer is None:
            return
        try:
            self._consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                asynchronous=False,
            )
            self.metrics.commits.inc()
        except KafkaException as err:
            # Usually a rebalance in progress. Not committing is safe: the messages are read
            # again by the partition's next owner and overwrite their own documents.
            log.warning("offset commit failed (%s); those messages may be read again", err)

    def _drain(self, timeout: float) -> None:
        """Write the open batch and wait (bounded) for everything in flight."""
        if self._batch:
            self._submit()
        deadline = time.monotonic() + timeout
        while self._futures and time.monotonic() < deadline:
            self._reap(wait=0.2)
        if self._futures:
            log.warning(
                "%d batches still unwritten after %.0f s; abandoning them (they will "
                "be read again)",
                len(self._futures),
                timeout,
            )
            self._abandon.set()
            for batch_id, future in list(self._futures):
                try:
                    future.result(timeout=max(5.0, self.config.es.request_timeout))
                    self._tracker.done(batch_id)
                except Exception:  # AbandonedError, or the request timing out
                    pass
            self._futures.clear()
            if not self._stop.is_set():
                self._abandon.clear()  # a rebalance, not a shutdown: later batches go on

    def _shutdown(self) -> None:
        log.info("stopping: writing what was read, then committing")
        self._drain(self.settings.shutdown_timeout_s)
        self._commit()
        self._closing = True  # the revoke during close() must not wait for anything again
        if self._consumer is not None:
            self._consumer.close()
        self._producer.flush(10)
        self._progress()

    # ------------------------------------------------------------------ rebalances

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        self._assigned_at = time.monotonic()
        self._paused = False
        log.info("assigned %s", _names(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        log.info("revoked %s: writing and committing what was read", _names(partitions))
        if not self._closing:
            self._drain(self.settings.shutdown_timeout_s)
        self._commit(only=revoked)
        self._tracker.forget(revoked)
        self._assigned -= revoked
        for topic, partition in revoked:
            with contextlib.suppress(KeyError):  # never reported
                self.metrics.lag.remove(topic, str(partition))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = {(tp.topic, tp.partition) for tp in partitions}
        log.warning(
            "lost %s (session expired): their uncommitted messages will be read again",
            _names(partitions),
        )
        self._tracker.forget(lost)
        self._assigned -= lost

    # ------------------------------------------------------------------ observability

    def _on_stats(self, stats_json: str) -> None:
        stats = json.loads(stats_json)
        for topic, info in stats.get("topics", {}).items():
            for partition, p in info.get("partitions", {}).items():
                if partition == "-1" or (topic, int(partition)) not in self._assigned:
                    continue
                lag = p.get("consumer_lag", -1)
                if lag >= 0:
                    self.metrics.lag.labels(topic, partition).set(lag)

    @property
    def template_installed(self) -> bool:
        """True once the index template is in place (ingest waits for it before consuming)."""
        return self._template_ready

    def ready_problem(self) -> str | None:
        """None when ready to work, else why not (what /readyz answers)."""
        if not self._template_ready:
            return f"index template not installed yet (Elasticsearch at {self.config.es.url})"
        if self._writer.last_error:
            return f"Elasticsearch failing: {self._writer.last_error}"
        if self._consumer is None:
            return "consumer not started"
        return None

    def _progress(self) -> None:
        log.info(
            "consumed %d, indexed %d, dead-lettered %d, %d batch(es) in flight%s",
            total(self.metrics.consumed),
            total(self.metrics.indexed),
            total(self.metrics.dead_lettered),
            len(self._futures),
            self._pause_note(),
        )

    def _pause_note(self) -> str:
        if self._writer.last_error:
            return f"; PAUSED, Elasticsearch failing: {self._writer.last_error}"
        return "; paused while bulk requests finish" if self._paused else ""


_built_natively = attrgetter("native")
_UNBOUNDED = 1 << 62


def compile_schema(path: Path) -> Validator:
    """Compile a user's JSON Schema once (fastjsonschema generates Python code for it)."""
    import fastjsonschema

    check = fastjsonschema.compile(orjson.loads(path.read_bytes()))

    def validate(obj: dict[str, Any]) -> str | None:
        try:
            check(obj)
        except fastjsonschema.JsonSchemaValueException as err:
            return f"{err.message} (at {err.name})"
        return None

    return validate


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
