"""Bad input the alert service must survive: broken rule files, a rules folder that vanishes,
notifications that can never be delivered, and notifications past their limits.

Everything runs for real: `AlertService` against the local Elasticsearch (as
tests/integration/test_alert_service.py runs it), the courier against the real outbox index
and a real HTTP receiver. Each test shows the bad input, that nothing crashes, and that the
good rule or notification next to it still gets through.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.alerting.delivery.courier import Courier
from pipeline.alerting.delivery.notifications import WEBHOOK, Notification
from pipeline.alerting.delivery.outbox import GaveUp, Outbox
from pipeline.cli import main
from pipeline.config import Config
from tests.fixtures.alerting import running
from tests.fixtures.http_receiver import HttpReceiver

pytestmark = pytest.mark.integration


def _good_rule(index: str) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "1s"}},
        "input": {
            "search": {
                "request": {"indices": [index], "body": {"query": {"match_all": {}}, "size": 0}}
            }
        },
        "condition": {"compare": {"ctx.payload.hits.total": {"gte": 1}}},
        "actions": {"log": {"logging": {"text": "{{ctx.payload.hits.total}} lines seen"}}},
    }


def _seed(es: Elasticsearch, index: str) -> None:
    es.index(index=index, document={"@timestamp": datetime.now(UTC).isoformat()}, refresh=True)


def _rules_folder_with_a_good_rule(es: Elasticsearch, unique_name: str, tmp_path: Path) -> Path:
    """A rules folder whose `good.json` fires on every run: its index has a document."""
    index = f"{unique_name}-logs"
    _seed(es, index)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(_good_rule(index)))
    return folder


def _nested(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"trigger": {"schedule": {"interval": "1s"}}, "input": {"simple": {}}}
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    rule["metadata"] = value
    return rule


def _bad_files(folder: Path) -> dict[str, str]:
    """Write every kind of broken rule file; {file name: what its problem must say}."""
    (folder / "deep.json").write_text("[" * 100_000)  # json raises RecursionError on this
    (folder / "nested.json").write_text(json.dumps(_nested(150)))  # parses; too deep to run
    (folder / "huge.json").write_text('{"metadata": "' + "x" * 1_100_000 + '"}')
    (folder / "latin1.json").write_bytes('{"metadata": "caf\xe9"}'.encode("latin-1"))
    (folder / "invalid.json").write_text('{"trigger": ')
    (folder / "folder.json").mkdir()
    os.symlink("loop.json", folder / "loop.json")  # a link to itself
    os.mkfifo(folder / "fifo.json")  # opening it for reading would wait for a writer
    return {
        "deep.json": "nested too deeply to read",
        "nested.json": "nested more than 100 levels deep",
        "huge.json": "larger than 1,048,576 bytes ([alert] max_rule_file_bytes)",
        "latin1.json": "not UTF-8 text",
        "invalid.json": "not valid JSON at line 1",
        "folder.json": "is a folder, not a rule file",
        "loop.json": "a symlink loop",
        "fifo.json": "not a regular file",
    }


def _history_count(es: Elasticsearch, cfg: Config, rule: str) -> int:
    pattern = f"{cfg.alert.history_prefix}-*"
    es.indices.refresh(index=pattern, allow_no_indices=True)
    found = es.count(index=pattern, query={"term": {"rule_id": rule}}, allow_no_indices=True)
    return int(found["count"])


def test_broken_rule_files_are_skipped_and_the_good_rule_keeps_firing(
    alert_config: Config, es: Elasticsearch, unique_name: str, tmp_path: Path
) -> None:
    folder = _rules_folder_with_a_good_rule(es, unique_name, tmp_path)
    expected = _bad_files(folder)

    with running(alert_config, folder) as service:
        time.sleep(3.5)
        assert list(service.rules) == ["good"]
        assert service.metrics.invalid._value.get() == len(expected)
        first = _history_count(es, alert_config, "good")
        time.sleep(2.5)  # ... and on later reloads too: it keeps firing
        assert _history_count(es, alert_config, "good") > first >= 1
        assert service.ready_problem() is None
        problems = list(service.problems)

    for name, message in expected.items():
        lines = [line for line in problems if line.startswith(str(folder / name) + ":")]
        assert lines and message in lines[0], (name, problems)
    # The depth problem points into the file, at the first value too deep.
    assert any(line.startswith(f"{folder / 'nested.json'}: /metadata/a/a/") for line in problems)

    # `edgewatch rules validate` reports exactly what the service skipped.
    result = CliRunner().invoke(main, ["rules", "validate", str(folder)])
    assert result.exit_code == 1
    assert sorted(result.stdout.splitlines()) == sorted(problems)


def test_a_rule_file_edgewatch_may_not_read_is_skipped(
    alert_config: Config, es: Elasticsearch, unique_name: str, tmp_path: Path
) -> None:
    folder = _rules_folder_with_a_good_rule(es, unique_name, tmp_path)
    # The suite may run as root, which reads any file whatever its mode; a link to a file
    # the kernel refuses to read (EIO) makes the same failure for anyone.
    os.symlink("/proc/self/mem", folder / "mem.json")
    with running(alert_config, folder) as service:
        time.sleep(2.5)
        assert list(service.rules) == ["good"]
        assert any(line.startswith(str(folder / "mem.json")) for line in service.problems)
        assert _history_count(es, alert_config, "good") >= 1


def test_reload_keeps_the_last_good_rules_when_the_folder_vanishes(
    alert_config: Config,
    es: Elasticsearch,
    unique_name: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = _rules_folder_with_a_good_rule(es, unique_name, tmp_path)

    with caplog.at_level("INFO"), running(alert_config, folder) as service:
        time.sleep(2.0)
        assert list(service.rules) == ["good"]
        shutil.move(folder, tmp_path / "elsewhere")  # a git-sync swap gone wrong, a bad mount
        time.sleep(1.5)  # three reloads at 0.5 s
        assert list(service.rules) == ["good"]
        assert service.scheduler.get_job("good") is not None
        assert service.metrics.folder_errors._value.get() >= 2
        assert service.ready_problem() is None  # the last good rules still run
        before = _history_count(es, alert_config, "good")
        time.sleep(2.0)
        assert _history_count(es, alert_config, "good") > before  # still firing

        shutil.move(tmp_path / "elsewhere", folder)
        time.sleep(1.5)
        assert service.folder_error is None

    errors = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(errors) == 1  # reported once, not on every reload
    assert "keeping the 1 rule(s) loaded before" in errors[0]
    assert f"rules folder {folder} readable again" in caplog.text


def test_a_folder_unreadable_from_the_start_is_not_ready_and_does_not_crash(
    alert_config: Config, tmp_path: Path
) -> None:
    with running(alert_config, tmp_path / "missing") as service:
        time.sleep(1.0)
        assert service.rules == {}
        assert service.ready_problem() == (
            "rules folder cannot be read and no rules were loaded before"
        )


# --------------------------------------------------------------------------- notifications


@pytest.fixture
def courier_config(alert_config: Config) -> Config:
    """The test's own outbox; the HTTP receiver on 127.0.0.1 allowed; quick retries."""
    return replace(
        alert_config,
        alert=replace(alert_config.alert, delivery_retry_max_s=1.0),
        http=replace(alert_config.http, allowed_hosts=("127.0.0.1",)),
    )


