"""Suite-wide pytest setup: markers by folder, and the shared fixtures.

tests/unit/ holds pure-logic tests (marker `unit`); tests/integration/ holds tests that talk to
real servers (marker `integration`). Integration tests never skip: if the stack is down they
fail with a message saying how to start it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.stack",
    "tests.fixtures.smtp",
    "tests.fixtures.http_receiver",
]

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).relative_to(_HERE).parts[0]
        if folder in ("unit", "integration"):
            item.add_marker(getattr(pytest.mark, folder))
