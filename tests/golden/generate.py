"""Regenerate the golden files from the native ingest core, through harness.py.

    .venv/bin/python -m tests.golden.generate          # rewrite the files that changed
    .venv/bin/python -m tests.golden.generate --check  # only say which would change

It writes tests/golden/<family>.jsonl and, where the third-party corpus is (../shared/corpus
or EDGEWATCH_CORPUS), corpus_digests.jsonl.gz.

Every input is built here, deterministically (fixed seeds, a fixed clock), from the test
modules, the demo and the benchmark as they are now (README.md), and its outcome is what the
native core makes of it on the service's path (`harness.outcomes`, the very path
test_golden.py takes). So the files record the core as it is: regenerate after a change to
what the core makes of a message, and review every changed record (and say why in the
commit); `accept.py` takes only the changes at the JSON paths you name.

The golden files were first generated from the ingest core's Python implementation, since
deleted: the native core was held to its outcomes, and records changed since say why in
their commits.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import importlib
import importlib.util
import random
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import orjson

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest import _native, stale_sources
from pipeline.ingest.actions import iso
from pipeline.ingest.ship import wrap
from tests.golden import harness, records
from tests.golden.records import INGESTED, KAFKA_MS, ROOT, Input

SHIPPERS = ("raw", "filebeat", "fluentbit", "vector")
HOST = "edge-07"
SCHEMA = records.HERE / "app.schema.json"

# The profiles the families use, by name: the default settings, and variations of the
# settings the core reads (recorded whole in each file's header).
PROFILES: dict[str, IngestConfig] = {
    "default": IngestConfig(),
    # Oversized from 4 KiB, so that values beyond the limit stay small enough to commit.
    "damaged": IngestConfig(max_message_bytes=4096),
    "data_stream": IngestConfig(index_mode="data_stream", namespace="plant-7"),
    "no_original": IngestConfig(keep_original=False, index_prefix="ew-golden", dataset="pumps"),
    "window_none": IngestConfig(index_time_window_back_s=0.0, index_time_window_ahead_s=0.0),
    "window_odd": IngestConfig(index_time_window_back_s=1.5, index_time_window_ahead_s=0.000001),
    "window_hour": IngestConfig(index_time_window_back_s=3600.0, index_time_window_ahead_s=7200.0),
    "window_century": IngestConfig(
        index_time_window_back_s=100 * 365 * 86_400.0,
        index_time_window_ahead_s=100 * 365 * 86_400.0,
    ),
}


# ------------------------------------------------------------------------------ building inputs


@dataclass
class Family:
    """The inputs of one golden file, as they are added: offsets count up per partition."""

    name: str
    about: str
    inputs: list[Input] = field(default_factory=list)
    _offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(
        self,
        value: bytes | None,
        note: str,
        *,
        profile: str = "default",
        envelope: str = "auto",
        line_format: str = "auto",
        dataset: str | None = None,
        schema: Path | None = None,
        key: bytes | None = HOST.encode(),
        timestamp_ms: int = KAFKA_MS,
    ) -> None:
        """One message, on the topic named after its settings (a topic has one config)."""
        topic = f"{profile}.{envelope}.{line_format}"
        topic += f".{dataset}" if dataset else ""
        topic += ".schema" if schema else ""
        # Keyed messages stay on one partition, as with Kafka's partitioner.
        partition = zlib.crc32(key or b"") % 3
        offset = self._offsets.get((topic, partition), 0)
        self._offsets[(topic, partition)] = offset + 1
        self.inputs.append(
            Input(
                profile=profile,
                settings=PROFILES[profile],
                topic=topic,
                topic_config=TopicConfig(
                    envelope=envelope, format=line_format, dataset=dataset, schema=schema
                ),
                partition=partition,
                offset=offset,
                timestamp_ms=timestamp_ms,
                key=key,
                value=value,
                ingested=INGESTED,
                note=note,
            )
        )


def _unique(items: Iterable[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    seen: set[bytes] = set()
    out = []
    for line, note in items:
        if line not in seen:
            seen.add(line)
            out.append((line, note))
    return out


# ------------------------------------------------------------------------------ fixtures

# Test modules whose literals and parameters hold log lines, and the format their lines are
# written in (None: several).
FIXTURE_MODULES: dict[str, str | None] = {
    "tests.unit.parsers.test_access": "access",
    "tests.unit.parsers.test_container": "container",
    "tests.unit.parsers.test_json_line": "json",
    "tests.unit.parsers.test_logfmt": "logfmt",
    "tests.unit.parsers.test_plaintext": "plaintext",
    "tests.unit.parsers.test_syslog": "syslog",
    "tests.unit.ingest.test_envelopes": None,
    "tests.unit.ingest.test_transform": None,
    "tests.unit.ingest.test_tombstone": None,
    "tests.unit.ingest.test_window": None,
    "tests.unit.ingest.test_poll": None,
    "tests.security.test_index_window": None,
}


def _leaves(obj: Any, out: list[str | bytes], depth: int = 0) -> None:
    """The text and bytes inside containers of literals."""
    if depth > 6:
        return
    if isinstance(obj, str | bytes):
        out.append(obj)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _leaves(key, out, depth + 1)
            _leaves(value, out, depth + 1)
    elif isinstance(obj, set | frozenset):
        # Sorted: a set's order changes with the process's hash seed.
        for value in sorted(obj, key=repr):
            _leaves(value, out, depth + 1)
    elif isinstance(obj, list | tuple):
        for value in obj:
            _leaves(value, out, depth + 1)


def _looks_like_a_line(text: bytes) -> bool:
    """Leave out what is plainly not a log line: short words, field names, paths of the
    corpus and of files. (What slips through still makes a document; it costs a record.)"""
    if len(text) < 8:
        return False
    if text.startswith((b"formats/", b"*.")) or text.endswith((b".json", b".log", b".go")):
        return False
    identifier = all(c.isalnum() or c in "_.@$*-/" for c in text.decode("latin-1"))
    return not identifier


def module_lines(name: str) -> list[bytes]:
    """Every text and bytes literal of a test module (docstrings apart), and the values of
    its parametrized tests and module-level constants as evaluated (lines built by helpers
    such as test_access's `line_with`). Text is encoded as the tests encode it."""
    module = importlib.import_module(name)
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: list[str | bytes] = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str | bytes)
        and id(node) not in docstrings
    ]
    for attr, value in vars(module).items():
        if attr.startswith("__"):
            continue
        if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
            _leaves(value, found)
        for mark in getattr(value, "pytestmark", None) or []:
            if mark.name == "parametrize" and len(mark.args) > 1:
                _leaves(list(mark.args[1]), found)
    lines = (
        text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text for text in found
    )
    return list(dict.fromkeys(line for line in lines if _looks_like_a_line(line)))