def _hook(rule: str, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Notification:
    created = kw.pop("created", datetime.now(UTC))
    content = {"method": "POST", "url": url, "headers": headers or {}, "body": "{}"}
    firing = f"{rule}-{time.monotonic_ns()}"
    return Notification(firing[-40:], rule, "hook", WEBHOOK, created, content, firing=firing)


def _wait_state(outbox: Outbox, notification_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        doc = outbox.get(notification_id)
        if doc is not None and doc["state"] == state:
            return doc
        time.sleep(0.1)
    pytest.fail(f"{notification_id} never reached {state}: {outbox.get(notification_id)}")


def test_undeliverable_notifications_fail_once_and_the_good_one_is_sent(
    courier_config: Config, es: Elasticsearch, http_receiver: HttpReceiver
) -> None:
    # What log data renders into a webhook: a port field of 99999, a header holding CR/LF.
    log_line = {"port": "99999", "trace": "abc\r\nX-Injected: yes"}
    bad_port = _hook("bad-port", f"http://127.0.0.1:{log_line['port']}/hook")
    crlf = _hook("crlf", f"{http_receiver.url}/hook", {"X-Trace": log_line["trace"]})
    no_host = _hook("no-host", "http:///hook")
    good = _hook("good", f"{http_receiver.url}/hook")
    outbox = Outbox(es, courier_config.alert.outbox_index)
    courier = Courier(courier_config, outbox).start()
    try:
        for n in (bad_port, crlf, no_host, good):
            assert courier.submit(n)
        states = courier.wait([n.id for n in (bad_port, crlf, no_host, good)], timeout=20)
    finally:
        courier.stop()
    assert states == {
        bad_port.id: "failed",
        crlf.id: "failed",
        no_host.id: "failed",
        good.id: "sent",
    }
    for n, reason in (
        (bad_port, "Port out of range"),
        (crlf, "the value of header X-Trace holds a control character"),
        (no_host, "the URL has no host"),
    ):
        doc = outbox.get(n.id)
        assert doc is not None and doc["state"] == "failed" and doc["attempts"] == 1
        assert "permanent error" in doc["last_error"] and reason in doc["last_error"]
    received = http_receiver.wait_for(1)
    assert len(received) == 1  # only the good one reached the receiver
    assert "X-Injected" not in received[0].headers


def test_a_notification_past_its_attempt_cap_or_deadline_is_never_claimed_again(
    courier_config: Config, es: Elasticsearch, http_receiver: HttpReceiver
) -> None:
    outbox = Outbox(es, courier_config.alert.outbox_index)
    outbox.install()
    capped = _hook("capped", f"{http_receiver.url}/hook")
    late = _hook(
        "late", f"{http_receiver.url}/hook", created=datetime.now(UTC) - timedelta(hours=2)
    )
    assert outbox.enqueue(capped, 3600.0)
    assert outbox.enqueue(late, 3600.0)
    # As a crashed or looping sender would leave it: 100 attempts, the last error kept.
    stored = outbox.get(capped.id)
    assert stored is not None
    stored.update(attempts=100, last_error="HTTP 503: down")
    es.index(index=outbox.index, id=capped.id, document=stored, refresh=True)

    now = datetime.now(UTC)
    gave_up = outbox.claim(capped.id, now, max_attempts=100)
    assert isinstance(gave_up, GaveUp)
    assert gave_up.reason == (
        "gave up after 100 attempt(s) (attempt cap of 100 reached,"
        " [alert] delivery_max_attempts): HTTP 503: down"
    )
    late_gave_up = outbox.claim(late.id, now, max_attempts=100)
    assert isinstance(late_gave_up, GaveUp) and "deadline passed" in late_gave_up.reason
    for n in (capped, late):
        assert outbox.claim(n.id, now) is None  # never again
        doc = outbox.get(n.id)
        assert doc is not None and doc["state"] == "failed"

    # A courier scanning the outbox finds nothing to send: the receiver hears nothing.
    courier = Courier(courier_config, outbox, scan_interval_s=0.2).start()
    try:
        time.sleep(1.5)
    finally:
        courier.stop()
    assert http_receiver.requests == []
    assert outbox.pending_count() == 0


def test_an_expired_lease_counts_as_an_attempt_so_a_crashing_send_stops(
    courier_config: Config, es: Elasticsearch, http_receiver: HttpReceiver
) -> None:
    outbox = Outbox(es, courier_config.alert.outbox_index, lease_s=0.01)
    outbox.install()
    n = _hook("crashes", f"{http_receiver.url}/hook")
    assert outbox.enqueue(n, 3600.0)
    now = datetime.now(UTC)
    for attempt in range(3):  # claimed, then the process "dies" before recording anything
        claimed = outbox.claim(n.id, now + timedelta(seconds=attempt), max_attempts=3)
        assert claimed is not None and not isinstance(claimed, GaveUp)
    gave_up = outbox.claim(n.id, now + timedelta(seconds=5), max_attempts=3)
    assert isinstance(gave_up, GaveUp) and "attempt cap of 3" in gave_up.reason
    assert _wait_state(outbox, n.id, "failed")["attempts"] == 3
