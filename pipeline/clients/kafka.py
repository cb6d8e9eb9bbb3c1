"""Kafka clients (confluent-kafka / librdkafka) built from edgewatch's configuration.

Every client edgewatch makes (the ingest consumer, the dead-letter producer, admin clients,
`ship`, `check`, the demo) comes from here, so each one carries the same connection and
security settings, and each one reports a setting that cannot work once, clearly, instead of
librdkafka's endless reconnect log, and summarises the reconnect log of an outage: the first
line of each kind, then one count per 30 s (`ErrorWatch`, `kafka_logs.Throttle`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from pipeline.clients.kafka_errors import REPEATS_BEFORE_BLAME, SetupProblem, diagnose
from pipeline.clients.kafka_logs import WINDOW_S, Summary, Throttle
from pipeline.config import KafkaConfig

# librdkafka reports every failed connection attempt on stderr; route those reports through
# Python logging instead, where the application decides what is worth showing.
_LOG = logging.getLogger("edgewatch.kafka")


class KafkaSetupError(ConnectionError):
    """A Kafka setting cannot work (wrong password, wrong CA, wrong protocol); retrying will
    not help. The message names the setting to fix."""

    def __init__(self, problem: SetupProblem) -> None:
        super().__init__(problem.message)
        self.setting = problem.setting


class ErrorWatch(logging.Filter):
    """One client's error callback and log filter: it recognises a failure that only a
    setting can fix, logs it once as an error naming that setting, drops librdkafka's
    repeats of it, and keeps it in `problem` for the caller to stop on.

    Every other line is shown the first time its kind (facility, broker, problem) comes up;
    its repeats within `window_s` are counted instead, and one line at the end of the window
    says how many (kafka_logs.Throttle). A timer ends the window when the repeats stop
    (`timers=False`: only the next line, `expire()` or `flush()` do; for tests with a fake
    `clock`). librdkafka's debug lines (the `debug` setting) are all shown."""

    def __init__(
        self,
        config: KafkaConfig,
        *,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        timers: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.problem: SetupProblem | None = None
        self._seen: dict[str, int] = {}
        # librdkafka's lines arrive in whichever thread polls the client; the timer's too.
        self._lock = threading.Lock()
        self._throttle = Throttle(window_s)
        self._clock = clock
        self._timers = timers
        self._timer: threading.Timer | None = None
        self._timer_due = 0.0
        # A logger of this client's own, outside logging's registry (clients come and go),
        # passing records on to edgewatch.kafka's handlers.
        self.logger = logging.Logger(_LOG.name)
        self.logger.parent = _LOG
        # Every line reaches the filter, quiet ones too: a refused connection is logged at
        # INFO, below what edgewatch.kafka usually shows; `filter` applies that level after.
        self.logger.setLevel(logging.DEBUG)
        self.logger.addFilter(self)

    def __call__(self, error: KafkaError) -> None:
        """librdkafka's error_cb."""
        problem = diagnose(error.code(), error.str(), self.config)
        if problem is not None:
            self._found(problem)
        elif error.fatal():
            self._found(SetupProblem("kafka", f"Kafka client failed for good: {error.str()}"))

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep librdkafka's log line unless it repeats a problem already reported, or
        repeats a line of its kind shown less than a window ago."""
        message = record.getMessage()
        problem = diagnose(None, message, self.config)
        if problem is not None:
            self._found(problem)
            if self.problem is not None:
                return False  # reported once, as an error, by _found
        if record.levelno < _LOG.getEffectiveLevel():
            return False
        if record.levelno < logging.INFO:
            return True  # debug lines were asked for: all of them
        with self._lock:
            verdict = self._throttle.offer(message, record.levelno, self._clock())
            self._schedule()
        _log_summaries(verdict.summaries)
        return verdict.show

    def expire(self) -> None:
        """Log the summaries of the windows that have ended (the timer calls this)."""
        with self._lock:
            summaries = self._throttle.expire(self._clock())
            self._schedule()
        _log_summaries(summaries)

    def flush(self) -> None:
        """Log the summaries of every repeat counted so far, ended windows or not, and stop
        the timer: for a client being closed."""
        with self._lock:
            summaries = self._throttle.flush(self._clock())
            self._cancel_timer()
        _log_summaries(summaries)

    def _schedule(self) -> None:
        """Have the timer fire when the first window holding repeats ends (lock held)."""
        due = self._throttle.next_due()
        if not self._timers or due is None:
            return
        if self._timer is not None:
            if self._timer_due <= due:
                return  # it fires first, and schedules the next one
            self._timer.cancel()
        self._timer_due = due
        self._timer = threading.Timer(max(0.0, due - self._clock()), self._on_timer)
        self._timer.daemon = True
        self._timer.name = "kafka-log-summary"
        self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            if self._timer is threading.current_thread():
                self._timer = None
        self.expire()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _found(self, problem: SetupProblem) -> None:
        count = self._seen[problem.setting] = self._seen.get(problem.setting, 0) + 1
        if self.problem is not None or (problem.needs_repeats and count < REPEATS_BEFORE_BLAME):
            return
        self.problem = problem
        _LOG.error("%s", problem.message)

    def raise_if_broken(self) -> None:
        """Raise KafkaSetupError if a setting was found that cannot work."""
        if self.problem is not None:
            raise KafkaSetupError(self.problem)


def _log_summaries(summaries: Iterable[Summary]) -> None:
    # Straight to edgewatch.kafka: a client's own logger would pass them through its filter.
    for summary in summaries:
        _LOG.log(summary.level, "%s", summary.text)


def security_settings(config: KafkaConfig) -> dict[str, Any]:
    """The librdkafka keys of the typed security settings, then the pass-through table."""
    out: dict[str, Any] = {"security.protocol": config.security_protocol}
    if config.security_protocol.startswith("SASL_"):
        out["sasl.mechanism"] = config.sasl_mechanism
        if config.sasl_username is not None:
            out["sasl.username"] = config.sasl_username
        if config.sasl_password is not None:
            out["sasl.password"] = config.sasl_password
    if config.security_protocol.endswith("SSL"):
        for key, value in (
            ("ssl.ca.location", config.ssl_ca_location),
            ("ssl.certificate.location", config.ssl_certificate_location),
            ("ssl.key.location", config.ssl_key_location),
            ("ssl.key.password", config.ssl_key_password),
        ):
            if value is not None:
                out[key] = str(value)
        out["ssl.endpoint.identification.algorithm"] = (
            "https" if config.ssl_endpoint_identification else "none"
        )
    out.update(config.librdkafka)
    return out


def settings(
    config: KafkaConfig, watch: ErrorWatch | None = None, /, **overrides: Any
) -> dict[str, Any]:
    """librdkafka settings shared by every client, plus per-client overrides. `watch`
    receives the client's errors and log lines (a fresh one when not given)."""
    watch = watch or ErrorWatch(config)
    base: dict[str, Any] = {
        "bootstrap.servers": config.bootstrap,
        "client.id": config.client_id,
        **security_settings(config),
        "logger": watch.logger,
        "error_cb": watch,
    }
    base.update(overrides)
    return base


def admin(config: KafkaConfig, *, watch: ErrorWatch | None = None) -> AdminClient:
    """An admin client, for topics and cluster metadata."""
    return AdminClient(settings(config, watch))


def producer(config: KafkaConfig, watch: ErrorWatch | None = None, /, **overrides: Any) -> Producer:
    """An idempotent producer that waits for the broker's acknowledgement of every message.
    `watch` (positional, so that librdkafka's dotted keys stay free) sees its errors."""
    return Producer(
        settings(config, watch, **{"enable.idempotence": True, "acks": "all", **overrides})
    )


def consumer(
    config: KafkaConfig, group_id: str, watch: ErrorWatch | None = None, /, **overrides: Any
) -> Consumer:
    """A consumer-group member. Offsets are committed explicitly by the caller."""
    return Consumer(
        settings(
            config,
            watch,
            **{
                "group.id": group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                **overrides,
            },
        )
    )


@dataclass(frozen=True)
class ClusterSummary:
    """What a metadata request tells about the cluster."""

    brokers: int
    topics: int


def describe_cluster(config: KafkaConfig, timeout: float = 5.0) -> ClusterSummary:
    """Send one metadata request; raise ConnectionError with advice if nobody answers
    (KafkaSetupError, naming the setting, if a setting is why)."""
    watch = ErrorWatch(config)
    client = admin(config, watch=watch)
    try:
        metadata = client.list_topics(timeout=timeout)
    except KafkaException as err:
        client.poll(0)  # serve the error callbacks and log lines that say why
        watch.raise_if_broken()
        raise ConnectionError(
            f"no Kafka broker answered at {config.bootstrap} within {timeout:g} s ({err}). "
            "Start the local stack with `make stack-up`, or set EDGEWATCH_KAFKA_BOOTSTRAP."
        ) from err
    return ClusterSummary(brokers=len(metadata.brokers), topics=len(metadata.topics))
