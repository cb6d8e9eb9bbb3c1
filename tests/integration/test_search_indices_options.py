"""A search input's `indices_options` reach the real Elasticsearch, in Watcher's forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.alerting.adapters import services
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from pipeline.alerting.format.validate import validate_rule
from pipeline.config import Config


def watch(pattern: str, expand_wildcards: object) -> dict[str, Any]:
    options = {"expand_wildcards": expand_wildcards, "ignore_unavailable": True}
    return {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {
            "search": {"request": {"indices": [pattern], "indices_options": options, "body": {}}}
        },
        "condition": {"always": {}},
        "actions": {},
    }


def test_expand_wildcards_array_and_comma_forms(
    config: Config, es: Elasticsearch, index_name: str
) -> None:
    """Watcher writes `indices_options.expand_wildcards` as an array (`["open", "hidden"]`, as
    GET _watch shows a stored watch) and reads a comma list too (IndicesOptions.fromXContent;
    x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/support/search/
    WatcherSearchTemplateRequest.java). Both validate and both reach Elasticsearch as they
    are (its _search parameter and _msearch header take either): a hidden index is searched
    only when `hidden` is asked for, by `_search` and `_msearch` alike."""
    es.indices.create(index=index_name, settings={"index": {"hidden": True}})
    es.index(index=index_name, document={"message": "hidden"}, refresh=True)
    pattern = f"{index_name}*"
    for batch in (False, True):
        real = services(config, es, batch_searches=batch)
        for form, hits in (
            (["open", "hidden"], 1),
            ("open,hidden", 1),
            (["open"], 0),
            ("open", 0),
        ):
            rule = watch(pattern, form)
            assert validate_rule(rule, "rule.json") == [], form
            options = RunOptions(execution_time=datetime.now(UTC))
            record, _ = execute("w", rule, options, real)
            result = record["result"]["input"]
            assert result["status"] == "success", (batch, form, result)
            assert result["payload"]["hits"]["total"] == hits, (batch, form)
