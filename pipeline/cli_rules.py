"""`edgewatch rules`: validate and run rule files, ack and (de)activate rules, their history."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click


@click.group()
def rules() -> None:
    """Work with alert rule files (Elasticsearch Watcher format)."""


@rules.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_obj
def rules_validate(state: Any, paths: tuple[Path, ...]) -> None:
    """Check rule files (or folders of *.json) as Watcher checks a watch it is given.

    The rule format's JSON Schema, time zones and cron expressions, no credentials in rules,
    and every inline script compiled by the Painless executor (alert.painless_url; when none
    answers, a note says the scripts were not checked). Prints `file: /json/pointer: problem`
    for every problem and exits 1, or a one-line summary and exits 0. Reports what
    `edgewatch alert` would skip, with the same limits (alert.max_rule_file_bytes).
    """
    from pipeline.alerting.adapters import script_compiler
    from pipeline.alerting.format.scripts import ScriptCheck
    from pipeline.alerting.format.validate import validate_paths

    scripts = ScriptCheck(script_compiler(state.config, timeout=5.0))
    checked, problems = validate_paths(paths, state.config.alert.max_rule_file_bytes, scripts)
    for problem in problems:
        click.echo(str(problem))
    if scripts.unchecked:
        click.echo(f"note: scripts were not compiled: {scripts.unchecked}", err=True)
    bad = len({p.file for p in problems})
    if problems:
        click.echo(f"{len(problems)} problem(s) in {bad} of {checked} rule file(s)", err=True)
        sys.exit(1)
    click.echo(f"{checked} rule file(s) valid")


@rules.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--at",
    "at",
    help="Execution time (edgewatch's extension): ISO 8601, epoch millis or date math like"
    " now-1h (default now).",
)
@click.option(
    "--triggered-time",
    help="Watcher's trigger_data.triggered_time: ISO 8601, epoch millis or date math"
    " (default: the execution time).",
)
@click.option(
    "--scheduled-time",
    help="Watcher's trigger_data.scheduled_time, as --triggered-time (default: the triggered"
    " time).",
)
@click.option(
    "--ignore-condition",
    is_flag=True,
    help="Do not evaluate the condition: run the actions as if it were met.",
)
@click.option(
    "--action-mode",
    "action_modes",
    multiple=True,
    metavar="ID=MODE",
    help="Watcher's action_modes: ID an action id or _all (which wins), MODE one of simulate,"
    " force_simulate, execute, force_execute, skip. Repeatable.",
)
@click.option("--simulate-actions", is_flag=True, help="Shorthand for --action-mode _all=simulate.")
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
    state: Any,
    file: Path,
    at: str | None,
    triggered_time: str | None,
    scheduled_time: str | None,
    ignore_condition: bool,
    action_modes: tuple[str, ...],
    simulate_actions: bool,
    alternative_input: str | None,
    record: bool,
    rule_id: str | None,
    wait: float,
) -> None:
    """Execute one rule now, like Watcher's execute API; print the watch record as JSON.

    Without --record (Watcher's record_execution), the run starts from the rule's stored state,
    so throttling and acks apply, and stores nothing.
    Emails and webhooks go through the outbox and are sent at once; each action's result
    then shows its delivery state (sent, failed, or pending: left to `edgewatch alert`).
    """
    from datetime import UTC

    from pipeline.alerting import adapters
    from pipeline.alerting.engine.run import RunOptions
    from pipeline.alerting.format.validate import check_file
    from pipeline.alerting.runner import run_rule
    from pipeline.ingest.status import member_name

    checked = check_file(file, state.config.alert.max_rule_file_bytes)
    if checked.problems:
        for problem in checked.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{file} is not a valid rule; nothing was run")
    data = checked.data
    watch = data.get("watch", data)
    now = datetime.now(UTC)
    moment = _date(at, now, "--at") or now
    triggered = _date(triggered_time, now, "--triggered-time") or moment
    scheduled = _date(scheduled_time, now, "--scheduled-time") or triggered
    modes = parse_action_modes(action_modes + (("_all=simulate",) if simulate_actions else ()))
    payload = None
    if alternative_input:
        text = alternative_input
        if text.startswith("@"):
            text = Path(text[1:]).read_text()
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as err:
            raise click.BadParameter(f"not JSON: {err}", param_hint="--alternative-input") from None
    state.setup_logging()
    rule_id = rule_id or file.stem
    store = _store(state)
    if record:
        store.install()
    else:
        store = _readable(store, rule_id)
    courier = None
    if _sends_notifications(watch, modes):
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
            scheduled_time=scheduled,
            triggered_time=triggered,
            ignore_condition=ignore_condition,
            action_modes=modes,
            alternative_input=payload,
            node=member_name(None),
        ),
        save=record,
    )
    if courier is not None:
        queued = _queued_notifications(result)
        delivered = courier.wait(queued, wait) if queued else {}
        courier.stop()
        for found in queued.values():
            found["delivery"] = delivered.get(found["id"], "pending")
    click.echo(json.dumps(result, indent=2, default=str))


def _date(text: str | None, now: datetime, option: str) -> datetime | None:
    """An option's date: ISO 8601, epoch millis or date math (Watcher's convertToDate)."""
    from pipeline.alerting.engine.java import dates

    try:
        return dates.date_math(text, now) if text else None
    except dates.DateMathError as err:
        raise click.BadParameter(str(err), param_hint=option) from None


def parse_action_modes(values: tuple[str, ...]) -> dict[str, str]:
    """`ID=MODE` options as Watcher's `action_modes`; setting `_all` drops the per-action
    modes before it (ManualExecutionContext.Builder.actionMode)."""
    from pipeline.alerting.engine.run import ACTION_MODES

    modes: dict[str, str] = {}
    for value in values:
        action_id, sep, mode = value.partition("=")
        if not sep or not action_id or mode not in ACTION_MODES:
            raise click.BadParameter(
                f"{value!r}: expected ID=MODE, MODE one of {', '.join(ACTION_MODES)}",
                param_hint="--action-mode",
            )
        if action_id == "_all":
            modes = {}
        modes[action_id] = mode
    return modes


def _sends_notifications(watch: dict[str, Any], modes: dict[str, str]) -> bool:
    """Whether an email or webhook action may really send (not simulated, not skipped)."""
    from pipeline.alerting.engine.run import mode_of

    return any(
        ("email" in spec or "webhook" in spec)
        and mode_of(modes, action_id) in ("execute", "force_execute")
        for action_id, spec in (watch.get("actions") or {}).items()
        if isinstance(spec, dict)
    )


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


def _readable(store: Any, rule_id: str) -> Any:
    """The store if the rule's stored state can be read, else None (with a note): a rule with
    a simple input and a logging action runs without Elasticsearch."""
    from elasticsearch import ConnectionError as EsConnectionError

    try:
        store.load(rule_id)
    except EsConnectionError as err:
        click.echo(f"note: the rule's stored state was not read ({err}); starting afresh", err=True)
        return None
    return store


def _store(state: Any) -> Any:
    from pipeline.alerting.status.store import RuleStore
    from pipeline.clients import elasticsearch as es_client

    cfg = state.config
    return RuleStore(es_client.connect(cfg.es), cfg.alert.state_index, cfg.alert.history_prefix)


_RULES_OPTION = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The rules folder `edgewatch alert` runs: finds a rule that has not run yet (its"
    " actions) and tells an unknown id from it.",
)


def _defined_actions(state: Any, rules_dir: Path | None, rule: str) -> list[str] | None:
    """The action ids of `rule` in the rules folder, or None without a folder or such a rule."""
    if rules_dir is None:
        return None
    from pipeline.alerting.format.loader import load_rules

    found = load_rules(rules_dir, state.config.alert.max_rule_file_bytes).rules.get(rule)
    return None if found is None else list(found.watch.get("actions") or {})


def _not_found(rule: str, rules_dir: Path | None) -> click.ClickException:
    where = f"in {rules_dir}" if rules_dir else "(pass --rules FOLDER for one that never ran)"
    return click.ClickException(
        f"rule {rule!r} does not exist: no stored state and no rule {where}"
    )


@rules.command("ack")
@click.argument("rule")
@click.argument("actions", nargs=-1)
@_RULES_OPTION
@click.pass_obj
def rules_ack(state: Any, rule: str, actions: tuple[str, ...], rules_dir: Path | None) -> None:
    """Acknowledge a rule's actions (all of them by default) until its condition clears.

    As Watcher's ack API, only actions that ran successfully (`ackable`) become `acked`; a
    rule that never ran is answered with its status and nothing is written.
    """
    from datetime import UTC

    from pipeline.alerting.status import throttle as states

    store = _store(state)
    current, _ = store.load(rule)
    if current is None:
        defined = _defined_actions(state, rules_dir, rule)
        if rules_dir is not None and defined is None:
            raise _not_found(rule, rules_dir)
        current = states.WatchState.new(defined or [], datetime.now(UTC))
        if not current.actions:
            click.echo(f"{rule}: never ran, nothing to acknowledge")
        _show_acks(rule, current)
        return
    unknown = set(actions) - set(current.actions)
    if unknown:
        raise click.ClickException(
            f"rule {rule!r} has no action {', '.join(sorted(unknown))} "
            f"(it has: {', '.join(current.actions)})"
        )
    _show_acks(
        rule, store.update(rule, lambda s, now: states.ack_actions(s, now, list(actions) or None))
    )


def _show_acks(rule: str, status: Any) -> None:
    for name, action in status.actions.items():
        click.echo(f"{rule} {name}: {action.ack.state}")


def _set_active(state: Any, rule: str, rules_dir: Path | None, active: bool) -> None:
    """Activate or deactivate a rule; an unknown id is an error and writes nothing."""
    from pipeline.alerting.status import throttle as states
    from pipeline.alerting.status.store import UnknownRuleError

    change = states.activate if active else states.deactivate
    try:
        _store(state).update(rule, change, _defined_actions(state, rules_dir, rule))
    except UnknownRuleError:
        raise _not_found(rule, rules_dir) from None
    click.echo(f"{rule}: {'active' if active else 'inactive'}")


@rules.command("activate")
@click.argument("rule")
@_RULES_OPTION
@click.pass_obj
def rules_activate(state: Any, rule: str, rules_dir: Path | None) -> None:
    """Let a rule run on its schedule again."""
    _set_active(state, rule, rules_dir, True)


@rules.command("deactivate")
@click.argument("rule")
@_RULES_OPTION
@click.pass_obj
def rules_deactivate(state: Any, rule: str, rules_dir: Path | None) -> None:
    """Stop a rule from running (its file stays; `activate` resumes it)."""
    _set_active(state, rule, rules_dir, False)


@rules.command("history")
@click.argument("rule")
@click.option("--last", default=20, show_default=True, help="How many executions.")
@click.pass_obj
def rules_history(state: Any, rule: str, last: int) -> None:
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
