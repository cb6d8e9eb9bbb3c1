"""HTTP clients for the requests rules make, with the allow-list enforced where they connect.

httpx offers no hook between resolving a host name and connecting to it, so these clients give
httpcore's connection pool a network backend of edgewatch's own: it checks the host name
(outbound.name_refusal), resolves it, checks every address (outbound.address_refusal), then
connects to a checked address without resolving again, so DNS cannot answer one address to
the check and another to the connect. The pool still sees the URL's host name, so the Host
header, TLS SNI and certificate verification stay on that name, and pooled connections are
kept per name (one verified for a name never carries another's requests).

The clients never follow redirects (a redirect is an answer like any other) and ignore the
HTTP(S)_PROXY environment variables (a proxy would resolve the name again, after the check).
Answers are read through `aread_capped` / `read_capped`, which stop at a byte limit.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import typing
from collections.abc import Callable, Iterable, Sequence

import anyio
import anyio.to_thread
import httpcore
import httpx

from pipeline.alerting import outbound
from pipeline.alerting.outbound import OutboundRefusedError

# Resolves (host, port) to IP address texts; tests pass their own.
Resolver = Callable[[str, int], list[str]]
SocketOptions = Iterable[typing.Any] | None
_SETTING = "[http] allowed_hosts (EDGEWATCH_HTTP_ALLOWED_HOSTS)"


class ResponseTooLargeError(Exception):
    """The answer is longer than the limit: reading stopped and the connection was closed."""

    def __init__(self, status: int, limit: int, seen: int, declared: bool) -> None:
        how = "declares" if declared else "sent more than"
        super().__init__(
            f"the answer (HTTP {status}) {how} {seen if declared else limit} bytes, over the"
            f" limit of {limit}; stopped reading and closed the connection (raise [http]"
            " max_response_bytes, EDGEWATCH_HTTP_MAX_RESPONSE_BYTES, if such answers are expected)"
        )
        self.status = status
        self.limit = limit


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host`, in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _Guard:
    """The allow-list check, shared by the sync and async backends."""

    def __init__(self, patterns: Sequence[str], resolver: Resolver) -> None:
        self.patterns = outbound.parse_all(patterns)
        self.resolver = resolver

    def check_name(self, host: str, port: int) -> None:
        refusal = outbound.name_refusal(self.patterns, _SETTING, host.lower(), port)
        if refusal:
            raise OutboundRefusedError(refusal)

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each allowed; OutboundRefusedError naming the first that is not.

        One refused address refuses the name: a name that also points inside is not one to
        send to, and a single rule keeps the reason easy to read.
        """
        try:
            found = self.resolver(host, port)
        except OSError as err:
            raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from err
        if not found:
            raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        for text in found:
            address = ipaddress.ip_address(text.partition("%")[0])
            refusal = outbound.address_refusal(self.patterns, _SETTING, host.lower(), port, address)
            if refusal:
                raise OutboundRefusedError(refusal)
        return found


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: _Guard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        self._guard.check_name(host, port)
        try:
            with anyio.fail_after(timeout):
                addresses = await anyio.to_thread.run_sync(self._guard.resolve, host, port)
        except TimeoutError as err:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from err
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefusedError("outbound requests over Unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _SyncBackend(httpcore.NetworkBackend):
    def __init__(self, guard: _Guard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        self._guard.check_name(host, port)
        last: Exception | None = None
        for address in self._guard.resolve(host, port):
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.NetworkStream:
        raise OutboundRefusedError("outbound requests over Unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def async_client(
    allowed_hosts: Sequence[str],
    resolver: Resolver = system_resolver,
    verify: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An httpx.AsyncClient that connects only where `allowed_hosts` allows (see module doc).

    `verify`: the TLS context to check servers with; by default the certifi CA bundle."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx builds its pool without a network_backend option; the pool is replaced by one with
    # the same defaults plus the guarded backend. tests/security/test_outbound.py fails if a
    # future httpx stops honouring it.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=verify or httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_AsyncBackend(_Guard(allowed_hosts, resolver)),
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)


def client(
    allowed_hosts: Sequence[str],
    resolver: Resolver = system_resolver,
    verify: ssl.SSLContext | None = None,
) -> httpx.Client:
    """An httpx.Client that connects only where `allowed_hosts` allows (see module doc)."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(  # as in async_client
        ssl_context=verify or httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_SyncBackend(_Guard(allowed_hosts, resolver)),
    )
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False)


@functools.lru_cache(maxsize=8)
def shared_client(allowed_hosts: tuple[str, ...]) -> httpx.Client:
    """One pooled client per allow-list, for the rule executions' http inputs (threads)."""
    return client(allowed_hosts)


def _declared_too_large(response: httpx.Response, limit: int) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(response.status_code, limit, int(declared), declared=True)


class _CappedBody:
    """A response body collected chunk by chunk, refused past `limit` bytes: one rule for
    the async and the sync reader."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        _declared_too_large(response, limit)
        self.status, self.limit = response.status_code, limit
        self.chunks: list[bytes] = []
        self.seen = 0

    def add(self, chunk: bytes) -> None:
        self.seen += len(chunk)
        if self.seen > self.limit:
            self.chunks.clear()  # free them now, not when the traceback is dropped
            raise ResponseTooLargeError(self.status, self.limit, self.seen, declared=False)
        self.chunks.append(chunk)

    def joined(self) -> bytes:
        return b"".join(self.chunks)


async def aread_capped(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed response, at most `limit` bytes; ResponseTooLargeError beyond.

    The caller's `client.stream(...)` block closes the response when this raises, which
    closes the connection without reading the rest.
    """
    body = _CappedBody(response, limit)
    async for chunk in response.aiter_bytes():
        body.add(chunk)
    return body.joined()


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """As `aread_capped`, for a response of a sync client."""
    body = _CappedBody(response, limit)
    for chunk in response.iter_bytes():
        body.add(chunk)
    return body.joined()


def text_of(response: httpx.Response, body: bytes) -> str:
    """The body as text, in the charset the response declares (UTF-8 otherwise)."""
    return body.decode(response.encoding or "utf-8", errors="replace")


# Compression would let a small answer expand past the limit inside one decoded chunk.
IDENTITY = {"Accept-Encoding": "identity"}


def with_content_type(
    headers: typing.Mapping[str, str], body: str | bytes | None
) -> dict[str, str]:
    """`headers` plus the Content-Type Watcher's HttpClient gives a body sent without one: JSON
    text (its first non-blank character `{`) is `application/json`, YAML (`---`)
    `application/yaml`, anything else `text/plain; charset=UTF-8`. A Content-Type the rule
    sets, in any case, is kept; a request without a body gets none."""
    out = dict(headers)
    if not body or any(name.lower() == "content-type" for name in out):
        return out
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    start = text.lstrip()
    if start.startswith("{"):
        out["Content-Type"] = "application/json"
    elif text.startswith("---"):
        out["Content-Type"] = "application/yaml"
    else:
        # Watcher's Apache client says ISO-8859-1; edgewatch sends the body as UTF-8.
        out["Content-Type"] = "text/plain; charset=UTF-8"
    return out
