"""Ingest benchmark: throughput against Elasticsearch's own ceiling, CPU, memory, latency.

    make bench-ingest                # EVENTS=1000000 by default
    EVENTS=200000 make bench-ingest

Phases, all against the local stack (or whatever EDGEWATCH_* points at):

1. parse: envelope, parse and document per core, whole polls through the native core as the
   service hands them over (`_native.Intake.take`), no I/O, per format and mixed; and what
   a topic's own JSON Schema adds per event.
2. produce N mixed lines in every format, in all four envelopes: real lines from the shared
   corpus where it is (EDGEWATCH_CORPUS, default ../shared/corpus), generated ones elsewhere.
3. ingest against the ceiling, in turns (ceiling, ingest, ceiling, ingest, ceiling), after an
   unmeasured warm-up pass:
   - ingest: `edgewatch ingest --exit-when-idle` as a child process; events/s, its CPU
     seconds per million events and its peak RSS;
   - ceiling: the very documents ingest produces, bulk-indexed straight into Elasticsearch
     by this process with the same batch size, concurrency and request, no Kafka and no
     parsing.
   The figures are the means of the passes; taking turns cancels Elasticsearch's own drift
   (it keeps getting faster for minutes after it starts).
4. latency: with ingest running, probe messages at a steady rate; the time from produce to
   the document being visible to search (default 1 s refresh), p50 and p99.
5. pipeline only: ingest again over the same topic with the parse step replaced by one
   constant, median-sized document (bench/pipeline_only.py), between two ceilings of that
   same document: what everything but parsing costs, i.e. the ratio if parsing were free.

The last line printed is one JSON object with the figures. Nothing here passes or fails.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from confluent_kafka import Message
from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]
from elasticsearch import ApiError, Elasticsearch

from pipeline.clients import elasticsearch as es_client
from pipeline.clients import kafka as kafka_client
from pipeline.config import Config, IngestConfig, TopicConfig, load_config
from pipeline.ingest import _native, bulk
from pipeline.ingest.actions import IndexAction, Origin, index_action, iso
from pipeline.ingest.runs import Part
from pipeline.ingest.ship import wrap
from pipeline.ingest.template import template_body
from pipeline.ingest.transform import core_settings, transform

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EDGEWATCH_CORPUS") or ROOT.parent / "shared" / "corpus")
ENVELOPES = ("raw", "raw", "filebeat", "filebeat", "fluentbit", "vector")
POLL = 500  # messages per poll handed to the core (the service asks for up to 1,000)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def sample_lines(corpus: Path = CORPUS) -> dict[str, list[bytes]]:
    """Lines per format: real ones from the shared corpus where it is (CI has it), else lines
    generated here in the same formats; plus app-log shapes the corpus lacks."""
    formats = corpus / "formats"
    if formats.is_dir():
        say(f"lines: real samples from {corpus}, plus generated app logs")
        third_party = corpus_lines(formats)
    else:
        say(f"lines: generated (no corpus at {corpus}; set EDGEWATCH_CORPUS for real samples)")
        third_party = generated_lines()
    return {**third_party, **app_lines()}


def corpus_lines(formats: Path) -> dict[str, list[bytes]]:
    """Access, syslog and container lines from the shared corpus."""
    apache = (formats / "apache_combined_access/apache_logs.log").read_bytes().splitlines()
    syslog_files = sorted((formats / "syslog/beats-system-syslog-test").glob("*.log"))
    syslog = [ln for f in syslog_files for ln in f.read_bytes().splitlines() if ln[:1].isalpha()]
    docker = [
        ln
        for f in sorted((formats / "docker_json_file/fluent-bit/kubernetes_log").rglob("*.log"))
        for ln in f.read_bytes().splitlines()
        if ln.strip()
    ]
    return {"access": apache[:2000], "syslog": syslog, "container": docker}


def generated_lines(count: int = 2000, seed: int = 20261125) -> dict[str, list[bytes]]:
    """Access, syslog and container lines in the shapes the corpus has (Apache combined,
    BSD syslog as a file holds it, Docker json-file records), varied like a fleet's."""
    rng = random.Random(seed)
    paths = ["/", "/api/v1/pumps/7", "/static/app.js", "/login", "/api/v1/valves?id=3", "/x y"]
    agents = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "edge-agent/2.1", "-"]
    statuses = [200] * 12 + [301, 304, 404, 500, 503]
    access, syslog, container = [], [], []
    for i in range(count):
        t = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC) + timedelta(seconds=i * 7)
        access.append(
            (
                f"10.{i % 7}.{i % 250}.{rng.randrange(1, 255)} - "
                f"{rng.choice(['-', 'ops', 'pump'])} [{t:%d/%b/%Y:%H:%M:%S} +0000] "
                f'"{rng.choice(["GET", "GET", "POST", "HEAD"])} {rng.choice(paths)} HTTP/1.1" '
                f"{rng.choice(statuses)} {rng.randrange(0, 90000)} "
                f'"{rng.choice(["-", "https://shop.example/"])}" "{rng.choice(agents)}"'
            ).encode()
        )
        program, text = rng.choice(
            [
                (
                    f"sshd[{rng.randrange(900, 9999)}]",
                    "Accepted publickey for ops from "
                    f"192.0.2.{rng.randrange(1, 254)} port {rng.randrange(30000, 60000)} ssh2",
                ),
                (f"CRON[{rng.randrange(900, 9999)}]", "(root) CMD (/usr/local/bin/rotate)"),
                (
                    "kernel",
                    f"[{rng.randrange(10**6)}.{rng.randrange(1000):03d}] usb 1-1: "
                    "device descriptor read/64, error -71",
                ),
                ("systemd[1]", f"Started Session {rng.randrange(9999)} of user ops."),
            ]
        )
        syslog.append(
            f"{t:%b} {t.day:>2} {t:%H:%M:%S} edge-{i % 50:02d} {program}: {text}".encode()
        )
        message = rng.choice(
            [
                f"GET /healthz 200 {rng.randrange(1, 90)}ms",
                f'{{"level":"info","msg":"handover complete","cell":"{i % 97:03d}"}}',
                f'level=warn msg="uplink rssi low" rssi=-{rng.randrange(60, 110)}',
                "panic: runtime error: index out of range [3] with length 3",
            ]
        )
        record = {
            "log": message + "\n",
            "stream": rng.choice(["stdout", "stderr"]),
            "time": f"{t:%Y-%m-%dT%H:%M:%S}.{rng.randrange(10**9):09d}Z",
        }
        container.append(orjson.dumps(record))
    return {"access": access, "syslog": syslog, "container": container}


