"""`edgewatch alert`: every rule of a folder on its schedule, with state and history.

- APScheduler 3 runs each rule on its own `WatchTrigger`, in a thread pool: a slow rule never
  delays the others, `max_instances=1` keeps one rule from running twice at once, and missed
  runs after a pause are coalesced into one (Watcher does not catch up either).
- The folder is re-read every `alert.reload_interval_s` seconds and on SIGHUP: new files are
  scheduled, changed ones rescheduled, removed ones unscheduled. An invalid file is logged
  (file, JSON pointer, problem), counted in `edgewatch_alert_invalid_rules` and skipped; a
  rule that was valid keeps running in its last valid version until the file is fixed. A
  folder that cannot be read at all (gone, permission denied) changes nothing: the last good
  rules keep running, and the reload is logged and counted in
  `edgewatch_alert_rules_folder_errors`.
- State (throttle, ack, active) is read before and written after each execution, history is
  written per execution (status/store.py), so a restart resumes where it left off.
- Email and webhook notifications go through the outbox (delivery/outbox.py) and are sent by the
  courier's own loop (delivery/courier.py); a rule execution never waits for a mail server.
- An execution that runs longer than `alert.execution_timeout_s` stops at its next step and is
  recorded as failed; its thread is freed for the next rule.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from elasticsearch import ApiError, TransportError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.alerting import adapters, hold
from pipeline.alerting.delivery.courier import Courier
from pipeline.alerting.delivery.outbox import Outbox
from pipeline.alerting.delivery.seal import Sealer
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.engine.schedules.trigger import WatchTrigger
from pipeline.alerting.format.loader import FolderError, Loaded, Rule, load_rules
from pipeline.alerting.format.scripts import ScriptCheck
from pipeline.alerting.hosts import RetiredHosts
from pipeline.alerting.late_runs import LateRuns
from pipeline.alerting.runner import run_rule
from pipeline.alerting.status import throttle as states
from pipeline.alerting.status.store import RuleStore
from pipeline.clients import elasticsearch as es_client
from pipeline.config import Config
from pipeline.ingest.status import member_name
from pipeline.telemetry import Heartbeat, StatusServer

log = logging.getLogger("edgewatch.alert")


class AlertMetrics:
    """Prometheus metrics of the alert service (prefix `edgewatch_alert_`)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.executions = Counter(
            "edgewatch_alert_executions",
            "Rule executions by outcome; run=late for windows judged again for late data",
            ["rule", "state", "run"],
            registry=r,
        )
        self.condition_met = Counter(
            "edgewatch_alert_condition_met",
            "Executions whose condition was met",
            ["rule"],
            registry=r,
        )
        self.actions = Counter(
            "edgewatch_alert_actions", "Action outcomes", ["rule", "action", "status"], registry=r
        )
        self.duration = Histogram(
            "edgewatch_alert_execution_seconds",
            "Time to evaluate a rule, input to actions",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.lateness = Histogram(
            "edgewatch_alert_lateness_seconds",
            "Start of an execution minus its scheduled time",
            registry=r,
            buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
        )
        self.rules = Gauge("edgewatch_alert_rules", "Rules scheduled", registry=r)
        self.invalid = Gauge(
            "edgewatch_alert_invalid_rules", "Rule files skipped as invalid", registry=r
        )
        self.folder_errors = Counter(
            "edgewatch_alert_rules_folder_errors",
            "Reloads that could not read the rules folder (the last good rules kept running)",
            registry=r,
        )


class _RecordingExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """APScheduler's thread pool, noting each run's scheduled time before the run starts
    (a listener would race the job), so executions see their real `scheduled_time`."""

    def __init__(self, workers: int, scheduled: dict[str, float]) -> None:
        super().__init__(workers)
        self._scheduled_times = scheduled

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        if run_times:
            self._scheduled_times[job.id] = run_times[-1].timestamp()
        super().submit_job(job, run_times)


class AlertService:
    """Schedules the rules of one folder; `run()` blocks until `stop()` or a signal."""

    def __init__(self, config: Config, rules_dir: Path, http_port: int | None = None) -> None:
        self.config = config
        self.rules_dir = rules_dir
        self.http_port = config.alert.http_port if http_port is None else http_port
        self.metrics = AlertMetrics()
        self.heartbeat = Heartbeat()
        # The records' `node`: this member, named as ingest names its members.
        self.node = member_name(None)
        self.es = es_client.connect(config.es)
        self.store = RuleStore(self.es, config.alert.state_index, config.alert.history_prefix)
        self.outbox = Outbox(
            self.es, config.alert.outbox_index, sealer=Sealer(config.alert.outbox_key)
        )
        self.courier = Courier(config, self.outbox, self.metrics.registry)
        # Read with the rules (reload), so not yet here.
        self.stored_scripts = adapters.stored_scripts(config, None)
        self.services = adapters.services(
            config,
            self.es,
            batch_searches=True,
            notify=self.courier.submit,
            stored_script=self.stored_scripts,
        )
        # Through self.services at call time: tools and benchmarks may wrap the search.
        self.late_runs = LateRuns(self.store, lambda request: self.services.search(request))
        self.ingest_status = hold.IngestStatus(self.es, config.ingest.status_index)
        # Scripts compile at load, each distinct source once, so a bad one never runs.
        self.scripts = ScriptCheck(adapters.script_compiler(config))
        self.rules: dict[str, Rule] = {}
        self.problems: list[str] = []
        self.folder_error: str | None = None  # why the folder could not be read last time
        self._scheduled: dict[str, float] = {}  # rule id -> scheduled time of the pending run
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._ready = False
        self.scheduler = BackgroundScheduler(
            executors={"default": _RecordingExecutor(config.alert.workers, self._scheduled)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def stop(self) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT stop; SIGHUP reloads the rules folder now."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info(
                "received %s: stopping after the running executions", signal.Signals(signum).name
            )
            self.stop()

        def reload(_signum: int, _frame: FrameType | None) -> None:
            self._reload.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def run(self) -> int:
        status = None
        if self.http_port:
            status = StatusServer(
                self.metrics.registry,
                self.heartbeat,
                self.ready_problem,
                host=self.config.alert.http_host,
                port=self.http_port,
            ).start()
            log.info("metrics and health on port %d", status.port)
        try:
            try:
                self.store.install()
                RetiredHosts(self.es, self.config.alert.hosts_index).install()
            except (ApiError, TransportError) as err:
                # A wrong password, CA or privilege: say which setting, instead of a trace.
                advice = es_client.explain(err, self.config.es)
                raise ConnectionError(advice or f"cannot set up the rule indices: {err}") from err
            self.courier.start()
            self.reload()
            self.scheduler.start()
            self._ready = True
            next_reload = time.monotonic() + self.config.alert.reload_interval_s
            while not self._stop.wait(0.2):
                self.heartbeat.beat()
                if self._reload.is_set() or time.monotonic() >= next_reload:
                    self._reload.clear()
                    self.reload()
                    next_reload = time.monotonic() + self.config.alert.reload_interval_s
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            self.courier.stop()
            if status is not None:
                status.stop()
        return 0

    def ready_problem(self) -> str | None:
        if not self._ready:
            return "rules not loaded yet"
        if self.folder_error is not None and not self.rules:
            return "rules folder cannot be read and no rules were loaded before"
        return None

    # ------------------------------------------------------------------ rules

    def reload(self) -> None:
        """Bring the scheduler in line with the folder; never raises.

        When the folder cannot be read at all (gone, permission denied, I/O error), the last
        good rule set keeps running: an empty listing is never taken for "no rules".
        """
        try:
            loaded = load_rules(self.rules_dir, self.config.alert.max_rule_file_bytes, self.scripts)
        except Exception as err:  # FolderError, or anything unforeseen: keep what runs
            reason = str(err) if isinstance(err, FolderError) else f"{type(err).__name__}: {err}"
            self.metrics.folder_errors.inc()
            if reason != self.folder_error:
                log.error("%s; keeping the %d rule(s) loaded before", reason, len(self.rules))
            self.folder_error = reason
            return
        if self.folder_error is not None:
            log.info("rules folder %s readable again", self.rules_dir)
            self.folder_error = None
        for problem in self.stored_scripts.reload(self.rules_dir):
            log.error("stored script skipped: %s", problem)
        self._apply(loaded)

    def _apply(self, loaded: Loaded) -> None:
        problems = [str(p) for p in loaded.problems]
        if problems != self.problems:
            for line in problems:
                log.error("invalid rule skipped: %s", line)
            self.problems = problems
        bad_files = {p.file for p in loaded.problems}
        self.metrics.invalid.set(len(bad_files))
        for rule_id, rule in loaded.rules.items():
            old = self.rules.get(rule_id)
            if old is not None and old.digest == rule.digest:
                continue
            self.rules[rule_id] = rule
            self.late_runs.forget(rule_id)
            self.scheduler.add_job(
                self._run_rule,
                WatchTrigger(rule.schedule),
                args=[rule_id],
                id=rule_id,
                name=rule_id,
                replace_existing=True,
            )
            log.info("%s rule %s (%s)", "rescheduled" if old else "scheduled", rule_id, rule.path)
        for rule_id in list(self.rules):
            if rule_id in loaded.rules:
                continue
            path = self.rules[rule_id].path
            if str(path) in bad_files:
                continue  # broken now: keep running the last valid version
            if any(path.is_relative_to(folder) for folder in loaded.unreadable_dirs):
                continue  # its folder cannot be listed now: unknown, not removed
            del self.rules[rule_id]
            self.late_runs.forget(rule_id)
            self.scheduler.remove_job(rule_id)
            log.info("unscheduled rule %s (file removed)", rule_id)
        self.metrics.rules.set(len(self.rules))

    # ------------------------------------------------------------------ executions

    def _run_rule(self, rule_id: str) -> None:
        rule = self.rules.get(rule_id)
        if rule is None:
            return
        now = datetime.now(UTC)
        scheduled_ts = self._scheduled.pop(rule_id, now.timestamp())
        scheduled = datetime.fromtimestamp(scheduled_ts, UTC)
        lateness = max(0.0, now.timestamp() - scheduled_ts)
        self.metrics.lateness.observe(lateness)
        try:
            deadline = time.monotonic() + self.config.alert.execution_timeout_s
            self.run_once(rule, now, scheduled, "schedule", lateness, deadline=deadline)
        except Exception:  # one rule's failure must never stop the scheduler
            log.exception("rule %s: execution failed", rule_id)
            self.metrics.executions.labels(rule_id, "error", "live").inc()

    def run_once(
        self,
        rule: Rule,
        now: datetime,
        scheduled: datetime,
        trigger: str,
        lateness: float = 0.0,
        **options: Any,
    ) -> dict[str, Any]:
        """Execute a rule with its stored state, then store the new state and the history."""

        def gate(status: states.WatchState) -> dict[str, Any] | None:
            if not states.should_run(status):
                return {"state": "inactive"}
            return self._held(rule, now, scheduled, trigger)

        started = time.monotonic()
        record = run_rule(
            self.store,
            self.services,
            rule.id,
            rule.watch,
            RunOptions(
                execution_time=now,
                scheduled_time=scheduled,
                trigger=trigger,
                node=self.node,
                **options,
            ),
            round(lateness * 1000),
            gate,
        )
        if record["state"] in ("inactive", "held"):
            return record
        self.metrics.duration.observe(time.monotonic() - started)
        self._count(rule, record)
        if record["state"] == "failed":
            log.warning("rule %s failed: %s", rule.id, "; ".join(record["messages"]))
        if trigger == "schedule":
            self.late_runs.after_run(
                rule.id, rule.watch, record, scheduled, now, lambda o: self._run_late(rule, o)
            )
        return record

    def _held(
        self, rule: Rule, now: datetime, scheduled: datetime, trigger: str
    ) -> dict[str, Any] | None:
        """The record of a run held while ingest is behind (hold.py), or None to run."""
        limit = hold.threshold(rule.watch.get("metadata"))
        if limit is None or trigger != "schedule":
            return None
        reason = hold.hold_reason(limit, self.ingest_status.latest(), now)
        if reason is None:
            return None
        record = hold.held_record(rule.id, rule.watch, now, scheduled, reason)
        self.store.record(rule.id, record, None)
        self._count(rule, record)
        log.info("rule %s %s", rule.id, reason)
        return record

    def _count(self, rule: Rule, record: Mapping[str, Any]) -> None:
        late = "late" if record["trigger_event"]["type"] == "late" else "live"
        self.metrics.executions.labels(rule.id, record["state"], late).inc()
        result = record.get("result") or {}
        if (result.get("condition") or {}).get("met"):
            self.metrics.condition_met.labels(rule.id).inc()
        for action in result.get("actions") or []:
            self.metrics.actions.labels(rule.id, action["id"], action["status"]).inc()

    def _run_late(self, rule: Rule, options: RunOptions) -> dict[str, Any]:
        """One late-data run (late_runs.py): the rule's live state is neither read nor
        changed; the run is recorded in the history like any other."""
        deadline = time.monotonic() + self.config.alert.execution_timeout_s
        options = replace(options, deadline=deadline, node=self.node)
        record = run_rule(self.store, self.services, rule.id, rule.watch, options)
        self._count(rule, record)
        return record
