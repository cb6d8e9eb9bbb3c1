"""The executor's email and webhook actions: notifications handed to the outbox (`notify`),
keyed alerts (`alert_key`, `notify_resolved`) over several executions, and the deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.alerting.delivery import webhook
from pipeline.alerting.delivery.notifications import Notification, notification_id
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.status import throttle as state
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
T0_TEXT = "2026-11-25T10:00:00.000Z"


def _run(
    watch: Mapping[str, Any],
    fakes: Fakes,
    at: datetime = T0,
    status: state.WatchState | None = None,
    outbox: bool = True,
    **options: Any,
) -> tuple[dict[str, Any], state.WatchState]:
    options.setdefault("scheduled_time", at)
    return execute(
        "spike",
        watch,
        RunOptions(execution_time=at, trigger="schedule", **options),
        fakes.services(outbox=outbox),
        status,
    )


def _hosts(*hosts: tuple[str, int]) -> dict[str, Any]:
    buckets = [{"key": host, "doc_count": count} for host, count in hosts]
    return {
        "hits": {"total": sum(count for _, count in hosts), "hits": []},
        "aggregations": {"hosts": {"buckets": buckets}},
    }


def _watch(actions: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    watch: dict[str, Any] = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"search": {"request": {"indices": ["edgewatch-logs-*"], "body": {}}}},
        "condition": {"compare": {"ctx.payload.hits.total": {"gt": 0}}},
        "metadata": {"team": "edge"},
        "actions": dict(actions),
    }
    watch.update(extra)
    return watch


MAIL: dict[str, Any] = {
    "email": {
        "to": "{{ctx.metadata.team}}@ops.example, lead@ops.example",
        "bcc": ["audit@ops.example"],
        "subject": "{{ctx.payload.hits.total}} errors ({{ctx.watch_id}})",
        "body": {"text": "Worst: {{ctx.payload.aggregations.hosts.buckets.0.key}}"},
        "priority": "high",
    }
}


# --------------------------------------------------------------------------- email


def test_email_action_renders_its_templates_into_one_notification() -> None:
    fakes = Fakes(_hosts(("edge-3", 120), ("edge-7", 5)))
    record, status = _run(_watch({"mail": MAIL}), fakes)
    assert record["state"] == "executed"
    (n,) = fakes.notified
    firing = f"{T0_TEXT}#0"
    assert (n.type, n.rule_id, n.action_id) == ("email", "spike", "mail")
    assert n.id == notification_id("spike", "mail", firing)
    assert (n.firing, n.created, n.alert_key, n.alert_status) == (firing, T0, None, "firing")
    assert n.content["to"] == ["edge@ops.example", "lead@ops.example"]
    assert n.content["bcc"] == ["audit@ops.example"]
    assert n.content["subject"] == "125 errors (spike)"
    assert n.content["text"] == "Worst: edge-3"
    assert n.content["priority"] == "high"
    (action,) = record["result"]["actions"]
    assert action["status"] == "success"
    assert action["email"]["id"] == n.id
    assert action["email"]["status"] == "queued"
    assert action["email"]["message"]["subject"] == "125 errors (spike)"
    after = status.actions["mail"]
    assert after.ack.state == state.ACKABLE
    assert after.last_successful_execution is not None


def test_the_notification_is_json_data_that_round_trips() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    _run(_watch({"mail": MAIL}), fakes)
    (n,) = fakes.notified
    data = n.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert Notification.from_dict(data) == n


def test_same_scheduled_time_gives_the_same_id_and_is_stored_once() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    watch = _watch({"mail": MAIL})
    # A retry of the same scheduled run, a minute later (e.g. after a crash).
    _run(watch, fakes, at=T0, scheduled_time=T0)
    record, _ = _run(watch, fakes, at=T0 + timedelta(minutes=1), scheduled_time=T0)
    first, second = fakes.notified
    assert first.id == second.id
    assert len(fakes.stored) == 1
    (action,) = record["result"]["actions"]
    assert (action["status"], action["email"]["status"]) == ("success", "already_queued")
    # The next scheduled run is another firing.
    _run(watch, fakes, at=T0 + timedelta(minutes=2))
    assert fakes.notified[2].id != first.id
    assert len(fakes.stored) == 2


def test_foreach_gives_one_notification_per_item_with_distinct_ids() -> None:
    fakes = Fakes(_hosts(("a", 1), ("b", 2), ("c", 3)))
    action = {
        "foreach": "ctx.payload.aggregations.hosts.buckets",
        "email": {
            "to": "ops@x.example",
            "subject": "{{ctx.payload.key}}: {{ctx.payload.doc_count}}",
        },
    }
    record, _ = _run(_watch({"mail": action}), fakes)
    assert [n.content["subject"] for n in fakes.notified] == ["a: 1", "b: 2", "c: 3"]
    assert len({n.id for n in fakes.notified}) == 3
    assert [n.firing for n in fakes.notified] == [f"{T0_TEXT}#{i}" for i in range(3)]
    (result,) = record["result"]["actions"]
    assert result["number_of_actions_executed"] == 3
    assert [entry["email"]["status"] for entry in result["foreach"]] == ["queued"] * 3


def test_a_simulated_email_is_rendered_but_not_stored() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    record, status = _run(_watch({"mail": MAIL}), fakes, simulate_actions=frozenset({"mail"}))
    assert fakes.notified == []
    (action,) = record["result"]["actions"]
    assert action["status"] == "simulated"
    assert action["email"]["status"] == "simulated"
    message = action["email"]["message"]
    assert message["subject"] == "120 errors (spike)"
    assert message["to"] == ["edge@ops.example", "lead@ops.example"]
    assert message["inline_images"] == []
    # Simulated counts as successful in the status (WatchStatus / ActionStatus.update).
    assert status.actions["mail"].last_successful_execution is not None


def test_a_failing_outbox_fails_the_action_and_does_not_count_as_success() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    fakes.notify_error = ConnectionError("elasticsearch is away")
    record, status = _run(_watch({"mail": MAIL}), fakes)
    (action,) = record["result"]["actions"]
    assert action["status"] == "failure"
    assert "could not store the notification" in action["reason"]
    assert "elasticsearch is away" in action["reason"]
    after = status.actions["mail"]
    assert after.last_successful_execution is None
    assert after.last_execution is not None and after.last_execution.successful is False
    assert after.ack.state == state.AWAITS_SUCCESSFUL_EXECUTION
    # Not throttled next minute: the failed run does not count.
    fakes.notify_error = None
    record, _ = _run(_watch({"mail": MAIL}), fakes, at=T0 + timedelta(seconds=1), status=status)
    assert record["result"]["actions"][0]["status"] == "success"


def test_no_outbox_configured_fails_the_action() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    record, _ = _run(_watch({"mail": MAIL}), fakes, outbox=False)
    (action,) = record["result"]["actions"]
    assert action["status"] == "failure"
    assert "no outbox configured" in action["reason"]


def test_email_report_becomes_the_html_body_with_the_chart() -> None:
    fakes = Fakes(_hosts(("<b>edge-3</b>", 120), ("edge-7", 5)))
    action = {
        "email": {
            "to": "ops@x.example",
            "subject": "spike",
            "report": {
                "title": "{{ctx.payload.hits.total}} errors",
                "table": {"path": "ctx.payload.aggregations.hosts.buckets"},
                "chart": {"path": "ctx.payload.aggregations.hosts.buckets", "threshold": "100"},
            },
        }
    }
    record, _ = _run(_watch({"mail": action}), fakes)
    (n,) = fakes.notified
    assert "125 errors</h2>" in n.content["html"]
    assert "&lt;b&gt;edge-3&lt;/b&gt;" in n.content["html"]
    assert n.content["text"].startswith("125 errors\n")
    assert list(n.content["images"]) == ["chart@edgewatch"]
    assert record["result"]["actions"][0]["email"]["message"]["inline_images"] == [
        "chart@edgewatch"
    ]


# --------------------------------------------------------------------------- webhook


def test_webhook_without_a_body_posts_the_documented_alert_document() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    hook = {"webhook": {"url": "https://hooks.example/{{ctx.metadata.team}}"}}
    record, _ = _run(_watch({"hook": hook}), fakes)
    (n,) = fakes.notified
    assert n.type == "webhook"
    assert (n.content["method"], n.content["url"]) == ("POST", "https://hooks.example/edge")
    assert n.content["headers"] == {"Content-Type": "application/json"}
    doc = json.loads(n.content["body"])
    assert doc["$schema"] == webhook.BODY_SCHEMA_ID
    assert doc["id"] == n.id
    assert (doc["rule_id"], doc["action_id"], doc["status"]) == ("spike", "hook", "firing")
    assert doc["alert_key"] is None
    assert doc["execution_id"].startswith("spike_")
    assert doc["scheduled_time"] == T0_TEXT
    assert doc["execution_time"] == T0_TEXT
    assert doc["metadata"] == {"team": "edge"}
    assert doc["payload"] == fakes.response
    (action,) = record["result"]["actions"]
    assert action["webhook"]["request"]["url"] == "https://hooks.example/edge"
    assert action["webhook"]["status"] == "queued"


def test_webhook_templates_in_host_path_params_headers_and_body() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    hook = {
        "webhook": {
            "scheme": "https",
            "host": "{{ctx.metadata.team}}.hooks.example",
            "port": 8443,
            "method": "put",
            "path": "alerts/{{ctx.watch_id}}",
            "params": {"n": "{{ctx.payload.hits.total}}"},
            "headers": {"X-Rule": "{{ctx.watch_id}}"},
            "body": "{{ctx.payload.hits.total}} errors",
            "read_timeout": "3s",
        }
    }
    _run(_watch({"hook": hook}), fakes)
    (n,) = fakes.notified
    assert n.content["url"] == "https://edge.hooks.example:8443/alerts/spike?n=120"
    assert n.content["method"] == "PUT"
    assert n.content["headers"] == {"X-Rule": "spike"}
    assert n.content["body"] == "120 errors"
    assert n.content["read_timeout_s"] == 3.0


def test_webhook_body_with_watchers_json_prefix_is_json_escaped() -> None:
    # Watcher's text templates may start with `__json__::` (Kibana writes webhook bodies so):
    # the prefix is stripped and `{{...}}` values are JSON-escaped (mustache.split_content_type).
    fakes = Fakes(_hosts(('say "hi"\n', 120)))
    hook = {
        "webhook": {
            "url": "https://hooks.example/x",
            "method": "post",
            "body": '__json__::{"worst":"{{ctx.payload.aggregations.hosts.buckets.0.key}}"}',
        }
    }
    _run(_watch({"hook": hook}), fakes)
    (n,) = fakes.notified
    assert json.loads(n.content["body"]) == {"worst": 'say "hi"\n'}


# --------------------------------------------------------------------------- keyed alerts

SUBJECT = (
    "{{#ctx.alert.resolved}}RESOLVED{{/ctx.alert.resolved}}"
    "{{^ctx.alert.resolved}}FIRING{{/ctx.alert.resolved}}"
    " {{ctx.alert.key}}: {{ctx.payload.doc_count}} errors since {{ctx.alert.since}}"
)


def _keyed(**extra: Any) -> dict[str, Any]:
    action: dict[str, Any] = {
        "foreach": "ctx.payload.aggregations.hosts.buckets",
        "alert_key": "{{ctx.payload.key}}",
        "notify_resolved": True,
        "throttle_period": "1h",
        "email": {"to": "ops@x.example", "subject": SUBJECT},
    }
    action.update(extra)
    return action


def _open(status: state.WatchState, action_id: str = "per_host") -> dict[str, Any]:
    return {k: a.item for k, a in status.actions[action_id].open_alerts.items()}


def test_keyed_alerts_fire_stay_quiet_and_resolve_over_three_executions() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150), ("b", 120)))
    t1, t2, t3 = T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)

    record, status = _run(watch, fakes, at=t1)
    assert [(n.alert_key, n.alert_status) for n in fakes.notified] == [
        ("a", "firing"),
        ("b", "firing"),
    ]
    assert [n.content["subject"] for n in fakes.notified] == [
        f"FIRING a: 150 errors since {T0_TEXT}",
        f"FIRING b: 120 errors since {T0_TEXT}",
    ]
    assert fakes.notified[0].id == notification_id("spike", "per_host", f"a|{T0_TEXT}|firing")
    (action,) = record["result"]["actions"]
    assert action["status"] == "success"
    assert [(a["key"], a["alert_status"]) for a in action["alerts"]] == [
        ("a", "firing"),
        ("b", "firing"),
    ]
    assert set(_open(status)) == {"a", "b"}

    fakes.response = _hosts(("a", 170), ("b", 130))
    record, status = _run(watch, fakes, at=t2, status=status)
    assert len(fakes.notified) == 2  # nothing new
    (action,) = record["result"]["actions"]
    assert action["status"] == "throttled"
    assert action["throttled_keys"] == ["a", "b"]
    assert _open(status)["a"]["doc_count"] == 170  # the newest payload is kept

    fakes.response = _hosts(("b", 140))
    record, status = _run(watch, fakes, at=t3, status=status)
    (resolved,) = fakes.notified[2:]
    assert (resolved.alert_key, resolved.alert_status) == ("a", "resolved")
    # Rendered with a's last payload, and templates see ctx.alert.resolved.
    assert resolved.content["subject"] == f"RESOLVED a: 170 errors since {T0_TEXT}"
    assert resolved.id == notification_id("spike", "per_host", f"a|{T0_TEXT}|resolved")
    (action,) = record["result"]["actions"]
    assert action["status"] == "success"
    assert action["throttled_keys"] == ["b"]
    assert [(a["key"], a["alert_status"]) for a in action["alerts"]] == [("a", "resolved")]
    assert set(_open(status)) == {"b"}
    assert "alert" not in record["vars"]


def test_keyed_alerts_resolve_silently_without_notify_resolved() -> None:
    watch = _watch({"per_host": _keyed(notify_resolved=False)})
    fakes = Fakes(_hosts(("a", 150), ("b", 120)))
    _, status = _run(watch, fakes)
    fakes.response = _hosts(("b", 140))
    record, status = _run(watch, fakes, at=T0 + timedelta(minutes=1), status=status)
    assert len(fakes.notified) == 2
    assert record["result"]["actions"][0]["status"] == "throttled"
    assert set(_open(status)) == {"b"}


def test_keyed_alert_reminder_after_the_throttle_period() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150)))
    _, status = _run(watch, fakes)
    later = T0 + timedelta(hours=1)
    _, status = _run(watch, fakes, at=later, status=status)
    first, reminder = fakes.notified
    assert reminder.alert_status == "firing"
    assert reminder.content["subject"] == f"FIRING a: 150 errors since {T0_TEXT}"
    assert reminder.id != first.id
    assert "reminder" in reminder.firing
    assert status.actions["per_host"].open_alerts["a"].notified == later
    assert status.actions["per_host"].open_alerts["a"].since == T0


def test_watch_condition_false_resolves_every_open_alert() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150), ("b", 120)))
    _, status = _run(watch, fakes)
    fakes.response = _hosts()
    record, status = _run(watch, fakes, at=T0 + timedelta(minutes=1), status=status)
    assert record["state"] == "execution_not_needed"
    resolved = fakes.notified[2:]
    assert [(n.alert_key, n.alert_status) for n in resolved] == [
        ("a", "resolved"),
        ("b", "resolved"),
    ]
    assert resolved[1].content["subject"] == f"RESOLVED b: 120 errors since {T0_TEXT}"
    (action,) = record["result"]["actions"]
    assert (action["id"], action["status"]) == ("per_host", "success")
    assert _open(status) == {}
    # Nothing open any more: the next false condition sends nothing.
    record, _ = _run(watch, fakes, at=T0 + timedelta(minutes=2), status=status)
    assert len(fakes.notified) == 4
    assert "actions" not in record["result"]


def test_keyed_webhook_default_body_names_the_key_and_status() -> None:
    hook = _keyed(webhook={"url": "https://hooks.example/x"})
    del hook["email"]
    watch = _watch({"hook": hook})
    fakes = Fakes(_hosts(("a", 150)))
    _, status = _run(watch, fakes)
    fakes.response = _hosts()
    _run(watch, fakes, at=T0 + timedelta(minutes=1), status=status)
    docs = [json.loads(n.content["body"]) for n in fakes.notified]
    assert [(d["alert_key"], d["status"]) for d in docs] == [("a", "firing"), ("a", "resolved")]
    assert docs[1]["payload"] == {"key": "a", "doc_count": 150}


def test_an_acked_keyed_action_sends_nothing() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150)))
    _, status = _run(watch, fakes)
    status = state.ack_actions(status, T0 + timedelta(seconds=30))
    assert status.actions["per_host"].ack.state == state.ACKED
    fakes.response = _hosts(("a", 150), ("c", 300))
    record, after = _run(watch, fakes, at=T0 + timedelta(minutes=1), status=status)
    assert len(fakes.notified) == 1
    (action,) = record["result"]["actions"]
    assert action["status"] == "acknowledged"
    assert after.actions["per_host"] == status.actions["per_host"]


def test_a_simulated_keyed_action_changes_no_open_alerts() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150)))
    record, status = _run(watch, fakes, simulate_actions=frozenset({"_all"}))
    assert fakes.notified == []
    (action,) = record["result"]["actions"]
    assert action["status"] == "simulated"
    assert action["alerts"][0]["email"]["status"] == "simulated"
    assert _open(status) == {}


def test_a_failed_new_alert_is_tried_again_next_run() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150)))
    fakes.notify_error = ConnectionError("away")
    record, status = _run(watch, fakes)
    (action,) = record["result"]["actions"]
    assert action["status"] == "failure" and "away" in action["reason"]
    assert _open(status) == {}
    fakes.notify_error = None
    _, status = _run(watch, fakes, at=T0 + timedelta(minutes=1), status=status)
    assert [n.alert_status for n in fakes.notified[1:]] == ["firing"]
    assert set(_open(status)) == {"a"}


def test_a_failed_resolution_is_tried_again_next_run() -> None:
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150)))
    _, status = _run(watch, fakes)
    fakes.response = _hosts()
    fakes.notify_error = ConnectionError("away")
    _, status = _run(watch, fakes, at=T0 + timedelta(minutes=1), status=status)
    assert set(_open(status)) == {"a"}
    fakes.notify_error = None
    _, status = _run(watch, fakes, at=T0 + timedelta(minutes=2), status=status)
    assert fakes.notified[-1].alert_status == "resolved"
    assert fakes.notified[-1].id == fakes.notified[-2].id  # the same resolution
    assert _open(status) == {}


def test_a_failed_reminder_keeps_the_alert_open_since_it_started() -> None:
    # a fires at T0; its reminder an hour later cannot be stored; the next run must still
    # remind about the alert open since T0, not announce a brand-new alert.
    watch = _watch({"per_host": _keyed()})
    fakes = Fakes(_hosts(("a", 150)))
    _, status = _run(watch, fakes)
    fakes.notify_error = ConnectionError("away")
    _, status = _run(watch, fakes, at=T0 + timedelta(hours=1), status=status)
    assert "a" in status.actions["per_host"].open_alerts
    assert status.actions["per_host"].open_alerts["a"].since == T0
    fakes.notify_error = None
    _, status = _run(watch, fakes, at=T0 + timedelta(hours=1, minutes=1), status=status)
    last = fakes.notified[-1]
    assert last.content["subject"] == f"FIRING a: 150 errors since {T0_TEXT}"
    assert "reminder" in last.firing


# --------------------------------------------------------------------------- deadline


def test_a_passed_deadline_fails_the_execution_and_sends_nothing() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    record, status = _run(
        _watch({"mail": MAIL, "per_host": _keyed()}), fakes, deadline=time.monotonic() - 1
    )
    assert record["state"] == "failed"
    assert any("ran out of time" in message for message in record["messages"])
    assert fakes.notified == []
    assert all(a.last_execution is None for a in status.actions.values())


def test_a_deadline_far_ahead_changes_nothing() -> None:
    fakes = Fakes(_hosts(("edge-3", 120)))
    record, _ = _run(_watch({"mail": MAIL}), fakes, deadline=time.monotonic() + 3600)
    assert record["state"] == "executed"
    assert len(fakes.notified) == 1
