"""Send mail through the SMTP fixture with aiosmtplib and read it back."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import pytest

from tests.fixtures.smtp import MailSink


def _mail(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "edgewatch@example.test"
    message["To"] = "oncall@example.test"
    message["Subject"] = subject
    message.set_content("3 hosts over threshold")
    message.add_alternative("<p><b>3</b> hosts over threshold</p>", subtype="html")
    return message


def test_mail_sent_is_received(smtp_server: MailSink) -> None:
    asyncio.run(
        aiosmtplib.send(
            _mail("[edgewatch] error spike on edge-7"),
            hostname=smtp_server.host,
            port=smtp_server.port,
            recipients=["oncall@example.test", "audit@example.test"],
        )
    )
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "edgewatch@example.test"
    assert mail.rcpt_tos == ["oncall@example.test", "audit@example.test"]
    assert mail.message["Subject"] == "[edgewatch] error spike on edge-7"
    text = mail.message.get_body(preferencelist=("plain",))
    html = mail.message.get_body(preferencelist=("html",))
    assert text is not None and "3 hosts over threshold" in text.get_content()
    assert html is not None and "<b>3</b>" in html.get_content()


def test_refused_mail_is_reported_to_the_sender(smtp_server: MailSink) -> None:
    smtp_server.refuse_next(1)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        asyncio.run(
            aiosmtplib.send(_mail("first"), hostname=smtp_server.host, port=smtp_server.port)
        )
    assert refused.value.code == 451
    asyncio.run(aiosmtplib.send(_mail("second"), hostname=smtp_server.host, port=smtp_server.port))
    assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == ["second"]