# Longer test lines (the parsers' no-hang tests build megabyte lines) are left out: each would
# take its size three times in the file (value, message, event.original). The damaged family
# has values beyond max_message_bytes and JSON nested past every limit.
LONGEST_LINE = 4096


def fixture_lines() -> list[tuple[bytes, str, str | None]]:
    """(line, where it is from, the format its module tests) for the project's own test
    lines, each line once (first source wins)."""
    seen: set[bytes] = set()
    out = []
    for name, line_format in FIXTURE_MODULES.items():
        source = name.replace(".", "/") + ".py"
        for line in module_lines(name):
            if line not in seen and len(line) <= LONGEST_LINE:
                seen.add(line)
                out.append((line, source, line_format))
    from tests.security.test_content import HOSTILE_LOG  # a line that ends up in an email

    out.append((HOSTILE_LOG.encode(), "tests/security/test_content.py", None))
    return out


def fixtures_family(lines: list[tuple[bytes, str, str | None]]) -> Family:
    """The project's own test lines, auto-detected and (a parser's) with its format forced."""
    family = Family(
        "fixtures",
        "the log lines of the project's own tests (parser, ingest and security tests: "
        "literals, parameters, module constants), as raw values read with auto-detection, "
        "and those of a parser's tests also with that format forced",
    )
    for i, (line, source, line_format) in enumerate(lines):
        # Now and then no Kafka timestamp (the line's or the epoch then names the day) and
        # no key (no host).
        stamp = -1 if i % 7 == 3 else KAFKA_MS
        key = None if i % 5 == 4 else HOST.encode()
        family.add(line, source, key=key, timestamp_ms=stamp)
        if line_format is not None:
            family.add(line, source, line_format=line_format, key=key, timestamp_ms=stamp)
    return family


# ------------------------------------------------------------------------------ demo


