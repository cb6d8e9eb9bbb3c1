"""Pure parts of deploy/local/stack.py (the processes themselves are exercised by `make test`)."""

from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.py"


@pytest.fixture(scope="module")
def stack() -> ModuleType:
    # stack.py imports its neighbour stack_secure.py, as it does when run as a script.
    sys.path.insert(0, str(_PATH.parent))
    spec = importlib.util.spec_from_file_location("edgewatch_stack", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_versions_come_from_the_pom(stack: ModuleType) -> None:
    versions = stack.read_versions()
    assert versions.kafka.startswith("4.")
    assert versions.elasticsearch.startswith("8.")


def test_kafka_cluster_ids_are_16_bytes_and_never_look_like_options(stack: ModuleType) -> None:
    for _ in range(500):
        cluster_id = stack.kafka_cluster_id()
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
        assert not cluster_id.startswith("-")


def test_generated_server_settings_keep_everything_under_runtime_dir(stack: ModuleType) -> None:
    runtime = str(stack.RUNTIME)
    kafka = dict(
        line.split("=", 1) for line in stack.kafka_properties().splitlines() if "=" in line
    )
    assert kafka["log.dirs"].startswith(runtime)
    assert kafka["process.roles"] == "broker,controller"
    es = stack.es_settings()
    assert f"path.data: {runtime}" in es and "xpack.security.enabled: false" in es


def test_a_stranger_process_is_never_taken_for_ours(stack: ModuleType) -> None:
    assert not stack.is_ours(os.getpid())  # pytest's command line does not name .edgewatch/
    assert not stack.is_ours(2**22 + 1)  # no such pid


def test_without_user_namespaces_elasticsearch_runs_as_nobody(
    stack: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, base = tmp_path / "home", tmp_path / "base"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "elasticsearch").write_text("#!/bin/sh\n")
    (base / "data").mkdir(parents=True)
    owned: list[str] = []
    monkeypatch.setattr(stack.os, "chown", lambda path, uid, gid: owned.append(str(path)))
    reachable = {"value": True}

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[bytes]:
        if cmd[0] == "unshare":  # a container that forbids user namespaces
            return subprocess.CompletedProcess(cmd, 1)
        return subprocess.CompletedProcess(cmd, 0 if reachable["value"] else 1)

    monkeypatch.setattr(stack.subprocess, "run", run)
    prefix = stack.as_unprivileged(home, base)
    assert prefix[:2] == ["setpriv", "--reuid=65534"]
    assert str(home / "bin" / "elasticsearch") in owned
    assert str(base / "data") in owned

    reachable["value"] = False
    with pytest.raises(stack.StackError, match="cannot reach"):
        stack.as_unprivileged(home, base)
