"""Bulk bodies and how Elasticsearch's per-item answers are classified."""

from __future__ import annotations

import random
from typing import Any

import orjson

from pipeline.ingest.actions import IndexAction, Origin, index_action
from pipeline.ingest.bulk import Backoff, body, classify


def _action(offset: int, op_type: str = "index") -> IndexAction:
    return index_action(
        Origin("logs", 1, offset, 0),
        "edgewatch-logs-2026.11.25",
        orjson.dumps({"message": f"m{offset}"}),
        b"m",
        op_type,
    )


def test_body_is_ndjson_with_deterministic_ids() -> None:
    lines = body([_action(7), _action(8)]).split(b"\n")
    assert orjson.loads(lines[0]) == {
        "index": {"_index": "edgewatch-logs-2026.11.25", "_id": "logs/1/7"}
    }
    assert orjson.loads(lines[1]) == {"message": "m7"}
    assert lines[-1] == b""  # the bulk API wants a final newline
    assert b'"create"' in body([_action(1, "create")])
    assert _action(7).source == b'{"message":"m7"}'  # the document alone, cut from the entry


def test_classify_separates_done_retry_and_dead_letter() -> None:
    items: list[dict[str, Any]] = [
        {"index": {"status": 201}},
        {"index": {"status": 200}},
        {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception"}}},
        {"index": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}},
        {"index": {"status": 503, "error": {"type": "unavailable_shards_exception"}}},
        {
            "index": {
                "status": 400,
                "error": {
                    "type": "document_parsing_exception",
                    "reason": "[1:20] failed to parse field [attributes.n] of type [long]",
                    "caused_by": {
                        "type": "illegal_argument_exception",
                        "reason": "For input string",
                    },
                },
            }
        },
    ]
    out = classify(items, "index")
    assert [o.ok for o in out] == [True, True, False, False, False, False]
    assert [o.retry for o in out] == [False, False, False, True, True, False]
    assert out[5].reason == "document_parsing_exception"
    assert "attributes.n" in out[5].detail and "For input string" in out[5].detail
    # With data streams (op_type create) a 409 means "already indexed by an earlier run".
    assert classify([{"create": {"status": 409}}], "create")[0].ok


def test_backoff_is_capped_and_jittered() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0)
    rng = random.Random(1)
    delays = [backoff.delay(attempt, rng) for attempt in range(12)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) == len(delays)  # jitter: no two retries in lockstep
    assert max(backoff.delay(0, random.Random(i)) for i in range(50)) <= 0.5


def test_action_lines_are_what_orjson_writes_for_the_same_metadata() -> None:
    for op_type in ("index", "create"):
        actions = [
            index_action(Origin(topic, partition, offset, 0), index, b"{}", b"", op_type)
            for topic, partition, offset, index in [
                ("edge.logs", 0, 0, "edgewatch-logs-2026.11.25"),
                ("edge.logs", 11, 2**40, "edgewatch-logs-2026.11.25"),
                ("a_b-c", 3, 17, 'odd"prefix\\-2026.11.25'),
            ]
        ]
        lines = body(actions).split(b"\n")
        for n, action in enumerate(actions):
            meta = {op_type: {"_index": action.index, "_id": action.origin.doc_id}}
            assert lines[2 * n] == orjson.dumps(meta)
            assert lines[2 * n + 1] == b"{}"
