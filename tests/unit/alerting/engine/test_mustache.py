"""Watcher-compatible Mustache rendering, checked against Elastic's documented examples,
Elasticsearch's and Watcher's own test expectations, and the real watches of the shared corpus.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.alerting.engine.mustache import (
    TemplateError,
    check,
    render,
    render_value,
    split_content_type,
)

UTC = dt.UTC
TRIGGERED = dt.datetime(2015, 5, 25, 10, 59, 29, 981000, tzinfo=UTC)


def watch_ctx(payload: Any, metadata: Any = None) -> dict[str, Any]:
    """Watcher's template model: everything hangs under `ctx`."""
    return {
        "ctx": {
            "watch_id": "my-watch",
            "metadata": metadata or {},
            "payload": payload,
            "execution_time": TRIGGERED,
            "trigger": {"triggered_time": TRIGGERED, "scheduled_time": TRIGGERED},
            "vars": {},
        }
    }


# --- the corpus's sample watches, with the logged text their own tests expect ---------------

# payload each watch's transform produces for its test events -> expected_response of
# tests/test1.json (the payloads are those the watch's scripts compute from the test events).
CORPUS_EXPECTED: dict[str, Any] = {
    "errors_in_logs": {"hits": {"total": 3, "hits": [{"_id": "4"}, {"_id": "1"}, {"_id": "3"}]}},
    "cpu_iowait_hosts": {"_value": [{"key": "serverA", "value": 6.25}]},
    "filesystem_usage": {
        "threshold": 90,
        "hosts": [
            {"key": "test_server1", "disk_usage": 99},
            {"key": "test_server4", "disk_usage": 95},
        ],
    },
    "lateral_movement_in_user_comm": {
        "new_starts": ["userA on server serverA", "userB on server serverA"]
    },
    "monitoring_cluster_health": {"_value": [{"cluster_id": "Cluster-B", "cluster_state": "red"}]},
    "monitoring_free_disk_space": {
        "_value": [
            {"node_name": "test_node_a", "available_in_gb": 16, "total_in_gb": 232},
            {"node_name": "test_node_c", "available_in_gb": 13, "total_in_gb": 186},
        ]
    },
    "new_process_started": {"_value": ["processB_serverB", "processC_serverA"]},
    "port_scan": {"_value": ["hostA to hostB"]},
    "system_fails_to_provide_data": {"_value": ["serverB"]},
    "twitter_trends": {},
    "unexpected_account_activity": {"_value": ["testUserB"]},
}


