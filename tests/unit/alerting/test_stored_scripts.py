"""Stored scripts by id: the rules folder's `_scripts/` first, then the cluster, cached until
the rules reload (pipeline/alerting/stored_scripts.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pipeline.alerting.format.loader import load_rules
from pipeline.alerting.stored_scripts import StoredScriptError, StoredScripts, script_of


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_folder_scripts_come_first_then_the_cluster_cached_until_reload(tmp_path: Path) -> None:
    """Watcher compiles `{"id": ...}` templates from the scripts stored with `PUT _scripts/<id>`
    (x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/mustache/
    60_template_with_params.yml stores one): a file holding that body beside the rules is
    read first, the cluster is asked for the others, once until the next reload."""
    _write(tmp_path / "_scripts" / "alert.json", {"script": {"lang": "mustache", "source": "x"}})
    asked: list[str] = []

    def cluster(script_id: str) -> Mapping[str, Any] | None:
        asked.append(script_id)
        return {"lang": "mustache", "source": "from es"} if script_id == "remote" else None

    scripts = StoredScripts(cluster, tmp_path)
    assert scripts("alert") == {"lang": "mustache", "source": "x"}
    assert scripts("remote") == {"lang": "mustache", "source": "from es"}
    assert scripts("remote") == {"lang": "mustache", "source": "from es"}
    assert scripts("missing") is None
    assert scripts("missing") is None
    assert asked == ["remote", "missing"]
    _write(tmp_path / "_scripts" / "missing.json", {"script": {"lang": "mustache", "source": "y"}})
    assert scripts.reload(tmp_path) == []
    assert scripts("missing") == {"lang": "mustache", "source": "y"}
    scripts("remote")
    assert asked == ["remote", "missing", "remote"]


def test_object_sources_become_json_text_and_bad_files_are_problems(tmp_path: Path) -> None:
    """Elasticsearch stores an object mustache source as JSON text with the option
    `content_type: application/json` (server/src/main/java/org/elasticsearch/script/
    StoredScriptSource.java); a file that is not a `PUT _scripts` body is a problem."""
    _write(
        tmp_path / "_scripts" / "body.json",
        {"script": {"lang": "mustache", "source": {"q": "{{ctx.watch_id}}", "n": 1}}},
    )
    _write(tmp_path / "_scripts" / "bad.json", {"lang": "mustache"})
    scripts = StoredScripts(None, tmp_path)
    assert scripts("body") == {
        "lang": "mustache",
        "source": '{"q":"{{ctx.watch_id}}","n":1}',
        "options": {"content_type": "application/json"},
    }
    assert scripts("bad") is None
    assert len(scripts.problems) == 1 and "bad.json" in scripts.problems[0]
    with pytest.raises(StoredScriptError, match="lang"):
        script_of({"script": {"source": "x"}}, "here")


def test_the_rules_walk_leaves_the_scripts_folder_out(tmp_path: Path) -> None:
    """Scripts beside the rules are not rules: the loader skips `<rules>/_scripts/`."""
    _write(tmp_path / "_scripts" / "s.json", {"script": {"lang": "mustache", "source": "x"}})
    loaded = load_rules(tmp_path)
    assert loaded.rules == {} and loaded.problems == []