class _Producer:
    """Stands in for the demo's Kafka producer: keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[bytes | None, bytes]] = []

    def produce(self, topic: str, value: bytes, key: str | bytes | None = None) -> None:
        encoded = key.encode() if isinstance(key, str) else key
        self.messages.append((encoded, value))

    def poll(self, timeout: float = 0) -> int:
        return 0

    def flush(self, timeout: float = 0) -> int:
        return 0


def _demo_module() -> ModuleType:
    """deploy/local/demo.py, a script rather than a package module, imported from its file."""
    name = "edgewatch_demo"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "deploy" / "local" / "demo.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (its dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def demo_family() -> Family:
    """What `make demo` produces, minus its clock and its Kafka producer."""
    family = Family(
        "demo",
        "`make demo`'s traffic (deploy/local/demo.py, its seed 7): every 12th message of "
        "its hour of backfilled history (all formats, all four envelopes, eight hosts) and "
        "its three poison messages; then 12 seconds of its live phase with every incident "
        "on (error spike, 5xx, SSH guessing, kernel OOM)",
    )
    demo = _demo_module()
    rng = random.Random(7)  # the demo's own seed
    producer = _Producer()
    start = INGESTED.replace(microsecond=0) - timedelta(hours=1)
    shipped = demo.backfill(_DemoRun(), producer, rng, start)
    history, poison = producer.messages[:shipped], producer.messages[shipped:]
    for i, (key, value) in enumerate(history):
        if i % 12 == 0:
            family.add(value, f"demo backfill #{i}", key=key)
    for i, (key, value) in enumerate(poison):
        family.add(value, f"demo poison #{i}", key=key)
    # The live phase's lines, second by second, as demo.live() ships them once the
    # incidents have started (its loop sleeps and reads the clock; its lines do not).
    shipped = 0
    for second in range(12):
        now = INGESTED + timedelta(seconds=second)
        stamp = int(now.timestamp() * 1000)
        if second == 0:
            value = wrap(
                demo.oom_line(now).encode(), "filebeat", demo.OOM, "/var/log/kern.log", now
            )
            family.add(value, "demo live OOM", key=demo.OOM.encode(), timestamp_ms=stamp)
        for i, host in enumerate(demo.HOSTS):
            lines = [demo.normal_line(host, now, rng)] if rng.random() < 0.5 else []
            lines += demo.incident_lines(host, now, rng)
            for line in lines:
                envelope = demo.ENVELOPES[(shipped + i) % len(demo.ENVELOPES)]
                value = wrap(line.encode(), envelope, host, "/var/log/app.log", now)
                family.add(value, f"demo live {host}", key=host.encode(), timestamp_ms=stamp)
                shipped += 1
    return family


def demo_lines() -> list[tuple[bytes, str]]:
    """The demo's lines themselves, unwrapped: a minute of every host's everyday and
    incident lines (a seed of their own), and the OOM line."""
    demo = _demo_module()
    rng = random.Random(77)
    out = [(demo.oom_line(INGESTED).encode(), "demo oom_line")]
    for second in range(60):
        now = INGESTED + timedelta(seconds=second)
        for host in demo.HOSTS:
            out.append((demo.normal_line(host, now, rng).encode(), "demo normal_line"))
            out += [
                (line.encode(), "demo incident_lines")
                for line in demo.incident_lines(host, now, rng)
            ]
    return out


@dataclass
class _DemoRun:
    """What demo.backfill reads of its Run."""

    topic: str = "edge.logs.demo"


# ------------------------------------------------------------------------------ bench

BENCH_EVENTS = 420
BENCH_GENERATED = 70  # lines per generated format: the mixed stream uses each once


def bench_samples() -> dict[str, list[bytes]]:
    """The benchmark's lines per format, small: its generated lines (the ones it uses
    without the corpus, its own seed) and its app lines."""
    from bench import ingest_bench

    return {**ingest_bench.generated_lines(BENCH_GENERATED), **ingest_bench.app_lines()}


def bench_values(samples: dict[str, list[bytes]]) -> list[tuple[bytes, bytes]]:
    """The benchmark's mixed stream (bench/ingest_bench.py) of these lines, through its
    `mixed_values` with the clock it reads frozen at INGESTED."""
    from bench import ingest_bench

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return INGESTED

    with mock.patch.object(ingest_bench, "datetime", Frozen):
        values: list[tuple[bytes, bytes]] = ingest_bench.mixed_values(samples, BENCH_EVENTS)
    return values


def bench_family(values: list[tuple[bytes, bytes]]) -> Family:
    """The benchmark's mixed stream, one message per value."""
    family = Family(
        "bench",
        f"`make bench-ingest`'s mixed stream (bench/ingest_bench.py), {BENCH_EVENTS} "
        "events: generated access, syslog and container lines (its seed) and its JSON, "
        "logfmt and plain app lines, round robin, in its envelope mix, 50 hosts",
    )
    for i, (key, value) in enumerate(values):
        family.add(value, f"bench #{i}", key=key)
    return family


# ------------------------------------------------------------------------------ envelopes

PER_FORMAT = 6


def representative(pool: list[tuple[bytes, str]], rng: random.Random) -> list[tuple[bytes, str]]:
    """Up to PER_FORMAT lines of each detected format: well-formed UTF-8 text of ordinary
    length, picked at random (seeded) from the pool."""
    by_format: dict[str, list[tuple[bytes, str]]] = {}
    for line, note in pool:
        if not 8 <= len(line) <= 600 or b"\n" in line:
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        by_format.setdefault(_native.detect(line), []).append((line, note))
    out = []
    for name in sorted(by_format):
        lines = by_format[name]
        out += rng.sample(lines, min(PER_FORMAT, len(lines)))
    return out


def _filebeat(line: str, **extra: Any) -> bytes:
    event = {
        "@timestamp": "2026-11-25T10:00:01.500Z",
        "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.19.4"},
        "message": line,
        "log": {"file": {"path": "/var/log/app.log"}, "offset": 1234},
        "input": {"type": "filestream"},
        "host": {"name": HOST},
        "agent": {"type": "filebeat", "version": "8.19.4", "name": HOST, "id": "a1b2"},
        "ecs": {"version": "8.0.0"},
    }
    event.update(extra)
    return orjson.dumps(event)


def _vector(line: str, **extra: Any) -> bytes:
    record = {
        "message": line,
        "timestamp": "2026-11-25T10:00:01.123456789Z",
        "host": HOST,
        "source_type": "file",
        "file": "/var/log/app.log",
    }
    return orjson.dumps({**record, **extra})


_K8S_FLUENT = {
    "pod_name": "pumpd-7d9f",
    "namespace_name": "plant",
    "container_name": "pumpd",
    "host": "node-3",
}


