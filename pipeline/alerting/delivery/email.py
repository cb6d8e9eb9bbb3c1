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
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import formataddr, formatdate, getaddresses
from typing import Any

import nh3

from pipeline.alerting.delivery.notifications import Notification
from pipeline.config import SmtpConfig

# SMTP allows 998-character lines. At the default 78 the standard library folds a subject that
# starts with "[edgewatch]" right after "Subject:", and readers then show a leading space.
_POLICY = policy.default.clone(max_line_length=998)

# Watcher's priorities, as the X-Priority values mail clients understand.
PRIORITIES = {"highest": "1", "high": "2", "normal": "3", "low": "4", "lowest": "5"}


# The sanitiser's groups, after Watcher's (xpack.notification.email.html.sanitization.allow).
_FORMATTING = {"b", "i", "s", "u", "sup", "sub", "ins", "del", "strong", "strike", "tt", "code"}
_FORMATTING |= {"big", "small", "br", "span", "em", "hr"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre"}
_TABLES = {"table", "th", "tr", "td", "caption", "col", "colgroup", "thead", "tbody", "tfoot"}
_TABLE_ATTRIBUTES = {
    "table": {"border", "cellpadding", "cellspacing", "width", "align"},
    "col": {"span", "width"},
    "th": {"colspan", "rowspan", "align", "valign", "width"},
    "td": {"colspan", "rowspan", "align", "valign", "width"},
}
# CSS properties that format without loading anything (no url(), no positioning over other
# content): what `_styles` keeps of a style attribute.
_SAFE_CSS = {"color", "background-color", "font", "font-family", "font-size", "font-style"}
_SAFE_CSS |= {"font-weight", "text-align", "text-decoration", "vertical-align", "white-space"}
_SAFE_CSS |= {"line-height", "width", "height", "max-width", "border-collapse"}
_SIDES = ("", "-top", "-right", "-bottom", "-left")
_SAFE_CSS |= {f"{box}{side}" for box in ("margin", "padding") for side in _SIDES}
_SAFE_CSS |= {"border", "border-top", "border-right", "border-bottom", "border-left"}
_SAFE_CSS |= {"border-color", "border-style", "border-width", "border-radius"}
# Embedded images only: a content id of the message, or inline data of a raster type.
_EMBEDDED_IMAGE = re.compile(r"^\s*(cid:|data:image/(png|gif|jpeg|webp);base64,)", re.I)
_LINK = re.compile(r"^\s*(https?:|mailto:)", re.I)


@dataclass(frozen=True)
class HtmlPolicy:
    """What the HTML body of an email may keep (`smtp.html_sanitise`, `smtp.html_allow`)."""

    enabled: bool = True
    allow: tuple[str, ...] = (
        "_formatting",
        "_blocks",
        "_tables",
        "_links",
        "_styles",
        "img:embedded",
    )

    @classmethod
    def of(cls, smtp: SmtpConfig) -> HtmlPolicy:
        """The policy the configuration asks for."""
        return cls(smtp.html_sanitise, smtp.html_allow)

    def clean(self, markup: str) -> str:
        """`markup` with everything outside the allow-list removed (unchanged when disabled):
        scripts and styles with their content, event handlers, frames, forms, comments,
        `javascript:` and relative links, and images that are not embedded in the message."""
        if not self.enabled:
            return markup
        allow = {item.lower() for item in self.allow}
        tags: set[str] = set()
        attributes: dict[str, set[str]] = {}
        if "_formatting" in allow:
            tags |= _FORMATTING
        if "_blocks" in allow:
            tags |= _BLOCKS
            attributes.update({"p": {"align"}, "div": {"align"}})
        if "_tables" in allow:
            tags |= _TABLES
            attributes.update({k: set(v) for k, v in _TABLE_ATTRIBUTES.items()})
        if "_links" in allow:
            tags.add("a")
            attributes["a"] = {"href", "title"}
        remote_images = "img" in allow
        if remote_images or "img:embedded" in allow:
            tags.add("img")
            attributes["img"] = {"src", "alt", "title", "width", "height"}
        tags |= {item for item in allow if not item.startswith(("_", "img"))}
        styles = "_styles" in allow
        if styles:
            attributes["*"] = {"style"}

        def keep(element: str, attribute: str, value: str) -> str | None:
            if attribute == "src":
                return value if remote_images or _EMBEDDED_IMAGE.match(value) else None
            if attribute == "href":
                return value if _LINK.match(value) else None
            return value

        return nh3.clean(
            markup,
            tags=tags,
            attributes=attributes,
            attribute_filter=keep,
            url_schemes={"http", "https", "mailto", "cid", "data"},
            url_relative="deny",
            filter_style_properties=_SAFE_CSS if styles else None,
        )


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
    html_policy: HtmlPolicy = HtmlPolicy(),
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The stored form of one email from a rendered Watcher email action (plus a report, and
    its attachments as engine/attachments.py builds them: name, content type, inline, base64).

    When the action has a `report`, its HTML is the HTML body unless the rule gives its own,
    and its text is the plain-text body unless the rule gives its own. The HTML body, the
    rule's or the report's, passes `html_policy`.
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
    if html_body is not None:
        html_body = html_policy.clean(html_body)
    stored: dict[str, Any] = {
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
    if attachments:
        stored["attachments"] = [dict(a) for a in attachments]
    return stored


def recipients(stored: Mapping[str, Any]) -> list[str]:
    """Everyone the message goes to (To, Cc and Bcc): the SMTP envelope recipients."""
    return [*stored.get("to", []), *stored.get("cc", []), *stored.get("bcc", [])]


def message(
    notification: Notification, default_from: str, html_policy: HtmlPolicy = HtmlPolicy()
) -> EmailMessage:
    """The MIME message for a stored email notification. Its HTML passes `html_policy` again
    here, the last step before the wire, so that a notification stored by an older version
    (or written into the outbox by hand) is sent clean too; cleaning clean HTML changes
    nothing."""
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
    html_body = None if stored.get("html") is None else html_policy.clean(str(stored["html"]))
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
    for attachment in stored.get("attachments") or []:
        _attach(msg, attachment)
    return msg


def _attach(msg: EmailMessage, attachment: Mapping[str, Any]) -> None:
    """One stored attachment as a MIME part: a file named by its id, or inline with the id
    as its Content-ID, as Watcher's Attachment parts are."""
    name = str(attachment["name"])
    maintype, _, subtype = str(attachment.get("content_type") or "").partition("/")
    subtype = subtype.split(";")[0].strip()
    if not maintype or not subtype:
        maintype, subtype = "application", "octet-stream"
    inline = bool(attachment.get("inline"))
    msg.add_attachment(
        base64.b64decode(attachment["data"]),
        maintype=maintype,
        subtype=subtype,
        filename=name,
        disposition="inline" if inline else "attachment",
        cid=f"<{name}>" if inline else None,
    )


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
