"""Prints, after a run of the golden tests, how many outcomes of each golden file the native
core declined (the Python path made them instead): issue 18 drives these counts to 0."""

from __future__ import annotations

from typing import Any

from tests.golden import harness


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.golden.test_golden import MAKERS

    if not MAKERS:
        return
    terminalreporter.write_sep("-", "golden: outcomes the native core declined (built by Python)")
    for name, makers in sorted(MAKERS.items()):
        total = sum(makers.values())
        documents, letters = makers[harness.PYTHON_DOCUMENT], makers[harness.PYTHON_LETTER]
        terminalreporter.write_line(
            f"{name:<10} {documents + letters:>6} of {total:>6} declined "
            f"({documents} documents, {letters} dead letters)"
        )
