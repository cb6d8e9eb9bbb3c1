"""The parser contract every parser test checks its results against.

FIELDS is test data, copied from the Python reference (parsers/common.py) before it was
deleted: every key a parser may put in its result, with the Python type the binding gives its
value. The normalised document's JSON Schema (pipeline/ingest/schema/) is the authority on
the final shape; this is the parser-side half of the same contract.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

FIELDS: dict[str, type | tuple[type, ...]] = {
    "@timestamp": datetime,
    "message": str,
    "log.level": str,
    "log.logger": str,
    "host.name": str,
    "service.name": str,
    "process.name": str,
    "process.pid": int,
    "process.thread.name": str,
    "error.type": str,
    "error.message": str,
    "error.stack_trace": str,
    "log.syslog.priority": int,
    "log.syslog.facility.code": int,
    "log.syslog.facility.name": str,
    "log.syslog.severity.code": int,
    "log.syslog.severity.name": str,
    "log.syslog.version": str,
    "log.syslog.hostname": str,
    "log.syslog.appname": str,
    "log.syslog.procid": str,
    "log.syslog.msgid": str,
    "log.syslog.structured_data": dict,  # {sd-id: {param: value}}
    "source.ip": str,  # only when the text is an IP address
    "source.address": str,  # the client as written (IP or host name)
    "user.name": str,
    "http.request.method": str,
    "http.request.referrer": str,
    "http.version": str,
    "http.response.status_code": int,
    "http.response.body.bytes": int,
    "url.original": str,
    "url.path": str,
    "url.query": str,
    "user_agent.original": str,
    "event.duration": int,  # nanoseconds
    "stream": str,  # "stdout" / "stderr" for container lines
    "tags": list,  # list[str]; e.g. "partial_line" for a CRI/docker partial line
    "attributes": dict,  # other key/values of a structured (JSON, logfmt) line, as parsed
}


def assert_contract(fields: Any) -> None:
    """A dict of known keys only, each value of its listed type, `@timestamp` in UTC."""
    assert isinstance(fields, dict)
    for key, value in fields.items():
        assert key in FIELDS, key
        assert isinstance(value, FIELDS[key]), (key, value)
    if "@timestamp" in fields:
        assert fields["@timestamp"].utcoffset() == timedelta(0)
