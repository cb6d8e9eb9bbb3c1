"""The courier: delivers what the outbox holds, retrying until sent or given up.

It runs an asyncio loop on its own thread, because sending is waiting (SMTP dialogues, HTTP
round trips) and many notifications can be in flight at once without a thread each. Rule
executions call `submit`, which stores the notification in the outbox (in the caller's
thread: once `submit` returns, the notification survives a crash) and wakes the loop to send
it at once. Every `scan_interval_s` the loop also asks the outbox for anything due, which is
how retries after a restart and notifications of a crashed sender get picked up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.alerting import outbound_http
from pipeline.alerting.delivery import retry as delivery
from pipeline.alerting.delivery.notifications import EMAIL, WEBHOOK, Notification
from pipeline.alerting.delivery.outbox import FAILED, SENT, Claimed, GaveUp, Outbox
from pipeline.alerting.delivery.senders import DeliveryError, send_email, send_webhook
from pipeline.config import Config

log = logging.getLogger("edgewatch.alert.delivery")

_FINISHED_KEPT = 10_000
# httpx's errors for a request it refuses to make (bad URL, scheme, header): no retry helps.
_MALFORMED_REQUEST = (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)
Sender = Callable[[Notification], Awaitable[str]]


class DeliveryMetrics:
    """Prometheus metrics of notification delivery."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            "edgewatch_alert_notifications",
            "Notification attempts by type and outcome (sent, retry, failed)",
            ["type", "outcome"],
            registry=registry,
        )
        self.pending = Gauge(
            "edgewatch_alert_outbox_pending",
            "Notifications in the outbox not yet sent or given up",
            registry=registry,
        )
        self.latency = Histogram(
            "edgewatch_alert_delivery_seconds",
            "From the firing to the server accepting the notification",
            registry=registry,
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800),
        )


