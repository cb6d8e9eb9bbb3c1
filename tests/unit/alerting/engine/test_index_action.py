"""The index action as Watcher runs it (x-pack/plugin/watcher/src/main/java/org/elasticsearch/
xpack/watcher/actions/index/ExecutableIndexAction.java): documents, routing fields, the
per-document summary, bulk statuses, and what a simulated run shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipeline.alerting.engine.execute import execute
from pipeline.alerting.engine.run import RunOptions
from tests.unit.alerting.fakes import Fakes

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Bulk:
    """A bulk endpoint that answers each document created, or failed when it has `bad`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []

    def __call__(
        self, name: str, docs: list[dict[str, Any]], _options: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.calls.append((name, [dict(d) for d in docs]))
        items = []
        for number, doc in enumerate(docs):
            meta = {"_index": doc.get("_index", name), "_id": doc.get("_id", f"auto{number}")}
            if doc.get("bad"):
                error = {"type": "document_parsing_exception", "reason": "bad field"}
                items.append({"index": {**meta, "status": 400, "error": error}})
            else:
                items.append({"index": {**meta, "_version": 1, "result": "created"}})
        return {"errors": any(d.get("bad") for d in docs), "items": items}


def _run(
    payload: Any, action: dict[str, Any], simulate: bool = False
) -> tuple[dict[str, Any], Bulk]:
    bulk = Bulk()
    services = replace(Fakes().services(), index=bulk)
    watch = {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {"simple": payload},
        "actions": {"store": {"index": action}},
    }
    options = RunOptions(
        execution_time=T0, simulate_actions=frozenset({"_all"}) if simulate else frozenset()
    )
    record, _ = execute("w", watch, options, services, None)
    (result,) = record["result"]["actions"]
    return result, bulk


def test_one_document_gives_watchers_summary() -> None:
    """ExecutableIndexAction.indexResponseToXContent: created, result, id, version, index."""
    result, bulk = _run({"n": 1}, {"index": "alerts", "doc_id": "d1"})
    assert result["status"] == "success"
    assert result["index"] == {
        "response": {
            "created": True,
            "result": "created",
            "id": "d1",
            "version": 1,
            "index": "alerts",
        }
    }
    assert bulk.calls == [("alerts", [{"_index": "alerts", "_id": "d1", "n": 1}])]


def test_payload_index_and_id_route_the_document_and_leave_it() -> None:
    """`_index` / `_id` of the payload are removed from the source and used
    (ExecutableIndexAction.getField)."""
    result, bulk = _run({"_index": "mine", "_id": 7, "n": 1}, {})
    assert result["index"]["response"]["index"] == "mine"
    assert result["index"]["response"]["id"] == "7"
    assert bulk.calls[0][1] == [{"_index": "mine", "_id": "7", "n": 1}]


def test_payload_index_together_with_the_action_index_fails_with_watchers_message() -> None:
    """ExecutableIndexAction.getField: both set is an error naming both."""
    result, bulk = _run({"_index": "mine", "n": 1}, {"index": "alerts"})
    assert result["status"] == "failure"
    assert result["reason"] == (
        "could not execute action [store] of watch [w]. [ctx.payload._index] or "
        "[ctx.payload._doc._index] were set together with action [index] field. "
        "Only set one of them"
    )
    assert bulk.calls == []


def test_a_doc_list_is_a_bulk_with_one_summary_per_document_and_a_mixed_status() -> None:
    """ExecutableIndexAction.indexBulk: a `_doc` list indexes each map; failed items are
    `{failed, message, id, index}`; some failed is `partial_failure`, all `failure`."""
    docs = [{"_id": "a", "n": 1}, {"_id": "b", "bad": True}]
    result, _ = _run({"_doc": docs}, {"index": "alerts"})
    assert result["status"] == "partial_failure"
    assert result["index"]["response"] == [
        {"created": True, "result": "created", "id": "a", "version": 1, "index": "alerts"},
        {
            "failed": True,
            "message": "document_parsing_exception: bad field",
            "id": "b",
            "index": "alerts",
        },
    ]
    result, _ = _run({"_doc": [{"bad": True}]}, {"index": "alerts"})
    assert result["status"] == "failure"
    result, _ = _run({"_doc": [{"n": 1}, {"n": 2}]}, {"index": "alerts"})
    assert result["status"] == "success"
    assert [r["id"] for r in result["index"]["response"]] == ["auto0", "auto1"]


def test_bulk_refuses_doc_id_and_items_that_are_not_maps() -> None:
    """ExecutableIndexAction.indexBulk: `doc_id` with a `_doc` list, or a non-map item, fails."""
    result, _ = _run({"_doc": [{"n": 1}]}, {"index": "alerts", "doc_id": "x"})
    assert result["status"] == "failure"
    assert "[doc_id] cannot be used with bulk [_doc] indexing" in result["reason"]
    result, _ = _run({"_doc": [1]}, {"index": "alerts"})
    assert result["status"] == "failure"
    assert "must either hold a Map or an List/Array of Maps" in result["reason"]


def test_simulated_shows_the_request_or_for_a_bulk_only_where_documents_go() -> None:
    """x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/
    watcher/execute_watch/50_action_mode.yml and IndexAction.Simulated: the request with
    index, doc_id, refresh and the document; for a bulk only `_id` / `_index` per document."""
    action = {"index": "alerts", "doc_id": "d", "refresh": "wait_for", "execution_time_field": "t"}
    result, bulk = _run({"n": 1}, action, simulate=True)
    assert result["status"] == "simulated"
    assert result["index"] == {
        "request": {
            "index": "alerts",
            "doc_id": "d",
            "source": {"n": 1, "t": "2026-11-25T10:00:00.000Z"},
            "refresh": "wait_for",
        }
    }
    result, _ = _run({"_doc": [{"_id": "a", "n": 1}, {"n": 2}]}, {"index": "alerts"}, True)
    assert result["index"] == {
        "request": {
            "index": "",
            "doc_id": "",
            "source": [{"_id": "a", "_index": "alerts"}, {"_id": None, "_index": "alerts"}],
        }
    }
    assert bulk.calls == []
