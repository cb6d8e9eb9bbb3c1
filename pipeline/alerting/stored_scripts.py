"""Stored scripts by id: `{"id": ...}` text templates and search templates render them.

Watcher reads a stored script from the cluster (`PUT _scripts/<id>` stored it). edgewatch reads
them from two places, in this order:

1. files beside the rules: `<rules folder>/_scripts/<id>.json`, each holding the body of
   `PUT _scripts/<id>` (`{"script": {"lang": "mustache", "source": ...}}`). Rules live in git,
   so their scripts can too, and some clusters (the minimal build the local stack runs) refuse
   to store mustache scripts. They are read with the rules and again at each reload.
2. the Elasticsearch edgewatch talks to (`GET _scripts/<id>`), for scripts stored there as
   Watcher users store them. An answer (found or not) is kept until the next reload of the
   rules, so a run does not ask again for every template.

A script is `{"lang": ..., "source": <text>, "options"?: {...}}`, as Elasticsearch returns it:
an object `source` of a mustache script becomes compact JSON text with the option
`content_type: application/json`, as Elasticsearch does when it stores one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from pipeline.alerting.format.files import SCRIPTS_DIR, read_rule_file

Lookup = Callable[[str], Mapping[str, Any] | None]

JSON_CONTENT_TYPE = "application/json"


class StoredScriptError(Exception):
    """A stored script could not be read (not a missing one: that is None)."""


def script_of(body: Any, where: str) -> dict[str, Any]:
    """The script of a `PUT _scripts/<id>` body (or of a `GET _scripts/<id>` answer).

    Raises StoredScriptError naming `where` when the body is not one."""
    script = body.get("script") if isinstance(body, Mapping) else None
    if not isinstance(script, Mapping):
        raise StoredScriptError(f'{where}: expected {{"script": {{"lang", "source"}}}}')
    lang = script.get("lang")
    source = script.get("source")
    if not isinstance(lang, str) or not lang:
        raise StoredScriptError(f"{where}: must contain a script [lang]")
    options = dict(script.get("options") or {})
    if isinstance(source, Mapping) and lang == "mustache":
        # Elasticsearch keeps an object template as JSON text that renders JSON-escaped.
        source = json.dumps(source, separators=(",", ":"), ensure_ascii=False)
        options["content_type"] = JSON_CONTENT_TYPE
    if not isinstance(source, str):
        raise StoredScriptError(f"{where}: must contain a script [source] (text)")
    out: dict[str, Any] = {"lang": lang, "source": source}
    if options:
        out["options"] = {str(k): str(v) for k, v in options.items()}
    return out


def read_folder(rules_dir: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The scripts in `<rules_dir>/_scripts/*.json` by id, and the problems of the files that
    are not scripts (each `file: message`). No such folder: no scripts."""
    folder = rules_dir / SCRIPTS_DIR
    if not folder.is_dir():
        return {}, []
    scripts: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.json")):
        read = read_rule_file(path)
        if read.problems:
            problems += [str(p) for p in read.problems]
            continue
        try:
            scripts[path.stem] = script_of(read.data, str(path))
        except StoredScriptError as err:
            problems.append(str(err))
    return scripts, problems


def cluster_lookup(client: httpx.Client) -> Lookup:
    """`GET _scripts/<id>` on the server `client` points at; None when it has no such script."""

    def lookup(script_id: str) -> Mapping[str, Any] | None:
        where = f"stored script [{script_id}] in {client.base_url}"
        try:
            response = client.get(f"/_scripts/{quote(script_id, safe='')}")
        except httpx.HTTPError as err:
            raise StoredScriptError(f"{where}: cannot be read: {err}") from err
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise StoredScriptError(f"{where}: HTTP {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError as err:
            raise StoredScriptError(f"{where}: the answer is not JSON") from err
        return script_of(body, where)

    return lookup


class StoredScripts:
    """Stored scripts by id: the rules folder's `_scripts/` first, then the cluster; a
    `Services.stored_script`. Safe to call from the executions' threads."""

    def __init__(self, cluster: Lookup | None = None, rules_dir: Path | None = None) -> None:
        self._cluster = cluster
        self._lock = threading.Lock()
        self._files: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, Mapping[str, Any] | None] = {}
        self.problems: list[str] = []
        if rules_dir is not None:
            self.reload(rules_dir)

    def reload(self, rules_dir: Path) -> list[str]:
        """Read the folder's scripts again and forget the cluster's answers; the problems."""
        files, problems = read_folder(rules_dir)
        with self._lock:
            self._files = files
            self._answers = {}
            self.problems = problems
        return problems

    def __call__(self, script_id: str) -> Mapping[str, Any] | None:
        with self._lock:
            if script_id in self._files:
                return self._files[script_id]
            if script_id in self._answers or self._cluster is None:
                return self._answers.get(script_id)
        found = self._cluster(script_id)  # outside the lock: a slow server blocks no one
        with self._lock:
            self._answers[script_id] = found
        return found
