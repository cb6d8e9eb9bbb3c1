"""edgewatch's configuration: one typed object, built once at start-up.

Sources, later ones winning:

1. the defaults below (they point at the local stack, `make stack-up`);
2. an optional TOML file (`--config FILE` or `EDGEWATCH_CONFIG`), one table per section;
3. environment variables `EDGEWATCH_<SECTION>_<KEY>`, e.g. `EDGEWATCH_ES_URL`.

Every value is checked here, so a typo or a wrong value stops the program at start-up with a
message naming the key and where it came from, rather than failing later somewhere deep.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.redact import redact_url

ENV_PREFIX = "EDGEWATCH_"
# Environment variables with our prefix that are not configuration keys.
ENV_NOT_CONFIG = ("EDGEWATCH_CONFIG", "EDGEWATCH_STACK_")

Check = Callable[[Any], str | None]


class ConfigError(ValueError):
    """A configuration value is missing, unknown or invalid."""

    def __init__(self, key: str, source: str, problem: str) -> None:
        super().__init__(f"{key} ({source}): {problem}")
        self.key = key
        self.source = source
        self.problem = problem


def _url(value: Any) -> str | None:
    if not str(value).startswith(("http://", "https://")):
        return f"must start with http:// or https://, got {value!r}"
    return None


def _hostports(value: Any) -> str | None:
    for part in str(value).split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            return f"must be a comma-separated list of host:port, got {value!r}"
    return None


def _positive(value: Any) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value!r}"


def _positive_or_none(value: Any) -> str | None:
    return None if value is None else _positive(value)


# A hundred years: wider than any log's lateness, and far inside what both ingest cores
# can count in microseconds.
_MAX_WINDOW_S = 100 * 365 * 86_400


def _window_bound(value: Any) -> str | None:
    if not 0 <= value <= _MAX_WINDOW_S:  # (NaN fails both comparisons)
        return f"must be between 0 and {_MAX_WINDOW_S} seconds (100 years), got {value!r}"
    return None


def _one_of(*allowed: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}, got {value!r}"

    return check


def _one_of_or_none(*allowed: str) -> Check:
    inner = _one_of(*allowed)
    return lambda value: None if value is None else inner(value)


def _host_patterns(value: Any) -> str | None:
    from pipeline.alerting.outbound import problem  # the pattern grammar lives there

    return problem(value)


def _setting(default: Any, check: Check | None = None, secret: bool = False) -> Any:
    return field(default=default, metadata={"check": check, "secret": secret})


def _list_setting(default: tuple[str, ...] = (), check: Check | None = None) -> Any:
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


def _librdkafka_table(value: Any) -> str | None:
    owned = sorted(k for k in value if k in KAFKA_OWNED_KEYS)
    if owned:
        return (
            f"{', '.join(owned)}: set by edgewatch's own [kafka] settings or per client;"
            " use those instead of the pass-through table"
        )
    return None


@dataclass(frozen=True)
class KafkaConfig:
    """Where the log topics live."""

    bootstrap: str = _setting("127.0.0.1:9092", _hostports)
    client_id: str = _setting("edgewatch")
    # How every client (ingest, dead letters, admin, ship, check) talks to the brokers.
    security_protocol: str = _setting(
        "PLAINTEXT", _one_of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
    )
    # OAUTHBEARER uses librdkafka's own OIDC client: its sasl.oauthbearer.* settings go in
    # the [kafka.librdkafka] table.
    sasl_mechanism: str | None = _setting(
        None, _one_of_or_none("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
    )
    sasl_username: str | None = _setting(None)
    sasl_password: str | None = _setting(None, secret=True)
    # A PEM bundle of the CAs that signed the brokers' certificates; none: the system's.
    ssl_ca_location: Path | None = _setting(None)
    # A client certificate and key (PEM), for brokers that require mutual TLS.
    ssl_certificate_location: Path | None = _setting(None)
    ssl_key_location: Path | None = _setting(None)
    ssl_key_password: str | None = _setting(None, secret=True)
    # Check that the broker's certificate names the host we dialled. Off only for tests.
    ssl_endpoint_identification: bool = _setting(True)
    # SASL PLAIN sends the password as it is: refused over SASL_PLAINTEXT unless this is true.
    allow_insecure: bool = _setting(False)
    # Any other librdkafka setting (file only), for what the typed settings do not cover;
    # keys the typed settings own are refused.
    librdkafka: dict[str, LibrdkafkaValue] = field(
        default_factory=dict, metadata={"check": _librdkafka_table, "secret": False}
    )


@dataclass(frozen=True)
class ElasticsearchConfig:
    """Where documents are indexed and rules search."""

    url: str = _setting("http://127.0.0.1:9200", _url)
    username: str | None = _setting(None)
    password: str | None = _setting(None, secret=True)
    api_key: str | None = _setting(None, secret=True)
    ca_certs: Path | None = _setting(None)
    request_timeout: float = _setting(30.0, _positive)
    # Credentials (username/password or api_key) over plain http:// are refused unless this
    # says the network in between is trusted.
    allow_insecure: bool = _setting(False)


ENVELOPES = ("auto", "filebeat", "fluentbit", "vector", "raw")
FORMATS = ("auto", "json", "logfmt", "syslog", "access", "container", "plaintext")


@dataclass(frozen=True)
class TopicConfig:
    """Per-topic ingest settings (`[ingest.topics."<topic>"]` in the file only)."""

    envelope: str = _setting("auto", _one_of(*ENVELOPES))
    format: str = _setting("auto", _one_of(*FORMATS))
    # A JSON Schema that structured (JSON) lines of this topic must satisfy; rejects go to DLQ.
    schema: Path | None = _setting(None)
    dataset: str | None = _setting(None)


@dataclass(frozen=True)
class IngestConfig:
    """The ingest service: consumer group, dead-lettering, indexing and batching."""

    group: str = _setting("edgewatch-ingest")
    dlq_suffix: str = _setting(".dlq")
    # Larger messages are dead-lettered unparsed (reason "oversized").
    max_message_bytes: int = _setting(1_048_576, _positive)
    keep_original: bool = _setting(True)  # event.original
    # Build the common shapes with the Rust core (pipeline/ingest/_native); false: every
    # message takes the Python reference (slower, same documents). A switch for operators.
    native_core: bool = _setting(True)
    index_mode: str = _setting("dated", _one_of("dated", "data_stream"))
    # dated: <index_prefix>-YYYY.MM.DD; data_stream: logs-<dataset>-<namespace>
    index_prefix: str = _setting("edgewatch-logs")
    dataset: str = _setting("edge")
    namespace: str = _setting("default")
    # Dated mode: the event time names the index only within this window around the Kafka
    # timestamp, else the Kafka timestamp does; a line dated 1970 or 9999 cannot make an
    # index of its own (pipeline/ingest/window.py). The document keeps its @timestamp.
    index_time_window_back_s: float = _setting(7 * 86_400.0, _window_bound)
    index_time_window_ahead_s: float = _setting(86_400.0, _window_bound)
    replicas: int | None = _setting(None)
    # Retention: an ILM policy that deletes indices this many days old (dated mode) or this
    # long after rollover (data streams), installed with the template. None: yours to manage.
    ilm_delete_after_days: int | None = _setting(None, _positive_or_none)
    bulk_max_docs: int = _setting(2000, _positive)
    bulk_max_bytes: int = _setting(5_000_000, _positive)
    linger_ms: int = _setting(200, _positive)
    # Bulk requests in flight. One more than Elasticsearch has write threads on the
    # benchmark's 2 cores: one request is always queued while ingest reads the answer to
    # another (measured: 5 % more events/s than with 2, the ceiling unchanged).
    bulk_concurrency: int = _setting(3, _positive)
    retry_backoff_max_s: float = _setting(30.0, _positive)
    shutdown_timeout_s: float = _setting(30.0, _positive)
    # Where /metrics, /healthz, /readyz listen: this host only by default; containers set
    # 0.0.0.0 so that probes and Prometheus reach the port (deploy/).
    http_host: str = _setting("127.0.0.1")
    http_port: int = _setting(9311)  # /metrics, /healthz, /readyz; 0 disables
    topics: dict[str, TopicConfig] = field(default_factory=dict)

    def topic(self, name: str) -> TopicConfig:
        """The settings for one topic: its own table if it has one, else the defaults."""
        return self.topics.get(name) or _DEFAULT_TOPIC


_DEFAULT_TOPIC = TopicConfig()


@dataclass(frozen=True)
class AlertConfig:
    """The rule engine."""

    # Where watch scripts run, through the `_scripts/painless/_execute` API, and where stored
    # scripts live. With a full Elasticsearch this is the Elasticsearch URL itself; the local
    # stack's Elasticsearch lacks Painless, so the default is its Painless node.
    painless_url: str = _setting("http://127.0.0.1:9201", _url)
    state_index: str = _setting("edgewatch-rules-state")
    history_prefix: str = _setting("edgewatch-rules-history")  # + -YYYY.MM.DD
    # Rules evaluated at once. Mostly waiting on Elasticsearch, so more threads than cores:
    # rules due together then share _msearch requests.
    workers: int = _setting(32, _positive)
    reload_interval_s: float = _setting(5.0, _positive)  # how often the rules folder is re-read
    # A larger rule file is reported and skipped (a rule is a few kilobytes).
    max_rule_file_bytes: int = _setting(1_048_576, _positive)
    http_host: str = _setting("127.0.0.1")  # as [ingest] http_host: containers set 0.0.0.0
    http_port: int = _setting(9312)  # /metrics, /healthz, /readyz; 0 disables
    # Longest a rule's execution may take before it is recorded as failed; the rule's next
    # run is not blocked by a hung search or script beyond this.
    execution_timeout_s: float = _setting(60.0, _positive)
    # Email and webhook notifications are written here before they are sent (the outbox).
    outbox_index: str = _setting("edgewatch-outbox")
    # A notification still undelivered this long after its firing is given up and recorded
    # as failed with the last reason.
    delivery_deadline_s: float = _setting(3600.0, _positive)
    delivery_retry_max_s: float = _setting(60.0, _positive)  # cap of the retry backoff
    # A notification that failed this many attempts is given up, whatever the deadline. With
    # the default backoff (at most 60 s) about 80 attempts fit in the default hour, so the
    # deadline decides; the cap bounds the attempts when the deadline is long.
    delivery_max_attempts: int = _setting(100, _positive)
    # Base of the "open in Kibana" link in emails, e.g. https://kibana.example.com; none: no link.
    kibana_url: str | None = _setting(None)
    # Seals webhook URL tokens and credential headers in the outbox; the same on every alert
    # process, else what one left pending with secrets fails after a restart.
    outbox_key: str | None = _setting(None, secret=True)


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


def _html_allow(value: Any) -> str | None:
    for item in value:
        name = item.lower()
        if name.startswith(("_", "img:")) and name not in HTML_GROUPS:
            return f"unknown group {item!r}; the groups are {', '.join(HTML_GROUPS)}"
        if name in _HTML_NEVER or not (name in HTML_GROUPS or name.isalnum()):
            return f"{item!r} cannot be allowed in an email body"
    return None


@dataclass(frozen=True)
class SmtpConfig:
    """The mail server email actions send through. Never taken from rule files."""

    host: str = _setting("127.0.0.1")
    port: int = _setting(25, _positive)
    # opportunistic: upgrade with STARTTLS when the server offers it, else plain; none: plain
    # SMTP; starttls: upgrade after connecting, required (usually port 587); tls: implicit
    # TLS from the first byte (usually port 465).
    security: str = _setting("opportunistic", _one_of("opportunistic", "none", "starttls", "tls"))
    # Logging in (username/password) without TLS actually negotiated is refused unless set.
    allow_insecure: bool = _setting(False)
    username: str | None = _setting(None)
    password: str | None = _setting(None, secret=True)
    from_address: str = _setting("edgewatch@localhost")  # when a rule's email gives no `from`
    # A CA bundle (PEM) to trust for the server's certificate instead of the system's.
    ca_certs: Path | None = _setting(None)
    timeout_s: float = _setting(30.0, _positive)
    # Email HTML bodies pass an allow-list sanitiser (as Watcher's
    # xpack.notification.email.html.sanitization.*); false sends them as rendered.
    html_sanitise: bool = _setting(True)
    # What the sanitiser keeps: groups _formatting, _blocks, _tables, _links, _styles (safe
    # CSS properties), img:embedded (cid: and data: images), img (remote images too), or
    # element names.
    html_allow: tuple[str, ...] = _list_setting(
        ("_formatting", "_blocks", "_tables", "_links", "_styles", "img:embedded"),
        _html_allow,
    )


@dataclass(frozen=True)
class WebhookConfig:
    """Settings shared by every webhook action. Never taken from rule files."""

    # When set, each request carries `<signature_header>: sha256=<hex HMAC of the body>`.
    hmac_secret: str | None = _setting(None, secret=True)
    signature_header: str = _setting("X-Edgewatch-Signature")
    # Basic-auth credentials for webhooks whose rule asks for `auth.basic` without a password.
    username: str | None = _setting(None)
    password: str | None = _setting(None, secret=True)
    # Hosts the password may be sent to (patterns as in [http] allowed_hosts); a request to
    # any other host that asks for it fails, naming this setting.
    credential_hosts: tuple[str, ...] = _list_setting((), _host_patterns)
    connect_timeout_s: float = _setting(10.0, _positive)
    read_timeout_s: float = _setting(30.0, _positive)


@dataclass(frozen=True)
class HttpConfig:
    """Outbound HTTP requests of rules (webhook actions, http inputs). Never from rule files."""

    # Where requests may go: host globs (hooks.slack.com, *.example.com) and networks
    # (10.1.0.0/16), each optionally with :port, checked after rendering and after DNS.
    # Loopback, private, link-local and other non-public addresses need a pattern naming
    # them (the catch-all "*" does not); cloud metadata needs its exact host or address.
    allowed_hosts: tuple[str, ...] = _list_setting(("*",), _host_patterns)
    # Longer answers are abandoned (the connection closed) with an error, as Watcher's
    # xpack.http.max_response_size.
    max_response_bytes: int = _setting(10 * 1024 * 1024, _positive)
    # The basic-auth password of http inputs whose rule gives a username and no password,
    # sent only to input_credential_hosts.
    input_password: str | None = _setting(None, secret=True)
    input_credential_hosts: tuple[str, ...] = _list_setting((), _host_patterns)


@dataclass(frozen=True)
class Config:
    """All of edgewatch's settings. Build it with `load_config`."""

    log_level: str = _setting("info", _one_of("debug", "info", "warning", "error"))
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    es: ElasticsearchConfig = field(default_factory=ElasticsearchConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    alert: AlertConfig = field(default_factory=AlertConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    http: HttpConfig = field(default_factory=HttpConfig)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from defaults, an optional TOML file and the environment."""
    env = os.environ if environ is None else environ
    if path is None and env.get("EDGEWATCH_CONFIG"):
        path = Path(env["EDGEWATCH_CONFIG"])
    config = Config()
    if path is not None:
        config = _apply_file(config, path)
    config = _apply_env(config, env)
    _check_kafka(config.kafka, str(path) if path is not None else "environment")
    return config


def _check_kafka(kafka: KafkaConfig, source: str) -> None:
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


def _apply_file(config: Config, path: Path) -> Config:
    source = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("config file", source, "no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config file", source, f"not valid TOML: {err}") from None
    return typing.cast(Config, _merge(config, data, prefix="", source=source))


def _merge(obj: Any, data: Mapping[str, Any], prefix: str, source: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    hints = typing.get_type_hints(type(obj))
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(dotted, source, f"unknown key; known keys: {', '.join(known)}")
        current = getattr(obj, key)
        table_of = _table_type(hints[key])
        if _is_scalar_table(hints[key]):
            changes[key] = _scalar_table(known[key], value, dotted, source)
        elif table_of is not None:
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                raise ConfigError(dotted, source, "must be a table of tables")
            changes[key] = {
                name: _merge(table_of(), sub, f"{dotted}.{name}.", source)
                for name, sub in value.items()
            }
        elif is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(dotted, source, "must be a table")
            changes[key] = _merge(current, value, f"{dotted}.", source)
        else:
            changes[key] = _coerce(known[key], hints[key], value, dotted, source)
    return replace(obj, **changes)


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    sections = {f.name: f for f in fields(config) if is_dataclass(getattr(config, f.name))}
    plain = {f.name: f for f in fields(config) if f.name not in sections}
    hints = typing.get_type_hints(Config)
    changes: dict[str, Any] = {}
    section_changes: dict[str, dict[str, Any]] = {}
    for var, raw in sorted(env.items()):
        if not var.startswith(ENV_PREFIX) or var.startswith(ENV_NOT_CONFIG):
            continue
        name = var[len(ENV_PREFIX) :].lower()
        if name in plain:
            changes[name] = _coerce(plain[name], hints[name], raw, var, "environment")
            continue
        section = next((s for s in sections if name.startswith(f"{s}_")), None)
        if section is None:
            continue  # another tool's variable that happens to share our prefix
        key = name[len(section) + 1 :]
        target = getattr(config, section)
        known = {f.name: f for f in fields(target)}
        if key in known and (
            _table_type(typing.get_type_hints(type(target))[key]) is not None
            or _is_scalar_table(typing.get_type_hints(type(target))[key])
        ):
            raise ConfigError(var, "environment", "a table: set it in the config file")
        if key not in known:
            names = ", ".join(f"{ENV_PREFIX}{section.upper()}_{k.upper()}" for k in known)
            raise ConfigError(var, "environment", f"unknown setting; known: {names}")
        section_hints = typing.get_type_hints(type(target))
        section_changes.setdefault(section, {})[key] = _coerce(
            known[key], section_hints[key], raw, var, "environment"
        )
    for section, values in section_changes.items():
        changes[section] = replace(getattr(config, section), **values)
    return replace(config, **changes)


def _coerce(spec: Field[Any], hint: Any, value: Any, key: str, source: str) -> Any:
    """Turn a TOML value or an environment string into the field's type, then check it."""
    kind, optional = _unwrap_optional(hint)
    if optional and (value is None or value == ""):
        return None
    try:
        result = _convert(kind, value)
    except (TypeError, ValueError) as err:
        raise ConfigError(key, source, str(err)) from None
    check: Check | None = spec.metadata.get("check")
    problem = check(result) if check else None
    if problem:
        raise ConfigError(key, source, problem)
    return result


def _is_scalar_table(hint: Any) -> bool:
    """`dict[str, <scalar>]` settings: a table of plain values (the librdkafka pass-through)."""
    return typing.get_origin(hint) is dict and not is_dataclass(typing.get_args(hint)[1])


def _scalar_table(spec: Field[Any], value: Any, key: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(key, source, "must be a table")
    for name, item in value.items():
        if not isinstance(item, str | int | float | bool):
            raise ConfigError(f"{key}.{name}", source, "must be a string, number or boolean")
    check: Check | None = spec.metadata.get("check")
    problem = check(value) if check else None
    if problem:
        raise ConfigError(key, source, problem)
    return dict(value)


def _table_type(hint: Any) -> Any:
    """For `dict[str, SomeDataclass]` settings (named tables), the dataclass; else None."""
    if typing.get_origin(hint) is dict:
        value_type = typing.get_args(hint)[1]
        if is_dataclass(value_type):
            return value_type
    return None


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], True
    return hint, False


def _convert(kind: Any, value: Any) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"must be an integer, got {value!r}")
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"must be an integer, got {value!r}") from None
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(f"must be a number, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    if kind is Path:
        return Path(str(value))
    if typing.get_origin(kind) is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"must be a list of strings, got {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if kind is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"must be a string, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported setting type {kind!r}")


def _mask_by_name(name: str, value: Any) -> Any:
    """Pass-through settings have no declared secrecy: mask those whose name says secret."""
    secretive = ("password", "secret", "token", "key")
    return "********" if any(word in name.lower() for word in secretive) else value


def describe(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data, with secrets masked and URLs shown without
    userinfo or tokens (for `config show`)."""

    def walk(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if is_dataclass(value):
                out[f.name] = walk(value)
            elif isinstance(value, dict):
                out[f.name] = {
                    k: walk(v) if is_dataclass(v) else _mask_by_name(k, v) for k, v in value.items()
                }
            elif f.metadata.get("secret") and value is not None:
                out[f.name] = "********"
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            elif isinstance(value, str) and "://" in value:
                # URLs may carry user:password@ or ?token=: shown without them.
                out[f.name] = redact_url(value)
            else:
                out[f.name] = str(value) if isinstance(value, Path) else value
        return out

    return walk(config)
