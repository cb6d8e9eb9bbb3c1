"""`make demo`: an edge fleet's logs through Kafka and Elasticsearch to alerts in a local inbox.

What it does, in order:

1. starts a local SMTP inbox that saves each message under `.edgewatch/inbox/<run>/`;
2. starts `edgewatch ingest` on a topic of this run's own, and `edgewatch alert` with the
   starter pack from `rules/` (copied under `.edgewatch/demo/<run>/`, searching this run's
   indices, and with the silent-node rule's 10 minutes shortened to 2 so the demo fits in a few
   minutes);
3. ships an hour of history from eight edge hosts (nginx access, syslog, JSON and logfmt
   application logs, container lines; in all four shipper envelopes; plus three poison
   messages for the dead-letter topic), then keeps the fleet logging live;
4. live: edge-06 goes silent; 20 seconds in, edge-03 starts failing loudly, edge-04's API
   answers 5xx, edge-02 sees an SSH password-guessing burst and edge-05's kernel kills a
   process for memory; once edge-06's silence is reported it comes back;
5. prints each alert as it lands in the inbox, with the time since its cause, and stops by
   itself when all have arrived (or after `DEMO_TIMEOUT_S`, default 420 s).

Ctrl-C stops everything the demo started; the inbox and the data stay for you to look at.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

from pipeline.clients import elasticsearch as es_client
from pipeline.clients import kafka as kafka_client
from pipeline.config import Config, load_config
from pipeline.ingest.deadletter import read_headers
from pipeline.ingest.ship import wrap

# inbox.py sits next to this script, which is run as a file, not as part of a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from inbox import Inbox

ROOT = Path(__file__).resolve().parents[2]
HOSTS = [f"edge-{n:02d}" for n in range(1, 9)]
SILENT, SPIKE, HTTP_5XX, SSH, OOM = "edge-06", "edge-03", "edge-04", "edge-02", "edge-05"
ENVELOPES = ("raw", "filebeat", "fluentbit", "vector")
INCIDENTS_AT_S = 20  # seconds into the live phase
# The alerts the demo waits for: (what, subject pattern, the cause's clock key).
EXPECTED = [
    ("fleet-wide error spike", r"Fleet error spike", "incidents"),
    (f"error spike on {SPIKE}", rf"Error spike on {SPIKE}", "incidents"),
    (f"HTTP 5xx on {HTTP_5XX}", rf"HTTP 5xx on {HTTP_5XX}", "incidents"),
    (f"SSH brute force on {SSH}", rf"SSH brute force on {SSH}", "incidents"),
    (f"kernel OOM on {OOM}", rf"OOM-killer / panic on {OOM}", "incidents"),
    (f"{SILENT} silent", rf"Silent node: {SILENT}", "silence"),
    (f"{SILENT} recovered", rf"Recovered: {SILENT}", "resumed"),
]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def normal_line(host: str, now: datetime, rng: random.Random) -> str:
    """One everyday line from `host`, in one of the fleet's formats."""
    kind = rng.randrange(5)
    if kind == 0:
        status = rng.choice([200] * 30 + [404, 500])
        return (
            f"10.0.{HOSTS.index(host)}.{rng.randrange(2, 250)} - - "
            f'[{now:%d/%b/%Y:%H:%M:%S +0000}] "GET /api/pumps/{rng.randrange(9)} HTTP/1.1" '
            f'{status} {rng.randrange(100, 5000)} "-" "edge-agent/2.1"'
        )
    if kind == 1:
        return f"<30>1 {iso(now)} {host} pumpd {rng.randrange(100, 999)} - - cycle ok"
    if kind == 2:
        level = rng.choice(["info"] * 40 + ["error"])
        value = f"{rng.random():.3f}"
        return f'{{"time":"{iso(now)}","level":"{level}","msg":"sensor read","value":{value}}}'
    if kind == 3:
        return f'ts={iso(now)} level=debug msg="heartbeat" uptime={int(now.timestamp()) % 86400}'
    return f"{iso(now)} stdout F valve controller tick {rng.randrange(10**6)}"


