"""Run one watch once: input, condition, transform, actions, as Watcher's execute API does.

Plain Python over plain data. Everything that crosses a process boundary (searching, indexing,
HTTP inputs, Painless scripts, the log) comes in through `Services`, so the executor is unit
tested with fakes and the adapters are proven against the real stack separately.

The result is a watch record shaped like Watcher's (`GET _watcher/watch/<id>/_execute`):
`state`, `trigger_event`, `result.input`, `result.condition`, `result.transform`,
`result.actions[]` with each action's `status` (success, failure, simulated, throttled,
acknowledged, condition_failed, execution_not_needed) and its output (`logging.logged_text`,
`index.response`, ...).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeline.alerting.delivery import email, report, webhook
from pipeline.alerting.delivery.notifications import Notification, notification_id
from pipeline.alerting.engine import conditions
from pipeline.alerting.engine.mustache import render, render_value, split_content_type
from pipeline.alerting.status import alerts as firing
from pipeline.alerting.status import throttle as state
from pipeline.redact import redact_record

log = logging.getLogger("edgewatch.alert")

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
_LATE_SKIP = "notified for this event time already"


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
class _Run:
    watch_id: str
    watch: Mapping[str, Any]
    options: RunOptions
    services: Services
    ctx: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def new_context(watch_id: str, watch: Mapping[str, Any], options: RunOptions) -> dict[str, Any]:
    """Watcher's `ctx` at the start of an execution."""
    now = options.execution_time.astimezone(UTC)
    scheduled = (options.scheduled_time or now).astimezone(UTC)
    return {
        "watch_id": watch_id,
        "id": f"{watch_id}_{uuid.uuid4()}-{conditions.format_date(now)}",
        "execution_time": conditions.format_date(now),
        "trigger": {
            "scheduled_time": conditions.format_date(scheduled),
            "triggered_time": conditions.format_date(now),
        },
        "metadata": dict(watch.get("metadata") or {}),
        "payload": {},
        "vars": {},
        **({"late": dict(options.late)} if options.late is not None else {}),
    }


def execute(
    watch_id: str,
    watch: Mapping[str, Any],
    options: RunOptions,
    services: Services,
    status: state.WatchState | None = None,
) -> tuple[dict[str, Any], state.WatchState]:
    """Execute a (validated) watch once; return its watch record and its new status.

    The record is the one to store and show: passwords and credential headers (of the http
    input, of webhooks) read `::es_redacted::` and URLs have no userinfo or tokens, in the
    rule's definition, the outputs and the error messages alike (pipeline/redact.py).
    """
    started = time.monotonic()
    now = options.execution_time
    actions = dict(watch.get("actions") or {})
    status = status or state.WatchState.new(list(actions), now)
    run = _Run(watch_id, watch, options, services, new_context(watch_id, watch, options))
    run.result = {"execution_time": run.ctx["execution_time"]}
    record: dict[str, Any] = {
        "watch_id": watch_id,
        "trigger_event": {
            "type": options.trigger,
            "triggered_time": run.ctx["trigger"]["triggered_time"],
            "manual" if options.trigger == "manual" else "schedule": {
                "scheduled_time": run.ctx["trigger"]["scheduled_time"]
            },
        },
        "input": watch.get("input", {"none": {}}),
        "condition": watch.get("condition", {"always": {}}),
        "metadata": run.ctx["metadata"],
    }
    try:
        run.result["input"] = _input(run, watch.get("input") or {"none": {}})
        met = _condition(run)
        status = replace(status, last_checked=now)
        if met:
            status = replace(status, last_met_condition=now)
            if watch.get("transform"):
                run.result["transform"] = _transform(run, watch["transform"], "transform")
            status = _actions(run, actions, status)
            record["state"] = "executed"
        else:
            status = replace(
                status,
                actions={k: state.on_condition_false(v, now) for k, v in status.actions.items()},
            )
            status = _resolve_keyed(run, actions, status)
            record["state"] = "execution_not_needed"
    except ExecutionError as err:
        record["state"] = "failed"
        run.messages.append(str(err))
    run.result["execution_duration"] = round((time.monotonic() - started) * 1000)
    record["result"] = run.result
    record["messages"] = run.messages
    record["vars"] = run.ctx["vars"]
    return redact_record(record), status


