"""The index template and the optional ILM policy that ingest installs at start."""

from __future__ import annotations

import pytest

from pipeline.config import IngestConfig
from pipeline.ingest.template import ilm_policy, template_body, template_name

pytestmark = pytest.mark.unit


def test_no_retention_is_set_unless_asked_for() -> None:
    settings = IngestConfig()
    assert ilm_policy(settings) is None
    assert "index.lifecycle.name" not in template_body(settings)["template"]["settings"]


def test_dated_indices_are_deleted_by_age_without_rollover() -> None:
    settings = IngestConfig(ilm_delete_after_days=30)
    policy = ilm_policy(settings)
    assert policy is not None
    assert policy["phases"] == {"delete": {"min_age": "30d", "actions": {"delete": {}}}}
    # The template names the policy, which is installed under the template's own name.
    index_settings = template_body(settings)["template"]["settings"]
    assert index_settings["index.lifecycle.name"] == template_name(settings) == "edgewatch-logs"


def test_a_data_stream_rolls_over_daily_and_deletes_after_the_age() -> None:
    settings = IngestConfig(index_mode="data_stream", dataset="pumps", ilm_delete_after_days=7)
    policy = ilm_policy(settings)
    assert policy is not None
    assert list(policy["phases"]) == ["hot", "delete"]
    assert policy["phases"]["hot"]["actions"]["rollover"]["max_age"] == "1d"
    assert policy["phases"]["delete"]["min_age"] == "7d"
    body = template_body(settings)
    assert body["template"]["settings"]["index.lifecycle.name"] == "edgewatch-logs-pumps"
    assert body["data_stream"] == {}