def _logging_text(watch: dict[str, Any]) -> str:
    for action in watch["actions"].values():
        if "logging" in action:
            text = action["logging"]["text"]
            return text["source"] if isinstance(text, dict) else str(text)
    raise AssertionError("no logging action")


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_watch_logs_the_text_its_own_test_expects(corpus: Path, name: str) -> None:
    folder = corpus / "watches" / name
    watch = json.loads((folder / "watch.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / "tests" / "test1.json").read_text(encoding="utf-8"))
    ctx = watch_ctx(CORPUS_EXPECTED[name], watch.get("metadata"))
    assert render(_logging_text(watch), ctx) == expected["expected_response"]


def _watches(corpus: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((corpus / "watches").rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # Kibana console syntax; its .strict.json twin is read instead
        if isinstance(data, dict) and isinstance(data.get("watch"), dict):
            data = data["watch"]
        if isinstance(data, dict) and "trigger" in data and "actions" in data:
            yield str(path.relative_to(corpus / "watches")), data


def _templates(value: Any) -> Iterator[str]:
    """Every templated string, except inside search bodies (one template each, see below)."""
    if isinstance(value, str):
        if "{{" in value:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "search" and isinstance(item, dict) and "request" in item:
                item = {**item, "request": {**item["request"], "body": None}}
            yield from _templates(item)
    elif isinstance(value, list):
        for item in value:
            yield from _templates(item)


def _search_bodies(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "search" and isinstance(item, dict) and "body" in item.get("request", {}):
                yield item["request"]["body"]
            else:
                yield from _search_bodies(item)
    elif isinstance(value, list):
        for item in value:
            yield from _search_bodies(item)


def _plausible_payload() -> dict[str, Any]:
    hit = {
        "_id": "AVx1",
        "_index": "logs-2024.01.01",
        "_source": {
            "job_id": "job-1",
            "timestamp": 1700000000000,
            "anomaly_score": 91.5,
            "function": "max",
            "field_name": "bytes",
            "by_field_value": "host-a",
            "host": {"name": "edge-7"},
            "json": {"username": "bot", "path": "/api", "method": "GET", "remote_ip": "10.0.0.1"},
        },
        "fields": {"score": [91.5], "timestamp_iso8601": ["2024-01-01T00:00:00Z"]},
    }
    hits = {"total": 2, "max_score": 1.0, "hits": [hit, hit]}
    return {
        "hits": hits,
        "first": {"hits": hits},
        "aggregations": {"bucket_results": {"doc_count": 1, "top_bucket_hits": {"hits": hits}}},
        "_value": [{"key": "a", "value": 1.5, "doc_count": 3}],
        "_doc": [{"key": "a"}],
        "alerts": ["a", "b"],
    }


def test_every_corpus_template_parses_and_renders(corpus: Path) -> None:
    rendered = 0
    for source, watch in _watches(corpus):
        ctx = watch_ctx(_plausible_payload(), watch.get("metadata"))
        for template in _templates(watch):
            check(template)
            assert isinstance(render(template, ctx), str), source
            rendered += 1
    # Guards the walk itself: outside search bodies the corpus holds 58 templated strings.
    assert rendered >= 58


def test_every_corpus_logging_and_email_text_renders(corpus: Path) -> None:
    texts = 0
    for source, watch in _watches(corpus):
        ctx = watch_ctx(_plausible_payload(), watch.get("metadata"))
        for action in watch["actions"].values():
            fields: list[Any] = []
            if "logging" in action:
                fields.append(action["logging"]["text"])
            if "email" in action:
                email = action["email"]
                fields += [email.get("subject"), email.get("body")]
            for field in fields:
                for template in _templates(field):
                    assert render(template, ctx).strip(), source
                    texts += 1
    assert texts > 20


def test_corpus_search_bodies_render_to_json_as_watcher_renders_them(corpus: Path) -> None:
    # Watcher renders a search body as one JSON text with JSON escaping.
    bodies = 0
    for source, watch in _watches(corpus):
        ctx = watch_ctx(_plausible_payload(), watch.get("metadata"))
        for body in _search_bodies(watch):
            text = render(json.dumps(body), ctx, escape="json")
            assert isinstance(json.loads(text), dict), source
            bodies += 1
    assert bodies > 20


def test_a_section_may_span_the_strings_of_a_search_body(corpus: Path) -> None:
    # lateral_movement_in_user_comm builds a terms list from a previous input's buckets.
    watch = json.loads(
        (corpus / "watches" / "lateral_movement_in_user_comm" / "watch.json").read_text("utf-8")
    )
    body = watch["input"]["chain"]["inputs"][2]["new_user_server_logons"]["search"]["request"]
    buckets = [{"key": "userA_serverA"}, {"key": 'we"ird'}]
    payload = {"user_server_logons": {"aggregations": {"user_server": {"buckets": buckets}}}}
    rendered = json.loads(render(json.dumps(body["body"]), watch_ctx(payload), escape="json"))
    terms = rendered["query"]["bool"]["filter"][1]["terms"]["user_server"]
    assert terms == ["userA_serverA", 'we"ird', ""]


def test_ml_email_html_body_renders_records_with_mustache_java_whitespace(corpus: Path) -> None:
    path = corpus / "watches" / "ml_examples" / "default_ml_watch_email.strict.json"
    watch = json.loads(path.read_text(encoding="utf-8"))
    html = watch["actions"]["send_email"]["email"]["body"]["html"]
    record = {
        "_source": {"function": "max", "field_name": "bytes", "by_field_value": "host-a"},
        "fields": {"score": [91.5]},
    }
    payload = {
        "aggregations": {
            "bucket_results": {"top_bucket_hits": {"hits": {"hits": []}}},
            "record_results": {"top_record_hits": {"hits": {"hits": [record, record]}}},
        }
    }
    line = "      max(bytes) host-a   [91.5]\n      <br />\n"
    # The standalone section tags and their indentation vanish, as do their line breaks.
    tail = "    <br />\n" + line * 2 + "\n  </body>\n</html>\n"
    assert render(html, watch_ctx(payload)).endswith("Top records:\n    </strong>\n" + tail)


def test_gitlab_webhook_body_sends_the_whole_context_as_json(corpus: Path) -> None:
    folder = corpus / "watches" / "gitlab_runbooks"
    [path] = folder.rglob("delke-gitlab-com.new-admin-account.json")
    watch = json.loads(path.read_text(encoding="utf-8"))
    body = watch["actions"]["process-alert"]["webhook"]["body"]
    assert body == "{{#toJson}}ctx{{/toJson}}"
    model = {"ctx": {"watch_id": "w", "payload": {"hits": {"total": 1}}, "flag": 1.0}}
    assert render(body, model) == '{"watch_id":"w","payload":{"hits":{"total":1}},"flag":1.0}'


# --- variables -----------------------------------------------------------------------------


def test_variables_dotted_paths_and_list_indexes() -> None:
    ctx = watch_ctx({"hits": {"total": 7, "hits": [{"_source": {"host": {"name": "edge-7"}}}]}})
    template = "{{ctx.payload.hits.total}} {{ctx.payload.hits.hits.0._source.host.name}}"
    assert render(template, ctx) == "7 edge-7"


def test_array_access_as_elasticsearch_tests_it() -> None:
    assert render("{{data.0}} {{data.1}}", {"data": ["foo", "bar"]}) == "foo bar"
    assert render("{{data.0.0}} {{data.0.1}}", {"data": [["foo", "bar"]]}) == "foo bar"
    data = [{"key": "foo"}, {"key": "bar"}]
    assert render("{{data.0.key}} {{data.1.key}}", {"data": data}) == "foo bar"
    assert render("{{data.list.size}}", {"data": {"list": ["a", "b", "c"]}}) == "3"


@pytest.mark.parametrize(
    "template",
    [
        "{{missing}}",
        "{{ctx.payload.nope.deeper}}",
        "{{ctx.payload.list.5}}",
        "{{ctx.payload.list.-1}}",
        "{{ctx.payload.list.x}}",
        "{{ctx.payload.none}}",
        "{{ctx.payload.none.below}}",
        "{{ctx.payload.text.length}}",
        "{{ctx.payload.map.size}}",
        "{{ }}",
    ],
)
def test_missing_values_render_as_nothing(template: str) -> None:
    ctx = watch_ctx({"list": [1], "none": None, "text": "abc", "map": {"a": 1}})
    assert render(f"<{template}>", ctx) == "<>"


def test_names_are_trimmed_and_a_key_containing_dots_wins() -> None:
    assert render("{{  name\t}}", {"name": "x"}) == "x"
    assert render("{{a.b}}", {"a.b": 1, "a": {"b": 2}}) == "1"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3, "3"),
        (3.0, "3.0"),
        (-2.5, "-2.5"),
        (6.25, "6.25"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (1.5e20, "1.5E20"),
        (-0.0, "-0.0"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (2**63, "9223372036854775808"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        ("text", "text"),
    ],
)
def test_scalars_print_as_java_prints_them(value: Any, shown: str) -> None:
    assert render("{{v}}", {"v": value}) == shown


def test_maps_and_lists_print_as_java_collections() -> None:
    payload = {"a": 1, "b": [1, 2.0], "c": {"d": None, "e": True}}
    ctx = watch_ctx(payload)
    assert render("{{ctx.payload}}", ctx) == "{a=1, b=[1, 2.0], c={d=null, e=true}}"
    # A list that is itself printed shows as Elasticsearch's index-keyed view of it.
    assert render("{{ctx.payload.b}}", ctx) == "{0=1, 1=2.0}"
    assert render("{{ctx.payload.e}}", watch_ctx({"e": []})) == "{}"
    assert render("{{#l}}{{.}};{{/l}}", {"l": [[1, 2], {"k": "v"}]}) == "{0=1, 1=2};{k=v};"


def test_datetimes_print_as_java_zoned_date_times() -> None:
    ctx = watch_ctx({"at": dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC)})
    assert render("{{ctx.trigger.triggered_time}}", ctx) == "2015-05-25T10:59:29.981Z"
    # Java leaves out zero seconds.
    assert render("{{ctx.payload.at}}", ctx) == "2024-01-02T03:04Z"
    assert render("{{#toJson}}ctx.payload{{/toJson}}", ctx) == '{"at":"2024-01-02T03:04:00.000Z"}'
    plus_two = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=plus_two)
    assert render("{{t}}", {"t": moment}) == "2024-01-02T03:04:05.123456+02:00"


# --- escaping ------------------------------------------------------------------------------


def test_json_escaping_as_in_elasticsearch_tests() -> None:
    template = '{ "field1": "{{value}}"}'
    ctx = {"value": 'a "value"'}
    assert render(template, ctx, escape="json") == '{ "field1": "a \\"value\\""}'
    assert render(template, ctx) == '{ "field1": "a "value""}'


def test_json_escaping_follows_jackson() -> None:
    value = 'q" b\\ \b\t\n\f\r \x01\x1f / é \u2028'
    expected = 'q\\" b\\\\ \\b\\t\\n\\f\\r \\u0001\\u001F / é \u2028'
    assert render("{{v}}", {"v": value}, escape="json") == expected


def test_html_escaping_follows_mustache_java() -> None:
    value = "<a href=\"x\">'&'=`</a>\n"
    expected = "&lt;a href&#61;&quot;x&quot;&gt;&#39;&amp;&#39;&#61;&#96;&lt;/a&gt;&#10;"
    assert render("{{v}}", {"v": value}, escape="html") == expected


@pytest.mark.parametrize("escape", ["none", "json", "html"])
def test_triple_mustache_and_ampersand_are_never_escaped(escape: Any) -> None:
    ctx = {"v": '<"&">'}
    assert render("{{{v}}}|{{& v}}", ctx, escape=escape) == '<"&">|<"&">'


def test_watcher_json_prefixed_template() -> None:
    template = (
        '__json__::GET _search {"query": {"term": {"body": {"value": "{{body_val}}"}}}, '
        '"negative_boost": {{boost_val}} }'
    )
    source, escape = split_content_type(template)
    assert escape == "json"
    rendered = render(source, {"boost_val": "0.3", "body_val": '"quick brown"'}, escape=escape)
    assert rendered == (
        'GET _search {"query": {"term": {"body": {"value": "\\"quick brown\\""}}}, '
        '"negative_boost": 0.3 }'
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("__json__::x", ("x", "json")),
        ("__JSON__::x", ("x", "json")),
        ("__yaml__::x", ("x", "none")),
        ("__text__::x", ("x", "none")),
        ("__json__:x", ("__json__:x", "none")),
        ("++json__::x", ("++json__::x", "none")),
        ("__application/json__::x", ("__application/json__::x", "json")),
        ("plain {{x}}", ("plain {{x}}", "none")),
    ],
)
def test_split_content_type(template: str, expected: tuple[str, str]) -> None:
    assert split_content_type(template) == expected


# --- sections ------------------------------------------------------------------------------


def test_sections_iterate_lists_and_enter_maps() -> None:
    ctx = {"items": [{"n": "a"}, {"n": "b"}], "m": {"n": "c"}, "n": "outer", "s": ["x", "y"]}
    assert render("{{#items}}{{n}},{{/items}}", ctx) == "a,b,"
    assert render("{{#m}}{{n}}{{/m}}", ctx) == "c"
    assert render("{{#s}}<{{.}}>{{/s}}", ctx) == "<x><y>"
    # Names not found in the item are looked up in the enclosing contexts.
    assert render("{{#s}}{{n}}{{/s}}", ctx) == "outerouter"


@pytest.mark.parametrize(
    ("value", "shown", "inverted"),
    [
        (None, "", "no"),
        (False, "", "no"),
        (True, "yes:true", ""),
        ("", "", "no"),
        ("x", "yes:x", ""),
        (0, "yes:0", ""),
        (0.0, "yes:0.0", ""),
        ([], "", "no"),
        ({}, "yes:{}", ""),
    ],
)
def test_truthiness_follows_mustache_java(value: Any, shown: str, inverted: str) -> None:
    ctx = {"v": value}
    assert render("{{#v}}yes:{{.}}{{/v}}", ctx) == shown
    assert render("{{^v}}no{{/v}}", ctx) == inverted


def test_a_found_path_prefix_stops_the_lookup_in_outer_scopes() -> None:
    outer = {"b": {"c": "outer"}}
    assert render("{{#a}}{{b.c}}{{/a}}", {**outer, "a": {"b": {}}}) == ""
    assert render("{{#a}}{{b.c}}{{/a}}", {**outer, "a": {"x": 1}}) == "outer"


def test_default_value_idiom_from_elastic_docs() -> None:
    template = "{{#end}}{{end}}{{/end}}{{^end}}now{{/end}}"
    assert render(template, {"end": "now-1d"}) == "now-1d"
    assert render(template, {}) == "now"


def test_standalone_section_lines_vanish() -> None:
    template = "A\n  {{#items}}\n  - {{.}}\n  {{/items}}\nB\n"
    assert render(template, {"items": ["x", "y"]}) == "A\n  - x\n  - y\nB\n"
    assert render(template, {"items": []}) == "A\nB\n"


def test_inline_sections_keep_their_surroundings() -> None:
    assert render("x {{#a}}[{{.}}]{{/a}} y\n", {"a": [1, 2]}) == "x [1][2] y\n"


def test_line_break_right_after_an_opening_tag_is_dropped_as_mustache_java_does() -> None:
    assert render("x{{#a}}\ny{{/a}}", {"a": True}) == "xy"


def test_carriage_returns_survive_only_before_line_feeds() -> None:
    assert render("a\rb{{x}}c\r\nd", {"x": "-"}) == "ab-c\r\nd"
    # Watcher does not compile a template without "{{", so it stays intact.
    assert render("a\rb", {}) == "a\rb"


def test_comments_pragmas_partials_and_blocks() -> None:
    ctx = {"x": 1}
    assert render("a{{! a comment }}b", ctx) == "ab"
    assert render("a{{%IMPLICIT-ITERATOR}}b", ctx) == "ab"
    assert render("a{{> header}}b", ctx) == "ab"
    assert render("a{{<parent}}{{$x}}body{{/x}}{{/parent}}b", ctx) == "ab"
    assert render("a{{$block}}default {{x}}{{/block}}b", ctx) == "adefault 1b"


def test_set_delimiters() -> None:
    template = "{{=<% %>=}}<%x%> {{x}} <%{x}%> <%={{ }}=%>{{x}}"
    assert render(template, {"x": "<v>"}, escape="html") == "&lt;v&gt; {{x}} <v> &lt;v&gt;"


# --- Elasticsearch's functions -------------------------------------------------------------


def test_to_json_as_in_elastic_docs() -> None:
    template = '{ "query": { "terms": {{#toJson}}statuses{{/toJson}} }}'
    params = {"statuses": {"status": ["pending", "published"]}}
    assert render(template, params) == '{ "query": { "terms": {"status":["pending","published"]} }}'


def test_to_json_details() -> None:
    ctx = {"l": [1, 2.0, None, "é\n", float("nan"), 1e20], "s": 'a"b', "n": 4.0}
    assert render("{{#toJson}}l{{/toJson}}", ctx) == '[1,2.0,null,"é\\n","NaN",1.0E20]'
    # Scalars are printed, not quoted; a missing name gives nothing.
    assert render("{{#toJson}}s{{/toJson}}|{{#toJson}}n{{/toJson}}", ctx) == 'a"b|4.0'
    assert render("{{#toJson}}missing{{/toJson}}", ctx) == ""
    # The body is the name verbatim: blanks around it make it another name.
    assert render("{{#toJson}} s {{/toJson}}", ctx) == ""
    # Never escaped, whatever the surrounding escaping.
    assert render("{{#TOJSON}}s{{/TOJSON}}", ctx, escape="json") == 'a"b'


def test_join_as_in_elastic_docs() -> None:
    params = {"emails": ["username@email.com", "lastname@email.com"]}
    assert render("{{#join}}emails{{/join}}", params) == "username@email.com,lastname@email.com"
    template = "{{#join delimiter='||'}}emails{{/join delimiter='||'}}"
    assert render(template, params) == "username@email.com||lastname@email.com"


def test_join_details() -> None:
    ctx = watch_ctx({"list": [1, 2.5, "x", [1, 2], {"k": "v"}], "text": "abc"})
    template = "{{#join delimiter=' | '}}ctx.payload.list{{/join delimiter=' | '}}"
    assert render(template, ctx) == "1 | 2.5 | x | [1, 2] | {k=v}"
    # Elasticsearch hands back the body when the value is not a list.
    assert render("{{#join}}ctx.payload.text{{/join}}", ctx) == "ctx.payload.text"
    assert render("{{#join}}ctx.payload.missing{{/join}}", ctx) == "ctx.payload.missing"


def test_url_as_in_elastic_docs() -> None:
    template = "{{#url}}{{host}}/{{page}}{{/url}}"
    params = {"host": "http://www.elastic.co/", "page": "learn"}
    assert render(template, params) == "http%3A%2F%2Fwww.elastic.co%2F%2Flearn"


def test_url_encodes_like_java_url_encoder() -> None:
    ctx = {"q": "a b~c*d_e.f-g+é"}
    assert render("?q={{#url}}{{q}}{{/url}}&x=1", ctx) == "?q=a+b%7Ec*d_e.f-g%2B%C3%A9&x=1"


# --- parse errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("ab\n  {{#items}}x", "line 2, column 3: section {{#items}} is never closed"),
        (
            "{{#a}}x{{/b}}",
            "line 1, column 8: {{/b}} does not close the open section {{#a}} "
            "(opened at line 1, column 1)",
        ),
        ("x{{/b}}", "line 1, column 2: {{/b}} closes a section that was never opened"),
        ("{{}}", "line 1, column 1: empty tag {{}}"),
        ("ok {{name", "line 1, column 4: tag {{name is not closed with }}"),
        ("{{{name}}", "line 1, column 1: {{{name}} is missing its third closing brace"),
        ("{{=<%=}}", "line 1, column 1: {{=<%}} is not a delimiter change"),
        ("{{#toJson}}{{/toJson}}", "line 1, column 1: {{#toJson}} must contain exactly one name"),
        ("{{#join}}a{{b}}{{/join}}", "line 1, column 1: {{#join}} must contain exactly one name"),
    ],
)
def test_parse_errors_name_the_position_and_the_tag(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check(template)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(TemplateError):
        render(template, {})


def test_error_carries_the_position() -> None:
    with pytest.raises(TemplateError) as caught:
        check("one\ntwo {{#a}}{{/b}}")
    assert (caught.value.position, caught.value.line, caught.value.column) == (14, 2, 11)
    assert caught.value.tag == "{{/b}}"


def test_check_accepts_valid_templates() -> None:
    check("no tags at all {")
    check("{{#a}}{{b}}{{^c}}{{/c}}{{/a}}{{! c }}{{{d}}}{{=<% %>=}}<%e%>")


def test_deep_nesting_and_self_containing_values_are_template_errors() -> None:
    with pytest.raises(TemplateError, match="nested more than 100 deep"):
        check("{{#a}}" * 150 + "{{/a}}" * 150)
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(TemplateError, match="contains itself"):
        render("{{v}}", {"v": looped})


# --- render_value --------------------------------------------------------------------------


def test_render_value_renders_strings_only_and_never_keys() -> None:
    body = {
        "{{k}}": "{{v}}",
        "list": ["{{v}}", 1, None, True, {"deep": "x{{v}}"}],
        "number": 2.5,
    }
    assert render_value(body, {"k": "K", "v": 'a"b'}) == {
        "{{k}}": 'a"b',
        "list": ['a"b', 1, None, True, {"deep": 'xa"b'}],
        "number": 2.5,
    }
    assert render_value(["{{v}}"], {"v": 'a"b'}, escape="json") == ['a\\"b']


# --- properties ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "c", "0", "size", "a.b"]), children, max_size=4
        )
    ),
    max_leaves=20,
)
fragments = st.sampled_from(
    [
        *("{{", "}}", "{", "}", "#", "^", "/", "&", "!", ">", "=", "%", "$", "<", "?", "."),
        *(" ", "\n", "\r", "a", "b", "c", "0", "a.b", "size", "<%", "%>"),
        *("toJson", "join", "url", "join delimiter='-'"),
    ]
)
templates = st.lists(fragments | st.text(max_size=3), max_size=30).map("".join)


@settings(max_examples=400)
@given(
    template=templates,
    ctx=st.dictionaries(st.sampled_from(["a", "b", "c", "a.b"]), json_values, max_size=4),
    escape=st.sampled_from(["none", "json", "html"]),
)
def test_render_raises_nothing_but_template_errors(
    template: str, ctx: dict[str, Any], escape: Any
) -> None:
    try:
        result = render(template, ctx, escape=escape)
    except TemplateError:
        with pytest.raises(TemplateError):
            check(template)
    else:
        assert isinstance(result, str)
        check(template)


@given(st.text())
def test_text_without_tags_renders_unchanged(text: str) -> None:
    if "{{" not in text:
        assert render(text, {"a": 1}) == text


@given(st.text())
def test_json_escaped_values_decode_back(value: str) -> None:
    rendered = render("{{v}}", {"v": value}, escape="json")
    assert json.loads(f'"{rendered}"') == value


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
def test_url_encoded_content_decodes_back(value: str) -> None:
    rendered = render("{{#url}}{{v}}{{/url}}", {"v": value})
    assert urllib.parse.unquote_plus(rendered) == value
