"""The `edgewatch` command line."""

from __future__ import annotations

import json
import logging
import platform
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from pipeline import __version__
from pipeline.cli_hosts import hosts
from pipeline.cli_rules import rules
from pipeline.config import Config, ConfigError, describe, load_config


class _State:
    """Per-invocation state: the config is built lazily so `--help` never needs a valid one."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as err:
                raise click.ClickException(f"configuration error: {err}") from None
        return self._config

    def setup_logging(self) -> None:
        """Logging as every command sets it up, at the configured level."""
        _setup_logging(self.config.log_level, self.config)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EDGEWATCH_CONFIG",
    help="TOML configuration file (env: EDGEWATCH_CONFIG). EDGEWATCH_* variables override it.",
)
@click.version_option(__version__, "-V", "--version", prog_name="edgewatch")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """edgewatch: ship edge-node logs through Kafka into Elasticsearch, and alert on them.

    Settings come from an optional TOML file and EDGEWATCH_* environment variables
    (for example EDGEWATCH_KAFKA_BOOTSTRAP, EDGEWATCH_ES_URL); see `edgewatch config show`.
    """
    ctx.obj = _State(config_path)


@main.command()
def version() -> None:
    """Print the versions of edgewatch and of the client libraries it runs on."""
    from importlib.metadata import version as installed

    import confluent_kafka

    from pipeline.ingest import stale_sources

    librdkafka, _ = confluent_kafka.libversion()
    click.echo(f"edgewatch {__version__}")
    click.echo(f"  python               {platform.python_version()}")
    click.echo(f"  confluent-kafka      {installed('confluent-kafka')} (librdkafka {librdkafka})")
    click.echo(f"  elasticsearch-py     {installed('elasticsearch')}")
    stale = stale_sources()
    if stale:
        click.echo(
            f"  WARNING: {', '.join(stale)} changed after the native ingest core was built: "
            "run `make venv`"
        )


@main.group()
def config() -> None:
    """Inspect the effective configuration."""


@config.command("show")
@click.pass_obj
def config_show(state: _State) -> None:
    """Print the configuration after file and environment are applied (secrets masked)."""
    click.echo(json.dumps(describe(state.config), indent=2))


@main.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each server.")
@click.pass_obj
def check(state: _State, timeout: float) -> None:
    """Check that Kafka and Elasticsearch answer; exit 1 if either does not."""
    from pipeline.clients import elasticsearch as es_client
    from pipeline.clients import kafka as kafka_client

    cfg = state.config
    failures = 0
    try:
        k = kafka_client.describe_cluster(cfg.kafka, timeout=timeout)
        _row("kafka", cfg.kafka.bootstrap, "ok", f"{k.brokers} broker(s), {k.topics} topic(s)")
    except ConnectionError as err:
        failures += 1
        _row("kafka", cfg.kafka.bootstrap, "FAILED", str(err))
    try:
        client = es_client.connect(cfg.es).options(request_timeout=timeout, max_retries=0)
        e = es_client.describe_cluster(client, cfg.es)
        detail = f"{e.version}, cluster {e.name}, status {e.status}, {e.nodes} node(s)"
        _row("elasticsearch", cfg.es.url, "ok" if e.status != "red" else "FAILED", detail)
        failures += e.status == "red"
    except (ConnectionError, ConfigError) as err:
        failures += 1
        _row("elasticsearch", cfg.es.url, "FAILED", str(err))
    if failures:
        sys.exit(1)


def _setup_logging(level: str, config: Config | None = None) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Every line we print passes one filter: the configuration's secret values masked, URLs
    # without userinfo or tokens, even inside an exception's text.
    from pipeline import redact

    redact.install(config if config is not None else Config())
    # These log every request or job run at INFO: noise next to our own lines. Raise the
    # level to debug to see them.
    if level.lower() != "debug":
        for chatty in ("elastic_transport", "httpx", "apscheduler.executors"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@main.command()
@click.option("--topics", help="Comma-separated topics to consume.")
@click.option("--topic-pattern", help="Also consume every topic matching this regex.")
@click.option("--group", help="Consumer group (default: ingest.group, edgewatch-ingest).")
@click.option(
    "--exit-when-idle",
    type=float,
    metavar="SECONDS",
    help="Exit 0 once every partition is read to its end, no message came for this long and "
    "everything read is indexed and committed; exit 2 if Kafka keeps that from being known "
    "for ingest.idle_exit_wait_s.",
)
@click.option("--http-port", type=int, help="Port for /metrics, /healthz, /readyz (0: off).")
@click.option(
    "--instance-id",
    help="Static group membership id, unique per process (default: ingest.instance_id).",
)
@click.pass_obj
def ingest(
    state: _State,
    topics: str | None,
    topic_pattern: str | None,
    group: str | None,
    exit_when_idle: float | None,
    http_port: int | None,
    instance_id: str | None,
) -> None:
    """Consume log topics and index them into Elasticsearch (at-least-once, no duplicates).

    Messages that cannot be parsed or indexed go to <topic>.dlq with the reason in headers.
    SIGTERM or Ctrl-C: finish writing what was read, commit, exit 0.
    """
    from pipeline.ingest.service import IngestOptions, IngestService, SetupError

    cfg = state.config
    _setup_logging(cfg.log_level, cfg)
    if not _csv(topics) and not topic_pattern:
        raise click.UsageError("give --topics and/or --topic-pattern")
    service = IngestService(
        cfg,
        IngestOptions(_csv(topics), topic_pattern, group, exit_when_idle, http_port, instance_id),
    )
    service.install_signal_handlers()
    try:
        code = service.run()
    except SetupError as err:
        raise click.ClickException(str(err)) from None
    sys.exit(code)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--topic", required=True, help="Kafka topic to produce to.")
@click.option(
    "--envelope",
    type=click.Choice(["raw", "filebeat", "fluentbit", "vector"]),
    default="raw",
    show_default=True,
    help="Wrap each line as this shipper would.",
)
@click.option("--host", help="Host name to ship as (message key; default: this machine).")
@click.pass_obj
def ship(
    state: _State, files: tuple[str, ...], topic: str, envelope: str, host: str | None
) -> None:
    """Produce log FILES (or - for stdin) into Kafka, one message per line."""
    from datetime import UTC, datetime

    from pipeline.clients import kafka as kafka_client
    from pipeline.ingest import ship as shipping
    from pipeline.progress import Progress

    cfg = state.config
    try:
        # One metadata request first: a wrong password or CA is then one clear error, not
        # a minute of reconnects before the first delivery times out.
        kafka_client.describe_cluster(cfg.kafka, timeout=15)
    except ConnectionError as err:
        raise click.ClickException(str(err)) from None
    producer = kafka_client.producer(cfg.kafka, **{"linger.ms": 50, "compression.type": "lz4"})
    paths = files or ("-",)

    def source() -> Iterator[tuple[str, bytes]]:
        for path in paths:
            with click.open_file(path, "rb") as stream:
                name = "/dev/stdin" if path == "-" else str(Path(path).resolve())
                for line in shipping.lines(stream):
                    yield name, line

    progress = Progress(f"shipping to {topic}")
    try:
        count = shipping.ship(
            producer, topic, source(), envelope, host, lambda: datetime.now(UTC), progress.advance
        )
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None
    finally:
        elapsed = progress.close()
    click.echo(f"shipped {count:,} lines to {topic} in {elapsed:.1f} s")


main.add_command(hosts)
main.add_command(rules)


@main.command()
@click.option(
    "--rules",
    "rules_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of rule files (*.json, searched recursively).",
)
@click.option("--http-port", type=int, help="Port for /metrics, /healthz, /readyz (0: off).")
@click.pass_obj
def alert(state: _State, rules_dir: Path, http_port: int | None) -> None:
    """Run every rule of a folder on its schedule, keeping state and history in Elasticsearch.

    The folder is re-read every alert.reload_interval_s seconds and on SIGHUP. Invalid files
    are reported and skipped; the other rules keep running.
    """
    from pipeline.alerting.service import AlertService

    cfg = state.config
    _setup_logging(cfg.log_level, cfg)
    service = AlertService(cfg, rules_dir, http_port)
    service.install_signal_handlers()
    try:
        code = service.run()
    except ConnectionError as err:
        raise click.ClickException(str(err)) from None
    sys.exit(code)


def _row(name: str, endpoint: str, state: str, detail: str) -> None:
    from pipeline.redact import redact_url

    endpoint = redact_url(endpoint)  # a URL may carry user:password@ or a token
    colour = "green" if state == "ok" else "red"
    click.echo(f"{name:<14} {endpoint:<24} {click.style(f'{state:<7}', fg=colour)} {detail}")