def app_lines() -> dict[str, list[bytes]]:
    """JSON, logfmt and plain application lines, which the corpus has too few of."""
    stamp = "2026-11-25T10:00:00.123Z"
    json_lines = [
        b'{"time":"%s","level":"%s","msg":"request handled","path":"/api/v1/pumps/%d",'
        b'"status":%d,"duration_ms":%d,"service":"pumpd"}'
        % (stamp.encode(), lvl, i, 200 if lvl != b"error" else 500, i % 300)
        for i, lvl in enumerate([b"info"] * 8 + [b"warn", b"error"])
    ]
    logfmt = [
        b'ts=%s level=%s msg="valve cycle" valve=%d took=%dms' % (stamp.encode(), lvl, i, i * 3)
        for i, lvl in enumerate([b"info", b"debug", b"warn", b"error"])
    ]
    plain = [
        b"2026-11-25 10:00:00,123 ERROR [main] c.e.Pump - pressure sensor timeout",
        b"2026-11-25 10:00:01,456 INFO  [main] c.e.Pump - cycle complete in 35 ms",
        b"panic: runtime error: index out of range [3] with length 3",
    ]
    return {
        "json": json_lines,
        "logfmt": logfmt,
        "plaintext": plain,
    }


def mixed_values(samples: dict[str, list[bytes]], count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs: formats round-robin, envelopes round-robin over each round of
    formats (so every format comes in every envelope), 50 edge hosts."""
    now = datetime.now(UTC)
    pools = list(samples.values())
    out = []
    for i in range(count):
        pool = pools[i % len(pools)]
        line = pool[(i // len(pools)) % len(pool)]
        host = f"edge-{i % 50:02d}"
        envelope = ENVELOPES[(i // len(pools)) % len(ENVELOPES)]
        out.append((host.encode(), wrap(line, envelope, host, "/var/log/app.log", now)))
    return out


def messages(topic: str, values: list[tuple[bytes, bytes]], now_ms: int) -> list[Message]:
    """confluent-kafka messages as a consumer hands them over."""
    return [
        Message(
            topic=topic,
            partition=0,
            offset=i,
            key=key,
            value=value,
            timestamp=(1, now_ms),
        )
        for i, (key, value) in enumerate(values)
    ]


def polls_of(
    topic: str, values: list[tuple[bytes, bytes]], count: int, now_ms: int
) -> list[list[Message]]:
    """`count` messages of `values` (repeated as needed), in polls of POLL."""
    values = (values * (count // max(1, len(values)) + 1))[:count]
    msgs = messages(topic, values, now_ms)
    return [msgs[i : i + POLL] for i in range(0, len(msgs), POLL)]


def core_intake(settings: IngestConfig, topic: str, config: TopicConfig) -> _native.Intake:
    """The native core with `topic` routed, as the service's Intake routes it."""
    intake = _native.Intake()
    intake.route(topic, core_settings(settings, config))
    return intake


def rate(intake: _native.Intake, polls: list[list[Message]], runs: int) -> tuple[float, float]:
    """(best, median) events per CPU-second over `runs` passes of `polls`, each poll taken in
    one call (or more, at the size limit) as the service takes it."""
    ingested = "2026-01-01T00:00:00.000000Z"
    rates = []
    events = sum(len(p) for p in polls)
    for _ in range(runs):
        started = time.process_time()
        for poll in polls:
            start = 0
            while start < len(poll):
                offsets: dict[tuple[str, int], int] = {}
                _, _, _, start, _ = intake.take(
                    poll, start, ingested, 1 << 20, 1 << 62, offsets, {}, {}
                )
        rates.append(events / (time.process_time() - started))
    return max(rates), statistics.median(rates)


def bench_parse(samples: dict[str, list[bytes]], settings: IngestConfig) -> dict[str, float]:
    """Envelope, parse and document per core, whole polls through the native core: events
    per CPU-second, by format (raw and filebeat) and mixed."""
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    intake = core_intake(settings, "bench", TopicConfig())
    result: dict[str, float] = {}
    for name, lines in samples.items():
        for envelope in ("raw", "filebeat"):
            values = [(b"edge-1", wrap(line, envelope, "edge-1", "/x", now)) for line in lines]
            polls = polls_of("bench", values[:500], 20_000, now_ms)
            result[f"{name}/{envelope}"] = rate(intake, polls, 1)[0]
    mixed = polls_of("bench", mixed_values(samples, 30_000), 30_000, now_ms)
    result["mixed"] = rate(intake, mixed, 1)[0]
    return result


def bench_headline(
    samples: dict[str, list[bytes]], settings: IngestConfig, runs: int = 5
) -> dict[str, float]:
    """The issue's two parse figures, best and median of `runs`: a JSON line in a Filebeat
    envelope (target: 100,000 events/s/core) and the mixed stream, events per CPU-second."""
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    intake = core_intake(settings, "bench", TopicConfig())
    cases = {
        "json_in_filebeat": [
            (b"edge-1", wrap(line, "filebeat", "edge-1", "/x", now)) for line in samples["json"]
        ],
        "mixed": mixed_values(samples, 30_000),
    }
    out: dict[str, float] = {}
    for name, values in cases.items():
        best, median = rate(intake, polls_of("bench", values, 30_000, now_ms), runs)
        out[f"{name}_best"] = best
        out[f"{name}_median"] = median
    return out


def median_document(values: list[tuple[bytes, bytes]]) -> bytes:
    """The median-sized document made of the stream's first values (for pipeline only)."""
    now = datetime.now(UTC)
    sources = []
    for offset, (key, value) in enumerate(values[:600]):
        origin = Origin("bench", 0, offset, None, key)
        action = transform(value, origin, IngestConfig(), TopicConfig(), now)
        if isinstance(action, IndexAction):
            sources.append(action.source)
    sources.sort(key=len)
    return sources[len(sources) // 2]


def bench_user_schema(settings: IngestConfig) -> dict[str, float]:
    """A topic's own JSON Schema, checked by the core: microseconds per event, with and
    without the schema, for JSON lines that conform."""
    schema = {
        "type": "object",
        "required": ["time", "level", "msg"],
        "properties": {
            "time": {"type": "string"},
            "level": {"enum": ["debug", "info", "warn", "error"]},
            "msg": {"type": "string"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
        },
    }
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    line = b'{"time":"2026-11-25T10:00:00Z","level":"info","msg":"ok","status":200}'
    polls = polls_of("bench", [(b"edge-1", line)], 30_000, now_ms)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "schema.json"
        path.write_bytes(orjson.dumps(schema))
        checked = core_intake(settings, "bench", TopicConfig(schema=path))
    plain_us = 1e6 / rate(core_intake(settings, "bench", TopicConfig()), polls, 3)[0]
    checked_us = 1e6 / rate(checked, polls, 3)[0]
    return {"without_schema_us": plain_us, "with_schema_us": checked_us}


def produce(cfg: Config, topic: str, values: list[tuple[bytes, bytes]]) -> float:
    producer = kafka_client.producer(
        cfg.kafka, **{"linger.ms": 50, "batch.size": 1_000_000, "compression.type": "lz4"}
    )
    started = time.monotonic()
    for key, value in values:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0
    return time.monotonic() - started


def run_ingest(
    cfg: Config,
    topic: str,
    prefix: str,
    idle: float,
    document: bytes | None = None,
    *,
    group: str,
) -> dict[str, float]:
    """`edgewatch ingest --exit-when-idle` as a child; with `document`, the pipeline-only
    variant that indexes that document for every message instead of parsing it."""
    env = {
        **os.environ,
        "EDGEWATCH_INGEST_INDEX_PREFIX": prefix,
        "EDGEWATCH_INGEST_GROUP": group,
        "EDGEWATCH_INGEST_HTTP_PORT": "0",
        "EDGEWATCH_LOG_LEVEL": "warning",
    }
    if document is None:
        command = ["pipeline", "ingest"]
    else:
        command = ["bench.pipeline_only"]
        env["EDGEWATCH_BENCH_DOCUMENT"] = document.decode()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, spawned_at = time.monotonic(), time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", *command, "--topics", topic, "--exit-when-idle", str(idle)],
        cwd=ROOT,
        env=env,
    )
    # The child's own high-water mark, read from /proc while it runs: ru_maxrss of children
    # would also count this (large) process, which the child is forked from.
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
        time.sleep(0.05)  # (the exit is noticed this late at most)
    if proc.returncode != 0:
        raise SystemExit(f"ingest exited with {proc.returncode}")
    wall = time.monotonic() - started - idle
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "rss_mb_peak": peak_kb / 1024, "spawned_at": spawned_at}


def active_seconds(es: Elasticsearch, prefix: str, run: dict[str, float]) -> float:
    """The part of an ingest run spent on the stream: from the first poll that returned
    messages (the earliest `event.ingested`) to the last document acknowledged. The ceiling
    is timed the same way, from its first request, its bodies and template made before;
    what is left out here is the child's own start (the interpreter, imports, the template,
    joining the group), which `wall_s` includes."""
    answer = es.search(
        index=f"{prefix}-*", size=0, aggs={"first": {"min": {"field": "event.ingested"}}}
    )
    first = answer["aggregations"]["first"]["value"] / 1000
    return float(run["wall_s"] - (first - run["spawned_at"]))


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def ceiling_bodies(
    cfg: Config,
    values: list[tuple[bytes, bytes]],
    topic: str,
    prefix: str,
    document: bytes | None = None,
) -> list[bytes]:
    """Bulk bodies of the documents ingest makes of `values` (in batches of its size), into
    `<prefix>-*`; with `document`, that one document for every value (pipeline only)."""
    settings = replace(cfg.ingest, index_prefix=prefix)
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    size = settings.bulk_max_docs
    batches: list[bytes] = []
    if document is None:
        # A batch of ingest's size at a time through the core, as the service reads them
        # (its dead letters are counted in a batch's size, and left out of the request).
        intake = core_intake(settings, topic, TopicConfig())
        msgs = messages(topic, values, now_ms)
        for i in range(0, len(msgs), size):
            run, *_ = intake.take(
                msgs[i : i + size], 0, iso(now), settings.max_message_bytes, 1 << 62, {}, {}, {}
            )
            parts: list[Part] = [run]
            batches.append(bulk.body(parts))
        return batches
    index = f"{prefix}-{now:%Y.%m.%d}"
    actions: list[Part] = []
    for offset, (key, value) in enumerate(values):
        origin = Origin(topic, offset % 3, offset, now_ms, key)
        actions.append(index_action(origin, index, document, value))
        if len(actions) == size:
            batches.append(bulk.body(actions))
            actions = []
    if actions:
        batches.append(bulk.body(actions))
    return batches


def ceiling(cfg: Config, bodies: list[bytes], events: int, prefix: str) -> float:
    """Events/s for bodies made beforehand, bulk-indexed straight into Elasticsearch with
    ingest's concurrency and the request ingest sends (same `filter_path`), no Kafka and no
    parsing. Leaves `<prefix>-*` behind, for the caller to count or delete."""
    settings = replace(cfg.ingest, index_prefix=prefix)
    es = es_client.connect(cfg.es).options(request_timeout=120)
    es.indices.put_index_template(name=prefix, **template_body(settings))

    def send(body: bytes) -> None:
        response = es.bulk(
            operations=body,  # type: ignore[arg-type]
            filter_path="errors,items.*.status,items.*.error",
        )
        assert not response["errors"] or all(
            200 <= item["index"]["status"] < 300 or item["index"]["status"] == 400
            for item in response["items"]
        )

    started = time.monotonic()
    with ThreadPoolExecutor(settings.bulk_concurrency) as pool:
        list(pool.map(send, bodies))
    return events / (time.monotonic() - started)


def latency(cfg: Config, prefix: str, rate: int, seconds: float) -> list[float]:
    """Produce-to-searchable milliseconds for probe messages while ingest runs."""
    topic = f"{prefix}-latency"
    admin = kafka_client.admin(cfg.kafka)
    admin.create_topics([NewTopic(topic, num_partitions=3)])[topic].result(30)
    env = {
        **os.environ,
        "EDGEWATCH_INGEST_INDEX_PREFIX": prefix,
        "EDGEWATCH_INGEST_GROUP": topic,
        "EDGEWATCH_INGEST_HTTP_PORT": "0",
        "EDGEWATCH_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "ingest", "--topics", topic], env=env
    )
    es = es_client.connect(cfg.es)
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    try:
        time.sleep(8)  # group join and assignment
        producer = kafka_client.producer(cfg.kafka, **{"linger.ms": 0})
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set() or len(seen) < len(sent):
                try:
                    result = es.search(
                        index=f"{prefix}-*",
                        size=1000,
                        query={"term": {"kafka.topic": topic}},
                        source_includes=["message"],
                        sort=[{"event.ingested": "desc"}],
                        allow_no_indices=True,
                    )
                except ApiError:  # the index is being created: its shard is not up yet
                    time.sleep(0.05)
                    continue
                now = time.monotonic()
                for hit in result["hits"]["hits"]:
                    probe = hit["_source"]["message"]
                    seen.setdefault(probe, now)
                if stop.is_set() and time.monotonic() - stop_at[0] > 10:
                    return
                time.sleep(0.02)

        stop_at = [0.0]
        poller = threading.Thread(target=poll)
        poller.start()
        interval = 1 / rate
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            probe = f"probe {uuid.uuid4().hex}"
            sent[probe] = time.monotonic()
            producer.produce(
                topic,
                value=orjson.dumps({"level": "info", "msg": probe}),
                key=f"edge-{i % 50}".encode(),
            )
            producer.poll(0)
            i += 1
            time.sleep(interval)
        producer.flush(10)
        stop_at[0] = time.monotonic()
        stop.set()
        poller.join(30)
    finally:
        proc.terminate()
        proc.wait(60)
        admin.delete_topics([topic])
    return [(seen[p] - t) * 1000 for p, t in sent.items() if p in seen]


WARM_UP_EVENTS = 1_000_000
INGEST_PASSES = 2


def _delete_run_indices(es: Elasticsearch, prefixes: list[str]) -> None:
    """Each run's indices are `<prefix>-*` under an index template named `<prefix>`."""
    for name in prefixes:
        indices = es.indices.get(index=f"{name}-*", allow_no_indices=True)
        if indices:
            es.indices.delete(index=",".join(indices))
        es.options(ignore_status=404).indices.delete_index_template(name=name)


def main() -> None:
    events = int(os.environ.get("EVENTS", "1000000"))
    cfg = load_config()
    run_id = uuid.uuid4().hex[:8]
    topic, prefix, ceiling_prefix = f"bench-{run_id}", f"bench-{run_id}", f"bench-ceil-{run_id}"
    only_prefix, only_ceiling_prefix = f"bench-only-{run_id}", f"bench-only-ceil-{run_id}"
    es = es_client.connect(cfg.es).options(request_timeout=120)
    say(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )

    samples = sample_lines()
    say("phase 1/5: parse per core (no I/O), whole polls through the native core")
    parse = bench_parse(samples, cfg.ingest)
    say(f"  {'':<22} {'events/s/core':>13}")
    for name, parsed in sorted(parse.items()):
        say(f"  {name:<22} {parsed:>13,.0f}")
    headline = bench_headline(samples, cfg.ingest)
    for name in ("json_in_filebeat", "mixed"):
        say(
            f"  {name.replace('_', ' ')}: {headline[name + '_best']:,.0f} events/s/core best, "
            f"{headline[name + '_median']:,.0f} median of 5"
        )
    schema = bench_user_schema(cfg.ingest)
    say(
        f"  a JSON line with a topic schema: {schema['with_schema_us']:.2f} us per event, "
        f"without: {schema['without_schema_us']:.2f} us"
    )

    say(f"phase 2/5: producing {events:,} mixed events to {topic}")
    values = mixed_values(samples, events)
    admin = kafka_client.admin(cfg.kafka)
    admin.create_topics([NewTopic(topic, num_partitions=3)])[topic].result(30)
    produce_s = produce(cfg, topic, values)
    say(f"  produced in {produce_s:.1f} s ({events / produce_s:,.0f}/s)")

    try:
        bodies = ceiling_bodies(cfg, values, topic, ceiling_prefix)
        # A fresh Elasticsearch is slow for the first tens of seconds of load (its JIT is still
        # compiling the indexing path): one pass of the stream first, not measured.
        warm = bodies[: max(1, WARM_UP_EVENTS // cfg.ingest.bulk_max_docs)]
        say(f"warm-up: {len(warm):,} bulk requests indexed and deleted, not measured")
        ceiling(cfg, warm, 0, ceiling_prefix)
        _delete_run_indices(es, [ceiling_prefix])

        # Elasticsearch keeps getting faster for minutes after that (measured: the ceiling
        # rose 10-20 % from one pass to the next on a stack the run had just started), so
        # one ceiling measured after ingest flattered the ceiling. Ingest and ceiling take
        # turns instead, a ceiling before and after each ingest pass: the averages of both
        # then sit at the same moment of the run, and the drift cancels.
        say(
            f"phase 3/5: ingest and the ceiling in turns ({INGEST_PASSES} ingest passes, each "
            "between two ceiling passes): ingest is `edgewatch ingest --exit-when-idle`; the "
            "ceiling is the same documents bulk-indexed directly, no Kafka, no parsing"
        )
        idle = 5.0
        ceilings: list[float] = []
        runs: list[dict[str, float]] = []
        for n in range(INGEST_PASSES + 1):
            ceilings.append(ceiling(cfg, bodies, events, ceiling_prefix))
            _delete_run_indices(es, [ceiling_prefix])
            say(f"  ceiling: {ceilings[-1]:,.0f} events/s")
            if n == INGEST_PASSES:
                break
            run = run_ingest(cfg, topic, prefix, idle, group=f"{prefix}-{n}")
            es.indices.refresh(index=f"{prefix}-*")
            run["indexed"] = int(es.count(index=f"{prefix}-*")["count"])
            run["active_s"] = active_seconds(es, prefix, run)
            _delete_run_indices(es, [prefix])
            runs.append(run)
            say(
                f"  ingest: {run['indexed']:,} documents in {run['active_s']:.1f} s: "
                f"{events / run['active_s']:,.0f} events/s ({events / run['wall_s']:,.0f} "
                f"counting its {run['wall_s'] - run['active_s']:.1f} s start), "
                f"{run['cpu_s']:.1f} CPU-s, peak RSS {run['rss_mb_peak']:.0f} MB"
            )
        rates = [events / run["active_s"] for run in runs]
        start_s = statistics.mean(run["wall_s"] - run["active_s"] for run in runs)
        wall_rates = [events / run["wall_s"] for run in runs]
        rate, ceiling_rate = statistics.mean(rates), statistics.mean(ceilings)
        indexed = min(int(run["indexed"]) for run in runs)
        cpu_s = statistics.mean(run["cpu_s"] for run in runs)
        rss_mb = max(run["rss_mb_peak"] for run in runs)
        say(
            f"  mean: ingest {rate:,.0f} events/s, ceiling {ceiling_rate:,.0f} events/s: "
            f"ratio {rate / ceiling_rate:.2f}"
        )

        say("phase 4/5: produce-to-searchable latency at 200 events/s for 20 s")
        lat = sorted(latency(cfg, f"benchlat-{run_id}", rate=200, seconds=20))
        p50 = statistics.median(lat) if lat else float("nan")
        p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("nan")
        say(f"  {len(lat)} probes: p50 {p50:.0f} ms, p99 {p99:.0f} ms")

        say("phase 5/5: pipeline only (parsing replaced by one constant document), in turns")
        document = median_document(values)
        only_bodies = ceiling_bodies(cfg, values, topic, only_ceiling_prefix, document)
        only_ceilings = []
        for n in range(2):
            only_ceilings.append(ceiling(cfg, only_bodies, events, only_ceiling_prefix))
            _delete_run_indices(es, [only_ceiling_prefix])
            if n == 0:
                only = run_ingest(cfg, topic, only_prefix, idle, document, group=only_prefix)
                # Its documents are all one, made before it ran: no time of their own to read,
                # so the start is taken to last as long as in phase 3.
                only["active_s"] = only["wall_s"] - start_s
        only_rate, only_ceiling = events / only["active_s"], statistics.mean(only_ceilings)
        say(
            f"  {only_rate:,.0f} events/s, {only['cpu_s']:.1f} CPU-s; ceiling for that "
            f"{len(document)}-byte document {only_ceiling:,.0f} events/s: ratio "
            f"{only_rate / only_ceiling:.2f}"
        )
    finally:
        prefixes = [prefix, ceiling_prefix, f"benchlat-{run_id}", only_prefix, only_ceiling_prefix]
        _delete_run_indices(es, prefixes)
        admin.delete_topics([topic, f"{topic}.dlq"])

    print(
        json.dumps(
            {
                "events": events,
                "indexed": indexed,
                "events_per_s": round(rate),
                "es_ceiling_events_per_s": round(ceiling_rate),
                "ratio": round(rate / ceiling_rate, 3),
                "ingest_passes_events_per_s": [round(r) for r in rates],
                "ingest_passes_events_per_s_with_start": [round(r) for r in wall_rates],
                "ceiling_passes_events_per_s": [round(c) for c in ceilings],
                "cpu_s_per_million": round(cpu_s / events * 1e6, 1),
                "rss_mb_peak": round(rss_mb),
                "e2e_p50_ms": round(p50),
                "e2e_p99_ms": round(p99),
                "parse_events_per_s_per_core": {k: round(v) for k, v in sorted(parse.items())},
                "parse_headline_per_core": {k: round(v) for k, v in headline.items()},
                "user_schema_us_per_event": {k: round(v, 2) for k, v in schema.items()},
                "pipeline_only_events_per_s": round(only_rate),
                "pipeline_only_ceiling_events_per_s": round(only_ceiling),
                "pipeline_only_ratio": round(only_rate / only_ceiling, 3),
                "pipeline_only_cpu_s_per_million": round(only["cpu_s"] / events * 1e6, 1),
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
