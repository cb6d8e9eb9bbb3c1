"""The `edgewatch` command line."""

from __future__ import annotations

import json
import logging
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.cli_hosts import hosts
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


@main.group()
def rules() -> None:
    """Work with alert rule files (Elasticsearch Watcher format)."""


@rules.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_obj
def rules_validate(state: _State, paths: tuple[Path, ...]) -> None:
    """Check rule files (or folders of *.json) against the rule format's JSON Schema.

    Prints `file: /json/pointer: problem` for every problem and exits 1, or a one-line summary
    and exits 0. Reports what `edgewatch alert` would skip, with the same limits
    (alert.max_rule_file_bytes).
    """
    from pipeline.alerting.format.validate import validate_paths

    checked, problems = validate_paths(paths, state.config.alert.max_rule_file_bytes)
    for problem in problems:
        click.echo(str(problem))
    bad = len({p.file for p in problems})
    if problems:
        click.echo(f"{len(problems)} problem(s) in {bad} of {checked} rule file(s)", err=True)
        sys.exit(1)
    click.echo(f"{checked} rule file(s) valid")


@rules.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--at", "at", help="Execution time: ISO 8601 or date math like now-1h (default now).")
@click.option("--ignore-condition", is_flag=True, help="Run the actions even if not met.")
@click.option("--simulate-actions", is_flag=True, help="Render the actions, do not perform them.")
@click.option(
    "--alternative-input",
    metavar="JSON",
    help="Use this payload instead of running the input (JSON text, or @file).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Use and update the rule's stored state (throttle, ack) and write a history entry.",
)
@click.option(
    "--id",
    "rule_id",
    help="The rule's id (default: the file name without .json; `edgewatch alert` names a rule"
    " in a subfolder by its path, e.g. team/disk-full).",
)
@click.option(
    "--wait",
    default=30.0,
    show_default=True,
    help="Seconds to wait for email/webhook delivery; what is not delivered by then stays in"
    " the outbox for `edgewatch alert` to retry.",
)
@click.pass_obj
def rules_run(
    state: _State,
    file: Path,
    at: str | None,
    ignore_condition: bool,
    simulate_actions: bool,
    alternative_input: str | None,
    record: bool,
    rule_id: str | None,
    wait: float,
) -> None:
    """Execute one rule now, like Watcher's execute API; print the watch record as JSON.

    Without --record, throttling and acks start from a clean state and nothing is stored.
    Emails and webhooks go through the outbox and are sent at once; each action's result
    then shows its delivery state (sent, failed, or pending: left to `edgewatch alert`).
    """
    from datetime import UTC, datetime

    from pipeline.alerting import adapters
    from pipeline.alerting.engine.java import dates
    from pipeline.alerting.engine.run import RunOptions
    from pipeline.alerting.format.validate import check_file
    from pipeline.alerting.runner import run_rule

    checked = check_file(file, state.config.alert.max_rule_file_bytes)
    if checked.problems:
        for problem in checked.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{file} is not a valid rule; nothing was run")
    data = checked.data
    watch = data.get("watch", data)
    now = datetime.now(UTC)
    try:
        moment = dates.date_math(at, now) if at else now
    except dates.DateMathError as err:
        raise click.BadParameter(str(err), param_hint="--at") from None
    payload = None
    if alternative_input:
        text = alternative_input
        if text.startswith("@"):
            text = Path(text[1:]).read_text()
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as err:
            raise click.BadParameter(f"not JSON: {err}", param_hint="--alternative-input") from None
    _setup_logging(state.config.log_level, state.config)
    rule_id = rule_id or file.stem
    store = _store(state) if record else None
    if store is not None:
        store.install()
    courier = None
    if not simulate_actions and _sends_notifications(watch):
        from pipeline.alerting.delivery.courier import Courier
        from pipeline.alerting.delivery.outbox import Outbox
        from pipeline.alerting.delivery.seal import Sealer
        from pipeline.clients import elasticsearch as es_client

        outbox = Outbox(
            es_client.connect(state.config.es),
            state.config.alert.outbox_index,
            sealer=Sealer(state.config.alert.outbox_key),
        )
        courier = Courier(state.config, outbox).start()
    result = run_rule(
        store,
        adapters.services(
            state.config,
            notify=courier.submit if courier else None,
            # A rule's id is its path under the rules folder: `_scripts/` is that many up.
            stored_script=adapters.stored_scripts(
                state.config, file.parents[min(rule_id.count("/"), len(file.parents) - 1)]
            ),
        ),
        rule_id,
        watch,
        RunOptions(
            execution_time=moment,
            ignore_condition=ignore_condition,
            simulate_actions=frozenset({"_all"}) if simulate_actions else frozenset(),
            alternative_input=payload,
            record_state=record,
        ),
    )
    if courier is not None:
        queued = _queued_notifications(result)
        delivered = courier.wait(queued, wait) if queued else {}
        courier.stop()
        for found in queued.values():
            found["delivery"] = delivered.get(found["id"], "pending")
    click.echo(json.dumps(result, indent=2, default=str))


