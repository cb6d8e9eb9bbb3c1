"""The APScheduler side of schedules: a trigger that fires a job on a watch's `Schedule`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]

from pipeline.alerting.engine.java.dates import as_utc
from pipeline.alerting.engine.schedules.schedule import Schedule


class WatchTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler 3 trigger that fires a job on a watch's `Schedule`.

    Like Watcher, a late scheduler does not catch up on missed fire times: after a run, the next
    fire time is the first one after both the previous fire time and now.
    """

    __slots__ = ("schedule",)

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The next fire time after `previous_fire_time` (if any) and `now`."""
        base = now if previous_fire_time is None else max(as_utc(previous_fire_time), as_utc(now))
        return self.schedule.next_after(base)

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "schedule": self.schedule}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.schedule = state["schedule"]

    def __repr__(self) -> str:
        return f"<WatchTrigger {self.schedule!r}>"
