"""Email delivery over STARTTLS and implicit TLS with a login, through the outbox and courier,
against a real SMTP server with a certificate from a test CA."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline.alerting.delivery import email
from pipeline.alerting.delivery.courier import Courier
from pipeline.alerting.delivery.notifications import EMAIL, Notification, notification_id
from pipeline.alerting.delivery.outbox import Outbox
from pipeline.config import Config
from tests.fixtures.smtp import SecureMail

# aiosmtpd warns when AUTH is allowed without STARTTLS, which is right for implicit TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def outbox(es: Elasticsearch, unique_name: str) -> Iterator[Outbox]:
    yield Outbox(es, f"{unique_name}-outbox")
    es.options(ignore_status=404).indices.delete(index=f"{unique_name}-outbox")


def _notification(subject: str) -> Notification:
    content = email.content({"to": "ops@example.com", "subject": subject, "body": "hello"})
    return Notification(
        notification_id("tls-rule", "mail", subject),
        "tls-rule",
        "mail",
        EMAIL,
        datetime.now(UTC),
        content,
    )


def _smtp_config(config: Config, server: SecureMail, password: str) -> Config:
    sink = server.sink
    return replace(
        config,
        smtp=replace(
            config.smtp,
            host="localhost",
            port=sink.port,
            security="tls" if sink.tls == "implicit" else "starttls",
            username="edgewatch",
            password=password,
            ca_certs=Path(server.ca_file),
            timeout_s=10,
        ),
        alert=replace(config.alert, delivery_retry_max_s=1.0),
    )


def test_email_goes_over_tls_with_the_configured_login(
    config: Config, outbox: Outbox, secure_smtp_server: SecureMail
) -> None:
    courier = Courier(_smtp_config(config, secure_smtp_server, "s3cret"), outbox).start()
    try:
        sent = _notification(f"over {secure_smtp_server.sink.tls}")
        assert courier.submit(sent)
        assert courier.wait([sent.id], timeout=20) == {sent.id: "sent"}
    finally:
        courier.stop()
    (mail,) = secure_smtp_server.sink.wait_for(1)
    assert mail.message["Subject"] == f"over {secure_smtp_server.sink.tls}"
    assert secure_smtp_server.sink.logins == ["edgewatch"]


def test_a_wrong_password_is_retried_and_reported_not_lost(
    config: Config, outbox: Outbox, secure_smtp_server: SecureMail
) -> None:
    courier = Courier(_smtp_config(config, secure_smtp_server, "wrong"), outbox).start()
    try:
        pending = _notification("never accepted")
        courier.submit(pending)
        assert courier.wait([pending.id], timeout=4) == {pending.id: "pending"}
    finally:
        courier.stop()
    doc = outbox.get(pending.id)
    assert doc is not None and doc["state"] == "pending"  # kept for when the login is fixed
    assert doc["attempts"] >= 2
    assert "SMTP 535" in doc["last_error"]
    assert secure_smtp_server.sink.messages == []
