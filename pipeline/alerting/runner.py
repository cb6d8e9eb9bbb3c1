"""One execution of a rule with its stored state: load, execute, save, record.

`edgewatch rules run` and the alert service (its scheduled runs and its late-data runs) all
run a rule this way, so a run from the command line with `--record` leaves the same state and
history as a scheduled one:

- with `options.record_state`, the stored state (throttle, ack, open alerts, active flag) is
  read first and, when `save`, the new state written after, with optimistic concurrency
  (status/store.py);
- with a store and `save`, the execution's record goes to the history, whatever
  `record_state` says (a late-data run is recorded, though it neither reads nor changes the
  rule's state);
- `save=False` is Watcher's execute API without `record_execution`: the run starts from the
  stored status, so throttling and acks apply, but stores nothing (TransportExecuteWatchAction
  reads the watch with its status; only `record_execution` writes it back);
- `gate` may stop the run before it executes, given the stored state (an inactive rule, a
  silence rule held while ingest is behind): what it returns is the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions, Services
from pipeline.alerting.status import throttle as states
from pipeline.alerting.status.store import RuleStore

# Given the state the run would start from: a record to stop with, or None to run.
Gate = Callable[[states.WatchState], dict[str, Any] | None]


def run_rule(
    store: RuleStore | None,
    services: Services,
    rule_id: str,
    watch: Mapping[str, Any],
    options: RunOptions,
    lateness_ms: int | None = None,
    gate: Gate | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """Execute `watch` once as `rule_id`; returns the watch record (redacted)."""
    keep_state = store is not None and options.record_state
    status, version = store.load(rule_id) if store is not None and keep_state else (None, None)
    actions = list((watch.get("actions") or {}).keys())
    status = status or states.WatchState.new(
        actions, options.execution_time, active=watch.get("active", True)
    )
    if gate is not None:
        stopped = gate(status)
        if stopped is not None:
            return stopped
    record, new_status = execute(rule_id, watch, options, services, status)
    if store is not None and save:
        if keep_state:
            store.save(rule_id, new_status, version)
        store.record(rule_id, record, lateness_ms)
    return record
