"""Pure parts of deploy/local/stack_secure.py: the secured listener's and node's settings, the
certificates, and the roles, which must be the least privileges docs/operations.md lists."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import pytest

_LOCAL = Path(__file__).resolve().parents[2] / "deploy" / "local"
sys.path.insert(0, str(_LOCAL))
import stack_secure  # noqa: E402  (deploy/local is not a package)
import stack_secure_es  # noqa: E402

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


@pytest.fixture
def files(tmp_path: Path) -> stack_secure.SecureFiles:
    return stack_secure.SecureFiles(tmp_path / "secure")


def test_certificates_are_made_once_owner_only_and_verify_against_the_ca(
    files: stack_secure.SecureFiles,
) -> None:
    stack_secure.certificates(files)
    first = files.server_cert.read_bytes()
    stack_secure.certificates(files)
    assert files.server_cert.read_bytes() == first  # kept, not remade
    for path in (files.ca, files.server_cert, files.server_key, files.kafka_keystore):
        assert path.stat().st_mode & 0o077 == 0, path
    # Kafka's PEM keystore reads PKCS#8 keys only.
    assert files.kafka_keystore.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    context = ssl.create_default_context(cafile=str(files.ca))
    context.load_cert_chain(files.server_cert, files.server_key)  # key matches the chain


def test_passwords_are_random_kept_and_owner_only(files: stack_secure.SecureFiles) -> None:
    one = stack_secure.password(files, "a.password")
    assert len(one) >= 32
    assert stack_secure.password(files, "a.password") == one
    assert stack_secure.password(files, "b.password") != one
    assert files.secret("a.password").stat().st_mode & 0o077 == 0


def test_the_secured_listener_requires_scram_over_tls_and_keeps_plaintext_working(
    files: stack_secure.SecureFiles,
) -> None:
    props = dict(line.split("=", 1) for line in stack_secure.kafka_listener_properties(files))
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["ssl.keystore.location"] == str(files.kafka_keystore)
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["super.users"] == "User:ANONYMOUS"  # the plaintext listener's principal


def test_the_secured_node_serves_https_only_with_security_on(
    files: stack_secure.SecureFiles, tmp_path: Path
) -> None:
    settings = stack_secure_es.es_secure_settings(tmp_path / "node", files)
    assert "xpack.security.enabled: true" in settings
    assert "xpack.security.http.ssl.enabled: true" in settings
    assert "network.host: 127.0.0.1" in settings
    assert f"http.port: {stack_secure.ES_SECURE_HTTP_PORT}" in settings


def test_each_service_role_holds_the_privileges_operations_md_lists() -> None:
    rows = {
        line.split("|")[1].strip(): line
        for line in OPERATIONS.read_text().splitlines()
        if line.startswith("| `edgewatch ")
    }
    for role, service in (
        ("edgewatch_ingest", "`edgewatch ingest`"),
        ("edgewatch_alert", "`edgewatch alert`"),
    ):
        row = rows[service]
        privileges = set(stack_secure_es.ROLES[role]["cluster"])
        for entry in stack_secure_es.ROLES[role]["indices"]:
            privileges |= set(entry["privileges"])
        for privilege in privileges:
            assert f"`{privilege}`" in row, (role, privilege)


def test_only_the_admin_is_a_superuser() -> None:
    assert [u for u, r in stack_secure_es.USERS.items() if r == "superuser"] == ["admin"]
    assert set(stack_secure_es.USERS.values()) - {"superuser"} == set(stack_secure_es.ROLES)


def test_the_analysis_plugin_names_exactly_the_classes_its_sources_define() -> None:
    import stack_es_plugin

    sources = {p.stem for p in stack_es_plugin.SOURCES.rglob("*.java")}
    named = {
        cls.rsplit(".", 1)[1]
        for components in stack_es_plugin.NAMED_COMPONENTS.values()
        for cls in components.values()
    }
    assert named == sources
    for components in stack_es_plugin.NAMED_COMPONENTS.values():
        for name, cls in components.items():
            java = next(stack_es_plugin.SOURCES.rglob(cls.rsplit(".", 1)[1] + ".java")).read_text()
            assert f'@NamedComponent("{name}")' in java
