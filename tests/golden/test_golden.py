"""The ingest core as it runs in the service (harness.py) makes of every golden input what
the golden file says: the same index, `_id` and document (JSON-equal), or a dead letter of
the same stage and reason. And of every line of the third-party corpus, an outcome with the
recorded digest. See README.md; regenerate with `python -m tests.golden.generate`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.golden import harness, records

pytestmark = pytest.mark.unit

FILES = sorted(records.HERE.glob("*.jsonl"))
SHOWN = 5  # mismatches reported in full; the rest are counted

# Per golden file, who made its outcomes (harness.NATIVE, PYTHON_DOCUMENT, PYTHON_LETTER):
# conftest.py prints it after the run. Issue 18's target is no Python maker left.
MAKERS: dict[str, Counter[str]] = {}


def _diff(want: Any, got: Any) -> str:
    """The two outcomes' pretty JSON, differing lines only (a document runs to ~40 lines)."""
    lines = difflib.unified_diff(
        json.dumps(want, indent=1, sort_keys=True, ensure_ascii=False).splitlines(),
        json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False).splitlines(),
        "golden",
        "now",
        n=1,
        lineterm="",
    )
    return "\n".join(list(lines)[2:40])


def test_every_family_is_there() -> None:
    names = {path.stem for path in FILES}
    assert names == {"fixtures", "demo", "bench", "envelopes", "damaged", "settings"}, names


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_golden_outcomes(path: Path) -> None:
    golden = records.read(path)
    makers: Counter[str] = Counter()
    got = harness.outcomes(golden.inputs, makers)
    MAKERS[path.stem] = makers
    assert len(got) == len(golden.inputs)
    mismatches = [
        (item, want, mine)
        for item, want, mine in zip(golden.inputs, golden.outcomes, got, strict=True)
        if records.canonical(want) != records.canonical(mine)
    ]
    if mismatches:
        report = [
            f"{len(mismatches)} of {len(got)} outcomes differ from {path.name}; the first "
            f"{min(SHOWN, len(mismatches))}:"
        ]
        for item, want, mine in mismatches[:SHOWN]:
            report += ["", f"input {item.describe()}", _diff(want, mine)]
        pytest.fail("\n".join(report), pytrace=False)


def test_corpus_digests(corpus: Path) -> None:
    """Every line of the corpus: one digest each, keyed by file and line number (the
    corpus's text is not committed; records.corpus_input says what message a line becomes).
    Files added to the corpus since have no digests and are not looked at."""
    expected = {row["path"]: row for row in records.iter_digest_files()}
    present = {path.relative_to(corpus).as_posix(): path for path in records.corpus_files(corpus)}
    missing = sorted(set(expected) - set(present))
    assert not missing, f"corpus files gone since the digests were made: {missing[:10]}"
    changed = [
        name
        for name, row in expected.items()
        if hashlib.sha256(present[name].read_bytes()).hexdigest() != row["sha256"]
    ]
    assert not changed, (
        f"corpus files changed since the digests were made (regenerate while the reference "
        f"exists, or compare by hand): {changed[:10]}"
    )
    inputs, wanted = [], []
    for name, row in expected.items():
        lines = records.corpus_lines(present[name].read_bytes())
        assert len(lines) == len(row["lines"]), name
        for number, (line, digest) in enumerate(zip(lines, row["lines"], strict=True), start=1):
            inputs.append(records.corpus_input(name, number, line))
            wanted.append(digest)
    makers: Counter[str] = Counter()
    got = harness.outcomes(inputs, makers)
    MAKERS["corpus"] = makers
    mismatches = [
        (item, outcome)
        for item, outcome, digest in zip(inputs, got, wanted, strict=True)
        if records.digest(outcome) != digest
    ]
    if mismatches:
        report = [f"{len(mismatches)} of {len(inputs)} corpus lines have another outcome:"]
        for item, outcome in mismatches[:SHOWN]:
            shown = json.dumps(outcome, ensure_ascii=False)
            report += ["", f"input {item.describe()}", f"outcome now: {shown[:600]}"]
        pytest.fail("\n".join(report), pytrace=False)
