"""deploy/compose/docker-compose.yml: valid for Compose, and a complete, sane single-host setup.

The file is validated against the Compose Specification's JSON Schema, the copy that
check-jsonschema ships (a maintained PyPI package, pinned with its hash in requirements.lock),
so no docker-compose binary is needed. The assertions below read the file itself (PyYAML merges
the `<<` anchors), so they do not depend on how one Compose version prints its resolved form.
The edgewatch services' environments go through edgewatch's own configuration loader, so a
misspelt or invalid EDGEWATCH_* variable fails here rather than at start-up on a server.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline.config import Config, load_config

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "deploy" / "compose" / "docker-compose.yml"
DOCKERFILE = "deploy/docker/Dockerfile"
LONG_RUNNING = ("kafka", "elasticsearch", "kibana", "ingest-1", "ingest-2", "alert", "mailpit")


@cache
def _compose_schema() -> dict[str, Any]:
    """The Compose Specification's schema (compose-spec/compose-spec, schema/compose-spec.json)
    as check-jsonschema vendors it for its `check-compose-spec` hook."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text("utf-8"))
    assert schema["title"] == "Compose Specification"
    return schema


def _problems(document: Any) -> list[str]:
    """Every schema violation of a Compose file, as `path: message`."""
    validator_class = jsonschema.validators.validator_for(_compose_schema())
    validator = validator_class(_compose_schema())
    return [
        f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_accepts_the_file() -> None:
    assert _problems(yaml.safe_load(COMPOSE.read_text())) == []


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _default(value: str) -> str:
    """`${VAR:-default}` -> default: what Compose uses when the operator sets nothing."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_compose_rejects_what_is_wrong() -> None:
    """The check is not vacuous: a misspelt key, a wrong type and an unknown top-level key
    each fail it."""
    text = COMPOSE.read_text()
    misspelt = text.replace("restart: unless-stopped", "restrat: no", 1)
    assert any("restrat" in p for p in _problems(yaml.safe_load(misspelt)))
    wrong_type = yaml.safe_load(text)
    wrong_type["services"]["kafka"]["ports"] = "29092:29092"
    assert any(p.startswith("/services/kafka/ports") for p in _problems(wrong_type))
    assert _problems({**yaml.safe_load(text), "servces": {}})


def test_every_part_of_the_single_host_setup_is_there(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(LONG_RUNNING) | {"kafka-init"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    es = services["elasticsearch"]["image"]
    assert es.startswith("docker.elastic.co/elasticsearch/elasticsearch:8.19.")
    assert services["kibana"]["image"].rpartition(":")[2] == es.rpartition(":")[2]
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_restart_have_memory_limits_and_healthchecks(
    resolved: dict[str, Any], name: str
) -> None:
    service = resolved["services"][name]
    assert service["restart"] in ("unless-stopped", "always")
    assert service["mem_limit"][-1] in "mg" and service["mem_limit"][:-1].isdigit()
    # Ours get the HEALTHCHECK of the image they are built from (tests/unit/deploy/test_docker.py).
    built_here = service.get("build", {}).get("dockerfile") == DOCKERFILE
    assert built_here or service["healthcheck"]["test"], name
    image = service["image"]
    assert ":" in image and not image.endswith(":latest"), "pin every image"


def test_state_lives_in_named_volumes(resolved: dict[str, Any]) -> None:
    named = set(resolved["volumes"])
    for name, target in (
        ("kafka", "/var/lib/kafka/data"),
        ("elasticsearch", "/usr/share/elasticsearch/data"),
    ):
        mounts = [v.split(":") for v in resolved["services"][name]["volumes"]]
        assert any(src in named and dst == target for src, dst, *_ in mounts), name


def _edgewatch_config(service: dict[str, Any]) -> Config:
    env = {k: str(v) for k, v in service["environment"].items()}
    return load_config(environ=env)


def test_two_ingest_replicas_share_one_group_and_enough_partitions(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    ingest = [s for s in services.values() if s.get("command", [None])[0] == "ingest"]
    assert len(ingest) >= 2
    groups = {_edgewatch_config(s).ingest.group for s in ingest}
    assert len(groups) == 1
    commands = {tuple(s["command"]) for s in ingest}
    assert commands == {("ingest", "--topics", "edge.logs")}
    for s in ingest:
        cfg = _edgewatch_config(s)
        assert cfg.kafka.bootstrap == "kafka:9092"
        assert cfg.es.url == "http://elasticsearch:9200"
        assert s["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
        # SIGTERM must outlive the ingest service's own shutdown timeout.
        assert _seconds(s["stop_grace_period"]) > cfg.ingest.shutdown_timeout_s
    init = _default(" ".join(services["kafka-init"]["command"]))
    partitions = int(init.split("--topic edge.logs --partitions ")[1].split()[0])
    assert partitions >= len(ingest)
    assert "--topic edge.logs.dlq" in init


def _seconds(value: str) -> float:
    units = {"s": 1, "m": 60}
    total = 0.0
    number = ""
    for char in value:
        if char.isdigit():
            number += char
        else:
            total += int(number) * units[char]
            number = ""
    return total


def test_alert_service_reads_the_rules_folder_read_only(resolved: dict[str, Any]) -> None:
    alert = resolved["services"]["alert"]
    cfg = _edgewatch_config(alert)
    assert alert["command"][:2] == ["alert", "--rules"]
    rules_in_container = alert["command"][2]
    (mount,) = alert["volumes"]
    source, target, mode = mount.split(":")
    assert (COMPOSE.parent / source).resolve() == ROOT / "rules"
    assert (target, mode) == (rules_in_container, "ro")
    # The image's HEALTHCHECK must probe the port alert serves /healthz on.
    assert int(alert["environment"]["HEALTHCHECK_PORT"]) == cfg.alert.http_port
    assert cfg.smtp.host == "mailpit"
    assert cfg.alert.painless_url == cfg.es.url  # a full Elasticsearch runs Painless itself
    assert alert["depends_on"]["mailpit"]["condition"] == "service_healthy"


def test_ingest_healthcheck_port_is_the_image_default(resolved: dict[str, Any]) -> None:
    for name in ("ingest-1", "ingest-2"):
        service = resolved["services"][name]
        assert "HEALTHCHECK_PORT" not in service["environment"]
        assert _edgewatch_config(service).ingest.http_port == 9311


def test_status_listeners_are_reachable_from_other_containers(resolved: dict[str, Any]) -> None:
    """The listeners default to loopback; a scraper in another container needs 0.0.0.0."""
    services = resolved["services"]
    for name in ("ingest-1", "ingest-2"):
        assert _edgewatch_config(services[name]).ingest.http_host == "0.0.0.0"
    assert _edgewatch_config(services["alert"]).alert.http_host == "0.0.0.0"
