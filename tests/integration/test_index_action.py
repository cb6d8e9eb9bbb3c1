"""The index action against the real Elasticsearch: Watcher's per-document summary for one
document and for a bulk, with a failed item (x-pack/plugin/watcher/src/main/java/org/
elasticsearch/xpack/watcher/actions/index/ExecutableIndexAction.java)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.alerting import adapters
from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from pipeline.config import Config


@pytest.fixture
def index(es: Elasticsearch, unique_name: str) -> Iterator[str]:
    es.indices.create(index=unique_name, mappings={"properties": {"n": {"type": "long"}}})
    yield unique_name
    es.indices.delete(index=unique_name, ignore_unavailable=True)


def _run(config: Config, es: Elasticsearch, payload: Any, action: Any) -> dict[str, Any]:
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": payload},
        "actions": {"store": {"index": action}},
    }
    options = RunOptions(execution_time=datetime(2026, 11, 25, 10, tzinfo=UTC))
    record, _ = execute("w", watch, options, adapters.services(config, es), None)
    (result,) = record["result"]["actions"]
    out: dict[str, Any] = result
    return out


def test_one_document_then_the_same_id_again(config: Config, es: Elasticsearch, index: str) -> None:
    """Single document: `index.response` is `{created, result, id, version, index}`; indexing
    the same id again is `updated`, version 2 (indexResponseToXContent)."""
    action = {"index": index, "doc_id": "one", "refresh": "true", "execution_time_field": "t"}
    first = _run(config, es, {"n": 1}, action)
    assert first["status"] == "success"
    assert first["index"] == {
        "response": {
            "created": True,
            "result": "created",
            "id": "one",
            "version": 1,
            "index": index,
        }
    }
    again = _run(config, es, {"n": 2}, action)
    assert again["index"]["response"]["result"] == "updated"
    assert again["index"]["response"]["version"] == 2
    assert es.get(index=index, id="one")["_source"] == {"n": 2, "t": "2026-11-25T10:00:00.000Z"}


def test_a_bulk_with_a_failed_document_is_a_partial_failure(
    config: Config, es: Elasticsearch, index: str
) -> None:
    """`ctx.payload._doc` as a list: one summary per document, the failed one with `failed`
    and `message`, status `partial_failure` (indexBulk); `_id` taken out of each document."""
    docs = [{"_id": "a", "n": 1}, {"_id": "b", "n": "not a number"}]
    result = _run(config, es, {"_doc": docs}, {"index": index, "refresh": "true"})
    assert result["status"] == "partial_failure"
    ok, failed = result["index"]["response"]
    assert ok == {"created": True, "result": "created", "id": "a", "version": 1, "index": index}
    assert failed["failed"] is True and failed["id"] == "b" and failed["index"] == index
    assert "n" in failed["message"]
    assert es.get(index=index, id="a")["_source"] == {"n": 1}
