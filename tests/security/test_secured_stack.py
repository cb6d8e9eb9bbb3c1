"""edgewatch against secured servers: Kafka over SASL_SSL (SCRAM-SHA-512) and Elasticsearch over
HTTPS with a user per service, each holding only the privileges docs/operations.md lists; and
the one clear error a wrong password, a wrong CA or a plaintext client gets.

The servers are the local stack's secured side (deploy/local/stack_secure.py). The Kafka users
are made per test with exactly the ACLs docs/operations.md lists, so a missing ACL in the docs
fails here; the Elasticsearch users hold the roles of the secured node's roles.yml, which
stack_secure.py writes from the same list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from confluent_kafka import ConsumerGroupTopicPartitions
from elasticsearch import Elasticsearch

from pipeline.clients import elasticsearch as es_client
from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest.deadletter import read_headers
from pipeline.ingest.service import IngestOptions, IngestService, SetupError
from tests.fixtures.alerting import running, with_own_indices
from tests.fixtures.ingest import consume_all, produce
from tests.fixtures.secure import KafkaUserFactory, SecureStack

pytestmark = pytest.mark.integration

EDGEWATCH = [sys.executable, "-m", "pipeline"]


def ingest_grants(topic: str, group: str) -> list[tuple[str, str, str, str]]:
    """The ingest service's Kafka ACLs, as docs/operations.md lists them."""
    return [
        ("TOPIC", "LITERAL", topic, "READ"),
        ("TOPIC", "LITERAL", topic, "DESCRIBE"),
        ("GROUP", "LITERAL", group, "READ"),
        ("TOPIC", "LITERAL", f"{topic}.dlq", "WRITE"),
        ("TOPIC", "LITERAL", f"{topic}.dlq", "DESCRIBE"),
        ("TOPIC", "LITERAL", f"{topic}.dlq", "CREATE"),
        ("TRANSACTIONAL_ID", "PREFIXED", f"{group}.", "WRITE"),
        ("TRANSACTIONAL_ID", "PREFIXED", f"{group}.", "DESCRIBE"),
    ]


def ship_grants(topic: str) -> list[tuple[str, str, str, str]]:
    """`edgewatch ship`'s Kafka ACLs, as docs/operations.md lists them."""
    return [("TOPIC", "LITERAL", topic, "WRITE"), ("TOPIC", "LITERAL", topic, "DESCRIBE")]


@pytest.fixture
def secure_prefix(secure_stack: SecureStack, unique_name: str) -> Iterator[str]:
    """Index names of this test on the secured node (inside the roles' `ew-secure-*`)."""
    prefix = "ew-secure-" + unique_name.removeprefix("ew-test-")
    yield prefix
    admin = secure_stack.admin_es()
    found = admin.indices.get(index=f"{prefix}-*", allow_no_indices=True, expand_wildcards="all")
    if found:
        admin.indices.delete(index=",".join(found))
    admin.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}*")


