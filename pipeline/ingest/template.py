"""The index template ingest installs at start, so every index it writes has the right mapping.

Keywords for the fields rules group and filter by (host, service, level, ...), text for the
message, dates for timestamps, and `attributes.*` (an app's own keys) mapped dynamically with
strings as keywords: a later document whose attribute has a different type gets a mapping
conflict, which dead-letters that one document, never the batch.
"""

from __future__ import annotations

from typing import Any

from pipeline.config import IngestConfig

_KW = {"type": "keyword", "ignore_above": 1024}


def template_name(settings: IngestConfig) -> str:
    """One template per index family, so differently configured ingest runs coexist."""
    if settings.index_mode == "data_stream":
        return f"edgewatch-logs-{settings.dataset}"
    return settings.index_prefix


def index_pattern(settings: IngestConfig) -> str:
    """The index (or data stream) names the template applies to."""
    if settings.index_mode == "data_stream":
        return f"logs-{settings.dataset}-*"
    return f"{settings.index_prefix}-*"


def template_body(settings: IngestConfig) -> dict[str, Any]:
    """The composable index template (PUT _index_template/<name>)."""
    index_settings: dict[str, Any] = {"index.mapping.total_fields.limit": 2000}
    if settings.replicas is not None:
        index_settings["index.number_of_replicas"] = settings.replicas
    if settings.ilm_delete_after_days is not None:
        index_settings["index.lifecycle.name"] = template_name(settings)
    body: dict[str, Any] = {
        "index_patterns": [index_pattern(settings)],
        # Above Elasticsearch's built-in logs-*-* template (priority 100), so ours wins.
        "priority": 200,
        "template": {"settings": index_settings, "mappings": mappings()},
        "_meta": {"managed_by": "edgewatch", "description": "edgewatch log documents"},
    }
    if settings.index_mode == "data_stream":
        body["data_stream"] = {}
    return body


def status_template_body(settings: IngestConfig) -> dict[str, Any]:
    """The template of the status index (status.py; PUT _index_template/<status_index>)."""
    index_settings: dict[str, Any] = {"index.number_of_shards": 1}
    if settings.replicas is not None:
        index_settings["index.number_of_replicas"] = settings.replicas
    return {
        "index_patterns": [settings.status_index],
        # One exact name: above the log indices' template (200), which an operator who puts
        # the status index under the index prefix would otherwise have match it too.
        "priority": 250,
        "template": {"settings": index_settings, "mappings": status_mappings()},
        "_meta": {"managed_by": "edgewatch", "description": "edgewatch ingest status"},
    }


def status_mappings() -> dict[str, Any]:
    """Field mappings of the status documents (see schema/status.schema.json). Fields added
    later are kept in _source, unindexed, until the template maps them."""
    return {
        "dynamic": False,
        "properties": {
            "@timestamp": {"type": "date"},
            "kind": _KW,
            "member": _KW,
            "group": _KW,
            "lag": {"type": "long"},
            "behind_s": {"type": "double"},
            "caught_up": {"type": "boolean"},
            "behind": {"type": "keyword", "index": False},
            "topics": {
                "properties": {
                    "topic": _KW,
                    "lag": {"type": "long"},
                    "behind_s": {"type": "double"},
                    "last_kafka_time": {"type": "date"},
                }
            },
            "host": {"properties": {"name": _KW}},
            "offset_s": {"type": "double"},
            "bound_s": {"type": "double"},
        },
    }


def ilm_policy(settings: IngestConfig) -> dict[str, Any] | None:
    """The ILM policy (PUT _ilm/policy/<template name>) for `ilm_delete_after_days`, or None.

    Dated indices are deleted that many days after they were created (one index per day, so
    no rollover). A data stream rolls its backing index over daily or at 50 GB per primary
    shard, and deletes each that many days after its rollover."""
    days = settings.ilm_delete_after_days
    if days is None:
        return None
    phases: dict[str, Any] = {
        "delete": {"min_age": f"{days}d", "actions": {"delete": {}}},
    }
    if settings.index_mode == "data_stream":
        rollover = {"max_age": "1d", "max_primary_shard_size": "50gb"}
        phases = {"hot": {"actions": {"rollover": rollover}}, **phases}
    return {"phases": phases, "_meta": {"managed_by": "edgewatch"}}