def _sends_notifications(watch: dict[str, Any]) -> bool:
    actions = (watch.get("actions") or {}).values()
    return any("email" in a or "webhook" in a for a in actions if isinstance(a, dict))


def _queued_notifications(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The email/webhook outputs of a watch record that went to the outbox, by id."""
    found: dict[str, dict[str, Any]] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("status") == "queued" and isinstance(node.get("id"), str):
                found[node["id"]] = node
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit((record.get("result") or {}).get("actions"))
    return found


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


def _store(state: _State) -> Any:
    from pipeline.alerting.status.store import RuleStore
    from pipeline.clients import elasticsearch as es_client

    cfg = state.config
    return RuleStore(es_client.connect(cfg.es), cfg.alert.state_index, cfg.alert.history_prefix)


@rules.command("ack")
@click.argument("rule")
@click.argument("actions", nargs=-1)
@click.pass_obj
def rules_ack(state: _State, rule: str, actions: tuple[str, ...]) -> None:
    """Acknowledge a rule's actions (all of them by default) until its condition clears."""
    from pipeline.alerting.status import throttle as states

    store = _store(state)
    current, _ = store.load(rule)
    if current is None:
        raise click.ClickException(f"rule {rule!r} has never run: nothing to acknowledge")
    unknown = set(actions) - set(current.actions)
    if unknown:
        raise click.ClickException(
            f"rule {rule!r} has no action {', '.join(sorted(unknown))} "
            f"(it has: {', '.join(current.actions)})"
        )
    new = store.update(rule, lambda s, now: states.ack_actions(s, now, list(actions) or None), [])
    for name, action in new.actions.items():
        click.echo(f"{rule} {name}: {action.ack.state}")


@rules.command("activate")
@click.argument("rule")
@click.pass_obj
def rules_activate(state: _State, rule: str) -> None:
    """Let a rule run on its schedule again."""
    from pipeline.alerting.status import throttle as states

    _store(state).update(rule, states.activate, [])
    click.echo(f"{rule}: active")


@rules.command("deactivate")
@click.argument("rule")
@click.pass_obj
def rules_deactivate(state: _State, rule: str) -> None:
    """Stop a rule from running (its file stays; `activate` resumes it)."""
    from pipeline.alerting.status import throttle as states

    _store(state).update(rule, states.deactivate, [])
    click.echo(f"{rule}: inactive")


@rules.command("history")
@click.argument("rule")
@click.option("--last", default=20, show_default=True, help="How many executions.")
@click.pass_obj
def rules_history(state: _State, rule: str, last: int) -> None:
    """The latest executions of a rule, newest first."""
    entries = _store(state).history(rule, last)
    if not entries:
        click.echo(f"no executions recorded for {rule}")
        return
    click.echo(
        f"{'triggered (UTC)':<24} {'scheduled (UTC)':<24} {'run':<8} {'state':<21} "
        f"{'met':<5} {'ms':>6}  actions"
    )
    for entry in entries:
        actions = ", ".join(f"{a['id']}={a['status']}" for a in entry.get("actions") or [])
        met = {True: "yes", False: "no"}.get(entry.get("condition_met"), "-")
        trigger = entry["trigger"]
        click.echo(
            f"{trigger['triggered_time']:<24} {trigger.get('scheduled_time', '-'):<24} "
            f"{trigger.get('type', '-'):<8} {entry['state']:<21} {met:<5} "
            f"{entry.get('duration_ms') or 0:>6}  {actions or '-'}"
        )


def _row(name: str, endpoint: str, state: str, detail: str) -> None:
    from pipeline.redact import redact_url

    endpoint = redact_url(endpoint)  # a URL may carry user:password@ or a token
    colour = "green" if state == "ok" else "red"
    click.echo(f"{name:<14} {endpoint:<24} {click.style(f'{state:<7}', fg=colour)} {detail}")
