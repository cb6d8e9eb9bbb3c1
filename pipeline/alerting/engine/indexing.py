"""Pure: the index action as Watcher's ExecutableIndexAction runs it: which documents go where
(`ctx.payload`, one map of `_doc` or each map of a `_doc` list; `_index` / `_id` taken out of
a document and used), what a simulated run shows, and the per-document summary of the answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.alerting.engine.java.lang import string_value
from pipeline.alerting.engine.run import ExecutionError


@dataclass(frozen=True)
class Planned:
    """The documents of one index action: each with its `_index` and `_id` (when set) as
    keys, as the bulk adapter takes them; `bulk` when the payload's `_doc` was a list."""

    docs: list[dict[str, Any]]
    bulk: bool


def plan(
    payload: Any,
    body: Mapping[str, Any],
    index: str | None,
    execution_time: str,
    action_id: str,
    watch_id: str,
) -> Planned:
    """The documents to index; raises ExecutionError with Watcher's messages."""
    where = f"could not execute action [{action_id}] of watch [{watch_id}]."
    data = payload if isinstance(payload, Mapping) else {}
    not_maps = (
        f"{where} failed to index payload data. "
        "[_data] field must either hold a Map or an List/Array of Maps"
    )
    items: list[Any] = [data]
    bulk = False
    if "_doc" in data:
        doc = data["_doc"]
        if isinstance(doc, list):
            if body.get("doc_id") is not None:
                raise ExecutionError(f"{where} [doc_id] cannot be used with bulk [_doc] indexing")
            items, bulk = doc, True
        elif isinstance(doc, Mapping):
            items = [doc]
        else:
            raise ExecutionError(not_maps)
    docs = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ExecutionError(not_maps)
        doc = dict(item)
        meta = {
            "_index": _field(where, doc, "_index", "index", index),
            "_id": _field(where, doc, "_id", "id", body.get("doc_id")),
        }
        if body.get("execution_time_field"):
            doc[str(body["execution_time_field"])] = execution_time
        docs.append({**{k: v for k, v in meta.items() if v is not None}, **doc})
    return Planned(docs, bulk)


def _field(where: str, doc: dict[str, Any], key: str, name: str, default: Any) -> str | None:
    """ExecutableIndexAction.getField: the document's own `_index`/`_id`, taken out of it, or
    the action's; both set is an error."""
    value = doc.pop(key, None)
    if value is None:
        return None if default is None else str(default)
    if default is not None:
        raise ExecutionError(
            f"{where} [ctx.payload.{key}] or [ctx.payload._doc.{key}] were set together with "
            f"action [{name}] field. Only set one of them"
        )
    return string_value(value)


def simulated(planned: Planned, body: Mapping[str, Any]) -> dict[str, Any]:
    """What a simulated index action shows: the request, or for a bulk only where each
    document would go (Watcher leaves the documents out)."""
    request: dict[str, Any]
    if planned.bulk:
        where = [{"_id": d.get("_id"), "_index": d.get("_index")} for d in planned.docs]
        request = {"index": "", "doc_id": "", "source": where}
    else:
        (doc,) = planned.docs
        request = {"index": doc.get("_index")}
        if doc.get("_id") is not None:
            request["doc_id"] = doc["_id"]
        request["source"] = {k: v for k, v in doc.items() if k not in ("_index", "_id")}
    if body.get("refresh") is not None:
        request["refresh"] = body["refresh"]
    return {"request": request}


def summary(items: list[Mapping[str, Any]], bulk: bool) -> tuple[dict[str, Any], str]:
    """The action's `index` result from the bulk answer's items, and its status: one
    document's summary, or for a bulk one per document with `success`, `partial_failure` or
    `failure`. One document that failed is the action's failure (Watcher's index call
    throws)."""
    out = []
    failures = 0
    for entry in items:
        ((_op, item),) = entry.items()
        error = item.get("error")
        if error is not None:
            failures += 1
            message = _message(error)
            if not bulk:
                raise ExecutionError(message)
            out.append(
                {
                    "failed": True,
                    "message": message,
                    "id": item.get("_id"),
                    "index": item.get("_index"),
                }
            )
            continue
        out.append(
            {
                "created": item.get("result") == "created",
                "result": item.get("result"),
                "id": item.get("_id"),
                "version": item.get("_version"),
                "index": item.get("_index"),
            }
        )
    if not bulk:
        return {"response": out[0] if out else {}}, "success"
    status = (
        "success" if failures == 0 else "failure" if failures == len(out) else "partial_failure"
    )
    return {"response": out}, status


def _message(error: Any) -> str:
    if isinstance(error, Mapping):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error)
