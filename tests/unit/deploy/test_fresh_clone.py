"""A clone with no ../shared/corpus beside it (every user's): the corpus layer is deselected
and said to be NOT RUN, never skipped or passed; the benchmark falls back to generated lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.ingest_bench import generated_lines, sample_lines

ROOT = Path(__file__).resolve().parents[3]
# Small, and it mixes corpus tests with tests that need nothing.
MODULE = "tests/unit/parsers/test_logfmt.py"


def _pytest(corpus: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDGEWATCH_CORPUS": str(corpus)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", MODULE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_without_the_corpus_its_tests_are_deselected_and_reported(tmp_path: Path) -> None:
    done = _pytest(tmp_path / "no-corpus")
    assert done.returncode == 0, done.stdout[-3000:]
    lines = done.stdout.splitlines()
    (summary,) = [line for line in lines if line.startswith("corpus layer:")]
    assert summary.startswith("corpus layer: NOT RUN (")
    assert str(tmp_path / "no-corpus") in summary and "EDGEWATCH_CORPUS" in summary
    deselected = int(summary.split("(")[1].split()[0])
    assert deselected > 0
    # Counted as deselected, not as passed or skipped.
    assert f"{deselected} deselected" in lines[-1] and "skipped" not in lines[-1]


def test_the_benchmark_generates_every_format_it_would_read_from_the_corpus(
    tmp_path: Path,
) -> None:
    samples = sample_lines(tmp_path / "no-corpus")
    assert set(samples) == {"access", "syslog", "container", "json", "logfmt", "plaintext"}
    assert all(samples.values())
    assert samples["access"] == generated_lines()["access"]  # deterministic: same runs compare
