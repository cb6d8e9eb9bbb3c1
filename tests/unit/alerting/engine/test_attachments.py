"""Email attachments as Watcher builds them (x-pack/plugin/watcher/src/main/java/org/
elasticsearch/xpack/watcher/notification/email/attachment/: DataAttachmentParser,
HttpEmailAttachementParser; https://www.elastic.co/guide/en/elasticsearch/reference/current/
actions-email.html#configuring-email-attachments), stored with the notification and sent as
MIME parts."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import yaml

from pipeline.alerting.delivery import email
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Server:
    """A fake HTTP fetch: answers each request with the next scripted (status, type, body)."""

    def __init__(self, *answers: tuple[int, str | None, bytes]) -> None:
        self.answers = list(answers)
        self.requests: list[Mapping[str, Any]] = []

    def __call__(self, request: Mapping[str, Any]) -> tuple[int, str | None, bytes]:
        self.requests.append(request)
        return self.answers.pop(0)


def _run(email_action: dict[str, Any], server: Server | None = None) -> tuple[Any, Fakes]:
    fakes = Fakes()
    services = replace(fakes.services(outbox=True), http_fetch=server)
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": {"host": "edge-1", "n": 3}},
        "actions": {"mail": {"email": {"to": "ops@example.com", **email_action}}},
    }
    record, _ = execute("w", watch, RunOptions(execution_time=T0), services, None)
    (result,) = record["result"]["actions"]
    return result, fakes


def _files(fakes: Fakes) -> dict[str, dict[str, Any]]:
    (notification,) = fakes.notified
    return {a["name"]: a for a in notification.content["attachments"]}


def test_data_attachments_hold_the_ctx_model_as_yaml_by_default_or_json() -> None:
    """DataAttachment: the whole `{ctx: ...}` model; yaml by default (application/yaml),
    json on request (application/json); `attach_data: true` is a data attachment named data."""
    result, fakes = _run(
        {
            "attach_data": True,
            "attachments": {"ctx.json": {"data": {"format": "json"}}, "ctx.yml": {"data": {}}},
        }
    )
    assert result["status"] == "success"
    files = _files(fakes)
    assert list(files) == ["data", "ctx.json", "ctx.yml"]
    as_json = json.loads(base64.b64decode(files["ctx.json"]["data"]))
    assert files["ctx.json"]["content_type"] == "application/json"
    assert as_json["ctx"]["payload"] == {"host": "edge-1", "n": 3}
    assert as_json["ctx"]["watch_id"] == "w"
    as_yaml = yaml.safe_load(base64.b64decode(files["ctx.yml"]["data"]))
    assert files["ctx.yml"]["content_type"] == "application/yaml"
    assert as_yaml == as_json
    assert files["data"]["content_type"] == "application/yaml"
    assert result["email"]["message"]["attachments"][1] == {
        "name": "ctx.json",
        "content_type": "application/json",
        "inline": False,
    }


def test_an_unknown_data_format_fails_the_action() -> None:
    """DataAttachmentParser: `unknown data attachment format [x]`."""
    result, fakes = _run({"attachments": {"a": {"data": {"format": "xml"}}}})
    assert result["status"] == "failure"
    assert "unknown data attachment format [xml]" in result["reason"]
    assert fakes.notified == []


def test_http_attachments_render_the_request_and_keep_the_answers_bytes() -> None:
    """HttpEmailAttachementParser.toAttachment: the request rendered with ctx, a 2xx answer's
    body attached with `content_type` or the answer's type, `inline` kept."""
    server = Server((200, "text/csv", b"a,b\n1,2\n"), (201, "text/plain", b"x"))
    request = {
        "url": "http://reports.example/{{ctx.payload.host}}.csv",
        "params": {"n": "{{ctx.payload.n}}"},
    }
    result, fakes = _run(
        {
            "attachments": {
                "report.csv": {"http": {"request": request}},
                "logo": {"http": {"request": request, "content_type": "image/png", "inline": True}},
            }
        },
        server,
    )
    assert result["status"] == "success"
    assert server.requests[0]["url"] == "http://reports.example/edge-1.csv"
    assert server.requests[0]["params"] == {"n": "3"}
    files = _files(fakes)
    assert base64.b64decode(files["report.csv"]["data"]) == b"a,b\n1,2\n"
    assert files["report.csv"]["content_type"] == "text/csv"
    assert files["logo"]["content_type"] == "image/png" and files["logo"]["inline"] is True


