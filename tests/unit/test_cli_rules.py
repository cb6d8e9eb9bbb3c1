"""`edgewatch rules run`'s execute-API options: trigger data, action modes, ignore_condition
(a watch with a simple input and a logging action needs no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.cli_rules import parse_action_modes
from pipeline.ingest.status import member_name

WATCH = {
    "trigger": {"schedule": {"interval": "1m"}},
    "input": {"simple": {"n": 5}},
    "condition": {"compare": {"ctx.payload.n": {"gt": 10}}},
    "actions": {
        "log": {"logging": {"text": "{{ctx.trigger.scheduled_time}}"}},
        "hook": {"webhook": {"url": "https://hooks.example/x"}},
    },
}


def _run(tmp_path: Path, *args: str) -> dict[str, Any]:
    rule = tmp_path / "spike.json"
    rule.write_text(json.dumps(WATCH))
    result = CliRunner().invoke(main, ["rules", "run", str(rule), *args])
    assert result.exit_code == 0, result.output
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def test_trigger_data_options(tmp_path: Path) -> None:
    """--triggered-time and --scheduled-time are the execute API's trigger_data: ISO, epoch
    millis or date math, scheduled defaulting to triggered; the record is a manual trigger
    event (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/trigger/
    schedule/ScheduleTriggerEngine.java simulateEvent, WatcherDateTimeUtils.convertToDate;
    .../trigger/manual/ManualTriggerEvent.java)."""
    record = _run(
        tmp_path,
        "--at",
        "2026-11-25T10:00:00Z",
        "--triggered-time",
        "2026-11-25T09:00:00Z||-5m",
        "--scheduled-time",
        "1700000000000",
        "--action-mode",
        "hook=skip",
    )
    assert record["trigger_event"] == {
        "type": "manual",
        "triggered_time": "2026-11-25T08:55:00.000Z",
        "manual": {"schedule": {"scheduled_time": "2023-11-14T22:13:20.000Z"}},
    }
    assert record["result"]["execution_time"] == "2026-11-25T10:00:00.000Z"
    record = _run(tmp_path, "--at", "2026-11-25T10:00:00Z", "--triggered-time", "1700000000000")
    assert record["trigger_event"]["manual"]["schedule"]["scheduled_time"] == (
        "2023-11-14T22:13:20.000Z"
    )


def test_action_modes_and_ignore_condition(tmp_path: Path) -> None:
    """--action-mode ID=MODE and --ignore-condition as the execute API's action_modes and
    ignore_condition; the record names the node that ran it (x-pack/plugin/watcher/src/main/
    java/org/elasticsearch/xpack/watcher/execution/ManualExecutionContext.java;
    x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/history/
    WatchRecord.java writes `node`)."""
    record = _run(tmp_path, "--ignore-condition", "--action-mode", "hook=skip")
    assert record["node"] == member_name(None)
    assert record["result"]["condition"] == {"type": "always", "status": "success", "met": True}
    by_id = {a["id"]: a for a in record["result"]["actions"]}
    assert by_id["hook"]["reason"] == "manually skipped"
    assert by_id["log"]["status"] == "success"
    assert record["state"] == "throttled"
    record = _run(tmp_path, "--simulate-actions", "--ignore-condition")
    assert {a["status"] for a in record["result"]["actions"]} == {"simulated"}
    record = _run(tmp_path, "--action-mode", "hook=skip")  # skipped: no outbox needed
    assert record["state"] == "execution_not_needed"


def test_parse_action_modes() -> None:
    """`_all` set later drops the per-action modes before it; unknown modes are refused
    (x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/execution/
    ManualExecutionContext.java Builder.actionMode; x-pack/plugin/core/src/main/java/org/
    elasticsearch/xpack/core/watcher/execution/ActionExecutionMode.java)."""
    assert parse_action_modes(("a=skip", "_all=simulate", "b=execute")) == {
        "_all": "simulate",
        "b": "execute",
    }
    for bad in ("a", "a=fast", "=skip"):
        with pytest.raises(click.BadParameter):
            parse_action_modes((bad,))


def test_a_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    """Options are checked before anything runs (exit code 2, the option named), as the
    execute API refuses an unknown action mode or an unparseable trigger_data date
    (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/watcher/execution/
    ActionExecutionMode.java resolve; WatcherDateTimeUtils.convertToDate)."""
    rule = tmp_path / "spike.json"
    rule.write_text(json.dumps(WATCH))
    for args in (["--action-mode", "log=fast"], ["--scheduled-time", "yesterday"]):
        result = CliRunner().invoke(main, ["rules", "run", str(rule), *args])
        assert result.exit_code == 2, result.output
        assert args[0] in result.output
