"""How well edgewatch reads the timestamp and the level out of real log lines, per format.

    make corpus-coverage
    .venv/bin/python bench/time_coverage.py [--corpus PATH] [--family NAME] [--misses]
                                            [--json PATH]

Every sample of the third-party corpus (tests/corpus/formats.py: ../shared/corpus/formats,
one line each, continuation lines of multi-line entries included) goes through the native
core's dispatcher, `_native.parse("auto", line, reference_us)`, as a line of an `auto` topic
would. The table gives, per format family: how many lines and entry lines (not continuation
lines) there are, the share of entry lines (and of all lines) that got a timestamp read from
the line and a level, and, where the source states them, how many state a timestamp, a level
or a header-less message, and the share edgewatch got exactly right (timestamps to the
microsecond, in UTC; a stated wall-clock time, without zone, is compared as UTC, without the
year where the line has none). The footer counts the lines given a time more than a week
after their receive time (a year-less line completed into the next year) and says which
cases of the sources were skipped, and why.

The reference (the receive time, from which a year-less line gets its year) is five minutes
after the sample's stated time where the source states one with a year, else
2026-12-07T12:00Z. It is a report: low coverage never fails it; only a crash or a missing
corpus does (exit 2 for the latter).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import corpus_path
from tests.corpus.formats import NOT_READ, Loaded, load
from tests.corpus.judge import DEFAULT_REFERENCE, FUTURE, Outcome, reference_for, run


@dataclass
class Figures:
    """One family's (or the total's) counts."""

    lines: int = 0
    entries: int = 0
    refused: int = 0
    timestamp_entries: int = 0
    level_entries: int = 0
    timestamp_all: int = 0
    level_all: int = 0
    timestamp_stated: int = 0
    timestamp_equal: int = 0
    level_stated: int = 0
    level_equal: int = 0
    message_stated: int = 0
    message_equal: int = 0
    future: int = 0
    years_given: Counter[int] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        """Count one outcome in."""
        entry = not outcome.sample.continuation
        self.lines += 1
        self.entries += entry
        self.refused += outcome.refused is not None
        self.future += outcome.future
        has_ts, has_level = outcome.timestamp is not None, outcome.level is not None
        self.timestamp_all += has_ts
        self.level_all += has_level
        self.timestamp_entries += entry and has_ts
        self.level_entries += entry and has_level
        for ok, name in (
            (outcome.timestamp_ok, "timestamp"),
            (outcome.level_ok, "level"),
            (outcome.message_ok, "message"),
        ):
            if ok is not None:
                setattr(self, f"{name}_stated", getattr(self, f"{name}_stated") + 1)
                setattr(self, f"{name}_equal", getattr(self, f"{name}_equal") + ok)
        yearless = outcome.sample.wall_clock is not None and not outcome.sample.year_stated
        if yearless and outcome.timestamp is not None:
            self.years_given[outcome.timestamp.year] += 1

    def merge(self, other: Figures) -> None:
        """Add another family's counts (for the total row)."""
        for name in self.counts():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.years_given.update(other.years_given)

    @staticmethod
    def counts() -> list[str]:
        """The names of the plain counts."""
        return [f.name for f in fields(Figures) if f.name != "years_given"]

    def as_json(self) -> dict[str, Any]:
        """The figures as JSON values (years as strings: JSON keys are)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.counts()}
        out["years_given"] = {str(y): n for y, n in sorted(self.years_given.items())}
        return out


def percent(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage, or a dash when there is no whole."""
    return f"{100 * part / whole:.1f}" if whole else "-"


HEADERS = (
    "family",
    "lines",
    "entries",
    "ts %",
    "lvl %",
    "ts % all",
    "lvl % all",
    "refused",
    "ts stated",
    "ts = %",
    "lvl stated",
    "lvl = %",
    "msg stated",
    "msg = %",
)


def row(name: str, f: Figures) -> list[str]:
    """One table row: counts, then shares (of entry lines, of all lines, of stated values)."""
    return [
        name,
        str(f.lines),
        str(f.entries),
        percent(f.timestamp_entries, f.entries),
        percent(f.level_entries, f.entries),
        percent(f.timestamp_all, f.lines),
        percent(f.level_all, f.lines),
        str(f.refused),
        str(f.timestamp_stated),
        percent(f.timestamp_equal, f.timestamp_stated),
        str(f.level_stated),
        percent(f.level_equal, f.level_stated),
        str(f.message_stated),
        percent(f.message_equal, f.message_stated),
    ]