def incident_lines(host: str, now: datetime, rng: random.Random) -> list[str]:
    """This second's extra lines from a host that is having an incident."""
    syslog_time = f"{now:%b} {now.day:>2} {now:%H:%M:%S}"
    if host == SPIKE:
        return [
            f'{{"time":"{iso(now)}","level":"error","msg":"pressure sensor timeout",'
            f'"sensor":"p{rng.randrange(4)}"}}'
            for _ in range(5)
        ]
    if host == HTTP_5XX:
        return [
            f"10.0.4.{rng.randrange(2, 250)} - - [{now:%d/%b/%Y:%H:%M:%S +0000}] "
            f'"POST /api/valves/{rng.randrange(9)} HTTP/1.1" {rng.choice([200, 200, 200, 503])} '
            f'{rng.randrange(100, 900)} "-" "plc-bridge/1.4"'
            for _ in range(2)
        ]
    if host == SSH and rng.random() < 0.6:
        user = rng.choice(["admin", "root", "pi", "ubnt"])
        return [
            f"<38>{syslog_time} {host} sshd[{rng.randrange(1000, 9999)}]: Failed password for "
            f"invalid user {user} from 203.0.113.{rng.randrange(2, 30)} port "
            f"{rng.randrange(40000, 60000)} ssh2"
        ]
    return []