def shipper_shapes(line: str) -> Iterator[tuple[str, str, bytes]]:
    """(shipper, what, value): the shapes each shipper really sends, beyond ship.wrap's."""
    yield (
        "filebeat",
        "kubernetes, labels, fields",
        _filebeat(
            line,
            kubernetes={"pod": {"name": "pumpd-7d9f"}, "namespace": "plant", "node": {"name": "n"}},
            labels={"team": "ops", "tier": 2},
            fields={"site": "plant-7", "rack": 4, "ratio": 0.5, "ok": True, "list": [1]},
            service={"name": "pumpd"},
            stream="stderr",
        ),
    )
    yield (
        "filebeat",
        "host.hostname only, agent without type",
        _filebeat(line, host={"hostname": "edge-08"}, agent={"name": "edge-08"}),
    )
    yield (
        "filebeat",
        "no @metadata, agent.type filebeat",
        orjson.dumps(
            {"agent": {"type": "filebeat"}, "message": line, "@timestamp": "2026-11-25T10:00:01Z"}
        ),
    )
    yield (
        "fluentbit",
        "forward form [time, record]",
        orjson.dumps(
            [1795600801.25, {"log": line + "\n", "stream": "stdout", "kubernetes": _K8S_FLUENT}]
        ),
    )
    yield (
        "fluentbit",
        "iso8601 time, message key",
        orjson.dumps(
            {"@timestamp": "2026-11-25T10:00:01.250Z", "message": line, "host": "edge-09"}
        ),
    )
    yield (
        "fluentbit",
        "systemd MESSAGE, _HOSTNAME",
        orjson.dumps(
            {"@timestamp": 1795600801, "MESSAGE": line, "_HOSTNAME": "edge-10", "PRIORITY": "6"}
        ),
    )
    yield (
        "fluentbit",
        "msg key, filename",
        orjson.dumps({"@timestamp": 1795600801.5, "msg": line, "filename": "/var/log/a.log"}),
    )
    yield (
        "vector",
        "kubernetes_logs source",
        _vector(
            line,
            source_type="kubernetes_logs",
            kubernetes={"pod_name": "pumpd-7d9f", "pod_namespace": "plant", "container_name": "c"},
            stream="stdout",
            service="pumpd",
        ),
    )
    yield (
        "vector",
        "hostname key, no file",
        orjson.dumps(
            {
                "message": line,
                "source_type": "socket",
                "hostname": "edge-11",
                "timestamp": 1795600801,
            }
        ),
    )


def envelopes_family(lines: list[tuple[bytes, str]]) -> Family:
    """`lines` in every envelope, detected and forced, and the shapes shippers really send."""
    family = Family(
        "envelopes",
        f"up to {PER_FORMAT} lines of each detected format from the fixtures, demo and bench "
        "families, in each shipper's envelope as `edgewatch ship` wraps them and in the "
        "richer shapes shippers send (Kubernetes metadata, labels, Fluent Bit's forward "
        "form, systemd records, Vector's kubernetes_logs), read with the envelope detected "
        "and forced; keys and Kafka timestamps varied; deploy/shippers/samples; the shipper "
        "events with odd values of tests/unit/ingest/core_outputs.py",
    )
    keys: list[bytes | None] = [HOST.encode(), None, b"", b"\xffedge", b"k" * 300]
    stamps = [KAFKA_MS, -1, 0, KAFKA_MS - 30 * 86_400_000]
    for n, (line, note) in enumerate(lines):
        text = line.decode("utf-8")
        key, stamp = keys[n % len(keys)], stamps[n % len(stamps)]
        for shipper in SHIPPERS:
            value = wrap(line, shipper, HOST, "/var/log/app.log", INGESTED)
            for envelope in ("auto", shipper):
                family.add(
                    value, f"{shipper}: {note}", envelope=envelope, key=key, timestamp_ms=stamp
                )
        if n % 4 == 0:  # the richer shapes for a quarter of the lines
            for shipper, what, value in shipper_shapes(text):
                for envelope in ("auto", shipper):
                    family.add(value, f"{shipper} {what}: {note}", envelope=envelope, key=key)
    samples = ROOT / "deploy" / "shippers" / "samples"
    for path in sorted(samples.glob("*.ndjson")):
        shipper = path.stem.replace("-", "")
        for i, value in enumerate(path.read_bytes().splitlines()):
            note = f"deploy/shippers/samples/{path.name}:{i + 1}"
            for envelope in ("auto", shipper):
                family.add(value, note, envelope=envelope)
    for i, value in enumerate(odd_shapes(300)):
        # (Named for the test module they were first written for, since deleted.)
        family.add(value, f"tests/unit/ingest/core_outputs.py shapes #{i}")
    return family


# Values a shipper's event or a JSON line may carry where something else is usual.
_VALUES: list[Any] = [
    None, True, 0, -1, 2**63, 1.5, 1764064800.25, "", "x", "stdout", "ERROR", "warn",
    "2026-11-25T10:00:00Z", "Nov 25 10:00:00", "{}", [], [1, "a"], {}, {"name": "edge-2"},
    {"a": {"b": None}},
]  # fmt: skip
_LINE_KEYS = [
    "level", "msg", "message", "time", "ts", "@timestamp", "pid", "host", "service",
    "log.level", "host.name", "http", "stream", "log", "tags", "error",
]  # fmt: skip
_SHIPPER_KEYS = [
    "@timestamp", "host", "agent", "log", "fields", "labels", "kubernetes", "stream",
    "filename", "hostname", "input", "tags",
]  # fmt: skip


