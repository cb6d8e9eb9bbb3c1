"""What every phase of a watch execution shares: the services it may call, the run options, the
execution in progress (`Run`: watch, ctx, result, messages), and the small helpers of all
phases (the deadline, template rendering, scripts, the one-type-per-object rule)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pipeline.alerting.delivery import email
from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.engine.java import dates
from pipeline.alerting.engine.mustache import Escape, escape_for, render, split_content_type

SUPPORTED_ACTIONS = ("logging", "index", "email", "webhook")
# Keys of an action that are not its type (Watcher's, then edgewatch's extensions).


ACTION_SETTINGS = (
    "condition",
    "transform",
    "throttle_period",
    "throttle_period_in_millis",
    "foreach",
    "max_iterations",
    "alert_key",
    "notify_resolved",
    "resolve_with",
)


DEFAULT_MAX_ITERATIONS = 100


LATE_SKIP = "notified for this event time already"


class ExecutionError(Exception):
    """A step of the watch failed; the message says which and why."""


class ScriptRunner(Protocol):
    """Runs a Watcher script (Painless) against a ctx; returns what the script returned."""

    def __call__(self, script: Any, ctx: Mapping[str, Any], purpose: str) -> Any: ...


@dataclass(frozen=True)
class Services:
    """The side effects a watch execution may need."""

    search: Callable[[Mapping[str, Any]], dict[str, Any]]  # a rendered search request
    index: Callable[[str, list[dict[str, Any]], Mapping[str, Any]], dict[str, Any]]
    log_text: Callable[[str, str, str], None]  # level, category, text
    run_script: ScriptRunner | None = None
    http: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # A rendered HTTP request (email `http` attachments) -> status, Content-Type, body bytes.
    http_fetch: Callable[[Mapping[str, Any]], tuple[int, str | None, bytes]] | None = None
    # Stores an email/webhook notification for delivery (the outbox); False: stored before.
    notify: Callable[[Notification], bool] | None = None
    # A stored script (`{id: ...}` templates and search templates) by id, as
    # `{"lang": ..., "source": ..., "options"?: ...}`; None when no such script exists.
    stored_script: Callable[[str], Mapping[str, Any] | None] | None = None
    kibana_url: str | None = None  # base of the Kibana links in email reports
    # What the HTML body of an email may keep (the smtp.html_* settings).
    html_policy: email.HtmlPolicy = field(default_factory=email.HtmlPolicy)


@dataclass(frozen=True)
class RunOptions:
    """How to run: Watcher's execute API options, plus the trigger times."""

    execution_time: datetime
    scheduled_time: datetime | None = None  # default: the triggered time
    trigger: str = "manual"  # or "schedule"
    ignore_condition: bool = False
    simulate_actions: frozenset[str] = frozenset()  # action ids, or {"_all"}: mode simulate
    # Watcher's `action_modes`: action id or `_all` -> one of ACTION_MODES (`_all` wins).
    action_modes: Mapping[str, str] = field(default_factory=dict)
    triggered_time: datetime | None = None  # default: the execution time
    node: str | None = None  # the member running the watch, as the record's `node`
    alternative_input: Mapping[str, Any] | None = None
    record_state: bool = True  # apply throttling/ack from the given state
    # Past this moment (time.monotonic()), the execution stops at its next step and fails.
    deadline: float | None = None
    # A late-data run (late.py): `ctx.late`, and the `action/key`s it must not notify.
    late: Mapping[str, Any] | None = None
    skip_keys: frozenset[str] = frozenset()


@dataclass
class Run:
    watch_id: str
    watch: Mapping[str, Any]
    options: RunOptions
    services: Services
    ctx: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def check_time(run: Run, step: str) -> None:
    """Stop an execution that has used up its time before it starts another step."""
    deadline = run.options.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise ExecutionError(f"{step}: not started, the execution ran out of time")


def template_model(run: Run) -> dict[str, Any]:
    """What templates see: Watcher's model is a map with one key, `ctx`. Its dates are
    ZonedDateTimes there, so mustache prints them as java.time does (`2015-01-04T00:00Z`,
    yml/mustache/30_search_input.yml), not in the record's format the ctx keeps."""
    trigger = run.ctx.get("trigger") or {}
    return {
        "ctx": {
            **run.ctx,
            "execution_time": _as_date(run.ctx.get("execution_time")),
            "trigger": {key: _as_date(value) for key, value in trigger.items()},
        }
    }


