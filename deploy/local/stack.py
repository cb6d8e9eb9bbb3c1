"""Start, check and stop edgewatch's local stack: one Kafka broker, two Elasticsearch nodes (one
open on http://127.0.0.1:9200, one secured on https://127.0.0.1:9202) and a Painless node.

The servers come from Maven Central (see pom.xml next to this file) and run as plain JVM
processes, no Docker. Everything they write lives under `.edgewatch/` at the repository root.

    python deploy/local/stack.py up      # idempotent; waits until both answer
    python deploy/local/stack.py status
    python deploy/local/stack.py down    # stops exactly the processes `up` started

`make stack-up`, `make stack-down` and `make test` call this script; see deploy/local/README.md.

The parts: stack_base.py (paths, ports, services), stack_maven.py (artifacts),
stack_servers.py (each server), stack_secure.py (the secured side).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import stack_secure as secure
import stack_secure_es as secure_es
from stack_base import (
    ES,
    ES_HTTP_PORT,
    ES_SECURE,
    ES_URL,
    KAFKA,
    KAFKA_BOOTSTRAP,
    KAFKA_PORT,
    PAINLESS,
    PAINLESS_PORT,
    PAINLESS_URL,
    ROOT,
    RUNTIME,
    SECURE_FILES,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    Service,
    StackError,
    command_line,
    is_ours,
    port_open,
    running_pid,
    say,
    tail,
    zombie,
)
from stack_maven import (
    java_home,
    read_versions,
    resolve,
)
from stack_servers import (
    es_healthy,
    kafka_probe,
    kafka_properties,
    painless_healthy,
    start_es,
    start_es_secure,
    start_kafka,
    start_painless,
)

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
    if pids["kafka"] is not None and props.read_text() != kafka_properties():
        # A broker started by an older stack (before the secured listener, the fault tests'
        # listener, ...): restart it with today's settings. Its data stays.
        say("restarting Kafka: its settings changed since it was started")
        stop_service(KAFKA)
        pids["kafka"] = None
    own_home = str(RUNTIME / "elasticsearch-secure" / "home-").encode()
    if pids["elasticsearch-secure"] is not None and own_home not in command_line(ES_SECURE):
        # A secured node started before it had a home (and analysis plugin) of its own.
        say("restarting the secured Elasticsearch node to add its analysis plugin")
        stop_service(ES_SECURE)
        pids["elasticsearch-secure"] = None
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
    """The Kafka user and its ACLs, the secured node's API keys (both idempotent), and the
    secured side's client config. (The node's users are files, written before it starts.)"""
    try:
        secure.provision_kafka(SECURE_FILES, KAFKA_BOOTSTRAP)
        secure_es.provision(SECURE_FILES)
    except Exception as err:  # a KafkaException, an HTTPError: say which server refused
        raise StackError(f"setting up the secured side failed: {err}") from err
    secure.write_client_config(SECURE_FILES)


def wait_ready(procs: dict[str, subprocess.Popen[bytes]], started_at: float) -> None:
    deadline = started_at + START_TIMEOUT_S
    pending: dict[str, Callable[[], bool]] = {
        "kafka": kafka_probe(),
        "elasticsearch": es_healthy,
        "elasticsearch-secure": lambda: secure_es.es_secure_healthy(SECURE_FILES),
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
            secure_es.es_secure_healthy(SECURE_FILES),
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
