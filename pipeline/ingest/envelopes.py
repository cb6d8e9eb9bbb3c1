"""Unwrap what an edge shipper put around a log line.

Shippers publish to Kafka in their own shapes (all JSON, except the raw producer):

- Filebeat, `output.kafka` with `codec.json`: the Beats event, `{"@timestamp": "...",
  "@metadata": {"beat": "filebeat", ...}, "message": "<line>", "host": {"name": ...},
  "log": {"file": {"path": ...}}, "agent": {...}, "fields": {...}, ...}`.
- Fluent Bit, `kafka` output with `Format json`: the record plus its time under
  `Timestamp_Key` (default `@timestamp`, a float of epoch seconds by default, ISO 8601 with
  `Timestamp_Format iso8601`): `{"@timestamp": 1718000000.123, "log": "<line>", ...}`. Its
  forward-style form `[<time>, {record}]` is accepted too.
- Vector, `kafka` sink with `encoding.codec = "json"`: the log event, `{"message": "<line>",
  "timestamp": "...", "host": "...", "source_type": "file", "file": "..."}`.
- raw: the Kafka value is the line and the key, if any, is the host name.

`unwrap` is pure: bytes in, `Envelope` or `EnvelopeError` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from pipeline.ingest.parsers.common import Fields, parse_epoch, parse_iso_timestamp

SHIPPERS = ("filebeat", "fluentbit", "vector", "raw")


class EnvelopeError(ValueError):
    """The value is not in the envelope the topic is configured for."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Envelope:
    """A log line and what its shipper knew about it."""

    line: bytes
    shipper: str
    timestamp: datetime | None = None
    host: str | None = None
    # Extra ECS fields from the shipper, dotted: log.file.path, agent.*, kubernetes.*, labels.
    fields: Fields = field(default_factory=dict)
    # When the whole Kafka value is one JSON object that is not an envelope (an application
    # log shipped raw), its decoded form, so the JSON parser need not decode it again.
    decoded: dict[str, Any] | None = None


def unwrap(
    value: bytes, key: bytes | None, envelope: str = "auto", decoded: Any = None
) -> Envelope:
    """Find the log line in a Kafka message value.

    `envelope` is a shipper name or "auto". Auto-detection looks for each shipper's signature
    and falls back to raw, so a JSON application log produced directly is never mistaken for an
    envelope unless it carries a shipper's marks. `decoded` is `orjson.loads(value)` when the
    caller has it already (the fast path looked at it): it is not decoded a second time.
    """
    if envelope == "raw":
        return _raw(value, key)
    if envelope not in SHIPPERS and envelope != "auto":
        raise EnvelopeError("envelope.unknown", envelope)
    head = value[:1]
    if head not in (b"{", b"["):
        if envelope == "auto":
            return _raw(value, key)
        raise EnvelopeError("envelope.not_json", f"a {envelope} envelope is a JSON object")
    if decoded is not None:
        doc = decoded
    else:
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError as err:
            if envelope == "auto":
                return _raw(value, key)  # e.g. a truncated JSON app log; the parser will say why
            raise EnvelopeError("envelope.invalid_json", str(err)) from None
    if (
        isinstance(doc, list)
        and len(doc) == 2
        and isinstance(doc[1], dict)
        and envelope in ("auto", "fluentbit")
        and _is_number(doc[0])
    ):
        return _fluentbit({**doc[1], "@timestamp": doc[0]}, value, key)
    if not isinstance(doc, dict):
        if envelope == "auto":
            return _raw(value, key)
        raise EnvelopeError("envelope.not_object", f"a {envelope} envelope is a JSON object")
    shipper = envelope if envelope != "auto" else _detect(doc)
    if shipper == "filebeat":
        return _filebeat(doc)
    if shipper == "vector":
        return _vector(doc)
    if shipper == "fluentbit":
        return _fluentbit(doc, value, key)
    env = _raw(value, key)
    env.decoded = doc
    return env


def _detect(doc: dict[str, Any]) -> str:
    meta = doc.get("@metadata")
    if isinstance(meta, dict) and "beat" in meta:
        return "filebeat"
    agent = doc.get("agent")
    if isinstance(agent, dict) and agent.get("type") == "filebeat" and "message" in doc:
        return "filebeat"
    if isinstance(doc.get("source_type"), str) and "message" in doc:
        return "vector"
    stamp = doc.get("@timestamp")
    # Fluent Bit's default time format is a float; with iso8601 it is a string, and then the
    # "log"/"MESSAGE" record keys (tail, systemd inputs) are the tell.
    if (
        stamp is not None
        and _line_key(doc) is not None
        and (_is_number(stamp) or "log" in doc or "MESSAGE" in doc)
    ):
        return "fluentbit"
    return "raw"


def _raw(value: bytes, key: bytes | None) -> Envelope:
    host = None
    if key and len(key) <= 255:
        try:
            host = key.decode("utf-8") or None
        except UnicodeDecodeError:
            host = None
    return Envelope(line=value, shipper="raw", host=host)


