"""The fast path for the commonest shape: a JSON log line inside a Filebeat event. Pure.

The general path decodes the event (`envelopes.unwrap`), re-encodes the line to bytes,
detects its format and decodes it again (`parsers.parse_line`), then merges the shipper's and
the line's dotted fields and nests them key by key (`normalise.document`). For a Filebeat
event whose `message` is a JSON object, this module does the same work in one pass: the line
is decoded once, from the event's own string, and the shipper's fields are written straight
into nested objects, in the order in which `nest` would have created them.

It answers only when the event is plainly such an event; anything unusual (no
`@metadata.beat`, Kubernetes, container or custom fields, a line that is not a plain JSON
object, a line that could be a Docker record, a line that names a shipper-only field) returns
None, and the general path decides, including every error. The line itself is mapped by the
general path's own `json_line.from_object`. tests/unit/ingest/test_fastpath.py proves, with
hypothesis, that whenever this answers, its document is the general path's, byte for byte.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from pipeline.ingest.actions import Origin
from pipeline.ingest.envelopes import event_time
from pipeline.ingest.normalise import ENVELOPE_ONLY, EPOCH, document_tail, nest_into
from pipeline.ingest.parsers import json_line

# Top-level keys of a Filebeat event whose handling the fast path does not repeat: events
# that carry them take the general path.
_GENERAL_ONLY = frozenset({"fields", "labels", "kubernetes", "service", "stream"})
_AGENT_KEYS = ("type", "version", "name", "id")


def filebeat_json(
    event: dict[str, Any],
    origin: Origin,
    *,
    dataset: str,
    ingested: datetime,
    keep_original: bool,
) -> tuple[dict[str, Any], datetime] | None:
    """The document and its timestamp for a decoded Filebeat event carrying a JSON object
    line, exactly as the general path builds them; None when the event is anything else."""
    meta = event.get("@metadata")
    if type(meta) is not dict or "beat" not in meta:
        return None  # envelopes.detect would have to decide
    message = event.get("message")
    # `{` first and `}` last is what json_line.looks_like asks for; without `"log"` the line
    # cannot look like a Docker record (container.looks_like), so detection says "json".
    if type(message) is not str or message[:1] != "{" or message[-1:] != "}" or '"log"' in message:
        return None
    if not _GENERAL_ONLY.isdisjoint(event):
        return None
    try:
        obj = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None  # a dead letter: the general path gives its reason
    if type(obj) is not dict:
        return None
    parsed = json_line.from_object(obj)
    if not ENVELOPE_ONLY.isdisjoint(parsed):
        return None

    # What envelopes._filebeat collects, nested as normalise.nest would nest it.
    doc: dict[str, Any] = {}
    log = event.get("log")
    if isinstance(log, dict):
        file = log.get("file")
        log_doc: dict[str, Any] = {}
        if isinstance(file, dict) and isinstance(file.get("path"), str):
            log_doc["file"] = {"path": file["path"]}
        if isinstance(log.get("offset"), int):
            log_doc["offset"] = log["offset"]
        if log_doc:
            doc["log"] = log_doc
    agent = event.get("agent")
    if isinstance(agent, dict):
        agent_doc = {}
        for name in _AGENT_KEYS:
            value = agent.get(name)
            if isinstance(value, str):
                agent_doc[name] = value
        if agent_doc:
            doc["agent"] = agent_doc
    # The line's fields after the shipper's ones (none of which it may replace: checked
    # above), then the shipper's host when the line names none, as document() orders them.
    nest_into(doc, parsed)
    doc.pop("@timestamp", None)  # document_tail writes it, last
    if "host.name" not in parsed:
        host = event.get("host")
        found = host.get("name") or host.get("hostname") if isinstance(host, dict) else None
        if isinstance(found, str) and found:
            host_doc = doc.get("host")  # nest_into(doc, {"host.name": found}), inlined
            if not isinstance(host_doc, dict):
                host_doc = doc["host"] = {}
            host_doc["name"] = found
    stamp: datetime = (
        parsed.get("@timestamp")
        or event_time(event.get("@timestamp"))
        or origin.kafka_time
        or EPOCH
    )
    document_tail(
        doc, stamp, message, origin, dataset, "json", ingested, keep_original=keep_original
    )
    return doc, stamp
