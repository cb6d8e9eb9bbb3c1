"""Installing the index templates (the logs', with its ILM policy, and the status index's) at
start, before anything is read."""

from __future__ import annotations

import logging
import threading
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.clients import elasticsearch as es_client
from pipeline.config import Config, IngestConfig
from pipeline.ingest import bulk, template
from pipeline.ingest.source import SetupError

log = logging.getLogger("edgewatch.ingest")


def install(client: Elasticsearch, config: Config, stop: threading.Event) -> bool:
    """Install the ILM policy (if asked for), the index template and the status index's
    template (status.py), retrying with backoff while Elasticsearch is unreachable or busy;
    True once installed, False if `stop` came first. Raises SetupError when only the
    operator can fix it (credentials, a conflicting template, no ILM)."""
    settings = config.ingest
    attempt = 0
    backoff = bulk.Backoff(cap_s=settings.retry_backoff_max_s)
    while not stop.is_set():
        es = client.options(request_timeout=10, max_retries=0)
        name = template.template_name(settings)  # the one being installed, for the errors
        try:
            policy = template.ilm_policy(settings)
            if policy is not None:  # before the template that names it
                _put_policy(es, settings, policy)
            es.indices.put_index_template(name=name, **template.template_body(settings))
            name = settings.status_index
            es.indices.put_index_template(name=name, **template.status_template_body(settings))
            log.info(
                "index templates %s installed for %s, %s for the status",
                template.template_name(settings),
                template.index_pattern(settings),
                settings.status_index,
            )
            return True
        except ApiError as err:
            advice = es_client.explain(err, config.es)
            if advice:
                raise SetupError(advice) from err
            if err.meta.status < 500 and err.meta.status != 429:
                setting = "status_index" if name == settings.status_index else "index_prefix"
                raise SetupError(
                    f"Elasticsearch refused the index template {name}: {err.message} "
                    f"({err.body}). Choose an ingest.{setting} whose indices no other "
                    "template of the same priority matches, or remove that template."
                ) from err
            delay = backoff.delay(attempt)
            log.warning("cannot install the index template (%s); retrying in %.1f s", err, delay)
            attempt += 1
            stop.wait(delay)
        except TransportError as err:
            advice = es_client.explain(err, config.es)
            if advice:  # a wrong CA or scheme: retrying cannot help
                raise SetupError(advice) from err
            delay = backoff.delay(attempt)
            log.warning(
                "cannot install the index template (%s); Elasticsearch at %s "
                "unreachable? retrying in %.1f s",
                err,
                config.es.url,
                delay,
            )
            attempt += 1
            stop.wait(delay)
    return False


def _put_policy(es: Elasticsearch, settings: IngestConfig, policy: dict[str, Any]) -> None:
    name = template.template_name(settings)
    try:
        es.ilm.put_lifecycle(name=name, policy=policy)
    except ApiError as err:
        if err.meta.status < 500 and err.meta.status != 429:
            raise SetupError(
                f"Elasticsearch refused the ILM policy {name}: {err.message} ({err.body}). "
                "ILM needs Elasticsearch's default distribution; without it, unset "
                "ingest.ilm_delete_after_days and delete old indices yourself."
            ) from err
        raise
    log.info("ILM policy %s installed: %s", name, policy["phases"])
