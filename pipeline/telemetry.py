"""What a running edgewatch service shows the outside: Prometheus metrics and health checks.

`StatusServer` serves, on one port:

    /metrics   Prometheus text format, from the service's own registry
    /healthz   200 while the service's main loop is turning (liveness)
    /readyz    200 once the service can do its job, 503 with one short line per failing check

Anyone who can reach the port can talk to it, so it protects the service from its clients: it
listens on 127.0.0.1 unless told otherwise (`http_host`), a request must arrive whole within
`read_timeout_s` (an idle or trickling client is cut off, so it cannot hold a thread), and at
most `max_connections` are served at once; more are answered 503 and closed at once by the
accepting thread, without a thread of their own.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from pipeline.redact import redact_text

# Returns None when ready, else the reason: one line per failing check.
ReadyCheck = Callable[[], str | None]

READ_TIMEOUT_S = 5.0  # for the whole request head: Prometheus and probes send it at once
MAX_CONNECTIONS = 16  # a scrape and two probes at a time is the normal load
_MAX_REASONS = 10
_MAX_REASON_CHARS = 200
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n"
)

log = logging.getLogger("edgewatch.status")


def total(counter: Counter) -> float:
    """The sum of a counter over all its label values."""
    return sum(
        sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


class Heartbeat:
    """The main loop beats; liveness fails when it has not for `stale_after` seconds."""

    def __init__(self, stale_after: float = 60.0) -> None:
        self.stale_after = stale_after
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    def alive(self) -> bool:
        return time.monotonic() - self._last < self.stale_after


class StatusServer:
    """A small threaded HTTP server for /metrics, /healthz and /readyz."""

    def __init__(
        self,
        registry: CollectorRegistry,
        heartbeat: Heartbeat,
        ready: ReadyCheck,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        handler = _handler(registry, heartbeat, ready, read_timeout_s)
        self._server = _BoundedServer((host, port), handler, max_connections)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def ready_reasons(ready: ReadyCheck) -> list[str]:
    """What /readyz shows: one short line per failing check, [] when ready.

    A check's text may come from an exception: only its first lines are kept, never a stack
    trace, each cut to a readable length; a check that raises is one line naming the error.
    """
    try:
        reason = ready()
    except Exception as err:  # the answer must still be short and say something
        return [f"readiness check failed ({type(err).__name__})"]
    if reason is None:
        return []
    lines: list[str] = []
    for raw in str(reason).splitlines():
        line = "".join(ch if ch.isprintable() else " " for ch in raw).strip()
        if line.startswith("Traceback"):
            break
        if line:
            cut = line[: _MAX_REASON_CHARS - 3] + "..."
            lines.append(line if len(line) <= _MAX_REASON_CHARS else cut)
    return lines[:_MAX_REASONS] or ["not ready"]


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` of them; the rest are refused."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread started: it would never release the slot
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        # In the accepting thread: never wait on this client, a full buffer just loses the 503.
        try:
            request.setblocking(False)
            request.send(_BUSY)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-answer is not worth a traceback on stderr.
        log.debug("status request from %s failed", client_address, exc_info=True)


class _DeadlineReader(io.RawIOBase):
    """Reads a socket until a deadline for the whole request, not per packet: a client that
    sends one byte every few seconds is cut off as surely as one that sends nothing."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self._sock = sock
        self._end = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError("request not received in time")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def _handler(
    registry: CollectorRegistry, heartbeat: Heartbeat, ready: ReadyCheck, read_timeout_s: float
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = read_timeout_s  # also bounds each write of the answer

        def setup(self) -> None:
            super().setup()
            plain = self.rfile
            self.rfile = io.BufferedReader(_DeadlineReader(self.connection, read_timeout_s))
            plain.close()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                alive = heartbeat.alive()
                self._send(200 if alive else 503, b"ok\n" if alive else b"main loop stalled\n")
            elif path == "/readyz":
                reasons = ready_reasons(ready)
                if not reasons:
                    self._send(200, b"ready\n")
                else:
                    # Reasons quote server URLs and errors: shown without userinfo or tokens.
                    body = "".join(f"not ready: {redact_text(line)}\n" for line in reasons)
                    self._send(503, body.encode())
            else:
                self._send(404, b"try /metrics, /healthz or /readyz\n")

        def _send(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds would drown the service's own log

    return Handler
