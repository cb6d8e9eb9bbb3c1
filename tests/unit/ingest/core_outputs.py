"""What the ingest core makes of the shared corpus, one digest line per message.

Run by test_compiled_core.py twice, as `python -m tests.unit.ingest.core_outputs MODE CORPUS`:
MODE "compiled" imports the ingest core as installed (mypyc's .so files when built), MODE
"source" imports every pipeline module from its .py file even where a compiled one sits beside
it. The two outputs must be identical.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

ENVELOPES = ("raw", "filebeat", "fluentbit", "vector")


class SourceFirst(importlib.abc.MetaPathFinder):
    """Finds pipeline's modules as .py source instead of a compiled extension beside them."""

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
    for offset, line in enumerate(lines(corpus)):
        envelope = ENVELOPES[offset % len(ENVELOPES)]
        origin = Origin("edge.logs", 0, offset, 1764064800000, b"edge-07")
        action = transform(
            wrap(line, envelope, "edge-07", "/var/log/x.log", now), origin, settings, topic, now
        )
        if isinstance(action, IndexAction):
            out = action.index.encode() + b"\n" + action.source
        else:
            out = f"{action.stage}|{action.reason}|{action.detail}".encode()
        print(offset, envelope, hashlib.sha256(out).hexdigest()[:16])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
