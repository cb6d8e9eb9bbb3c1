"""The ingest core compiled by mypyc (setup.py) behaves exactly as its Python source.

mypyc compiles the same source, but not every Python construct means the same once compiled
(a tuple compared with `is`; one name bound to two exception types). The whole corpus,
damaged copies of its lines and shipper events holding odd values go through `transform`
both ways, and every output must match.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _outputs(mode: str, corpus: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.ingest.core_outputs", mode, str(corpus)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_the_core_is_compiled_unless_asked_not_to_be() -> None:
    from pipeline.ingest import core_build

    if os.environ.get("EDGEWATCH_PURE_PYTHON"):
        assert core_build().startswith("pure Python")
    else:  # `make venv` compiles it; falling back silently would cost ~30% CPU per event
        assert core_build() == "compiled (mypyc) + native (Rust)"


def test_compiled_core_output_equals_its_source_output(corpus: Path) -> None:
    compiled = _outputs("compiled", corpus)
    source = _outputs("source", corpus)
    assert source[0].startswith("pure Python")  # the source really was what ran
    assert len(compiled) == len(source) > 20_000
    for mine, theirs in zip(compiled[1:], source[1:], strict=True):
        if mine != theirs:
            pytest.fail(f"compiled and source disagree on message {mine} vs {theirs}")


def test_sources_edited_after_compiling_are_reported(tmp_path: Path) -> None:
    from pipeline.ingest import stale_sources

    package = tmp_path / "pipeline" / "ingest"
    (package / "sub").mkdir(parents=True)
    (tmp_path / "setup.py").write_text("")  # a source checkout
    for name, source_first in (("fresh", True), ("sub/edited", False), ("plain", True)):
        source = package / f"{name}.py"
        compiled = package / f"{name}.cpython-311-x86_64-linux-gnu.so"
        source.write_text("")
        if name != "plain":  # a module nobody compiled is never stale
            compiled.write_bytes(b"")
            older, newer = (source, compiled) if source_first else (compiled, source)
            os.utime(older, (1_000_000, 1_000_000))
            os.utime(newer, (2_000_000, 2_000_000))
    assert stale_sources(package) == ["pipeline/ingest/sub/edited.py"]
    # Installed from a wheel, file times only say in which order pip unpacked the files.
    (tmp_path / "setup.py").unlink()
    assert stale_sources(package) == []
