"""The local stack's servers: how each is configured, started and probed (Kafka, the open and
the secured Elasticsearch node, the Painless node)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import stack_es_plugin
import stack_secure as secure
import stack_secure_es as secure_es
from stack_base import (
    ES,
    ES_HEAP,
    ES_HTTP_PORT,
    ES_SECURE,
    ES_SECURE_HEAP,
    ES_TRANSPORT_PORT,
    ES_URL,
    HERE,
    KAFKA,
    KAFKA_BOOTSTRAP,
    KAFKA_CONTROLLER_PORT,
    KAFKA_HEAP,
    KAFKA_PORT,
    PAINLESS,
    PAINLESS_HEAP,
    PAINLESS_PORT,
    PAINLESS_TRANSPORT_PORT,
    PAINLESS_URL,
    RUNTIME,
    SECURE_FILES,
    Resolved,
    Service,
    StackError,
    Versions,
    say,
)

# --------------------------------------------------------------------------- health probes


def painless_healthy() -> bool:
    return es_healthy(PAINLESS_URL)


def es_healthy(url: str = ES_URL) -> bool:
    try:
        with urllib.request.urlopen(
            f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=3
        ) as resp:
            return json.load(resp).get("status") in ("yellow", "green")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def kafka_probe(bootstrap: str = KAFKA_BOOTSTRAP) -> Callable[[], bool]:
    """A probe that succeeds once a Kafka metadata request is answered."""
    admin = secure.quiet_admin(bootstrap)

    def probe() -> bool:
        try:
            admin.list_topics(timeout=2)
        except Exception:  # KafkaException while the broker is still coming up
            return False
        return True

    return probe


# --------------------------------------------------------------------------- elasticsearch


def es_home(versions: Versions, resolved: Resolved, node: str = "elasticsearch") -> Path:
    """Unpack Elastic's integ-test distribution once per version into .edgewatch/<node>/.
    Each node has a home of its own, so a plugin of one is not a plugin of the other."""
    home = RUNTIME / node / f"home-{versions.elasticsearch}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    say(f"unpacking Elasticsearch {versions.elasticsearch}")
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="es-unpack-", dir=home.parent))
    with zipfile.ZipFile(resolved.es_zip) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, staging))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    (top,) = list(staging.iterdir())
    top.rename(home)
    staging.rmdir()
    return home


def es_settings() -> str:
    base = RUNTIME / "elasticsearch"
    return "\n".join(
        [
            "# Written by deploy/local/stack.py at every start; edit that file, not this one.",
            "cluster.name: edgewatch-local",
            "node.name: local",
            "discovery.type: single-node",
            "network.host: 127.0.0.1",
            f"http.port: {ES_HTTP_PORT}",
            f"transport.port: {ES_TRANSPORT_PORT}",
            f"path.data: {base / 'data'}",
            f"path.logs: {base / 'logs'}",
            # Loopback only, so no TLS and no passwords.
            "xpack.security.enabled: false",
            # Dev machines run with little free disk; the flood-stage watermark would
            # silently turn every index read-only.
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "",
        ]
    )


def as_unprivileged(home: Path, base: Path) -> list[str]:
    """The command prefix that runs Elasticsearch, which refuses root, without root.

    First choice: a user namespace, where it has an unprivileged uid while the files it writes
    stay owned by the caller, so nothing needs chown and any checkout location works. Where
    user namespaces are not allowed (some containers), the `nobody` user, which then must own
    the node's folders and be able to reach them.
    """
    namespace = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]
    if (
        shutil.which("unshare")
        and subprocess.run([*namespace, "true"], capture_output=True, check=False).returncode == 0
    ):
        return namespace
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if shutil.which("setpriv") is None:
        raise StackError(
            "Elasticsearch refuses to run as root; this machine allows no user namespaces and"
            " has no setpriv (util-linux). Run the stack as a normal user."
        )
    for path in (home, base):
        for root, dirs, files in os.walk(path):
            for name in (
                root,
                *(os.path.join(root, d) for d in dirs),
                *(os.path.join(root, f) for f in files),
            ):
                os.chown(name, 65534, 65534)
    if (
        subprocess.run(
            [*nobody, "test", "-r", str(home / "bin" / "elasticsearch")],
            capture_output=True,
            check=False,
        ).returncode
        != 0
    ):
        raise StackError(
            f"Elasticsearch refuses to run as root, user namespaces are not allowed here, and"
            f" the user nobody cannot reach {home} (a parent folder is private). Run the stack"
            " as a normal user, or from a checkout outside /root."
        )
    return nobody


def start_es(versions: Versions, resolved: Resolved, jdk: Path) -> subprocess.Popen[bytes]:
    """The open node: the distribution's own config folder, security off."""
    home = es_home(versions, resolved)
    conf = home / "config"
    conf.joinpath("elasticsearch.yml").write_text(es_settings())
    return _launch_es(home, conf, RUNTIME / "elasticsearch", ES, ES_HEAP, jdk)


