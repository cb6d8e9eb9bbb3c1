"""Ingest: Kafka log topics -> unwrap envelope -> parse line -> ECS document -> Elasticsearch."""
