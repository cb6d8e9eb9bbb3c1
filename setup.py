"""Builds the native ingest core; everything else is in pyproject.toml.

`native/`, a Rust crate, becomes `pipeline.ingest._native` (pyo3, through setuptools-rust):
the ingest core, which turns every Kafka message into a document or a dead letter
(docs/architecture.md). Installing edgewatch therefore needs a Rust toolchain (cargo) and a C
compiler for the linker.
"""

from __future__ import annotations

from setuptools import setup
from setuptools_rust import Binding, RustExtension

setup(
    rust_extensions=[
        RustExtension(
            "pipeline.ingest._native",
            path="native/Cargo.toml",
            binding=Binding.PyO3,
            debug=False,
        )
    ]
)
