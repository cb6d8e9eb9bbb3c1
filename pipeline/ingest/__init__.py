"""The ingest service: Kafka log topics -> parse -> Elasticsearch (see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path


def core_build() -> str:
    """How the ingest core (parsers, envelopes, normalising; setup.py) runs here: compiled by
    mypyc when installed with a C compiler at hand, else as plain Python."""
    from pipeline.ingest import transform

    if Path(transform.__file__ or "").suffix == ".py":
        return "pure Python (install with a C compiler for ~30% less CPU per event)"
    return "compiled (mypyc)"
