"""Fake executor services shared by the executor's unit tests: they record what the executor
asked for and answer searches from a canned response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.engine.run import Services


class Fakes:
    """Records searches, log lines, indexed documents, scripts and stored notifications."""

    def __init__(self, response: dict[str, Any] | None = None) -> None:
        self.response: dict[str, Any] = response or {"hits": {"total": 0, "hits": []}}
        self.searches: list[Mapping[str, Any]] = []
        self.logged: list[tuple[str, str, str]] = []
        self.indexed: list[tuple[str, list[dict[str, Any]]]] = []
        self.scripts: list[tuple[Any, str]] = []
        self.script_result: Any = None
        self.notified: list[Notification] = []
        self.stored: dict[str, Notification] = {}
        self.notify_error: Exception | None = None

    def notify(self, notification: Notification) -> bool:
        """The outbox: stores each notification id once; True when it was new."""
        self.notified.append(notification)
        if self.notify_error is not None:
            raise self.notify_error
        new = notification.id not in self.stored
        self.stored.setdefault(notification.id, notification)
        return new

    def services(self, scripts: bool = False, outbox: bool = False) -> Services:
        def search(request: Mapping[str, Any]) -> dict[str, Any]:
            self.searches.append(request)
            return self.response

        def index(
            name: str, docs: list[dict[str, Any]], _opts: Mapping[str, Any]
        ) -> dict[str, Any]:
            self.indexed.append((name, docs))
            return {"errors": False}

        def run_script(script: Any, ctx: Mapping[str, Any], purpose: str) -> Any:
            self.scripts.append((script, purpose))
            return self.script_result

        return Services(
            search=search,
            index=index,
            log_text=lambda level, category, text: self.logged.append((level, category, text)),
            run_script=run_script if scripts else None,
            notify=self.notify if outbox else None,
        )
