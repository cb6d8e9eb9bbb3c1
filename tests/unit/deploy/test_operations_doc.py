"""docs/operations.md and deploy/prometheus/edgewatch-alerts.yml name only metrics edgewatch
really exports, and document every one of them and every alert."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from pipeline.alerting.delivery.courier import DeliveryMetrics
from pipeline.alerting.service import AlertMetrics
from pipeline.ingest.metrics import IngestMetrics

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "operations.md"
ALERTS = ROOT / "deploy" / "prometheus" / "edgewatch-alerts.yml"
METRIC = re.compile(r"\bedgewatch_[a-z_]+\b")


def _exported() -> set[str]:
    """Metric family names as scraped: counters get `_total`."""
    names: set[str] = set()
    delivery = CollectorRegistry()
    DeliveryMetrics(delivery)
    registries = [IngestMetrics().registry, AlertMetrics().registry, delivery]
    for registry in registries:
        for family in registry.collect():
            names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return names


def _samples_of(names: set[str]) -> set[str]:
    """What a scrape may show for these families (histogram series included)."""
    return names | {f"{n}{s}" for n in names for s in ("_bucket", "_sum", "_count", "_created")}


def _alerts() -> list[dict[str, Any]]:
    data = yaml.safe_load(ALERTS.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_every_exported_metric_is_documented() -> None:
    documented = set(METRIC.findall(DOC.read_text()))
    assert _exported() - documented == set()


def test_the_doc_names_no_metric_that_does_not_exist() -> None:
    documented = set(METRIC.findall(DOC.read_text()))
    unknown = documented - _samples_of(_exported())
    assert unknown == set()


def test_alert_rules_use_real_metrics() -> None:
    known = _samples_of(_exported())
    for rule in _alerts():
        used = set(METRIC.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= known, (rule["alert"], used - known)


def test_alert_rules_are_well_formed() -> None:
    names = [rule["alert"] for rule in _alerts()]
    assert len(names) == len(set(names))
    for rule in _alerts():
        assert re.fullmatch(r"Edgewatch[A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+m", rule.get("for", "0m"))


@pytest.mark.parametrize("alert", [r["alert"] for r in _alerts()])
def test_every_alert_is_explained_in_the_doc(alert: str) -> None:
    assert f"`{alert}`" in DOC.read_text()


def test_runbook_links_point_at_headings() -> None:
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in DOC.read_text().splitlines()
        if line.startswith("#")
    }
    for rule in _alerts():
        link = rule["annotations"].get("runbook")
        if link:
            path, _, anchor = link.partition("#")
            assert (ROOT / path) == DOC and anchor in headings, link
    for anchor in re.findall(r"\]\(#([a-z0-9-]+)\)", DOC.read_text()):
        assert anchor in headings, anchor
