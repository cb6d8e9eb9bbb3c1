"""Late data: the windows found, ctx.late, one notification per (key, window), and the
scheduler's bookkeeping between runs (late.py, late_runs.py, the executor's late mode)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.alerting.engine import late
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.late_runs import LateRuns, action_periods, search_indices
from tests.unit.alerting.fakes import Fakes

pytestmark = pytest.mark.unit

T = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
SPEC = late.LateSpec(window=timedelta(minutes=5))


def _bucket(start: datetime, count: int) -> dict[str, Any]:
    return {"key": int(start.timestamp() * 1000), "doc_count": count}


def test_spec_reads_metadata_with_defaults() -> None:
    assert late.parse_spec({"late_data": {"window": "5m"}}) == SPEC
    spec = late.parse_spec(
        {"late_data": {"window": "1m", "lookback": "2h", "max_windows": 3, "settle": "5s"}}
    )
    assert spec == late.LateSpec(timedelta(minutes=1), timedelta(hours=2), 3, timedelta(seconds=5))
    assert late.parse_spec({"notify": "x"}) is None
    assert late.parse_spec(None) is None


def test_arrivals_request_looks_at_new_arrivals_in_closed_windows() -> None:
    request = late.arrivals_request(["logs-*"], SPEC, T - timedelta(minutes=1), T)
    assert request["indices"] == ["logs-*"]
    body = request["body"]
    assert body["size"] == 0
    ingested, written = (f["range"] for f in body["query"]["bool"]["filter"])
    assert ingested["event.ingested"] == {
        "gt": "2026-12-07T10:59:00.000Z",
        "lte": "2026-12-07T10:59:30.000Z",  # settled: searchable by now
    }
    # Windows the current run judges itself ([T-5m, T)) are not late.
    assert written["@timestamp"] == {
        "gte": "2026-12-06T11:00:00.000Z",
        "lt": "2026-12-07T10:55:00.000Z",
    }
    histogram = body["aggs"]["windows"]["date_histogram"]
    assert histogram["fixed_interval"] == "300000ms"
    assert histogram["min_doc_count"] == 1


def test_windows_oldest_first_at_most_max_and_count_the_rest() -> None:
    spec = late.LateSpec(timedelta(minutes=5), max_windows=2)
    starts = [T - timedelta(minutes=m) for m in (10, 40, 30, 20)]
    response = {"aggregations": {"windows": {"buckets": [_bucket(s, 3) for s in starts]}}}
    found, left = late.windows(response, spec)
    assert [w.start for w in found] == [T - timedelta(minutes=40), T - timedelta(minutes=30)]
    assert found[0].end == T - timedelta(minutes=35)
    assert found[0].received == 3
    assert left == 2
    assert late.windows({}, spec) == ([], 0)


def test_late_context_says_when_and_how_late() -> None:
    window = late.LateWindow(T - timedelta(minutes=57), T - timedelta(minutes=52), 47)
    assert late.late_context(window, T) == {
        "window_from": "2026-12-07T10:03:00.000Z",
        "window_to": "2026-12-07T10:08:00.000Z",
        "received": 47,
        "delay_minutes": 52,
    }


def test_a_key_notified_near_a_window_is_skipped_for_it() -> None:
    state = late.LateState(
        T, {"mail/edge-07": (T - timedelta(minutes=30),), "mail/edge-01": (T,), "all/": (T,)}
    )
    window = late.LateWindow(T - timedelta(minutes=35), T - timedelta(minutes=30), 5)
    periods = {"mail": timedelta(minutes=5), "all": timedelta(minutes=5)}
    assert late.skipped(state, window, periods) == {"mail/edge-07"}
    # A 30-minute throttle keeps edge-01's live alert covering it too.
    assert late.skipped(state, window, {"mail": timedelta(minutes=31)}) == {
        "mail/edge-07",
        "mail/edge-01",
    }


def test_remember_forgets_beyond_the_lookback_and_round_trips() -> None:
    old = T - timedelta(days=2)
    state = late.LateState(T, {"mail/a": (old,)})
    state = late.remember(state, ["mail/b", "all/"], T, T, SPEC)
    assert state.notified == {"mail/b": (T,), "all/": (T,)}
    assert late.LateState.from_dict(state.to_dict()) == state
    assert late.LateState.from_dict(None) == late.LateState()


def test_notified_keys_reads_firings_not_resolutions() -> None:
    record = {
        "result": {
            "actions": [
                {
                    "id": "mail",
                    "status": "success",
                    "alerts": [
                        {"key": "a", "alert_status": "firing"},
                        {"key": "b", "alert_status": "resolved"},
                    ],
                },
                {"id": "log", "status": "success"},
                {"id": "hook", "status": "throttled"},
            ]
        }
    }
    assert late.notified_keys(record) == ["mail/a", "log/"]


# --------------------------------------------------------------------------- executor


def _watch() -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "1m"}},
        "metadata": {"late_data": {"window": "5m"}},
        "input": {"search": {"request": {"indices": ["logs-*"], "body": {}}}},
        "condition": {"compare": {"ctx.payload.hits.total": {"gt": 0}}},
        "actions": {
            "mail": {
                "foreach": "ctx.payload.aggregations.hosts.buckets",
                "alert_key": "{{ctx.payload.key}}",
                "throttle_period": "30m",
                "email": {
                    "to": "ops@example.com",
                    "subject": "{{ctx.payload.key}}{{#ctx.late}} received "
                    "{{ctx.late.delay_minutes}} minutes late "
                    "({{ctx.late.window_from}}){{/ctx.late}}",
                },
            }
        },
    }


def _response(*hosts: str) -> dict[str, Any]:
    buckets = [{"key": h, "doc_count": 30} for h in hosts]
    return {
        "hits": {"total": 30 * len(hosts), "hits": []},
        "aggregations": {"hosts": {"buckets": buckets}},
    }


def test_late_run_notifies_each_firing_key_once_with_ctx_late() -> None:
    fakes = Fakes(_response("edge-07", "edge-01"))
    window = late.LateWindow(T - timedelta(minutes=57), T - timedelta(minutes=52), 47)
    options = RunOptions(
        execution_time=T,
        scheduled_time=window.end,
        trigger="late",
        record_state=False,
        late=late.late_context(window, T),
        skip_keys=frozenset({"mail/edge-01"}),
    )
    record, _ = execute("spike", _watch(), options, fakes.services(outbox=True))
    (n,) = fakes.notified
    assert n.content["subject"] == ("edge-07 received 52 minutes late (2026-12-07T10:03:00.000Z)")
    assert n.firing == "edge-07|late 2026-12-07T10:08:00.000Z"
    (action,) = record["result"]["actions"]
    assert action["late_skipped_keys"] == ["edge-01"]
    assert record["trigger_event"]["schedule"]["scheduled_time"] == "2026-12-07T10:08:00.000Z"
    # The same window run again (a retry after a crash) stores the same notification.
    execute("spike", _watch(), options, fakes.services(outbox=True))
    assert len(fakes.stored) == 1


def test_resolution_renders_with_this_runs_item_when_resolve_with_names_one() -> None:
    watch = _watch()
    mail = watch["actions"]["mail"]
    mail.update(notify_resolved=True, resolve_with="ctx.payload.back")
    mail["foreach"] = "ctx.payload.silent"
    mail["email"]["subject"] = "{{ctx.payload.key}} {{ctx.payload.backfilled}}"
    fakes = Fakes({"hits": {"total": 1}, "silent": [{"key": "edge-07", "backfilled": 0}]})
    _, status = execute(
        "silent",
        watch,
        RunOptions(execution_time=T, trigger="schedule"),
        fakes.services(outbox=True),
    )
    fakes.response = {
        "hits": {"total": 1},
        "silent": [],
        "back": [{"key": "edge-07", "backfilled": 412}],
    }
    later = T + timedelta(minutes=5)
    execute(
        "silent",
        watch,
        RunOptions(execution_time=later, trigger="schedule"),
        fakes.services(outbox=True),
        status,
    )
    assert [n.content["subject"] for n in fakes.notified] == ["edge-07 0", "edge-07 412"]
    assert fakes.notified[1].alert_status == "resolved"


# --------------------------------------------------------------------------- scheduler


class _Store:
    """The late bookkeeping part of RuleStore, in memory."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def load_late(self, rule_id: str) -> dict[str, Any] | None:
        return self.docs.get(rule_id)

    def save_late(self, rule_id: str, data: Mapping[str, Any]) -> None:
        self.docs[rule_id] = dict(data)


