"""`make audit`: known vulnerabilities of every package in requirements.lock, via pip-audit.

    python deploy/audit.py requirements.lock        # AUDIT_STRICT=1: unaudited packages fail

pip-audit asks a vulnerability service about each pinned version (PyPI's advisory data by
default). A package the service could not answer for is not "no vulnerability": it is
reported as NOT AUDITED in one loud line, and with AUDIT_STRICT=1 the run fails. A known
vulnerability always fails the run, naming the package, the advisory and the fixed versions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """What `make audit` prints, and its exit code."""

    lines: list[str]
    code: int


def verdict(report: dict[str, Any], strict: bool) -> Verdict:
    """Decide from pip-audit's JSON report (`-f json`)."""
    deps = report.get("dependencies", [])
    found = [(d, v) for d in deps for v in d.get("vulns", [])]
    skipped = [d for d in deps if d.get("skip_reason")]
    lines: list[str] = []
    code = 0
    if found:
        code = 1
        lines.append(f"audit: FAILED: {len(found)} known vulnerabilities in requirements.lock")
        for dep, vuln in found:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            lines.append(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixes})")
        lines.append("  raise the bound in pyproject.toml if needed, then `make lock UPGRADE=1`")
    if skipped:
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        lines.append(
            f"audit: NOT AUDITED: {len(skipped)} of {len(deps)} locked packages "
            f"({'; '.join(reasons)}); the vulnerability service did not answer for them"
            + ("" if strict else " (AUDIT_STRICT=1 makes this fail)")
        )
        code = code or int(strict)
    if not found and not skipped:
        lines.append(f"audit: {len(deps)} locked packages, no known vulnerabilities")
    return Verdict(lines, code)


def main(lock: Path) -> int:
    """Run pip-audit over `lock` and print the verdict."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(lock),
            # Every pin carries hashes, so nothing needs resolving: no pip, no downloads.
            "--require-hashes",
            "--disable-pip",
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"audit: pip-audit failed (exit {done.returncode}):", file=sys.stderr)
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    result = verdict(report, strict=os.environ.get("AUDIT_STRICT") == "1")
    for line in result.lines:
        print(line)
    return result.code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock")))
