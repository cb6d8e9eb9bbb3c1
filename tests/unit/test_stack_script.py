"""Pure parts of deploy/local/stack.py (the processes themselves are exercised by `make test`)."""

from __future__ import annotations

import base64
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.py"


@pytest.fixture(scope="module")
def stack() -> ModuleType:
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
