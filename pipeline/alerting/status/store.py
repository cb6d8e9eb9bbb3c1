"""Rule state and execution history in Elasticsearch (adapter).

- state (index `alert.state_index`, default `edgewatch-rules-state`): one document per rule id
  holding its `WatchState` (active flag, throttle and ack state per action), so a restart
  neither re-fires a throttled action nor forgets an ack. Writes use optimistic concurrency;
  a user's ack that lands while a rule runs is kept (see `save`).
- history (indices `<alert.history_prefix>-YYYY.MM.DD`): one document per execution, like
  Watcher's `.watcher-history-*`: when, what the condition said, each action's status, the
  payload size, the duration, and the whole watch record (stored, not indexed), with
  passwords, credential headers and URL tokens redacted (pipeline/redact.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from pipeline.alerting.status import throttle as states
from pipeline.clients import elasticsearch as es_client
from pipeline.redact import redact_record

_KW = {"type": "keyword"}


class UnknownRuleError(LookupError):
    """A rule with no stored state that the caller did not vouch for."""


class RuleStore:
    """Reads and writes rule state and history."""

    def __init__(
        self,
        es: Elasticsearch,
        state_index: str = "edgewatch-rules-state",
        history_prefix: str = "edgewatch-rules-history",
    ) -> None:
        self.es = es
        self.state_index = state_index
        self.history_prefix = history_prefix

    def install(self) -> None:
        """The state index (unless it exists) and the history index template."""
        # Not dynamic: open alerts carry rule payloads whose field types differ between
        # rules, and must never make a state write fail on a mapping conflict.
        es_client.create_index(
            self.es,
            self.state_index,
            {
                "dynamic": False,
                "properties": {
                    "rule_id": _KW,
                    "updated": {"type": "date"},
                    "status": {"type": "object", "enabled": False},
                },
            },
        )
        self.es.indices.put_index_template(
            name=self.history_prefix,
            index_patterns=[f"{self.history_prefix}-*"],
            priority=200,
            template={
                "mappings": {
                    "dynamic": False,
                    "properties": {
                        "rule_id": _KW,
                        "execution_id": _KW,
                        "state": _KW,
                        "trigger": {
                            "properties": {
                                "type": _KW,
                                "scheduled_time": {"type": "date"},
                                "triggered_time": {"type": "date"},
                            }
                        },
                        "condition_met": {"type": "boolean"},
                        "actions": {
                            "properties": {"id": _KW, "status": _KW, "reason": {"type": "text"}}
                        },
                        "payload_bytes": {"type": "long"},
                        "duration_ms": {"type": "long"},
                        "lateness_ms": {"type": "long"},
                        "messages": {"type": "text"},
                        "record": {"type": "object", "enabled": False},
                    },
                }
            },
            meta={"managed_by": "edgewatch"},
        )

    # ------------------------------------------------------------------ state

    def load(self, rule_id: str) -> tuple[states.WatchState | None, tuple[int, int] | None]:
        """The stored state (its `version` the document's) and its (seq_no, primary_term),
        or (None, None)."""
        try:
            doc = self.es.get(index=self.state_index, id=rule_id)
        except NotFoundError:
            return None, None
        return (
            replace(
                states.WatchState.from_dict(doc["_source"]["status"]), version=int(doc["_version"])
            ),
            (int(doc["_seq_no"]), int(doc["_primary_term"])),
        )

    def save(
        self, rule_id: str, status: states.WatchState, version: tuple[int, int] | None
    ) -> None:
        """Store a rule's state after an execution (no refresh needed: gets by id are
        real-time in Elasticsearch).

        If the document changed since it was read (someone acked or deactivated the rule
        meanwhile), their change wins: acks and the active flag are taken from the stored
        document, everything else from this execution.
        """
        for _ in range(5):
            try:
                self._write(rule_id, status, version)
                return
            except ConflictError:
                stored, version = self.load(rule_id)
                if stored is not None:
                    status = _keep_user_changes(status, stored)
        raise RuntimeError(f"rule {rule_id}: state kept changing while saving it")

    def update(
        self,
        rule_id: str,
        change: Callable[[states.WatchState, datetime], states.WatchState],
        default_actions: list[str] | None = None,
    ) -> states.WatchState:
        """Apply `change(WatchState) -> WatchState` (ack, activate...) with retries.

        A rule without a stored state starts from a new one with `default_actions` (a rule
        that exists but never ran); with None, it is an `UnknownRuleError` and nothing is written.
        """
        for _ in range(5):
            stored, version = self.load(rule_id)
            now = datetime.now(UTC)
            if stored is None and default_actions is None:
                raise UnknownRuleError(rule_id)
            current = stored or states.WatchState.new(default_actions or [], now)
            new = change(current, now)
            try:
                self._write(rule_id, new, version)
                return new
            except ConflictError:
                continue
        raise RuntimeError(f"rule {rule_id}: state kept changing while updating it")

    def _write(
        self, rule_id: str, status: states.WatchState, version: tuple[int, int] | None
    ) -> None:
        """Create or replace the state document, if it is still at `version` (else 409)."""
        # The version is the document's own, not part of what is stored.
        stored = {key: value for key, value in status.to_dict().items() if key != "version"}
        body = {
            "rule_id": rule_id,
            "status": stored,
            "updated": datetime.now(UTC).isoformat(),
        }
        if version is None:
            self.es.create(index=self.state_index, id=rule_id, document=body)
        else:
            self.es.index(
                index=self.state_index,
                id=rule_id,
                document=body,
                if_seq_no=version[0],
                if_primary_term=version[1],
            )

    def load_late(self, rule_id: str) -> dict[str, Any] | None:
        """A rule's late-data bookkeeping (late.py), kept beside its state."""
        try:
            doc = self.es.get(index=self.state_index, id=_late_id(rule_id))
        except NotFoundError:
            return None
        late = doc["_source"].get("late")
        return dict(late) if isinstance(late, Mapping) else None

    def save_late(self, rule_id: str, late: Mapping[str, Any]) -> None:
        """Store a rule's late-data bookkeeping (only its own scheduler job writes it)."""
        body = {"rule_id": rule_id, "late": dict(late), "updated": datetime.now(UTC).isoformat()}
        self.es.index(index=self.state_index, id=_late_id(rule_id), document=body)

    # ------------------------------------------------------------------ history

    def record(self, rule_id: str, record: Mapping[str, Any], lateness_ms: int | None) -> None:
        """Write one execution's history document, without secrets: `execute` redacts its
        record already, this redacts again whatever record it is given (cheap, and the
        history is the one copy that lives for months)."""
        record = redact_record(record)
        result = record.get("result") or {}
        payload = (result.get("input") or {}).get("payload")
        when = str(record["trigger_event"]["triggered_time"])
        doc = {
            "rule_id": rule_id,
            "execution_id": record.get("id"),
            "state": record.get("state"),
            "trigger": {
                "type": record["trigger_event"]["type"],
                "triggered_time": when,
                "scheduled_time": _scheduled_time(record["trigger_event"]) or when,
            },
            "condition_met": (result.get("condition") or {}).get("met"),
            "actions": [
                {"id": a.get("id"), "status": a.get("status"), "reason": a.get("reason")}
                for a in result.get("actions") or []
            ],
            "payload_bytes": len(json.dumps(payload, default=str)) if payload is not None else 0,
            "duration_ms": result.get("execution_duration"),
            "lateness_ms": lateness_ms,
            "messages": record.get("messages") or [],
            "record": json.loads(json.dumps(record, default=str)),
        }
        index = f"{self.history_prefix}-{when[:10].replace('-', '.')}"
        self.es.index(index=index, document=doc)

    def history(self, rule_id: str, size: int = 20) -> list[dict[str, Any]]:
        """The latest executions of a rule, newest first (including ones written a moment ago:
        history is written without waiting for a refresh, so this asks for one)."""
        pattern = f"{self.history_prefix}-*"
        try:
            self.es.indices.refresh(index=pattern, allow_no_indices=True)
            found = self.es.search(
                index=pattern,
                query={"term": {"rule_id": rule_id}},
                sort=[{"trigger.triggered_time": "desc"}],
                size=size,
                source_excludes=["record"],
                allow_no_indices=True,
            )
        except NotFoundError:
            return []
        return [hit["_source"] for hit in found["hits"]["hits"]]


def _scheduled_time(event: Mapping[str, Any]) -> Any:
    """A trigger event's scheduled time: `schedule.scheduled_time`, or for a manual run
    `manual.schedule.scheduled_time` (Watcher's ManualTriggerEvent)."""
    times = event.get("schedule") or (event.get("manual") or {}).get("schedule") or {}
    return times.get("scheduled_time")


def _late_id(rule_id: str) -> str:
    # Beside the state document, under an id no rule of a plain folder has (`late:` would
    # have to be a folder name).
    return f"late:{rule_id}"


def _keep_user_changes(ours: states.WatchState, stored: states.WatchState) -> states.WatchState:
    actions = dict(ours.actions)
    for name, theirs in stored.actions.items():
        mine = actions.get(name)
        if mine is not None and theirs.ack.state == states.ACKED and mine.ack.state != states.ACKED:
            actions[name] = replace(mine, ack=theirs.ack)
    return replace(
        ours, actions=actions, active=stored.active, state_timestamp=stored.state_timestamp
    )
