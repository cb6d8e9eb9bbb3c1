"""The readable part of an alert email: headline, facts, top-N table, chart and search link.

`report` is an edgewatch extension of Watcher's email action. Its templates are rendered by the
executor like every other template; this module turns the rendered spec plus the execution
context into an HTML body, a plain-text body and the inline PNG chart. Pure: no I/O.

    "report": {
      "title":   "{{ctx.payload.hits.total}} errors in 5 minutes",
      "summary": "Fleet-wide ERROR lines crossed the threshold.",
      "facts":   {"Errors (5 min)": "{{ctx.payload.hits.total}}", "Threshold": "100"},
      "table":   {"title": "Top hosts", "path": "ctx.payload.aggregations.hosts.buckets",
                  "columns": {"Host": "key", "Errors": "doc_count"}, "max_rows": 10},
      "chart":   {"title": "Errors per 5 minutes", "value": "doc_count", "threshold": "100",
                  "path": "ctx.payload.aggregations.timeline.buckets"},
      "search":  {"query": "log.level:error", "from": "now-1h", "to": "now"}
    }
"""

from __future__ import annotations

import html
import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.alerting.delivery.chart import bar_chart_png
from pipeline.alerting.engine.conditions import ConditionError, eval_path, resolve_path
from pipeline.alerting.engine.java.dates import DateMathError, date_math, format_date

CHART_CID = "chart@edgewatch"
DEFAULT_MAX_ROWS = 10


@dataclass(frozen=True)
class Report:
    """The rendered report: both bodies and the images the HTML refers to by cid."""

    html: str
    text: str
    images: dict[str, bytes] = field(default_factory=dict)  # cid -> PNG


def build(spec: Mapping[str, Any], ctx: Mapping[str, Any], kibana_url: str | None) -> Report:
    """Turn a rendered `report` spec into HTML and text, reading its paths from `ctx`."""
    title = str(spec.get("title") or "")
    summary = str(spec.get("summary") or "")
    parts_html = [f"<h2 style='margin:0 0 8px'>{html.escape(title)}</h2>"] if title else []
    parts_text = [title, "=" * len(title)] if title else []
    if summary:
        parts_html.append(f"<p>{html.escape(summary)}</p>")
        parts_text += [summary, ""]
    facts = spec.get("facts") or {}
    if facts:
        rows = "".join(
            f"<tr><th align='left' style='padding:2px 12px 2px 0'>{html.escape(str(k))}</th>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for k, v in facts.items()
        )
        parts_html.append(f"<table>{rows}</table>")
        width = max(len(str(k)) for k in facts)
        parts_text += [f"{str(k).ljust(width)}  {v}" for k, v in facts.items()] + [""]
    images: dict[str, bytes] = {}
    chart = spec.get("chart")
    if isinstance(chart, Mapping):
        value_path = str(chart.get("value", "doc_count"))
        values = [_number(_at(value_path, bucket)) for bucket in _rows(chart, ctx)]
        threshold = _optional_number(chart.get("threshold"))
        images[CHART_CID] = bar_chart_png(values, threshold, highlight=-1 if values else None)
        caption = str(chart.get("title") or "")
        latest = ", ".join(_shown(v) for v in values[-12:])
        alt = f"{caption}: {latest}" if caption else latest
        parts_html.append(
            f"<p style='margin:12px 0 2px'><b>{html.escape(caption)}</b></p>"
            f"<img src='cid:{CHART_CID}' alt='{html.escape(alt)}'>"
            + (
                f"<br><small>dashed line: threshold {html.escape(_shown(threshold))}; "
                "outlined bar: the latest</small>"
                if threshold is not None
                else ""
            )
        )
        if values:
            parts_text += [f"{caption or 'Series'} (latest last): {latest}", ""]
    table = spec.get("table")
    if isinstance(table, Mapping):
        parts_html.append(_table_html(table, ctx))
        parts_text += _table_text(table, ctx)
    search = spec.get("search")
    if isinstance(search, Mapping) and kibana_url:
        link = discover_url(kibana_url, search)
        parts_html.append(
            f"<p><a href='{html.escape(link)}'>Open the matching logs in Kibana</a></p>"
        )
        parts_text += [f"Matching logs: {link}", ""]
    body = "\n".join(parts_html)
    # A styled div rather than a styled <body>: the email's HTML passes the sanitiser, which
    # keeps a fragment (as mail readers show it) and drops the document's own elements.
    page = f"<div style='font-family:sans-serif;font-size:14px'>{body}</div>"
    return Report(page, "\n".join(parts_text).rstrip() + "\n", images)