def test_scheduler_judges_each_window_once_and_remembers_what_it_notified() -> None:
    store = _Store()
    searches: list[Mapping[str, Any]] = []
    burst = T - timedelta(minutes=30)
    arrivals = {"aggregations": {"windows": {"buckets": [_bucket(burst, 40)]}}}

    def search(request: Mapping[str, Any]) -> dict[str, Any]:
        searches.append(request)
        return arrivals

    runs: list[RunOptions] = []

    def run_window(options: RunOptions) -> dict[str, Any]:
        runs.append(options)
        keys = [] if "mail/edge-07" in options.skip_keys else ["edge-07"]
        alerts = [{"key": k, "alert_status": "firing"} for k in keys]
        return {"result": {"actions": [{"id": "mail", "status": "success", "alerts": alerts}]}}

    late_runs = LateRuns(store, search)  # type: ignore[arg-type]
    quiet: dict[str, Any] = {"result": {"actions": []}}
    # The first run only marks where arrivals start to count.
    assert late_runs.after_run("r", _watch(), quiet, T, T, run_window) == []
    assert searches == [] and store.docs["r"]["checked_until"] == "2026-12-07T10:59:30.000Z"
    # Next run: one window reached by late data, judged once with ctx.late.
    t1 = T + timedelta(minutes=1)
    (_record,) = late_runs.after_run("r", _watch(), quiet, t1, t1, run_window)
    assert runs[0].scheduled_time == burst + timedelta(minutes=5)
    assert runs[0].late is not None and runs[0].late["received"] == 40
    assert runs[0].skip_keys == frozenset()
    assert store.docs["r"]["notified"] == {"mail/edge-07": ["2026-12-07T10:35:00.000Z"]}
    # More late data reaches the same window: judged again, but edge-07 is skipped.
    t2 = t1 + timedelta(seconds=30)
    late_runs.after_run("r", _watch(), quiet, t2, t2, run_window)
    assert runs[1].skip_keys == {"mail/edge-07"}
    # Nothing new was notified within a minute of the last store: kept in memory only...
    assert store.docs["r"]["checked_until"] == "2026-12-07T11:00:30.000Z"
    # ...until a minute has passed, or a new scheduler starts from what was stored.
    t3 = t1 + timedelta(minutes=1)
    late_runs.after_run("r", _watch(), quiet, t3, t3, run_window)
    assert store.docs["r"]["checked_until"] == "2026-12-07T11:01:30.000Z"
    restarted = LateRuns(store, search)  # type: ignore[arg-type]
    judged = len(runs)
    t4 = t3 + timedelta(minutes=1)
    restarted.after_run("r", _watch(), quiet, t4, t4, run_window)
    assert len(runs) == judged + 1
    assert runs[-1].skip_keys == {"mail/edge-07"}  # what was notified survived the restart


def test_indices_and_periods_of_a_watch() -> None:
    watch = _watch()
    assert search_indices(watch) == ["logs-*"]
    chained = {"input": {"chain": {"inputs": [{"first": {"search": watch["input"]["search"]}}]}}}
    assert search_indices(chained) == ["logs-*"]
    assert search_indices({"input": {"none": {}}}) == []
    assert action_periods(watch, SPEC) == {"mail": timedelta(minutes=30)}
