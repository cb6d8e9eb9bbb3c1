"""The local stack's secured Elasticsearch node: HTTPS with the stack's CA, security on,
file-realm users, roles with each service's least privileges, and an API key per service.

The node gets the analysis plugin its `.security` index needs (stack_es_plugin.py); with it,
API keys, native users and native roles work as on a full Elasticsearch.
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from stack_secure import (
    ES_SECURE_HTTP_PORT,
    ES_SECURE_TRANSPORT_PORT,
    ES_SECURE_URL,
    SecureFiles,
    password,
    write_private,
)

# What each service may do in Elasticsearch, for its file-realm user and its API key;
# docs/operations.md lists the same privileges for production, and
# tests/security/test_secured_stack.py proves each service works with exactly these.
# Index names: the defaults (`edgewatch-logs-*`, `edgewatch-status`, `edgewatch-rules-*`,
# `edgewatch-outbox`, `edgewatch-hosts`) and the tests' own prefixes (`ew-secure-*`). Ingest
# writes its status to `edgewatch-status`; the alert service only reads it. The retired
# hosts (`edgewatch-hosts`) are written with the alert service's credentials.
ROLES: dict[str, dict[str, Any]] = {
    "edgewatch_ingest": {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [
            {
                "names": ["edgewatch-logs-*", "edgewatch-status", "ew-secure-*"],
                "privileges": ["index", "create_index", "view_index_metadata"],
            }
        ],
    },
    "edgewatch_alert": {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [
            {
                "names": ["edgewatch-logs-*", "edgewatch-status", "ew-secure-*"],
                "privileges": ["read"],
            },
            {
                "names": [
                    "edgewatch-rules-*",
                    "edgewatch-outbox*",
                    "edgewatch-hosts",
                    "ew-secure-*",
                ],
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


def provision(files: SecureFiles) -> None:
    """One API key per service, holding that service's role; a key Elasticsearch still
    accepts is kept (its node keeps them across restarts)."""
    for service in ("ingest", "alert"):
        path = files.secret(f"es-{service}.api_key")
        role = f"edgewatch_{service}"
        # A key keeps the privileges it was made with: a changed role needs a new key.
        granted = files.secret(f"es-{service}.api_key.role")
        wanted = json.dumps(ROLES[role], sort_keys=True)
        if path.exists() and granted.exists() and granted.read_text() == wanted:
            try:
                _es_request(
                    files, "GET", "/_security/_authenticate", auth="ApiKey " + path.read_text()
                )
                continue
            except urllib.error.HTTPError:
                pass  # the node's data was wiped: make a new key
        key = _es_request(
            files,
            "POST",
            "/_security/api_key",
            {"name": f"edgewatch-{service}", "role_descriptors": {role: ROLES[role]}},
        )
        write_private(path, key["encoded"])
        write_private(granted, wanted)
