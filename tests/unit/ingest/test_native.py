"""The native core (native/, Rust) answers as the Python reference does, or not at all.

For every message it answers, `transform` must return the reference's index, `_id` and a
JSON-equal document (issue 18: the same documents, not orjson's bytes; key order and number
spelling may differ, types may not); it may decline anything (the reference then decides).
These tests hold it to that piece by piece (JSON reading, float writing, each parser) and as a
whole (messages built from the corpus, damaged, in every envelope), and check that it does
answer for the shapes it exists for: declining everything would be correct and useless.

test_compiled_core.py adds the whole corpus through the installed core (native included)
against the Python sources alone.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest import transform as transform_module
from pipeline.ingest.normalise import Origin
from pipeline.ingest.parsers import PARSERS, detect
from pipeline.ingest.parsers.common import ParseError
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import IndexAction, Transformer, transform

pytestmark = pytest.mark.unit

native: Any = transform_module.NATIVE
needs_native = pytest.mark.skipif(
    native is None and bool(os.environ.get("EDGEWATCH_PURE_PYTHON")),
    reason="a pure-Python install (EDGEWATCH_PURE_PYTHON=1) has no native core",
)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
REFERENCES = (None, NOW, datetime(2026, 1, 1, 0, 30, tzinfo=UTC))


def test_the_native_core_is_built_unless_asked_not_to_be() -> None:
    if os.environ.get("EDGEWATCH_PURE_PYTHON"):
        assert native is None
    else:  # setup.py builds it; without it, ingest costs about three times the CPU
        assert native is not None


# ------------------------------------------------------------------------------ pieces

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 and True differ); a dict's key
    order does not count (Elasticsearch cannot see it)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@needs_native
@given(_json, st.sampled_from([b"", b" ", b"\n\t", b"\r\n  "]))
def test_json_is_read_as_orjson_reads_it(value: Any, space: bytes) -> None:
    text = space + orjson.dumps(value) + space
    got = native.loads(text)
    if got is not None:
        assert _same(got, orjson.loads(text))


@needs_native
@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_json_the_native_reader_accepts_is_json_orjson_accepts(text: bytes) -> None:
    got = native.loads(text)
    if got is not None:
        assert _same(got, orjson.loads(text))


@needs_native
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_written_so_that_they_read_back_the_same(value: float) -> None:
    # Not orjson's spelling (1e16 for its 1e+16): the same float, still a float.
    assert _same(orjson.loads(native.dumps_float(value)), value)


# ------------------------------------------------------------------------------ parsers


def _corpus_lines(corpus: Path) -> list[bytes]:
    return [
        line
        for file in sorted((corpus / "formats").rglob("*"))
        if file.is_file()
        for line in file.read_bytes().splitlines()
    ]


def _damaged(lines: list[bytes], count: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    noise = [b" ", b'"', b"\\", b"[", b"]", b"=", b":", b"{", b"}", b"\xc3\xa9", b"\t", b"-", b"0"]
    for _ in range(count):
        line = bytearray(rng.choice(lines))
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(line) + 1)
            action = rng.randrange(4)
            if action == 0 and line:
                line[min(at, len(line) - 1)] = rng.randrange(256)
            elif action == 1:
                del line[at : at + rng.randrange(1, 8)]
            elif action == 2:
                line[at:at] = rng.choice(noise)
            else:
                del line[at:]
        yield bytes(line)


def _reference_parse(name: str, line: bytes, reference: datetime | None) -> Any:
    try:
        return PARSERS[name](line, reference)
    except ParseError:
        return False


def _parsed(got: Any) -> Any:
    """`native.parse`'s answer as the reference's: the fields as a dict (their order does not
    count), or False for a refusal."""
    return dict(got) if isinstance(got, list) else got


def _micros(stamp: datetime | None) -> int | None:
    if stamp is None:
        return None
    return (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // datetime.resolution


@needs_native
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_each_parser_answers_as_its_reference(name: str, corpus: Path) -> None:
    """Every corpus line and 20,000 damaged ones through each parser, both ways."""
    originals = _corpus_lines(corpus)
    answered = 0
    for i, line in enumerate(itertools.chain(originals, _damaged(originals, 20_000, len(name)))):
        reference = REFERENCES[i % len(REFERENCES)]
        got = native.parse(name, line, _micros(reference))
        if got is None:
            continue
        answered += 1
        want = _reference_parse(name, line, reference)
        assert _same(_parsed(got), want), (
            f"{name} on {line!r}:\n native    {got}\n reference {want}"
        )
    assert answered > len(originals)  # it answers for the great majority


@needs_native
def test_detection_agrees_with_the_reference(corpus: Path) -> None:
    originals = _corpus_lines(corpus)
    for line in itertools.chain(originals, _damaged(originals, 20_000, 7)):
        got = native.detect(line)
        if got is not None:
            assert got == detect(line), line


# ------------------------------------------------------------------------------ whole messages

SETTINGS = (
    (IngestConfig(), TopicConfig()),
    (IngestConfig(keep_original=False, index_mode="data_stream"), TopicConfig(dataset="pumps")),
    (IngestConfig(), TopicConfig(envelope="filebeat")),
)


def _reference(value: bytes, origin: Origin, config: IngestConfig, topic: TopicConfig) -> Any:
    saved = transform_module.NATIVE
    transform_module.NATIVE = None
    try:
        return transform(value, origin, config, topic, NOW)
    finally:
        transform_module.NATIVE = saved


def _check(value: bytes, origin: Origin, config: IngestConfig, topic: TopicConfig) -> bool:
    """Compare one message both ways; True if the native core answered."""
    made = Transformer(config, topic).native.transform(
        value,
        origin.key,
        origin.topic,
        origin.partition,
        origin.offset,
        origin.timestamp_ms,
        "2026-11-25T10:00:00.000000Z",  # ingested
    )
    if made is None:
        return False
    want = _reference(value, origin, config, topic)
    assert isinstance(want, IndexAction), (value, want)
    # The whole bulk entry: the action line (index, _id) and the document, JSON-equal, each
    # on its line; and whether the index-time window set the index aside from the event time.
    index, entry, outside = made
    assert (index, _entry(entry), outside) == (
        want.index,
        _entry(want.entry),
        want.outside_window,
    ), f"{value!r}:\n native    {made}\n reference {want}"
    return True


def _entry(entry: bytes) -> tuple[str, str]:
    """A bulk entry (action line, document, each ending in a newline) as the canonical JSON of
    its two lines: sorted keys, no whitespace, any integer exact (`json`, not orjson)."""
    action, document, end = entry.split(b"\n")
    assert end == b"", entry
    return _canonical(action), _canonical(document)


def _canonical(line: bytes) -> str:
    return json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@needs_native
def test_messages_from_the_corpus_in_every_envelope(corpus: Path) -> None:
    originals = _corpus_lines(corpus)
    lines = itertools.chain(originals, _damaged(originals, 10_000, 11))
    envelopes = itertools.cycle(("raw", "filebeat", "fluentbit", "vector"))
    answered = total = 0
    for offset, (line, envelope) in enumerate(zip(lines, envelopes, strict=False)):
        config, topic = SETTINGS[offset % len(SETTINGS)]
        if topic.envelope != "auto" and topic.envelope != envelope:
            continue
        stamp = (None, 1764064800123, 0)[offset % 3]
        key = (b"edge-07", None, b"")[offset % 3]
        origin = Origin("edge.logs", offset % 4, offset, stamp, key)
        value = wrap(line, envelope, "edge-07", "/var/log/x.log", NOW)
        if value and len(value) <= config.max_message_bytes:
            total += 1
            answered += _check(value, origin, config, topic)
    assert answered > 0.8 * total


@needs_native
@settings(max_examples=300)
@given(
    st.sampled_from(["raw", "filebeat", "fluentbit", "vector"]),
    st.text(max_size=120),
    st.sampled_from([None, b"edge-1", b"", b"\xff"]),
    st.sampled_from([None, 0, -5, 1764064800123]),
)
def test_any_line_in_any_envelope(envelope: str, line: str, key: Any, stamp: Any) -> None:
    value = wrap(line.encode(), envelope, "edge-07", "/x", NOW)
    if value:
        _check(value, Origin("t", 0, 1, stamp, key), IngestConfig(), TopicConfig())


@needs_native
def test_the_benchmarks_mixed_stream_is_answered_natively() -> None:
    """The shapes the native core exists for: one per format, in each envelope."""
    from bench.ingest_bench import ENVELOPES, sample_lines

    config, topic = IngestConfig(), TopicConfig()
    missed = []
    for name, lines in sample_lines().items():
        for envelope in sorted(set(ENVELOPES)):
            for offset, line in enumerate(lines[:200]):
                value = wrap(line, envelope, "edge-07", "/var/log/app.log", NOW)
                origin = Origin("bench", 0, offset, 1764064800123, b"edge-07")
                if not _check(value, origin, config, topic):
                    missed.append((name, envelope, line))
    assert len(missed) < 10, missed[:10]


# ------------------------------------------------------------------------------ index-time window

# Lines carrying an event time, one per format that reads one, and a shipper's time instead.
_DATED = (
    lambda t: b'{"ts":"%s","level":"info","msg":"m"}' % t.isoformat().encode(),
    lambda t: b"ts=%s level=warn msg=m" % t.isoformat().encode(),
    lambda t: b"<13>1 %s edge-9 pumpd - - - m" % t.isoformat().replace("+00:00", "Z").encode(),
    lambda t: b"%s ERROR m" % t.strftime("%Y-%m-%d %H:%M:%S.%f").encode(),
    lambda t: b'{"time":%d,"msg":"epoch seconds"}' % t.timestamp(),
)
_WINDOWS = ((604_800.0, 86_400.0), (0.0, 0.0), (1.5, 0.000001), (3600.0, 7200.0))


def _dated_message(rng: random.Random, kafka_ms: int, delta_us: int, envelope: str) -> bytes | None:
    """A message whose event time lies `delta_us` from the Kafka time (in its line, or, for
    a line without one, in its shipper's event); None outside datetime's years."""
    kafka = datetime.fromtimestamp(kafka_ms / 1000, UTC)
    try:
        event = kafka + timedelta(microseconds=delta_us)
    except OverflowError:
        return None
    if rng.random() < 0.2 and envelope != "raw":
        return wrap(b"a line without a time", envelope, "edge-07", "/x", event)
    return wrap(rng.choice(_DATED)(event), envelope, "edge-07", "/x", NOW)


@needs_native
def test_the_index_time_window_is_decided_alike() -> None:
    """Event times all over the calendar and exactly at the window's bounds, Kafka times
    from 1970 to 9999, several windows: the same index, document and verdict both ways."""
    rng = random.Random(1970_9999)
    answered = total = 0
    verdicts: Counter[str] = Counter()
    for i in range(6000):
        back_s, ahead_s = _WINDOWS[i % len(_WINDOWS)]
        config = IngestConfig(index_time_window_back_s=back_s, index_time_window_ahead_s=ahead_s)
        kafka_ms = rng.choice([1764064800123, rng.randrange(1, 253_402_300_799_000)])
        back, ahead = round(back_s * 1e6), round(ahead_s * 1e6)
        delta = rng.choice([-back - 1, -back, ahead, ahead + 1, rng.randrange(-(2**58), 2**58)])
        envelope = ("raw", "filebeat", "fluentbit", "vector")[i % 4]
        value = _dated_message(rng, kafka_ms, delta, envelope)
        if value is None:
            continue
        total += 1
        origin = Origin("edge.logs", 0, i, kafka_ms, b"edge-07")
        if _check(value, origin, config, TopicConfig()):
            answered += 1
            verdicts[_reference(value, origin, config, TopicConfig()).outside_window] += 1
    assert answered > 0.8 * total
    assert min(verdicts[side] for side in ("", "behind", "ahead")) > 0.1 * answered, verdicts
