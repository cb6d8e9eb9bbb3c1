"""Print the fault figures as a Markdown table: the latest row of each case and scale in
.edgewatch/faults/results.jsonl (`make faults` prints it at the end).

    .venv/bin/python -m tests.faults.table [--scale large] [--all]
"""

from __future__ import annotations

import argparse
import json

from tests.fixtures.faults import RESULTS


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", help="only this scale (small or large)")
    parser.add_argument("--all", action="store_true", help="every row, not the latest per case")
    args = parser.parse_args()
    if not RESULTS.exists():
        print(f"no figures yet ({RESULTS} does not exist): run make faults")
        return
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if args.scale in (None, r["scale"])]
    if not args.all:
        latest = {(r["scale"], r["case"]): r for r in rows}
        rows = list(latest.values())
    print(
        "| at | scale | case | events | RSS before / peak / after (MB) | resume | duration | more |"
    )
    print("| --- | --- | --- | ---: | --- | ---: | ---: | --- |")
    for r in rows:
        rss = " / ".join(_mb(r[k]) for k in ("rss_before_mb", "rss_peak_mb", "rss_after_mb"))
        resume = "-" if r["resume_s"] is None else f"{r['resume_s']:.1f} s"
        more = ", ".join(f"{k} {v}" for k, v in r["extra"].items())
        print(
            f"| {r['at']} | {r['scale']} | {r['case']} | {r['events']:,} | {rss} | {resume} "
            f"| {r['duration_s']:.0f} s | {more} |"
        )


if __name__ == "__main__":
    main()
