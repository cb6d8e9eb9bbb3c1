"""The outbound allow-list and credential binding: pure decisions (outbound.py)."""

from __future__ import annotations

import ipaddress

import pytest

from pipeline.alerting import outbound
from pipeline.alerting.outbound import OutboundRefusedError
from pipeline.config import ConfigError, load_config

SETTING = "[http] allowed_hosts"


def _refusal(patterns: list[str], url: str, address: str) -> str | None:
    parsed = outbound.parse_all(patterns)
    target = outbound.target(url)
    first = outbound.name_refusal(parsed, SETTING, target.host, target.port)
    if first:
        return first
    ip = ipaddress.ip_address(address)
    return outbound.address_refusal(parsed, SETTING, target.host, target.port, ip)


@pytest.mark.parametrize(
    ("text", "host", "network", "port"),
    [
        ("hooks.slack.com", "hooks.slack.com", None, None),
        ("*.Example.COM:443", "*.example.com", None, 443),
        ("10.1.0.0/16", None, "10.1.0.0/16", None),
        ("10.1.0.0/16:8443", None, "10.1.0.0/16", 8443),
        ("127.0.0.1", None, "127.0.0.1/32", None),
        ("[::1]:9000", None, "::1/128", 9000),
        ("::1", None, "::1/128", None),
        ("fd00::/8:443", None, "fd00::/8", 443),
        ("*", "*", None, None),
    ],
)
def test_patterns_parse(text: str, host: str | None, network: str | None, port: int | None) -> None:
    pattern = outbound.parse(text)
    assert pattern.host == host
    assert (str(pattern.network) if pattern.network else None) == network
    assert pattern.port == port


@pytest.mark.parametrize(
    "bad", ["", "https://hooks.example.com/", "host:http", "[::1", "[::1]x", "a b", "h:0"]
)
def test_bad_patterns_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match=r"pattern|port|host|\]"):
        outbound.parse(bad)
    assert outbound.problem([bad]) is not None


def test_config_checks_patterns_and_reads_comma_lists() -> None:
    config = load_config(environ={"EDGEWATCH_HTTP_ALLOWED_HOSTS": "hooks.slack.com, 10.0.0.0/8"})
    assert config.http.allowed_hosts == ("hooks.slack.com", "10.0.0.0/8")
    assert load_config(environ={}).http.allowed_hosts == ("*",)
    assert load_config(environ={}).http.max_response_bytes == 10 * 1024 * 1024
    with pytest.raises(ConfigError, match=r"EDGEWATCH_WEBHOOK_CREDENTIAL_HOSTS.*not a URL"):
        load_config(environ={"EDGEWATCH_WEBHOOK_CREDENTIAL_HOSTS": "https://x.example/"})


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.2.3.4", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("169.254.169.254", outbound.METADATA),
        ("fd00:ec2::254", outbound.METADATA),
        ("64:ff9b::a9fe:a9fe", outbound.METADATA),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("192.0.2.1", "private"),  # documentation range
        ("240.0.0.1", "private"),  # reserved
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert outbound.special(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_ordinary(address: str) -> None:
    assert outbound.special(ipaddress.ip_address(address)) is None


def test_the_default_allows_public_hosts_and_refuses_every_special_address() -> None:
    assert _refusal(["*"], "https://hooks.slack.com/x", "34.1.2.3") is None
    for address in ("127.0.0.1", "10.0.0.5", "::1", "169.254.169.254", "100.64.1.1"):
        reason = _refusal(["*"], "https://hooks.example.com/x", address)
        assert reason is not None
        assert "hooks.example.com:443" in reason and address in reason
        assert SETTING in reason
    assert _refusal(["0.0.0.0/0"], "http://10.0.0.1/", "10.0.0.1") is not None


def test_a_name_no_pattern_allows_is_refused_before_it_is_looked_up() -> None:
    parsed = outbound.parse_all(["hooks.slack.com"])
    reason = outbound.name_refusal(parsed, SETTING, "secret-data.attacker.example", 443)
    assert reason is not None and "not looked up" in reason
    # A network pattern can only be judged once the name is resolved.
    assert outbound.name_refusal(outbound.parse_all(["10.0.0.0/8"]), SETTING, "x.corp", 80) is None


def test_explicit_patterns_allow_special_addresses() -> None:
    assert _refusal(["127.0.0.1"], "http://127.0.0.1:8080/", "127.0.0.1") is None
    assert _refusal(["localhost"], "http://localhost:8080/", "127.0.0.1") is None
    assert _refusal(["10.1.0.0/16"], "http://ci.corp:80/", "10.1.2.3") is None
    assert _refusal(["10.1.0.0/16"], "http://ci.corp:80/", "10.2.0.1") is not None
    assert _refusal(["*.corp.example"], "http://ci.corp.example/", "10.9.9.9") is None
    assert _refusal(["[::1]"], "http://[::1]:9/", "::1") is None


def test_ports_in_patterns_are_enforced() -> None:
    assert _refusal(["127.0.0.1:8080"], "http://127.0.0.1:8080/", "127.0.0.1") is None
    assert _refusal(["127.0.0.1:8080"], "http://127.0.0.1:8081/", "127.0.0.1") is not None
    assert _refusal(["hooks.example.com:443"], "https://hooks.example.com/", "8.8.8.8") is None
    assert _refusal(["hooks.example.com:443"], "http://hooks.example.com/", "8.8.8.8") is not None


def test_cloud_metadata_needs_its_exact_address_or_name() -> None:
    metadata = "http://169.254.169.254/latest/meta-data/"
    assert _refusal(["169.254.0.0/16"], metadata, "169.254.169.254") is not None
    assert _refusal(["169.254.169.254"], metadata, "169.254.169.254") is None
    google = "http://metadata.google.internal/computeMetadata/v1/"
    assert _refusal(["*"], google, "169.254.169.254") is not None
    assert _refusal(["*.internal"], google, "169.254.169.254") is not None
    assert _refusal(["metadata.google.internal"], google, "169.254.169.254") is None


def test_a_public_name_resolving_inside_is_refused() -> None:
    reason = _refusal(["*.example.com"], "https://evil.example.com/", "127.0.0.1")
    assert reason is None  # a named glob is explicit: the operator allowed that domain
    reason = _refusal(["*"], "https://evil.example.com/", "127.0.0.1")
    assert reason is not None and "evil.example.com:443 (address 127.0.0.1)" in reason


@pytest.mark.parametrize(
    "url", ["ftp://h/x", "file:///etc/passwd", "http://", "not a url", "http://h:99999/"]
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefusedError):
        outbound.target(url)


def test_target_defaults_ports_and_lowers_hosts() -> None:
    assert outbound.target("https://Hooks.Example.com./a") == outbound.Target(
        "https", "hooks.example.com", 443
    )
    assert outbound.target("http://[::1]:81/").hostport == "[::1]:81"


def test_credentials_go_only_to_their_hosts() -> None:
    bound = outbound.parse_all(["hooks.example.com:443", "10.1.0.0/16"])
    assert outbound.credentials_allowed(bound, outbound.target("https://hooks.example.com/x"))
    assert outbound.credentials_allowed(bound, outbound.target("http://10.1.2.3:8080/"))
    assert not outbound.credentials_allowed(bound, outbound.target("http://hooks.example.com/"))
    assert not outbound.credentials_allowed(bound, outbound.target("https://evil.example/"))
    assert not outbound.credentials_allowed((), outbound.target("https://hooks.example.com/"))
