"""The fast path (a JSON line in a Filebeat event) builds exactly what the general path builds.

Whenever `fastpath.filebeat_json` answers, its document must be the general path's byte for
byte (same keys, same order, same values) with the same timestamp; when it declines, the
general path decides. Hypothesis generates Filebeat events around JSON app lines in the
shapes the JSON parser knows (logrus, zap, pino/bunyan, python-json-logger, ECS nested).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.actions import DeadLetter, Origin
from pipeline.ingest.fastpath import filebeat_json
from pipeline.ingest.ship import wrap
from pipeline.ingest.transform import _general, transform

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SETTINGS = IngestConfig()

_text = st.text(max_size=12)
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), _text
)
_times = st.one_of(
    st.sampled_from(
        [
            "2026-11-25T10:00:00.123Z",
            "2026-11-25 10:00:00,5",
            "2026-11-25T10:00:00+02:00",
            "not a time",
            "",
        ]
    ),
    st.integers(0, 2_000_000_000_000),
    st.floats(0, 2e9),
)
_levels = st.one_of(
    st.sampled_from(["info", "INFO", " warn ", "Err", "E", "panic", "verbose", ""]),
    st.integers(0, 70),
)
# Keys the JSON parser maps or treats specially, and a few it does not know.
_line_values: dict[str, Any] = {
    "time": _times,
    "ts": _times,
    "@timestamp": _times,
    "level": _levels,
    "levelname": _levels,
    "msg": st.one_of(_text, st.integers(-(2**63), 2**63 - 1)),
    "message": _text,
    "service": st.one_of(_text, st.fixed_dictionaries({"name": _text})),
    "host": st.one_of(_text, st.fixed_dictionaries({"name": _text})),
    "hostname": _text,
    "pid": st.one_of(st.integers(-5, 2**32), _text),
    "v": st.integers(0, 1),
    "name": _text,
    "logger": _text,
    "asctime": _times,
    "error": st.one_of(_text, st.fixed_dictionaries({"message": _text, "type": _text})),
    "log": st.fixed_dictionaries({"level": _levels}, optional={"logger": _text}),
    "process": st.fixed_dictionaries({"pid": st.integers(0, 99)}),
    "process.thread.name": _text,
    "labels": st.dictionaries(_text, _scalars, max_size=2),
    "path": _text,
    "status": st.integers(100, 599),
    "nested": st.dictionaries(_text, _scalars, max_size=3),
}
_lines = st.lists(st.sampled_from(sorted(_line_values)), unique=True, max_size=8).flatmap(
    lambda keys: st.fixed_dictionaries({key: _line_values[key] for key in keys})
)


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    line = draw(_lines)
    event: dict[str, Any] = {"@metadata": {"beat": "filebeat", "type": "_doc"}}
    event["message"] = orjson.dumps(line).decode()
    if draw(st.booleans()):
        event["@timestamp"] = draw(_times)
    if draw(st.booleans()):
        event["log"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "file": st.fixed_dictionaries(
                        {}, optional={"path": st.one_of(_text, st.integers(0, 9))}
                    ),
                    "offset": st.one_of(st.integers(0, 10**9), _text, st.booleans()),
                },
            )
        )
    if draw(st.booleans()):
        event["agent"] = draw(
            st.dictionaries(st.sampled_from(["type", "version", "name", "id", "x"]), _scalars)
        )
    if draw(st.booleans()):
        event["host"] = draw(
            st.one_of(
                _text,
                st.fixed_dictionaries({}, optional={"name": _scalars, "hostname": _scalars}),
            )
        )
    if draw(st.integers(0, 4)) == 0:  # shapes the fast path leaves to the general one
        key = draw(st.sampled_from(["fields", "kubernetes", "service", "labels", "stream"]))
        event[key] = "stdout" if key == "stream" else {"a": "b"}
    return event


def _origin(key: bytes | None) -> Origin:
    return Origin("edge.logs", 2, 41, int(NOW.timestamp() * 1000), key)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_events(), st.sampled_from([b"edge-1", None]), st.booleans())
def test_fast_path_output_is_the_general_path_output(
    event: dict[str, Any], key: bytes | None, keep_original: bool
) -> None:
    raw = orjson.dumps(event)
    origin = _origin(key)
    fast = filebeat_json(
        orjson.loads(raw), origin, dataset="edge", ingested=NOW, keep_original=keep_original
    )
    general = _general(
        raw,
        None,
        origin,
        IngestConfig(keep_original=keep_original),
        TopicConfig(),
        "edge",
        NOW,
        None,
    )
    if fast is None:
        return
    assert not isinstance(general, DeadLetter)
    fast_doc, fast_stamp = fast
    general_doc, general_stamp = general
    assert orjson.dumps(fast_doc) == orjson.dumps(general_doc)
    assert fast_stamp == general_stamp


def test_fast_path_answers_for_what_filebeat_ships() -> None:
    line = b'{"time":"2026-11-25T10:00:00.123Z","level":"info","msg":"ok","status":200}'
    event = orjson.loads(wrap(line, "filebeat", "edge-7", "/var/log/app.log", NOW))
    built = filebeat_json(event, _origin(b"k"), dataset="edge", ingested=NOW, keep_original=True)
    assert built is not None
    doc, _ = built
    assert doc["log"] == {"file": {"path": "/var/log/app.log"}, "offset": 0, "level": "info"}
    assert doc["host"] == {"name": "edge-7"}
    assert doc["event"]["module"] == "json"


def test_fast_path_declines_lines_the_general_path_reads_otherwise() -> None:
    for line in (
        b'{"log":"x\\n","stream":"stdout"}',  # could be a Docker record
        b'{"level":"error","msg":',  # broken: a dead letter with the parser's reason
        b" {} ",  # blanks around: the general path decides
        b"plain text",
    ):
        event = orjson.loads(wrap(line, "filebeat", "edge-7", "/x", NOW))
        assert (
            filebeat_json(event, _origin(None), dataset="e", ingested=NOW, keep_original=True)
            is None
        )


def test_transform_gives_the_same_action_with_and_without_a_fixed_envelope() -> None:
    value = wrap(b'{"level":"warn","msg":"hot"}', "filebeat", "edge-7", "/x", NOW)
    auto = transform(value, _origin(b"k"), SETTINGS, TopicConfig(), NOW)
    fixed = transform(value, _origin(b"k"), SETTINGS, TopicConfig(envelope="filebeat"), NOW)
    assert auto == fixed
