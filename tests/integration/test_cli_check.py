"""`edgewatch check` against the real stack, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys

from confluent_kafka.admin import AdminClient
from elasticsearch import Elasticsearch


def _edgewatch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_check_reports_both_servers_healthy(es: Elasticsearch, kafka_admin: AdminClient) -> None:
    result = _edgewatch("check")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("kafka") and " ok " in lines[0]
    assert lines[1].startswith("elasticsearch") and " ok " in lines[1]
    assert "8.19" in lines[1]


def test_check_names_the_unreachable_server_and_the_fix(es: Elasticsearch) -> None:
    result = _edgewatch("check", "--timeout", "2", EDGEWATCH_KAFKA_BOOTSTRAP="127.0.0.1:1")
    assert result.returncode == 1
    kafka_line, es_line = result.stdout.splitlines()
    assert "FAILED" in kafka_line and "EDGEWATCH_KAFKA_BOOTSTRAP" in kafka_line
    assert " ok " in es_line  # the other server is still reported healthy
