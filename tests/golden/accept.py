"""Accept an intended difference into a golden file, and nothing else.

    python -m tests.golden.accept settings --path /document/kafka/timestamp --path /index

Runs the core over the file's inputs (harness.py) and, for each record whose outcome
differs from the file only at the given JSON paths, writes the new outcome. Any record that
differs elsewhere is left as it is and reported: the test keeps failing on it. Prints, per
group of paths, how many records changed and one example, for the commit message (which
must list every intended difference, with its reason; see README.md).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from tests.golden import harness, records


def differing(want: Any, got: Any, path: str = "") -> list[str]:
    """The JSON paths (`/a/b`) at which two outcomes differ: objects key by key, any other
    value as a whole."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for key in sorted(set(want) | set(got)):
            out += differing(want.get(key, _ABSENT), got.get(key, _ABSENT), f"{path}/{key}")
        return out
    return [] if records.canonical(want) == records.canonical(got) else [path]


_ABSENT = "<absent>"


def at(outcome: Any, path: str) -> Any:
    """The value at a JSON path, or "<absent>"."""
    for part in path.strip("/").split("/"):
        outcome = outcome.get(part, _ABSENT) if isinstance(outcome, dict) else _ABSENT
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family", help="a golden file's name, e.g. settings")
    parser.add_argument("--path", action="append", default=[], help="a JSON path that may change")
    args = parser.parse_args()
    path = records.HERE / f"{args.family}.jsonl"
    golden = records.read(path)
    got = harness.outcomes(golden.inputs)
    allowed = set(args.path)
    outcomes, groups, refused = list(golden.outcomes), Counter[tuple[str, ...]](), 0
    examples: dict[tuple[str, ...], tuple[Any, Any]] = {}
    for i, (want, mine) in enumerate(zip(golden.outcomes, got, strict=True)):
        paths = tuple(differing(want, mine))
        if not paths:
            continue
        if not set(paths) <= allowed:
            refused += 1
            continue
        outcomes[i] = mine
        groups[paths] += 1
        examples.setdefault(paths, (want, mine))
    Path(path).write_bytes(records.render(golden.header, golden.inputs, outcomes))
    for paths, count in groups.most_common():
        want, mine = examples[paths]
        print(f"{count} records: {', '.join(paths)}")
        for p in paths:
            print(f"    {p}: {at(want, p)!r} -> {at(mine, p)!r}")
    if refused:
        print(f"{refused} records differ elsewhere too: left as they were")


if __name__ == "__main__":
    main()
