"""The secured node's analysis plugin: what its `.security` index needs from analysis-common.

API keys, native users and native roles live in the `.security` system index, whose `email`
analyzer uses the `uax_url_email` tokenizer and the `pattern_capture` and `unique` filters of
the analysis-common module, which the integration-test distribution leaves out. The three
are small, and Lucene (in the distribution's lib/) implements them; es-security-analysis/
holds a stable-API analysis plugin of our own that names them. This module compiles it with
the JDK's javac against the distribution's own jars and lays it out in a node's plugins/
folder, once per source change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "es-security-analysis" / "src"
NAME = "edgewatch-security-analysis"
# Stable plugins are found through this file only: Elasticsearch does not scan the classes.
NAMED_COMPONENTS = {
    "org.elasticsearch.plugin.analysis.TokenFilterFactory": {
        "pattern_capture": "edgewatch.esanalysis.PatternCaptureTokenFilterFactory",
        "unique": "edgewatch.esanalysis.UniqueTokenFilterFactory",
    },
    "org.elasticsearch.plugin.analysis.TokenizerFactory": {
        "uax_url_email": "edgewatch.esanalysis.UaxUrlEmailTokenizerFactory",
    },
}
# The distribution's jars the plugin compiles against (found by name, whatever the version).
COMPILE_AGAINST = (
    "elasticsearch-plugin-api-",
    "elasticsearch-plugin-analysis-api-",
    "lucene-core-",
    "lucene-analysis-common-",
)


class PluginError(Exception):
    """The plugin could not be built; the message says why."""


def install(home: Path, jdk: Path, es_version: str) -> None:
    """Build the plugin into `home`/plugins/ unless the same sources are there already."""
    java_files = sorted(SOURCES.rglob("*.java"))
    digest = hashlib.sha256(
        b"".join(p.read_bytes() for p in java_files) + es_version.encode()
    ).hexdigest()
    target = home / "plugins" / NAME
    stamp = target / "sources.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    classpath = ":".join(str(_jar(home / "lib", prefix)) for prefix in COMPILE_AGAINST)
    with tempfile.TemporaryDirectory() as scratch:
        classes = Path(scratch) / "classes"
        _run(
            [str(jdk / "bin" / "javac"), "--release", "17", "-d", str(classes), "-cp", classpath]
            + [str(p) for p in java_files],
            "compiling the analysis plugin",
        )
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        _run(
            [
                str(jdk / "bin" / "jar"),
                "--create",
                "--file",
                str(target / f"{NAME}.jar"),
                "-C",
                str(classes),
                ".",
            ],
            "packing the analysis plugin",
        )
    (target / "stable-plugin-descriptor.properties").write_text(
        "\n".join(
            [
                "description=The analysis components the .security index needs"
                " (pattern_capture, uax_url_email, unique)",
                "version=1.0.0",
                f"name={NAME}",
                f"elasticsearch.version={es_version}",
                "java.version=17",
                "",
            ]
        )
    )
    (target / "named_components.json").write_text(json.dumps(NAMED_COMPONENTS, indent=2))
    # Written last: a build cut short is redone at the next start.
    stamp.write_text(digest)


def _jar(lib: Path, prefix: str) -> Path:
    found = [p for p in lib.glob(f"{prefix}*.jar") if p.name[len(prefix)].isdigit()]
    if len(found) != 1:
        raise PluginError(f"expected one {prefix}<version>.jar in {lib}, found {found}")
    return found[0]


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PluginError(f"{what} failed ({cmd[0]}):\n{proc.stdout}{proc.stderr}")
