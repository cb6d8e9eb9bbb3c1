"""A notification: one email or webhook call, rendered and ready to send.

The executor renders an email or webhook action into a `Notification` (pure); the outbox stores
it before any attempt to send (outbox.py); the courier sends it (courier.py, senders.py). Its
`id` is the same for every attempt at one firing of one action, so it serves as the outbox
document id (a second enqueue of the same firing is a no-op), as the webhook's
`Idempotency-Key` and as the email's Message-ID.

Secrets never enter a notification: SMTP and webhook credentials are added at send time from
the configuration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.alerting.engine.java.dates import format_date, parse_date

EMAIL = "email"
WEBHOOK = "webhook"


@dataclass(frozen=True)
class Notification:
    """One message to deliver. `content` is the rendered email or webhook request (JSON data)."""

    id: str
    rule_id: str
    action_id: str
    type: str  # email | webhook
    created: datetime
    content: Mapping[str, Any]
    alert_key: str | None = None
    alert_status: str = "firing"  # or resolved
    firing: str = ""  # what makes this firing unique, readable (the id is its digest)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "action_id": self.action_id,
            "type": self.type,
            "created": format_date(self.created),
            "content": dict(self.content),
            "alert_key": self.alert_key,
            "alert_status": self.alert_status,
            "firing": self.firing,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        return cls(
            id=str(data["id"]),
            rule_id=str(data["rule_id"]),
            action_id=str(data["action_id"]),
            type=str(data["type"]),
            created=parse_date(str(data["created"])),
            content=dict(data["content"]),
            alert_key=data.get("alert_key"),
            alert_status=str(data.get("alert_status") or "firing"),
            firing=str(data.get("firing") or ""),
        )


def notification_id(rule_id: str, action_id: str, firing: str) -> str:
    """A stable id for one firing of one action: hex digest, safe as a document id and header.

    `firing` names the firing: the scheduled time (plus the foreach index) for a plain action;
    the key, the time it started firing and the notice kind for a keyed one.
    """
    text = f"{rule_id}\x1f{action_id}\x1f{firing}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]