def odd_shapes(count: int) -> Iterator[bytes]:
    """Shipper events (and bare JSON lines) with arbitrary values in their usual fields."""
    rng = random.Random(1125)

    def some(keys: list[str]) -> dict[str, Any]:
        return {rng.choice(keys): rng.choice(_VALUES) for _ in range(rng.randrange(6))}

    for i in range(count):
        line: Any = rng.choice([orjson.dumps(some(_LINE_KEYS)).decode(), *_VALUES])
        event = some(_SHIPPER_KEYS)
        kind = i % 5
        if kind == 0:
            yield orjson.dumps(some(_LINE_KEYS))
        elif kind == 1:
            yield orjson.dumps({**event, "@metadata": {"beat": "filebeat"}, "message": line})
        elif kind == 2:
            yield orjson.dumps({**event, "source_type": "file", "message": line})
        elif kind == 3:
            yield orjson.dumps({**event, "@timestamp": rng.choice(_VALUES), "log": line})
        else:
            yield orjson.dumps([rng.choice([1764064800.5, 0, "x"]), {**event, "log": line}])


# ------------------------------------------------------------------------------ damaged

_INVALID_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc3",
    b"\xc3(",
    b"\xe2\x82",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xc0\xaf",  # overlong
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
]
_INSERTS = [
    b"\x00",
    b"\x1b[31m",
    b"\r",
    b"\n",
    b"\t",
    b"\x7f",
    b'"',
    b"\\",
    b"{",
    b"}",
    b"[",
    b"=",
    b" ",
    "é中😀\u2028\ufeff\u0085".encode(),
]


def mutate(rng: random.Random, value: bytes) -> tuple[bytes, str]:
    """One deterministic damage to a value, and its name."""
    kind = rng.choice(
        ["truncate", "byte", "bit", "invalid_utf8", "delete", "duplicate", "insert", "tail"]
    )
    data = bytearray(value)
    at = rng.randrange(len(data) + 1)
    if kind == "truncate":
        del data[at:]
    elif kind == "byte" and data:
        data[min(at, len(data) - 1)] = rng.randrange(256)
    elif kind == "bit" and data:
        data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
    elif kind == "invalid_utf8":
        data[at:at] = rng.choice(_INVALID_UTF8)
    elif kind == "delete":
        del data[at : at + rng.randrange(1, 9)]
    elif kind == "duplicate":
        data[at:at] = data[at : at + rng.randrange(1, 40)]
    elif kind == "insert":
        data[at:at] = rng.choice(_INSERTS)
    else:  # tail: what a crash mid-write or a bad framing leaves after the line
        data += rng.choice([b"\n", b"\r\n", b"\x00\x00", b" ", b"\n{", b'"}'])
    return bytes(data), kind


