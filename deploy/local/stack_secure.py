"""The local stack's secured side: a CA, TLS certificates, passwords, the Kafka SASL_SSL
listener and its users, and the client config that uses them.

Production Kafka and Elasticsearch speak TLS and want credentials; edgewatch is tested against
the same here. At every `stack.py up` this module (and stack_secure_es.py, for the secured
Elasticsearch node) makes sure that `.edgewatch/stack/secure/` holds (made once, kept):

- `ca.pem`, a throwaway CA (made with trustme), and a server certificate it signed for
  `localhost` / `127.0.0.1`, which both the Kafka SASL_SSL listener and the secured
  Elasticsearch node present;
- `kafka-edgewatch.password`: the password of the SCRAM-SHA-512 user `edgewatch` on the broker's
  SASL_SSL listener, 127.0.0.1:9094;
- `es-admin.password`: the secured node's superuser `admin`, for tests only;
- `es-edgewatch-ingest.password`, `es-edgewatch-alert.password`: one file-realm user per
  service, each holding one role with exactly the privileges docs/operations.md lists;
- `es-ingest.api_key`, `es-alert.api_key`: one API key per service, holding the same role;
- `edgewatch-secure.toml`: an edgewatch config that uses all of the above
  (`edgewatch --config .edgewatch/stack/secure/edgewatch-secure.toml check`).

Every file is readable by its owner only. None of it is a secret worth keeping: the stack
binds to loopback and the CA signs nothing else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KAFKA_SECURE_PORT = 9094
ES_SECURE_HTTP_PORT = 9202
ES_SECURE_TRANSPORT_PORT = 9302
KAFKA_SECURE_BOOTSTRAP = f"127.0.0.1:{KAFKA_SECURE_PORT}"
ES_SECURE_URL = f"https://127.0.0.1:{ES_SECURE_HTTP_PORT}"
KAFKA_USER = "edgewatch"
SCRAM_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class SecureFiles:
    """Where the secured side's files live."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def kafka_keystore(self) -> Path:
        """Key and chain in one PEM file, the form Kafka's `ssl.keystore.type=PEM` reads."""
        return self.folder / "kafka-keystore.pem"

    @property
    def config(self) -> Path:
        return self.folder / "edgewatch-secure.toml"

    def secret(self, name: str) -> Path:
        return self.folder / name


def write_private(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def password(files: SecureFiles, name: str) -> str:
    """The password stored under `name`, made (random, 32 characters) the first time."""
    path = files.secret(name)
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def certificates(files: SecureFiles) -> None:
    """Make the CA and the server certificate once; later starts keep them."""
    if all(p.exists() for p in (files.ca, files.server_cert, files.server_key)):
        return
    import trustme
    from cryptography.hazmat.primitives import serialization

    ca = trustme.CA(organization_name="edgewatch local stack")
    leaf = ca.issue_cert("localhost", "127.0.0.1", "::1")
    # Kafka's PEM keystore wants PKCS#8; trustme writes the traditional form.
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    write_private(files.ca, ca.cert_pem.bytes())
    write_private(files.server_key, pkcs8)
    write_private(files.server_cert, chain)
    write_private(files.kafka_keystore, pkcs8 + chain)


# --------------------------------------------------------------------------- Kafka


def kafka_listener_properties(files: SecureFiles) -> list[str]:
    """server.properties lines for the SASL_SSL listener (the caller adds it to `listeners`)."""
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return [
        f"sasl.enabled.mechanisms={SCRAM_MECHANISM}",
        f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config={jaas}",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={files.kafka_keystore}",
        # The PLAINTEXT listeners' principal is ANONYMOUS: it stays all-powerful, so the
        # plaintext side works as before; users of the SASL_SSL listener get what ACLs give.
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users=User:ANONYMOUS",
    ]


def quiet_admin(bootstrap: str) -> Any:
    """An admin client for the stack's own work (probes, users, ACLs) on the all-powerful
    plaintext listener, its log kept quiet: refused connections while the broker starts, and
    the events it drops at close, are no news here."""
    import logging

    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger("edgewatch.stack.kafka-admin")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return AdminClient({"bootstrap.servers": bootstrap, "logger": quiet})  # type: ignore[dict-item]


def scram_user(bootstrap: str, user: str, secret: str) -> None:
    """Create or reset a SCRAM-SHA-512 user, through the all-powerful plaintext listener."""
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    admin = quiet_admin(bootstrap)
    upsert = UserScramCredentialUpsertion(
        user, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), secret.encode()
    )
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(timeout=30)


