"""The CLI's plumbing: help, version, config display and configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import __version__
from pipeline.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("check", "config", "version"):
        assert command in result.output


def test_version_names_edgewatch_and_its_clients(runner: CliRunner) -> None:
    result = runner.invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == f"edgewatch {__version__}"
    assert "librdkafka" in result.output and "elasticsearch-py     8." in result.output


def test_config_show_reflects_environment(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["config", "show"], env={"EDGEWATCH_KAFKA_BOOTSTRAP": "broker:9093"}
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["kafka"]["bootstrap"] == "broker:9093"


def test_bad_config_is_a_clear_error_not_a_traceback(runner: CliRunner) -> None:
    result = runner.invoke(main, ["config", "show"], env={"EDGEWATCH_ES_URL": "es:9200"})
    assert result.exit_code == 1
    assert "configuration error: EDGEWATCH_ES_URL (environment): must start with" in result.output
    assert "Traceback" not in result.output


def test_rules_validate_reports_file_pointer_and_problem(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "trigger": {"schedule": {"interval": "5m"}},
                "input": {"simple": {"errors": 120}},
                "condition": {"compare": {"ctx.payload.errors": {"gt": 100}}},
                "actions": {"log": {"logging": {"text": "{{ctx.payload.errors}} errors"}}},
            }
        )
    )
    ok = runner.invoke(main, ["rules", "validate", str(good)])
    assert ok.exit_code == 0
    assert ok.output == "1 rule file(s) valid\n"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"trigger": {"schedule": {"interval": "5 minutes"}}, "actions": {}}))
    failed = runner.invoke(main, ["rules", "validate", str(tmp_path)])
    assert failed.exit_code == 1
    assert f"{bad}: /trigger/schedule/interval: '5 minutes' is not" in failed.output