def test_an_error_status_or_an_empty_body_fails_the_email_with_watchers_message() -> None:
    """HttpEmailAttachementParser: non-2xx -> `HTTP error status`, 2xx without a body ->
    `HTTP empty response body` (HttpEmailAttachementParserTests), and the email action fails
    (ExecutableEmailAction returns a failure), so nothing goes to the outbox."""
    spec = {
        "attachments": {
            "r": {"http": {"request": {"host": "h.example", "port": 8080, "path": "/x"}}}
        }
    }
    result, fakes = _run(spec, Server((404, "text/plain", b"nope")))
    assert result["status"] == "failure"
    assert result["reason"] == (
        "Watch[w] attachment[r] HTTP error status host[h.example], port[8080], "
        "method[GET], path[/x], status[404]"
    )
    assert fakes.notified == []
    result, _ = _run(spec, Server((200, "text/plain", b"")))
    assert "Watch[w] attachment[r] HTTP empty response body host[h.example]" in result["reason"]


def test_unknown_fields_of_an_http_attachment_fail() -> None:
    """HttpEmailAttachementParser.parse: `Unknown field name [x] in http request attachment
    configuration`."""
    spec = {"attachments": {"r": {"http": {"request": {"url": "http://h.example"}, "x": 1}}}}
    result, _ = _run(spec, Server())
    assert "Unknown field name [x] in http request attachment configuration" in result["reason"]


def test_the_mime_message_carries_each_attachment_as_watcher_sends_it() -> None:
    """Watcher's Email attachments: a part per attachment, its id as the file name; an inline
    one with its id as Content-ID (notification/email/Attachment.java)."""
    server = Server((200, "text/csv", b"a,b\n"), (200, "image/png", b"\x89PNG"))
    request = {"url": "http://reports.example/r"}
    _, fakes = _run(
        {
            "body": {"text": "see attached", "html": "<p>see <img src='cid:logo'></p>"},
            "attach_data": {"format": "json"},
            "attachments": {
                "report.csv": {"http": {"request": request}},
                "logo": {"http": {"request": request, "inline": True}},
            },
        },
        server,
    )
    (notification,) = fakes.notified
    message = email.message(notification, "edgewatch@example.com")
    parts = {p.get_filename(): p for p in message.iter_attachments()}
    assert parts["report.csv"].get_content_type() == "text/csv"
    assert parts["report.csv"].get_content_disposition() == "attachment"
    assert parts["report.csv"].get_payload(decode=True) == b"a,b\n"
    assert parts["logo"].get_content_disposition() == "inline"
    assert parts["logo"]["Content-ID"] == "<logo>"
    data = json.loads(cast(bytes, parts["data"].get_payload(decode=True)))
    assert data["ctx"]["payload"]["host"] == "edge-1"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "see attached"


def test_the_schema_takes_data_and_http_attachments_and_refuses_reporting() -> None:
    """The attachment types of https://www.elastic.co/guide/en/elasticsearch/reference/current/
    actions-email.html#configuring-email-attachments: data and http validate, with the fields
    Watcher's parsers know; reporting is reported as unsupported, with what to do instead."""
    from pipeline.alerting.format.validate import validate_rule

    def problems(attachments: dict[str, Any], **more: Any) -> list[str]:
        action = {"email": {"to": "a@example.com", "attachments": attachments, **more}}
        watch = {
            "trigger": {"schedule": {"interval": "1m"}},
            "input": {"simple": {}},
            "actions": {"mail": action},
        }
        return [f"{p.pointer}: {p.message}" for p in validate_rule(watch, "rule.json")]

    good = {
        "a.yml": {"data": {}},
        "b.json": {"data": {"format": "json"}},
        "c.csv": {"http": {"request": {"url": "http://h.example/c"}, "content_type": "text/csv"}},
        "d": {"http": {"request": {"host": "h.example", "port": 80}, "inline": True}},
    }
    assert problems(good, attach_data={"format": "yaml"}) == []
    (reporting,) = problems({"r": {"reporting": {"url": "http://kibana.example"}}})
    assert reporting.startswith("/actions/mail/email/attachments/r/reporting: ")
    assert "Kibana" in reporting
    (unknown,) = problems({"y": {"http": {"request": {"url": "http://h.example"}, "foo": 1}}})
    assert "foo" in unknown
