"""Pure parts of deploy/local/stack.py (the processes themselves are exercised by `make test`)."""

from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

_PATH = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.py"


@pytest.fixture(scope="module")
def stack() -> ModuleType:
    """deploy/local/stack.py loaded as a module; its parts import each other as the script
    does, from deploy/local."""
    sys.path.insert(0, str(_PATH.parent))
    spec = importlib.util.spec_from_file_location("edgewatch_stack", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def parts(stack: ModuleType) -> SimpleNamespace:
    """The stack's parts, by what they hold."""
    import stack_base
    import stack_maven
    import stack_servers

    return SimpleNamespace(base=stack_base, maven=stack_maven, servers=stack_servers)


def test_versions_come_from_the_pom(parts: SimpleNamespace) -> None:
    versions = parts.maven.read_versions()
    assert versions.kafka.startswith("4.")
    assert versions.elasticsearch.startswith("8.")


def test_kafka_cluster_ids_are_16_bytes_and_never_look_like_options(parts: SimpleNamespace) -> None:
    for _ in range(500):
        cluster_id = parts.servers.kafka_cluster_id()
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
        assert not cluster_id.startswith("-")


def test_generated_server_settings_keep_everything_under_runtime_dir(
    parts: SimpleNamespace,
) -> None:
    runtime = str(parts.base.RUNTIME)
    kafka = dict(
        line.split("=", 1) for line in parts.servers.kafka_properties().splitlines() if "=" in line
    )
    assert kafka["log.dirs"].startswith(runtime)
    assert kafka["process.roles"] == "broker,controller"
    es = parts.servers.es_settings()
    assert f"path.data: {runtime}" in es and "xpack.security.enabled: false" in es


def test_a_stranger_process_is_never_taken_for_ours(parts: SimpleNamespace) -> None:
    assert not parts.base.is_ours(os.getpid())  # pytest's command line does not name .edgewatch/
    assert not parts.base.is_ours(2**22 + 1)  # no such pid


def test_without_user_namespaces_elasticsearch_runs_as_nobody(
    parts: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, base = tmp_path / "home", tmp_path / "base"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "elasticsearch").write_text("#!/bin/sh\n")
    (base / "data").mkdir(parents=True)
    owned: list[str] = []
    monkeypatch.setattr(parts.servers.os, "chown", lambda path, uid, gid: owned.append(str(path)))
    reachable = {"value": True}

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[bytes]:
        if cmd[0] == "unshare":  # a container that forbids user namespaces
            return subprocess.CompletedProcess(cmd, 1)
        return subprocess.CompletedProcess(cmd, 0 if reachable["value"] else 1)

    monkeypatch.setattr(parts.servers.subprocess, "run", run)
    prefix = parts.servers.as_unprivileged(home, base)
    assert prefix[:2] == ["setpriv", "--reuid=65534"]
    assert str(home / "bin" / "elasticsearch") in owned
    assert str(base / "data") in owned

    reachable["value"] = False
    with pytest.raises(parts.base.StackError, match="cannot reach"):
        parts.servers.as_unprivileged(home, base)
