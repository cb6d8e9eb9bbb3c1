"""Alerts that reach people, against the real stack, a real SMTP server and a real HTTP receiver.

The rules are the shipped ones from rules/, unmodified except for the index they search and a
1-second schedule (so a test takes seconds, not minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.cli import main
from pipeline.config import Config
from tests.fixtures.alerting import every, running, seed, shipped_rule
from tests.fixtures.http_receiver import HttpReceiver
from tests.fixtures.smtp import MailSink

ROOT = Path(__file__).resolve().parents[2]
ERROR = "error"
SECRET = "test-hmac-secret"


@pytest.fixture
def delivery_config(alert_config: Config, smtp_server: MailSink) -> Config:
    """The test's own indices (`alert_config`); mail to the test's server, fast retries."""
    return replace(
        alert_config,
        alert=replace(
            alert_config.alert, delivery_retry_max_s=4.0, kibana_url="http://kibana.example:5601"
        ),
        smtp=replace(alert_config.smtp, host=smtp_server.host, port=smtp_server.port),
        webhook=replace(
            alert_config.webhook,
            hmac_secret=SECRET,
            password="hook-pass",
            credential_hosts=("127.0.0.1",),
        ),
        # The test's receiver is on loopback, which only an explicit pattern allows.
        http=replace(alert_config.http, allowed_hosts=("127.0.0.1",)),
    )


def _html(mail: Any) -> str:
    part = mail.message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _text(mail: Any) -> str:
    part = mail.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _images(mail: Any) -> list[bytes]:
    return [
        part.get_content() for part in mail.message.walk() if part.get_content_type() == "image/png"
    ]


def test_fleet_spike_yields_exactly_one_email_with_numbers_and_chart(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    smtp_server: MailSink,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    now = datetime.now(UTC)
    spike = [("edge-03", ERROR, t, "db timeout") for t in every(3, 1.5, now)]  # 120 lines
    others = [("edge-01", ERROR, t, "disk slow") for t in every(4, 20, now)]  # 12 lines
    earlier = [
        ("edge-01", ERROR, t, "disk slow") for t in every(50, 300, now - timedelta(minutes=6))
    ]
    seed(es, index, spike + others + earlier)
    rules = tmp_path / "rules"
    shipped_rule(rules, "fleet-error-spike", index)

    with running(delivery_config, rules) as service:
        (mail,) = smtp_server.wait_for(1, timeout=20)
        time.sleep(3)  # more executions: all throttled (15m)
    assert len(smtp_server.messages) == 1

    assert mail.rcpt_tos == ["edge-oncall@example.com"]
    subject = str(mail.message["Subject"])
    assert subject == (
        "[edgewatch] Fleet error spike: 132 error lines in 5m (threshold 100), worst host edge-03"
    )
    assert mail.message["X-Priority"] == "2"
    html = _html(mail)
    assert "132 error lines in 5m across the fleet" in html
    # The sanitiser may re-quote attributes: compare the cells without their style.
    assert "<td>edge-03</td>" in re.sub(r""" style=(["']).*?\1""", "", html)
    assert "cid:chart@edgewatch" in html
    assert "http://kibana.example:5601/app/discover#/" in html
    text = _text(mail)
    assert "Error lines             132 in 5m" in text
    assert "edge-03  120" in text
    (chart,) = _images(mail)
    assert chart.startswith(b"\x89PNG\r\n\x1a\n")

    history = service.store.history("fleet-error-spike")
    statuses = [h["actions"][0]["status"] for h in reversed(history)]
    assert statuses[0] == "success" and set(statuses[1:]) == {"throttled"}
    outbox = es.search(index=delivery_config.alert.outbox_index, query={"match_all": {}})
    (doc,) = [hit["_source"] for hit in outbox["hits"]["hits"]]
    assert doc["state"] == "sent" and doc["attempts"] == 1


def test_throttle_and_ack_hold_across_a_restart(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    smtp_server: MailSink,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    now = datetime.now(UTC)
    seed(es, index, [("edge-03", ERROR, t, "db timeout") for t in every(3, 1.5, now)])
    rules = tmp_path / "rules"
    shipped_rule(rules, "fleet-error-spike", index)  # throttled for 15m once sent
    # The same rule with a 1s throttle: only an ack can keep it quiet.
    ackable = json.loads((rules / "fleet-error-spike.json").read_text())
    ackable["throttle_period"] = "1s"
    (rules / "ackable.json").write_text(json.dumps(ackable))

    with running(delivery_config, rules):
        smtp_server.wait_for(2, timeout=20)
    runner = CliRunner()
    env = {
        "EDGEWATCH_ALERT_STATE_INDEX": delivery_config.alert.state_index,
        "EDGEWATCH_ALERT_HISTORY_PREFIX": delivery_config.alert.history_prefix,
    }
    acked = runner.invoke(main, ["rules", "ack", "ackable", "email_oncall"], env=env)
    assert acked.exit_code == 0, acked.output
    time.sleep(1)  # past the 1s throttle: from here on only the ack holds it back
    sent_before = len(smtp_server.messages)

    with running(delivery_config, rules) as service:
        time.sleep(4)
    assert len(smtp_server.messages) == sent_before  # neither re-fired after the restart
    latest = {
        rule: service.store.history(rule, size=1)[0]["actions"][0]["status"]
        for rule in ("fleet-error-spike", "ackable")
    }
    assert latest == {"fleet-error-spike": "throttled", "ackable": "acknowledged"}


def test_smtp_down_for_a_minute_then_up_delivers_the_email_once(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    smtp_server: MailSink,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    seed(es, index, [("edge-05", ERROR, t, "boom") for t in every(3, 1.5, datetime.now(UTC))])
    rules = tmp_path / "rules"
    shipped_rule(rules, "fleet-error-spike", index)
    smtp_server.stop()

    with running(delivery_config, rules) as service:
        time.sleep(60)
        assert smtp_server.messages == []
        outbox = service.outbox
        pending = es.search(index=delivery_config.alert.outbox_index, query={"match_all": {}})
        (hit,) = pending["hits"]["hits"]
        doc = outbox.get(hit["_id"])
        assert doc is not None and doc["state"] in ("pending", "sending")
        assert doc["attempts"] >= 5
        assert "SMTP server" in doc["last_error"]
        smtp_server.start()
        smtp_server.wait_for(1, timeout=15)
        time.sleep(3)
    assert len(smtp_server.messages) == 1
    assert "Fleet error spike: 120 error lines" in str(smtp_server.messages[0].message["Subject"])
    doc = service.outbox.get(hit["_id"])
    assert doc is not None and doc["state"] == "sent"


def test_webhook_500_500_200_is_delivered_once_with_one_idempotency_key(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    http_receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    seed(es, index, [("edge-09", ERROR, t, "boom") for t in every(3, 1.5, datetime.now(UTC))])
    rules = tmp_path / "rules"
    webhook_action = {
        "webhook": {
            "url": f"{http_receiver.url}/hooks/edgewatch",
            "auth": {"basic": {"username": "edgewatch"}},  # the password is in the config
        }
    }
    shipped_rule(rules, "fleet-error-spike", index, actions={"page": webhook_action})
    http_receiver.respond_next(500, count=2, body=b'{"error":"busy"}')

    with running(delivery_config, rules):
        requests = http_receiver.wait_for(3, timeout=20)
        time.sleep(3)
    assert len(http_receiver.requests) == 3
    keys = {r.headers["idempotency-key"] for r in requests}
    assert len(keys) == 1
    body = json.loads(requests[-1].body)
    assert body["id"] == keys.pop()
    assert all(r.body == requests[0].body for r in requests)
    expected = hmac.new(SECRET.encode(), requests[-1].body, hashlib.sha256).hexdigest()
    assert requests[-1].headers["x-edgewatch-signature"] == f"sha256={expected}"
    login = base64.b64encode(b"edgewatch:hook-pass").decode()
    assert requests[-1].headers["authorization"] == f"Basic {login}"
    schema = json.loads(
        (
            ROOT / "pipeline" / "alerting" / "format" / "schema" / "webhook-body.schema.json"
        ).read_text()
    )
    jsonschema.validate(body, schema)
    assert body["rule_id"] == "fleet-error-spike" and body["status"] == "firing"
    assert body["payload"]["aggregations"]["window"]["doc_count"] == 120
    outbox = es.get(index=delivery_config.alert.outbox_index, id=body["id"])["_source"]
    assert outbox["state"] == "sent" and outbox["attempts"] == 3


def test_silent_host_yields_one_alert_then_one_recovery(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    smtp_server: MailSink,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    now = datetime.now(UTC)
    docs = [(host, "info", t, "ok") for host in ("edge-01", "edge-02") for t in every(60, 60, now)]
    docs += [("edge-07", "info", t, "ok") for t in every(45, 60, now - timedelta(minutes=15))]
    seed(es, index, docs)
    rules = tmp_path / "rules"
    shipped_rule(rules, "silent-node", index)

    with running(delivery_config, rules):
        (alert,) = smtp_server.wait_for(1, timeout=20)
        time.sleep(2)
        assert len(smtp_server.messages) == 1  # one alert, not one per execution
        seed(es, index, [("edge-07", "info", datetime.now(UTC), "back")])
        smtp_server.wait_for(2, timeout=20)
        time.sleep(2)
    assert len(smtp_server.messages) == 2
    recovered = smtp_server.messages[1]
    assert str(alert.message["Subject"]).startswith(
        "[edgewatch] Silent node: edge-07 sent no logs for 1"
    )
    assert alert.message["X-Edgewatch-Alert-Status"] == "firing"
    assert str(recovered.message["Subject"]).startswith(
        "[edgewatch] Recovered: edge-07 is sending logs again"
    )
    assert recovered.message["X-Edgewatch-Alert-Status"] == "resolved"
    assert "edge-07 recovered" in _html(recovered)


def test_a_retired_host_raises_no_silent_alert(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    smtp_server: MailSink,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    gone, quiet = f"{unique_name}-gone", f"{unique_name}-quiet"  # names no other test uses
    now = datetime.now(UTC)
    docs = [("edge-01", "info", t, "ok") for t in every(60, 60, now)]
    docs += [
        (h, "info", t, "ok")
        for h in (gone, quiet)
        for t in every(45, 60, now - timedelta(minutes=15))
    ]
    seed(es, index, docs)
    rules = tmp_path / "rules"
    shipped_rule(rules, "silent-node", index)
    runner = CliRunner()
    retired = runner.invoke(main, ["hosts", "retire", gone])
    assert retired.exit_code == 0, retired.output
    assert gone in retired.output
    try:
        with running(delivery_config, rules):
            (mail,) = smtp_server.wait_for(1, timeout=20)
            time.sleep(3)
        assert len(smtp_server.messages) == 1  # the quiet host only: the retired one is left out
        assert str(mail.message["Subject"]).startswith(f"[edgewatch] Silent node: {quiet} ")
    finally:
        back = runner.invoke(main, ["hosts", "unretire", gone])
    assert back.exit_code == 0, back.output
    assert gone not in runner.invoke(main, ["hosts", "retired"]).output


def test_host_spike_against_its_baseline_alerts_only_that_host(
    delivery_config: Config,
    es: Elasticsearch,
    unique_name: str,
    smtp_server: MailSink,
    tmp_path: Path,
) -> None:
    index = f"{unique_name}-logs"
    now = datetime.now(UTC)
    before = now - timedelta(minutes=5, seconds=30)
    docs = []
    # Baselines over the hour before the last 5 minutes: 2 or 20 error lines per 5 minutes.
    for host, per_5m in (("edge-01", 2), ("edge-02", 2), ("edge-03", 2), ("edge-04", 20)):
        docs += [(host, ERROR, t, "x") for t in every(55, 300 / per_5m, before)]
    # The last 5 minutes: only edge-02 is both >= 3x its usual rate and >= 20 lines.
    for host, count in (("edge-01", 8), ("edge-02", 40), ("edge-03", 5), ("edge-04", 30)):
        docs += [(host, ERROR, t, "x") for t in every(4, 240 / count, now)]
    seed(es, index, docs)
    rules = tmp_path / "rules"
    shipped_rule(rules, "host-error-spike", index)

    with running(delivery_config, rules):
        (mail,) = smtp_server.wait_for(1, timeout=20)
        time.sleep(3)
    assert len(smtp_server.messages) == 1
    subject = str(mail.message["Subject"])
    prefix = "[edgewatch] Error spike on edge-02: 40 error lines in 5m, usual "
    assert subject.startswith(prefix)
    assert 1.5 <= float(subject.removeprefix(prefix)) <= 2.0  # ~2 per 5 min (window edges)
    assert mail.message["X-Edgewatch-Alert-Key"] == "edge-02"
    assert len(_images(mail)) == 1
