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
from pathlib import Path

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
]

_HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real third-party samples (../shared/corpus, see its README).

    EDGEWATCH_CORPUS overrides the location. Missing corpus fails the test: it is the honest
    check of the parsers, so running without it must not look like a pass.
    """
    path = Path(os.environ.get("EDGEWATCH_CORPUS") or _HERE.parent.parent / "shared" / "corpus")
    if not (path / "formats").is_dir():
        pytest.fail(f"shared corpus not found at {path}; set EDGEWATCH_CORPUS")
    return path


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test stale compiled modules (setup.py): an edit not yet rebuilt would go
    untested while the suite looked green."""
    from pipeline.ingest import stale_sources

    stale = stale_sources()
    if stale:
        pytest.exit(
            f"{', '.join(stale)} changed since the ingest core was compiled; "
            "rebuild it with `make venv` (or `pip install -e .`)",
            returncode=4,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
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
