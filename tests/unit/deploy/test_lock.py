"""requirements.lock: the one lock of every Python dependency, used by `make venv`, CI and the
image, with hashes; and `make audit`'s verdict on pip-audit's report."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "requirements.lock"
MAKEFILE = ROOT / "Makefile"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_every_dependency_of_pyproject_is_locked() -> None:
    """Fails while someone has added or tightened a dependency without re-locking."""
    locked = _locked()
    stale = [
        str(req)
        for req in _declared()
        if canonicalize_name(req.name) not in locked
        or not req.specifier.contains(locked[canonicalize_name(req.name)], prereleases=True)
    ]
    assert stale == [], f"requirements.lock is stale for {stale}: run make lock"


def test_every_pin_carries_hashes() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[2])
    pinned = [b for b in blocks if PIN.match(b)]
    assert len(pinned) == len(_locked()) > 20
    for block in pinned:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def _recipe(target: str) -> str:
    text = MAKEFILE.read_text()
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n|[^\n]*\\\n)*)", text, re.M)
    assert match, target
    return match.group(1)


def test_make_venv_installs_exactly_the_lock_then_edgewatch_without_deps() -> None:
    recipe = _recipe("$(VENV)/.installed")
    lines = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert len(lines) == 2, lines
    assert "--require-hashes -r requirements.lock" in lines[0]
    assert "--no-deps -e ." in lines[1]
    # A changed lock rebuilds the venv.
    assert re.search(r"^\$\(VENV\)/\.installed:.*requirements\.lock", MAKEFILE.read_text(), re.M)


def test_make_test_runs_the_audit_and_make_lock_makes_the_lock() -> None:
    text = MAKEFILE.read_text()
    assert re.search(r"^test:[^\n#]*\baudit\b", text, re.M)
    assert "deploy/audit.py requirements.lock" in _recipe("audit")
    assert "--generate-hashes" in text and "-o requirements.lock" in text
    assert "make lock" in LOCK.read_text().splitlines()[1]  # the header says how to redo it


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("edgewatch_audit", ROOT / "deploy" / "audit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_audit_passes_a_clean_report(audit: ModuleType) -> None:
    report = {"dependencies": [{"name": "orjson", "version": "3.13.0", "vulns": []}]}
    result = audit.verdict(report, strict=True)
    assert result.code == 0
    assert result.lines == ["audit: 1 locked packages, no known vulnerabilities"]


def test_audit_fails_on_a_known_vulnerability(audit: ModuleType) -> None:
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["2.9.0"], "aliases": [], "description": ""}
    report = {
        "dependencies": [
            {"name": "urllib3", "version": "2.8.0", "vulns": [vuln]},
            {"name": "orjson", "version": "3.13.0", "vulns": []},
        ]
    }
    result = audit.verdict(report, strict=False)
    assert result.code == 1
    assert "urllib3 2.8.0: PYSEC-2099-1 (fixed in: 2.9.0)" in "\n".join(result.lines)


@pytest.mark.parametrize("strict", [False, True])
def test_an_unaudited_package_is_never_reported_as_clean(audit: ModuleType, strict: bool) -> None:
    """What this machine's PyPI answers (no per-version JSON): skipped, said loudly."""
    reason = "Dependency not found on PyPI and could not be audited: orjson (3.13.0)"
    report = {"dependencies": [{"name": "orjson", "version": "3.13.0", "skip_reason": reason}]}
    result = audit.verdict(report, strict=strict)
    assert result.code == int(strict)
    (line,) = result.lines
    assert line.startswith("audit: NOT AUDITED: 1 of 1 locked packages")
    assert "no known vulnerabilities" not in line
