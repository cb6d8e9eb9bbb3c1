"""Compiles the ingest core (parsers, envelopes, normalising, the bulk body) with mypyc.

Everything else about the package is declared in pyproject.toml. The compiled modules are the
same Python source, made C extensions: each event's parse and normalise work takes about 30 %
less CPU (bench/README.md). They need a C compiler and CPython's headers; set
EDGEWATCH_PURE_PYTHON=1 to install without compiling (the code then runs as plain Python,
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
    "pipeline/ingest/transform.py",
    "pipeline/ingest/bulk.py",
]


def ext_modules() -> list[object]:
    if os.environ.get("EDGEWATCH_PURE_PYTHON"):
        return []
    from mypyc.build import mypycify

    return list(mypycify(COMPILED, opt_level="3", group_name="edgewatch_ingest"))


setup(ext_modules=ext_modules())
