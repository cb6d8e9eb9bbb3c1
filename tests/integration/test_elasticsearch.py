"""Index into and search the real Elasticsearch node."""

from __future__ import annotations

from elasticsearch import Elasticsearch, helpers


def test_bulk_index_then_search_and_aggregate(es: Elasticsearch, index_name: str) -> None:
    es.indices.create(
        index=index_name,
        mappings={
            "properties": {
                "@timestamp": {"type": "date"},
                "host.name": {"type": "keyword"},
                "log.level": {"type": "keyword"},
                "message": {"type": "text"},
            }
        },
    )
    docs = [
        {
            "_index": index_name,
            "_id": f"logs/0/{i}",
            "@timestamp": f"2026-11-25T10:{i // 60:02d}:{i % 60:02d}Z",
            "host.name": f"edge-{i % 3}",
            "log.level": "error" if i % 10 == 0 else "info",
            "message": f"request {i} handled",
        }
        for i in range(120)
    ]
    indexed, errors = helpers.bulk(es, docs, refresh="wait_for")
    assert (indexed, errors) == (120, [])

    result = es.search(
        index=index_name,
        query={"term": {"log.level": "error"}},
        aggs={"hosts": {"terms": {"field": "host.name"}}},
        size=0,
    )
    assert result["hits"]["total"]["value"] == 12
    buckets = {b["key"]: b["doc_count"] for b in result["aggregations"]["hosts"]["buckets"]}
    assert buckets == {"edge-0": 4, "edge-1": 4, "edge-2": 4}

    # Re-indexing under the same _id overwrites: the basis of "replays never duplicate".
    helpers.bulk(es, docs[:10], refresh="wait_for")
    assert es.count(index=index_name)["count"] == 120