def start_es_secure(versions: Versions, resolved: Resolved, jdk: Path) -> subprocess.Popen[bytes]:
    """The secured node: same distribution, its own home with the analysis plugin the
    `.security` index needs (stack_es_plugin.py), its own config folder (ES_PATH_CONF) with
    HTTPS, security on, and file-realm users and roles."""
    home = es_home(versions, resolved, "elasticsearch-secure")
    try:
        stack_es_plugin.install(home, jdk, versions.elasticsearch)
    except stack_es_plugin.PluginError as err:
        raise StackError(str(err)) from err
    base = RUNTIME / "elasticsearch-secure"
    conf = base / "config"
    secure_es.prepare_es_config(conf, home, SECURE_FILES, jdk)
    conf.joinpath("elasticsearch.yml").write_text(secure_es.es_secure_settings(base, SECURE_FILES))
    return _launch_es(home, conf, base, ES_SECURE, ES_SECURE_HEAP, jdk)


def _launch_es(
    home: Path, conf: Path, base: Path, service: Service, heap: str, jdk: Path
) -> subprocess.Popen[bytes]:
    for sub in ("data", "logs", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (conf / "jvm.options.d" / "edgewatch.options").write_text(f"-Xms{heap}\n-Xmx{heap}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ES_")}
    env.update(ES_JAVA_HOME=str(jdk), ES_TMPDIR=str(base / "tmp"), ES_PATH_CONF=str(conf))
    cmd = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(service.pid_file)]
    if os.geteuid() == 0:
        cmd = [*as_unprivileged(home, base), *cmd]
    service.pid_file.unlink(missing_ok=True)
    log = (base / "logs" / "launcher.log").open("wb")
    # -d: the launcher forks the server, waits until it is up, writes the pid file and exits.
    return subprocess.Popen(
        cmd, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


# --------------------------------------------------------------------------- kafka

# The fault tests' listener (tests/faults/): plaintext like 9092, but advertised on a port where
# nothing listens except a test's TCP proxy forwarding to it. Kafka clients reconnect to the
# advertised address, so a proxy on a bootstrap port alone would be bypassed after the first
# metadata answer; through this listener, every connection of the client under test (bootstrap
# and after) passes the proxy, and cutting the proxy cuts them all.
KAFKA_FAULTS_PORT = 9095
KAFKA_FAULTS_ADVERTISED_PORT = 9096


def kafka_properties() -> str:
    base = RUNTIME / "kafka"
    return "\n".join(
        [
            "# Written by deploy/local/stack.py at every start; edit that file, not this one.",
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{KAFKA_CONTROLLER_PORT}",
            f"listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},"
            f"CONTROLLER://127.0.0.1:{KAFKA_CONTROLLER_PORT},"
            f"SASL_SSL://127.0.0.1:{secure.KAFKA_SECURE_PORT},"
            f"FAULTS://127.0.0.1:{KAFKA_FAULTS_PORT}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},"
            f"SASL_SSL://127.0.0.1:{secure.KAFKA_SECURE_PORT},"
            f"FAULTS://127.0.0.1:{KAFKA_FAULTS_ADVERTISED_PORT}",
            "controller.listener.names=CONTROLLER",
            # Never FAULTS: the broker would talk to itself through a test's proxy.
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
            "SASL_SSL:SASL_SSL,FAULTS:PLAINTEXT",
            *secure.kafka_listener_properties(SECURE_FILES),
            f"log.dirs={base / 'data'}",
            "num.partitions=3",
            # A single broker: internal topics cannot have more than one replica.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # Tests start consumer groups constantly; the default 3 s delay would slow each one.
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "delete.topic.enable=true",
            # Allow the oversized-message tests to produce up to 10 MiB.
            "message.max.bytes=10485760",
            "",
        ]
    )


def kafka_java(jdk: Path, classpath: str, main: str, *args: str, heap: str) -> list[str]:
    base = RUNTIME / "kafka"
    return [
        str(jdk / "bin" / "java"),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={HERE / 'kafka-log4j2.properties'}",
        f"-Dkafka.logs.dir={base / 'logs'}",
        "-cp",
        classpath,
        main,
        *args,
    ]


def start_kafka(resolved: Resolved, jdk: Path) -> subprocess.Popen[bytes]:
    base = RUNTIME / "kafka"
    for sub in ("data", "logs"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    props = base / "server.properties"
    props.write_text(kafka_properties())
    if not (base / "data" / "meta.properties").exists():
        cluster_id = kafka_cluster_id()
        fmt = kafka_java(
            jdk,
            resolved.kafka_classpath,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            cluster_id,
            "--config",
            str(props),
            heap="256m",
        )
        proc = subprocess.run(fmt, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{proc.stdout}{proc.stderr}")
    log = (base / "logs" / "stdout.log").open("wb")
    proc_k = subprocess.Popen(
        kafka_java(jdk, resolved.kafka_classpath, "kafka.Kafka", str(props), heap=KAFKA_HEAP),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    KAFKA.pid_file.write_text(f"{proc_k.pid}\n")
    return proc_k


def start_painless(resolved: Resolved, jdk: Path) -> subprocess.Popen[bytes]:
    """The Painless executor: one OpenSearch node (see painless-pom.xml), data-less."""
    base = RUNTIME / "painless"
    # Scripts are stateless here (stored ones are re-put by whoever uses them): start clean.
    shutil.rmtree(base / "node", ignore_errors=True)
    config = base / "node" / "node_1" / "config"
    config.mkdir(parents=True)
    # Left alone, the node takes the first free transport port from 9300, which races
    # Elasticsearch for 9300 when both start at once. The runner keeps a config file it
    # finds in place.
    (config / "opensearch.yml").write_text(
        "# Written by deploy/local/stack.py at every start.\n"
        f"transport.port: {PAINLESS_TRANSPORT_PORT}\n"
        "network.host: 127.0.0.1\n"
    )
    log = (base / "stdout.log").open("wb")
    cmd = [
        str(jdk / "bin" / "java"),
        f"-Xms{PAINLESS_HEAP}",
        f"-Xmx{PAINLESS_HEAP}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-cp",
        resolved.painless_classpath,
        "org.codelibs.opensearch.runner.OpenSearchRunner",
        "-basePath",
        str(base / "node"),
        "-numOfNode",
        "1",
        "-baseHttpPort",
        str(PAINLESS_PORT - 1),
        "-clusterName",
        "edgewatch-painless",
    ]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    PAINLESS.pid_file.write_text(f"{proc.pid}\n")
    return proc


def kafka_cluster_id() -> str:
    """A random Kafka cluster id (base64url of 16 bytes, as `kafka-storage random-uuid`)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # would be read as an option on Kafka's command line
            return text