def allow(bootstrap: str, user: str, grants: list[tuple[str, str, str, str]]) -> None:
    """Add ACLs for `user`: each grant is (resource type, pattern type, name, operation),
    e.g. ("TOPIC", "LITERAL", "logs", "READ"), named as Kafka's own tools name them."""
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    admin = quiet_admin(bootstrap)
    bindings = [
        AclBinding(
            ResourceType[kind],
            name,
            ResourcePatternType[pattern],
            f"User:{user}",
            "*",
            AclOperation[operation],
            AclPermissionType.ALLOW,
        )
        for kind, pattern, name, operation in grants
    ]
    for future in admin.create_acls(bindings).values():
        future.result(timeout=30)


def remove_user(bootstrap: str, user: str) -> None:
    """Delete a SCRAM user and every ACL naming it (tests clean up after themselves)."""
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
        ScramMechanism,
        UserScramCredentialDeletion,
    )

    admin = quiet_admin(bootstrap)
    match = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # None matches any name, as librdkafka documents
        ResourcePatternType.ANY,
        f"User:{user}",
        None,  # type: ignore[arg-type]  # ...and any host
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    for future in admin.delete_acls([match]).values():
        future.result(timeout=30)
    deletion = UserScramCredentialDeletion(user, ScramMechanism.SCRAM_SHA_512)
    for future in admin.alter_user_scram_credentials([deletion]).values():
        future.result(timeout=30)


def provision_kafka(files: SecureFiles, bootstrap: str) -> None:
    """Create (or reset) the SCRAM user `edgewatch` and let it use every topic and group.

    The local stack's user is a convenience; the tests make users of their own with only
    the privileges docs/operations.md lists.
    """
    scram_user(bootstrap, KAFKA_USER, password(files, "kafka-edgewatch.password"))
    allow(
        bootstrap,
        KAFKA_USER,
        [
            ("TOPIC", "LITERAL", "*", "ALL"),
            ("GROUP", "LITERAL", "*", "ALL"),
            ("TRANSACTIONAL_ID", "LITERAL", "*", "ALL"),
            ("BROKER", "LITERAL", "kafka-cluster", "ALL"),
        ],
    )


def write_client_config(files: SecureFiles) -> None:
    """An edgewatch config for the secured side, for trying it by hand."""
    kafka_password = password(files, "kafka-edgewatch.password")
    write_private(
        files.config,
        "\n".join(
            [
                "# Written by deploy/local/stack.py: edgewatch against the secured local servers.",
                "[kafka]",
                f'bootstrap = "{KAFKA_SECURE_BOOTSTRAP}"',
                'security_protocol = "SASL_SSL"',
                f'sasl_mechanism = "{SCRAM_MECHANISM}"',
                f'sasl_username = "{KAFKA_USER}"',
                f'sasl_password = "{kafka_password}"',
                f'ssl_ca_location = "{files.ca}"',
                "",
                "[es]",
                f'url = "{ES_SECURE_URL}"',
                f'ca_certs = "{files.ca}"',
                "# the alert service's API key; ingest's is in es-ingest.api_key",
                f'api_key = "{files.secret("es-alert.api_key").read_text().strip()}"',
                "",
            ]
        ),
    )
