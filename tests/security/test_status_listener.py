"""The status listener (/metrics, /healthz, /readyz) against clients that misbehave.

Each test runs a real `StatusServer` on a real socket, attacks it the way a hostile or broken
client would (connect and send nothing, trickle a request a byte at a time, open far more
connections than it serves), and shows that the attacker is cut off or refused while another
client's /healthz still gets its answer, and that no thread is left behind.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from pipeline.config import AlertConfig, IngestConfig
from pipeline.telemetry import Heartbeat, ReadyCheck, StatusServer, ready_reasons

pytestmark = pytest.mark.unit

TIMEOUT_S = 1.0


@pytest.fixture
def server() -> Iterator[StatusServer]:
    status = StatusServer(
        CollectorRegistry(), Heartbeat(), lambda: None, read_timeout_s=TIMEOUT_S, max_connections=4
    ).start()
    yield status
    status.stop()


def _get(server: StatusServer, path: str) -> tuple[int, bytes]:
    url = f"http://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _connect(server: StatusServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return sock


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes the connection (recv returns b"" or a reset)."""
    started = time.monotonic()
    try:
        while sock.recv(1024):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_an_idle_connection_is_closed_after_the_timeout_while_healthz_answers(
    server: StatusServer,
) -> None:
    idle = _connect(server)  # connects and never sends a byte
    started = time.monotonic()
    assert _get(server, "/healthz") == (200, b"ok\n")
    assert time.monotonic() - started < TIMEOUT_S / 2  # not held up by the idle client
    waited = _closed_after(idle) + (time.monotonic() - started)
    assert TIMEOUT_S * 0.8 <= waited < TIMEOUT_S + 1.5
    idle.close()


def test_a_request_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline(
    server: StatusServer,
) -> None:
    slow = _connect(server)
    request = b"GET /metrics HTTP/1.0\r\nUser-Agent: slowloris\r\n\r\n"
    started = time.monotonic()
    cut_off = False
    for byte in request:  # each byte well inside the timeout: only a whole-request limit helps
        try:
            slow.send(bytes([byte]))
        except OSError:
            cut_off = True
            break
        time.sleep(0.1)
        if time.monotonic() - started > TIMEOUT_S + 1.5:
            break
    answer = b""
    if not cut_off:
        with contextlib.suppress(ConnectionResetError):
            answer = slow.recv(1024)
    elapsed = time.monotonic() - started
    slow.close()
    assert cut_off or answer == b"", answer  # never served
    assert elapsed < TIMEOUT_S + 1.5
    assert _get(server, "/healthz")[0] == 200


def test_connections_over_the_cap_are_refused_without_a_thread_each(
    server: StatusServer,
) -> None:
    before = threading.active_count()
    crowd = [_connect(server) for _ in range(60)]
    time.sleep(0.3)
    # Four handler threads at most, however many clients connect.
    assert threading.active_count() <= before + 4
    refused = 0
    for sock in crowd[4:]:
        try:
            answer = sock.recv(1024)
        except (ConnectionResetError, TimeoutError):
            answer = b""
        refused += answer.startswith(b"HTTP/1.0 503") or answer == b""
    assert refused == len(crowd) - 4
    for sock in crowd:
        sock.close()
    # Once the idle ones are cut off, the port serves again.
    deadline = time.monotonic() + TIMEOUT_S + 3
    while _get(server, "/healthz")[0] != 200:
        assert time.monotonic() < deadline, "the listener did not recover"
        time.sleep(0.1)
    while threading.active_count() > before:  # the last handler thread is finishing
        assert time.monotonic() < deadline, "handler threads left behind"
        time.sleep(0.05)


def test_the_default_bind_address_is_loopback() -> None:
    assert IngestConfig().http_host == "127.0.0.1"
    assert AlertConfig().http_host == "127.0.0.1"
    status = StatusServer(CollectorRegistry(), Heartbeat(), lambda: None).start()
    try:
        assert status._server.server_address[0] == "127.0.0.1"
    finally:
        status.stop()


def _failing_checks() -> str:
    try:
        raise ConnectionError("connection refused")
    except ConnectionError:
        import traceback

        trace = traceback.format_exc()
    return (
        "index template not installed yet (Elasticsearch at http://127.0.0.1:9200)\n"
        f"Elasticsearch failing: {'x' * 5000}\n"
        f"{trace}"
    )


def test_readyz_gives_one_short_line_per_failing_check() -> None:
    status = StatusServer(CollectorRegistry(), Heartbeat(), _failing_checks).start()
    try:
        code, body = _get(status, "/readyz")
    finally:
        status.stop()
    assert code == 503
    lines = body.decode().splitlines()
    assert len(lines) == 2
    assert lines[0] == (
        "not ready: index template not installed yet (Elasticsearch at http://127.0.0.1:9200)"
    )
    assert len(lines[1]) <= len("not ready: ") + 200
    assert "Traceback" not in body.decode() and "File " not in body.decode()


def test_a_readiness_check_that_raises_is_one_line_naming_the_error() -> None:
    def broken() -> str | None:
        raise RuntimeError("secret detail\nTraceback ...")

    check: ReadyCheck = broken
    assert ready_reasons(check) == ["readiness check failed (RuntimeError)"]
    status = StatusServer(CollectorRegistry(), Heartbeat(), check).start()
    try:
        assert _get(status, "/readyz") == (
            503,
            b"not ready: readiness check failed (RuntimeError)\n",
        )
        assert _get(status, "/healthz")[0] == 200  # the listener itself is unharmed
    finally:
        status.stop()
