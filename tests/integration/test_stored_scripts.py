"""Stored scripts read from a real cluster's `_scripts` API, and a watch whose text template
names one (pipeline/alerting/stored_scripts.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipeline.alerting import adapters
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.stored_scripts import StoredScripts, cluster_lookup
from pipeline.config import Config


@pytest.fixture
def scripts_node(config: Config) -> Iterator[httpx.Client]:
    """The stack's Painless node: the same `_scripts` API as Elasticsearch, and unlike the
    minimal test Elasticsearch it stores mustache scripts."""
    with httpx.Client(base_url=config.alert.painless_url, timeout=30.0) as client:
        yield client


def test_a_template_by_id_renders_the_script_stored_in_the_cluster(
    config: Config, scripts_node: httpx.Client, unique_name: str, tmp_path: Path
) -> None:
    """x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/mustache/
    60_template_with_params.yml: `PUT _scripts/<id>` stores `{{color}} alert`, a logging
    action's text `{"id": <id>, "params": {"color": "yellow"}}` logs `yellow alert`; an id the
    cluster does not have fails the action with the id named."""
    stored = scripts_node.put(
        f"/_scripts/{unique_name}",
        json={"script": {"lang": "mustache", "source": "{{color}} alert"}},
    )
    assert stored.status_code == 200, stored.text
    try:
        scripts = StoredScripts(cluster_lookup(scripts_node), tmp_path)
        assert scripts(unique_name) == {"lang": "mustache", "source": "{{color}} alert"}
        assert scripts(f"{unique_name}-missing") is None
        services = dataclasses.replace(
            adapters.services(config), stored_script=scripts, log_text=lambda *_: None
        )
        watch = {
            "trigger": {"schedule": {"interval": "1m"}},
            "input": {"simple": {}},
            "actions": {
                "log": {"logging": {"text": {"id": unique_name, "params": {"color": "yellow"}}}},
                "lost": {"logging": {"text": {"id": f"{unique_name}-missing"}}},
            },
        }
        options = RunOptions(execution_time=datetime.now(UTC))
        record, _ = execute("w", watch, options, services, None)
        by_id = {a["id"]: a for a in record["result"]["actions"]}
        assert by_id["log"]["logging"]["logged_text"] == "yellow alert"
        assert by_id["lost"]["status"] == "failure"
        assert f"[{unique_name}-missing]" in by_id["lost"]["reason"]
    finally:
        scripts_node.delete(f"/_scripts/{unique_name}")


def test_the_configured_elasticsearch_answers_no_such_script(config: Config) -> None:
    """The service's own lookup asks the configured Elasticsearch (`GET _scripts/<id>`,
    404 `found: false` for a script it does not have)."""
    scripts = adapters.stored_scripts(config, None)
    assert scripts("edgewatch-no-such-script") is None


def test_rules_run_renders_a_script_kept_in_the_rules_folder(tmp_path: Path) -> None:
    """The stack's Elasticsearch (a minimal build) refuses to store mustache scripts, and rules
    live in git: `<rules>/_scripts/<id>.json` holds the `PUT _scripts/<id>` body, and
    `edgewatch rules run` of a rule in a subfolder (`--id team/...`) finds it in the rules
    folder (60_template_with_params.yml's stored template, rendered the same way)."""
    import json

    from click.testing import CliRunner

    from pipeline.cli import main

    scripts = tmp_path / "_scripts"
    scripts.mkdir()
    body = {"script": {"lang": "mustache", "source": "{{color}} alert on {{ctx.payload.host}}"}}
    (scripts / "color-alert.json").write_text(json.dumps(body))
    team = tmp_path / "team"
    team.mkdir()
    rule = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": {"host": "edge-4"}},
        "actions": {
            "log": {"logging": {"text": {"id": "color-alert", "params": {"color": "yellow"}}}}
        },
    }
    (team / "colors.json").write_text(json.dumps(rule))
    result = CliRunner().invoke(
        main, ["rules", "run", str(team / "colors.json"), "--id", "team/colors"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output[result.output.index("{") :])
    (action,) = record["result"]["actions"]
    assert action["logging"]["logged_text"] == "yellow alert on edge-4"
