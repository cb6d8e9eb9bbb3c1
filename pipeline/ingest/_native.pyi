"""Types of the native ingest core, built from native/ (Rust) by setup.py."""

from typing import Any

def transform(
    value: bytes,
    key: bytes | None,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    ingested: str,
    dataset: str,
    keep_original: bool,
    envelope: str,
    line_format: str,
    index_prefix: str,
    namespace: str | None,
    op_type: str,
    /,
) -> tuple[str, bytes] | None: ...
def parse(name: str, line: bytes, reference_us: int | None = None) -> Any: ...
def detect(line: bytes) -> str | None: ...
def loads(text: bytes) -> Any: ...
def dumps_float(f: float) -> str: ...
