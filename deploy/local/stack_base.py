"""What every part of the local stack shares: where it lives, its ports and heaps, its
services and their pid files, and how it tells its own processes from strangers'."""

from __future__ import annotations

import os
import socket
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


def command_line(service: Service) -> bytes:
    """The command line of the service's running process; empty when none runs."""
    pid = running_pid(service)
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes() if pid is not None else b""
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return b""


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


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True