def oom_line(now: datetime) -> str:
    syslog_time = f"{now:%b} {now.day:>2} {now:%H:%M:%S}"
    return (
        f"<3>{syslog_time} {OOM} kernel: Out of memory: Killed process 4242 (pumpd) "
        "total-vm:812344kB, anon-rss:501232kB, file-rss:0kB"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Run:
    """Names and state of one demo run."""

    cfg: Config
    stamp: str
    folder: Path
    inbox_folder: Path
    topic: str
    index_prefix: str
    clocks: dict[str, float] = field(default_factory=dict)  # cause -> time.monotonic()
    arrived: dict[str, tuple[float, str, Path]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"+{seconds // 60}:{seconds % 60:02d}"


def demo_rules(run: Run) -> Path:
    """The starter pack, searching this run's indices (logs and ingest status); silent-node
    shortened to 2 minutes."""
    target = run.folder / "rules"
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted((ROOT / "rules").glob("*.json")):
        rule = json.loads(source.read_text())
        rule["$schema"] = str(
            ROOT / "pipeline" / "alerting" / "format" / "schema" / "watch.schema.json"
        )
        text = (
            json.dumps(rule, indent=2)
            .replace('"edgewatch-logs-*"', f'"{run.index_prefix}-logs-*"')
            .replace('"edgewatch-status"', f'"{run.index_prefix}-status"')
        )
        if source.stem == "silent-node":
            text = text.replace('"silent_after": "10m"', '"silent_after": "2m"')
        (target / source.name).write_text(text)
    return target


def service_env(run: Run, smtp_port: int) -> dict[str, str]:
    prefix = run.index_prefix
    return {
        **os.environ,
        "EDGEWATCH_INGEST_GROUP": f"demo-{run.stamp}",
        "EDGEWATCH_INGEST_INDEX_PREFIX": f"{prefix}-logs",
        # Its own status too: a stopped earlier run's status would read as "ingest stopped".
        "EDGEWATCH_INGEST_STATUS_INDEX": f"{prefix}-status",
        "EDGEWATCH_INGEST_HTTP_PORT": "0",
        "EDGEWATCH_ALERT_HTTP_PORT": "0",
        "EDGEWATCH_ALERT_STATE_INDEX": f"{prefix}-alert-state",
        "EDGEWATCH_ALERT_HISTORY_PREFIX": f"{prefix}-alert-history",
        "EDGEWATCH_ALERT_OUTBOX_INDEX": f"{prefix}-alert-outbox",
        "EDGEWATCH_SMTP_HOST": "127.0.0.1",
        "EDGEWATCH_SMTP_PORT": str(smtp_port),
        "EDGEWATCH_SMTP_FROM_ADDRESS": "edgewatch-demo@localhost",
    }


def start_service(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    # A session of their own: Ctrl-C reaches the demo only, which then stops the services in
    # order (SIGTERM: ingest commits what it indexed) instead of all dying at once.
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        stdout=handle,
        stderr=handle,
        start_new_session=True,
    )


def backfill(run: Run, producer: Any, rng: random.Random, start: datetime) -> int:
    """An hour of everyday history (stamped in the past), plus three poison messages."""
    count = 0
    for second in range(0, 3600, 12):
        moment = start + timedelta(seconds=second)
        for host in HOSTS:
            envelope = ENVELOPES[count % len(ENVELOPES)]
            line = normal_line(host, moment, rng).encode()
            producer.produce(
                run.topic, value=wrap(line, envelope, host, "/var/log/app.log", moment), key=host
            )
            count += 1
        producer.poll(0)
    poison = [b"\xff\xfe broken bytes", b'{"level":"error","msg": truncated', b"x" * 2_000_000]
    for value in poison:
        producer.produce(run.topic, value=value, key=b"edge-07")
    producer.flush(60)
    return count


def on_mail(run: Run) -> Any:
    def seen(path: Path, message: EmailMessage) -> None:
        subject = str(message.get("Subject", ""))
        now = time.monotonic()
        with run.lock:
            matched = next(
                (name for name, pattern, _ in EXPECTED if re.search(pattern, subject)), None
            )
            cause = next((c for name, _, c in EXPECTED if name == matched), None)
            since = ""
            if matched and cause in run.clocks and matched not in run.arrived:
                run.arrived[matched] = (now - run.clocks[cause], subject, path)
                since = f" ({now - run.clocks[cause]:.0f} s after its cause)"
        print(
            f"[{run.elapsed()}] 📨 {subject}{since}\n          {path.relative_to(ROOT)}", flush=True
        )

    return seen


class ServiceExitedError(RuntimeError):
    """An edgewatch service the demo started exited."""


def check_alive(services: dict[str, subprocess.Popen[bytes]], run: Run) -> None:
    for name, proc in services.items():
        if proc.poll() is not None:
            log = run.folder / f"{name}.log"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
            raise ServiceExitedError(
                f"edgewatch {name} exited with code {proc.returncode}; the end of "
                f"{log.relative_to(ROOT)}:\n{tail}"
            )


def live(
    run: Run,
    producer: Any,
    rng: random.Random,
    timeout_s: float,
    services: dict[str, subprocess.Popen[bytes]],
) -> None:
    """Keep the fleet logging until every expected alert arrived, or the timeout."""
    live_start = time.monotonic()
    run.clocks["silence"] = live_start
    silent = True
    shipped = 0
    next_status = live_start + 30
    print(
        f"[{run.elapsed()}] live: {SILENT} stops sending (the silent-node rule reports it"
        " after 2 minutes of silence)",
        flush=True,
    )
    while time.monotonic() - live_start < timeout_s:
        check_alive(services, run)
        tick = time.monotonic()
        now = datetime.now(UTC)
        incidents = tick - live_start >= INCIDENTS_AT_S
        if incidents and "incidents" not in run.clocks:
            run.clocks["incidents"] = tick
            print(
                f"[{run.elapsed()}] live: incidents start: {SPIKE} error spike, {HTTP_5XX} "
                f"5xx answers, {SSH} SSH password guessing, {OOM} kernel OOM-killer",
                flush=True,
            )
            producer.produce(
                run.topic,
                value=wrap(oom_line(now).encode(), "filebeat", OOM, "/var/log/kern.log", now),
                key=OOM,
            )
        with run.lock:
            if silent and f"{SILENT} silent" in run.arrived:
                silent = False
                run.clocks["resumed"] = tick
                print(f"[{run.elapsed()}] live: {SILENT} is back and logging again", flush=True)
            done = len(run.arrived) == len(EXPECTED)
        if done:
            return
        for i, host in enumerate(HOSTS):
            if host == SILENT and silent:
                continue
            lines = [normal_line(host, now, rng)] if rng.random() < 0.5 else []
            if incidents:
                lines += incident_lines(host, now, rng)
            for line in lines:
                envelope = ENVELOPES[(shipped + i) % len(ENVELOPES)]
                value = wrap(line.encode(), envelope, host, "/var/log/app.log", now)
                producer.produce(run.topic, value=value, key=host)
                shipped += 1
        producer.poll(0)
        if tick >= next_status:
            next_status += 30
            with run.lock:
                waiting = [name for name, _, _ in EXPECTED if name not in run.arrived]
            print(
                f"[{run.elapsed()}] live: {shipped:,} lines shipped; waiting for: "
                f"{', '.join(waiting)}",
                flush=True,
            )
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    producer.flush(30)


def report(run: Run, cfg: Config) -> None:
    es = es_client.connect(cfg.es)
    es.indices.refresh(index=f"{run.index_prefix}-logs-*")
    found = es.search(
        index=f"{run.index_prefix}-logs-*",
        size=0,
        query={"exists": {"field": "host.name"}},
        aggs={"hosts": {"terms": {"field": "host.name", "size": 20}}},
    )
    hosts = ", ".join(
        f"{b['key']} {b['doc_count']}" for b in found["aggregations"]["hosts"]["buckets"]
    )
    print(
        f"\ndemo: {found['hits']['total']['value']:,} log documents in "
        f"{run.index_prefix}-logs-*: {hosts}"
    )
    print(f"demo: dead letters in {run.topic}.dlq:")
    for stage, reason, size in dead_letters(cfg, f"{run.topic}.dlq", 3):
        print(f"  stage={stage:<7} reason={reason:<22} {size:,} bytes")
    print("\ndemo: alerts, and the time from the cause (produced into Kafka) to the inbox:")
    for name, _, _ in EXPECTED:
        if name in run.arrived:
            seconds, subject, _path = run.arrived[name]
            print(f"  {seconds:6.1f} s  {subject}")
        else:
            print(
                f"  {'—':>6}    {name}: did not arrive in time "
                f"(see {run.folder.relative_to(ROOT)}/alert.log)"
            )
    spikes = [run.arrived[n][0] for n, _, c in EXPECTED if c == "incidents" and n in run.arrived]
    if spikes:
        print(
            f"\ndemo: end-to-end alert latency (spike produced -> email in the inbox): "
            f"first {min(spikes):.1f} s, last {max(spikes):.1f} s. The rules run every minute,"
            " so most of that is waiting for the next evaluation."
        )
    print(
        f"demo: the inbox is {run.inbox_folder.relative_to(ROOT)}/ (open the .eml files in a"
        " mail reader)"
    )
    env = (
        f"EDGEWATCH_ALERT_STATE_INDEX={run.index_prefix}-alert-state "
        f"EDGEWATCH_ALERT_HISTORY_PREFIX={run.index_prefix}-alert-history"
    )
    print(f"demo: rule history: {env} .venv/bin/edgewatch rules history fleet-error-spike")


def dead_letters(cfg: Config, topic: str, expected: int) -> list[tuple[str, str, int]]:
    """(stage, reason, size) of each message in the dead-letter topic."""
    consumer = kafka_client.consumer(cfg.kafka, f"{topic}-demo-reader")
    consumer.subscribe([topic])
    found: list[tuple[str, str, int]] = []
    deadline = time.monotonic() + 15
    try:
        while len(found) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(10, 0.5):
                if msg.error() is None:
                    headers = read_headers(msg)
                    found.append(
                        (
                            headers["edgewatch.stage"],
                            headers["edgewatch.reason"],
                            len(msg.value() or b""),
                        )
                    )
    finally:
        consumer.close()
    return found


def main() -> int:
    cfg = load_config()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run = Run(
        cfg=cfg,
        stamp=stamp,
        folder=ROOT / ".edgewatch" / "demo" / stamp,
        inbox_folder=ROOT / ".edgewatch" / "inbox" / stamp,
        topic=f"edge.logs.{stamp}",
        # Its own family of names, so no earlier run's data or index template gets in the way;
        # the logs' pattern (<prefix>-logs-*) must not match the alert service's indices.
        index_prefix=f"ewdemo-{stamp}",
    )
    run.folder.mkdir(parents=True, exist_ok=True)
    timeout_s = float(os.environ.get("DEMO_TIMEOUT_S", "420"))
    rng = random.Random(7)
    smtp_port = free_port()
    inbox = Inbox(run.inbox_folder, port=smtp_port, on_mail=on_mail(run)).start()
    print(
        f"demo: inbox listening on 127.0.0.1:{smtp_port}, saving to "
        f"{run.inbox_folder.relative_to(ROOT)}/"
    )
    admin = kafka_client.admin(cfg.kafka)  # kept in a name: a dropped client aborts the call
    admin.create_topics([NewTopic(run.topic, num_partitions=3)])[run.topic].result(30)
    env = service_env(run, smtp_port)
    rules = demo_rules(run)
    services = {
        "ingest": start_service(["ingest", "--topics", run.topic], env, run.folder / "ingest.log"),
        "alert": start_service(["alert", "--rules", str(rules)], env, run.folder / "alert.log"),
    }
    print(
        f"demo: started edgewatch ingest (topic {run.topic}) and edgewatch alert "
        f"({len(list(rules.glob('*.json')))} starter rules); "
        f"logs in {run.folder.relative_to(ROOT)}/"
    )

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # Also when started with SIGINT ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, stop)
    interrupted = False
    producer = kafka_client.producer(cfg.kafka, **{"linger.ms": 20, "message.max.bytes": 4_000_000})
    try:
        history_start = datetime.now(UTC) - timedelta(hours=1)
        shipped = backfill(run, producer, rng, history_start)
        print(
            f"[{run.elapsed()}] shipped an hour of history: {shipped:,} lines from "
            f"{len(HOSTS)} hosts in 4 envelopes, and 3 poison messages"
        )
        live(run, producer, rng, timeout_s, services)
        time.sleep(2)
        report(run, cfg)
    except ServiceExitedError as err:
        print(f"\ndemo: {err}")
    except KeyboardInterrupt:
        print("\ndemo: interrupted; stopping what it started")
        interrupted = True
    finally:
        for proc in services.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in services.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        inbox.stop()
    if interrupted:
        return 130  # as a shell reports Ctrl-C; `make demo` then stops the stack it started
    return 0 if len(run.arrived) == len(EXPECTED) else 1


if __name__ == "__main__":
    sys.exit(main())
