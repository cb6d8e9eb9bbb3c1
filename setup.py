"""Builds the ingest core's two compiled forms; everything else is in pyproject.toml.

- mypyc compiles the Python reference (parsers, envelopes, normalising, the bulk body) into C
  extensions: the same source, about 30 % less CPU per event (bench/README.md).
- `native/`, a Rust crate, becomes `pipeline.ingest._native`: the common message shapes built
  byte for byte as the reference builds them, several times faster; it declines the rest,
  which the compiled reference handles (docs/architecture.md).

They need a C compiler, CPython's headers and a Rust toolchain (cargo); set
EDGEWATCH_PURE_PYTHON=1 to install without either (the code then runs as plain Python,
slower, and otherwise the same).
"""

from __future__ import annotations

import os

from setuptools import setup

# Pure modules only: plain data in and out, no threads, no callbacks from C libraries, nothing
# that tests replace at run time (calls inside compiled code are bound at build time).
COMPILED = [
    "pipeline/ingest/parsers/__init__.py",
    "pipeline/ingest/parsers/access.py",
    "pipeline/ingest/parsers/common.py",
    "pipeline/ingest/parsers/container.py",
    "pipeline/ingest/parsers/json_line.py",
    "pipeline/ingest/parsers/logfmt.py",
    "pipeline/ingest/parsers/plaintext.py",
    "pipeline/ingest/parsers/syslog.py",
    "pipeline/ingest/envelopes.py",
    "pipeline/ingest/normalise.py",
    "pipeline/ingest/fastpath.py",
    "pipeline/ingest/window.py",
    "pipeline/ingest/transform.py",
    "pipeline/ingest/bulk.py",
]


PURE = bool(os.environ.get("EDGEWATCH_PURE_PYTHON"))


def ext_modules() -> list[object]:
    if PURE:
        return []
    from mypyc.build import mypycify

    return list(mypycify(COMPILED, opt_level="3", group_name="edgewatch_ingest"))


def rust_extensions() -> list[object]:
    if PURE:
        return []
    from setuptools_rust import Binding, RustExtension

    return [
        RustExtension(
            "pipeline.ingest._native",
            path="native/Cargo.toml",
            binding=Binding.PyO3,
            debug=False,
        )
    ]


setup(ext_modules=ext_modules(), rust_extensions=rust_extensions())
