"""Which outbound requests rules may make, and where config credentials may go. Pure.

Rules send HTTP requests (webhook actions, `http` inputs) to URLs that templates render, so
log data can steer them. Every such request is checked here twice, as Watcher checks
`xpack.http.whitelist`: the rendered URL's host before it is resolved (`name_refusal`, so a
name no pattern allows is not even looked up), and each address it resolves to
(`address_refusal`); the connection then goes to the address that was checked
(outbound_http.py), so DNS cannot answer differently between the check and the connect.

A pattern is a host glob (`hooks.slack.com`, `*.example.com`, `*`) or an IP network
(`10.1.0.0/16`, `127.0.0.1`, `[::1]`), either optionally with `:port`. Addresses that are
not globally routable (loopback, link-local, private, unique-local, carrier-grade NAT,
unspecified, multicast, reserved) need a pattern that names them: the catch-all `*` (or
`0.0.0.0/0`) does not. Cloud metadata services need a pattern naming exactly that host or
that single address; a network that merely contains one does not.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA = "cloud metadata service"
# Instance metadata services hand out cloud credentials: AWS, Azure, GCP, OpenStack
# (169.254.169.254), AWS over IPv6 (fd00:ec2::254), Alibaba (100.100.100.200).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefusedError(Exception):
    """A request that the allow-list or the credential binding refuses; never retried."""


@dataclass(frozen=True)
class Pattern:
    """One entry of an allow-list: a host glob or an IP network, and maybe a port."""

    text: str
    host: str | None = None  # a lower-case glob
    network: IPNetwork | None = None
    port: int | None = None

    @property
    def catch_all(self) -> bool:
        """`*` or a /0 network: allows every public host, names no special one."""
        if self.network is not None:
            return self.network.prefixlen == 0
        return self.host is not None and set(self.host) <= {"*", "."}

    def matches_name(self, host: str, port: int) -> bool:
        """True when the pattern allows this host name (or IP literal) and port."""
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return fnmatch.fnmatchcase(host, self.host)
        address = _literal(host)
        return address is not None and self.network is not None and address in self.network

    def may_match(self, host: str, port: int) -> bool:
        """Before resolving: could some address of `host` be allowed by this pattern?"""
        if self.network is not None and _literal(host) is None:
            return self.port in (None, port)
        return self.matches_name(host, port)

    def matches(self, host: str, port: int, address: IPAddress) -> bool:
        """True when the pattern allows a connection to `address` for `host`:`port`."""
        if self.network is not None:
            return self.port in (None, port) and _plain(address) in self.network
        return self.matches_name(host, port)

    def names_exactly(self, host: str, address: IPAddress) -> bool:
        """True when the pattern is this very host or this single address."""
        if self.network is not None:
            return self.network.num_addresses == 1 and _plain(address) in self.network
        return self.host == host


def parse(text: str) -> Pattern:
    """One pattern from its text; ValueError saying what is wrong."""
    raw = text.strip()
    if not raw:
        raise ValueError("an empty host pattern")
    if "://" in raw:
        raise ValueError(f"{text!r}: write a host pattern (such as *.example.com:443), not a URL")
    body, port = raw, None
    if raw.startswith("["):  # [v6] or [v6]:port, as in a URL
        close = raw.find("]")
        if close == -1:
            raise ValueError(f"{text!r}: no closing ] after the IPv6 address")
        body, rest = raw[1:close], raw[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text!r}: expected :port after ]")
            port = _port(rest[1:], text)
    elif "/" in raw and ":" in raw.rpartition("/")[2]:  # a network with :port
        body, _, port_text = raw.rpartition(":")
        port = _port(port_text, text)
    elif raw.count(":") == 1:  # host:port (a bare IPv6 address has more colons)
        body, _, port_text = raw.partition(":")
        port = _port(port_text, text)
    try:
        network = ipaddress.ip_network(body, strict=False)
    except ValueError:
        network = None
    if network is not None:
        return Pattern(raw, network=network, port=port)
    host = body.lower().rstrip(".")
    if not host or any(c in host for c in "/:@[] "):
        raise ValueError(
            f"{text!r} is neither a host (a name or glob such as *.example.com, optionally"
            " with :port) nor a network (such as 10.1.0.0/16)"
        )
    return Pattern(raw, host=host, port=port)


def parse_all(texts: Iterable[str]) -> tuple[Pattern, ...]:
    """Every pattern of a setting; ValueError naming the first bad one."""
    return tuple(parse(t) for t in texts)


def problem(texts: Iterable[str]) -> str | None:
    """For the configuration check: what is wrong with a list of patterns, or None."""
    try:
        parse_all(texts)
    except ValueError as err:
        return str(err)
    return None


@dataclass(frozen=True)
class Target:
    """Where a URL points: scheme, lower-case host (no brackets) and port."""

    scheme: str
    host: str
    port: int

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def target(url: str) -> Target:
    """The scheme, host and port of a rendered URL; OutboundRefusedError when it is unusable."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise OutboundRefusedError(f"invalid URL {_short(url)!r}: {err}") from None
    scheme = parsed.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OutboundRefusedError(f"URL {_short(url)!r}: only http and https URLs are allowed")
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise OutboundRefusedError(f"URL {_short(url)!r} has no host")
    port = parsed.port or DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise OutboundRefusedError(f"URL {_short(url)!r}: port {port} is out of range")
    return Target(scheme, host, port)


