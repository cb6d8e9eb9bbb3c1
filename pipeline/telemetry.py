"""What a running edgewatch service shows the outside: Prometheus metrics and health checks.

`StatusServer` serves, on one port:

    /metrics   Prometheus text format, from the service's own registry
    /healthz   200 while the service's main loop is turning (liveness)
    /readyz    200 once the service can do its job, 503 with the reason otherwise (readiness)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from pipeline.redact import redact_text

# Returns None when ready, else a one-line reason.
ReadyCheck = Callable[[], str | None]


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
        host: str = "0.0.0.0",
        port: int = 0,
    ) -> None:
        handler = _handler(registry, heartbeat, ready)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
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


def _handler(
    registry: CollectorRegistry, heartbeat: Heartbeat, ready: ReadyCheck
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                alive = heartbeat.alive()
                self._send(200 if alive else 503, b"ok\n" if alive else b"main loop stalled\n")
            elif path == "/readyz":
                reason = ready()
                if reason is None:
                    self._send(200, b"ready\n")
                else:
                    # Reasons quote server URLs and errors: shown without userinfo or tokens.
                    self._send(503, f"not ready: {redact_text(reason)}\n".encode())
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