def print_table(rows: list[list[str]], footer: list[str]) -> None:
    """The table with rich if the venv has it, else plain aligned text; then the footer."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(r[i]) for r in [list(HEADERS), *rows]) for i in range(len(HEADERS))]
        for r in [list(HEADERS), *rows]:
            cells = [r[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
            ]
            print("  ".join(cells))
        print("\n".join(footer))
        return
    console = Console() if sys.stdout.isatty() else Console(width=200)
    table = Table(title="Timestamp and level coverage over the format corpus")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True)
    for r in rows[:-1]:
        table.add_row(*r)
    table.add_row(*rows[-1], style="bold", end_section=True)
    console.print(table)
    console.print("\n".join(footer), highlight=False, markup=False)


def describe(outcome: Outcome) -> list[str]:
    """A miss, for --misses: the line, and each stated value against what was got."""
    s = outcome.sample
    out = [f"{s.source}{'  (continuation)' if s.continuation else ''}", f"  line: {s.line!r}"]
    if outcome.refused:
        out.append(f"  refused: {outcome.refused}")
    want_ts: object = s.timestamp or "-"
    if s.wall_clock is not None:
        layout = "%Y-%m-%d %H:%M:%S.%f" if s.year_stated else "%m-%d %H:%M:%S.%f (no year)"
        want_ts = f"{s.wall_clock.strftime(layout)} wall clock"
    future = f" (after the receive time {reference_for(s):%Y-%m-%d})" if outcome.future else ""
    out.append(f"  timestamp: stated {want_ts}, got {outcome.timestamp}{future}")
    out.append(f"  level: stated {s.level or '-'}, got {outcome.level}")
    if s.message is not None and not outcome.message_ok:
        out.append(f"  message: stated {s.message!r}\n           got    {outcome.message!r}")
    return out


def is_miss(outcome: Outcome) -> bool:
    """An entry line without a timestamp or level, or any line with a wrong stated value."""
    missing = not outcome.sample.continuation and (outcome.timestamp is None or not outcome.level)
    wrong = outcome.future or False in (outcome.timestamp_ok, outcome.level_ok, outcome.message_ok)
    return missing or wrong


def footer_lines(loaded: Loaded, total: Figures) -> list[str]:
    """What the columns mean, the year-less lines' years, and what was skipped."""
    lines = [
        "ts/lvl %: entry lines (not continuation lines) with a timestamp read from the line / a "
        "level; '% all': of all lines. stated: samples whose source states one; '= %': exactly "
        "right (timestamps to the microsecond, UTC).",
        f"reference: stated time + 5 min where known, else {DEFAULT_REFERENCE.isoformat()}.",
    ]
    if total.years_given:
        years = ", ".join(f"{y}: {n}" for y, n in sorted(total.years_given.items()))
        lines.append(f"lines whose source states a time without year were given the years {years}")
    lines.append(
        f"{total.future} lines got a timestamp more than {FUTURE.days} days after their receive "
        "time (the reference): a year-less time completed into the next year (--misses lists them)"
    )
    for skip in loaded.skipped_summary():
        lines.append(f"skipped {skip.count} cases from {skip.source}: {skip.why}")
    for where, why in NOT_READ:
        lines.append(f"not read: {where}: {why}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the table (and the misses), write the JSON; 0 unless there is no corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="the corpus root")
    parser.add_argument("--family", help="only this family (a folder under formats/)")
    parser.add_argument("--misses", action="store_true", help="list the misses")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    root = args.corpus or corpus_path()
    try:
        loaded = load(root)
    except FileNotFoundError as err:
        print(f"no corpus: {err} (set EDGEWATCH_CORPUS or pass --corpus)", file=sys.stderr)
        return 2
    chosen = [s for s in loaded.samples if args.family in (None, s.family)]
    if not chosen:
        print(f"no samples for family {args.family!r}", file=sys.stderr)
        return 2
    outcomes = [run(sample) for sample in chosen]
    families: dict[str, Figures] = {}
    for outcome in outcomes:
        families.setdefault(outcome.sample.family, Figures()).add(outcome)
    total = Figures()
    for figures in families.values():
        total.merge(figures)
    rows = [row(name, families[name]) for name in sorted(families)] + [row("total", total)]
    print_table(rows, footer_lines(loaded, total))
    if args.misses:
        for outcome in outcomes:
            if is_miss(outcome):
                print("\n".join(describe(outcome)))
    if args.json:
        report = {
            "corpus": str(root),
            "default_reference": DEFAULT_REFERENCE.isoformat(),
            "families": {name: f.as_json() for name, f in sorted(families.items())},
            "total": total.as_json(),
            "skipped": [asdict(skip) for skip in loaded.skipped_summary()],
        }
        args.json.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
