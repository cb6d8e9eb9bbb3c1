"""The checks edgewatch's settings are declared with (pipeline/config.py), and the checks of
settings that only make sense together. Pure.

Each check takes a converted value and returns a problem (a short sentence) or None; the
loader turns a problem into a ConfigError naming the key and where the value came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING, Any

from pipeline.redact import redact_url

if TYPE_CHECKING:
    from pipeline.config import ElasticsearchConfig, KafkaConfig

Check = Callable[[Any], str | None]


class ConfigError(ValueError):
    """A configuration value is missing, unknown or invalid."""

    def __init__(self, key: str, source: str, problem: str) -> None:
        super().__init__(f"{key} ({source}): {problem}")
        self.key = key
        self.source = source
        self.problem = problem


def http_url(value: Any) -> str | None:
    if not str(value).startswith(("http://", "https://")):
        return f"must start with http:// or https://, got {value!r}"
    return None


def host_ports(value: Any) -> str | None:
    for part in str(value).split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            return f"must be a comma-separated list of host:port, got {value!r}"
    return None


def positive(value: Any) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value!r}"


def positive_or_none(value: Any) -> str | None:
    return None if value is None else positive(value)


# A hundred years: wider than any log's lateness, and far inside what the ingest core
# can count in microseconds.
_MAX_WINDOW_S = 100 * 365 * 86_400


def window_bound(value: Any) -> str | None:
    if not 0 <= value <= _MAX_WINDOW_S:  # (NaN fails both comparisons)
        return f"must be between 0 and {_MAX_WINDOW_S} seconds (100 years), got {value!r}"
    return None


def one_of(*allowed: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}, got {value!r}"

    return check


def one_of_or_none(*allowed: str) -> Check:
    inner = one_of(*allowed)
    return lambda value: None if value is None else inner(value)


def host_patterns(value: Any) -> str | None:
    from pipeline.alerting.outbound import problem  # the pattern grammar lives there

    return problem(value)


def setting(default: Any, check: Check | None = None, secret: bool = False) -> Any:
    return field(default=default, metadata={"check": check, "secret": secret})


def list_setting(default: tuple[str, ...] = (), check: Check | None = None) -> Any:
    """A list of strings: a TOML array, or a comma-separated environment variable."""
    return field(default=default, metadata={"check": check, "secret": False})


# Scalar values the `[kafka.librdkafka]` pass-through table may hold.
LibrdkafkaValue = str | int | float | bool

# librdkafka settings that typed edgewatch settings own; the pass-through table refuses them,
# so one value never has two places to be set.
KAFKA_OWNED_KEYS = frozenset(
    {
        "bootstrap.servers",
        "metadata.broker.list",
        "client.id",
        "security.protocol",
        "sasl.mechanism",
        "sasl.mechanisms",
        "sasl.username",
        "sasl.password",
        "ssl.ca.location",
        "ssl.certificate.location",
        "ssl.key.location",
        "ssl.key.password",
        "ssl.endpoint.identification.algorithm",
        "error_cb",
        "group.id",
        "enable.auto.commit",
        "enable.idempotence",
        "acks",
        "logger",
    }
)


def librdkafka_table(value: Any) -> str | None:
    owned = sorted(k for k in value if k in KAFKA_OWNED_KEYS)
    if owned:
        return (
            f"{', '.join(owned)}: set by edgewatch's own [kafka] settings or per client;"
            " use those instead of the pass-through table"
        )
    return None


# Elements no allow-list may name: they run code, load content or restyle the whole message.
_HTML_NEVER = frozenset(
    [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "form",
        "input",
        "button",
        "textarea",
        "select",
        "option",
        "base",
        "meta",
        "link",
        "svg",
        "math",
        "template",
        "noscript",
    ]
)


HTML_GROUPS = ("_formatting", "_blocks", "_tables", "_links", "_styles", "img:embedded", "img")


def html_allow(value: Any) -> str | None:
    for item in value:
        name = item.lower()
        if name.startswith(("_", "img:")) and name not in HTML_GROUPS:
            return f"unknown group {item!r}; the groups are {', '.join(HTML_GROUPS)}"
        if name in _HTML_NEVER or not (name in HTML_GROUPS or name.isalnum()):
            return f"{item!r} cannot be allowed in an email body"
    return None


def check_kafka(kafka: KafkaConfig, source: str) -> None:
    """Settings that only make sense together, checked once every source is applied."""
    if kafka.security_protocol.startswith("SASL_"):
        if kafka.sasl_mechanism is None:
            raise ConfigError(
                "kafka.sasl_mechanism",
                source,
                f"required with security_protocol {kafka.security_protocol}"
                " (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)",
            )
        if kafka.sasl_mechanism != "OAUTHBEARER" and (
            not kafka.sasl_username or kafka.sasl_password is None
        ):
            raise ConfigError(
                "kafka.sasl_password" if kafka.sasl_username else "kafka.sasl_username",
                source,
                f"SASL {kafka.sasl_mechanism} needs sasl_username and sasl_password"
                " (EDGEWATCH_KAFKA_SASL_PASSWORD keeps the password out of files)",
            )
        if (
            kafka.security_protocol == "SASL_PLAINTEXT"
            and kafka.sasl_mechanism == "PLAIN"
            and not kafka.allow_insecure
        ):
            raise ConfigError(
                "kafka.security_protocol",
                source,
                "SASL PLAIN over SASL_PLAINTEXT sends the password unencrypted: use SASL_SSL,"
                " or a SCRAM mechanism, or set kafka.allow_insecure = true",
            )
    elif kafka.sasl_mechanism is not None or kafka.sasl_username is not None:
        raise ConfigError(
            "kafka.security_protocol",
            source,
            f"SASL settings are given but security_protocol is {kafka.security_protocol}:"
            " set it to SASL_SSL (or SASL_PLAINTEXT)",
        )


def check_es(es: ElasticsearchConfig, source: str) -> None:
    """Credentials go to Elasticsearch only over https://, unless `es.allow_insecure` says the
    network is trusted."""
    if (
        (es.username or es.api_key)
        and not es.allow_insecure
        and es.url.lower().startswith("http://")
    ):
        which = "es.api_key" if es.api_key else "es.username/es.password"
        raise ConfigError(
            "es.allow_insecure",
            source,
            f"es.url is {redact_url(es.url)}: plain http:// would send {which} in clear text;"
            " use https:// (with es.ca_certs for a private CA), or set es.allow_insecure = true"
            " (EDGEWATCH_ES_ALLOW_INSECURE=true) if the network to Elasticsearch is trusted",
        )
