"""Late data from a node that was offline, end to end: real Kafka, the ingest service, a real
Elasticsearch (with the Painless node for the rules' transforms), the alert service running the
shipped rules, and a real SMTP server.

The fleet's history is indexed directly (as a live ingest would have indexed it, each line a
second after it was written). edge-07 went offline 35 minutes ago; while offline it wrote an
error burst about 30 minutes ago. When it comes back, its buffer is produced to Kafka and
read by the ingest service, with the times the lines were written.

Last, the pipeline's own lateness: ingest stopped for 12 minutes while the hosts kept
producing to Kafka.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest import status
from pipeline.ingest.template import template_name
from tests.fixtures.alerting import every, running, seed, shipped_rule
from tests.fixtures.ingest import ingesting, produce, with_ingest
from tests.fixtures.smtp import MailSink

FLEET = ("edge-01", "edge-02", "edge-03", "edge-04")
BURST = 40
LATE = {"window": "5m", "lookback": "24h", "max_windows": 12, "settle": "2s"}


@pytest.fixture
def late_config(
    ingest_config: Config,
    alert_config: Config,
    smtp_server: MailSink,
    es: Elasticsearch,
    unique_name: str,
) -> Iterator[Config]:
    """Ingest and alerting on the test's own indices (`<name>-logs-YYYY.MM.DD` for the logs,
    `<name>-status` for ingest's status), mail to the test's SMTP server."""
    ingest = replace(
        ingest_config.ingest,
        index_prefix=f"{unique_name}-logs",
        status_index=f"{unique_name}-status",
    )
    yield replace(
        alert_config,
        ingest=ingest,
        alert=replace(alert_config.alert, delivery_retry_max_s=4.0),
        smtp=replace(alert_config.smtp, host=smtp_server.host, port=smtp_server.port),
    )
    quiet = es.options(ignore_status=404).indices
    quiet.delete_index_template(name=template_name(ingest))
    quiet.delete_index_template(name=ingest.status_index)


def _seed_by_day(
    es: Elasticsearch, prefix: str, docs: list[tuple[str, str, datetime, str]]
) -> None:
    """Each document into its day's index, as ingest routes it, arrived a second later."""
    days: dict[str, list[tuple[str, str, datetime, str]]] = {}
    for doc in docs:
        days.setdefault(f"{prefix}-{doc[2]:%Y.%m.%d}", []).append(doc)
    for index, chunk in days.items():
        seed(es, index, chunk, ingested_after=timedelta(seconds=1))


def _history(now: datetime, skew: timedelta) -> list[tuple[str, str, datetime, str]]:
    """70 minutes of the fleet: info every minute, an error every 5 (edge-07: every 10); edge-07
    goes quiet 35 minutes before `now`. Its lines carry its clock's times (+ skew)."""
    docs = [(h, "info", t, "ok") for h in FLEET for t in every(70, 60, now)]
    docs += [(h, "error", t, "disk slow") for h in FLEET for t in every(70, 300, now)]
    gone = now - timedelta(minutes=35)
    docs += [("edge-07", "info", t + skew, "ok") for t in every(35, 60, gone)]
    docs += [("edge-07", "error", t + skew, "disk slow") for t in every(35, 600, gone)]
    return docs


def _buffer(now: datetime, skew: timedelta) -> tuple[list[bytes], datetime]:
    """What edge-07 wrote while offline (its clock's times), and the start of the 5-minute
    window its error burst fell in (in that clock's time, as the lines say)."""
    lines = [(t + skew, "INFO", "ok") for t in every(34, 60, now - timedelta(minutes=1))]
    written = now - timedelta(minutes=30) + skew
    window = written.replace(minute=written.minute - written.minute % 5, second=0, microsecond=0)
    lines += [
        (window + timedelta(seconds=20 + 5 * i), "ERROR", f"db timeout {i}") for i in range(BURST)
    ]
    lines.sort()
    values = [f"{status.iso_ms(t)} {level} {text}".encode() for t, level, text in lines]
    values.append(
        f"{status.iso_ms(now + skew)} INFO back online".encode()
    )  # written as it came back
    return values, window


def _subjects(sink: MailSink) -> list[str]:
    return [str(mail.message["Subject"]) for mail in sink.messages]


