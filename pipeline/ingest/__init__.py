"""The ingest service: Kafka log topics -> parse -> Elasticsearch (see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path


def stale_sources(package: Path | None = None) -> list[str]:
    """Sources edited since they were compiled: Python imports a module's .so before its .py,
    so in a source checkout that was not rebuilt, the edit does not run. Paths are relative to
    the folder holding `package` (this package by default).

    Only a source checkout (setup.py beside the package) is looked at: an installed wheel's
    file times say when pip unpacked each file, not which was built from which."""
    package = package or Path(__file__).parent
    root = package.parent.parent
    if not (root / "setup.py").exists():
        return []
    stale = []
    for compiled in package.rglob("*.so"):
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            stale.append(source.relative_to(root).as_posix())
    # The native core is built from the crate in native/, not from a file beside it.
    for native in package.glob("_native.*.so"):
        crate = root / "native"
        sources = [crate / "Cargo.toml", *crate.glob("src/**/*.rs")]
        built = native.stat().st_mtime
        stale += [s.relative_to(root).as_posix() for s in sources if s.stat().st_mtime > built]
    return sorted(stale)
