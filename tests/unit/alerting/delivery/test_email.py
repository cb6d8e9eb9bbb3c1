"""Email notifications (email.py): addresses, stored content, recipients and the MIME message."""

from __future__ import annotations

import email
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from pipeline.alerting.delivery import email as alert_email
from pipeline.alerting.delivery.chart import bar_chart_png
from pipeline.alerting.delivery.notifications import Notification, notification_id
from pipeline.alerting.delivery.report import CHART_CID

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PNG = bar_chart_png([3.0, 5.0, 120.0], threshold=100.0)


def _notification(stored: Mapping[str, Any], **extra: Any) -> Notification:
    n_id = notification_id("fleet/error-spike", "mail", "2026-11-25T10:00:00.000Z#0")
    return Notification(
        id=n_id,
        rule_id="fleet/error-spike",
        action_id="mail",
        type="email",
        created=T0,
        content=stored,
        **extra,
    )


def _parsed(notification: Notification, default_from: str = "edgewatch@ops.example") -> Any:
    raw = alert_email.message(notification, default_from).as_bytes()
    return email.message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("ops@example.com", ["ops@example.com"]),
        ("a@x.example, b@y.example,,  c@z.example ", ["a@x.example", "b@y.example", "c@z.example"]),
        (["a@x.example", " b@y.example ", ""], ["a@x.example", "b@y.example"]),
    ],
)
def test_addresses(value: Any, expected: list[str]) -> None:
    assert alert_email.addresses(value) == expected


def test_content_of_a_plain_rule() -> None:
    stored = alert_email.content(
        {
            "to": "a@x.example, b@x.example",
            "cc": ["c@x.example"],
            "subject": "120 errors",
            "body": "see the dashboard",
            "priority": "high",
        }
    )
    assert stored == {
        "from": None,
        "to": ["a@x.example", "b@x.example"],
        "cc": ["c@x.example"],
        "bcc": [],
        "reply_to": [],
        "subject": "120 errors",
        "text": "see the dashboard",
        "html": None,
        "priority": "high",
        "images": {},
    }


def test_content_rule_html_beats_the_report_html_and_report_text_fills_in() -> None:
    stored = alert_email.content(
        {"to": "a@x.example", "body": {"html": "<p>mine</p>"}},
        report_html="<p>report</p>",
        report_text="report text",
        images={CHART_CID: PNG},
    )
    assert stored["html"] == "<p>mine</p>"
    assert stored["text"] == "report text"
    assert list(stored["images"]) == [CHART_CID]


def test_content_rule_text_beats_the_report_text_and_report_html_fills_in() -> None:
    stored = alert_email.content(
        {"body": {"text": "mine"}}, report_html="<p>report</p>", report_text="report text"
    )
    assert (stored["text"], stored["html"]) == ("mine", "<p>report</p>")
    plain = alert_email.content({"body": "plain"}, report_html="<p>r</p>", report_text="r")
    assert (plain["text"], plain["html"]) == ("plain", "<p>r</p>")


def test_content_without_any_body_has_empty_text() -> None:
    stored = alert_email.content({"to": "a@x.example"})
    assert (stored["text"], stored["html"]) == ("", None)


def test_recipients_are_to_cc_and_bcc() -> None:
    stored = alert_email.content(
        {"to": "a@x.example", "cc": "c@x.example", "bcc": ["hidden@x.example"]}
    )
    assert alert_email.recipients(stored) == ["a@x.example", "c@x.example", "hidden@x.example"]


def _full_content() -> dict[str, Any]:
    return alert_email.content(
        {
            "to": ["a@x.example", "b@x.example"],
            "cc": "c@x.example",
            "bcc": "hidden@x.example",
            "reply_to": "oncall@x.example",
            "subject": "Fehler auf Knoten Zürich: 120 ✓ ÄÖÜ",
            "body": {"text": "120 errors"},
            "priority": "high",
        },
        report_html=f"<p>120 errors</p><img src='cid:{CHART_CID}'>",
        images={CHART_CID: PNG},
    )


