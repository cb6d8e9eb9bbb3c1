"""Types of the native ingest core, built from native/ (Rust) by setup.py."""

from typing import Any

class Settings:
    """One topic's settings, made once per topic (`transform.core_settings`). `schema`: the
    text of the topic's own JSON Schema (ValueError if it is not one)."""

    def __init__(
        self,
        dataset: str,
        keep_original: bool,
        envelope: str,
        line_format: str,
        index_prefix: str,
        namespace: str | None,
        op_type: str,
        window_back_us: int,
        window_ahead_us: int,
        schema: str | None = None,
    ) -> None: ...

def parse(name: str, line: bytes, reference_us: int | None = None) -> Any: ...
def detect(line: bytes) -> str: ...
def loads(text: bytes) -> Any: ...
def dumps_float(f: float) -> str: ...

class Run:
    """The documents built from (part of) one poll: their bulk entries back to back."""

    @property
    def entry(self) -> bytes: ...
    def __len__(self) -> int: ...
    def counts(self) -> dict[str, int]: ...
    def clock_offsets(self) -> list[tuple[str, int]]: ...
    def documents(self) -> list[tuple[Any, bytes]]: ...

class Intake:
    """Per topic, how the native core transforms its messages; `take` does a whole poll."""

    def __init__(self) -> None: ...
    def route(self, topic: str, settings: Settings, /) -> None: ...
    def skip(self, topic: str, /) -> None: ...
    def take(
        self,
        messages: list[Any],
        start: int,
        ingested: str,
        max_message_bytes: int,
        budget: int,
        last_offsets: dict[tuple[str, int], int],
        consumed: dict[str, int],
        outside: dict[tuple[str, str], int],
        last_times: dict[tuple[str, int], int] | None = None,
        /,
    ) -> tuple[Run, list[tuple[int, str, str, str]], list[int], int, str | None]:
        """(run, dead letters as (position, stage, reason, detail), positions of Kafka
        errors, the position to go on from, the topic not routed yet that stopped it)."""