def _deep(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def handmade_damage() -> Iterator[tuple[bytes | None, str, dict[str, Any]]]:
    """(value, what, Family.add options): the damage that random mutations rarely make."""
    limit = PROFILES["damaged"].max_message_bytes
    yield None, "tombstone (null value)", {}
    yield None, "tombstone, forced filebeat", {"envelope": "filebeat"}
    for value in [b"", b" ", b"\n", b"\r\n", b"\t \t", b"\x00", b"\x00" * 10, b"\xef\xbb\xbf"]:
        yield value, "empty or blank", {}
    # Sizes around ingest.max_message_bytes (4 KiB in this profile).
    for size in (limit - 1, limit, limit + 1, 2 * limit):
        yield b"x" * size, f"{size} bytes of x", {}
        yield (b'{"msg":"' + b"y" * (size - 10) + b'"}'), f"{size}-byte JSON line", {}
    yield wrap(b"z" * (limit - 300), "filebeat", HOST, "/x", INGESTED), "large filebeat", {}
    yield wrap(b"z" * limit, "filebeat", HOST, "/x", INGESTED), "oversized filebeat", {}
    many = b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(400)) + b"}"
    yield many, f"JSON object with 400 keys ({len(many)} bytes)", {}
    yield b'{"msg":"' + "é".encode() * 2000 + b'"}', "long non-ASCII JSON string", {}
    # Nesting around the limits of orjson: 1024 levels read, 254 written. (The default
    # profile: an object 1025 deep is 6 KiB.)
    for depth in (253, 254, 255, 256, 1023, 1024, 1025):
        for kind in ("array", "object"):
            deep = _deep(depth, kind)
            default = {"profile": "default"}
            yield deep, f"{kind} nested {depth} deep", default
            yield b'{"msg":"deep","x":' + deep + b"}", f"{kind} {depth} deep in a line", default
            if depth in (254, 1025):
                value = wrap(deep, "filebeat", HOST, "/x", INGESTED)
                yield value, f"{kind} {depth} deep in filebeat", default
    # JSON that is not quite JSON, or JSON of the wrong kind.
    for value in [
        b"42",
        b"-0",
        b"1e999",
        b"null",
        b"true",
        b'"a string"',
        b"[]",
        b"[1,2,3]",
        b"{}",
        b'{"":""}',
        b'{"a":NaN}',
        b'{"a":Infinity,"msg":"x"}',
        b'{"level":"info","n":1e400}',
        b'{"msg":"big","n":123456789012345678901234567890}',
        b'{"msg":"neg","n":-9223372036854775809}',
        b'{"msg":"floats","a":0.1,"b":1e-7,"c":-0.0,"d":1.7976931348623157e308,"e":5e-324}',
        b'{"msg":"\\ud800 lone surrogate"}',
        b'{"msg":"\\udc00\\ud800 reversed pair"}',
        b'{"msg":"\\ud83d\\ude00 pair"}',
        b'{"msg":"a","msg":"b"}',
        b'{"msg":"x"} trailing',
        b'{"msg":"x"}\n',
        b' {"msg":"leading space"}',
        b'\xef\xbb\xbf{"msg":"BOM"}',
        b'{"msg":"raw control \x01 in a string"}',
        b'{"msg":"tab\tin a string"}',
        b"{'msg': 'single quotes'}",
        b'{"msg":"x",}',
        b'{"level":["error"],"msg":{"nested":true},"time":[],"ts":{}}',
        b'{"time":1e20,"msg":"epoch far away"}',
        b'{"time":-1e20,"msg":"epoch far behind"}',
        b'{"ts":253402300800,"msg":"year 10000"}',
        b'{"ts":"0000-01-01T00:00:00Z","msg":"year 0"}',
        b'{"@timestamp":"9999-12-31T23:59:59.9999999Z","msg":"rounds up"}',
        b'{"log":"x\\n","stream":"stdout","time":"not a time"}',
        b'{"log":null,"stream":"stdout","time":"2026-11-25T10:00:00Z"}',
    ]:
        yield value, "odd JSON", {}
    # Envelopes of the wrong type or shape, detected and forced.
    odd: list[Any] = [None, 1, 1.5, True, "", [], ["x"], {}, {"name": 5}, "2026-13-45T99:99:99Z"]
    for i, val in enumerate(odd):
        options: list[tuple[str, bytes]] = [
            ("filebeat", _filebeat_raw(message=val)),
            ("filebeat", _filebeat_raw(message="a line", **{"@timestamp": val})),
            ("filebeat", _filebeat_raw(message="a line", host=val, log=val, agent=val)),
            ("filebeat", _filebeat_raw(message="a line", fields=val, labels=val, kubernetes=val)),
            ("fluentbit", orjson.dumps({"@timestamp": 1795600801.5, "log": val})),
            ("fluentbit", orjson.dumps({"@timestamp": val, "log": "a line", "hostname": val})),
            ("fluentbit", orjson.dumps([val, {"log": "a line"}])),
            ("fluentbit", orjson.dumps([1795600801.5, val])),
            ("vector", orjson.dumps({"message": val, "source_type": "file"})),
            (
                "vector",
                orjson.dumps({"message": "a line", "source_type": "file", "timestamp": val}),
            ),
            ("vector", orjson.dumps({"message": "a line", "source_type": val, "host": val})),
        ]
        for shipper, value in options:
            for envelope in ("auto", shipper):
                yield value, f"{shipper} with odd value #{i}", {"envelope": envelope}
    for value in [
        b"[1795600801.5]",
        b'[1795600801.5, {"log": "a"}, 3]',
        b'["1795600801.5", {"log": "a"}]',
        b'[true, {"log": "a"}]',
        b'{"@timestamp": 1795600801.5}',
        b'{"@metadata": {"beat": "filebeat"}}',
        b'{"source_type": "file"}',
    ]:
        for envelope in ("auto", "filebeat", "fluentbit", "vector"):
            yield value, "envelope without a line", {"envelope": envelope}
    # A value that is not the configured envelope at all.
    for envelope in ("filebeat", "fluentbit", "vector"):
        yield b"plain text, not JSON", "text for a JSON envelope", {"envelope": envelope}
        yield b'{"broken": ', "broken JSON for a JSON envelope", {"envelope": envelope}
        yield b"[1, 2, 3]", "array for a JSON envelope", {"envelope": envelope}
        yield b"\xff\xfe", "invalid UTF-8 for a JSON envelope", {"envelope": envelope}
        other = "vector" if envelope != "vector" else "filebeat"
        value = wrap(b"level=info msg=x", other, HOST, "/x", INGESTED)
        yield value, f"{other} event for a {envelope} topic", {"envelope": envelope}
    # Each forced format's own refusals, which detection never routes these lines to:
    # blank lines, JSON that is not an object, bytes that are not UTF-8, in a Filebeat event
    # too (its `message` may be blank where a raw value of only blanks is refused earlier).
    for line_format in ("json", "logfmt", "syslog", "access", "container", "plaintext"):
        for value in (
            b"   ",
            b"\t",
            b"[1,2]",
            b'"a string"',
            b"\xff\xfe not UTF-8",
            b"<34>\xff\xfe",
        ):
            yield value, f"{line_format} forced, odd line", {"line_format": line_format}
        for line in (b"", b"   "):
            event = wrap(line, "filebeat", HOST, "/x", INGESTED)
            yield (
                event,
                f"{line_format} forced, filebeat line {line!r}",
                {"line_format": line_format},
            )
    # Keys the host name comes from (raw values): odd, long, not UTF-8.
    for key in [None, b"", b"\xff\xfe", "é".encode(), b"h" * 255, b"h" * 256, b"a\x00b"]:
        yield b"plain text line", "odd key", {"key": key}
    # Kafka timestamps at the edges: none, zero, negative, 1970, year 9999, beyond.
    for stamp in [-1, 0, -5, 1, 253_402_300_799_000, 253_402_300_800_000, 2**62]:
        yield b"a line without a time", f"Kafka timestamp {stamp}", {"timestamp_ms": stamp}
        yield (
            b'{"time":"2026-11-25T10:00:00Z","msg":"with a time"}',
            f"Kafka timestamp {stamp}",
            {"timestamp_ms": stamp},
        )


def _filebeat_raw(**event: Any) -> bytes:
    return orjson.dumps({"@metadata": {"beat": "filebeat"}, **event})


