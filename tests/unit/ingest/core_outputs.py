"""What the ingest core makes of the shared corpus, and of shipper events with odd values in
their usual fields, one digest line per message.

Run by test_compiled_core.py twice, as `python -m tests.unit.ingest.core_outputs MODE CORPUS`:
MODE "compiled" imports the ingest core as installed (mypyc's .so files and the native core,
when built), MODE "source" imports every pipeline module from its .py file even where a
compiled one sits beside it, and no native core: the Python reference alone. The two outputs
must be identical: a document's digest is that of its canonical JSON (issue 18: the native
core must build the same documents, not orjson's bytes).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import itertools
import json
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

ENVELOPES = ("raw", "filebeat", "fluentbit", "vector")


class SourceFirst(importlib.abc.MetaPathFinder):
    """Finds pipeline's modules as .py source instead of a compiled extension beside them,
    and refuses an extension with no source (the native core): what is left is the Python
    reference alone."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not name.startswith("pipeline.") or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not (spec.origin or "").endswith(".so"):
            return None
        assert spec.origin is not None
        compiled = Path(spec.origin)
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if not source.exists():
            raise ImportError(f"{name}: the reference run imports Python sources only", name=name)
        package = [str(source.parent)] if source.name == "__init__.py" else None
        return importlib.util.spec_from_file_location(
            name, source, submodule_search_locations=package
        )


def lines(corpus: Path) -> Iterator[bytes]:
    """Every line of the corpus's format samples, then damaged copies of some of them (cut
    short, a byte replaced), so the error paths are compared too."""
    originals = [
        line
        for file in sorted((corpus / "formats").rglob("*"))
        if file.is_file()
        for line in file.read_bytes().splitlines()
    ]
    yield from originals
    rng = random.Random(20261125)
    for _ in range(5000):
        line = bytearray(rng.choice(originals))
        if line and rng.random() < 0.5:
            line[rng.randrange(len(line))] = rng.randrange(256)
        else:
            del line[rng.randrange(len(line) + 1) :]
        yield bytes(line)


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


def shapes(count: int) -> Iterator[bytes]:
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


def _canonical(document: bytes) -> bytes:
    """A document's JSON with sorted keys and no whitespace, any integer exact (`json`, not
    orjson): JSON-equal documents have the same canonical form."""
    text = json.dumps(
        json.loads(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return text.encode("utf-8", "surrogatepass")


def main(mode: str, corpus: Path) -> None:
    if mode == "source":
        sys.meta_path.insert(0, SourceFirst())
    from pipeline.config import IngestConfig, TopicConfig
    from pipeline.ingest import core_build
    from pipeline.ingest.normalise import Origin
    from pipeline.ingest.ship import wrap
    from pipeline.ingest.transform import IndexAction, transform

    print(core_build())
    settings, topic = IngestConfig(), TopicConfig()
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    wrapped = (
        (envelope, wrap(line, envelope, "edge-07", "/var/log/x.log", now))
        for envelope, line in zip(itertools.cycle(ENVELOPES), lines(corpus))
    )
    messages = itertools.chain(wrapped, (("shape", value) for value in shapes(5000)))
    for offset, (envelope, value) in enumerate(messages):
        origin = Origin("edge.logs", 0, offset, 1764064800000, b"edge-07")
        action = transform(value, origin, settings, topic, now)
        if isinstance(action, IndexAction):
            out = action.index.encode() + b"\n" + _canonical(action.source)
        else:
            out = f"{action.stage}|{action.reason}|{action.detail}".encode()
        print(offset, envelope, hashlib.sha256(out).hexdigest()[:16])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
