"""`edgewatch alert` against the real stack: scheduling, state across restarts, acks, history,
invalid files skipped."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.alerting.service import AlertService
from pipeline.cli import main
from pipeline.config import Config
from tests.fixtures.alerting import running
from tests.fixtures.http_receiver import HttpReceiver


def _write_rules(folder: Path, index: str) -> None:
    folder.mkdir(parents=True)
    (folder / "spike.json").write_text(
        json.dumps(
            {
                "trigger": {"schedule": {"interval": "1s"}},
                "input": {
                    "search": {
                        "request": {
                            "indices": [index],
                            "body": {"query": {"term": {"level": "error"}}, "size": 0},
                        }
                    }
                },
                "condition": {"compare": {"ctx.payload.hits.total": {"gte": 3}}},
                "throttle_period": "1h",
                "actions": {"log": {"logging": {"text": "{{ctx.payload.hits.total}} errors"}}},
            }
        )
    )
    (folder / "broken.json").write_text('{"trigger": {"schedule": {"interval": "soon"}}}')


def _run_for(cfg: Config, folder: Path, seconds: float) -> AlertService:
    with running(cfg, folder) as service:
        time.sleep(seconds)
    return service


def test_rules_run_on_schedule_with_state_history_and_acks(
    alert_config: Config,
    es: Elasticsearch,
    unique_name: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    index = f"{unique_name}-logs"
    for _ in range(4):
        es.index(index=index, document={"level": "error", "@timestamp": datetime.now(UTC)})
    es.indices.refresh(index=index)
    folder = tmp_path / "rules"
    _write_rules(folder, index)

    with caplog.at_level("INFO"):
        first = _run_for(alert_config, folder, 3.5)
    assert "broken.json: /trigger/schedule/interval" in caplog.text  # reported, skipped
    assert first.metrics.invalid._value.get() == 1
    assert list(first.rules) == ["spike"]
    assert caplog.text.count("4 errors") == 1  # fired once, then throttled

    store = first.store
    history = store.history("spike")
    assert len(history) >= 3
    statuses = [h["actions"][0]["status"] for h in reversed(history)]
    assert statuses[0] == "success"
    assert set(statuses[1:]) == {"throttled"}

    # A restart neither forgets the throttle nor fires again.
    caplog.clear()
    with caplog.at_level("INFO"):
        _run_for(alert_config, folder, 2.5)
    assert "4 errors" not in caplog.text
    assert store.history("spike")[0]["actions"][0]["status"] == "throttled"

    runner = CliRunner()
    env = {
        "EDGEWATCH_ALERT_STATE_INDEX": alert_config.alert.state_index,
        "EDGEWATCH_ALERT_HISTORY_PREFIX": alert_config.alert.history_prefix,
    }
    acked = runner.invoke(main, ["rules", "ack", "spike"], env=env)
    assert acked.exit_code == 0, acked.output
    assert acked.output.strip() == "spike log: acked"
    shown = runner.invoke(main, ["rules", "history", "spike", "--last", "3"], env=env)
    assert shown.exit_code == 0
    assert "log=throttled" in shown.output
    missing = runner.invoke(main, ["rules", "ack", "spike", "nope"], env=env)
    assert missing.exit_code == 1
    assert "has no action nope" in missing.output


def test_rules_run_with_http_input_and_record(
    alert_config: Config, tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    rule = tmp_path / "edge-api.json"
    rule.write_text(
        json.dumps(
            {
                "trigger": {"schedule": {"interval": "1m"}},
                "input": {
                    "http": {
                        "request": {
                            "url": f"{http_receiver.url}/status",
                            "params": {"site": "{{ctx.metadata.site}}"},
                        }
                    }
                },
                "condition": {"compare": {"ctx.payload.queue": {"gt": 10}}},
                "metadata": {"site": "plant-7"},
                "actions": {"log": {"logging": {"text": "queue {{ctx.payload.queue}}"}}},
            }
        )
    )
    env = {
        "EDGEWATCH_ALERT_STATE_INDEX": alert_config.alert.state_index,
        "EDGEWATCH_ALERT_HISTORY_PREFIX": alert_config.alert.history_prefix,
        # The receiver is on loopback, which only an explicit pattern allows.
        "EDGEWATCH_HTTP_ALLOWED_HOSTS": "127.0.0.1",
    }
    runner = CliRunner()
    for expected in ("success", "throttled"):  # the second run is within the 5 s default
        http_receiver.respond_next(200, body=b'{"queue": 42}')
        result = runner.invoke(main, ["rules", "run", str(rule), "--record"], env=env)
        assert result.exit_code == 0, result.output
        record = json.loads(result.output)
        assert record["result"]["input"]["payload"]["queue"] == 42
        assert record["result"]["input"]["payload"]["_status_code"] == 200
        assert record["result"]["actions"][0]["status"] == expected
    assert http_receiver.requests[0].query == {"site": ["plant-7"]}
    shown = runner.invoke(main, ["rules", "history", "edge-api"], env=env)
    assert shown.output.count("log=") == 2
