"""An email with a data and an http attachment, from a rule run by the alert service to the
real SMTP server, the http one fetched from a real HTTP server through the outbound checks
(https://www.elastic.co/guide/en/elasticsearch/reference/current/actions-email.html#configuring-email-attachments;
x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/notification/email/
attachment/HttpEmailAttachementParser.java, DataAttachmentParser.java)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import yaml
from elasticsearch import Elasticsearch

from pipeline.config import Config
from tests.fixtures.alerting import running
from tests.fixtures.http_receiver import HttpReceiver
from tests.fixtures.smtp import MailSink


def _rule(receiver: HttpReceiver) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "1s"}},
        "input": {"simple": {"host": "edge-7", "errors": 42}},
        "actions": {
            "mail": {
                "throttle_period": "1h",
                "email": {
                    "to": "ops@example.com",
                    "subject": "{{ctx.payload.host}}: {{ctx.payload.errors}} errors",
                    "body": "see the attachments",
                    "attachments": {
                        "context.yml": {"data": {}},
                        "report.json": {
                            "http": {
                                "request": {
                                    "url": receiver.url + "/reports/{{ctx.payload.host}}",
                                    "params": {"errors": "{{ctx.payload.errors}}"},
                                }
                            }
                        },
                        "report.csv": {
                            "http": {
                                "request": {"url": receiver.url + "/csv"},
                                "content_type": "text/csv",
                            }
                        },
                    },
                },
            }
        },
    }


def test_data_and_http_attachments_reach_the_mailbox(
    alert_config: Config,
    es: Elasticsearch,
    smtp_server: MailSink,
    http_receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    """The data attachment holds the `{ctx: ...}` model as YAML; the http ones hold what the
    rendered request answered, typed by the answer or by `content_type`; the outbox keeps the
    bytes, so the message sent is the one rendered when the rule ran."""
    cfg = replace(
        alert_config,
        smtp=replace(alert_config.smtp, host=smtp_server.host, port=smtp_server.port),
        http=replace(alert_config.http, allowed_hosts=("127.0.0.1",)),
    )
    http_receiver.respond_next(200, body=b'{"rows": 3}')
    http_receiver.respond_next(200, body=b"host,errors\nedge-7,42\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "with-attachments.json").write_text(json.dumps(_rule(http_receiver)))

    with running(cfg, rules):
        (mail,) = smtp_server.wait_for(1, timeout=20)

    assert mail.message["Subject"] == "edge-7: 42 errors"
    parts = {str(p.get_filename()): p for p in mail.message.iter_attachments()}

    def data(name: str) -> bytes:
        return cast(bytes, parts[name].get_payload(decode=True))

    assert sorted(parts) == ["context.yml", "report.csv", "report.json"]
    context = yaml.safe_load(data("context.yml"))
    assert parts["context.yml"].get_content_type() == "application/yaml"
    assert context["ctx"]["watch_id"] == "with-attachments"
    assert context["ctx"]["payload"] == {"host": "edge-7", "errors": 42}
    assert parts["report.json"].get_content_type() == "application/json"
    assert json.loads(data("report.json")) == {"rows": 3}
    assert parts["report.csv"].get_content_type() == "text/csv"
    assert data("report.csv") == b"host,errors\nedge-7,42\n"
    first = http_receiver.requests[0]
    assert first.method == "GET" and first.path == "/reports/edge-7"
    assert first.query == {"errors": ["42"]}


def test_an_attachment_url_outside_the_allowed_hosts_fails_the_email(
    config: Config, http_receiver: HttpReceiver
) -> None:
    """The http attachment's request goes through the same outbound checks as the http input
    (`http.allowed_hosts`): loopback is not allowed by default, so the email action fails
    naming why, as Watcher fails an email whose attachment cannot be fetched
    (ExecutableEmailAction returns FailureWithException)."""
    from datetime import UTC, datetime

    from pipeline.alerting import adapters
    from pipeline.alerting.engine.execute import execute
    from pipeline.alerting.engine.run import RunOptions

    cfg = replace(config, http=replace(config.http, allowed_hosts=()))
    sent: list[Any] = []

    def notify(notification: Any) -> bool:
        sent.append(notification)
        return True

    services = replace(adapters.services(cfg), notify=notify)
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": {}},
        "actions": {
            "mail": {
                "email": {
                    "to": "ops@example.com",
                    "attachments": {"r": {"http": {"request": {"url": http_receiver.url}}}},
                }
            }
        },
    }
    record, _ = execute("w", watch, RunOptions(execution_time=datetime.now(UTC)), services, None)
    (result,) = record["result"]["actions"]
    assert result["status"] == "failure"
    assert result["reason"].startswith("Watch[w] attachment[r] ")
    assert "127.0.0.1" in result["reason"]
    assert sent == [] and http_receiver.requests == []