def damaged_family(pool: list[tuple[bytes, str]], count: int) -> Family:
    """`count` seeded mutations of values from `pool`, then the handmade damage."""
    family = Family(
        "damaged",
        f"{count} deterministic mutations (seed 18: truncation, byte and bit flips, invalid "
        "UTF-8, deletions, duplications, inserted control and JSON characters, trailing "
        "garbage) of the fixtures', demo's, bench's and envelopes' values, then handmade "
        "damage: tombstone, empty and blank values, sizes around max_message_bytes (4 KiB "
        "in this profile), large and deeply nested JSON, JSON of the wrong kind, envelopes "
        "holding the wrong types, values that are not the configured envelope, odd keys "
        "and Kafka timestamps",
    )
    rng = random.Random(18)
    for i in range(count):
        value, note = rng.choice(pool)
        damaged, kind = mutate(rng, value)
        if rng.random() < 0.3:  # some twice
            damaged, again = mutate(rng, damaged)
            kind += "+" + again
        family.add(damaged, f"{kind} #{i} of {note}", profile="damaged")
    for handmade, note, options in handmade_damage():
        family.add(handmade, note, **{"profile": "damaged", **options})
    return family


# ------------------------------------------------------------------------------ settings

FORMATS = ("json", "logfmt", "syslog", "access", "container", "plaintext")
WINDOW_PROFILES = ("default", "window_none", "window_odd", "window_hour", "window_century")


def settings_family(lines: list[tuple[bytes, str]]) -> Family:
    """`lines` under other settings, a topic's own schema, and the index-time windows."""
    family = Family(
        "settings",
        "what the settings change: representative lines in each envelope under data streams, "
        "keep_original off with another prefix and dataset, a topic's dataset; every format "
        "forced on every representative line; a topic's own JSON Schema "
        "(tests/golden/app.schema.json); event times around the index-time windows of "
        "several profiles (dated lines of every format, and "
        "tests/security/test_index_window.py's hostile dates)",
    )
    for n, (line, note) in enumerate(lines):
        shipper = SHIPPERS[n % len(SHIPPERS)]
        value = wrap(line, shipper, HOST, "/var/log/app.log", INGESTED)
        for profile in ("data_stream", "no_original"):
            family.add(value, f"{shipper}: {note}", profile=profile)
        family.add(value, f"{shipper}: {note}", dataset="valves")
        family.add(value, f"{shipper}: {note}", profile="data_stream", dataset="valves")
        for line_format in FORMATS:
            family.add(line, note, line_format=line_format)
    _schema_cases(family)
    _window_cases(family)
    return family


def _schema_cases(family: Family) -> None:
    lines = [
        b'{"time":"2026-11-25T10:00:00Z","level":"info","msg":"ok","status":200}',
        b'{"time":"2026-11-25T10:00:00Z","level":"info","msg":"ok"}',
        b'{"time":"2026-11-25T10:00:00Z","level":"fatal","msg":"not in the enum"}',
        b'{"time":"2026-11-25T10:00:00Z","level":"info"}',
        b'{"time":"2026-11-25T10:00:00Z","level":"info","msg":"x","status":99}',
        b'{"time":"2026-11-25T10:00:00Z","level":"info","msg":"x","status":"200"}',
        b'{"time":5,"level":"info","msg":"time is not a string"}',
        b'{"log":"{\\"level\\":\\"info\\"}\\n","stream":"stdout","time":"2026-11-25T10:00:00Z"}',
        b"level=info msg=not-json",
        b'2026-11-25T10:00:00Z stdout F {"level":"bogus"}',
        b'{"broken": ',
    ]
    for line in lines:
        for shipper in ("raw", "filebeat", "vector"):
            value = wrap(line, shipper, HOST, "/var/log/app.log", INGESTED)
            family.add(value, f"schema, {shipper}", schema=SCHEMA)
        family.add(line, "schema, forced json", schema=SCHEMA, line_format="json")


# Lines carrying an event time, one per format that reads one, and a shipper's time instead.
_DATED = (
    lambda t: b'{"ts":"%s","level":"info","msg":"m"}' % t.isoformat().encode(),
    lambda t: b"ts=%s level=warn msg=m" % t.isoformat().encode(),
    lambda t: b"<13>1 %s edge-9 pumpd - - - m" % t.isoformat().replace("+00:00", "Z").encode(),
    lambda t: b"%s ERROR m" % t.strftime("%Y-%m-%d %H:%M:%S.%f").encode(),
    lambda t: b'{"time":%d,"msg":"epoch seconds"}' % t.timestamp(),
)
_DATED_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _dated_message(rng: random.Random, kafka_ms: int, delta_us: int, envelope: str) -> bytes | None:
    """A message whose event time lies `delta_us` from the Kafka time (in its line, or, for
    a line without one, in its shipper's event); None outside datetime's years."""
    kafka = datetime.fromtimestamp(kafka_ms / 1000, UTC)
    try:
        event = kafka + timedelta(microseconds=delta_us)
    except OverflowError:
        return None
    if rng.random() < 0.2 and envelope != "raw":
        return wrap(b"a line without a time", envelope, "edge-07", "/x", event)
    return wrap(rng.choice(_DATED)(event), envelope, "edge-07", "/x", _DATED_NOW)


