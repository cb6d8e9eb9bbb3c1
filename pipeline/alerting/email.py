"""Email notifications: render an email action into content, and content into a MIME message.

Both steps are pure. `content(...)` produces the JSON-able dict the outbox stores (addresses,
subject, both bodies, inline images as base64); `message(...)` builds the `EmailMessage` the
sender hands to SMTP. The Message-ID derives from the notification id, so if a crash makes us
send a message twice, mail clients and most servers see the same message.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import formataddr, formatdate, getaddresses
from typing import Any

from pipeline.alerting.notifications import Notification

# SMTP allows 998-character lines. At the default 78 the standard library folds a subject that
# starts with "[edgewatch]" right after "Subject:", and readers then show a leading space.
_POLICY = policy.default.clone(max_line_length=998)

# Watcher's priorities, as the X-Priority values mail clients understand.
PRIORITIES = {"highest": "1", "high": "2", "normal": "3", "low": "4", "lowest": "5"}


def addresses(value: Any) -> list[str]:
    """Watcher accepts one address, a comma-separated list, or an array of addresses."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    # getaddresses splits on commas outside quotes: "Doe, John" <j@example.com> stays whole.
    pairs = getaddresses([_one_line(item) for item in items])
    return [formataddr(pair) for pair in pairs if pair[1]]


def content(
    rendered: Mapping[str, Any],
    report_html: str | None = None,
    report_text: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """The stored form of one email from a rendered Watcher email action (plus a report).

    When the action has a `report`, its HTML is the HTML body unless the rule gives its own,
    and its text is the plain-text body unless the rule gives its own.
    """
    body = rendered.get("body")
    text: str | None = None
    html_body: str | None = None
    if isinstance(body, Mapping):
        text = _optional(body.get("text"))
        html_body = _optional(body.get("html"))
    elif body is not None:
        text = str(body)
    if report_html is not None and html_body is None:
        html_body = report_html
    if report_text is not None and text is None:
        text = report_text
    if text is None and html_body is None:
        text = ""
    return {
        "from": _optional(rendered.get("from")),
        "to": addresses(rendered.get("to")),
        "cc": addresses(rendered.get("cc")),
        "bcc": addresses(rendered.get("bcc")),
        "reply_to": addresses(rendered.get("reply_to")),
        "subject": str(rendered.get("subject") or ""),
        "text": text,
        "html": html_body,
        "priority": _optional(rendered.get("priority")),
        "images": {cid: base64.b64encode(png).decode() for cid, png in (images or {}).items()},
    }


def recipients(stored: Mapping[str, Any]) -> list[str]:
    """Everyone the message goes to (To, Cc and Bcc): the SMTP envelope recipients."""
    return [*stored.get("to", []), *stored.get("cc", []), *stored.get("bcc", [])]


def message(notification: Notification, default_from: str) -> EmailMessage:
    """The MIME message for a stored email notification."""
    stored = notification.content
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _one_line(stored.get("from") or default_from)
    if stored.get("to"):
        msg["To"] = ", ".join(stored["to"])
    if stored.get("cc"):
        msg["Cc"] = ", ".join(stored["cc"])
    if stored.get("reply_to"):
        msg["Reply-To"] = ", ".join(stored["reply_to"])
    msg["Subject"] = _one_line(stored.get("subject") or "")
    msg["Date"] = formatdate(notification.created.timestamp(), usegmt=True)
    msg["Message-ID"] = f"<{notification.id}@edgewatch>"
    msg["X-Edgewatch-Rule"] = notification.rule_id
    msg["X-Edgewatch-Action"] = notification.action_id
    if notification.alert_key is not None:
        msg["X-Edgewatch-Alert-Key"] = _one_line(notification.alert_key)
        msg["X-Edgewatch-Alert-Status"] = notification.alert_status
    if stored.get("priority") in PRIORITIES:
        msg["X-Priority"] = PRIORITIES[stored["priority"]]
    text = stored.get("text")
    html_body = stored.get("html")
    # Mail readers show the last alternative they can: plain text first, then HTML.
    msg.set_content(text if text is not None else _text_of(html_body or ""))
    if html_body is not None:
        msg.add_alternative(html_body, subtype="html")
        images = stored.get("images") or {}
        if images:
            html_part = msg.get_body(preferencelist=("html",))
            assert isinstance(html_part, MIMEPart)  # added just above
            for cid, data in images.items():
                html_part.add_related(
                    base64.b64decode(data),
                    maintype="image",
                    subtype="png",
                    cid=f"<{cid}>",
                    filename=cid.split("@")[0] + ".png",
                    disposition="inline",
                )
    return msg


def _one_line(value: Any) -> str:
    """Header values are templates over log data, which may hold line breaks; a header
    cannot, so whitespace runs become one space."""
    return " ".join(str(value).split())


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _text_of(markup: str) -> str:
    """A crude text rendering of an HTML body, for the plain-text part when a rule gives none."""
    without_tags = re.sub(r"<br\s*/?>|</p>|</tr>|</h\d>", "\n", markup, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", without_tags)).strip() + "\n"
