"""deploy/shippers/: each shipper's config produces the envelope edgewatch detects, with the
settings that matter on flaky edge links, and its sample output decodes to the right line and
host.

The samples in deploy/shippers/samples/ are Kafka message values in the shapes each shipper's
documentation gives for that output and codec (no shipper runs in the test suite).
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest.actions import IndexAction, Origin
from pipeline.ingest.transform import Transformer

ROOT = Path(__file__).resolve().parents[3]
SHIPPERS = ROOT / "deploy" / "shippers"
SAMPLES = SHIPPERS / "samples"
TOPIC = "edge.logs"  # what deploy/compose and deploy/k8s ingest consume

# Per sample file, per message: (line, host, time) that ingest must find.
EXPECTED: dict[str, tuple[str, list[tuple[str, str, datetime]]]] = {
    "filebeat.ndjson": (
        "filebeat",
        [
            (
                "Nov 25 10:14:07 pump-station-17 kernel: [183021.441] usb 1-1.3: "
                "device descriptor read/64, error -71",
                "pump-station-17",
                datetime(2026, 11, 25, 10, 14, 7, 412000, UTC),
            ),
            (
                '{"level":"error","ts":"2026-11-25T10:14:08.998Z",'
                '"msg":"valve 3 did not close","valve":3}',
                "pump-station-17",
                datetime(2026, 11, 25, 10, 14, 9, 1000, UTC),
            ),
            (
                '10.20.0.7 - - [25/Nov/2026:10:15:30 +0000] "GET /status HTTP/1.1" 503 19 "-" '
                '"probe/1.0"',
                "shop-0042",
                datetime(2026, 11, 25, 10, 15, 30, 250000, UTC),
            ),
            (  # from the container input: a line Filebeat's container parser unwrapped
                "2026-11-25 10:16:02.104 ERROR [poller] c.e.ModbusPoller - read timeout on "
                "unit 4 after 3 retries",
                "pump-station-17",
                datetime(2026, 11, 25, 10, 16, 2, 104000, UTC),
            ),
        ],
    ),
    "fluent-bit.ndjson": (
        "fluentbit",
        [
            (
                "Nov 25 10:14:07 cell-5g-031 systemd[1]: Started Session 4181 of user ops.",
                "cell-5g-031",
                datetime.fromtimestamp(1795601647.412345, UTC),
            ),
            (
                'level=warn msg="uplink rssi low" rssi=-97 iface=wwan0',
                "cell-5g-031",
                datetime.fromtimestamp(1795601649.0, UTC),
            ),
            (
                "panic: runtime error: index out of range [3] with length 3",
                "cell-5g-031",
                datetime.fromtimestamp(1795601650.5, UTC),
            ),
            (  # from the container input: a CRI line the cri multiline parser unwrapped
                '{"level":"info","msg":"handover complete","cell":"031","ue":17}',
                "cell-5g-031",
                datetime.fromtimestamp(1795601762.104512, UTC),
            ),
        ],
    ),
    "vector.ndjson": (
        "vector",
        [
            (
                "Nov 25 10:14:07 shop-0107 CRON[22811]: (root) CMD "
                "(/usr/local/bin/rotate-receipts)",
                "shop-0107",
                datetime(2026, 11, 25, 10, 14, 7, 412871, UTC),
            ),
            (
                "2026-11-25 10:14:08,114 ERROR printer offline: no paper",
                "shop-0107",
                datetime(2026, 11, 25, 10, 14, 8, 114913, UTC),
            ),
        ],
    ),
}


def test_every_sample_file_is_checked() -> None:
    assert {p.name for p in SAMPLES.glob("*.ndjson")} == set(EXPECTED)


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_sample_output_decodes_to_its_line_and_host(sample: str) -> None:
    shipper, expected = EXPECTED[sample]
    values = [line for line in (SAMPLES / sample).read_bytes().splitlines() if line.strip()]
    assert len(values) == len(expected)
    run = Transformer(IngestConfig(), TopicConfig())
    for value, (line, host, when) in zip(values, expected, strict=True):
        # The shippers set no Kafka key; detection must not need one. No Kafka timestamp
        # either: a time in the document comes from the message.
        doc = _document(run, value)
        assert doc.get("agent", {}).get("type", "raw") == shipper
        assert doc["event"]["original"] == line
        assert doc["host"]["name"] == host
        # The shipper's time, read from the same event with a line that has none of its own.
        timeless = _document(run, _with_line(value, "a line without a time"))
        stamp = datetime.fromisoformat(timeless["@timestamp"])
        assert abs((stamp - when).total_seconds()) < 1e-5


def _document(run: Transformer, value: bytes) -> dict[str, Any]:
    action = run(value, Origin(TOPIC, 0, 0, None), datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert isinstance(action, IndexAction), action
    return action.doc


def _with_line(value: bytes, line: str) -> bytes:
    """A shipper's event with another line in it (Filebeat and Vector: `message`, Fluent
    Bit: `log`)."""
    event: dict[str, Any] = orjson.loads(value)
    event["log" if "log" in event and "message" not in event else "message"] = line
    return orjson.dumps(event)


def test_filebeat_config() -> None:
    config: dict[str, Any] = yaml.safe_load((SHIPPERS / "filebeat.yml").read_text())
    kafka = config["output.kafka"]
    assert kafka["topic"] == TOPIC
    # codec.json is the Beats event with @metadata.beat: what edgewatch detects.
    assert "codec.json" in kafka and "codec.format" not in kafka
    assert kafka["compression"] in ("gzip", "snappy", "lz4", "zstd")
    assert kafka["required_acks"] == -1
    assert kafka["max_retries"] < 0  # retry until published
    # A disk queue bounds memory and survives restarts while the link is down.
    assert "queue.disk" in config and "queue.mem" not in config
    assert config["queue.disk"]["max_size"]
    files, containers = config["filebeat.inputs"]
    assert files["type"] == containers["type"] == "filestream"
    assert files["id"] != containers["id"]  # each keeps its own read offsets
    # Filebeat joins the lines a container runtime split; edgewatch reads one record at a time.
    (parser,) = containers["parsers"]
    assert parser["container"]["format"] == "auto"


def test_fluent_bit_config() -> None:
    config: dict[str, Any] = yaml.safe_load((SHIPPERS / "fluent-bit.yaml").read_text())
    service = config["service"]
    assert service["storage.path"]
    assert service["storage.backlog.mem_limit"]
    inputs = config["pipeline"]["inputs"]
    for source in inputs:
        assert source["storage.type"] == "filesystem", source["name"]
        assert source["db"], source["tag"]  # read offsets survive a restart
    assert len({source["db"] for source in inputs}) == len(inputs)
    # Fluent Bit joins the lines a container runtime split; edgewatch reads one record at a time.
    (containers,) = [s for s in inputs if "containers" in s["path"]]
    assert containers["multiline.parser"].replace(" ", "").split(",") == ["docker", "cri"]
    (output,) = config["pipeline"]["outputs"]
    assert output["name"] == "kafka"
    assert output["topics"] == TOPIC
    assert output["format"] == "json"
    # A float @timestamp next to `log` is the Fluent Bit signature edgewatch detects.
    assert output.get("timestamp_key", "@timestamp") == "@timestamp"
    assert output.get("timestamp_format", "double") == "double"
    assert output["retry_limit"] in ("no_limits", "False", False)
    assert output["storage.total_limit_size"]
    assert output["rdkafka.compression.codec"] in ("gzip", "snappy", "lz4", "zstd")
    assert output["rdkafka.queue.buffering.max.kbytes"]
    # Tail records carry no host: the filter must add the field edgewatch reads.
    added = [
        item.split()[0]
        for f in config["pipeline"]["filters"]
        if f["name"] == "record_modifier"
        for item in f["record"]
    ]
    assert "hostname" in added


def test_vector_config() -> None:
    config = tomllib.loads((SHIPPERS / "vector.toml").read_text())
    assert config["data_dir"]
    (sink,) = config["sinks"].values()
    assert sink["type"] == "kafka"
    assert sink["topic"] == TOPIC
    assert sink["encoding"]["codec"] == "json"
    assert sink["compression"] in ("gzip", "snappy", "lz4", "zstd")
    buffer = sink["buffer"]
    assert buffer["type"] == "disk"
    assert buffer["when_full"] == "block"
    assert buffer["max_size"] >= 268_435_488  # Vector's minimum for a disk buffer
    assert sink["acknowledgements"]["enabled"] is True
    assert set(sink["inputs"]) <= set(config["sources"])


@pytest.mark.parametrize("name", ["filebeat.yml", "fluent-bit.yaml", "vector.toml"])
def test_configs_name_the_broker_by_variable_only(name: str) -> None:
    """No address of anyone's network in a shipped config: the operator sets EDGEWATCH_KAFKA."""
    text = (SHIPPERS / name).read_text()
    assert "${EDGEWATCH_KAFKA}" in text
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text)


def test_samples_are_one_json_object_per_line() -> None:
    for path in SAMPLES.glob("*.ndjson"):
        for value in path.read_bytes().splitlines():
            assert isinstance(orjson.loads(value), dict), path.name
