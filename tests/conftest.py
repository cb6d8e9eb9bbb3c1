"""Suite-wide pytest setup: markers by folder, and the shared fixtures.

tests/unit/ holds pure-logic tests (marker `unit`); tests/integration/ holds tests that talk to
real servers (marker `integration`). Integration tests never skip: if the stack is down they
fail with a message saying how to start it. tests/security/ holds one test per attack or bad
input of docs/security.md (marker `security`); each of its modules says whether it is `unit` or
`integration` with a module-level `pytestmark`, so `make unit` and `make integration` still
split the whole suite.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# `HYPOTHESIS_PROFILE=deep make unit` runs every property test with 50x the examples (minutes,
# not seconds): worth it after changing a parser or anything the compiled core is built from.
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

pytest_plugins = [
    "tests.fixtures.stack",
    "tests.fixtures.smtp",
    "tests.fixtures.http_receiver",
    "tests.fixtures.tcp_proxy",
    "tests.fixtures.ingest",
    "tests.fixtures.alerting",
    "tests.fixtures.secure",
]

_HERE = Path(__file__).parent


# The corpus layer: tests that read the third-party corpus (they take the `corpus` fixture,
# directly or through another fixture) get the `corpus` marker. Without the corpus they are
# deselected, not skipped, and the terminal summary says so in one line: a skipped test would
# read as "nothing wrong", and a failing one would make `make test` unusable on a fresh clone.


@dataclass
class CorpusLayer:
    """Where the corpus is, and what became of the tests that need it."""

    path: Path
    present: bool
    deselected: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # The tests that take the corpus, by node id: a report's keywords would also match a
    # test that merely sits in a folder named `corpus`.
    members: set[str] = field(default_factory=set)


def corpus_path() -> Path:
    """../shared/corpus beside the checkout, or EDGEWATCH_CORPUS."""
    return Path(os.environ.get("EDGEWATCH_CORPUS") or _HERE.parent.parent / "shared" / "corpus")


def corpus_summary(layer: CorpusLayer) -> str | None:
    """The one line a run prints about the corpus layer; None if it touched no corpus test."""
    if not layer.present:
        if not layer.deselected:
            return None
        return (
            f"corpus layer: NOT RUN ({layer.deselected} tests deselected: no corpus at "
            f"{layer.path}; put it at ../shared/corpus or set EDGEWATCH_CORPUS)"
        )
    run = sum(layer.outcomes.values())
    if not run:
        return None
    detail = ", ".join(f"{n} {what}" for what, n in sorted(layer.outcomes.items()))
    return f"corpus layer: {run} tests run against {layer.path} ({detail})"


_LAYER = CorpusLayer(corpus_path(), present=False)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real third-party samples (../shared/corpus, see its README).

    EDGEWATCH_CORPUS overrides the location. Tests that use it form the corpus layer, which
    runs only where the corpus is (CI has it) and is reported either way.
    """
    if not _LAYER.present:  # only reached if deselection was bypassed
        pytest.fail(f"shared corpus not found at {_LAYER.path}; set EDGEWATCH_CORPUS")
    return _LAYER.path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "corpus: reads the third-party corpus (../shared/corpus); runs where it is"
    )
    _LAYER.path = corpus_path()
    _LAYER.present = (_LAYER.path / "formats").is_dir()


def _select_corpus_layer(config: pytest.Config, items: list[pytest.Item]) -> None:
    needing = [item for item in items if "corpus" in getattr(item, "fixturenames", ())]
    for item in needing:
        item.add_marker(pytest.mark.corpus)
        _LAYER.members.add(item.nodeid)
    if not _LAYER.present and needing:
        _LAYER.deselected += len(needing)
        config.hook.pytest_deselected(items=needing)
        dropped = set(needing)
        items[:] = [item for item in items if item not in dropped]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid in _LAYER.members and (
        report.when == "call" or (report.when == "setup" and not report.passed)
    ):
        _LAYER.outcomes[report.outcome] = _LAYER.outcomes.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    line = corpus_summary(_LAYER)
    if line:
        terminalreporter.write_line(line, bold=True, yellow=not _LAYER.present)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a stale native core (setup.py builds it from native/): an edit not yet
    rebuilt would go untested while the suite looked green."""
    from pipeline.ingest import stale_sources

    stale = stale_sources()
    if stale:
        pytest.exit(
            f"{', '.join(stale)} changed since the native ingest core was built; "
            "rebuild it with `make venv` (or `pip install -e .`)",
            returncode=4,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _select_corpus_layer(config, items)
    for item in items:
        folder = Path(str(item.fspath)).relative_to(_HERE).parts[0]
        if folder in ("unit", "integration"):
            item.add_marker(getattr(pytest.mark, folder))
        elif folder == "security":
            item.add_marker(pytest.mark.security)
            if not any(item.iter_markers(name) for name in ("unit", "integration")):
                raise pytest.UsageError(
                    f"{item.nodeid}: a security test must be marked unit or integration"
                    " (module-level pytestmark)"
                )