def special(address: IPAddress, host: str = "") -> str | None:
    """Why an address (or host name) is not an ordinary public one, or None when it is."""
    if address in METADATA_ADDRESSES or host in METADATA_NAMES:
        return METADATA
    address = _plain(address)
    if address in METADATA_ADDRESSES:
        return METADATA
    for kind, yes in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("carrier-grade NAT", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("private", address.is_private),
    ):
        if yes:
            return kind
    if not address.is_global or (
        isinstance(address, ipaddress.IPv6Address) and address.teredo is not None
    ):
        return "reserved, not globally routable"
    return None


def name_refusal(patterns: Sequence[Pattern], setting: str, host: str, port: int) -> str | None:
    """Before resolving `host`: the reason to refuse it, or None to go on and resolve it."""
    if host in METADATA_NAMES and not any(p.host == host for p in patterns):
        return _refusal(host, port, None, METADATA, setting)
    if any(p.may_match(host, port) for p in patterns):
        return None
    return _refusal(host, port, None, None, setting)


def address_refusal(
    patterns: Sequence[Pattern], setting: str, host: str, port: int, address: IPAddress
) -> str | None:
    """The reason to refuse connecting to `address` for `host`:`port`, or None to allow it."""
    matching = [p for p in patterns if p.matches(host, port, address)]
    kind = special(address, host)
    if kind is None:
        allowed = bool(matching)
    elif kind == METADATA:
        allowed = any(p.names_exactly(host, address) for p in matching)
    else:
        allowed = any(not p.catch_all for p in matching)
    return None if allowed else _refusal(host, port, address, kind, setting)


def credentials_allowed(patterns: Sequence[Pattern], target: Target) -> bool:
    """True when credentials bound to `patterns` may go with a request to `target`.

    Only the URL's host name (or IP literal) and port count: the connection is then made to
    an address the allow-list checked, and TLS verifies it against that same name.
    """
    return any(p.matches_name(target.host, target.port) for p in patterns)


def _refusal(
    host: str, port: int, address: IPAddress | None, kind: str | None, setting: str
) -> str:
    where = f"[{host}]" if ":" in host else host
    what = f"{where}:{port}"
    if address is not None and address != _literal(host):
        what += f" (address {address})"
    if kind is None:
        looked_up = address is not None or _literal(host) is not None
        why = f"matches no pattern of {setting}" + ("" if looked_up else " (name not looked up)")
        fix = f"add {what.split(' ')[0]} (or a glob or network covering it) to {setting}"
    elif kind == METADATA:
        why = "is a cloud metadata service"
        fix = f"only a pattern naming exactly this host or address in {setting} allows it"
    else:
        why = f"is a {kind} address, which the catch-all * does not allow"
        fix = f"add a pattern naming it (such as {address or host}) to {setting}"
    return f"outbound request refused: {what} {why}; {fix} if it is meant to be reachable"


def _plain(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), which is where it goes."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _port(text: str, pattern: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{pattern!r}: the port must be a number from 1 to 65535")
    return int(text)


def _short(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "..."
