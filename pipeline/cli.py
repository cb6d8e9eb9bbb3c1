"""The `edgewatch` command line."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import click

from pipeline import __version__
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

    librdkafka, _ = confluent_kafka.libversion()
    click.echo(f"edgewatch {__version__}")
    click.echo(f"  python               {platform.python_version()}")
    click.echo(f"  confluent-kafka      {installed('confluent-kafka')} (librdkafka {librdkafka})")
    click.echo(f"  elasticsearch-py     {installed('elasticsearch')}")


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
        e = es_client.describe_cluster(client, cfg.es.url)
        detail = f"{e.version}, cluster {e.name}, status {e.status}, {e.nodes} node(s)"
        _row("elasticsearch", cfg.es.url, "ok" if e.status != "red" else "FAILED", detail)
        failures += e.status == "red"
    except ConnectionError as err:
        failures += 1
        _row("elasticsearch", cfg.es.url, "FAILED", str(err))
    if failures:
        sys.exit(1)


def _row(name: str, endpoint: str, state: str, detail: str) -> None:
    colour = "green" if state == "ok" else "red"
    click.echo(f"{name:<14} {endpoint:<24} {click.style(f'{state:<7}', fg=colour)} {detail}")
