"""Rules checked before they run, through the stack's Painless executor: `edgewatch rules
validate` and the alert service's loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline.alerting.service import AlertService
from pipeline.cli import main
from pipeline.config import Config


def rule(condition: str, transform: str) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "1h"}},
        "input": {"simple": {"count": 1}},
        "condition": {"script": condition},
        "transform": {"script": transform},
        "actions": {"log": {"logging": {"text": "{{ctx.payload.count}}"}}},
    }


GOOD = rule("Json.load(Json.dump(ctx.payload)).count == 1", "return ctx.payload")
BAD = rule("return ctx.payload.count ==", "return ctx.payload")
BROKEN_MESSAGE = "/condition/script: does not compile: "


def write(folder: Path, name: str, watch: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(watch))
    return path


def test_validate_compiles_scripts_through_the_executor(config: Config, tmp_path: Path) -> None:
    """A watch whose script does not compile is refused when it is put, with the script stack
    (x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/painless/
    40_exception.yml): `rules validate` says so at the script's pointer; a Json.load/dump
    script (painless/70_json_in_watch.yml) compiles."""
    good = write(tmp_path, "good.json", GOOD)
    bad = write(tmp_path, "bad.json", BAD)
    runner = CliRunner()
    env = {"EDGEWATCH_ALERT_PAINLESS_URL": config.alert.painless_url}
    ok = runner.invoke(main, ["rules", "validate", str(good)], env=env)
    assert (ok.exit_code, ok.output) == (0, "1 rule file(s) valid\n")
    failed = runner.invoke(main, ["rules", "validate", str(tmp_path)], env=env)
    assert failed.exit_code == 1
    lines = failed.output.splitlines()
    assert lines[0].startswith(f"{bad}: {BROKEN_MESSAGE}"), lines
    assert "(line 1, column" in lines[0]
    assert "1 problem(s) in 1 of 2 rule file(s)" in failed.output


def test_validate_without_an_executor_notes_unchecked_scripts(tmp_path: Path) -> None:
    """Without a Painless executor the scripts cannot be compiled: a note, not a failure, and
    the rest of the watch is still checked as Watcher checks it at PUT
    (put_watch/11_timezoned_schedules.yml: an unknown time zone is refused)."""
    write(tmp_path, "bad.json", BAD)
    runner = CliRunner()
    env = {"EDGEWATCH_ALERT_PAINLESS_URL": "http://127.0.0.1:9"}
    result = runner.invoke(main, ["rules", "validate", str(tmp_path)], env=env)
    assert result.exit_code == 0
    assert "1 rule file(s) valid" in result.output
    assert "note: scripts were not compiled: no Painless executor answers at" in result.output
    zoned = rule("return true", "return ctx.payload")
    zoned["trigger"]["schedule"] = {"timezone": "Pangea/Tethys", "daily": {"at": "noon"}}
    write(tmp_path, "zoned.json", zoned)
    result = runner.invoke(main, ["rules", "validate", str(tmp_path)], env=env)
    assert result.exit_code == 1
    assert "zoned.json: /trigger/schedule/timezone: unknown timezone 'Pangea/Tethys'" in (
        result.output
    )


def test_the_alert_service_refuses_a_rule_that_does_not_compile(
    config: Config, tmp_path: Path
) -> None:
    """Watcher compiles scripts at PUT, so a bad script never runs (painless/40_exception.yml):
    the alert service's loader refuses the rule and schedules the others."""
    write(tmp_path, "good.json", GOOD)
    bad = write(tmp_path, "bad.json", BAD)
    service = AlertService(config, tmp_path, http_port=0)
    service.reload()
    assert list(service.rules) == ["good"]
    assert len(service.problems) == 1
    assert service.problems[0].startswith(f"{bad}: {BROKEN_MESSAGE}")
    compiled = service.scripts.compiled
    service.reload()  # nothing changed: nothing compiled again
    assert service.scripts.compiled == compiled
