"""The local stack's secured side: a CA, TLS certificates, passwords, SCRAM users, API keys.

Production Kafka and Elasticsearch speak TLS and want credentials; edgewatch is tested against
the same here. At every `stack.py up` this module makes sure that `.edgewatch/stack/secure/`
holds (made once, kept afterwards):

- `ca.pem`, a throwaway CA (made with trustme), and a server certificate it signed for
  `localhost` / `127.0.0.1`, which both the Kafka SASL_SSL listener and the secured
  Elasticsearch node present;
- `kafka-edgewatch.password`: the password of the SCRAM-SHA-512 user `edgewatch` on the broker's
  SASL_SSL listener, 127.0.0.1:9094;
- `es-admin.password`: the secured node's superuser `admin`, for tests only;
- `es-edgewatch-ingest.password`, `es-edgewatch-alert.password`: one user per service, each
  holding one role with exactly the privileges docs/operations.md lists.

API keys are what production should use, but this node cannot make them: API keys (like native
users and roles) live in the `.security` index, whose mapping needs the `analysis-common`
module that the integration-test distribution leaves out (`POST /_security/api_key` answers 400
"Unknown filter type [pattern_capture]"). So the users and roles here are file-realm ones,
written into the node's config folder.
- `edgewatch-secure.toml`: an edgewatch config that uses all of the above
  (`edgewatch --config .edgewatch/stack/secure/edgewatch-secure.toml check`).

Every file is readable by its owner only. None of it is a secret worth keeping: the stack
binds to loopback and the CA signs nothing else.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import urllib.error
import urllib.request
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

# What each service may do in Elasticsearch, for the API keys made here; docs/operations.md
# lists the same privileges for production, and tests/security/test_secured_stack.py proves
# each service works with exactly these.
# Index names: the defaults (`edgewatch-logs-*`, `edgewatch-rules-*`, `edgewatch-outbox`) and
# the tests' own prefixes (`ew-secure-*`).
ROLES: dict[str, dict[str, Any]] = {
    "edgewatch_ingest": {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [
            {
                "names": ["edgewatch-logs-*", "ew-secure-*"],
                "privileges": ["index", "create_index", "view_index_metadata"],
            }
        ],
    },
    "edgewatch_alert": {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [
            {"names": ["edgewatch-logs-*", "ew-secure-*"], "privileges": ["read"]},
            {
                "names": ["edgewatch-rules-*", "edgewatch-outbox*", "ew-secure-*"],
                "privileges": [
                    "read",
                    "write",
                    "create_index",
                    "maintenance",
                    "view_index_metadata",
                ],
            },
        ],
    },
}
# user -> role; `admin` is for tests and provisioning only.
USERS = {
    "admin": "superuser",
    "edgewatch-ingest": "edgewatch_ingest",
    "edgewatch-alert": "edgewatch_alert",
}


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


def _write_private(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def password(files: SecureFiles, name: str) -> str:
    """The password stored under `name`, made (random, 32 characters) the first time."""
    path = files.secret(name)
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(24))
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
    _write_private(files.ca, ca.cert_pem.bytes())
    _write_private(files.server_key, pkcs8)
    _write_private(files.server_cert, chain)
    _write_private(files.kafka_keystore, pkcs8 + chain)


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
            ("BROKER", "LITERAL", "kafka-cluster", "ALL"),
        ],
    )


# --------------------------------------------------------------------------- Elasticsearch


def es_secure_settings(base: Path, files: SecureFiles) -> str:
    """elasticsearch.yml of the secured node: HTTPS with the local CA, security on."""
    return "\n".join(
        [
            "# Written by deploy/local/stack.py at every start; edit that file, not this one.",
            "cluster.name: edgewatch-local-secure",
            "node.name: local-secure",
            "discovery.type: single-node",
            "network.host: 127.0.0.1",
            f"http.port: {ES_SECURE_HTTP_PORT}",
            f"transport.port: {ES_SECURE_TRANSPORT_PORT}",
            f"path.data: {base / 'data'}",
            f"path.logs: {base / 'logs'}",
            "xpack.security.enabled: true",
            "xpack.security.http.ssl.enabled: true",
            "xpack.security.http.ssl.certificate: certs/server.pem",
            "xpack.security.http.ssl.key: certs/server-key.pem",
            "xpack.security.http.ssl.certificate_authorities: [certs/ca.pem]",
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "",
        ]
    )


def prepare_es_config(conf: Path, home: Path, files: SecureFiles, java_home: Path) -> None:
    """The secured node's own config folder (ES_PATH_CONF): the distribution's files, the
    certificates, the roles, and the file-realm users (made once with elasticsearch-users)."""
    import shutil

    conf.mkdir(parents=True, exist_ok=True)
    for name in ("jvm.options", "log4j2.properties"):
        shutil.copy(home / "config" / name, conf / name)
    (conf / "jvm.options.d").mkdir(exist_ok=True)
    certs = conf / "certs"
    certs.mkdir(exist_ok=True)
    for source in (files.ca, files.server_cert, files.server_key):
        shutil.copy(source, certs / source.name)
    # JSON is YAML: roles.yml needs no YAML writer.
    (conf / "roles.yml").write_text(
        "\n".join(f"{name}: {json.dumps(role)}" for name, role in ROLES.items()) + "\n"
    )
    users = conf / "users"
    # The tool adds to these files and refuses to start without them.
    for name in ("users", "users_roles"):
        (conf / name).touch(mode=0o600, exist_ok=True)
    known = (
        {line.split(":")[0] for line in users.read_text().splitlines()} if users.exists() else set()
    )
    env = {"ES_PATH_CONF": str(conf), "ES_JAVA_HOME": str(java_home), "PATH": "/usr/bin:/bin"}
    for user, role in USERS.items():
        if user in known:
            continue
        secret = password(files, f"es-{user}.password")
        proc = subprocess.run(
            [str(home / "bin" / "elasticsearch-users"), "useradd", user, "-p", secret, "-r", role],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"elasticsearch-users useradd {user} failed: {proc.stderr.strip()}")


def _es_request(
    files: SecureFiles, method: str, path: str, body: Any = None, auth: str | None = None
) -> Any:
    context = ssl.create_default_context(cafile=str(files.ca))
    request = urllib.request.Request(ES_SECURE_URL + path, method=method)
    if auth is None:
        token = f"admin:{password(files, 'es-admin.password')}".encode()
        auth = "Basic " + base64.b64encode(token).decode()
    request.add_header("Authorization", auth)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, data=data, timeout=10, context=context) as resp:
        return json.load(resp)


def es_secure_healthy(files: SecureFiles) -> bool:
    """True once the secured node answers cluster health yellow or green to the superuser."""
    try:
        health = _es_request(files, "GET", "/_cluster/health?wait_for_status=yellow&timeout=1s")
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return health.get("status") in ("yellow", "green")


def write_client_config(files: SecureFiles) -> None:
    """An edgewatch config for the secured side, for trying it by hand."""
    kafka_password = password(files, "kafka-edgewatch.password")
    _write_private(
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
                "# the alert service's user; ingest's is edgewatch-ingest",
                'username = "edgewatch-alert"',
                f'password = "{password(files, "es-edgewatch-alert.password")}"',
                "",
            ]
        ),
    )
