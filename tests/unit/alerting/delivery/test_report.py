"""The email report (report.py): HTML and text bodies, the inline chart, the Kibana link."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from pipeline.alerting.delivery import report

EVIL = "<script>alert('x')</script>"
KIBANA = "https://kibana.example/"


def _ctx() -> dict[str, Any]:
    hosts = [{"key": f"edge-{i}", "doc_count": 100 - i} for i in range(1, 16)]
    hosts.insert(1, {"key": EVIL, "doc_count": 99})
    return {
        "watch_id": "spike",
        "payload": {
            "hits": {"total": 120},
            "aggregations": {
                "hosts": {"buckets": hosts},
                "timeline": {"buckets": [{"doc_count": n} for n in (3, 5, 8.5, 150)]},
            },
        },
    }


def _spec(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "title": "120 errors in 5 minutes",
        "summary": "Fleet-wide ERROR lines crossed the threshold & more.",
        "facts": {"Errors (5 min)": "120", "Worst host": EVIL},
        "table": {
            "title": "Top hosts",
            "path": "ctx.payload.aggregations.hosts.buckets",
            "columns": {"Host": "key", "Errors": "doc_count"},
            "max_rows": 5,
        },
        "chart": {
            "title": "Errors per 5 minutes",
            "value": "doc_count",
            "threshold": "100",
            "path": "ctx.payload.aggregations.timeline.buckets",
        },
        "search": {"query": 'log.level:error and message:"it\'s bad!"', "from": "now-2h"},
    }
    spec.update(extra)
    return spec


def test_html_has_every_part_with_values_escaped() -> None:
    built = report.build(_spec(), _ctx(), KIBANA)
    page = built.html
    # A fragment in a styled div: the email sanitiser keeps fragments, not documents.
    assert page.startswith("<div style=") and page.endswith("</div>")
    assert "120 errors in 5 minutes</h2>" in page
    assert "threshold &amp; more." in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page  # fact and table cell
    assert page.count("&lt;script&gt;") == 2
    assert "<b>Top hosts</b>" in page
    assert f"src='cid:{report.CHART_CID}'" in page
    assert "dashed line: threshold 100" in page
    assert "Open the matching logs in Kibana" in page


def test_table_rows_are_limited_by_max_rows() -> None:
    built = report.build(_spec(), _ctx(), None)
    # The header row plus 5 rows.
    table = built.html.split("<b>Top hosts</b>")[1]
    assert table.count("<tr>") == 6
    assert "edge-4" in table and "edge-5" not in table


def test_table_defaults_to_ten_rows_and_key_count_columns() -> None:
    table = {"path": "ctx.payload.aggregations.hosts.buckets"}
    built = report.build({"table": table}, _ctx(), None)
    assert built.html.count("<tr>") == 11
    assert ">Key</th>" in built.html and ">Count</th>" in built.html


def test_chart_is_a_png_and_its_alt_text_lists_the_latest_values() -> None:
    built = report.build(_spec(), _ctx(), None)
    assert list(built.images) == [report.CHART_CID]
    assert built.images[report.CHART_CID].startswith(b"\x89PNG\r\n\x1a\n")
    assert "alt='Errors per 5 minutes: 3, 5, 8.5, 150'" in built.html


def test_chart_alt_text_keeps_only_the_last_twelve_values() -> None:
    ctx = {"payload": {"series": [{"doc_count": n} for n in range(20)]}}
    built = report.build({"chart": {"path": "ctx.payload.series"}}, ctx, None)
    assert "alt='8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19'" in built.html
    assert "threshold" not in built.html  # no threshold, no legend


def test_text_body_has_headline_facts_series_and_an_aligned_table() -> None:
    built = report.build(_spec(), _ctx(), KIBANA)
    lines = built.text.splitlines()
    assert lines[:2] == ["120 errors in 5 minutes", "=" * len("120 errors in 5 minutes")]
    assert "Errors (5 min)  120" in lines
    assert f"Worst host      {EVIL}" in lines  # raw in text: no markup to break
    assert "Errors per 5 minutes (latest last): 3, 5, 8.5, 150" in lines
    start = lines.index("Top hosts")
    table = lines[start + 1 : start + 7]
    assert table[0].split() == ["Host", "Errors"]
    column = table[0].index("Errors")
    assert column == len(EVIL) + 2  # the widest cell plus the gap
    for row in table[1:]:
        assert row[column - 2 : column] == "  "
        assert row[column:].strip().isdigit()
    assert table[1].startswith("edge-1 ") and table[2].startswith(EVIL)
    assert built.text.endswith("\n")
    assert any(line.startswith(f"Matching logs: {KIBANA}app/discover#/?") for line in lines)


def test_no_kibana_url_means_no_link() -> None:
    built = report.build(_spec(), _ctx(), None)
    assert "Kibana" not in built.html and "Matching logs" not in built.text


def _state(url: str) -> dict[str, str]:
    base, fragment = url.split("#/?", 1)
    assert base == "https://kibana.example/app/discover"
    return {k: v[0] for k, v in urllib.parse.parse_qs(fragment).items()}


def test_discover_url_has_the_rison_escaped_query_and_time_range() -> None:
    url = report.discover_url(
        KIBANA, {"query": 'message:"it\'s bad!"', "from": "now-2h", "to": "now-5m"}
    )
    state = _state(url)
    assert state["_g"] == "(time:(from:'now-2h',to:'now-5m'))"
    assert state["_a"] == "(query:(language:kuery,query:'message:\"it!'s bad!!\"'))"
    assert " " not in url and '"' not in url


def test_discover_url_defaults_and_data_view() -> None:
    state = _state(report.discover_url(KIBANA.rstrip("/"), {"data_view": "logs-*"}))
    assert state["_g"] == "(time:(from:'now-1h',to:'now'))"
    assert state["_a"] == (
        "(query:(language:kuery,query:''),dataSource:(dataViewId:'logs-*',type:dataView))"
    )


@pytest.mark.parametrize(
    "path",
    [
        "ctx.payload.nothing.here",  # missing
        "ctx.payload.hits",  # an object, not a list
        "ctx.payload.hits.total",  # a number
        "ctx.payload.aggregations.hosts.buckets.99.key",  # index outside the list
        "payload.aggregations.hosts.buckets",  # not under ctx
        "",
    ],
)
def test_missing_or_invalid_paths_give_empty_tables_and_charts(path: str) -> None:
    spec = {
        "table": {"title": "Top", "path": path, "columns": {"Host": "key"}},
        "chart": {"title": "Series", "path": path},
    }
    built = report.build(spec, _ctx(), None)
    assert "<table><tr><th align='left' style='padding:2px 12px 2px 0'>Host</th></tr></table>" in (
        built.html
    )
    assert built.images[report.CHART_CID].startswith(b"\x89PNG")
    assert "alt='Series: '" in built.html
    assert built.text == "Top\nHost\n"


def test_odd_rows_and_cells_never_raise() -> None:
    ctx = {
        "payload": {
            "rows": [
                5,
                None,
                "text",
                {"key": {"nested": 1}},
                {"key": [1]},
                {"doc_count": "NaN"},
                {"doc_count": float("inf")},
            ]
        }
    }
    spec = {
        "table": {"path": "ctx.payload.rows", "columns": {"K": "key", "Third": "key.3"}},
        "chart": {"path": "ctx.payload.rows", "threshold": "not a number"},
    }
    built = report.build(spec, ctx, None)
    assert built.html.count("<tr>") == 8
    assert "alt='0, 0, 0, 0, 0, 0, 0'" in built.html
    assert "threshold" not in built.html


def test_an_empty_spec_gives_an_empty_page() -> None:
    built = report.build({}, {}, KIBANA)
    assert built == report.Report(
        "<div style='font-family:sans-serif;font-size:14px'></div>",
        "\n",
        {},
    )
