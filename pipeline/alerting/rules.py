"""Loading rule files: every `*.json` under a folder, validated, with a stable id each.

A rule's id is its path under the folder without `.json` (`fleet/error-spike`), so ids stay
unique and readable, and the same file keeps its state across restarts and renames of others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.alerting.schedules import Schedule, ScheduleError, parse_schedule
from pipeline.alerting.validate import Problem, validate_file


@dataclass(frozen=True)
class Rule:
    """A valid rule file: its id, where it is, the watch, and its schedule."""

    id: str
    path: Path
    watch: Mapping[str, Any]
    schedule: Schedule
    digest: str  # of the file's bytes: a changed file is rescheduled


@dataclass(frozen=True)
class Loaded:
    """What a folder holds: the valid rules by id, and the problems of the invalid files."""

    rules: dict[str, Rule]
    problems: list[Problem]


def rule_id(root: Path, path: Path) -> str:
    """`fleet/error-spike` for `<root>/fleet/error-spike.json`."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_rules(root: Path) -> Loaded:
    """Load and validate every rule file under `root`; invalid ones are reported and skipped."""
    rules: dict[str, Rule] = {}
    problems: list[Problem] = []
    for path in sorted(root.rglob("*.json")):
        found = validate_file(path)
        if found:
            problems.extend(found)
            continue
        raw = path.read_bytes()
        data = json.loads(raw)
        watch = data.get("watch", data)
        try:
            schedule = parse_schedule(watch["trigger"]["schedule"])
        except ScheduleError as err:
            problems.append(Problem(str(path), "/trigger/schedule", str(err)))
            continue
        ident = rule_id(root, path)
        rules[ident] = Rule(ident, path, watch, schedule, hashlib.sha256(raw).hexdigest())
    return Loaded(rules, problems)
