"""The Elasticsearch client built from edgewatch's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, BadRequestError, Elasticsearch
from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch.serializer import OrjsonSerializer

from pipeline.config import ConfigError, ElasticsearchConfig
from pipeline.config_checks import check_es
from pipeline.redact import redact_url


def connect(config: ElasticsearchConfig) -> Elasticsearch:
    """A client for the configured node or cluster; it connects lazily, on the first call.

    Raises ConfigError for credentials over plain http:// (`config_checks.check_es`, which
    load_config applies too; here for a configuration built in code) and for a CA file with
    an http:// URL.
    """
    check_es(config, "configuration")
    # orjson reads responses in about half the CPU of the standard library's json; ingest
    # reads one per bulk request, with an item per document.
    options: dict[str, Any] = {
        "request_timeout": config.request_timeout,
        "serializer": OrjsonSerializer(),
    }
    if config.api_key:
        options["api_key"] = config.api_key
    elif config.username:
        options["basic_auth"] = (config.username, config.password or "")
    if config.ca_certs:
        if not config.url.lower().startswith("https://"):
            raise ConfigError(
                "es.ca_certs",
                "configuration",
                f"set, but es.url {redact_url(config.url)} is not"
                " https://: use the node's https:// address, or unset es.ca_certs",
            )
        options["ca_certs"] = str(config.ca_certs)
    return Elasticsearch(config.url, **options)


def explain(err: Exception, config: ElasticsearchConfig) -> str | None:
    """The es.* setting an error from Elasticsearch points at, as advice; None when the
    error says nothing about the settings (a node down or busy: worth retrying)."""
    where = redact_url(config.url)
    if isinstance(err, ApiError) and err.meta.status == 401:
        if config.api_key:
            return (
                f"Elasticsearch at {where} refused es.api_key: set a valid key"
                " (EDGEWATCH_ES_API_KEY)"
            )
        if config.username:
            return (
                f"Elasticsearch at {where} refused the password of user {config.username!r}:"
                " check es.username and set es.password (EDGEWATCH_ES_PASSWORD)"
            )
        return (
            f"Elasticsearch at {where} wants credentials: set es.username and es.password,"
            " or es.api_key"
        )
    if isinstance(err, ApiError) and err.meta.status == 403:
        return (
            f"Elasticsearch at {where} refused {config.username or 'this API key'!r} a"
            f" privilege: {err.message}. Give its role the privileges docs/operations.md lists"
            " for this service"
        )
    text = f"{err} {getattr(err, 'message', '')}"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        if "hostname" in text.lower() or "IP address mismatch" in text:
            return (
                f"the certificate of Elasticsearch at {where} does not name that host: set"
                " es.url to a name the certificate carries"
            )
        ca = config.ca_certs or "the system's CA store"
        return (
            f"the certificate of Elasticsearch at {where} is not signed by a CA in {ca}: set"
            " es.ca_certs (EDGEWATCH_ES_CA_CERTS) to the PEM file of the CA that signed it"
        )
    if config.url.lower().startswith("http://") and "closed connection without response" in text:
        # What an HTTPS-only node does with a plain HTTP request; a node that is down
        # refuses the connection instead.
        return (
            f"Elasticsearch at {where} closed a plain HTTP request unanswered, as a node with"
            " TLS on does: set es.url to https://... (and es.ca_certs for a private CA)"
        )
    if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
        return (
            f"Elasticsearch at {where} does not speak TLS on that port: set es.url to its"
            " http:// address, or switch TLS on for the node's HTTP layer"
        )
    return None


@dataclass(frozen=True)
class ClusterSummary:
    """The facts `edgewatch check` shows about a cluster."""

    name: str
    status: str
    version: str
    nodes: int


def describe_cluster(client: Elasticsearch, config: ElasticsearchConfig) -> ClusterSummary:
    """Cluster health and version; raise ConnectionError with advice if it cannot be read."""
    url = redact_url(config.url)
    try:
        health = client.cluster.health()
        # Versions from the nodes API: `GET /` lives in a module that minimal
        # distributions (such as the local stack's) do not ship.
        nodes = client.nodes.info(filter_path="nodes.*.version")
    except ESConnectionError as err:
        advice = explain(err, config)
        if advice:
            raise ConnectionError(advice) from err
        raise ConnectionError(
            f"Elasticsearch at {url} is unreachable ({err.message}). "
            "Start the local stack with `make stack-up`, or set EDGEWATCH_ES_URL."
        ) from err
    except ApiError as err:
        advice = explain(err, config)
        if advice:
            raise ConnectionError(advice) from err
        raise ConnectionError(f"Elasticsearch at {url} answered {err.meta.status}: {err}") from err
    versions = sorted({n["version"] for n in nodes.get("nodes", {}).values()})
    return ClusterSummary(
        name=str(health["cluster_name"]),
        status=str(health["status"]),
        version=", ".join(versions) or "unknown",
        nodes=int(health["number_of_nodes"]),
    )


def create_index(client: Elasticsearch, name: str, mappings: dict[str, Any]) -> bool:
    """Create an index with these mappings unless it exists; True if this call created it."""
    try:
        client.indices.create(index=name, mappings=mappings)
    except BadRequestError as err:
        if err.error != "resource_already_exists_exception":
            raise
        return False
    return True
