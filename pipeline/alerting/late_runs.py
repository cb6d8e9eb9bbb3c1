"""The scheduler's side of late data: after a rule's run, judge the windows late data reached.

late.py decides (plain data); this module searches, runs and stores:

1. load the rule's late bookkeeping (`LateState`, beside its state in the state index);
2. note what the run just notified (at its scheduled time, in event time);
3. search the arrivals since the last look (`late.arrivals_request`), one `size: 0` search;
4. run the watch for each window found, unmodified, with `scheduled_time` = the window's end,
   `ctx.late`, and the keys notified near that time skipped; each run is recorded in the
   history like any other (its trigger type is `late`);
5. store the bookkeeping with `checked_until` = the newest arrival time looked at.

The first run of a rule only sets `checked_until`: arrivals before edgewatch looked are not
late, they are history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pipeline.alerting.engine import late
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.status import throttle as states
from pipeline.alerting.status.store import RuleStore

log = logging.getLogger("edgewatch.alert")

# Runs a watch with these options and records it; returns the watch record.
RunWindow = Callable[[RunOptions], dict[str, Any]]


def search_indices(watch: Mapping[str, Any]) -> list[str]:
    """The indices of the watch's search input (the first search of a chain)."""
    spec = watch.get("input") or {}
    if "search" in spec:
        indices = ((spec["search"] or {}).get("request") or {}).get("indices") or []
        return [str(i) for i in (indices if isinstance(indices, list) else [indices])]
    for entry in (spec.get("chain") or {}).get("inputs") or []:
        for inner in entry.values() if isinstance(entry, Mapping) else []:
            found = search_indices({"input": inner})
            if found:
                return found
    return []


def action_periods(watch: Mapping[str, Any], spec: late.LateSpec) -> dict[str, timedelta]:
    """Per action, how far in event time one notification keeps a late window quiet."""
    out = {}
    for action_id, action in (watch.get("actions") or {}).items():
        stated = states.explicit_throttle_period(action, watch)
        out[str(action_id)] = max(stated or spec.window, spec.window)
    return out


SAVE_EVERY = timedelta(minutes=1)


class LateRuns:
    """Judges again the windows of rules that late data reached.

    Each rule's bookkeeping is cached here (one scheduler job runs a rule at a time) and
    stored when what it notified changed, else at most once a minute: after a restart the
    arrivals of that last minute are looked at again, which notifies nothing twice, since
    what was notified is always stored.
    """

    def __init__(
        self, store: RuleStore, search: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> None:
        self.store = store
        self.search = search
        self._known: dict[str, tuple[late.LateState, datetime]] = {}  # state, when stored

    def after_run(
        self,
        rule_id: str,
        watch: Mapping[str, Any],
        live_record: Mapping[str, Any],
        scheduled: datetime,
        now: datetime,
        run_window: RunWindow,
    ) -> list[dict[str, Any]]:
        """Everything after one scheduled run; returns the records of the late runs."""
        spec = late.parse_spec(watch.get("metadata"))
        if spec is None:
            return []
        known = self._known.get(rule_id)
        if known is None:
            stored = late.LateState.from_dict(self.store.load_late(rule_id))
            known = (stored, now - SAVE_EVERY)  # stored again after this run
        before, saved = known
        bookkeeping = late.remember(before, late.notified_keys(live_record), scheduled, now, spec)
        records: list[dict[str, Any]] = []
        since = bookkeeping.checked_until
        until = late.arrivals_until(spec, scheduled)
        indices = search_indices(watch)
        if since is not None and since < until and indices:
            request = late.arrivals_request(indices, spec, since, scheduled)
            found, left = late.windows(self.search(request), spec)
            if left:
                log.warning(
                    "rule %s: late data reached %d more windows than late_data.max_windows "
                    "(%d); the oldest were judged",
                    rule_id,
                    left,
                    spec.max_windows,
                )
            periods = action_periods(watch, spec)
            for window in found:
                options = RunOptions(
                    execution_time=now,
                    scheduled_time=window.end,
                    trigger="late",
                    record_state=False,
                    late=late.late_context(window, now),
                    skip_keys=late.skipped(bookkeeping, window, periods),
                )
                record = run_window(options)
                records.append(record)
                bookkeeping = late.remember(
                    bookkeeping, late.notified_keys(record), window.end, now, spec
                )
        if since is None or since < until:
            bookkeeping = replace(bookkeeping, checked_until=until)
        if bookkeeping.notified != before.notified or now - saved >= SAVE_EVERY:
            self.store.save_late(rule_id, bookkeeping.to_dict())
            saved = now
        self._known[rule_id] = (bookkeeping, saved)
        return records

    def forget(self, rule_id: str) -> None:
        """Drop a rule's cached bookkeeping (its file was removed or changed)."""
        self._known.pop(rule_id, None)