def _wait_quiet(sink: MailSink, expected: int, settle_s: float = 8.0) -> list[str]:
    """Wait for `expected` emails, then a while longer: nothing more may come."""
    sink.wait_for(expected, timeout=90)
    time.sleep(settle_s)
    return _subjects(sink)


def _offline_node(
    cfg: Config,
    es: Elasticsearch,
    topic: str,
    sink: MailSink,
    rules: Path,
    skew: timedelta,
    extra_rules: tuple[str, ...] = (),
) -> tuple[list[str], datetime, int]:
    """Run the scenario; returns the subjects, the burst window and the lines produced."""
    prefix = cfg.ingest.index_prefix
    logs = f"{prefix}-*"
    now = datetime.now(UTC)
    _seed_by_day(es, prefix, _history(now, skew))
    for name in ("fleet-error-spike", "host-error-spike", "silent-node"):
        rule = shipped_rule(rules, name, logs)
        _set_late(rules / f"{rule}.json")
    for name in extra_rules:
        shipped_rule(rules, name, logs, {"edgewatch-status": cfg.ingest.status_index})
    values, window = _buffer(now, skew)
    with ingesting(cfg, topic), running(cfg, rules):
        (silent,) = sink.wait_for(1, timeout=30)
        assert "Silent node: edge-07" in str(silent.message["Subject"])
        produce(cfg, topic, values, key=b"edge-07")  # edge-07 is back: its buffer arrives
        subjects = _wait_quiet(sink, 3 + len(extra_rules))
    return subjects, window, len(values)


def _set_late(path: Path) -> None:
    """The shipped rule, with arrivals looked at after 2 s instead of 30 (a test's pace)."""
    rule: dict[str, Any] = json.loads(path.read_text())
    if "late_data" in rule["metadata"]:
        rule["metadata"]["late_data"] = LATE
    path.write_text(json.dumps(rule))


def _check(subjects: list[str], window: datetime, produced: int) -> None:
    silent, *rest = subjects
    assert silent.startswith("[edgewatch] Silent node: edge-07 sent no logs for ")
    late = [s for s in rest if s.startswith("[edgewatch] Error spike on edge-07")]
    recovered = [s for s in rest if s.startswith("[edgewatch] Recovered: edge-07")]
    # Exactly one alert for the burst, marked late, with the times it was written.
    assert len(late) == 1, subjects
    assert f"{BURST} error lines in 5m" in late[0]
    window_to = status.iso_ms(window + timedelta(minutes=5))
    assert f"[late: written {status.iso_ms(window)} to {window_to}, received " in late[0]
    # One recovery, saying how much the host sent back.
    assert len(recovered) == 1, subjects
    backfilled = int(recovered[0].split("; backfilled ")[1].split()[0])
    assert 0 < backfilled <= produced  # what was indexed when it was judged back: all, or so far
    # No fleet-wide spike "now", no second silent alert, nothing else.
    assert not [s for s in subjects if "Fleet error spike" in s]
    assert sum("Silent node" in s for s in subjects) == 1


def test_offline_node_backfill_yields_one_late_alert_and_one_recovery(
    late_config: Config, es: Elasticsearch, topic: str, smtp_server: MailSink, tmp_path: Path
) -> None:
    subjects, window, produced = _offline_node(
        late_config, es, topic, smtp_server, tmp_path / "rules", timedelta(0)
    )
    assert len(subjects) == 3, subjects
    _check(subjects, window, produced)
    late_mail = next(m for m in smtp_server.messages if "[late:" in str(m.message["Subject"]))
    body = late_mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    assert f"arrived late: written between {status.iso_ms(window)} and " in body.get_content()


def test_offline_node_with_clock_ten_minutes_ahead(
    late_config: Config, es: Elasticsearch, topic: str, smtp_server: MailSink, tmp_path: Path
) -> None:
    skew = timedelta(minutes=10)
    subjects, window, produced = _offline_node(
        late_config,
        es,
        topic,
        smtp_server,
        tmp_path / "rules",
        skew,
        extra_rules=("host-clock-drift",),
    )
    drift = [s for s in subjects if s.startswith("[edgewatch] Clock drift on edge-07: off by ")]
    assert len(drift) == 1, subjects
    offset = float(drift[0].removeprefix("[edgewatch] Clock drift on edge-07: off by ").split()[0])
    assert 540 <= offset <= 660
    _check([s for s in subjects if s not in drift], window, produced)


