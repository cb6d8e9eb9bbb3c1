"""The ingest service: Kafka log topics -> parse -> Elasticsearch (see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path


def stale_sources(package: Path | None = None) -> list[str]:
    """Sources of the native ingest core (the crate in native/) edited since it was built
    into `_native.*.so`: in a source checkout that was not rebuilt, the edit does not run.
    Paths are relative to the folder holding `package` (this package by default).

    Only a source checkout (setup.py beside the package) is looked at: an installed wheel's
    file times say when pip unpacked each file, not which was built from which."""
    package = package or Path(__file__).parent
    root = package.parent.parent
    if not (root / "setup.py").exists():
        return []
    stale = []
    for native in package.glob("_native.*.so"):
        crate = root / "native"
        sources = [crate / "Cargo.toml", *crate.glob("src/**/*.rs")]
        built = native.stat().st_mtime
        stale += [s.relative_to(root).as_posix() for s in sources if s.stat().st_mtime > built]
    return sorted(stale)
