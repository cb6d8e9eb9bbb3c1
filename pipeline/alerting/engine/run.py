"""What every phase of a watch execution shares: the services it may call, the run options, the
execution in progress (`Run`: watch, ctx, result, messages), and the small helpers of all
phases (the deadline, template rendering, scripts, the one-type-per-object rule)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pipeline.alerting.delivery import email
from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.engine.mustache import render, split_content_type

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
    scheduled_time: datetime | None = None
    trigger: str = "manual"  # or "schedule"
    ignore_condition: bool = False
    simulate_actions: frozenset[str] = frozenset()  # action ids, or {"_all"}
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
    """What templates see: Watcher's model is a map with one key, `ctx`."""
    return {"ctx": run.ctx}


def render_text(run: Run, template: Any) -> str:
    """Render a Watcher text template: a string, or an object with `source` (or the older
    `inline`) and `params`, which templates see next to `ctx`."""
    params: Mapping[str, Any] = {}
    source = template
    if isinstance(template, Mapping):
        source = template.get("source", template.get("inline", ""))
        params = template.get("params") or {}
    # `__json__::` (Kibana writes webhook bodies so) renders with JSON escaping, as in Watcher.
    text, escape = split_content_type(str(source))
    return render(text, {**params, **template_model(run)}, escape)


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


def is_simulated(run: Run, action_id: str) -> bool:
    modes = run.options.simulate_actions
    return "_all" in modes or action_id in modes


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
