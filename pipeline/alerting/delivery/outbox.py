"""The outbox: every email and webhook notification, stored before it is sent (adapter).

One document per notification in `alert.outbox_index`, its id the notification id, so the
same firing enqueued twice (a retried execution) is stored once. Its `state` moves

    pending --claim--> sending --> sent
                          |------> pending (retry at next_attempt)
                          '------> failed (permanent error, or past the deadline)
    pending/expired lease --claim--> failed (past the deadline or the attempt cap)

A claim is an optimistic-concurrency write with a lease: if the service dies while sending,
the lease runs out and the notification is pending again for whoever looks next. A crash
between the server accepting a message and `sent` being written means one more attempt after
restart: that is why webhooks carry an Idempotency-Key and emails a stable Message-ID.

A webhook's URL tokens and credential headers are stored sealed (`seal.Sealer`), and error
reasons without URL secrets: reading the outbox shows no secret.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from pipeline.alerting.delivery import retry as delivery
from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.delivery.seal import Sealer, SealError
from pipeline.alerting.engine.java.dates import format_date, parse_date
from pipeline.clients import elasticsearch as es_client
from pipeline.redact import redact_text

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"

_KW = {"type": "keyword"}
_DATE = {"type": "date"}


@dataclass(frozen=True)
class GaveUp:
    """A notification `claim` found past its deadline or attempt cap and marked failed."""

    notification_id: str
    type: str
    rule_id: str
    reason: str


@dataclass(frozen=True)
class Claimed:
    """A notification this process may send now."""

    notification: Notification
    attempts: int  # attempts made before this one
    document: dict[str, Any]  # the outbox document as the claim wrote it


class Outbox:
    """Reads and writes outbox documents."""

    def __init__(
        self,
        es: Elasticsearch,
        index: str,
        lease_s: float = 120.0,
        sealer: Sealer | None = None,
    ) -> None:
        self.es = es
        self.index = index
        self.lease = timedelta(seconds=lease_s)
        # Without alert.outbox_key: a key of this process's own (see seal.Sealer).
        self.sealer = sealer or Sealer()

    def install(self) -> None:
        """Create the outbox index with its mapping, unless it exists."""
        es_client.create_index(
            self.es,
            self.index,
            {
                "dynamic": False,
                "properties": {
                    "state": _KW,
                    "rule_id": _KW,
                    "action_id": _KW,
                    "type": _KW,
                    "alert_key": _KW,
                    "alert_status": _KW,
                    "created": _DATE,
                    "deadline": _DATE,
                    "next_attempt": _DATE,
                    "lease_until": _DATE,
                    "sent_at": _DATE,
                    "attempts": {"type": "integer"},
                    "last_error": {"type": "text"},
                    "notification": {"type": "object", "enabled": False},
                },
            },
        )

    def enqueue(self, notification: Notification, deadline_s: float) -> bool:
        """Store a new notification as pending; False if this firing is stored already."""
        created = notification.created
        doc = {
            "state": PENDING,
            "rule_id": notification.rule_id,
            "action_id": notification.action_id,
            "type": notification.type,
            "alert_key": notification.alert_key,
            "alert_status": notification.alert_status,
            "created": format_date(created),
            "deadline": format_date(created + timedelta(seconds=deadline_s)),
            "next_attempt": format_date(created),
            "attempts": 0,
            "notification": {
                **notification.to_dict(),
                "content": self.sealer.seal(notification.content),
            },
        }
        try:
            self.es.create(index=self.index, id=notification.id, document=doc)
        except ConflictError:
            return False
        return True

    def due(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of notifications to try now: pending and due, or stuck in an expired lease."""
        stamp = format_date(now)
        try:
            found = self.es.search(
                index=self.index,
                query={
                    "bool": {
                        "should": [
                            {
                                "bool": {
                                    "filter": [
                                        {"term": {"state": PENDING}},
                                        {"range": {"next_attempt": {"lte": stamp}}},
                                    ]
                                }
                            },
                            {
                                "bool": {
                                    "filter": [
                                        {"term": {"state": SENDING}},
                                        {"range": {"lease_until": {"lte": stamp}}},
                                    ]
                                }
                            },
                        ],
                        "minimum_should_match": 1,
                    }
                },
                sort=[{"next_attempt": "asc"}],
                size=limit,
                source=False,
            )
        except NotFoundError:
            return []
        return [hit["_id"] for hit in found["hits"]["hits"]]

    def pending_count(self) -> int:
        """Notifications not yet sent or given up."""
        try:
            found = self.es.count(index=self.index, query={"terms": {"state": [PENDING, SENDING]}})
        except NotFoundError:
            return 0
        return int(found["count"])

    def claim(
        self,
        notification_id: str,
        now: datetime,
        max_attempts: int = delivery.DEFAULT_MAX_ATTEMPTS,
    ) -> Claimed | GaveUp | None:
        """Take a notification for sending, or None if it is not ours to send now.

        One past its deadline or its attempt cap is not taken: it is marked failed here, with
        its last reason, and returned as `GaveUp`, so no process ever tries it again. A lease
        that ran out counts as an attempt: a notification whose sending crashes the process
        cannot be retried forever either.
        """
        try:
            doc = self.es.get(index=self.index, id=notification_id)
        except NotFoundError:
            return None
        source = doc["_source"]
        state = source.get("state")
        attempts = int(source.get("attempts") or 0)
        if state == SENDING:
            if parse_date(str(source.get("lease_until"))) > now:
                return None  # someone is sending it right now
            attempts += 1  # the attempt under that lease never finished
        elif state != PENDING or parse_date(str(source["next_attempt"])) > now:
            return None
        deadline = _deadline(source)
        why = delivery.expired(attempts, deadline, now, max_attempts)
        if why is not None:
            last = source.get("last_error")
            reason = f"gave up after {attempts} attempt(s) ({why})" + (f": {last}" if last else "")
            changed = {**source, "state": FAILED, "attempts": attempts, "lease_until": None}
            changed.update(last_error=reason, updated=now.isoformat())
            if not self._write(notification_id, changed, doc):
                return None
            return GaveUp(
                notification_id, str(source.get("type")), str(source.get("rule_id")), reason
            )
        lease = format_date(now + self.lease)
        source = {**source, "state": SENDING, "attempts": attempts, "lease_until": lease}
        if not self._write(notification_id, source, doc):
            return None
        stored = Notification.from_dict(source["notification"])
        try:
            notification = replace(stored, content=self.sealer.open(stored.content))
        except SealError as err:  # sent without its URL token or credentials: wrong, give up
            reason = f"cannot be sent: {err}"
            self.failed(Claimed(stored, attempts, source), reason)
            return GaveUp(notification_id, stored.type, stored.rule_id, reason)
        return Claimed(notification, attempts, source)

    def _write(self, notification_id: str, source: dict[str, Any], read: Any) -> bool:
        """Replace the document if nobody changed it since `read`; False if somebody did."""
        try:
            self.es.index(
                index=self.index,
                id=notification_id,
                document=source,
                if_seq_no=read["_seq_no"],
                if_primary_term=read["_primary_term"],
            )
        except ConflictError:
            return False
        return True

    def sent(self, claimed: Claimed, now: datetime, reply: str) -> None:
        """Record the server's acceptance."""
        self._change(claimed, state=SENT, sent_at=format_date(now), reply=reply[:500])

    def retry(self, claimed: Claimed, at: datetime, reason: str) -> None:
        """Record a transient failure; try again at `at`."""
        self._change(
            claimed, state=PENDING, next_attempt=format_date(at), last_error=redact_text(reason)
        )

    def failed(self, claimed: Claimed, reason: str) -> None:
        """Give up, with the reason."""
        self._change(claimed, state=FAILED, last_error=redact_text(reason))

    def get(self, notification_id: str) -> dict[str, Any] | None:
        """The outbox document of a notification (for the CLI and tests)."""
        try:
            return dict(self.es.get(index=self.index, id=notification_id)["_source"])
        except NotFoundError:
            return None

    def _change(self, claimed: Claimed, **fields: Any) -> None:
        """End an attempt: the claimed document (this process holds the lease, so it is still
        current) with one more attempt, the lease released and these fields changed."""
        doc = {**claimed.document, **fields, "attempts": claimed.attempts + 1, "lease_until": None}
        doc["updated"] = datetime.now(UTC).isoformat()
        self.es.index(index=self.index, id=claimed.notification.id, document=doc)


def _deadline(source: dict[str, Any]) -> datetime:
    """The stored deadline; a document without one (written before it existed) is due a day
    after its firing, the longest any default ever allowed."""
    if source.get("deadline"):
        return parse_date(str(source["deadline"]))
    return parse_date(str(source["created"])) + timedelta(days=1)
