"""Kafka clients (confluent-kafka / librdkafka) built from edgewatch's configuration."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from pipeline.config import KafkaConfig

# librdkafka reports every failed connection attempt on stderr; route those reports through
# Python logging instead, where the application decides what is worth showing.
_LOG = logging.getLogger("edgewatch.kafka")


def settings(config: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """librdkafka settings shared by every client, plus per-client overrides."""
    base: dict[str, Any] = {
        "bootstrap.servers": config.bootstrap,
        "client.id": config.client_id,
        "logger": _LOG,
    }
    base.update(overrides)
    return base


def admin(config: KafkaConfig) -> AdminClient:
    """An admin client, for topics and cluster metadata."""
    return AdminClient(settings(config))


def producer(config: KafkaConfig, **overrides: Any) -> Producer:
    """An idempotent producer that waits for the broker's acknowledgement of every message."""
    return Producer(settings(config, **{"enable.idempotence": True, "acks": "all", **overrides}))


def consumer(config: KafkaConfig, group_id: str, **overrides: Any) -> Consumer:
    """A consumer-group member. Offsets are committed explicitly by the caller."""
    return Consumer(
        settings(
            config,
            **{
                "group.id": group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                **overrides,
            },
        )
    )


@dataclass(frozen=True)
class ClusterSummary:
    """What a metadata request tells about the cluster."""

    brokers: int
    topics: int


def describe_cluster(config: KafkaConfig, timeout: float = 5.0) -> ClusterSummary:
    """Send one metadata request; raise ConnectionError with advice if nobody answers."""
    try:
        metadata = admin(config).list_topics(timeout=timeout)
    except KafkaException as err:
        raise ConnectionError(
            f"no Kafka broker answered at {config.bootstrap} within {timeout:g} s ({err}). "
            "Start the local stack with `make stack-up`, or set EDGEWATCH_KAFKA_BOOTSTRAP."
        ) from err
    return ClusterSummary(brokers=len(metadata.brokers), topics=len(metadata.topics))