def discover_url(kibana_url: str, search: Mapping[str, Any]) -> str:
    """A Kibana Discover link showing the query over the time range (Kibana's rison state)."""
    time_from = _rison_string(_kibana_time(str(search.get("from") or "now-1h")))
    time_to = _rison_string(_kibana_time(str(search.get("to") or "now")))
    query = _rison_string(str(search.get("query") or ""))
    app = f"(query:(language:kuery,query:{query})"
    if search.get("data_view"):
        app += f",dataSource:(dataViewId:{_rison_string(str(search['data_view']))},type:dataView)"
    app += ")"
    state = {"_g": f"(time:(from:{time_from},to:{time_to}))", "_a": app}
    fragment = urllib.parse.urlencode(state, safe="():,'!*")
    return f"{kibana_url.rstrip('/')}/app/discover#/?{fragment}"


def _kibana_time(text: str) -> str:
    """Kibana understands `now-1h` and ISO times but not Elasticsearch's anchored date math
    (`2026-01-01T00:00:00Z||-1h`), which rules use: resolve that to an ISO time here."""
    if "||" not in text:
        return text
    try:
        return format_date(date_math(text, datetime.now(UTC)))
    except DateMathError:
        return text


def _rison_string(text: str) -> str:
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def _at(path: str, row: Any) -> Any:
    try:
        return eval_path(path, row)
    except ConditionError:
        return None


def _rows(spec: Mapping[str, Any], ctx: Mapping[str, Any]) -> list[Any]:
    try:
        found = resolve_path(ctx, str(spec.get("path", "")))
    except ConditionError:
        return []
    return list(found) if isinstance(found, list) else []


def _columns(spec: Mapping[str, Any]) -> dict[str, str]:
    columns = spec.get("columns") or {"Key": "key", "Count": "doc_count"}
    return {str(k): str(v) for k, v in columns.items()}


def _cells(spec: Mapping[str, Any], ctx: Mapping[str, Any]) -> list[list[str]]:
    limit = int(spec.get("max_rows") or DEFAULT_MAX_ROWS)
    columns = _columns(spec)
    return [
        [_shown(_at(path, row)) for path in columns.values()] for row in _rows(spec, ctx)[:limit]
    ]


_CELL = "style='padding:2px 12px 2px 0'"


def _table_html(spec: Mapping[str, Any], ctx: Mapping[str, Any]) -> str:
    head = "".join(
        f"<th align='left' style='padding:2px 12px 2px 0'>{html.escape(c)}</th>"
        for c in _columns(spec)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td style='padding:2px 12px 2px 0'>{html.escape(c)}</td>" for c in row)
        + "</tr>"
        for row in _cells(spec, ctx)
    )
    title = str(spec.get("title") or "")
    caption = f"<p style='margin:12px 0 2px'><b>{html.escape(title)}</b></p>" if title else ""
    return f"{caption}<table><tr>{head}</tr>{body}</table>"


def _table_text(spec: Mapping[str, Any], ctx: Mapping[str, Any]) -> list[str]:
    header = list(_columns(spec))
    rows = _cells(spec, ctx)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = [str(spec.get("title") or "")] if spec.get("title") else []
    for cells in [header, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return [*lines, ""]


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _optional_number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
