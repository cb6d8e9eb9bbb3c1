"""Loading rule files: every `*.json` under a folder, validated, with a stable id each.

Any file may be broken or hostile (files.py reads it defensively): such a file is a
problem and is skipped, never an exception that would stop the other rules.

A rule's id is its path under the folder without `.json` (`fleet/error-spike`), so ids stay
unique and readable, and the same file keeps its state across restarts and renames of others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.alerting.engine.schedules.cron import ScheduleError
from pipeline.alerting.engine.schedules.schedule import Schedule, parse_schedule
from pipeline.alerting.format.files import DEFAULT_MAX_BYTES, FolderError, find_rule_files
from pipeline.alerting.format.scripts import ScriptCheck
from pipeline.alerting.format.validate import Problem, check_file

__all__ = ["FolderError", "Loaded", "Rule", "load_rules", "rule_id"]


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
    """What a folder holds: the valid rules by id, and the problems of the invalid files.

    `unreadable_dirs` are subfolders that could not be listed: their rules are unknown, not
    removed, so a caller keeps running what it had from them.
    """

    rules: dict[str, Rule]
    problems: list[Problem]
    unreadable_dirs: list[Path] = field(default_factory=list)


def rule_id(root: Path, path: Path) -> str:
    """`fleet/error-spike` for `<root>/fleet/error-spike.json`."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_rules(
    root: Path, max_bytes: int = DEFAULT_MAX_BYTES, scripts: ScriptCheck | None = None
) -> Loaded:
    """Load and validate every rule file under `root`; invalid ones are reported and skipped.

    With `scripts`, a rule whose inline script does not compile is refused before it ever
    runs, as Watcher refuses it at PUT; the check remembers each source it compiled, so a
    reload compiles only new or changed scripts. When the executor cannot be asked, rules load
    unchecked (their runs report what fails).

    Raises `FolderError` only when `root` itself cannot be listed; any trouble with one file
    or subfolder is a problem of that file or subfolder.
    """
    if scripts is not None:
        scripts.begin()
    found = find_rule_files(root)
    rules: dict[str, Rule] = {}
    problems: list[Problem] = list(found.problems)
    for path in found.files:
        try:
            rule = _load_one(root, path, max_bytes, problems, scripts)
        except Exception as exc:  # one file's surprise must never stop the others
            problems.append(Problem(str(path), "", f"cannot be loaded: {type(exc).__name__}"))
            continue
        if rule is not None:
            rules[rule.id] = rule
    return Loaded(rules, problems, found.unreadable_dirs)


def _load_one(
    root: Path,
    path: Path,
    max_bytes: int,
    problems: list[Problem],
    scripts: ScriptCheck | None,
) -> Rule | None:
    checked = check_file(path, max_bytes, scripts)
    if checked.problems:
        problems.extend(checked.problems)
        return None
    data = checked.data
    watch = data.get("watch", data)
    try:
        schedule = parse_schedule(watch["trigger"]["schedule"])
    except ScheduleError as err:
        problems.append(Problem(str(path), "/trigger/schedule", str(err)))
        return None
    ident = rule_id(root, path)
    return Rule(ident, path, watch, schedule, hashlib.sha256(checked.raw).hexdigest())