def _as_date(value: Any) -> Any:
    """A ctx date (record format) as the datetime Watcher's ctx holds; else as it is."""
    try:
        return dates.parse_date(value) if isinstance(value, str) else value
    except dates.DateMathError:
        return value


def render_text(run: Run, template: Any) -> str:
    """Render a Watcher text template (TextTemplate, TextTemplateEngine): a string, or an
    object with `source` (or the older `inline`) or the `id` of a stored script, and `params`,
    which templates see beside `ctx` (ctx wins over a param named so)."""
    params: Mapping[str, Any] = {}
    source = template
    if isinstance(template, Mapping):
        params = template.get("params") or {}
        if template.get("id") is not None and "source" not in template:
            text, escape = stored_template(run, str(template["id"]))
            return render(text, {**params, **template_model(run)}, escape)
        source = template.get("source", template.get("inline", ""))
        if isinstance(source, Mapping | list):
            # An object template is kept as compact JSON text, still rendered as plain text.
            source = json.dumps(source, separators=(",", ":"), ensure_ascii=False)
    # `__json__::` (Kibana writes webhook bodies so) renders with JSON escaping, as in Watcher.
    text, escape = split_content_type(str(source))
    return render(text, {**params, **template_model(run)}, escape)


def stored_template(run: Run, script_id: str) -> tuple[str, Escape]:
    """The text of the stored mustache script `script_id`, and its escaping: its own
    `content_type` option, JSON without one (Elasticsearch's mustache default)."""
    where = f"template [{script_id}]"
    if run.services.stored_script is None:
        raise ExecutionError(f"{where}: no stored scripts are available to this run")
    try:
        script = run.services.stored_script(script_id)
    except Exception as err:
        raise ExecutionError(f"{where}: {err}") from err
    if script is None:
        # Elasticsearch's words for a stored script it does not have.
        raise ExecutionError(f"unable to find script [{script_id}] in cluster state")
    lang = script.get("lang")
    if lang != "mustache":
        # Watcher compiles it in its template context, which only mustache scripts have.
        raise ExecutionError(
            f"{where}: the stored script is a [{lang}] script; a text template must be a "
            "mustache script"
        )
    options = script.get("options") or {}
    return str(script.get("source", "")), escape_for(options.get("content_type"))


def call_script(run: Run, script: Any, where: str) -> Any:
    if run.services.run_script is None:
        raise ExecutionError(
            f"{where}: scripts need Painless, which edgewatch runs in Elasticsearch "
            "(the _scripts/painless/_execute API); none is configured for this run"
        )
    try:
        return run.services.run_script(script, run.ctx, where)
    except ExecutionError:
        raise
    except Exception as err:
        raise ExecutionError(f"{where}: script failed: {err}") from err


ACTION_MODES = ("simulate", "force_simulate", "execute", "force_execute", "skip")


def mode_of(modes: Mapping[str, str], action_id: str) -> str:
    """How an action runs given `action_modes` (Watcher's ManualExecutionContext): the `_all`
    mode if there is one, else the action's own, else `execute`."""
    return modes.get("_all") or modes.get(action_id) or "execute"


def action_mode(options: RunOptions, action_id: str) -> str:
    """How an action runs in this execution; `simulate_actions` is shorthand for `simulate`."""
    simulated = {name: "simulate" for name in options.simulate_actions}
    return mode_of({**simulated, **options.action_modes}, action_id)


def is_simulated(run: Run, action_id: str) -> bool:
    """Whether the action only shows what it would do (`simulate`, `force_simulate`)."""
    return action_mode(run.options, action_id).endswith("simulate")


def skips_throttling(run: Run, action_id: str) -> bool:
    """Whether the action runs whatever its throttle period and ack say (`force_*`)."""
    return action_mode(run.options, action_id).startswith("force_")


def action_type(spec: Mapping[str, Any]) -> str:
    for key in spec:
        if key not in ACTION_SETTINGS:
            return str(key)
    return "unknown"


def only_one(spec: Any, what: str) -> tuple[str, Any]:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ExecutionError(f"{what}: expected exactly one type, got {spec!r}")
    ((kind, body),) = spec.items()
    return str(kind), body if body is not None else {}
