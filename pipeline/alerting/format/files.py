"""Finding and reading rule files without trusting them.

A rules folder is written by people and by sync tools (git-sync), so any file in it may be
broken in ways a JSON parser or the schema check does not expect: too large to read, nested
deeper than Python can recurse, not UTF-8, a symlink loop, unreadable, a FIFO that blocks a
reader forever, a directory named `*.json`. Everything here turns such a file into a
`Problem` naming the file (and the JSON pointer, where there is one), so the caller skips that
file and goes on with the others. Only a rules folder that cannot be listed at all raises
(`FolderError`): then the caller must keep what it had rather than conclude "no rules".
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# [alert] max_rule_file_bytes: a rule is a few kilobytes; a megabyte is a mistake or an attack.
DEFAULT_MAX_BYTES = 1_048_576
SIZE_SETTING = "[alert] max_rule_file_bytes"
# Rendering and evaluating a watch recurse once per level of its JSON; 100 levels is far more
# than any real watch nests and keeps that recursion far from Python's limit of 1000 frames.
MAX_DEPTH = 100
# `<rules folder>/_scripts/<id>.json`: stored scripts kept beside the rules (stored_scripts.py),
# not rules; the walk leaves that folder out.
SCRIPTS_DIR = "_scripts"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rule file, at a JSON pointer (RFC 6901) into that file.

    `pointer` is "" for the whole document; `str()` shows it as "/" so that every line reads
    `file: /pointer: message`.
    """

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.pointer or '/'}: {self.message}"


def pointer_token(key: object) -> str:
    """One key as a JSON pointer token (RFC 6901): `~` as `~0`, `/` as `~1`."""
    return str(key).replace("~", "~0").replace("/", "~1")


class FolderError(Exception):
    """The rules folder itself cannot be listed (missing, permission denied, I/O error)."""


@dataclass
class Found:
    """What a walk of a rules folder found: rule files, and problems of what is not one."""

    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable_dirs: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Read:
    """One rule file read and decoded: its bytes and data, or the problems that stop it."""

    raw: bytes
    data: Any
    problems: list[Problem]


def find_rule_files(root: Path) -> Found:
    """Every `*.json` under `root`, sorted; subfolders that cannot be listed become problems.

    Symlinked subfolders are not entered (as `Path.rglob` does), so a symlink loop can never
    make the walk endless; a symlinked *file* is read like any other file.
    """
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise FolderError(
            f"rules folder {root} cannot be read: {exc.strerror or exc}; "
            "check that it exists and that edgewatch may list it"
        ) from exc
    found = Found()

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        found.unreadable_dirs.append(where)
        found.problems.append(
            Problem(str(where), "", f"cannot list the folder: {exc.strerror or exc}")
        )

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        base = Path(folder)
        if base == root and SCRIPTS_DIR in dirs:
            dirs.remove(SCRIPTS_DIR)
        dirs.sort()
        for name in dirs:
            if name.endswith(".json"):
                found.problems.append(
                    Problem(str(base / name), "", "is a folder, not a rule file; rename it")
                )
        found.files.extend(base / name for name in files if name.endswith(".json"))
    found.files.sort()
    return found


def read_rule_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Read:
    """Read and decode one rule file; any failure is a problem of that file, never an error."""
    try:
        return _read(path, max_bytes)
    except Exception as exc:  # one file's surprise must not stop the others
        return _failed(path, f"cannot be read ({type(exc).__name__}: {exc})")


def _read(path: Path, max_bytes: int) -> Read:
    source = str(path)
    raw = _read_bytes(path, max_bytes)
    if isinstance(raw, str):
        return _failed(path, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(path, f"not UTF-8 text (byte offset {exc.start})")
    duplicates: list[tuple[dict[str, Any], str]] = []
    try:
        data = json.loads(text, object_pairs_hook=_pairs_hook(duplicates))
    except json.JSONDecodeError as exc:
        # Some of json's messages end in " at", meant to be followed by the position.
        reason = exc.msg.removesuffix(" at")
        where = f"line {exc.lineno}, column {exc.colno}"
        return _failed(path, f"not valid JSON at {where}: {reason}")
    except RecursionError:
        return _failed(path, f"nested too deeply to read (a rule may nest {MAX_DEPTH} levels)")
    too_deep = _too_deep(data)
    if too_deep is not None:
        message = f"nested more than {MAX_DEPTH} levels deep; flatten it"
        return Read(raw, None, [Problem(source, _pointer(too_deep), message)])
    return Read(raw, data, _duplicate_problems(source, data, duplicates))


def _read_bytes(path: Path, max_bytes: int) -> bytes | str:
    """The file's bytes, or why they cannot be had (a message)."""
    try:
        # O_NONBLOCK: opening a FIFO named *.json must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "cannot read the file: a symlink loop; point the link at a real file"
        return f"cannot read the file: {exc.strerror or exc}"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return "is a folder, not a rule file; rename it"
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file (a FIFO, socket or device); remove it"
        too_big = f"larger than {max_bytes:,} bytes ({SIZE_SETTING}); split the rule or raise it"
        if info.st_size > max_bytes:
            return f"the file is {info.st_size:,} bytes, " + too_big
        # Read one byte over the cap: a file that grew after fstat is still caught.
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        return "the file is " + too_big
    return raw


def _failed(path: Path, message: str) -> Read:
    return Read(b"", None, [Problem(str(path), "", message)])


def _too_deep(data: Any) -> tuple[str, ...] | None:
    """The path of the first value nested deeper than MAX_DEPTH, or None (no recursion)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i))) for i, item in enumerate(value))
    return None


def _pairs_hook(
    duplicates: list[tuple[dict[str, Any], str]],
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    # Elasticsearch rejects a watch with a repeated key; Python would silently keep the last.
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                duplicates.append((obj, key))
            obj[key] = value
        return obj

    return hook


def _duplicate_problems(
    source: str, data: object, duplicates: list[tuple[dict[str, Any], str]]
) -> list[Problem]:
    if not duplicates:
        return []
    where = {id(obj): path for path, obj in _objects(data, ())}
    return [
        Problem(source, _pointer((*where.get(id(obj), ()), key)), f"duplicate key {key!r}")
        for obj, key in duplicates
    ]


def _objects(value: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _objects(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _objects(item, (*path, str(index)))


def _pointer(path: tuple[str, ...]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
