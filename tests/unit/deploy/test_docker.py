"""deploy/docker/Dockerfile and .dockerignore, checked without a Docker engine.

The structure is read from the Dockerfile itself; the build stage's `pip wheel` command and
the runtime stage's `pip install` are run for real into a temporary folder, and the HEALTHCHECK
command is run against a real status server, so the parts that can break are exercised.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from pipeline.telemetry import Heartbeat, StatusServer

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPILERS = ("gcc", "g++", "clang", "build-essential", "make ", "cc ", "rustc", "cargo")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def _stages() -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in _instructions(DOCKERFILE.read_text()):
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            alias = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base, alias))
        else:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def test_two_stages_on_a_pinned_slim_python() -> None:
    _, stages = _stages()
    assert len(stages) >= 2, "build wheels in one stage, run in another"
    for stage in stages:
        # The tag says what it is; the digest makes a rebuild the same base, byte for byte.
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?@sha256:[0-9a-f]{64}", stage.base), stage.base
    assert stages[0].name == "build"


def test_runtime_stage_runs_as_a_numeric_non_root_user() -> None:
    runtime = _stages()[1][-1]
    users = runtime.all("USER")
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can check it; and not root.
    assert uid.isdigit() and int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)
    # The last USER comes after every RUN: nothing runs as root at run time.
    keywords = [kw for kw, _ in runtime.instructions]
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    assert "RUN" not in keywords[last_user:]


def test_dependencies_come_from_the_lock_with_hashes() -> None:
    """The build stage takes every dependency from requirements.lock, hash-checked, and
    builds edgewatch alone; nothing resolves a dependency from an index by name."""
    build = _stages()[1][0]
    runs = build.all("RUN")
    (download,) = [r for r in runs if r.startswith("pip download")]
    assert "--require-hashes" in download and "-r requirements.lock" in download
    (wheel,) = [r for r in runs if r.startswith("pip wheel")]
    assert "--no-deps" in wheel
    assert any("requirements.lock" in args for args in build.all("COPY"))


def test_no_compiler_or_package_install_in_the_runtime_stage() -> None:
    runtime = _stages()[1][-1]
    for run in runtime.all("RUN"):
        assert "apt-get install" not in run and "apk add" not in run, run
        assert not any(tool in run + " " for tool in COMPILERS), run
        if "pip install" in run:
            # Only the wheels the build stage made: no index, so nothing is built here.
            assert "--no-index" in run and "--find-links" in run, run


def test_one_image_for_both_services() -> None:
    runtime = _stages()[1][-1]
    assert runtime.all("ENTRYPOINT") == ['["edgewatch"]']
    exposed = " ".join(runtime.all("EXPOSE")).split()
    assert {"9311", "9312"} <= set(exposed)


def _healthcheck_command() -> str:
    runtime = _stages()[1][-1]
    checks = runtime.all("HEALTHCHECK")
    assert len(checks) == 1, "exactly one HEALTHCHECK in the final stage"
    _, sep, command = checks[0].partition(" CMD ")
    assert sep, "HEALTHCHECK ... CMD <command>"
    return command


def test_healthcheck_needs_no_curl() -> None:
    command = _healthcheck_command()
    assert "/healthz" in command
    assert "curl" not in command and "wget" not in command
    # The port comes from HEALTHCHECK_PORT, and the image defaults it to ingest's.
    env = " ".join(_stages()[1][-1].all("ENV"))
    assert "HEALTHCHECK_PORT=9311" in env


@pytest.mark.parametrize("alive", [True, False])
def test_healthcheck_command_against_a_real_status_server(alive: bool) -> None:
    heartbeat = Heartbeat(stale_after=60.0 if alive else 0.0)
    server = StatusServer(CollectorRegistry(), heartbeat, lambda: None, "127.0.0.1", 0).start()
    try:
        env = {
            **os.environ,
            "HEALTHCHECK_PORT": str(server.port),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        # Shell form, as Docker runs it: /bin/sh -c "<command>".
        done = subprocess.run(
            ["/bin/sh", "-c", _healthcheck_command()], env=env, capture_output=True, timeout=30
        )
    finally:
        server.stop()
    assert (done.returncode == 0) == alive, done.stderr.decode()
    if not alive:
        assert done.returncode == 1  # Docker reads 1 as unhealthy; other codes are reserved


def _dockerignore() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(path, p.removeprefix("**/")) or path.startswith(p.rstrip("/") + "/")
        for p in patterns
    )


def test_dockerignore_keeps_local_state_and_caches_out() -> None:
    patterns = _dockerignore()
    for required in (".git", ".edgewatch", ".venv", ".mypy_cache", ".pytest_cache", "tests"):
        assert required in patterns, required
    assert "**/__pycache__" in patterns
    assert "**/*.so" in patterns  # a developer's compiled modules, built for their machine


def _build_copies() -> list[tuple[list[str], str]]:
    build = _stages()[1][0]
    copies = []
    for args in build.all("COPY"):
        parts = [p for p in args.split() if not p.startswith("--")]
        copies.append((parts[:-1], parts[-1]))
    return copies


def test_what_the_build_stage_copies_is_in_the_context() -> None:
    patterns = _dockerignore()
    for sources, _ in _build_copies():
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not _ignored(source, patterns), f"{source} is excluded by .dockerignore"


def test_build_stage_wheels_install_without_an_index(tmp_path: Path) -> None:
    """The build stage's own `pip wheel` command, then the runtime stage's `pip install`."""
    _, stages = _stages()
    context = tmp_path / "src"
    context.mkdir()
    for sources, target in _build_copies():
        for source in sources:
            dest = context / target if target not in ("./", ".") else context
            if (ROOT / source).is_dir():
                shutil.copytree(
                    ROOT / source,
                    dest,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "target"),
                )
            else:
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, dest / Path(source).name)
    wheels = tmp_path / "wheels"
    pip_runs = [run for run in stages[0].all("RUN") if re.match(r"pip (download|wheel) ", run)]
    assert [run.split()[1] for run in pip_runs] == ["download", "wheel"]
    # A bare interpreter, as in the image: nothing of this venv may leak into the build.
    build_env = tmp_path / "build"
    venv.create(build_env, with_pip=True)
    for run in pip_runs:
        # The image builds without a cache; here pip's cache saves downloading the lock again.
        argv = shlex.split(run.replace("/wheels", str(wheels)).replace("--no-cache-dir", ""))
        built = subprocess.run(
            [str(build_env / "bin" / "python"), "-m", *argv],
            cwd=context,
            capture_output=True,
            text=True,
            timeout=480,
        )
        assert built.returncode == 0, built.stdout + built.stderr
    assert list(wheels.glob("edgewatch-*.whl"))

    env_dir = tmp_path / "runtime"
    venv.create(env_dir, with_pip=True)
    (install_cmd,) = [run for run in stages[-1].all("RUN") if "pip install" in run]
    install = install_cmd.split("pip install", 1)[1].replace("/wheels", str(wheels))
    installed = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", *shlex.split(install)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    version = subprocess.run(
        [str(env_dir / "bin" / "edgewatch"), "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("edgewatch"), version.stderr
    # The wheel carries the native ingest core (setup.py builds it from native/).
    native = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import pipeline.ingest._native"],
        capture_output=True,
        text=True,
    )
    assert native.returncode == 0, native.stderr
    versions = subprocess.run(
        [str(env_dir / "bin" / "edgewatch"), "version"], capture_output=True, text=True
    )
    assert versions.returncode == 0, versions.stderr
    assert "WARNING" not in versions.stdout  # an installed wheel is never "out of date"
