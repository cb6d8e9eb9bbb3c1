"""Checks rule files as Watcher checks a watch it is given, each problem as
`file: /json/pointer: message`:

    rules/disk.json: /actions/notify/slack: action type 'slack' is not supported by edgewatch ...
    rules/disk.json: /trigger/schedule/timezone: unknown timezone 'Pangea/Tethys' ...

first reading the file (files.py), then the schema (schema_check.py), then, in a rule the
schema accepts, what Watcher checks when the watch is put (checks.py) and, given a
`ScriptCheck`, its scripts compiled (scripts.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pipeline.alerting.format.checks import check_rule
from pipeline.alerting.format.files import (
    DEFAULT_MAX_BYTES,
    FolderError,
    Problem,
    Read,
    find_rule_files,
    read_rule_file,
)
from pipeline.alerting.format.schema_check import schema_problems, watch_schema
from pipeline.alerting.format.scripts import ScriptCheck

__all__ = [
    "Problem",
    "check_file",
    "validate_file",
    "validate_paths",
    "validate_rule",
    "watch_schema",
]


def validate_rule(data: object, source: str) -> list[Problem]:
    """Problems of one decoded rule: a watch, or an `_execute` body `{"watch": {...}}`.

    `source` names the rule in the problems (usually its file). An empty list means valid.
    A rule the schema accepts is then checked as Watcher checks it at PUT (checks.py).
    """
    return schema_problems(data, source) or check_rule(data, source)


def validate_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, scripts: ScriptCheck | None = None
) -> list[Problem]:
    """Problems of one rule file: reading it (size, encoding, JSON, nesting), then the schema,
    then what Watcher checks at PUT (checks.py) and, with `scripts`, its scripts' compiling.

    Never raises: whatever goes wrong with one file is a problem of that file.
    """
    return check_file(path, max_bytes, scripts).problems


def check_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, scripts: ScriptCheck | None = None
) -> Read:
    """One rule file read and validated: its bytes and data, and all its problems.

    Scripts are compiled (`scripts`) only in a rule with no other problem.
    """
    read = read_rule_file(path, max_bytes)
    if read.problems and read.data is None:
        return read
    try:
        found = validate_rule(read.data, str(path))
    except RecursionError:
        found = [Problem(str(path), "", "nested too deeply to check; flatten it")]
    if scripts is not None and not read.problems and not found:
        found = scripts.problems(read.data, str(path))
    return Read(read.raw, read.data, read.problems + found)


def validate_paths(
    paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES, scripts: ScriptCheck | None = None
) -> tuple[int, list[Problem]]:
    """Check files and folders (every `*.json` below them): (files checked, problems).

    A folder is walked as `edgewatch alert` walks its rules folder, so both report the same
    problems (unlistable subfolders, folders named `*.json`, unreadable or oversized files).
    With `scripts`, inline scripts are compiled too; `scripts.unchecked` then says why they
    could not be, if they could not.
    """
    if scripts is not None:
        scripts.begin()
    checked = 0
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            try:
                found = find_rule_files(path)
            except FolderError as err:
                problems.append(Problem(str(path), "", str(err)))
                continue
            files = found.files
            problems.extend(found.problems)
        elif os.path.lexists(path):
            files = [path]
        else:
            problems.append(Problem(str(path), "", "no such file or directory"))
            continue
        for file in files:
            checked += 1
            problems.extend(validate_file(file, max_bytes, scripts))
    return checked, problems
