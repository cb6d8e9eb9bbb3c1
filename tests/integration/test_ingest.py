"""The ingest service against the real Kafka broker and Elasticsearch node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from elasticsearch import Elasticsearch

from pipeline.clients import kafka as kafka_client
from pipeline.config import Config
from pipeline.ingest.deadletter import read_headers
from pipeline.ingest.service import IngestOptions, IngestService, SetupError
from pipeline.ingest.ship import wrap
from pipeline.ingest.template import template_name
from pipeline.telemetry import total
from tests.fixtures.ingest import consume_all, count, produce, run_ingest, with_ingest
from tests.fixtures.smtp import free_port
from tests.fixtures.tcp_proxy import TcpProxy

NOW = datetime.now(UTC).replace(microsecond=0)
STAMP = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")

# One line per format, each with something format-specific to check after indexing.
LINES: dict[str, bytes] = {
    "json": f'{{"ts":"{STAMP}","level":"ERROR","msg":"valve stuck","valve":7}}'.encode(),
    "logfmt": f'ts={STAMP} level=warn msg="slow pump" pump=3'.encode(),
    "syslog": f"<165>1 {STAMP} edge-9 pumpd 4242 ID47 - pressure high".encode(),
    "access": (
        b'10.1.2.3 - - [25/Nov/2026:10:00:00 +0000] "GET /api/valves?id=7 HTTP/1.1" 503 12 '
        b'"-" "curl/8.5"'
    ),
    "container": f"{STAMP.replace('Z', '.123456789Z')} stderr F panic: valve 7".encode(),
    "plaintext": f"{STAMP.replace('T', ' ').rstrip('Z')} ERROR pump 3 failed to start".encode(),
}


def _search(es: Elasticsearch, cfg: Config, **body: object) -> dict:  # type: ignore[type-arg]
    pattern = f"{cfg.ingest.index_prefix}-*"
    es.indices.refresh(index=pattern)
    body.setdefault("size", 100)
    return dict(es.search(index=pattern, **body))  # type: ignore[arg-type]


def test_every_format_through_every_envelope(
    ingest_config: Config, es: Elasticsearch, topic: str
) -> None:
    values = [
        wrap(line, envelope, "edge-5", "/var/log/app.log", NOW)
        for envelope in ("raw", "filebeat", "fluentbit", "vector")
        for line in LINES.values()
    ]
    produce(ingest_config, topic, values, key=b"edge-5")
    run_ingest(ingest_config, topic)

    assert count(es, ingest_config) == len(values)
    result = _search(
        es,
        ingest_config,
        aggs={
            "fmt": {"terms": {"field": "event.module"}},
            "agent": {"terms": {"field": "agent.type"}},
        },
    )
    formats = {b["key"]: b["doc_count"] for b in result["aggregations"]["fmt"]["buckets"]}
    assert formats == dict.fromkeys(LINES, 4)
    agents = {b["key"]: b["doc_count"] for b in result["aggregations"]["agent"]["buckets"]}
    assert agents == {"filebeat": 6, "fluentbit": 6, "vector": 6}

    docs = [hit["_source"] for hit in result["hits"]["hits"]]
    by_format = {d["event"]["module"]: d for d in docs if "agent" not in d}
    assert by_format["json"]["log"]["level"] == "error"
    assert by_format["json"]["attributes"] == {"valve": 7}
    assert by_format["logfmt"]["message"] == "slow pump"
    assert by_format["syslog"]["log"]["syslog"]["appname"] == "pumpd"
    assert by_format["syslog"]["host"]["name"] == "edge-9"  # the line's host beats the key's
    assert by_format["access"]["http"]["response"]["status_code"] == 503
    assert by_format["access"]["url"]["path"] == "/api/valves"
    assert by_format["container"]["stream"] == "stderr"
    assert by_format["container"]["log"]["level"] == "fatal"
    assert by_format["plaintext"]["log"]["level"] == "error"
    assert all(
        d["@timestamp"].startswith(NOW.strftime("%Y-%m-%dT%H:%M"))
        for d in docs
        if d["event"]["module"] != "access"
    )


def test_poison_batch_lands_in_the_dlq_and_the_good_messages_around_it_are_indexed(
    ingest_config: Config, es: Elasticsearch, kafka_admin: AdminClient, unique_name: str
) -> None:
    topic = unique_name
    kafka_admin.create_topics([NewTopic(topic, num_partitions=1)])[topic].result(30)
    cfg = with_ingest(ingest_config, max_message_bytes=4096)
    good = [f"good line {i}".encode() for i in range(5)]
    values = [
        good[0],
        b"bad \xff\xfe utf-8",  # decode
        good[1],
        wrap(b'{"level":"error","msg":', "filebeat", "edge-6", "/x", NOW),  # parse
        good[2],
        b"y" * 10_000,  # oversized
        good[3],
        b'{"msg":"first sets attributes.n to a number","n":5}',
        b'{"msg":"second conflicts","n":"not a number"}',  # index: mapping conflict
        good[4],
    ]
    produce(cfg, topic, values)
    service = run_ingest(cfg, topic)

    assert count(es, cfg) == 6  # 5 good + the first of the conflicting pair
    letters = consume_all(cfg, f"{topic}.dlq", expected=4)
    found = []
    for msg in letters:
        headers = read_headers(msg)
        assert headers["edgewatch.topic"] == topic
        assert msg.value() == values[int(headers["edgewatch.offset"])]  # the original bytes
        assert headers["edgewatch.time"].endswith("Z")
        found.append((headers["edgewatch.stage"], headers["edgewatch.reason"]))
    assert sorted(found) == sorted(
        [
            ("decode", "invalid_utf8"),
            ("parse", found_reason(found, "parse")),
            ("decode", "oversized"),
            ("index", "document_parsing_exception"),
        ]
    )
    assert found_reason(found, "parse").startswith("json.")
    dead = {
        s.labels["reason"]: s.value
        for m in service.metrics.dead_lettered.collect()
        for s in m.samples
        if s.name.endswith("_total")
    }
    assert dead["oversized"] == 1 and dead["document_parsing_exception"] == 1


def numbered(i: int) -> bytes:
    """A good line of one of the formats, unique to `i`."""
    name = list(LINES)[i % len(LINES)]
    if name == "json":
        return b'{"level":"info","msg":"line %d"}' % i
    return LINES[name] + b" line=%d" % i


def found_reason(found: list[tuple[str, str]], stage: str) -> str:
    return next(reason for st, reason in found if st == stage)


def test_sigkill_mid_stream_then_restart_loses_nothing_and_doubles_nothing(
    ingest_config: Config, es: Elasticsearch, topic: str
) -> None:
    total = 40_000
    produce(ingest_config, topic, [numbered(i) for i in range(total)])
    env = {
        **os.environ,
        "EDGEWATCH_INGEST_INDEX_PREFIX": ingest_config.ingest.index_prefix,
        "EDGEWATCH_INGEST_BULK_MAX_DOCS": "500",
        "EDGEWATCH_INGEST_HTTP_PORT": "0",
    }
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "ingest",
        "--topics",
        topic,
        "--group",
        ingest_config.ingest.group,
    ]
    first = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        indexed_at_kill = 0
        while time.monotonic() < deadline:
            indexed_at_kill = count(es, ingest_config)
            if indexed_at_kill >= 2000:
                break
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert 0 < indexed_at_kill < total, "the kill must land mid-stream"

    second = subprocess.run(
        [*cmd, "--exit-when-idle", "3"],
        env=env,
        timeout=240,
        capture_output=True,
        text=True,
        check=False,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    assert count(es, ingest_config) == total, second.stderr[-3000:]
    # Per partition, exactly the messages Kafka holds: every offset once.
    result = _search(
        es,
        ingest_config,
        size=0,
        aggs={
            "parts": {
                "terms": {"field": "kafka.partition"},
                "aggs": {
                    "first": {"min": {"field": "kafka.offset"}},
                    "last": {"max": {"field": "kafka.offset"}},
                },
            }
        },
    )
    reader = kafka_client.consumer(ingest_config.kafka, f"{topic}-watermarks")
    try:
        for bucket in result["aggregations"]["parts"]["buckets"]:
            low, high = reader.get_watermark_offsets(TopicPartition(topic, bucket["key"]), 10)
            # Ids are <topic>/<partition>/<offset>: as many documents as offsets, all within
            # [0, high), means each offset exactly once.
            assert (low, bucket["doc_count"]) == (0, high)
            assert (bucket["first"]["value"], bucket["last"]["value"]) == (0, high - 1)
    finally:
        reader.close()


def test_sigterm_flushes_commits_and_exits_zero(
    ingest_config: Config, es: Elasticsearch, topic: str
) -> None:
    produce(ingest_config, topic, [b"line %d" % i for i in range(5000)])
    env = {**os.environ, "EDGEWATCH_INGEST_INDEX_PREFIX": ingest_config.ingest.index_prefix}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "ingest",
            "--topics",
            topic,
            "--group",
            ingest_config.ingest.group,
            "--http-port",
            "0",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while count(es, ingest_config) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-2000:]
    assert "flushing and committing" in stderr
    # Whatever it read was written and committed: a second run only picks up the rest.
    rerun = run_ingest(ingest_config, topic)
    assert count(es, ingest_config) == 5000
    assert total(rerun.metrics.consumed) < 5000


def _start_then_cut(
    cfg: Config, topic: str, es_proxy: TcpProxy
) -> tuple[IngestService, threading.Thread]:
    """The service running in a thread (exiting 3 s idle), its template installed, and then
    Elasticsearch cut off behind `es_proxy`."""
    service = IngestService(cfg, IngestOptions(topics=(topic,), exit_when_idle=3, http_port=0))
    runner = threading.Thread(target=service.run)
    runner.start()
    deadline = time.monotonic() + 30
    while not service.template_installed and time.monotonic() < deadline:
        time.sleep(0.05)
    es_proxy.cut()
    return service, runner


def test_elasticsearch_outage_pauses_retries_and_then_delivers_exactly_once(
    ingest_config: Config, es: Elasticsearch, topic: str, es_proxy: TcpProxy
) -> None:
    cfg = with_ingest(
        replace(ingest_config, es=replace(ingest_config.es, url=es_proxy.url)),
        retry_backoff_max_s=0.5,
        bulk_max_docs=200,
        bulk_concurrency=2,
    )
    service, runner = _start_then_cut(cfg, topic, es_proxy)
    produce(cfg, topic, [b"during outage %d" % i for i in range(3000)])
    time.sleep(4)
    assert total(service.metrics.retries) > 0
    assert service.metrics.paused._value.get() == 1  # backpressure: consumption paused
    # Memory stays bounded: the two writers' batches plus the complete one waiting for them.
    assert total(service.metrics.consumed) <= 3 * 200
    assert service.ready_problem() is not None  # /readyz says Elasticsearch is failing
    assert count(es, cfg) == 0
    es_proxy.restore()
    runner.join(120)
    assert not runner.is_alive()
    assert count(es, cfg) == 3000
    assert service.ready_problem() is None


def test_partitions_that_come_back_while_paused_are_read_once_elasticsearch_returns(
    ingest_config: Config, es: Elasticsearch, topic: str, es_proxy: TcpProxy
) -> None:
    """librdkafka keeps a partition's pause through a revoke and a later assignment back:
    a member paused by an Elasticsearch outage that loses partitions to a newcomer and gets
    them back when it leaves must still read them after the outage."""
    cfg = with_ingest(
        replace(ingest_config, es=replace(ingest_config.es, url=es_proxy.url)),
        retry_backoff_max_s=0.5,
        bulk_max_docs=100,
        bulk_concurrency=1,
        shutdown_timeout_s=2.0,  # how long the revoke waits for the writer before letting go
    )
    deadline = time.monotonic() + 30  # for the start and the pause together, as before
    service, runner = _start_then_cut(cfg, topic, es_proxy)
    produce(cfg, topic, [b"during outage %d" % i for i in range(3000)])
    while service.metrics.paused._value.get() != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert service.metrics.paused._value.get() == 1
    newcomer = kafka_client.consumer(
        cfg.kafka, cfg.ingest.group, **{"partition.assignment.strategy": "cooperative-sticky"}
    )
    newcomer.subscribe([topic])
    deadline = time.monotonic() + 30
    while not newcomer.assignment() and time.monotonic() < deadline:
        newcomer.poll(0.1)  # (what it reads it never commits)
    assert newcomer.assignment(), "the newcomer got no partition"
    newcomer.close()  # its partitions go back to the paused member
    time.sleep(3)
    es_proxy.restore()
    runner.join(120)
    assert not runner.is_alive()
    assert count(es, cfg) == 3000


def test_two_members_of_one_group_split_the_partitions(
    ingest_config: Config, es: Elasticsearch, topic: str
) -> None:
    first = IngestService(
        ingest_config, IngestOptions(topics=(topic,), exit_when_idle=4, http_port=0)
    )
    second = IngestService(
        ingest_config, IngestOptions(topics=(topic,), exit_when_idle=4, http_port=0)
    )
    threads = [threading.Thread(target=first.run)]
    threads[0].start()
    produced = 0
    for round_ in range(12):
        batch = [b"round %d line %d" % (round_, i) for i in range(300)]
        keys = [b"edge-%d" % (i % 10) for i in range(300)]
        producer_cfg = ingest_config
        producer = kafka_client.producer(producer_cfg.kafka)
        for value, key in zip(batch, keys, strict=True):
            producer.produce(topic, value=value, key=key)
        producer.flush(30)
        produced += len(batch)
        if round_ == 3:
            threads.append(threading.Thread(target=second.run))
            threads[1].start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(120)
    consumed = [total(svc.metrics.consumed) for svc in (first, second)]
    assert all(c > 0 for c in consumed), consumed
    assert count(es, ingest_config) == produced


def test_a_retention_policy_on_an_elasticsearch_without_ilm_stops_with_what_to_do(
    ingest_config: Config, es: Elasticsearch, topic: str
) -> None:
    """The local Elasticsearch has no ILM module: the service says so at start, and what to
    do, instead of running without the retention it was asked for."""
    cfg = with_ingest(ingest_config, ilm_delete_after_days=7)
    service = IngestService(cfg, IngestOptions(topics=(topic,), http_port=0))
    with pytest.raises(SetupError, match="ILM needs Elasticsearch's default distribution"):
        service.run()
    missing = es.options(ignore_status=404).indices.get_index_template(
        name=template_name(cfg.ingest)
    )
    assert missing.meta.status == 404  # no template naming a policy that is not there


def test_metrics_and_health_endpoints(ingest_config: Config, topic: str) -> None:
    produce(ingest_config, topic, [b"ERROR hello %d" % i for i in range(50)])
    port = free_port()
    service = IngestService(ingest_config, IngestOptions(topics=(topic,), http_port=port))
    runner = threading.Thread(target=service.run)
    runner.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        metrics = ""
        while time.monotonic() < deadline:
            try:
                metrics = urllib.request.urlopen(f"{base}/metrics", timeout=2).read().decode()
            except OSError:
                time.sleep(0.1)
                continue
            if f'edgewatch_ingest_indexed_total{{topic="{topic}"}} 50.0' in metrics:
                break
            time.sleep(0.2)
        assert f'edgewatch_ingest_consumed_total{{topic="{topic}"}} 50.0' in metrics
        assert "edgewatch_ingest_bulk_seconds_bucket" in metrics
        assert "edgewatch_ingest_batch_documents_bucket" in metrics
        assert urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
        # Kafka's side is known from librdkafka's statistics, every 2 s: ready by then.
        ready = ""
        while time.monotonic() < deadline and ready != "ready":
            try:
                ready = urllib.request.urlopen(f"{base}/readyz", timeout=2).read().decode()
            except urllib.error.HTTPError as err:
                ready = err.read().decode()
                time.sleep(0.2)
        assert ready.strip() == "ready"
    finally:
        service.stop()
        runner.join(60)


def test_ship_command_produces_files_in_a_shipper_envelope(
    ingest_config: Config, es: Elasticsearch, topic: str, tmp_path: Path
) -> None:
    log = tmp_path / "pump.log"
    log.write_bytes(b"\n".join(LINES.values()) + b"\n\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "ship",
            str(log),
            "--topic",
            topic,
            "--envelope",
            "filebeat",
            "--host",
            "edge-7",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"shipped {len(LINES)} lines to {topic}" in result.stdout
    run_ingest(ingest_config, topic)
    hits = _search(es, ingest_config)["hits"]["hits"]
    assert len(hits) == len(LINES)
    assert {h["_source"]["agent"]["type"] for h in hits} == {"filebeat"}
    assert {h["_source"]["log"]["file"]["path"] for h in hits} == {str(log.resolve())}
    json_doc = next(h["_source"] for h in hits if h["_source"]["event"]["module"] == "json")
    assert orjson.loads(json_doc["event"]["original"])["msg"] == "valve stuck"


def test_dead_letter_too_large_for_the_dlq_topic_is_truncated_not_stuck(
    ingest_config: Config, kafka_admin: AdminClient, topic: str, es: Elasticsearch
) -> None:
    dlq = f"{topic}.dlq"
    small = NewTopic(dlq, num_partitions=1, config={"max.message.bytes": "200000"})
    kafka_admin.create_topics([small])[dlq].result(30)
    cfg = with_ingest(ingest_config, max_message_bytes=100_000)
    big = b"z" * 600_000
    produce(cfg, topic, [b"before", big, b"after"])
    run_ingest(cfg, topic)

    assert count(es, cfg) == 2
    (letter,) = consume_all(cfg, dlq, expected=1)
    headers = read_headers(letter)
    assert headers["edgewatch.reason"] == "oversized"
    assert headers["edgewatch.truncated_from"] == "600000"
    value = letter.value() or b""
    assert 0 < len(value) < 200_000
    assert big.startswith(value)
