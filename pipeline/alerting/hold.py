"""Holding silence rules while edgewatch's own ingest is behind or stopped.

When ingest stops or falls behind, every edge host looks silent although all of them keep
producing to Kafka: a silent-node rule would send one alert per host, then one "recovered" per
host after catch-up, and none of them would name the cause. A rule with
`metadata.hold_while_ingest_behind` is therefore not run while the ingest status documents
(written by every ingest member every 10 s, pipeline/ingest/status.py) say that ingest

- is further behind than the rule's threshold (`true`: the rule's `silent_after`, else 1m; or
  a duration), or
- has not reported for `STALE_AFTER` (stopped, or cut off from Elasticsearch).

The held run is recorded in the history with the reason; the rule's state (its open alerts)
is kept as it was, so after catch-up the rule judges the backfilled data and nobody hears
about a silence that never was. The one alert that does go out is the ingest-behind rule's.

Without any status document (ingest never wrote one: an older ingest, or logs indexed by
something else) nothing is held. Everything here but `IngestStatus` is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.alerting.engine.java.dates import as_utc, format_date, parse_date
from pipeline.alerting.engine.java.durations import parse_duration
from pipeline.ingest.status import spoken

STALE_AFTER = timedelta(seconds=60)
DEFAULT_THRESHOLD = timedelta(minutes=1)


def threshold(metadata: Mapping[str, Any] | None) -> timedelta | None:
    """How far behind ingest may be before the rule is held; None: the rule is never held."""
    metadata = metadata or {}
    wanted = metadata.get("hold_while_ingest_behind")
    if wanted is None or wanted is False:
        return None
    if wanted is True:
        silent_after = metadata.get("silent_after")
        return parse_duration(str(silent_after)) if silent_after else DEFAULT_THRESHOLD
    return parse_duration(str(wanted))


def hold_reason(
    limit: timedelta, statuses: Sequence[Mapping[str, Any]], now: datetime
) -> str | None:
    """Why the rule is held now, or None to run it. `statuses`: ingest status documents."""
    if not statuses:
        return None
    now = as_utc(now)
    dated = [(parse_date(str(s["@timestamp"])), s) for s in statuses if s.get("@timestamp")]
    if not dated:
        return None
    newest, latest = max(dated, key=lambda pair: pair[0])
    age = now - newest
    if age > STALE_AFTER:
        return (
            f"held: ingest has not reported for {spoken(age.total_seconds())} (last report from "
            f"{latest.get('member', '?')} at {newest.isoformat()}); silence now may be the "
            "pipeline's, not the hosts'"
        )
    fresh = [s for t, s in dated if now - t <= STALE_AFTER]
    behind = max(fresh, key=lambda s: float(s.get("behind_s") or 0))
    behind_s = float(behind.get("behind_s") or 0)
    if behind_s > limit.total_seconds():
        topics = [
            str(t.get("topic"))
            for t in behind.get("topics") or []
            if float(t.get("behind_s") or 0) > limit.total_seconds()
        ]
        where = f" on topic {', '.join(topics)}" if topics else ""
        return (
            f"held: ingest is {spoken(behind_s)} behind{where} (more than "
            f"{spoken(limit.total_seconds())}); silence now may be the pipeline's, not the hosts'"
        )
    return None


def held_record(
    rule_id: str, watch: Mapping[str, Any], now: datetime, scheduled: datetime, reason: str
) -> dict[str, Any]:
    """The watch record of a held run: state `held`, the reason, no input, no actions."""
    return {
        "watch_id": rule_id,
        "id": f"{rule_id}_held-{format_date(now)}",
        "state": "held",
        "trigger_event": {
            "type": "schedule",
            "triggered_time": format_date(now),
            "schedule": {"scheduled_time": format_date(scheduled)},
        },
        "metadata": dict(watch.get("metadata") or {}),
        "result": {"execution_time": format_date(now), "actions": []},
        "messages": [reason],
    }


class IngestStatus:
    """Reads the latest ingest status documents (adapter)."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def latest(self) -> list[dict[str, Any]]:
        """The status documents of the ingest members that reported in the last day (none
        while the index does not exist yet: ingest never wrote one)."""
        found = self.es.search(
            index=self.index,
            query={
                "bool": {
                    "filter": [
                        {"term": {"kind": "ingest"}},
                        {"range": {"@timestamp": {"gte": "now-1d"}}},
                    ]
                }
            },
            sort=[{"@timestamp": "desc"}],
            size=100,
            ignore_unavailable=True,
        )
        return [hit["_source"] for hit in found["hits"]["hits"]]