def _text(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    raise EnvelopeError("envelope.no_line", "the line field is not a string")


def _filebeat(doc: dict[str, Any]) -> Envelope:
    if "message" not in doc:
        raise EnvelopeError("envelope.no_line", "filebeat event without message")
    fields: Fields = {}
    log = doc.get("log")
    if isinstance(log, dict):
        file = log.get("file")
        if isinstance(file, dict) and isinstance(file.get("path"), str):
            fields["log.file.path"] = file["path"]
        if isinstance(log.get("offset"), int):
            fields["log.offset"] = log["offset"]
    agent = doc.get("agent")
    if isinstance(agent, dict):
        for name in ("type", "version", "name", "id"):
            if isinstance(agent.get(name), str):
                fields[f"agent.{name}"] = agent[name]
    service = doc.get("service")
    if isinstance(service, dict) and isinstance(service.get("name"), str):
        fields["service.name"] = service["name"]
    _labels(fields, doc.get("fields"))
    _labels(fields, doc.get("labels"))
    _kubernetes(fields, doc.get("kubernetes"))
    _stream(fields, doc.get("stream"))  # the container parser's
    host = doc.get("host")
    host_name = host.get("name") or host.get("hostname") if isinstance(host, dict) else None
    return Envelope(
        line=_text(doc["message"]),
        shipper="filebeat",
        timestamp=event_time(doc.get("@timestamp")),
        host=host_name if isinstance(host_name, str) else None,
        fields=fields,
    )


def _vector(doc: dict[str, Any]) -> Envelope:
    fields: Fields = {"agent.type": "vector"}
    if isinstance(doc.get("file"), str):
        fields["log.file.path"] = doc["file"]
    if isinstance(doc.get("service"), str):
        fields["service.name"] = doc["service"]
    _kubernetes(fields, doc.get("kubernetes"))
    _stream(fields, doc.get("stream"))  # docker_logs and kubernetes_logs sources
    host = doc.get("host") or doc.get("hostname")
    return Envelope(
        line=_text(doc.get("message")),
        shipper="vector",
        timestamp=event_time(doc.get("timestamp")),
        host=host if isinstance(host, str) else None,
        fields=fields,
    )


def _fluentbit(doc: dict[str, Any], value: bytes, key: bytes | None) -> Envelope:
    line_key = _line_key(doc)
    if line_key is None:
        raise EnvelopeError("envelope.no_line", "fluent bit record without log/message")
    fields: Fields = {"agent.type": "fluentbit"}
    _kubernetes(fields, doc.get("kubernetes"))
    _stream(fields, doc.get("stream"))
    if isinstance(doc.get("filename"), str):
        fields["log.file.path"] = doc["filename"]
    found = doc.get("hostname") or doc.get("host") or doc.get("_HOSTNAME")
    host = found if isinstance(found, str) else _raw(value, key).host
    line = doc[line_key]
    if line_key == "log" and isinstance(line, str) and line.endswith("\n"):
        line = line[:-1]  # the tail/docker inputs keep the newline that ended the line
    return Envelope(
        line=_text(line),
        shipper="fluentbit",
        timestamp=event_time(doc.get("@timestamp")),
        host=host,
        fields=fields,
    )


def _line_key(doc: dict[str, Any]) -> str | None:
    for name in ("log", "message", "MESSAGE", "msg"):
        if isinstance(doc.get(name), str):
            return name
    return None


def _labels(fields: Fields, custom: Any) -> None:
    if isinstance(custom, dict):
        labels = {str(k): str(v) for k, v in custom.items() if isinstance(v, str | int | float)}
        if labels:
            fields.setdefault("labels", {}).update(labels)


def _stream(fields: Fields, stream: Any) -> None:
    """A container's output stream, as the shipper's container input reports it. Anything but
    stdout or stderr is not a stream: left out rather than put outside the document schema."""
    if stream == "stdout" or stream == "stderr":  # (a set test would fail on a dict)
        fields["stream"] = stream


def _kubernetes(fields: Fields, meta: Any) -> None:
    if not isinstance(meta, dict):
        return
    for source, target in (
        ("pod_name", "kubernetes.pod.name"),
        ("namespace_name", "kubernetes.namespace"),
        ("container_name", "kubernetes.container.name"),
        ("host", "kubernetes.node.name"),
    ):
        if isinstance(meta.get(source), str):
            fields[target] = meta[source]
    pod = meta.get("pod")
    if isinstance(pod, dict) and isinstance(pod.get("name"), str):  # Filebeat's shape
        fields["kubernetes.pod.name"] = pod["name"]
    if isinstance(meta.get("namespace"), str):
        fields["kubernetes.namespace"] = meta["namespace"]


def event_time(value: Any) -> datetime | None:
    """A shipper's timestamp field (ISO 8601 text or epoch number) as UTC, else None."""
    if isinstance(value, str):
        return parse_iso_timestamp(value)
    if _is_number(value):
        return parse_epoch(value)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