# --------------------------------------------------------------------------- inputs


def _check_time(run: _Run, step: str) -> None:
    """Stop an execution that has used up its time before it starts another step."""
    deadline = run.options.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise ExecutionError(f"{step}: not started, the execution ran out of time")


def _input(run: _Run, spec: Mapping[str, Any]) -> dict[str, Any]:
    if run.options.alternative_input is not None:
        run.ctx["payload"] = dict(run.options.alternative_input)
        return {"type": "simple", "status": "success", "payload": run.ctx["payload"]}
    _check_time(run, "input")
    kind, body = _only(spec, "input")
    try:
        payload = _run_input(run, kind, body)
    except ExecutionError as err:
        run.result["input"] = {"type": kind, "status": "failure", "reason": str(err)}
        raise
    run.ctx["payload"] = payload
    return {"type": kind, "status": "success", "payload": payload}


def _run_input(run: _Run, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "none":
        return {}
    if kind == "simple":
        return dict(body)
    if kind == "search":
        return _extract(_search(run, body), body.get("extract"))
    if kind == "http":
        if run.services.http is None:
            raise ExecutionError("http input: no HTTP client configured")
        request = render_value(dict(body.get("request") or {}), _model(run))
        return _extract(run.services.http(request), body.get("extract"))
    if kind == "chain":
        combined: dict[str, Any] = {}
        for entry in body.get("inputs") or []:
            name, inner = _only(entry, "chain input")
            inner_kind, inner_body = _only(inner, f"chain input {name}")
            combined[name] = _run_input(run, inner_kind, inner_body)
            # Later inputs of the chain see earlier ones as ctx.payload.<name>.
            run.ctx["payload"] = combined
        return combined
    raise ExecutionError(f"input type {kind!r} is not supported")


def _search(run: _Run, body: Mapping[str, Any]) -> dict[str, Any]:
    request = dict(body.get("request") or {})
    if "template" in request:
        raise ExecutionError(
            "search input: request.template (search templates) is not supported yet; "
            "put the query in request.body"
        )
    rendered = {
        "indices": request.get("indices", []),
        "body": _render_body(run, request.get("body") or {}),
        "search_type": request.get("search_type", "query_then_fetch"),
        "indices_options": request.get("indices_options"),
        "timeout": body.get("timeout"),
    }
    try:
        return run.services.search(rendered)
    except ExecutionError:
        raise
    except Exception as err:  # the adapter's own errors, reported in the record
        raise ExecutionError(f"search input failed: {err}") from err


def _render_body(run: _Run, body: Any) -> Any:
    """As Watcher does: the body as JSON text, rendered as one template with JSON escaping."""
    text = render(json.dumps(body), _model(run), escape="json")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ExecutionError(f"search request body is not JSON once rendered: {err}") from err


def _model(run: _Run) -> dict[str, Any]:
    """What templates see: Watcher's model is a map with one key, `ctx`."""
    return {"ctx": run.ctx}


def _extract(payload: dict[str, Any], keys: Any) -> dict[str, Any]:
    """Watcher's `extract`: keep only these (dotted) paths of the payload."""
    if not keys:
        return payload
    out: dict[str, Any] = {}
    for key in keys:
        value = conditions.eval_path(key, payload)
        if value is None:
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


# --------------------------------------------------------------------------- condition


def _condition(run: _Run) -> bool:
    _check_time(run, "condition")
    spec = run.watch.get("condition") or {"always": {}}
    met = _evaluate(run, spec, "condition")
    result = run.result["condition"]
    if run.options.ignore_condition:
        result["met"] = True
        return True
    return met


def _evaluate(
    run: _Run, spec: Mapping[str, Any], where: str, target: dict[str, Any] | None = None
) -> bool:
    kind, body = _only(spec, where)
    out = run.result if target is None else target
    if kind == "script":
        value = _script(run, body, where)
        out["condition"] = {"type": "script", "status": "success", "met": bool(value)}
        return bool(value)
    try:
        outcome = conditions.evaluate(spec, run.ctx, run.options.execution_time)
    except conditions.ConditionError as err:
        out["condition"] = {"type": kind, "status": "failure", "reason": str(err)}
        raise ExecutionError(f"{where}: {err}") from err
    out["condition"] = {"type": outcome.type, "status": "success", "met": outcome.met}
    if outcome.resolved_values:
        out["condition"][outcome.type] = {"resolved_values": dict(outcome.resolved_values)}
    return outcome.met


# --------------------------------------------------------------------------- transforms


def _transform(run: _Run, spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    _check_time(run, where)
    kind, body = _only(spec, where)
    if kind == "search":
        payload = _search(run, body)
    elif kind == "script":
        value = _script(run, body, where)
        # As in Watcher: a map becomes the payload, anything else is wrapped as `_value`.
        payload = dict(value) if isinstance(value, Mapping) else {"_value": value}
    elif kind == "chain":
        for step in body if isinstance(body, list) else []:
            _transform(run, step, where)
        payload = run.ctx["payload"]
    else:
        raise ExecutionError(f"{where}: transform type {kind!r} is not supported")
    run.ctx["payload"] = payload
    return {"type": kind, "status": "success", "payload": payload}


def _script(run: _Run, script: Any, where: str) -> Any:
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


# --------------------------------------------------------------------------- actions


def _actions(run: _Run, actions: Mapping[str, Any], status: state.WatchState) -> state.WatchState:
    now = run.options.execution_time
    results: list[dict[str, Any]] = []
    new_states = dict(status.actions)
    for action_id, spec in actions.items():
        current = new_states.get(action_id) or state.ActionState.new(now)
        result: dict[str, Any] = {"id": action_id, "type": _action_type(spec)}
        if spec.get("alert_key"):
            new_states[action_id] = _keyed_action(run, action_id, spec, current, result)
            results.append(result)
            continue
        if f"{action_id}/" in run.options.skip_keys:
            result.update(status=state.THROTTLED, reason=_LATE_SKIP)
            results.append(result)
            continue
        if run.options.record_state:
            decision = state.decide(current, True, now, state.throttle_period(spec, run.watch))
            if not decision.execute:
                result.update(status=decision.status, reason=decision.reason)
                if decision.status == state.THROTTLED:
                    current = state.after_throttle(current, now, decision.reason)
                new_states[action_id] = current
                results.append(result)
                continue
        saved_payload = run.ctx["payload"]
        try:
            succeeded = _one_action(run, action_id, spec, result)
        finally:
            run.ctx["payload"] = saved_payload
        if result.get("status") == "condition_failed":
            current = state.on_condition_false(current, now)
        elif result.get("status") != "simulated":
            current = state.after_execution(current, now, succeeded, result.get("reason"))
        new_states[action_id] = current
        results.append(result)
    run.result["actions"] = results
    return replace(status, actions=new_states)


def _one_action(run: _Run, action_id: str, spec: Mapping[str, Any], result: dict[str, Any]) -> bool:
    kind = result["type"]
    try:
        items = _action_items(run, action_id, spec, result)
        if items is None:
            result["status"] = "condition_failed"
            result["reason"] = "the action's condition was not met"
            return False
        if kind not in SUPPORTED_ACTIONS:
            raise ExecutionError(f"action type {kind!r} is not supported yet")
        if spec.get("foreach"):
            result["number_of_actions_executed"] = len(items)
        outputs = []
        for number, item in enumerate(items):
            run.ctx["payload"] = item
            # One firing of a plain action: this scheduled run (and foreach element).
            firing_name = f"{run.ctx['trigger']['scheduled_time']}#{number}"
            outputs.append(_run_action(run, action_id, kind, spec[kind], firing_name))
        if spec.get("foreach"):
            result["foreach"] = [{kind: out} for out in outputs]
        else:
            result[kind] = outputs[0] if outputs else {}
        result["status"] = "simulated" if _simulated(run, action_id) else "success"
        return True
    except ExecutionError as err:
        result["status"] = "failure"
        result["reason"] = str(err)
        return False


def _action_items(
    run: _Run, action_id: str, spec: Mapping[str, Any], result: dict[str, Any]
) -> list[Any] | None:
    """An action's own condition, transform and foreach: the payloads it runs for, or None
    when its condition is not met. Raises ExecutionError."""
    _check_time(run, f"actions.{action_id}")
    if spec.get("condition"):
        scratch: dict[str, Any] = {}
        met = _evaluate(run, spec["condition"], f"actions.{action_id}.condition", scratch)
        result["condition"] = scratch["condition"]
        if not met:
            return None
    if spec.get("transform"):
        result["transform"] = _transform(run, spec["transform"], f"actions.{action_id}.transform")
    if not spec.get("foreach"):
        return [run.ctx["payload"]]
    found = conditions.resolve_path(run.ctx, str(spec["foreach"]))
    items = list(found) if isinstance(found, list) else []
    return items[: int(spec.get("max_iterations", DEFAULT_MAX_ITERATIONS))]


def _run_action(
    run: _Run,
    action_id: str,
    kind: str,
    body: Mapping[str, Any],
    firing_name: str,
    alert: firing.Notice | None = None,
) -> dict[str, Any]:
    simulate = _simulated(run, action_id)
    if kind in ("email", "webhook"):
        return _notify(run, action_id, kind, body, firing_name, alert, simulate)
    if kind == "logging":
        text = _text(run, body.get("text", ""))
        if not simulate:
            run.services.log_text(
                str(body.get("level", "info")), str(body.get("category", "")), text
            )
        return {"logged_text": text}
    if kind == "index":
        docs = _documents(run, body)
        index = _text(run, body.get("index", ""))
        request = {"index": index, "documents": docs}
        if simulate:
            return {"request": request}
        try:
            response = run.services.index(index, docs, body)
        except Exception as err:
            raise ExecutionError(f"index action failed: {err}") from err
        return {"response": response}
    raise ExecutionError(f"action type {kind!r} is not supported yet")


def _notify(
    run: _Run,
    action_id: str,
    kind: str,
    body: Mapping[str, Any],
    firing_name: str,
    alert: firing.Notice | None,
    simulate: bool,
) -> dict[str, Any]:
    """Render an email or webhook action into a notification and hand it to the outbox."""
    if alert is not None:
        run.ctx["alert"] = firing.alert_context(alert, run.options.execution_time)
    try:
        n_id = notification_id(run.watch_id, action_id, firing_name)
        if kind == "email":
            content = _email_content(run, body)
        else:
            alert_ctx = run.ctx.get("alert")
            default = webhook.default_body(n_id, run.ctx, action_id, alert_ctx)
            content = webhook.content(_rendered_webhook(run, body), default)
    finally:
        run.ctx.pop("alert", None)
    notification = Notification(
        id=n_id,
        rule_id=run.watch_id,
        action_id=action_id,
        type=kind,
        created=conditions.as_utc(run.options.execution_time),
        content=content,
        alert_key=alert.key if alert else None,
        alert_status=alert.status if alert else firing.FIRING,
        firing=firing_name,
    )
    shown = _shown_content(kind, content)
    if simulate:
        return {"id": n_id, "status": "simulated", **shown}
    if run.services.notify is None:
        raise ExecutionError(f"{kind} action: no outbox configured for this run")
    try:
        new = run.services.notify(notification)
    except Exception as err:
        raise ExecutionError(f"{kind} action: could not store the notification: {err}") from err
    return {"id": n_id, "status": "queued" if new else "already_queued", **shown}


def _email_content(run: _Run, body: Mapping[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for field_name in ("from", "to", "cc", "bcc", "reply_to"):
        value = body.get(field_name)
        if isinstance(value, list):
            rendered[field_name] = [_text(run, v) for v in value]
        elif value is not None:
            rendered[field_name] = _text(run, value)
    rendered["subject"] = _text(run, body.get("subject", ""))
    mail_body = body.get("body")
    if isinstance(mail_body, Mapping) and ("text" in mail_body or "html" in mail_body):
        rendered["body"] = {k: _text(run, v) for k, v in mail_body.items()}
    elif mail_body is not None:
        rendered["body"] = _text(run, mail_body)
    if body.get("priority"):
        rendered["priority"] = body["priority"]
    policy = run.services.html_policy
    if not body.get("report"):
        return email.content(rendered, html_policy=policy)
    spec = render_value(body["report"], _model(run))
    built = report.build(spec, run.ctx, run.services.kibana_url)
    return email.content(rendered, built.html, built.text, built.images, policy)


def _rendered_webhook(run: _Run, body: Mapping[str, Any]) -> dict[str, Any]:
    body = webhook.json_body(body)  # a JSON-looking body renders with JSON escaping
    rendered = dict(body)
    for field_name in ("url", "path", "body", "host"):
        if field_name in body:
            rendered[field_name] = _text(run, body[field_name])
    for table in ("params", "headers"):
        if body.get(table):
            rendered[table] = {k: _text(run, v) for k, v in body[table].items()}
    return rendered


def _shown_content(kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """The notification as the watch record shows it (Watcher shows the sent message)."""
    if kind == "email":
        shown = {k: v for k, v in content.items() if k != "images" and v not in (None, [])}
        shown["inline_images"] = sorted(content.get("images") or {})
        return {"message": shown}
    return {"request": {k: v for k, v in content.items() if v is not None}}


def _keyed_action(
    run: _Run,
    action_id: str,
    spec: Mapping[str, Any],
    current: state.ActionState,
    result: dict[str, Any],
) -> state.ActionState:
    """An action with `alert_key`: one alert per key, reminders, resolutions (status/alerts.py)."""
    now = run.options.execution_time
    if run.options.record_state and current.ack.state == state.ACKED:
        result.update(status=state.ACKNOWLEDGED, reason="the action is acknowledged")
        return current
    saved_payload = run.ctx["payload"]
    firing_now: dict[str, Any] = {}
    try:
        # A false action condition means no key is firing: the open ones resolve.
        for item in _action_items(run, action_id, spec, result) or []:
            run.ctx["payload"] = item
            key = _text(run, spec["alert_key"])
            if f"{action_id}/{key}" in run.options.skip_keys:
                result.setdefault("late_skipped_keys", []).append(key)
                continue
            firing_now.setdefault(key, item)
        latest = _latest_items(run, spec)
    except ExecutionError as err:
        run.ctx["payload"] = saved_payload
        result.update(status="failure", reason=str(err))
        return state.after_execution(current, now, False, str(err))
    return _send_notices(run, action_id, spec, current, firing_now, result, saved_payload, latest)


def _latest_items(run: _Run, spec: Mapping[str, Any]) -> dict[str, Any]:
    """`resolve_with`: this run's items by key, for resolution notices to render with (a
    recovery can then say what happened since, not only what the last firing saw)."""
    if not spec.get("resolve_with"):
        return {}
    found = conditions.resolve_path(run.ctx, str(spec["resolve_with"]))
    out: dict[str, Any] = {}
    for item in found if isinstance(found, list) else []:
        run.ctx["payload"] = item
        out.setdefault(_text(run, spec["alert_key"]), item)
    return out


def _send_notices(
    run: _Run,
    action_id: str,
    spec: Mapping[str, Any],
    current: state.ActionState,
    firing_now: Mapping[str, Any],
    result: dict[str, Any],
    saved_payload: Any,
    latest: Mapping[str, Any] | None = None,
) -> state.ActionState:
    now = run.options.execution_time
    known = current.open_alerts if run.options.record_state else {}
    repeat = state.explicit_throttle_period(spec, run.watch)
    resolve = bool(spec.get("notify_resolved"))
    plan = firing.plan(known, firing_now, now, repeat, resolve, latest)
    kind = result["type"]
    notices: list[dict[str, Any]] = []
    failed: str | None = None
    open_alerts = dict(plan.open_alerts)
    try:
        for notice in plan.notify:
            run.ctx["payload"] = notice.item
            # One firing of a keyed alert: its key, when it started, and which notice.
            name = f"{notice.key}|{conditions.format_date(notice.since)}|{notice.status}"
            if run.options.late is not None:
                # A late window is notified once, whatever time its run happens at.
                name = f"{notice.key}|late {run.ctx['trigger']['scheduled_time']}"
            elif notice.status == firing.FIRING and notice.since != conditions.as_utc(now):
                name += f"|reminder {conditions.format_date(now)}"
            try:
                out = _run_action(run, action_id, kind, spec[kind], name, notice)
            except ExecutionError as err:
                failed = str(err)
                # Not stored: tried again next run. A new alert stays new, a reminder and a
                # resolution keep the alert open as it was.
                if notice.key in current.open_alerts:
                    open_alerts[notice.key] = current.open_alerts[notice.key]
                else:
                    open_alerts.pop(notice.key, None)
                continue
            notices.append({"key": notice.key, "alert_status": notice.status, kind: out})
    finally:
        run.ctx["payload"] = saved_payload
    result["alerts"] = notices
    if plan.throttled:
        result["throttled_keys"] = plan.throttled
    if failed is not None:
        result.update(status="failure", reason=failed)
    elif notices:
        result["status"] = "simulated" if _simulated(run, action_id) else "success"
    elif plan.throttled:
        result.update(status=state.THROTTLED, reason="every firing key was notified recently")
    else:
        result.update(status=state.EXECUTION_NOT_NEEDED, reason="no key is firing")
    if result["status"] == "simulated" or not run.options.record_state:
        return current
    after = current
    fired = any(n["alert_status"] == firing.FIRING for n in notices)
    if fired or failed is not None:
        # Resolutions alone leave the ack state as the false condition set it.
        after = state.after_execution(current, now, failed is None, failed)
    return replace(after, open_alerts=open_alerts)


def _resolve_keyed(
    run: _Run, actions: Mapping[str, Any], status: state.WatchState
) -> state.WatchState:
    """The watch condition is false: every open alert of a keyed action has resolved."""
    results = []
    new_states = dict(status.actions)
    for action_id, spec in actions.items():
        current = new_states.get(action_id)
        if not spec.get("alert_key") or current is None or not current.open_alerts:
            continue
        result: dict[str, Any] = {"id": action_id, "type": _action_type(spec)}
        new_states[action_id] = _send_notices(
            run, action_id, spec, current, {}, result, run.ctx["payload"]
        )
        results.append(result)
    if results:
        run.result["actions"] = results
    return replace(status, actions=new_states)


def _text(run: _Run, template: Any) -> str:
    """Render a Watcher text template: a string, or an object with `source` (or the older
    `inline`) and `params`, which templates see next to `ctx`."""
    params: Mapping[str, Any] = {}
    source = template
    if isinstance(template, Mapping):
        source = template.get("source", template.get("inline", ""))
        params = template.get("params") or {}
    # `__json__::` (Kibana writes webhook bodies so) renders with JSON escaping, as in Watcher.
    text, escape = split_content_type(str(source))
    return render(text, {**params, **_model(run)}, escape)


def _documents(run: _Run, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Watcher indexes the payload, or each element of `payload._doc` when it is a list."""
    payload = run.ctx["payload"]
    docs = payload.get("_doc") if isinstance(payload, Mapping) else None
    items = docs if isinstance(docs, list) else [payload]
    out = []
    for item in items:
        doc = dict(item) if isinstance(item, Mapping) else {"value": item}
        if body.get("execution_time_field"):
            doc[str(body["execution_time_field"])] = run.ctx["execution_time"]
        out.append(doc)
    return out


def _simulated(run: _Run, action_id: str) -> bool:
    modes = run.options.simulate_actions
    return "_all" in modes or action_id in modes


def _action_type(spec: Mapping[str, Any]) -> str:
    for key in spec:
        if key not in ACTION_SETTINGS:
            return str(key)
    return "unknown"


def _only(spec: Any, what: str) -> tuple[str, Any]:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ExecutionError(f"{what}: expected exactly one type, got {spec!r}")
    ((kind, body),) = spec.items()
    return str(kind), body if body is not None else {}