class Courier:
    """Sends notifications from the outbox on a background asyncio loop."""

    def __init__(
        self,
        config: Config,
        outbox: Outbox,
        registry: CollectorRegistry | None = None,
        scan_interval_s: float = 5.0,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.metrics = DeliveryMetrics(registry or CollectorRegistry())
        self.scan_interval_s = scan_interval_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="courier", daemon=True)
        self._wake: asyncio.Queue[str] | None = None
        self._in_flight: set[str] = set()
        self._finished: dict[str, str] = {}  # id -> sent | failed, for `wait`
        self._done = threading.Condition()
        self._stopping = False
        self._http: httpx.AsyncClient | None = None
        self._senders: dict[str, Sender] = {EMAIL: self._email, WEBHOOK: self._webhook}

    # ------------------------------------------------------------------ caller side

    def start(self) -> Courier:
        self.outbox.install()
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the attempts in flight (unsent ones stay in the outbox)."""
        if not self._thread.is_alive():
            return
        self._stopping = True
        self._loop.call_soon_threadsafe(self._nudge, "")
        self._thread.join(timeout)

    def submit(self, notification: Notification) -> bool:
        """Store the notification in the outbox, then send it soon. False: already stored."""
        new = self.outbox.enqueue(notification, self.config.alert.delivery_deadline_s)
        if new and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._nudge, notification.id)
        return new

    def wait(self, ids: Iterable[str], timeout: float) -> dict[str, str]:
        """Block until these notifications are sent or failed, or the timeout; their states."""
        wanted = set(ids)
        with self._done:
            self._done.wait_for(lambda: wanted <= set(self._finished), timeout)
            return {i: self._finished.get(i, "pending") for i in wanted}

    # ------------------------------------------------------------------ loop side

    def _nudge(self, notification_id: str) -> None:
        if self._wake is not None:
            self._wake.put_nowait(notification_id)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._wake = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()
        # Webhooks connect only where [http] allowed_hosts allows (outbound_http.py).
        async with outbound_http.async_client(self.config.http.allowed_hosts) as client:
            self._http = client
            next_scan = 0.0
            while not self._stopping:
                now = self._loop.time()
                ids: list[str] = []
                if now >= next_scan:
                    ids += await self._scan()
                    next_scan = now + self.scan_interval_s
                try:
                    ids.append(await asyncio.wait_for(self._wake.get(), next_scan - now))
                    while not self._wake.empty():
                        ids.append(self._wake.get_nowait())
                except TimeoutError:
                    pass
                for notification_id in dict.fromkeys(ids):
                    if notification_id and notification_id not in self._in_flight:
                        self._in_flight.add(notification_id)
                        task = asyncio.create_task(self._deliver(notification_id))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks, timeout=self.config.smtp.timeout_s)

    async def _scan(self) -> list[str]:
        try:
            ids = await asyncio.to_thread(self.outbox.due, datetime.now(UTC))
            self.metrics.pending.set(await asyncio.to_thread(self.outbox.pending_count))
        except Exception as err:  # Elasticsearch away: try again next scan
            log.warning("outbox scan failed (retrying in %.0f s): %s", self.scan_interval_s, err)
            return []
        return ids

    async def _deliver(self, notification_id: str) -> None:
        try:
            await self._attempt(notification_id)
        except Exception:
            # The outbox still holds it; the next scan after the lease retries.
            log.exception("notification %s: delivery step failed", notification_id)
        finally:
            self._in_flight.discard(notification_id)

    async def _attempt(self, notification_id: str) -> None:
        claimed = await asyncio.to_thread(
            self.outbox.claim,
            notification_id,
            datetime.now(UTC),
            self.config.alert.delivery_max_attempts,
        )
        if claimed is None:
            return
        if isinstance(claimed, GaveUp):
            self.metrics.notifications.labels(claimed.type, "failed").inc()
            log.error(
                "%s %s of rule %s: %s",
                claimed.type,
                claimed.notification_id,
                claimed.rule_id,
                claimed.reason,
            )
            self._finish(claimed.notification_id, FAILED)
            return
        n = claimed.notification
        # A request that can never be made fails now, with its reason, not on every retry.
        problem = delivery.undeliverable(n)
        if problem is not None:
            await self._failed(claimed, delivery.Failure(f"undeliverable: {problem}", False))
            return
        try:
            reply = await self._senders[n.type](n)
        except DeliveryError as err:
            failure = err.failure
            if isinstance(err.__cause__, _MALFORMED_REQUEST):
                failure = delivery.Failure(failure.reason, False)  # the same on every retry
            await self._failed(claimed, failure)
            return
        except Exception as err:  # e.g. an invalid port: anyio raises an ExceptionGroup
            await self._failed(claimed, delivery.exception_failure(err))
            return
        now = datetime.now(UTC)
        await asyncio.to_thread(self.outbox.sent, claimed, now, reply)
        self.metrics.notifications.labels(n.type, "sent").inc()
        self.metrics.latency.observe(max(0.0, (now - n.created).total_seconds()))
        log.info("sent %s %s of rule %s (%s)", n.type, n.id, n.rule_id, _what(n))
        self._finish(n.id, SENT)

    async def _failed(self, claimed: Claimed, failure: delivery.Failure) -> None:
        n = claimed.notification
        attempts = claimed.attempts + 1
        now = datetime.now(UTC)
        decided = delivery.verdict(
            attempts,
            failure,
            n.created,
            now,
            self.config.alert.delivery_deadline_s,
            self.config.alert.delivery_retry_max_s,
            random.random(),
            self.config.alert.delivery_max_attempts,
        )
        at, reason = decided.at, decided.reason
        if at is None:
            await asyncio.to_thread(self.outbox.failed, claimed, reason)
            self.metrics.notifications.labels(n.type, "failed").inc()
            log.error("%s %s of rule %s: %s", n.type, n.id, n.rule_id, reason)
            self._finish(n.id, FAILED)
            return
        await asyncio.to_thread(self.outbox.retry, claimed, at, failure.reason)
        self.metrics.notifications.labels(n.type, "retry").inc()
        delay = max(0.0, (at - now).total_seconds())
        log.warning(
            "%s %s of rule %s: attempt %d failed (%s); next attempt in %.1f s",
            n.type,
            n.id,
            n.rule_id,
            attempts,
            failure.reason,
            delay,
        )
        self._loop.call_later(delay, self._nudge, n.id)

    def _finish(self, notification_id: str, state: str) -> None:
        with self._done:
            self._finished[notification_id] = state
            while len(self._finished) > _FINISHED_KEPT:  # a service runs for months
                del self._finished[next(iter(self._finished))]
            self._done.notify_all()

    async def _email(self, n: Notification) -> str:
        return await send_email(n, self.config.smtp)

    async def _webhook(self, n: Notification) -> str:
        assert self._http is not None
        return await send_webhook(
            n, self.config.webhook, self._http, self.config.http.max_response_bytes
        )


def _what(n: Notification) -> Any:
    if n.type == EMAIL:
        return f"subject {n.content.get('subject')!r} to {', '.join(n.content.get('to') or [])}"
    return f"{n.content.get('method')} {n.content.get('url')}"
