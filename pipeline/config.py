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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config_checks import (
    ConfigError,
    LibrdkafkaValue,
    check_es,
    check_kafka,
    host_patterns,
    host_ports,
    html_allow,
    http_url,
    librdkafka_table,
    list_setting,
    one_of,
    one_of_or_none,
    positive,
    positive_or_none,
    setting,
    window_bound,
)
from pipeline.config_loader import apply_env, apply_file, describe

# Re-exported: the configuration's public names, all importable from here.
__all__ = [
    "AlertConfig",
    "Config",
    "ConfigError",
    "ElasticsearchConfig",
    "HttpConfig",
    "IngestConfig",
    "KafkaConfig",
    "SmtpConfig",
    "TopicConfig",
    "WebhookConfig",
    "describe",
    "load_config",
]


@dataclass(frozen=True)
class KafkaConfig:
    """Where the log topics live."""

    bootstrap: str = setting("127.0.0.1:9092", host_ports)
    client_id: str = setting("edgewatch")
    # How every client (ingest, dead letters, admin, ship, check) talks to the brokers.
    security_protocol: str = setting(
        "PLAINTEXT", one_of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
    )
    # OAUTHBEARER uses librdkafka's own OIDC client: its sasl.oauthbearer.* settings go in
    # the [kafka.librdkafka] table.
    sasl_mechanism: str | None = setting(
        None, one_of_or_none("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
    )
    sasl_username: str | None = setting(None)
    sasl_password: str | None = setting(None, secret=True)
    # A PEM bundle of the CAs that signed the brokers' certificates; none: the system's.
    ssl_ca_location: Path | None = setting(None)
    # A client certificate and key (PEM), for brokers that require mutual TLS.
    ssl_certificate_location: Path | None = setting(None)
    ssl_key_location: Path | None = setting(None)
    ssl_key_password: str | None = setting(None, secret=True)
    # Check that the broker's certificate names the host we dialled. Off only for tests.
    ssl_endpoint_identification: bool = setting(True)
    # SASL PLAIN sends the password as it is: refused over SASL_PLAINTEXT unless this is true.
    allow_insecure: bool = setting(False)
    # Any other librdkafka setting (file only), for what the typed settings do not cover;
    # keys the typed settings own are refused.
    librdkafka: dict[str, LibrdkafkaValue] = field(
        default_factory=dict, metadata={"check": librdkafka_table, "secret": False}
    )


@dataclass(frozen=True)
class ElasticsearchConfig:
    """Where documents are indexed and rules search."""

    url: str = setting("http://127.0.0.1:9200", http_url)
    username: str | None = setting(None)
    password: str | None = setting(None, secret=True)
    api_key: str | None = setting(None, secret=True)
    ca_certs: Path | None = setting(None)
    request_timeout: float = setting(30.0, positive)
    # Credentials (username/password or api_key) over plain http:// are refused unless this
    # says the network in between is trusted.
    allow_insecure: bool = setting(False)


ENVELOPES = ("auto", "filebeat", "fluentbit", "vector", "raw")
FORMATS = ("auto", "json", "logfmt", "syslog", "access", "container", "plaintext")


@dataclass(frozen=True)
class TopicConfig:
    """Per-topic ingest settings (`[ingest.topics."<topic>"]` in the file only)."""

    envelope: str = setting("auto", one_of(*ENVELOPES))
    format: str = setting("auto", one_of(*FORMATS))
    # A JSON Schema that structured (JSON) lines of this topic must satisfy; rejects go to DLQ.
    schema: Path | None = setting(None)
    dataset: str | None = setting(None)


@dataclass(frozen=True)
class IngestConfig:
    """The ingest service: consumer group, dead-lettering, indexing and batching."""

    group: str = setting("edgewatch-ingest")
    dlq_suffix: str = setting(".dlq")
    # Larger messages are dead-lettered unparsed (reason "oversized").
    max_message_bytes: int = setting(1_048_576, positive)
    keep_original: bool = setting(True)  # event.original
    index_mode: str = setting("dated", one_of("dated", "data_stream"))
    # dated: <index_prefix>-YYYY.MM.DD; data_stream: logs-<dataset>-<namespace>
    index_prefix: str = setting("edgewatch-logs")
    dataset: str = setting("edge")
    namespace: str = setting("default")
    # Dated mode: the event time names the index only within this window around the Kafka
    # timestamp, else the Kafka timestamp does; a line dated 1970 or 9999 cannot make an
    # index of its own (native/src/window.rs). The document keeps its @timestamp.
    index_time_window_back_s: float = setting(7 * 86_400.0, window_bound)
    index_time_window_ahead_s: float = setting(86_400.0, window_bound)
    # A host whose clock is off by more than this is reported (pipeline/ingest/clock.py: the
    # edgewatch_hosts_clock_drifting metric, the status document, rules/host-clock-drift.json);
    # the metric per host shows the clock_hosts_shown hosts furthest off.
    clock_drift_bound_s: float = setting(120.0, positive)
    clock_hosts_shown: int = setting(20, positive)
    # Every member writes its status here every 10 s (pipeline/ingest/status.py): how far
    # behind it is, and the drifting clocks. The alert side holds no-data rules by it.
    status_index: str = setting("edgewatch-status")
    replicas: int | None = setting(None)
    # Retention: an ILM policy that deletes indices this many days old (dated mode) or this
    # long after rollover (data streams), installed with the template. None: yours to manage.
    ilm_delete_after_days: int | None = setting(None, positive_or_none)
    bulk_max_docs: int = setting(2000, positive)
    bulk_max_bytes: int = setting(5_000_000, positive)
    linger_ms: int = setting(200, positive)
    # Bulk requests in flight. One more than Elasticsearch has write threads on the
    # benchmark's 2 cores: one request is always queued while ingest reads the answer to
    # another (measured: 5 % more events/s than with 2, the ceiling unchanged).
    bulk_concurrency: int = setting(3, positive)
    retry_backoff_max_s: float = setting(30.0, positive)
    shutdown_timeout_s: float = setting(30.0, positive)
    # Static group membership (librdkafka's group.instance.id): a member restarted within
    # the session timeout gets its own partitions back at once instead of waiting for the
    # group to notice it gone. Unique per process; Kubernetes sets it from the pod name.
    instance_id: str | None = setting(None)
    # How long the group waits for a silent member; None: 45 s with an instance_id (it is
    # expected back after a restart), 10 s without.
    session_timeout_s: float | None = setting(None, positive_or_none)
    # --exit-when-idle: how long a run waits for Kafka (unreachable, group unsettled, end
    # offsets unknown) before it gives up and exits 2.
    idle_exit_wait_s: float = setting(300.0, positive)
    # Where /metrics, /healthz, /readyz listen: this host only by default; containers set
    # 0.0.0.0 so that probes and Prometheus reach the port (deploy/).
    http_host: str = setting("127.0.0.1")
    http_port: int = setting(9311)  # /metrics, /healthz, /readyz; 0 disables
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
    painless_url: str = setting("http://127.0.0.1:9201", http_url)
    state_index: str = setting("edgewatch-rules-state")
    history_prefix: str = setting("edgewatch-rules-history")  # + -YYYY.MM.DD
    # Rules evaluated at once. Mostly waiting on Elasticsearch, so more threads than cores:
    # rules due together then share _msearch requests.
    workers: int = setting(32, positive)
    reload_interval_s: float = setting(5.0, positive)  # how often the rules folder is re-read
    # A larger rule file is reported and skipped (a rule is a few kilobytes).
    max_rule_file_bytes: int = setting(1_048_576, positive)
    http_host: str = setting("127.0.0.1")  # as [ingest] http_host: containers set 0.0.0.0
    http_port: int = setting(9312)  # /metrics, /healthz, /readyz; 0 disables
    # Longest a rule's execution may take before it is recorded as failed; the rule's next
    # run is not blocked by a hung search or script beyond this.
    execution_timeout_s: float = setting(60.0, positive)
    # Email and webhook notifications are written here before they are sent (the outbox).
    outbox_index: str = setting("edgewatch-outbox")
    # A notification still undelivered this long after its firing is given up and recorded
    # as failed with the last reason.
    delivery_deadline_s: float = setting(3600.0, positive)
    delivery_retry_max_s: float = setting(60.0, positive)  # cap of the retry backoff
    # A notification that failed this many attempts is given up, whatever the deadline. With
    # the default backoff (at most 60 s) about 80 attempts fit in the default hour, so the
    # deadline decides; the cap bounds the attempts when the deadline is long.
    delivery_max_attempts: int = setting(100, positive)
    # Base of the "open in Kibana" link in emails, e.g. https://kibana.example.com; none: no link.
    kibana_url: str | None = setting(None)
    # Seals webhook URL tokens and credential headers in the outbox; the same on every alert
    # process, else what one left pending with secrets fails after a restart.
    outbox_key: str | None = setting(None, secret=True)


@dataclass(frozen=True)
class SmtpConfig:
    """The mail server email actions send through. Never taken from rule files."""

    host: str = setting("127.0.0.1")
    port: int = setting(25, positive)
    # opportunistic: upgrade with STARTTLS when the server offers it, else plain; none: plain
    # SMTP; starttls: upgrade after connecting, required (usually port 587); tls: implicit
    # TLS from the first byte (usually port 465).
    security: str = setting("opportunistic", one_of("opportunistic", "none", "starttls", "tls"))
    # Logging in (username/password) without TLS actually negotiated is refused unless set.
    allow_insecure: bool = setting(False)
    username: str | None = setting(None)
    password: str | None = setting(None, secret=True)
    from_address: str = setting("edgewatch@localhost")  # when a rule's email gives no `from`
    # A CA bundle (PEM) to trust for the server's certificate instead of the system's.
    ca_certs: Path | None = setting(None)
    timeout_s: float = setting(30.0, positive)
    # Email HTML bodies pass an allow-list sanitiser (as Watcher's
    # xpack.notification.email.html.sanitization.*); false sends them as rendered.
    html_sanitise: bool = setting(True)
    # What the sanitiser keeps: groups _formatting, _blocks, _tables, _links, _styles (safe
    # CSS properties), img:embedded (cid: and data: images), img (remote images too), or
    # element names.
    html_allow: tuple[str, ...] = list_setting(
        ("_formatting", "_blocks", "_tables", "_links", "_styles", "img:embedded"),
        html_allow,
    )


@dataclass(frozen=True)
class WebhookConfig:
    """Settings shared by every webhook action. Never taken from rule files."""

    # When set, each request carries `<signature_header>: sha256=<hex HMAC of the body>`.
    hmac_secret: str | None = setting(None, secret=True)
    signature_header: str = setting("X-Edgewatch-Signature")
    # Basic-auth credentials for webhooks whose rule asks for `auth.basic` without a password.
    username: str | None = setting(None)
    password: str | None = setting(None, secret=True)
    # Hosts the password may be sent to (patterns as in [http] allowed_hosts); a request to
    # any other host that asks for it fails, naming this setting.
    credential_hosts: tuple[str, ...] = list_setting((), host_patterns)
    connect_timeout_s: float = setting(10.0, positive)
    read_timeout_s: float = setting(30.0, positive)


@dataclass(frozen=True)
class HttpConfig:
    """Outbound HTTP requests of rules (webhook actions, http inputs). Never from rule files."""

    # Where requests may go: host globs (hooks.slack.com, *.example.com) and networks
    # (10.1.0.0/16), each optionally with :port, checked after rendering and after DNS.
    # Loopback, private, link-local and other non-public addresses need a pattern naming
    # them (the catch-all "*" does not); cloud metadata needs its exact host or address.
    allowed_hosts: tuple[str, ...] = list_setting(("*",), host_patterns)
    # Longer answers are abandoned (the connection closed) with an error, as Watcher's
    # xpack.http.max_response_size.
    max_response_bytes: int = setting(10 * 1024 * 1024, positive)
    # The basic-auth password of http inputs whose rule gives a username and no password,
    # sent only to input_credential_hosts.
    input_password: str | None = setting(None, secret=True)
    input_credential_hosts: tuple[str, ...] = list_setting((), host_patterns)


@dataclass(frozen=True)
class Config:
    """All of edgewatch's settings. Build it with `load_config`."""

    log_level: str = setting("info", one_of("debug", "info", "warning", "error"))
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
        config = apply_file(config, path)
    config = apply_env(config, env)
    source = str(path) if path is not None else "environment"
    check_kafka(config.kafka, source)
    check_es(config.es, source)
    return config