def _edgewatch(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EDGEWATCH_")}
    return subprocess.run(
        [*EDGEWATCH, *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _count(es: Elasticsearch, pattern: str) -> int:
    es.indices.refresh(index=pattern, allow_no_indices=True)
    return int(es.count(index=pattern, allow_no_indices=True)["count"])


def test_ship_ingest_and_dead_letters_over_sasl_ssl_with_least_privileges(
    secure_stack: SecureStack,
    kafka_user: KafkaUserFactory,
    topic: str,
    secure_prefix: str,
    config: Config,
    tmp_path: Path,
) -> None:
    group = f"{topic}-ingest"
    shipper = kafka_user("ship", ship_grants(topic))
    ingester = kafka_user("ingest", ingest_grants(topic, group))
    lines = [json.dumps({"level": "error", "message": f"disk {i} failing"}) for i in range(20)]
    lines.insert(7, "x" * 5000)  # over ingest.max_message_bytes below: a dead letter
    logfile = tmp_path / "app.log"
    logfile.write_text("\n".join(lines) + "\n")

    shipped = _edgewatch(
        secure_stack.kafka_env(shipper.name, shipper.password),
        "ship",
        "--topic",
        topic,
        "--host",
        "edge-7",
        str(logfile),
    )
    assert shipped.returncode == 0, shipped.stderr
    assert "shipped 21 lines" in shipped.stdout

    env = {
        **secure_stack.kafka_env(ingester.name, ingester.password),
        **secure_stack.es_env("edgewatch-ingest"),
        "EDGEWATCH_INGEST_INDEX_PREFIX": secure_prefix,
        "EDGEWATCH_INGEST_GROUP": group,
        "EDGEWATCH_INGEST_MAX_MESSAGE_BYTES": "2000",
    }
    cfg = secure_stack.config(env)
    service = IngestService(cfg, IngestOptions(topics=(topic,), exit_when_idle=2.0, http_port=0))
    assert service.run() == 0

    admin = secure_stack.admin_es()
    assert _count(admin, f"{secure_prefix}-*") == 20
    hit = admin.search(index=f"{secure_prefix}-*", size=1, query={"match_all": {}})
    assert hit["hits"]["hits"][0]["_source"]["host"]["name"] == "edge-7"
    # The dead letter, read back through the plaintext listener (the test's own view).
    (letter,) = consume_all(config, f"{topic}.dlq", expected=1)
    assert read_headers(letter)["edgewatch.reason"].startswith("oversized")


def test_ingest_without_the_group_acl_stops_with_the_acl_to_grant(
    secure_stack: SecureStack, kafka_user: KafkaUserFactory, topic: str, secure_prefix: str
) -> None:
    group = f"{topic}-ingest"
    grants = [g for g in ingest_grants(topic, group) if g[0] != "GROUP"]
    ingester = kafka_user("ingest", grants)
    env = {
        **secure_stack.kafka_env(ingester.name, ingester.password),
        **secure_stack.es_env("edgewatch-ingest"),
        "EDGEWATCH_INGEST_INDEX_PREFIX": secure_prefix,
        "EDGEWATCH_INGEST_GROUP": group,
    }
    service = IngestService(
        secure_stack.config(env), IngestOptions(topics=(topic,), exit_when_idle=20, http_port=0)
    )
    with pytest.raises(SetupError) as caught:
        service.run()
    assert "Group authorization failed" in str(caught.value)
    assert "docs/operations.md" in str(caught.value)


def test_ingest_without_the_transactional_id_acl_stops_with_the_acl_to_grant(
    secure_stack: SecureStack,
    kafka_user: KafkaUserFactory,
    config: Config,
    topic: str,
    secure_prefix: str,
) -> None:
    """Dead letters and offsets are committed in one transaction: without WRITE on the
    transactional ids the service stops at its first commit, naming the ACL, and commits
    nothing (the messages are there for the next run)."""
    group = f"{topic}-ingest"
    grants = [g for g in ingest_grants(topic, group) if g[0] != "TRANSACTIONAL_ID"]
    ingester = kafka_user("ingest", grants)
    produce(config, topic, [b'{"message": "one"}', b"not json {"])
    env = {
        **secure_stack.kafka_env(ingester.name, ingester.password),
        **secure_stack.es_env("edgewatch-ingest"),
        "EDGEWATCH_INGEST_INDEX_PREFIX": secure_prefix,
        "EDGEWATCH_INGEST_GROUP": group,
    }
    service = IngestService(
        secure_stack.config(env), IngestOptions(topics=(topic,), exit_when_idle=20, http_port=0)
    )
    with pytest.raises(SetupError) as caught:
        service.run()
    assert "TransactionalId" in str(caught.value), caught.value
    assert f"{group}." in str(caught.value)
    assert "docs/operations.md" in str(caught.value)
    admin = kafka_client.admin(config.kafka)
    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
    committed = offsets[group].result(30).topic_partitions or []
    assert all(tp.offset < 0 for tp in committed), committed


def test_alert_service_runs_against_the_secured_node_with_its_api_key(
    secure_stack: SecureStack, secure_prefix: str, tmp_path: Path
) -> None:
    admin = secure_stack.admin_es()
    logs = f"{secure_prefix}-logs"
    for _ in range(3):
        admin.index(index=logs, document={"level": "error", "@timestamp": datetime.now(UTC)})
    admin.indices.refresh(index=logs)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "errors.json").write_text(
        json.dumps(
            {
                "trigger": {"schedule": {"interval": "1s"}},
                "input": {
                    "search": {
                        "request": {
                            "indices": [f"{secure_prefix}-logs*"],
                            "body": {"query": {"term": {"level": "error"}}, "size": 0},
                        }
                    }
                },
                "condition": {"compare": {"ctx.payload.hits.total": {"gte": 3}}},
                "actions": {"log": {"logging": {"text": "{{ctx.payload.hits.total}} errors"}}},
            }
        )
    )
    # The alert service's API key, made by `stack.py up` with the edgewatch_alert role.
    cfg = with_own_indices(secure_stack.config(secure_stack.es_api_key_env("alert")), secure_prefix)
    with running(cfg, folder):
        deadline = time.monotonic() + 30
        history: list[dict[str, object]] = []
        while not history and time.monotonic() < deadline:
            time.sleep(0.5)
            admin.indices.refresh(index=f"{secure_prefix}-history-*", allow_no_indices=True)
            found = admin.search(index=f"{secure_prefix}-history-*", allow_no_indices=True, size=5)
            history = [h["_source"] for h in found["hits"]["hits"]]
    assert history, "no execution recorded in the secured node"
    record = history[0]
    assert record["condition_met"] is True
    assert record["actions"][0]["status"] == "success"  # type: ignore[index]
    state = admin.get(index=f"{secure_prefix}-state", id="errors")
    assert state["found"]
    # ...and it was the API key that did it, holding only the alert role.
    who = es_client.connect(cfg.es).security.authenticate()
    assert who["authentication_type"] == "api_key"
    assert who["api_key"]["name"] == "edgewatch-alert"


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA that signed nothing the stack presents."""
    path = tmp_path_factory.mktemp("ca") / "other-ca.pem"
    path.write_bytes(trustme.CA().cert_pem.bytes())
    return path


@pytest.mark.parametrize(
    ("case", "setting", "problem"),
    [
        ("wrong password", "kafka.sasl_password", "refused the SCRAM-SHA-512 login"),
        ("wrong CA", "kafka.ssl_ca_location", "not signed by a CA in"),
        ("plaintext client", "kafka.security_protocol", "closes every PLAINTEXT connection"),
    ],
)
def test_a_setting_that_cannot_work_is_one_clear_error_naming_it(
    secure_stack: SecureStack,
    topic: str,
    other_ca: Path,
    case: str,
    setting: str,
    problem: str,
) -> None:
    password = stack_password(secure_stack)
    env = secure_stack.kafka_env("edgewatch", password)
    if case == "wrong password":
        env["EDGEWATCH_KAFKA_SASL_PASSWORD"] = "not-" + password
    elif case == "wrong CA":
        env["EDGEWATCH_KAFKA_SSL_CA_LOCATION"] = str(other_ca)
    else:
        env = {"EDGEWATCH_KAFKA_BOOTSTRAP": env["EDGEWATCH_KAFKA_BOOTSTRAP"]}
    started = time.monotonic()
    result = _edgewatch(
        env, "ingest", "--topics", topic, "--exit-when-idle", "60", "--http-port", "0"
    )
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < 30, "gave up only after retrying for a long time"
    err = result.stderr
    assert err.count(problem) == 2, err  # logged once, and the exit message
    assert setting in err
    assert "EDGEWATCH_" + setting.upper().replace(".", "_") in err
    # librdkafka's own reconnect lines are cut short once the cause is known.
    assert err.count("FAIL [") <= 2, err
    # ...and the password itself is nowhere.
    assert password not in err + result.stdout


@pytest.mark.parametrize(
    ("case", "setting"),
    [("wrong password", "es.password"), ("wrong CA", "es.ca_certs"), ("http", "es.url")],
)
def test_elasticsearch_setting_that_cannot_work_names_it(
    secure_stack: SecureStack, other_ca: Path, case: str, setting: str
) -> None:
    env = secure_stack.es_env("edgewatch-ingest")
    if case == "wrong password":
        env["EDGEWATCH_ES_PASSWORD"] = "wrong"
    elif case == "wrong CA":
        env["EDGEWATCH_ES_CA_CERTS"] = str(other_ca)
    else:
        env["EDGEWATCH_ES_URL"] = env["EDGEWATCH_ES_URL"].replace("https://", "http://")
        env["EDGEWATCH_ES_CA_CERTS"] = ""
        env["EDGEWATCH_ES_ALLOW_INSECURE"] = "true"
    result = _edgewatch(env, "check", "--timeout", "5")
    assert result.returncode == 1
    es_row = next(line for line in result.stdout.splitlines() if line.startswith("elasticsearch"))
    assert "FAILED" in es_row and setting in es_row, es_row


def stack_password(secure_stack: SecureStack) -> str:
    """The local stack's own Kafka user's password (it may use every topic)."""
    return secure_stack.files.secret("kafka-edgewatch.password").read_text().strip()
