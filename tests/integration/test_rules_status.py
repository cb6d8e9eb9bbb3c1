"""`edgewatch rules run --record / ack / activate / deactivate` against the real Elasticsearch:
the watch status in the record and the history, and the status commands on rules that never ran
or do not exist."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.cli import main
from pipeline.config import Config

WATCH = {
    "trigger": {"schedule": {"interval": "1m"}},
    "input": {"simple": {"n": 5}},
    "condition": {"compare": {"ctx.payload.n": {"gt": 3}}},
    "throttle_period": "1h",
    "actions": {"log": {"logging": {"text": "{{ctx.payload.n}}"}}},
}


def _env(cfg: Config) -> dict[str, str]:
    return {
        "EDGEWATCH_ALERT_STATE_INDEX": cfg.alert.state_index,
        "EDGEWATCH_ALERT_HISTORY_PREFIX": cfg.alert.history_prefix,
    }


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "spike.json").write_text(json.dumps(WATCH))
    return folder


def _state(es: Elasticsearch, cfg: Config, rule: str) -> dict[str, Any] | None:
    found = es.options(ignore_status=404).get(index=cfg.alert.state_index, id=rule)
    return dict(found["_source"]) if found.get("found") else None


def test_recorded_runs_carry_the_status_into_the_history(
    alert_config: Config, es: Elasticsearch, tmp_path: Path
) -> None:
    """`rules run --record` leaves Watcher's status in the record and in the history document:
    the version of the state document it was read from (-1 before there is one),
    execution_state, and the manual trigger event's scheduled time in the history's trigger
    (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/watch/
    WatchStatus.java; .../core/watcher/history/WatchRecord.java; yml/watcher/execute_watch/
    30_throttled.yml records with record_execution and sees `throttled` next)."""
    rule = _folder(tmp_path) / "spike.json"
    runner = CliRunner()
    records = []
    for _ in range(2):
        args = ["rules", "run", str(rule), "--record", "--scheduled-time", "2026-11-25T10:00:00Z"]
        result = runner.invoke(main, args, env=_env(alert_config))
        assert result.exit_code == 0, result.output
        records.append(json.loads(result.stdout))
    first, second = records
    assert (first["state"], second["state"]) == ("executed", "throttled")
    assert first["status"]["version"] == -1
    assert second["status"]["version"] == 1  # the state document the first run created
    assert second["status"]["execution_state"] == "throttled"
    assert second["status"]["actions"]["log"]["ack"]["state"] == "ackable"
    assert "last_throttle" in second["status"]["actions"]["log"]

    stored = _state(es, alert_config, "spike")
    assert stored is not None
    assert stored["status"]["execution_state"] == "throttled"
    assert "version" not in stored["status"]  # the document's own, not stored in it

    es.indices.refresh(index=f"{alert_config.alert.history_prefix}-*")
    hits = es.search(
        index=f"{alert_config.alert.history_prefix}-*",
        query={"term": {"rule_id": "spike"}},
        sort=[{"state": "asc"}],
    )["hits"]["hits"]
    docs = [hit["_source"] for hit in hits]
    assert [d["state"] for d in docs] == ["executed", "throttled"]
    assert docs[1]["record"]["status"] == second["status"]
    assert docs[1]["record"]["node"] == second["node"]
    assert {d["trigger"]["scheduled_time"] for d in docs} == {"2026-11-25T10:00:00.000Z"}
    assert {d["trigger"]["type"] for d in docs} == {"manual"}


def test_ack_of_a_rule_that_never_ran_writes_nothing(
    alert_config: Config, es: Elasticsearch, tmp_path: Path
) -> None:
    """Acking a watch that never ran answers its status, every action still
    awaits_successful_execution, and changes nothing
    (yml/watcher/ack_watch/10_basic.yml; x-pack/plugin/watcher/src/main/java/org/elasticsearch/
    xpack/watcher/transport/actions/ack/TransportAckWatchAction.java)."""
    folder = _folder(tmp_path)
    runner = CliRunner()
    env = _env(alert_config)
    acked = runner.invoke(main, ["rules", "ack", "spike", "--rules", str(folder)], env=env)
    assert acked.exit_code == 0, acked.output
    assert acked.stdout.strip() == "spike log: awaits_successful_execution"
    blind = runner.invoke(main, ["rules", "ack", "spike"], env=env)
    assert blind.exit_code == 0, blind.output
    assert "never ran" in blind.stdout
    assert _state(es, alert_config, "spike") is None
    missing = runner.invoke(main, ["rules", "ack", "nope", "--rules", str(folder)], env=env)
    assert missing.exit_code == 1
    assert "rule 'nope' does not exist" in missing.output


def test_activate_and_deactivate(alert_config: Config, es: Elasticsearch, tmp_path: Path) -> None:
    """Activate/deactivate of an unknown id fails (404 in Watcher) and creates nothing; of a
    known rule it writes `state {active, timestamp}`, the timestamp each time
    (yml/watcher/activate_watch/10_basic.yml; x-pack/plugin/watcher/src/main/java/org/
    elasticsearch/xpack/watcher/transport/actions/activate/TransportActivateWatchAction.java)."""
    folder = _folder(tmp_path)
    runner = CliRunner()
    env = _env(alert_config)
    for command in ("activate", "deactivate"):
        for extra in ([], ["--rules", str(folder)]):
            result = runner.invoke(main, ["rules", command, "nope", *extra], env=env)
            assert result.exit_code == 1, result.output
            assert "rule 'nope' does not exist" in result.output
    assert _state(es, alert_config, "nope") is None

    off = runner.invoke(main, ["rules", "deactivate", "spike", "--rules", str(folder)], env=env)
    assert off.exit_code == 0, off.output
    stored = _state(es, alert_config, "spike")
    assert stored is not None
    assert stored["status"]["state"]["active"] is False
    assert list(stored["status"]["actions"]) == ["log"]
    first_stamp = stored["status"]["state"]["timestamp"]
    time.sleep(0.01)  # a later millisecond
    # Once stored, the rule is known without the folder.
    again = runner.invoke(main, ["rules", "deactivate", "spike"], env=env)
    assert again.exit_code == 0, again.output
    stored = _state(es, alert_config, "spike")
    assert stored is not None
    assert stored["status"]["state"]["active"] is False
    assert stored["status"]["state"]["timestamp"] > first_stamp
    on = runner.invoke(main, ["rules", "activate", "spike"], env=env)
    assert on.exit_code == 0, on.output
    stored = _state(es, alert_config, "spike")
    assert stored is not None and stored["status"]["state"]["active"] is True


def test_a_run_without_record_starts_from_the_stored_status_and_stores_nothing(
    alert_config: Config, es: Elasticsearch, tmp_path: Path
) -> None:
    """Without `--record` (Watcher's `record_execution: false`), `rules run` reads the rule's
    stored status, so a recent successful run throttles it, and writes neither state nor history
    (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/transport/actions/
    TransportExecuteWatchAction.java reads the stored watch with its status; yml/watcher/
    execute_watch/30_throttled.yml sees `throttled` only after a recorded run)."""
    rule = _folder(tmp_path) / "spike.json"
    runner = CliRunner()
    env = _env(alert_config)
    fresh = runner.invoke(main, ["rules", "run", str(rule)], env=env)
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.stdout)["state"] == "executed"
    assert _state(es, alert_config, "spike") is None  # nothing stored

    recorded = runner.invoke(main, ["rules", "run", str(rule), "--record"], env=env)
    assert recorded.exit_code == 0, recorded.output
    before = _state(es, alert_config, "spike")
    again = runner.invoke(main, ["rules", "run", str(rule)], env=env)
    assert again.exit_code == 0, again.output
    record = json.loads(again.stdout)
    assert record["state"] == "throttled"
    assert record["result"]["actions"][0]["reason"].startswith("throttling interval is set to [1h]")
    assert _state(es, alert_config, "spike") == before  # the stored state is untouched
