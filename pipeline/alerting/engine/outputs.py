"""What one action does once it runs: a logging line, indexed documents, or an email or webhook
notification rendered and handed to the outbox; and how the record shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.alerting.delivery import email, report, webhook
from pipeline.alerting.delivery.notifications import Notification, notification_id
from pipeline.alerting.engine import attachments, indexing
from pipeline.alerting.engine.java import dates
from pipeline.alerting.engine.mustache import render_value
from pipeline.alerting.engine.run import (
    ExecutionError,
    Run,
    is_simulated,
    render_text,
    template_model,
)
from pipeline.alerting.status import alerts as firing


def run_action(
    run: Run,
    action_id: str,
    kind: str,
    body: Mapping[str, Any],
    firing_name: str,
    alert: firing.Notice | None = None,
) -> dict[str, Any]:
    """Run one action; what its result shows under its type."""
    return perform(run, action_id, kind, body, firing_name, alert)[0]


def perform(
    run: Run,
    action_id: str,
    kind: str,
    body: Mapping[str, Any],
    firing_name: str,
    alert: firing.Notice | None = None,
) -> tuple[dict[str, Any], str]:
    """Run one action: what its result shows under its type, and its status (a bulk index
    may partly fail); raises ExecutionError when the action fails as a whole."""
    simulate = is_simulated(run, action_id)
    done = "simulated" if simulate else "success"
    if kind in ("email", "webhook"):
        return notify(run, action_id, kind, body, firing_name, alert, simulate), done
    if kind == "logging":
        text = render_text(run, body.get("text", ""))
        if not simulate:
            run.services.log_text(
                str(body.get("level", "info")), str(body.get("category", "")), text
            )
        return {"logged_text": text}, done
    if kind == "index":
        return index_action(run, action_id, body, simulate)
    raise ExecutionError(f"action type {kind!r} is not supported yet")


def index_action(
    run: Run, action_id: str, body: Mapping[str, Any], simulate: bool
) -> tuple[dict[str, Any], str]:
    """ExecutableIndexAction: the documents indexed, and Watcher's summary of the answer."""
    index = render_text(run, body["index"]) if body.get("index") is not None else None
    planned = indexing.plan(
        run.ctx["payload"], body, index, run.ctx["execution_time"], action_id, run.watch_id
    )
    if simulate:
        return indexing.simulated(planned, body), "simulated"
    try:
        response = run.services.index(index or "", planned.docs, body)
    except Exception as err:
        raise ExecutionError(f"index action failed: {err}") from err
    return indexing.summary(list(response.get("items") or []), planned.bulk)


def notify(
    run: Run,
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
            content = email_content(run, body)
        else:
            alert_ctx = run.ctx.get("alert")
            default = webhook.default_body(n_id, run.ctx, action_id, alert_ctx)
            content = webhook.content(rendered_webhook(run, body), default)
    finally:
        run.ctx.pop("alert", None)
    notification = Notification(
        id=n_id,
        rule_id=run.watch_id,
        action_id=action_id,
        type=kind,
        created=dates.as_utc(run.options.execution_time),
        content=content,
        alert_key=alert.key if alert else None,
        alert_status=alert.status if alert else firing.FIRING,
        firing=firing_name,
    )
    shown = shown_content(kind, content)
    if simulate:
        return {"id": n_id, "status": "simulated", **shown}
    if run.services.notify is None:
        raise ExecutionError(f"{kind} action: no outbox configured for this run")
    try:
        new = run.services.notify(notification)
    except Exception as err:
        raise ExecutionError(f"{kind} action: could not store the notification: {err}") from err
    return {"id": n_id, "status": "queued" if new else "already_queued", **shown}


def email_content(run: Run, body: Mapping[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for field_name in ("from", "to", "cc", "bcc", "reply_to"):
        value = body.get(field_name)
        if isinstance(value, list):
            rendered[field_name] = [render_text(run, v) for v in value]
        elif value is not None:
            rendered[field_name] = render_text(run, value)
    rendered["subject"] = render_text(run, body.get("subject", ""))
    mail_body = body.get("body")
    if isinstance(mail_body, Mapping) and ("text" in mail_body or "html" in mail_body):
        rendered["body"] = {k: render_text(run, v) for k, v in mail_body.items()}
    elif mail_body is not None:
        rendered["body"] = render_text(run, mail_body)
    if body.get("priority"):
        rendered["priority"] = body["priority"]
    policy = run.services.html_policy
    files = attachments.build(run, body, rendered_webhook)
    if not body.get("report"):
        return email.content(rendered, html_policy=policy, attachments=files)
    spec = render_value(body["report"], template_model(run))
    built = report.build(spec, run.ctx, run.services.kibana_url)
    return email.content(rendered, built.html, built.text, built.images, policy, files)


def rendered_webhook(run: Run, body: Mapping[str, Any]) -> dict[str, Any]:
    body = webhook.json_body(body)  # a JSON-looking body renders with JSON escaping
    rendered = dict(body)
    for field_name in ("url", "path", "body", "host"):
        if field_name in body:
            rendered[field_name] = render_text(run, body[field_name])
    for table in ("params", "headers"):
        if body.get(table):
            rendered[table] = {k: render_text(run, v) for k, v in body[table].items()}
    return rendered


def shown_content(kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """The notification as the watch record shows it (Watcher shows the sent message)."""
    if kind == "email":
        hidden = ("images", "attachments")
        shown = {k: v for k, v in content.items() if k not in hidden and v not in (None, [])}
        shown["inline_images"] = sorted(content.get("images") or {})
        if content.get("attachments"):
            # Their names and types; the bytes stay in the outbox, not in the record.
            shown["attachments"] = [
                {k: a[k] for k in ("name", "content_type", "inline")}
                for a in content["attachments"]
            ]
        return {"message": shown}
    return {"request": {k: v for k, v in content.items() if v is not None}}