def mappings() -> dict[str, Any]:
    """Field mappings of the normalised document (see schema/document.schema.json)."""
    return {
        "dynamic_templates": [
            {
                "attributes_strings": {
                    "path_match": "attributes.*",
                    "match_mapping_type": "string",
                    "mapping": _KW,
                }
            },
            {"labels": {"path_match": "labels.*", "mapping": _KW}},
        ],
        "properties": {
            "@timestamp": {"type": "date"},
            "message": {"type": "text"},
            "tags": _KW,
            "stream": _KW,
            "labels": {"type": "object"},
            "attributes": {"type": "object"},
            "log": {
                "properties": {
                    "level": _KW,
                    "logger": _KW,
                    "offset": {"type": "long"},
                    "file": {"properties": {"path": _KW}},
                    "syslog": {
                        "properties": {
                            "priority": {"type": "integer"},
                            "facility": {"properties": {"code": {"type": "integer"}, "name": _KW}},
                            "severity": {"properties": {"code": {"type": "integer"}, "name": _KW}},
                            "version": _KW,
                            "hostname": _KW,
                            "appname": _KW,
                            "procid": _KW,
                            "msgid": _KW,
                            "structured_data": {"type": "object", "enabled": False},
                        }
                    },
                }
            },
            "host": {"properties": {"name": _KW}},
            "service": {"properties": {"name": _KW}},
            "process": {
                "properties": {
                    "name": _KW,
                    "pid": {"type": "long"},
                    "thread": {"properties": {"name": _KW}},
                }
            },
            "error": {
                "properties": {
                    "type": _KW,
                    "message": {"type": "text"},
                    "stack_trace": {"type": "keyword", "index": False, "doc_values": False},
                }
            },
            "source": {
                "properties": {"ip": {"type": "ip", "ignore_malformed": True}, "address": _KW}
            },
            "user": {"properties": {"name": _KW}},
            "http": {
                "properties": {
                    "version": _KW,
                    "request": {"properties": {"method": _KW, "referrer": _KW}},
                    "response": {
                        "properties": {
                            "status_code": {"type": "long"},
                            "body": {"properties": {"bytes": {"type": "long"}}},
                        }
                    },
                }
            },
            "url": {"properties": {"original": _KW, "path": _KW, "query": _KW}},
            "user_agent": {"properties": {"original": _KW}},
            "agent": {"properties": {"type": _KW, "version": _KW, "name": _KW, "id": _KW}},
            "kubernetes": {
                "properties": {
                    "pod": {"properties": {"name": _KW}},
                    "namespace": _KW,
                    "container": {"properties": {"name": _KW}},
                    "node": {"properties": {"name": _KW}},
                }
            },
            "event": {
                "properties": {
                    "original": {"type": "keyword", "index": False, "doc_values": False},
                    "ingested": {"type": "date"},
                    "dataset": _KW,
                    "module": _KW,
                    "duration": {"type": "long"},
                }
            },
            "kafka": {
                "properties": {
                    "topic": _KW,
                    "partition": {"type": "integer"},
                    "offset": {"type": "long"},
                    "key": _KW,
                    # Only where it named the index instead of @timestamp (native/src/window.rs).
                    "timestamp": {"type": "date"},
                }
            },
            "data_stream": {
                "properties": {
                    "type": _KW,
                    "dataset": _KW,
                    "namespace": _KW,
                }
            },
            "ecs": {"properties": {"version": _KW}},
        },
    }
