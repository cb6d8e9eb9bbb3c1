"""The Content-Type of a request body sent without one, as Watcher's HttpClient gives it
(x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/common/http/HttpClient.java:
a body with no Content-Type header is sniffed with XContentFactory.xContentType)."""

from __future__ import annotations

from pipeline.alerting.outbound_http import with_content_type


def test_json_body_is_application_json() -> None:
    """HttpClient: JSON text (first non-blank character `{`, XContentFactory.xContentType)
    goes as application/json."""
    assert with_content_type({}, ' \n{"a": 1}') == {"Content-Type": "application/json"}


def test_other_bodies_are_text_plain() -> None:
    """HttpClient: a body that is not xcontent goes with the entity's text/plain type; YAML
    (`---`) is detected as such."""
    assert with_content_type({}, "disk full") == {"Content-Type": "text/plain; charset=UTF-8"}
    assert with_content_type({}, "[1, 2]")["Content-Type"].startswith("text/plain")
    assert with_content_type({}, "---\na: 1") == {"Content-Type": "application/yaml"}


def test_the_rules_header_wins_and_no_body_gets_none() -> None:
    """HttpRequestTemplate.render / HttpClient: a Content-Type the rule sets (any case) is
    kept; only a request with a body gets one."""
    assert with_content_type({"content-type": "text/csv"}, "{") == {"content-type": "text/csv"}
    assert with_content_type({"X": "1"}, "") == {"X": "1"}
    assert with_content_type({}, None) == {}