# --------------------------------------------------------------------------- ingest stopped

MEMBER = "ingest-late-test"
HOSTS = tuple(f"edge-{n:02d}" for n in range(1, 9))


def _stopped_status(cfg: Config, es: Elasticsearch, topic: str, at: datetime) -> None:
    """The status document ingest wrote last before it stopped at `at`: caught up then."""
    written = {(topic, p): int(at.timestamp() * 1000) for p in range(3)}
    progress = status.Progress(MEMBER, cfg.ingest.group, set(written), {}, written, at)
    for doc in status.documents(at, progress, [], cfg.ingest.clock_drift_bound_s):
        es.index(index=cfg.ingest.status_index, id=doc.id, document=doc.body, refresh=True)


def test_an_ingest_stop_gives_one_pipeline_alert_and_no_silent_hosts(
    late_config: Config, es: Elasticsearch, topic: str, smtp_server: MailSink, tmp_path: Path
) -> None:
    cfg = with_ingest(late_config, instance_id=MEMBER)
    prefix = cfg.ingest.index_prefix
    now = datetime.now(UTC)
    stopped = now - timedelta(minutes=12)
    # Ingest ran until 12 minutes ago: the fleet's lines up to then are indexed...
    _seed_by_day(es, prefix, [(h, "info", t, "ok") for h in HOSTS for t in every(60, 60, stopped)])
    _stopped_status(cfg, es, topic, stopped)
    # ...and the hosts went on producing to Kafka since: 12 minutes of lines wait there.
    producer = kafka_client.producer(cfg.kafka)
    for moment in every(12, 30, now):
        for host in HOSTS:
            line = f"{status.iso_ms(moment)} INFO ok".encode()
            stamp = int(moment.timestamp() * 1000)
            producer.produce(topic, value=line, key=host.encode(), timestamp=stamp)
    assert producer.flush(30) == 0
    rules = tmp_path / "rules"
    shipped_rule(rules, "silent-node", f"{prefix}-*")
    renames = {"edgewatch-status": cfg.ingest.status_index}
    shipped_rule(rules, "ingest-behind", f"{prefix}-*", renames)

    with running(cfg, rules):
        (alert,) = smtp_server.wait_for(1, timeout=30)
        time.sleep(3)  # silent-node runs every second meanwhile: held, every time
        assert len(smtp_server.messages) == 1
        with ingesting(cfg, topic):
            subjects = _wait_quiet(smtp_server, 2)
    subject = str(alert.message["Subject"])
    assert subject.startswith(
        f"[edgewatch] Ingest stopped or behind: {MEMBER} last reported at {status.iso_ms(stopped)}"
    )
    assert subject.endswith("0 of 8 hosts heard from, the others' silence is explained by it")
    text = alert.message.get_body(preferencelist=("plain",))
    assert text is not None
    assert f"Ingest member {MEMBER} last reported at {status.iso_ms(stopped)}" in text.get_content()
    assert "Of 8 hosts seen in the last 24 hours, 0 have lines from the last 10m" in (
        text.get_content()
    )
    assert subjects[1] == f"[edgewatch] Ingest caught up: {MEMBER} is current again"
    assert len(subjects) == 2, subjects  # not one silent or recovered email per host
    held = _held_reasons(es, cfg)
    assert held, "silent-node was never held"
    assert held[0].startswith("held: ingest has not reported for 12 min")


def _held_reasons(es: Elasticsearch, cfg: Config) -> list[str]:
    """The reasons of silent-node's held runs, oldest first, from the rule history."""
    pattern = f"{cfg.alert.history_prefix}-*"
    es.indices.refresh(index=pattern)
    found = es.search(
        index=pattern,
        query={
            "bool": {"filter": [{"term": {"rule_id": "silent-node"}}, {"term": {"state": "held"}}]}
        },
        sort=[{"trigger.triggered_time": "asc"}],
        size=100,
    )
    return [m for hit in found["hits"]["hits"] for m in hit["_source"]["messages"]]