def test_message_headers() -> None:
    notification = _notification(_full_content())
    msg = _parsed(notification)
    assert msg["From"] == "edgewatch@ops.example"
    assert msg["To"] == "a@x.example, b@x.example"
    assert msg["Cc"] == "c@x.example"
    assert msg["Reply-To"] == "oncall@x.example"
    assert msg["Bcc"] is None
    assert b"hidden@x.example" not in alert_email.message(notification, "e@x").as_bytes()
    assert "hidden@x.example" in alert_email.recipients(notification.content)
    assert msg["Subject"] == "Fehler auf Knoten Zürich: 120 ✓ ÄÖÜ"
    assert msg["Message-ID"] == f"<{notification.id}@edgewatch>"
    assert msg["X-Priority"] == "2"
    assert msg["X-Edgewatch-Rule"] == "fleet/error-spike"
    assert msg["X-Edgewatch-Action"] == "mail"
    assert msg["X-Edgewatch-Alert-Key"] is None
    assert msg["Date"].datetime == T0


def test_message_from_the_rule_beats_the_default() -> None:
    stored = alert_email.content({"from": "rule@x.example", "to": "a@x.example"})
    assert _parsed(_notification(stored))["From"] == "rule@x.example"


def test_message_has_text_html_and_an_inline_png() -> None:
    msg = _parsed(_notification(_full_content()))
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text is not None and html_part is not None
    assert text.get_content() == "120 errors\n"
    assert f"cid:{CHART_CID}" in html_part.get_content()
    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    (image,) = [p for p in related.iter_parts() if p.get_content_maintype() == "image"]
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == f"<{CHART_CID}>"
    assert image.get_content_disposition() == "inline"
    data = image.get_content()
    assert data.startswith(b"\x89PNG")
    assert data == PNG


def test_message_html_only_gets_a_text_rendering_of_it() -> None:
    stored = alert_email.content(
        {"to": "a@x.example", "body": {"html": "<h2>Spike</h2><p>120 &amp; rising</p>"}}
    )
    msg = _parsed(_notification(stored))
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None
    assert text.get_content() == "Spike\n120 & rising\n"


def test_message_text_only_is_a_single_part() -> None:
    stored = alert_email.content({"to": "a@x.example", "body": "just text"})
    msg = _parsed(_notification(stored))
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content() == "just text\n"
    assert msg["X-Priority"] is None


def test_message_of_a_keyed_alert_names_key_and_status() -> None:
    stored = alert_email.content({"to": "a@x.example", "subject": "resolved"})
    msg = _parsed(_notification(stored, alert_key="edge-3", alert_status="resolved"))
    assert (msg["X-Edgewatch-Alert-Key"], msg["X-Edgewatch-Alert-Status"]) == (
        "edge-3",
        "resolved",
    )


def test_message_is_the_same_after_the_outbox_round_trip() -> None:
    notification = _notification(_full_content())
    again = Notification.from_dict(notification.to_dict())
    assert again == notification
    first = alert_email.message(notification, "e@x.example")
    second = alert_email.message(again, "e@x.example")
    for header in ("Message-ID", "Date", "Subject", "To"):
        assert first[header] == second[header]


def test_message_with_a_multiline_subject_does_not_raise() -> None:
    # Subjects are templates over log data ({{ctx.payload.hits.hits.0._source.message}}),
    # and log messages carry line breaks (stack traces). A header cannot: the message
    # must still be built, with the breaks folded to spaces, or the alert is never sent.
    stored = alert_email.content(
        {"to": "a@x.example", "subject": "NullPointerException\n\tat Foo.bar(Foo.java:1)"}
    )
    built: EmailMessage = alert_email.message(_notification(stored), "e@x.example")
    parsed = email.message_from_bytes(built.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "NullPointerException at Foo.bar(Foo.java:1)"


def test_addresses_keep_a_quoted_display_name_with_a_comma() -> None:
    # Watcher parses an address list as javax.mail's InternetAddress.parse does: a comma inside
    # a quoted display name does not split the address.
    assert alert_email.addresses('"Doe, John" <j@x.example>, b@x.example') == [
        '"Doe, John" <j@x.example>',
        "b@x.example",
    ]