def _window_cases(family: Family) -> None:
    from tests.security import test_index_window

    # Kafka times from 1970 to 9999, event times at and beyond each window's bounds.
    rng = random.Random(1970_9999)
    for i in range(250):
        profile = WINDOW_PROFILES[i % len(WINDOW_PROFILES)]
        settings = PROFILES[profile]
        kafka_ms = rng.choice([KAFKA_MS, rng.randrange(1, 253_402_300_799_000)])
        back = round(settings.index_time_window_back_s * 1e6)
        ahead = round(settings.index_time_window_ahead_s * 1e6)
        delta = rng.choice([-back - 1, -back, ahead, ahead + 1, rng.randrange(-(2**58), 2**58)])
        envelope = SHIPPERS[i % len(SHIPPERS)]
        value = _dated_message(rng, kafka_ms, delta, envelope)
        if value is not None:
            note = f"window #{i}, event time {delta} us from the Kafka time"
            family.add(value, note, profile=profile, timestamp_ms=kafka_ms)
    hostile = test_index_window._hostile_dates(INGESTED, random.Random(9999))[:60]
    for i, moment in enumerate(hostile):
        line = test_index_window.FORMATS[i % len(test_index_window.FORMATS)](moment, i)
        value = wrap(line, SHIPPERS[i % len(SHIPPERS)], HOST, "/x", INGESTED)
        family.add(value, f"hostile date {moment.isoformat()}")


# ------------------------------------------------------------------------------ corpus digests


def corpus_digests(corpus: Path) -> list[dict[str, Any]]:
    """Per corpus file: its path, the SHA-256 of its bytes, and per line the digest of the
    outcome of the message records.corpus_input makes of it."""
    rows = []
    for path in records.corpus_files(corpus):
        data = path.read_bytes()
        relative = path.relative_to(corpus).as_posix()
        inputs = [
            records.corpus_input(relative, number, line)
            for number, line in enumerate(records.corpus_lines(data), start=1)
        ]
        digests = [records.digest(outcome) for outcome in harness.outcomes(inputs)]
        rows.append(
            {"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "lines": digests}
        )
    return rows


# ------------------------------------------------------------------------------ main


def families() -> list[Family]:
    """Every family, built in a fixed order (later ones draw on earlier ones' lines)."""
    lines = fixture_lines()
    fixtures = fixtures_family(lines)
    demo = demo_family()
    samples = bench_samples()
    bench = bench_family(bench_values(samples))
    # The pool the envelope and settings families pick representative lines from: lines,
    # never envelopes.
    raw_lines = [(line, note) for line, note, _ in lines]
    raw_lines += demo_lines()
    raw_lines += [
        (line, f"bench/ingest_bench.py {name}") for name, pool in samples.items() for line in pool
    ]
    picked = representative(_unique(raw_lines), random.Random(2026))
    envelopes = envelopes_family(picked)
    pool = _unique(
        [(line, note) for line, note, _ in lines]
        + [(i.value, i.note) for f in (demo, bench, envelopes) for i in f.inputs if i.value]
    )
    pool = [(value, note) for value, note in pool if len(value) <= LONGEST_LINE]
    damaged = damaged_family(pool, 1800)
    settings = settings_family(picked)
    return [fixtures, demo, bench, envelopes, damaged, settings]


def _header(family: Family) -> dict[str, Any]:
    used = sorted({item.profile for item in family.inputs})
    return {
        "golden": family.name,
        "about": family.about,
        "generated_by": "python -m tests.golden.generate (the native core, harness.py)",
        "ingested": iso(INGESTED),
        "profiles": {name: records.profile(PROFILES[name]) for name in used},
    }


def main(argv: list[str] | None = None) -> int:
    """Regenerate (or, with --check, compare) every golden file; 0 when done or unchanged."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on a change")
    args = parser.parse_args(argv)
    stale = stale_sources()
    if stale:
        print(f"{', '.join(stale)} changed since the native core was built: make venv first")
        return 4
    from tests.conftest import corpus_path

    changed = []
    total = 0
    outputs: list[tuple[Path, bytes, str]] = []
    for family in families():
        outcomes = harness.outcomes(family.inputs)
        path = records.HERE / f"{family.name}.jsonl"
        data = records.render(_header(family), family.inputs, outcomes)
        dead = sum("dead_letter" in o for o in outcomes)
        outputs.append((path, data, f"{len(outcomes)} records ({dead} dead letters)"))
    corpus = corpus_path()
    if (corpus / "formats").is_dir():
        rows = corpus_digests(corpus)
        data = "".join(records.dumps_line(row) + "\n" for row in rows).encode()
        lines = sum(len(row["lines"]) for row in rows)
        outputs.append((records.DIGESTS, data, f"{len(rows)} corpus files, {lines} lines"))
    else:
        print(f"no corpus at {corpus}: {records.DIGESTS.name} left as it is")
    for path, data, summary in outputs:
        # The digests are gzipped: hex digests read by no one, at half the size. Compared
        # uncompressed: another zlib may compress the same bytes differently.
        zipped = path.suffix == ".gz"
        same = (
            path.exists()
            and (gzip.decompress(path.read_bytes()) if zipped else path.read_bytes()) == data
        )
        stored = gzip.compress(data, mtime=0) if zipped else data
        total += len(stored)
        if not same:
            changed.append(path.name)
            if not args.check:
                path.write_bytes(stored)
        print(f"{path.name}: {summary}, {len(stored):,} bytes{'' if same else ' (changed)'}")
    print(f"total {total:,} bytes")
    if args.check and changed:
        print(f"would change: {', '.join(changed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
