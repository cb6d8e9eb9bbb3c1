"""The fault proxy itself, against an echo server: each mode does what the cases rely on."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.fixtures.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[:2]
    server.close()


@pytest.fixture
def proxy(echo: tuple[str, int]) -> Iterator[TcpProxy]:
    p = TcpProxy(echo)
    yield p
    p.close()


def connect(proxy: TcpProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=2)


def roundtrip(sock: socket.socket, data: bytes = b"ping") -> bytes:
    sock.sendall(data)
    return sock.recv(100)


def test_refuse_refuses_new_connections_and_keeps_the_old_ones(proxy: TcpProxy) -> None:
    old = connect(proxy)
    assert roundtrip(old) == b"ping"
    proxy.refuse()
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    assert roundtrip(old) == b"ping"
    proxy.restore()
    assert roundtrip(connect(proxy)) == b"ping"


def test_cut_drops_existing_connections(proxy: TcpProxy) -> None:
    old = connect(proxy)
    assert roundtrip(old) == b"ping"
    proxy.cut()
    time.sleep(0.1)
    with contextlib.suppress(OSError):
        assert roundtrip(old) == b""
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    proxy.restore()
    assert roundtrip(connect(proxy)) == b"ping"


def test_blackhole_holds_traffic_until_restored(proxy: TcpProxy) -> None:
    old = connect(proxy)
    assert roundtrip(old) == b"ping"
    proxy.blackhole()
    fresh = connect(proxy)  # accepted, but not forwarded
    for sock in (old, fresh):
        sock.settimeout(1)
        with pytest.raises(TimeoutError):
            roundtrip(sock, b"held")
    proxy.restore()
    for sock in (old, fresh):
        sock.settimeout(5)
        assert sock.recv(100) == b"held"  # nothing lost, as TCP would retransmit it


def test_delay_adds_latency_each_way(proxy: TcpProxy) -> None:
    sock = connect(proxy)
    sock.settimeout(5)
    proxy.delay(0.4)
    started = time.monotonic()
    assert roundtrip(sock) == b"ping"
    assert 0.8 <= time.monotonic() - started < 2.0
    proxy.restore()
    started = time.monotonic()
    assert roundtrip(sock) == b"ping"
    assert time.monotonic() - started < 0.3


def test_a_fixed_port_can_be_taken_once(echo: tuple[str, int]) -> None:
    first = TcpProxy(echo)
    try:
        with pytest.raises(OSError, match="cannot listen"):
            TcpProxy(echo, port=first.port)
    finally:
        first.close()
